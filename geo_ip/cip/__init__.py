"""CIP (Contribuição de Iluminação Pública): engine, consumer units and outputs."""

from geo_ip.cip import engine as _face
from geo_ip.cip.engine import *  # noqa: F403 - the package's face: the public names of engine

__all__ = list(_face.__all__)
