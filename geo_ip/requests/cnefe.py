"""Reading of IBGE CNEFE 2022 address files (exact address points for geocoding)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo_ip.errors import InputFileError
from geo_ip.requests.address import (
    normalize_cep,
)

log = logging.getLogger(__name__)

CNEFE_ESPECIES = {
    1: "domicílio particular",
    2: "domicílio coletivo",
    3: "estabelecimento agropecuário",
    4: "estabelecimento de ensino",
    5: "estabelecimento de saúde",
    6: "estabelecimento de outras finalidades",
    7: "edificação em construção ou reforma",
    8: "estabelecimento religioso",
}
"""``COD_ESPECIE`` of the IBGE CNEFE 2022 dictionary (1 = private household)."""

_CNEFE_COLUMNS = {
    "COD_UNICO_ENDERECO": "cod_unico_endereco",
    "COD_MUNICIPIO": "cod_municipio",
    "COD_SETOR": "cod_setor",
    "CEP": "cep",
    "DSC_LOCALIDADE": "localidade",
    "NOM_TIPO_SEGLOGR": "tipo_logradouro",
    "NOM_TITULO_SEGLOGR": "titulo_logradouro",
    "NOM_SEGLOGR": "nome_logradouro",
    "NUM_ENDERECO": "num_endereco",
    "DSC_MODIFICADOR": "modificador",
    "LATITUDE": "latitude",
    "LONGITUDE": "longitude",
    "NV_GEO_COORD": "nv_geo_coord",
    "COD_ESPECIE": "especie",
}
_CNEFE_REQUIRED = ("LATITUDE", "LONGITUDE", "NOM_SEGLOGR", "NUM_ENDERECO")


def _read_csv_text(path: Path, **kwargs: Any) -> pd.DataFrame:
    try:
        return pd.read_csv(path, encoding="utf-8", **kwargs)
    except UnicodeDecodeError:
        return pd.read_csv(path, encoding="latin-1", **kwargs)


def read_cnefe(path: str | Path, *, municipio_ibge: int | None = None) -> gpd.GeoDataFrame:
    """Read an IBGE CNEFE 2022 address file (one municipality, ``;``-separated CSV).

    Parameters
    ----------
    path : str or Path
        ``.csv`` (UTF-8 or Latin-1) or a ``.zip`` holding one CSV, with IBGE's
        column names (``LATITUDE``, ``LONGITUDE``, ``NOM_TIPO_SEGLOGR``,
        ``NOM_TITULO_SEGLOGR``, ``NOM_SEGLOGR``, ``NUM_ENDERECO``, ``CEP``,
        ``DSC_LOCALIDADE``, ``NV_GEO_COORD``, ``COD_ESPECIE``, ``COD_SETOR`` ...).
    municipio_ibge : int, optional
        Keep only this municipality (``COD_MUNICIPIO``, 7 digits).

    Returns
    -------
    GeoDataFrame
        EPSG:4674 (SIRGAS 2000) points with ``cod_unico_endereco``,
        ``cod_municipio``, ``cod_setor``, ``cep`` (8 digits or None),
        ``localidade``, ``tipo_logradouro``, ``titulo_logradouro``,
        ``nome_logradouro``, ``logradouro`` (type + title + name), ``numero``
        (``Int64``; missing for "sem número"), ``modificador``,
        ``nv_geo_coord`` (``Int64``), ``especie`` (``Int64``, ``COD_ESPECIE``)
        and ``especie_descricao`` (Portuguese label, see :data:`CNEFE_ESPECIES`).
        Rows without valid coordinates are dropped (logged).

    Raises
    ------
    InputFileError
        If the file is missing, unreadable or lacks the required columns.
    """
    path = Path(path)
    df = _read_columns(path)
    if municipio_ibge is not None:
        if (df["cod_municipio"] == "").all():
            raise InputFileError(
                "o CNEFE não tem a coluna COD_MUNICIPIO para filtrar o município", path=path
            )
        codes = pd.to_numeric(df["cod_municipio"], errors="coerce")
        df = df[codes == int(municipio_ibge)]
    lat = pd.to_numeric(df["latitude"].str.replace(",", ".", regex=False), errors="coerce")
    lon = pd.to_numeric(df["longitude"].str.replace(",", ".", regex=False), errors="coerce")
    valid = lat.between(-90, 90) & lon.between(-180, 180) & (lat != 0) & (lon != 0)
    if (~valid).any():
        log.warning(
            "CNEFE: %d endereço(s) sem coordenadas válidas ignorado(s)", int((~valid).sum())
        )
    df, lat, lon = df[valid], lat[valid], lon[valid]
    geometry = gpd.points_from_xy(lon.to_numpy(), lat.to_numpy(), crs="EPSG:4674")
    return gpd.GeoDataFrame(_addresses(df), geometry=geometry, crs="EPSG:4674")


def _read_columns(path: Path) -> pd.DataFrame:
    """Read the CSV's known columns as stripped text, renamed; refuse a file that is not one."""
    if not path.is_file():
        raise InputFileError("arquivo do CNEFE não encontrado", path=path)
    try:
        df = _read_csv_text(
            path,
            sep=";",
            dtype=str,
            keep_default_na=False,
            usecols=lambda c: str(c).strip().upper() in _CNEFE_COLUMNS,
        )
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise InputFileError(f"não foi possível ler o CNEFE: {exc}", path=path) from exc
    df.columns = [str(c).strip().upper() for c in df.columns]
    missing = [c for c in _CNEFE_REQUIRED if c not in df.columns]
    if missing:
        raise InputFileError(
            "não parece um arquivo do CNEFE 2022 do IBGE (separado por ';'): faltam as "
            f"colunas {', '.join(missing)}",
            path=path,
        )
    for col in _CNEFE_COLUMNS:
        if col not in df.columns:
            df[col] = ""
    df = df.rename(columns=_CNEFE_COLUMNS)
    return df.apply(lambda s: s.str.strip())


def _addresses(df: pd.DataFrame) -> pd.DataFrame:
    """Type the text columns into those of :func:`read_cnefe` (all but the geometry)."""
    numero = pd.to_numeric(df["num_endereco"], errors="coerce").astype("Int64")
    sem_numero = df["modificador"].str.upper().str.replace(r"[^A-Z]", "", regex=True) == "SN"
    numero = numero.where((numero > 0) & ~sem_numero)
    joined = df["tipo_logradouro"] + " " + df["titulo_logradouro"] + " " + df["nome_logradouro"]
    logradouro = joined.str.replace(r"\s+", " ", regex=True).str.strip()
    especie = pd.to_numeric(df["especie"], errors="coerce").astype("Int64")
    ceps = {c: normalize_cep(c) for c in df["cep"].unique()}
    return pd.DataFrame(
        {
            "cod_unico_endereco": df["cod_unico_endereco"],
            "cod_municipio": df["cod_municipio"],
            "cod_setor": df["cod_setor"],
            "cep": df["cep"].map(ceps),
            "localidade": df["localidade"].replace("", None),
            "tipo_logradouro": df["tipo_logradouro"],
            "titulo_logradouro": df["titulo_logradouro"],
            "nome_logradouro": df["nome_logradouro"],
            "logradouro": logradouro,
            "numero": numero,
            "modificador": df["modificador"].replace("", None),
            "nv_geo_coord": pd.to_numeric(df["nv_geo_coord"], errors="coerce").astype("Int64"),
            "especie": especie,
            "especie_descricao": especie.map(CNEFE_ESPECIES).astype("object"),
        }
    ).reset_index(drop=True)
