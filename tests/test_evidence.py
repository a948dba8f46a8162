"""Bill of materials, cost and beneficiaries on hand-checked small tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo_ip.evidence.materials import beneficiaries, bill_of_materials
from geo_ip.rules.config import load_rules

RULES = load_rules("extrema")


def test_rules_values_these_tests_were_checked_with() -> None:
    unit = RULES.custos_unitarios
    assert (unit.poste.valor, unit.braco.valor, unit.luminaria.valor) == (2800, 180, 950)
    assert (unit.condutor_bt.valor, unit.transformador.valor) == (45, 28000)
    assert RULES.rede.vao_postes.valor == 35
    assert RULES.beneficiarios.moradores_por_domicilio.valor == 2.79


def test_bill_of_materials() -> None:
    paths = pd.DataFrame(
        {
            "distancia_rede_m": [100.0, 70.0, 0.0, 400.0, np.nan, 70.0000000001],
            "transformador": [False, False, False, True, False, False],
        }
    )
    bom = bill_of_materials(paths, RULES)
    assert bom["postes_novos"].tolist()[:4] == [3, 2, 0, 12]
    assert pd.isna(bom["postes_novos"][4])
    assert bom["postes_novos"][5] == 2  # float noise does not add a pole
    assert bom["luminarias"].tolist()[:4] == [4, 3, 1, 13]
    assert bom["bracos"].tolist()[:4] == [4, 3, 1, 13]
    assert bom["transformadores"].tolist()[:4] == [0, 0, 0, 1]
    # 3×2800 + 4×180 + 4×950 + 100×45
    assert bom["custo_estimado_rs"][0] == pytest.approx(17_420.0)
    # 2×2800 + 3×180 + 3×950 + 70×45
    assert bom["custo_estimado_rs"][1] == pytest.approx(12_140.0)
    assert bom["custo_estimado_rs"][2] == pytest.approx(1_130.0)  # only the luminaire and arm
    # 12×2800 + 13×180 + 13×950 + 400×45 + 28000
    assert bom["custo_estimado_rs"][3] == pytest.approx(94_290.0)
    assert np.isnan(bom["custo_estimado_rs"][4])


def test_beneficiaries_declared_counted_and_estimated() -> None:
    requests = pd.DataFrame(
        {
            "residencias": pd.array([3, pd.NA, pd.NA, 2], dtype="Int64"),
            "moradores": pd.array([pd.NA, pd.NA, pd.NA, 9], dtype="Int64"),
        }
    )
    counted = pd.Series([12, 5, 0, 1])
    cost = pd.Series([17_420.0, 1_130.0, np.nan, 900.0])
    out = beneficiaries(requests, counted, cost, RULES)
    assert out["residencias_consideradas"].tolist() == [3, 5, 1, 2]
    assert out["residencias_declaradas"].isna().tolist() == [False, True, True, False]
    assert out["moradores_estimados"].tolist() == [8.4, 14.0, 2.8, 9.0]  # 3×2.79, 5×2.79, 1×2.79
    assert out["custo_por_beneficiario_rs"][0] == pytest.approx(17_420 / 8.4, abs=0.01)
    assert out["custo_por_beneficiario_rs"][1] == pytest.approx(80.71)
    assert np.isnan(out["custo_por_beneficiario_rs"][2])
    assert out["custo_por_beneficiario_rs"][3] == pytest.approx(100.0)
    assert out["fonte_beneficiarios"][0] == (
        "residências declaradas; moradores estimados (residências × 2,79 por domicílio)"
    )
    assert out["fonte_beneficiarios"][1].startswith("residências contadas no trecho")
    assert out["fonte_beneficiarios"][3] == "residências declaradas; moradores declarados"
