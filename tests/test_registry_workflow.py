"""Inspections, proposals to the Secretary and meetings in the registry (issue 20).

A small hand-made registry: the eight requests of ``tests/small_assessment.py`` (points
per criterion set to ``total × weight / 100``, so that every criterion stays within its
weight), recorded without the applicants' data, with a budget of R$ 10.000,00, and the
two acts its hand-checked table shows decided: Art. 11 for PED-5 (2026-11-13) and
Art. 12 for PED-4 (2026-11-14, procedure PA-0042/2026). PED-2 was located only by its
street (uncertainty 350 m, above the 100 m of the demo rules): it waits for its place
(``localizacao_pendente``, as ``geo-ip avaliar`` marks it) and for an inspection.

The live ranking, by hand (:func:`geo_ip.law.ranking.rank` and
:mod:`geo_ip.law.budget`; demo rules: 80 points or more → 100 %, 60 → 80 %, below →
50 %; Art. 11 and 12 works 100 %). Situations by precedence (``erro`` >
``pendente_localizacao`` > ``execucao_direta_art12`` > ``inelegivel`` >
``pendente_comprovacao`` > ``estrategico_art11``): the run has no personal data, so
the internal ``hipossuficiencia`` is derived from the public condition (``pendente`` →
``sem_comprovacao``: PED-3 and PED-8) and ``elegivel`` is the recorded one (PED-6
ineligible). Reservations in the order of the acts' dates (PED-5 on 13/11, PED-4 on
14/11): 10.000 − 2.000 (PED-5) = 8.000; − 3.000 (PED-4) = 5.000 for the ranking. The
only ranked request is PED-1 (80 points, 100 %): 4.000 fits, 1.000 left. Pending
requests are placed among the ranked ones (ranked rows ahead + 1) but get no share:

========= ======= ======================= ===== ============= ===================
protocolo posicao situacao                total municipal R$  budget
========= ======= ======================= ===== ============= ===================
PED-1     1       classificado            80    4.000 (100 %) selected, 1.000 left
PED-4     —       execucao_direta_art12   —     3.000 (100 %) 2nd reservation
PED-5     —       estrategico_art11       —     2.000 (100 %) 1st reservation
PED-2     —       pendente_localizacao    50    —             would be 2nd
PED-8     —       pendente_comprovacao    90    —             would be 1st
PED-3     —       pendente_comprovacao    70    —             would be 2nd
PED-6     —       inelegivel              60    —             —
PED-7     —       erro                    —     —             —
========= ======= ======================= ===== ============= ===================

Rows in the order of the lists (:func:`geo_ip.outputs.views.ordered_rows`): ranked,
Art. 12, Art. 11, pending location, pending proof (points descending), ineligible,
errors. Budget summary: reserved 5.000 (2 works), 5.000 after the reservations, 4.000
for the ranked (1 selected), 1.000 left.

Note: ``tests/small_assessment.py`` numbers the acts by hand (PED-4 1st, PED-5 2nd);
the registry orders them by their dates (PED-5 on 13/11 before PED-4 on 14/11), as
:func:`geo_ip.law.decisions.apply_acts` does. The amounts left are the same.
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import ExifTags, Image
from pypdf import PdfReader
from sqlalchemy import select, text

from geo_ip.law import ranking
from geo_ip.law.budget import budget_summary
from geo_ip.outputs.views import ordered_rows
from geo_ip.registry import audit, inspections, live, meetings, proposals, store
from geo_ip.registry.db import Registry, open_registry
from geo_ip.registry.models import (
    Decision,
    Event,
    Inspection,
    Meeting,
    Photo,
    Proposal,
    Request,
    StatusChange,
)
from geo_ip.rules.config import Rules, load_rules
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.webapp.users import add_user
from tests.small_assessment import BUDGET, PROCEDURE, small_assessment

KEY = b"k" * 32
SECRET = "segredo-de-teste-com-mais-de-32-bytes!!"
DAY = date(2026, 11, 20)
PASSWORD = "senha-bem-longa-1"
USERS = (
    ("ana", "Ana Presidente", "presidente"),
    ("bruno", "Bruno Membro", "membro"),
    ("carla", "Carla Consulta", "consulta"),
)
# 22° 51' 12.3456" S, 46° 18' 36" W
EXIF_LAT = -(22 + 51 / 60 + 12.3456 / 3600)
EXIF_LON = -(46 + 18 / 60 + 36 / 3600)


def small_table() -> tuple[pd.DataFrame, Rules]:
    """The small assessment's table, points within each criterion's weight."""
    assessment = small_assessment()
    table = assessment.table.copy()
    for c in CRITERIA:
        weight = float(getattr(assessment.rules.criterios, c).peso.valor)
        table[f"pont_{c}"] = table["pontuacao_total"] * weight / 100
        table[f"sugerido_{c}"] = table[f"pont_{c}"]
    table["distancia_rede_m"] = 50.0
    table["transformador"] = False
    # PED-2 was located only by its street: the place is too uncertain (350 m, above the
    # 100 m of avaliacao.incerteza_maxima_m), so it waits for its place (Art. 7, II and
    # §1) and asks for a check on site, as geo-ip avaliar marks it
    uncertain = table["protocolo"].eq("PED-2").to_numpy()
    table["incerteza_m"] = np.where(uncertain, 350.0, 10.0)
    table["localizacao_pendente"] = uncertain
    table["confirmar_no_local"] = np.where(uncertain, "confirmar a posição do pedido", "")
    # ranked again as geo-ip avaliar writes its table (situacao, shares, reasons)
    table = ranking.rank(table, assessment.rules, BUDGET)
    return table, assessment.rules


ACTS = (
    (
        "PED-5",
        store.DecisionInput(
            "art11", None,
            "Parecer técnico circunstanciado 01/2026: acesso noturno à escola",
            member="Comissão (relator fictício)", day=date(2026, 11, 13),
        ),
    ),
    (
        "PED-4",
        store.DecisionInput(
            "art12", None,
            "Relatório técnico 07/2026: via rural de alto fluxo, acesso à escola rural",
            member="Secretaria de Obras", day=date(2026, 11, 14), procedure=PROCEDURE,
        ),
    ),
)  # fmt: skip
"""The acts the small table shows decided: Art. 11 (PED-5) and Art. 12 (PED-4)."""


def build_registry(url: str, *, personal: bool = False) -> Registry:
    """Record the small table in a fresh registry, its two acts (:data:`ACTS`), three users.

    ``personal=True`` records the applicants' data too (eligibility is then checked
    again by the live ranking).
    """
    table, rules = small_table()
    registry = open_registry(url)
    with registry.session() as session:
        version = store.ensure_rules(session, rules, "sistema:teste")
        cycle = store.ensure_cycle(session, "2026", "sistema:teste", budget=BUDGET, rules=version)
        store.record_run(
            session, table, cycle=cycle, rules=version, actor="sistema:teste", origin="teste",
            provenance={"versao_ferramenta": "teste", "data_referencia": "2026-11-01"},
            personal=personal,
        )  # fmt: skip
        for protocol, act in ACTS:
            store.add_decision(
                session, _request(session, protocol), act, rules, actor="sistema:teste",
                expected_version=None,
            )  # fmt: skip
    for login, name, role in USERS:
        add_user(registry, login, name, role, PASSWORD)
    return registry


@pytest.fixture
def registry(registry_url: str) -> Registry:
    return build_registry(registry_url)


def _request(session: Any, protocol: str) -> Request:
    found = session.scalar(select(Request).where(Request.protocolo == protocol))
    assert found is not None
    return found


def exif_jpeg(size: tuple[int, int] = (1200, 800), orientation: int = 1) -> bytes:
    """A JPEG with an EXIF GPS position (22°51'12.3456"S 46°18'36"W) and time."""
    image = Image.new("RGB", size, (40, 120, 200))
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = {1: "S", 2: (22.0, 51.0, 12.3456), 3: "W", 4: (46.0, 18.0, 36.0)}
    exif[ExifTags.IFD.Exif] = {36867: "2026:11:20 14:03:05"}
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def plain_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (1000, 500), (0, 0, 0, 0)).save(out, "PNG")
    return out.getvalue()


