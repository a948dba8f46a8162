"""JavaScript and CSS of the web maps, shipped with geo_ip: no CDN, works offline.

Folium points every map at CDNs (Leaflet, jQuery, Bootstrap, Font Awesome, the
plugins). :func:`localise` replaces each link of a built map by a relative path into
the ``assets/`` folder that :func:`copy_assets` writes next to the HTML files, and
drops the libraries the maps do not use (jQuery, Bootstrap, glyphicons, Leaflet
awesome-markers): the markers are drawn by ``geo_ip/mapa.js`` with plain Leaflet and
the Font Awesome solid font. A link with no local copy is an error, never a silent
CDN fallback. The vendored files, their versions and licences are listed in
``geo_ip/_assets/web/LEIAME.md``.

:func:`localise` also puts the :data:`CONTENT_SECURITY_POLICY` ``<meta>`` first in the
page's ``<head>`` (issue 17): no inline event handler (``onerror=``, ``onclick=``...)
ever runs, nothing is embedded (``object``, ``frame``), no ``<base>`` redirects the
links and nothing is sent anywhere; images may come from the disk, ``data:`` URLs and
``https:`` (the OpenStreetMap tiles). Folium writes each map's code in inline
``<script>`` blocks, so ``script-src`` must allow them (``'unsafe-inline'``), and the
vendored leaflet-measure compiles its templates at load time (``'unsafe-eval'``).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from html import escape
from pathlib import Path
from typing import Any

from branca.element import Element
from folium.elements import JSCSSMixin

from geo_ip.errors import GeoIPError

__all__ = [
    "ASSETS_DIR",
    "ASSET_FOLDER",
    "CONTENT_SECURITY_POLICY",
    "copy_assets",
    "localise",
    "remote_links",
]

ASSETS_DIR = Path(__file__).resolve().parents[2] / "_assets" / "web"
"""The vendored files (inside the package, so they ship in the wheel)."""
ASSET_FOLDER = "assets"
"""Name of the folder written next to ``mapa.html``."""

_LOCAL: dict[str, str | None] = {
    # folium.Map
    "leaflet": "leaflet/leaflet.js",
    "leaflet_css": "leaflet/leaflet.css",
    "jquery": None,
    "bootstrap": None,
    "bootstrap_css": None,
    "glyphicons_css": None,
    "awesome_markers": None,
    "awesome_markers_css": None,
    "awesome_rotate_css": None,
    "awesome_markers_font_css": "fontawesome/css/fontawesome.min.css",
    # folium.plugins.MarkerCluster / FastMarkerCluster
    "markerclusterjs": "leaflet.markercluster/leaflet.markercluster.js",
    "markerclustercss": "leaflet.markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "leaflet.markercluster/MarkerCluster.Default.css",
    # folium.plugins.Fullscreen
    "Control.Fullscreen.js": "leaflet.fullscreen/Control.FullScreen.js",
    "Control.FullScreen.css": "leaflet.fullscreen/Control.FullScreen.css",
    # folium.plugins.MeasureControl
    "leaflet_measure_js": "leaflet-measure/leaflet-measure.min.js",
    "leaflet_measure_css": "leaflet-measure/leaflet-measure.css",
    # folium.plugins.Search
    "Leaflet.Search.js": "leaflet-search/leaflet-search.min.js",
    "Leaflet.Search.css": "leaflet-search/css/leaflet-search.min.css",
}
"""Folium's link name → vendored file (None: not needed, dropped)."""

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        # folium's inline <script> blocks; leaflet-measure compiles its templates with
        # lodash (new Function) when loaded
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "script-src-attr 'none'",  # never an inline event handler (onerror=...)
        "style-src 'self' 'unsafe-inline'",  # folium's <style> blocks, Leaflet's styles
        "img-src 'self' data: https:",  # the OpenStreetMap tiles
        "font-src 'self' data:",
        "connect-src 'none'",
        "object-src 'none'",
        "frame-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    )
)
"""Content-Security-Policy of every web map (a ``<meta>`` tag: a file has no headers)."""

EXTRA_JS = ("geo_ip/mapa.js",)
"""geo_ip's own script, after the libraries."""
EXTRA_CSS = ("fontawesome/css/solid.min.css", "geo_ip/mapa.css")
"""Font Awesome's solid font face and geo_ip's own styles."""

_REMOTE = re.compile(
    r"<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*[\"']?((?:https?:)?//[^\"'\s>]+)", re.I
)


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def _local(name: str, url: str, prefix: str) -> str | None:
    if name not in _LOCAL:
        raise GeoIPError(
            f"recurso web sem cópia local ({name}: {url}); acrescente-o a geo_ip/_assets/web "
            "e a geo_ip/outputs/web/assets.py"
        )
    target = _LOCAL[name]
    return None if target is None else f"{prefix}{target}"


def localise(root: Element, prefix: str) -> None:
    """Point every script and stylesheet of a folium map at the local copies.

    The links of every element (``default_js`` and ``default_css``) are collected,
    mapped to the vendored files (libraries the maps do not use are dropped) and
    written once, in order and without repeats, at the top of the page's ``<head>``,
    after the :data:`CONTENT_SECURITY_POLICY` ``<meta>``; the elements' own lists are
    emptied so that folium adds no CDN link. Must be
    called once, after the map is complete and before it is rendered.

    Parameters
    ----------
    root : branca.element.Element
        The map (its figure receives the links).
    prefix : str
        Relative URL of the assets folder from the HTML file, ending in ``/``
        (``"assets/"`` or ``"../assets/"``).

    Raises
    ------
    GeoIPError
        When an element links a file that has no local copy.
    """
    scripts: list[str] = []
    styles: list[str] = []
    for element in _walk(root.get_root()):
        if not isinstance(element, JSCSSMixin) and not hasattr(element, "default_js"):
            continue
        links: Any = element
        for names, out in ((links.default_js, scripts), (links.default_css, styles)):
            for name, url in names:
                local = _local(name, url, prefix)
                if local is not None and local not in out:
                    out.append(local)
        links.default_js = []
        links.default_css = []
    scripts += [f"{prefix}{p}" for p in EXTRA_JS]
    styles += [f"{prefix}{p}" for p in EXTRA_CSS]
    tags = [f'<script src="{escape(u)}"></script>' for u in scripts]
    tags += [f'<link rel="stylesheet" href="{escape(u)}"/>' for u in styles]
    figure = root.get_root()
    header = getattr(figure, "header", None)
    if header is None:
        raise GeoIPError("mapa sem página (figure) para receber os recursos locais")
    header.add_child(Element("\n".join(tags)), name="geo_ip_recursos", index=0)
    policy = f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}"/>'
    header.add_child(Element(policy), name="geo_ip_csp", index=0)  # before any script


def remote_links(html: str) -> list[str]:
    """Return the URLs of scripts and stylesheets that a page loads from the network.

    Parameters
    ----------
    html : str
        A rendered page.

    Returns
    -------
    list of str
        ``http(s)://`` or protocol-relative ``src``/``href`` of ``<script>`` and
        ``<link>`` tags; empty for a map that works offline.
    """
    return _REMOTE.findall(html)


def copy_assets(out_dir: Path) -> Path:
    """Copy the vendored scripts, styles, images, fonts and licences into ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        Folder of ``mapa.html``; the files go to ``out_dir / "assets"``.

    Returns
    -------
    Path
        The assets folder.
    """
    target = out_dir / ASSET_FOLDER
    shutil.copytree(ASSETS_DIR, target, dirs_exist_ok=True)
    return target
