"""The territory: one GeoPackage built once, read once per run into a :class:`Territory`."""

from geo_ip.territory import store as _face
from geo_ip.territory.store import *  # noqa: F403 - the package's face: the public names of store

__all__ = list(_face.__all__)