# --------------------------------------------------------------------------- photos


def test_photo_position_time_and_thumbnail_without_metadata() -> None:
    content = exif_jpeg(orientation=6)  # rotated 90°: the thumbnail stands upright
    photo = inspections.read_photo("../../DCIM/IMG 0001.jpg", content)
    assert photo.latitude == pytest.approx(EXIF_LAT, abs=1e-6)
    assert photo.longitude == pytest.approx(EXIF_LON, abs=1e-6)
    assert round(photo.latitude, 6) == -22.853429
    assert round(photo.longitude, 6) == -46.31
    assert photo.taken == "2026-11-20T14:03:05"
    assert (photo.mime, photo.width, photo.height) == ("image/jpeg", 1200, 800)
    assert photo.name == "IMG 0001.jpg"
    assert photo.content == content
    assert photo.sha256 == hashlib.sha256(content).hexdigest()
    with Image.open(io.BytesIO(photo.thumbnail)) as thumb:
        assert thumb.format == "JPEG"
        assert thumb.size == (213, 320)
        assert dict(thumb.getexif()) == {}


def test_png_without_exif_has_no_position() -> None:
    photo = inspections.read_photo("planta.png", plain_png())
    assert (photo.mime, photo.latitude, photo.longitude, photo.taken) == (
        "image/png", None, None, ""
    )  # fmt: skip
    with Image.open(io.BytesIO(photo.thumbnail)) as thumb:
        assert thumb.size == (320, 160)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "está vazia"),
        (b"GIF89a" + b"\x00" * 100, "não é uma imagem válida"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "não é uma imagem válida"),
        (exif_jpeg()[:600], "danificada"),
        (b"\xff" * (15 * 1024 * 1024 + 1), "passa de 15 MB"),
    ],
    ids=["vazia", "gif-falso", "svg", "truncada", "grande"],
)
def test_bad_photos_are_refused(content: bytes, message: str) -> None:
    with pytest.raises(store.RegistryError, match=message):
        inspections.read_photo("x.jpg", content)


