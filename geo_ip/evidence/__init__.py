"""Evidence per request: context around it, occurrences, bill of materials and cost."""

from geo_ip.evidence.materials import (
    BENEFICIARY_COLUMNS,
    BOM_COLUMNS,
    beneficiaries,
    bill_of_materials,
)

__all__ = ["BENEFICIARY_COLUMNS", "BOM_COLUMNS", "beneficiaries", "bill_of_materials"]
