"""The queue (``/fila``) and request (``/pedidos/{id}``) pages on a hand-built registry.

Six requests of cycle ``2026`` (demo rules, budget R$ 10.000,00, every applicant in the
CadÚnico, so each share follows the points: 80 or more → 100 %, 60 → 80 %, below → 50 %),
and sixty plain requests of cycle ``2025`` for the pages of the queue. Hand-checked:

========= ====== ========= ========== =========== =========== ===========================
protocolo total  custo     bairro     posição     municipal   budget (10.000)
========= ====== ========= ========== =========== =========== ===========================
P-05      90     1.000     Centro     1º          1.000       selected, 9.000 left
P-01      80     4.000     Centro     2º          4.000       selected, 5.000 left
P-03      70     5.000     Vila Nova  3º          4.000       selected, 1.000 left
P-02      60     3.000     Centro     4º          2.400       does not fit
P-04      50     2.000     Vila Nova  5º          1.000       selected, 0 left
P-06      —      —         Jardim     —           —           error in the request
========= ====== ========= ========== =========== =========== ===========================

Each criterion's suggestion is the total × weight / 100 (I: 40, II–V: 15). Deciding P-02's
criterion I at 40 points (suggested 24) makes its total 76: P-02 goes from 4th to 3rd and
P-03 to 4th.

Every test runs the real app (FastAPI TestClient) on a real registry: a SQLite file and,
when a server can start, PostgreSQL/PostGIS (the ``registry_url`` fixture).
"""

import functools
import re
import warnings
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from geo_ip.pipeline import decide
from geo_ip.registry import store
from geo_ip.registry.db import Registry, open_registry
from geo_ip.registry.models import Cycle, Decision, Event, Request, User
from geo_ip.rules.config import load_rules
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.schema import DECISION_COLUMNS
from geo_ip.webapp import queries, ranking_cache
from geo_ip.webapp.app import create_app
from geo_ip.webapp.ranking_cache import stale_notice
from geo_ip.webapp.users import add_user

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

SECRET = b"segredo-de-teste-das-paginas-0123456789abcdef"
KEY = b"chave-de-teste-do-geo-ip-0123456789"
RULES = load_rules("demo")
BUDGET = 10_000.0
TODAY = date(2026, 11, 20)
CPF = "529.982.247-25"
CPF_MASKED = "***.982.247-**"
NAME = "Joana Exemplo Teste"
PASSWORDS = {
    "ana": ("Ana Presidente", "presidente", "ana-senha-forte-1"),
    "maria": ("Maria Membro", "membro", "maria-senha-forte-2"),
    "bruno": ("Bruno Membro", "membro", "bruno-senha-forte-3"),
    "carlos": ("Carlos Consulta", "consulta", "carlos-senha-forte-4"),
}
ROWS = [  # protocol, total, cost, district
    ("P-01", 80.0, 4000.0, "Centro"),
    ("P-02", 60.0, 3000.0, "Centro"),
    ("P-03", 70.0, 5000.0, "Vila Nova"),
    ("P-04", 50.0, 2000.0, "Vila Nova"),
    ("P-05", 90.0, 1000.0, "Centro"),
    ("P-06", np.nan, np.nan, "Jardim"),
]
WEIGHTS = {c: float(getattr(RULES.criterios, c).peso.valor) for c in CRITERIA}
MAP = {"type": "FeatureCollection", "features": [], "camadas": ["extensao"]}


def _motivation(criterion: str, protocol: str) -> str:
    return f"Sugestão técnica de {criterion} para {protocol}: nível II pelas evidências."