def test_a_gif_is_not_accepted() -> None:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    with pytest.raises(store.RegistryError, match="não é JPEG, PNG nem WebP"):
        inspections.read_photo("x.gif", out.getvalue())


# --------------------------------------------------------------------------- inspections


def test_inspection_confirming_the_position_resolves_the_pending_location(
    registry: Registry,
) -> None:
    rules = load_rules("demo")
    with registry.session() as session:
        request = _request(session, "PED-2")
        assert request.situacao == "pendente_localizacao"
        version = request.versao
        given = inspections.InspectionInput(
            day=DAY, team="Ana  Presidente e Bruno Membro", houses=7,
            findings="Rua de terra, 7 casas habitadas.", latitude=-22.8531234,
            longitude=-46.3104321, accuracy_m=6.5, confirm_position=True,
            photos=[inspections.PhotoInput("IMG_1.jpg", exif_jpeg())],
        )  # fmt: skip
        inspection = inspections.record_inspection(
            session, request, given, rules, actor="bruno", member="Bruno Membro",
            expected_version=version,
        )  # fmt: skip
        inspection_id = inspection.id
    with registry.session() as session:
        request = _request(session, "PED-2")
        assert request.pendencias == []
        assert request.situacao == "decidido"
        assert request.geom == "POINT (-46.3104321 -22.8531234)"
        assert request.atualizado_por == "bruno"
        row = session.get(Inspection, inspection_id)
        assert row is not None
        assert (row.data, row.equipe, row.residencias_contadas) == (
            DAY, "Ana Presidente e Bruno Membro", 7
        )  # fmt: skip
        assert row.geom == "POINT (-46.3104321 -22.8531234)"
        assert (row.precisao_m, row.posicao_confirmada) == (6.5, True)
        photo = session.scalars(select(Photo).where(Photo.vistoria_id == inspection_id)).one()
        assert photo.exif_latitude == pytest.approx(EXIF_LAT, abs=1e-6)
        assert photo.exif_longitude == pytest.approx(EXIF_LON, abs=1e-6)
        assert photo.exif_data_hora == "2026-11-20T14:03:05"
        assert photo.conteudo == exif_jpeg()  # the original, EXIF included
        decision = session.scalars(
            select(Decision).where(Decision.pedido_id == request.id, Decision.vigente)
        ).one()
        assert (decision.criterio, decision.pontos, decision.membro, decision.data) == (
            "localizacao", None, "Bruno Membro", DAY
        )  # fmt: skip
        assert decision.motivacao == (
            "Posição confirmada em vistoria de 20/11/2026 por Ana Presidente e Bruno Membro"
        )
        assert (decision.latitude, decision.longitude) == (-22.8531234, -46.3104321)
        event = session.scalars(select(Event).where(Event.acao == "vistoria")).one()
        assert event.usuario == "bruno"
        assert event.entidade_id == "PED-2"
        assert event.depois["residencias_contadas"] == 7
        assert event.depois["fonte_posicao"] == "dispositivo"
        assert event.depois["fotos"][0]["sha256"] == hashlib.sha256(exif_jpeg()).hexdigest()
        cycle = store.find_cycle(session)
        exported = store.current_decisions(session, cycle)
        # by date: the two acts of the fixture (13/11, 14/11), then the place (20/11)
        assert exported[["protocolo", "criterio"]].values.tolist() == [
            ["PED-5", "art11"], ["PED-4", "art12"], ["PED-2", "localizacao"]
        ]  # fmt: skip
        located = exported[exported["criterio"] == "localizacao"]
        assert located[["latitude", "longitude"]].values.tolist() == [[-22.8531234, -46.3104321]]
        assert audit.verify(session).ok


