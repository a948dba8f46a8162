"""The commission's decisions: reading and checking the file, applying it to suggestions."""

from __future__ import annotations

import logging
import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import shapely
from openpyxl import Workbook

from geo_ip.errors import InputFileError
from geo_ip.law.decisions import ACT_COLUMNS, accepted_hardship, apply, apply_acts
from geo_ip.requests.decision_file import REJECTED_COLUMNS, criterion_from_label, read_decisions
from geo_ip.rules.config import load_rules
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.schema import DECISION_COLUMNS

RULES = load_rules("extrema")
TODAY = date(2026, 11, 20)
PROTOCOLS = {"PED-1", "PED-2"}
HEADER = "protocolo,criterio,pontos,motivacao,membro,data\n"


def _csv(tmp_path: Path, body: str, header: str = HEADER, name: str = "decisoes.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + body, encoding="utf-8")
    return path


def _read(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return read_decisions(path, RULES, PROTOCOLS, today=TODAY)


def test_the_weights_these_tests_rely_on() -> None:
    weights = [getattr(RULES.criterios, c).peso.valor for c in CRITERIA]
    assert weights == [40, 15, 15, 15, 15]


# --- labels ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("beneficiarios", "beneficiarios"),
        ("Beneficiários", "beneficiarios"),
        ("Número de beneficiários diretos e indiretos", "beneficiarios"),
        ("I", "beneficiarios"),
        ("II", "seguranca"),
        ("segurança pública", "seguranca"),
        ("Segurança viária", "seguranca"),
        ("Art. 9, III", "trafego"),
        ("Impacto sobre o tráfego de veículos e o fluxo de pedestres", "trafego"),
        ("custo-benefício", "custo_beneficio"),
        ("CUSTO_BENEFICIO", "custo_beneficio"),
        ("IV - custo-benefício social", "custo_beneficio"),
        ("critério V", "viabilidade"),
        ("viabilidade técnica", "viabilidade"),
    ],
)
def test_criterion_labels(label: str, expected: str) -> None:
    assert criterion_from_label(label) == (expected, [expected])


def test_criterion_labels_unknown_or_ambiguous() -> None:
    assert criterion_from_label("iluminação") == (None, [])
    assert criterion_from_label("") == (None, [])
    assert criterion_from_label("II - tráfego") == (None, ["seguranca", "trafego"])


# --- reading --------------------------------------------------------------------------------


def test_valid_decisions_with_labels_decimal_comma_and_case(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        'PED-1,Beneficiários,30,"mais casas do que o declarado",Maria,20/11/2026\n'
        "ped-2,II,12,ocorrências recentes,,\n"
        'PED-2,Art. 9 III,"7,5",via local,João,2026-11-19\n',
    )
    decisions, rejected = _read(path)
    assert rejected.empty and list(rejected.columns) == list(REJECTED_COLUMNS)
    assert list(decisions.columns) == list(DECISION_COLUMNS)
    assert decisions[["latitude", "longitude"]].isna().all().all()  # only localizacao has them
    assert decisions.drop(columns=["latitude", "longitude"]).to_dict("records") == [
        {
            "linha": 2,
            "protocolo": "PED-1",
            "criterio": "beneficiarios",
            "pontos": 30.0,
            "motivacao": "mais casas do que o declarado",
            "membro": "Maria",
            "data": date(2026, 11, 20),
            "procedimento": "",
        },
        {
            "linha": 3,
            "protocolo": "PED-2",
            "criterio": "seguranca",
            "pontos": 12.0,
            "motivacao": "ocorrências recentes",
            "membro": "",
            "data": None,
            "procedimento": "",
        },
        {
            "linha": 4,
            "protocolo": "PED-2",
            "criterio": "trafego",
            "pontos": 7.5,
            "motivacao": "via local",
            "membro": "João",
            "data": date(2026, 11, 19),
            "procedimento": "",
        },
    ]


