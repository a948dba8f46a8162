"""The offline background of the maps as one MBTiles file, for QGIS (issue 21).

The web maps draw the territory's background as a pyramid of PNG tiles,
``fundo/{z}/{x}/{y}.png`` (:func:`geo_ip.outputs.web.basemap.write_basemap`). A folder of
tiles is no layer QGIS can open by a relative path, so :func:`write_mbtiles` packs the
same images into ``fundo/fundo.mbtiles``: an SQLite file in the `MBTiles 1.3
<https://github.com/mapbox/mbtiles-spec/blob/master/1.3/spec.md>`_ layout, which GDAL
(the ``MBTiles`` raster driver) and therefore QGIS open natively, as a raster in Web
Mercator (EPSG:3857) with one overview per zoom.

- ``metadata``: ``name``, ``format`` (``png``), ``bounds`` (west, south, east, north in
  degrees), ``center``, ``minzoom``, ``maxzoom``, ``attribution`` ("© OpenStreetMap
  contributors"), ``description`` (the provenance), ``type`` (``baselayer``), ``version``;
- ``tiles``: a view over ``map`` (zoom, column, TMS row, image id) and ``images`` (each
  distinct PNG once: the plain tiles of a territory's empty corners repeat by the
  hundred), as the specification allows. Rows are TMS rows, counted from the south:
  ``2**zoom - 1 - y`` for the XYZ row ``y`` of the folder.

The same tiles give the same file: tiles in (zoom, column, row) order, images keyed by
their SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from geo_ip._util.atomic import atomic_path
from geo_ip.errors import InputFileError
from geo_ip.outputs.web.basemap import BASEMAP_NAME, read_basemap_info

__all__ = ["MBTILES_FILE", "TileSet", "read_mbtiles", "write_mbtiles"]

MBTILES_FILE = "fundo.mbtiles"
"""Name of the file, inside the tiles' folder (``fundo/fundo.mbtiles``)."""
APPLICATION_ID = 0x4D504258
"""``PRAGMA application_id`` of an MBTiles file ("MPBX", MBTiles 1.3)."""

_SCHEMA = (
    "CREATE TABLE metadata (name TEXT, value TEXT)",
    "CREATE UNIQUE INDEX metadata_name ON metadata (name)",
    "CREATE TABLE images (tile_id TEXT, tile_data BLOB)",
    "CREATE UNIQUE INDEX images_id ON images (tile_id)",
    "CREATE TABLE map (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_id TEXT)",
    "CREATE UNIQUE INDEX map_index ON map (zoom_level, tile_column, tile_row)",
    "CREATE VIEW tiles AS SELECT map.zoom_level AS zoom_level, "
    "map.tile_column AS tile_column, map.tile_row AS tile_row, images.tile_data AS tile_data "
    "FROM map JOIN images ON images.tile_id = map.tile_id",
)


@dataclass(frozen=True)
class TileSet:
    """The description of an MBTiles file (its ``metadata`` table).

    Attributes
    ----------
    path : Path
        The file.
    name : str
        Layer name (Portuguese).
    bounds : tuple of float
        ``(west, south, east, north)`` in degrees (WGS 84).
    min_zoom, max_zoom : int
        The zooms held.
    attribution : str
        "© OpenStreetMap contributors" (and the fictional-data notice when it applies).
    description : str
        Where the tiles come from.
    """

    path: Path
    name: str
    bounds: tuple[float, float, float, float]
    min_zoom: int
    max_zoom: int
    attribution: str
    description: str


def _tiles(folder: Path, min_zoom: int, max_zoom: int) -> Iterator[tuple[int, int, int, Path]]:
    """Yield ``(zoom, x, y, file)`` of the PNG tiles, in (zoom, column, row) order."""
    for zoom in range(min_zoom, max_zoom + 1):
        columns = sorted(
            (int(p.name), p) for p in (folder / str(zoom)).glob("*") if p.name.isdigit()
        )
        for x, column in columns:
            rows = sorted((int(p.stem), p) for p in column.glob("*.png") if p.stem.isdigit())
            for y, tile in rows:
                yield zoom, x, y, tile


