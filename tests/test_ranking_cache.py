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
