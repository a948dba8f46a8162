"""Portuguese phrases of the motivations (pure): counts, lists, the nouns of the evidence."""

from __future__ import annotations

from collections.abc import Sequence

from geo_ip._util.parse import format_number

__all__ = ["BUILDINGS", "FACILITIES", "RESIDENCES", "RESIDENTS", "STOPS", "count", "join", "points"]

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
    return f"{format_number(n, 1)} {singular if abs(n) < 2 else plural}"


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
