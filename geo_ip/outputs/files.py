"""Files of ``geo-ip avaliar --saida DIR``.

==========================  ==========  ================================================
file                        audience    content
==========================  ==========  ================================================
``ranking.csv``             public      one row per request: position, situation, flags
                                        (``alertas``), scores, evidence figures, cost and
                                        share; no personal data. For scripts: UTF-8, ``,``,
                                        decimal point, the columns' codes
``ranking_planilha.csv``    public      the same list for people: what a Brazilian Excel or
                                        LibreOffice opens (UTF-8 with BOM, ``;``, decimal
                                        comma, Portuguese column labels)
``ranking.xlsx``            internal    the commission's workbook: the same list plus
                                        eligibility and how hardship was proven (CPF masked,
                                        keyed hash), the acts of Art. 11 and 12, the budget
                                        (reservations, ranked selection, balance), criteria
                                        with motivations and decisions, evidence, rules,
                                        provenance; Portuguese column labels
``avaliacao.gpkg``          public      ``pedidos`` (points), ``extensoes`` (paths with
                                        materials and cost), ``postes_propostos``,
                                        ``trechos_candidatos`` (where a request located
                                        without its number may be; when there is one), the
                                        territory layers used and its base-map layers
                                        (boundary, urban area, water, districts, buildings:
                                        the map without internet); table ``metadados``;
                                        default QGIS styles in ``layer_styles``
``avaliacao.qgz``           public      QGIS project over the GeoPackage (relative paths,
                                        groups, project CRS, the same symbology) and, with
                                        the maps, over ``fundo/fundo.mbtiles``
``fundo/fundo.mbtiles``     public      with the maps: their offline background (the PNG
                                        tiles of ``fundo/``) as one MBTiles file, the
                                        project's raster layer
``evidencias.json``         public      per protocol, every piece of evidence with its ids
                                        and distances (the audit trail of the motivations)
``proveniencia.json``       public      tool, rules hash, inputs with hashes, time of run
==========================  ==========  ================================================

Public files go through :func:`geo_ip.requests.privacy.public_view`, internal ones through
:func:`geo_ip.requests.privacy.internal_view` (LGPD).

:func:`write_outputs` writes them all, atomically, with the GeoPackage (its layers from
:mod:`geo_ip.outputs.features`, shared with the web maps); the CSV, the workbook and the
JSON files are written by :mod:`geo_ip.outputs.tables`. The project is written after the
maps, so that it shows their background only when there is one (not with ``maps=False``,
``--sem-mapas``, nor when the territory could not be drawn).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo_ip._util.atomic import atomic_path, cannot_write, release_freed_memory, staged_dir
from geo_ip._util.parallel import cores, start
from geo_ip.errors import InputFileError
from geo_ip.outputs.features import candidate_stretches, extension_frame, pole_frame
from geo_ip.outputs.qgis.mbtiles import MBTILES_FILE, write_mbtiles
from geo_ip.outputs.qgis.project import style_geopackage, write_project
from geo_ip.outputs.sheets.sheets import write_sheets
from geo_ip.outputs.styles import BACKGROUND_LAYERS
from geo_ip.outputs.tables import (
    provenance_rows,
    write_csv,
    write_csv_br,
    write_evidence,
    write_json,
)
from geo_ip.outputs.views import (
    HARDSHIP_LABELS,
    PUBLIC_COLUMNS,
    STEM_LENGTH,
    proposed_poles,
    public_ranking,
    public_table,
    request_file_stems,
)
from geo_ip.outputs.views import export_table as _export
from geo_ip.outputs.views import ordered_rows as _ordered
from geo_ip.outputs.web.basemap import BASEMAP_FOLDER, INFO_FILE
from geo_ip.outputs.web.webmap import write_maps
from geo_ip.outputs.workbook import write_xlsx, xlsx_in_worker
from geo_ip.pipeline import Assessment
from geo_ip.territory.gpkg_copy import copy_layers
from geo_ip.territory.reader import Territory, layer_names, read_layer
from geo_ip.territory.writer import copy_layer, write_dataframe

log = logging.getLogger(__name__)

__all__ = [
    "HARDSHIP_LABELS",
    "MAPS_STEP",
    "PUBLIC_COLUMNS",
    "SHEETS_STEP",
    "STEM_LENGTH",
    "Progress",
    "proposed_poles",
    "public_ranking",
    "request_file_stems",
    "write_outputs",
]


_TERRITORY_LAYERS = ("vias", "rede_existente", "pontos_ip", "equipamentos")
CONTEXT_LAYERS = tuple(name for name in BACKGROUND_LAYERS if name not in _TERRITORY_LAYERS)
"""The territory's base-map layers copied into ``avaliacao.gpkg`` when it has rows in them
(``limite``, ``area_urbana``, ``agua``, ``cursos_agua``, ``bairros_area``,
``equipamentos_pegada``, ``edificacoes``, ``bairros``): the project's "Fundo (offline)"
group travels with the folder, with no path to the territory."""

Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``: :func:`write_outputs` reports its slow steps."""
MAPS_STEP = "Mapas"
"""Name of the web maps' step: the background, the overview and each request's map."""
SHEETS_STEP = "Fichas técnicas"
"""Name of the technical sheets' step: one per request."""


