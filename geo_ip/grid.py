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

import io
import logging
import re
import time
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as ProjCRSError

from geo_ip.catalog import GridLayer
from geo_ip.errors import GridError

__all__ = ["GridData", "read_bdgd", "read_grid", "read_grid_file"]

logger = logging.getLogger("geo_ip")

ELEMENT_COLUMNS = ("fonte", "tipo", "id_origem", "tensao_v", "geometry")
"""Columns of :attr:`GridData.elementos`."""

IP_COLUMNS = (
    "fonte",
    "id_origem",
    "poste_id",
    "potencia_w",
    "tipo_lampada",
    "energia_kwh_ano",
    "geometry",
)
"""Columns of :attr:`GridData.pontos_ip`."""

_WGS84 = CRS.from_epsg(4326)
_MASK_SEGMENT_DEG = 0.01
"""Densify the mask (degrees, ~1 km) before projecting it, so edges bend correctly."""

_LINE_GEOMS = frozenset({"LineString", "MultiLineString", "LinearRing"})
_POINT_GEOMS = frozenset({"Point", "MultiPoint"})
_GEOMS_OF = {"linha": _LINE_GEOMS, "ponto": _POINT_GEOMS}

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

# --- user files. Besides the catalog keys and labels, these spellings name a grid type
# (compared after _norm: lower case, no accents, "_"/"-" as spaces).
_TYPE_SYNONYMS: dict[str, str] = {
    "baixa tensao": "bt",
    "rede bt": "bt",
    "rede de baixa tensao": "bt",
    "media tensao": "mt",
    "rede mt": "mt",
    "rede de media tensao": "mt",
    "postes": "poste",
    "trafo": "transformador",
    "trafos": "transformador",
    "transformadores": "transformador",
    "ip": "ponto_ip",
    "ponto ip": "ponto_ip",
    "luminaria": "ponto_ip",
    "luminarias": "ponto_ip",
    "ponto de iluminacao": "ponto_ip",
    "ponto de iluminacao publica": "ponto_ip",
    "iluminacao publica": "ponto_ip",
    "via iluminada": "via_iluminada",
}
_GEOMETRY_DEFAULT_TYPE = {"linha": "bt", "ponto": "poste"}
_TYPE_COLUMN = "tipo"
_ID_COLUMNS = ("id_origem", "cod_id", "id", "codigo")
_TENSION_COLUMNS = ("tensao_v",)
_POWER_COLUMNS = ("potencia_w", "potencia", "pot_lamp")
_LAMP_COLUMNS = ("tipo_lampada", "tipo_lamp", "lampada")
_ENERGY_COLUMNS = ("energia_kwh_ano",)
_POLE_COLUMNS = ("poste_id", "poste", "pn_con")
_CSV_COORDS = (
    ("latitude", "longitude"),
    ("lat", "lon"),
    ("lat", "lng"),
    ("lat", "long"),
    ("y", "x"),
)
_CSV_SUFFIXES = frozenset({".csv", ".txt"})
_BDGD_CONTAINERS = frozenset({".gpkg", ".sqlite"})


