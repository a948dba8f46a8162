"""The parts of the rules the law itself fixes: a rules file must repeat them as they are.

Only what the law leaves to regulation (Art. 15) is editable in a rules file. The
numbers and the order fixed by Lei 5.442/2026 of Extrema/MG (the model law of
geo_ip) are locked here: the five criteria and their weights (Art. 9, I–V), the
100 points (Art. 8), the municipal share of 50 % to 100 % (Art. 4, caput), the
5 years of Art. 5, II and the tie-break of Art. 10 §1. A file that changes one is
refused with a message naming the article.
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from geo_ip.rules.params import LEVEL_CODES, Frozen, KeyedRuleError, LevelCode, Param
from geo_ip.schema import CRITERIA

__all__ = [
    "CRITERIA",
    "LAW_FIXED_PARAMS",
    "LAW_NAME",
    "LAW_REPEAT_YEARS",
    "LAW_SHARE_BOUNDS",
    "LAW_TIE_BREAK",
    "LAW_TOTAL",
    "LAW_WEIGHTS",
    "LAW_WEIGHT_ARTICLES",
    "Band",
    "CostShare",
    "Criteria",
    "Criterion",
    "Eligibility",
    "Level",
    "TieBreak",
]


# ---------------------------------------------------------------------------
# Numbers fixed by the law itself: a rules file must repeat them and cannot change
# them (only what the law leaves to regulation, Art. 15, is editable).
# ---------------------------------------------------------------------------
LAW_NAME = "Lei 5.442/2026"
"""The law whose fixed numbers are locked below (Extrema/MG, the model of every rules file)."""
LAW_WEIGHTS: dict[str, float] = {
    "beneficiarios": 40,
    "seguranca": 15,
    "trafego": 15,
    "custo_beneficio": 15,
    "viabilidade": 15,
}
"""Art. 9, I–V: the weight of each criterion, in points."""
LAW_WEIGHT_ARTICLES: dict[str, str] = {
    "beneficiarios": "Art. 9, I",
    "seguranca": "Art. 9, II",
    "trafego": "Art. 9, III",
    "custo_beneficio": "Art. 9, IV",
    "viabilidade": "Art. 9, V",
}
"""The article of each weight of :data:`LAW_WEIGHTS`."""
LAW_TOTAL = 100
"""Art. 8 (and Art. 9, caput): the scoring system has up to 100 points."""
LAW_SHARE_BOUNDS = (50, 100)
"""Art. 4, caput: the municipality pays from 50 % to 100 % of the work."""
LAW_REPEAT_YEARS = 5
"""Art. 5, II: no identical benefit to the same applicant within the last 5 years."""
LAW_FIXED_PARAMS: dict[str, str] = {
    **{f"criterios.{name}.peso": article for name, article in LAW_WEIGHT_ARTICLES.items()},
    "participacao.percentual_minimo": "Art. 4, caput",
    "participacao.percentual_maximo": "Art. 4, caput",
    "elegibilidade.anos_beneficio_identico": "Art. 5, II",
}
"""Key of every rules parameter whose value the law fixes, with its article.

Every other numeric parameter is left to regulation (Art. 15) or is a technical
choice; the tie-break order (:data:`LAW_TIE_BREAK`, Art. 10 §1) is fixed as well.
"""
LAW_TIE_BREAK = ("beneficiarios", "seguranca", "custo_beneficio", "antiguidade_protocolo")
"""Art. 10 §1: the tie-break keys, "sucessivamente", in the law's order."""


class Level(Frozen):
    """A reference level of a criterion (Art. 9 §6, §8, §10, §12)."""

    codigo: LevelCode
    descricao: str
    fonte_descricao: str
    pontos: Param


