"""Technical sheet of each request (ficha técnica de avaliação, Art. 10 of the law).

Art. 10 asks the commission to fill, for every request, a sheet with: I the protocol;
II the place; III a summary of the request; IV the surveys made; V the score of each
criterion with its motivation; VI the final score; VII the conclusive technical
opinion. :func:`write_sheets` writes that sheet for every request of an assessment —
errors included, saying why the request could not be scored — as a standalone HTML
page and an A4 PDF page each, plus ``todas.pdf`` with every sheet in ranking order:

- the evidence, the suggested and the final score of each criterion side by side, the
  commission's decision text where there is one;
- eligibility (Art. 4 §2, Art. 5), cost, municipal share (Art. 4 §1) and budget;
- a static map of the request (:func:`static_map`), drawn from the same layer
  catalog as the web map and the QGIS styles;
- a blank area with lines for the commission's opinion (the tool writes none) and
  the signature lines of the commission (Art. 6);
- the provenance of the run (tool, rules version and hash, data dates, CRS).

The sheet is an internal document of the commission (Arts. 7 to 10): it is built from
:func:`geo_ip.requests.privacy.internal_view` — CPF masked, no name, no income figure.

Files, under ``<out_dir>/fichas/``:

====================  ================================================================
``<protocolo>.html``  the sheet as a web page, self-contained (CSS and map inside)
``<protocolo>.pdf``   the same sheet, one A4 page
``todas.pdf``         every sheet, one page each: ranked requests by position, then
                      Art. 12 and Art. 11 works, requests pending proof of hardship,
                      ineligible and error rows (as ``ranking.csv``)
====================  ================================================================

The file names are those of :func:`geo_ip.outputs.files.request_file_stems`,
shared with the web maps: the protocol made safe, ``linha_<n>`` for a blank one, cut to
80 characters, and a hash suffix when cut or when it would repeat another's name.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from geo_ip._util.atomic import atomic_path
from geo_ip._util.parallel import PARALLEL_ABOVE, cores, start
from geo_ip._util.paths import resource_dir
from geo_ip.errors import InputFileError
from geo_ip.outputs.sheets.content import SECTIONS, Sheet, build_sheets
from geo_ip.outputs.sheets.pdf import write_pdf
from geo_ip.outputs.sheets.staticmap import MAP_SIZE_PX, MapRenderer
from geo_ip.pipeline import Assessment

__all__ = [
    "ALL_SHEETS",
    "MAP_SIZE_PX",
    "SECTIONS",
    "SHEETS_DIR",
    "MapRenderer",
    "render_html",
    "sheet_png",
    "static_map",
    "write_sheets",
]

log = logging.getLogger(__name__)

SHEETS_DIR = "fichas"
"""Folder of the sheets inside the output folder."""
ALL_SHEETS = "todas.pdf"
"""The PDF with every sheet, in ranking order."""
_TEMPLATE = "ficha.html"


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(resource_dir("data") / "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def static_map(assessment: Assessment, i: int, *, renderer: MapRenderer | None = None) -> bytes:
    """Draw the static map of one request (PNG).

    Roads coloured by hierarchy, the existing grid, the lighting points, the
    facilities and occurrences, the proposed extension with each new pole, the request
    and its point on the road, the rings of the rules radii; scale bar, north arrow and
    "© OpenStreetMap contributors". No tiles: everything is drawn from the territory.

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess`.
    i : int
        Row position in ``assessment.table`` (0-based, input order).
    renderer : MapRenderer, optional
        A renderer made for this assessment, to draw many maps without reading the
        territory again; default: a new one (reads the layers).

    Returns
    -------
    bytes
        A PNG of :data:`MAP_SIZE_PX` pixels (width, height); a request that was not
        located gets a note instead of the map.

    Raises
    ------
    IndexError
        If ``i`` is not a row of the table.
    """
    if not 0 <= i < len(assessment.table):
        raise IndexError(f"pedido {i} fora da tabela (0 a {len(assessment.table) - 1})")
    return (renderer or MapRenderer(assessment)).render(i)


def render_html(sheet: Sheet, environment: Environment | None = None) -> str:
    """Render one sheet as a standalone HTML page (map embedded as a data URI).

    Parameters
    ----------
    sheet : Sheet
        Content from :func:`geo_ip.outputs.sheets.content.build_sheets`, with its map.
    environment : jinja2.Environment, optional
        Reused across sheets by :func:`write_sheets`.

    Returns
    -------
    str
        The HTML text.
    """
    env = environment or _environment()
    image = ""
    if sheet.mapa_png:
        image = "data:image/png;base64," + base64.b64encode(sheet.mapa_png).decode("ascii")
    return env.get_template(_TEMPLATE).render(sheet=sheet, mapa=image)


def _write_one(sheet: Sheet, renderer: MapRenderer, env: Environment, folder: Path) -> bytes:
    """Draw the map of one sheet and write its HTML and PDF; return the map (PNG)."""
    sheet.mapa_png = renderer.render(sheet.indice)
    with atomic_path(folder / f"{sheet.arquivo}.html") as tmp:
        tmp.write_text(render_html(sheet, env), encoding="utf-8")
    with atomic_path(folder / f"{sheet.arquivo}.pdf") as tmp:
        write_pdf([sheet], tmp, title=f"Ficha técnica {sheet.protocolo} (Art. 10)")
    return sheet.mapa_png


def _sheets_chunk(shared: tuple[Assessment, str], positions: list[int]) -> list[bytes]:
    """Worker of :func:`_sheet_files`: the sheets at ``positions``, their maps back."""
    assessment, folder = shared
    sheets = build_sheets(assessment)
    renderer, env = MapRenderer(assessment), _environment()
    return [_write_one(sheets[i], renderer, env, Path(folder)) for i in positions]


def _sheet_files(
    assessment: Assessment, sheets: list[Sheet], folder: Path, done: Callable[[], None]
) -> list[bytes]:
    """Write every sheet's HTML and PDF, on all cores when there are many.

    Returns each sheet's map, in the sheets' order; ``done()`` is called after each
    sheet. Sheets are dealt to the cores in turn, this process taking the first share;
    a share whose helper process failed is written again here (a real error is then
    raised as it would be without helpers).
    """
    renderer, env = MapRenderer(assessment), _environment()
    n_cores = cores()
    if len(sheets) <= PARALLEL_ABOVE or n_cores < 2:
        maps = []
        for sheet in sheets:
            maps.append(_write_one(sheet, renderer, env, folder))
            done()
        return maps
    shares = [list(range(k, len(sheets), n_cores)) for k in range(n_cores)]
    running = start(
        _sheets_chunk, (assessment, str(folder)), shares[1:],
        what="fichas técnicas",
    )  # fmt: skip
    png: dict[int, bytes] = {}
    for i in shares[0]:
        png[i] = _write_one(sheets[i], renderer, env, folder)
        done()
    for share, images in zip(shares[1:], running.collect(), strict=True):
        for k, i in enumerate(share):
            drawn = images[k] if images is not None else None
            png[i] = drawn if drawn is not None else _write_one(sheets[i], renderer, env, folder)
            done()
    return [png[i] for i in range(len(sheets))]


def write_sheets(
    assessment: Assessment,
    out_dir: str | Path,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write the technical sheet (Art. 10) of every request, in HTML and PDF.

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess`.
    out_dir : str or Path
        Output folder; the sheets go to ``out_dir/fichas/`` (created when missing).
    progress : callable, optional
        Called as ``progress(done, total)`` after each sheet.

    Notes
    -----
    Above :data:`geo_ip._util.parallel.PARALLEL_ABOVE` requests the sheets are drawn on
    every core (the same files; ``todas.pdf`` is written here, in ranking order).

    Returns
    -------
    list of Path
        Per request in ranking order its ``.html`` and ``.pdf``, then ``todas.pdf``.

    Raises
    ------
    InputFileError
        When a file cannot be written.
    """
    started = time.perf_counter()
    folder = Path(out_dir) / SHEETS_DIR
    sheets = build_sheets(assessment)
    written: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        count = iter(range(1, len(sheets) + 1))

        def done() -> None:
            if progress is not None:
                progress(next(count), len(sheets))

        for sheet, png in zip(sheets, _sheet_files(assessment, sheets, folder, done), strict=True):
            sheet.mapa_png = png
            written += [folder / f"{sheet.arquivo}.html", folder / f"{sheet.arquivo}.pdf"]
        every = folder / ALL_SHEETS
        with atomic_path(every) as tmp:
            pages = write_pdf(sheets, tmp, title="Fichas técnicas de avaliação (Art. 10)")
        written.append(every)
        if pages != len(sheets) and sheets:
            log.warning("fichas técnicas: %d página(s) para %d pedido(s)", pages, len(sheets))
    except OSError as exc:
        raise InputFileError(
            f"não foi possível gravar as fichas técnicas ({exc.strerror or exc})", path=folder
        ) from exc
    log.info(
        "fichas técnicas: %d pedido(s), %d página(s) em %s, %.1f s",
        len(sheets), pages, every.name, time.perf_counter() - started,
    )  # fmt: skip
    return written


def sheet_png(pdf: str | Path, out: str | Path, *, page: int = 0, scale: float = 2.0) -> Path:
    """Rasterise one page of a sheet PDF to PNG (e.g. the README screenshot).

    Needs ``pypdfium2`` (a development dependency: ``pip install pypdfium2``).

    Parameters
    ----------
    pdf : str or Path
        A sheet PDF (``<protocolo>.pdf`` or ``todas.pdf``).
    out : str or Path
        PNG to write.
    page : int, default 0
        Page index (0-based).
    scale : float, default 2.0
        Pixels per PDF point (2.0 ≈ 144 dpi: 1191 × 1684 px for A4).

    Returns
    -------
    Path
        ``out``.
    """
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    try:
        bitmap = document[page].render(scale=scale)
        image = bitmap.to_pil()
    finally:
        document.close()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out, format="png", optimize=True)
    return out
