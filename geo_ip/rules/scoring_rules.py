"""How the evidence becomes suggested points (``[pontuacao]``) and the signs of Art. 12.

One model per criterion of Art. 9: the step tables of criterion I (§3), the
thresholds of the levels of criteria II to V (§6, §8, §10, §12), and the families of
signs of a high-flow rural road (``[art12]``, Art. 12 §1). The decision rules
themselves are written in the rules file's comments and applied by
:mod:`geo_ip.law.scoring`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from geo_ip.rules.params import (
    LEVEL_CODES,
    Frozen,
    Hierarchy,
    LevelCode,
    Param,
    distinct,
    non_negative,
    ordered,
    percentile,
    positive,
)

__all__ = [
    "ART12_SIGNS",
    "Art12",
    "Art12Facility",
    "Art12Sign",
    "AttentionPoint",
    "BeneficiaryScoring",
    "CollectiveUse",
    "CostBenefitScoring",
    "DistanceMethod",
    "HierarchyLevels",
    "SafetyScoring",
    "Scoring",
    "Step",
    "StepTable",
    "TrafficScoring",
    "ViabilityScoring",
]


class Step(Frozen):
    """One step of a step table: from ``a_partir_de`` (inclusive), ``pontos`` points."""

    a_partir_de: float = Field(ge=0)
    pontos: float = Field(ge=0)


class StepTable(Frozen):
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


class CollectiveUse(Frozen):
    """Points for the collective use of the road (Art. 9 §3, IV)."""

    fonte_descricao: str
    via_de_passagem: Param
    parada_onibus_via: Param

    _check_non_negative = field_validator("via_de_passagem", "parada_onibus_via")(non_negative)

    @property
    def maximo(self) -> float:
        """Highest number of points of this sub-component."""
        return self.via_de_passagem.valor + self.parada_onibus_via.valor


class BeneficiaryScoring(Frozen):
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


class SafetyScoring(Frozen):
    """Thresholds of the safety levels (Art. 9 §6); the decision rule is in the rules file."""

    ocorrencias_nivel_i: Param
    vulneraveis_nivel_i: Param
    travessias_nivel_i: Param
    hierarquias_nivel_i: tuple[Hierarchy, ...]
    ocorrencias_nivel_ii: Param
    pontos_de_atencao: tuple[AttentionPoint, ...] = Field(min_length=1)

    _check_positive = field_validator(
        "ocorrencias_nivel_i", "vulneraveis_nivel_i", "travessias_nivel_i", "ocorrencias_nivel_ii"
    )(positive)

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> SafetyScoring:
        ordered(self, ("ocorrencias_nivel_ii", "ocorrencias_nivel_i"))
        return self


class HierarchyLevels(Frozen):
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


class TrafficScoring(Frozen):
    """Traffic levels (Art. 9 §8): a relevant link is level I (§8, I); a bus stop promotes one."""

    nivel_por_hierarquia: HierarchyLevels
    intermediacao_percentil_promocao: Param
    paradas_onibus_via_promocao: Param

    _check_positive = field_validator(
        "intermediacao_percentil_promocao", "paradas_onibus_via_promocao"
    )(positive)

    _check_percentile = field_validator("intermediacao_percentil_promocao")(percentile)


class CostBenefitScoring(Frozen):
    """Cost per beneficiary thresholds of the cost-benefit levels (Art. 9 §10)."""

    nivel_i_ate_rs: Param
    nivel_ii_ate_rs: Param

    _check_positive = field_validator("*")(positive)

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> CostBenefitScoring:
        ordered(self, ("nivel_i_ate_rs", "nivel_ii_ate_rs"))
        return self


DistanceMethod = Literal["via", "reta_fator_desvio", "sem_rede", "sem_localizacao"]
"""Values of ``metodo_distancia`` (see docs/assessment.md)."""


class ViabilityScoring(Frozen):
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
    )(positive)

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> ViabilityScoring:
        ordered(
            self,
            ("distancia_nivel_i_m", "distancia_nivel_ii_m"),
            ("declividade_nivel_i_pct", "declividade_nivel_ii_pct"),
        )
        return self


class Scoring(Frozen):
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


class Art12(Frozen):
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
    )(positive)

    _check_percentile = field_validator("intermediacao_percentil_minima")(percentile)

    _check_distinct = field_validator("sinais", "equipamentos_sinal")(distinct)