FILE_TIME = "%s gravado em %.3f s"
"""The debug log line after each file of :func:`write_outputs` (its name and seconds):
what the benchmarks (``benchmarks/stages.py``) split the writing time by."""


XLSX_PARALLEL_ABOVE = 2_000
"""Requests above which ``ranking.xlsx`` is written by a helper process on the other core
while this one writes the other files: xlsxwriter writes cell by cell in Python (about
a second per 100,000 cells; 10,000 requests are over a million), and starting the
helper costs a second or two."""


def _write_gpkg(
    assessment: Assessment, out: Path, public: pd.DataFrame, shared: pd.DataFrame | None = None
) -> list[str]:
    crs = assessment.crs
    table = assessment.table
    order = _ordered(table).index
    xy = table.loc[order, ["x", "y"]].to_numpy(np.float64)
    finite = np.isfinite(xy).all(axis=1)
    points = np.full(len(xy), None, dtype=object)
    points[finite] = shapely.points(xy[finite])
    requests = gpd.GeoDataFrame(public.reset_index(drop=True), geometry=points, crs=crs)
    # the features of the web maps, without their row of the table
    layers = [
        ("pedidos", requests),
        ("extensoes", _export(extension_frame(assessment, shared)).drop(columns="indice")),
        ("postes_propostos", pole_frame(assessment).drop(columns="indice")),
    ]
    stretches = candidate_stretches(assessment)
    if len(stretches):  # only when a request was located without its number
        layers.append(("trechos_candidatos", stretches))
    after: list[tuple[str, gpd.GeoDataFrame]] = []  # after the territory's layers
    occ = assessment.occurrences
    if occ is not None:
        usable = occ[occ["situacao"].astype(str) != "erro"]
        # date and type only: the free-text description may name people
        after.append(("ocorrencias", _export(usable[["data", "tipo", "geometry"]])))
    meta = provenance_rows(assessment)
    written = [name for name, _ in layers]
    with atomic_path(out) as tmp:
        for name, frame in layers:
            write_dataframe(frame, tmp, name)
        written += _territory_layers(assessment.territory, tmp)
        for name, frame in after:
            write_dataframe(frame, tmp, name)
            written.append(name)
        pyogrio.write_dataframe(meta, tmp, layer="metadados", driver="GPKG")
        style_geopackage(tmp)
    return written


