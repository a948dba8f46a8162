"""Readers of the cadastre audit's inputs (:mod:`geo_ip.cadastre.audit`).

* The utility's cadastre (:func:`read_utility_cadastre`) is the BDGD table ``PIP``
  joined to the poles ``PONNOT`` (``PIP.PN_CON = PONNOT.COD_ID``), the same join as
  :func:`geo_ip.sources.grid.read_bdgd`, keeping what is billed: power ``POT_LAMP``, lamp
  ``TIPO_LAMP``, municipality ``MUN`` and the monthly energy ``ENE_01..ENE_12``.
* The inventory (:func:`read_inventory`) is the territory's ``pontos_ip`` layer or a
  file of points (CSV/XLSX with latitude/longitude, GeoJSON, GeoPackage) with power.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geo_ip.cadastre.inputs import GEOGRAPHIC_CRS, FileRows
from geo_ip.errors import GridError
from geo_ip.sources.catalog import load_catalog
from geo_ip.sources.grid_common import as_text, gdal_errors, layer_names, require_exists
from geo_ip.sources.tables_schema import Schema, aliases_of

__all__ = ["read_inventory", "read_utility_cadastre"]

_FIELDS = ("id_ponto", "latitude", "longitude", "potencia_w", "tipo_lampada")
"""Columns of the inventory file read as text."""
_ENERGY = tuple(f"ENE_{m:02d}" for m in range(1, 13))
_INVENTORY_SCHEMA = Schema(
    what="inventário de pontos de iluminação pública",
    aliases=aliases_of(
        {
            "id_ponto": ("id", "codigo", "cod_id", "codigo_ponto", "cod_ponto", "id_origem",
                         "ponto", "id_ip", "numero"),
            "latitude": ("lat", "latitude_y", "lat_y", "y"),
            "longitude": ("lon", "long", "lng", "longitude_x", "lon_x", "long_x", "x"),
            "potencia_w": ("potencia", "pot_lamp", "potencia_lampada", "watts", "w"),
            "tipo_lampada": ("tipo_lamp", "lampada", "tipo_de_lampada", "tecnologia"),
            "poste": ("poste_id", "id_poste", "pn_con", "codigo_poste"),
        }
    ),
    required=("latitude", "longitude"),
    of=" do inventário",
    layer="pontos_ip",
)  # fmt: skip


def read_utility_cadastre(
    path: str | Path, *, ibge: int | None = None
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read the utility's lighting points from a BDGD: ``PIP`` joined to ``PONNOT``.

    Parameters
    ----------
    path : str or Path
        ``.gdb`` folder, ``.gdb.zip`` or GeoPackage with BDGD layer names.
    ibge : int, optional
        Keep only the points of this municipality (``PIP.MUN``); when no point has it,
        all are kept with a warning.

    Returns
    -------
    points : geopandas.GeoDataFrame
        ``id_distribuidora`` (``PIP.COD_ID``), ``poste`` (``PN_CON``), ``potencia_w``,
        ``tipo_lampada``, ``municipio``, ``energia_kwh_mes`` (mean of the months with
        energy > 0; NaN when none) and the pole's point (None when ``PN_CON`` has no
        pole), in the BDGD's CRS.
    notes : list of str
        Warnings (orphan points, municipality filter).

    Raises
    ------
    GridError
        When the file is not a BDGD or lacks ``PIP``/``PONNOT`` or a key field.
    """
    source = Path(path)
    mapping = load_catalog().rede_existente.bdgd
    key, link = mapping.chave_postes, mapping.chave_ip
    pip, poles = _read_pip_once(source)
    notes: list[str] = []
    if ibge is not None:
        pip = _of_municipality(pip, ibge, notes)
    located = poles.assign(**{key: as_text(poles[key])}).drop_duplicates(subset=key)
    by_pole = pd.Series(located.geometry.to_numpy(), index=located[key].to_numpy())
    pole_id = as_text(pip[link]).reset_index(drop=True)
    geometry = pole_id.map(by_pole)
    orphans = int(geometry.isna().sum())
    if orphans:
        notes.append(
            f"{orphans} ponto(s) da tabela {mapping.tabela_ip} sem poste em "
            f"{mapping.camada_postes}: faturados sem localização"
        )
    out = gpd.GeoDataFrame(
        {
            "id_distribuidora": as_text(pip[key]).to_numpy(),
            "poste": pole_id.to_numpy(),
            "potencia_w": pd.to_numeric(pip["POT_LAMP"], errors="coerce").astype(float).to_numpy(),
            "tipo_lampada": as_text(pip["TIPO_LAMP"]).fillna("").to_numpy(),
            "municipio": pip["MUN"].fillna("").to_numpy(),
            "energia_kwh_mes": _billed_month(pip),
        },
        geometry=gpd.GeoSeries(list(geometry.where(geometry.notna(), None)), crs=poles.crs),
        crs=poles.crs,
    )
    return out, notes


