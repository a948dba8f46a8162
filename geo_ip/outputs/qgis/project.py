"""QGIS deliverables of the assessment: styled GeoPackage and project file.

GIS staff open ``avaliacao.gpkg`` in QGIS and every layer comes up with the
catalog's symbology (:mod:`geo_ip.outputs.styles`, generated from ``layers/*.toml``, the
same as the web maps), Portuguese field aliases and, for ``pedidos``, the protocol
as label:

- :func:`style_geopackage` writes the ``layer_styles`` table, the GeoPackage
  extension QGIS reads when a layer is added from the file (one default style per
  spatial layer, plus the catalog's alternative styles, e.g. ``pedidos`` graduated
  by ``pontuacao_total``). The table, its registration in ``gpkg_contents`` and
  ``gpkg_ogr_contents`` and its triggers are exactly those QGIS creates through
  GDAL (``QgsOgrProviderMetadata::saveStyle``).
- :func:`write_project` writes ``avaliacao.qgz``: the layers grouped as in the
  catalog (Pedidos, Segurança, Equipamentos, Rede, Vias), the GeoPackage by a path
  relative to the project, the municipality's SIRGAS 2000 / UTM CRS, the same
  styles inside each layer (QGIS ignores ``layer_styles`` when it opens a project),
  the OSM attribution and the provenance in the project metadata; the territory layers
  that draw the municipality with no internet in the group "Fundo (offline)" (also from
  the territory's own GeoPackage, ``background=``), under them the offline background of
  the web maps as a raster layer (``tiles=``, its MBTiles file:
  :mod:`geo_ip.outputs.qgis.mbtiles`), and a print layout, A4 landscape, ready to export
  (:mod:`geo_ip.outputs.qgis.layout`).

:func:`style_geopackage` also styles the territory (``territorio.gpkg``, through the
``styler`` of :func:`geo_ip.territory.build.build_territory`) and the cadastre package
(``cadastro_ip.gpkg``): the layers outside the catalog get the styles of
:func:`geo_ip.outputs.styles.extra_style`.

The mixed layer ``rede_existente`` (lines and points in one table, geometry type
``GEOMETRY``) gets a rule-based style in ``layer_styles``, one rule per ``tipo``
with a line or marker symbol, which draws right whatever part QGIS loads; in the
project it is split, as QGIS itself does for such tables, into two layers filtered
by geometry type (``|geometrytype=LineString`` and ``Point``), each categorised by
``tipo`` with the classes of its geometry.

Only the layers and fields already in the GeoPackage (public, see
:mod:`geo_ip.requests.privacy`) are referenced; nothing else is added.
"""

from __future__ import annotations

import os
import sqlite3
import zipfile
from collections.abc import Mapping
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyproj

from geo_ip._util.atomic import atomic_path
from geo_ip.errors import InputFileError
from geo_ip.outputs.palette import load_palette
from geo_ip.outputs.qgis.gpkg_layers import GpkgLayer, read_layers
from geo_ip.outputs.qgis.mbtiles import read_mbtiles
from geo_ip.outputs.qgis.qgs import ProjectLayer, RasterLayer, project_document
from geo_ip.outputs.qgis.qml import family_of, qml_document
from geo_ip.outputs.styles import (
    BACKGROUND_GROUP,
    BACKGROUND_LAYERS,
    LAYER_NAMES,
    LayerStyle,
    extra_style,
    layer_style,
)
from geo_ip.sources.catalog import Catalog, OutputLayer, SymbolClass, load_catalog

__all__ = ["STYLE_TABLE", "qml_for", "style_geopackage", "write_project"]

STYLE_TABLE = "layer_styles"
"""Table of the QGIS styles in a GeoPackage."""

_CREATE = (
    'CREATE TABLE "layer_styles" ( "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
    '"f_table_catalog" TEXT(256), "f_table_schema" TEXT(256), "f_table_name" TEXT(256), '
    '"f_geometry_column" TEXT(256), "styleName" TEXT(30), "styleQML" TEXT, "styleSLD" TEXT, '
    '"useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30), "ui" TEXT(30), '
    "\"update_time\" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
)
"""The DDL GDAL runs when QGIS creates the table (QGIS 3.22 / GDAL 3.6, checked)."""
_TRIGGERS = (
    'CREATE TRIGGER "trigger_insert_feature_count_layer_styles" AFTER INSERT ON '
    '"layer_styles" BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count + 1 '
    "WHERE lower(table_name) = lower('layer_styles'); END",
    'CREATE TRIGGER "trigger_delete_feature_count_layer_styles" AFTER DELETE ON '
    '"layer_styles" BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count - 1 '
    "WHERE lower(table_name) = lower('layer_styles'); END",
)
_OTHERS_GROUP = "Outros"


