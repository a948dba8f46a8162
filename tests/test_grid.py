"""Tests of geo_ip.sources.grid: reading the existing electric grid (BDGD and user files)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from geo_ip.errors import GridError
from geo_ip.sources.catalog import GridLayer, load_catalog
from geo_ip.sources.grid import ELEMENT_COLUMNS, IP_COLUMNS, GridData, read_bdgd, read_grid
from tests.conftest import BDGD_ZIP, require

ENERGY = [f"ENE_{m:02d}" for m in range(1, 13)]


@pytest.fixture(scope="module")
def catalog() -> GridLayer:
    return load_catalog().rede_existente


def counts(data: GridData) -> dict[str, int]:
    return {str(k): int(v) for k, v in data.elementos["tipo"].value_counts().items()}


def check_schema(data: GridData) -> None:
    assert tuple(data.elementos.columns) == ELEMENT_COLUMNS
    assert tuple(data.pontos_ip.columns) == IP_COLUMNS
    assert data.elementos.crs is not None
    assert data.pontos_ip.crs is not None


# ------------------------------------------------------------------ real BDGD


@pytest.fixture(scope="module")
def bdgd_vsi() -> str:
    return f"/vsizip/{require(BDGD_ZIP)}"


@pytest.fixture(scope="module")
def bdgd(catalog: GridLayer, bdgd_vsi: str) -> GridData:
    return read_grid(BDGD_ZIP, catalog)


@pytest.mark.slow
def test_bdgd_counts_match_the_layers(bdgd: GridData, bdgd_vsi: str) -> None:
    check_schema(bdgd)
    expected = {"bt": 4283, "mt": 2173, "poste": 4848, "transformador": 273, "ponto_ip": 3481}
    assert counts(bdgd) == expected
    # Independently, from the layer headers.
    layers = {"SSDBT": "bt", "SSDMT": "mt", "PONNOT": "poste", "UNTRMT": "transformador"}
    for layer, kind in layers.items():
        assert pyogrio.read_info(bdgd_vsi, layer=layer)["features"] == expected[kind]
    assert pyogrio.read_info(bdgd_vsi, layer="PIP")["features"] == expected["ponto_ip"]
    assert len(bdgd.pontos_ip) == 3481
    assert bdgd.descricao == "BDGD Mux_Energia_401_2024-12-31 (ANEEL)"
    assert bdgd.avisos == ()
    assert bdgd.elementos.crs.to_epsg() == 4674
    assert set(bdgd.elementos["fonte"]) == {"bdgd"}
    lines = bdgd.elementos[bdgd.elementos["tipo"].isin(["bt", "mt"])]
    assert set(lines.geom_type) == {"MultiLineString"}
    points = bdgd.elementos[~bdgd.elementos["tipo"].isin(["bt", "mt"])]
    assert set(points.geom_type) == {"Point"}


@pytest.mark.slow
def test_bdgd_lighting_points_sit_on_their_poles(bdgd: GridData, bdgd_vsi: str) -> None:
    poles = pyogrio.read_dataframe(bdgd_vsi, layer="PONNOT", columns=["COD_ID"])
    pip = pyogrio.read_dataframe(bdgd_vsi, layer="PIP", read_geometry=False)
    ip = bdgd.pontos_ip
    # Via the join key...
    assert ip["poste_id"].isin(poles["COD_ID"]).all()
    assert sorted(ip["id_origem"]) == sorted(pip["COD_ID"])
    # ...and via the geometry: each point equals its pole's point exactly.
    on_pole = ip.merge(
        pd.DataFrame({"poste_id": poles["COD_ID"], "pole": poles.geometry.to_numpy()}),
        on="poste_id",
        how="left",
    )
    assert len(on_pole) == 3481
    assert shapely.equals(on_pole["geometry"].to_numpy(), on_pole["pole"].to_numpy()).all()
    assert ip.geometry.isin(poles.geometry).all()
    # Power, lamp types and yearly energy, against the table read directly.
    assert ip["potencia_w"].sum() == pytest.approx(297_987.0)
    assert ip["potencia_w"].sum() == pytest.approx(pip["POT_LAMP"].sum())
    assert ip["tipo_lampada"].value_counts().to_dict() == {
        "1": 3390,
        "9": 79,
        "7": 7,
        "3": 3,
        "8": 2,
    }
    assert ip["energia_kwh_ano"].sum() == pytest.approx(pip[ENERGY].to_numpy().sum())
    assert ip["energia_kwh_ano"].sum() == pytest.approx(1_516_861.3035)
    assert set(ip["fonte"]) == {"bdgd"}


@pytest.mark.slow
def test_bdgd_voltages_from_ttens(bdgd: GridData) -> None:
    by_type = bdgd.elementos.groupby("tipo")["tensao_v"]
    # Both feeders are CTMT.TEN_NOM = 49 (13.8 kV).
    assert by_type.get_group("mt").eq(13_800).all()
    # UNTRMT.TEN_LIN_SE: 0.38 kV for all but two segments fed at 0.22 kV.
    assert by_type.get_group("bt").value_counts().to_dict() == {380.0: 4281, 220.0: 2}
    assert by_type.get_group("poste").isna().all()
    assert by_type.get_group("transformador").isna().all()


@pytest.mark.slow
def test_bdgd_mask_reads_only_the_area(catalog: GridLayer, bdgd: GridData, bdgd_vsi: str) -> None:
    mask = Point(-52.0079, -28.0643).buffer(0.006)  # EPSG:4326, ~650 m around the centre
    masked = read_bdgd(BDGD_ZIP, catalog, mask=mask)
    check_schema(masked)
    got = counts(masked)
    full = counts(bdgd)
    assert set(got) == set(full)
    assert all(0 < got[k] < full[k] for k in full)
    assert masked.elementos.intersects(mask).all()
    assert masked.pontos_ip.intersects(mask).all()
    # Same features as filtering the whole layers in memory (crossing lines kept whole).
    for layer, kind in {"SSDBT": "bt", "SSDMT": "mt", "PONNOT": "poste"}.items():
        frame = pyogrio.read_dataframe(bdgd_vsi, layer=layer, columns=["COD_ID"])
        inside = set(frame.loc[frame.intersects(mask), "COD_ID"])
        mine = masked.elementos[masked.elementos["tipo"] == kind]
        assert set(mine["id_origem"]) == inside
    ip_full = bdgd.pontos_ip
    assert len(masked.pontos_ip) == int(ip_full.intersects(mask).sum())
    crossing = masked.elementos[masked.elementos["tipo"] == "bt"]
    assert not crossing.within(mask).all()  # some segments leave the mask, kept whole
    assert masked.avisos == ()  # lights outside the mask are not orphans


@pytest.mark.slow
def test_bdgd_as_unzipped_folder_and_renamed_zip(tmp_path: Path, catalog: GridLayer) -> None:
    require(BDGD_ZIP)
    with zipfile.ZipFile(BDGD_ZIP) as archive:
        archive.extractall(tmp_path / "unz")
    gdb = next((tmp_path / "unz").glob("*.gdb"))
    data = read_grid(gdb, catalog)
    assert counts(data)["bt"] == 4283
    assert len(data.pontos_ip) == 3481
    renamed = tmp_path / "rede.zip"  # a plain .zip holding the .gdb folder
    renamed.write_bytes(BDGD_ZIP.read_bytes())
    again = read_grid(renamed, catalog, tipo="bt")
    assert counts(again) == counts(data)
    assert any("--rede-tipo" in aviso for aviso in again.avisos)


# ------------------------------------------------------------------ tiny BDGD


def write_tiny_bdgd(path: Path, *, with_pip: bool = True, with_poles: bool = True) -> None:
    crs = "EPSG:4674"
    ssdbt = gpd.GeoDataFrame(
        {"COD_ID": ["bt1", "bt2"], "UNI_TR_MT": ["t1", "t1"]},
        geometry=[LineString([(0, 0), (0.001, 0)]), LineString([(0.001, 0), (0.002, 0)])],
        crs=crs,
    )
    pyogrio.write_dataframe(ssdbt, path, layer="SSDBT")
    if with_poles:
        ponnot = gpd.GeoDataFrame(
            {"COD_ID": ["p1", "p2", "p3"]},
            geometry=[Point(0, 0), Point(0.001, 0), Point(0.002, 0)],
            crs=crs,
        )
        pyogrio.write_dataframe(ponnot, path, layer="PONNOT")
    if with_pip:
        pip = pd.DataFrame(
            {
                "COD_ID": ["ip1", "ip2", "ip3"],
                "PN_CON": ["p2", "p3", "p9"],  # p9: no such pole
                "POT_LAMP": [100.0, 70.0, 250.0],
                "TIPO_LAMP": ["1", "9", "1"],
                **{col: [1.0, 2.0, 3.0] for col in ENERGY},
            }
        )
        pyogrio.write_dataframe(pip, path, layer="PIP")  # attribute table, no geometry


def test_tiny_bdgd_geopackage(tmp_path: Path, catalog: GridLayer) -> None:
    path = tmp_path / "demo_rede.gpkg"
    write_tiny_bdgd(path)
    assert pyogrio.read_info(path, layer="PIP")["geometry_type"] is None
    data = read_grid(path, catalog)
    check_schema(data)
    assert counts(data) == {"bt": 2, "poste": 3, "ponto_ip": 2}
    assert data.descricao.startswith("BDGD demo_rede.gpkg")
    ip = data.pontos_ip.sort_values("id_origem").reset_index(drop=True)
    assert list(ip["id_origem"]) == ["ip1", "ip2"]
    assert list(ip["poste_id"]) == ["p2", "p3"]
    assert list(ip["potencia_w"]) == [100.0, 70.0]
    assert list(ip["tipo_lampada"]) == ["1", "9"]
    assert list(ip["energia_kwh_ano"]) == [12.0, 24.0]
    assert list(ip.geometry) == [Point(0.001, 0), Point(0.002, 0)]
    assert ip.crs.to_epsg() == 4674
    warnings = " ".join(data.avisos)
    assert "1 ponto(s) de iluminação da tabela PIP sem poste" in warnings
    assert "SSDMT" in warnings and "UNTRMT" in warnings  # absent layers, not fatal
    # No UNTRMT, so no secondary voltage: NaN rather than a guess.
    assert data.elementos["tensao_v"].isna().all()


def test_tiny_bdgd_without_pip_warns(tmp_path: Path, catalog: GridLayer) -> None:
    path = tmp_path / "sem_pip.gpkg"
    write_tiny_bdgd(path, with_pip=False)
    data = read_bdgd(path, catalog)
    assert counts(data) == {"bt": 2, "poste": 3}
    assert data.pontos_ip.empty
    assert tuple(data.pontos_ip.columns) == IP_COLUMNS
    assert any("Tabela 'PIP' ausente" in aviso for aviso in data.avisos)


def test_tiny_bdgd_without_poles_fails(tmp_path: Path, catalog: GridLayer) -> None:
    path = tmp_path / "sem_postes.gpkg"
    write_tiny_bdgd(path, with_poles=False)
    with pytest.raises(GridError, match="camada 'PONNOT' da BDGD ausente") as info:
        read_grid(path, catalog)
    assert info.value.path == path


def test_tiny_bdgd_mask_keeps_lights_of_masked_poles(tmp_path: Path, catalog: GridLayer) -> None:
    path = tmp_path / "rede.gpkg"
    write_tiny_bdgd(path)
    mask = shapely.box(0.0015, -0.0005, 0.0025, 0.0005)  # around p3 only
    data = read_bdgd(path, catalog, mask=mask)
    assert counts(data) == {"bt": 1, "poste": 1, "ponto_ip": 1}
    assert list(data.pontos_ip["id_origem"]) == ["ip2"]
    # ip1 is outside the mask (not warned); ip3 has no pole at all (warned).
    assert any(aviso.startswith("1 ponto(s)") for aviso in data.avisos)


# ------------------------------------------------------------------ user files


def test_geopackage_with_tipo_column(tmp_path: Path, catalog: GridLayer) -> None:
    path = tmp_path / "rede_municipal.gpkg"
    lines = gpd.GeoDataFrame(
        {"tipo": ["BT", "Média Tensão", "baixa_tensao"], "tensao_v": [220.0, 13800.0, None]},
        geometry=[
            LineString([(350_000, 7_470_000), (350_040, 7_470_000)]),
            LineString([(350_000, 7_470_100), (350_100, 7_470_100)]),
            LineString([(350_040, 7_470_000), (350_080, 7_470_000)]),
        ],
        crs="EPSG:31983",
    )
    points = gpd.GeoDataFrame(
        {
            "TIPO": ["poste", "Trafo", "luminária", "IP"],
            "codigo": ["P-1", "T-1", "L-1", "L-2"],
            "potencia": [None, None, 150.0, 70.0],
        },
        geometry=[Point(350_000, 7_470_000), Point(350_040, 7_470_000)] * 2,
        crs="EPSG:31983",
    )
    pyogrio.write_dataframe(lines, path, layer="linhas")
    pyogrio.write_dataframe(points, path, layer="pontos")
    pyogrio.write_dataframe(pd.DataFrame({"nota": ["x"]}), path, layer="anotacoes")
    data = read_grid(path, catalog)
    check_schema(data)
    assert counts(data) == {"bt": 2, "mt": 1, "poste": 1, "transformador": 1, "ponto_ip": 2}
    assert data.elementos.crs.to_epsg() == 31983
    assert data.descricao == "arquivo vetorial rede_municipal.gpkg"
    assert data.avisos == ()
    assert set(data.elementos["fonte"]) == {"arquivo"}
    el = data.elementos
    assert list(el.loc[el["tipo"] == "mt", "tensao_v"]) == [13800.0]
    assert list(el.loc[el["tipo"] == "bt", "id_origem"]) == ["linhas:1", "linhas:3"]
    assert list(el.loc[el["tipo"] == "transformador", "id_origem"]) == ["T-1"]
    ip = data.pontos_ip
    assert list(ip["id_origem"]) == ["L-1", "L-2"]
    assert list(ip["potencia_w"]) == [150.0, 70.0]
    assert list(ip.geometry) == [Point(350_000, 7_470_000), Point(350_040, 7_470_000)]
    assert ip["energia_kwh_ano"].isna().all()


@pytest.mark.parametrize(("driver", "suffix"), [("GeoJSON", ".geojson"), ("FlatGeobuf", ".fgb")])
def test_typed_by_geometry_with_warning(
    tmp_path: Path, catalog: GridLayer, driver: str, suffix: str
) -> None:
    path = tmp_path / f"rede{suffix}"
    frame = gpd.GeoDataFrame(
        {"nome": ["a", "b", "c"]},
        geometry=[
            LineString([(-46.31, -22.85), (-46.30, -22.85)]),
            Point(-46.31, -22.85),
            Point(-46.30, -22.85),
        ],
        crs="EPSG:4326",
    )
    # FlatGeobuf's spatial index would reorder the features; keep the file order.
    options = {"SPATIAL_INDEX": "NO"} if driver == "FlatGeobuf" else {}
    pyogrio.write_dataframe(
        frame, path, driver=driver, geometry_type="Unknown", layer_options=options
    )
    data = read_grid(path, catalog)
    assert counts(data) == {"bt": 1, "poste": 2}
    assert data.elementos.crs.to_epsg() == 4326
    assert len(data.avisos) == 1
    assert "linhas foram tratadas como rede de baixa tensão (bt)" in data.avisos[0]
    assert data.pontos_ip.empty
    # Forcing every feature to one type is refused when a geometry does not fit.
    with pytest.raises(GridError, match="exige geometria de linha") as info:
        read_grid(path, catalog, tipo="bt")
    assert info.value.row == 2


def test_shapefile_without_prj(tmp_path: Path, catalog: GridLayer) -> None:
    path = tmp_path / "postes.shp"
    frame = gpd.GeoDataFrame(
        {"tipo": ["poste", "poste"]},
        geometry=[Point(350_000, 7_470_000), Point(350_030, 7_470_000)],
        crs="EPSG:31983",
    )
    pyogrio.write_dataframe(frame, path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(GridError, match="sistema de coordenadas desconhecido: informe --rede-crs"):
        read_grid(path, catalog)
    data = read_grid(path, catalog, crs="EPSG:31983")
    assert counts(data) == {"poste": 2}
    assert data.elementos.crs.to_epsg() == 31983


def test_csv_semicolon_decimal_comma(tmp_path: Path, catalog: GridLayer) -> None:
    path = tmp_path / "pontos.csv"
    path.write_text(
        "ID;Latitude;Longitude;Tipo;Potencia\n"
        "10;-22,8571;-46,3182;IP;100\n"
        "11;-22,8575;-46,3190;poste;\n"
        "12;-22,8580;-46,3201;ponto de iluminação;70,5\n",
        encoding="utf-8",
    )
    data = read_grid(path, catalog)
    check_schema(data)
    assert counts(data) == {"ponto_ip": 2, "poste": 1}
    assert data.elementos.crs.to_epsg() == 4326
    assert data.descricao == "arquivo CSV pontos.csv"
    first = data.elementos.geometry.iloc[0]
    assert (first.x, first.y) == (-46.3182, -22.8571)
    assert list(data.pontos_ip["potencia_w"]) == [100.0, 70.5]
    assert list(data.pontos_ip["id_origem"]) == ["10", "12"]


def test_csv_comma_and_lat_lon_names(tmp_path: Path, catalog: GridLayer) -> None:
    path = tmp_path / "postes.csv"
    path.write_text("lon,lat\n-46.3182,-22.8571\n-46.3190,-22.8575\n", encoding="utf-8")
    data = read_grid(path, catalog, tipo="poste")
    assert counts(data) == {"poste": 2}
    assert data.avisos == ()
    assert list(data.elementos["id_origem"]) == ["1", "2"]


def test_csv_errors(tmp_path: Path, catalog: GridLayer) -> None:
    no_coords = tmp_path / "sem_coordenadas.csv"
    no_coords.write_text("nome;tipo\na;poste\n", encoding="utf-8")
    with pytest.raises(GridError, match="colunas de coordenadas não encontradas"):
        read_grid(no_coords, catalog)
    utm = tmp_path / "utm.csv"
    utm.write_text("x;y\n350000;7470000\n", encoding="utf-8")
    with pytest.raises(GridError, match="fora do intervalo de latitude") as info:
        read_grid(utm, catalog, tipo="poste")
    assert (info.value.row, info.value.field) == (1, "y")
    # The same file is fine once its CRS is given.
    data = read_grid(utm, catalog, tipo="poste", crs="EPSG:31983")
    assert data.elementos.crs.to_epsg() == 31983
    garbage = tmp_path / "lixo.csv"
    garbage.write_text("lat;lon\n-22,85;-46,31\n-22,86;abc\n", encoding="utf-8")
    with pytest.raises(GridError, match="coordenada inválida: 'abc'") as info:
        read_grid(garbage, catalog, tipo="poste")
    assert (info.value.row, info.value.field) == (2, "lon")
    power = tmp_path / "potencia.csv"
    power.write_text(
        "lat;lon;tipo;potencia\n-22,85;-46,31;poste;x\n-22,86;-46,32;IP;cem\n", encoding="utf-8"
    )
    with pytest.raises(GridError, match="número inválido: 'cem'") as info:
        read_grid(power, catalog)
    assert (info.value.row, info.value.field) == (2, "potencia")


def test_unknown_tipo_value_names_row_and_field(tmp_path: Path, catalog: GridLayer) -> None:
    path = tmp_path / "rede.gpkg"
    frame = gpd.GeoDataFrame(
        {"classe": ["BT", "MT", "cabo de fibra"]},
        geometry=[LineString([(0, 0), (1, 0)]), LineString([(0, 1), (1, 1)])] * 1
        + [LineString([(0, 2), (1, 2)])],
        crs="EPSG:31983",
    )
    pyogrio.write_dataframe(frame, path)
    with pytest.raises(GridError) as info:
        read_grid(path, catalog, coluna_tipo="classe")
    err = info.value
    assert (err.row, err.field, err.path) == (3, "classe", path)
    assert "tipo 'cabo de fibra' desconhecido" in str(err)
    assert "rede.gpkg" in str(err) and "linha 3" in str(err)
    # The type check covers the whole file even when a mask leaves the bad row out.
    with pytest.raises(GridError) as info:
        read_grid(path, catalog, coluna_tipo="classe", mask=shapely.box(-60, -30, -40, -10))
    assert info.value.row == 3
    with pytest.raises(GridError, match="coluna de tipo não encontrada") as info:
        read_grid(path, catalog, coluna_tipo="categoria")
    assert info.value.field == "categoria"


def test_user_file_mask(tmp_path: Path, catalog: GridLayer) -> None:
    path = tmp_path / "postes.gpkg"
    frame = gpd.GeoDataFrame(
        {"tipo": ["poste", "poste", "trafo"]},
        geometry=[Point(-46.31, -22.85), Point(-46.20, -22.85), Point(-46.311, -22.851)],
        crs="EPSG:4674",
    )
    pyogrio.write_dataframe(frame, path)
    data = read_grid(path, catalog, mask=Point(-46.31, -22.85).buffer(0.01))
    assert counts(data) == {"poste": 1, "transformador": 1}
    assert list(data.elementos["id_origem"]) == ["1", "3"]  # file rows, not masked rows
    empty = read_grid(path, catalog, mask=shapely.box(0, 0, 1, 1))
    assert empty.elementos.empty
    assert any("intersecta a área de interesse" in aviso for aviso in empty.avisos)


def test_polygons_only(tmp_path: Path, catalog: GridLayer) -> None:
    path = tmp_path / "areas.geojson"
    frame = gpd.GeoDataFrame(
        {"tipo": ["bt"]}, geometry=[Polygon([(0, 0), (1, 0), (1, 1)])], crs="EPSG:4326"
    )
    pyogrio.write_dataframe(frame, path, driver="GeoJSON")
    with pytest.raises(GridError, match=r"nenhuma geometria utilizável.*Polygon \(1\)"):
        read_grid(path, catalog)


def test_polygons_mixed_with_lines_are_dropped_with_warning(
    tmp_path: Path, catalog: GridLayer
) -> None:
    path = tmp_path / "misto.gpkg"
    frame = gpd.GeoDataFrame(
        {"tipo": ["bt", "bt"]},
        geometry=[LineString([(0, 0), (1, 0)]), Polygon([(0, 0), (1, 0), (1, 1)])],
        crs="EPSG:31983",
    )
    pyogrio.write_dataframe(frame, path, geometry_type="Unknown")
    data = read_grid(path, catalog)
    assert counts(data) == {"bt": 1}
    assert any("Polygon (1)" in aviso for aviso in data.avisos)


def test_rows_without_geometry_are_skipped(tmp_path: Path, catalog: GridLayer) -> None:
    path = tmp_path / "com_nulos.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "properties": {"tipo": "poste"},'
        ' "geometry": {"type": "Point", "coordinates": [-46.31, -22.85]}},'
        '{"type": "Feature", "properties": {"tipo": null}, "geometry": null}]}',
        encoding="utf-8",
    )
    data = read_grid(path, catalog)
    assert counts(data) == {"poste": 1}
    assert data.avisos == (
        "1 feição(ões) de com_nulos.geojson sem geometria utilizável foram ignoradas: "
        "sem geometria (1).",
    )


def test_empty_feature_collection(tmp_path: Path, catalog: GridLayer) -> None:
    path = tmp_path / "vazio.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(GridError, match="nenhuma feição") as info:
        read_grid(path, catalog)
    assert info.value.path == path


def test_missing_empty_and_corrupt_files(tmp_path: Path, catalog: GridLayer) -> None:
    with pytest.raises(GridError, match="arquivo não encontrado"):
        read_grid(tmp_path / "nao_existe.gpkg", catalog)
    empty = tmp_path / "vazio.shp"
    empty.write_bytes(b"")
    with pytest.raises(GridError, match="arquivo vazio"):
        read_grid(empty, catalog)
    corrupt = tmp_path / "corrompido.gpkg"
    corrupt.write_bytes(b"isto nao e um geopackage" * 50)
    with pytest.raises(GridError, match=r"não foi possível ler o arquivo \(.+\)"):
        read_grid(corrupt, catalog)
    bad_zip = tmp_path / "rede.zip"
    bad_zip.write_bytes(b"PK\x03\x04 quebrado")
    with pytest.raises(GridError, match="arquivo zip ilegível"):
        read_grid(bad_zip, catalog)


def test_unknown_forced_tipo_and_bad_crs(tmp_path: Path, catalog: GridLayer) -> None:
    path = tmp_path / "p.csv"
    path.write_text("lat;lon\n-22,85;-46,31\n", encoding="utf-8")
    with pytest.raises(GridError, match="tipo 'rede' desconhecido"):
        read_grid(path, catalog, tipo="rede")
    with pytest.raises(GridError, match="sistema de coordenadas 'EPSG:999999' inválido"):
        read_grid(path, catalog, crs="EPSG:999999")


def test_multipoints_are_split(tmp_path: Path, catalog: GridLayer) -> None:
    path = tmp_path / "mp.geojson"
    frame = gpd.GeoDataFrame(
        {"tipo": ["poste"]},
        geometry=[shapely.MultiPoint([(0, 0), (1, 1)])],
        crs="EPSG:4326",
    )
    pyogrio.write_dataframe(frame, path, driver="GeoJSON")
    data = read_grid(path, catalog)
    assert list(data.elementos.geometry) == [Point(0, 0), Point(1, 1)]
    assert np.array_equal(data.elementos["id_origem"].to_numpy(), np.array(["1", "1"], object))


def test_tiny_bdgd_pip_without_link_field_fails(tmp_path: Path, catalog: GridLayer) -> None:
    path = tmp_path / "pip_sem_chave.gpkg"
    write_tiny_bdgd(path, with_pip=False)
    pip = pd.DataFrame({"COD_ID": ["ip1"], "POT_LAMP": [100.0]})
    pyogrio.write_dataframe(pip, path, layer="PIP")
    with pytest.raises(GridError, match="tabela 'PIP' sem o campo PN_CON") as info:
        read_bdgd(path, catalog)
    assert info.value.field == "PN_CON"
