"""A throwaway PostgreSQL/PostGIS server for the registry tests, and one database per test.

The tests use the server named by ``GEO_IP_TEST_PG_URL`` (``.ci/run`` starts one and
exports it); without it, :func:`start_cluster` makes a cluster of its own in a temporary
folder with ``initdb`` and ``pg_ctl`` (as the ``postgres`` OS user when run as root, since
PostgreSQL refuses to run as root), on a free localhost port, trusting local connections,
with durability off (``fsync=off``): it is thrown away at the end.

Also a command line for ``.ci/run``::

    python -m tests.pg_server start DIR   # prints the server's URL
    python -m tests.pg_server stop DIR

Only the standard library is needed to start and stop a cluster; creating and dropping
databases uses psycopg (installed with geo_ip).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ENV = "GEO_IP_TEST_PG_URL"
"""Environment variable with the SQLAlchemy URL of a server (a superuser's maintenance db)."""

USER = "postgres"
"""The database superuser of the clusters started here (and the OS user when root)."""


class UnavailableError(RuntimeError):
    """No PostgreSQL/PostGIS server can be started here (the message says why)."""


def bindir() -> Path | None:
    """Return the folder of ``initdb``/``pg_ctl``: the newest /usr/lib/postgresql/N/bin or PATH."""
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb") if p.is_file()]
    if found:
        return max(found, key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0))
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_owner(cmd: list[str]) -> list[str]:
    """Run ``cmd`` as the ``postgres`` OS user when we are root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", USER, "--", *cmd]
    return ["su", USER, "-s", "/bin/sh", "-c", " ".join(cmd)]


def _run(cmd: list[str], cwd: Path, timeout: float) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    try:
        done = subprocess.run(
            _as_owner(cmd),
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UnavailableError(f"{Path(cmd[0]).name} falhou: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        name = Path(cmd[0]).name
        raise UnavailableError(f"{name} falhou ({done.returncode}): {' | '.join(tail)}")


@dataclass
class Cluster:
    """A cluster started by :func:`start_cluster`.

    Attributes
    ----------
    root : Path
        Its folder (data, socket and log); removed by :meth:`stop`.
    port : int
        Its TCP port on 127.0.0.1.
    bin : Path
        The folder of the PostgreSQL programs.
    """

    root: Path
    port: int
    bin: Path

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the superuser's maintenance database."""
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        """Stop the server (immediately: nothing in it is kept) and remove its folder."""
        stop(self.root, self.bin)


def start_cluster(root: Path | None = None, *, timeout: float = 90) -> Cluster:
    """Create and start a throwaway cluster in ``root`` (a new temporary folder by default).

    Parameters
    ----------
    root : Path, optional
        An empty or absent folder, short enough for a Unix socket path.
    timeout : float
        Seconds allowed for ``initdb`` and for the server to accept connections.

    Returns
    -------
    Cluster
        The running cluster.

    Raises
    ------
    UnavailableError
        No PostgreSQL programs, no ``postgres`` user when root, or the server did not start.
    """
    programs = bindir()
    if programs is None:
        raise UnavailableError("programas do PostgreSQL (initdb, pg_ctl) não encontrados")
    root = Path(tempfile.mkdtemp(prefix="geo_ip_pg_")) if root is None else Path(root)
    root.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(USER)
        except KeyError:
            raise UnavailableError(f"rodando como root e não há o usuário {USER!r}") from None
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data = root / "data"
    try:
        initdb = [str(programs / "initdb"), "-D", str(data), "-U", USER, "-A", "trust"]
        _run([*initdb, "-E", "UTF8", "--no-locale", "--no-sync"], root, timeout)
        last: UnavailableError | None = None
        for _ in range(3):  # another process may take the free port before the server does
            port = free_port()
            options = (
                f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            )
            try:
                pg_ctl = [str(programs / "pg_ctl"), "-D", str(data), "-l", str(root / "log")]
                wait = ["-w", "-t", str(int(timeout))]
                _run([*pg_ctl, "-o", options, *wait, "start"], root, timeout + 10)
                return Cluster(root, port, programs)
            except UnavailableError as exc:
                last = exc
        assert last is not None
        raise last
    except UnavailableError:
        shutil.rmtree(root, ignore_errors=True)
        raise


def stop(root: Path, programs: Path | None = None) -> None:
    """Stop the cluster in ``root`` (if running) and remove the folder.

    Parameters
    ----------
    root : Path
        The folder given to (or made by) :func:`start_cluster`.
    programs : Path, optional
        The folder of ``pg_ctl`` (found as in :func:`start_cluster` by default).
    """
    programs = programs or bindir()
    data = Path(root) / "data"
    if programs is not None and (data / "postmaster.pid").exists():
        try:
            _run([str(programs / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], root, 60)
        except UnavailableError as exc:
            print(f"aviso: {exc}", file=sys.stderr)
    shutil.rmtree(root, ignore_errors=True)


def _conninfo(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def check(url: str, *, timeout: float = 30) -> None:
    """Wait until the server at ``url`` accepts connections and offers PostGIS.

    Parameters
    ----------
    url : str
        SQLAlchemy URL of a superuser's database on the server.
    timeout : float
        Seconds to keep trying to connect.

    Raises
    ------
    UnavailableError
        The server does not answer or has no PostGIS extension.
    """
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(_conninfo(url), autocommit=True, connect_timeout=5) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'"
                ).fetchone()
            break
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise UnavailableError(f"o servidor não responde: {exc}".strip()) from exc
            time.sleep(0.3)
    if not row or not row[0]:
        raise UnavailableError("a extensão PostGIS não está instalada no servidor")


def create_database(admin_url: str) -> str:
    """Create an empty database with a unique name on the server of ``admin_url``.

    Parameters
    ----------
    admin_url : str
        SQLAlchemy URL of a superuser's database on the server.

    Returns
    -------
    str
        The SQLAlchemy URL of the new database (same user, host and driver).
    """
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"geo_ip_teste_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_conninfo(admin_url), autocommit=True) as conn:
        # template0: nobody is ever connected to it, so parallel workers never collide
        conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    """Drop the database of ``url`` (closing any connection still open to it).

    Parameters
    ----------
    admin_url : str
        SQLAlchemy URL of a superuser's database on the same server.
    url : str
        The URL returned by :func:`create_database`.
    """
    import psycopg
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    with psycopg.connect(_conninfo(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str]) -> int:
    """``start DIR`` prints the URL of a new cluster in DIR (PostGIS checked); ``stop DIR``."""
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("uso: python -m tests.pg_server start|stop PASTA", file=sys.stderr)
        return 2
    if argv[0] == "stop":
        stop(Path(argv[1]))
        return 0
    try:
        cluster = start_cluster(Path(argv[1]))
    except UnavailableError as exc:
        print(f"PostgreSQL não iniciou: {exc}", file=sys.stderr)
        return 1
    try:
        check(cluster.url)
    except (UnavailableError, ImportError) as exc:
        cluster.stop()
        print(f"PostgreSQL sem PostGIS utilizável: {exc}", file=sys.stderr)
        return 1
    print(cluster.url)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
