"""Offline geocoding (geo_ip.requests.geocode) on a hand-made territory and on Porto Alegre."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, box

from geo_ip.requests.geocode import (
    CNEFE_ESPECIES,
    GEOCODE_COLUMNS,
    Gazetteer,
    geocode,
    read_cnefe,
)

CRS = "EPSG:31983"
X0, Y0 = 350_000.0, 7_460_000.0
"""Origin of the hand-made territory; every coordinate below is relative to it."""


def P(x: float, y: float) -> Point:  # noqa: N802
    return Point(X0 + x, Y0 + y)


def L(*xy: tuple[float, float]) -> LineString:  # noqa: N802
    return LineString([(X0 + x, Y0 + y) for x, y in xy])


# ----------------------------------------------------------------- tiny territory
#
#  y=300   Avenida Brasil  (0,300) ────────────── (1400,300)
#  y=0     Rua das Flores  (0,0)─(100,0)─(200,0)   Rua São João A (1000..1200)   Rua São João B
#                                                   Rua Dez (1000,-200)..(1200,-200)  (5000..5200)
#          |   Centro  x<700   |   Vila Nova 700..3000   |   Jardim das Palmeiras 3000..6000
#
# Addresses on Rua das Flores: 100 at x=0, 200 at x=100 (north side, y=+10), 101 at x=0
# (south side, y=-10). Rua São João has number 10 in both places, with different CEPs.

EDGES = [
    # u, v, name, geometry (Rua das Flores in both directions, as osmnx writes two-way streets)
    (1, 2, "Rua das Flores", L((0, 0), (100, 0))),
    (2, 1, "Rua das Flores", L((100, 0), (0, 0))),
    (2, 3, "Rua das Flores", L((100, 0), (200, 0))),
    (3, 2, "Rua das Flores", L((200, 0), (100, 0))),
    (10, 11, "Rua São João", L((1000, 0), (1200, 0))),
    (20, 21, "Rua São João", L((5000, 0), (5200, 0))),
    (30, 31, "Avenida Brasil", L((0, 300), (700, 300))),
    (31, 32, "Avenida Brasil", L((700, 300), (1400, 300))),
    (40, 41, "Rua Dez", L((1000, -200), (1200, -200))),
    (3, 10, None, L((200, 0), (1000, 0))),  # unnamed link
]
BAIRROS = [
    ("Centro", box(X0 - 500, Y0 - 500, X0 + 700, Y0 + 500), P(100, 200)),
    ("Vila Nova", box(X0 + 700, Y0 - 500, X0 + 3000, Y0 + 500), P(1100, 200)),
    ("Jardim das Palmeiras", box(X0 + 3000, Y0 - 500, X0 + 6000, Y0 + 500), P(5100, 200)),
]
ADDRESSES = [
    # logradouro, numero, bairro, cep, point
    ("Rua das Flores", "100", "Centro", "37640-000", P(0, 10)),
    ("Rua das Flores", "200", "Centro", "37640-000", P(100, 10)),
    ("Rua das Flores", "101", "Centro", "37640-000", P(0, -10)),
    ("Rua São João", "10", "Vila Nova", "37640-001", P(1010, 8)),
    ("Rua São João", "10", "Jardim das Palmeiras", "37640-002", P(5010, 8)),
]


def write_territory(path: Path, *, bairros: bool = True) -> Path:
    vias = gpd.GeoDataFrame(
        {
            "u": [e[0] for e in EDGES],
            "v": [e[1] for e in EDGES],
            "key": 0,
            "name": [e[2] for e in EDGES],
            "highway": "residential",
            "hierarquia": "local",
        },
        geometry=[e[3] for e in EDGES],
        crs=CRS,
    )
    edif = gpd.GeoDataFrame(
        {
            "osm_id": [f"node/{i}" for i in range(len(ADDRESSES))],
            "tipo": "endereco",
            "logradouro": [a[0] for a in ADDRESSES],
            "numero": [a[1] for a in ADDRESSES],
            "bairro": [a[2] for a in ADDRESSES],
            "cep": [a[3] for a in ADDRESSES],
        },
        geometry=[a[4] for a in ADDRESSES],
        crs=CRS,
    )
    pyogrio.write_dataframe(vias, path, layer="vias", driver="GPKG")
    pyogrio.write_dataframe(edif, path, layer="edificacoes", driver="GPKG")
    if bairros:
        names = [b[0] for b in BAIRROS]
        points = gpd.GeoDataFrame(
            {"osm_id": [f"node/{900 + i}" for i in range(3)], "nome": names, "tipo": "suburb"},
            geometry=[b[2] for b in BAIRROS],
            crs=CRS,
        )
        areas = gpd.GeoDataFrame(
            {"osm_id": [f"relation/{i}" for i in range(3)], "nome": names, "tipo": "suburb"},
            geometry=[b[1] for b in BAIRROS],
            crs=CRS,
        )
        pyogrio.write_dataframe(points, path, layer="bairros", driver="GPKG")
        pyogrio.write_dataframe(areas, path, layer="bairros_area", driver="GPKG")
    return path


def requests(*rows: dict[str, Any]) -> pd.DataFrame:
    base = {
        "endereco": "",
        "numero": "",
        "bairro": "",
        "cep": "",
        "latitude": np.nan,
        "longitude": np.nan,
        "situacao": "ok",
    }
    df = pd.DataFrame([base | r for r in rows])
    df.insert(0, "protocolo", [f"P{i}" for i in range(len(df))])
    return df


@pytest.fixture(scope="module")
def gaz(tmp_path_factory: pytest.TempPathFactory) -> Gazetteer:
    return Gazetteer.from_territory(write_territory(tmp_path_factory.mktemp("t") / "t.gpkg"))


def one(gazetteer: Gazetteer, **row: Any) -> pd.Series:
    return geocode(requests(row), gazetteer).iloc[0]


def xy(row: pd.Series) -> tuple[float, float]:
    return round(float(row["x"]) - X0, 3), round(float(row["y"]) - Y0, 3)


# ------------------------------------------------------------------------ tests


def test_exact_number_lands_on_the_address_point(gaz: Gazetteer) -> None:
    row = one(gaz, endereco="Rua das Flores, 200")
    assert row["geocodificacao"] == "numero_exato"
    assert xy(row) == (100.0, 10.0)
    assert row["logradouro_encontrado"] == "Rua das Flores"
    assert row["bairro_encontrado"] == "Centro"
    assert row["incerteza_m"] == 10.0  # a lot's width
    assert row["confianca"] == pytest.approx(0.909)  # 100 / (100 + 10)
    assert row["trecho_candidato"] is None
    assert "OpenStreetMap" in row["geocodificacao_detalhe"]


def test_interpolated_number_between_known_ones(gaz: Gazetteer) -> None:
    # 100 projects to x=0 and 200 to x=100 (same, even side): 150 → x=50 on the axis.
    row = one(gaz, endereco="R. das Flores", numero="150")
    assert row["geocodificacao"] == "interpolado"
    assert xy(row) == (50.0, 0.0)
    # the house is somewhere between 100 (x=0) and 200 (x=100): up to 50 m away
    assert row["incerteza_m"] == 50.0
    assert row["confianca"] == pytest.approx(0.667)  # 100 / (100 + 50)
    assert shapely.length(row["trecho_candidato"]) == pytest.approx(100.0)
    assert "entre os números 100 e 200 (± 50 m)" in row["geocodificacao_detalhe"]


def test_interpolation_uses_both_sides_when_one_has_no_bracket(gaz: Gazetteer) -> None:
    # 175 is odd; the only odd number is 101, so the nearest numbers of either side are
    # used: 101 (x=0) and 200 (x=100) → x = 74/99 × 100 = 74.747.
    row = one(gaz, endereco="Rua das Flores 175")
    assert row["geocodificacao"] == "interpolado"
    assert xy(row) == (74.747, 0.0)
    assert "entre os números 101 e 200" in row["geocodificacao_detalhe"]


def test_extrapolation_only_near_the_known_range(gaz: Gazetteer) -> None:
    # 210: 10 above 200, range 100..200 → slope 1 m per number → x=110 (within 25 % of range).
    near = one(gaz, endereco="Rua das Flores, 210")
    assert near["geocodificacao"] == "interpolado"
    assert xy(near) == (110.0, 0.0)
    # from the nearest known number (200 at x=100) to x=110, plus a lot: 20 m
    assert near["incerteza_m"] == 20.0
    assert near["confianca"] == pytest.approx(0.833)
    assert "extrapolado" in near["geocodificacao_detalhe"]
    # 5000 is far beyond: the street's mid-point instead (x=100 on a 200 m street).
    far = one(gaz, endereco="Rua das Flores, 5000")
    assert far["geocodificacao"] == "logradouro"
    assert xy(far) == (100.0, 0.0)
    assert "sem referência de numeração" in far["geocodificacao_detalhe"]


def test_street_only_lands_on_the_street(gaz: Gazetteer) -> None:
    row = one(gaz, endereco="Rua das Flores")
    assert row["geocodificacao"] == "logradouro"
    assert xy(row) == (100.0, 0.0)  # mid-point of the 200 m street
    assert row["incerteza_m"] == 100.0  # half its length
    assert row["confianca"] == pytest.approx(0.5)
    assert shapely.length(row["trecho_candidato"]) == pytest.approx(200.0)
    assert row["geocodificacao_detalhe"] == (
        "número não informado; ponto médio do logradouro (bairro não informado), num trecho "
        "de 200 m (± 100 m)"
    )


def test_street_point_is_restricted_to_the_bairro_given(gaz: Gazetteer) -> None:
    # Avenida Brasil runs x=0..1400; its stretch in Vila Nova is x=700..1400 → x=1050.
    vila = one(gaz, endereco="Av. Brasil", bairro="Vila Nova")
    assert xy(vila) == (1050.0, 300.0)
    assert vila["incerteza_m"] == 350.0  # half the 700 m inside the bairro
    assert shapely.length(vila["trecho_candidato"]) == pytest.approx(700.0)
    assert (
        "ponto médio do logradouro no bairro 'Vila Nova', num trecho de 700 m"
        in (vila["geocodificacao_detalhe"])
    )
    assert xy(one(gaz, endereco="Av. Brasil", bairro="Centro")) == (350.0, 300.0)
    whole = one(gaz, endereco="Av. Brasil")
    assert xy(whole) == (700.0, 300.0)
    assert whole["incerteza_m"] == 700.0
    assert whole["confianca"] == pytest.approx(0.125)  # 100 / 800


def test_a_street_that_misses_the_bairro_is_narrowed_to_its_nearest_stretch(
    gaz: Gazetteer,
) -> None:
    # Rua Dez (x=1000..1200, y=-200) stops 1,800 m short of Jardim das Palmeiras
    # (x ≥ 3000): its stretch within 1,800 + 100 m of the bairro is x=1100..1200.
    row = one(gaz, endereco="Rua Dez", bairro="Jardim das Palmeiras")
    assert row["geocodificacao"] == "logradouro"
    assert xy(row) == (1150.0, -200.0)
    assert row["incerteza_m"] == 50.0
    assert row["confianca"] == pytest.approx(0.9 * 100 / 150, abs=1e-3)  # bairro mismatch
    detail = row["geocodificacao_detalhe"]
    assert "no trecho mais próximo do bairro 'Jardim das Palmeiras'" in detail
    assert "o logradouro não passa pelo bairro informado 'Jardim das Palmeiras'" in detail


def test_a_bairro_that_cannot_narrow_is_said(gaz: Gazetteer, tmp_path: Path) -> None:
    row = one(gaz, endereco="Av. Brasil", bairro="Bairro Que Não Existe")
    assert xy(row) == (700.0, 300.0)
    assert row["incerteza_m"] == 700.0
    assert (
        "bairro 'Bairro Que Não Existe' não encontrado no território: posição não "
        in (row["geocodificacao_detalhe"])
    )
    # bairros known only from the address points: no limits to cut the street with
    plain = Gazetteer.from_territory(write_territory(tmp_path / "sem.gpkg", bairros=False))
    row = one(plain, endereco="Av. Brasil", bairro="Centro")
    assert row["incerteza_m"] == 700.0
    assert (
        "o território não tem os limites dos bairros: posição não restringida ao bairro "
        in (row["geocodificacao_detalhe"])
    )


def test_bairros_mapped_as_points_beside_polygons_narrow_too(tmp_path: Path) -> None:
    # Only Centro is a polygon (x < 700); Vila Nova and Jardim das Palmeiras are points.
    # Vila Nova's cell: nearer its point (1100, 200) than Centro's (100, 200) or
    # Jardim's (5100, 200), so x 600..3100, less Centro's polygon: x 700..3100.
    path = write_territory(tmp_path / "misto.gpkg")
    areas = pyogrio.read_dataframe(path, layer="bairros_area")
    pyogrio.write_dataframe(areas.iloc[[0]], path, layer="bairros_area", driver="GPKG")
    gazetteer = Gazetteer.from_territory(path)
    assert sorted(gazetteer.bairros["nome"]) == ["Centro", "Jardim das Palmeiras", "Vila Nova"]
    row = one(gazetteer, endereco="Av. Brasil", bairro="Vila Nova")
    assert xy(row) == (1050.0, 300.0)  # Av. Brasil x 700..1400 inside the cell
    assert row["incerteza_m"] == 350.0


def test_a_lone_bairro_point_has_no_size_and_says_so(tmp_path: Path) -> None:
    # One place point and no area: no Voronoi cell, no radius; the location is not
    # "precise", it is of unknown size (NaN: the assessment treats it as pending).
    path = write_territory(tmp_path / "um.gpkg", bairros=False)
    point = gpd.GeoDataFrame(
        {"osm_id": ["node/900"], "nome": ["Centro"], "tipo": "suburb"},
        geometry=[P(100, 200)],
        crs=CRS,
    )
    pyogrio.write_dataframe(point, path, layer="bairros", driver="GPKG")
    row = one(Gazetteer.from_territory(path), bairro="Centro")
    assert row["geocodificacao"] == "bairro"
    assert np.isnan(row["incerteza_m"])
    assert row["confianca"] == 0.0
    assert "(tamanho desconhecido)" in row["geocodificacao_detalhe"]


def test_a_point_on_a_merged_edge_lies_on_its_own_name(tmp_path: Path) -> None:
    # A territory built before edges split at changes of name: "Rua Alfa / Viaduto Beta"
    # merged x=100..1100; Rua Alfa also has its own edge x=0..100. Its point must lie on
    # the edge named Rua Alfa alone, never on the viaduct's part.
    vias = gpd.GeoDataFrame(
        {"u": [1, 2], "v": [2, 3], "key": 0, "name": ["Rua Alfa", "Rua Alfa / Viaduto Beta"],
         "highway": "residential", "hierarquia": "local"},
        geometry=[L((0, 0), (100, 0)), L((100, 0), (1100, 0))],
        crs=CRS,
    )  # fmt: skip
    path = tmp_path / "antigo.gpkg"
    pyogrio.write_dataframe(vias, path, layer="vias", driver="GPKG")
    gazetteer = Gazetteer.from_territory(path)
    alfa = one(gazetteer, endereco="Rua Alfa")
    assert xy(alfa) == (50.0, 0.0)
    assert alfa["incerteza_m"] == 50.0
    # the viaduct has no edge of its own: the merged edge is all there is of it
    assert xy(one(gazetteer, endereco="Viaduto Beta")) == (600.0, 0.0)
    # a merged edge far from Rua Alfa's own is another place of Rua Alfa: kept, and the
    # name is then ambiguous, never picked in silence
    far = gpd.GeoDataFrame(
        {"u": [7], "v": [8], "key": 0, "name": ["Beco Gama / Rua Alfa"],
         "highway": "residential", "hierarquia": "local"},
        geometry=[L((5000, 0), (5200, 0))],
        crs=CRS,
    )  # fmt: skip
    pyogrio.write_dataframe(pd.concat([vias, far]), path, layer="vias", driver="GPKG")
    row = one(Gazetteer.from_territory(path), endereco="Rua Alfa")
    assert row["geocodificacao"] == "falhou"
    assert "ambíguo" in row["geocodificacao_detalhe"]


def test_ambiguous_street_without_bairro_fails_naming_both(gaz: Gazetteer) -> None:
    row = one(gaz, endereco="Rua São João, 10")
    assert row["geocodificacao"] == "falhou"
    assert np.isnan(row["x"]) and np.isnan(row["latitude"])
    detail = row["geocodificacao_detalhe"]
    assert "ambíguo" in detail
    assert "Vila Nova" in detail and "Jardim das Palmeiras" in detail
    assert row["confianca"] == 0.0


def test_ambiguous_street_with_bairro_picks_that_one(gaz: Gazetteer) -> None:
    a = one(gaz, endereco="Rua São João, 10", bairro="Jd. das Palmeiras")
    assert a["geocodificacao"] == "numero_exato"
    assert xy(a) == (5010.0, 8.0)
    assert a["bairro_encontrado"] == "Jardim das Palmeiras"
    b = one(gaz, endereco="Rua São João", bairro="vila nova")
    assert b["geocodificacao"] == "logradouro"
    assert xy(b) == (1100.0, 0.0)


def test_ambiguous_street_disambiguated_by_cep(gaz: Gazetteer) -> None:
    row = one(gaz, endereco="Rua São João, 10", cep="37640-001")
    assert row["geocodificacao"] == "numero_exato"
    assert xy(row) == (1010.0, 8.0)
    assert "CEP" in row["geocodificacao_detalhe"]


def test_typo_matches(gaz: Gazetteer) -> None:
    row = one(gaz, endereco="Rua das Flroes, 200")
    assert row["geocodificacao"] == "numero_exato"
    assert row["logradouro_encontrado"] == "Rua das Flores"
    assert 0.8 < row["confianca"] < 0.95  # 0.95 × similarity
    assert "interpretado como 'Rua das Flores'" in row["geocodificacao_detalhe"]


def test_missing_accent_and_abbreviation_match(gaz: Gazetteer) -> None:
    row = one(gaz, endereco="R. Sao Joao", bairro="Vila Nova")
    assert row["geocodificacao"] == "logradouro"
    assert row["logradouro_encontrado"] == "Rua São João"
    assert row["confianca"] == pytest.approx(0.5)  # exact after normalisation, ± 100 m


def test_missing_type_matches_when_unique(gaz: Gazetteer) -> None:
    row = one(gaz, endereco="Flores, 200")
    assert row["geocodificacao"] == "numero_exato"
    assert row["logradouro_encontrado"] == "Rua das Flores"


def test_digits_match_a_name_in_words(gaz: Gazetteer) -> None:
    row = one(gaz, endereco="Rua 10, 45")
    assert row["geocodificacao"] == "logradouro"
    assert row["logradouro_encontrado"] == "Rua Dez"
    assert "número 45" in row["geocodificacao_detalhe"]


def test_unknown_street_fails_with_the_closest_suggestion(gaz: Gazetteer) -> None:
    row = one(gaz, endereco="Rua das Floras Amarelas, 12")
    assert row["geocodificacao"] == "falhou"
    detail = row["geocodificacao_detalhe"]
    assert "não encontrado" in detail
    assert "mais parecido: 'Rua das Flores'" in detail


def test_unknown_street_with_bairro_falls_back_to_the_bairro(gaz: Gazetteer) -> None:
    row = one(gaz, endereco="Rua Inexistente, 12", bairro="Centro")
    assert row["geocodificacao"] == "bairro"
    assert xy(row) == (100.0, 200.0)
    # Centro cut to the roads' extent (x 0..700, y -200..300): its farthest corner
    # (700, -200) lies hypot(600, 400) = 721.1 m from its point (100, 200)
    assert row["incerteza_m"] == pytest.approx(721.1)
    assert row["confianca"] == pytest.approx(0.122)  # 100 / 821.1
    # its streets: Rua das Flores (200 m) and Avenida Brasil up to x=700 (700 m)
    assert shapely.length(row["trecho_candidato"]) == pytest.approx(900.0)
    assert "(raio de 721 m)" in row["geocodificacao_detalhe"]


def test_bairro_only(gaz: Gazetteer) -> None:
    row = one(gaz, bairro="Jd. das Palmeiras")
    assert row["geocodificacao"] == "bairro"
    assert xy(row) == (5100.0, 200.0)
    assert row["bairro_encontrado"] == "Jardim das Palmeiras"


def test_given_coordinates_are_kept_and_projected(gaz: Gazetteer) -> None:
    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(X0 + 50, Y0 + 20)
    row = one(gaz, latitude=lat, longitude=lon, endereco="Rua das Flores, 200")
    assert row["geocodificacao"] == "coordenada_informada"
    assert row["latitude"] == lat and row["longitude"] == lon
    assert xy(row) == pytest.approx((50.0, 20.0), abs=1e-3)
    assert row["confianca"] == 1.0
    assert row["bairro_encontrado"] == "Centro"


def test_latitude_longitude_filled_from_the_address(gaz: Gazetteer) -> None:
    row = one(gaz, endereco="Rua das Flores, 200")
    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(X0 + 100, Y0 + 10)
    assert row["latitude"] == pytest.approx(lat, abs=1e-9)
    assert row["longitude"] == pytest.approx(lon, abs=1e-9)


def test_rows_keep_order_index_and_columns_and_errors_do_not_crash(gaz: Gazetteer) -> None:
    df = requests(
        {"endereco": "Rua das Flores, 200"},
        {"situacao": "erro"},  # nothing to geocode
        {"endereco": None, "numero": None, "bairro": None, "cep": None, "situacao": "erro"},
        {"endereco": "Rua São João", "bairro": "Vila Nova", "situacao": "erro"},
    )
    df.index = [10, 7, 3, 1]
    df["extra"] = ["a", "b", "c", "d"]
    out = geocode(df, gaz)
    assert list(out.index) == [10, 7, 3, 1]
    assert list(out["protocolo"]) == ["P0", "P1", "P2", "P3"]
    assert list(out["extra"]) == ["a", "b", "c", "d"]
    assert set(GEOCODE_COLUMNS) <= set(out.columns)
    assert list(out["geocodificacao"]) == ["numero_exato", "falhou", "falhou", "logradouro"]
    assert out["geocodificacao_detalhe"].iloc[1] == "sem coordenadas nem endereço"
    assert (out["geocodificacao_detalhe"] != "").all()


def test_without_bairro_layers_the_edificacoes_field_is_used(tmp_path: Path) -> None:
    gaz = Gazetteer.from_territory(write_territory(tmp_path / "old.gpkg", bairros=False))
    assert sorted(gaz.bairros["nome"]) == ["Centro", "Jardim das Palmeiras", "Vila Nova"]
    amb = one(gaz, endereco="Rua São João")
    assert amb["geocodificacao"] == "falhou"
    assert "Vila Nova" in amb["geocodificacao_detalhe"]
    assert "Jardim das Palmeiras" in amb["geocodificacao_detalhe"]
    row = one(gaz, endereco="Rua São João", bairro="Vila Nova")
    assert row["geocodificacao"] == "logradouro"
    assert xy(row) == (1100.0, 0.0)


# ------------------------------------------------------------------------- CNEFE

CNEFE_HEADER = (
    "COD_UNICO_ENDERECO;COD_UF;COD_MUNICIPIO;COD_DISTRITO;COD_SUBDISTRITO;COD_SETOR;"
    "NUM_QUADRA;NUM_FACE;CEP;DSC_LOCALIDADE;NOM_TIPO_SEGLOGR;NOM_TITULO_SEGLOGR;NOM_SEGLOGR;"
    "NUM_ENDERECO;DSC_MODIFICADOR;NOM_COMP_ELEM1;VAL_COMP_ELEM1;NOM_COMP_ELEM2;VAL_COMP_ELEM2;"
    "NOM_COMP_ELEM3;VAL_COMP_ELEM3;NOM_COMP_ELEM4;VAL_COMP_ELEM4;NOM_COMP_ELEM5;VAL_COMP_ELEM5;"
    "LATITUDE;LONGITUDE;NV_GEO_COORD;COD_ESPECIE;DSC_ESTABELECIMENTO;"
    "COD_INDICADOR_ESTAB_ENDERECO;COD_INDICADOR_CONST_ENDERECO;"
    "COD_INDICADOR_FINALIDADE_CONST;COD_TIPO_ESPECIE"
)


def cnefe_row(
    uid: int, tipo: str, titulo: str, nome: str, numero: int, x: float, y: float, **kw: Any
) -> str:
    lon, lat = Transformer.from_crs(CRS, "EPSG:4674", always_xy=True).transform(X0 + x, Y0 + y)
    values = {
        "COD_UNICO_ENDERECO": str(uid),
        "COD_UF": "31",
        "COD_MUNICIPIO": kw.get("municipio", "3125101"),
        "COD_SETOR": "312510105000001P",
        "CEP": kw.get("cep", "37640000"),
        "DSC_LOCALIDADE": kw.get("localidade", "CENTRO"),
        "NOM_TIPO_SEGLOGR": tipo,
        "NOM_TITULO_SEGLOGR": titulo,
        "NOM_SEGLOGR": nome,
        "NUM_ENDERECO": str(numero),
        "DSC_MODIFICADOR": kw.get("modificador", ""),
        "LATITUDE": f"{lat:.8f}",
        "LONGITUDE": f"{lon:.8f}",
        "NV_GEO_COORD": str(kw.get("nivel", 1)),
        "COD_ESPECIE": str(kw.get("especie", 1)),
    }
    return ";".join(values.get(col, "") for col in CNEFE_HEADER.split(";"))


def write_cnefe(path: Path, rows: list[str], encoding: str = "utf-8") -> Path:
    path.write_text("\n".join([CNEFE_HEADER, *rows]) + "\n", encoding=encoding)
    return path


def test_read_cnefe_layout(tmp_path: Path) -> None:
    path = write_cnefe(
        tmp_path / "cnefe.csv",
        [
            cnefe_row(1, "RUA", "", "DAS FLORES", 175, 75, 9),
            cnefe_row(2, "AVENIDA", "PRESIDENTE", "VARGAS", 0, 10, 10, modificador="SN", especie=4),
            cnefe_row(3, "RUA", "", "DAS FLORES", 10, 10, 10, municipio="3100000"),
        ],
        encoding="latin-1",
    )
    df = read_cnefe(path, municipio_ibge=3125101)
    assert len(df) == 2
    assert df.crs.to_epsg() == 4674
    assert list(df["logradouro"]) == ["RUA DAS FLORES", "AVENIDA PRESIDENTE VARGAS"]
    assert df["numero"].iloc[0] == 175 and pd.isna(df["numero"].iloc[1])
    assert list(df["especie"]) == [1, 4]
    assert list(df["especie_descricao"]) == [CNEFE_ESPECIES[1], "estabelecimento de ensino"]
    assert df["cep"].iloc[0] == "37640000"
    assert df["cod_setor"].iloc[0] == "312510105000001P"


def test_read_cnefe_rejects_another_layout(tmp_path: Path) -> None:
    from geo_ip.errors import InputFileError

    bad = tmp_path / "x.csv"
    bad.write_text("a;b\n1;2\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="CNEFE"):
        read_cnefe(bad)


def test_cnefe_gives_exact_numbers_first(tmp_path: Path) -> None:
    territory = write_territory(tmp_path / "t.gpkg")
    cnefe = write_cnefe(
        tmp_path / "cnefe.csv",
        [
            cnefe_row(1, "RUA", "", "DAS FLORES", 175, 75, 9),
            cnefe_row(2, "RUA", "", "DAS FLORES", 175, 75, 9),  # two households, same number
            cnefe_row(3, "RUA", "", "DAS FLORES", 200, 98, 12),  # also in OSM at (100, 10)
            cnefe_row(4, "RUA", "", "DAS FLORES", 190, 90, 9, nivel=6),  # tract level: unused
        ],
    )
    gaz = Gazetteer.from_territory(territory, cnefe=cnefe)
    assert "CNEFE" in gaz.fontes[0]
    out = geocode(
        requests(
            {"endereco": "Rua das Flores, 175"},
            {"endereco": "Rua das Flores, 200"},
            {"endereco": "Rua das Flores, 190"},
        ),
        gaz,
    )
    first, second, third = (out.iloc[i] for i in range(3))
    assert first["geocodificacao"] == "numero_exato"
    assert xy(first) == pytest.approx((75.0, 9.0), abs=0.01)
    assert "CNEFE" in first["geocodificacao_detalhe"]
    assert xy(second) == pytest.approx((98.0, 12.0), abs=0.01)  # CNEFE wins over OSM
    assert third["geocodificacao"] == "interpolado"  # the level-6 point is ignored
    # without CNEFE, 175 is interpolated
    plain = one(Gazetteer.from_territory(territory), endereco="Rua das Flores, 175")
    assert plain["geocodificacao"] == "interpolado"


# --------------------------------------------------------------- Porto Alegre


@pytest.fixture(scope="module")
def poa(poa_territory: Any) -> tuple[Gazetteer, gpd.GeoDataFrame]:
    from geo_ip.territory.reader import read_layer

    out = poa_territory.path
    return Gazetteer.from_territory(out), read_layer(out, "vias")


# Real names listed from the `vias` layer of poa_osm.pbf, written the way a clerk would.
POA_CASES = [
    ("av. prof. oscar pereira", "Avenida Professor Oscar Pereira"),
    ("R. DR. BARCELOS, 300", "Rua Doutor Barcelos"),
    ("Rua Ten. Ary Tarrago", "Rua Tenente Ary Tarragô"),
    ("AV CEL APARICIO BORGES", "Avenida Coronel Aparício Borges"),
    ("r. gen. lima e silva 500", "Rua General Lima e Silva"),
    ("Av. Pres. Franklin Roosevelt", "Avenida Presidente Franklin Roosevelt"),
    ("r. marechal jose inacio da silva", "Rua Marechal José Inácio da Silva"),
    ("rua 1 de setembro, 77", "Rua 1º de Setembro"),
    ("Av. Joao 23", "Avenida João XXIII"),
    ("Avenida Padre Cacqiue", "Avenida Padre Cacique"),  # typo
]


@pytest.mark.slow
def test_poa_real_names_land_on_their_street(poa: tuple[Gazetteer, gpd.GeoDataFrame]) -> None:
    gaz, vias = poa
    out = geocode(requests(*({"endereco": q} for q, _ in POA_CASES)), gaz)
    names = vias["name"].fillna("").str.split(" / ")
    for (query, expected), (_, row) in zip(POA_CASES, out.iterrows(), strict=True):
        assert row["geocodificacao"] == "logradouro", (query, row["geocodificacao_detalhe"])
        assert row["logradouro_encontrado"] == expected, query
        edges = vias.geometry[names.map(lambda n, e=expected: e in n)].to_numpy()
        assert len(edges), expected
        dist = shapely.distance(shapely.Point(row["x"], row["y"]), edges).min()
        assert dist < 1.0, (query, dist)


@pytest.mark.slow
def test_poa_exact_osm_address(poa: tuple[Gazetteer, gpd.GeoDataFrame]) -> None:
    gaz, _ = poa
    # node/5911780524: addr:street=Avenida Professor Oscar Pereira, addr:housenumber=1220
    row = one(gaz, endereco="Av. Prof. Oscar Pereira, 1220")
    assert row["geocodificacao"] == "numero_exato"
    assert xy_abs(row) == pytest.approx((480076.687, 6674415.424), abs=0.01)


def xy_abs(row: pd.Series) -> tuple[float, float]:
    return float(row["x"]), float(row["y"])


@pytest.mark.slow
@pytest.mark.parametrize(
    "query",
    ["Travessa Sao Pedro", "R. N. Sra. do Brasil, 100"],
)
def test_poa_ambiguous_names(poa: tuple[Gazetteer, gpd.GeoDataFrame], query: str) -> None:
    # Travessa São Pedro: near (-30.0483, -51.1600) and (-30.0259, -51.1481), 2.6 km apart;
    # Rua Nossa Senhora do Brasil: near (-30.0643, -51.1971) and (-30.0701, -51.2221).
    gaz, _ = poa
    row = one(gaz, endereco=query)
    assert row["geocodificacao"] == "falhou"
    assert "ambíguo" in row["geocodificacao_detalhe"]
    assert "2 trechos" in row["geocodificacao_detalhe"]


# ------------------------------------------------ a clerk's spelling (issue 18, parts 3–4)
#
# A territory without bairros: one 200 m street per name, 300 m apart along y = -3000;
# "Travessa São Pedro" and "Rua do Porto" also 6 km away (the same name in two places),
# "Rua do Porto" with a CEP on each piece (address points), "Travessa São Pedro" without.

CLERK_STREETS = [
    "Travessa São José",
    "Largo do Machado",
    "Viaduto Obirici",
    "Elevado Costa e Silva",
    "Passarela Um",
    "Rua Almirante Tamandaré",
    "Rua Comandante Lara",
    "Rua Tenente Ary Tarragô",
    "Rua Nossa Senhora Aparecida",
    "Praça Dom Feliciano",
    "Rua General Osório",
    "Rua Primeiro de Março",
    "Estrada Vila Canadá",
    "Vila Bom Jesus",
    "Viela Santo André",
    "Beco dos Artistas",
    "Avenida Marquês de São Vicente",
    "Rua São Vicente",
    "Rua Azevedo Marques",
    "Rua Tenente Azevedo",
    "Rua Martinho Prado",
    "Rua Romilda Valentino",
    "Rua Ernesto da Fontoura",
    "Rua Ernesto Fontoura",
    "Rua Marcílio Dias",
    "Rua Márcio Dias",
    "Rua Dez",
    "Rua Doze",
    "Avenida Jordão",
    "Travessa São Pedro",
    "Rua do Porto",
]
CLERK_TWICE = {"Travessa São Pedro": 6000.0, "Rua do Porto": 6000.0}


def write_clerk_territory(path: Path) -> Path:
    rows = []
    for i, name in enumerate(CLERK_STREETS):
        x = 300.0 * i
        rows.append((1000 + 2 * i, 1001 + 2 * i, name, L((x, -3000), (x, -2800))))
        if name in CLERK_TWICE:
            far = x + CLERK_TWICE[name]
            rows.append((5000 + 2 * i, 5001 + 2 * i, name, L((far, -3000), (far, -2800))))
    vias = gpd.GeoDataFrame(
        {
            "u": [r[0] for r in rows],
            "v": [r[1] for r in rows],
            "key": 0,
            "name": [r[2] for r in rows],
            "highway": "residential",
            "hierarquia": "local",
        },
        geometry=[r[3] for r in rows],
        crs=CRS,
    )
    porto = 300.0 * CLERK_STREETS.index("Rua do Porto")
    edif = gpd.GeoDataFrame(
        {
            "osm_id": ["node/1", "node/2"],
            "tipo": "endereco",
            "logradouro": "Rua do Porto",
            "numero": ["10", "10"],
            "cep": ["90000-001", "90000-002"],
        },
        geometry=[P(porto + 5, -2990), P(porto + 6005, -2990)],
        crs=CRS,
    )
    pyogrio.write_dataframe(vias, path, layer="vias", driver="GPKG")
    pyogrio.write_dataframe(edif, path, layer="edificacoes", driver="GPKG")
    return path


@pytest.fixture(scope="module")
def clerk(tmp_path_factory: pytest.TempPathFactory) -> Gazetteer:
    path = write_clerk_territory(tmp_path_factory.mktemp("clerk") / "t.gpkg")
    return Gazetteer.from_territory(path)


def found(gazetteer: Gazetteer, queries: list[str]) -> list[str | None]:
    out = geocode(requests(*({"endereco": q} for q in queries)), gazetteer)
    return [None if pd.isna(n) else str(n) for n in out["logradouro_encontrado"]]


def test_abbreviations_of_types_titles_and_saints(clerk: Gazetteer) -> None:
    table = [
        ("Tv. São José", "Travessa São José"),
        ("Trav. Sao Jose", "Travessa São José"),
        ("Lg. do Machado", "Largo do Machado"),
        ("LG DO MACHADO", "Largo do Machado"),
        ("Vd. Obirici", "Viaduto Obirici"),
        ("Viad. Obirici", "Viaduto Obirici"),
        ("Elev. Costa e Silva", "Elevado Costa e Silva"),
        ("Passarela 1", "Passarela Um"),
        ("R. Alm. Tamandaré", "Rua Almirante Tamandaré"),
        ("R. Cmte. Lara", "Rua Comandante Lara"),
        ("R. Tte. Ary Tarrago", "Rua Tenente Ary Tarragô"),
        ("R. Ten. Ary Tarrago", "Rua Tenente Ary Tarragô"),
        ("R. Nsra. Aparecida", "Rua Nossa Senhora Aparecida"),
        ("R. N. Sra. Aparecida", "Rua Nossa Senhora Aparecida"),
        ("Pça. D. Feliciano", "Praça Dom Feliciano"),
        ("Pç. Dom Feliciano", "Praça Dom Feliciano"),
        ("R. Gal. Osório", "Rua General Osório"),
        ("R. Gen. Osorio", "Rua General Osório"),
        ("Rua 1o de Março", "Rua Primeiro de Março"),
        ("Rua 1º de Março", "Rua Primeiro de Março"),
    ]
    assert found(clerk, [q for q, _ in table]) == [e for _, e in table]


def test_vila_viela_beco_as_types_and_inside_names(clerk: Gazetteer) -> None:
    table = [
        ("Vila Canadá", "Estrada Vila Canadá"),  # the type word is part of the street's name
        ("Estr. Vila Canada", "Estrada Vila Canadá"),
        ("Vl. Bom Jesus", "Vila Bom Jesus"),
        ("Rua Vila Bom Jesus", "Vila Bom Jesus"),  # a clerk's "Rua" before a "Vila"
        ("Bom Jesus", "Vila Bom Jesus"),
        ("Viela Sto. André", "Viela Santo André"),
        ("Vie. Santo Andre", "Viela Santo André"),
        ("Bc. dos Artistas", "Beco dos Artistas"),
    ]
    assert found(clerk, [q for q, _ in table]) == [e for _, e in table]


def test_name_without_its_type_is_found_when_unique(clerk: Gazetteer) -> None:
    # "São Vicente" is also the core of "Avenida Marquês de São Vicente": the full name decides
    row = one(clerk, endereco="Marquês de São Vicente, 120")
    assert row["logradouro_encontrado"] == "Avenida Marquês de São Vicente"
    assert "interpretado como" in row["geocodificacao_detalhe"]
    assert found(clerk, ["São Vicente", "Costa e Silva"]) == [
        "Rua São Vicente",
        "Elevado Costa e Silva",
    ]


def test_every_word_of_the_name_decides_not_one_shared_word(clerk: Gazetteer) -> None:
    # "Marques" after a name is a surname, not a title to drop
    assert found(clerk, ["AZEVEDO MARQUES", "Rua Azevedo Marques", "Ten. Azevedo"]) == [
        "Rua Azevedo Marques",
        "Rua Azevedo Marques",
        "Rua Tenente Azevedo",
    ]
    # a typo in a name that differs from another only by "da": the words written decide
    assert found(clerk, ["Erensto da Fontoura", "Erensto Fontoura"]) == [
        "Rua Ernesto da Fontoura",
        "Rua Ernesto Fontoura",
    ]


def test_typos_are_tolerated_in_proportion_to_the_name(clerk: Gazetteer) -> None:
    accepted = [
        ("Martinoh Prado", "Rua Martinho Prado"),  # 13 letters: two edits allowed, one used
        ("R. Martinho Pardo", "Rua Martinho Prado"),
        ("Romilda Valenino", "Rua Romilda Valentino"),
        ("Rua Romlida Valenino", "Rua Romilda Valentino"),  # two edits in 16 letters
        ("R. Alm. Tamandre", "Rua Almirante Tamandaré"),  # one edit in 9 letters
    ]
    assert found(clerk, [q for q, _ in accepted]) == [e for _, e in accepted]
    refused = [
        "R. Alm. Tamnadre",  # two edits in 9 letters
        "Rua Mratinoh Pardo",  # three edits in 13 letters
        "Av. João",  # "Jordão" is two edits from a 4-letter name
    ]
    rows = geocode(requests(*({"endereco": q} for q in refused)), clerk)
    assert list(rows["geocodificacao"]) == ["falhou"] * 3
    assert all("não encontrado" in d for d in rows["geocodificacao_detalhe"])
    # numbers are never fuzzy: "Rua Dez" and "Rua Doze" are both real and distinct
    assert found(clerk, ["Rua 10", "Rua 12", "R. Dez"]) == ["Rua Dez", "Rua Doze", "Rua Dez"]
    assert found(clerk, ["Rua Deze"]) == [None]


def test_ambiguity_asks_for_the_cep_only_where_postcodes_exist(clerk: Gazetteer) -> None:
    no_cep = one(clerk, endereco="Tv. São Pedro, 12")
    assert no_cep["geocodificacao"] == "falhou"
    detail = no_cep["geocodificacao_detalhe"]
    assert "ambíguo" in detail and "2 trechos" in detail
    assert "CEP" not in detail
    assert "coordenadas" in detail and "ponto de referência" in detail
    with_cep = one(clerk, endereco="Rua do Porto")
    assert "ambíguo" in with_cep["geocodificacao_detalhe"]
    assert "CEP" in with_cep["geocodificacao_detalhe"]
    decided = one(clerk, endereco="Rua do Porto, 10", cep="90000-002")
    assert decided["geocodificacao"] == "numero_exato"
    # one edit from two streets, no bairros in the territory: the full name decides
    tie = one(clerk, endereco="R. Marcilo Dias")
    assert tie["geocodificacao"] == "falhou"
    detail = tie["geocodificacao_detalhe"]
    assert "'Rua Marcílio Dias'" in detail and "'Rua Márcio Dias'" in detail
    assert detail.endswith("informe o nome completo")