def test_each_rejection_reason_with_its_message(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "PED-9,trafego,5,x,,\n"  # 2
        "PED-1,iluminação,5,x,,\n"  # 3
        "PED-1,custo-benefício,abc,x,,\n"  # 4
        "PED-1,viabilidade técnica,-3,x,,\n"  # 5
        "PED-2,IV,16,x,,\n"  # 6
        "PED-1,I,40.5,x,,\n"  # 7
        'PED-2,segurança pública,10,"",,\n'  # 8
        "PED-2,II - tráfego,10,x,,\n"  # 9
        ",,,x,,\n"  # 10
        "PED-2,trafego,5,x,,2026-13-01\n"  # 11
        "PED-2,viabilidade,5,x,,2027-01-01\n"  # 12
        "PED-2,viabilidade,5,x,,ontem\n"  # 13
        "PED-1,trafego,15,x,,\n",  # 14 (valid)
    )
    decisions, rejected = _read(path)
    assert decisions["linha"].tolist() == [14]
    where = f"arquivo '{path}', linha"
    messages = dict(zip(rejected["linha"], rejected["motivo"], strict=True))
    assert messages == {
        2: f"{where} 2: campo 'protocolo': protocolo 'PED-9' não consta da avaliação",
        3: f"{where} 3: campo 'criterio': critério desconhecido ('iluminação'); use "
        "beneficiarios, seguranca, trafego, custo_beneficio ou viabilidade (ou I a V, na ordem "
        "do Art. 9); ou um ato sem pontos: hipossuficiencia, art11, art12 ou localizacao",
        4: f"{where} 4: campo 'pontos': não é um número ('abc')",
        5: f"{where} 5: campo 'pontos': valor negativo (-3)",
        6: f"{where} 6: campo 'pontos': 16 pontos acima do máximo de 15 do critério "
        "'custo_beneficio' (Art. 9, IV)",
        7: f"{where} 7: campo 'pontos': 40,5 pontos acima do máximo de 40 do critério "
        "'beneficiarios' (Art. 9, I)",
        8: f"{where} 8: campo 'motivacao': obrigatória, está vazia (Art. 9 §1 e Art. 10, V: "
        "toda pontuação é motivada)",
        9: f"{where} 9: campo 'criterio': critério ambíguo ('II - tráfego'): seguranca ou trafego",
        10: f"{where} 10: campo 'protocolo': obrigatório, está vazio | campo 'criterio': "
        "obrigatório, está vazio | campo 'pontos': obrigatório, está vazio",
        11: f"{where} 11: campo 'data': data inexistente ('2026-13-01')",
        12: f"{where} 12: campo 'data': data futura (2027-01-01) | campos 'protocolo' e "
        "'criterio': decisão repetida para o protocolo 'PED-2' e o critério 'viabilidade' "
        "(linhas 12, 13); nenhuma foi aplicada, deixe uma só",
        13: f"{where} 13: campo 'data': data em formato não reconhecido ('ontem'); use "
        "dd/mm/aaaa ou aaaa-mm-dd | campos 'protocolo' e 'criterio': decisão repetida para o "
        "protocolo 'PED-2' e o critério 'viabilidade' (linhas 12, 13); nenhuma foi aplicada, "
        "deixe uma só",
    }
    assert rejected.set_index("linha").loc[2, "protocolo"] == "PED-9"
    assert rejected.set_index("linha").loc[3, "criterio"] == "iluminação"


def test_duplicated_protocol_and_criterion_rejects_both(tmp_path: Path) -> None:
    path = _csv(tmp_path, "PED-1,Segurança,8,a,,\nped-1,seguranca,9,b,,\nPED-1,trafego,5,c,,\n")
    decisions, rejected = _read(path)
    assert decisions["criterio"].tolist() == ["trafego"]
    assert rejected["linha"].tolist() == [2, 3]
    assert rejected["motivo"].iloc[0] == (
        f"arquivo '{path}', linha 2: campos 'protocolo' e 'criterio': decisão repetida para o "
        "protocolo 'PED-1' e o critério 'seguranca' (linhas 2, 3); nenhuma foi aplicada, deixe "
        "uma só"
    )


