"""Every non-road OpenStreetMap layer of the territory.

Facilities (``equipamentos`` and their footprints), buildings and address points
(``edificacoes``), the existing grid as mapped in OSM (``rede_osm``), street lamps
(``pontos_ip_osm``), urban land use (``area_urbana``), administrative
boundaries (``limite``) and neighbourhoods / rural localities (``bairros`` and
their areas ``bairros_area``).

Two sources feed the same classifier: a local OSM file read with pyosmium
(:func:`read_osm_features`) and the GeoDataFrame that
``osmnx.features_from_polygon(..., tags=feature_tags(catalog))`` returns
(:func:`features_from_osmnx`). Both first build one frame of OSM elements (an
``osm_id`` such as ``"way/45"``, one column per tag, the element's geometry) and
:func:`_classify` turns it into the nine layers. Every tag filter and crosswalk
comes from the layer catalog (``layers/*.toml``).

Closed ways are polygons or lines by the rule osmnx applies to Overpass data
(``_POLYGON_FEATURES`` in ``osmnx.features``, itself from the OSM wiki page
"Overpass turbo/Polygon Features"), so both sources agree on the geometry of
every element.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import osmium
import osmium.filter
import pandas as pd
import shapely

from geo_ip.errors import OsmError
from geo_ip.sources.catalog import Catalog
from geo_ip.sources.osm import check_osm_file, tag_dict

log = logging.getLogger(__name__)

CRS = "EPSG:4326"

LIT_VALUES: tuple[str, ...] = (
    "yes",
    "24/7",
    "automatic",
    "limited",
    "interval",
    "sunset-sunrise",
    "dusk-dawn",
)
"""Values of ``lit`` meaning the way is lit at night (compared lower-cased)."""

LAMP_POWER_KEYS: tuple[str, ...] = ("lamp_power", "light:power", "power")
"""Tags read, in this order, for a street lamp's power (W; ``"150 W"``, ``"0.15 kW"``)."""

LAMP_TYPE_KEYS: tuple[str, ...] = ("lamp_type", "light:method", "light_source")
"""Tags read, in this order, for a street lamp's lamp type."""

IBGE_KEYS: tuple[str, ...] = ("IBGE:GEOCODIGO", "ref:IBGE")
"""Tags holding a boundary's IBGE code; Brazilian municipalities use ``IBGE:GEOCODIGO``."""

ADDRESS_KEYS: dict[str, tuple[str, ...]] = {
    "logradouro": ("addr:street",),
    "numero": ("addr:housenumber",),
    "bairro": ("addr:suburb", "addr:neighbourhood"),
    "cep": ("addr:postcode",),
}
"""Address columns of ``edificacoes`` and the tags they come from (first present wins)."""

# Closed ways are polygons when one of these tags says so (osmnx 2.x rule, see the
# module docstring): "all" values, only the "passlist" values, or all but "blocklist".
_POLYGON_FEATURES: dict[str, tuple[str, frozenset[str]]] = {
    "aeroway": ("blocklist", frozenset({"taxiway"})),
    "amenity": ("all", frozenset()),
    "area": ("all", frozenset()),
    "area:highway": ("all", frozenset()),
    "barrier": (
        "passlist",
        frozenset({"city_wall", "ditch", "hedge", "retaining_wall", "spikes"}),
    ),
    "boundary": ("all", frozenset()),
    "building": ("all", frozenset()),
    "building:part": ("all", frozenset()),
    "craft": ("all", frozenset()),
    "golf": ("all", frozenset()),
    "highway": ("passlist", frozenset({"elevator", "escape", "rest_area", "services"})),
    "historic": ("all", frozenset()),
    "indoor": ("all", frozenset()),
    "landuse": ("all", frozenset()),
    "leisure": ("all", frozenset()),
    "man_made": ("blocklist", frozenset({"cutline", "embankment", "pipeline"})),
    "military": ("all", frozenset()),
    "natural": ("blocklist", frozenset({"arete", "cliff", "coastline", "ridge", "tree_row"})),
    "office": ("all", frozenset()),
    "place": ("all", frozenset()),
    "power": ("passlist", frozenset({"generator", "plant", "substation", "transformer"})),
    "public_transport": ("all", frozenset()),
    "railway": ("passlist", frozenset({"platform", "roundhouse", "station", "turntable"})),
    "ruins": ("all", frozenset()),
    "shop": ("all", frozenset()),
    "tourism": ("all", frozenset()),
    "waterway": ("passlist", frozenset({"boatyard", "dam", "dock", "riverbank"})),
}

