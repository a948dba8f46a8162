"""The building blocks of every rules model: a number with its source, and its checks.

:class:`Param` is how a rules file writes a number (``{ valor, unidade, fonte }``);
the field validators below (:func:`positive`, :func:`non_negative`, :func:`at_most`,
:func:`percentile`, :func:`ordered`) are shared by the section models of
:mod:`geo_ip.rules.law_locks`, :mod:`geo_ip.rules.sections`,
:mod:`geo_ip.rules.road_rules`, :mod:`geo_ip.rules.scoring_rules` and
:mod:`geo_ip.rules.cip_rules`. :class:`KeyedRuleError` lets a check made above the
key at fault still name that key in the error (see :func:`geo_ip.rules.toml_io.validate`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

__all__ = [
    "HIERARCHIES",
    "LEVEL_CODES",
    "Frozen",
    "Hierarchy",
    "KeyedRuleError",
    "LevelCode",
    "OptionalParam",
    "Param",
    "at_most",
    "distinct",
    "non_negative",
    "ordered",
    "percentile",
    "positive",
]

LevelCode = Literal["I", "II", "III"]
"""Code of a reference level of Art. 9 (§6, §8, §10, §12)."""
LEVEL_CODES: tuple[LevelCode, ...] = ("I", "II", "III")
"""Level codes from the best (I) to the lowest (III)."""
Hierarchy = Literal["principal", "secundaria", "local"]
"""Road hierarchy classes of the territory (``hierarquia_via``), Art. 9 §8, I–III."""
HIERARCHIES: tuple[Hierarchy, ...] = ("principal", "secundaria", "local")
"""Every class of :data:`Hierarchy`, from the most important (§8, I) to the least (§8, III)."""


class Frozen(BaseModel):
    """Base of the rules models: immutable, no unknown key, every number finite."""

    # every number of a rules file is finite: nan and inf are refused (issue 17)
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Param(Frozen):
    """A number with its unit and its source (article, norm or "a definir em decreto")."""

    valor: float
    unidade: str = ""
    fonte: str = Field(min_length=3)

    @property
    def to_be_decreed(self) -> bool:
        """Whether the value is a technical suggestion pending the regulating decree."""
        return "a definir em decreto" in self.fonte.lower()


class OptionalParam(Frozen):
    """A number that may still be unknown: ``valor`` omitted means "a definir" (see ``fonte``)."""

    valor: float | None = None
    unidade: str = ""
    fonte: str = Field(min_length=3)

    @field_validator("valor")
    @classmethod
    def _positive_when_given(cls, value: float | None) -> float | None:
        if value is not None and not value > 0:
            raise ValueError(f"deve ser maior que zero (valor {value:g}); omita-o se a definir")
        return value


class KeyedRuleError(ValueError):
    """A rules inconsistency detected above the key at fault (reported under ``key``)."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(message)


_Check = Callable[[Param, ValidationInfo], Param]


def _bound(accepts: Callable[[float], bool], words: str) -> _Check:
    """Field validator whose message names the field and ``words`` what the value must be."""

    def check(value: Param, info: ValidationInfo) -> Param:
        if not accepts(value.valor):
            raise ValueError(f"{info.field_name} {words} (valor {value.valor:g})")
        return value

    return check


positive = _bound(lambda value: value > 0, "deve ser maior que zero")
"""Field validator ``(value, info) -> value``: the parameter's value must be greater than zero."""
non_negative = _bound(lambda value: value >= 0, "não pode ser negativo")
"""Field validator ``(value, info) -> value``: the parameter's value must not be negative."""


def at_most(limit: float, why: str) -> _Check:
    """Field validator factory: the parameter's value must not exceed ``limit``.

    Parameters
    ----------
    limit : float
        Largest value accepted.
    why : str
        Why, in Portuguese (the message's parenthesis).

    Returns
    -------
    callable
        A field validator ``(value, info) -> value``.
    """

    def check(value: Param, info: ValidationInfo) -> Param:
        if value.valor > limit:
            raise ValueError(
                f"{info.field_name} deve ser no máximo {limit:g} ({why}; valor {value.valor:g})"
            )
        return value

    return check


def percentile(value: Param) -> Param:
    """Field validator: a percentile is at most 100.

    Parameters
    ----------
    value : Param
        The parameter read.

    Returns
    -------
    Param
        ``value``, unchanged.

    Raises
    ------
    ValueError
        When ``value.valor`` is above 100.
    """
    if value.valor > 100:
        raise ValueError(f"percentil acima de 100 ({value.valor:g})")
    return value


def distinct(value: tuple[str, ...]) -> tuple[str, ...]:
    """Field validator: no value is listed twice.

    Parameters
    ----------
    value : tuple of str
        The list read.

    Returns
    -------
    tuple of str
        ``value``, unchanged.

    Raises
    ------
    ValueError
        Naming the repeated values.
    """
    repeated = sorted({v for v in value if value.count(v) > 1})
    if repeated:
        raise ValueError(f"valor repetido: {', '.join(repeated)}")
    return value


def ordered(model: BaseModel, *pairs: tuple[str, str]) -> None:
    """Raise when a threshold exceeds the next level's.

    Parameters
    ----------
    model : pydantic.BaseModel
        The model holding the :class:`Param` fields.
    *pairs : tuple of (str, str)
        ``(a, b)``: the value of field ``a`` must be at most that of field ``b``.

    Raises
    ------
    ValueError
        Naming the first pair out of order.
    """
    for name_a, name_b in pairs:
        a, b = getattr(model, name_a).valor, getattr(model, name_b).valor
        if a > b:
            raise ValueError(
                f"limites fora de ordem: {name_a} ({a:g}) deve ser menor ou igual a "
                f"{name_b} ({b:g})"
            )