def test_xlsx_with_title_row_and_header_synonyms(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Reunião da Comissão de 20/11/2026"])
    sheet.append(["Nº Protocolo", "Critério", "Pontuação", "Justificativa", "Membro da Comissão"])
    sheet.append(["PED-1", "Viabilidade técnica", 10, "poste a 20 m", "Maria"])
    sheet.append(["PED-2", "I", 12.5, "duas casas a mais", None])
    path = tmp_path / "decisoes.xlsx"
    book.save(path)
    decisions, rejected = _read(path)
    assert rejected.empty
    columns = ["linha", "protocolo", "criterio", "pontos", "membro"]
    assert decisions[columns].values.tolist() == [
        [3, "PED-1", "viabilidade", 10.0, "Maria"],
        [4, "PED-2", "beneficiarios", 12.5, ""],
    ]


def test_semicolon_latin1_csv(tmp_path: Path) -> None:
    path = tmp_path / "decisoes.csv"
    path.write_bytes(
        "Protocolo;Critério;Pontos;Motivação\nPED-1;segurança;15;escola\n".encode("cp1252")
    )
    decisions, _ = _read(path)
    assert decisions[["criterio", "pontos", "motivacao"]].iloc[0].tolist() == [
        "seguranca",
        15.0,
        "escola",
    ]


def test_header_only_gives_no_decision_and_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="geo_ip"):
        decisions, rejected = _read(_csv(tmp_path, ""))
    assert decisions.empty and rejected.empty
    assert list(decisions.columns) == list(DECISION_COLUMNS)
    assert "só o cabeçalho, nenhuma decisão da Comissão" in caplog.text


def test_empty_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="arquivo vazio"):
        _read(_csv(tmp_path, "", header=""))
    with pytest.raises(InputFileError, match="arquivo de decisões da Comissão não encontrado"):
        _read(tmp_path / "nao_existe.csv")
    bad = tmp_path / "corrompido.xlsx"
    bad.write_bytes(b"PK\x03\x04 isto nao e um zip")
    with pytest.raises(InputFileError, match="planilha XLSX corrompida ou ilegível"):
        _read(bad)
    with pytest.raises(InputFileError, match=r"\.xls \(Excel 97-2003\) não suportado"):
        _read(_csv(tmp_path, "x", name="decisoes.xls"))


def test_missing_required_column(tmp_path: Path) -> None:
    path = _csv(tmp_path, "PED-1,seguranca,10\n", header="protocolo,criterio,pontos\n")
    with pytest.raises(InputFileError) as info:
        _read(path)
    assert str(info.value) == (
        f"arquivo '{path}', campo 'motivacao': coluna obrigatória 'motivacao' não encontrada; "
        "colunas encontradas: 'protocolo', 'criterio', 'pontos'"
    )


# --- apply ----------------------------------------------------------------------------------


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "protocolo": ["PED-1", "PED-2"],
            "sugerido_beneficiarios": [20.0, 32.0],
            "sugerido_seguranca": [10.0, 5.0],
            "sugerido_trafego": [15.0, 5.0],
            "sugerido_custo_beneficio": [10.0, 15.0],
            "sugerido_viabilidade": [5.0, 10.0],
        }
    )


def _decisions(rows: list[dict[str, object]]) -> pd.DataFrame:
    base = {"linha": 2, "membro": "", "data": None, "motivacao": "motivo"}
    return pd.DataFrame([{**base, **r} for r in rows], columns=list(DECISION_COLUMNS))


def test_apply_without_decisions_keeps_the_suggestions() -> None:
    out = apply(_table(), _decisions([]), RULES)
    assert out["pontuacao_total"].tolist() == [60.0, 67.0]  # 20+10+15+10+5, 32+5+5+15+10
    for c in CRITERIA:
        assert out[f"pont_{c}"].tolist() == _table()[f"sugerido_{c}"].tolist()
        assert out[f"decisao_{c}"].tolist() == ["", ""]
        assert out[f"alterado_{c}"].tolist() == [False, False]


