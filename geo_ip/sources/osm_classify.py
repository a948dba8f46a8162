"""The single classifier of OSM elements into the non-road layers (for :mod:`~.osm_features`).

:func:`classify` takes one frame of OSM elements (an ``osm_id`` such as ``"way/45"``,
one column per tag, the element's geometry in EPSG:4326), whether read from a file
(:mod:`~.osm_elements`) or downloaded by osmnx, and builds the nine layers of
:class:`~.osm_features.OsmFeatures`, each with the columns of :data:`SCHEMAS`. Every
tag filter and crosswalk comes from the layer catalog (``layers/*.toml``); the tags
read for values are listed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ip.sources.catalog import Catalog, OsmGridMapping

__all__ = [
    "ADDRESS_KEYS",
    "CRS",
    "IBGE_KEYS",
    "LAMP_POWER_KEYS",
    "LAMP_TYPE_KEYS",
    "LIT_VALUES",
    "OSM_ID",
    "SCHEMAS",
    "classify",
    "first_tags",
    "layer",
]

CRS = "EPSG:4326"
"""CRS of the elements and of every layer."""
OSM_ID = "osm_id"
"""Column of the element frame naming each element (``"node/1"``, ``"way/45"``...)."""

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
"""Columns and dtypes of each layer of :class:`~.osm_features.OsmFeatures` (plus ``geometry``)."""

_POINT, _LINES, _POLYGONS = (0,), (1, 2, 5), (3, 6)  # shapely type ids


def layer(name: str, data: Mapping[str, Any], geometry: Any) -> gpd.GeoDataFrame:
    """Build layer ``name`` with its schema's columns and dtypes (empty when no data).

    Parameters
    ----------
    name : str
        A key of :data:`SCHEMAS`.
    data : mapping of str to array-like
        Values of the layer's columns (a column absent here is empty).
    geometry : array-like
        One geometry per row, in EPSG:4326.

    Returns
    -------
    geopandas.GeoDataFrame
        The columns of ``SCHEMAS[name]`` with their dtypes, then ``geometry``.
    """
    geoms = np.asarray(geometry, dtype=object)
    columns = {
        column: pd.Series(data.get(column, []), dtype=dtype).reset_index(drop=True)
        for column, dtype in SCHEMAS[name].items()
    }
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries(geoms, crs=CRS), crs=CRS)


def first_tags(catalog: Catalog) -> list[tuple[str, str]]:
    """Return the first tag of each facility filter: an element must have one of them.

    The tags are (key, value) pairs of the catalog's filters; ``"*"`` is any value.
    """
    return [
        next(iter(tag_filter.items()))
        for category in catalog.equipamentos.categorias.values()
        for tag_filter in category.filtros
    ]


# --------------------------------------------------------------------------- values


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


# --------------------------------------------------------------------------- classifier


def classify(frame: gpd.GeoDataFrame, catalog: Catalog) -> dict[str, gpd.GeoDataFrame]:
    """Build every layer from one frame of OSM elements (the single classifier).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        ``osm_id``, one column per tag (str, or None/NaN when absent) and the
        element's geometry in EPSG:4326. Elements without geometry are left out.
    catalog : Catalog
        The layer catalog (facility filters, OSM power mapping, urban land use,
        neighbourhoods).

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        Every layer of :data:`SCHEMAS`, by name (empty layers for an empty frame).
    """
    if frame.empty:
        return {name: layer(name, {}, []) for name in SCHEMAS}
    elements = _Elements.of(frame)
    is_limit, levels = _boundaries(elements)
    return {
        **_facilities(elements, catalog),
        "edificacoes": _buildings(elements),
        "rede_osm": _grid(elements, catalog.rede_existente.osm),
        "pontos_ip_osm": _street_lamps(elements),
        "area_urbana": _urban_area(elements, catalog),
        "limite": _limits(elements, is_limit, levels),
        **_bairros(elements, catalog, is_limit, levels),
    }


@dataclass(frozen=True)
class _Elements:
    """The elements being classified (valid geometries only) and what every layer reads."""

    frame: gpd.GeoDataFrame  # index 0..n-1
    geoms: np.ndarray
    kinds: np.ndarray  # shapely type ids
    is_line: np.ndarray
    is_polygon: np.ndarray
    osm_id: pd.Series
    name: pd.Series

    @classmethod
    def of(cls, frame: gpd.GeoDataFrame) -> _Elements:
        """Drop the elements without geometry and read the columns every layer uses."""
        frame = frame.reset_index(drop=True)
        geoms = np.asarray(frame.geometry.array, dtype=object)
        valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        if not valid.all():
            frame, geoms = frame.loc[valid].reset_index(drop=True), geoms[valid]
        kinds = shapely.get_type_id(geoms)
        return cls(
            frame=frame,
            geoms=geoms,
            kinds=kinds,
            is_line=np.isin(kinds, _LINES),
            is_polygon=np.isin(kinds, _POLYGONS),
            osm_id=frame[OSM_ID].astype(object),
            name=_text(frame, "name"),
        )

    def text(self, *keys: str) -> pd.Series:
        """First non-empty string among tag columns ``keys`` (None when absent)."""
        return _text(self.frame, *keys)


def _categories(elements: _Elements, catalog: Catalog) -> np.ndarray:
    """Each element's facility category (None for no facility): the catalog decides."""
    facilities = catalog.equipamentos
    frame = elements.frame
    keys = sorted(facilities.tag_keys & set(frame.columns))
    subset = frame[keys].astype(object)
    candidate = np.zeros(len(frame), dtype=bool)  # some filter's first tag matches
    for key, value in first_tags(catalog):
        if key in subset.columns:
            column = subset[key]
            candidate |= (column.notna() if value == "*" else column == value).to_numpy()
    categoria = np.full(len(frame), None, dtype=object)
    records = subset.loc[candidate].to_dict("records")
    categoria[candidate] = [
        facilities.category_of({k: v for k, v in tags.items() if isinstance(v, str)})
        for tags in records
    ]
    return categoria


