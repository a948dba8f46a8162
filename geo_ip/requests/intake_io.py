"""Schema of the requests spreadsheet (``pedidos``), for :mod:`geo_ip.requests.intake`.

The reading itself is :func:`geo_ip.sources.tables.read_sheet` (CSV, XLSX, GeoJSON,
GeoPackage): one row per data row of the file, every value as a stripped string, the
headers mapped onto the canonical column names below, and ``linha`` = the row number a
clerk sees in the spreadsheet.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pandas as pd

from geo_ip._util.parse import cell_text, slug
from geo_ip.errors import RequestsFileError
from geo_ip.sources.tables import read_sheet
from geo_ip.sources.tables_schema import (
    GEOMETRY_PROBLEM,
    READ_PROBLEMS,
    Schema,
    aliases_of,
)

__all__ = [
    "CANONICAL",
    "LOCATION",
    "OPTIONAL",
    "READ_PROBLEMS",
    "REQUIRED",
    "RESERVED",
    "cell_text",
    "read_table",
    "slug",
]

REQUIRED = ("protocolo", "data_protocolo", "tipo")
"""Columns every requests file must have (plus a location, see :data:`LOCATION`)."""
LOCATION = ("latitude", "longitude", "endereco")
"""Location columns: ``latitude`` + ``longitude`` or ``endereco`` (or all three)."""
OPTIONAL = (
    "numero", "bairro", "cep", "residencias", "moradores", "cadunico", "renda_familiar",
    "uso_imovel", "mei", "cpf_solicitante", "nome_solicitante", "beneficio_anterior_data",
    "beneficio_anterior_justificativa", "estrategico", "justificativa_estrategica",
    "observacoes",
)  # fmt: skip
"""Optional columns of the requests file."""
CANONICAL = REQUIRED + LOCATION + OPTIONAL
RESERVED = ("linha", "situacao", "problemas", "latitude_corrigida", "longitude_corrigida")
"""Names produced by geo_ip; a file column with one of these names gets ``_arquivo`` appended."""

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "protocolo": (
        "no_protocolo", "n_protocolo", "nr_protocolo", "num_protocolo", "numero_protocolo",
        "numero_do_protocolo", "n_do_protocolo", "no_do_protocolo", "protocolo_no",
        "protocolo_n", "cod_protocolo", "codigo_protocolo",
    ),
    "data_protocolo": (
        "data", "data_do_protocolo", "data_de_protocolo", "dt_protocolo", "data_pedido",
        "data_do_pedido", "data_da_solicitacao", "data_solicitacao",
    ),
    "tipo": (
        "tipo_pedido", "tipo_do_pedido", "tipo_de_pedido", "tipo_solicitacao",
        "tipo_de_solicitacao", "tipo_da_solicitacao", "tipo_de_obra",
    ),
    "latitude": ("lat", "latitude_y", "lat_y"),
    "longitude": ("lon", "long", "lng", "longitude_x", "lon_x", "long_x"),
    "endereco": ("logradouro", "rua", "endereco_completo", "endereco_do_imovel", "local"),
    "numero": ("no", "n", "num", "nr", "numero_imovel", "numero_do_imovel"),
    "bairro": ("bairro_localidade", "bairro_comunidade", "comunidade"),
    "cep": ("codigo_postal",),
    "residencias": (
        "n_residencias", "no_residencias", "numero_residencias", "numero_de_residencias",
        "qtd_residencias", "qtde_residencias", "quantidade_residencias",
        "quantidade_de_residencias", "domicilios", "n_domicilios", "numero_de_domicilios",
        "casas",
    ),
    "moradores": (
        "n_moradores", "no_moradores", "numero_moradores", "numero_de_moradores",
        "qtd_moradores", "qtde_moradores", "quantidade_moradores", "quantidade_de_moradores",
        "pessoas",
    ),
    "cadunico": ("cad_unico", "cadastro_unico", "inscrito_cadunico", "inscrito_no_cadunico"),
    "renda_familiar": ("renda", "renda_mensal", "renda_familiar_mensal", "renda_total"),
    "uso_imovel": ("uso", "uso_do_imovel", "finalidade", "finalidade_do_imovel"),
    "mei": ("e_mei", "microempreendedor_individual"),
    "cpf_solicitante": ("cpf", "cpf_do_solicitante", "cpf_requerente", "cpf_do_requerente"),
    "nome_solicitante": (
        "nome", "nome_do_solicitante", "solicitante", "requerente", "nome_requerente",
        "nome_do_requerente",
    ),
    "beneficio_anterior_data": ("data_beneficio_anterior", "data_do_beneficio_anterior"),
    "beneficio_anterior_justificativa": (
        "justificativa_beneficio_anterior", "justificativa_do_beneficio_anterior",
    ),
    "estrategico": ("interesse_estrategico", "pedido_estrategico", "e_estrategico"),
    "justificativa_estrategica": (
        "justificativa_estrategico", "justificativa_interesse_estrategico",
        "justificativa_do_interesse_estrategico",
    ),
    "observacoes": ("observacao", "obs", "observacoes_gerais"),
}  # fmt: skip


def _location(names: Collection[str]) -> tuple[str, str] | None:
    if {"latitude", "longitude"} <= set(names) or "endereco" in names:
        return None
    return (
        "faltam as colunas de localização: 'latitude' e 'longitude', ou 'endereco'",
        "latitude",
    )


_SCHEMA = Schema(
    what="arquivo de pedidos",
    aliases=aliases_of(_SYNONYMS),
    required=REQUIRED,
    key=("protocolo",),
    reserved=RESERVED,
    error=RequestsFileError,
    layer="pedidos",
    points="os pedidos devem ser pontos",
    check=_location,
)


def read_table(path: Path) -> pd.DataFrame:
    """Read a requests file of any supported format into a string table.

    Parameters
    ----------
    path : Path
        CSV, XLSX, GeoJSON or GeoPackage file.

    Returns
    -------
    pandas.DataFrame
        ``linha`` plus one string column per file column (canonical names), and
        :data:`READ_PROBLEMS` when a row has more cells than the header.

    Raises
    ------
    RequestsFileError
        Missing, empty, unreadable or undecodable file; missing required column.
    """
    table = read_sheet(path, _SCHEMA)
    return table.drop(columns=[GEOMETRY_PROBLEM], errors="ignore")
