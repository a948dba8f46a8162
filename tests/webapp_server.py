"""The Commission's web app on a real uvicorn server, in a child process (issue 20).

:func:`running_server` opens a listening socket on a free localhost port in this
process, hands it to a child process (``python -m tests.webapp_server``) that serves
:func:`geo_ip.webapp.app.create_app` for a registry URL with uvicorn on that socket,
waits until the login page answers, yields the base URL and stops the child at the
end. The port is never released between choosing it and serving it, so two servers
started at once cannot collide. No TestClient: real HTTP, real threads, real cookies.

The secret signing the session cookies goes to the child in the environment
(``GEO_IP_TEST_SECRET``), never on its command line.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = b"segredo-do-servidor-de-teste-com-mais-de-32-bytes"
_SECRET_ENV = "GEO_IP_TEST_SECRET"


class ServerError(RuntimeError):
    """The server did not start (the message carries the end of its log)."""


def _tail(path: Path, size: int = 4000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-size:]
    except OSError:
        return ""


def _wait_ready(base: str, child: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise ServerError(f"o servidor terminou ao iniciar (código {child.returncode}):\n"
                              f"{_tail(log)}")  # fmt: skip
        try:
            answer = httpx.get(f"{base}/entrar", timeout=5.0)
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        else:
            if answer.status_code == 200:
                return
            last = f"HTTP {answer.status_code}"
        time.sleep(0.1)
    raise ServerError(f"o servidor não respondeu em {timeout:g} s ({last}):\n{_tail(log)}")


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
    try:
        child.wait(timeout=15)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(timeout=15)


@contextmanager
def running_server(
    url: str,
    *,
    secret: bytes = SECRET,
    access_log: bool = False,
    timeout: float = 90.0,
    log: Path | None = None,
) -> Iterator[str]:
    """Serve the registry at ``url`` on a free localhost port while the block runs.

    Parameters
    ----------
    url : str
        The registry's SQLAlchemy URL (already migrated and filled).
    secret : bytes
        Secret signing the session cookies (at least 32 bytes).
    access_log : bool
        Let uvicorn log every request (to ``log``).
    timeout : float
        Seconds to wait for the server to answer.
    log : Path, optional
        File receiving the server's output (default: a temporary file, removed).

    Yields
    ------
    str
        The base URL, ``http://127.0.0.1:<port>``.

    Raises
    ------
    ServerError
        When the server does not start; the message has the end of its log.
    """
    with tempfile.TemporaryDirectory(prefix="geo_ip_servidor_") as tmp:
        log_path = log or Path(tmp) / "servidor.log"
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(256)
        listener.set_inheritable(True)
        port = listener.getsockname()[1]
        command = [sys.executable, "-m", "tests.webapp_server", url, "--fd",
                   str(listener.fileno())]  # fmt: skip
        if access_log:
            command.append("--access-log")
        env = {**os.environ, _SECRET_ENV: secret.hex()}
        with open(log_path, "wb") as out:
            child = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                pass_fds=(listener.fileno(),),
            )  # fmt: skip
        listener.close()  # the child holds its own copy
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, child, log_path, timeout)
            yield base
        finally:
            _stop(child)


def main(argv: list[str] | None = None) -> int:
    """Serve a registry on an inherited listening socket (the child of :func:`running_server`)."""
    parser = argparse.ArgumentParser(prog="python -m tests.webapp_server")
    parser.add_argument("url", help="URL do registro")
    parser.add_argument("--fd", type=int, required=True, help="socket herdado, já ouvindo")
    parser.add_argument("--access-log", action="store_true")
    opts = parser.parse_args(argv)

    import uvicorn

    from geo_ip.registry.db import open_registry
    from geo_ip.webapp.app import create_app

    secret = bytes.fromhex(os.environ.get(_SECRET_ENV, SECRET.hex()))
    app = create_app(open_registry(opts.url), secret=secret)
    listener = socket.socket(fileno=opts.fd)
    config = uvicorn.Config(
        app,
        log_level="info" if opts.access_log else "warning",
        access_log=opts.access_log,
        server_header=False,
        lifespan="off",
    )
    uvicorn.Server(config).run(sockets=[listener])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