@functools.cache
def _ranked() -> pd.DataFrame:
    """The six requests after the law (as ``geo-ip avaliar`` records them), CPF unmasked."""
    n = len(ROWS)
    total = np.array([r[1] for r in ROWS])
    cost = np.array([r[2] for r in ROWS])
    error = np.isnan(total)
    table = pd.DataFrame(
        {
            "linha": np.arange(2, n + 2),
            "protocolo": [r[0] for r in ROWS],
            "data_protocolo": [date(2026, 3, 1 + i) for i in range(n)],
            "tipo": "implantacao",
            "pontuacao_total": total,
            "custo_estimado_rs": cost,
            "custo_por_beneficiario_rs": cost / 10,
            "moradores_estimados": 10.0,
            "residencias_consideradas": 4.0,
            "situacao": np.where(error, "erro", "ok"),
            "situacao_pedido": np.where(error, "erro", "ok"),
            "erro": error,
            "problemas": np.where(error, "campo 'residencias': valor negativo (-2)", ""),
            "cadunico": "sim",
            "cpf_solicitante": CPF,
            "nome_solicitante": NAME,
            "renda_familiar": 1000.0,
            "latitude": -22.85,
            "longitude": -46.31,
            "logradouro_via": "Rua das Flores",
            "bairro_encontrado": [r[3] for r in ROWS],
            "confirmar_no_local": "",
            "distancia_rede_m": 120.0,
            "distancia_rede_reta_m": 80.0,
            "metodo_distancia": "via",
            "transformador": False,
            "postes_novos": 4.0,
            "hierarquia_via": "local",
            "geocodificacao": "numero_exato",
            "incerteza_m": 15.0,
            "declividade_max_pct": 8.5,
            "equipamentos_proximos": 2,
            "ocorrencias": 1,
            "pontuacao_sugerida_min": np.nan,
            "pontuacao_sugerida_max": np.nan,
        }
    )
    for c in CRITERIA:
        table[f"sugerido_{c}"] = total * WEIGHTS[c] / 100
        table[f"pont_{c}"] = table[f"sugerido_{c}"]
        table[f"nivel_{c}"] = np.where(error, "", "II")
        table[f"motivacao_{c}"] = [_motivation(c, r[0]) for r in ROWS]
    no_decisions = pd.DataFrame(columns=list(DECISION_COLUMNS))
    ranked = decide(table, no_decisions, RULES, budget=BUDGET, key=KEY, today=TODAY)
    ranked["cpf_solicitante"] = CPF  # the registry keeps what the spreadsheet had
    return ranked


def _table() -> pd.DataFrame:
    return _ranked().copy()


def _plain_table(count: int) -> pd.DataFrame:
    """Requests Q-001... of the older cycle: only what the queue shows."""
    return pd.DataFrame(
        {
            "linha": np.arange(2, count + 2),
            "protocolo": [f"Q-{i:03d}" for i in range(1, count + 1)],
            "tipo": "melhoria",
            "bairro_encontrado": "Centro",
            **{f"pont_{c}": 1.0 for c in CRITERIA},
            **{f"sugerido_{c}": 1.0 for c in CRITERIA},
            "custo_estimado_rs": 100.0,
        }
    )


@pytest.fixture
def registry(registry_url: str) -> Registry:
    reg = open_registry(registry_url)
    with reg.session() as session:
        rules = store.ensure_rules(session, RULES, "sistema:teste")
        older = store.ensure_cycle(session, "2025", "sistema:teste", budget=BUDGET, rules=rules)
        store.record_run(
            session, _plain_table(60), cycle=older, rules=rules, actor="sistema:teste",
            origin="teste", provenance={}, personal=False,
        )  # fmt: skip
    with reg.session() as session:
        rules = store.ensure_rules(session, RULES, "sistema:teste")
        cycle = store.ensure_cycle(session, "2026", "sistema:teste", budget=BUDGET, rules=rules)
        store.record_run(
            session, _table(), cycle=cycle, rules=rules, actor="sistema:teste", origin="teste",
            provenance={"data_referencia": TODAY.isoformat(), "orcamento_rs": BUDGET},
            personal=True, maps=[MAP if r[0] == "P-01" else {} for r in ROWS],
        )  # fmt: skip
    return reg


@pytest.fixture
def app(registry: Registry) -> FastAPI:
    application = create_app(registry, secret=SECRET)
    application.state.rules = RULES
    application.state.key = KEY
    return application


def _csrf(html: str) -> str:
    match = re.search(r'<input type="hidden" name="csrf" value="([^"]+)">', html)
    assert match, "no CSRF field in the page"
    return match[1]


def _client(app: FastAPI, login: str) -> TestClient:
    """Log in as one of :data:`PASSWORDS` (created the first time: argon2 is slow)."""
    registry: Registry = app.state.registry
    with registry.session() as session:
        known = session.scalar(select(User.id).where(User.login == login))
    if known is None:
        name, role, password = PASSWORDS[login]
        add_user(registry, login, name, role, password)
    client = TestClient(app, follow_redirects=False)
    page = client.get("/entrar")
    answer = client.post(
        "/entrar",
        data={"login": login, "senha": PASSWORDS[login][2], "csrf": _csrf(page.text)},
    )
    assert answer.status_code == 303, answer.text
    return client


def _ids(registry: Registry) -> dict[str, int]:
    with registry.session() as session:
        rows = session.execute(
            select(Request.protocolo, Request.id)
            .join(Cycle, Cycle.id == Request.ciclo_id)
            .where(Cycle.nome == "2026")
        ).all()
    return {p: i for p, i in rows}


def _protocols(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/pedidos/\d+">([^<]+)</a></th>', html)


def _decided(html: str) -> dict[str, str]:
    totals = re.findall(r'<td class="numero total-decidido">([^<]+)</td>', html)
    return dict(zip(_protocols(html), totals, strict=True))


def _form(page: str, **fields: Any) -> dict[str, Any]:
    version = re.search(r'<input type="hidden" name="versao" value="(\d+)">', page)
    assert version
    return {"csrf": _csrf(page), "versao": version[1], **fields}


def _decide(client: TestClient, request_id: int, **fields: Any) -> Any:
    page = client.get(f"/pedidos/{request_id}").text
    return client.post(f"/pedidos/{request_id}/decisao", data=_form(page, **fields))


def _text(html: str, element_id: str) -> str:
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, element_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match[2])).strip()


