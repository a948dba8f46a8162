"""Roles, sessions, CSRF and security headers of the Commission's web app.

Sessions are kept on the server, in table ``sessoes``. The browser holds only the cookie
:data:`COOKIE`: a random token signed with the app's secret (itsdangerous); the table
stores the token's SHA-256, so a copy of the database opens no session. A session ends
after :data:`IDLE` without use or :data:`LIFETIME` after it began. Anonymous visitors
get a session too, created the first time a page needs a CSRF token (the login form);
logging in replaces it by a new one (the cookie seen before the login opens nothing
after it: no session fixation) and logging out deletes it.

Every unsafe request (POST, PUT, PATCH, DELETE) must carry the session's CSRF token in
the form field ``csrf`` (:func:`geo_ip.webapp.templating.csrf_field` writes it) or in
the header ``X-CSRF-Token``: :func:`check_csrf` is a dependency of the whole app, so a
route added later cannot forget it. Route modules protect their pages with
``Depends(current_user)`` or ``Depends(require("decidir"))``.

Two pure ASGI middlewares are installed by :func:`geo_ip.webapp.app.create_app`:
:class:`SessionMiddleware` (loads the session, sends its cookie) and
:class:`SecurityHeadersMiddleware` (CSP and the other headers of every response).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

import anyio.to_thread
from fastapi import Depends, HTTPException, Request
from itsdangerous import BadSignature, Signer
from sqlalchemy import delete, or_, select
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo_ip.registry import audit
from geo_ip.registry.db import Registry
from geo_ip.registry.models import Session as SessionRow
from geo_ip.registry.models import User

__all__ = [
    "COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "CSRF_MESSAGE",
    "FORBIDDEN_MESSAGE",
    "IDLE",
    "LIFETIME",
    "PERMISSIONS",
    "PERMISSION_LABELS",
    "LoginRequiredError",
    "SecurityHeadersMiddleware",
    "SessionMiddleware",
    "SessionState",
    "allowed",
    "check_csrf",
    "client_address",
    "current_user",
    "make_signer",
    "registry_of",
    "require",
    "security_headers",
    "session_of",
]

log = logging.getLogger(__name__)

PERMISSION_LABELS = {
    "ver": "consultar pedidos, classificação e reuniões",
    "decidir": "decidir os critérios e os atos dos pedidos",
    "vistoriar": "registrar vistorias",
    "presidir": "conduzir reuniões e propor a classificação ao Secretário",
    "dados_pessoais": "ver os dados pessoais dos requerentes",
    "administrar": "administrar os usuários",
}
"""What each permission allows, in Portuguese."""

_ALL = frozenset(PERMISSION_LABELS)

PERMISSIONS: dict[str, frozenset[str]] = {
    "administrador": _ALL,
    "presidente": _ALL - {"administrar"},
    "membro": frozenset({"ver", "decidir", "vistoriar"}),
    "consulta": frozenset({"ver"}),
}
"""The permissions of each role (:data:`geo_ip.registry.models.ROLES`)."""

COOKIE = "geoip_sessao"
"""Name of the session cookie."""
IDLE = timedelta(hours=8)
"""A session unused for this long is over."""
LIFETIME = timedelta(hours=24)
"""A session is over this long after it began, even if used."""
_TOUCH = timedelta(minutes=5)
"""``vista_em`` is written at most this often (one write per page would be wasteful)."""

CSRF_FIELD = "csrf"
"""Form field carrying the CSRF token."""
CSRF_HEADER = "X-CSRF-Token"
"""Header carrying the CSRF token (requests made by JavaScript)."""
CSRF_MESSAGE = (
    "Formulário expirado ou inválido. Volte à página anterior, recarregue-a e envie de novo."
)
"""Message of the 403 answered to a request without a valid CSRF token."""
FORBIDDEN_MESSAGE = "Você não tem permissão para esta ação."
"""Message of the 403 answered when the user's role lacks a permission."""

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
"""Methods that change nothing, hence carry no CSRF token."""

