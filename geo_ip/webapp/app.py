"""The Commission's web app (``geo-ip servir``): :func:`create_app`.

The app serves one registry. Its pages come from the modules of
:mod:`geo_ip.webapp.routes`: every module there that defines ``router`` (a FastAPI
``APIRouter``) is included, in the order of the module names, so a new page is added
by adding a module. Static files: ``/static`` (``geo_ip/webapp/static``) and
``/static/vendor`` (Leaflet, Font Awesome... vendored in ``geo_ip/_assets/web``: the app
works with no internet).

Security (see :mod:`geo_ip.webapp.security`): server-side sessions, a CSRF check on
every unsafe request (a dependency of the whole app; a request without a session is
refused before its body is read), a limit on the size of request bodies, security
headers on every response, and error pages in Portuguese that never show a stack trace.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRouter
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from geo_ip.errors import GeoIPError
from geo_ip.registry.db import Registry
from geo_ip.requests.cpf import load_key
from geo_ip.rules.config import Rules
from geo_ip.webapp import (
    redact,  # noqa: F401 (registers the template filter)
    routes,
)
from geo_ip.webapp.security import (
    BodyLimitMiddleware,
    LoginRequiredError,
    SecurityHeadersMiddleware,
    SessionMiddleware,
    check_csrf,
    security_headers,
)
from geo_ip.webapp.templating import render_error

__all__ = ["ERRORS", "MIN_SECRET", "STATIC", "VENDOR", "create_app"]

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
"""The app's own CSS and JavaScript."""
VENDOR = Path(__file__).resolve().parents[1] / "_assets" / "web"
"""Vendored web libraries (Leaflet, Font Awesome...), served at ``/static/vendor``."""
MIN_SECRET = 32
"""Shortest secret accepted for signing session cookies (bytes)."""

ERRORS: dict[int, tuple[str, str]] = {
    400: ("Pedido inválido", "Os dados enviados não puderam ser lidos."),
    403: ("Acesso negado", "Você não tem permissão para acessar esta página."),
    404: ("Página não encontrada", "O endereço pedido não existe ou foi removido."),
    405: ("Operação não permitida", "Esta página não aceita esta operação."),
    409: (
        "Registro alterado por outra pessoa",
        "Outra pessoa alterou este registro enquanto você o editava. Recarregue a página "
        "para ver a versão atual antes de salvar de novo.",
    ),
    413: ("Envio grande demais", "O arquivo ou formulário enviado é grande demais."),
    422: ("Dados inválidos", "Há campos do formulário ausentes ou inválidos."),
    429: (
        "Muitas tentativas",
        "Muitas tentativas em pouco tempo. Aguarde alguns minutos e tente de novo.",
    ),
    500: (
        "Erro interno",
        "Ocorreu um erro inesperado e nada foi alterado por esta operação. Tente de novo; "
        "se o erro persistir, avise a equipe de TI (o registro do servidor tem os detalhes).",
    ),
}
"""Title and default message of each error page."""

# English texts of Starlette/FastAPI errors: never shown, the Portuguese default instead
_ENGLISH = {"There was an error parsing the body"}