def test_inspection_takes_the_photo_position_when_the_device_gave_none(
    registry: Registry,
) -> None:
    rules = load_rules("demo")
    with registry.session() as session:
        request = _request(session, "PED-1")
        given = inspections.InspectionInput(
            day=DAY, team="Bruno", houses=None, findings="",
            photos=[inspections.PhotoInput("a.png", plain_png()),
                    inspections.PhotoInput("b.jpg", exif_jpeg())],
        )  # fmt: skip
        inspection = inspections.record_inspection(
            session, request, given, rules, actor="bruno", expected_version=None
        )
        assert inspection.geom == "POINT (-46.3100000 -22.8534293)"
        assert inspection.posicao_confirmada is False
        assert request.situacao == "avaliado"  # not confirmed: no decision
        found = inspections.photos_of(session, [inspection.id])
        assert [p.nome for p in found[inspection.id]] == ["a.png", "b.jpg"]


def test_inspection_refusals_write_nothing(registry: Registry) -> None:
    rules = load_rules("demo")
    with registry.session() as session:
        request = _request(session, "PED-2")
        stale = request.versao - 1
        good = inspections.InspectionInput(day=DAY, team="Bruno")
        with pytest.raises(store.ConflictError, match="alterado por sistema:teste"):
            inspections.record_inspection(
                session, request, good, rules, actor="bruno", expected_version=stale
            )
        cases = [
            (inspections.InspectionInput(day=DAY, team=" "), "informe a equipe"),
            (inspections.InspectionInput(day=date(2999, 1, 1), team="B"), "não pode ser futura"),
            (inspections.InspectionInput(day=DAY, team="B", latitude=-22.8), "nenhuma das duas"),
            (
                inspections.InspectionInput(day=DAY, team="B", latitude=95.0, longitude=1.0),
                "fora do intervalo",
            ),
            (inspections.InspectionInput(day=DAY, team="B", houses=-1), "entre 0 e 100.000"),
            (
                inspections.InspectionInput(day=DAY, team="B", confirm_position=True),
                "para confirmar a posição",
            ),
            (
                inspections.InspectionInput(
                    day=DAY, team="B", photos=[inspections.PhotoInput("x.jpg", b"nada")]
                ),
                "não é uma imagem válida",
            ),
        ]
        for given, message in cases:
            with pytest.raises(store.RegistryError, match=message):
                inspections.record_inspection(
                    session, request, given, rules, actor="bruno", expected_version=None
                )
    with registry.session() as session:
        assert session.scalars(select(Inspection)).all() == []
        assert session.scalars(select(Event).where(Event.acao == "vistoria")).all() == []


