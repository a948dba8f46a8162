"""Consumer units for the CIP engine: read, classify and check them (private).

:func:`read_consumers` turns either a spreadsheet or the BDGD table of low-voltage
consumer units (``UCBT_tab``) into a :class:`ConsumerTable`: one record per input row,
with its class, its status and, for the rows used, twelve monthly kWh values.

Accepted spreadsheets (CSV or XLSX, read by :func:`geo_ip.sources.tables.read_sheet`):

* long: one row per unit and month — ``unidade``, ``classe``, ``mes`` (1–12, ``jan``…
  ``dez``, ``AAAA-MM`` or ``MM/AAAA``) and ``kwh``;
* wide: one row per unit — ``unidade``, ``classe`` and ``ENE_01`` … ``ENE_12`` (or
  ``jan`` … ``dez``), as in the BDGD; a CSV exported from ``UCBT_tab`` (``COD_ID``,
  ``CLAS_SUB``, ``MUN``, ``ENE_xx``) is read as is.

``classe`` is a BDGD ``CLAS_SUB`` code (:data:`geo_ip.rules.cip_rules.BDGD_SUBCLASSES`) or a
class name (``Residencial``, ``Poder público``...). Every input row ends in exactly one status
(:data:`geo_ip.rules.cip_rules.STATUSES`); the reasons of the rejected ones are reported by
the engine in aggregate only, never row by row with values (LGPD: UCBT identifiers are
personal data).
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio

from geo_ip._util.parse import slug, to_number
from geo_ip.errors import InputFileError
from geo_ip.rules.cip_rules import MONTHS, NON_PAYERS, classify
from geo_ip.sources.grid_common import as_text, gdal_errors, layer_names
from geo_ip.sources.tables import read_sheet
from geo_ip.sources.tables_schema import READ_PROBLEMS, Schema, aliases_of

__all__ = [
    "BDGD_COLUMNS",
    "ENERGY_COLUMNS",
    "SCHEMA",
    "ConsumerTable",
    "consumers_from_bdgd",
    "read_consumers",
]

_MONTH_NAMES = ("jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez")
_MONTH_FULL = ("janeiro", "fevereiro", "marco", "abril", "maio", "junho", "julho", "agosto",
               "setembro", "outubro", "novembro", "dezembro")  # fmt: skip
ENERGY_COLUMNS = tuple(f"ene_{m:02d}" for m in MONTHS)
"""Canonical wide-layout columns (kWh of each month)."""
_BDGD_ENERGY = tuple(c.upper() for c in ENERGY_COLUMNS)
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "unidade": ("unidade_consumidora", "uc", "cod_id", "codigo_uc", "cod_uc", "instalacao",
                "numero_instalacao", "conta_contrato"),
    "classe": ("clas_sub", "classe_subclasse", "subclasse", "classe_consumo", "classe_de_consumo",
               "classe_tarifaria"),
    "municipio": ("mun", "cod_mun", "codigo_ibge", "ibge", "codigo_municipio", "municipio_ibge"),
    "mes": ("mes_referencia", "competencia", "referencia", "mes_ano", "periodo"),
    "kwh": ("consumo", "consumo_kwh", "energia", "energia_kwh", "kwh_mes", "consumo_mensal",
            "consumo_mensal_kwh"),
    **{col: (f"ene_{m}", f"kwh_{m:02d}", f"consumo_{m:02d}", _MONTH_NAMES[m - 1],
             _MONTH_FULL[m - 1], f"kwh_{_MONTH_NAMES[m - 1]}", f"consumo_{_MONTH_NAMES[m - 1]}")
       for m, col in zip(MONTHS, ENERGY_COLUMNS, strict=True)},
}  # fmt: skip


def _layout_check(names: Collection[str]) -> tuple[str, str] | None:
    wide = any(c in names for c in ENERGY_COLUMNS)
    long = "kwh" in names or "mes" in names
    if wide and long:
        return (
            "o arquivo tem colunas mensais (ENE_01 … ENE_12) e também 'mes'/'kwh': use um "
            "formato só (uma linha por unidade com as 12 colunas, ou uma linha por unidade e mês)",
            "mes",
        )
    if not wide and not ("kwh" in names and "mes" in names):
        missing = "kwh" if "kwh" not in names else "mes"
        return (
            f"coluna '{missing}' não encontrada: informe 'mes' e 'kwh' (uma linha por unidade e "
            "mês) ou as colunas mensais ENE_01 … ENE_12 (uma linha por unidade)",
            missing,
        )
    return None


SCHEMA = Schema(
    what="arquivo de unidades consumidoras",
    aliases=aliases_of(_SYNONYMS),
    required=("classe",),
    key=("classe",),
    of=" de unidades consumidoras",
    reserved=("situacao", "motivo"),
    check=_layout_check,
)
"""How :func:`geo_ip.sources.tables.read_sheet` reads a consumer-units spreadsheet."""


@dataclass(frozen=True)
class ConsumerTable:
    """Consumer units as read and checked, ready for the CIP engine.

    Parameters
    ----------
    records : pandas.DataFrame
        One row per input row: ``linha`` (the row a clerk sees; the record number in a
        BDGD table), ``unidade`` (internal only, never written), ``classe`` (one of
        :data:`CLASSES`, ``""`` when not a payer or rejected), ``situacao`` (one of
        :data:`STATUSES`) and ``motivo``.
    kwh : numpy.ndarray
        ``(len(records), 12)`` monthly kWh; NaN where the month has no reading (and on
        every row not used).
    descricao : str
        What was read, in Portuguese (``"BDGD Mux_Energia_401_2024-12-31, tabela UCBT_tab"``).
    arquivo : str
        Path of the input.
    sha256 : str
        Hash of the input file (of the zip for a zipped BDGD; ``""`` for a folder).
    tipo : str
        ``"bdgd"`` or ``"planilha"``.
    ano : int, optional
        Reference year, when the input states it (BDGD name, ``AAAA-MM`` months).
    municipio_ibge : int, optional
        The municipality filter applied.
    avisos : tuple of str
        Warnings for the user, in Portuguese.
    """

    records: pd.DataFrame
    kwh: np.ndarray
    descricao: str
    arquivo: str
    sha256: str
    tipo: str
    ano: int | None = None
    municipio_ibge: int | None = None
    avisos: tuple[str, ...] = field(default=())


# --- reading ----------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    if not path.is_file():
        return ""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _gdb_source(path: Path) -> str | None:
    """GDAL path of a BDGD (``.gdb`` folder, zip holding one, GeoPackage), else None."""
    if path.is_dir():
        return str(path) if path.suffix.lower() == ".gdb" or any(path.glob("*.gdbtable")) else None
    suffix = path.suffix.lower()
    if suffix == ".zip":
        with gdal_errors(path, "arquivo zip ilegível"), zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        inner = sorted(
            {
                "/".join(m.split("/")[: i + 1])
                for m in names
                for i, part in enumerate(m.split("/")[:-1])
                if part.lower().endswith(".gdb")
            }
        )
        return f"/vsizip/{path.resolve().as_posix()}/{inner[0]}" if inner else None
    if suffix in (".gpkg", ".sqlite"):
        return str(path)
    return None


def _bdgd_year(name: str) -> int | None:
    match = re.search(r"_(\d{4})-\d{2}-\d{2}", name)
    return int(match.group(1)) if match else None


BDGD_COLUMNS = ("COD_ID", "CLAS_SUB", "MUN", "SIT_ATIV", "DAT_CON", *_BDGD_ENERGY)
"""Fields of ``UCBT_tab`` read (``CLAS_SUB`` and ``ENE_01`` … ``ENE_12`` are required)."""


def _bdgd_layer(path: Path, src: str) -> tuple[str, str]:
    """Name of the ``UCBT_tab`` layer and the description of what is read."""
    layer = (layers := layer_names(src, path)).get("UCBT_TAB") or layers.get("UCBT")
    if layer is None:
        raise InputFileError(
            "a BDGD não tem a tabela UCBT_tab (unidades consumidoras de baixa tensão)", path=path
        )
    name = Path(src).name if src.startswith("/vsizip/") else path.name
    label = re.sub(r"\.gdb$", "", name, flags=re.IGNORECASE)
    return layer, f"BDGD {label}, tabela {layer}"


def _require_bdgd_fields(fields: Collection[str], layer: str, path: Path) -> None:
    for needed in ("CLAS_SUB", *_BDGD_ENERGY):
        if needed not in fields:
            raise InputFileError(f"tabela '{layer}' sem o campo {needed}", path=path, field=needed)


def _read_bdgd(path: Path, src: str) -> tuple[pd.DataFrame, str]:
    """Read ``UCBT_tab``: (raw table, description)."""
    layer, descricao = _bdgd_layer(path, src)
    with gdal_errors(path, f"não foi possível ler a tabela '{layer}'"):
        table = pd.DataFrame(
            pyogrio.read_dataframe(
                src, layer=layer, columns=list(BDGD_COLUMNS), read_geometry=False
            )
        )
    _require_bdgd_fields(table.columns, layer, path)
    return table, descricao


def consumers_from_bdgd(
    raw: pd.DataFrame,
    *,
    path: Path,
    descricao: str,
    sha256: str,
    municipio_ibge: int | None,
    warnings: list[str],
) -> ConsumerTable:
    """Check the rows of a BDGD ``UCBT_tab`` already read (BDGD part of :func:`read_consumers`).

    Parameters
    ----------
    raw : pandas.DataFrame
        Fields :data:`BDGD_COLUMNS` as read (``CLAS_SUB``, ``ENE_xx`` required; the others
        when present); an optional ``linha`` gives each row's record number in the BDGD
        (default ``1 … len(raw)``).
    path : Path
        The BDGD as the user named it (``arquivo`` and error messages).
    descricao : str
        What was read (``"BDGD <nome>, tabela UCBT_tab"``); its date gives the reference year.
    sha256 : str
        Hash of the BDGD file (``""`` for a folder).
    municipio_ibge : int or None
        Keep only the units with this ``MUN``; the others end as ``outro_municipio``.
    warnings : list of str
        Warnings gathered before (the list is copied, not changed).

    Returns
    -------
    ConsumerTable
        As :func:`read_consumers` returns for a BDGD.
    """
    warnings = list(warnings)
    if "SIT_ATIV" in raw.columns and (off := int(as_text(raw["SIT_ATIV"]).eq("DS").sum())):
        warnings.append(
            f"{off} registro(s) desligado(s) na data da BDGD (SIT_ATIV = DS): entram com o "
            "consumo registrado nos meses do ano."
        )
    base = pd.DataFrame(
        {
            "linha": raw["linha"].to_numpy() if "linha" in raw else np.arange(1, len(raw) + 1),
            "unidade": as_text(raw["COD_ID"]) if "COD_ID" in raw else "",
            "classe_origem": as_text(raw["CLAS_SUB"]).fillna(""),
            "municipio": as_text(raw["MUN"]) if "MUN" in raw else None,
            "problema": "",
        }
    )
    kwh = raw[list(_BDGD_ENERGY)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    year = _bdgd_year(descricao)
    if year is not None and "DAT_CON" in raw:
        kwh = _before_connection(kwh, raw["DAT_CON"], year)
    unreadable = np.zeros_like(kwh, dtype=bool)
    records, kwh = _check(base, kwh, unreadable, municipio_ibge, path, warnings, wide=True)
    return ConsumerTable(records=records, kwh=kwh, descricao=descricao, arquivo=str(path),
                         sha256=sha256, tipo="bdgd", ano=year, municipio_ibge=municipio_ibge,
                         avisos=tuple(warnings))  # fmt: skip


def _before_connection(kwh: np.ndarray, connected: pd.Series, year: int) -> np.ndarray:
    """Blank the months of ``year`` before each unit's connection date (``DAT_CON``).

    A unit connected in August has no invoice from January to July: its zeros there
    are not months of zero consumption.
    """
    text = connected.fillna("").astype(str).str.strip()
    dates = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
    iso = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    dates = dates.fillna(iso)
    first = np.where(dates.dt.year.to_numpy() > year, 13, 1)
    same = (dates.dt.year == year).to_numpy()
    first = np.where(same, dates.dt.month.fillna(1).to_numpy(dtype=int), first)
    before = np.arange(1, 13)[None, :] < first[:, None]
    return np.where(before & ~(kwh > 0), np.nan, kwh)


def _month_numbers(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Month (1–12, NaN when invalid) and year (NaN when not stated) of each cell."""
    s = text.fillna("").astype(str).str.strip()
    month = pd.Series(np.nan, index=s.index)
    year = pd.Series(np.nan, index=s.index)
    plain = pd.to_numeric(s.where(s.str.fullmatch(r"\d{1,2}")), errors="coerce")
    month = month.fillna(plain)
    for pattern, m_group, y_group in (
        (r"^(\d{4})[-/.](\d{1,2})(?:[-/.]\d{1,2})?(?:[ T].*)?$", 2, 1),
        (r"^(\d{1,2})[-/.](\d{4})$", 1, 2),
        (r"^\d{1,2}[-/.](\d{1,2})[-/.](\d{4})$", 1, 2),
    ):
        found = s.str.extract(pattern)
        if found.empty:
            continue
        m = pd.to_numeric(found[m_group - 1], errors="coerce")
        y = pd.to_numeric(found[y_group - 1], errors="coerce")
        fill = month.isna() & m.notna()
        month = month.where(~fill, m)
        year = year.where(~fill, y)
    names = s.map(slug).str.slice(0, 3)
    by_name = names.map({n: i + 1 for i, n in enumerate(_MONTH_NAMES)})
    month = month.combine_first(by_name.astype(float))
    return month.where(month.between(1, 12)), year


