"""The map of each request as JSON, for the registry's snapshots and the web app's page.

:func:`snapshot_maps` turns one assessment run into one small JSON document per request
(stored in ``instantaneos.mapa``), which ``geo_ip/webapp/static/pedido_mapa.js`` draws
with the vendored Leaflet: no Folium, no inline script. It is the request map of
``maps/pedido.toml`` (:func:`geo_ip.outputs.web.webmap.request_map`) read from the same
sources:

- the catalog layers (roads by hierarchy, grid, lighting, facilities, occurrences, the
  other requests, the extension, its new poles and the request itself) come from
  :class:`geo_ip.outputs.web.layers.MapSources` (public frames: requests through
  :func:`geo_ip.requests.privacy.public_view`), each with the spec
  :func:`geo_ip.outputs.web.layer_specs.catalog_spec` gives the Folium map (title,
  classes, colours, field labels, hover label);
- the map's own layers (the request's road, the connection to the grid, the rings of
  the rules' radii, the evidence counted) take their titles, classes and field labels
  from the elements :func:`geo_ip.outputs.web.request.request_layers` builds for the
  Folium map (read once per run), and their data from the assessment, for every
  request at once.

Every request is handled at once: each territory layer is read once (by
:class:`MapSources`), the features around every request are found with one spatial
index query per layer, and each feature is turned into GeoJSON once and shared by the
maps that show it. Around each request the map keeps what the request map is about, so
that a snapshot stays a few tens of kilobytes: roads (one feature per street),
facilities and occurrences within the largest ring or near the path, the nearest other
requests (:data:`OTHER_REQUESTS_MAX`), and the grid and lighting only near the path and
the request (:data:`NEAR_M`), plus the grid element the path starts from.

Popups are ready to show: Portuguese field labels of the catalog and values as text
(class labels, not codes; Brazilian numbers, ``R$``, dates ``dd/mm/aaaa``).

The code is split by concern (every public name is importable from here):

- :mod:`geo_ip.registry.request_map`: :func:`snapshot_maps` and the loop over the
  requests of a run;
- :mod:`geo_ip.registry.request_map_style`: popup text (code labels, numbers, dates,
  hover labels), Leaflet styles of the classes, a layer's JSON (``_Look``);
- :mod:`geo_ip.registry.request_map_geometry`: projection and rounding
  (:data:`OWN_DECIMALS`, :data:`CONTEXT_DECIMALS`), GeoJSON, spatial grouping;
- :mod:`geo_ip.registry.request_map_run`: what the maps of a run share (``_Run``):
  centres, limits, the specs of the own layers read from the Folium map;
- :mod:`geo_ip.registry.request_map_catalog`: the catalog layers and the features
  around each request (:data:`NEAR_M`, :data:`OTHER_REQUESTS_MAX`);
- :mod:`geo_ip.registry.request_map_own`: the map's own layers (road, evidence,
  connection, rings).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any

import numpy as np

from geo_ip.errors import GeoIPError
from geo_ip.outputs.maps import MapSpec, load_map, merged_rings
from geo_ip.outputs.palette import load_palette
from geo_ip.outputs.web.layers import MapSources
from geo_ip.pipeline import Assessment
from geo_ip.registry.request_map_catalog import (
    NEAR_M,
    OTHER_REQUESTS_MAX,
    _catalog_layers,
    _positions,
)
from geo_ip.registry.request_map_geometry import CONTEXT_DECIMALS, OWN_DECIMALS, _valid, _wgs84
from geo_ip.registry.request_map_own import _own_layers
from geo_ip.registry.request_map_run import _PUBLIC_COLUMNS, _limits, _located, _own_specs, _Run
from geo_ip.registry.request_map_style import _code_labels, _Text

__all__ = [
    "CONTEXT_DECIMALS",
    "NEAR_M",
    "OTHER_REQUESTS_MAX",
    "OWN_DECIMALS",
    "snapshot_maps",
]


# --- public ---------------------------------------------------------------------------------


def snapshot_maps(
    assessment: Assessment,
    spec: MapSpec | None = None,
    *,
    sources: MapSources | None = None,
) -> list[dict[str, Any]]:
    """Build the map of every request of a run as JSON, for ``instantaneos.mapa``.

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess`.
    spec : MapSpec, optional
        The request map's composition; default ``maps/pedido.toml``.
    sources : MapSources, optional
        The run's layers, when already read (shared with the Folium maps).

    Returns
    -------
    list of dict
        One per row of ``assessment.table``, in its order; ``{}`` for a request without
        a location. Otherwise, in WGS 84::

            {"centro": [lat, lon],
             "limites": [[south, west], [north, east]],
             "fundo": "#rrggbb",
             "camadas": [{"id": "vias",
                          "rotulo": "Vias (hierarquia viária)",
                          "estilo": {"marcador": "circulo",
                                     "classes": {"0": {"linha": {...}}, "2": {...}}},
                          "legenda": [["Local", "#7f8c8d"], ...],
                          "visivel": true,
                          "campos": ["Nome", "Hierarquia", ...],
                          "dica": "{Nome}",
                          "geojson": {"type": "FeatureCollection", "features": [...]}},
                         ...]}

        Layers bottom to top, as in the composition (``id``: the catalog layer,
        ``pedidos_outros`` for the other requests, or the map's own ``via_pedido``,
        ``aneis``, ``evidencias``, ``conexao``); a layer with nothing around the request
        is left out; ``legenda`` lists the classes its features use.

        ``estilo.classes`` holds, for each class the features use (by its position in
        the catalog), the Leaflet path options of its lines (``linha``) and circle
        markers (``ponto``), or, for the rings (``marcador`` ``anel``), of a circle of
        ``_raio_m`` metres (``anel``).

        In a feature's properties, ``_c`` is its class (0 when absent), ``_dica`` its
        hover label (when the layer's ``dica`` cannot say it), ``_raio_m`` a ring's
        radius in metres, ``_raio_px`` the radius of a stacked halo; every other
        property is a line of its popup, Portuguese label and text, in the order of the
        layer's ``campos`` (stored JSON may not keep the keys' order). The layer's
        ``dica`` is the hover label, ``{Rótulo}`` standing for a property. ``fundo`` is
        the background without a base map.

        Features of the catalog layers are shared by the maps that show them:
        serialise, do not modify.

    Raises
    ------
    GeoIPError
        When the composition is not a request map.
    """
    spec = spec or load_map("pedido")
    if spec.nome != "pedido":
        raise GeoIPError(f"composição '{spec.nome}' não é a de um mapa de pedido")
    sources = sources or MapSources.from_assessment(assessment)
    with _no_cycle_collection():
        return _snapshot_maps(assessment, spec, sources)


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while the maps are built.

    They are millions of small dicts and lists without cycles: the collector would walk
    them again and again as they grow (about 40 % of the time for 10,000 requests).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _snapshot_maps(
    assessment: Assessment, spec: MapSpec, sources: MapSources
) -> list[dict[str, Any]]:
    """Build the maps (:func:`snapshot_maps`, its arguments checked)."""
    table = assessment.table
    n = len(table)
    centre, stretch, located = _located(table)
    if not located.any():
        return [{} for _ in range(n)]
    paths = np.full(n, None, dtype=object)
    given = np.asarray(assessment.paths.array, dtype=object)[:n]
    paths[: len(given)] = given
    paths[~_valid(paths)] = None
    rings = [
        (radius, "; ".join(r.rotulo for r in group), group[0].cor)
        for radius, group in merged_rings(spec, assessment.rules.avaliacao)
    ]
    columns = [c for c in _PUBLIC_COLUMNS if c in sources.public.columns]
    run = _Run(
        sources=sources,
        spec=spec,
        text=_Text(_code_labels(sources)),
        own=_own_specs(sources, spec, np.flatnonzero(located)),
        centre=centre,
        centre_wgs=_wgs84(centre, assessment.crs, OWN_DECIMALS),
        stretch=stretch,
        paths=paths,
        rings=rings,
        largest=max((r for r, _, _ in rings), default=100.0),
        located=located,
        public=[
            {str(k): v for k, v in r.items()} for r in sources.public[columns].to_dict("records")
        ],
    )
    limits = _limits(run)
    catalog = _catalog_layers(run)
    chosen = {k: _positions(run, entry) for k, entry in catalog.items()}
    own = _own_layers(run)
    background = load_palette().mapa_web.fundo
    out: list[dict[str, Any]] = []
    for i in range(n):
        if not located[i]:
            out.append({})
            continue
        layers: list[dict[str, Any]] = []
        for k in range(len(spec.camadas)):
            made: dict[str, Any] | None = None
            if k in catalog:
                features = catalog[k].features(chosen[k][i])
                made = catalog[k].as_json(features) if features else None
            elif k in own:
                made = own[k](i)
            if made is not None:
                layers.append(made)
        point = run.centre_wgs[i]
        out.append(
            {
                "centro": [point.y, point.x],
                "limites": [limits[i, :2].tolist(), limits[i, 2:].tolist()],
                "fundo": background,
                "camadas": layers,
            }
        )
    return out
