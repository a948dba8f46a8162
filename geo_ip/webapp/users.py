"""Users of the Commission's web app: creation, passwords (argon2) and login throttling.

Passwords are hashed with argon2id (argon2-cffi's defaults); only the hash is stored,
and neither the password nor the hash ever goes into an audit event. Every creation,
login and failed login is an audit event (:func:`geo_ip.registry.audit.append`).

Login throttling: after :data:`MAX_FAILURES` failed attempts for the same login, or
:data:`MAX_ADDRESS_FAILURES` from the same address (higher: behind a proxy, every user
may come from one address), within :data:`WINDOW`, :func:`authenticate` refuses every
attempt, even with the right password, until the oldest of them leaves the window. A
successful login clears the earlier failures of the same login from the same address
only. Each attempt is recorded *before* its password is checked, in a transaction that
holds the database's write lock (SQLite) or a lock per login and per address
(PostgreSQL): attempts made in parallel are counted one after the other, and an attempt
still being checked counts as a failure, so no more than :data:`MAX_FAILURES` passwords
of a login are ever checked within the window.
"""

from __future__ import annotations

import functools
import hashlib
import re
from datetime import UTC, datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from geo_ip.errors import GeoIPError
from geo_ip.registry import audit
from geo_ip.registry.db import Registry
from geo_ip.registry.models import ROLES, LoginAttempt, User

__all__ = [
    "BRASILIA",
    "LOGIN_PATTERN",
    "MAX_ADDRESS_FAILURES",
    "MAX_FAILURES",
    "MIN_PASSWORD",
    "ROLE_LABELS",
    "WINDOW",
    "LoginRefusedError",
    "LoginThrottledError",
    "UserError",
    "add_user",
    "authenticate",
    "hash_password",
    "normalize_login",
    "throttled_until",
]

ROLE_LABELS = {
    "administrador": "Administrador(a)",
    "presidente": "Presidente da Comissão",
    "membro": "Membro da Comissão",
    "consulta": "Consulta",
}
"""Portuguese label of each role."""

LOGIN_PATTERN = re.compile(r"[a-z][a-z0-9._-]{2,39}")
"""A login: 3 to 40 characters, lower-case letters, digits, ``.``, ``_`` or ``-``."""
MIN_PASSWORD = 10
"""Shortest password accepted."""
MAX_PASSWORD = 1024
"""Longest password accepted (argon2 would hash anything: refuse absurd inputs)."""
MAX_FAILURES = 5
"""Failed attempts on one login within :data:`WINDOW` that block further attempts."""
MAX_ADDRESS_FAILURES = 20
"""Failed attempts from one address within :data:`WINDOW` that block further attempts."""
WINDOW = timedelta(minutes=15)
"""The throttling window."""
BRASILIA = timezone(timedelta(hours=-3), "BRT")
"""Brasília time (no daylight saving since 2019), for times shown to users."""

_HASHER = PasswordHasher()


class UserError(GeoIPError):
    """A user cannot be created or changed (login, name, role or password not valid)."""

    exit_code = 2


class LoginRefusedError(UserError):
    """Unknown login, wrong password or inactive user (the message does not say which)."""

    def __init__(self) -> None:
        super().__init__("Usuário ou senha incorretos.")


class LoginThrottledError(UserError):
    """Too many failed attempts: logins are refused until :attr:`until`.

    Parameters
    ----------
    until : datetime
        When attempts are accepted again (UTC).
    """

    def __init__(self, until: datetime) -> None:
        self.until = until
        local = until.astimezone(BRASILIA)
        super().__init__(
            f"Muitas tentativas de entrada sem sucesso. Por segurança, tente novamente "
            f"a partir das {local:%H:%M} (horário de Brasília)."
        )


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def normalize_login(login: str) -> str:
    """Return a login as stored: without surrounding spaces, in lower case.

    Parameters
    ----------
    login : str
        The login as typed.

    Returns
    -------
    str
        The normalized login (at most 100 characters).
    """
    return login.strip().lower()[:100]


def hash_password(password: str) -> str:
    """Hash a password with argon2id.

    Parameters
    ----------
    password : str
        The password.

    Returns
    -------
    str
        The PHC string (``$argon2id$v=19$...``), with its own random salt.
    """
    return _HASHER.hash(password)


