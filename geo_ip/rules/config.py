"""Municipality rules: load and validate ``data/municipios/<name>.toml``.

The rules file holds every number the law leaves to regulation, each with its
source. It is loaded into frozen pydantic models; any problem is reported as a
:class:`~geo_ip.errors.RulesError` naming the offending key.
"""

from __future__ import annotations

import hashlib
import itertools
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from geo_ip._util.paths import resource_dir
from geo_ip.errors import RulesError

CRITERIA = ("beneficiarios", "seguranca", "trafego", "custo_beneficio", "viabilidade")
"""The five criteria of Art. 9, in the law's order."""

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

MAX_DECLARED_COUNT = 1_000_000
"""Largest ``residencias`` or ``moradores`` a request may declare (beyond: a row error);
the plausibility limits of ``[validacao]`` cannot exceed it."""

LevelCode = Literal["I", "II", "III"]
"""Code of a reference level of Art. 9 (§6, §8, §10, §12)."""
LEVEL_CODES: tuple[LevelCode, ...] = ("I", "II", "III")
"""Level codes from the best (I) to the lowest (III)."""
Hierarchy = Literal["principal", "secundaria", "local"]
"""Road hierarchy classes of the territory (``hierarquia_via``)."""


class _Frozen(BaseModel):
    # every number of a rules file is finite: nan and inf are refused (issue 17)
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Param(_Frozen):
    """A number with its unit and its source (article, norm or "a definir em decreto")."""

    valor: float
    unidade: str = ""
    fonte: str = Field(min_length=3)

    @property
    def to_be_decreed(self) -> bool:
        """Whether the value is a technical suggestion pending the regulating decree."""
        return "a definir em decreto" in self.fonte.lower()


def _positive(value: Param, info: ValidationInfo) -> Param:
    """Field validator: the parameter's value must be greater than zero."""
    if not value.valor > 0:
        raise ValueError(f"{info.field_name} deve ser maior que zero (valor {value.valor:g})")
    return value


def _non_negative(value: Param, info: ValidationInfo) -> Param:
    """Field validator: the parameter's value must not be negative."""
    if value.valor < 0:
        raise ValueError(f"{info.field_name} não pode ser negativo (valor {value.valor:g})")
    return value


def _at_most(limit: float, why: str) -> Callable[[Param, ValidationInfo], Param]:
    """Field validator factory: the parameter's value must not exceed ``limit``."""

    def check(value: Param, info: ValidationInfo) -> Param:
        if value.valor > limit:
            raise ValueError(
                f"{info.field_name} deve ser no máximo {limit:g} ({why}; valor {value.valor:g})"
            )
        return value

    return check


class Municipality(_Frozen):
    """Identification of the municipality."""

    nome: str
    uf: str = Field(pattern=r"^[A-Z]{2}$")
    codigo_ibge: int = Field(ge=1_000_000, le=9_999_999)
    crs: str | None = None
    crs_fonte: str | None = None
    distribuidora: str | None = None
    ficticio: bool = False
    """True for the bundled demo: every output is labelled as fictional data."""


class Law(_Frozen):
    """The municipal law implemented by these rules."""

    numero: str
    data: str
    ementa: str = ""


class Level(_Frozen):
    """A reference level of a criterion (Art. 9 §6, §8, §10, §12)."""

    codigo: LevelCode
    descricao: str
    fonte_descricao: str
    pontos: Param


class Criterion(_Frozen):
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


class Criteria(_Frozen):
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


LAW_TIE_BREAK = ("beneficiarios", "seguranca", "custo_beneficio", "antiguidade_protocolo")
"""Art. 10 §1: the tie-break keys, "sucessivamente", in the law's order."""


class TieBreak(_Frozen):
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


class Band(_Frozen):
    """A cost-share band: from ``pontuacao_minima`` points, the municipality pays ``percentual``."""

    pontuacao_minima: float = Field(ge=0, le=100)
    percentual: float