# --------------------------------------------------------------------------- live ranking


def _live(registry: Registry) -> tuple[pd.DataFrame, dict[str, Any]]:
    with registry.session() as session:
        cycle = store.find_cycle(session)
        ranked = live.live_ranking(session, cycle, rules=live.rules_of(session, cycle), key=KEY)
        assert not ranked.eligibility_checked
        table = ordered_rows(ranked.table)
        return table, budget_summary(ranked.table, cycle.orcamento_rs)


def test_live_ranking_of_the_small_registry(registry: Registry) -> None:
    # the table of the module docstring, by hand
    table, summary = _live(registry)
    got = [
        (r.protocolo, None if pd.isna(r.posicao) else int(r.posicao), r.situacao,
         None if pd.isna(r.custo_municipio_rs) else r.custo_municipio_rs,
         bool(r.selecionado_orcamento))
        for r in table.itertuples()
    ]  # fmt: skip
    assert got == [
        ("PED-1", 1, "classificado", 4000.0, True),
        ("PED-4", None, "execucao_direta_art12", 3000.0, True),
        ("PED-5", None, "estrategico_art11", 2000.0, True),
        ("PED-2", None, "pendente_localizacao", None, False),
        ("PED-8", None, "pendente_comprovacao", None, False),
        ("PED-3", None, "pendente_comprovacao", None, False),
        ("PED-6", None, "inelegivel", None, False),
        ("PED-7", None, "erro", None, False),
    ]
    assert summary == {
        "orcamento_rs": 10_000.0, "reservado_rs": 5_000.0, "reservas": 2,
        "reservas_sem_saldo": 0, "saldo_apos_reservas_rs": 5_000.0,
        "classificados_rs": 4_000.0, "selecionados": 1, "saldo_final_rs": 1_000.0,
    }  # fmt: skip
    reason = dict(zip(table["protocolo"], table["motivo_situacao"], strict=True))
    assert reason["PED-1"] == (
        "1º na classificação por pontuação (Art. 13), com 80 pontos; participação do "
        "Município de 100 % (Art. 4 §1); selecionado no orçamento: custo municipal "
        "R$ 4.000,00, saldo restante R$ 1.000,00."
    )
    assert "1ª reserva no orçamento" in reason["PED-5"]
    assert reason["PED-5"].endswith("reservado; saldo restante R$ 8.000,00.")
    assert "procedimento administrativo PA-0042/2026" in reason["PED-4"]
    assert "2ª reserva no orçamento" in reason["PED-4"]
    assert reason["PED-4"].endswith("reservado; saldo restante R$ 5.000,00.")
    assert "incerteza de 350 m, acima do limite de 100 m" in reason["PED-2"]
    assert (
        "com 50 pontos no pior caso entre as posições possíveis, ficaria em 2º" in (reason["PED-2"])
    )
    assert "com 90 pontos, ficaria em 1º na classificação" in reason["PED-8"]
    assert "com 70 pontos, ficaria em 2º na classificação" in reason["PED-3"]
    with registry.session() as session:
        assert _request(session, "PED-2").pendencias == ["localizacao", "vistoria"]


def test_hardship_accepted_by_the_commission_ranks_a_pending_request(
    registry: Registry,
) -> None:
    # Art. 4 §2, III: documents accepted by the Commission prove hardship
    # (geo_ip.law.hardship.hardship_status: aceita_comissao). By hand: PED-8 is ranked
    # 1st (90 points, 100 %: R$ 1.000,00 of the R$ 5.000,00 left after the reservations,
    # 4.000 left), PED-1 2nd (80 points, R$ 4.000,00, 0 left); PED-3 and PED-2 would be
    # 3rd.
    with registry.session() as session:
        store.add_decision(
            session, _request(session, "PED-8"),
            store.DecisionInput("hipossuficiencia", None,
                                "Declaração de composição familiar e contracheques aceitos",
                                member="Comissão (relator fictício)", day=DAY),
            load_rules("demo"), actor="bruno", expected_version=None,
        )  # fmt: skip
    table, summary = _live(registry)
    ranked = table[table["posicao"].notna()]
    assert [
        (r.protocolo, int(r.posicao), r.situacao, r.custo_municipio_rs) for r in ranked.itertuples()
    ] == [("PED-8", 1, "classificado", 1000.0), ("PED-1", 2, "classificado", 4000.0)]
    assert (summary["selecionados"], summary["saldo_final_rs"]) == (2, 0.0)


