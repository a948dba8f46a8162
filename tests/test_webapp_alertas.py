"""The flags of each request (``alertas``) on the ranking and request pages (issue 21, item 10).

Five requests of cycle ``2026`` (demo rules: at most 3 residences per building mapped
near the stretch and 15 residents per residence). Hand-checked flags
(:func:`geo_ip.outputs.views.request_alerts`) and places in the live ranking:

======== ===== ============================================== ======================= ========
protocol total what is odd                                     flags                   position
======== ===== ============================================== ======================= ========
A-01     90    80 residences declared, 11 buildings (80 > 33) Declaração implausível  1º
A-02     80    place pending and off the road network          Localização aproximada; —
                                                               Sem ligação com as vias
A-03     70    nothing (4 residences, 4 buildings, on a road) —                       2º
A-04     60    100 residents in 4 residences (25 > 15); not   Declaração implausível; —
               in the CadÚnico, no income declared             Comprovação pendente
A-05     —     an error row, off the network                   — (errors: not flagged) —
======== ===== ============================================== ======================= ========

The run table also carries a hostile ``alertas`` column (as an imported folder could):
the ranking computes the flags again and never shows it.
"""

import html
import io
import re
import warnings
from datetime import date

import numpy as np
import openpyxl
import pandas as pd
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from geo_ip.pipeline import decide
from geo_ip.registry import store
from geo_ip.registry.db import Registry, open_registry
from geo_ip.registry.models import Request, User
from geo_ip.rules.config import load_rules
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.schema import DECISION_COLUMNS
from geo_ip.webapp.app import create_app
from geo_ip.webapp.users import add_user

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

SECRET = b"segredo-de-teste-dos-alertas-0123456789abcdef"
KEY = b"chave-de-teste-dos-alertas-0123456789"
RULES = load_rules("demo")
BUDGET = 10_000.0
TODAY = date(2026, 11, 20)
HOSTILE = '<script>alert("x")</script>'
PASSWORDS = {
    "maria": ("Maria Membro", "membro", "maria-senha-forte-2"),
    "carlos": ("Carlos Consulta", "consulta", "carlos-senha-forte-4"),
}
ROWS = [  # protocol, total, residences, buildings, residents, place pending, off road, CadÚnico
    ("A-01", 90.0, 80.0, 11.0, 200.0, False, False, "sim"),
    ("A-02", 80.0, 4.0, 4.0, 12.0, True, True, "sim"),
    ("A-03", 70.0, 4.0, 4.0, 12.0, False, False, "sim"),
    ("A-04", 60.0, 4.0, 4.0, 100.0, False, False, "nao"),  # and no income declared
    ("A-05", np.nan, 4.0, 4.0, 12.0, False, True, "sim"),
]
EXPECTED = {
    "A-01": ["Declaração implausível"],
    "A-02": ["Localização aproximada", "Sem ligação com as vias"],
    "A-03": [],
    "A-04": ["Declaração implausível", "Comprovação pendente"],
    "A-05": [],
}
CODES = {
    "Declaração implausível": "declaracao",
    "Localização aproximada": "localizacao",
    "Comprovação pendente": "comprovacao",
    "Sem ligação com as vias": "malha",
}
WEIGHTS = {c: float(getattr(RULES.criterios, c).peso.valor) for c in CRITERIA}