class CostShare(_Frozen):
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


class OptionalParam(_Frozen):
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


class Eligibility(_Frozen):
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


RequestType = Literal["extensao_rede", "implantacao", "melhoria"]
"""The three request types of Art. 2 (I, II and III)."""


class MinimumWage(_Frozen):
    """The national minimum wage the income limits are expressed in (value, date, source)."""

    valor: float = Field(gt=0)
    unidade: str = "R$/mês"
    vigencia: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    fonte: str = Field(min_length=3)


class Hardship(_Frozen):
    """Financial hardship, the program's condition (Art. 1; Art. 2, IV; Art. 4 caput, §2).

    The income limit is left to regulation (Art. 2, IV, "levando em consideração os
    parâmetros do CadÚnico"): a monthly per-capita limit and/or a monthly family-income
    limit, each in minimum wages. A declared income within **either** limit proves
    hardship (§2, II); an active CadÚnico inscription proves it by itself (§2, I).
    """

    fonte: str = Field(min_length=3)
    tipos: tuple[RequestType, ...] = Field(min_length=1)
    fonte_tipos: str = Field(min_length=3)
    salario_minimo: MinimumWage
    renda_per_capita_maxima_sm: OptionalParam
    renda_familiar_maxima_sm: OptionalParam

    @model_validator(mode="after")
    def _some_limit(self) -> Hardship:
        if self.renda_per_capita_maxima_sm.valor is None and (
            self.renda_familiar_maxima_sm.valor is None
        ):
            raise ValueError(
                "informe ao menos um limite de renda (renda_per_capita_maxima_sm ou "
                "renda_familiar_maxima_sm), Art. 2, IV"
            )
        if len(set(self.tipos)) != len(self.tipos):
            raise ValueError("tipo de pedido repetido em hipossuficiencia.tipos")
        return self

    @property
    def per_capita_limit_rs(self) -> float | None:
        """Monthly per-capita income limit in R$ (``None`` when not used)."""
        factor = self.renda_per_capita_maxima_sm.valor
        return None if factor is None else round(factor * self.salario_minimo.valor, 2)

    @property
    def family_limit_rs(self) -> float | None:
        """Monthly family income limit in R$ (``None`` when not used)."""
        factor = self.renda_familiar_maxima_sm.valor
        return None if factor is None else round(factor * self.salario_minimo.valor, 2)


class UnitCosts(_Frozen):
    """Unit costs of the bill of materials (R$)."""

    poste: Param
    braco: Param
    luminaria: Param
    condutor_bt: Param
    transformador: Param

    _check_non_negative = field_validator("*")(_non_negative)


class Network(_Frozen):
    """Technical parameters of the network extension."""

    vao_postes: Param
    alcance_bt: Param
    fator_desvio: Param
    distancia_maxima_via: Param
    distancia_maxima_rede_via: Param
    usar_mt_com_transformador: bool = True

    _check_positive = field_validator(
        "vao_postes", "alcance_bt", "distancia_maxima_via", "distancia_maxima_rede_via"
    )(_positive)

    @field_validator("fator_desvio")
    @classmethod
    def _detour_at_least_one(cls, value: Param) -> Param:
        if not value.valor >= 1:
            raise ValueError(
                f"fator_desvio deve ser ao menos 1: o caminho pela via nunca é mais curto que a "
                f"linha reta (valor {value.valor:g})"
            )
        return value


class Lighting(_Frozen):
    """Lighting energy parameters."""

    horas_por_dia: Param
    potencia_padrao: Param

    _check_positive = field_validator("*")(_positive)
    _check_hours = field_validator("horas_por_dia")(_at_most(24, "um dia tem 24 horas"))


class Beneficiaries(_Frozen):
    """Parameters to estimate beneficiaries."""

    moradores_por_domicilio: Param

    _check_positive = field_validator("*")(_positive)