# --------------------------------------------------------------------------- queue


def test_queue_lists_the_cycle_requests_with_their_decided_totals(app: FastAPI) -> None:
    client = _client(app, "carlos")
    page = client.get("/fila")
    assert page.status_code == 200
    assert "ciclo 2026" in page.text
    assert "6 pedidos" in page.text
    assert _decided(page.text) == {
        "P-01": "80", "P-02": "60", "P-03": "70", "P-04": "50", "P-05": "90", "P-06": "—",
    }  # fmt: skip
    assert "Com erro nos dados" in page.text  # P-06's status label
    assert "Implantação de iluminação pública" in page.text
    assert "R$ 4.000,00" in page.text


def test_queue_filters_and_sorts_in_sql(app: FastAPI, registry: Registry) -> None:
    client = _client(app, "carlos")

    def listed(query: str) -> list[str]:
        page = client.get(f"/fila?{query}")
        assert page.status_code == 200, query
        return _protocols(page.text)

    assert listed("bairro=Vila+Nova") == ["P-03", "P-04"]
    assert listed("situacao=erro") == ["P-06"]
    assert listed("pontos_min=60&pontos_max=80") == ["P-01", "P-02", "P-03"]
    assert listed("pontos_min=80&pontos_max=60") == ["P-01", "P-02", "P-03"]  # swapped
    assert listed("pontos_min=75,5") == ["P-01", "P-05"]
    assert listed("ordem=total&sentido=desc") == ["P-05", "P-01", "P-03", "P-02", "P-04", "P-06"]
    assert listed("ordem=custo") == ["P-05", "P-04", "P-02", "P-01", "P-03", "P-06"]
    assert listed("ordem=data&sentido=desc") == ["P-06", "P-05", "P-04", "P-03", "P-02", "P-01"]
    assert listed("bairro=Centro&ordem=total") == ["P-02", "P-01", "P-05"]
    assert listed("criterio=beneficiarios") == []
    with registry.session() as session:
        p02 = session.scalars(select(Request).where(Request.protocolo == "P-02")).one()
        given = store.DecisionInput("beneficiarios", 40.0, "Visita confirmou mais famílias.")
        store.add_decision(session, p02, given, RULES, actor="maria", expected_version=None)
    assert listed("criterio=beneficiarios") == ["P-02"]
    assert listed("criterio=beneficiarios&decidido=sim") == ["P-02"]
    assert listed("criterio=seguranca&decidido=sim") == []
    assert listed("decidido=sim") == ["P-02"]
    assert listed("decidido=nao") == ["P-01", "P-03", "P-04", "P-05", "P-06"]
    assert listed("ordem=total&sentido=desc&pontos_min=70") == ["P-05", "P-01", "P-02", "P-03"]


def test_queue_pages_of_fifty(app: FastAPI) -> None:
    client = _client(app, "carlos")
    first = client.get("/fila?ciclo=2025").text
    assert "60 pedidos; mostrando do 1º ao 50º (página 1 de 2)" in first
    assert _protocols(first) == [f"Q-{i:03d}" for i in range(1, 51)]
    assert 'href="/fila?ciclo=2025&amp;pagina=2"' in first
    second = client.get("/fila?ciclo=2025&pagina=2").text
    assert _protocols(second) == [f"Q-{i:03d}" for i in range(51, 61)]
    assert "mostrando do 51º ao 60º (página 2 de 2)" in second
    beyond = client.get("/fila?ciclo=2025&pagina=99").text  # the last page
    assert _protocols(beyond) == [f"Q-{i:03d}" for i in range(51, 61)]
    backwards = client.get("/fila?ciclo=2025&ordem=protocolo&sentido=desc&pagina=2").text
    assert _protocols(backwards) == [f"Q-{i:03d}" for i in range(10, 0, -1)]


BAD_QUEUE_PARAMETERS = [
    ("pagina=abc", "Página inválida"),
    ("pagina=-3", "Página inválida"),
    ("pagina=99999999999999999999", "Página inválida"),
    ("ordem=senha", "Ordenação desconhecida"),
    ("sentido=lado", "Sentido da ordenação desconhecido"),
    ("situacao=%3Cscript%3E", "Situação desconhecida"),
    ("criterio=x", "Critério desconhecido"),
    ("decidido=talvez", "Filtro de decisão inválido"),
    ("pontos_min=abc", "Pontuação mínima inválida"),
    ("pontos_max=1e999", "Pontuação máxima inválida"),
    ("pontos_min=nan", "Pontuação mínima inválida"),
    ("ciclo=inexistente", "Ciclo não encontrado"),
    ("bairro=" + "x" * 300, "Bairro longo demais"),
]
"""Query strings of the queue and the message each one gets (the rest of the page works)."""


