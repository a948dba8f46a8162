"""The installed version of geo_ip, stamped on every output."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("geo-ip")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0+desconhecida"

__all__ = ["__version__"]