def test_apply_changes_points_and_records_who_when_why() -> None:
    decisions = _decisions(
        [
            {
                "protocolo": "PED-1",
                "criterio": "beneficiarios",
                "pontos": 30.0,
                "membro": "Maria",
                "data": date(2026, 11, 20),
                "motivacao": "mais casas do que o declarado",
            },
            {"protocolo": "PED-1", "criterio": "seguranca", "pontos": 10.0, "motivacao": "confere"},
            {"protocolo": "PED-2", "criterio": "trafego", "pontos": 7.5, "membro": "João"},
        ]
    )
    out = apply(_table(), decisions, RULES)
    assert out["pont_beneficiarios"].tolist() == [30.0, 32.0]
    assert out["decisao_beneficiarios"].tolist() == [
        "alterado de 20 para 30 por Maria (20/11/2026): mais casas do que o declarado",
        "",
    ]
    assert out["alterado_beneficiarios"].tolist() == [True, False]
    assert out["decisao_seguranca"].iloc[0] == "mantido em 10: confere"
    assert out["alterado_seguranca"].tolist() == [False, False]
    assert out["decisao_trafego"].iloc[1] == "alterado de 5 para 7,5 por João: motivo"
    assert out["pontuacao_total"].tolist() == [70.0, 69.5]  # 30+10+15+10+5; 32+5+7,5+15+10


def test_apply_fills_a_missing_suggestion() -> None:
    table = _table()
    table.loc[1, "sugerido_viabilidade"] = math.nan
    out = apply(table, _decisions([]), RULES)
    assert math.isnan(out["pontuacao_total"].iloc[1])
    decided = _decisions([{"protocolo": "PED-2", "criterio": "viabilidade", "pontos": 12.0}])
    out = apply(table, decided, RULES)
    assert out["decisao_viabilidade"].iloc[1] == "atribuído 12 (sem pontuação sugerida): motivo"
    assert bool(out["alterado_viabilidade"].iloc[1])
    assert out["pontuacao_total"].iloc[1] == 69.0  # 32+5+5+15+12


def test_apply_round_trip_from_a_file(tmp_path: Path) -> None:
    path = _csv(tmp_path, "PED-2,custo-benefício,5,custo alto da travessia,Ana,2026-11-18\n")
    decisions, _ = _read(path)
    out = apply(_table(), decisions, RULES)
    assert out["decisao_custo_beneficio"].tolist() == [
        "",
        "alterado de 15 para 5 por Ana (18/11/2026): custo alto da travessia",
    ]
    assert out["pontuacao_total"].tolist() == [60.0, 57.0]


def test_apply_refuses_points_above_the_weight_and_duplicates() -> None:
    above = _decisions([{"protocolo": "PED-1", "criterio": "seguranca", "pontos": 16.0}])
    with pytest.raises(ValueError, match=r"pont_seguranca: 1 value\(s\) outside 0..15"):
        apply(_table(), above, RULES)
    twice = _decisions(
        [
            {"protocolo": "PED-1", "criterio": "seguranca", "pontos": 1.0},
            {"protocolo": "PED-1", "criterio": "seguranca", "pontos": 2.0},
        ]
    )
    with pytest.raises(ValueError, match="more than once"):
        apply(_table(), twice, RULES)
    with pytest.raises(ValueError, match="sugerido_viabilidade"):
        apply(_table().drop(columns="sugerido_viabilidade"), _decisions([]), RULES)


def test_apply_ignores_decisions_of_other_protocols(caplog: pytest.LogCaptureFixture) -> None:
    other = _decisions([{"protocolo": "PED-9", "criterio": "seguranca", "pontos": 1.0}])
    with caplog.at_level(logging.WARNING, logger="geo_ip"):
        out = apply(_table(), other, RULES)
    assert out["pontuacao_total"].tolist() == [60.0, 67.0]
    assert "fora da tabela" in caplog.text


# --- acts without points: hardship (Art. 4 §2, III), Art. 11, Art. 12 -----------------------

ACTS_HEADER = "protocolo,criterio,pontos,motivacao,membro,data,procedimento\n"


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("hipossuficiencia", "hipossuficiencia"),
        ("Hipossuficiência", "hipossuficiencia"),
        ("art11", "art11"),
        ("Art. 11", "art11"),
        ("art12", "art12"),
        ("Art. 12", "art12"),
        ("execução direta", "art12"),
    ],
)
def test_act_labels(label: str, expected: str) -> None:
    assert criterion_from_label(label) == (expected, [expected])


