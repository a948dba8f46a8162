"""Interactive web maps (Folium/Leaflet) of an assessment, readable offline.

:func:`write_maps` writes, into the assessment folder,

- ``mapa.html`` — the overview for the commission (:func:`overview_map`, composition
  ``maps/panorama.toml``): every request coloured by situation, with the five scores
  (suggested and final), cost, municipal share and position in its popup, clustered
  when many (a request pending confirmation of its place is drawn as its candidate
  stretch, a dashed line, "Local a confirmar", with its uncertainty, ranges and what to
  confirm on site); the proposed extensions; the existing grid and lighting; roads by
  hierarchy; facilities, crossings and bus stops with their icons; occurrences;
- ``mapas/<protocolo>.html`` — one map per located request for the engineers
  (:func:`request_map`, ``maps/pedido.toml``): the request, its road, the proposed path
  with every new pole, the rings of the criteria's radii, the evidence counted for each
  criterion highlighted, and a side panel with the five motivations (for a place to
  confirm: the stretch, and the rings and evidence of the worse position along it);
- ``assets/`` — Leaflet, its plugins, Font Awesome's solid font and geo_ip's script,
  so that the maps need the internet for nothing but the optional OpenStreetMap tiles.

Symbols come from the layer catalog (:func:`geo_ip.outputs.styles.layer_style`), layers and
options from the map compositions (:mod:`geo_ip.outputs.maps`). Maps show public data only:
requests come from :func:`geo_ip.outputs.files.public_ranking` and every other table
through :func:`geo_ip.requests.privacy.public_view` (LGPD).
"""

from __future__ import annotations

import html
import logging
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import folium
import numpy as np
import shapely
from folium import plugins
from xyzservices import TileProvider

from geo_ip._util.atomic import atomic_path
from geo_ip._util.parallel import PARALLEL_ABOVE, cores, start
from geo_ip.errors import GeoIPError, InputFileError
from geo_ip.outputs.maps import MapSpec, load_map
from geo_ip.outputs.web import parts
from geo_ip.outputs.web.assets import copy_assets, localise, remote_links
from geo_ip.outputs.web.basemap import (
    BASEMAP_FOLDER,
    BasemapInfo,
    folium_layer,
    read_basemap_info,
    write_basemap,
)
from geo_ip.outputs.web.geojson import wgs84_bounds
from geo_ip.outputs.web.layer_specs import (
    catalog_spec,
    layer_fields,
    legend_section,
    map_fields,
    map_style,
)
from geo_ip.outputs.web.layers import MapSources
from geo_ip.outputs.web.request import request_layers
from geo_ip.pipeline import Assessment

__all__ = [
    "OSM_TILES",
    "PARALLEL_ABOVE",
    "MapSources",
    "overview_map",
    "request_map",
    "save_map",
    "write_maps",
]

log = logging.getLogger(__name__)

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
"""The only address a map loads from the internet (and only with the OSM base map)."""
_OSM_PROVIDER = TileProvider(
    name="OpenStreetMap", url=OSM_TILES, attribution=parts.OSM_ATTRIBUTION_HTML, max_zoom=19
)
NO_BASE_MAP = "Sem mapa de fundo"
MIN_ZOOM = 3
"""Least zoom of every map (a continent); the deepest is the composition's ``zoom_maximo``."""
OSM_BASE_MAP = "OpenStreetMap"
_OWN_LAYERS = ("pedidos", "extensoes")
"""Layers of the assessment itself: the overview always shows every feature."""
OVERVIEW_CONTEXT_FEATURES = 15_000
"""Most features of the territory layers (roads, grid, lamps, facilities, occurrences)
the overview carries in the requests' extent; beyond, only those near the requests."""
OVERVIEW_NEAR_M = 100.0
"""Distance (m) from a request or its extension within which a city-scale overview
shows the territory's features."""


