"""The public transparency portal of the program (Art. 8, publicity; issue 22).

:func:`build_site` writes a static site (plain files, no CDN, works from ``file://``)
from an assessment folder or the registry: the program in plain words, the map, the
public ranking and its open data, one page per request, the rules in force and an Atom
feed of decisions. Nothing personal is published: the pages are built from an explicit
allow-list of fields (:mod:`geo_ip.portal.model`).
"""

from geo_ip.portal.site import build_site

__all__ = ["build_site"]
