"""Roles, sessions, CSRF and security headers of the Commission's web app.

Sessions are kept on the server, in table ``sessoes``. The browser holds only the cookie
:data:`COOKIE`: a random token signed with the app's secret (itsdangerous); the table
stores the token's SHA-256, so a copy of the database opens no session. A session ends
after :data:`IDLE` without use or :data:`LIFETIME` after it began. Anonymous visitors
get a session too, created the first time a page needs a CSRF token (the login form);
it lasts :data:`ANONYMOUS_IDLE` without use, and every new session purges the expired
ones. Logging in replaces it by a new one (the cookie seen before the login opens nothing
after it: no session fixation) and logging out deletes it.

Every unsafe request (POST, PUT, PATCH, DELETE) must carry the session's CSRF token in
the form field ``csrf`` (:func:`geo_ip.webapp.templating.csrf_field` writes it) or in
the header ``X-CSRF-Token``: :func:`check_csrf` is a dependency of the whole app, so a
route added later cannot forget it. Route modules protect their pages with
``Depends(current_user)`` or ``Depends(require("decidir"))``.

Three pure ASGI middlewares are installed by :func:`geo_ip.webapp.app.create_app`:
:class:`SecurityHeadersMiddleware` (CSP and the other headers of every response),
:class:`BodyLimitMiddleware` (a request body larger than :data:`MAX_BODY` — or
:data:`MAX_UPLOAD_BODY` on the inspection form, which carries photos — is refused with
413 before or while it is read) and :class:`SessionMiddleware` (loads the session,
sends its cookie, and refuses at once, before its body is read, an unsafe request
without a session: an anonymous visitor cannot make the server read a large upload).

Form values are hostile input: :func:`parse_whole` and :func:`parse_decimal` read
numbers (ASCII digits only, bounded, no exponent, NaN or infinity), and
:func:`visible_text` drops invisible characters before a field is checked as filled.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

import anyio.to_thread
from fastapi import Depends, HTTPException, Request
from itsdangerous import BadSignature, Signer
from sqlalchemy import and_, delete, or_, select
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request as StarletteRequest
from starlette.requests import cookie_parser
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo_ip.registry import audit
from geo_ip.registry.base import visible
from geo_ip.registry.db import Registry
from geo_ip.registry.inspections import MAX_PHOTO_BYTES, MAX_PHOTOS
from geo_ip.registry.models import Session as SessionRow
from geo_ip.registry.models import User

__all__ = [
    "ANONYMOUS_IDLE",
    "COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "CSRF_MESSAGE",
    "FORBIDDEN_MESSAGE",
    "IDLE",
    "LIFETIME",
    "MAX_BODY",
    "MAX_UPLOAD_BODY",
    "PERMISSIONS",
    "PERMISSION_LABELS",
    "UPLOAD_PATHS",
    "BodyLimitMiddleware",
    "BodyTooLargeError",
    "LoginRequiredError",
    "SecurityHeadersMiddleware",
    "SessionMiddleware",
    "SessionState",
    "allowed",
    "check_csrf",
    "client_address",
    "current_user",
    "make_signer",
    "parse_decimal",
    "parse_whole",
    "registry_of",
    "require",
    "security_headers",
    "session_of",
    "visible_text",
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
ANONYMOUS_IDLE = timedelta(hours=1)
"""An anonymous session (the login form's CSRF token) unused for this long is over."""
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

_MB = 1024 * 1024
MAX_BODY = 20 * _MB
"""Largest request body accepted (bytes), except on :data:`UPLOAD_PATHS`."""
MAX_UPLOAD_BODY = MAX_PHOTOS * MAX_PHOTO_BYTES + 10 * _MB
"""Largest body of the inspection form: its photos at their largest plus the fields."""
UPLOAD_PATHS = re.compile(r"/pedidos/[0-9]{1,19}/vistoria/?")
"""Paths whose body may reach :data:`MAX_UPLOAD_BODY` (the inspection form)."""


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
                or (row.usuario_id is None and seen + ANONYMOUS_IDLE < now)
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
            # every new session purges the expired ones: anonymous sessions (one per
            # visitor of the login form) do not pile up beyond ANONYMOUS_IDLE
            stale = [
                SessionRow.vista_em < now - IDLE,
                SessionRow.criada_em < now - LIFETIME,
                and_(SessionRow.usuario_id.is_(None), SessionRow.vista_em < now - ANONYMOUS_IDLE),
            ]
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
        if scope.get("method", "GET") not in SAFE_METHODS and state.csrf is None:
            # no session, hence no CSRF token can match: refused before the body is read
            await _refuse(scope, receive, send, 403, CSRF_MESSAGE)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and state.set_cookie:
                MutableHeaders(scope=message).append("set-cookie", state.set_cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)


_REFUSAL_TITLES = {400: "Pedido inválido", 403: "Acesso negado", 413: "Envio grande demais"}


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    """Answer an error page from a middleware (outside the app's exception handlers)."""
    title = _REFUSAL_TITLES.get(status, f"Erro {status}")
    try:
        # the app's error page (geo_ip.webapp.templating.render_error, which imports this
        # module), handed over by create_app on app.state
        render_error = scope["app"].state.render_error
        response: Response = render_error(StarletteRequest(scope), status, title, message)
    except Exception:  # the templates themselves failed: a bare page
        log.exception("falha ao mostrar a página de erro")
        response = HTMLResponse(
            f"<!doctype html><html lang='pt-BR'><title>{title}</title>"
            f"<h1>{title}</h1><p>{message}</p></html>",
            status_code=status,
        )
    # the body is not read: the server closes the connection instead of draining it
    response.headers["connection"] = "close"
    await response(scope, receive, send)


def _body_limit_message(limit: int) -> str:
    return (
        f"O envio passa do limite de {limit // _MB} MB. Envie menos arquivos de cada vez "
        "ou reduza a resolução das fotos."
    )


class BodyTooLargeError(StarletteHTTPException):
    """A request body went past its limit while it was read (answered 413).

    Parameters
    ----------
    limit : int
        The limit (bytes).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(status_code=413, detail=_body_limit_message(limit))


class BodyLimitMiddleware:
    """Refuse request bodies larger than a limit, before or while they are read.

    A ``Content-Length`` above the limit is answered 413 at once, without reading the
    body or touching the database; a body sent in chunks is counted as the app reads it
    and cut with :class:`BodyTooLargeError` (413) as soon as it passes the limit.

    Parameters
    ----------
    app : ASGI app
        The app wrapped.
    limit : int, default :data:`MAX_BODY`
        Largest body (bytes).
    upload_limit : int, default :data:`MAX_UPLOAD_BODY`
        Largest body on the paths matching ``upload_paths``.
    upload_paths : re.Pattern, default :data:`UPLOAD_PATHS`
        Paths (full match) of the forms that upload files.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int = MAX_BODY,
        upload_limit: int = MAX_UPLOAD_BODY,
        upload_paths: re.Pattern[str] = UPLOAD_PATHS,
    ) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.upload_paths = upload_paths

    def limit_of(self, path: str) -> int:
        """Return the largest body accepted on a path.

        Parameters
        ----------
        path : str
            The request's path.

        Returns
        -------
        int
            Bytes.
        """
        return self.upload_limit if self.upload_paths.fullmatch(path) else self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope["path"])
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not re.fullmatch(r"[0-9]{1,19}", declared.strip()):
                await _refuse(scope, receive, send, 400, "Tamanho do envio inválido.")
                return
            if int(declared) > limit:
                await _refuse(scope, receive, send, 413, _body_limit_message(limit))
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLargeError:
            if started:
                raise
            await _refuse(scope, receive, send, 413, _body_limit_message(limit))


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
    if not expected:  # no session: refused before the body is read
        raise HTTPException(status_code=403, detail=CSRF_MESSAGE)
    given: Any = request.headers.get(CSRF_HEADER)
    if not given and request.headers.get("content-type", "").startswith(_FORM_TYPES):
        try:
            form = await request.form()
        except StarletteHTTPException:  # 413 (body too large), 400 from the parser
            raise
        except Exception as exc:
            raise HTTPException(status_code=400, detail="Formulário ilegível.") from exc
        given = form.get(CSRF_FIELD)
    if not isinstance(given, str) or not hmac.compare_digest(
        given.encode("utf-8"), expected.encode("utf-8")
    ):
        raise HTTPException(status_code=403, detail=CSRF_MESSAGE)