def _facilities(elements: _Elements, catalog: Catalog) -> dict[str, gpd.GeoDataFrame]:
    """``equipamentos`` (as points) and ``equipamentos_pegada`` (those mapped as areas)."""
    categoria = _categories(elements, catalog)
    categorias = catalog.equipamentos.categorias
    osm_id, name, geoms = elements.osm_id, elements.name, elements.geoms
    is_facility = pd.notna(categoria)
    cats = categoria[is_facility]
    footprint = is_facility & elements.is_polygon
    return {
        "equipamentos": layer(
            "equipamentos",
            {
                "osm_id": osm_id[is_facility],
                "categoria": cats,
                "grupo": [categorias[c].grupo for c in cats],
                "vulneravel": [categorias[c].vulneravel for c in cats],
                "nome": name[is_facility],
            },
            _as_points(geoms[is_facility]),
        ),
        "equipamentos_pegada": layer(
            "equipamentos_pegada",
            {
                "osm_id": osm_id[footprint],
                "categoria": categoria[footprint],
                "nome": name[footprint],
            },
            _single_parts(geoms[footprint]),
        ),
    }


def _buildings(elements: _Elements) -> gpd.GeoDataFrame:
    """``edificacoes``: buildings (by an interior point) and address points."""
    building = elements.text("building")
    is_building = (building.notna() & (building != "no")).to_numpy()
    is_address = ~is_building & elements.text("addr:housenumber").notna().to_numpy()
    is_edif = is_building | is_address
    address = {col: elements.text(*keys_)[is_edif] for col, keys_ in ADDRESS_KEYS.items()}
    return layer(
        "edificacoes",
        {
            "osm_id": elements.osm_id[is_edif],
            "tipo": np.where(is_building[is_edif], "edificacao", "endereco").astype(object),
            **address,
        },
        _as_points(elements.geoms[is_edif]),
    )


def _is_lamp(elements: _Elements) -> np.ndarray:
    """Whether each element is a street lamp (``highway=street_lamp``)."""
    return (elements.text("highway") == "street_lamp").to_numpy()