# Layer schemas: column -> pandas dtype (geometry is added to each).
SCHEMAS: dict[str, dict[str, str]] = {
    "equipamentos": {
        "osm_id": "object",
        "categoria": "object",
        "grupo": "object",
        "vulneravel": "bool",
        "nome": "object",
    },
    "equipamentos_pegada": {"osm_id": "object", "categoria": "object", "nome": "object"},
    "edificacoes": {
        "osm_id": "object",
        "tipo": "object",
        "logradouro": "object",
        "numero": "object",
        "bairro": "object",
        "cep": "object",
    },
    "rede_osm": {
        "fonte": "object",
        "tipo": "object",
        "id_origem": "object",
        "tensao_v": "float64",
    },
    "pontos_ip_osm": {
        "fonte": "object",
        "id_origem": "object",
        "potencia_w": "float64",
        "tipo_lampada": "object",
    },
    "area_urbana": {"osm_id": "object", "landuse": "object"},
    "limite": {
        "osm_id": "object",
        "nome": "object",
        "admin_level": "Int64",
        "codigo_ibge": "object",
    },
    "bairros": {"osm_id": "object", "nome": "object", "tipo": "object"},
    "bairros_area": {"osm_id": "object", "nome": "object", "tipo": "object"},
}
"""Columns and dtypes of each layer of :class:`OsmFeatures` (plus ``geometry``)."""

_OSM_ID = "osm_id"
_POINT, _LINES, _POLYGONS = (0,), (1, 2, 5), (3, 6)  # shapely type ids


