"""The territory: one GeoPackage built once, read once per run into a :class:`Territory`."""

from geo_ip.territory.store import (
    LAYERS,
    OSM_ATTRIBUTION,
    GridSource,
    TerritoryReport,
    build_territory,
    choose_crs,
    classify_roads,
    copy_layer,
    grid_attachment,
    layer_names,
    load_graph,
    read_dataframe,
    read_grid_attachment,
    read_layer,
    read_metadata,
    write_dataframe,
)

__all__ = [
    "LAYERS",
    "OSM_ATTRIBUTION",
    "GridSource",
    "TerritoryReport",
    "build_territory",
    "choose_crs",
    "classify_roads",
    "copy_layer",
    "grid_attachment",
    "layer_names",
    "load_graph",
    "read_dataframe",
    "read_grid_attachment",
    "read_layer",
    "read_metadata",
    "write_dataframe",
]