def test_bad_queue_parameters_are_ignored_with_a_message(app: FastAPI) -> None:
    client = _client(app, "carlos")
    for query, message in BAD_QUEUE_PARAMETERS:
        page = client.get(f"/fila?{query}")
        assert page.status_code == 200, query
        assert message in page.text, query
        assert _protocols(page.text) == ["P-01", "P-02", "P-03", "P-04", "P-05", "P-06"], query
        assert "<script>" not in page.text.split("<main", 1)[1]


def test_queue_needs_a_login(app: FastAPI) -> None:
    client = TestClient(app, follow_redirects=False)
    answer = client.get("/fila")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/entrar?proximo=/fila"


def test_queue_links_keep_only_the_filters_that_differ() -> None:
    # the filters' URL keeps only what differs from the defaults
    filters, messages = queries.parse_queue_filters({"bairro": "Centro", "pagina": "3"})
    assert messages == []
    assert filters.query(pagina=1) == {"bairro": "Centro"}
    assert filters.query(pagina=4) == {"bairro": "Centro", "pagina": "4"}


# --------------------------------------------------------------------------- request page


def test_request_page_shows_the_five_suggestions_beside_the_forms(
    app: FastAPI, registry: Registry
) -> None:
    ids = _ids(registry)
    page = _client(app, "maria").get(f"/pedidos/{ids['P-02']}")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Pedido P-02</h1>" in html
    for c in CRITERIA:
        assert _text(html, f"sugestao-{c}") == _motivation(c, "P-02")
        # the form starts with the suggestion's text, to edit
        textarea = re.search(rf'<textarea id="motivacao-{c}"[^>]*>([^<]*)</textarea>', html)
        assert textarea and textarea[1] == _motivation(c, "P-02")
        weight = f"{WEIGHTS[c]:g}"
        assert re.search(
            rf'<input id="pontos-{c}" name="pontos" type="number" min="0" max="{weight}"\s+'
            rf'step="0.5" inputmode="decimal" required value="{60 * WEIGHTS[c] / 100:g}"',
            html,
        ), c
        assert f'<label for="pontos-{c}">' in html and f'<label for="motivacao-{c}">' in html
    assert html.count('name="versao"') >= len(CRITERIA)
    assert _text(html, "posicao") == "4º de 5 classificados — Classificado, aguardando orçamento."
    assert _text(html, "total-decidido") == "60"
    # evidence panel: the catalogue's labels, Brazilian numbers
    assert "<dt>Extensão até a rede</dt><dd>120 m</dd>" in html
    assert "<dt>Postes novos</dt><dd>4</dd>" in html
    assert "<dt>Custo estimado</dt><dd>R$ 3.000,00</dd>" in html
    assert "<dt>Hierarquia da via</dt><dd>Local</dd>" in html
    assert "<dt>Localização</dt><dd>endereço com número exato</dd>" in html
    assert "<dt>Incerteza da localização</dt><dd>± 15 m</dd>" in html
    assert "<dt>Declividade máxima</dt><dd>8,5 %</dd>" in html
    # the acts and the other forms
    for act in ("hipossuficiencia", "art11", "art12", "localizacao"):
        assert f'id="ato-{act}"' in html
    assert 'action="/pedidos/{}/parecer#parecer"'.format(ids["P-02"]) in html
    assert 'action="/pedidos/{}/documentos#documentos"'.format(ids["P-02"]) in html
    assert "/situacao#situacao" not in html  # a member does not preside
    # no map recorded for this run
    assert "Mapa indisponível para esta avaliação" in html
    assert 'id="mapa-dados"' not in html and "pedido_mapa.js" not in html


def test_request_page_map_data_and_scripts(app: FastAPI, registry: Registry) -> None:
    html = _client(app, "carlos").get(f"/pedidos/{_ids(registry)['P-01']}").text
    assert '<div id="mapa"' in html
    data = re.search(r'<script type="application/json" id="mapa-dados">(.*?)</script>', html)
    assert data is not None
    assert data[1] == '{"camadas": ["extensao"], "features": [], "type": "FeatureCollection"}'
    assert '<script src="/static/vendor/leaflet/leaflet.js"></script>' in html
    assert '<script src="/static/pedido_mapa.js"></script>' in html
    assert '<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css">' in html
    assert _text(html, "posicao") == "2º de 5 classificados — Classificado (dentro do orçamento)."


