"""Logging in and out: ``/entrar``, ``/sair``; ``/`` sends to the queue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from geo_ip.registry.db import Registry
from geo_ip.webapp.security import client_address, registry_of, session_of
from geo_ip.webapp.templating import render
from geo_ip.webapp.users import (
    WINDOW,
    LoginRefusedError,
    LoginThrottledError,
    authenticate,
)

__all__ = ["router", "safe_next"]

router = APIRouter()

HOME = "/fila"
"""Where a user lands after logging in, unless sent elsewhere."""


def safe_next(target: str | None) -> str:
    """Return ``target`` when it is a path of this site, else :data:`HOME`.

    Parameters
    ----------
    target : str or None
        The ``proximo`` parameter (where to go after logging in).

    Returns
    -------
    str
        A local path (never another site: no open redirect).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return HOME
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith(("/entrar", "/sair")):
        return HOME
    return target


@router.get("/")
def home() -> RedirectResponse:
    """Send to the queue."""
    return RedirectResponse(HOME, status_code=303)


@router.get("/entrar")
def login_page(request: Request, proximo: str = "") -> Response:
    """Show the login form (a user already logged in goes on)."""
    state = session_of(request)
    if state is not None and state.user is not None:
        return RedirectResponse(safe_next(proximo), status_code=303)
    return render(request, "entrar.html", {"proximo": safe_next(proximo), "login": ""})


@router.post("/entrar")
def login(
    request: Request,
    registry: Annotated[Registry, Depends(registry_of)],
    login: Annotated[str, Form(max_length=200)] = "",
    senha: Annotated[str, Form(max_length=2000)] = "",
    proximo: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Check the login and password; on success, a new session (the old one is deleted)."""
    target = safe_next(proximo)
    form = {"proximo": target, "login": login.strip()[:100]}
    try:
        user = authenticate(registry, login, senha, address=client_address(request))
    except LoginThrottledError as exc:
        wait = max(1, int((exc.until - datetime.now(UTC)).total_seconds()) + 1)
        headers = {"Retry-After": str(min(wait, int(WINDOW.total_seconds())))}
        return render(request, "entrar.html", form | {"erro": str(exc)}, 429, headers)
    except LoginRefusedError as exc:
        return render(request, "entrar.html", form | {"erro": str(exc)}, 401)
    state = session_of(request)
    assert state is not None, "SessionMiddleware is not installed"
    state.begin(user)
    return RedirectResponse(target, status_code=303)


@router.post("/sair")
def logout(request: Request) -> RedirectResponse:
    """End the session and go back to the login page."""
    state = session_of(request)
    if state is not None:
        state.end()
    return RedirectResponse("/entrar", status_code=303)
