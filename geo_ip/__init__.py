"""geo_ip: planning network extension and public lighting for Brazilian municipalities.

The public API is small and explicit; see the README for the command line and, under
"Arquitetura", the sub-packages by stage: ``rules``, ``sources``, ``network``,
``territory``, ``requests``, ``evidence``, ``law``, ``pipeline``, ``outputs``,
``cadastre``, ``cip`` and ``cli``.
"""

from __future__ import annotations

from geo_ip._compat import install as _install_moved_names
from geo_ip._util.version import __version__
from geo_ip.errors import GeoIPError
from geo_ip.rules.config import Rules, load_rules
from geo_ip.sources.catalog import Catalog, load_catalog

_install_moved_names()

__all__ = ["Catalog", "GeoIPError", "Rules", "__version__", "load_catalog", "load_rules"]
