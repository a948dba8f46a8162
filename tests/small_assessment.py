"""A hand-built assessment of eight requests, one of every situation (issue 16).

No territory, no evidence: the table carries only what the ranking, the outputs, the
sheets and the terminal summary read, and :func:`geo_ip.law.ranking.rank` writes the
situations, shares, budget walk and reasons, as :func:`geo_ip.pipeline.assess` does.

Hand-checked with the demo rules (shares: 80 points or more → 100 %, 60 → 80 %, below
→ 50 %; Art. 11 and Art. 12 works: 100 %) and a budget of R$ 10.000,00:

======== ============ ======================= ===== ======== ============ ====================
linha    protocolo    situacao                total  custo    municipal    budget
======== ============ ======================= ===== ======== ============ ====================
2        PED-7        erro                    —      —        —            —
3        PED-5        estrategico_art11       —      2.000    2.000        2nd reservation
4        PED-3        pendente_comprovacao    70     5.000    —            would be 2nd
5        PED-1        classificado (1st)      80     4.000    4.000        selected, 1.000 left
6        PED-6        inelegivel              60     3.000    —            —
7        PED-4        execucao_direta_art12   —      3.000    3.000        1st reservation
8        PED-2        aguardando_orcamento    50     6.000    3.000        does not fit 1.000
9        PED-8        pendente_comprovacao    90     1.000    —            would be 1st
======== ============ ======================= ===== ======== ============ ====================

Budget: 10.000 − 3.000 (PED-4) − 2.000 (PED-5) = 5.000 for the ranking; PED-1 takes
4.000; 1.000 is left. PED-2 and PED-4 have an Art. 12 §1 indication (PED-2 stays in the
ranking); PED-2 is marked strategic without the Commission's opinion (it stays ranked).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_ip.law import ranking
from geo_ip.law.budget import budget_summary
from geo_ip.pipeline import Assessment
from geo_ip.rules.config import load_rules
from geo_ip.rules.law_locks import CRITERIA

BUDGET = 10_000.0
NAMES = ("Joana Exemplo Teste", "Benedito Inventado Silva")
"""Applicants' names of two rows: they must never reach an output."""
PROCEDURE = "PA-0042/2026"
MISSING_PROOF = (
    "falta comprovar a hipossuficiência financeira (Art. 4 §2): inscrição ativa no CadÚnico "
    "(I), declaração de composição familiar e renda dentro do limite — renda per capita até "
    "R$ 810,50 (II, Art. 2, IV) — ou outros documentos aceitos pela Comissão (III)"
)
"""What a pending request lacks (the text of ``hardship.missing_proof_text``)."""

_ROWS: list[dict[str, Any]] = [
    # protocolo, total, custo, hardship, flags
    {"protocolo": "PED-7", "total": np.nan, "custo": np.nan, "h": "sem_comprovacao",
     "erro": True, "problemas": "campo 'residencias': valor negativo (-2)"},
    {"protocolo": "PED-5", "total": np.nan, "custo": 2000.0, "h": "declaracao", "art11": True,
     "ordem": 2, "pedido_estrategico": True},
    {"protocolo": "PED-3", "total": 70.0, "custo": 5000.0, "h": "sem_comprovacao"},
    {"protocolo": "PED-1", "total": 80.0, "custo": 4000.0, "h": "cadunico"},
    {"protocolo": "PED-6", "total": 60.0, "custo": 3000.0, "h": "acima_do_limite",
     "elegivel": False},
    {"protocolo": "PED-4", "total": np.nan, "custo": 3000.0, "h": "cadunico", "art12": True,
     "ordem": 1, "indicio": True},
    {"protocolo": "PED-2", "total": 50.0, "custo": 6000.0, "h": "declaracao", "indicio": True,
     "pedido_estrategico": True},
    {"protocolo": "PED-8", "total": 90.0, "custo": 1000.0, "h": "sem_comprovacao"},
]  # fmt: skip
_PUBLIC = {
    "cadunico": "comprovada",
    "declaracao": "comprovada",
    "acima_do_limite": "não comprovada",
    "sem_comprovacao": "pendente",
}
_ART12_REASON = (
    "Indício de via rural de alto fluxo (Art. 12 §1): acesso a 1 escola a menos de 150 m "
    "(Escola Rural Teste). Só o Poder Executivo, em procedimento administrativo próprio, "
    "pode decidir a execução direta (Art. 12 §2)."
)


