"""The web app's shared live-ranking cache (issue 20): pages redact with every name."""

from __future__ import annotations

import numpy as np

from geo_ip.webapp.ranking_cache import RankingState
from tests.small_assessment import NAMES, small_assessment


def test_a_page_of_the_ranking_redacts_the_names_of_other_pages() -> None:
    table = small_assessment().table.copy()
    # row 1's applicant is NAMES[1]; its text names the applicant of row 0
    assert table.loc[1, "nome_solicitante"] == NAMES[1]
    table.loc[1, "problemas"] = f"vizinho de {NAMES[0]}, ver pedido anterior"
    state = RankingState(
        table=table, order=np.arange(len(table)), run_id=1, provenance={}, decisions=0,
        eligibility_checked=False, summary={},
        names=tuple(sorted({str(n) for n in table["nome_solicitante"]})),
    )  # fmt: skip
    page = state.public_rows(1, 2)
    assert len(page) == 1 and "nome_solicitante" not in page.columns
    text = str(page.iloc[0]["problemas"])
    assert NAMES[0] not in text and "ver pedido anterior" in text
    # without the cycle's names the other page's applicant would slip through
    unsafe = RankingState(
        table=table, order=np.arange(len(table)), run_id=1, provenance={}, decisions=0,
        eligibility_checked=False, summary={},
    )  # fmt: skip
    assert NAMES[0] in str(unsafe.public_rows(1, 2).iloc[0]["problemas"])


def test_only_a_registry_another_process_can_open_goes_to_the_helper() -> None:
    from geo_ip.webapp.ranking_cache import _shareable

    assert not _shareable("sqlite://")
    assert not _shareable("sqlite:///:memory:")
    assert _shareable("sqlite:////tmp/programa.sqlite")
    assert _shareable("postgresql+psycopg://geo:senha@localhost:5432/programa")


def test_a_later_state_holds_an_earlier_one_only_on_the_same_run_budget_and_rules() -> None:
    from geo_ip.webapp.ranking_cache import _holds

    url = "sqlite:////tmp/p.sqlite"
    earlier = (url, 1, 5000.0, "abc", 7, 3, 12)
    assert _holds(earlier, earlier)
    assert _holds((url, 1, 5000.0, "abc", 7, 4, 13), earlier)  # one decision more
    assert not _holds(earlier, (url, 1, 5000.0, "abc", 7, 4, 13))  # one decision less
    assert not _holds((url, 1, 6000.0, "abc", 7, 4, 13), earlier)  # another budget
    assert not _holds((url, 1, 5000.0, "abc", 8, 4, 13), earlier)  # a new run
    assert not _holds((url, 1, 5000.0, "def", 7, 4, 13), earlier)  # other rules
    assert _holds((url, 1, 5000.0, "abc", 7, 0, None), (url, 1, 5000.0, "abc", 7, 0, None))