class Criterion(Frozen):
    """One of the five scoring criteria of Art. 9."""

    titulo: str
    peso: Param
    niveis: tuple[Level, ...] = ()

    @model_validator(mode="after")
    def _levels_within_weight(self) -> Criterion:
        codes = [level.codigo for level in self.niveis]
        if len(set(codes)) != len(codes):
            raise ValueError(f"nível repetido: {', '.join(codes)}")
        by_code = {level.codigo: level.pontos.valor for level in self.niveis}
        points = [by_code[code] for code in LEVEL_CODES if code in by_code]
        if points != sorted(points, reverse=True):
            raise ValueError(
                "pontos dos níveis fora de ordem: o nível I deve valer ao menos o II, e o II "
                "ao menos o III"
            )
        for level in self.niveis:
            if not 0 <= level.pontos.valor <= self.peso.valor:
                raise ValueError(
                    f"nível {level.codigo}: {level.pontos.valor:g} pontos fora de 0 a "
                    f"{self.peso.valor:g} (peso do critério)"
                )
        return self


class Criteria(Frozen):
    """The five criteria of Art. 9."""

    beneficiarios: Criterion
    seguranca: Criterion
    trafego: Criterion
    custo_beneficio: Criterion
    viabilidade: Criterion

    @model_validator(mode="before")
    @classmethod
    def _weights_are_the_laws(cls, data: Any) -> Any:
        # before the criteria themselves: a changed weight is reported as such, not
        # as a level above the weight (pydantic reports unreadable weights afterwards)
        if isinstance(data, dict):
            weights: dict[str, float] = {}
            for name in CRITERIA:
                raw = data.get(name)
                peso = raw.get("peso") if isinstance(raw, dict) else None
                value = peso.get("valor") if isinstance(peso, dict) else None
                if isinstance(value, int | float) and not isinstance(value, bool):
                    try:
                        weights[name] = float(value)
                    except OverflowError:  # an integer too large: pydantic reports it
                        continue
            _check_law_weights(weights)
        return data

    @model_validator(mode="after")
    def _weights_sum_to_the_laws(self) -> Criteria:
        _check_law_weights({name: getattr(self, name).peso.valor for name in CRITERIA})
        return self


def _check_law_weights(weights: dict[str, float]) -> None:
    """Raise :class:`KeyedRuleError` when a criterion's weight is not the law's (Art. 8, 9).

    Parameters
    ----------
    weights : dict of str to float
        Weight of each criterion read from the rules (criteria left out are not checked).

    Raises
    ------
    KeyedRuleError
        Naming ``<criterion>.peso`` of the first changed weight, its article, and the
        total of Art. 8 when the weights no longer sum to it.
    """
    changed = [name for name in CRITERIA if name in weights and weights[name] != LAW_WEIGHTS[name]]
    if not changed:
        return
    first = changed[0]
    message = (
        f"o peso do critério '{first}' é fixado em {LAW_WEIGHTS[first]:g} pontos pela "
        f"{LAW_NAME} ({LAW_WEIGHT_ARTICLES[first]}); o arquivo de regras não pode alterá-lo "
        f"(encontrado {weights[first]:g})"
    )
    others = [
        f"'{name}' ({weights[name]:g} em vez de {LAW_WEIGHTS[name]:g}, {LAW_WEIGHT_ARTICLES[name]})"
        for name in changed[1:]
    ]
    if others:
        message += "; também alterado(s): " + ", ".join(others)
    total = sum(weights.get(name, LAW_WEIGHTS[name]) for name in CRITERIA)
    if abs(total - LAW_TOTAL) > 1e-9:
        message = (
            f"a soma dos pesos é {total:g}, mas a {LAW_NAME} fixa o total em {LAW_TOTAL} "
            f"pontos (Art. 8); {message}"
        )
    raise KeyedRuleError(f"{first}.peso", message)


