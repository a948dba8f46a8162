"""Geocoding accuracy on real Porto Alegre street names written as a clerk would (issue 18).

The set and its scoring live in ``benchmarks/geocode_accuracy.py`` (``python -m
benchmarks.geocode_accuracy`` prints the rate and every failure); here they are asserted.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pytest

from benchmarks.geocode_accuracy import (
    MIN_RATE,
    Result,
    build_cases,
    canonical,
    clerk_variant,
    evaluate,
    report,
    requests_of,
)
from geo_ip.requests.geocode import Gazetteer, geocode


@pytest.fixture(scope="module")
def poa_result(poa_territory: Any) -> tuple[Result, list[Any]]:
    from geo_ip.territory.reader import read_layer

    vias: gpd.GeoDataFrame = read_layer(poa_territory.path, "vias")
    gazetteer = Gazetteer.from_territory(poa_territory.path, roads=vias)
    cases = build_cases(vias)
    out = geocode(requests_of(cases), gazetteer)  # one call for the whole set
    return evaluate(cases, out, vias), cases


def test_clerk_variants_are_deterministic_and_keep_the_true_name() -> None:
    a = clerk_variant("Avenida Professor Oscar Pereira")
    assert a == clerk_variant("Avenida Professor Oscar Pereira")
    assert a.nome == "Avenida Professor Oscar Pereira"
    assert canonical("Av Bastian") == canonical("Avenida Bastian") == "AVENIDA BASTIAN"
    assert canonical("Beco15") == canonical("Beco Quinze")
    assert canonical("Rua Dr. Pereira da Cunha") == canonical("Rua Doutor Pereira da Cunha")


@pytest.mark.slow
def test_poa_set_covers_the_ways_a_clerk_writes(poa_result: tuple[Result, list[Any]]) -> None:
    result, cases = poa_result
    assert 300 <= result.total <= 600
    kinds = {h for c in cases for h in c.how}
    assert {"tipo abreviado", "título abreviado", "sem acento", "erro de digitação"} <= kinds
    assert {"sem tipo", "maiúsculas", "minúsculas", "com número"} <= kinds
    types = {c.nome.split()[0] for c in cases}
    assert {"Rua", "Avenida", "Travessa", "Beco", "Acesso", "Praça", "Viela", "Largo"} <= types


@pytest.mark.slow
def test_poa_accuracy_is_at_least_97_percent(poa_result: tuple[Result, list[Any]]) -> None:
    result, _ = poa_result
    assert result.rate >= MIN_RATE, report(result)
    # names in several places of the data come back "ambíguo", never a silent pick
    assert result.ambiguous > 0
    assert not [f for f in result.failures if f[1].startswith("escolha silenciosa")], report(result)
