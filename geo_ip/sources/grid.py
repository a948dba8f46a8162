"""Read the existing electric grid from files: an ANEEL BDGD or a user's vector file.

Two readers share one output, :class:`GridData`:

* :func:`read_bdgd` reads the BDGD (Base de Dados Geográfica da Distribuidora,
  PRODIST Módulo 10) that every Brazilian distributor publishes as an Esri file
  geodatabase — a ``.gdb`` folder, a ``.gdb.zip`` or a ``.zip`` holding one — or a
  GeoPackage with the same layer names. Layers map to grid types through
  ``catalog.bdgd``; the public-lighting table ``PIP`` is joined to the poles.
* :func:`read_grid_file` reads GeoPackage, Shapefile, GeoJSON, FlatGeobuf (any
  format GDAL opens) or a CSV with latitude/longitude columns, and types each
  feature from an argument, a column or, as a last resort, its geometry.

:func:`read_grid` picks the reader from the path. Both frames keep the source CRS;
the territory builder reprojects. A ``mask`` (EPSG:4326) is transformed into each
layer's CRS and handed to GDAL, so a concession-wide BDGD is read only where the
territory is; features crossing the mask are kept whole.
"""

from __future__ import annotations

import re
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geo_ip.errors import GridError
from geo_ip.sources.catalog import BdgdMapping, GridLayer
from geo_ip.sources.grid_common import (
    ELEMENT_COLUMNS,
    IP_COLUMNS,
    GridData,
    as_text,
    concat_frames,
    empty_ip,
    finish_reading,
    gdal_errors,
    layer_info,
    layer_names,
    make_elements,
    mask_for,
    require_exists,
)
from geo_ip.sources.grid_files import read_grid_file

__all__ = ["ELEMENT_COLUMNS", "IP_COLUMNS", "GridData", "read_bdgd", "read_grid", "read_grid_file"]

# --- BDGD schema (PRODIST Módulo 10). Layer names and join keys come from the catalog;
# these are the attribute fields read from those layers.
_BDGD_BT_TRAFO = "UNI_TR_MT"  # SSDBT -> UNTRMT.COD_ID (the transformer feeding the segment)
_BDGD_TRAFO_SEC_KV = "TEN_LIN_SE"  # UNTRMT: secondary line voltage, kV
_BDGD_MT_CIRCUIT = "CTMT"  # SSDMT -> CTMT.COD_ID (the MV feeder)
_BDGD_CIRCUIT_TABLE = "CTMT"
_BDGD_CIRCUIT_TEN = "TEN_NOM"  # CTMT: nominal voltage, TTEN code
_BDGD_IP_TEN = "TEN_FORN"  # PIP: supply voltage, TTEN code
_BDGD_IP_POWER = "POT_LAMP"
_BDGD_IP_LAMP = "TIPO_LAMP"
_BDGD_IP_ENERGY = tuple(f"ENE_{month:02d}" for month in range(1, 13))
_BDGD_DATE = re.compile(r"^(.+?_\d{4}-\d{2}-\d{2})")

# TTEN domain of the BDGD (Manual de Instruções da BDGD, Anexo II, "Tipo de Tensão"):
# code -> nominal line voltage in volts. Code 0 ("não informado") is left out on purpose.
# fmt: off
_TTEN_V: dict[int, float] = {
    1: 110, 2: 115, 3: 120, 4: 121, 5: 125, 6: 127, 7: 208, 8: 216, 9: 216.5, 10: 220, 11: 230,
    12: 231, 13: 240, 14: 254, 15: 380, 16: 400, 17: 440, 18: 480, 19: 500, 20: 600, 21: 750,
    22: 1_000, 23: 2_200, 24: 3_200, 25: 3_600, 26: 3_785, 27: 3_800, 28: 3_848, 29: 3_985,
    30: 4_160, 31: 4_200, 32: 4_207, 33: 4_368, 34: 4_560, 35: 5_000, 36: 6_000, 37: 6_600,
    38: 6_930, 39: 7_960, 40: 8_670, 41: 11_400, 42: 11_900, 43: 12_000, 44: 12_600,
    45: 12_700, 46: 13_200, 47: 13_337, 48: 13_530, 49: 13_800, 50: 13_860, 51: 14_140,
    52: 14_190, 53: 14_400, 54: 14_835, 55: 15_000, 56: 15_200, 57: 19_053, 58: 19_919,
    59: 21_000, 60: 21_500, 61: 22_000, 62: 23_000, 63: 23_100, 64: 23_827, 65: 24_000,
    66: 24_200, 67: 25_000, 68: 25_800, 69: 27_000, 70: 30_000, 71: 33_000, 72: 34_500,
    73: 36_000, 74: 38_000, 75: 40_000, 76: 44_000, 77: 45_000, 78: 45_400, 79: 48_000,
    80: 60_000, 81: 66_000, 82: 69_000, 83: 72_500, 84: 88_000, 85: 88_200, 86: 92_000,
    87: 100_000, 88: 120_000, 89: 121_000, 90: 123_000, 91: 131_600, 92: 131_630, 93: 131_635,
    94: 138_000, 95: 145_000, 96: 230_000, 97: 345_000, 98: 500_000, 99: 750_000,
    100: 1_000_000, 101: 245_000, 102: 550_000,
}
# fmt: on

