"""Intake of the municipality's requests spreadsheet (``pedidos``): reading and validation.

:func:`read_requests` reads a CSV, XLSX, GeoJSON or GeoPackage file into a table of
strings with canonical column names and ``linha`` (the row number the clerk sees).
:func:`validate_requests` types every column and checks every row, listing every
problem of the row, not only the first. No row is ever dropped: a row with a fatal
problem is kept with ``situacao = "erro"``, a row with warnings with ``"aviso"``.

LGPD: CPFs and names are never logged; reports show CPFs through :func:`mask_cpf`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from rapidfuzz import fuzz, process

from geo_ip._util.parse import (
    category,
    category_key,
    cell_text,
    cpf_digits,
    yes_no,
)
from geo_ip.errors import TerritoryError
from geo_ip.requests.cpf import cpf_check_digits_ok as cpf_check_digits_ok
from geo_ip.requests.cpf import cpf_problem, valid_cpf_digits_array
from geo_ip.requests.cpf import mask_cpf as mask_cpf
from geo_ip.requests.intake_checks import BRAZIL_LAT as BRAZIL_LAT
from geo_ip.requests.intake_checks import BRAZIL_LON as BRAZIL_LON
from geo_ip.requests.intake_checks import TIPO_ALIASES as TIPO_ALIASES
from geo_ip.requests.intake_checks import TIPOS as TIPOS
from geo_ip.requests.intake_checks import (
    Problems,
    by_unique,
    date_checks,
    fmt,
    iso,
    location_checks,
    numbers,
    quoted_cells,
    smap,
)
from geo_ip.requests.intake_io import (
    CANONICAL,
    LOCATION,
    OPTIONAL,
    READ_PROBLEMS,
    REQUIRED,
    read_table,
)
from geo_ip.requests.privacy import internal_view
from geo_ip.rules.config import Rules
from geo_ip.rules.sections import MAX_DECLARED_COUNT
from geo_ip.territory.reader import Territory, TerritoryLike

__all__ = [
    "LOCATION",
    "OPTIONAL",
    "REPORT_COLUMNS",
    "REQUIRED",
    "SITUACOES",
    "TIPOS",
    "TIPO_ALIASES",
    "USOS",
    "mask_cpf",
    "read_requests",
    "requests_report",
    "territory_boundary",
    "validate_requests",
]

log = logging.getLogger(__name__)

USOS = ("residencial", "comercial", "industrial", "servicos", "misto")
"""Accepted values of ``uso_imovel`` (eligibility of each use is decided later)."""
SITUACOES = ("ok", "aviso", "erro")
REPORT_COLUMNS = (
    "linha", "protocolo", "situacao", "problemas", "data_protocolo", "tipo", "latitude",
    "longitude", "latitude_corrigida", "longitude_corrigida", "endereco", "numero", "bairro",
    "cpf_solicitante",
)  # fmt: skip
"""Columns of the check report: no names, CPF masked."""
HULL_BUFFER_M = 500.0
"""Buffer around the road nodes when a territory has no municipal boundary."""
MAX_COUNT = MAX_DECLARED_COUNT
"""Largest ``residencias`` or ``moradores`` accepted (with a warning above the rules'
``[validacao]`` maxima, which cannot exceed it); beyond it, or not finite, the row has
an error."""
_MAX_COUNT_TEXT = f"{MAX_COUNT:_}".replace("_", ".")
MAX_INCOME = 10_000_000.0
"""Largest monthly family income (``renda_familiar``, R$) accepted; beyond, an error."""

_USO_ALIASES = {
    "comercio": "comercial",
    "industria": "industrial",
    "servico": "servicos",
    "prestacao_servicos": "servicos",
    "residencia": "residencial",
    "moradia": "residencial",
    "residencial_comercial": "misto",
    "uso_misto": "misto",
}


def read_requests(path: str | Path) -> pd.DataFrame:
    """Read a requests file (``pedidos``) as a table of strings.

    Parameters
    ----------
    path : str or Path
        CSV (``,`` or ``;``; UTF-8, UTF-8 with BOM or Latin-1/Windows-1252), XLSX
        (title rows above the header and merged header cells tolerated), GeoJSON or
        GeoPackage of points (any CRS, converted to EPSG:4326 ``latitude``/``longitude``).

    Returns
    -------
    pandas.DataFrame
        ``linha`` (row number in the spreadsheet: header = 1, first data row = 2; the
        real sheet row for XLSX; the feature id for GeoPackage and the feature number
        for other vector files) plus one string column per file column, headers mapped
        onto :data:`REQUIRED`, :data:`LOCATION` and :data:`OPTIONAL` (case, accents,
        separators and common synonyms tolerated). Blank rows are skipped. A file with
        a header and no rows gives an empty table and a logged warning.

    Raises
    ------
    RequestsFileError
        Missing, empty, undecodable or corrupt file; missing required column (the
        message names it and lists the columns found); vector file without CRS.
    """
    path = Path(path)
    table = read_table(path)
    if table.empty:
        log.warning("arquivo '%s': só o cabeçalho, nenhum pedido", path)
    else:
        log.info("arquivo '%s': %d pedido(s) lido(s)", path, len(table))
    return table


def _category(
    problems: Problems,
    text: pd.Series,
    field: str,
    allowed: tuple[str, ...],
    aliases: dict[str, str],
    what: str,
) -> pd.Series:
    """Map accent/case/wording variants onto ``allowed``; unknown values are errors."""
    uniques, codes = by_unique(text)
    canon: list[str | None] = []
    hints: list[str] = []
    for value in uniques.to_numpy(dtype=object):
        known = category(value, allowed, aliases)
        hint = ""
        if known is None:
            key = category_key(value)
            best = process.extractOne(key, allowed, scorer=fuzz.ratio, score_cutoff=70)
            options = ", ".join(allowed[:-1]) + " ou " + allowed[-1]
            hint = f"; você quis dizer '{best[0]}'?" if best else f"; use {options}"
        canon.append(known)
        hints.append(hint)
    canon_col = np.array(canon, dtype=object)[codes]
    unknown = np.array([c is None for c in canon], dtype=bool)[codes]
    cells = text.to_numpy(dtype=object)
    problems.add(
        unknown,
        "erro",
        f"campo '{field}': {what} desconhecido ",
        quoted_cells(cells),
        np.array(hints, dtype=object)[codes],
    )
    return pd.Series(np.where(unknown, cells, canon_col), index=text.index, dtype=str)


def _boolean(problems: Problems, text: pd.Series, field: str) -> pd.Series:
    uniques, codes = by_unique(text)
    answers = pd.array([yes_no(v) for v in uniques.to_numpy(dtype=object)], dtype="boolean")
    result = pd.Series(answers.take(codes), index=text.index, dtype="boolean")
    bad = (text != "") & result.isna()
    problems.add(
        bad, "erro", f"campo '{field}': use sim ou não ", quoted_cells(text.to_numpy(dtype=object))
    )
    return result


def _count(problems: Problems, text: pd.Series, field: str, limit: float, unit: str) -> pd.Series:
    """Read a declared count: an error when not an integer, negative or too large.

    Above ``limit`` (the rules' ``[validacao]``) and up to :data:`MAX_COUNT` it is a
    warning; beyond, or not finite, an error naming the plausible range (an integer
    that large cannot even be stored, and is a typing error anyway).
    """
    values = pd.Series(numbers(text, thousands=True), index=text.index)
    cells = quoted_cells(text.to_numpy(dtype=object))
    bad = (text != "") & (values.isna() | (values != values.round()))
    problems.add(bad, "erro", f"campo '{field}': não é um número inteiro ", cells)
    absurd = ~bad & ~(values.abs() <= MAX_COUNT) & values.notna()
    problems.add(
        absurd,
        "erro",
        f"campo '{field}': valor fora do intervalo plausível ",
        cells,
        f": informe um número inteiro de 0 a {limit:g} {unit} (até {_MAX_COUNT_TEXT} é "
        "aceito com aviso, para conferência)",
    )
    counts = values.where(~bad & ~absurd).round().astype("Int64")
    shown = _int_texts(counts)
    problems.add(counts < 0, "erro", f"campo '{field}': valor negativo (", shown, ")")
    problems.add(
        counts > limit,
        "aviso",
        f"campo '{field}': valor improvável (",
        shown,
        f" > {limit:g} {unit}); confira",
    )
    return counts


def _int_texts(counts: pd.Series) -> Callable[[np.ndarray], list[str]]:
    """Message part: the counts at the masked rows as ``Int64.astype(str)`` shows them."""
    return lambda rows: counts.iloc[rows].astype(str).tolist()


def _cpf(problems: Problems, text: pd.Series) -> pd.Series:
    cells = text.to_numpy(dtype=object)
    digits = valid_cpf_digits_array(cells)
    valid = digits != ""
    formatted = cells.copy()
    formatted[valid] = [f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}" for d in digits[valid]]
    # the invalid ones (few), one by one, each distinct text once
    reasons = np.full(len(cells), "", dtype=object)
    checked: dict[str, tuple[str, str]] = {}
    for i in np.flatnonzero(~valid & (cells != "")):
        value = cells[i]
        if value not in checked:
            checked[value] = _cpf_check(value)
        formatted[i], reasons[i] = checked[value]
    problems.add(reasons != "", "erro", "campo 'cpf_solicitante': ", reasons)
    return pd.Series(formatted, index=text.index, dtype=str)


def _cpf_check(value: str) -> tuple[str, str]:
    """Return the CPF of a non-blank cell as shown (formatted when 11 digits) and its problem."""
    digits = cpf_digits(value)
    if len(digits) != 11 or re.search(r"[A-Za-z]", value):
        return value, cpf_problem(value)
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}", cpf_problem(value)


_TEXT = pd.Series([], dtype=str).dtype
_SPACES = "".join(f"\\x{{{ord(c):04x}}}" for c in map(chr, range(0x3001)) if c.isspace())
"""Every character :meth:`str.strip` removes (all below U+3001), as RE2 escapes."""
_UNSTRIPPED = f"^[{_SPACES}]|[{_SPACES}]$"


def _as_text(df: pd.DataFrame, column: str) -> pd.Series:
    if column not in df.columns:
        return pd.Series([""] * len(df), dtype=str)
    values = df[column]
    if (
        values.dtype == _TEXT
        and getattr(values.dtype, "storage", None) == "pyarrow"
        and not values.hasnans
        and not values.str.contains(_UNSTRIPPED, regex=True).any()
    ):
        # text as read, already stripped (the usual case): its own cell_text
        return values.reset_index(drop=True).rename(None)
    return smap(values, cell_text).reset_index(drop=True)


def validate_requests(
    df: pd.DataFrame,
    rules: Rules,
    *,
    boundary: shapely.Geometry | None = None,
    today: date | None = None,
) -> pd.DataFrame:
    """Type and check every request; list every problem of every row.

    Parameters
    ----------
    df : pandas.DataFrame
        Table from :func:`read_requests` (or any table with the canonical columns;
        missing optional columns are treated as empty).
    rules : Rules
        Municipality rules; ``rules.validacao`` gives the plausibility limits.
    boundary : shapely.Geometry, optional
        Municipality polygon in EPSG:4326 (x = longitude). With it, points outside
        are errors and swapped or unsigned coordinates that fall inside once fixed are
        reported with a suggestion in ``latitude_corrigida``/``longitude_corrigida``.
    today : datetime.date, optional
        Reference date for future and old dates; default: today.

    Returns
    -------
    pandas.DataFrame
        One row per input row, same order: ``linha``, the canonical columns typed
        (dates as ``datetime.date``, coordinates and income as float, counts
        ``Int64``, yes/no as ``boolean``, ``tipo`` and ``uso_imovel`` canonical when
        recognised, CPF formatted), any other file column as text,
        ``latitude_corrigida``, ``longitude_corrigida``, ``situacao`` (``"ok"``,
        ``"aviso"`` or ``"erro"``) and ``problemas`` (every problem, each naming its
        field, joined with ``" | "``; warnings start with ``"aviso: "``).
    """
    today = today or date.today()
    n = len(df)
    cols = {c: _as_text(df, c) for c in CANONICAL}
    problems = Problems(n)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    out["linha"] = (
        pd.to_numeric(df["linha"], errors="coerce").astype("Int64").to_numpy()
        if "linha" in df.columns
        else pd.array(range(2, n + 2), dtype="Int64")
    )
    read_problems = _as_text(df, READ_PROBLEMS)
    problems.add(read_problems != "", "erro", read_problems)
    _protocol_columns(problems, cols, out, today, rules)

    # Type of request (Art. 2).
    problems.add(cols["tipo"] == "", "erro", "campo 'tipo': obrigatório, está vazio")
    out["tipo"] = _category(problems, cols["tipo"], "tipo", TIPOS, TIPO_ALIASES, "tipo")

    # Location.
    lat, lon, fix_lat, fix_lon = location_checks(problems, cols, boundary)
    out["latitude"], out["longitude"] = lat.astype("float64"), lon.astype("float64")
    for column in ("endereco", "numero", "bairro"):
        out[column] = cols[column]
    out["cep"] = _cep(problems, cols["cep"])

    _household_columns(problems, cols, out, rules)
    _applicant_columns(problems, cols, out, today)
    for column in df.columns:
        if column not in out.columns and column not in ("linha", READ_PROBLEMS):
            out[column] = _as_text(df, column)
    out["latitude_corrigida"], out["longitude_corrigida"] = fix_lat, fix_lon
    out["situacao"] = pd.Series(problems.situacao(), dtype=str)
    out["problemas"] = pd.Series(problems.text(), dtype=str)
    counts = out["situacao"].value_counts()
    log.info(
        "pedidos conferidos: %d ok, %d com aviso, %d com erro",
        counts.get("ok", 0),
        counts.get("aviso", 0),
        counts.get("erro", 0),
    )
    return out


def _protocol_columns(
    problems: Problems,
    cols: dict[str, pd.Series],
    out: pd.DataFrame,
    today: date,
    rules: Rules,
) -> None:
    """Check and type ``protocolo`` (required and unique) and ``data_protocolo`` into ``out``."""
    protocol = cols["protocolo"]
    out["protocolo"] = protocol
    problems.add(protocol == "", "erro", "campo 'protocolo': obrigatório, está vazio")
    # Every row of a repeated protocol is an error, the first one too: which of them is
    # the real request is for the clerk to say, never for the order of the rows.
    key = protocol.str.upper().where(protocol != "")
    repeated = key.notna() & key.duplicated(keep=False)
    # the rows of each repeated protocol, joined once per protocol (only the repeated)
    line_text = out["linha"].astype(str)
    joined = line_text[repeated].groupby(key[repeated], sort=False).agg(", ".join)
    lines = pd.Series(key.map(joined), index=key.index, dtype=object).fillna("").astype(str)
    problems.add(
        repeated,
        "erro",
        "campo 'protocolo': protocolo '",
        protocol,
        "' repetido (linhas ",
        lines,
        ")",
    )

    # Protocol date.
    out["data_protocolo"] = date_checks(
        problems, cols["data_protocolo"], "data_protocolo", today, required=True
    )
    years = rules.validacao.idade_maxima_protocolo.valor
    oldest = today - timedelta(days=round(years * 365.25))
    days = out["data_protocolo"].to_numpy(dtype=object)
    old = np.array([d is not None and d < oldest for d in days], dtype=bool)
    problems.add(
        old,
        "aviso",
        "campo 'data_protocolo': data antiga (",
        lambda rows: [iso(d) for d in days[rows]],
        f"), mais de {years:g} anos; confira",
    )


def _cep(problems: Problems, cep: pd.Series) -> pd.Series:
    """Check a CEP column; return it formatted ``00000-000`` (as typed when not 8 digits)."""
    uniques, codes = by_unique(cep)
    bad, formatted = _cep_unique(uniques)
    problems.add(
        bad.to_numpy(dtype=bool)[codes],
        "aviso",
        "campo 'cep': CEP deve ter 8 dígitos ",
        quoted_cells(cep.to_numpy(dtype=object)),
    )
    return pd.Series(formatted.to_numpy(dtype=object)[codes], index=cep.index, dtype=str)


def _cep_unique(cep: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Whether each CEP is not 8 digits, and the CEPs formatted (as typed when not)."""
    cep_digits = cep.str.replace(r"\D", "", regex=True)
    cep_digits = cep_digits.where(~(cep.str.fullmatch(r"\d{7}")), cep_digits.str.zfill(8))
    bad_cep = (cep != "") & (cep_digits.str.len() != 8)
    formatted = cep_digits.str.slice(0, 5) + "-" + cep_digits.str.slice(5)
    return bad_cep, cep.where(bad_cep | (cep == ""), formatted)


def _household_columns(
    problems: Problems, cols: dict[str, pd.Series], out: pd.DataFrame, rules: Rules
) -> None:
    """Check and type the declared counts, CadÚnico and income into ``out``."""
    limits = rules.validacao
    out["residencias"] = _count(
        problems,
        cols["residencias"],
        "residencias",
        limits.residencias_maximas.valor,
        limits.residencias_maximas.unidade,
    )
    out["moradores"] = _count(
        problems,
        cols["moradores"],
        "moradores",
        limits.moradores_maximos.valor,
        limits.moradores_maximos.unidade,
    )
    per_home = out["moradores"] / out["residencias"].where(out["residencias"] > 0)
    crowded = (per_home > limits.moradores_por_residencia_maximo.valor).fillna(False)
    problems.add(
        crowded.to_numpy(dtype=bool),
        "aviso",
        "campo 'moradores': ",
        _int_texts(out["moradores"]),
        " moradores em ",
        _int_texts(out["residencias"]),
        f" residência(s), mais de {limits.moradores_por_residencia_maximo.valor:g} "
        f"{limits.moradores_por_residencia_maximo.unidade}; confira",
    )
    out["cadunico"] = _boolean(problems, cols["cadunico"], "cadunico")
    income_text = cols["renda_familiar"]
    income = pd.Series(numbers(income_text, thousands=True), index=income_text.index)
    cells = quoted_cells(income_text.to_numpy(dtype=object))
    bad_income = (income_text != "") & income.isna()
    problems.add(bad_income, "erro", "campo 'renda_familiar': não é um valor em reais ", cells)
    reais = income.to_numpy()
    problems.add(
        income < 0,
        "erro",
        "campo 'renda_familiar': valor negativo (",
        lambda rows: [fmt(v) for v in reais[rows]],
        ")",
    )
    absurd_income = income.notna() & ~(income <= MAX_INCOME)
    problems.add(
        absurd_income,
        "erro",
        "campo 'renda_familiar': valor fora do intervalo plausível ",
        cells,
        ": informe a renda mensal da família, de R$ 0 a R$ 10.000.000,00",
    )
    out["renda_familiar"] = income.where(~absurd_income)


def _applicant_columns(
    problems: Problems, cols: dict[str, pd.Series], out: pd.DataFrame, today: date
) -> None:
    """Check and type the use, MEI, CPF, name, previous benefit and strategy into ``out``."""
    # Use of the property (eligibility of each use is decided later, Art. 5).
    out["uso_imovel"] = _category(
        problems, cols["uso_imovel"], "uso_imovel", USOS, _USO_ALIASES, "uso"
    )
    out["mei"] = _boolean(problems, cols["mei"], "mei")
    out["cpf_solicitante"] = _cpf(problems, cols["cpf_solicitante"])
    out["nome_solicitante"] = cols["nome_solicitante"]

    # Previous benefit (Art. 5, II) and strategic interest (Art. 11).
    out["beneficio_anterior_data"] = date_checks(
        problems, cols["beneficio_anterior_data"], "beneficio_anterior_data", today, required=False
    )
    out["beneficio_anterior_justificativa"] = cols["beneficio_anterior_justificativa"]
    out["estrategico"] = _boolean(problems, cols["estrategico"], "estrategico")
    out["justificativa_estrategica"] = cols["justificativa_estrategica"]
    unjustified = out["estrategico"].fillna(False).to_numpy(dtype=bool) & (
        cols["justificativa_estrategica"] == ""
    )
    problems.add(
        unjustified,
        "erro",
        "campo 'justificativa_estrategica': obrigatória quando estrategico = sim (Art. 11)",
    )
    out["observacoes"] = cols["observacoes"]


def requests_report(checked: pd.DataFrame) -> pd.DataFrame:
    """Select the report columns of a validated table: CPF masked, no names, no income.

    Parameters
    ----------
    checked : pandas.DataFrame
        Output of :func:`validate_requests`.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`REPORT_COLUMNS` present in ``checked``; dates as ISO text.
    """
    # names and CPF-like numbers redacted from the address and the problems (LGPD)
    view = internal_view(checked)
    report = view[[c for c in REPORT_COLUMNS if c in view.columns]].copy()
    if "data_protocolo" in report:
        report["data_protocolo"] = smap(report["data_protocolo"], iso)
    return report


def territory_boundary(path: TerritoryLike, codigo_ibge: int | None = None) -> shapely.Geometry:
    """Municipality polygon of a territory, in EPSG:4326.

    Parameters
    ----------
    path : Territory, str or Path
        The territory, opened or as its GeoPackage.
    codigo_ibge : int, optional
        IBGE code of the municipality, matched against ``limite.codigo_ibge``.

    Returns
    -------
    shapely.Geometry
        Union of the ``limite`` polygons with that IBGE code; else of the
        municipal (``admin_level`` 8) ones, or of all ``limite`` polygons when
        none is municipal; else the convex hull of layer ``nos`` buffered by
        :data:`HULL_BUFFER_M` metres.

    Raises
    ------
    TerritoryError
        Missing file, or neither a usable ``limite`` nor a ``nos`` layer.
    """
    territory = Territory.open(path)
    path = territory.path
    names = territory.names
    if "limite" in names:
        limits = territory.layer("limite")
        geoms = limits.geometry.array
        polygonal = ~shapely.is_missing(geoms) & np.isin(shapely.get_type_id(geoms), (3, 6))
        limits = limits[polygonal]
        if len(limits) and limits.crs is not None:
            limits = limits.to_crs("EPSG:4326")
            if codigo_ibge is not None and "codigo_ibge" in limits.columns:
                codes = smap(limits["codigo_ibge"], cell_text)
                same = limits[codes == str(codigo_ibge)]
                if len(same):
                    return shapely.union_all(same.geometry.array)
                # a territory whose limits carry no code at all (a hand-made or synthetic
                # one) has nothing to compare: only a real mismatch is worth saying
                said = log.info if (np.asarray(codes, dtype=object) != "").any() else log.debug
                said("nenhum limite com código IBGE %s; usando os limites municipais", codigo_ibge)
            # Municipal boundaries (admin_level 8) rather than a state or a bairro around them.
            if "admin_level" in limits.columns and (limits["admin_level"] == 8).any():
                limits = limits[limits["admin_level"] == 8]
            return shapely.union_all(limits.geometry.array)
    if "nos" not in names:
        raise TerritoryError(
            "o território não tem as camadas 'limite' nem 'nos' (camadas: "
            f"{', '.join(sorted(names))})",
            path=path,
            field="nos",
        )
    nodes = territory.layer("nos")
    if nodes.empty or nodes.crs is None:
        raise TerritoryError("camada 'nos' vazia ou sem CRS", path=path, field="nos")
    if CRS.from_user_input(nodes.crs).is_geographic:
        nodes = nodes.to_crs(nodes.estimate_utm_crs())
    hull = shapely.convex_hull(shapely.multipoints(nodes.geometry.array)).buffer(HULL_BUFFER_M)
    log.info("território sem limite municipal: usando a envoltória dos nós + %g m", HULL_BUFFER_M)
    return gpd.GeoSeries([hull], crs=nodes.crs).to_crs("EPSG:4326").iloc[0]
