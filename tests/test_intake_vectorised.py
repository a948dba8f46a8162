"""The column-wise intake checks agree with the cell-by-cell rules (issue 24)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from geo_ip.requests.cpf import (
    cpf_hash,
    cpf_hashes,
    cpf_problem,
    valid_cpf_digits,
    valid_cpf_digits_array,
)
from geo_ip.requests.intake import validate_requests
from geo_ip.requests.intake_checks import Problems, by_unique, numbers
from geo_ip.rules.config import load_rules

# 529.982.247-25 and 111.444.777-35 are valid CPFs (check digits worked by hand);
# 000.000.001-91 is valid too and loses its leading zeros in a spreadsheet.
CPFS = [
    "529.982.247-25",  # valid, formatted
    "52998224725",  # valid, bare
    "111.444.777-35",  # valid
    "529.982.247-26",  # second check digit wrong
    "529.982.247-15",  # first check digit wrong
    "111.111.111-11",  # repeated digits (their check digits do match)
    "00000000000",  # repeated zeros
    "5299822472",  # 10 digits: a leading zero is added, then the check fails
    "191",  # 000.000.001-91 without its zeros: too short even for the zero fill
    "000000191",  # 9 digits: filled to 000.000.001-91, valid
    "529.982.247-2",  # wrong length (10 digits, not bare)
    "529.982.247-255",  # wrong length (12 digits)
    "529-982-247.25",  # other punctuation, 11 digits: valid
    "529 982 247 25",  # spaces, valid
    "abc.def.ghi-jk",  # letters
    "52998224725a",  # letters with 11 digits
    "５２９９８２２４７２５",  # full-width digits: not ASCII, checked one by one (invalid)
    "",
]


def test_cpf_digits_as_arrays_agree_with_the_one_by_one_rule() -> None:
    got = valid_cpf_digits_array(CPFS)
    assert got.tolist() == [valid_cpf_digits(v) for v in CPFS]
    # hand-checked: the valid ones and their digits
    assert got[:3].tolist() == ["52998224725", "52998224725", "11144477735"]
    assert got[3:9].tolist() == ["", "", "", "", "", ""]
    assert got[9] == "00000000191"
    assert got[12] == got[13] == "52998224725"
    assert got[14:].tolist() == ["", "", "", ""]


def test_cpf_hashes_of_a_column_are_the_hashes_one_by_one() -> None:
    key = b"k" * 32
    cells = pd.Series([*CPFS, " 529.982.247-25 ", None, 52998224725], dtype=object)
    got = cpf_hashes(cells, key)
    assert got.tolist() == [cpf_hash(v, key) for v in cells]
    assert got.iloc[0] == got.iloc[1] == got.iloc[len(CPFS)] != ""
    assert got.iloc[3] == ""


def _frame(cpfs: list[str]) -> pd.DataFrame:
    n = len(cpfs)
    return pd.DataFrame(
        {
            "protocolo": [f"P{i}" for i in range(n)],
            "data_protocolo": ["2026-05-20"] * n,
            "tipo": ["extensao_rede"] * n,
            "latitude": ["-22.9"] * n,
            "longitude": ["-46.4"] * n,
            "cpf_solicitante": cpfs,
        },
        dtype=str,
    )


def test_cpf_column_reports_every_row_as_the_one_by_one_rule() -> None:
    out = validate_requests(_frame(CPFS), load_rules("demo"), today=date(2026, 11, 20))
    for i, value in enumerate(CPFS):
        problem = cpf_problem(value)
        expected = f"campo 'cpf_solicitante': {problem}" if problem else ""
        assert out["problemas"].iloc[i] == expected, value
        assert out["situacao"].iloc[i] == ("erro" if problem else "ok"), value
    assert out["cpf_solicitante"].iloc[1] == "529.982.247-25"  # bare, formatted
    assert out["cpf_solicitante"].iloc[9] == "000.000.001-91"
    assert out["cpf_solicitante"].iloc[14] == "abc.def.ghi-jk"  # as typed
    assert out["problemas"].iloc[3] == (
        "campo 'cpf_solicitante': CPF inválido, dígitos verificadores não conferem (***.982.247-**)"
    )
    assert out["problemas"].iloc[5] == (
        "campo 'cpf_solicitante': CPF inválido, todos os dígitos iguais (***.111.111-**)"
    )
    assert out["problemas"].iloc[11] == "campo 'cpf_solicitante': CPF deve ter 11 dígitos (tem 12)"


def test_numbers_agree_with_to_number_cell_by_cell() -> None:
    from geo_ip._util.parse import to_number

    cells = ["-22.9", "-22,9", "1.518", "1.234,5", "1,234.5", "R$ 1.700,00", "−3.5", "+.5"]
    cells += ["7.", "abc", "", "1e5", "-0.0", "12345678901234567.5", "١٢.٥", " 4"]
    text = pd.Series(cells, dtype=str)
    for thousands in (False, True):
        expected = to_number(text, thousands=thousands).to_numpy()
        got = numbers(text, thousands=thousands)
        same = (got == expected) & (np.signbit(got) == np.signbit(expected))
        assert (same | np.isnan(got) & np.isnan(expected)).all(), thousands
    assert numbers(pd.Series(["1.518"], dtype=str), thousands=True)[0] == 1518.0
    assert numbers(pd.Series(["1.518"], dtype=str), thousands=False)[0] == 1.518


def test_by_unique_gives_the_distinct_cells_and_each_row_code() -> None:
    uniques, codes = by_unique(pd.Series(["b", "a", "b", "", "a"], dtype=str))
    assert uniques.tolist() == ["b", "a", ""]
    assert codes.tolist() == [0, 1, 0, 2, 1]


def test_problems_build_each_message_from_its_parts_on_the_masked_rows_only() -> None:
    problems = Problems(3)
    seen: list[list[int]] = []

    def part(rows: np.ndarray) -> list[str]:
        seen.append(rows.tolist())
        return [f"<{i}>" for i in rows]

    problems.add(np.array([True, False, True]), "erro", "a ", pd.Series(["x", "y", "z"]), part)
    problems.add(pd.Series([False, True, pd.NA], dtype="boolean"), "aviso", "b")
    problems.add(np.zeros(3, dtype=bool), "erro", "never ", part)
    assert seen == [[0, 2]]
    assert problems.text() == ["a x<0>", "aviso: b", "a z<2>"]
    assert problems.situacao() == ["erro", "aviso", "erro"]


def test_signed_zero_shown_as_the_first_zero_of_the_column() -> None:
    # as before the column-wise checks: 0 and -0.0 were formatted once per column
    frame = pd.DataFrame(
        {
            "protocolo": ["A", "B"],
            "data_protocolo": ["2026-05-20"] * 2,
            "tipo": ["extensao_rede"] * 2,
            "latitude": ["-22.9", "-22.9"],
            "longitude": ["0", "-0.0"],
        },
        dtype=str,
    )
    out = validate_requests(frame, load_rules("demo"), today=date(2026, 11, 20))
    assert (
        out["problemas"].tolist()
        == ["aviso: campos 'latitude'/'longitude': ponto (-22.9, 0) fora do Brasil"] * 2
    )