class Validation(_Frozen):
    """Plausibility limits applied when checking the requests spreadsheet (``pedidos``).

    Values above these limits are not refused: the row is kept with a warning
    (``situacao = aviso``) so that a clerk checks the declaration.
    """

    residencias_maximas: Param
    moradores_maximos: Param
    moradores_por_residencia_maximo: Param
    idade_maxima_protocolo: Param
    residencias_por_edificacao_maxima: Param

    _check_positive = field_validator("*")(_positive)
    _check_counts = field_validator("residencias_maximas", "moradores_maximos")(
        _at_most(
            MAX_DECLARED_COUNT,
            "acima disto a planilha de pedidos recusa o número como erro de digitação",
        )
    )


class KeyedRuleError(ValueError):
    """A rules inconsistency detected above the key at fault (reported under ``key``)."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(message)


def _ordered(model: BaseModel, *pairs: tuple[str, str]) -> None:
    """Raise when a threshold exceeds the next level's (``(a, b)``: ``a`` must be ≤ ``b``)."""
    for name_a, name_b in pairs:
        a, b = getattr(model, name_a).valor, getattr(model, name_b).valor
        if a > b:
            raise ValueError(
                f"limites fora de ordem: {name_a} ({a:g}) deve ser menor ou igual a "
                f"{name_b} ({b:g})"
            )


class Assessment(_Frozen):
    """Radii and periods used to gather the evidence of each request (``[avaliacao]``).

    ``incerteza_maxima_m`` is the largest location uncertainty (``incerteza_m`` of the
    geocoder, metres) a request may have and still be ranked: above it the evidence is
    computed along the candidate stretch, given as a range, and the request waits for
    the Commission to confirm the place (``pendente_localizacao``).
    """

    raio_edificacoes_m: Param
    raio_equipamentos_m: Param
    raio_seguranca_m: Param
    distancia_parada_via_m: Param
    raio_ocorrencias_m: Param
    periodo_ocorrencias_meses: Param
    distancia_escuro_m: Param
    amostra_intermediacao: Param
    incerteza_maxima_m: Param

    _check_positive = field_validator("*")(_positive)


class Step(_Frozen):
    """One step of a step table: from ``a_partir_de`` (inclusive), ``pontos`` points."""

    a_partir_de: float = Field(ge=0)
    pontos: float = Field(ge=0)


