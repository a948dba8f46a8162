"""One call of a text function over a whole column (geo_ip._util.text, law.phrases)."""

from __future__ import annotations

import re

import pandas as pd

from geo_ip._util.text import CELL_GAP, map_joined
from geo_ip.law.phrases import days_in_column


def test_map_joined_changes_each_text_as_alone_in_one_call() -> None:
    calls: list[str] = []

    def upper_digits(text: str) -> str:
        calls.append(text)
        return re.sub(r"\b(\d+)\b", r"<\1>", text)

    texts = ["a 1", "", "22 b", "3"]
    assert map_joined(upper_digits, texts) == ["a <1>", "", "<22> b", "<3>"]
    assert calls == ["a 1\x00\x0022 b\x003"]  # one call, the gaps kept
    assert map_joined(upper_digits, []) == []


def test_map_joined_takes_a_text_holding_the_gap_on_its_own() -> None:
    texts = [f"x{CELL_GAP}1", "2"]
    assert map_joined(lambda t: t.replace("1", "um").replace("2", "dois"), texts) == [
        f"x{CELL_GAP}um",
        "dois",
    ]
    # a change that writes a gap: each text alone too
    assert map_joined(lambda t: t.replace("a", CELL_GAP), ["a", "b"]) == [CELL_GAP, "b"]


def test_days_in_column_rewrites_dates_inside_texts_only() -> None:
    column = pd.Series(
        ["data futura (2062-08-12)", None, 3.5, "2026-01-02T10:00:00Z e 2026-02-03", "2026-01-02"],
        dtype=object,
    )
    assert days_in_column(column).tolist() == [
        "data futura (12/08/2062)", None, 3.5, "02/01/2026 e 03/02/2026", "02/01/2026",
    ]  # fmt: skip
