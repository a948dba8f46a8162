"""Writing a territory GeoPackage: layers through Arrow, streamed copies, one atomic file.

:func:`write_territory_file` writes every layer, the extra tables and the metadata to a
temporary file moved into place at the end, so a failure never leaves half a
territory; :func:`write_dataframe` and :func:`copy_layer` are also used by the
assessment's own GeoPackage.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from geo_ip._util.atomic import atomic_path
from geo_ip._util.version import __version__
from geo_ip.network.gridgraph import ATTACHMENT_TABLE
from geo_ip.rules.config import Rules
from geo_ip.rules.provenance import FICTIONAL_LABEL, OSM_ATTRIBUTION
from geo_ip.territory.reader import ARROW, ARROW_MIN_ROWS, LAYERS, METADATA_TABLE, read_dataframe

__all__ = [
    "WATER_LAYERS",
    "copy_layer",
    "metadata_head",
    "territory_layers",
    "write_dataframe",
    "write_territory_file",
]

WATER_LAYERS: dict[str, str] = {"agua": "Polygon", "cursos_agua": "LineString"}
"""The water of the base map (:class:`geo_ip.sources.osm_features.OsmWater`): layer →
geometry type written when it is empty. Territories written before them lack both."""


def territory_layers() -> tuple[str, ...]:
    """Return every layer a territory is written with, in writing order.

    Returns
    -------
    tuple of str
        :data:`geo_ip.territory.reader.LAYERS`, then the :data:`WATER_LAYERS` it does
        not list.

    Examples
    --------
    >>> territory_layers()[-2:]
    ('agua', 'cursos_agua')
    """
    return (*LAYERS, *(name for name in WATER_LAYERS if name not in LAYERS))


def _description(name: str, rules: Rules) -> str:
    label = f" — {FICTIONAL_LABEL}" if rules.municipio.ficticio else ""
    return f"geo_ip {__version__}: camada '{name}'. {OSM_ATTRIBUTION}{label}"


def _arrow_ready(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Turn object columns of mixed types into text, as pyogrio does without Arrow.

    Without Arrow pyogrio writes every non-null value of an object column as
    ``str(value)``; Arrow refuses mixed columns (``osmid``: way ids and the
    ``;``-joined ids of merged ways), so they get the same text first.
    """
    geometry = gdf.geometry.name if isinstance(gdf, gpd.GeoDataFrame) else None
    mixed = [
        name
        for name, dtype in gdf.dtypes.items()
        if pd.api.types.is_object_dtype(dtype)
        and name != geometry
        and pd.api.types.infer_dtype(gdf[name], skipna=True) not in ("string", "empty")
    ]
    if not mixed:
        return gdf
    gdf = gdf.copy()
    for name in mixed:
        values = gdf[name].to_numpy(dtype=object)
        text = [None if v is None or v is pd.NA or v != v else str(v) for v in values]
        gdf[name] = pd.Series(text, index=gdf.index, dtype=object)
    return gdf


def write_dataframe(frame: pd.DataFrame, path: Path, layer: str, **options: Any) -> None:
    """Write a layer into a GeoPackage, through Arrow when it is large and pyarrow is there.

    Parameters
    ----------
    frame : pandas.DataFrame
        The layer (a GeoDataFrame, or a table without geometry).
    path : Path
        The GeoPackage (created or added to).
    layer : str
        The layer name.
    **options
        More keywords of :func:`pyogrio.write_dataframe` (``geometry_type``...).
    """
    arrow = ARROW and len(frame) >= ARROW_MIN_ROWS
    pyogrio.write_dataframe(
        _arrow_ready(frame) if arrow else frame,
        path,
        layer=layer,
        driver="GPKG",
        use_arrow=arrow,
        **options,
    )


_COPY_BATCH = 65_536
"""Rows per Arrow batch when :func:`copy_layer` streams a layer."""


