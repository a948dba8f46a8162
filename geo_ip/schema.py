"""Column names of the tables the stages hand each other, declared once with their meaning.

The stages pass tables, not files: the requests stage reads the Commission's decisions
and the history of benefits into the tables below, and the law (:mod:`geo_ip.law`)
receives them. A column named here is spelled nowhere else as a list; the modules that
make or use a table import its columns from this module. Nothing of geo_ip is imported
here.
"""

from __future__ import annotations

__all__ = ["ACTS", "DECISION_COLUMNS", "HISTORY_COLUMNS"]

ACTS = ("hipossuficiencia", "art11", "art12", "localizacao")
"""Decisions without points: proof of hardship accepted (Art. 4 §2, III), strategic
request analysed directly (Art. 11), direct execution by the Executive (Art. 12), the
request's place confirmed by the Commission (Art. 7, II)."""

DECISION_COLUMNS = (
    "linha", "protocolo", "criterio", "pontos", "motivacao", "membro", "data", "procedimento",
    "latitude", "longitude",
)  # fmt: skip
"""The Commission's valid decisions, one row per (protocol, criterion): ``linha`` of the
file, ``protocolo``, ``criterio`` (a criterion of Art. 9 or one of :data:`ACTS`),
``pontos`` (NaN for an act), ``motivacao``, ``membro``, ``data`` (a date),
``procedimento`` (Art. 12), ``latitude``/``longitude`` (EPSG:4326, NaN unless
``localizacao``)."""

HISTORY_COLUMNS = ("linha", "protocolo", "data", "tipo", "cpf_hash")
"""Benefits granted before (Art. 5, II): ``linha`` of the file, ``protocolo``, ``data``
(a date), ``tipo`` (a request type of Art. 2) and ``cpf_hash`` (the keyed hash, never
the CPF)."""