_BDGD_CONTAINERS = frozenset({".gpkg", ".sqlite"})


def read_grid(
    path: str | Path,
    catalog: GridLayer,
    *,
    mask: shapely.Geometry | None = None,
    tipo: str | None = None,
    coluna_tipo: str | None = None,
    crs: str | None = None,
) -> GridData:
    """Read the existing grid, choosing the reader from the path.

    A ``.gdb`` folder, a ``.zip`` holding a ``.gdb`` (``.gdb.zip``) or a GeoPackage
    with BDGD layer names goes to :func:`read_bdgd`; anything else to
    :func:`read_grid_file`.

    Parameters
    ----------
    path : str or Path
        The grid file or folder.
    catalog : GridLayer
        The ``rede_existente`` catalog entry (``load_catalog().rede_existente``).
    mask : shapely.Geometry, optional
        Area of interest in EPSG:4326; only features intersecting it are read.
    tipo, coluna_tipo, crs : str, optional
        Passed to :func:`read_grid_file`; ignored (with a warning) for a BDGD.

    Returns
    -------
    GridData
        Elements and public-lighting points in the source CRS.

    Raises
    ------
    GridError
        If the source is missing, unreadable or unusable.
    """
    source = Path(path)
    require_exists(source)
    if _bdgd_dataset(source, catalog) is None:
        return read_grid_file(
            source, catalog, mask=mask, tipo=tipo, coluna_tipo=coluna_tipo, crs=crs
        )
    data = read_bdgd(source, catalog, mask=mask)
    ignored = [
        name
        for name, value in (("--rede-tipo", tipo), ("--rede-coluna-tipo", coluna_tipo))
        if value is not None
    ]
    if crs is not None:
        ignored.append("--rede-crs")
    if not ignored:
        return data
    aviso = f"{', '.join(ignored)} ignorado(s): a BDGD já traz o tipo e o sistema de coordenadas."
    return GridData(data.elementos, data.pontos_ip, data.descricao, (*data.avisos, aviso))


