"""geo_ip: planning network extension and public lighting for Brazilian municipalities.

The public API is small and explicit; see the README for the command line.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from geo_ip.catalog import Catalog, load_catalog
from geo_ip.config import Rules, load_rules
from geo_ip.errors import GeoIPError

try:
    __version__ = version("geo-ip")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0+desconhecida"

__all__ = ["Catalog", "GeoIPError", "Rules", "__version__", "load_catalog", "load_rules"]