# --------------------------------------------------------------------------- proposals


def _propose(registry: Registry, secret: str | bytes = SECRET) -> int:
    rules = load_rules("demo")
    with registry.session() as session:
        cycle = store.find_cycle(session)
        return proposals.propose(
            session, cycle, rules=rules, key=KEY, actor="ana", secret=secret
        ).id


def _statuses(registry: Registry) -> dict[str, str]:
    with registry.session() as session:
        return {r.protocolo: r.situacao for r in session.scalars(select(Request))}


def test_proposal_is_frozen_signed_and_tampering_is_detected(registry: Registry) -> None:
    proposal_id = _propose(registry)
    with registry.session() as session:
        proposal = session.get(Proposal, proposal_id)
        assert proposal is not None
        rows = proposal.classificacao
        # the live ranking of the module docstring: PED-1 ranked, the two reservations,
        # then PED-2 (pending location: no share, R$ None)
        assert [(r["protocolo"], r["posicao"], r["selecionado_orcamento"]) for r in rows[:4]] == [
            ("PED-1", 1, True), ("PED-4", None, True), ("PED-5", None, True),
            ("PED-2", None, False),
        ]  # fmt: skip
        assert [r["custo_municipio_rs"] for r in rows[:4]] == [4000.0, 3000.0, 2000.0, None]
        assert rows[0]["pont_beneficiarios"] == 32.0  # 80 × 40 / 100
        assert [r["protocolo"] for r in rows[4:]] == ["PED-8", "PED-3", "PED-6", "PED-7"]
        for row in rows:  # no personal data is frozen
            assert not {"cpf_solicitante", "nome_solicitante", "renda_familiar"} & set(row)
        summary = proposal.resumo
        assert summary["selecionados"] == ["PED-1", "PED-4", "PED-5"]
        assert summary["decisoes_vigentes"] == 2
        assert summary["orcamento"]["orcamento_rs"] == 10_000.0
        assert summary["orcamento"]["reservado_rs"] == 5_000.0
        assert summary["orcamento"]["saldo_final_rs"] == 1_000.0
        assert summary["proposta_por"] == "ana"
        document = proposals.canonical_json(rows, summary)
        assert json.loads(document) == {"classificacao": rows, "resumo": summary}
        assert proposal.sha256 == hashlib.sha256(document).hexdigest()
        assert proposals.verify_signature(proposal, SECRET)
        assert proposals.verify_signature(proposal, SECRET.encode())
        assert not proposals.verify_signature(proposal, "outro-segredo")
    assert _statuses(registry) == {
        "PED-1": "proposto", "PED-2": "pendente_localizacao", "PED-3": "avaliado",
        "PED-4": "proposto", "PED-5": "proposto", "PED-6": "inelegivel", "PED-7": "erro",
        "PED-8": "avaliado",
    }  # fmt: skip
    # someone with the database's rights moves PED-2 into the budget
    with registry.session() as session:
        proposal = session.get(Proposal, proposal_id)
        assert proposal is not None
        tampered = json.loads(json.dumps(proposal.classificacao))
        tampered[3]["selecionado_orcamento"] = True
        session.execute(
            text("UPDATE propostas SET classificacao = :c WHERE id = :i"),
            {"c": json.dumps(tampered), "i": proposal_id},
        )
    with registry.session() as session:
        proposal = session.get(Proposal, proposal_id)
        assert proposal is not None
        assert proposal.classificacao[3]["selecionado_orcamento"] is True
        assert not proposals.verify_signature(proposal, SECRET)