@dataclass(frozen=True)
class OsmFeatures:
    """The non-road OSM layers of a territory, all in EPSG:4326.

    Every layer has the columns of :data:`SCHEMAS` plus ``geometry``, even when
    empty.

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
        return cls(**{f.name: _layer(f.name, {}, []) for f in fields(cls)})

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

    for key, value in _first_tags(catalog):
        add(key, None if value == "*" else [value])
    osm = catalog.rede_existente.osm
    add("power", [*osm.linhas, *osm.pontos])
    add("highway", ["street_lamp"])
    add("lit", LIT_VALUES)
    add("building", None)
    add("addr:housenumber", None)
    add("landuse", catalog.vias.rural.landuse_urbano)
    add("boundary", ["administrative"])
    add("place", catalog.bairros.place)
    return {key: True if values is None else sorted(values) for key, values in wanted.items()}


def _first_tags(catalog: Catalog) -> list[tuple[str, str]]:
    """Return the first tag of each facility filter: an element must have one of them."""
    return [
        next(iter(tag_filter.items()))
        for category in catalog.equipamentos.categorias.values()
        for tag_filter in category.filtros
    ]


def _kept_keys(catalog: Catalog) -> frozenset[str]:
    """Every tag key the classifier reads (the others are not stored)."""
    keys = set(catalog.equipamentos.tag_keys) | set(feature_tags(catalog))
    keys |= {"name", "voltage", "admin_level", "area"}
    keys |= {*LAMP_POWER_KEYS, *LAMP_TYPE_KEYS, *IBGE_KEYS}
    keys |= {key for keys_ in ADDRESS_KEYS.values() for key in keys_}
    return frozenset(keys)


def _is_polygon(tags: Mapping[str, str] | osmium.osm.TagList) -> bool:
    """Whether a closed way with these tags is an area (osmnx rule)."""
    if tags.get("area") == "no":
        return False
    for key, (rule, values) in _POLYGON_FEATURES.items():
        value = tags.get(key)
        if value is None:
            continue
        if rule == "all" or (rule == "passlist") == (value in values):
            return True
    return False


def _wanted_way(
    tags: osmium.osm.TagList, any_value: list[str], some_values: Mapping[str, frozenset[str]]
) -> bool:
    """Whether a way has a key of ``any_value`` or a tag of ``some_values``."""
    for key in any_value:
        if key in tags:
            return True
    return any(tags.get(key) in values for key, values in some_values.items())


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
        elements = _read_elements(path, catalog)
    except RuntimeError as exc:
        raise OsmError(
            f"não é um arquivo OSM válido ou está truncado (detalhe: {exc})", path=path
        ) from exc
    features = _classify(elements, catalog)
    log.info(
        "%s: %s em %.1f s",
        path,
        ", ".join(f"{name} {count}" for name, count in features.counts().items()),
        time.perf_counter() - start,
    )
    return features


def _read_elements(path: Path, catalog: Catalog) -> gpd.GeoDataFrame:
    """Read the tagged elements the classifier may use, one row per element.

    Closed ways that are areas (:func:`_is_polygon`) and multipolygon / boundary
    relations come from osmium's area assembly; other ways are linestrings.
    """
    keep = _kept_keys(catalog)
    wanted = feature_tags(catalog)
    prefilter = list(wanted)
    # a way passes when one of these keys is present, or one of these tags (the
    # C++ key filter lets every road through for ``highway=street_lamp``)
    any_value = [key for key, values in wanted.items() if values is True or key == "lit"]
    some_values = {
        key: frozenset(values)
        for key, values in wanted.items()
        if key not in any_value and isinstance(values, list)
    }
    factory = osmium.geom.WKBFactory()
    ids: list[str] = []
    tags: list[dict[str, str]] = []
    wkbs: list[str | None] = []  # None: a node, its point built from lon / lat below
    node_rows: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    # closed area-ways waiting for their osmium area: way id -> (tags, linestring wkb)
    pending: dict[int, tuple[dict[str, str], str]] = {}
    area_relations: set[int] = set()  # multipolygon / boundary relations read
    assembled: set[int] = set()  # relations osmium assembled as areas
    area_ways: set[int] = set()  # closed ways osmium assembled as areas
    skipped = 0

    processor = (
        osmium.FileProcessor(path)
        .with_locations()
        .with_areas(osmium.filter.KeyFilter(*prefilter))
        .with_filter(osmium.filter.KeyFilter(*prefilter))
    )
    for obj in processor:
        try:
            if isinstance(obj, osmium.osm.Node):
                location = obj.location
                if not location.valid():
                    raise osmium.InvalidLocationError("invalid location")
                osm_id, wkb = f"node/{obj.id}", None
                node_rows.append(len(ids))
                lons.append(location.lon)
                lats.append(location.lat)
            elif isinstance(obj, osmium.osm.Way):
                if not _wanted_way(obj.tags, any_value, some_values):
                    continue  # a road without any tag the layers use
                osm_id, wkb = f"way/{obj.id}", factory.create_linestring(obj)
                if obj.is_closed() and _is_polygon(obj.tags):
                    pending[obj.id] = (tag_dict(obj.tags, keep), wkb)
                    continue  # taken as the area osmium assembles from it
            elif isinstance(obj, osmium.osm.Area):
                from_way = obj.from_way()
                if from_way and not _is_polygon(obj.tags):
                    continue  # a closed way that is a line: taken as the way
                wkb = factory.create_multipolygon(obj)
                (area_ways if from_way else assembled).add(obj.orig_id())
                osm_id = f"{'way' if from_way else 'relation'}/{obj.orig_id()}"
            else:
                if isinstance(obj, osmium.osm.Relation) and obj.tags.get("type") in (
                    "multipolygon",
                    "boundary",
                ):
                    area_relations.add(obj.id)
                continue
        except (osmium.InvalidLocationError, RuntimeError):
            # an area that fails is repaired from its way's ring (below) or counted
            # among the relations that could not be assembled
            skipped += not isinstance(obj, osmium.osm.Area)
            continue
        ids.append(osm_id)
        tags.append(tag_dict(obj.tags, keep))
        wkbs.append(wkb)

    geometries = np.empty(len(wkbs), dtype=object)
    is_node = np.zeros(len(wkbs), dtype=bool)
    if node_rows:
        is_node[node_rows] = True
        geometries[is_node] = shapely.points(
            np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)
        )
    if not is_node.all():
        geometries[~is_node] = shapely.from_wkb([w for w in wkbs if w is not None])
    for way_id in area_ways:
        pending.pop(way_id, None)
    if pending:
        # osmium could not assemble these rings (self-intersections...): repair them
        rings = shapely.from_wkb([wkb for _, wkb in pending.values()])
        repaired = shapely.make_valid(shapely.build_area(shapely.node(rings)))
        good = ~shapely.is_empty(repaired)
        ids += [f"way/{way_id}" for way_id, ok in zip(pending, good, strict=True) if ok]
        tags += [t for (t, _), ok in zip(pending.values(), good, strict=True) if ok]
        geometries = np.concatenate([geometries, repaired[good]])
        skipped += int((~good).sum())
    if skipped:
        log.warning("%s: %d elementos OSM sem geometria válida foram ignorados", path, skipped)
    if missing := len(area_relations - assembled):
        log.warning(
            "%s: %d relações OSM (multipolígonos ou limites) não puderam ser montadas como "
            "áreas, em geral por membros fora do recorte do arquivo",
            path,
            missing,
        )
    frame = pd.DataFrame.from_records(tags, columns=sorted(keep))
    frame.insert(0, _OSM_ID, ids)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometries, crs=CRS))


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
    frame.insert(0, _OSM_ID, np.asarray(osm_id, dtype=object))
    geometry = gdf.geometry if gdf.crs is None else gdf.geometry.to_crs(CRS)
    return _classify(
        gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry.to_numpy(), crs=CRS)),
        catalog,
    )


# --------------------------------------------------------------------------- classifier


def _layer(name: str, data: Mapping[str, Any], geometry: Any) -> gpd.GeoDataFrame:
    """Build a layer with its schema's columns and dtypes (empty when no data)."""
    geoms = np.asarray(geometry, dtype=object)
    columns = {
        column: pd.Series(data.get(column, []), dtype=dtype).reset_index(drop=True)
        for column, dtype in SCHEMAS[name].items()
    }
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries(geoms, crs=CRS), crs=CRS)