CSP = (
    "default-src 'self'; img-src 'self' data: blob: https://tile.openstreetmap.org; "
    "script-src 'self'; style-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)
"""Content-Security-Policy of every response: no inline script or style anywhere."""

_STATE_KEY = "geoip_sessao"
_STATIC_PREFIX = "/static/"


def security_headers(secure: bool) -> dict[str, str]:
    """Return the security headers sent with every response.

    Parameters
    ----------
    secure : bool
        The app is served over HTTPS (adds ``Strict-Transport-Security``).

    Returns
    -------
    dict of str to str
        Header names (lower case) and values.
    """
    headers = {
        "content-security-policy": CSP,
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "same-origin",
        "permissions-policy": "geolocation=(self), camera=(self)",
        "cross-origin-opener-policy": "same-origin",
    }
    if secure:
        headers["strict-transport-security"] = "max-age=31536000"
    return headers


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes: every time stored by the app is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass(eq=False)
class SessionState:
    """The session of one request, as :class:`SessionMiddleware` found it.

    Attributes
    ----------
    registry : Registry
        Where sessions are stored.
    signer : itsdangerous.Signer
        Signs the cookie.
    secure : bool
        Send the cookie only over HTTPS.
    id : str or None
        SHA-256 of the session token (the row's key); None when there is no session.
    csrf : str or None
        The session's CSRF token.
    user : User or None
        The user logged in (None: anonymous).
    set_cookie : str or None
        The ``Set-Cookie`` value to send with the response, when the session changed.
    """

    registry: Registry
    signer: Signer
    secure: bool
    id: str | None = None
    csrf: str | None = None
    user: User | None = None
    set_cookie: str | None = None

    def load(self, cookie: str) -> None:
        """Find the session of a cookie; an unknown, forged or expired one is ignored.

        Parameters
        ----------
        cookie : str
            The value of the session cookie.
        """
        try:
            token = self.signer.unsign(cookie).decode("ascii")
        except (BadSignature, UnicodeError):
            return
        key, now = _digest(token), _now()
        with self.registry.session() as db:
            found = db.execute(
                select(SessionRow, User)
                .outerjoin(User, SessionRow.usuario_id == User.id)
                .where(SessionRow.id == key)
            ).first()
            if found is None:
                return
            row, user = found
            seen = _aware(row.vista_em)
            if (
                seen + IDLE < now
                or _aware(row.criada_em) + LIFETIME < now
                or (row.usuario_id is not None and (user is None or not user.ativo))
            ):
                db.delete(row)
                return
            if now - seen > _TOUCH:
                row.vista_em = now
            self.id, self.csrf, self.user = key, row.csrf, user

    def csrf_token(self) -> str:
        """Return the session's CSRF token, creating an anonymous session if there is none.

        Returns
        -------
        str
            The token to put in forms.
        """
        if self.csrf is None:
            self._begin(None)
        assert self.csrf is not None
        return self.csrf

    def begin(self, user: User) -> None:
        """Log ``user`` in: the current session is deleted and a new one takes its place.

        Parameters
        ----------
        user : User
            The user just authenticated.
        """
        self._begin(user)

    def end(self) -> None:
        """Log out: delete the session (an audit event when a user was logged in)."""
        if self.id is not None:
            with self.registry.session() as db:
                db.execute(delete(SessionRow).where(SessionRow.id == self.id))
                if self.user is not None:
                    audit.append(db, self.user.login, "logout", "usuario", self.user.login)
        self.id = self.csrf = None
        self.user = None
        self.set_cookie = self._cookie("", clear=True)

    def _begin(self, user: User | None) -> None:
        token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), _now()
        key = _digest(token)
        with self.registry.session() as db:
            stale = [SessionRow.vista_em < now - IDLE, SessionRow.criada_em < now - LIFETIME]
            if self.id is not None:
                stale.append(SessionRow.id == self.id)
            db.execute(delete(SessionRow).where(or_(*stale)))
            db.add(
                SessionRow(
                    id=key,
                    usuario_id=None if user is None else user.id,
                    csrf=csrf,
                    criada_em=now,
                    vista_em=now,
                )
            )
        self.id, self.csrf, self.user = key, csrf, user
        self.set_cookie = self._cookie(self.signer.sign(token).decode("ascii"))

    def _cookie(self, value: str, *, clear: bool = False) -> str:
        parts = [f"{COOKIE}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if self.secure:
            parts.append("Secure")
        if clear:
            parts.append("Max-Age=0")
        return "; ".join(parts)


def make_signer(secret: bytes) -> Signer:
    """Return the signer of session cookies for the app's secret.

    Parameters
    ----------
    secret : bytes
        The app's secret.

    Returns
    -------
    itsdangerous.Signer
        HMAC-SHA-256 signer.
    """
    return Signer(secret, salt="geo_ip.webapp.sessao", digest_method=hashlib.sha256)


class SessionMiddleware:
    """Load each request's session (off the event loop) and send its cookie when it changes.

    Parameters
    ----------
    app : ASGI app
        The app wrapped.
    registry : Registry
        Where sessions are stored.
    secret : bytes
        Key signing the cookies.
    secure : bool
        Cookies only over HTTPS.
    """

    def __init__(self, app: ASGIApp, *, registry: Registry, secret: bytes, secure: bool) -> None:
        self.app = app
        self.registry = registry
        self.signer = make_signer(secret)
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http" or scope["path"].startswith(_STATIC_PREFIX):
            await self.app(scope, receive, send)
            return
        state = SessionState(self.registry, self.signer, self.secure)
        cookie = cookie_parser(Headers(scope=scope).get("cookie", "")).get(COOKIE)
        if cookie:
            await anyio.to_thread.run_sync(state.load, cookie)
        scope.setdefault("state", {})[_STATE_KEY] = state

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and state.set_cookie:
                MutableHeaders(scope=message).append("set-cookie", state.set_cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)


class SecurityHeadersMiddleware:
    """Add :func:`security_headers` to every response, and ``no-store`` to the pages.

    A header the route already set wins (a page may deliberately relax one). Everything
    outside ``/static/`` gets ``Cache-Control: no-store`` unless it set its own: pages
    and downloads may carry personal data.

    Parameters
    ----------
    app : ASGI app
        The app wrapped.
    secure : bool
        The app is served over HTTPS.
    """

    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app = app
        self.headers = security_headers(secure)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith(_STATIC_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers[name] = value
                if not static and "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def session_of(request: Request) -> SessionState | None:
    """Return the request's session state (None outside :class:`SessionMiddleware`).

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    SessionState or None
        The state; its ``user`` is None for an anonymous visitor.
    """
    state = request.scope.get("state", {}).get(_STATE_KEY)
    return state if isinstance(state, SessionState) else None


class LoginRequiredError(Exception):
    """A page needs a logged-in user: the app answers with a redirect to ``/entrar``.

    Parameters
    ----------
    location : str
        Where to send the browser (``/entrar?proximo=...``).
    """

    def __init__(self, location: str) -> None:
        self.location = location
        super().__init__(location)


def _login_location(request: Request) -> str:
    path = request.url.path
    if request.method == "GET" and request.url.query:
        path = f"{path}?{request.url.query}"
    return f"/entrar?proximo={quote(path, safe='/')}"


def current_user(request: Request) -> User:
    """Dependency: the user logged in, or a redirect (303) to the login page.

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    User
        The user (detached from its database session: read its attributes only).

    Raises
    ------
    LoginRequiredError
        When nobody is logged in; answered with ``303 /entrar?proximo=<path>``.
    """
    state = session_of(request)
    if state is None or state.user is None:
        raise LoginRequiredError(_login_location(request))
    return state.user


def allowed(user: User | None, permission: str) -> bool:
    """Tell whether a user's role has a permission.

    Parameters
    ----------
    user : User or None
        The user (None: anonymous, who has none).
    permission : str
        One of :data:`PERMISSION_LABELS`.

    Returns
    -------
    bool
        True when allowed.
    """
    return user is not None and permission in PERMISSIONS.get(user.papel, frozenset())


def require(permission: str) -> Callable[..., User]:
    """Return a dependency giving the logged-in user when the role has ``permission``.

    Parameters
    ----------
    permission : str
        One of ``ver``, ``decidir``, ``vistoriar``, ``presidir``, ``dados_pessoais``,
        ``administrar``.

    Returns
    -------
    callable
        For ``Depends``: the user, a redirect to the login page when nobody is logged in,
        or 403 when the role lacks the permission.

    Raises
    ------
    ValueError
        When ``permission`` is not a known permission (a programming error).
    """
    if permission not in _ALL:
        raise ValueError(f"unknown permission {permission!r}")

    def dependency(user: Annotated[User, Depends(current_user)]) -> User:
        if not allowed(user, permission):
            raise HTTPException(status_code=403, detail=FORBIDDEN_MESSAGE)
        return user

    dependency.__name__ = f"require_{permission}"
    dependency.__qualname__ = dependency.__name__
    return dependency


def registry_of(request: Request) -> Registry:
    """Dependency: the registry the app serves.

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    Registry
        ``app.state.registry``.
    """
    registry: Registry = request.app.state.registry
    return registry


def client_address(request: Request) -> str:
    """Return the client's IP address (the proxy's ``X-Forwarded-For`` when uvicorn trusts it).

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    str
        The address, empty when unknown.
    """
    return request.client.host if request.client is not None else ""


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def check_csrf(request: Request) -> None:
    """Dependency of every route: refuse an unsafe request without the session's CSRF token.

    The token is read from the header ``X-CSRF-Token`` or the form field ``csrf``. Safe
    methods (GET, HEAD, OPTIONS) pass. The form parsed here is the one the route reads
    (Starlette keeps it on the request).

    Parameters
    ----------
    request : Request
        The request.

    Raises
    ------
    HTTPException
        403 "Formulário expirado ou inválido" when the token is absent or not the
        session's; 400 when the form cannot be read.
    """
    if request.method in SAFE_METHODS:
        return
    state = session_of(request)
    expected = None if state is None else state.csrf
    given: Any = request.headers.get(CSRF_HEADER)
    if not given and request.headers.get("content-type", "").startswith(_FORM_TYPES):
        try:
            form = await request.form()
        except Exception as exc:
            raise HTTPException(status_code=400, detail="Formulário ilegível.") from exc
        given = form.get(CSRF_FIELD)
    if (
        not expected
        or not isinstance(given, str)
        or not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
    ):
        raise HTTPException(status_code=403, detail=CSRF_MESSAGE)
