"""Every non-road OpenStreetMap layer of the territory.

Facilities (``equipamentos`` and their footprints), buildings and address points
(``edificacoes``), the existing grid as mapped in OSM (``rede_osm``), street lamps
(``pontos_ip_osm``), urban land use (``area_urbana``), administrative
boundaries (``limite``) and neighbourhoods / rural localities (``bairros`` and
their areas ``bairros_area``); and, apart (:class:`OsmWater`), the water of the base
map: water areas (``agua``) and watercourses (``cursos_agua``).

Two sources feed the same classifier: a local OSM file read with pyosmium
(:func:`read_osm_features`, through :func:`~.osm_elements.read_elements`) and the
GeoDataFrame that ``osmnx.features_from_polygon(..., tags=feature_tags(catalog))``
returns (:func:`features_from_osmnx`). Both first build one frame of OSM elements (an
``osm_id`` such as ``"way/45"``, one column per tag, the element's geometry) and
:func:`~.osm_classify.classify` turns it into the nine layers. Every tag filter and
crosswalk comes from the layer catalog (``layers/*.toml``).

The water layers come from the same pass over the file (:func:`read_osm_layers`) or the
same osmnx download (:func:`territory_tags`, :func:`water_from_osmnx`); their OSM tags and
the Portuguese label of each (``tipo``) are the tables :data:`WATER_AREA_TAGS`,
:data:`WATER_KINDS` and :data:`WATERWAYS`, the one place that lists them.

Closed ways are polygons or lines by the rule osmnx applies to Overpass data (see
:mod:`~.osm_elements`), so both sources agree on the geometry of every element.
Multipolygon relations (a large lake, a river's banks) are polygons from both.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ip.errors import OsmError
from geo_ip.sources.catalog import Catalog
from geo_ip.sources.osm import check_osm_file
from geo_ip.sources.osm_classify import (
    ADDRESS_KEYS,
    CRS,
    IBGE_KEYS,
    LAMP_POWER_KEYS,
    LAMP_TYPE_KEYS,
    LIT_VALUES,
    OSM_ID,
    classify,
    first_tags,
    layer,
)
from geo_ip.sources.osm_elements import read_elements

__all__ = [
    "WATERWAYS",
    "WATER_AREA_TAGS",
    "WATER_KINDS",
    "WATER_SCHEMA",
    "OsmFeatures",
    "OsmWater",
    "classify_water",
    "feature_tags",
    "features_from_osmnx",
    "read_osm_features",
    "read_osm_layers",
    "territory_tags",
    "water_from_osmnx",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OsmFeatures:
    """The non-road OSM layers of a territory, all in EPSG:4326.

    Every layer has the columns of :data:`~.osm_classify.SCHEMAS` plus ``geometry``,
    even when empty.

    Attributes
    ----------
    equipamentos : geopandas.GeoDataFrame
        Facilities as points (areas and lines by an interior point).
    equipamentos_pegada : geopandas.GeoDataFrame
        Polygon footprints of the facilities mapped as areas.
    edificacoes : geopandas.GeoDataFrame
        Buildings (interior point) and address points.
    rede_osm : geopandas.GeoDataFrame
        Existing grid from OSM: lines (bt, mt, via_iluminada) and points (poste,
        transformador, ponto_ip).
    pontos_ip_osm : geopandas.GeoDataFrame
        Street lamps (``highway=street_lamp``).
    area_urbana : geopandas.GeoDataFrame
        Urban land-use polygons.
    limite : geopandas.GeoDataFrame
        Administrative boundary polygons (every ``admin_level``).
    bairros : geopandas.GeoDataFrame
        Named neighbourhoods and rural localities as points (a node, or an
        interior point of an area): ``place`` values and administrative levels
        from ``layers/bairros.toml``; ``tipo`` is the ``place`` value, or
        ``"limite_admin"`` for an administrative boundary without one.
    bairros_area : geopandas.GeoDataFrame
        Polygons of the ``bairros`` mapped as areas (same ``osm_id``).
    """

    equipamentos: gpd.GeoDataFrame
    equipamentos_pegada: gpd.GeoDataFrame
    edificacoes: gpd.GeoDataFrame
    rede_osm: gpd.GeoDataFrame
    pontos_ip_osm: gpd.GeoDataFrame
    area_urbana: gpd.GeoDataFrame
    limite: gpd.GeoDataFrame
    bairros: gpd.GeoDataFrame
    bairros_area: gpd.GeoDataFrame

    @classmethod
    def empty(cls) -> OsmFeatures:
        """Return features with every layer empty (but with its columns).

        Returns
        -------
        OsmFeatures
            Every layer empty.
        """
        return cls(**{f.name: layer(f.name, {}, []) for f in fields(cls)})

    def counts(self) -> dict[str, int]:
        """Return the number of rows of each layer.

        Returns
        -------
        dict of str to int
            Layer name → row count.
        """
        return {f.name: len(getattr(self, f.name)) for f in fields(self)}


# --------------------------------------------------------------------------- water

WATER_AREA_TAGS: dict[tuple[str, str], str] = {
    ("waterway", "riverbank"): "Rio",
    ("landuse", "reservoir"): "Represa",
    ("landuse", "basin"): "Bacia de retenção",
    ("natural", "water"): "Corpo d'água",
}
"""OSM tags of the ``agua`` polygons and the ``tipo`` of each, the first match winning
(unless ``water=*`` says more, :data:`WATER_KINDS`)."""

WATER_KINDS: dict[str, str] = {
    "lake": "Lago ou lagoa",
    "lagoon": "Lago ou lagoa",
    "oxbow": "Lago ou lagoa",
    "pond": "Lago ou lagoa",
    "river": "Rio",
    "stream": "Córrego",
    "canal": "Canal",
    "reservoir": "Represa",
    "basin": "Bacia de retenção",
}
"""``tipo`` of an ``agua`` polygon by its ``water=*`` value, which wins over the main tag
(``natural=water`` + ``water=lake`` is a "Lago ou lagoa")."""

WATERWAYS: dict[str, str] = {"river": "Rio", "stream": "Córrego", "canal": "Canal"}
"""``waterway=*`` values of the ``cursos_agua`` lines and the ``tipo`` of each."""

WATER_SCHEMA: dict[str, str] = {"osm_id": "object", "tipo": "object", "nome": "object"}
"""Columns and dtypes of ``agua`` and ``cursos_agua`` (plus ``geometry``)."""


def _water_layer(data: dict[str, Any], geometry: Any) -> gpd.GeoDataFrame:
    """Build a water layer with the columns of :data:`WATER_SCHEMA` (empty when no data)."""
    columns = {
        column: pd.Series(data.get(column, []), dtype=dtype).reset_index(drop=True)
        for column, dtype in WATER_SCHEMA.items()
    }
    geoms = gpd.GeoSeries(np.asarray(geometry, dtype=object), crs=CRS)
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=CRS)


@dataclass(frozen=True)
class OsmWater:
    """The water of a territory from OSM, in EPSG:4326: the base map draws it.

    Both layers have the columns ``osm_id``, ``tipo`` (a Portuguese label) and
    ``nome`` (OSM ``name``, None when absent) plus ``geometry``, even when empty.

    Attributes
    ----------
    agua : geopandas.GeoDataFrame
        Water areas (:data:`WATER_AREA_TAGS`): lakes, ponds, river areas, reservoirs,
        multipolygon relations included (a large lake is one polygon or multipolygon).
    cursos_agua : geopandas.GeoDataFrame
        Watercourses as lines (:data:`WATERWAYS`): rivers, streams, canals; one row
        per OSM way.
    """

    agua: gpd.GeoDataFrame
    cursos_agua: gpd.GeoDataFrame

    @classmethod
    def empty(cls) -> OsmWater:
        """Return both layers empty (but with their columns).

        Returns
        -------
        OsmWater
            No water.
        """
        return cls(agua=_water_layer({}, []), cursos_agua=_water_layer({}, []))

    def counts(self) -> dict[str, int]:
        """Return the number of rows of each layer.

        Returns
        -------
        dict of str to int
            ``agua`` and ``cursos_agua`` → row count.
        """
        return {f.name: len(getattr(self, f.name)) for f in fields(self)}


def _water_tags() -> dict[str, set[str]]:
    """Tag key → values of every water element (areas and lines)."""
    wanted: dict[str, set[str]] = {"waterway": set(WATERWAYS)}
    for key, value in WATER_AREA_TAGS:
        wanted.setdefault(key, set()).add(value)
    return wanted


def _column(frame: pd.DataFrame, key: str) -> pd.Series:
    """Tag column ``key`` as text (None when absent or empty)."""
    if key not in frame.columns:
        return pd.Series(None, index=frame.index, dtype=object)
    values = frame[key].astype(object)
    return values.where(values.notna() & (values != ""), None).astype(object)


def _single_parts(geoms: np.ndarray) -> np.ndarray:
    """One-part multipolygons as their polygon (osmium assembles every area as a multi)."""
    out = np.asarray(geoms, dtype=object).copy()
    single = (shapely.get_type_id(out) == 6) & (shapely.get_num_geometries(out) == 1)
    if single.any():
        out[single] = shapely.get_geometry(out[single], 0)
    return out


def classify_water(elements: gpd.GeoDataFrame) -> OsmWater:
    """Build the water layers from a frame of OSM elements (file or osmnx).

    Parameters
    ----------
    elements : geopandas.GeoDataFrame
        ``osm_id``, one column per tag and the element's geometry in EPSG:4326, as
        :func:`~.osm_classify.classify` takes it.

    Returns
    -------
    OsmWater
        Polygons of :data:`WATER_AREA_TAGS` in ``agua`` (their ``tipo`` from
        ``water=*`` when :data:`WATER_KINDS` knows it, else from the first tag
        matched); lines of :data:`WATERWAYS` in ``cursos_agua``.
    """
    if elements.empty:
        return OsmWater.empty()
    frame = elements.reset_index(drop=True)
    geoms = np.asarray(frame.geometry.array, dtype=object)
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    kinds = np.where(valid, shapely.get_type_id(geoms), -1)
    is_polygon = np.isin(kinds, (3, 6))
    is_line = np.isin(kinds, (1, 2, 5))
    tipo = pd.Series(None, index=frame.index, dtype=object)
    for (key, value), label in reversed(WATER_AREA_TAGS.items()):  # the first match wins
        tipo = tipo.mask(_column(frame, key) == value, label)
    is_area = tipo.notna().to_numpy() & is_polygon
    tipo = _column(frame, "water").map(WATER_KINDS).fillna(tipo)
    waterway = _column(frame, "waterway").map(WATERWAYS)
    is_course = waterway.notna().to_numpy() & is_line
    osm_id, name = frame[OSM_ID].astype(object), _column(frame, "name")
    return OsmWater(
        agua=_water_layer(
            {"osm_id": osm_id[is_area], "tipo": tipo[is_area], "nome": name[is_area]},
            _single_parts(geoms[is_area]),
        ),
        cursos_agua=_water_layer(
            {"osm_id": osm_id[is_course], "tipo": waterway[is_course], "nome": name[is_course]},
            geoms[is_course],
        ),
    )


# --------------------------------------------------------------------------- tags


def feature_tags(catalog: Catalog) -> dict[str, bool | str | list[str]]:
    """Return the osmnx ``tags`` query covering every element the classifier uses.

    osmnx returns the union of the tags; for a facility filter with several tags
    (``public_transport=platform`` + ``bus=yes``) its first tag is queried and
    the classifier checks the rest. The water (:class:`OsmWater`) is not in it:
    :func:`territory_tags` adds it.

    Parameters
    ----------
    catalog : Catalog
        The layer catalog.

    Returns
    -------
    dict
        Tag key → ``True`` (any value) or the list of wanted values.
    """
    return _tags(catalog, water=False)


def territory_tags(catalog: Catalog) -> dict[str, bool | str | list[str]]:
    """Return the osmnx ``tags`` query of a territory: :func:`feature_tags` and the water.

    Parameters
    ----------
    catalog : Catalog
        The layer catalog.

    Returns
    -------
    dict
        Tag key → ``True`` (any value) or the list of wanted values; the water's
        tags (:data:`WATER_AREA_TAGS`, :data:`WATERWAYS`) are added to those of
        :func:`feature_tags`.

    Examples
    --------
    >>> from geo_ip.sources.catalog import load_catalog
    >>> territory_tags(load_catalog())["waterway"]
    ['canal', 'river', 'riverbank', 'stream']
    """
    return _tags(catalog, water=True)


def _tags(catalog: Catalog, *, water: bool) -> dict[str, bool | str | list[str]]:
    """Return the osmnx ``tags`` of the layers, with or without the water."""
    wanted: dict[str, set[str] | None] = {}  # None: any value

    def add(key: str, values: Iterable[str] | None) -> None:
        if values is None or wanted.get(key, set()) is None:
            wanted[key] = None
            return
        current = wanted.setdefault(key, set())
        assert current is not None
        current.update(values)

    for key, value in first_tags(catalog):
        add(key, None if value == "*" else [value])
    osm = catalog.rede_existente.osm
    add("power", [*osm.linhas, *osm.pontos])
    add("highway", ["street_lamp"])
    add("lit", LIT_VALUES)
    add("building", None)
    add("addr:housenumber", None)
    add("landuse", catalog.vias.area_urbana.landuse)
    add("boundary", ["administrative"])
    add("place", catalog.bairros.place)
    if water:
        for key, values in _water_tags().items():
            add(key, values)
    return {key: True if values is None else sorted(values) for key, values in wanted.items()}


def _kept_keys(catalog: Catalog, *, water: bool = False) -> frozenset[str]:
    """Every tag key the classifier reads (the others are not stored)."""
    keys = set(catalog.equipamentos.tag_keys) | set(_tags(catalog, water=water))
    keys |= {"name", "voltage", "admin_level", "area"}
    keys |= {*LAMP_POWER_KEYS, *LAMP_TYPE_KEYS, *IBGE_KEYS}
    keys |= {key for keys_ in ADDRESS_KEYS.values() for key in keys_}
    if water:
        keys.add("water")
    return frozenset(keys)


# --------------------------------------------------------------------------- file


def read_osm_features(path: str | Path, catalog: Catalog) -> OsmFeatures:
    """Read the non-road layers of a local OSM file.

    Parameters
    ----------
    path : str or Path
        ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.pbf`` / ``.osm.pbf`` file.
    catalog : Catalog
        The layer catalog (facility filters, OSM power mapping, urban land use).

    Returns
    -------
    OsmFeatures
        The layers in EPSG:4326; see :class:`OsmFeatures`.

    Raises
    ------
    OsmError
        If the file is missing, empty, not OSM or truncated.
    """
    return _read(path, catalog, water=False)[0]


def read_osm_layers(path: str | Path, catalog: Catalog) -> tuple[OsmFeatures, OsmWater]:
    """Read the non-road layers and the water of a local OSM file, in one pass.

    Parameters
    ----------
    path : str or Path
        ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.pbf`` / ``.osm.pbf`` file.
    catalog : Catalog
        The layer catalog (facility filters, OSM power mapping, urban land use).

    Returns
    -------
    features : OsmFeatures
        The layers of :func:`read_osm_features`, the same.
    water : OsmWater
        ``agua`` and ``cursos_agua`` in EPSG:4326.

    Raises
    ------
    OsmError
        If the file is missing, empty, not OSM or truncated.
    """
    features, water = _read(path, catalog, water=True)
    assert water is not None
    return features, water


def _read(
    path: str | Path, catalog: Catalog, *, water: bool
) -> tuple[OsmFeatures, OsmWater | None]:
    """Read the layers of a file, and its water when ``water`` (else None)."""
    path = check_osm_file(path)
    start = time.perf_counter()
    try:
        elements = read_elements(
            path, _kept_keys(catalog, water=water), _tags(catalog, water=water)
        )
    except RuntimeError as exc:
        raise OsmError(
            f"não é um arquivo OSM válido ou está truncado (detalhe: {exc})", path=path
        ) from exc
    features = OsmFeatures(**classify(elements, catalog))
    found = classify_water(elements) if water else None
    counts = features.counts() | (found.counts() if found is not None else {})
    log.info(
        "%s: %s em %.1f s",
        path,
        ", ".join(f"{name} {count}" for name, count in counts.items()),
        time.perf_counter() - start,
    )
    return features, found


# --------------------------------------------------------------------------- osmnx


def features_from_osmnx(gdf: gpd.GeoDataFrame, catalog: Catalog) -> OsmFeatures:
    """Classify the features osmnx downloaded into the non-road layers.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        As returned by ``osmnx.features_from_polygon(poly, tags=feature_tags(catalog))``:
        MultiIndex ``(element, id)``, one column per tag, ``geometry``. An empty
        frame (any index) gives empty layers.
    catalog : Catalog
        The layer catalog.

    Returns
    -------
    OsmFeatures
        The layers in EPSG:4326, exactly as :func:`read_osm_features` builds
        them from a file with the same data.

    Raises
    ------
    OsmError
        If a non-empty frame lacks the ``(element, id)`` index.
    """
    if gdf.empty:
        return OsmFeatures.empty()
    return OsmFeatures(**classify(_osmnx_elements(gdf, _kept_keys(catalog)), catalog))


def water_from_osmnx(gdf: gpd.GeoDataFrame, catalog: Catalog) -> OsmWater:
    """Classify the features osmnx downloaded into the water layers.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        As returned by ``osmnx.features_from_polygon(poly, tags=territory_tags(catalog))``
        (see :func:`features_from_osmnx`). An empty frame gives empty layers.
    catalog : Catalog
        The layer catalog.

    Returns
    -------
    OsmWater
        ``agua`` and ``cursos_agua`` in EPSG:4326, exactly as :func:`read_osm_layers`
        builds them from a file with the same data.

    Raises
    ------
    OsmError
        If a non-empty frame lacks the ``(element, id)`` index.
    """
    if gdf.empty:
        return OsmWater.empty()
    return classify_water(_osmnx_elements(gdf, _kept_keys(catalog, water=True)))


def _osmnx_elements(gdf: gpd.GeoDataFrame, kept: frozenset[str]) -> gpd.GeoDataFrame:
    """Return the classifiers' element frame of an osmnx download (columns ``kept``)."""
    names = list(gdf.index.names)
    if "element" not in names or "id" not in names:
        raise OsmError(
            f"feições do OSM sem o índice (element, id) do osmnx; índice recebido: {names}"
        )
    element = gdf.index.get_level_values("element").astype(str)
    osm_id = element + "/" + gdf.index.get_level_values("id").astype(str)
    keep = sorted(kept & set(gdf.columns))
    frame = pd.DataFrame(gdf[keep].to_numpy(dtype=object), columns=keep)
    frame.insert(0, OSM_ID, np.asarray(osm_id, dtype=object))
    geometry = gdf.geometry if gdf.crs is None else gdf.geometry.to_crs(CRS)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry.to_numpy(), crs=CRS))