def _description(provenance: dict[str, object]) -> str:
    parts = ["Mapa de fundo offline desenhado do território"]
    if provenance.get("territorio"):
        parts.append(f" ({provenance['territorio']})")
    tool = provenance.get("ferramenta") or "geo_ip"
    version = provenance.get("versao_ferramenta")
    parts.append(f" por {tool}" + (f" {version}" if version else ""))
    return "".join(parts) + "; os mesmos blocos dos mapas web (fundo/{z}/{x}/{y}.png)."


def write_mbtiles(
    folder: str | os.PathLike[str], path: str | os.PathLike[str] | None = None
) -> Path:
    """Pack the PNG tile pyramid of the offline background into one MBTiles file.

    Parameters
    ----------
    folder : str or path-like
        The tiles' folder written by :func:`geo_ip.outputs.web.basemap.write_basemap`
        (``fundo/``, with its ``fundo.json``).
    path : str or path-like, optional
        The file to write (replaced atomically); default ``folder / "fundo.mbtiles"``.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InputFileError
        When the folder holds no background description, or the file cannot be written.
    """
    source = Path(folder)
    out = Path(path) if path is not None else source / MBTILES_FILE
    try:
        info = read_basemap_info(source)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputFileError(
            f"mapa de fundo sem descrição legível ({exc})", path=source / "fundo.json"
        ) from exc
    west, south, east, north = info.bounds
    metadata = {
        "name": BASEMAP_NAME,
        "format": "png",
        "bounds": f"{west!r},{south!r},{east!r},{north!r}",
        "center": f"{(west + east) / 2:.7f},{(south + north) / 2:.7f},{info.min_zoom + 2}",
        "minzoom": str(info.min_zoom),
        "maxzoom": str(info.max_zoom),
        "attribution": info.attribution,
        "description": _description(info.provenance),
        "type": "baselayer",
        "version": "1.0",
    }
    try:
        with atomic_path(out) as tmp, closing(sqlite3.connect(tmp)) as con:
            con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            for statement in _SCHEMA:
                con.execute(statement)
            con.executemany("INSERT INTO metadata VALUES (?, ?)", metadata.items())
            seen: set[str] = set()
            for zoom, x, y, tile in _tiles(source, info.min_zoom, info.max_zoom):
                data = tile.read_bytes()
                key = hashlib.sha256(data).hexdigest()
                if key not in seen:
                    seen.add(key)
                    con.execute("INSERT INTO images VALUES (?, ?)", (key, data))
                con.execute(
                    "INSERT INTO map VALUES (?, ?, ?, ?)", (zoom, x, (1 << zoom) - 1 - y, key)
                )
            con.commit()
    except (OSError, sqlite3.Error) as exc:
        raise InputFileError(
            f"não foi possível gravar o mapa de fundo para o QGIS ({exc})", path=out
        ) from exc
    return out


def read_mbtiles(path: str | os.PathLike[str]) -> TileSet:
    """Read the description of an MBTiles file (its ``metadata`` table).

    Parameters
    ----------
    path : str or path-like
        The file (:func:`write_mbtiles`, or any MBTiles with ``bounds`` and zooms).

    Returns
    -------
    TileSet
        Name, bounds, zooms, attribution and description.

    Raises
    ------
    InputFileError
        When the file is missing, is not an MBTiles file or lacks its bounds or zooms.
    """
    file = Path(path)
    if not file.is_file():
        raise InputFileError("arquivo MBTiles não encontrado", path=file)
    try:
        with closing(sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)) as con:
            rows = dict(con.execute("SELECT name, value FROM metadata").fetchall())
        west, south, east, north = (float(v) for v in str(rows["bounds"]).split(","))
        return TileSet(
            path=file,
            name=str(rows.get("name") or BASEMAP_NAME),
            bounds=(west, south, east, north),
            min_zoom=int(rows["minzoom"]),
            max_zoom=int(rows["maxzoom"]),
            attribution=str(rows.get("attribution") or ""),
            description=str(rows.get("description") or ""),
        )
    except (sqlite3.Error, KeyError, ValueError) as exc:
        raise InputFileError(f"arquivo MBTiles ilegível ({exc})", path=file) from exc