def qml_for(style: LayerStyle, geometry_type: str, *, fields: tuple[str, ...] | None = None) -> str:
    """Return the QGIS style document (QML) of a catalog style.

    Parameters
    ----------
    style : LayerStyle
        A catalog style (:func:`geo_ip.outputs.styles.layer_style`).
    geometry_type : str
        Geometry of the layer: a GeoPackage geometry type name (``POINT``,
        ``MULTILINESTRING``, ``GEOMETRY``...), or the catalog's ``ponto``, ``linha``,
        ``poligono``, ``misto``. A mixed layer whose classes name their geometry
        gets a rule-based renderer (one rule per class, each with a symbol of its
        geometry); a point or line layer draws only the classes of its geometry.
    fields : tuple of str, optional
        The layer's fields in QGIS order (FID first), to write every alias with its
        field index; default: the catalog's aliases only.

    Returns
    -------
    str
        The QML: renderer (``singleSymbol``, ``categorizedSymbol``,
        ``graduatedSymbol`` or ``RuleRenderer``), labels (``pedidos``), Portuguese
        aliases.

    Raises
    ------
    ValueError
        If ``geometry_type`` is not a geometry type.

    Examples
    --------
    >>> from geo_ip.outputs.styles import layer_style
    >>> 'type="categorizedSymbol"' in qml_for(layer_style("vias"), "LINESTRING")
    True
    """
    return qml_document(style, geometry_type, fields)


def _fallback_style(layer: GpkgLayer) -> LayerStyle:
    kind = family_of(layer.geometry_type)
    geometry = {"marker": "ponto", "line": "linha", "fill": "poligono", None: "misto"}[kind]
    return LayerStyle(
        camada=layer.table,
        titulo=layer.table,
        fonte="",
        geometria=geometry,  # type: ignore[arg-type]
        grupo=_OTHERS_GROUP,
        tipo="simples",
        campo=None,
        classes=(SymbolClass(rotulo=layer.table, cor=load_palette().neutra, largura=2.0),),
        campos={},
    )


def _style_of(layer: GpkgLayer, catalog: Catalog) -> LayerStyle:
    if layer.table in LAYER_NAMES:
        return layer_style(layer.table, catalog)
    return extra_style(layer.table) or _fallback_style(layer)


def _rank(table: str) -> int:
    """Drawing rank of a table (higher on top): catalog layers, then the base map, then others."""
    if table in LAYER_NAMES:
        return LAYER_NAMES.index(table)
    if table in BACKGROUND_LAYERS:
        return BACKGROUND_LAYERS.index(table) - len(BACKGROUND_LAYERS)
    return -len(BACKGROUND_LAYERS) - 1


def _alternatives(
    name: str, style: LayerStyle, catalog: Catalog
) -> tuple[tuple[str, LayerStyle], ...]:
    entry = getattr(catalog, name, None) if name in LAYER_NAMES else None
    if not isinstance(entry, OutputLayer):
        return ()
    return tuple(
        (
            key,
            style.model_copy(update={"tipo": alt.tipo, "campo": alt.campo, "classes": alt.classes}),
        )
        for key, alt in entry.alternativos.items()
    )


def _describe(style: LayerStyle, name: str | None = None) -> str:
    what = {"simples": "símbolo único", "categorizado": "categorias", "graduado": "faixas"}
    text = f"geo_ip: {style.titulo} — {what[style.tipo]}"
    if style.campo:
        text += f" de {style.campos.get(style.campo, style.campo)}"
    return text + (f" (estilo alternativo '{name}')" if name else " (estilo padrão)")


def _rows(layers: list[GpkgLayer], catalog: Catalog) -> list[tuple[Any, ...]]:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    rows = []
    for layer in layers:
        style = _style_of(layer, catalog)
        qml = qml_for(style, layer.geometry_type, fields=layer.fields)
        rows.append(
            (
                "",
                "",
                layer.table,
                layer.geometry_column,
                layer.table,
                qml,
                "",
                1,
                _describe(style),
                "",
                None,
                stamp,
            )
        )
        for key, alternative in _alternatives(layer.table, style, catalog):
            qml = qml_for(alternative, layer.geometry_type, fields=layer.fields)
            rows.append(
                (
                    "",
                    "",
                    layer.table,
                    layer.geometry_column,
                    key,
                    qml,
                    "",
                    0,
                    _describe(alternative, key),
                    "",
                    None,
                    stamp,
                )
            )
    return rows