def test_acts_are_read_with_member_date_and_procedure(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        'PED-1,hipossuficiencia,,"contracheque e declaração do CRAS",Maria,2026-11-12,\n'
        'PED-2,art12,,"relatório técnico 7/2026; interesse público: alunos",Secretário,'
        "2026-11-14,PA-42/2026\n",
        header=ACTS_HEADER,
    )
    decisions, rejected = _read(path)
    assert rejected.empty
    assert decisions["criterio"].tolist() == ["hipossuficiencia", "art12"]
    assert decisions["procedimento"].tolist() == ["", "PA-42/2026"]
    assert math.isnan(decisions["pontos"].iloc[0])
    assert accepted_hardship(decisions) == {
        "PED-1": "decidido por Maria em 12/11/2026: contracheque e declaração do CRAS"
    }


def test_acts_are_refused_without_what_the_law_requires(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "PED-1,hipossuficiencia,5,documentos,Maria,2026-11-12,\n"
        "PED-1,art12,,,Secretário,,\n"
        "PED-2,art11,,parecer 1/2026,Comissão,2026-11-13,\n"
        "PED-2,art12,,relatório,Secretário,2026-11-14,PA-1\n",
        header=ACTS_HEADER,
    )
    decisions, rejected = _read(path)
    assert decisions.empty
    where = f"arquivo '{path}', linha"
    assert rejected["motivo"].tolist() == [
        f"{where} 2: campo 'pontos': a decisão 'hipossuficiencia' não tem pontos (aceita a "
        "comprovação da hipossuficiência, Art. 4 §2, III); deixe o campo vazio",
        f"{where} 3: campo 'motivacao': obrigatória, está vazia (Art. 12 §2: relatório técnico "
        "e justificativa de interesse público) | campo 'data': obrigatória na decisão 'art12' "
        "(quando foi decidida; ordena as reservas de orçamento dos Arts. 11 e 12) | campo "
        "'procedimento': obrigatório na decisão 'art12' (número do procedimento administrativo "
        "próprio, Art. 12 §2)",
        f"{where} 4: campo 'criterio': o protocolo 'PED-2' tem decisão 'art11' e 'art12' "
        "(linhas 4, 5); um pedido é estratégico (Art. 11) ou de execução direta (Art. 12), não "
        "os dois: nenhuma foi aplicada",
        f"{where} 5: campo 'criterio': o protocolo 'PED-2' tem decisão 'art11' e 'art12' "
        "(linhas 4, 5); um pedido é estratégico (Art. 11) ou de execução direta (Art. 12), não "
        "os dois: nenhuma foi aplicada",
    ]


def test_apply_acts_orders_reservations_by_decision_date_then_row(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "PED-2,art11,,parecer 2/2026,Comissão,2026-11-14,\n"
        "PED-1,art12,,relatório 7/2026,Secretário,2026-11-13,PA-9\n"
        "PED-1,seguranca,15,vistoria,Comissão,2026-11-12,\n",
        header=ACTS_HEADER,
    )
    decisions, rejected = _read(path)
    assert rejected.empty
    table = pd.DataFrame({"protocolo": ["PED-1", "PED-2", "PED-3"]})
    out = apply_acts(table, decisions)
    assert list(out.columns) == ["protocolo", *ACT_COLUMNS]
    assert out["art12_decidido"].tolist() == [True, False, False]
    assert out["art11_decidido"].tolist() == [False, True, False]
    assert out["ordem_ato"].tolist() == [1, 2, pd.NA]
    assert out["procedimento_art12"].tolist() == ["PA-9", "", ""]
    assert out["decisao_art12"].iloc[0] == (
        "decidido por Secretário em 13/11/2026, procedimento administrativo PA-9: relatório 7/2026"
    )
    assert out["decisao_art11"].iloc[1] == "decidido por Comissão em 14/11/2026: parecer 2/2026"
    # the points decision is apply()'s, not an act
    assert (out["decisao_hipossuficiencia"] == "").all()


# --- the place confirmed by the Commission (localizacao, issue 18) ---------------------------

PLACE_HEADER = "protocolo,criterio,pontos,motivacao,membro,data,lat,lon\n"
# a square municipality around (-22.9, -46.39), in EPSG:4326 (x = longitude)
SQUARE = shapely.box(-46.40, -22.91, -46.38, -22.89)