def _territory_layers(territory: Territory | str | Path, target: Path) -> list[str]:
    """Copy the territory's layers for QGIS into ``target``; return those copied, in order.

    :data:`_TERRITORY_LAYERS` (``vias`` always, empty or not) then the base map
    (:data:`CONTEXT_LAYERS`), each when it has rows. They are copied in SQLite, one
    transaction per layer with its spatial index
    (:func:`geo_ip.territory.gpkg_copy.copy_layers`); a layer it declines is streamed
    through GDAL (:func:`geo_ip.territory.writer.copy_layer`). Never a GeoDataFrame: a
    state's roads are a gigabyte in memory, and the workbook's helper may work beside.
    """
    present = layer_names(territory)
    full = {
        name
        for name in (*_TERRITORY_LAYERS, *CONTEXT_LAYERS)
        if name in present and pyogrio.read_info(territory, layer=name)["features"]
    }
    wanted = [name for name in (*_TERRITORY_LAYERS, *CONTEXT_LAYERS) if name in full]
    declined = set(copy_layers(territory, target, wanted))
    written = []
    for name in (*_TERRITORY_LAYERS, *CONTEXT_LAYERS):
        if name in declined:
            copy_layer(territory, name, target)
        elif name not in full and name in _TERRITORY_LAYERS:
            frame = read_layer(territory, name, missing_ok=True)  # warns, or refuses
            if not (len(frame) or name == "vias"):
                continue
            write_dataframe(frame, target, name)
        elif name not in full:
            continue
        written.append(name)
    return written


def write_outputs(
    assessment: Assessment,
    out_dir: str | Path,
    *,
    maps: bool = True,
    sheets: bool = True,
    progress: Progress | None = None,
) -> list[Path]:
    """Write every file of the assessment folder.

    Every file is written into a staging folder beside ``out_dir`` (never inside it), which
    is swapped with ``out_dir`` whole only when all of them were written
    (:func:`geo_ip._util.atomic.staged_dir`): an interrupted or killed run leaves either the
    previous results or the new ones, never a mix.

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess`.
    out_dir : str or Path
        Folder (created when missing).
    maps : bool, default True
        Also the web maps (:func:`geo_ip.outputs.web.webmap.write_maps`: ``mapa.html``, ``mapas/``).
    sheets : bool, default True
        Also the technical sheets (:func:`geo_ip.outputs.sheets.sheets.write_sheets`: ``fichas/``).
    progress : callable, optional
        Called in this process as ``progress(step, done, total)`` after each piece of the
        slow steps, whichever process drew it: ``("Mapas", done, total)`` after the
        offline background, the overview and each request's map (``total`` = located
        requests + 2), then ``("Fichas técnicas", done, total)`` after each sheet
        (``total`` = requests). Nothing is reported for a step not taken.

    Returns
    -------
    list of Path
        The files written: ``ranking.csv`` first, then the workbook,
        ``ranking_planilha.csv``, the GeoPackage, the project, the JSON files, the maps,
        the background's ``fundo/fundo.mbtiles`` (when drawn) and the sheets.

    Raises
    ------
    InputFileError
        When the folder or a file cannot be written.
    """
    final_dir = Path(out_dir)
    if not (maps or sheets) and isinstance(assessment.territory, Territory):
        # only the maps and sheets draw the territory's layers: without them, the memory
        # its cache holds (a gigabyte at a million edges) goes to the outputs
        assessment.territory.forget_layers()
    release_freed_memory()  # what the assessment freed, before the outputs and their helper
    shared = public_table(assessment)  # redacted once for every public file of the run
    public = public_ranking(assessment, shared)
    with staged_dir(final_dir) as stage:
        try:
            written = _write_all(
                assessment, (public, shared), stage, final_dir,
                maps=maps, sheets=sheets, progress=progress,
            )  # fmt: skip
        except InputFileError as exc:  # name the file as the user knows it, not its stage
            if exc.path is None or not exc.path.is_relative_to(stage):
                raise
            raise InputFileError(exc.message, path=final_dir / exc.path.relative_to(stage)) from exc
    return [final_dir / path.relative_to(stage) for path in written]