class TieBreak(Frozen):
    """Tie-break order of Art. 10 §1 (fixed by the law: the file must repeat it)."""

    ordem: tuple[
        Literal["beneficiarios", "seguranca", "custo_beneficio", "antiguidade_protocolo"], ...
    ]
    fonte: str

    @field_validator("ordem")
    @classmethod
    def _law_order(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if tuple(value) != LAW_TIE_BREAK:
            raise ValueError(
                f"a ordem de desempate é fixada pela {LAW_NAME} (Art. 10 §1): "
                f"{', '.join(LAW_TIE_BREAK)}; o arquivo de regras não pode alterá-la "
                f"(encontrado: {', '.join(value) or 'nenhum'})"
            )
        return value


class Band(Frozen):
    """A cost-share band: from ``pontuacao_minima`` points, the municipality pays ``percentual``."""

    pontuacao_minima: float = Field(ge=0, le=100)
    percentual: float


class CostShare(Frozen):
    """Municipal share of the cost (Art. 4)."""

    percentual_minimo: Param
    percentual_maximo: Param
    fonte_faixas: str
    faixas: tuple[Band, ...] = Field(min_length=1)
    percentual_art11: Param
    """Municipal share of a strategic work the Commission decided under Art. 11."""
    percentual_art12: Param
    """Municipal share of a direct execution the Executive decided under Art. 12."""

    @field_validator("percentual_minimo", "percentual_maximo")
    @classmethod
    def _bounds_are_the_laws(cls, value: Param, info: ValidationInfo) -> Param:
        low = info.field_name == "percentual_minimo"
        law = LAW_SHARE_BOUNDS[0] if low else LAW_SHARE_BOUNDS[1]
        if value.valor != law:
            raise ValueError(
                f"o percentual {'mínimo' if low else 'máximo'} de participação do Município é "
                f"fixado em {law:g} % pela {LAW_NAME} (Art. 4, caput); o arquivo de regras não "
                f"pode alterá-lo (encontrado {value.valor:g})"
            )
        return value

    @model_validator(mode="after")
    def _bands_within_law(self) -> CostShare:
        low, high = self.percentual_minimo.valor, self.percentual_maximo.valor
        for name in ("percentual_art11", "percentual_art12"):
            value = getattr(self, name).valor
            if not low <= value <= high:
                raise KeyedRuleError(
                    name, f"{value:g} % fora do intervalo de {low:g} % a {high:g} % do Art. 4"
                )
        for index, band in enumerate(self.faixas):
            if not low <= band.percentual <= high:
                raise KeyedRuleError(
                    f"faixas[{index}].percentual",
                    f"faixa a partir de {band.pontuacao_minima:g} pontos: {band.percentual:g} % "
                    f"fora do intervalo de {low:g} % a {high:g} % do Art. 4",
                )
        if not any(band.pontuacao_minima == 0 for band in self.faixas):
            raise ValueError(
                "as faixas devem cobrir a pontuação 0 (uma faixa com pontuacao_minima = 0)"
            )
        ordered = sorted(self.faixas, key=lambda b: b.pontuacao_minima)
        for lower, upper in itertools.pairwise(ordered):
            if upper.percentual < lower.percentual:
                raise ValueError(
                    f"a faixa a partir de {upper.pontuacao_minima:g} pontos paga "
                    f"{upper.percentual:g} %, menos que a de {lower.pontuacao_minima:g} pontos "
                    f"({lower.percentual:g} %): a participação cresce com a pontuação (Art. 4 §1)"
                )
        return self

    def share_for(self, score: float) -> float:
        """Return the municipal percentage for a total score.

        Parameters
        ----------
        score : float
            Total score (0–100).

        Returns
        -------
        float
            Percentage paid by the municipality, from the highest band reached.
        """
        reached = [b for b in self.faixas if score >= b.pontuacao_minima]
        return max(reached, key=lambda b: b.pontuacao_minima).percentual


class Eligibility(Frozen):
    """Eligibility rules of Art. 5 (uses and the repeat window)."""

    anos_beneficio_identico: Param
    usos_inelegiveis: tuple[str, ...]
    fonte_usos: str

    @field_validator("anos_beneficio_identico")
    @classmethod
    def _window_is_the_laws(cls, value: Param) -> Param:
        if value.valor != LAW_REPEAT_YEARS:
            raise ValueError(
                f"o prazo de benefício idêntico é fixado em {LAW_REPEAT_YEARS} anos pela "
                f"{LAW_NAME} (Art. 5, II); o arquivo de regras não pode alterá-lo "
                f"(encontrado {value.valor:g})"
            )
        return value