@dataclass(frozen=True)
class GridData:
    """The existing grid read from one source.

    Attributes
    ----------
    elementos : geopandas.GeoDataFrame
        Every grid element: ``fonte`` ("bdgd" or "arquivo"), ``tipo`` (a key of
        ``catalog.tipos``), ``id_origem`` (the source's id), ``tensao_v`` (nominal
        voltage in volts, NaN when unknown) and a LineString/MultiLineString or Point
        geometry. Public-lighting points are here too, as ``tipo = "ponto_ip"``.
    pontos_ip : geopandas.GeoDataFrame
        Public-lighting points: ``fonte``, ``id_origem``, ``poste_id``,
        ``potencia_w``, ``tipo_lampada`` (for a BDGD, the ``TIPO_LAMP`` code as
        published), ``energia_kwh_ano`` and a Point geometry.
    descricao : str
        Human-readable name of the source, for metadata and reports.
    avisos : tuple of str
        Warnings for the user, in Portuguese.
    """

    elementos: gpd.GeoDataFrame
    pontos_ip: gpd.GeoDataFrame
    descricao: str
    avisos: tuple[str, ...] = field(default=())


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
    _require_exists(source)
    if _bdgd_dataset(source, catalog) is None:
        return read_grid_file(
            source, catalog, mask=mask, tipo=tipo, coluna_tipo=coluna_tipo, crs=crs
        )
    data = read_bdgd(source, catalog, mask=mask)
    ignored = [
        name
        for name, value in (("--grid-tipo", tipo), ("--grid-coluna-tipo", coluna_tipo))
        if value is not None
    ]
    if crs is not None:
        ignored.append("--grid-crs")
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
    _require_exists(source)
    dataset = _bdgd_dataset(source, catalog)
    src, label = dataset if dataset is not None else (str(source), source.name)
    mapping = catalog.bdgd
    layers = _layer_names(src, source)
    avisos: list[str] = []

    required = [name for name, kind in mapping.camadas.items() if kind == "bt"]
    required.append(mapping.camada_postes)
    for name in required:
        if name.upper() not in layers:
            raise GridError(f"camada '{name}' da BDGD ausente", path=source)

    poles_layer = layers[mapping.camada_postes.upper()]
    layer_crs = _layer_info(src, source, poles_layer)["crs"]
    if layer_crs is None:
        raise GridError(
            f"camada '{poles_layer}' sem sistema de coordenadas: BDGD incompleta", path=source
        )
    layer_mask = _mask_for(mask, layer_crs)
    key = mapping.chave_postes  # COD_ID, the primary key of every BDGD entity

    parts: list[gpd.GeoDataFrame] = []
    poles: gpd.GeoDataFrame | None = None
    for name, kind in mapping.camadas.items():
        actual = layers.get(name.upper())
        if actual is None:
            rotulo = catalog.tipos[kind].rotulo if kind in catalog.tipos else kind
            avisos.append(f"Camada '{name}' ausente na BDGD: {rotulo.lower()} não carregada.")
            continue
        extra = {"bt": [_BDGD_BT_TRAFO], "mt": [_BDGD_MT_CIRCUIT]}.get(kind, [])
        frame = _read_layer(src, source, actual, [key, *extra], layer_mask, layer_crs)
        if kind == "bt":
            trafo = next((n for n, k in mapping.camadas.items() if k == "transformador"), "")
            tension = _bt_tension(src, source, layers.get(trafo.upper()), frame, key)
        elif kind == "mt":
            tension = _mt_tension(src, source, layers, frame, key)
        else:
            tension = np.full(len(frame), np.nan)
        parts.append(_elements(frame, "bdgd", kind, frame[key], tension))
        if actual == poles_layer:
            poles = frame

    assert poles is not None  # required above
    pontos = _empty_ip(layer_crs)
    table = layers.get(mapping.tabela_ip.upper())
    if table is None:
        avisos.append(
            f"Tabela '{mapping.tabela_ip}' ausente na BDGD: pontos de iluminação pública "
            "não carregados."
        )
    else:
        pontos, ip_tension, orphans = _bdgd_lighting(
            src, source, layers, table, poles, key, masked=mask is not None, catalog=catalog
        )
        if orphans:
            avisos.append(
                f"{orphans} ponto(s) de iluminação da tabela {mapping.tabela_ip} sem poste "
                f"correspondente em {mapping.camada_postes} ({mapping.chave_ip} sem "
                f"{mapping.chave_postes} igual): descartado(s)."
            )
        parts.append(_elements(pontos, "bdgd", "ponto_ip", pontos["id_origem"], ip_tension))

    elementos = _concat(parts, layer_crs)
    if elementos.empty:
        if mask is None:
            raise GridError("a BDGD não tem nenhuma feição nas camadas da rede", path=source)
        avisos.append("Nenhum elemento da rede da BDGD intersecta a área de interesse.")
    logger.info(
        "BDGD %s: %d elementos, %d pontos de IP (%.2f s)",
        label,
        len(elementos),
        len(pontos),
        time.perf_counter() - started,
    )
    return GridData(elementos, pontos, f"BDGD {label} (ANEEL)", tuple(avisos))


