"""The house's rules, checked on the code itself (issue 19).

import-linter (``lint-imports``, run by ``.ci/run``) holds the contracts of
``pyproject.toml``; this test holds what it cannot say: no import loop at all, counting
the imports placed inside functions and under ``TYPE_CHECKING`` (grimp reads them all).
"""

from __future__ import annotations

import grimp
import networkx as nx


def _graph() -> nx.DiGraph:
    imports = grimp.build_graph("geo_ip", cache_dir=None)
    graph = nx.DiGraph()
    for module in imports.modules:
        for imported in imports.find_modules_directly_imported_by(module):
            graph.add_edge(module, imported)
    return graph


def test_no_import_loops() -> None:
    graph = _graph()
    # a package imports its own modules and they may import it back for names it
    # re-exports: only loops between modules count (none of geo_ip is a package today)
    loops = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert loops == [], "import loops: " + "; ".join(" ↔ ".join(c) for c in loops)


def test_the_graph_sees_imports_inside_functions() -> None:
    # geo_ip._municipality imports geo_ip.rules_init inside a function only, and
    # geo_ip.cli imports geo_ip.assess under TYPE_CHECKING only: both are edges
    graph = _graph()
    assert graph.has_edge("geo_ip._municipality", "geo_ip.rules_init")
    assert graph.has_edge("geo_ip.cli", "geo_ip.assess")
    assert graph.has_edge("geo_ip.cli", "geo_ip.cli_assess")