def copy_layer(source: str | os.PathLike[str], layer: str, target: Path) -> None:
    """Copy a layer of one GeoPackage into another, streamed through Arrow.

    The rows go from GDAL to GDAL a batch at a time, schema and all, never as a
    GeoDataFrame: a state's roads are a gigabyte in memory that way (and 2.5× slower),
    while the batches take a few megabytes. Without pyarrow the layer is read and
    written whole.

    Parameters
    ----------
    source : str or path-like (a Path, an opened Territory)
        The GeoPackage holding ``layer``.
    layer : str
        The layer, written under the same name.
    target : Path
        The GeoPackage (created or added to).
    """
    if not ARROW:
        write_dataframe(read_dataframe(source, layer), target, layer)
        return
    with pyogrio.open_arrow(source, layer=layer, use_pyarrow=True, batch_size=_COPY_BATCH) as (
        meta,
        reader,
    ):
        pyogrio.write_arrow(
            reader,
            target,
            layer=layer,
            driver="GPKG",
            geometry_name=meta["geometry_name"] or None,
            geometry_type=meta["geometry_type"],
            crs=meta["crs"],
        )


_TABLE_DESCRIPTIONS = {
    ATTACHMENT_TABLE: "ligação de cada amostra da rede existente à via mais próxima "
    "(aresta, posição e distância), calculada na montagem do território",
}


def write_territory_file(
    out: Path,
    layers: dict[str, gpd.GeoDataFrame],
    metadata: dict[str, Any],
    rules: Rules,
    tables: dict[str, pd.DataFrame],
    *,
    styler: Callable[[Path], object] | None = None,
) -> None:
    """Write a territory GeoPackage atomically: every layer, the tables, the metadata.

    Parameters
    ----------
    out : Path
        The GeoPackage, replaced only once the whole file is written.
    layers : dict of str to geopandas.GeoDataFrame
        Every layer of :data:`geo_ip.territory.reader.LAYERS`, and the water
        (:data:`WATER_LAYERS`, written when given).
    metadata : dict
        Provenance metadata (key -> JSON value), the ``metadados`` table.
    rules : Rules
        Municipality rules (fictional label in the layer descriptions).
    tables : dict of str to pandas.DataFrame
        Extra tables without geometry (the grid attachment).
    styler : callable, optional
        Called with the finished GeoPackage, still at its temporary path, before it is
        moved into place: the command line passes
        :func:`geo_ip.outputs.qgis.project.style_geopackage` (the QGIS default style of
        each layer, table ``layer_styles``), which this layer cannot import.
    """
    with atomic_path(out) as tmp:
        for name in territory_layers():
            if name in WATER_LAYERS and name not in layers:
                continue
            geometry_type = "Unknown" if name == "rede_existente" else None
            if name in WATER_LAYERS and layers[name].empty:
                geometry_type = WATER_LAYERS[name]  # styled by its geometry in QGIS
            write_dataframe(
                layers[name],
                tmp,
                name,
                geometry_type=geometry_type,
                layer_options={"DESCRIPTION": _description(name, rules)},
            )
        for name, table in tables.items():
            description = f"geo_ip {__version__}: {_TABLE_DESCRIPTIONS[name]}"
            write_dataframe(table, tmp, name, layer_options={"DESCRIPTION": description})
        table = pd.DataFrame(
            {
                "chave": list(metadata),
                "valor": [
                    json.dumps(v, ensure_ascii=False, default=str) for v in metadata.values()
                ],
            }
        )
        pyogrio.write_dataframe(table, tmp, layer=METADATA_TABLE, driver="GPKG")
        if styler is not None:
            styler(tmp)


def metadata_head(rules: Rules, crs: str, created: datetime | None = None) -> dict[str, Any]:
    """Return the first rows of a territory's ``metadados``: tool, time, CRS and rules.

    Parameters
    ----------
    rules : Rules
        The municipality rules the territory was built with.
    crs : str
        The territory's CRS.
    created : datetime, optional
        Time of the build (default: now, UTC).

    Returns
    -------
    dict
        ``ferramenta``, ``versao_ferramenta``, ``criado_em``, ``crs``, ``municipio``,
        ``codigo_ibge``, ``regras_arquivo``, ``regras_versao`` and ``regras_sha256``,
        in this order.
    """
    return {
        "ferramenta": "geo_ip",
        "versao_ferramenta": __version__,
        "criado_em": (created or datetime.now(UTC)).isoformat(timespec="seconds"),
        "crs": crs,
        "municipio": rules.municipio.nome,
        "codigo_ibge": rules.municipio.codigo_ibge,
        "regras_arquivo": rules.arquivo,
        "regras_versao": rules.versao,
        "regras_sha256": rules.sha256,
    }