class StepTable(_Frozen):
    """Points by steps of a count (a sub-component of criterion I, Art. 9 §3).

    A value below the first step scores 0; otherwise it scores the points of the
    highest step reached.
    """

    descricao: str
    fonte_descricao: str
    unidade: str
    fonte: str = Field(min_length=3)
    degraus: tuple[Step, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _steps_in_order(self) -> StepTable:
        for previous, step in zip(self.degraus, self.degraus[1:], strict=False):
            if step.a_partir_de <= previous.a_partir_de:
                raise ValueError(
                    f"degraus fora de ordem: a_partir_de {step.a_partir_de:g} depois de "
                    f"{previous.a_partir_de:g} (devem ser crescentes)"
                )
            if step.pontos < previous.pontos:
                raise ValueError(
                    f"degraus fora de ordem: {step.pontos:g} pontos a partir de "
                    f"{step.a_partir_de:g}, menos que os {previous.pontos:g} pontos do degrau "
                    "anterior"
                )
        return self

    @property
    def maximo(self) -> float:
        """Highest number of points of the table."""
        return max(step.pontos for step in self.degraus)

    def points_for(self, value: float) -> float:
        """Return the points for a value (0 below the first step, and for NaN).

        Parameters
        ----------
        value : float
            The count (residences, residents, facilities...).

        Returns
        -------
        float
            Points of the highest step whose ``a_partir_de`` is ≤ ``value``.
        """
        reached = [step.pontos for step in self.degraus if value >= step.a_partir_de]
        return reached[-1] if reached else 0.0


class CollectiveUse(_Frozen):
    """Points for the collective use of the road (Art. 9 §3, IV)."""

    fonte_descricao: str
    via_de_passagem: Param
    parada_onibus_via: Param

    _check_non_negative = field_validator("via_de_passagem", "parada_onibus_via")(_non_negative)

    @property
    def maximo(self) -> float:
        """Highest number of points of this sub-component."""
        return self.via_de_passagem.valor + self.parada_onibus_via.valor


class BeneficiaryScoring(_Frozen):
    """Sub-components of criterion I (Art. 9 §3, I–IV); their maxima sum to at most its weight."""

    residencias: StepTable
    moradores: StepTable
    equipamentos: StepTable
    uso_coletivo: CollectiveUse

    @property
    def maximo(self) -> float:
        """Sum of the maxima of the sub-components."""
        return (
            self.residencias.maximo
            + self.moradores.maximo
            + self.equipamentos.maximo
            + self.uso_coletivo.maximo
        )


AttentionPoint = Literal[
    "travessias", "paradas_onibus", "escolas", "creches", "unidades_saude", "pracas"
]
"""Evidence count columns that mark a point of attention for road safety (Art. 9 §5, III)."""


class SafetyScoring(_Frozen):
    """Thresholds of the safety levels (Art. 9 §6); the decision rule is in the rules file."""

    ocorrencias_nivel_i: Param
    vulneraveis_nivel_i: Param
    travessias_nivel_i: Param
    hierarquias_nivel_i: tuple[Hierarchy, ...]
    ocorrencias_nivel_ii: Param
    pontos_de_atencao: tuple[AttentionPoint, ...] = Field(min_length=1)

    _check_positive = field_validator(
        "ocorrencias_nivel_i", "vulneraveis_nivel_i", "travessias_nivel_i", "ocorrencias_nivel_ii"
    )(_positive)

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> SafetyScoring:
        _ordered(self, ("ocorrencias_nivel_ii", "ocorrencias_nivel_i"))
        return self


class HierarchyLevels(_Frozen):
    """Base traffic level of each road class (Art. 9 §8)."""

    principal: LevelCode
    secundaria: LevelCode
    local: LevelCode

    @model_validator(mode="after")
    def _levels_in_order(self) -> HierarchyLevels:
        ranks = [LEVEL_CODES.index(self.principal), LEVEL_CODES.index(self.secundaria)]
        ranks.append(LEVEL_CODES.index(self.local))
        if ranks != sorted(ranks):
            raise ValueError(
                "níveis fora de ordem: a via principal não pode ter nível pior que a "
                "secundária, nem a secundária pior que a local"
            )
        return self


class TrafficScoring(_Frozen):
    """Traffic levels (Art. 9 §8): a relevant link is level I (§8, I); a bus stop promotes one."""

    nivel_por_hierarquia: HierarchyLevels
    intermediacao_percentil_promocao: Param
    paradas_onibus_via_promocao: Param

    _check_positive = field_validator(
        "intermediacao_percentil_promocao", "paradas_onibus_via_promocao"
    )(_positive)

    @field_validator("intermediacao_percentil_promocao")
    @classmethod
    def _percentile(cls, value: Param) -> Param:
        if value.valor > 100:
            raise ValueError(f"percentil acima de 100 ({value.valor:g})")
        return value


class CostBenefitScoring(_Frozen):
    """Cost per beneficiary thresholds of the cost-benefit levels (Art. 9 §10)."""

    nivel_i_ate_rs: Param
    nivel_ii_ate_rs: Param

    _check_positive = field_validator("*")(_positive)

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> CostBenefitScoring:
        _ordered(self, ("nivel_i_ate_rs", "nivel_ii_ate_rs"))
        return self


DistanceMethod = Literal["via", "reta_fator_desvio", "sem_rede", "sem_localizacao"]
"""Values of ``metodo_distancia`` (see docs/assessment.md)."""


class ViabilityScoring(_Frozen):
    """Thresholds and caps of the technical viability levels (Art. 9 §12)."""

    distancia_nivel_i_m: Param
    declividade_nivel_i_pct: Param
    distancia_nivel_ii_m: Param
    declividade_nivel_ii_pct: Param
    metodos_sem_conexao_viaria: tuple[DistanceMethod, ...]
    nivel_maximo_sem_conexao_viaria: LevelCode
    nivel_maximo_sem_pavimento: LevelCode

    _check_positive = field_validator(
        "distancia_nivel_i_m",
        "declividade_nivel_i_pct",
        "distancia_nivel_ii_m",
        "declividade_nivel_ii_pct",
    )(_positive)

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> ViabilityScoring:
        _ordered(
            self,
            ("distancia_nivel_i_m", "distancia_nivel_ii_m"),
            ("declividade_nivel_i_pct", "declividade_nivel_ii_pct"),
        )
        return self


class Scoring(_Frozen):
    """How the evidence becomes suggested points, criterion by criterion (``[pontuacao]``)."""

    beneficiarios: BeneficiaryScoring
    seguranca: SafetyScoring
    trafego: TrafficScoring
    custo_beneficio: CostBenefitScoring
    viabilidade: ViabilityScoring


Art12Facility = Literal["escolas", "creches", "unidades_saude", "centros_comunitarios"]
"""Evidence count columns of facilities whose access signals a high-flow rural road
(Art. 12 §1: "acesso a comunidades rurais, escolas, unidades de saúde ou centros
comunitários")."""
Art12Sign = Literal["circulacao", "transporte", "acesso", "producao"]
"""The four families of signs of a high-flow rural road, in the order of Art. 12 §1."""
ART12_SIGNS: tuple[Art12Sign, ...] = ("circulacao", "transporte", "acesso", "producao")
"""Every family of :data:`Art12Sign`, in the law's order (the default of ``art12.sinais``)."""


class Art12(_Frozen):
    """Signs of a high-flow rural road (Art. 12 §1): an indication, never a decision.

    A request on a rural road (``via_rural``) with at least one sign of an enabled
    family (``sinais``) is flagged ``indicio_art12``; only the Executive, in its own
    administrative procedure, decides the direct execution (Art. 12 §2). The families:

    ``circulacao``
        Intense circulation: the road is a relevant link (``intermediacao_percentil`` at
        least ``intermediacao_percentil_minima``) or serves many buildings
        (``edificacoes_trecho`` at least ``edificacoes_minimas``).
    ``transporte``
        School or public transport: ``paradas_onibus_via`` at least
        ``paradas_onibus_via_minimas``.
    ``acesso``
        Access to schools, health units and community centres: the sum of the counts
        ``equipamentos_sinal`` (within ``avaliacao.raio_seguranca_m``) at least
        ``equipamentos_minimos``.
    ``producao``
        Rural production: ``producao_rural`` (farmland, farmyards, silos, agro-industry
        within ``raio_producao_m``) at least ``producao_minima``.
    """

    sinais: tuple[Art12Sign, ...] = ART12_SIGNS
    intermediacao_percentil_minima: Param
    edificacoes_minimas: Param
    paradas_onibus_via_minimas: Param
    equipamentos_sinal: tuple[Art12Facility, ...] = Field(
        default=("escolas", "creches", "unidades_saude", "centros_comunitarios"), min_length=1
    )
    equipamentos_minimos: Param
    raio_producao_m: Param
    producao_minima: Param

    _check_positive = field_validator(
        "intermediacao_percentil_minima",
        "edificacoes_minimas",
        "paradas_onibus_via_minimas",
        "equipamentos_minimos",
        "raio_producao_m",
        "producao_minima",
    )(_positive)

    @field_validator("intermediacao_percentil_minima")
    @classmethod
    def _percentile(cls, value: Param) -> Param:
        if value.valor > 100:
            raise ValueError(f"percentil acima de 100 ({value.valor:g})")
        return value

    @field_validator("sinais", "equipamentos_sinal")
    @classmethod
    def _no_repeats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        repeated = sorted({v for v in value if value.count(v) > 1})
        if repeated:
            raise ValueError(f"valor repetido: {', '.join(repeated)}")
        return value


class CadastreRules(_Frozen):
    """The utility's public-lighting cadastre and the lighting invoice (``[cadastro]``).

    Used by ``geo-ip cadastre``: the municipality's CNPJ for the official letter (empty
    when not yet given: the command then demands ``--cnpj``), the distributor it is
    addressed to, the tariff and the billing-month convention of the invoice estimate,
    and the tolerances of the as-built checks and of the cadastre audit.
    """

    cnpj: str = ""
    fonte_cnpj: str = Field(min_length=3)
    distribuidora: str = Field(min_length=2)
    tarifa_ip: OptionalParam
    dias_por_mes: Param
    tipo_lampada_padrao: str = Field(min_length=1)
    potencia_maxima_w: Param
    distancia_maxima_obra_m: Param
    tolerancia_auditoria_m: Param

    _check_positive = field_validator(
        "dias_por_mes", "potencia_maxima_w", "distancia_maxima_obra_m", "tolerancia_auditoria_m"
    )(_positive)

    @field_validator("dias_por_mes")
    @classmethod
    def _days_in_a_month(cls, value: Param) -> Param:
        if value.valor > 31:
            raise ValueError(f"um mês não tem {value.valor:g} dias")
        return value

    @property
    def is_cemig(self) -> bool:
        """Whether the distributor is CEMIG (the medida 060 procedure is CEMIG's)."""
        return "cemig" in self.distribuidora.lower()


class Budget(_Frozen):
    """Budget-limited selection (Art. 13: subject to the municipality's budget)."""

    estrito: bool = False
    """False: a request that does not fit waits and cheaper later ones are still
    considered; True: the selection stops at the first request that does not fit."""


class Rules(_Frozen):
    """All rules of one municipality, validated and immutable."""

    versao: str
    descricao: str = ""
    municipio: Municipality
    lei: Law
    criterios: Criteria
    desempate: TieBreak
    participacao: CostShare
    elegibilidade: Eligibility
    hipossuficiencia: Hardship
    custos_unitarios: UnitCosts
    rede: Network
    iluminacao: Lighting
    beneficiarios: Beneficiaries
    validacao: Validation
    avaliacao: Assessment
    pontuacao: Scoring
    art12: Art12
    orcamento: Budget = Budget()
    cadastro: CadastreRules | None = None
    """Optional: only ``geo-ip cadastre`` needs it (and refuses to run without it)."""
    # Set by the loader, not by the file.
    arquivo: str = ""
    sha256: str = ""

    @model_validator(mode="after")
    def _scoring_fits_criteria(self) -> Rules:
        weight = self.criterios.beneficiarios.peso.valor
        total = self.pontuacao.beneficiarios.maximo
        if total > weight + 1e-9:
            raise KeyedRuleError(
                "pontuacao.beneficiarios",
                f"a soma dos máximos dos subcritérios é {total:g} pontos, acima do peso de "
                f"{weight:g} pontos do critério (criterios.beneficiarios.peso, Art. 9, I)",
            )
        for name in CRITERIA[1:]:
            codes = sorted(level.codigo for level in getattr(self.criterios, name).niveis)
            if codes != sorted(LEVEL_CODES):
                raise KeyedRuleError(
                    f"criterios.{name}.niveis",
                    "o critério deve ter exatamente os níveis I, II e III (Art. 9 §6, §8, §10, "
                    f"§12); encontrados: {', '.join(codes) or 'nenhum'}",
                )
        return self

    def level_points(self, criterion: str) -> dict[str, float]:
        """Return the points of each level code of a criterion with levels.

        Parameters
        ----------
        criterion : str
            One of ``seguranca``, ``trafego``, ``custo_beneficio``, ``viabilidade``.

        Returns
        -------
        dict of str to float
            ``{"I": ..., "II": ..., "III": ...}``.
        """
        return {lv.codigo: lv.pontos.valor for lv in getattr(self.criterios, criterion).niveis}


def rules_path(name_or_path: str | Path) -> Path:
    """Resolve a rules name (``"extrema"``) or a path to a TOML file.

    Parameters
    ----------
    name_or_path : str or Path
        Either the stem of a file in ``data/municipios/`` or a path.

    Returns
    -------
    Path
        Path of the rules file.
    """
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        return candidate
    return resource_dir("data") / "municipios" / f"{name_or_path}.toml"


def _key(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as a TOML-like key (``a.b[0].c``)."""
    return "".join(f"[{item}]" if isinstance(item, int) else f".{item}" for item in loc).lstrip(".")


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_toml(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], bytes]:
    """Read a rules file, resolving ``herda = "<name>"`` (inherit from another file)."""
    if not path.is_file():
        raise RulesError("arquivo de regras do município não encontrado", path=path)
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulesError(f"o arquivo de regras não é um TOML válido ({exc})", path=path) from exc
    parent = data.pop("herda", None)
    if parent is None:
        return data, raw
    parent_path = rules_path(parent) if not Path(parent).is_absolute() else Path(parent)
    if not parent_path.is_absolute() and not parent_path.exists():
        parent_path = path.parent / f"{parent}.toml"
    if parent_path.resolve() in seen:
        raise RulesError("herança circular entre arquivos de regras", path=path, field="herda")
    base, base_raw = _read_toml(parent_path, (*seen, path.resolve()))
    return _merge(base, data), base_raw + raw


_PT_ERRORS = {
    "missing": "chave obrigatória ausente",
    "extra_forbidden": "chave desconhecida",
    "float_parsing": "deve ser um número",
    "float_type": "deve ser um número",
    "int_parsing": "deve ser um número inteiro",
    "int_type": "deve ser um número inteiro",
    "string_type": "deve ser um texto",
    "bool_type": "deve ser true ou false",
    "bool_parsing": "deve ser true ou false",
    "literal_error": "valor não permitido",
    "string_pattern_mismatch": "formato inválido",
    "string_too_short": "texto curto demais (informe a fonte)",
    "greater_than_equal": "valor abaixo do mínimo",
    "greater_than": "valor abaixo do mínimo",
    "less_than_equal": "valor acima do máximo",
    "less_than": "valor acima do máximo",
    "finite_number": "deve ser um número finito (nan e inf não são aceitos)",
    "too_short": "lista vazia",
    "model_type": "deve ser uma tabela",
    "tuple_type": "deve ser uma lista",
}


def load_rules(name_or_path: str | Path = "extrema") -> Rules:
    """Load and validate a municipality rules file.

    Parameters
    ----------
    name_or_path : str or Path, default "extrema"
        Name of a bundled rules file or path to one. A file may start with
        ``herda = "<name>"`` to inherit every key of another rules file and
        override only some; the hash then covers both files.

    Returns
    -------
    Rules
        Frozen, validated rules, with ``arquivo`` and ``sha256`` filled in.

    Raises
    ------
    RulesError
        If the file is missing, is not valid TOML, or a key is missing or invalid;
        the message names the key.
    """
    path = rules_path(name_or_path)
    data, raw = _read_toml(path)
    try:
        rules = Rules.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = _key(tuple(first["loc"]))
        reason = _PT_ERRORS.get(first["type"], first["msg"])
        if first["type"] == "value_error":
            error = first.get("ctx", {}).get("error", first["msg"])
            reason = str(error)
            if isinstance(error, KeyedRuleError):
                key = ".".join(part for part in (key, error.key) if part)
        more = len(exc.errors()) - 1
        extra = f" (e mais {more} problema(s))" if more else ""
        raise RulesError(f"{reason}{extra}", path=path, field=key or None) from exc
    digest = hashlib.sha256(raw).hexdigest()
    return rules.model_copy(update={"arquivo": str(path), "sha256": digest})
