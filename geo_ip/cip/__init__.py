"""CIP (Contribuição de Iluminação Pública): engine, consumer units and outputs."""

from geo_ip.cip.engine import (
    BDGD_SUBCLASSES,
    CLASS_LABELS,
    CLASSES,
    FORMULA,
    NOT_INFORMED,
    CipResult,
    CipRules,
    CipRulesMissingError,
    ConsumerTable,
    Tariffs,
    cip_summary,
    compute_cip,
    load_cip_rules,
    load_tariffs,
    read_consumers,
    write_cip_outputs,
)

__all__ = [
    "BDGD_SUBCLASSES",
    "CLASSES",
    "CLASS_LABELS",
    "FORMULA",
    "NOT_INFORMED",
    "CipResult",
    "CipRules",
    "CipRulesMissingError",
    "ConsumerTable",
    "Tariffs",
    "cip_summary",
    "compute_cip",
    "load_cip_rules",
    "load_tariffs",
    "read_consumers",
    "write_cip_outputs",
]
