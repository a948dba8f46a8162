"""The utility's public-lighting cadastre (CEMIG medida 060): package, letter and audit."""

from geo_ip.cadastre import package as _face
from geo_ip.cadastre.package import *  # noqa: F403 - the package's face: the public names of package

__all__ = list(_face.__all__)