def _kwh_numbers(text: pd.DataFrame, *, xlsx: bool) -> pd.DataFrame:
    """Parse kWh cells; a lone dot is a decimal point when the file writes decimals so.

    ``1.518`` is 1518 in a Brazilian CSV, but a file with cells such as ``181.54042`` or
    ``12.5`` (and no comma anywhere) writes a dot for the decimals, and then ``250.125``
    is 250.125. In an XLSX the numeric cells are read as numbers (``1.518`` is 1.518)
    unless some cell holds a comma (text typed the Brazilian way).
    """
    cells = pd.Series(text.to_numpy().ravel(), dtype=str)
    has_comma = cells.str.contains(",", regex=False).any()
    dot_decimal = xlsx or cells.str.fullmatch(r"[-+]?\d*\.(?:\d{1,2}|\d{4,})").any()
    thousands = bool(has_comma or not dot_decimal)
    return text.apply(lambda col: to_number(col.fillna("").astype(str), thousands=thousands))


def _from_sheet(
    path: Path,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, list[str], int | None, bool]:
    """Spreadsheet → (base columns, kWh matrix, unparseable-cell matrix, warnings, year)."""
    table = read_sheet(path, SCHEMA)
    xlsx = path.suffix.lower() in (".xlsx", ".xlsm") or path.read_bytes()[:4] == b"PK\x03\x04"
    n = len(table)
    base = pd.DataFrame(
        {
            "linha": table["linha"].to_numpy(),
            "unidade": table.get("unidade", ""),
            "classe_origem": table["classe"],
            "municipio": table.get("municipio"),
            "problema": table[READ_PROBLEMS].map(lambda v: "linha malformada" if v else "")
            if READ_PROBLEMS in table
            else "",
        }
    )
    warnings: list[str] = []
    year: int | None = None
    wide = [c for c in ENERGY_COLUMNS if c in table.columns]
    if wide:
        text = pd.DataFrame(
            {
                m: table.get(c, pd.Series("", index=table.index))
                for m, c in zip(MONTHS, ENERGY_COLUMNS, strict=True)
            }
        )
        absent = [c.upper() for c in ENERGY_COLUMNS if c not in table.columns]
        if absent:
            warnings.append(f"colunas de mês ausentes no arquivo: {', '.join(absent)}.")
        numbers = _kwh_numbers(text, xlsx=xlsx)
        kwh = numbers.to_numpy(dtype=float)
        unreadable = (text.fillna("").astype(str).to_numpy() != "") & np.isnan(kwh)
        return base, kwh, unreadable, warnings, year, True
    month, years = _month_numbers(table["mes"])
    distinct = sorted({int(y) for y in years.dropna()})
    if len(distinct) > 1:
        raise InputFileError(
            "o arquivo tem consumo de mais de um ano ("
            + ", ".join(map(str, distinct))
            + "): a CIP é calculada para um ano (12 meses); separe os anos",
            path=path,
            field="mes",
        )
    year = distinct[0] if distinct else None
    value = _kwh_numbers(table[["kwh"]], xlsx=xlsx)["kwh"].to_numpy(dtype=float)
    kwh = np.full((n, 12), np.nan)
    unreadable = np.zeros((n, 12), dtype=bool)
    has_month = month.notna().to_numpy()
    cols = np.where(has_month, month.fillna(1).to_numpy(dtype=int) - 1, 0)
    rows = np.arange(n)
    kwh[rows[has_month], cols[has_month]] = value[has_month]
    blank = table["kwh"].fillna("").astype(str).eq("").to_numpy()
    unreadable[rows[has_month], cols[has_month]] = (~blank & np.isnan(value))[has_month]
    problem = base["problema"].astype(str)
    no_month = ~has_month & problem.eq("").to_numpy()
    base["problema"] = problem.mask(no_month, "mês inválido ou vazio")
    base.loc[has_month & blank, "problema"] = base.loc[has_month & blank, "problema"].replace(
        "", "consumo (kWh) vazio"
    )
    return base, kwh, unreadable, warnings, year, False


