"""Old module paths of geo_ip, kept importable for one release with a deprecation warning.

geo_ip 0.x had every module flat in ``geo_ip/``; the modules now live in sub-packages
by stage (see the README, "Arquitetura"). ``import geo_ip.assess`` or
``from geo_ip.scoring import suggest`` still work: a finder on ``sys.meta_path``
answers each old name with the module at its new place, the very same module object,
and warns once with the new name. Nothing of geo_ip imports an old path.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType

MOVED = {
    "geo_ip.assess": "geo_ip.pipeline",
    "geo_ip.config": "geo_ip.rules.config",
    "geo_ip.rules_init": "geo_ip.rules.init_rules",
    "geo_ip.provenance": "geo_ip.rules.provenance",
    "geo_ip.catalog": "geo_ip.sources.catalog",
    "geo_ip.osm": "geo_ip.sources.osm",
    "geo_ip.osm_features": "geo_ip.sources.osm_features",
    "geo_ip.grid": "geo_ip.sources.grid",
    "geo_ip.dem": "geo_ip.sources.dem",
    "geo_ip.gridpath": "geo_ip.network.gridpath",
    "geo_ip.intake": "geo_ip.requests.intake",
    "geo_ip.address": "geo_ip.requests.address",
    "geo_ip.geocode": "geo_ip.requests.geocode",
    "geo_ip.locate": "geo_ip.requests.locate",
    "geo_ip.privacy": "geo_ip.requests.privacy",
    "geo_ip.decision_file": "geo_ip.requests.decision_file",
    "geo_ip.history_file": "geo_ip.requests.history_file",
    "geo_ip.context": "geo_ip.evidence.context",
    "geo_ip.scoring": "geo_ip.law.scoring",
    "geo_ip.eligibility": "geo_ip.law.eligibility",
    "geo_ip.decisions": "geo_ip.law.decisions",
    "geo_ip.ranking": "geo_ip.law.ranking",
    "geo_ip.views": "geo_ip.outputs.views",
    "geo_ip.styles": "geo_ip.outputs.styles",
    "geo_ip.qgis": "geo_ip.outputs.qgis.project",
    "geo_ip.webmap": "geo_ip.outputs.web.webmap",
    "geo_ip.sheets": "geo_ip.outputs.sheets.sheets",
}
"""Old dotted path -> new dotted path of every public module that moved."""


class _Alias(importlib.abc.Loader):
    """Load an old name as the module at its new place (the same object)."""

    def __init__(self, new: str) -> None:
        self.new = new

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        warnings.warn(
            f"{spec.name} mudou para {self.new}; o nome antigo deixa de existir na "
            "próxima versão do geo_ip",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(self.new)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module ran at its new place."""


class MovedFinder(importlib.abc.MetaPathFinder):
    """Find the old names of :data:`MOVED` (installed by ``geo_ip/__init__.py``)."""

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        """Return an alias spec for an old name, ``None`` for every other name."""
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Alias(new))


def install() -> None:
    """Put :class:`MovedFinder` on ``sys.meta_path`` once."""
    if not any(isinstance(f, MovedFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, MovedFinder())