def read_grid_file(
    path: str | Path,
    catalog: GridLayer,
    *,
    mask: shapely.Geometry | None = None,
    tipo: str | None = None,
    coluna_tipo: str | None = None,
    crs: str | None = None,
) -> GridData:
    """Read the existing grid from a user's vector or CSV file.

    Every layer with geometry is read (all layers of a GeoPackage). A CSV needs
    latitude/longitude columns (``latitude``/``longitude``, ``lat``/``lon`` or
    ``y``/``x``, any case; ``;`` or ``,`` separated; decimal comma accepted). The
    type of each feature is, in order: ``tipo`` (all features), the column
    ``coluna_tipo``, a column named ``tipo``, or the geometry (lines → ``bt``,
    points → ``poste``, with a warning). Type values match the catalog keys and
    labels and common synonyms ("BT", "baixa tensão", "trafo", "luminária"...), in any
    case and with or without accents. Points typed ``ponto_ip`` also go to
    ``pontos_ip`` (``potencia_w`` from a ``potencia``/``potencia_w`` column).

    Parameters
    ----------
    path : str or Path
        The file (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, a ``.zip`` GDAL opens,
        or CSV).
    catalog : GridLayer
        The ``rede_existente`` catalog entry.
    mask : shapely.Geometry, optional
        Area of interest in EPSG:4326; only features intersecting it are kept
        (crossing features whole). Types are still checked on the whole file.
    tipo : str, optional
        A catalog type key given to every feature.
    coluna_tipo : str, optional
        The column holding each feature's type.
    crs : str, optional
        CRS of the coordinates when the file has none (a Shapefile without ``.prj``;
        for a CSV, coordinates in this CRS instead of latitude/longitude).

    Returns
    -------
    GridData
        Elements and lighting points in the file's CRS (EPSG:4326 for a CSV without
        ``crs``).

    Raises
    ------
    GridError
        If the file is missing, empty, unreadable, has no usable geometry, an unknown
        CRS, lacks coordinate columns, or a type value is unknown (with the row and
        field).
    """
    started = time.perf_counter()
    source = Path(path)
    _require_exists(source)
    if tipo is not None and tipo not in catalog.tipos:
        raise GridError(
            f"tipo '{tipo}' desconhecido; use um de: {', '.join(catalog.tipos)}", path=source
        )
    user_crs = _parse_crs(crs, source)
    avisos: list[str] = []
    if source.suffix.lower() in _CSV_SUFFIXES:
        layers = [_read_csv(source, user_crs, mask)]
        descricao = f"arquivo CSV {source.name}"
    else:
        layers = _read_vector(source, user_crs, mask, avisos)
        descricao = f"arquivo vetorial {source.name}"

    if sum(layer.total for layer in layers) == 0:
        raise GridError("o arquivo não tem nenhuma feição", path=source)
    layers = _usable_geometry(layers, source, masked=mask is not None, avisos=avisos)

    multi = len(layers) > 1
    parts: list[gpd.GeoDataFrame] = []
    ips: list[gpd.GeoDataFrame] = []
    defaulted = False
    for layer in layers:
        kinds, by_geometry = _layer_types(layer, catalog, source, tipo, coluna_tipo, multi)
        defaulted = defaulted or by_geometry
        frame = layer.frame.assign(_tipo=kinds)
        _check_geometry_types(frame, catalog, source, layer.name if multi else None)
        frame = _explode_multipoints(frame)
        ids = _column(frame, _ID_COLUMNS)
        prefix = f"{layer.name}:" if multi else ""
        frame["_id"] = (
            _as_text(ids).to_numpy() if ids is not None else prefix + frame["_linha"].astype(str)
        )
        tension = _numeric(frame, _TENSION_COLUMNS, source, layer, multi, strict=False)
        parts.append(_elements(frame, "arquivo", frame["_tipo"], frame["_id"], tension))
        lights = frame[frame["_tipo"] == "ponto_ip"].reset_index(drop=True)
        if not lights.empty:
            ips.append(_file_lighting(lights, source, layer, multi))

    target_crs = layers[0].frame.crs
    elementos = _concat(parts, target_crs)
    pontos = _concat(ips, target_crs, columns=IP_COLUMNS) if ips else _empty_ip(target_crs)
    if defaulted:
        avisos.append(
            f"O arquivo {source.name} não informa o tipo dos elementos (sem --grid-tipo, "
            "--grid-coluna-tipo ou coluna 'tipo'): linhas foram tratadas como rede de baixa "
            "tensão (bt) e pontos como postes."
        )
    if elementos.empty:
        avisos.append(f"Nenhum elemento de {source.name} intersecta a área de interesse.")
    logger.info(
        "%s: %d elementos, %d pontos de IP (%.2f s)",
        descricao,
        len(elementos),
        len(pontos),
        time.perf_counter() - started,
    )
    return GridData(elementos, pontos, descricao, tuple(avisos))


# --------------------------------------------------------------------------- helpers