def read_bdgd(
    path: str | Path, catalog: GridLayer, *, mask: shapely.Geometry | None = None
) -> GridData:
    """Read an ANEEL BDGD (PRODIST Módulo 10).

    Layers and types come from ``catalog.bdgd.camadas`` (SSDBT → bt, SSDMT → mt,
    PONNOT → poste, UNTRMT → transformador); ``id_origem`` is ``COD_ID``. The
    public-lighting table (``catalog.bdgd.tabela_ip``, PIP) is joined to the poles by
    ``PIP.PN_CON = PONNOT.COD_ID``: each lighting point takes its pole's geometry.
    ``tensao_v`` is filled where the BDGD states it: low voltage from the secondary
    voltage of the feeding transformer (``SSDBT.UNI_TR_MT`` → ``UNTRMT.TEN_LIN_SE``),
    medium voltage from the feeder's TTEN code (``SSDMT.CTMT`` → ``CTMT.TEN_NOM``),
    lighting points from ``PIP.TEN_FORN``; poles and transformers stay NaN.
    ``tipo_lampada`` keeps the BDGD ``TIPO_LAMP`` code (the code list is not bundled).

    Parameters
    ----------
    path : str or Path
        A ``.gdb`` folder, a ``.gdb.zip`` / ``.zip`` holding one (read in place through
        GDAL's ``/vsizip/``), or a GeoPackage with BDGD layer names.
    catalog : GridLayer
        The ``rede_existente`` catalog entry.
    mask : shapely.Geometry, optional
        Area of interest in EPSG:4326; only features intersecting it are read
        (crossing features are kept whole). Lighting points follow their poles.

    Returns
    -------
    GridData
        Elements and lighting points in the BDGD's CRS (SIRGAS 2000, EPSG:4674).

    Raises
    ------
    GridError
        If the file is missing or unreadable, a required layer (low-voltage network or
        poles) is absent, or a key field is missing.
    """
    started = time.perf_counter()
    source = Path(path)
    require_exists(source)
    dataset = _bdgd_dataset(source, catalog)
    src, label = dataset if dataset is not None else (str(source), source.name)
    mapping = catalog.bdgd
    layers = layer_names(src, source)
    layer_crs = _checked_crs(src, source, layers, mapping)
    avisos: list[str] = []
    parts, poles = _network(
        src, source, layers, catalog, mask_for(mask, layer_crs), layer_crs, avisos
    )

    pontos = empty_ip(layer_crs)
    lighting = _bdgd_lighting(
        src, source, layers, poles, masked=mask is not None, catalog=catalog, avisos=avisos
    )
    if lighting is not None:
        pontos, ip_tension = lighting
        parts.append(make_elements(pontos, "bdgd", "ponto_ip", pontos["id_origem"], ip_tension))

    elementos = concat_frames(parts, layer_crs)
    if elementos.empty:
        if mask is None:
            raise GridError("a BDGD não tem nenhuma feição nas camadas da rede", path=source)
        avisos.append("Nenhum elemento da rede da BDGD intersecta a área de interesse.")
    shown = f"BDGD {label}"
    return finish_reading(elementos, pontos, f"{shown} (ANEEL)", avisos, started, shown)


def _checked_crs(src: str, path: Path, layers: dict[str, str], mapping: BdgdMapping) -> object:
    """Check that the required layers (low-voltage network, poles) are there; the poles' CRS."""
    required = [name for name, kind in mapping.camadas.items() if kind == "bt"]
    required.append(mapping.camada_postes)
    for name in required:
        if name.upper() not in layers:
            raise GridError(f"camada '{name}' da BDGD ausente", path=path)
    poles_layer = layers[mapping.camada_postes.upper()]
    layer_crs = layer_info(src, path, poles_layer)["crs"]
    if layer_crs is None:
        raise GridError(
            f"camada '{poles_layer}' sem sistema de coordenadas: BDGD incompleta", path=path
        )
    return layer_crs


def _network(
    src: str,
    path: Path,
    layers: dict[str, str],
    catalog: GridLayer,
    mask: shapely.Geometry | None,
    crs: object,
    avisos: list[str],
) -> tuple[list[gpd.GeoDataFrame], gpd.GeoDataFrame]:
    """Elements of every network layer of ``catalog.bdgd.camadas`` that is there; the poles."""
    mapping = catalog.bdgd
    key = mapping.chave_postes  # COD_ID, the primary key of every BDGD entity
    poles_layer = layers[mapping.camada_postes.upper()]
    parts: list[gpd.GeoDataFrame] = []
    poles: gpd.GeoDataFrame | None = None
    for name, kind in mapping.camadas.items():
        actual = layers.get(name.upper())
        if actual is None:
            rotulo = catalog.tipos[kind].rotulo if kind in catalog.tipos else kind
            avisos.append(f"Camada '{name}' ausente na BDGD: {rotulo.lower()} não carregada.")
            continue
        extra = {"bt": [_BDGD_BT_TRAFO], "mt": [_BDGD_MT_CIRCUIT]}.get(kind, [])
        frame = _read_layer(src, path, actual, [key, *extra], mask, crs)
        if kind == "bt":
            trafo = next((n for n, k in mapping.camadas.items() if k == "transformador"), "")
            tension = _bt_tension(src, path, layers.get(trafo.upper()), frame, key)
        elif kind == "mt":
            tension = _mt_tension(src, path, layers, frame, key)
        else:
            tension = np.full(len(frame), np.nan)
        parts.append(make_elements(frame, "bdgd", kind, frame[key], tension))
        if actual == poles_layer:
            poles = frame
    assert poles is not None  # required by _checked_crs
    return parts, poles