def test_a_decision_changes_the_decided_total_and_the_ranking_position(
    app: FastAPI, registry: Registry
) -> None:
    ids = _ids(registry)
    client = _client(app, "maria")
    answer = _decide(
        client, ids["P-02"], criterio="beneficiarios", pontos="40",
        motivacao="Vistoria contou 12 residências no trecho.",
    )  # fmt: skip
    assert answer.status_code == 303
    target = f"/pedidos/{ids['P-02']}?gravado=beneficiarios#criterio-beneficiarios"
    assert answer.headers["location"] == target
    html = client.get(target).text
    assert "Decisão gravada." in html
    assert _text(html, "total-decidido") == "76"
    assert _text(html, "posicao").startswith("3º de 5 classificados")
    assert _text(html, "vigente-beneficiarios").startswith("40 ponto(s), por Maria Membro")
    assert "Vistoria contou 12 residências no trecho." in html
    # P-03 went down to 4th; the queue shows the new total
    p03 = client.get(f"/pedidos/{ids['P-03']}").text
    assert _text(p03, "posicao").startswith("4º de 5 classificados")
    assert _decided(client.get("/fila").text)["P-02"] == "76"
    # the history names who decided, newest first, and the audit trail has the event
    assert re.search(r"<strong>Decisão</strong> · maria</p>\s*<p>beneficiarios: 40 ponto", html)
    assert "<td>maria</td>\n        <td>Decisão</td>" in html
    # a second decision on the same criterion supersedes the first
    answer = _decide(
        client, ids["P-02"], criterio="beneficiarios", pontos="32,5", motivacao="Revisão."
    )
    assert answer.status_code == 303
    html = client.get(f"/pedidos/{ids['P-02']}").text
    assert _text(html, "total-decidido") == "68,5"
    assert "Decisão substituída" in html
    with registry.session() as session:
        rows = session.scalars(
            select(Decision).where(Decision.pedido_id == ids["P-02"]).order_by(Decision.id)
        ).all()
        assert [(d.pontos, d.vigente, d.usuario) for d in rows] == [
            (40.0, False, "maria"), (32.5, True, "maria"),
        ]  # fmt: skip