@functools.cache
def _decoy_hash() -> str:
    """Return a hash to verify when the login is unknown (both cases take as long)."""
    return _HASHER.hash("geo_ip: nenhum usuário tem esta senha")


def _unknown_login(login: str) -> str:
    """Key of the attempts on a login that does not exist (a digest, never the text)."""
    return "?" + hashlib.sha256(login.encode("utf-8")).hexdigest()


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_new_user(login: str, name: str, role: str, password: str) -> None:
    if not LOGIN_PATTERN.fullmatch(login):
        raise UserError(
            "login inválido: use de 3 a 40 caracteres, começando por letra, só com letras "
            "minúsculas sem acento, números, ponto, hífen ou sublinhado",
            field="login",
        )
    if not name or len(name) > 200:
        raise UserError("informe o nome da pessoa (até 200 caracteres)", field="nome")
    if role not in ROLES:
        raise UserError(f"papel desconhecido; use um destes: {', '.join(ROLES)}", field="papel")
    if len(password) < MIN_PASSWORD:
        raise UserError(
            f"senha curta demais: use pelo menos {MIN_PASSWORD} caracteres", field="senha"
        )
    if len(password) > MAX_PASSWORD:
        raise UserError(f"senha longa demais (mais de {MAX_PASSWORD} caracteres)", field="senha")
    if password.strip().lower() == login:
        raise UserError("a senha não pode ser igual ao login", field="senha")


def add_user(
    registry: Registry,
    login: str,
    name: str,
    role: str,
    password: str,
    actor: str = "sistema:users",
) -> User:
    """Create a user of the web app (an audit event records who created whom).

    Parameters
    ----------
    registry : Registry
        The registry.
    login : str
        The login (stored in lower case; see :data:`LOGIN_PATTERN`).
    name : str
        The person's name, as shown in the app and in the minutes.
    role : str
        One of :data:`geo_ip.registry.models.ROLES`.
    password : str
        At least :data:`MIN_PASSWORD` characters; only its argon2 hash is stored.
    actor : str, default ``"sistema:users"``
        Who creates the user (for the audit trail).

    Returns
    -------
    User
        The user created (detached from its database session).

    Raises
    ------
    UserError
        When the login, name, role or password is not valid, or the login exists.
    """
    login, name, role = normalize_login(login), name.strip(), role.strip().lower()
    _check_new_user(login, name, role, password)
    hashed = hash_password(password)
    with registry.session() as db:
        if db.scalar(select(User.id).where(User.login == login)) is not None:
            raise UserError(f"já existe um usuário com o login '{login}'", field="login")
        user = User(
            login=login, nome=name, papel=role, senha_hash=hashed, ativo=True, criado_em=_now()
        )
        db.add(user)
        db.flush()
        audit.append(
            db,
            actor,
            "usuario_criado",
            "usuario",
            login,
            after={"login": login, "nome": name, "papel": role, "ativo": True},
        )
    return user


def throttled_until(
    db: Session, login: str, address: str, now: datetime, *, exclude: int | None = None
) -> datetime | None:
    """Return until when logins are refused for a login or an address (None: not refused).

    A failure counts when it is within :data:`WINDOW` and no later success of the same
    login from the same address cleared it (an attempt still being checked counts as a
    failure). Logins are refused while :data:`MAX_FAILURES` failures count for
    ``login``, or :data:`MAX_ADDRESS_FAILURES` for ``address``.

    Parameters
    ----------
    db : sqlalchemy.orm.Session
        A session on the registry.
    login : str
        The normalized login tried.
    address : str
        The client's address (empty: unknown, not throttled by address).
    now : datetime
        The current time (UTC).
    exclude : int, optional
        Id of an attempt not to count (the one being decided).

    Returns
    -------
    datetime or None
        When the oldest counting failure leaves the window (UTC), or None.
    """
    since = now - WINDOW
    keys = [LoginAttempt.login == login]
    if address:
        keys.append(LoginAttempt.endereco == address)
    query = (
        select(LoginAttempt.login, LoginAttempt.endereco, LoginAttempt.em, LoginAttempt.sucesso)
        .where(LoginAttempt.em >= since, or_(*keys))
        .order_by(LoginAttempt.em, LoginAttempt.id)
    )
    if exclude is not None:
        query = query.where(LoginAttempt.id != exclude)
    rows = db.execute(query).all()
    last_success: dict[tuple[str, str], datetime] = {}
    for row in rows:
        if row.sucesso:
            last_success[(row.login, row.endereco)] = _aware(row.em)
    failures = [
        row
        for row in rows
        if not row.sucesso
        and _aware(row.em) >= last_success.get((row.login, row.endereco), _aware(row.em))
    ]
    until: datetime | None = None
    for counted, limit in (
        ([_aware(r.em) for r in failures if r.login == login], MAX_FAILURES),
        ([_aware(r.em) for r in failures if address and r.endereco == address],
         MAX_ADDRESS_FAILURES),
    ):  # fmt: skip
        if len(counted) >= limit:
            end = counted[-limit] + WINDOW
            until = end if until is None else max(until, end)
    return until


