"""Public outputs built column-wise from one redacted table (issue 24)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo_ip.outputs import tables, views
from geo_ip.outputs.tables import people_view, write_evidence
from geo_ip.outputs.views import (
    PUBLIC_COLUMNS,
    export_table,
    public_ranking,
    public_table,
    request_alerts,
)
from geo_ip.pipeline import Assessment
from geo_ip.requests import privacy
from geo_ip.requests.redaction import REDACTED
from geo_ip.rules.law_locks import CRITERIA

from .small_assessment import NAMES, small_assessment

R = REDACTED


def _assessment() -> Assessment:
    """The small assessment with personal data where the lists take their places from."""
    a = small_assessment()
    table = a.table
    table["nome_solicitante"] = table["nome_solicitante"].astype(object)
    table.loc[0, "nome_solicitante"] = NAMES[0]
    table["bairro_encontrado"] = table["bairro_encontrado"].astype(object)
    table.loc[0, "bairro_encontrado"] = "Vila Exemplo Teste"  # two of the applicant's parts
    table.loc[1, "bairro_encontrado"] = "Vila Teste"  # one part of someone else's name
    table["logradouro_via"] = table["logradouro_via"].astype(object)
    table.loc[2, "logradouro_via"] = "Rua 123.456.789-09"
    table["confirmar_no_local"] = [f"ver com {NAMES[1]}"] + [""] * (len(table) - 1)
    return a


def _per_output_ranking(a: Assessment) -> pd.DataFrame:
    """The list as it was built before the table was redacted once for all outputs."""
    base = views.ordered_rows(views._base(a.table))
    base["alertas"] = request_alerts(base, a.rules)
    base = privacy.public_view(base, free_text=views._TOOL_TEXT)
    base["motivos"] = views._motivos(base, public=True)
    out = export_table(base[[c for c in PUBLIC_COLUMNS if c in base.columns]])
    return out.assign(proveniencia=a.provenance["carimbo"])


def test_public_ranking_redacts_as_each_output_did() -> None:
    a = _assessment()
    ranking = public_ranking(a)
    pd.testing.assert_frame_equal(ranking, _per_output_ranking(a))
    by_line = ranking.set_index("linha")
    first, second, third = a.table["linha"].iloc[:3]
    assert by_line.loc[first, "bairro"] == f"Vila {R}"  # a run of two parts of the name
    assert by_line.loc[second, "bairro"] == "Vila Teste"  # an address keeps one part
    assert by_line.loc[third, "logradouro"] == f"Rua {R}"


def test_public_ranking_from_a_shared_public_table() -> None:
    a = _assessment()
    shared = public_table(a)
    pd.testing.assert_frame_equal(public_ranking(a, shared), public_ranking(a))
    assert shared.loc[0, "confirmar_no_local"] == f"ver com {R}"


def _record(row: dict[str, Any], i: int, a: Assessment, present: set[str]) -> dict[str, Any]:
    """One record as the row-by-row builder made it (the reference)."""
    cell = views.plain_cell
    record: dict[str, Any] = {
        k: cell(row.get(k)) for k in ("protocolo", "linha", "situacao", "posicao")
    }
    for section, names in tables._RECORD_GROUPS.items():
        record[section] = {n: cell(row.get(n)) for n in names if n in present}
    record["rede"]["comprimento_extensao_m"] = None
    record["localizacao"]["comprimento_trecho_candidato_m"] = None
    record["itens"] = a.items[i]
    record["criterios"] = {
        c: {n: cell(row.get(n)) for n in (p + c for p in tables._CRITERION_FIELDS) if n in present}
        for c in CRITERIA
    }
    return record


def test_evidence_column_wise_is_the_json_of_each_record(tmp_path: Path) -> None:
    a = _assessment()
    n = len(a.table)
    t = a.table
    t["confianca"] = [math.nan, math.inf, 0.1, 1e16, -0.0, 2.5, 1e-5, 3.0][:n]
    t["aresta_u"] = pd.array([None, 7, 8, None, 1, 2, 3, 4][:n], dtype="Int64")
    t["fora_da_malha"] = pd.array([None, True, False, True, True, False, None, True][:n], "boolean")
    t["geocodificacao"] = pd.Series(['a"b\nç', None] + ["x"] * (n - 2), dtype="str")
    t["posicoes_avaliadas"] = [[1, 2], pd.Timestamp("2026-01-02"), None, np.int64(3)] + ["y"] * (
        n - 4
    )
    t["via_rural"] = np.array([True, False] * (n // 2) + [True] * (n % 2))
    a.items[0] = {"equipamentos": [{"id": 5, "distancia_m": 12.5}]}
    public = privacy.public_view(t, free_text=("confirmar_no_local",))
    expected = [
        _record(row, i, a, set(public.columns)) for i, row in enumerate(public.to_dict("records"))
    ]
    assert tables.evidence_records(a) == expected
    first = expected[0]["localizacao"]
    assert first["confianca"] is None and first["aresta_u"] is None
    assert first["geocodificacao"] == 'a"b\nç' and first["posicoes_avaliadas"] == [1, 2]
    assert expected[1]["localizacao"]["posicoes_avaliadas"] == "2026-01-02T00:00:00"
    assert expected[1]["localizacao"]["fora_da_malha"] is True
    lines = [line for chunk in tables._evidence_iter(a) for line in tables._chunk_lines(chunk)]
    assert lines == [
        json.dumps(r, ensure_ascii=False, default=tables.json_default) for r in expected
    ]
    assert '"confianca": null, ' in lines[0] and '"geocodificacao": "a\\"b\\nç"' in lines[0]
    assert '"confianca": 1e+16' in lines[3] and '"aresta_u": 7' in lines[1]
    # the same bytes with the run's shared public table
    write_evidence(a, tmp_path / "a.json")
    write_evidence(a, tmp_path / "b.json", public_table(a))
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_people_view_says_the_days_inside_sentences() -> None:
    frame = pd.DataFrame(
        {
            "problemas": [
                "data futura (2062-08-12)",
                None,
                "x 2026-01-02T10:00:00Z e 2026-03-04",
                "a\x00b 2026-05-06",
            ],
            "numero": [1, 2, 3, 4],
        }
    )
    view = people_view(frame)
    texts = view.iloc[:, 0].tolist()
    assert texts[0] == "data futura (12/08/2062)"
    assert pd.isna(texts[1])
    assert texts[2] == "x 02/01/2026 e 04/03/2026"
    assert texts[3] == "a\x00b 06/05/2026"
    assert view.iloc[:, 1].tolist() == [1, 2, 3, 4]