def _has_table(con: sqlite3.Connection, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND lower(name) = lower(?)",
        (name,),
    ).fetchone()
    return bool(row and row[0])


def _replace_table(con: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    ogr_contents = _has_table(con, "gpkg_ogr_contents")
    for trigger in ("insert", "delete"):
        con.execute(f'DROP TRIGGER IF EXISTS "trigger_{trigger}_feature_count_layer_styles"')
    con.execute('DROP TABLE IF EXISTS "layer_styles"')
    con.execute("DELETE FROM gpkg_contents WHERE lower(table_name) = 'layer_styles'")
    con.execute(_CREATE)
    con.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
        "last_change, srs_id) VALUES ('layer_styles', 'attributes', 'layer_styles', '', "
        "strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0)"
    )
    if ogr_contents:
        con.execute("DELETE FROM gpkg_ogr_contents WHERE lower(table_name) = 'layer_styles'")
        con.execute(
            "INSERT INTO gpkg_ogr_contents (table_name, feature_count) VALUES (?, 0)",
            (STYLE_TABLE,),
        )
        for trigger in _TRIGGERS:
            con.execute(trigger)
    con.executemany(
        'INSERT INTO "layer_styles" (f_table_catalog, f_table_schema, f_table_name, '
        "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, "
        "ui, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def style_geopackage(gpkg_path: str | Path, *, catalog: Catalog | None = None) -> list[str]:
    """Write the QGIS default style of every spatial layer into a GeoPackage.

    The ``layer_styles`` table is replaced as a whole, in one SQLite transaction:
    on any error the file is left as it was.

    Parameters
    ----------
    gpkg_path : str or Path
        The GeoPackage (``avaliacao.gpkg``), modified in place.
    catalog : Catalog, optional
        Layer catalog; default: the bundled one.

    Returns
    -------
    list of str
        The layers styled, in ``gpkg_contents`` order.

    Raises
    ------
    InputFileError
        When the file is missing, is not a GeoPackage or cannot be written.
    """
    path = Path(gpkg_path)
    cat = catalog or load_catalog()
    layers = read_layers(path)
    rows = _rows(layers, cat)
    try:
        with closing(sqlite3.connect(path, isolation_level=None)) as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                _replace_table(con, rows)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
    except sqlite3.Error as exc:
        raise InputFileError(
            f"não foi possível gravar os estilos do QGIS ({exc})", path=path
        ) from exc
    return [layer.table for layer in layers]


def _project_layers(
    layers: list[tuple[GpkgLayer, str | None]], catalog: Catalog
) -> list[ProjectLayer]:
    """Map layers, top of the drawing order first (the catalog's order reversed).

    ``layers`` pairs each table with the GeoPackage holding it (None: the project's own).
    The territory layers that draw the municipality without internet
    (:data:`~geo_ip.outputs.styles.BACKGROUND_LAYERS`) go to the group
    :data:`~geo_ip.outputs.styles.BACKGROUND_GROUP`, under everything else.
    """
    ordered = sorted(layers, key=lambda pair: -_rank(pair[0].table))
    out: list[ProjectLayer] = []
    for layer, gpkg in ordered:
        style = _style_of(layer, catalog)
        if layer.table in BACKGROUND_LAYERS:
            style = style.model_copy(update={"grupo": BACKGROUND_GROUP})
        alternatives = _alternatives(layer.table, style, catalog)
        families = layer.families
        mixed = family_of(layer.geometry_type) is None
        if mixed and not families:
            kinds = {"ponto": "marker", "linha": "line", "poligono": "fill"}
            declared = {kinds[c.geometria] for c in style.classes if c.geometria in kinds}
            families = tuple(f for f in ("fill", "line", "marker") if f in declared)
        parts = list(reversed(families)) if mixed and families else [None]
        for family in parts:
            out.append(
                ProjectLayer(
                    table=layer.table,
                    style=style,
                    geometry_type=layer.geometry_type,
                    family=family if family else family_of(layer.geometry_type),
                    split=family is not None,
                    fields=layer.fields,
                    extent=layer.extent,
                    authid=layer.authid,
                    alternatives=alternatives,
                    gpkg=gpkg,
                )
            )
    return out


def _zip_time(provenance: Mapping[str, Any]) -> tuple[int, int, int, int, int, int]:
    """Return the run's time for the archive entry (same inputs, same archive)."""
    try:
        when = datetime.fromisoformat(str(provenance.get("executado_em")))
    except ValueError:
        when = datetime.now(UTC)
    return (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)


def _relative(target: Path, start: Path) -> str:
    relative = Path(os.path.relpath(target.resolve(), start.resolve())).as_posix()
    return relative if relative.startswith("../") else f"./{relative}"


def write_project(
    gpkg_path: str | Path,
    qgz_path: str | Path,
    *,
    crs: str | pyproj.CRS,
    title: str,
    provenance: Mapping[str, Any],
    catalog: Catalog | None = None,
    background: str | os.PathLike[str] | None = None,
    tiles: str | os.PathLike[str] | None = None,
) -> Path:
    """Write a QGIS project (``.qgz``) showing every spatial layer of a GeoPackage.

    The layer tree ends with the group "Fundo (offline)": the territory layers that draw
    the municipality with no internet (roads by hierarchy, buildings, neighbourhoods,
    water, urban area, boundary), styled like the rest, and under them, when ``tiles``
    is given, the web maps' offline background as a raster layer ("Mapa do território
    (offline)"); the project has no online layer. The
    project carries a print layout, A4 landscape, ready to export
    (:mod:`geo_ip.outputs.qgis.layout`): the map of the requests, legend, scale bar,
    north arrow, title and provenance.

    Parameters
    ----------
    gpkg_path : str or Path
        The GeoPackage (``avaliacao.gpkg``); the project refers to it by a path
        relative to the project file, so the folder can be moved or shared whole.
    qgz_path : str or Path
        Project file to write (``avaliacao.qgz``), replaced atomically.
    crs : str or pyproj.CRS
        Project CRS, e.g. ``"EPSG:31983"`` (the municipality's SIRGAS 2000 / UTM zone).
    title : str
        Project title (Portuguese).
    provenance : mapping
        The assessment's provenance record (:attr:`geo_ip.pipeline.Assessment.provenance`):
        its stamp, tool and rules versions, OSM date, CRS and time of run go into the
        project metadata; input file paths do not.
    catalog : Catalog, optional
        Layer catalog; default: the bundled one.
    background : str or path-like (a Path, an opened Territory), optional
        The territory GeoPackage: its base-map layers that ``gpkg_path`` lacks
        (``edificacoes``, ``bairros``...) join the "Fundo (offline)" group, by a path
        relative to the project file.
    tiles : str or path-like, optional
        The offline background as an MBTiles file
        (:func:`geo_ip.outputs.qgis.mbtiles.write_mbtiles`): the last layer of "Fundo
        (offline)", by a path relative to the project file, with its name, bounds and
        attribution ("© OpenStreetMap contributors") read from the file. Without it the
        project has no raster layer and does not mention one.

    Returns
    -------
    Path
        ``qgz_path``.

    Raises
    ------
    InputFileError
        When the GeoPackage or the MBTiles file cannot be read, the CRS is unknown or
        the project cannot be written.
    """
    gpkg = Path(gpkg_path)
    out = Path(qgz_path)
    try:
        project_crs = crs if isinstance(crs, pyproj.CRS) else pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise InputFileError(f"sistema de referência desconhecido: {crs!r}", path=gpkg) from exc
    own = read_layers(gpkg)
    pairs: list[tuple[GpkgLayer, str | None]] = [(layer, None) for layer in own]
    if background is not None:
        present = {layer.table for layer in own}
        relative = _relative(Path(background), out.parent)
        pairs += [
            (layer, relative)
            for layer in read_layers(Path(background))
            if layer.table in BACKGROUND_LAYERS and layer.table not in present
        ]
    layers = _project_layers(pairs, catalog or load_catalog())
    rasters: list[RasterLayer] = []
    if tiles is not None:
        tileset = read_mbtiles(tiles)
        rasters.append(
            RasterLayer(
                key="fundo",
                source=_relative(tileset.path, out.parent),
                title=tileset.name,
                group=BACKGROUND_GROUP,
                bounds=tileset.bounds,
                attribution=tileset.attribution,
                abstract=tileset.description,
            )
        )
    document = project_document(
        layers,
        gpkg=_relative(gpkg, out.parent),
        crs=project_crs,
        title=title,
        provenance=provenance,
        rasters=rasters,
    )
    try:
        with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            entry = zipfile.ZipInfo(f"{out.stem}.qgs", date_time=_zip_time(provenance))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, document.encode("utf-8"))
    except OSError as exc:
        raise InputFileError(
            f"não foi possível gravar o projeto do QGIS ({exc.strerror or exc})", path=out
        ) from exc
    return out
