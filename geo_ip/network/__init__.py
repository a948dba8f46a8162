"""Road-network kernels on arrays: snapping, paths to the grid in one pass, betweenness."""

from geo_ip.network.roads import SNAP_COLUMNS, RoadIndex

__all__ = ["SNAP_COLUMNS", "RoadIndex"]
