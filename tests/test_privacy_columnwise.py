"""LGPD views redacted column-wise: CPF-shaped runs found in one search per column."""

from __future__ import annotations

import re

import pandas as pd

from geo_ip.requests.privacy import cpf_masked, public_view
from geo_ip.requests.redaction import CPF_LIKE, REDACTED

R = REDACTED
_OLD_CPF_LIKE = re.compile(r"(?<!\d)\d{3}[.\s]?\d{3}[.\s]?\d{3}[-.\s/]?\d{2}(?!\d)")
"""The pattern before the look-behind moved after the first digit (same matches)."""


def test_cpf_like_matches_as_before() -> None:
    texts = [
        "x12345678901y 012345678901 123.456.789/09",
        "9 123 456 789 09 e 1234567890 e 98765432100",
        "12345678901",
        "a1.234.567.890-12 b 123.456.789-012",
        "٣١٢٣٤٥٦٧٨٩٠١",  # Arabic-Indic digits are digits too
    ]
    for text in texts:
        assert [m.span() for m in CPF_LIKE.finditer(text)] == [
            m.span() for m in _OLD_CPF_LIKE.finditer(text)
        ], text
    assert CPF_LIKE.findall(texts[0]) == ["12345678901", "123.456.789/09"]
    assert CPF_LIKE.findall(texts[1]) == ["123 456 789 09", "98765432100"]
    assert CPF_LIKE.findall(texts[3]) == ["234.567.890-12"]  # after "1.", not "-012"


def test_cpf_masked_gives_each_text_as_alone() -> None:
    texts = [
        "CPF 123.456.789-09 e 98765432100",
        "sem número",
        "",
        "123456789012 é longo",
        "tel 123 456 789 09.",
        "12345678901",
    ]
    assert cpf_masked(texts) == [
        f"CPF {R} e {R}",
        "sem número",
        "",
        "123456789012 é longo",
        f"tel {R}.",
        R,
    ]
    # the end of one text and the start of the next never make one run
    assert cpf_masked(["12345", "678901"]) is None
    assert cpf_masked(["123456", "78901", "2026-11-20", "1234567890"]) is None
    assert cpf_masked([]) is None


def test_cpf_masked_with_the_gap_inside_a_text() -> None:
    assert cpf_masked(["a\x00b 11144477735", "12345\x00678901"]) == [
        f"a\x00b {R}",
        "12345\x00678901",
    ]


def test_public_view_masks_column_by_column() -> None:
    frame = pd.DataFrame(
        {
            "protocolo": ["12345678901", "P-2"],
            "bairro_encontrado": pd.Series(["Centro 123.456.789-09", None], dtype="str"),
            "logradouro_via": pd.Series(["Rua A", "Rua B"], dtype="str"),
            "problemas": [
                "cpf 11144477735 | aviso: campo 'renda_familiar': '1.850,00' acima",
                None,
            ],
            "distancia_rede_m": [1.0, 2.0],
        }
    )
    view = public_view(frame)
    assert view["protocolo"].tolist() == ["12345678901", "P-2"]  # the key is kept
    assert view["bairro_encontrado"].iloc[0] == f"Centro {R}"
    assert pd.isna(view["bairro_encontrado"].iloc[1])
    assert view["bairro_encontrado"].dtype == object  # changed: object
    assert view["logradouro_via"].dtype == frame["logradouro_via"].dtype  # untouched
    assert view["logradouro_via"].tolist() == ["Rua A", "Rua B"]
    assert view["problemas"].iloc[0] == f"cpf {R} | aviso: campo 'renda_familiar': {R}"
    assert pd.isna(view["problemas"].iloc[1])
    assert view["distancia_rede_m"].tolist() == [1.0, 2.0]
    assert frame["bairro_encontrado"].iloc[0] == "Centro 123.456.789-09"  # not modified


def test_public_view_redacts_more_address_columns() -> None:
    frame = pd.DataFrame(
        {
            "nome_solicitante": ["Brígida Santos Juazeirinho", "Ana Lima"],
            "bairro_lista": ["Vila Santos Juazeirinho", "Santos Lima"],
        }
    )
    view = public_view(frame, addresses=("bairro_lista",))
    # a run of two name parts goes, a single part of an address stays
    assert view["bairro_lista"].tolist() == [f"Vila {R}", "Santos Lima"]
    assert public_view(frame)["bairro_lista"].tolist() == frame["bairro_lista"].tolist()
    # as free text (not an address) the single part goes too
    free = public_view(frame, free_text=("bairro_lista",))
    assert free["bairro_lista"].tolist() == [f"Vila {R}", f"Santos {R}"]