def _bdgd_dataset(path: Path, catalog: GridLayer) -> tuple[str, str] | None:
    """Return (GDAL path, label) when ``path`` is a BDGD, else None."""
    if path.is_dir():
        if path.suffix.lower() == ".gdb" or any(path.glob("*.gdbtable")):
            return str(path), _bdgd_label(path.name)
        return None
    suffix = path.suffix.lower()
    if suffix == ".zip":
        with gdal_errors(path, "arquivo zip ilegível"), zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        inner = _gdb_in_zip(names)
        if inner is None:
            return None
        return f"/vsizip/{path.resolve().as_posix()}/{inner}", _bdgd_label(inner)
    if suffix in _BDGD_CONTAINERS:
        # A GeoPackage with BDGD layer names (e.g. the demo's fictional grid).
        present = set(layer_names(str(path), path))
        bdgd = {*catalog.bdgd.camadas, catalog.bdgd.camada_postes, catalog.bdgd.tabela_ip}
        if any(name.upper() in present for name in bdgd):
            return str(path), path.name
    return None


def _gdb_in_zip(names: list[str]) -> str | None:
    found: set[str] = set()
    for member in names:
        parts = member.split("/")
        for i, part in enumerate(parts[:-1]):
            if part.lower().endswith(".gdb"):
                found.add("/".join(parts[: i + 1]))
                break
    return min(found) if found else None


def _bdgd_label(name: str) -> str:
    stem = name.rsplit("/", 1)[-1]
    stem = re.sub(r"\.gdb$", "", stem, flags=re.IGNORECASE)
    match = _BDGD_DATE.match(stem)
    return match.group(1) if match else stem


def _read_layer(
    src: str,
    path: Path,
    layer: str,
    columns: list[str],
    mask: shapely.Geometry | None,
    crs: object,
) -> gpd.GeoDataFrame:
    """Read some fields of a BDGD layer (absent ones as None; the first is required)."""
    with gdal_errors(path, f"não foi possível ler a camada '{layer}'"):
        # pyogrio skips requested fields the layer does not have.
        frame = pyogrio.read_dataframe(src, layer=layer, columns=columns, mask=mask)
    if columns[0] not in frame.columns:
        raise GridError(f"camada '{layer}' sem o campo {columns[0]}", path=path, field=columns[0])
    if frame.crs is None:
        frame = frame.set_crs(crs)
    elif not CRS.from_user_input(frame.crs).equals(CRS.from_user_input(crs)):
        frame = frame.to_crs(crs)
    for column in columns:
        if column not in frame.columns:
            frame[column] = None
    frame[columns[0]] = as_text(frame[columns[0]])
    return frame


def _read_table(
    src: str, path: Path, layer: str, columns: list[str], required: str | None = None
) -> pd.DataFrame:
    """Read fields of a BDGD table or layer without geometry (absent ones as None)."""
    with gdal_errors(path, f"não foi possível ler a tabela '{layer}'"):
        table = pyogrio.read_dataframe(src, layer=layer, columns=columns, read_geometry=False)
    if required is not None and required not in table.columns:
        raise GridError(f"tabela '{layer}' sem o campo {required}", path=path, field=required)
    for column in columns:
        if column not in table.columns:
            table[column] = None
    return pd.DataFrame(table)


def _tten_volts(codes: pd.Series) -> np.ndarray:
    """TTEN codes (text or numbers) → volts; unknown or missing → NaN."""
    numbers = pd.to_numeric(codes, errors="coerce")
    return numbers.map(_TTEN_V).astype(float).to_numpy()


