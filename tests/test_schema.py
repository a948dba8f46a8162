"""The columns the stages exchange are declared once, with their meaning (issue 19).

:mod:`geo_ip.schema` is the single list: every column of the demo assessment and of its
``ranking.csv`` is declared there with a one-line meaning, the ranking's public list holds
no personal data and keeps the header of ``ranking.csv`` as it was, and the modules that
make each table take their column tuples from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from geo_ip import schema
from geo_ip.evidence.context import CONTEXT_COLUMNS
from geo_ip.evidence.materials import BENEFICIARY_COLUMNS, BOM_COLUMNS
from geo_ip.law.decisions import ACT_COLUMNS
from geo_ip.law.eligibility import RESULT_COLUMNS
from geo_ip.law.ranking import RANKING_COLUMNS
from geo_ip.law.scoring import SUGGESTION_COLUMNS
from geo_ip.law.uncertainty import RANGE_COLUMNS
from geo_ip.network.gridpath import GRIDPATH_COLUMNS
from geo_ip.network.roads import SNAP_COLUMNS
from geo_ip.outputs.tables import write_csv
from geo_ip.outputs.views import INTERNAL_COLUMNS, PUBLIC_COLUMNS, internal_ranking, public_ranking
from geo_ip.requests import privacy
from geo_ip.requests.geocode import GEOCODE_COLUMNS
from geo_ip.requests.intake_io import CANONICAL
from geo_ip.requests.locate import LOCATED_COLUMNS
from geo_ip.rules.law_locks import CRITERIA
from tests.small_assessment import small_assessment

SEPARATE_TABLES = ("DECISIONS", "HISTORY")
"""Tables of their own (the decisions and history files), not the assessment table."""


def _declarations() -> dict[str, Mapping[str, str]]:
    """Every column mapping :mod:`geo_ip.schema` exports, by name."""
    return {
        name: value
        for name in schema.__all__
        if isinstance(value := getattr(schema, name), Mapping)
    }


@pytest.fixture(scope="module")
def ranking_header(demo_assessment: Any, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Header of the demo's ``ranking.csv``, as the writer writes it."""
    path = tmp_path_factory.mktemp("schema") / "ranking.csv"
    write_csv(public_ranking(demo_assessment), path)
    return list(pd.read_csv(path, dtype=str, nrows=0).columns)


def test_every_column_of_the_demo_ranking_is_declared_with_a_meaning(
    ranking_header: list[str], demo_assessment: Any
) -> None:
    internal = list(internal_ranking(demo_assessment).columns)
    for column in (*ranking_header, *internal):
        assert column in schema.COLUMNS, f"{column} is not declared in geo_ip/schema.py"
        assert schema.COLUMNS[column].strip(), f"{column} has no meaning"


def test_the_assessment_table_is_the_declared_one_in_the_declared_order(
    demo_assessment: Any,
) -> None:
    # every stage adds its columns in the order schema declares them: nothing undeclared
    assert list(demo_assessment.table.columns) == list(schema.ASSESSMENT)


def test_public_columns_keep_the_header_of_ranking_csv(ranking_header: list[str]) -> None:
    assert ranking_header == [*schema.RANKING_PUBLIC, *schema.STAMP]
    assert list(PUBLIC_COLUMNS) == list(schema.RANKING_PUBLIC)
    # hand-checked against the header written before the schema module existed
    assert len(ranking_header) == 51
    assert ranking_header[:6] == [
        "protocolo", "posicao", "situacao", "pontuacao_total", "alertas", "pont_beneficiarios",
    ]  # fmt: skip
    assert ranking_header[10] == "sugerido_beneficiarios"
    assert ranking_header[14] == "sugerido_viabilidade"
    assert ranking_header[15:20] == [
        "residencias", "moradores_estimados", "hierarquia_via", "logradouro", "distancia_rede_m",
    ]  # fmt: skip
    assert ranking_header[29] == "motivos"
    assert ranking_header[33:36] == ["linha", "data_protocolo", "tipo"]
    assert ranking_header[37] == "incerteza_m"
    assert ranking_header[-4:] == ["bairro", "latitude", "longitude", "proveniencia"]


def test_the_small_assessment_writes_the_same_header(tmp_path: Path) -> None:
    path = tmp_path / "ranking.csv"
    write_csv(public_ranking(small_assessment()), path)
    header = list(pd.read_csv(path, dtype=str, nrows=0).columns)
    # the hand-built table lacks some evidence: what it has comes in the declared order
    assert header == [c for c in (*schema.RANKING_PUBLIC, *schema.STAMP) if c in header]