def _text(frame: pd.DataFrame, *keys: str) -> pd.Series:
    """First non-empty string among tag columns ``keys`` (None when absent)."""
    result = pd.Series(None, index=frame.index, dtype=object)
    for key in keys:
        if key in frame.columns:
            values = frame[key].astype(object)
            values = values.where(values.notna() & (values != ""), None)
            result = result.where(result.notna(), values)
    return result.astype(object).where(result.notna(), None)


def _as_points(geoms: np.ndarray) -> np.ndarray:
    """Points as they are, polygons by an interior point, lines by their middle."""
    kinds = shapely.get_type_id(geoms)
    out = np.asarray(geoms, dtype=object).copy()
    lines = np.isin(kinds, _LINES)
    if lines.any():
        out[lines] = shapely.line_interpolate_point(geoms[lines], 0.5, normalized=True)
    other = ~lines & ~np.isin(kinds, _POINT)
    if other.any():
        out[other] = shapely.point_on_surface(geoms[other])
    return out


def _single_parts(geoms: np.ndarray) -> np.ndarray:
    """Turn one-part multi-geometries into their single part (osmium builds multis)."""
    out = np.asarray(geoms, dtype=object).copy()
    single = (shapely.get_type_id(out) == 6) & (shapely.get_num_geometries(out) == 1)
    if single.any():
        out[single] = shapely.get_geometry(out[single], 0)
    return out


def _voltage(values: pd.Series) -> pd.Series:
    """Largest number of a ``voltage`` value such as ``"13800;220"`` (NaN if none)."""
    parts = values.astype(object).where(values.notna(), None).str.split(";").explode()
    numbers = pd.to_numeric(parts.str.strip(), errors="coerce")
    return numbers.groupby(level=0).max().reindex(values.index).astype("float64")


def _watts(values: pd.Series) -> pd.Series:
    """Power in W from values such as ``"150"``, ``"150 W"``, ``"0,15 kW"`` (NaN if not)."""
    text = values.astype(object).where(values.notna(), None).astype("string")
    parts = text.str.strip().str.extract(r"^(\d+(?:[.,]\d+)?)\s*([kK]?[wW])?$")
    number = pd.to_numeric(parts[0].str.replace(",", ".", regex=False), errors="coerce")
    factor = np.where(parts[1].str.lower().fillna("w") == "kw", 1000.0, 1.0)
    return (number.astype("float64") * factor).astype("float64")