def _read_places(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return read_decisions(path, RULES, PROTOCOLS, today=TODAY, boundary=SQUARE)


@pytest.mark.parametrize(
    "label", ["localizacao", "Localização", "local confirmado", "confirmação do local"]
)
def test_place_labels(label: str) -> None:
    assert criterion_from_label(label) == ("localizacao", ["localizacao"])


def test_place_is_read_with_its_coordinates(tmp_path: Path) -> None:
    # "lat"/"lon" are synonyms of latitude/longitude; a decimal comma is accepted
    path = _csv(
        tmp_path,
        'PED-1,localizacao,,"vistoria: casa azul no fim da rua",Maria,2026-11-12,"-22,9005",'
        "-46.3851\n",
        header=PLACE_HEADER,
    )
    decisions, rejected = _read_places(path)
    assert rejected.empty
    assert decisions[["criterio", "latitude", "longitude"]].to_dict("records") == [
        {"criterio": "localizacao", "latitude": -22.9005, "longitude": -46.3851}
    ]
    assert math.isnan(decisions["pontos"].iloc[0])
    out = apply_acts(pd.DataFrame({"protocolo": ["PED-1", "PED-2"]}), decisions)
    assert out["decisao_localizacao"].tolist() == [
        "decidido por Maria em 12/11/2026, local confirmado em (-22,9005; -46,3851): vistoria: "
        "casa azul no fim da rua",
        "",
    ]
    # no budget reservation, no Art. 11/12 flag
    assert not out["art11_decidido"].any() and not out["art12_decidido"].any()
    assert out["ordem_ato"].isna().all()


def test_place_is_refused_without_what_it_needs(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "PED-1,localizacao,,vistoria,Maria,2026-11-12,,-46.3851\n"
        "PED-2,localizacao,,vistoria,Maria,2026-11-12,-23.5,-46.6\n"
        "PED-1,local,5,vistoria,Maria,2026-11-12,-22.9,-46.39\n"
        "PED-2,localização,,,,,norte,-246.39\n"
        "PED-1,seguranca,10,vistoria,Maria,2026-11-12,-22.9,\n",
        header=PLACE_HEADER,
    )
    decisions, rejected = _read_places(path)
    assert decisions.empty
    where = f"arquivo '{path}', linha"
    assert rejected["motivo"].tolist() == [
        f"{where} 2: campo 'latitude': obrigatório na decisão 'localizacao' (o local "
        "confirmado pela Comissão, em graus decimais, como -22,85412) | campos 'protocolo' e "
        "'criterio': decisão repetida para o protocolo 'PED-1' e o critério 'localizacao' "
        "(linhas 2, 4); nenhuma foi aplicada, deixe uma só",
        f"{where} 3: campos 'latitude'/'longitude': ponto (-23.5, -46.6) fora do município "
        "| campos 'protocolo' e 'criterio': decisão repetida para o protocolo 'PED-2' e o "
        "critério 'localizacao' (linhas 3, 5); nenhuma foi aplicada, deixe uma só",
        f"{where} 4: campo 'pontos': a decisão 'localizacao' não tem pontos (confirma o local "
        "do pedido, Art. 7, II); deixe o campo vazio | campos 'protocolo' e 'criterio': decisão "
        "repetida para o protocolo 'PED-1' e o critério 'localizacao' (linhas 2, 4); nenhuma "
        "foi aplicada, deixe uma só",
        f"{where} 5: campo 'motivacao': obrigatória, está vazia (Art. 7, II e §1º: diga como o "
        "local foi confirmado (vistoria, fotos, croqui)) | campo 'membro': obrigatório na "
        "decisão 'localizacao' (quem decidiu, para o registro da decisão) | campo 'data': "
        "obrigatória na decisão 'localizacao' (quando o local foi confirmado, para o registro "
        "da decisão) | campo 'latitude': não é um número ('norte') | campo 'longitude': "
        "-246.39 fora do intervalo de -180 a 180 graus | campos 'protocolo' e 'criterio': "
        "decisão repetida para o protocolo 'PED-2' e o critério 'localizacao' (linhas 3, 5); "
        "nenhuma foi aplicada, deixe uma só",
        f"{where} 6: campo 'latitude': só a decisão 'localizacao' tem coordenadas (a decisão "
        "'seguranca' não muda o local do pedido); deixe o campo vazio",
    ]