def _lock_keys(db: Session, keys: list[str]) -> None:
    """Serialise the attempts on the same login or address (PostgreSQL advisory locks).

    SQLite needs none: the attempt's INSERT, the first statement of its transaction,
    takes the database's write lock until the count is done and committed.
    """
    if db.get_bind().dialect.name != "postgresql":
        return
    for key in sorted(set(keys)):  # always the same order: no deadlock
        db.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))


def _record_attempt(
    registry: Registry, attempt_key: str, address: str, now: datetime
) -> tuple[int | None, datetime | None]:
    """Record an attempt (pending, counted as a failure) unless throttled.

    Returns the attempt's id, or None and until when attempts are refused.
    """
    with registry.session() as db:
        attempt = LoginAttempt(login=attempt_key, endereco=address, em=now, sucesso=False)
        db.add(attempt)
        db.flush()
        _lock_keys(db, [f"login:{attempt_key}", *([f"endereco:{address}"] if address else [])])
        until = throttled_until(db, attempt_key, address, now, exclude=attempt.id)
        if until is not None:
            # a refused attempt is neither checked nor counted
            db.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt.id))
            return None, until
        return attempt.id, None


def authenticate(registry: Registry, login: str, password: str, *, address: str = "") -> User:
    """Check a login and password; record the attempt and its audit event.

    Parameters
    ----------
    registry : Registry
        The registry.
    login : str
        The login typed (normalized with :func:`normalize_login`).
    password : str
        The password typed.
    address : str, optional
        The client's IP address (throttling and audit).

    Returns
    -------
    User
        The active user whose password this is (detached).

    Raises
    ------
    LoginThrottledError
        While too many failures count for this login or address (the password is not
        even checked).
    LoginRefusedError
        Unknown login, wrong password or inactive user.
    """
    key, address, now = normalize_login(login), address[:100], _now()
    with registry.session() as db:
        user = db.scalar(select(User).where(User.login == key)) if key else None
    # an unknown login is kept only as a digest: it may be a password typed in the
    # login field by mistake, which must land neither in the attempts nor the audit
    attempt_key = key if user is not None else _unknown_login(key)
    attempt_id, until = _record_attempt(registry, attempt_key, address, now)
    if until is not None:
        raise LoginThrottledError(until)
    # the password is checked outside any transaction (argon2 takes a while)
    usable = user is not None and user.ativo and len(password) <= MAX_PASSWORD
    hashed = user.senha_hash if usable and user is not None else _decoy_hash()
    ok = _verify(hashed, password[:MAX_PASSWORD]) and usable
    with registry.session() as db:
        current = db.get(User, user.id) if ok and user is not None else None
        # still the same active user with the same password (not changed meanwhile)
        if current is not None and current.ativo and current.senha_hash == hashed:
            db.execute(
                update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(sucesso=True)
            )
            if _HASHER.check_needs_rehash(current.senha_hash):
                current.senha_hash = hash_password(password)
            audit.append(
                db, current.login, "login", "usuario", current.login, after={"endereco": address}
            )
            return current
        audit.append(
            db,
            "anonimo",
            "login_falhou",
            "usuario",
            user.login if user is not None else "",
            after={"endereco": address, "usuario_existe": user is not None},
        )
    raise LoginRefusedError()
