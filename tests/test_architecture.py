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
            # ``from geo_ip.pkg import module`` runs the package's __init__ first: when
            # that __init__ imports the importer back, it is a loop too
            package = imported.rpartition(".")[0]
            for detail in imports.get_import_details(importer=module, imported=imported):
                if detail["line_contents"].startswith(f"from {package} import "):
                    graph.add_edge(module, package)
    return graph


def test_no_import_loops() -> None:
    graph = _graph()
    # a package's __init__ re-exports names of its own modules, which never import the
    # package back: every strongly connected component counts, packages included
    loops = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert loops == [], "import loops: " + "; ".join(" ↔ ".join(c) for c in loops)


def test_the_graph_sees_imports_inside_functions() -> None:
    # geo_ip.territory.municipality imports geo_ip.rules.init_rules inside a function only, and
    # geo_ip.cli.app imports geo_ip.pipeline under TYPE_CHECKING only: both are edges
    graph = _graph()
    assert graph.has_edge("geo_ip.territory.municipality", "geo_ip.rules.init_rules")
    assert graph.has_edge("geo_ip.cli.app", "geo_ip.pipeline")
    assert graph.has_edge("geo_ip.cli.app", "geo_ip.cli.assess")


def test_importing_a_module_through_its_package_counts_as_importing_the_package() -> None:
    # geo_ip.requests.locate does ``from geo_ip.requests import geocode``: the package's
    # __init__ runs first, so an __init__ that imported locate back would be a loop
    graph = _graph()
    assert graph.has_edge("geo_ip.requests.locate", "geo_ip.requests")
    assert not graph.has_edge("geo_ip.cadastre.package", "geo_ip.cadastre")


def test_old_module_paths_still_import_with_a_warning() -> None:
    import subprocess
    import sys

    code = (
        "import warnings; warnings.simplefilter('error')\n"
        "try:\n"
        "    import geo_ip.assess\n"
        "except DeprecationWarning as w:\n"
        "    print(w)\n"
        "warnings.simplefilter('ignore')\n"
        "import geo_ip.assess, geo_ip.pipeline\n"
        "from geo_ip.scoring import suggest\n"
        "from geo_ip.law.scoring import suggest as new\n"
        "print(geo_ip.assess is geo_ip.pipeline, suggest is new)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        "geo_ip.assess mudou para geo_ip.pipeline; o nome antigo deixa de existir na próxima "
        "versão do geo_ip",
        "True True",
    ]


def test_every_old_public_path_points_at_a_module() -> None:
    import importlib

    from geo_ip._compat import MOVED

    for new in MOVED.values():
        assert importlib.import_module(new).__name__ == new