def _power_lines(
    elements: _Elements, osm: OsmGridMapping, power: pd.Series, voltage: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    """Which elements are power lines of the distribution grid, and their type.

    The voltage decides bt / mt (above the MV limit: transmission, dropped); without
    one, the ``power`` value's default type.
    """
    line_default = power.map(osm.linhas).to_numpy(dtype=object)
    is_power_line = pd.notna(line_default) & elements.is_line
    volts = voltage.to_numpy(dtype=float)
    by_voltage = np.full(len(elements.frame), None, dtype=object)
    by_voltage[volts <= osm.tensao_maxima_mt_v] = "mt"
    by_voltage[volts <= osm.tensao_maxima_bt_v] = "bt"
    line_type = np.where(voltage.isna(), line_default, by_voltage)
    is_power_line &= pd.notna(line_type)  # above the MV limit: transmission, dropped
    return is_power_line, line_type


def _grid(elements: _Elements, osm: OsmGridMapping) -> gpd.GeoDataFrame:
    """``rede_osm``: power lines, power points, street lamps and lit ways."""
    frame, geoms, osm_id = elements.frame, elements.geoms, elements.osm_id
    highway = elements.text("highway")
    power = elements.text("power")
    voltage = _voltage(elements.text("voltage"))
    is_power_line, line_type = _power_lines(elements, osm, power, voltage)
    point_type = power.map(osm.pontos).to_numpy(dtype=object)
    is_power_point = pd.notna(point_type)
    lit = elements.text("lit").str.strip().str.lower()
    is_lit_way = (highway.notna() & lit.isin(LIT_VALUES)).to_numpy() & elements.is_line
    points = _as_points(geoms)
    parts = [
        (is_power_line, line_type, geoms, voltage),
        (is_power_point, point_type, points, voltage),
        (_is_lamp(elements), "ponto_ip", points, voltage),
        (is_lit_way, "via_iluminada", geoms, pd.Series(np.nan, index=frame.index)),
    ]
    return layer(
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


def _street_lamps(elements: _Elements) -> gpd.GeoDataFrame:
    """``pontos_ip_osm``: street lamps with their power and lamp type (parsed on them only)."""
    is_lamp = _is_lamp(elements)
    lamps = elements.frame.loc[is_lamp]
    watts = pd.Series(np.nan, index=lamps.index)
    for key in LAMP_POWER_KEYS:
        watts = watts.fillna(_watts(_text(lamps, key)))
    return layer(
        "pontos_ip_osm",
        {
            "fonte": ["osm"] * int(is_lamp.sum()),
            "id_origem": elements.osm_id[is_lamp],
            "potencia_w": watts,
            "tipo_lampada": _text(lamps, *LAMP_TYPE_KEYS),
        },
        _as_points(elements.geoms[is_lamp]),
    )


def _urban_area(elements: _Elements, catalog: Catalog) -> gpd.GeoDataFrame:
    """``area_urbana``: polygons of urban land use."""
    landuse = elements.text("landuse")
    is_urban = landuse.isin(catalog.vias.area_urbana.landuse).to_numpy() & elements.is_polygon
    return layer(
        "area_urbana",
        {"osm_id": elements.osm_id[is_urban], "landuse": landuse[is_urban]},
        _single_parts(elements.geoms[is_urban]),
    )


def _boundaries(elements: _Elements) -> tuple[np.ndarray, pd.Series]:
    """Which elements are administrative boundary polygons, and each one's whole level."""
    is_limit = (elements.text("boundary") == "administrative").to_numpy() & elements.is_polygon
    levels = pd.to_numeric(elements.text("admin_level"), errors="coerce")
    return is_limit, levels.where(levels == levels.round())


def _limits(elements: _Elements, is_limit: np.ndarray, levels: pd.Series) -> gpd.GeoDataFrame:
    """``limite``: administrative boundaries, every level."""
    return layer(
        "limite",
        {
            "osm_id": elements.osm_id[is_limit],
            "nome": elements.name[is_limit],
            "admin_level": levels[is_limit].astype("Int64"),
            "codigo_ibge": elements.text(*IBGE_KEYS)[is_limit],
        },
        _single_parts(elements.geoms[is_limit]),
    )


def _bairros(
    elements: _Elements, catalog: Catalog, is_limit: np.ndarray, levels: pd.Series
) -> dict[str, gpd.GeoDataFrame]:
    """``bairros`` (as points) and ``bairros_area`` (those mapped as areas).

    Neighbourhoods and rural localities: named place nodes or areas, and
    sub-municipal administrative boundaries (the catalog lists both).
    """
    bairros = catalog.bairros
    place = elements.text("place")
    is_place = place.isin(bairros.place).to_numpy() & (
        np.isin(elements.kinds, _POINT) | elements.is_polygon
    )
    is_sub_limit = is_limit & levels.isin(bairros.admin_level).to_numpy()
    is_bairro = (is_place | is_sub_limit) & elements.name.notna().to_numpy()
    tipo = place.where(pd.Series(is_place, index=elements.frame.index), "limite_admin")
    is_area = is_bairro & elements.is_polygon
    osm_id, name, geoms = elements.osm_id, elements.name, elements.geoms
    return {
        "bairros": layer(
            "bairros",
            {"osm_id": osm_id[is_bairro], "nome": name[is_bairro], "tipo": tipo[is_bairro]},
            _as_points(geoms[is_bairro]),
        ),
        "bairros_area": layer(
            "bairros_area",
            {"osm_id": osm_id[is_area], "nome": name[is_area], "tipo": tipo[is_area]},
            _single_parts(geoms[is_area]),
        ),
    }