# --- hostile form values ----------------------------------------------------------------------

_WHOLE = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,15}(?:[.,][0-9]{0,15})?|[.,][0-9]{1,15})")


def parse_whole(text: str, *, digits: int = 12) -> int | None:
    """Read a whole number typed in a form: ASCII digits only, at most ``digits`` of them.

    ``str.isdigit`` and ``int`` accept ``²``, ``٣`` or ``１０``, and an unbounded number
    overflows the database's 64-bit integers: both are refused here.

    Parameters
    ----------
    text : str
        The value typed (spaces around it are ignored).
    digits : int, default 12
        Most digits accepted.

    Returns
    -------
    int or None
        The number; None when the field is blank.

    Raises
    ------
    ValueError
        When the value is not 1 to ``digits`` ASCII digits (a sign, a decimal point,
        an exponent or ``_`` included).
    """
    value = text.strip()
    if not value:
        return None
    if len(value) > digits or not _WHOLE.fullmatch(value):
        raise ValueError("not a whole number of ASCII digits")
    return int(value)


def parse_decimal(text: str) -> float | None:
    """Read a decimal number typed in a form: ``-22,8531``, ``15``, ``7.5``.

    ASCII digits only, an optional sign and one decimal comma or point, at most 15
    digits on each side: no exponent, ``_``, hexadecimal, NaN or infinity, hence always
    a finite number; ``-0`` is read as 0.

    Parameters
    ----------
    text : str
        The value typed (spaces around it are ignored).

    Returns
    -------
    float or None
        The number; None when the field is blank.

    Raises
    ------
    ValueError
        When the value is not such a number.
    """
    value = text.strip()
    if not value:
        return None
    if len(value) > 40 or not _DECIMAL.fullmatch(value):
        raise ValueError("not a decimal number")
    return float(value.replace(",", ".")) + 0.0


def visible_text(text: str) -> str:
    """Return a form's text without invisible characters, stripped.

    Format characters (Unicode category Cf: zero-width space, joiners, bidirectional
    controls, BOM...) and control characters other than tab and line breaks are
    dropped; Unicode spaces become plain spaces and line or paragraph separators line
    breaks. A field holding only such characters is thus empty.

    Parameters
    ----------
    text : str
        The text typed.

    Returns
    -------
    str
        The visible text, without spaces around it.
    """
    return visible(text)
