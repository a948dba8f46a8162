"""Personal data in the Commission's free text, audit gaps and the sheet's CSP (issue 20).

The small registry of ``tests/test_registry_workflow.py`` recorded *with* the
applicants' data: PED-1, PED-4, PED-5 and PED-8 belong to Benedito Inventado Silva,
PED-2, PED-3, PED-6 and PED-7 to Joana Exemplo Teste (``tests/small_assessment.py``).
Users: ana (presidente: may see personal data), bruno (membro) and carla (consulta),
who may not.

Hostile findings fixed here:

1. CPF-shaped numbers are refused in every text the registry keeps for good (events are
   immutable); applicants' names typed by members are redacted for users without
   ``dados_pessoais`` on the request and meeting pages and in the downloads, and always
   in the minutes;
2. a decision's event records what it moved on the request (status, pending items,
   position, decided total); downloads with personal data are logged;
3. an answer to a document request is never overwritten, nor dated before the request
   or in the future;
4. the HTML sheet's inline style is allowed by its own CSP.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import warnings
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from geo_ip.registry import store
from geo_ip.registry.db import Registry, sqlite_url
from geo_ip.registry.minutes import Minutes, MinutesDecision, MinutesMember, minutes_pdf
from geo_ip.registry.models import DocumentRequest, Event, Report, Request
from geo_ip.requests.redaction import REDACTED
from geo_ip.rules.config import load_rules
from geo_ip.webapp.app import create_app
from tests.test_registry_workflow import KEY, SECRET, build_registry
from tests.test_webapp_workflow import COOKIE_SECRET, login, text_of

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    from fastapi.testclient import TestClient

BENEDITO = "Benedito Inventado Silva"  # PED-1's applicant
JOANA = "Joana Exemplo Teste"  # PED-2's applicant
CPF = "123.456.789-09"
REPORT = (
    f"Visita à casa de {BENEDITO}; o vizinho {JOANA} confirmou. Seu Benedito mostrou a rua escura."
)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    registry = build_registry(sqlite_url(tmp_path / "registro.sqlite"), personal=True)
    yield registry
    registry.dispose()


def _client(registry: Registry) -> TestClient:
    app = create_app(registry, secret=COOKIE_SECRET)
    app.state.secret = SECRET
    app.state.key = KEY
    return TestClient(app)


def _request(session: Any, protocol: str) -> Request:
    found = session.scalar(select(Request).where(Request.protocolo == protocol))
    assert found is not None
    return found


def _id(registry: Registry, protocol: str) -> int:
    with registry.session() as session:
        return _request(session, protocol).id


def _events(registry: Registry, action: str) -> list[Event]:
    with registry.session() as session:
        return list(session.scalars(select(Event).where(Event.acao == action).order_by(Event.seq)))


def _count_events(registry: Registry) -> int:
    with registry.session() as session:
        return int(session.scalar(select(func.count()).select_from(Event)) or 0)


def _write_texts(registry: Registry) -> None:
    """Ana writes, on PED-1, texts that name the applicants (allowed: no CPF)."""
    rules = load_rules("demo")
    with registry.session() as session:
        request = _request(session, "PED-1")
        store.write_report(session, request, REPORT, actor="ana", expected_version=None)
        asked = store.request_documents(
            session, request, f"Comprovante de residência de {BENEDITO}", actor="ana",
            asked=date.today() - timedelta(days=3),
        )  # fmt: skip
        store.answer_documents(
            session, asked, f"Entregue por {JOANA} em nome de Benedito", actor="ana",
            day=date.today() - timedelta(days=1),
        )  # fmt: skip
        store.add_decision(
            session, request,
            store.DecisionInput("seguranca", 10.0, f"Seu Benedito e {JOANA} relatam assaltos"),
            rules, actor="ana", expected_version=None,
        )  # fmt: skip
        store.set_status(session, request, "pendente_documentos", actor="ana",
                         reason=f"falta a conta de luz de {BENEDITO}",
                         expected_version=None)  # fmt: skip


def _clear_of_names(text: str) -> None:
    for word in ("Benedito", "Joana", "Inventado", "Exemplo Teste", CPF):
        assert word not in text, word


# --------------------------------------------------------------------------- 1. input


@pytest.mark.parametrize("cpf", [CPF, "12345678909", "123 456 789 09"])
def test_every_text_kept_for_good_refuses_a_cpf(registry: Registry, cpf: str) -> None:
    rules = load_rules("demo")
    before = _count_events(registry)
    changes = {
        "decisão": lambda s, r: store.add_decision(
            s, r, store.DecisionInput("seguranca", 5.0, f"morador CPF {cpf}"), rules,
            actor="ana", expected_version=None,
        ),
        "procedimento": lambda s, r: store.add_decision(
            s, r, store.DecisionInput("art12", None, "via rural", procedure=cpf), rules,
            actor="ana", expected_version=None,
        ),
        "parecer": lambda s, r: store.write_report(
            s, r, f"ver documento {cpf}", actor="ana", expected_version=None
        ),
        "documentos": lambda s, r: store.request_documents(
            s, r, f"RG e CPF {cpf}", actor="ana"
        ),
        "situação": lambda s, r: store.set_status(
            s, r, "pendente_documentos", actor="ana", reason=f"CPF {cpf} divergente",
            expected_version=None,
        ),
    }  # fmt: skip
    for what, change in changes.items():
        with pytest.raises(store.RegistryError) as caught, registry.session() as session:
            change(session, _request(session, "PED-1"))
        message = str(caught.value)
        assert message.startswith("não escreva CPF no texto: "), what
        assert cpf not in message and "789" not in message, what
    with registry.session() as session:
        asked = store.request_documents(
            session, _request(session, "PED-1"), "conta de luz", actor="ana"
        )
        asked_id = asked.id
    refused = pytest.raises(store.RegistryError, match=r"^não escreva CPF no texto: a resposta")
    with refused, registry.session() as session:
        row = session.get(DocumentRequest, asked_id)
        assert row is not None
        store.answer_documents(session, row, f"entregue, CPF {cpf}", actor="ana")
    assert _count_events(registry) == before + 1  # only the document request was kept
    with registry.session() as session:
        row = session.get(DocumentRequest, asked_id)
        assert row is not None and row.respondido_em is None and row.resposta == ""
        assert session.get(Report, _request(session, "PED-1").id) is None


def test_a_cpf_in_a_form_is_refused_beside_it(registry: Registry) -> None:
    client = _client(registry)
    csrf = login(client, "ana")
    request_id = _id(registry, "PED-1")
    page = client.get(f"/pedidos/{request_id}").text
    version = re.search(r'name="versao" value="(\d+)"', page)
    assert version is not None
    answer = client.post(
        f"/pedidos/{request_id}/parecer",
        data={"texto": f"Requerente de CPF {CPF}", "versao": version[1], "csrf": csrf},
    )
    assert answer.status_code == 422
    assert "não escreva CPF no texto: o parecer traz um número com a forma de um CPF" in (
        text_of(answer.text)
    )
    assert "Ainda sem parecer." in answer.text


# --------------------------------------------------------------------------- 1. display


def test_request_page_redacts_names_for_roles_without_personal_data(registry: Registry) -> None:
    _write_texts(registry)
    request_id = _id(registry, "PED-1")
    for user in ("carla", "bruno"):
        client = _client(registry)
        login(client, user)
        page = client.get(f"/pedidos/{request_id}")
        assert page.status_code == 200
        _clear_of_names(page.text)
        report = re.search(r'id="parecer-texto">([^<]*)</div>', page.text)
        assert report is not None
        # whole names of every applicant, and the parts of PED-1's applicant's name alone
        assert report[1] == (
            f"Visita à casa de {REDACTED}; o vizinho {REDACTED} confirmou. Seu {REDACTED} "
            "mostrou a rua escura."
        )
        words = text_of(page.text)
        assert f"Comprovante de residência de {REDACTED}" in words
        assert f"Entregue por {REDACTED} em nome de {REDACTED}" in words
        assert f"Motivação: Seu {REDACTED} e {REDACTED} relatam assaltos" in words
        assert f"falta a conta de luz de {REDACTED}" in words
    client = _client(registry)
    login(client, "ana")
    page = client.get(f"/pedidos/{request_id}").text
    assert REPORT in page
    assert f"falta a conta de luz de {BENEDITO}" in text_of(page)


def test_meeting_page_redacts_names_for_consulta(registry: Registry) -> None:
    from geo_ip.registry import meetings

    rules = load_rules("demo")
    with registry.session() as session:
        cycle = store.find_cycle(session)
        meeting = meetings.open_meeting(
            session, cycle, title=f"Reunião sobre o pedido de {JOANA}", place="Prefeitura",
            actor="ana",
        )  # fmt: skip
        meetings.set_presence(session, meeting, ["ana", "bruno"], actor="ana")
        store.add_decision(
            session, _request(session, "PED-2"),
            store.DecisionInput("seguranca", 5.0, "Dona Joana não compareceu"), rules,
            actor="ana", expected_version=None, meeting_id=meeting.id,
        )  # fmt: skip
        meeting_id = meeting.id
    client = _client(registry)
    login(client, "carla")
    page = client.get(f"/reunioes/{meeting_id}")
    assert page.status_code == 200
    _clear_of_names(page.text)
    words = text_of(page.text)
    assert f"Reunião nº {meeting_id}: Reunião sobre o pedido de {REDACTED}" in words
    assert f"Dona {REDACTED} não compareceu" in words  # PED-2's applicant: parts go too
    _clear_of_names(client.get("/reunioes").text)
    ana = _client(registry)
    login(ana, "ana")
    assert "Dona Joana não compareceu" in text_of(ana.get(f"/reunioes/{meeting_id}").text)


def test_minutes_never_carry_applicants_names_nor_cpfs() -> None:
    minutes = Minutes(
        municipality="Extrema/MG", law="Lei nº 5.442/2026", cycle="2026", number=3,
        title=f"Reunião do pedido de {JOANA}", place="Sala 2",
        opened=datetime(2026, 11, 20, 9, 0), closed=datetime(2026, 11, 20, 11, 0),
        opened_by="ana",
        members=[MinutesMember("Ana Presidente", "Presidente")],
        decisions=[
            MinutesDecision("PED-1", "Segurança", "10", f"Seu Benedito, CPF {CPF}, relatou",
                            "Ana Presidente", "consenso"),
        ],
        notes=f"{JOANA} pediu vista.",
        applicants={"PED-1": BENEDITO, "PED-2": JOANA},
    )  # fmt: skip
    pdf = minutes_pdf(minutes)
    words = " ".join(
        " ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )
    _clear_of_names(words)
    assert "123.456" not in words
    assert "Ana Presidente — Presidente" in words  # the members sign
    assert f"{REDACTED} pediu vista." in words
    assert f"Reunião do pedido de {REDACTED}" in words
    assert "PED-1" in words


def test_decisions_csv_redacted_for_consulta(registry: Registry) -> None:
    _write_texts(registry)
    carla = _client(registry)
    login(carla, "carla")
    answer = carla.get("/decisoes.csv")
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8"))))
    ped1 = [r for r in rows if r["protocolo"] == "PED-1" and r["criterio"] == "seguranca"]
    assert [r["motivacao"] for r in ped1] == [f"Seu {REDACTED} e {REDACTED} relatam assaltos"]
    _clear_of_names(answer.text)
    ana = _client(registry)
    login(ana, "ana")
    rows = list(csv.DictReader(io.StringIO(ana.get("/decisoes.csv").content.decode("utf-8"))))
    ped1 = [r for r in rows if r["protocolo"] == "PED-1" and r["criterio"] == "seguranca"]
    assert [r["motivacao"] for r in ped1] == [f"Seu Benedito e {JOANA} relatam assaltos"]


def _workbook_text(content: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return " | ".join(
        str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row
    )


def test_workbook_and_sheet_redacted_and_personal_downloads_logged(registry: Registry) -> None:
    _write_texts(registry)
    request_id = _id(registry, "PED-1")
    carla = _client(registry)
    login(carla, "carla")
    book = carla.get("/classificacao.xlsx")
    assert book.status_code == 200
    text = _workbook_text(book.content)
    assert f"Seu {REDACTED} e {REDACTED} relatam assaltos" in text
    _clear_of_names(text)
    assert "***.456.789-**" not in text  # no applicant's column at all for consulta
    sheet = carla.get(f"/pedidos/{request_id}/ficha.html")
    assert sheet.status_code == 200
    _clear_of_names(sheet.text)
    assert f"Seu {REDACTED} e {REDACTED} relatam assaltos" in text_of(sheet.text)
    assert _events(registry, "dados_pessoais_vistos") == []  # nothing personal was seen

    ana = _client(registry)
    login(ana, "ana")
    text = _workbook_text(ana.get("/classificacao.xlsx").content)
    assert "***.456.789-**" in text
    _clear_of_names(text)
    html = ana.get(f"/pedidos/{request_id}/ficha.html").text
    _clear_of_names(html)
    assert ana.get(f"/pedidos/{request_id}/ficha.pdf").status_code == 200
    seen = [
        (e.usuario, e.entidade, e.entidade_id, e.depois["finalidade"])
        for e in _events(registry, "dados_pessoais_vistos")
    ]
    assert seen == [
        ("ana", "ciclo", "2026", "planilha da classificação (XLSX)"),
        ("ana", "pedido", "PED-1", "ficha técnica (HTML)"),
        ("ana", "pedido", "PED-1", "ficha técnica (PDF)"),
    ]
    fields = _events(registry, "dados_pessoais_vistos")[0].depois["campos"]
    assert "cpf_solicitante" in fields and "cadunico" in fields


# --------------------------------------------------------------------------- 2. audit


def test_location_decision_event_records_what_it_moved(registry: Registry) -> None:
    with registry.session() as session:
        store.add_decision(
            session, _request(session, "PED-2"),
            store.DecisionInput("localizacao", None, "posição vista no local",
                                latitude=-22.851, longitude=-46.311),
            load_rules("demo"), actor="bruno", expected_version=None,
        )  # fmt: skip
    event = _events(registry, "decisao")[-1]
    assert event.entidade_id == "PED-2"
    assert {
        k: event.antes[k] for k in ("situacao", "pendencias", "geom", "pontuacao_decidida")
    } == {
        "situacao": "pendente_localizacao",
        "pendencias": ["localizacao", "vistoria"],
        "geom": "POINT (-46.3100000 -22.8500000)",
        "pontuacao_decidida": 50.0,
    }
    assert {
        k: event.depois[k] for k in ("situacao", "pendencias", "geom", "pontuacao_decidida")
    } == {
        "situacao": "decidido",
        "pendencias": ["vistoria"],
        "geom": "POINT (-46.3110000 -22.8510000)",
        "pontuacao_decidida": 50.0,
    }
    assert event.depois["latitude"] == -22.851 and event.depois["motivacao"] == (
        "posição vista no local"
    )


def test_document_events_record_pending_items(registry: Registry) -> None:
    with registry.session() as session:
        asked = store.request_documents(
            session, _request(session, "PED-1"), "conta de luz", actor="bruno",
            asked=date.today() - timedelta(days=2),
        )  # fmt: skip
        store.answer_documents(session, asked, "conta entregue", actor="bruno",
                               day=date.today())  # fmt: skip
    asked_event = _events(registry, "documentos_solicitados")[-1]
    assert asked_event.antes == {"pendencias": []}
    assert asked_event.depois["pendencias"] == ["documentos"]
    answered = _events(registry, "documentos_respondidos")[-1]
    assert answered.antes == {"respondido_em": None, "resposta": "", "pendencias": ["documentos"]}
    assert answered.depois["pendencias"] == []
    assert answered.depois["resposta"] == "conta entregue"
    assert answered.depois["respondido_em"] == date.today().isoformat()


# --------------------------------------------------------------------------- 3. answers


def test_an_answer_is_never_overwritten_nor_misdated(registry: Registry) -> None:
    asked_on = date.today() - timedelta(days=5)
    with registry.session() as session:
        asked = store.request_documents(
            session, _request(session, "PED-1"), "conta de luz", actor="ana", asked=asked_on
        )
        asked_id = asked.id
    bad_days = {
        date(1900, 1, 1): "não pode ser anterior a",
        asked_on - timedelta(days=1): "não pode ser anterior a",
        date.today() + timedelta(days=1): "não pode ser futura",
    }
    for day, message in bad_days.items():
        with pytest.raises(store.RegistryError, match=message), registry.session() as session:
            row = session.get(DocumentRequest, asked_id)
            assert row is not None
            store.answer_documents(session, row, "entregue", actor="ana", day=day)
    with registry.session() as session:
        row = session.get(DocumentRequest, asked_id)
        assert row is not None
        store.answer_documents(session, row, "conta entregue", actor="ana", day=asked_on)
    refused = pytest.raises(store.RegistryError, match="já foi respondida em")
    with refused, registry.session() as session:
        row = session.get(DocumentRequest, asked_id)
        assert row is not None
        store.answer_documents(session, row, "outra coisa", actor="bruno")
    # a hostile form post for the answered request is refused too
    client = _client(registry)
    csrf = login(client, "bruno")
    answer = client.post(
        f"/documentos/{asked_id}/resposta",
        data={"resposta": "sobrescrita", "data": "1900-01-01", "csrf": csrf},
    )
    assert answer.status_code == 422
    assert "já foi respondida em" in text_of(answer.text)
    with registry.session() as session:
        row = session.get(DocumentRequest, asked_id)
        assert row is not None
        assert (row.resposta, row.respondido_em) == ("conta entregue", asked_on)
    assert len(_events(registry, "documentos_respondidos")) == 1


# --------------------------------------------------------------------------- 4. CSP


def test_sheet_html_has_a_policy_allowing_its_own_style(registry: Registry) -> None:
    client = _client(registry)
    login(client, "carla")
    answer = client.get(f"/pedidos/{_id(registry, 'PED-1')}/ficha.html")
    assert answer.status_code == 200
    styles = re.findall(r"<style[^>]*>(.*?)</style>", answer.text, re.DOTALL)
    assert len(styles) == 1
    digest = base64.b64encode(hashlib.sha256(styles[0].encode("utf-8")).digest()).decode()
    policy = {
        part.split()[0]: part.split()[1:]
        for part in answer.headers["content-security-policy"].split(";")
        if part.strip()
    }
    assert policy["style-src"] == [f"'sha256-{digest}'"]
    assert policy["default-src"] == ["'none'"]  # no script, no connection
    assert "script-src" not in policy
    assert policy["img-src"] == ["data:"]
    # the app's pages keep the strict policy
    page = client.get("/reunioes")
    assert "style-src 'self'" in page.headers["content-security-policy"]