@dataclass
class _Layer:
    """One layer of a user file: the (masked) features and the full attribute table."""

    name: str
    frame: gpd.GeoDataFrame  # masked features, with "_linha" (1-based row in the layer)
    attrs: pd.DataFrame  # every row of the layer, in file order, without geometry
    total: int  # features in the layer before the mask
    ignored: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Rows (1-based) dropped for lack of usable geometry: their type is not checked."""


def _require_exists(path: Path) -> None:
    if not path.exists():
        raise GridError("arquivo não encontrado", path=path)
    if path.is_file() and path.stat().st_size == 0:
        raise GridError("arquivo vazio", path=path)


def _detail(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 240 else text[:237] + "..."


@contextmanager
def _gdal(path: Path, what: str = "não foi possível ler o arquivo") -> Iterator[None]:
    """Rephrase GDAL/pyogrio failures as a GridError that keeps the detail."""
    try:
        yield
    except (RuntimeError, OSError, zipfile.BadZipFile) as exc:
        raise GridError(f"{what} ({_detail(exc)})", path=path) from exc


def _parse_crs(crs: str | None, path: Path) -> CRS | None:
    if crs is None:
        return None
    try:
        return CRS.from_user_input(crs)
    except ProjCRSError as exc:
        raise GridError(
            f"sistema de coordenadas '{crs}' inválido ({_detail(exc)})", path=path
        ) from exc


def _norm(text: object) -> str:
    """Lower case, accents stripped, '_' and '-' as spaces, spaces collapsed."""
    plain = unicodedata.normalize("NFKD", str(text))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return " ".join(plain.lower().replace("_", " ").replace("-", " ").split())


def _bdgd_dataset(path: Path, catalog: GridLayer) -> tuple[str, str] | None:
    """Return (GDAL path, label) when ``path`` is a BDGD, else None."""
    if path.is_dir():
        if path.suffix.lower() == ".gdb" or any(path.glob("*.gdbtable")):
            return str(path), _bdgd_label(path.name)
        return None
    suffix = path.suffix.lower()
    if suffix == ".zip":
        with _gdal(path, "arquivo zip ilegível"), zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        inner = _gdb_in_zip(names)
        if inner is None:
            return None
        return f"/vsizip/{path.resolve().as_posix()}/{inner}", _bdgd_label(inner)
    if suffix in _BDGD_CONTAINERS:
        # A GeoPackage with BDGD layer names (e.g. the demo's fictional grid).
        present = set(_layer_names(str(path), path))
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


def _layer_names(src: str, path: Path) -> dict[str, str]:
    """Layer names of a dataset, keyed by upper case."""
    with _gdal(path):
        listed = pyogrio.list_layers(src)
    return {str(name).upper(): str(name) for name, _ in listed}


def _layer_info(src: str, path: Path, layer: str) -> dict[str, object]:
    with _gdal(path):
        info: dict[str, object] = pyogrio.read_info(src, layer=layer)
    return info


def _mask_for(mask: shapely.Geometry | None, crs: object) -> shapely.Geometry | None:
    """Express the EPSG:4326 mask in ``crs`` (densified first, so edges bend)."""
    if mask is None:
        return None
    target = CRS.from_user_input(crs)
    if target.equals(_WGS84, ignore_axis_order=True):
        return mask
    transformer = Transformer.from_crs(_WGS84, target, always_xy=True)

    def project(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(shapely.segmentize(mask, _MASK_SEGMENT_DEG), project)


def _read_layer(
    src: str,
    path: Path,
    layer: str,
    columns: list[str],
    mask: shapely.Geometry | None,
    crs: object,
) -> gpd.GeoDataFrame:
    """Read some fields of a BDGD layer (absent ones as None; the first is required)."""
    with _gdal(path, f"não foi possível ler a camada '{layer}'"):
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
    frame[columns[0]] = _as_text(frame[columns[0]])
    return frame


def _read_table(
    src: str, path: Path, layer: str, columns: list[str], required: str | None = None
) -> pd.DataFrame:
    """Read fields of a BDGD table or layer without geometry (absent ones as None)."""
    with _gdal(path, f"não foi possível ler a tabela '{layer}'"):
        table = pyogrio.read_dataframe(src, layer=layer, columns=columns, read_geometry=False)
    if required is not None and required not in table.columns:
        raise GridError(f"tabela '{layer}' sem o campo {required}", path=path, field=required)
    for column in columns:
        if column not in table.columns:
            table[column] = None
    return pd.DataFrame(table)


def _as_text(values: pd.Series) -> pd.Series:
    """Keys as stripped text; missing stays missing (floats like 12.0 become "12")."""
    if pd.api.types.is_float_dtype(values):
        whole = values.notna() & (values == values.round())
        out = values.astype(object)
        out[whole] = values[whole].astype("int64").astype(str)
        return out.where(values.notna(), None).astype(object)
    return (
        values.astype(object)
        .where(values.notna(), None)
        .map(lambda v: v if v is None else str(v).strip())
    )


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
    by_id = pd.Series(kv.to_numpy() * 1000.0, index=_as_text(trafos[key]))
    by_id = by_id[~by_id.index.duplicated()]
    return _as_text(frame[_BDGD_BT_TRAFO]).map(by_id).astype(float).to_numpy()


def _mt_tension(
    src: str, path: Path, layers: dict[str, str], frame: gpd.GeoDataFrame, key: str
) -> np.ndarray:
    """Medium-voltage segment voltage from its feeder's TTEN code (CTMT.TEN_NOM)."""
    circuit_layer = layers.get(_BDGD_CIRCUIT_TABLE)
    if circuit_layer is None or frame.empty:
        return np.full(len(frame), np.nan)
    circuits = _read_table(src, path, circuit_layer, [key, _BDGD_CIRCUIT_TEN])
    by_id = pd.Series(_tten_volts(circuits[_BDGD_CIRCUIT_TEN]), index=_as_text(circuits[key]))
    by_id = by_id[~by_id.index.duplicated()]
    return _as_text(frame[_BDGD_MT_CIRCUIT]).map(by_id).astype(float).to_numpy()


