"""Portuguese phrases of the motivations (pure): counts, lists, the nouns of the evidence."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date

import pandas as pd

from geo_ip._util.parse import format_number
from geo_ip._util.text import map_joined

__all__ = [
    "BUILDINGS",
    "FACILITIES",
    "HIGHWAYS",
    "OCCURRENCES",
    "REQUEST_TYPES",
    "RESIDENCES",
    "RESIDENTS",
    "ROAD_CLASSES",
    "STOPS",
    "SURFACES",
    "coordinates",
    "count",
    "day",
    "days_in",
    "days_in_column",
    "join",
    "points",
    "surface_word",
]

RESIDENCES = ("residência diretamente beneficiada", "residências diretamente beneficiadas")
"""Singular and plural of the residences served."""
BUILDINGS = ("edificação mapeada", "edificações mapeadas")
"""Singular and plural of the mapped buildings."""
FACILITIES = ("equipamento público ou comunitário", "equipamentos públicos ou comunitários")
"""Singular and plural of the public or community facilities."""
RESIDENTS = ("morador estimado", "moradores estimados")
"""Singular and plural of the estimated residents."""
STOPS = ("parada de ônibus na via", "paradas de ônibus na via")
"""Singular and plural of the bus stops on the road."""

REQUEST_TYPES = {
    "extensao_rede": "extensão de rede elétrica",
    "implantacao": "implantação de iluminação pública",
    "melhoria": "melhoria de iluminação pública",
}
"""The request types (Art. 2, I to III) in words, lower case."""
ROAD_CLASSES = {"principal": "via principal", "secundaria": "via secundária", "local": "via local"}
"""The road hierarchy (Art. 9 §8) in words: the labels of ``layers/vias.toml`` after "via"."""
OCCURRENCES = {
    "acidente": "acidente de trânsito",
    "ocorrencia_policial": "ocorrência policial",
    "reclamacao": "reclamação / relato",
    "nao_informado": "tipo não informado",
}
"""Occurrence types in words: the labels of ``layers/ocorrencias.toml`` (lower case), and the
type of a row without one."""

SURFACES = {
    "asphalt": "asfalto",
    "concrete": "concreto",
    "paved": "pavimentada",
    "paving_stones": "bloquete",
    "sett": "paralelepípedo",
    "cobblestone": "pedra",
    "unpaved": "sem pavimento",
    "dirt": "terra",
    "earth": "terra",
    "ground": "terra",
    "gravel": "cascalho",
    "compacted": "terra compactada",
    "sand": "areia",
    "grass": "grama",
}
"""OpenStreetMap ``surface`` values in words (lower case), as motivations and sheets say them."""
HIGHWAYS = {
    "motorway": "rodovia expressa",
    "trunk": "rodovia",
    "primary": "via primária",
    "secondary": "via secundária",
    "tertiary": "via terciária",
    "unclassified": "via sem classificação",
    "residential": "rua residencial",
    "living_street": "via de uso compartilhado",
    "service": "via de serviço",
    "track": "estrada de terra (trilha)",
    "road": "via de tipo desconhecido",
    "pedestrian": "via de pedestres",
    "footway": "calçada / caminho de pedestres",
    "path": "caminho",
    "cycleway": "ciclovia",
    "steps": "escadaria",
}
"""OpenStreetMap ``highway`` values in words (the tag, as the roads' popups show it)."""

_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?\b")


def day(value: object) -> str:
    """Say a date as a person reads it: ``dd/mm/aaaa``.

    Parameters
    ----------
    value : object
        A :class:`datetime.date` (or datetime), or text holding an ISO date.

    Returns
    -------
    str
        ``"06/05/2026"``; other text as it is, ``""`` for anything else.
    """
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return days_in(value) if isinstance(value, str) else ""


def days_in(text: str) -> str:
    """Rewrite the ISO dates (and date-times) inside a sentence as ``dd/mm/aaaa``.

    Parameters
    ----------
    text : str
        A sentence (``"data futura (2062-08-12)"``).

    Returns
    -------
    str
        The sentence with every ``aaaa-mm-dd`` as ``dd/mm/aaaa`` (``"data futura
        (12/08/2062)"``); a time after the date is dropped.
    """
    return _ISO_DAY.sub(r"\3/\2/\1", text)


def days_in_column(values: pd.Series) -> pd.Series:
    """Apply :func:`days_in` to every text cell of a column (other cells as they are).

    One substitution over the column's distinct texts joined
    (:func:`geo_ip._util.text.map_joined`), not one per cell.

    Parameters
    ----------
    values : pandas.Series
        A column of sentences (problems, motives, provenance...).

    Returns
    -------
    pandas.Series
        The same column, the ISO dates inside its texts as ``dd/mm/aaaa``.
    """
    texts = list(dict.fromkeys(v for v in values.tolist() if isinstance(v, str)))
    dated = dict(zip(texts, map_joined(days_in, texts), strict=True))
    return values.map(lambda v: dated[v] if isinstance(v, str) else v)


def coordinates(lat: float, lon: float) -> str:
    """Say a latitude and a longitude the Brazilian way: ``-22,894926; -46,384813``.

    Parameters
    ----------
    lat, lon : float
        Degrees (WGS 84).

    Returns
    -------
    str
        Up to 6 decimals each, decimal comma, ``;`` between them; ``""`` when one is NaN.
    """
    if math.isnan(lat) or math.isnan(lon):
        return ""
    return "; ".join(f"{v:.6f}".rstrip("0").rstrip(".").replace(".", ",") for v in (lat, lon))


def surface_word(tag: str) -> str:
    """Say an OpenStreetMap ``surface`` value in words (``"asphalt"`` → ``"asfalto"``).

    Parameters
    ----------
    tag : str
        The tag's value (``""`` when the road has none).

    Returns
    -------
    str
        The word of :data:`SURFACES`; an unknown value with its underscores as spaces;
        ``""`` when blank.
    """
    text = tag.strip()
    return SURFACES.get(text, text.replace("_", " "))


def count(n: float, singular: str, plural: str) -> str:
    """Say a number of things: ``1 travessia`` / ``2 travessias``.

    Parameters
    ----------
    n : float
        How many (formatted as an integer when it is one).
    singular, plural : str
        The noun; the singular below two.

    Returns
    -------
    str
        The number and the noun.
    """
    if n != 0 and n == n:  # a signed zero or NaN is never a cache key (-0.0 == 0.0)
        key = (type(n), n, singular, plural)  # 2 and 2.0 may be said differently
        text = _COUNTS.get(key)
        if text is None:
            if len(_COUNTS) >= _COUNTS_MAX:
                _COUNTS.clear()
            text = _COUNTS[key] = f"{format_number(n, 1)} {singular if abs(n) < 2 else plural}"
        return text
    return f"{format_number(n, 1)} {singular if abs(n) < 2 else plural}"


_COUNTS: dict[tuple[type, float, str, str], str] = {}
"""Texts of :func:`count`: points and counts repeat over thousands of motivations."""
_COUNTS_MAX = 1 << 16


def points(p: float) -> str:
    """Say a number of points: ``0 ponto``, ``1 ponto``, ``5 pontos``.

    Parameters
    ----------
    p : float
        The points.

    Returns
    -------
    str
        The points and the noun (singular below two).
    """
    return count(p, "ponto", "pontos")


def join(items: Sequence[str], last: str = "e") -> str:
    """Join with commas and a final conjunction (``a, b e c``).

    Parameters
    ----------
    items : sequence of str
        The phrases; empty ones are left out.
    last : str, default "e"
        The final conjunction.

    Returns
    -------
    str
        The joined phrase (``""`` when there is none).
    """
    items = [item for item in items if item]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"