def _error_text(status: int, detail: object) -> tuple[str, str]:
    title, default = ERRORS.get(status, (f"Erro {status}", "Não foi possível atender o pedido."))
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    if isinstance(detail, str) and detail and detail != phrase and detail not in _ENGLISH:
        return title, detail
    return title, default


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    title, message = _error_text(exc.status_code, exc.detail)
    return render_error(request, exc.status_code, title, message, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # the field names only: the values typed may hold personal data
    fields = sorted({str(e["loc"][-1]) for e in exc.errors() if len(e.get("loc", ())) > 1})
    title, message = ERRORS[422]
    if fields:
        message = f"{message} Confira: {', '.join(fields)}."
    return render_error(request, 422, title, message)


async def _login_required(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequiredError)
    return RedirectResponse(exc.location, status_code=303)


async def _stale(request: Request, _exc: Exception) -> Response:
    title, message = ERRORS[409]
    return render_error(request, 409, title, message)


async def _geoip_error(request: Request, exc: Exception) -> Response:
    # geo_ip's own errors are written for the user, in Portuguese
    return render_error(request, 400, "Não foi possível concluir", str(exc))


def _server_error(secure: bool) -> Callable[[Request, Exception], Awaitable[Response]]:
    headers = security_headers(secure) | {"cache-control": "no-store"}

    async def handler(request: Request, _exc: Exception) -> Response:
        # runs outside the middlewares (Starlette's ServerErrorMiddleware): set the
        # security headers here; the traceback goes only to the server's log
        title, message = ERRORS[500]
        try:
            return render_error(request, 500, title, message, headers=headers)
        except Exception:  # the templates themselves failed: a bare page
            log.exception("falha ao mostrar a página de erro")
            return Response(
                f"<!doctype html><html lang='pt-BR'><title>{title}</title><h1>{title}</h1>"
                f"<p>{message}</p></html>",
                status_code=500,
                media_type="text/html",
                headers=headers,
            )

    return handler


def route_modules() -> list[str]:
    """Return the names of the modules of :mod:`geo_ip.webapp.routes`, sorted.

    Returns
    -------
    list of str
        Fully qualified module names.
    """
    found = pkgutil.iter_modules(routes.__path__, prefix=f"{routes.__name__}.")
    return sorted(info.name for info in found)


def create_app(
    registry: Registry,
    *,
    secret: bytes,
    secure_cookies: bool = False,
    rules: Rules | None = None,
    key: bytes | None = None,
) -> FastAPI:
    """Build the web app serving one registry.

    Parameters
    ----------
    registry : Registry
        The registry (kept on ``app.state.registry``).
    secret : bytes
        Key signing the session cookies (at least :data:`MIN_SECRET` bytes; keep it
        secret and stable: changing it logs everybody out).
    secure_cookies : bool, default False
        The app is served over HTTPS (behind a proxy): cookies ``Secure`` and HSTS.
    rules : Rules, optional
        The municipality's rules given with ``--regras`` (when the registry's copy inherits
        from another file); default: the rules recorded with each cycle.
    key : bytes, optional
        The LGPD key of the CPF hashes (:func:`geo_ip.requests.cpf.load_key`); default:
        ``GEO_IP_CHAVE_LGPD`` or a key for this process only.

    Returns
    -------
    fastapi.FastAPI
        The app, for uvicorn or a test client.

    Raises
    ------
    GeoIPError
        When the secret is too short.
    """
    if len(secret) < MIN_SECRET:
        raise GeoIPError(
            f"segredo das sessões curto demais: use pelo menos {MIN_SECRET} bytes aleatórios"
        )
    app = FastAPI(
        title="geo_ip — Comissão",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(check_csrf)],
    )
    app.state.registry = registry
    app.state.secure_cookies = secure_cookies
    app.state.secret = secret
    app.state.render_error = render_error  # the middlewares' error pages
    app.state.rules = rules
    app.state.key = key if key is not None else load_key(None)
    # the more specific mount first: /static would otherwise swallow /static/vendor
    app.mount("/static/vendor", StaticFiles(directory=VENDOR), name="vendor")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for name in route_modules():
        router = getattr(importlib.import_module(name), "router", None)
        if isinstance(router, APIRouter):
            app.include_router(router)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(LoginRequiredError, _login_required)
    app.add_exception_handler(StaleDataError, _stale)
    app.add_exception_handler(GeoIPError, _geoip_error)
    app.add_exception_handler(Exception, _server_error(secure_cookies))
    # the last added runs first: headers on every answer, then the body's size (413 before
    # anything else), then the session (an unsafe request without one refused unread)
    app.add_middleware(SessionMiddleware, registry=registry, secret=secret, secure=secure_cookies)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, secure=secure_cookies)
    return app