def base_map(
    spec: MapSpec,
    bounds: list[list[float]],
    background: BasemapInfo | None = None,
    page_dir: Path | None = None,
) -> folium.Map:
    """Create an empty map with the composition's base layers, fitted to ``bounds``.

    Parameters
    ----------
    spec : MapSpec
        The composition (base maps, zoom limit).
    bounds : list
        ``[[south, west], [north, east]]``.
    background : BasemapInfo, optional
        The territory's offline background: the base layer shown first, beside the
        composition's (issue 21: the municipality's map with no internet).
    page_dir : Path, optional
        Folder of the page (default: the folder holding the background's tiles).

    Returns
    -------
    folium.Map
        With the offline background (when given), ``OpenStreetMap`` and/or ``Sem mapa
        de fundo`` base layers. The map itself
        has the zoom limits (``minZoom``, ``maxZoom``): with a base layer that has none
        ("Sem mapa de fundo"), the clustered layers still know the deepest zoom (issue
        21: re-adding a cluster layer threw "Map has no maxZoom specified").
    """
    center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    m = folium.Map(
        location=center,
        zoom_start=15,
        tiles=None,
        prefer_canvas=True,
        control_scale=False,
    )
    # folium gives max_zoom only to a default tile layer: the map gets it here, so that
    # no base layer (or one without zoom limits) leaves the map without one
    m.options["min_zoom"] = MIN_ZOOM
    m.options["max_zoom"] = spec.zoom_maximo
    if background is not None:
        folium_layer(background, page_dir, show=True).add_to(m)
    first = 0 if background is None else -1  # the offline background is shown first
    for i, base in enumerate(spec.fundos):
        if base == "osm":
            folium.TileLayer(
                tiles=_OSM_PROVIDER,
                name=OSM_BASE_MAP,
                max_zoom=spec.zoom_maximo,
                max_native_zoom=19,
                overlay=False,
                show=i == first,
            ).add_to(m)
        else:
            folium.FeatureGroup(name=NO_BASE_MAP, overlay=False, show=i == first).add_to(m)
    m.fit_bounds(bounds)
    return m


def finish_map(
    m: folium.Map,
    spec: MapSpec,
    sources: MapSources,
    title_html: str,
    legend: Sequence[parts.LegendEntry],
    search: folium.FeatureGroup | None = None,
    *,
    bounds: list[list[float]] | None = None,
    hidden: Sequence[str] = (),
) -> folium.Map:
    """Add the layer control, tools, title, legend, attribution and footer.

    Parameters
    ----------
    m : folium.Map
        Map with its layers.
    spec : MapSpec
        The composition (tools).
    sources : MapSources
        Provenance and rules.
    title_html : str
        Title bar (HTML, escaped by the caller).
    legend : sequence
        Legend sections (:func:`geo_ip.outputs.web.parts.legend_html`).
    search : folium.FeatureGroup, optional
        The requests layer indexed by protocol.
    bounds : list, optional
        ``[[south, west], [north, east]]`` to show: fitted again once the controls are
        drawn, so that no feature lies under the legend, the layer control, the title
        or the footer (``geoIp.enquadra``).
    hidden : sequence of str
        Titles of the layers off on loading (their legend sections start hidden; the
        legend follows the layer control, ``geoIp.legenda``).

    Returns
    -------
    folium.Map
        ``m``.
    """
    assessment = sources.assessment
    page: Any = m.get_root()  # the figure: mapa.css's colours go in its <head>
    page.header.add_child(parts.palette_css(sources.catalog), name="geo_ip_cores")
    folium.LayerControl(position="topright", collapsed=spec.camadas_recolhidas).add_to(m)
    if spec.tela_cheia:
        plugins.Fullscreen(
            position="topleft", title="Tela cheia", title_cancel="Sair da tela cheia"
        ).add_to(m)
    if spec.medicao:
        plugins.MeasureControl(
            position="topleft",
            primary_length_unit="meters",
            secondary_length_unit="kilometers",
            primary_area_unit="sqmeters",
            secondary_area_unit="hectares",
            localization="pt_BR",
        ).add_to(m)
    if spec.busca and search is not None:
        plugins.Search(
            layer=search,
            search_label="protocolo",
            placeholder="Buscar protocolo",
            position="topleft",
            collapsed=False,
            search_zoom=18,
        ).add_to(m)
        m.add_child(
            parts.Call(
                "busca",
                parts.RawJs(f"{search.get_name()}searchControl"),
                parts.RawJs(search.get_name()),
            )
        )
    if spec.escala:
        m.add_child(parts.Call("escala"))
    m.add_child(parts.Call("atribuicao", parts.OSM_ATTRIBUTION_HTML))
    m.add_child(parts.Call("titulo", title_html))
    if spec.legenda and legend:
        box = parts.legend_html(legend, spec.legenda_aberta, hidden)
        m.add_child(parts.Call("controle", "bottomright", "gi-legenda", box))
        m.add_child(parts.Call("legenda"))
    fictional = assessment.rules.municipio.ficticio
    footer = parts.footer_html(assessment.provenance, fictional)
    m.add_child(parts.Call("controle", "bottomleft", "gi-rodape", footer))
    if bounds is not None:
        m.add_child(parts.Call("enquadra", bounds, spec.zoom_maximo))
    return m


