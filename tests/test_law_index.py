"""The law's index (``geo_ip.law.ARTICLES``): real functions, the README's table, real rules.

Every dotted name of the index imports; the table "Da lei à função" of the README
(section "Arquitetura") has the same rows, naming the same functions and rules keys; and
every rules key is a table (and key) of the Extrema rules file.
"""

from __future__ import annotations

import importlib
import re
import tomllib
from typing import Any

import pytest

from geo_ip.law import ARTICLES, Article
from tests.conftest import ROOT

HEADER = "| artigo | o que se aplica | função | chave das regras |"


def _resolve(dotted: str) -> Any:
    """The object a dotted name names: the longest module prefix, then its attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            target = getattr(target, name)
        return target
    raise ModuleNotFoundError(dotted)


def _readme_rows() -> list[list[str]]:
    """The cells of each row of the README's table, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count(HEADER) == 1
    lines = text.split(HEADER, 1)[1].splitlines()[2:]  # after the header's separator
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _quoted(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


@pytest.mark.parametrize("entry", ARTICLES, ids=[a.article for a in ARTICLES])
def test_every_function_of_the_index_imports(entry: Article) -> None:
    assert entry.functions
    for dotted in entry.functions:
        assert callable(_resolve(dotted)), dotted


def test_the_readme_table_is_the_index() -> None:
    rows = _readme_rows()
    assert [row[0] for row in rows] == [a.article for a in ARTICLES]
    for row, entry in zip(rows, ARTICLES, strict=True):
        article, applies, functions, rules = row
        assert applies == entry.applies, article
        assert _quoted(functions) == list(entry.functions), article
        assert _quoted(rules) == list(entry.rules), article


def test_every_rules_key_of_the_index_is_in_the_rules_file() -> None:
    with (ROOT / "data" / "municipios" / "extrema.toml").open("rb") as f:
        rules = tomllib.load(f)
    for entry in ARTICLES:
        for key in entry.rules:
            match = re.fullmatch(r"\[([a-z0-9_.*]+)\] ?(\w*)", key)
            assert match, key
            table, name = match.groups()
            node: Any = rules
            for part in table.split("."):
                if part == "*":
                    assert any(isinstance(v, dict) for v in node.values()), key
                    break
                node = node[part]
            if name:
                assert name in node, key