def _table() -> pd.DataFrame:
    n = len(_ROWS)
    total = np.array([r["total"] for r in _ROWS])
    status = [r["h"] for r in _ROWS]
    art11 = [bool(r.get("art11")) for r in _ROWS]
    art12 = [bool(r.get("art12")) for r in _ROWS]
    above = [s == "acima_do_limite" for s in status]
    table = pd.DataFrame(
        {
            "linha": np.arange(2, n + 2),
            "protocolo": [r["protocolo"] for r in _ROWS],
            "data_protocolo": [date(2026, 3, 1 + i) for i in range(n)],
            "tipo": "implantacao",
            **{f"pont_{c}": total / 5 for c in CRITERIA},
            **{f"sugerido_{c}": total / 5 for c in CRITERIA},
            "pontuacao_total": total,
            "moradores_estimados": 10.0,
            "residencias_consideradas": 4.0,
            "custo_estimado_rs": [r["custo"] for r in _ROWS],
            "custo_por_beneficiario_rs": np.array([r["custo"] for r in _ROWS]) / 10,
            "erro": [bool(r.get("erro")) for r in _ROWS],
            "problemas": [r.get("problemas", "") for r in _ROWS],
            "elegivel": [r.get("elegivel", True) for r in _ROWS],
            "motivos_inelegibilidade": [
                "Art. 4, caput e Art. 2, IV: renda declarada acima do limite (renda per "
                "capita até R$ 810,50), sem inscrição no CadÚnico nem documentos aceitos "
                "pela Comissão"
                if a
                else ""
                for a in above
            ],
            "fundamento_inelegibilidade": ["Art. 4, caput; Art. 2, IV" if a else "" for a in above],
            "avisos_elegibilidade": [
                "Art. 4 §2, I: inscrito no CadÚnico (comprova a hipossuficiência), mas a renda "
                "declarada passa do limite (renda per capita até R$ 810,50, Art. 2, IV); a "
                "Comissão confere"
                if r["protocolo"] == "PED-1"
                else ""
                for r in _ROWS
            ],
            "hipossuficiencia": status,
            "condicao_hipossuficiencia": [_PUBLIC[s] for s in status],
            "pendencia_hipossuficiencia": [
                MISSING_PROOF if s == "sem_comprovacao" else "" for s in status
            ],
            "decisao_hipossuficiencia": "",
            "pedido_estrategico": [bool(r.get("pedido_estrategico")) for r in _ROWS],
            "indicio_art12": [bool(r.get("indicio")) for r in _ROWS],
            "motivo_art12": [_ART12_REASON if r.get("indicio") else "" for r in _ROWS],
            "sinais_art12": ["acesso" if r.get("indicio") else "" for r in _ROWS],
            "art11_decidido": art11,
            "art12_decidido": art12,
            "ordem_ato": pd.array([r.get("ordem") for r in _ROWS], dtype="Int64"),
            "decisao_art11": [
                "decidido por Comissão (relator fictício) em 2026-11-13: Parecer técnico "
                "circunstanciado 01/2026: acesso noturno à escola"
                if a
                else ""
                for a in art11
            ],
            "decisao_art12": [
                f"decidido por Secretaria de Obras em 2026-11-14, procedimento administrativo "
                f"{PROCEDURE}: Relatório técnico 07/2026"
                if a
                else ""
                for a in art12
            ],
            "procedimento_art12": [PROCEDURE if a else "" for a in art12],
            "cadunico": [s == "cadunico" for s in status],
            "cpf_solicitante": "123.456.789-09",
            "cpf_hash": "h:0123456789abcdef",
            "nome_solicitante": [NAMES[i % 2] for i in range(n)],
            "renda_familiar": 1234.56,
            "latitude": -22.85,
            "longitude": -46.31,
            "x": 380_000.0 + 100.0 * np.arange(n),
            "y": 7_470_000.0,
            "logradouro_via": "Rua Teste",
            "bairro_encontrado": "Centro",
            "situacao_pedido": ["erro" if r.get("erro") else "ok" for r in _ROWS],
        }
    )
    # the applicant's name inside a free-text column, to be redacted
    table.loc[0, "problemas"] += f" | observação de {NAMES[0]}"
    return table


def small_assessment(budget: float | None = BUDGET) -> Assessment:
    """Rank the eight requests and wrap them as an :class:`Assessment` (no territory)."""
    rules = load_rules("demo")
    table = ranking.rank(_table(), rules, budget)
    n = len(table)
    return Assessment(
        table=table,
        paths=gpd.GeoSeries([None] * n, crs="EPSG:31983"),
        items=[{} for _ in range(n)],
        rejected_decisions=pd.DataFrame(),
        rejected_history=pd.DataFrame(),
        occurrences_report=pd.DataFrame(),
        provenance={
            "carimbo": "TESTE",
            "orcamento_rs": budget,
            "orcamento": budget_summary(table, budget),
        },
        crs="EPSG:31983",
        rules=rules,
        territory=Path("inexistente.gpkg"),
    )