def _bdgd_lighting(
    src: str,
    path: Path,
    layers: dict[str, str],
    table: str,
    poles: gpd.GeoDataFrame,
    key: str,
    *,
    masked: bool,
    catalog: GridLayer,
) -> tuple[gpd.GeoDataFrame, np.ndarray, int]:
    """Join PIP to the poles: (lighting points, their voltage, orphan count)."""
    link = catalog.bdgd.chave_ip
    pip = _read_table(
        src,
        path,
        table,
        [key, link, _BDGD_IP_POWER, _BDGD_IP_LAMP, _BDGD_IP_TEN, *_BDGD_IP_ENERGY],
        required=link,
    )
    pip[link] = _as_text(pip[link])
    located = poles[[key, "geometry"]].drop_duplicates(subset=key)
    joined = pip.merge(located, left_on=link, right_on=key, how="inner", suffixes=("", "_poste"))

    unmatched = ~pip[link].isin(located[key])
    if masked and unmatched.any():
        # Outside the mask is not an error: count only links to no pole at all.
        every_pole = _read_table(src, path, layers[catalog.bdgd.camada_postes.upper()], [key])
        unmatched &= ~pip[link].isin(_as_text(every_pole[key]))
    orphans = int(unmatched.sum())

    energy = joined[list(_BDGD_IP_ENERGY)].apply(pd.to_numeric, errors="coerce")
    pontos = gpd.GeoDataFrame(
        {
            "fonte": "bdgd",
            "id_origem": _as_text(joined[key]).to_numpy(),
            "poste_id": joined[link].to_numpy(),
            "potencia_w": pd.to_numeric(joined[_BDGD_IP_POWER], errors="coerce").astype(float),
            "tipo_lampada": _as_text(joined[_BDGD_IP_LAMP]).to_numpy(),
            "energia_kwh_ano": energy.sum(axis=1, min_count=1).astype(float),
        },
        geometry=gpd.GeoSeries(joined["geometry"].to_numpy(), crs=poles.crs),
        crs=poles.crs,
    )
    pontos = pontos[list(IP_COLUMNS)]
    return pontos, _tten_volts(joined[_BDGD_IP_TEN]), orphans


def _elements(
    frame: gpd.GeoDataFrame,
    fonte: str,
    kind: str | pd.Series,
    ids: pd.Series,
    tension: np.ndarray,
) -> gpd.GeoDataFrame:
    kinds = np.full(len(frame), kind, dtype=object) if isinstance(kind, str) else kind
    return gpd.GeoDataFrame(
        {
            "fonte": np.full(len(frame), fonte, dtype=object),
            "tipo": np.asarray(kinds, dtype=object),
            "id_origem": np.asarray(ids, dtype=object),
            "tensao_v": np.asarray(tension, dtype=float),
        },
        geometry=gpd.GeoSeries(frame.geometry.to_numpy(), crs=frame.crs),
        crs=frame.crs,
    )


def _empty_elements(crs: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "fonte": pd.Series(dtype=object),
            "tipo": pd.Series(dtype=object),
            "id_origem": pd.Series(dtype=object),
            "tensao_v": pd.Series(dtype=float),
        },
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    )


def _empty_ip(crs: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "fonte": pd.Series(dtype=object),
            "id_origem": pd.Series(dtype=object),
            "poste_id": pd.Series(dtype=object),
            "potencia_w": pd.Series(dtype=float),
            "tipo_lampada": pd.Series(dtype=object),
            "energia_kwh_ano": pd.Series(dtype=float),
        },
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    )


def _concat(
    parts: list[gpd.GeoDataFrame], crs: object, columns: tuple[str, ...] = ELEMENT_COLUMNS
) -> gpd.GeoDataFrame:
    """Concatenate frames in ``crs`` (reprojecting as needed), dropping empty ones."""
    parts = [p for p in parts if not p.empty]
    if not parts:
        return _empty_elements(crs) if columns == ELEMENT_COLUMNS else _empty_ip(crs)
    target = CRS.from_user_input(crs)
    aligned = [p if CRS.from_user_input(p.crs).equals(target) else p.to_crs(target) for p in parts]
    joined = pd.concat([p[list(columns)] for p in aligned], ignore_index=True)
    return gpd.GeoDataFrame(joined, geometry="geometry", crs=crs)


# --------------------------------------------------------------------- user files