def _table() -> pd.DataFrame:
    n = len(ROWS)
    total = np.array([r[1] for r in ROWS])
    cost = np.full(n, 1000.0)
    error = np.isnan(total)
    table = pd.DataFrame(
        {
            "linha": np.arange(2, n + 2),
            "protocolo": [r[0] for r in ROWS],
            "data_protocolo": [date(2026, 3, 1 + i) for i in range(n)],
            "tipo": "implantacao",
            "pontuacao_total": total,
            "custo_estimado_rs": np.where(error, np.nan, cost),
            "custo_por_beneficiario_rs": cost / 10,
            "moradores_estimados": 10.0,
            "residencias_consideradas": 4.0,
            "residencias_declaradas": [r[2] for r in ROWS],
            "edificacoes_trecho": [r[3] for r in ROWS],
            "moradores_declarados": [r[4] for r in ROWS],
            "localizacao_pendente": [r[5] for r in ROWS],
            "fora_da_malha": [r[6] for r in ROWS],
            "situacao": np.where(error, "erro", "ok"),
            "situacao_pedido": np.where(error, "erro", "ok"),
            "erro": error,
            "problemas": np.where(error, "campo 'residencias': valor negativo (-2)", ""),
            "cadunico": [r[7] for r in ROWS],
            "cpf_solicitante": "529.982.247-25",
            "nome_solicitante": "Joana Exemplo Teste",
            "renda_familiar": [np.nan if r[7] == "nao" else 1000.0 for r in ROWS],
            "latitude": -22.85,
            "longitude": -46.31,
            "logradouro_via": "Rua das Flores",
            "bairro_encontrado": "Centro",
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
            "alertas": HOSTILE,  # a stale or forged column: computed again, never shown
        }
    )
    for c in CRITERIA:
        table[f"sugerido_{c}"] = total * WEIGHTS[c] / 100
        table[f"pont_{c}"] = table[f"sugerido_{c}"]
        table[f"nivel_{c}"] = np.where(error, "", "II")
        table[f"motivacao_{c}"] = "Sugestão técnica pelas evidências."
    no_decisions = pd.DataFrame(columns=list(DECISION_COLUMNS))
    return decide(table, no_decisions, RULES, budget=BUDGET, key=KEY, today=TODAY)


@pytest.fixture
def registry(registry_url: str) -> Registry:
    reg = open_registry(registry_url)
    with reg.session() as session:
        rules = store.ensure_rules(session, RULES, "sistema:teste")
        cycle = store.ensure_cycle(session, "2026", "sistema:teste", budget=BUDGET, rules=rules)
        store.record_run(
            session, _table(), cycle=cycle, rules=rules, actor="sistema:teste", origin="teste",
            provenance={"data_referencia": TODAY.isoformat(), "orcamento_rs": BUDGET},
            personal=True,
        )  # fmt: skip
    return reg


@pytest.fixture
def app(registry: Registry) -> FastAPI:
    application = create_app(registry, secret=SECRET)
    application.state.rules = RULES
    application.state.key = KEY
    return application


def _client(app: FastAPI, login: str) -> TestClient:
    registry: Registry = app.state.registry
    with registry.session() as session:
        known = session.scalar(select(User.id).where(User.login == login))
    if known is None:
        name, role, password = PASSWORDS[login]
        add_user(registry, login, name, role, password)
    client = TestClient(app, follow_redirects=False)
    page = client.get("/entrar")
    token = re.search(r'<input type="hidden" name="csrf" value="([^"]+)">', page.text)
    assert token
    answer = client.post(
        "/entrar", data={"login": login, "senha": PASSWORDS[login][2], "csrf": token[1]}
    )
    assert answer.status_code == 303, answer.text
    return client


def _ids(registry: Registry) -> dict[str, int]:
    with registry.session() as session:
        return {p: i for p, i in session.execute(select(Request.protocolo, Request.id)).all()}


def _row_cells(page: str) -> dict[str, str]:
    """Each ranking row's ``Alertas`` cell (its inner HTML), by protocol."""
    out = {}
    for protocol, row in re.findall(r'<tr[^>]*data-protocolo="([^"]+)">(.*?)</tr>', page, re.S):
        cell = re.search(r'<td class="alertas">(.*?)</td>', row, re.S)
        assert cell, protocol
        out[protocol] = cell[1]
    return out


def _badges(cell: str) -> list[tuple[str, str]]:
    """(code, visible label) of each badge of a cell."""
    found = re.findall(
        r'<span class="etiqueta etiqueta-alerta" data-alerta="([a-z]+)" title="[^"]+">'
        r'<span aria-hidden="true">⚠ </span>([^<]+)<span class="visualmente-oculto">',
        cell,
    )
    return [(code, html.unescape(label)) for code, label in found]