_CACHE_SIZE = 2
"""BDGDs whose ``PIP`` and ``PONNOT`` stay in memory (per process, e.g. per Dask worker)."""
_cache: OrderedDict[tuple[str, int, int], tuple[pd.DataFrame, gpd.GeoDataFrame]] = OrderedDict()
_cache_lock = threading.Lock()


def _file_key(source: Path) -> tuple[str, int, int]:
    """Return (resolved path, size, newest mtime in ns) of a file or a ``.gdb`` folder's files."""
    stats = [f.stat() for f in source.iterdir()] if source.is_dir() else [source.stat()]
    return (
        str(source.resolve()),
        sum(s.st_size for s in stats),
        max((s.st_mtime_ns for s in stats), default=0),
    )


def _read_pip_once(source: Path) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """:func:`_read_pip` (with ``MUN`` as text), read once and reused while the file is unchanged.

    A batch run audits every municipality of a utility against the same BDGD: each worker
    reads its ``PIP`` and ``PONNOT`` once and filters them by municipality per call. The
    frames returned are shared between calls: never change them in place.
    """
    require_exists(source)
    key = _file_key(source)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    pip, poles = _read_pip(source)
    pip["MUN"] = as_text(pip["MUN"])
    with _cache_lock:
        _cache[key] = (pip, poles)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return pip, poles


def _read_pip(source: Path) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Read the BDGD's lighting table (``PIP``, every field used) and its poles (``PONNOT``)."""
    from geo_ip.sources.grid import _bdgd_dataset

    require_exists(source)
    catalog = load_catalog().rede_existente
    mapping = catalog.bdgd
    dataset = _bdgd_dataset(source, catalog)
    if dataset is None:
        raise GridError(
            "não é uma BDGD (.gdb, .gdb.zip ou GeoPackage com PIP e PONNOT)", path=source
        )
    src = dataset[0]
    layers = layer_names(src, source)
    for name in (mapping.tabela_ip, mapping.camada_postes):
        if name.upper() not in layers:
            raise GridError(f"camada '{name}' da BDGD ausente", path=source)
    key, link = mapping.chave_postes, mapping.chave_ip
    wanted = [key, link, "POT_LAMP", "TIPO_LAMP", "MUN", *_ENERGY]
    with gdal_errors(source, f"não foi possível ler a tabela '{mapping.tabela_ip}'"):
        pip = pyogrio.read_dataframe(
            src, layer=layers[mapping.tabela_ip.upper()], columns=wanted, read_geometry=False
        )
    with gdal_errors(source, f"não foi possível ler a camada '{mapping.camada_postes}'"):
        poles = pyogrio.read_dataframe(
            src, layer=layers[mapping.camada_postes.upper()], columns=[key]
        )
    for column in (key, link):
        if column not in pip:
            raise GridError(
                f"tabela '{mapping.tabela_ip}' sem o campo {column}", path=source, field=column
            )
    for column in wanted:
        if column not in pip:
            pip[column] = None
    return pip, poles


def _of_municipality(pip: pd.DataFrame, ibge: int, notes: list[str]) -> pd.DataFrame:
    """Keep the points of the municipality ``ibge`` (all of them, with a note, if none is)."""
    mine = pip["MUN"] == str(ibge)
    if mine.any():
        return pip.loc[mine]
    codes = ", ".join(sorted({str(c) for c in pip["MUN"].dropna()})) or "nenhum"
    notes.append(
        f"nenhum ponto da BDGD tem MUN = {ibge} (códigos presentes: {codes}): "
        "comparados todos os pontos"
    )
    return pip