def test_the_live_ranking_is_cached_until_a_decision(
    app: FastAPI, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    with registry.session() as session:
        cycle = store.find_cycle(session, "2026")
        p02 = session.scalars(select(Request).where(Request.protocolo == "P-02")).one()
        p01 = session.scalars(select(Request).where(Request.protocolo == "P-01")).one()
        first, state = queries.ranking_entry(session, registry, cycle, p02, RULES, KEY)
        again, same = queries.ranking_entry(session, registry, cycle, p02, RULES, KEY)
        assert state is same and first == again and first is not None and first.posicao == 4
        assert state.current and state.last_decision == 0
        given = store.DecisionInput("beneficiarios", 40.0, "Mais famílias.")
        store.add_decision(session, p02, given, RULES, actor="maria", expected_version=None)
        decision = session.scalar(select(func.max(Decision.id)))
        assert ranking_cache.last_decision_on(session, p02.id) == decision
        assert ranking_cache.last_decision_on(session, p01.id) == 0
        assert ranking_cache.last_decision_by(session, cycle, "maria") == decision
        assert ranking_cache.last_decision_by(session, cycle, "bruno") == 0
        # while the cycle's ranking is being computed (here: said to be)...
        monkeypatch.setattr(ranking_cache, "_BACKGROUND", {(registry.url, cycle.id)})
        monkeypatch.setattr(ranking_cache, "refresh", lambda *a, **k: None)
        # ...the page of another request shows the last ranking instead of waiting...
        other, old = queries.ranking_entry(session, registry, cycle, p01, RULES, KEY)
        assert old is not state and old.table is state.table and not old.current
        assert old.behind == 1 and other == state.entries["P-01"]
        assert "1 decisão salva depois ainda está sendo incluída" in stale_notice(old)
        # ...but the page of the request decided on waits for the ranking with it
        mine, new = queries.ranking_entry(session, registry, cycle, p02, RULES, KEY)
        assert new.current and mine is not None and stale_notice(new) == ""
        assert mine.posicao == 3 and mine.pontuacao == 76.0
        assert new.last_decision == decision
        # and whoever needs the current one (a proposal, a download) gets it
        after, same_new = queries.ranking_entry(
            session, registry, cycle, p02, RULES, KEY, fresh=True
        )
        assert same_new is new and after == mine


def _ranking_rows(html: str) -> dict[str, tuple[str, str]]:
    """Position and total of each protocol in the ranking page's table."""
    rows = re.findall(r'data-protocolo="([^"]+)">(.*?)</tr>', html, re.S)
    out = {}
    for protocol, row in rows:
        cells = [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        out[protocol] = (cells[0], cells[4])
    return out


def test_the_ranking_page_shows_each_member_their_own_decisions_at_once(
    app: FastAPI, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    maria, bruno = _client(app, "maria"), _client(app, "bruno")
    first = bruno.get("/classificacao?ciclo=2026").text
    assert 'id="classificacao-recalculando"' not in first
    # members are deciding: the cycle's ranking is being computed in the background
    # (here it is said to be, and never ends, so that the state is known)
    with registry.session() as session:
        cycle_id = store.find_cycle(session, "2026").id
    monkeypatch.setattr(ranking_cache, "_BACKGROUND", {(registry.url, cycle_id)})
    monkeypatch.setattr(ranking_cache, "refresh", lambda *a, **k: None)
    monkeypatch.setattr("geo_ip.webapp.routes.request.refresh", lambda *a, **k: None)
    request_id = _ids(registry)["P-02"]
    answer = _decide(maria, request_id, criterio="beneficiarios", pontos="40",
                     motivacao="Mais famílias.")  # fmt: skip
    assert answer.status_code == 303
    # Bruno sees the ranking computed before Maria's decision, and is told so
    stale = bruno.get("/classificacao?ciclo=2026").text
    notice = _text(stale, "classificacao-recalculando")
    assert "1 decisão salva depois ainda está sendo incluída" in notice
    assert _ranking_rows(stale) == _ranking_rows(first)
    # Maria sees her decision at once: P-02 goes from 60 to 76 points
    mine = maria.get("/classificacao?ciclo=2026").text
    assert 'id="classificacao-recalculando"' not in mine
    assert _ranking_rows(first)["P-02"] == ("4º", "60") and _ranking_rows(mine)["P-02"] == (
        "3º",
        "76",
    )
    # once computed, Bruno's next view is current too
    again = bruno.get("/classificacao?ciclo=2026").text
    assert 'id="classificacao-recalculando"' not in again and _ranking_rows(again) == _ranking_rows(
        mine
    )


def test_a_save_over_an_old_version_is_refused_naming_who_changed_it(
    app: FastAPI, registry: Registry
) -> None:
    request_id = _ids(registry)["P-02"]
    maria, bruno = _client(app, "maria"), _client(app, "bruno")
    page_bruno = bruno.get(f"/pedidos/{request_id}").text  # Bruno opens the page first
    answer = _decide(maria, request_id, criterio="seguranca", pontos="15", motivacao="Escuro.")
    assert answer.status_code == 303
    stale = bruno.post(
        f"/pedidos/{request_id}/decisao",
        data=_form(page_bruno, criterio="seguranca", pontos="3", motivacao="Bem iluminado."),
    )
    assert stale.status_code == 409
    conflict = _text(stale.text, "conflito")
    assert "alterado por maria em" in conflict
    # the new state: Maria's decision, her total; Bruno's text stays in his form
    assert _text(stale.text, "vigente-seguranca").startswith("15 ponto(s), por Maria Membro")
    assert _text(stale.text, "total-decidido") == "66"
    assert ">Bem iluminado.</textarea>" in stale.text
    with registry.session() as session:
        points = session.scalars(
            select(Decision.pontos).where(Decision.pedido_id == request_id, Decision.vigente)
        ).all()
    assert points == [15.0]
    # saving again from the page just shown goes through
    again = bruno.post(
        f"/pedidos/{request_id}/decisao",
        data=_form(stale.text, criterio="seguranca", pontos="3", motivacao="Bem iluminado."),
    )
    assert again.status_code == 303


INVALID_DECISIONS = [
        ({"criterio": "beneficiarios", "pontos": "41", "motivacao": "x"}, "entre 0 e 40"),
        ({"criterio": "seguranca", "pontos": "15.5", "motivacao": "x"}, "entre 0 e 15"),
        ({"criterio": "seguranca", "pontos": "-1", "motivacao": "x"}, "entre 0 e 15"),
        ({"criterio": "seguranca", "pontos": "abc", "motivacao": "x"}, "informe um número"),
        ({"criterio": "seguranca", "pontos": "", "motivacao": "x"}, "informe os pontos"),
        ({"criterio": "seguranca", "pontos": "5", "motivacao": "  "}, "motivação é obrigatória"),
        ({"criterio": "art12", "motivacao": "Relatório técnico."}, "número do procedimento"),
        ({"criterio": "localizacao", "latitude": "95", "longitude": "-46", "motivacao": "x"},
         "latitude e longitude válidas"),
]  # fmt: skip
"""Decision forms the registry refuses, and the message shown beside the form."""


def test_invalid_decisions_answer_422_beside_their_form(app: FastAPI, registry: Registry) -> None:
    request_id = _ids(registry)["P-02"]
    client = _client(app, "maria")
    for fields, message in INVALID_DECISIONS:
        answer = _decide(client, request_id, **fields)
        assert answer.status_code == 422, fields
        criterion = fields["criterio"]
        assert message in _text(answer.text, f"erro-{criterion}"), fields
        assert f'aria-describedby="erro-{criterion}"' in answer.text
    with registry.session() as session:
        assert session.scalar(select(func.count(Decision.id))) == 0


def test_acts_are_decided_without_points(app: FastAPI, registry: Registry) -> None:
    request_id = _ids(registry)["P-04"]
    client = _client(app, "maria")
    answer = _decide(
        client, request_id, criterio="art12", procedimento="PA-0042/2026",
        motivacao="Relatório técnico 07/2026.",
    )  # fmt: skip
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("#ato-art12")
    html = client.get(answer.headers["location"]).text  # the page after the save
    assert "procedimento PA-0042/2026" in _text(html, "vigente-art12")
    assert "Execução direta (Art. 12)" in _text(html, "posicao")
    answer = _decide(
        client, request_id, criterio="localizacao", latitude="-22,8512", longitude="-46.3101",
        motivacao="Vistoria com GPS.",
    )  # fmt: skip
    assert answer.status_code == 303
    html = client.get(f"/pedidos/{request_id}").text
    assert "local -22.851200, -46.310100" in _text(html, "vigente-localizacao")


def test_consulta_cannot_decide(app: FastAPI, registry: Registry) -> None:
    request_id = _ids(registry)["P-02"]
    client = _client(app, "carlos")
    page = client.get(f"/pedidos/{request_id}").text
    assert f'action="/pedidos/{request_id}/decisao' not in page
    assert "<textarea" not in page
    for path, fields in [
        (f"/pedidos/{request_id}/decisao",
         {"criterio": "beneficiarios", "pontos": "40", "motivacao": "x"}),
        (f"/pedidos/{request_id}/parecer", {"texto": "Parecer."}),
        (f"/pedidos/{request_id}/documentos", {"descricao": "Conta de luz."}),
        (f"/pedidos/{request_id}/situacao", {"situacao": "decidido", "motivo": "x"}),
    ]:  # fmt: skip
        answer = client.post(path, data={"csrf": _csrf(page), "versao": "1", **fields})
        assert answer.status_code == 403, path
    with registry.session() as session:
        assert session.scalar(select(func.count(Decision.id))) == 0


def test_a_member_cannot_change_the_status_the_president_can(
    app: FastAPI, registry: Registry
) -> None:
    request_id = _ids(registry)["P-03"]
    maria = _client(app, "maria")
    page = maria.get(f"/pedidos/{request_id}").text
    form = _form(page, situacao="pendente_vistoria", motivo="Confirmar residências.")
    assert maria.post(f"/pedidos/{request_id}/situacao", data=form).status_code == 403
    ana = _client(app, "ana")
    page = ana.get(f"/pedidos/{request_id}").text
    form = _form(page, situacao="pendente_vistoria", motivo="Confirmar residências.")
    answer = ana.post(f"/pedidos/{request_id}/situacao", data=form)
    assert answer.status_code == 303
    html = ana.get(f"/pedidos/{request_id}").text
    assert _text(html, "situacao-atual") == "Aguardando vistoria"
    assert "Confirmar residências." in html
    # the queue shows the pending inspection
    queue = ana.get("/fila?situacao=pendente_vistoria").text
    assert _protocols(queue) == ["P-03"]
    assert '<span class="etiqueta">Vistoria</span>' in queue
    bad = ana.post(f"/pedidos/{request_id}/situacao", data=_form(html, situacao="x", motivo="y"))
    assert bad.status_code == 422
    assert "escolha uma situação" in _text(bad.text, "erro-situacao")


def test_report_and_documents(app: FastAPI, registry: Registry) -> None:
    request_id = _ids(registry)["P-01"]
    client = _client(app, "maria")
    page = client.get(f"/pedidos/{request_id}").text
    empty = client.post(f"/pedidos/{request_id}/parecer", data=_form(page, texto="  "))
    assert empty.status_code == 422
    assert "não pode ficar vazio" in _text(empty.text, "erro-parecer")
    answer = client.post(
        f"/pedidos/{request_id}/parecer", data=_form(page, texto="Favorável à execução.")
    )
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("?gravado=parecer#parecer")
    page = client.get(f"/pedidos/{request_id}").text
    assert _text(page, "parecer-texto") == "Favorável à execução."
    answer = client.post(
        f"/pedidos/{request_id}/documentos",
        data={"csrf": _csrf(page), "descricao": "Conta de luz do vizinho.", "prazo": "2099-01-31"},
    )
    assert answer.status_code == 303
    page = client.get(f"/pedidos/{request_id}").text
    assert '<th scope="row">Conta de luz do vizinho.</th>' in page
    assert "31/01/2099" in page
    queue = client.get("/fila").text
    assert '<span class="etiqueta">Documentos</span>' in queue
    doc_id = re.search(r'action="/documentos/(\d+)/resposta#documentos"', page)
    assert doc_id
    future = client.post(
        f"/documentos/{doc_id[1]}/resposta",
        data={"csrf": _csrf(page), "resposta": "Entregue.", "data": "2099-01-01"},
    )
    assert future.status_code == 422
    assert "não pode ser futura" in future.text
    answer = client.post(
        f"/documentos/{doc_id[1]}/resposta",
        data={"csrf": _csrf(page), "resposta": "Entregue na recepção.", "data": ""},
    )
    assert answer.status_code == 303
    page = client.get(f"/pedidos/{request_id}").text
    assert "<td>Entregue na recepção.</td>" in page
    assert '<span class="etiqueta">Documentos</span>' not in client.get("/fila").text
    assert client.post("/documentos/999999/resposta", data={"csrf": _csrf(page)}).status_code == 404


def test_personal_data_only_for_roles_allowed_and_every_view_logged(
    app: FastAPI, registry: Registry
) -> None:
    request_id = _ids(registry)["P-02"]

    def views() -> list[str]:
        with registry.session() as session:
            return list(
                session.scalars(
                    select(Event.usuario).where(
                        Event.acao == "dados_pessoais_vistos", Event.entidade_id == "P-02"
                    )
                )
            )

    maria = _client(app, "maria")
    for path in (f"/pedidos/{request_id}", f"/pedidos/{request_id}?dados=1"):
        html = maria.get(path).text
        assert "Dados pessoais restritos." in html
        assert "982.247" not in html and NAME not in html
    assert views() == []
    ana = _client(app, "ana")
    html = ana.get(f"/pedidos/{request_id}").text
    assert "Mostrar dados pessoais" in html and NAME not in html
    assert views() == []
    html = ana.get(f"/pedidos/{request_id}?dados=1").text
    assert f"<dt>CPF</dt><dd>{CPF_MASKED}</dd>" in html
    assert CPF not in html and "52998224725" not in html
    assert f"<dt>Nome do requerente</dt><dd>{NAME}</dd>" in html
    assert "<dt>Renda familiar declarada</dt><dd>R$ 1.000,00</dd>" in html
    assert views() == ["ana"]
    # the view is in the page's audit trail, without the data itself
    html = ana.get(f"/pedidos/{request_id}").text
    assert "Dados pessoais consultados" in html
    assert "finalidade: página do pedido" in html
    assert NAME not in html


def test_markup_in_a_motivation_is_escaped(app: FastAPI, registry: Registry) -> None:
    request_id = _ids(registry)["P-02"]
    client = _client(app, "maria")
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    answer = _decide(client, request_id, criterio="trafego", pontos="10", motivacao=hostile)
    assert answer.status_code == 303
    html = client.get(f"/pedidos/{request_id}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    # also when the form comes back with an error
    bad = _decide(client, request_id, criterio="trafego", pontos="99", motivacao=hostile)
    assert bad.status_code == 422
    assert "<script>alert(1)" not in bad.text


def test_unknown_or_malformed_request_ids(app: FastAPI) -> None:
    client = _client(app, "carlos")
    assert client.get("/pedidos/999999").status_code == 404
    assert client.get("/pedidos/abc").status_code == 422
    assert client.get("/pedidos/0").status_code == 422
    assert client.get("/pedidos/99999999999999999999999").status_code == 422


def test_a_decision_by_a_member_present_at_an_open_meeting_is_taken_in_it(
    app: FastAPI, registry: Registry
) -> None:
    from geo_ip.registry import meetings

    request_id = _ids(registry)["P-05"]
    maria, bruno = _client(app, "maria"), _client(app, "bruno")
    with registry.session() as session:
        cycle = store.find_cycle(session, "2026")
        meeting = meetings.open_meeting(
            session, cycle, title="1ª reunião ordinária", place="Prefeitura", actor="ana"
        )
        meetings.set_presence(session, meeting, ["maria"], actor="ana")
        meeting_id = meeting.id
    page = maria.get(f"/pedidos/{request_id}").text
    assert "1ª reunião ordinária" in _text(page, "reuniao-aberta")
    assert 'id="reuniao-aberta"' not in bruno.get(f"/pedidos/{request_id}").text
    answer = _decide(maria, request_id, criterio="trafego", pontos="15", motivacao="Via principal.")
    assert answer.status_code == 303
    answer = _decide(bruno, request_id, criterio="seguranca", pontos="15", motivacao="Escuro.")
    assert answer.status_code == 303
    with registry.session() as session:
        taken = session.execute(
            select(Decision.usuario, Decision.reuniao_id).order_by(Decision.id)
        ).all()
    assert [tuple(t) for t in taken] == [("maria", meeting_id), ("bruno", None)]
    html = maria.get(f"/pedidos/{request_id}").text
    assert f"Tomada na reunião nº {meeting_id}" in html