def test_the_ranking_shows_each_requests_badges_after_the_total(app: FastAPI) -> None:
    page = _client(app, "maria").get("/classificacao")
    assert page.status_code == 200
    headers = re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', page.text)
    assert headers[headers.index("Total") + 1] == "Alertas"
    cells = _row_cells(page.text)
    # ranked first, then pending the place, pending the proof, the error (the lists' order)
    assert list(cells) == ["A-01", "A-03", "A-02", "A-04", "A-05"]
    assert {p: _badges(c) for p, c in cells.items()} == {
        p: [(CODES[label], label) for label in labels] for p, labels in EXPECTED.items()
    }
    # a request without a flag: a dash, and words for a screen reader
    assert cells["A-03"] == (
        '<span aria-hidden="true">—</span><span class="visualmente-oculto">nenhum alerta</span>'
    )
    # the explanation of a flag, as a tooltip and as text for a screen reader
    hint = (
        "mais de 3 residências declaradas por edificação mapeada perto do trecho, ou mais de "
        "15 moradores por residência: confira a declaração na vistoria"
    )
    assert f'title="{hint}"' in cells["A-01"]
    assert f'<span class="visualmente-oculto">: {hint}</span>' in cells["A-01"]
    # the forged column of the run never reaches the page
    assert "alert(" not in page.text and "&lt;script" not in page.text


def test_the_filter_lists_only_the_requests_with_a_flag(app: FastAPI) -> None:
    client = _client(app, "carlos")
    page = client.get("/classificacao")
    assert re.search(r'<input type="checkbox" id="so-alertas" name="alertas" value="1">', page.text)
    assert "Só pedidos com alerta (3 de 5)" in page.text
    filtered = client.get("/classificacao?ciclo=2026&alertas=1")
    assert filtered.status_code == 200
    assert list(_row_cells(filtered.text)) == ["A-01", "A-02", "A-04"]
    assert "Pedidos (3 de 5, só os com alerta)" in filtered.text
    assert 'id="so-alertas" name="alertas" value="1" checked' in filtered.text
    # positions stay those of the whole ranking (A-02 and A-04 are pending: none)
    positions = re.findall(r'<tr[^>]*data-protocolo="[^"]+">\s*<td class="numero">([^<]+)</td>',
                           filtered.text)  # fmt: skip
    assert positions == ["1º", "—", "—"]


def test_the_request_page_lists_the_flags_in_a_box_near_the_top(
    app: FastAPI, registry: Registry
) -> None:
    ids = _ids(registry)
    for login in ("maria", "carlos"):  # the same box for a role without personal data
        client = _client(app, login)
        page = client.get(f"/pedidos/{ids['A-04']}").text
        box = re.search(r'<section class="aviso aviso-alerta" id="alertas"[^>]*>(.*?)</section>',
                        page, re.S)  # fmt: skip
        assert box, login
        assert page.index('id="alertas"') < page.index('id="titulo-resumo"')
        items = [
            re.sub(r"<[^>]+>", "", html.unescape(li))
            for li in re.findall(r"<li data-alerta=\"[a-z]+\">(.*?)</li>", box[1], re.S)
        ]
        assert items == [
            "Declaração implausível — mais de 3 residências declaradas por edificação mapeada "
            "perto do trecho, ou mais de 15 moradores por residência: confira a declaração na "
            "vistoria.",
            "Comprovação pendente — falta comprovar a hipossuficiência (Art. 4 §2).",
        ]
        assert "Alertas: confira antes de decidir" in box[1]
        for protocol in ("A-03", "A-05"):
            clean = client.get(f"/pedidos/{ids[protocol]}").text
            assert 'id="alertas"' not in clean and "etiqueta-alerta" not in clean, protocol
            assert "Declaração implausível" not in clean, protocol


def test_the_workbook_has_the_same_flags_as_the_page(app: FastAPI) -> None:
    answer = _client(app, "carlos").get("/classificacao.xlsx?ciclo=2026")
    assert answer.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(h or "") for h in rows[0]]
    protocol = next(i for i, h in enumerate(header) if h.lower() == "protocolo")
    alerts = next(i for i, h in enumerate(header) if h.lower() == "alertas")
    found = {r[protocol]: r[alerts] or "" for r in rows[1:] if r[protocol]}
    assert found == {p: "; ".join(labels) for p, labels in EXPECTED.items()}