def _title(text: str, sources: MapSources, extra: str = "") -> str:
    """Title bar: the map's title, the municipality of the data, a link, the demo's label."""
    assessment = sources.assessment
    municipality = html.escape(sources.municipality or assessment.rules.municipio.nome)
    badge = parts.fictional_badge(assessment.rules.municipio.ficticio)
    return f"<b>{html.escape(text)}</b> — {municipality}{extra}{badge}"


def _context_positions(
    spec: MapSpec,
    sources: MapSources,
    fields: dict[str, list[str]],
    area: shapely.Geometry,
    extent: np.ndarray,
) -> dict[str, np.ndarray]:
    """Features of the territory layers the overview shows, when a city's are too many.

    Within the requests' extent (plus the composition's margin) when they are at most
    :data:`OVERVIEW_CONTEXT_FEATURES`; otherwise those within :data:`OVERVIEW_NEAR_M`
    of a request or of its extension, so the page stays a few megabytes. ``{}`` means
    "the extent": the caller selects.
    """
    layers = [
        layer.camada
        for layer in spec.camadas
        if layer.camada in sources.frames and layer.camada not in _OWN_LAYERS
    ]
    data = {name: sources.data(name, fields[name]) for name in dict.fromkeys(layers)}
    inside = {name: d.select(area) for name, d in data.items()}
    total = sum(len(p) for p in inside.values())
    if total <= OVERVIEW_CONTEXT_FEATURES:
        return inside
    near = {name: d.near(extent, OVERVIEW_NEAR_M) for name, d in data.items()}
    log.info(
        "panorama: %d feições do território na extensão dos pedidos; mostradas as %d a "
        "menos de %g m de um pedido ou da sua extensão",
        total,
        sum(len(p) for p in near.values()),
        OVERVIEW_NEAR_M,
    )
    return near


def overview_map(
    assessment: Assessment, spec: MapSpec | None = None, *, sources: MapSources | None = None
) -> folium.Map:
    """Build the overview map of every request (for the commission).

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess`.
    spec : MapSpec, optional
        Composition; default ``maps/panorama.toml``.
    sources : MapSources, optional
        Layers already read (shared with the request maps).

    Returns
    -------
    folium.Map
        The map; write it with :func:`save_map` (which points its scripts at the local
        assets instead of folium's CDN links).
    """
    spec = spec or load_map("panorama")
    sources = sources or MapSources.from_assessment(assessment)
    requests = sources.frames["pedidos"]
    extent = np.concatenate(
        [requests.geometry.to_numpy(), sources.frames["extensoes"].geometry.to_numpy()]
    )
    if not len(extent):
        extent = sources.frames["vias"].geometry.to_numpy()
    area = shapely.box(*shapely.total_bounds(extent)).buffer(spec.margem_m, join_style="mitre")
    bounds = wgs84_bounds(extent, assessment.crs)
    m = base_map(spec, bounds, sources.background)
    fields = map_fields(spec, sources.catalog)
    chosen = _context_positions(spec, sources, fields, area, extent)
    legend: list[parts.LegendEntry] = []
    hidden: list[str] = []
    shared: dict[str, parts.Layer] = {}
    search = None
    for layer in spec.camadas:
        if layer.camada not in sources.frames:
            continue
        data = sources.data(layer.camada, fields[layer.camada])
        positions = chosen.get(layer.camada)
        if positions is None:
            positions = data.select(None if layer.camada in _OWN_LAYERS else area)
        js, style = catalog_spec(layer, spec, sources, count=len(positions), link="mapas/")
        group = folium.FeatureGroup(name=js["titulo"], show=layer.visivel)
        first = shared.get(layer.camada)
        element = parts.Layer(None if first else data.json(positions), js, source=first)
        shared.setdefault(layer.camada, element)
        group.add_child(element)
        m.add_child(group)
        legend.append(legend_section(layer, js, style, sources))
        if not layer.visivel:
            hidden.append(js["titulo"])
        if layer.camada == "pedidos" and layer.estilo is None:
            search = group
    title = _title(spec.titulo, sources)
    return finish_map(m, spec, sources, title, legend[::-1], search, bounds=bounds, hidden=hidden)


