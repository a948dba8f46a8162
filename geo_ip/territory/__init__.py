"""The territory: one GeoPackage built once, read once per run into a :class:`Territory`.

:mod:`~geo_ip.territory.build` builds it (roads read and classified by
:mod:`~geo_ip.territory.roads`, the file written by :mod:`~geo_ip.territory.writer`);
:mod:`~geo_ip.territory.reader` opens it (:class:`Territory`) and reads its layers.
"""

from geo_ip.territory import build as _build
from geo_ip.territory import reader as _reader
from geo_ip.territory import roads as _roads
from geo_ip.territory import writer as _writer
from geo_ip.territory.build import *  # noqa: F403 - the package's face: building
from geo_ip.territory.reader import *  # noqa: F403 - the package's face: reading
from geo_ip.territory.roads import *  # noqa: F403 - the package's face: road classification
from geo_ip.territory.writer import *  # noqa: F403 - the package's face: writing

__all__ = sorted({*_build.__all__, *_reader.__all__, *_roads.__all__, *_writer.__all__})
