"""The legal classification of the roads: hierarchy (Art. 9 §8) and rural road (Art. 12).

Both are rules of the municipality, not styles of a map: the territory
(``geo-ip territorio``) classifies every road edge with them, and the criteria read
the result (``hierarquia_via`` for traffic and safety, ``via_rural`` for the
indication of Art. 12).

``[hierarquia_viaria]``
    The crosswalk of the OpenStreetMap ``highway`` values onto the three classes of
    Art. 9 §8 (I principal, II secundária, III local): :class:`RoadHierarchy`.
``[via_rural]``
    The rule that decides which roads are rural: :class:`RuralRoads`.

The law names the classes but leaves the correspondence and the rural rule to
regulation (Art. 15); the bundled values are technical suggestions.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from geo_ip.rules.params import (
    HIERARCHIES,
    Frozen,
    Hierarchy,
    KeyedRuleError,
    Param,
    at_most,
    distinct,
    non_negative,
    positive,
)

__all__ = ["LINK_SUFFIX", "MAX_RURAL_DISTANCE_M", "RoadHierarchy", "RuralRoads"]

LINK_SUFFIX = "_link"
"""A ``highway`` ending in this (a ramp, ``primary_link``) takes its parent's class."""
MAX_RURAL_DISTANCE_M = 5_000.0
"""Largest distance of the rural rule: farther than this from buildings or from the
urban area, every road would count alike, rural or not."""
_MAX_JUNCTIONS = 1_000
"""Largest ``cruzamentos_minimos``: no radius of :data:`MAX_RURAL_DISTANCE_M` holds more."""


class RoadHierarchy(Frozen):
    """Crosswalk OSM ``highway`` → road hierarchy of Art. 9 §8 (``[hierarquia_viaria]``).

    Each class lists the ``highway`` values it takes; a value is in one class at
    most, and a ``*_link`` (ramp) takes the class of its parent road, so it is not
    listed. A value in no class gives an unknown hierarchy (traffic level III).
    """

    fonte: str = Field(min_length=3)
    principal: tuple[str, ...] = Field(min_length=1)
    """Art. 9 §8, I: via principal, estrutural ou de ligação relevante."""
    secundaria: tuple[str, ...] = Field(min_length=1)
    """Art. 9 §8, II: via secundária ou de fluxo intermediário."""
    local: tuple[str, ...] = Field(min_length=1)
    """Art. 9 §8, III: via local ou predominantemente residencial."""

    @field_validator("principal", "secundaria", "local")
    @classmethod
    def _plain_values(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for highway in value:
            if not highway.strip() or highway != highway.strip():
                raise ValueError(f"valor de highway inválido: '{highway}'")
            if highway.endswith(LINK_SUFFIX):
                raise ValueError(
                    f"'{highway}' não deve ser listado: a alça ({LINK_SUFFIX}) tem a classe da "
                    f"via-mãe ('{highway.removesuffix(LINK_SUFFIX)}')"
                )
        return distinct(value)

    @model_validator(mode="after")
    def _one_class_each(self) -> RoadHierarchy:
        seen: dict[str, str] = {}
        for name, values in self.classes.items():
            for highway in values:
                if highway in seen:
                    raise KeyedRuleError(
                        name,
                        f"highway '{highway}' está em duas classes ({seen[highway]} e {name}): "
                        "cada valor deve estar em exatamente uma classe da hierarquia viária "
                        "(Art. 9 §8)",
                    )
                seen[highway] = name
        return self

    @property
    def classes(self) -> dict[Hierarchy, tuple[str, ...]]:
        """The ``highway`` values of each class, from principal to local."""
        return {name: getattr(self, name) for name in HIERARCHIES}

    def hierarchy_of(self, highway: str) -> Hierarchy | None:
        """Return the hierarchy class of an OSM ``highway`` value.

        Parameters
        ----------
        highway : str
            OSM highway value; ``*_link`` takes its parent's class.

        Returns
        -------
        str or None
            ``"principal"``, ``"secundaria"``, ``"local"`` or None when unknown.
        """
        base = highway.removesuffix(LINK_SUFFIX)
        for name, values in self.classes.items():
            if base in values:
                return name
        return None


class RuralRoads(Frozen):
    """Which roads are rural (``[via_rural]``), applied in this order.

    1. When the data maps the urban area (at least one OSM polygon
       ``landuse = landuse_que_define_area_urbana`` in the territory's ``area_urbana``
       layer), a road is rural when its midpoint lies outside every urban land-use
       polygon widened by ``margem_area_urbana_m``.
    2. Otherwise a road is rural when its ``highway`` is one of ``highway_candidatos``
       and it lies far from built-up land: no building or address within
       ``distancia_edificacao_m`` of its midpoint and fewer than
       ``cruzamentos_minimos`` junctions (nodes of three or more streets) within
       ``raio_cruzamentos_m``.

    The branch applied is written in the territory's metadata (``regra_rural``).
    """

    fonte: str = Field(min_length=3)
    landuse_que_define_area_urbana: str = Field(min_length=1)
    margem_area_urbana_m: Param
    highway_candidatos: tuple[str, ...] = Field(min_length=1)
    distancia_edificacao_m: Param
    raio_cruzamentos_m: Param
    cruzamentos_minimos: Param

    _check_distinct = field_validator("highway_candidatos")(distinct)
    _check_non_negative = field_validator("margem_area_urbana_m")(non_negative)
    _check_positive = field_validator(
        "distancia_edificacao_m", "raio_cruzamentos_m", "cruzamentos_minimos"
    )(positive)
    _check_distances = field_validator(
        "margem_area_urbana_m", "distancia_edificacao_m", "raio_cruzamentos_m"
    )(at_most(MAX_RURAL_DISTANCE_M, "além disso a regra não distingue mais a via rural"))
    _check_junctions = field_validator("cruzamentos_minimos")(
        at_most(_MAX_JUNCTIONS, "nenhum raio da regra tem tantos cruzamentos")
    )

    @field_validator("cruzamentos_minimos")
    @classmethod
    def _whole_number(cls, value: Param) -> Param:
        if value.valor != int(value.valor):
            raise ValueError(
                f"cruzamentos_minimos deve ser um número inteiro (valor {value.valor:g})"
            )
        return value