def test_secretary_homologates_and_the_selected_become_selecionado(registry: Registry) -> None:
    proposal_id = _propose(registry)
    with registry.session() as session:
        proposal = session.get(Proposal, proposal_id)
        assert proposal is not None
        with pytest.raises(store.RegistryError, match="homologado ou devolvido"):
            proposals.record_act(session, proposal, number="1", day=DAY, decision="talvez",
                                 text="", actor="ana")  # fmt: skip
        proposals.record_act(
            session, proposal, number=" 12/2026 ", day=DAY, decision="homologado",
            text="Homologo a classificação.", actor="ana",
        )  # fmt: skip
    with registry.session() as session:
        proposal = session.get(Proposal, proposal_id)
        assert proposal is not None
        assert (proposal.ato_numero, proposal.ato_data, proposal.ato_decisao) == (
            "12/2026", DAY, "homologado"
        )  # fmt: skip
        with pytest.raises(store.RegistryError, match="já tem o ato"):
            proposals.record_act(session, proposal, number="13", day=DAY,
                                 decision="devolvido", text="", actor="ana")  # fmt: skip
        assert proposals.verify_signature(proposal, SECRET)  # the act is not in the signature
        history = session.scalars(
            select(StatusChange.situacao)
            .join(Request, Request.id == StatusChange.pedido_id)
            .where(Request.protocolo == "PED-1")
            .order_by(StatusChange.id)
        ).all()
        assert history == ["avaliado", "proposto", "selecionado"]
        reserved = session.scalars(
            select(StatusChange.situacao)
            .join(Request, Request.id == StatusChange.pedido_id)
            .where(Request.protocolo == "PED-4")
            .order_by(StatusChange.id)
        ).all()
        assert reserved == ["avaliado", "decidido", "proposto", "selecionado"]
        assert audit.verify(session).ok
    statuses = _statuses(registry)
    assert [statuses[p] for p in ("PED-1", "PED-4", "PED-5", "PED-8", "PED-3", "PED-2")] == [
        "selecionado", "selecionado", "selecionado", "avaliado", "avaliado",
        "pendente_localizacao",
    ]  # fmt: skip


def test_returned_proposal_restores_the_statuses_and_a_new_one_supersedes(
    registry: Registry,
) -> None:
    first = _propose(registry)
    second = _propose(registry)
    with registry.session() as session:
        old = session.get(Proposal, first)
        assert old is not None
        with pytest.raises(store.RegistryError, match=f"substituída pela proposta nº {second}"):
            proposals.record_act(session, old, number="1", day=DAY, decision="homologado",
                                 text="", actor="ana")  # fmt: skip
        new = session.get(Proposal, second)
        assert new is not None
        proposals.record_act(session, new, number="2", day=DAY, decision="devolvido",
                             text="Rever custos.", actor="ana")  # fmt: skip
    statuses = _statuses(registry)
    # back to the status before the proposal: PED-4 and PED-5 had their acts decided
    assert [statuses[p] for p in ("PED-1", "PED-4", "PED-5", "PED-8", "PED-3")] == [
        "avaliado", "decidido", "decidido", "avaliado", "avaliado"
    ]  # fmt: skip


# --------------------------------------------------------------------------- meetings


