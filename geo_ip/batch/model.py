"""What a batch run (``geo-ip lote``) works on and what it gives back, per municipality.

Plain dataclasses that travel between the Dask client and its workers (picklable, no open
files), and the columns of the consolidated table with their Portuguese labels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "COLUMNS",
    "STATUS_LABELS",
    "MunicipalityJob",
    "MunicipalityResult",
]

STATUS_LABELS: dict[str, str] = {
    "concluido": "Concluído",
    "reaproveitado": "Reaproveitado (entradas sem mudança)",
    "falhou": "Falhou",
}
"""Status of a municipality in the consolidated table (code -> label)."""


@dataclass(frozen=True)
class MunicipalityJob:
    """One municipality's work: its inputs, all as paths a worker can open.

    Attributes
    ----------
    codigo_ibge : int
        The 7-digit IBGE code.
    nome : str
        Its name (from the OSM boundary, or the BDGD when there is no boundary).
    uf : str
        State abbreviation (from the IBGE code's first two digits).
    pasta : Path
        Its output folder (``<saida>/municipios/<codigo_ibge>``).
    osm : Path or None
        Its OSM extract, cut from the regional one; None: no territory is built.
    bdgds : tuple of Path
        The utilities' BDGDs (grid, ``UCBT_tab``, ``PIP``).
    consumidores : Path or None
        Its consumer units, already filtered by ``MUN`` (a Parquet file written by the
        partitioned BDGD reading); None: no CIP.
    regras : Path or None
        Its rules file; None: rules are made from the template (``regras criar``).
    regras_cip : str or None
        CIP rules (name in ``data/cip`` or path); None: no CIP estimate.
    tarifas : str
        Tariffs for the CIP.
    pedidos : Path or None
        Its requests; None: no assessment.
    inventario : Path or None
        Its own IP inventory; None: the territory's ``pontos_ip`` layer.
    orcamento : Path or None
        A text file with the budget of the municipal part of the works, in R$
        (``orcamento.txt``: ``300000`` or ``300.000,00``); None: no limit.
    erro_previo : str
        An error found before the task (a boundary that cannot be cut): the task only
        reports it.
    hash_entradas : str
        The content hash of the inputs above (:func:`geo_ip.batch.task.job_hash`).
    """

    codigo_ibge: int
    nome: str
    uf: str
    pasta: Path
    osm: Path | None = None
    bdgds: tuple[Path, ...] = ()
    consumidores: Path | None = None
    regras: Path | None = None
    regras_cip: str | None = None
    tarifas: str = "tarifas_exemplo"
    pedidos: Path | None = None
    inventario: Path | None = None
    orcamento: Path | None = None
    erro_previo: str = ""
    hash_entradas: str = ""


@dataclass
class MunicipalityResult:
    """One row of the consolidated table: what was measured in one municipality.

    Numbers are None when the step did not run (no input) or failed; ``avisos`` says why.
    """

    codigo_ibge: int
    nome: str
    uf: str
    situacao: str
    erro: str = ""
    pasta: str = ""
    hash_entradas: str = ""
    area_km2: float | None = None
    vias_km: float | None = None
    rede_km: float | None = None
    cobertura_rede_pct: float | None = None
    pontos_ip_bdgd: int | None = None
    pontos_ip_inventario: int | None = None
    pontos_ip_diferenca: int | None = None
    cip_rs_ano: float | None = None
    unidades_consumidoras: int | None = None
    pedidos: int | None = None
    pedidos_financiados: int | None = None
    custo_rs: float | None = None
    custo_municipio_rs: float | None = None
    segundos: float | None = None
    avisos: list[str] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        """Return the row as a dict (``avisos`` joined with "; ")."""
        row = asdict(self)
        row["avisos"] = "; ".join(self.avisos)
        return row


COLUMNS: dict[str, str] = {
    "codigo_ibge": "Código IBGE",
    "nome": "Município",
    "uf": "UF",
    "situacao": "Situação",
    "erro": "Erro",
    "pasta": "Pasta",
    "hash_entradas": "Hash das entradas (SHA-256)",
    "area_km2": "Área (km²)",
    "vias_km": "Vias (km)",
    "rede_km": "Rede de baixa tensão (km)",
    "cobertura_rede_pct": "Vias atendidas pela rede (%)",
    "pontos_ip_bdgd": "Pontos de IP na BDGD",
    "pontos_ip_inventario": "Pontos de IP no inventário",
    "pontos_ip_diferenca": "Diferença de pontos (BDGD − inventário)",
    "cip_rs_ano": "CIP estimada (R$/ano)",
    "unidades_consumidoras": "Unidades consumidoras",
    "pedidos": "Pedidos",
    "pedidos_financiados": "Pedidos financiados",
    "custo_rs": "Custo das obras financiadas (R$)",
    "custo_municipio_rs": "Custeio do Município (R$)",
    "segundos": "Tempo (s)",
    "avisos": "Avisos",
}
"""Columns of the consolidated table, in order, with their Portuguese labels."""
