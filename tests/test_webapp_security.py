"""Security core of the web app: login, sessions, CSRF, throttling, roles, headers, CLI.

Every test runs the real app (FastAPI TestClient) on a real registry: a SQLite file and,
when a server can start, PostgreSQL/PostGIS (the ``registry_url`` fixture).
"""

import hashlib
import json
import os
import re
import stat
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Form
from itsdangerous import Signer
from sqlalchemy import select, update
from typer.testing import CliRunner

from geo_ip.cli.app import app as cli_app
from geo_ip.cli.serve import SECRET_NAME, default_secret_path, read_secret
from geo_ip.registry import audit
from geo_ip.registry.db import Registry, open_registry, sqlite_url
from geo_ip.registry.models import Event, LoginAttempt, User
from geo_ip.registry.models import Session as SessionRow
from geo_ip.webapp.app import create_app, route_modules
from geo_ip.webapp.routes.auth import safe_next
from geo_ip.webapp.security import (
    CSP,
    PERMISSIONS,
    current_user,
    make_signer,
    require,
)
from geo_ip.webapp.templating import fmt_brl, fmt_date, fmt_datetime, fmt_points
from geo_ip.webapp.users import (
    BRASILIA,
    MAX_ADDRESS_FAILURES,
    LoginRefusedError,
    LoginThrottledError,
    UserError,
    add_user,
    authenticate,
    throttled_until,
)

with warnings.catch_warnings():
    # starlette asks for httpx2; the httpx installed works the same for the test client
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

SECRET = b"segredo-de-teste-do-geo-ip-0123456789abcdef"
MARIA_PW = "maria-senha-forte-1"
CARLOS_PW = "carlos-senha-forte-2"
PRESIDENTE_PW = "presidente-senha-3"


def _test_router() -> APIRouter:
    """A few routes standing for the pages other modules add."""
    router = APIRouter()

    @router.get("/teste/quem")
    def who(user: Annotated[User, Depends(current_user)]) -> dict[str, str]:
        return {"login": user.login, "papel": user.papel}

    @router.get("/teste/decidir")
    def decide_page(user: Annotated[User, Depends(require("decidir"))]) -> dict[str, str]:
        return {"login": user.login}

    @router.post("/teste/acao")
    def action(
        user: Annotated[User, Depends(require("decidir"))],
        texto: Annotated[str, Form()] = "",
    ) -> dict[str, str]:
        return {"login": user.login, "texto": texto}

    @router.api_route("/teste/recurso", methods=["PUT", "PATCH", "DELETE"])
    def resource(user: Annotated[User, Depends(current_user)]) -> dict[str, str]:
        return {"login": user.login}

    @router.get("/teste/erro")
    def broken() -> dict[str, str]:
        raise RuntimeError("CPF 123.456.789-09 de Fulana de Tal")

    return router


def _with_users(url: str) -> Registry:
    reg = open_registry(url)
    add_user(reg, "maria", "Maria Souza", "membro", MARIA_PW)
    add_user(reg, "carlos", "Carlos Lima", "consulta", CARLOS_PW)
    return reg


@pytest.fixture
def registry(registry_url: str) -> Registry:
    """Maria (membro) and Carlos (consulta), on SQLite and on PostgreSQL/PostGIS."""
    return _with_users(registry_url)


@pytest.fixture
def bare_registry(registry_url: str) -> Registry:
    """An empty registry, on SQLite and on PostgreSQL/PostGIS."""
    return open_registry(registry_url)


@pytest.fixture
def sqlite_registry(tmp_path: Path) -> Iterator[Registry]:
    """The same on SQLite only, for what does not depend on the database."""
    reg = _with_users(sqlite_url(tmp_path / "registro.sqlite"))
    yield reg
    reg.dispose()


def _app(registry: Registry, *, secure: bool = False) -> FastAPI:
    app = create_app(registry, secret=SECRET, secure_cookies=secure)
    app.include_router(_test_router())
    return app


@pytest.fixture
def app(registry: Registry) -> FastAPI:
    return _app(registry)


@pytest.fixture
def sqlite_app(sqlite_registry: Registry) -> FastAPI:
    return _app(sqlite_registry)


def _csrf(html: str) -> str:
    match = re.search(r'<input type="hidden" name="csrf" value="([^"]+)">', html)
    assert match, "no CSRF field in the page"
    return match[1]


