"""Pieces shared by the grid readers (:mod:`geo_ip.sources.grid`, :mod:`~.grid_files`).

The output type :class:`GridData` and its column lists, GDAL error handling, the
area-of-interest mask, the builders of the element and lighting frames, and the last
step of both readers (:func:`finish_reading`).
"""

from __future__ import annotations

import logging
import time
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

from geo_ip.errors import GridError

logger = logging.getLogger(__name__)

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

WGS84 = CRS.from_epsg(4326)
MASK_SEGMENT_DEG = 0.01
"""Densify the mask (degrees, ~1 km) before projecting it, so edges bend correctly."""


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


def require_exists(path: Path) -> None:
    """Raise a GridError when ``path`` is missing or an empty file."""
    if not path.exists():
        raise GridError("arquivo não encontrado", path=path)
    if path.is_file() and path.stat().st_size == 0:
        raise GridError("arquivo vazio", path=path)


def error_detail(exc: BaseException) -> str:
    """One-line text of an exception, cut to 240 characters (for messages)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= 240 else text[:237] + "..."


@contextmanager
def gdal_errors(path: Path, what: str = "não foi possível ler o arquivo") -> Iterator[None]:
    """Rephrase GDAL/pyogrio failures as a GridError that keeps the detail."""
    try:
        yield
    except (RuntimeError, OSError, zipfile.BadZipFile) as exc:
        raise GridError(f"{what} ({error_detail(exc)})", path=path) from exc


def layer_names(src: str, path: Path) -> dict[str, str]:
    """Layer names of a dataset, keyed by upper case."""
    with gdal_errors(path):
        listed = pyogrio.list_layers(src)
    return {str(name).upper(): str(name) for name, _ in listed}


def layer_info(src: str, path: Path, layer: str) -> dict[str, object]:
    """``pyogrio.read_info`` of one layer (GDAL failures as GridError)."""
    with gdal_errors(path):
        info: dict[str, object] = pyogrio.read_info(src, layer=layer)
    return info


def mask_for(mask: shapely.Geometry | None, crs: object) -> shapely.Geometry | None:
    """Express the EPSG:4326 mask in ``crs`` (densified first, so edges bend)."""
    if mask is None:
        return None
    target = CRS.from_user_input(crs)
    if target.equals(WGS84, ignore_axis_order=True):
        return mask
    transformer = Transformer.from_crs(WGS84, target, always_xy=True)

    def project(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(shapely.segmentize(mask, MASK_SEGMENT_DEG), project)


def as_text(values: pd.Series) -> pd.Series:
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


def make_elements(
    frame: gpd.GeoDataFrame,
    fonte: str,
    kind: str | pd.Series,
    ids: pd.Series,
    tension: np.ndarray,
) -> gpd.GeoDataFrame:
    """Grid elements (:data:`ELEMENT_COLUMNS`) of one type or a type per row."""
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


_DTYPES: dict[str, type] = {
    "fonte": object,
    "tipo": object,
    "id_origem": object,
    "tensao_v": float,
    "poste_id": object,
    "potencia_w": float,
    "tipo_lampada": object,
    "energia_kwh_ano": float,
}
"""Dtype of every column of :data:`ELEMENT_COLUMNS` and :data:`IP_COLUMNS` but geometry."""


def _empty(columns: tuple[str, ...], crs: object) -> gpd.GeoDataFrame:
    """Return an empty frame of ``columns`` (their dtypes, a geometry) in ``crs``."""
    return gpd.GeoDataFrame(
        {column: pd.Series(dtype=_DTYPES[column]) for column in columns if column != "geometry"},
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    )


def empty_ip(crs: object) -> gpd.GeoDataFrame:
    """Return an empty :attr:`GridData.pontos_ip` frame in ``crs``."""
    return _empty(IP_COLUMNS, crs)


def concat_frames(
    parts: list[gpd.GeoDataFrame], crs: object, columns: tuple[str, ...] = ELEMENT_COLUMNS
) -> gpd.GeoDataFrame:
    """Concatenate frames in ``crs`` (reprojecting as needed), dropping empty ones."""
    parts = [p for p in parts if not p.empty]
    if not parts:
        return _empty(columns, crs)
    target = CRS.from_user_input(crs)
    aligned = [p if CRS.from_user_input(p.crs).equals(target) else p.to_crs(target) for p in parts]
    joined = pd.concat([p[list(columns)] for p in aligned], ignore_index=True)
    return gpd.GeoDataFrame(joined, geometry="geometry", crs=crs)


def finish_reading(
    elementos: gpd.GeoDataFrame,
    pontos: gpd.GeoDataFrame,
    descricao: str,
    avisos: list[str],
    started: float,
    shown_as: str | None = None,
) -> GridData:
    """Log what a reader read since ``started`` and return it as :class:`GridData`.

    The log line names the source as ``shown_as`` (default: ``descricao``) and gives
    the counts of elements and lighting points and the seconds taken.
    """
    logger.info(
        "%s: %d elementos, %d pontos de IP (%.2f s)",
        descricao if shown_as is None else shown_as,
        len(elementos),
        len(pontos),
        time.perf_counter() - started,
    )
    return GridData(elementos, pontos, descricao, tuple(avisos))
