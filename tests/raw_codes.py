"""Raw codes that a person must never read: the lists and the check shared by the tests.

The web maps (``tests/test_browser.py``), the technical sheets, the spreadsheet people
open and the assessment's prose (``tests/test_raw_codes_outputs.py``) are checked with
:func:`raw_codes`. Machine outputs (``ranking.csv``, ``evidencias.json``, the GeoPackage
attributes) keep their codes by design and are not checked.
"""

from __future__ import annotations

import re
from typing import Any

RAW_CODES = (
    "extensao_rede",
    "iluminacao_publica",
    "pendente_localizacao",
    "aguardando_orcamento",
    "pendente_comprovacao",
    "execucao_direta_art12",
    "estrategico_art11",
    "reta_fator_desvio",
    "coordenada_informada",
    "numero_exato",
    "living_street",
    "paving_stones",
    "ponto_ip",
    "ponto_onibus",
    "ocorrencia_policial",
    "bdgd:",
    "osm:",
    "node/",
    "way/",
)
"""Codes that never appear anywhere in a text."""
RAW_WORDS = (
    "secundaria",
    "primaria",
    "residential",
    "asphalt",
    "unpaved",
    "concrete",
    "primary",
    "secondary",
    "tertiary",
    "unclassified",
    "dirt",
    "sett",
    "track",
    "service",
)
"""Codes (OSM tags, unaccented classes) that never appear as a word."""
RAW_VALUES = (
    "logradouro",
    "classificado",
    "inelegivel",
    "erro",
    "implantacao",
    "melhoria",
    "via",
    "principal",
    "local",
    "bt",
    "mt",
    "poste",
    "transformador",
    "escola",
    "acidente",
    "reclamacao",
    "comprovada",
    "pendente",
    "interpolado",
    "bairro",
    "falhou",
    "yes",
    "no",
)
"""Codes that are also words: never the whole value of a field or a hover label."""
ISO_DATE = r"\b\d{4}-\d{2}-\d{2}\b"


def raw_codes(items: list[dict[str, Any]]) -> set[str]:
    """The raw codes found in texts (as ``where: code``).

    Each item has ``where`` (named in the answer), ``text`` (searched for
    :data:`RAW_CODES`, the words of :data:`RAW_WORDS` and ISO dates) and ``cells``
    (whole values, also matched against :data:`RAW_VALUES`; a ``dica`` — a hover
    label — is a whole value itself).
    """
    found = set()
    words = re.compile(rf"\b(?:{'|'.join(RAW_WORDS)})\b")
    every = {*RAW_CODES, *RAW_WORDS, *RAW_VALUES}
    for item in items:
        where, text = item["where"], item["text"]
        values = item["cells"] + ([text.strip()] if where == "dica" else [])
        found |= {f"{where}: {c}" for c in RAW_CODES if c in text}
        found |= {f"{where}: {w}" for t in (text, *values) for w in words.findall(t)}
        found |= {f"{where}: {d}" for d in re.findall(ISO_DATE, text)}
        found |= {f"{where}: = {v}" for v in values if v in every}
    return found