def _login(client: TestClient, login: str, password: str, proximo: str = "") -> Any:
    page = client.get("/entrar")
    assert page.status_code == 200
    return client.post(
        "/entrar",
        data={"login": login, "senha": password, "csrf": _csrf(page.text), "proximo": proximo},
        follow_redirects=False,
    )


def _events(registry: Registry, action: str) -> list[Event]:
    with registry.session() as db:
        return list(db.scalars(select(Event).where(Event.acao == action).order_by(Event.seq)))


# ---------------------------------------------------------------------------------------
# login and logout
# ---------------------------------------------------------------------------------------


def test_login_ok_opens_the_session_and_is_audited(app: FastAPI, registry: Registry) -> None:
    client = TestClient(app)
    response = _login(client, "  Maria ", MARIA_PW, proximo="/teste/quem?x=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/teste/quem?x=1"
    assert client.get("/teste/quem").json() == {"login": "maria", "papel": "membro"}
    home = client.get("/", follow_redirects=False)
    assert (home.status_code, home.headers["location"]) == (303, "/fila")
    # the logged-in page shows the person and the navigation
    page = client.get("/nada-aqui")
    assert page.status_code == 404
    assert "Maria Souza" in page.text and "Membro da Comissão" in page.text
    for label in ("Fila", "Classificação", "Reuniões", "Sair"):
        assert f">{label}<" in page.text
    events = _events(registry, "login")
    assert [(e.usuario, e.entidade, e.entidade_id) for e in events] == [
        ("maria", "usuario", "maria")
    ]
    assert events[0].depois == {"endereco": "testclient"}
    with registry.session() as db:
        assert audit.verify(db).ok


def test_login_fails_with_wrong_password_or_unknown_login(app: FastAPI, registry: Registry) -> None:
    client = TestClient(app)
    response = _login(client, "maria", "senha-errada-123")
    assert response.status_code == 401
    assert "Usuário ou senha incorretos." in response.text
    assert 'value="maria"' in response.text  # the login typed stays in the form
    anonymous = client.get("/teste/quem", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/entrar?proximo=/teste/quem"

    typo = "carlos-senha-forte-2"  # a password typed in the login field
    assert _login(client, typo, "x").status_code == 401
    failed = _events(registry, "login_falhou")
    assert [(e.usuario, e.entidade_id) for e in failed] == [("anonimo", "maria"), ("anonimo", "")]
    assert [e.depois["usuario_existe"] for e in failed] == [True, False]
    with registry.session() as db:
        logins = list(db.scalars(select(LoginAttempt.login).order_by(LoginAttempt.id)))
        dumped = json.dumps([(e.antes, e.depois, e.entidade_id) for e in db.scalars(select(Event))])
    expected = "?" + hashlib.sha256(typo.encode()).hexdigest()
    assert logins == ["maria", expected]
    assert typo not in dumped


def test_inactive_user_cannot_log_in(sqlite_app: FastAPI, sqlite_registry: Registry) -> None:
    with sqlite_registry.session() as db:
        db.execute(update(User).where(User.login == "maria").values(ativo=False))
    assert _login(TestClient(sqlite_app), "maria", MARIA_PW).status_code == 401


def test_logout_deletes_the_session(sqlite_app: FastAPI, sqlite_registry: Registry) -> None:
    client = TestClient(sqlite_app)
    _login(client, "maria", MARIA_PW)
    cookie = client.cookies["geoip_sessao"]
    page = client.get("/nada-aqui")
    response = client.post("/sair", data={"csrf": _csrf(page.text)}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/entrar")
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert [e.usuario for e in _events(sqlite_registry, "logout")] == ["maria"]
    replay = TestClient(sqlite_app, cookies={"geoip_sessao": cookie})
    assert replay.get("/teste/quem", follow_redirects=False).status_code == 303


def test_open_redirect_refused() -> None:
    assert safe_next("/pedido/7?aba=mapa") == "/pedido/7?aba=mapa"
    for hostile in (
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "",
        "/entrar",
        "/x\r\nSet-Cookie: a=b",
    ):
        assert safe_next(hostile) == "/fila", hostile


# ---------------------------------------------------------------------------------------
# CSRF and session fixation
# ---------------------------------------------------------------------------------------


def test_post_without_csrf_token_refused(sqlite_app: FastAPI) -> None:
    client = TestClient(sqlite_app)
    # the login form itself needs the token of the visitor's (anonymous) session
    client.get("/entrar")
    refused = client.post("/entrar", data={"login": "maria", "senha": MARIA_PW})
    assert refused.status_code == 403
    assert "Formulário expirado ou inválido" in refused.text
    assert client.get("/teste/quem", follow_redirects=False).status_code == 303

    _login(client, "maria", MARIA_PW)
    token = _csrf(client.get("/nada-aqui").text)
    no_token = client.post("/teste/acao", data={"texto": "oi"})
    assert no_token.status_code == 403
    assert "Formulário expirado ou inválido" in no_token.text
    assert client.post("/teste/acao", data={"texto": "oi", "csrf": "x" * 43}).status_code == 403
    ok = client.post("/teste/acao", data={"texto": "oi", "csrf": token})
    assert ok.json() == {"login": "maria", "texto": "oi"}
    by_header = client.post("/teste/acao", data={"texto": "js"}, headers={"X-CSRF-Token": token})
    assert by_header.json() == {"login": "maria", "texto": "js"}
    multipart = client.post(
        "/teste/acao", data={"texto": "foto", "csrf": token}, files={"f": ("a.txt", b"abc")}
    )
    assert multipart.json() == {"login": "maria", "texto": "foto"}
    for method in ("PUT", "PATCH", "DELETE"):
        assert client.request(method, "/teste/recurso").status_code == 403
        with_token = client.request(method, "/teste/recurso", headers={"X-CSRF-Token": token})
        assert with_token.json() == {"login": "maria"}


def test_csrf_token_of_another_session_refused(
    sqlite_app: FastAPI, sqlite_registry: Registry
) -> None:
    add_user(sqlite_registry, "pres", "Paula Presidente", "presidente", PRESIDENTE_PW)
    maria, paula = TestClient(sqlite_app), TestClient(sqlite_app)
    _login(maria, "maria", MARIA_PW)
    _login(paula, "pres", PRESIDENTE_PW)
    paula_token = _csrf(paula.get("/nada-aqui").text)
    maria_token = _csrf(maria.get("/nada-aqui").text)
    assert paula_token != maria_token
    stolen = maria.post("/teste/acao", data={"texto": "x", "csrf": paula_token})
    assert stolen.status_code == 403
    assert maria.post("/teste/acao", data={"csrf": maria_token}).status_code == 200


def test_session_fixation_login_rotates_the_session(app: FastAPI, registry: Registry) -> None:
    client = TestClient(app)
    page = client.get("/entrar")
    before = client.cookies["geoip_sessao"]
    token_before = _csrf(page.text)
    response = client.post(
        "/entrar",
        data={"login": "maria", "senha": MARIA_PW, "csrf": token_before},
        follow_redirects=False,
    )
    assert response.status_code == 303
    after = client.cookies["geoip_sessao"]
    assert after != before
    # the cookie an attacker planted before the login opens nothing after it
    planted = TestClient(app, cookies={"geoip_sessao": before})
    assert planted.get("/teste/quem", follow_redirects=False).status_code == 303
    # and the pre-login CSRF token is dead too
    client_token = _csrf(client.get("/nada-aqui").text)
    assert client_token != token_before
    assert client.post("/teste/acao", data={"csrf": token_before}).status_code == 403
    # only the SHA-256 of the token is stored, never the token
    token = make_signer(SECRET).unsign(after).decode()
    with registry.session() as db:
        ids = set(db.scalars(select(SessionRow.id)))
    assert hashlib.sha256(token.encode()).hexdigest() in ids
    assert token not in ids


def test_forged_cookie_ignored(sqlite_app: FastAPI) -> None:
    client = TestClient(sqlite_app)
    _login(client, "maria", MARIA_PW)
    token = make_signer(SECRET).unsign(client.cookies["geoip_sessao"]).decode()
    other = Signer(b"outro-segredo-qualquer-0123456789abcdef").sign(token).decode()
    forged = TestClient(sqlite_app, cookies={"geoip_sessao": other})
    assert forged.get("/teste/quem", follow_redirects=False).status_code == 303
    raw = TestClient(sqlite_app, cookies={"geoip_sessao": token})
    assert raw.get("/teste/quem", follow_redirects=False).status_code == 303


def test_idle_session_expires(app: FastAPI, registry: Registry) -> None:
    client = TestClient(app)
    _login(client, "maria", MARIA_PW)
    assert client.get("/teste/quem").status_code == 200
    with registry.session() as db:
        db.execute(
            update(SessionRow)
            .where(SessionRow.usuario_id.is_not(None))
            .values(vista_em=datetime.now(UTC) - timedelta(hours=9))
        )
    assert client.get("/teste/quem", follow_redirects=False).status_code == 303
    with registry.session() as db:
        assert db.scalars(select(SessionRow).where(SessionRow.usuario_id.is_not(None))).all() == []


# ---------------------------------------------------------------------------------------
# throttling
# ---------------------------------------------------------------------------------------


def test_throttling_after_five_failures(app: FastAPI, registry: Registry) -> None:
    client = TestClient(app)
    for _ in range(5):
        assert _login(client, "maria", "senha-errada-123").status_code == 401
    blocked = _login(client, "maria", MARIA_PW)  # the right password, refused all the same
    assert blocked.status_code == 429
    with registry.session() as db:
        first = db.scalars(select(LoginAttempt.em).order_by(LoginAttempt.em)).first()
        attempts = db.scalars(select(LoginAttempt)).all()
    assert first is not None
    until = (first.replace(tzinfo=first.tzinfo or UTC) + timedelta(minutes=15)).astimezone(BRASILIA)
    assert (
        f"Muitas tentativas de entrada sem sucesso. Por segurança, tente novamente a partir "
        f"das {until:%H:%M} (horário de Brasília)." in blocked.text
    )
    assert 840 <= int(blocked.headers["retry-after"]) <= 900
    assert len(attempts) == 5  # the refused attempt is not even checked nor counted
    assert not any(a.sucesso for a in attempts)
    with pytest.raises(LoginThrottledError):
        authenticate(registry, "maria", MARIA_PW, address="10.0.0.9")  # same login elsewhere
    # another user from another address is not affected
    assert authenticate(registry, "carlos", CARLOS_PW, address="10.0.0.9").login == "carlos"


def test_throttling_by_address(sqlite_registry: Registry) -> None:
    # MAX_ADDRESS_FAILURES (20) failures from one address, whatever the logins, block it
    for i in range(MAX_ADDRESS_FAILURES):
        with pytest.raises(LoginRefusedError):
            authenticate(sqlite_registry, f"ninguem{i}", "qualquer-coisa", address="10.1.1.1")
    with pytest.raises(LoginThrottledError):
        authenticate(sqlite_registry, "maria", MARIA_PW, address="10.1.1.1")
    assert authenticate(sqlite_registry, "maria", MARIA_PW, address="10.2.2.2").login == "maria"


def _attempt(registry: Registry, address: str, minutes_ago: float, ok: bool) -> None:
    when = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    with registry.session() as db:
        db.add(LoginAttempt(login="maria", endereco=address, em=when, sucesso=ok))


def test_success_clears_only_the_failures_of_its_own_address(bare_registry: Registry) -> None:
    now = datetime.now(UTC)
    for minutes in (10, 9, 8, 7):
        _attempt(bare_registry, "10.0.0.2", minutes, False)
    _attempt(bare_registry, "10.0.0.1", 6, True)  # the owner logs in from her office
    _attempt(bare_registry, "10.0.0.2", 5, False)  # the fifth failure from elsewhere
    with bare_registry.session() as db:
        until = throttled_until(db, "maria", "10.0.0.1", now)
    assert until is not None
    assert abs((until - (now - timedelta(minutes=10) + timedelta(minutes=15))).total_seconds()) < 1


def test_success_clears_earlier_failures_of_the_same_address(bare_registry: Registry) -> None:
    now = datetime.now(UTC)
    for minutes in (10, 9, 8, 7):
        _attempt(bare_registry, "10.0.0.1", minutes, False)
    _attempt(bare_registry, "10.0.0.1", 6, True)
    _attempt(bare_registry, "10.0.0.1", 5, False)
    _attempt(bare_registry, "10.0.0.1", 20, False)  # outside the window
    with bare_registry.session() as db:
        assert throttled_until(db, "maria", "10.0.0.1", now) is None


# ---------------------------------------------------------------------------------------
# roles
# ---------------------------------------------------------------------------------------


def test_consulta_cannot_decide(sqlite_app: FastAPI) -> None:
    consulta = TestClient(sqlite_app)
    _login(consulta, "carlos", CARLOS_PW)
    refused = consulta.get("/teste/decidir")
    assert refused.status_code == 403
    assert "Você não tem permissão para esta ação." in refused.text
    token = _csrf(consulta.get("/nada-aqui").text)
    assert consulta.post("/teste/acao", data={"csrf": token}).status_code == 403
    member = TestClient(sqlite_app)
    _login(member, "maria", MARIA_PW)
    assert member.get("/teste/decidir").json() == {"login": "maria"}
    anonymous = TestClient(sqlite_app).get("/teste/decidir", follow_redirects=False)
    assert anonymous.headers["location"] == "/entrar?proximo=/teste/decidir"


def test_permissions_of_each_role() -> None:
    every = {"ver", "decidir", "vistoriar", "presidir", "dados_pessoais", "administrar"}
    assert set(PERMISSIONS["administrador"]) == every
    assert set(PERMISSIONS["presidente"]) == every - {"administrar"}
    assert set(PERMISSIONS["membro"]) == {"ver", "decidir", "vistoriar"}
    assert set(PERMISSIONS["consulta"]) == {"ver"}
    with pytest.raises(ValueError, match="unknown permission"):
        require("tudo")


# ---------------------------------------------------------------------------------------
# passwords and users
# ---------------------------------------------------------------------------------------


def test_argon2_hash_stored_never_the_password(registry: Registry) -> None:
    with registry.session() as db:
        user = db.scalars(select(User).where(User.login == "maria")).one()
        events = db.scalars(select(Event)).all()
    assert user.senha_hash.startswith("$argon2id$")
    assert MARIA_PW not in user.senha_hash
    created = [e for e in events if e.acao == "usuario_criado"]
    assert [(e.usuario, e.entidade_id) for e in created] == [
        ("sistema:users", "maria"),
        ("sistema:users", "carlos"),
    ]
    assert created[0].depois == {
        "login": "maria",
        "nome": "Maria Souza",
        "papel": "membro",
        "ativo": True,
    }
    dumped = json.dumps([(e.antes, e.depois) for e in events])
    assert MARIA_PW not in dumped and user.senha_hash not in dumped and "argon2" not in dumped


def test_add_user_validates(sqlite_registry: Registry) -> None:
    cases = [
        (("ana", "Ana", "membro", "curta"), "senha curta demais: use pelo menos 10 caracteres"),
        (("ana", "Ana", "chefe", "senha-boa-123"), "papel desconhecido"),
        (("a b", "Ana", "membro", "senha-boa-123"), "login inválido"),
        (("ana", "  ", "membro", "senha-boa-123"), "informe o nome"),
        (("MARIA", "Outra", "membro", "senha-boa-123"), "já existe um usuário com o login 'maria'"),
        (("anabela", "Ana", "membro", "ANABELA"), "senha curta demais"),
        (("anabela.s", "Ana", "membro", "anabela.s "), "a senha não pode ser igual ao login"),
    ]
    for args, message in cases:
        with pytest.raises(UserError, match=re.escape(message)):
            add_user(sqlite_registry, *args)
    with sqlite_registry.session() as db:
        assert sorted(db.scalars(select(User.login))) == ["carlos", "maria"]


# ---------------------------------------------------------------------------------------
# headers, static files, error pages
# ---------------------------------------------------------------------------------------


def test_security_headers_on_every_response(sqlite_app: FastAPI) -> None:
    client = TestClient(sqlite_app)
    expected = {
        "content-security-policy": (
            "default-src 'self'; img-src 'self' data: blob: https://tile.openstreetmap.org; "
            "script-src 'self'; style-src 'self'; object-src 'none'; frame-ancestors 'none'; "
            "base-uri 'self'; form-action 'self'"
        ),
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "same-origin",
        "permissions-policy": "geolocation=(self), camera=(self)",
    }
    assert expected["content-security-policy"] == CSP
    page = client.get("/entrar")
    css = client.get("/static/app.css")
    leaflet = client.get("/static/vendor/leaflet/leaflet.js")
    missing = client.get("/nao-existe")
    for response in (page, css, leaflet, missing):
        for name, value in expected.items():
            assert response.headers[name] == value, (response.url, name)
        assert "strict-transport-security" not in response.headers
    assert (css.status_code, leaflet.status_code, missing.status_code) == (200, 200, 404)
    assert page.headers["cache-control"] == "no-store"
    assert missing.headers["cache-control"] == "no-store"
    assert "no-store" not in css.headers.get("cache-control", "")
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    # no inline script or style anywhere (CSP script-src/style-src 'self')
    assert "<script>" not in page.text and "style=" not in page.text and "<style" not in page.text


def test_https_mode_sets_hsts_and_secure_cookie(sqlite_registry: Registry) -> None:
    client = TestClient(_app(sqlite_registry, secure=True), base_url="https://testserver")
    page = client.get("/entrar")
    assert page.headers["strict-transport-security"] == "max-age=31536000"
    assert "; Secure" in page.headers["set-cookie"]
    response = _login(client, "maria", MARIA_PW)
    assert response.status_code == 303
    assert client.get("/teste/quem").json()["login"] == "maria"


def test_error_pages_in_portuguese_without_details(sqlite_app: FastAPI) -> None:
    client = TestClient(sqlite_app, raise_server_exceptions=False)
    missing = client.get("/pagina-que-nao-existe")
    assert missing.status_code == 404
    assert '<html lang="pt-BR">' in missing.text
    assert "Página não encontrada" in missing.text
    _login(client, "maria", MARIA_PW)
    broken = client.get("/teste/erro")
    assert broken.status_code == 500
    assert "Erro interno" in broken.text
    for leak in ("Traceback", "RuntimeError", "123.456.789-09", "Fulana"):
        assert leak not in broken.text
    assert broken.headers["content-security-policy"] == CSP
    assert broken.headers["cache-control"] == "no-store"
    wrong_method = client.put("/entrar", headers={"X-CSRF-Token": "x"})
    assert wrong_method.status_code in (403, 405)


def test_short_secret_refused(sqlite_registry: Registry) -> None:
    with pytest.raises(Exception, match="segredo das sessões curto demais"):
        create_app(sqlite_registry, secret=b"curto")


def test_route_modules_are_found() -> None:
    assert "geo_ip.webapp.routes.auth" in route_modules()


def test_template_helpers() -> None:
    assert fmt_date(date(2026, 3, 7)) == "07/03/2026"
    assert fmt_date("2026-03-07") == "07/03/2026"
    assert fmt_date(None) == "—"
    # stored times are UTC: 01:30 UTC on the 8th is 22:30 on the 7th in Brasília
    assert fmt_date(datetime(2026, 3, 8, 1, 30)) == "07/03/2026"
    assert fmt_datetime(datetime(2026, 3, 8, 1, 30, tzinfo=UTC)) == "07/03/2026 22:30"
    assert fmt_brl(1234567.891) == "R$ 1.234.567,89"
    assert fmt_brl(-10) == "-R$ 10,00"
    assert fmt_brl(None) == "—"
    assert fmt_points(12.5) == "12,5"
    assert fmt_points(10.0) == "10"
    assert fmt_points(float("nan")) == "—"


# ---------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------


def test_cli_users_add(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = f"sqlite:///{tmp_path / 'programa.sqlite'}"
    password = tmp_path / "senha.txt"
    password.write_text("senha-da-ana-123\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(
        cli_app,
        [
            "usuarios", "adicionar", "--db", db, "--login", "ana", "--nome", "Ana Presidente",
            "--papel", "presidente", "--senha-arquivo", str(password),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Usuário ana (Presidente da Comissão) cadastrado no registro" in result.output
    registry = open_registry(db)
    assert authenticate(registry, "ana", "senha-da-ana-123").papel == "presidente"

    monkeypatch.setenv("GEO_IP_SENHA", "senha-do-bruno-1")
    args = ["usuarios", "adicionar", "--db", db, "--login", "bruno", "--nome", "Bruno", "--papel"]
    assert runner.invoke(cli_app, [*args, "membro"]).exit_code == 0
    assert authenticate(registry, "bruno", "senha-do-bruno-1").papel == "membro"

    monkeypatch.delenv("GEO_IP_SENHA")
    cris = [*args[:5], "cris", "--nome", "Cris", "--papel", "consulta"]
    typed = runner.invoke(cli_app, cris, input="senha-da-cris-1\nsenha-da-cris-1\n")
    assert typed.exit_code == 0, typed.output
    assert "senha-da-cris-1" not in typed.output
    assert authenticate(registry, "cris", "senha-da-cris-1").papel == "consulta"

    short = runner.invoke(cli_app, [*args[:5], "davi", *args[6:], "membro"], input="curta\ncurta\n")
    assert short.exit_code == 2
    assert "senha curta demais" in short.output
    registry.dispose()


def test_serve_secret_file(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'dados' / 'programa.sqlite'}"
    path = default_secret_path(db)
    assert path == (tmp_path / "dados" / SECRET_NAME).resolve()
    secret = read_secret(path)
    assert len(secret) == 64
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_secret(path) == secret  # the same secret next time: sessions survive
    (tmp_path / "curto").write_text("abc", encoding="utf-8")
    with pytest.raises(Exception, match="segredo das sessões curto demais"):
        read_secret(tmp_path / "curto")
