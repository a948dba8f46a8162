"""The utility's public-lighting cadastre (CEMIG medida 060): package, letter and audit."""

from geo_ip.cadastre.package import (
    EXCLUDE_COLUMNS,
    INCLUDE_COLUMNS,
    INVOICE_COLUMNS,
    Audit,
    Cadastre,
    audit_cadastre,
    build_cadastre,
    cadastre_rules,
    invoice_change,
    read_utility_cadastre,
    validate_cnpj,
    write_audit,
    write_cadastre,
)

__all__ = [
    "EXCLUDE_COLUMNS",
    "INCLUDE_COLUMNS",
    "INVOICE_COLUMNS",
    "Audit",
    "Cadastre",
    "audit_cadastre",
    "build_cadastre",
    "cadastre_rules",
    "invoice_change",
    "read_utility_cadastre",
    "validate_cnpj",
    "write_audit",
    "write_cadastre",
]