def request_map(
    assessment: Assessment,
    index: int,
    spec: MapSpec | None = None,
    *,
    sources: MapSources | None = None,
    overview: str | None = "../mapa.html",
) -> folium.Map:
    """Build the map of one request (for the engineers).

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess`.
    index : int
        Row of ``assessment.table`` (a located request).
    spec : MapSpec, optional
        Composition; default ``maps/pedido.toml``.
    sources : MapSources, optional
        Layers already read.
    overview : str or None
        Relative link back to the overview (None: no link).

    Returns
    -------
    folium.Map
        The map; write it with :func:`save_map`.

    Raises
    ------
    GeoIPError
        When the request is not located.
    """
    spec = spec or load_map("pedido")
    sources = sources or MapSources.from_assessment(assessment)
    built = request_layers(sources, index, spec)
    background = sources.background
    m = base_map(
        spec, built.bounds, background,
        None if background is None else background.folder.parent / "mapas",
    )  # fmt: skip
    legend: list[parts.LegendEntry] = []
    hidden: list[str] = []
    for layer in spec.camadas:
        if not layer.visivel:
            hidden.append(spec.layer_title(layer, sources.catalog))
        own = built.own.get(layer.camada)
        if own is not None:
            group = folium.FeatureGroup(name=spec.layer_title(layer), show=layer.visivel)
            for element in own.elements:
                group.add_child(element)
            m.add_child(group)
            if own.legend:
                legend.append((spec.layer_title(layer), own.legend, True))
            continue
        if layer.camada not in sources.frames:
            continue
        data = sources.data(layer.camada, layer_fields(layer, map_style(layer, sources.catalog)))
        if layer.filtro == "pedido":
            positions = data.select(None, index)
        else:
            positions = data.select(
                built.area,
                index if layer.filtro == "outros" else None,
                other=layer.filtro == "outros",
            )
        link = "" if layer.filtro == "outros" else None
        js, style = catalog_spec(layer, spec, sources, count=len(positions), link=link)
        group = folium.FeatureGroup(name=js["titulo"], show=layer.visivel)
        group.add_child(parts.Layer(data.json(positions), js))
        m.add_child(group)
        legend.append(legend_section(layer, js, style, sources))
    if spec.painel:
        m.add_child(parts.Call("painel", built.panel))
    back = f' · <a href="{overview}">panorama</a>' if overview else ""
    protocol = str(assessment.table["protocolo"].iloc[index])
    title = _title(f"{spec.titulo} {protocol}", sources, back)
    return finish_map(m, spec, sources, title, legend[::-1], bounds=built.bounds, hidden=hidden)


def save_map(m: folium.Map, path: str | Path, prefix: str = "assets/") -> Path:
    """Write a map as a page that loads its scripts from the local assets folder.

    The page needs the vendored files at ``prefix`` (relative to it): see
    :func:`geo_ip.outputs.web.assets.copy_assets`, which :func:`write_maps` calls.

    Parameters
    ----------
    m : folium.Map
        From :func:`overview_map` or :func:`request_map` (saved once: its links are
        rewritten).
    path : str or Path
        HTML file to write (atomically).
    prefix : str
        Relative URL of the assets folder from the page, ending in ``/``.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    GeoIPError
        When an element of the map links a script or style with no local copy.
    """
    path = Path(path)
    localise(m, prefix)
    page = m.get_root().render()
    remote = remote_links(page)
    if remote:
        raise GeoIPError(f"mapa com recurso externo ({remote[0]}): {path}")
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


def _maps_of(
    assessment: Assessment,
    spec: MapSpec | None,
    folder: Path,
    work: Sequence[tuple[int, str]],
    sources: MapSources,
    tick: Callable[[], None] | None = None,
) -> list[tuple[str, str | None]]:
    """Write the maps of ``work`` (row, file name): (file name, problem or None) each.

    ``tick()`` is called after each map, written or not.
    """
    done: list[tuple[str, str | None]] = []
    for index, name in work:
        try:
            m = request_map(assessment, index, spec, sources=sources)
            save_map(m, folder / name, "../assets/")
        except GeoIPError as exc:
            done.append((name, str(exc)))
        else:
            done.append((name, None))
        if tick is not None:
            tick()
    return done


def _maps_chunk(
    shared: tuple[Assessment, MapSpec | None, str], work: list[tuple[int, str]]
) -> list[tuple[str, str | None]]:
    """Worker of :func:`_request_maps`: read the layers once, write the maps of ``work``."""
    assessment, spec, folder = shared
    sources = MapSources.from_assessment(assessment)
    sources.background = _background_of(Path(folder).parent)
    return _maps_of(assessment, spec, Path(folder), work, sources)