def test_meeting_open_presence_decide_close_minutes(registry: Registry) -> None:
    rules = load_rules("demo")
    with registry.session() as session:
        cycle = store.find_cycle(session)
        meeting = meetings.open_meeting(
            session, cycle, title="3ª reunião ordinária", place="Sala <b>1</b>", actor="ana"
        )
        meeting_id = meeting.id
        with pytest.raises(store.RegistryError, match="ainda está aberta"):
            meetings.open_meeting(session, cycle, title="Outra", place="", actor="ana")
        with pytest.raises(store.RegistryError, match="não são membros ativos"):
            meetings.set_presence(session, meeting, ["ana", "carla"], actor="ana")
        present = meetings.set_presence(session, meeting, ["bruno", "ana"], actor="ana")
        assert [(p.nome, p.papel) for p in present] == [
            ("Ana Presidente", "presidente"), ("Bruno Membro", "membro")
        ]  # fmt: skip
    with registry.session() as session:
        assert meetings.open_meeting_for(session, "carla") is None
        found = meetings.open_meeting_for(session, "bruno")
        assert found is not None
        assert found.id == meeting_id
        request = _request(session, "PED-1")
        decision = store.add_decision(
            session, request,
            store.DecisionInput("beneficiarios", 36.0, "Contagem em campo: 9 casas & 1 escola.",
                                member="Bruno Membro", day=DAY),
            rules, actor="bruno", expected_version=request.versao, meeting_id=found.id,
        )  # fmt: skip
        meetings.record_vote(session, found, decision.id, "consenso", actor="ana")
        other = store.add_decision(
            session, _request(session, "PED-3"),
            store.DecisionInput("seguranca", 5.0, "Sem ocorrências.", member="Ana Presidente",
                                day=DAY),
            rules, actor="ana", expected_version=None, meeting_id=found.id,
        )  # fmt: skip
        meetings.record_vote(session, found, other.id, "2 a 0", actor="ana")
        outside = store.add_decision(
            session, _request(session, "PED-8"),
            store.DecisionInput("trafego", 10.0, "Fora da reunião.", day=DAY),
            rules, actor="ana", expected_version=None,
        )  # fmt: skip
        with pytest.raises(store.RegistryError, match="não foi tomada nesta reunião"):
            meetings.record_vote(session, found, outside.id, "consenso", actor="ana")
        assert [p for p, _ in meetings.meeting_decisions(session, found)] == ["PED-1", "PED-3"]
    with registry.session() as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        meetings.close_meeting(session, meeting, actor="ana", rules=rules, notes="Sem mais.")
    with registry.session() as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        assert meeting.encerrada_em is not None
        assert meeting.ata_pdf is not None
        assert meeting.ata_sha256 == hashlib.sha256(meeting.ata_pdf).hexdigest()
        reader = PdfReader(io.BytesIO(meeting.ata_pdf))
        pdf_text = " ".join((page.extract_text() or "") for page in reader.pages)
        words = " ".join(pdf_text.split())
        for expected in (
            "Município de Demonstração (dados fictícios)",
            "Lei nº 5.442/2026",
            "3ª reunião ordinária",
            "Sala <b>1</b>",  # typed text is shown, never read as markup
            "Ana Presidente",
            "Bruno Membro",
            "PED-1",
            "PED-3",
            "Contagem em campo: 9 casas & 1 escola.",
            "consenso",
            "2 a 0",
            "36",
            "Sem mais.",
            "regras sha256 " + rules.sha256[:20],
        ):
            assert expected in words, expected
        assert "PED-8" not in words
        assert words.count("Ana Presidente — Presidente") == 1  # a signature line each
        assert words.count("Bruno Membro — Membro") == 1
        # closed: every change is refused
        for change in (
            lambda: meetings.set_presence(session, meeting, ["ana"], actor="ana"),
            lambda: meetings.record_vote(session, meeting, 1, "consenso", actor="ana"),
            lambda: meetings.close_meeting(session, meeting, actor="ana"),
        ):
            with pytest.raises(store.RegistryError, match="já foi encerrada"):
                change()
        assert meetings.open_meeting_for(session, "bruno") is None
        event = session.scalars(select(Event).where(Event.acao == "reuniao_encerrada")).one()
        assert event.depois["ata_sha256"] == meeting.ata_sha256
        assert event.depois["presentes"] == ["Ana Presidente", "Bruno Membro"]
        assert audit.verify(session).ok


def test_a_meeting_needs_someone_present_to_close(registry: Registry) -> None:
    with registry.session() as session:
        cycle = store.find_cycle(session)
        meeting = meetings.open_meeting(session, cycle, title="Extra", place="", actor="ana")
        with pytest.raises(store.RegistryError, match="marque os membros presentes"):
            meetings.close_meeting(session, meeting, actor="ana")
        with pytest.raises(store.RegistryError, match="informe o título"):
            meetings.open_meeting(session, cycle, title="  ", place="", actor="ana")