def _bt_tension(
    src: str, path: Path, trafo_layer: str | None, frame: gpd.GeoDataFrame, key: str
) -> np.ndarray:
    """Low-voltage segment voltage from its transformer's secondary (kV → V)."""
    if trafo_layer is None or frame.empty:
        return np.full(len(frame), np.nan)
    trafos = _read_table(src, path, trafo_layer, [key, _BDGD_TRAFO_SEC_KV])
    kv = pd.to_numeric(trafos[_BDGD_TRAFO_SEC_KV], errors="coerce")
    by_id = pd.Series(kv.to_numpy() * 1000.0, index=as_text(trafos[key]))
    by_id = by_id[~by_id.index.duplicated()]
    return as_text(frame[_BDGD_BT_TRAFO]).map(by_id).astype(float).to_numpy()


def _mt_tension(
    src: str, path: Path, layers: dict[str, str], frame: gpd.GeoDataFrame, key: str
) -> np.ndarray:
    """Medium-voltage segment voltage from its feeder's TTEN code (CTMT.TEN_NOM)."""
    circuit_layer = layers.get(_BDGD_CIRCUIT_TABLE)
    if circuit_layer is None or frame.empty:
        return np.full(len(frame), np.nan)
    circuits = _read_table(src, path, circuit_layer, [key, _BDGD_CIRCUIT_TEN])
    by_id = pd.Series(_tten_volts(circuits[_BDGD_CIRCUIT_TEN]), index=as_text(circuits[key]))
    by_id = by_id[~by_id.index.duplicated()]
    return as_text(frame[_BDGD_MT_CIRCUIT]).map(by_id).astype(float).to_numpy()


def _bdgd_lighting(
    src: str,
    path: Path,
    layers: dict[str, str],
    poles: gpd.GeoDataFrame,
    *,
    masked: bool,
    catalog: GridLayer,
    avisos: list[str],
) -> tuple[gpd.GeoDataFrame, np.ndarray] | None:
    """Join PIP to the poles: (lighting points, their voltage); None without the table.

    A missing table, and lighting points whose pole is in no layer, are warned of.
    """
    mapping = catalog.bdgd
    table = layers.get(mapping.tabela_ip.upper())
    if table is None:
        avisos.append(
            f"Tabela '{mapping.tabela_ip}' ausente na BDGD: pontos de iluminação pública "
            "não carregados."
        )
        return None
    key = mapping.chave_postes
    link = mapping.chave_ip
    pip = _read_table(
        src,
        path,
        table,
        [key, link, _BDGD_IP_POWER, _BDGD_IP_LAMP, _BDGD_IP_TEN, *_BDGD_IP_ENERGY],
        required=link,
    )
    pip[link] = as_text(pip[link])
    located = poles[[key, "geometry"]].drop_duplicates(subset=key)
    joined = pip.merge(located, left_on=link, right_on=key, how="inner", suffixes=("", "_poste"))

    unmatched = ~pip[link].isin(located[key])
    if masked and unmatched.any():
        # Outside the mask is not an error: count only links to no pole at all.
        every_pole = _read_table(src, path, layers[mapping.camada_postes.upper()], [key])
        unmatched &= ~pip[link].isin(as_text(every_pole[key]))
    if orphans := int(unmatched.sum()):
        avisos.append(
            f"{orphans} ponto(s) de iluminação da tabela {mapping.tabela_ip} sem poste "
            f"correspondente em {mapping.camada_postes} ({mapping.chave_ip} sem "
            f"{mapping.chave_postes} igual): descartado(s)."
        )

    energy = joined[list(_BDGD_IP_ENERGY)].apply(pd.to_numeric, errors="coerce")
    pontos = gpd.GeoDataFrame(
        {
            "fonte": "bdgd",
            "id_origem": as_text(joined[key]).to_numpy(),
            "poste_id": joined[link].to_numpy(),
            "potencia_w": pd.to_numeric(joined[_BDGD_IP_POWER], errors="coerce").astype(float),
            "tipo_lampada": as_text(joined[_BDGD_IP_LAMP]).to_numpy(),
            "energia_kwh_ano": energy.sum(axis=1, min_count=1).astype(float),
        },
        geometry=gpd.GeoSeries(joined["geometry"].to_numpy(), crs=poles.crs),
        crs=poles.crs,
    )
    pontos = pontos[list(IP_COLUMNS)]
    return pontos, _tten_volts(joined[_BDGD_IP_TEN])