def _background_of(out_dir: Path) -> BasemapInfo | None:
    """Return the offline background already written in ``out_dir`` (None: there is none)."""
    try:
        return read_basemap_info(out_dir / BASEMAP_FOLDER)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _request_maps(
    assessment: Assessment,
    spec: MapSpec | None,
    folder: Path,
    work: list[tuple[int, str]],
    sources: MapSources,
    tick: Callable[[], None] | None = None,
) -> list[tuple[str, str | None]]:
    """Write every request map, on all cores when there are many, in ``work`` order.

    The requests are dealt to the cores in turn (this process takes the first share);
    a share whose helper process failed is drawn again here, so a crash loses nothing
    and a real error is raised as it would be without helpers. ``tick()`` is called here
    once per map: after each of this process's own, then for each map of a helper's
    share when its results arrive (or as a failed share is redrawn here).
    """
    n_cores = cores()
    if len(work) <= PARALLEL_ABOVE or n_cores < 2:
        return _maps_of(assessment, spec, folder, work, sources, tick)
    shares = [work[k::n_cores] for k in range(n_cores)]
    running = start(
        _maps_chunk, (assessment, spec, str(folder)), shares[1:],
        what="mapas dos pedidos",
    )  # fmt: skip
    results = [_maps_of(assessment, spec, folder, shares[0], sources, tick)]
    for share, result in zip(shares[1:], running.collect(), strict=True):
        if result is None:  # the helper failed: drawn here
            result = _maps_of(assessment, spec, folder, share, sources, tick)
        elif tick is not None:
            for _ in share:
                tick()
        results.append(result)
    by_name = {name: problem for result in results for name, problem in result}
    return [(name, by_name[name]) for _index, name in work]


def _write_background(assessment: Assessment, out_dir: Path) -> BasemapInfo | None:
    """Draw the territory's offline background next to the maps (None when it cannot).

    The maps still open without it, on OpenStreetMap's tiles or no background: a
    territory that cannot be drawn is said in the log, not an error of the assessment.
    """
    try:
        return write_basemap(assessment.territory.path, out_dir)
    except (OSError, ValueError, KeyError, sqlite3.Error) as exc:
        log.warning("mapa de fundo offline não gerado: %s", exc)
        return None


def write_maps(
    assessment: Assessment,
    out_dir: str | Path,
    *,
    overview: MapSpec | None = None,
    per_request: MapSpec | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write the overview, one map per located request and the assets they need.

    ``out_dir/mapa.html``, ``out_dir/mapas/<protocolo>.html`` and ``out_dir/assets/``
    (scripts, styles, fonts, licences). Request maps of an earlier run that are not
    rewritten (a protocol no longer in the spreadsheet) are removed from ``mapas/``.
    Above :data:`PARALLEL_ABOVE` requests the request maps are drawn on every core:
    the same files under the same names, listed in the same order.

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess`.
    out_dir : str or Path
        Folder (created when missing), usually the assessment's ``--out``.
    overview, per_request : MapSpec, optional
        Compositions; default ``maps/panorama.toml`` and ``maps/pedido.toml``.
    progress : callable, optional
        Called in this process as ``progress(done, total)``: after the offline
        background, after the overview and after each request's map (drawn here or by a
        helper process, counted here; a map that could not be drawn counts too), so
        ``total`` is the located requests + 2 and the last call is ``(total, total)``.

    Returns
    -------
    list of Path
        The HTML files written, the overview first.

    Raises
    ------
    InputFileError
        When a file cannot be written.
    """
    out_dir = Path(out_dir)
    sources = MapSources.from_assessment(assessment)
    requests = sources.frames["pedidos"].sort_values("indice")
    pairs = zip(requests["indice"], requests["mapa"], strict=True)
    work = [(int(index), str(name)) for index, name in pairs]
    total, count = len(work) + 2, 0

    def tick() -> None:
        nonlocal count
        count += 1
        if progress is not None:
            progress(count, total)

    written: list[Path] = []
    try:
        copy_assets(out_dir)
        sources.background = _write_background(assessment, out_dir)
        tick()
        target = out_dir / "mapa.html"
        save_map(overview_map(assessment, overview, sources=sources), target, "assets/")
        written.append(target)
        tick()
        folder = out_dir / "mapas"
        folder.mkdir(parents=True, exist_ok=True)
        for name, problem in _request_maps(assessment, per_request, folder, work, sources, tick):
            target = folder / name
            if problem is not None:  # one request's map never stops the others
                log.warning("mapa do pedido '%s' não gerado: %s", target.stem, problem)
                continue
            written.append(target)
        keep = set(written)
        for stale in folder.glob("*.html"):
            if stale not in keep:
                stale.unlink()
    except OSError as exc:
        path = getattr(exc, "filename", None) or out_dir
        raise InputFileError(
            f"não foi possível gravar os mapas ({exc.strerror or exc})", path=path
        ) from exc
    # not the folder: an assessment writes to a staging folder renamed at the end, which
    # the log would name after it no longer exists (issue 21)
    log.info("mapas: mapa.html e %d mapa(s) de pedido em mapas/", len(written) - 1)
    return written