def _municipality_codes(values: pd.Series) -> pd.Series:
    """Seven-digit IBGE codes as text; ``""`` when blank or not a code."""
    digits = values.fillna("").astype(str).str.replace(r"\.0$", "", regex=True)
    digits = digits.str.replace(r"\D", "", regex=True)
    return digits.where(digits.str.len() == 7, "")


def read_consumers(path: str | Path, *, municipio_ibge: int | None = None) -> ConsumerTable:
    """Read consumer units (spreadsheet or BDGD ``UCBT_tab``) and check every row.

    Parameters
    ----------
    path : str or Path
        CSV or XLSX (long or wide layout, see the module docstring), or a BDGD: a
        ``.gdb`` folder, a ``.gdb.zip`` (read in place through ``/vsizip/``) or a
        GeoPackage holding ``UCBT_tab``.
    municipio_ibge : int, optional
        Keep only the units of this municipality (BDGD ``MUN``; ``municipio`` column of a
        spreadsheet); the others end with status ``outro_municipio``.

    Returns
    -------
    ConsumerTable
        Every input row with its status; see :class:`ConsumerTable`.

    Raises
    ------
    InputFileError
        Missing, unreadable or unsupported file; no class column; neither monthly columns
        nor ``mes`` + ``kwh``; more than one year; a municipality filter on a file
        without a municipality column.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError("arquivo de unidades consumidoras não encontrado", path=path)
    if municipio_ibge is not None and not 1_000_000 <= municipio_ibge <= 9_999_999:
        raise InputFileError(
            f"código IBGE do município inválido ({municipio_ibge}): use os 7 dígitos",
            field="--ibge",
        )
    src = _gdb_source(path)
    if src is None and path.suffix.lower() == ".zip":
        raise InputFileError(
            "o arquivo zip não contém uma BDGD (pasta .gdb); para uma planilha use CSV ou XLSX",
            path=path,
        )
    if src is not None:
        raw, descricao = _read_bdgd(path, src)
        return consumers_from_bdgd(raw, path=path, descricao=descricao, sha256=_sha256(path),
                                   municipio_ibge=municipio_ibge, warnings=[])  # fmt: skip
    base, kwh, unreadable, warnings, year, wide = _from_sheet(path)
    records, kwh = _check(base, kwh, unreadable, municipio_ibge, path, warnings, wide=wide)
    return ConsumerTable(records=records, kwh=kwh, descricao=f"planilha {path.name}",
                         arquivo=str(path), sha256=_sha256(path), tipo="planilha", ano=year,
                         municipio_ibge=municipio_ibge, avisos=tuple(warnings))  # fmt: skip


def _check(
    base: pd.DataFrame,
    kwh: np.ndarray,
    unreadable: np.ndarray,
    municipio_ibge: int | None,
    path: Path,
    warnings: list[str],
    *,
    wide: bool,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Give every row its class, status and reason; blank the kWh of rows not used."""
    n = len(base)
    classe = classify(base["classe_origem"])
    problem = base["problema"].astype(str).to_numpy(dtype=object)
    status = np.full(n, "aproveitada", dtype=object)

    def reject(mask: np.ndarray, reason: str | np.ndarray) -> None:
        hit = mask & (status == "aproveitada")
        status[hit] = "rejeitada"
        problem[hit] = reason[hit] if isinstance(reason, np.ndarray) else reason

    reject(problem != "", problem.copy())
    municipio = base["municipio"]
    if municipio_ibge is not None:
        if municipio.isna().all():
            raise InputFileError(
                "--ibge pedido, mas o arquivo não tem coluna de município (MUN ou "
                "municipio com o código IBGE)",
                path=path,
                field="municipio",
            )
        codes = _municipality_codes(municipio).to_numpy(dtype=object)
        reject(codes == "", "código IBGE do município vazio ou inválido")
        other = (codes != str(municipio_ibge)) & (status == "aproveitada")
        status[other] = "outro_municipio"
        problem[other] = "unidade de outro município"
    elif municipio.notna().any():
        distinct = sorted(set(_municipality_codes(municipio)) - {""})
        if len(distinct) > 1:
            warnings.append(
                f"o arquivo tem unidades de {len(distinct)} municípios ({', '.join(distinct)}): "
                "todas foram somadas; use --ibge para calcular um só."
            )
    origin = base["classe_origem"].fillna("").astype(str)
    reject(classe.eq("").to_numpy(), "classe não informada")
    unknown = "classe desconhecida ('" + origin.str.slice(0, 20) + "')"
    reject(classe.eq("?").to_numpy(), unknown.to_numpy(dtype=object))
    reject(np.asarray(unreadable.any(axis=1)), "consumo (kWh) não numérico")
    with np.errstate(invalid="ignore"):
        reject(np.asarray((kwh < 0).any(axis=1)), "consumo (kWh) negativo")
    reject(np.asarray(np.isnan(kwh).all(axis=1)), "nenhum mês com consumo no ano")
    non_payer = classe.isin(NON_PAYERS).to_numpy() & (status == "aproveitada")
    status[non_payer] = "nao_contribuinte"
    problem[non_payer] = classe[non_payer].map(NON_PAYERS).to_numpy(dtype=object)
    units = base["unidade"].fillna("").astype(str)
    if units.eq("").all():
        warnings.append(
            "sem coluna de unidade consumidora: cada linha conta como uma unidade e repetições "
            "não são detectadas."
        )
    elif wide:
        kwh = _join_records(units, classe, kwh, status, problem, warnings)
    else:
        _reject_repeated(units, kwh, status, problem)
    used = status == "aproveitada"
    kwh = np.where(used[:, None], kwh, np.nan)
    records = pd.DataFrame(
        {
            "linha": base["linha"].to_numpy(),
            "unidade": base["unidade"].fillna("").astype(str).to_numpy(),
            "classe": np.where(used, classe.to_numpy(dtype=object), ""),
            "situacao": status,
            "motivo": np.where(used, "", problem),
        }
    )
    return records, kwh


