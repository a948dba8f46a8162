"""Every non-road OpenStreetMap layer of the territory.

Facilities (``equipamentos`` and their footprints), buildings and address points
(``edificacoes``), the existing grid as mapped in OSM (``rede_osm``), street lamps
(``pontos_ip_osm``), urban land use (``area_urbana``), administrative
boundaries (``limite``) and neighbourhoods / rural localities (``bairros`` and
their areas ``bairros_area``).

Two sources feed the same classifier: a local OSM file read with pyosmium
(:func:`read_osm_features`, through :func:`~.osm_elements.read_elements`) and the
GeoDataFrame that ``osmnx.features_from_polygon(..., tags=feature_tags(catalog))``
returns (:func:`features_from_osmnx`). Both first build one frame of OSM elements (an
``osm_id`` such as ``"way/45"``, one column per tag, the element's geometry) and
:func:`~.osm_classify.classify` turns it into the nine layers. Every tag filter and
crosswalk comes from the layer catalog (``layers/*.toml``).

Closed ways are polygons or lines by the rule osmnx applies to Overpass data (see
:mod:`~.osm_elements`), so both sources agree on the geometry of every element.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

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

__all__ = ["OsmFeatures", "feature_tags", "features_from_osmnx", "read_osm_features"]

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


# --------------------------------------------------------------------------- tags


def feature_tags(catalog: Catalog) -> dict[str, bool | str | list[str]]:
    """Return the osmnx ``tags`` query covering every element the classifier uses.

    osmnx returns the union of the tags; for a facility filter with several tags
    (``public_transport=platform`` + ``bus=yes``) its first tag is queried and
    the classifier checks the rest.

    Parameters
    ----------
    catalog : Catalog
        The layer catalog.

    Returns
    -------
    dict
        Tag key → ``True`` (any value) or the list of wanted values.
    """
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
    return {key: True if values is None else sorted(values) for key, values in wanted.items()}


def _kept_keys(catalog: Catalog) -> frozenset[str]:
    """Every tag key the classifier reads (the others are not stored)."""
    keys = set(catalog.equipamentos.tag_keys) | set(feature_tags(catalog))
    keys |= {"name", "voltage", "admin_level", "area"}
    keys |= {*LAMP_POWER_KEYS, *LAMP_TYPE_KEYS, *IBGE_KEYS}
    keys |= {key for keys_ in ADDRESS_KEYS.values() for key in keys_}
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
    path = check_osm_file(path)
    start = time.perf_counter()
    try:
        elements = read_elements(path, _kept_keys(catalog), feature_tags(catalog))
    except RuntimeError as exc:
        raise OsmError(
            f"não é um arquivo OSM válido ou está truncado (detalhe: {exc})", path=path
        ) from exc
    features = OsmFeatures(**classify(elements, catalog))
    log.info(
        "%s: %s em %.1f s",
        path,
        ", ".join(f"{name} {count}" for name, count in features.counts().items()),
        time.perf_counter() - start,
    )
    return features


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
    names = list(gdf.index.names)
    if "element" not in names or "id" not in names:
        raise OsmError(
            f"feições do OSM sem o índice (element, id) do osmnx; índice recebido: {names}"
        )
    element = gdf.index.get_level_values("element").astype(str)
    osm_id = element + "/" + gdf.index.get_level_values("id").astype(str)
    keep = sorted(_kept_keys(catalog) & set(gdf.columns))
    frame = pd.DataFrame(gdf[keep].to_numpy(dtype=object), columns=keep)
    frame.insert(0, OSM_ID, np.asarray(osm_id, dtype=object))
    geometry = gdf.geometry if gdf.crs is None else gdf.geometry.to_crs(CRS)
    elements = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry.to_numpy(), crs=CRS))
    return OsmFeatures(**classify(elements, catalog))