def _write_all(
    assessment: Assessment,
    views: tuple[pd.DataFrame, pd.DataFrame],
    out_dir: Path,
    final_dir: Path,
    *,
    maps: bool,
    sheets: bool,
    progress: Progress | None = None,
) -> list[Path]:
    """Write every file into ``out_dir``, the staging folder of ``final_dir``.

    ``views``: the public list (:func:`public_ranking`) and the public table it was
    built from (:func:`geo_ip.outputs.views.public_table`), shared by the public files.
    """
    public, shared = views
    files = {
        "ranking.csv": lambda p: write_csv(public, p),
        "ranking.xlsx": lambda p: write_xlsx(assessment, p),
        # after the workbook: its place in the list when a helper writes the workbook
        "ranking_planilha.csv": lambda p: write_csv_br(public, p),
        "avaliacao.gpkg": lambda p: _write_gpkg(assessment, p, public, shared),
        # the project (avaliacao.qgz) comes after the maps: it shows their background
        "evidencias.json": lambda p: write_evidence(assessment, p, shared),
        "proveniencia.json": lambda p: write_json(assessment.provenance, p),
        **(
            {"cip_programa.json": lambda p: write_json(assessment.cip, p)} if assessment.cip else {}
        ),
    }
    workbook = None  # the internal workbook, drawn on the other core when it is large
    if len(assessment.table) > XLSX_PARALLEL_ABOVE and cores() >= 2:
        del files["ranking.xlsx"]
        workbook = start(
            xlsx_in_worker, assessment, [str(out_dir / "ranking.xlsx")],
            what="planilha interna (ranking.xlsx)",
        )  # fmt: skip

    def write_one(name: str, write: Callable[[Path], object]) -> Path:
        began = time.perf_counter()
        try:
            write(out_dir / name)
        except OSError as exc:
            raise cannot_write(exc, final_dir / name) from exc
        log.debug(FILE_TIME, name, time.perf_counter() - began)
        if workbook is not None:  # the helper beside: its memory and this one's add up
            release_freed_memory(collect=False)
        return out_dir / name

    try:
        written = [write_one(name, write) for name, write in files.items()]
    except BaseException:
        if workbook is not None:  # let the helper end before its folder is removed
            workbook.collect()
        raise
    if workbook is not None:
        if workbook.collect() != [True]:  # the helper failed: written here, errors and all
            write_one("ranking.xlsx", lambda p: write_xlsx(assessment, p))
        written.insert(1, out_dir / "ranking.xlsx")
    drawn: list[Path] = []
    tiles = None
    if maps:
        step = None if progress is None else partial(progress, MAPS_STEP)
        drawn = write_maps(assessment, out_dir, progress=step)
        tiles = _background_tiles(out_dir)
    # after the GeoPackage (the project reads its layers and extents) and the maps
    project = write_one(
        "avaliacao.qgz",
        lambda p: write_project(
            out_dir / "avaliacao.gpkg",
            p,
            crs=assessment.crs,
            title="Avaliação dos pedidos de iluminação pública — "
            f"{assessment.rules.municipio.nome}",
            provenance=assessment.provenance,
            tiles=tiles,
        ),
    )
    written.insert(written.index(out_dir / "avaliacao.gpkg") + 1, project)
    written += drawn
    if tiles is not None:
        written.append(tiles)
    if sheets:
        step = None if progress is None else partial(progress, SHEETS_STEP)
        written += write_sheets(assessment, out_dir, progress=step)
    return written


def _background_tiles(out_dir: Path) -> Path | None:
    """Pack the maps' offline background for QGIS (None: the maps have none).

    The maps go on without a background the territory could not give
    (:func:`geo_ip.outputs.web.webmap.write_maps` says why in the log); the project then
    shows none.
    """
    folder = out_dir / BASEMAP_FOLDER
    if not (folder / INFO_FILE).is_file():
        return None
    return write_mbtiles(folder, folder / MBTILES_FILE)