def _reject_repeated(
    units: pd.Series, kwh: np.ndarray, status: np.ndarray, problem: np.ndarray
) -> None:
    """One row per unit and month: reject later rows repeating a unit's month."""
    used = status == "aproveitada"
    rows, months = np.nonzero(used[:, None] & ~np.isnan(kwh))
    keys = pd.DataFrame({"unidade": units.to_numpy()[rows], "mes": months})
    keys = keys[keys["unidade"] != ""]
    repeated = np.unique(rows[keys.index[keys.duplicated()]])
    status[repeated] = "rejeitada"
    problem[repeated] = "unidade e mês repetidos (a primeira linha vale)"


def _join_records(
    units: pd.Series,
    classe: pd.Series,
    kwh: np.ndarray,
    status: np.ndarray,
    problem: np.ndarray,
    warnings: list[str],
) -> np.ndarray:
    """One row per unit and year: join the records of a unit split during the year.

    The BDGD keeps one record per contract: a unit that changed class or was
    reconnected has two records with the same ``COD_ID``, each with zeros in the other's
    months. For each unit and month, a zero of one record is no invoice when another
    record has consumption; when all are zero, only the first counts. Two records with
    consumption in the same month are two invoices (change within the month). A record
    that repeats another (same class and same twelve values) is rejected.
    """
    used = status == "aproveitada"
    frame = pd.DataFrame({"u": units.to_numpy(), "c": classe.to_numpy()})
    values = pd.DataFrame(np.where(np.isnan(kwh), -1.0, kwh))
    same = pd.concat([frame, values], axis=1)[used & (frame["u"] != "").to_numpy()]
    copies = same.index[same.duplicated()]
    status[copies] = "rejeitada"
    problem[copies] = "linha repetida (mesma unidade, classe e consumo)"
    used = status == "aproveitada"
    rows, months = np.nonzero(used[:, None] & ~np.isnan(kwh))
    cells = pd.DataFrame({"u": units.to_numpy()[rows], "m": months, "v": kwh[rows, months]})
    cells = cells[cells["u"] != ""]
    shared = cells.duplicated(["u", "m"], keep=False)
    if not shared.any():
        return kwh
    cells = cells[shared]
    positive = cells["v"] > 0
    any_positive = positive.groupby([cells["u"], cells["m"]]).transform("any")
    first = ~cells.duplicated(["u", "m"])
    drop = (any_positive & ~positive) | (~any_positive & ~first)
    kwh = kwh.copy()
    kwh[rows[cells.index[drop]], months[cells.index[drop]]] = np.nan
    n_units = cells["u"].nunique()
    double = int((positive.groupby([cells["u"], cells["m"]]).sum() > 1).sum())
    warnings.append(
        f"{n_units} unidade(s) com mais de um registro no ano (troca de classe ou religação): "
        "os registros foram unidos mês a mês (um mês sem consumo num registro não é fatura "
        "quando outro registro da unidade tem consumo nesse mês)"
        + (
            f"; {double} mês(es) com consumo em dois registros contam duas faturas."
            if double
            else "."
        )
    )
    return kwh