def test_internal_list_is_the_public_one_then_the_internal_columns(demo_assessment: Any) -> None:
    assert list(INTERNAL_COLUMNS) == [*schema.RANKING_PUBLIC, *schema.RANKING_INTERNAL_EXTRA]
    internal = list(internal_ranking(demo_assessment).columns)
    assert internal == [c for c in (*schema.RANKING_INTERNAL, *schema.STAMP) if c in internal]
    assert internal[50:53] == ["elegivel", "motivos_inelegibilidade", "avisos_elegibilidade"]
    assert internal[-3:] == ["cpf_solicitante", "cpf_hash", "proveniencia"]


def test_public_list_holds_no_personal_data() -> None:
    public = set(schema.RANKING_PUBLIC) | set(schema.STAMP)
    personal = {
        *privacy.PERSONAL_COLUMNS,
        *privacy.PSEUDONYMOUS_COLUMNS,
        *privacy.ELIGIBILITY_DETAIL,
        *privacy.APPLICANT_TEXT_COLUMNS,
        # by hand: who the applicant is, how hardship was proven, the address as typed
        "cpf_solicitante", "cpf_hash", "nome_solicitante", "renda_familiar", "cadunico", "mei",
        "hipossuficiencia", "hipossuficiencia_comprovacao", "decisao_hipossuficiencia",
        "motivos_inelegibilidade", "avisos_elegibilidade", "observacoes",
        "justificativa_estrategica", "beneficio_anterior_data",
        "beneficio_anterior_justificativa", "endereco", "numero",
    }  # fmt: skip
    assert not public & personal
    # and the public view keeps every public column: none of them is personal to it
    frame = pd.DataFrame({c: ["x"] for c in schema.RANKING_PUBLIC})
    assert list(privacy.public_view(frame).columns) == list(schema.RANKING_PUBLIC)
    # the internal extras are what the public list leaves out, never a public column
    assert not set(schema.RANKING_INTERNAL_EXTRA) & public


def test_no_column_is_declared_twice_with_different_meanings() -> None:
    meanings: dict[str, tuple[str, str]] = {}
    for table, columns in _declarations().items():
        if table in SEPARATE_TABLES:
            continue
        for name, meaning in columns.items():
            first = meanings.setdefault(name, (table, meaning))
            assert first[1] == meaning, f"{name}: {first[0]} and {table} differ"
    assert set(meanings) == set(schema.COLUMNS)
    with pytest.raises(ValueError, match="declared twice"):
        schema._declare({"distancia_rede_m": "something else"})


def test_every_meaning_is_one_line() -> None:
    for table, columns in _declarations().items():
        for name, meaning in columns.items():
            assert meaning.strip() and "\n" not in meaning, f"{table}.{name}"
            assert name == name.strip().lower() and " " not in name


def test_the_producing_modules_take_their_columns_from_schema() -> None:
    assert list(schema.SNAPPED) == SNAP_COLUMNS
    assert list(schema.GRID_PATH) == GRIDPATH_COLUMNS
    assert tuple(schema.CONTEXT) == CONTEXT_COLUMNS
    assert tuple(schema.MATERIALS) == BOM_COLUMNS
    assert tuple(schema.BENEFICIARIES) == BENEFICIARY_COLUMNS
    assert tuple(schema.SUGGESTIONS) == SUGGESTION_COLUMNS
    assert tuple(schema.RANGES) == RANGE_COLUMNS
    assert tuple(schema.ELIGIBILITY) == RESULT_COLUMNS
    assert tuple(schema.ACT_RESULTS) == ACT_COLUMNS
    assert tuple(schema.RANKING) == RANKING_COLUMNS
    assert tuple(schema.LOCATE_STATUS) == LOCATED_COLUMNS
    # declared here, still spelled by their own modules too: they must agree
    assert tuple(schema.GEOCODED) == GEOCODE_COLUMNS
    assert set(CANONICAL) <= set(schema.REQUESTS)
    assert CRITERIA == schema.CRITERIA
    assert schema.criteria_columns("pont_")[0] == "pont_beneficiarios"
    assert list(schema.LOCATED) == [
        *schema.REQUESTS,
        *(c for c in schema.GEOCODED if c not in schema.REQUESTS),
        *schema.SNAPPED,
    ]


def test_the_declarations_are_read_only() -> None:
    with pytest.raises(TypeError):
        schema.RANKING_PUBLIC["protocolo"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        schema.COLUMNS["nova"] = "x"  # type: ignore[index]