def _read_vector(
    path: Path, user_crs: CRS | None, mask: shapely.Geometry | None, avisos: list[str]
) -> list[_Layer]:
    """Every geometric layer of a vector file, masked, with its full attribute table."""
    src = str(path)
    names = list(_layer_names(src, path).values())
    layers: list[_Layer] = []
    for name in names:
        info = _layer_info(src, path, name)
        if info["geometry_type"] is None:
            continue  # attribute table
        layer_crs: object = info["crs"]
        if layer_crs is None:
            if user_crs is None:
                raise GridError(
                    "sistema de coordenadas desconhecido: informe --grid-crs", path=path
                )
            layer_crs = user_crs
        elif user_crs is not None and not CRS.from_user_input(layer_crs).equals(user_crs):
            avisos.append(
                f"A camada '{name}' de {path.name} já declara o sistema de coordenadas "
                f"{layer_crs}; --grid-crs foi ignorado para ela."
            )
        layers.append(_read_vector_layer(src, path, name, layer_crs, _mask_for(mask, layer_crs)))
    if not layers:
        raise GridError(
            "o arquivo não tem geometria (só tabelas de atributos)"
            if names
            else "o arquivo não tem nenhuma camada",
            path=path,
        )
    return layers


def _read_vector_layer(
    src: str, path: Path, name: str, crs: object, mask: shapely.Geometry | None
) -> _Layer:
    with _gdal(path):
        if mask is None:
            frame = pyogrio.read_dataframe(src, layer=name)
            attrs = pd.DataFrame(frame.drop(columns="geometry"))
            positions = np.arange(len(frame))
        else:
            # Attributes of every row (row numbers and type checks cover the whole file)
            # and geometry only inside the mask, matched by feature id.
            attrs = pyogrio.read_dataframe(src, layer=name, read_geometry=False, fid_as_index=True)
            geoms = pyogrio.read_dataframe(
                src, layer=name, columns=[], mask=mask, fid_as_index=True
            )
            if attrs.index.is_unique:
                rows = pd.Series(np.arange(len(attrs)), index=attrs.index)
                positions = rows.loc[geoms.index].to_numpy()
                frame = gpd.GeoDataFrame(
                    attrs.iloc[positions].reset_index(drop=True),
                    geometry=geoms.geometry.to_numpy(),
                    crs=geoms.crs,
                )
            else:  # feature ids not unique: mask in memory
                full = pyogrio.read_dataframe(src, layer=name)
                attrs = pd.DataFrame(full.drop(columns="geometry"))
                positions = np.flatnonzero(full.intersects(mask).to_numpy())
                frame = full.iloc[positions]
    frame = gpd.GeoDataFrame(frame.reset_index(drop=True), geometry="geometry")
    if frame.crs is None:
        frame = frame.set_crs(crs)
    frame["_linha"] = positions + 1
    return _Layer(name, frame, pd.DataFrame(attrs).reset_index(drop=True), len(attrs))