def _classify(frame: gpd.GeoDataFrame, catalog: Catalog) -> OsmFeatures:
    """Build every layer from one frame of OSM elements (the single classifier).

    ``frame`` has ``osm_id``, one column per tag (str, or None/NaN when absent)
    and the element's geometry in EPSG:4326.
    """
    if frame.empty:
        return OsmFeatures.empty()
    frame = frame.reset_index(drop=True)
    geoms = np.asarray(frame.geometry.array, dtype=object)
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not valid.all():
        frame, geoms = frame.loc[valid].reset_index(drop=True), geoms[valid]
    kinds = shapely.get_type_id(geoms)
    is_line, is_polygon = np.isin(kinds, _LINES), np.isin(kinds, _POLYGONS)
    osm_id = frame[_OSM_ID].astype(object)
    name = _text(frame, "name")
    highway = _text(frame, "highway")
    power = _text(frame, "power")
    voltage = _voltage(_text(frame, "voltage"))

    # facilities: the catalog decides, on the tags its filters use
    facilities = catalog.equipamentos
    keys = sorted(facilities.tag_keys & set(frame.columns))
    subset = frame[keys].astype(object)
    candidate = np.zeros(len(frame), dtype=bool)  # some filter's first tag matches
    for key, value in _first_tags(catalog):
        if key in subset.columns:
            column = subset[key]
            candidate |= (column.notna() if value == "*" else column == value).to_numpy()
    categoria = np.full(len(frame), None, dtype=object)
    records = subset.loc[candidate].to_dict("records")
    categoria[candidate] = [
        facilities.category_of({k: v for k, v in tags.items() if isinstance(v, str)})
        for tags in records
    ]
    is_facility = pd.notna(categoria)
    cats = categoria[is_facility]
    equipamentos = _layer(
        "equipamentos",
        {
            "osm_id": osm_id[is_facility],
            "categoria": cats,
            "grupo": [facilities.categorias[c].grupo for c in cats],
            "vulneravel": [facilities.categorias[c].vulneravel for c in cats],
            "nome": name[is_facility],
        },
        _as_points(geoms[is_facility]),
    )
    footprint = is_facility & is_polygon
    equipamentos_pegada = _layer(
        "equipamentos_pegada",
        {"osm_id": osm_id[footprint], "categoria": categoria[footprint], "nome": name[footprint]},
        _single_parts(geoms[footprint]),
    )

    # buildings and address points
    building = _text(frame, "building")
    is_building = (building.notna() & (building != "no")).to_numpy()
    is_address = ~is_building & _text(frame, "addr:housenumber").notna().to_numpy()
    is_edif = is_building | is_address
    address = {col: _text(frame, *keys_)[is_edif] for col, keys_ in ADDRESS_KEYS.items()}
    edificacoes = _layer(
        "edificacoes",
        {
            "osm_id": osm_id[is_edif],
            "tipo": np.where(is_building[is_edif], "edificacao", "endereco").astype(object),
            **address,
        },
        _as_points(geoms[is_edif]),
    )

    # existing grid: power lines (voltage decides bt / mt / transmission), power
    # points, street lamps and lit ways
    osm = catalog.rede_existente.osm
    line_default = power.map(osm.linhas).to_numpy(dtype=object)
    is_power_line = pd.notna(line_default) & is_line
    volts = voltage.to_numpy(dtype=float)
    by_voltage = np.full(len(frame), None, dtype=object)
    by_voltage[volts <= osm.tensao_maxima_mt_v] = "mt"
    by_voltage[volts <= osm.tensao_maxima_bt_v] = "bt"
    line_type = np.where(voltage.isna(), line_default, by_voltage)
    is_power_line &= pd.notna(line_type)  # above the MV limit: transmission, dropped
    point_type = power.map(osm.pontos).to_numpy(dtype=object)
    is_power_point = pd.notna(point_type)
    is_lamp = (highway == "street_lamp").to_numpy()
    lit = _text(frame, "lit").str.strip().str.lower()
    is_lit_way = (highway.notna() & lit.isin(LIT_VALUES)).to_numpy() & is_line
    points = _as_points(geoms)
    parts = [
        (is_power_line, line_type, geoms, voltage),
        (is_power_point, point_type, points, voltage),
        (is_lamp, "ponto_ip", points, voltage),
        (is_lit_way, "via_iluminada", geoms, pd.Series(np.nan, index=frame.index)),
    ]
    rede_osm = _layer(
        "rede_osm",
        {
            "fonte": ["osm"] * int(sum(mask.sum() for mask, *_ in parts)),
            "tipo": np.concatenate(
                [
                    np.broadcast_to(np.asarray(t, dtype=object), mask.shape)[mask]
                    for mask, t, *_ in parts
                ]
            ),
            "id_origem": np.concatenate([osm_id[mask].to_numpy() for mask, *_ in parts]),
            "tensao_v": np.concatenate([v[mask].to_numpy() for mask, _, _, v in parts]),
        },
        np.concatenate([g[mask] for mask, _, g, _ in parts]),
    )

    # street lamps with their power and lamp type (parsed on the lamps only)
    lamps = frame.loc[is_lamp]
    watts = pd.Series(np.nan, index=lamps.index)
    for key in LAMP_POWER_KEYS:
        watts = watts.fillna(_watts(_text(lamps, key)))
    pontos_ip_osm = _layer(
        "pontos_ip_osm",
        {
            "fonte": ["osm"] * int(is_lamp.sum()),
            "id_origem": osm_id[is_lamp],
            "potencia_w": watts,
            "tipo_lampada": _text(lamps, *LAMP_TYPE_KEYS),
        },
        points[is_lamp],
    )

    # urban land use and administrative boundaries
    landuse = _text(frame, "landuse")
    is_urban = landuse.isin(catalog.vias.rural.landuse_urbano).to_numpy() & is_polygon
    area_urbana = _layer(
        "area_urbana",
        {"osm_id": osm_id[is_urban], "landuse": landuse[is_urban]},
        _single_parts(geoms[is_urban]),
    )
    is_limit = (_text(frame, "boundary") == "administrative").to_numpy() & is_polygon
    levels = pd.to_numeric(_text(frame, "admin_level"), errors="coerce")
    levels = levels.where(levels == levels.round())
    limite = _layer(
        "limite",
        {
            "osm_id": osm_id[is_limit],
            "nome": name[is_limit],
            "admin_level": levels[is_limit].astype("Int64"),
            "codigo_ibge": _text(frame, *IBGE_KEYS)[is_limit],
        },
        _single_parts(geoms[is_limit]),
    )

    # neighbourhoods and rural localities: named place nodes or areas, and
    # sub-municipal administrative boundaries (the catalog lists both)
    bairros_catalog = catalog.bairros
    place = _text(frame, "place")
    is_place = place.isin(bairros_catalog.place).to_numpy() & (np.isin(kinds, _POINT) | is_polygon)
    is_sub_limit = is_limit & levels.isin(bairros_catalog.admin_level).to_numpy()
    is_bairro = (is_place | is_sub_limit) & name.notna().to_numpy()
    tipo = place.where(pd.Series(is_place, index=frame.index), "limite_admin")
    bairros = _layer(
        "bairros",
        {"osm_id": osm_id[is_bairro], "nome": name[is_bairro], "tipo": tipo[is_bairro]},
        _as_points(geoms[is_bairro]),
    )
    is_bairro_area = is_bairro & is_polygon
    bairros_area = _layer(
        "bairros_area",
        {
            "osm_id": osm_id[is_bairro_area],
            "nome": name[is_bairro_area],
            "tipo": tipo[is_bairro_area],
        },
        _single_parts(geoms[is_bairro_area]),
    )
    return OsmFeatures(
        equipamentos=equipamentos,
        equipamentos_pegada=equipamentos_pegada,
        edificacoes=edificacoes,
        rede_osm=rede_osm,
        pontos_ip_osm=pontos_ip_osm,
        area_urbana=area_urbana,
        limite=limite,
        bairros=bairros,
        bairros_area=bairros_area,
    )