def _billed_month(pip: pd.DataFrame) -> np.ndarray:
    """Mean energy of the months billed (``ENE_xx`` > 0) of each point; NaN without any."""
    energy = pip[list(_ENERGY)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    billed = np.where(energy > 0, energy, np.nan)
    months = np.isfinite(billed).sum(axis=1)
    with np.errstate(invalid="ignore"):
        return np.where(months > 0, np.nansum(billed, axis=1) / np.maximum(months, 1), np.nan)


def _is_territory(path: Path) -> bool:
    if path.suffix.lower() != ".gpkg":
        return False
    try:
        names = {str(n) for n in pyogrio.list_layers(path)[:, 0]}
    except pyogrio.errors.DataSourceError:
        return False
    return {"metadados", "pontos_ip", "vias"} <= names


def read_inventory(path: str | Path) -> tuple[gpd.GeoDataFrame, pd.DataFrame, list[str]]:
    """Read the municipality's inventory of lighting points.

    Parameters
    ----------
    path : str or Path
        A territory GeoPackage (its ``pontos_ip`` layer) or a points file: CSV/XLSX
        with ``latitude``, ``longitude`` (decimal degrees), ``potencia_w`` and optional
        ``id_ponto``, ``tipo_lampada``, ``poste``; or GeoJSON/GeoPackage points.

    Returns
    -------
    points : geopandas.GeoDataFrame
        ``id_inventario``, ``potencia_w`` (NaN when unknown), ``tipo_lampada``,
        ``linha`` and the point (any CRS).
    errors : pandas.DataFrame
        Rows that cannot be used: ``linha``, ``id_inventario``, ``motivo``.
    notes : list of str
    """
    path = Path(path)
    notes: list[str] = []
    if _is_territory(path):
        from geo_ip.territory.reader import read_layer

        lights = read_layer(path, "pontos_ip").reset_index(drop=True)
        if len(lights) and (lights["fonte"].astype(str) == "bdgd").all():
            notes.append(
                "os pontos de IP do território vieram da própria BDGD: a auditoria compara a "
                "BDGD com ela mesma; use o inventário próprio do Município"
            )
        points = gpd.GeoDataFrame(
            {
                "id_inventario": lights["id_origem"].fillna("").astype(str).to_numpy(),
                "potencia_w": pd.to_numeric(lights["potencia_w"], errors="coerce").to_numpy(),
                "tipo_lampada": lights["tipo_lampada"].fillna("").astype(str).to_numpy(),
                "linha": np.arange(1, len(lights) + 1),
            },
            geometry=lights.geometry.to_numpy(),
            crs=lights.crs,
        )
        return points, pd.DataFrame(columns=["linha", "id_inventario", "motivo"]), notes
    rows = FileRows.read(path, _INVENTORY_SCHEMA, _FIELDS)
    text, problems, table = rows.text, rows.problems, rows.table
    lat, lon, given = rows.coordinates()
    power = rows.powers(float("inf"))
    rows.refuse_bad_geometries()
    for k in np.flatnonzero(~given):
        if not problems[k]:
            problems[k].append("campos 'latitude' e 'longitude': vazios (ponto sem localização)")
    ok = np.array([not p for p in problems], dtype=bool)
    lines = table["linha"].astype(int).to_numpy()
    errors = pd.DataFrame(
        {
            "linha": lines[~ok],
            "id_inventario": np.asarray(text["id_ponto"], dtype=object)[~ok],
            "motivo": [f"arquivo '{path}', linha {lines[i]}: " + " | ".join(problems[i])
                       for i in np.flatnonzero(~ok)],
        }
    )  # fmt: skip
    points = gpd.GeoDataFrame(
        {
            "id_inventario": np.asarray(text["id_ponto"], dtype=object)[ok],
            "potencia_w": power[ok],
            "tipo_lampada": np.asarray(text["tipo_lampada"], dtype=object)[ok],
            "linha": lines[ok],
        },
        geometry=gpd.points_from_xy(lon[ok], lat[ok]),
        crs=GEOGRAPHIC_CRS,
    )
    return points, errors, notes