def _read_csv(path: Path, user_crs: CRS | None, mask: shapely.Geometry | None) -> _Layer:
    raw = path.read_bytes()
    if not raw.strip():
        raise GridError("arquivo vazio", path=path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    header = next(line for line in text.splitlines() if line.strip())
    sep = max((";", ",", "\t"), key=header.count)
    try:
        table = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise GridError(f"CSV ilegível ({_detail(exc)})", path=path) from exc
    table.columns = [str(c).strip() for c in table.columns]
    lat_col, lon_col = _coordinate_columns(table, path)
    lat = _parse_numbers(table[lat_col], path, lat_col, "coordenada inválida")
    lon = _parse_numbers(table[lon_col], path, lon_col, "coordenada inválida")
    for column, values in ((lat_col, lat), (lon_col, lon)):
        missing = np.flatnonzero(np.isnan(values))
        if missing.size:
            raise GridError("coordenada vazia", path=path, row=int(missing[0]) + 1, field=column)
    crs: CRS = user_crs if user_crs is not None else _WGS84
    if user_crs is None:
        for column, values, limit, what in (
            (lat_col, lat, 90.0, "latitude"),
            (lon_col, lon, 180.0, "longitude"),
        ):
            bad = np.flatnonzero(np.abs(values) > limit)
            if bad.size:
                raise GridError(
                    f"valor {values[bad[0]]:g} fora do intervalo de {what} (±{limit:g}°); "
                    "se as coordenadas forem projetadas (UTM), informe --grid-crs",
                    path=path,
                    row=int(bad[0]) + 1,
                    field=column,
                )
    frame = gpd.GeoDataFrame(
        table.drop(columns=[lat_col, lon_col]),
        geometry=gpd.points_from_xy(lon, lat),
        crs=crs,
    )
    frame["_linha"] = np.arange(1, len(frame) + 1)
    attrs = pd.DataFrame(table)
    if mask is not None:
        frame = frame[frame.intersects(_mask_for(mask, crs))].reset_index(drop=True)
    return _Layer(name=path.stem, frame=frame, attrs=attrs, total=len(table))


def _coordinate_columns(table: pd.DataFrame, path: Path) -> tuple[str, str]:
    by_norm = {_norm(c): c for c in table.columns}
    for lat, lon in _CSV_COORDS:
        if lat in by_norm and lon in by_norm:
            return by_norm[lat], by_norm[lon]
    present = ", ".join(table.columns) or "nenhuma"
    raise GridError(
        "colunas de coordenadas não encontradas (use latitude/longitude, lat/lon ou y/x); "
        f"colunas presentes: {present}",
        path=path,
    )


def _parse_numbers(values: pd.Series, path: Path, field_name: str, what: str) -> np.ndarray:
    """Numbers from text (decimal comma accepted); empty → NaN; garbage → GridError."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float).to_numpy()
    text = values.astype(object).where(values.notna(), "").map(lambda v: str(v).strip())
    numbers = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
    bad = np.flatnonzero(numbers.isna().to_numpy() & (text != "").to_numpy())
    if bad.size:
        raise GridError(
            f"{what}: '{text.iloc[bad[0]]}'", path=path, row=int(bad[0]) + 1, field=field_name
        )
    return numbers.astype(float).to_numpy()


def _usable_geometry(
    layers: list[_Layer], path: Path, *, masked: bool, avisos: list[str]
) -> list[_Layer]:
    """Drop null/empty/areal geometries (with a warning); fail when nothing is left."""
    found: dict[str, int] = {}
    kept: list[_Layer] = []
    dropped = 0
    for layer in layers:
        geoms = layer.frame.geometry
        kinds = geoms.geom_type.where(~(geoms.isna() | geoms.is_empty), "sem geometria")
        for kind, count in kinds.value_counts().items():
            found[str(kind)] = found.get(str(kind), 0) + int(count)
        usable = kinds.isin(_LINE_GEOMS | _POINT_GEOMS).to_numpy()
        dropped += int((~usable).sum())
        frame = layer.frame[usable].reset_index(drop=True)
        frame.geometry = frame.geometry.force_2d()
        ignored = layer.frame.loc[~usable, "_linha"].to_numpy(dtype=np.int64)
        kept.append(_Layer(layer.name, frame, layer.attrs, layer.total, ignored))
    if not any(not layer.frame.empty for layer in kept):
        if masked and all(k in _LINE_GEOMS | _POINT_GEOMS for k in found):
            return kept  # nothing in the area of interest: empty result, warned later
        listed = ", ".join(f"{k} ({n})" for k, n in sorted(found.items())) or "nenhuma"
        raise GridError(
            "nenhuma geometria utilizável (são aceitas linhas e pontos); "
            f"geometrias encontradas: {listed}",
            path=path,
        )
    if dropped:
        listed = ", ".join(
            f"{k} ({n})" for k, n in sorted(found.items()) if k not in _LINE_GEOMS | _POINT_GEOMS
        )
        avisos.append(
            f"{dropped} feição(ões) de {path.name} sem geometria utilizável foram ignoradas: "
            f"{listed}."
        )
    return kept


def _type_lookup(catalog: GridLayer) -> dict[str, str]:
    lookup = {_norm(key): key for key in catalog.tipos}
    lookup.update({_norm(t.rotulo): key for key, t in catalog.tipos.items()})
    lookup.update({_norm(k): v for k, v in _TYPE_SYNONYMS.items() if v in catalog.tipos})
    return lookup


def _find_column(columns: pd.Index, wanted: str) -> str | None:
    target = _norm(wanted)
    for column in columns:
        if _norm(column) == target:
            return str(column)
    return None


def _layer_types(
    layer: _Layer,
    catalog: GridLayer,
    path: Path,
    tipo: str | None,
    coluna_tipo: str | None,
    multi: bool,
) -> tuple[np.ndarray, bool]:
    """Type each feature of ``layer.frame``; the flag is True when taken from geometry."""
    frame = layer.frame
    if tipo is not None:
        return np.full(len(frame), tipo, dtype=object), False
    where = f"camada '{layer.name}': " if multi else ""
    column = None
    if coluna_tipo is not None:
        column = _find_column(layer.attrs.columns, coluna_tipo)
        if column is None:
            raise GridError(
                f"{where}coluna de tipo não encontrada; colunas presentes: "
                f"{', '.join(map(str, layer.attrs.columns)) or 'nenhuma'}",
                path=path,
                field=coluna_tipo,
            )
    else:
        column = _find_column(layer.attrs.columns, _TYPE_COLUMN)
    if column is None:
        lines = frame.geom_type.isin(_LINE_GEOMS).to_numpy()
        kinds = np.where(
            lines, _GEOMETRY_DEFAULT_TYPE["linha"], _GEOMETRY_DEFAULT_TYPE["ponto"]
        ).astype(object)
        return kinds, True

    # Check the whole layer (not only the masked part), so row numbers are the file's.
    lookup = _type_lookup(catalog)
    values = layer.attrs[column]
    mapped = values.map(lambda v: None if pd.isna(v) else lookup.get(_norm(v)))
    unknown = mapped.isna().to_numpy().copy()
    unknown[layer.ignored - 1] = False
    bad = np.flatnonzero(unknown)
    if bad.size:
        value = values.iloc[bad[0]]
        shown = (
            "não informado"
            if pd.isna(value) or not str(value).strip()
            else f"'{value}' desconhecido"
        )
        raise GridError(
            f"{where}tipo {shown}; use um de: {', '.join(catalog.tipos)} "
            "(ou BT, MT, trafo, IP, luminária...)",
            path=path,
            row=int(bad[0]) + 1,
            field=column,
        )
    return mapped.to_numpy(dtype=object)[frame["_linha"].to_numpy() - 1], False


def _check_geometry_types(
    frame: gpd.GeoDataFrame, catalog: GridLayer, path: Path, layer: str | None
) -> None:
    """Each feature's geometry must fit its type (lines for bt/mt, points for poles...)."""
    where = f"camada '{layer}': " if layer else ""
    geom_types = frame.geom_type.to_numpy()
    for kind in pd.unique(frame["_tipo"]):
        family = catalog.tipos[str(kind)].geometria
        allowed = _GEOMS_OF.get(family)
        if allowed is None:
            continue
        wrong = np.flatnonzero(
            (frame["_tipo"].to_numpy() == kind) & ~np.isin(geom_types, list(allowed))
        )
        if wrong.size:
            row = int(frame["_linha"].iloc[wrong[0]])
            raise GridError(
                f"{where}o tipo '{kind}' exige geometria de {family}, mas a feição "
                f"é {geom_types[wrong[0]]}",
                path=path,
                row=row,
            )


def _explode_multipoints(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    multi = (frame.geom_type == "MultiPoint").to_numpy()
    if not multi.any():
        return frame
    exploded = frame[multi].explode(index_parts=False)
    out = pd.concat([frame[~multi], exploded]).sort_values("_linha", kind="stable")
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs=frame.crs)


def _column(frame: pd.DataFrame, names: tuple[str, ...]) -> pd.Series | None:
    for name in names:
        column = _find_column(frame.columns, name)
        if column is not None:
            return frame[column]
    return None


def _numeric(
    frame: pd.DataFrame,
    names: tuple[str, ...],
    path: Path,
    layer: _Layer,
    multi: bool,
    *,
    strict: bool,
) -> np.ndarray:
    """Read a numeric column by one of ``names`` (NaN when absent)."""
    for name in names:
        column = _find_column(frame.columns, name)
        if column is None:
            continue
        values = frame[column]
        if not strict:
            text = values.astype(object).where(values.notna(), "").map(lambda v: str(v).strip())
            return (
                pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
                .astype(float)
                .to_numpy()
            )
        try:
            return _parse_numbers(values, path, column, "número inválido")
        except GridError as exc:
            # Re-point the row at the file's row (frame rows may be a masked subset).
            row = int(frame["_linha"].iloc[(exc.row or 1) - 1])
            where = f"camada '{layer.name}': " if multi else ""
            raise GridError(f"{where}{exc.message}", path=path, row=row, field=column) from exc
    return np.full(len(frame), np.nan)


def _file_lighting(
    lights: gpd.GeoDataFrame, path: Path, layer: _Layer, multi: bool
) -> gpd.GeoDataFrame:
    lamp = _column(lights, _LAMP_COLUMNS)
    pole = _column(lights, _POLE_COLUMNS)
    return gpd.GeoDataFrame(
        {
            "fonte": np.full(len(lights), "arquivo", dtype=object),
            "id_origem": lights["_id"].to_numpy(dtype=object),
            "poste_id": (
                _as_text(pole).to_numpy() if pole is not None else np.full(len(lights), None)
            ),
            "potencia_w": _numeric(lights, _POWER_COLUMNS, path, layer, multi, strict=True),
            "tipo_lampada": (
                _as_text(lamp).to_numpy() if lamp is not None else np.full(len(lights), None)
            ),
            "energia_kwh_ano": _numeric(lights, _ENERGY_COLUMNS, path, layer, multi, strict=True),
        },
        geometry=gpd.GeoSeries(lights.geometry.to_numpy(), crs=lights.crs),
        crs=lights.crs,
    )
