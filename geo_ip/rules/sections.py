"""The sections of a rules file about the municipality and its works, one model each.

Identification (``[municipio]``, ``[lei]``), financial hardship
(``[hipossuficiencia]``), the bill of materials (``[custos_unitarios]``, ``[rede]``,
``[iluminacao]``), beneficiaries, the plausibility limits of the requests
spreadsheet (``[validacao]``), the radii of the evidence (``[avaliacao]``), the
utility's cadastre (``[cadastro]``) and the budget (``[orcamento]``). The sections
the law locks are in :mod:`geo_ip.rules.law_locks`, the road classification in
:mod:`geo_ip.rules.road_rules`, the scoring in :mod:`geo_ip.rules.scoring_rules`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from geo_ip.rules.params import (
    Frozen,
    OptionalParam,
    Param,
    at_most,
    non_negative,
    positive,
)

__all__ = [
    "MAX_DECLARED_COUNT",
    "Assessment",
    "Beneficiaries",
    "Budget",
    "CadastreRules",
    "Hardship",
    "Law",
    "Lighting",
    "MinimumWage",
    "Municipality",
    "Network",
    "RequestType",
    "UnitCosts",
    "Validation",
]

MAX_DECLARED_COUNT = 1_000_000
"""Largest ``residencias`` or ``moradores`` a request may declare (beyond: a row error);
the plausibility limits of ``[validacao]`` cannot exceed it."""


class Municipality(Frozen):
    """Identification of the municipality."""

    nome: str
    uf: str = Field(pattern=r"^[A-Z]{2}$")
    codigo_ibge: int = Field(ge=1_000_000, le=9_999_999)
    crs: str | None = None
    crs_fonte: str | None = None
    distribuidora: str | None = None
    ficticio: bool = False
    """True for the bundled demo: every output is labelled as fictional data."""


class Law(Frozen):
    """The municipal law implemented by these rules."""

    numero: str
    data: str
    ementa: str = ""


RequestType = Literal["extensao_rede", "implantacao", "melhoria"]
"""The three request types of Art. 2 (I, II and III)."""


class MinimumWage(Frozen):
    """The national minimum wage the income limits are expressed in (value, date, source)."""

    valor: float = Field(gt=0)
    unidade: str = "R$/mês"
    vigencia: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    fonte: str = Field(min_length=3)


class Hardship(Frozen):
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


class UnitCosts(Frozen):
    """Unit costs of the bill of materials (R$)."""

    poste: Param
    braco: Param
    luminaria: Param
    condutor_bt: Param
    transformador: Param

    _check_non_negative = field_validator("*")(non_negative)


class Network(Frozen):
    """Technical parameters of the network extension."""

    vao_postes: Param
    alcance_bt: Param
    fator_desvio: Param
    distancia_maxima_via: Param
    distancia_maxima_rede_via: Param
    usar_mt_com_transformador: bool = True

    _check_positive = field_validator(
        "vao_postes", "alcance_bt", "distancia_maxima_via", "distancia_maxima_rede_via"
    )(positive)

    @field_validator("fator_desvio")
    @classmethod
    def _detour_at_least_one(cls, value: Param) -> Param:
        if not value.valor >= 1:
            raise ValueError(
                f"fator_desvio deve ser ao menos 1: o caminho pela via nunca é mais curto que a "
                f"linha reta (valor {value.valor:g})"
            )
        return value


class Lighting(Frozen):
    """Lighting energy parameters."""

    horas_por_dia: Param
    potencia_padrao: Param

    _check_positive = field_validator("*")(positive)
    _check_hours = field_validator("horas_por_dia")(at_most(24, "um dia tem 24 horas"))


class Beneficiaries(Frozen):
    """Parameters to estimate beneficiaries."""

    moradores_por_domicilio: Param

    _check_positive = field_validator("*")(positive)


class Validation(Frozen):
    """Plausibility limits applied when checking the requests spreadsheet (``pedidos``).

    Values above these limits are not refused: the row is kept with a warning
    (``situacao = aviso``) so that a clerk checks the declaration.
    """

    residencias_maximas: Param
    moradores_maximos: Param
    moradores_por_residencia_maximo: Param
    idade_maxima_protocolo: Param
    residencias_por_edificacao_maxima: Param

    _check_positive = field_validator("*")(positive)
    _check_counts = field_validator("residencias_maximas", "moradores_maximos")(
        at_most(
            MAX_DECLARED_COUNT,
            "acima disto a planilha de pedidos recusa o número como erro de digitação",
        )
    )


class Assessment(Frozen):
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

    _check_positive = field_validator("*")(positive)


class CadastreRules(Frozen):
    """The utility's public-lighting cadastre and the lighting invoice (``[cadastro]``).

    Used by ``geo-ip cadastro``: the municipality's CNPJ for the official letter (empty
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
    )(positive)

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


class Budget(Frozen):
    """Budget-limited selection (Art. 13: subject to the municipality's budget)."""

    estrito: bool = False
    """False: a request that does not fit waits and cheaper later ones are still
    considered; True: the selection stops at the first request that does not fit."""
