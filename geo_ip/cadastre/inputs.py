"""Inputs of ``geo-ip cadastro``: the assessment folder, the executed works, the removals.

Private helper of :mod:`geo_ip.cadastre.package`. Three sources:

* the folder written by ``geo-ip avaliar`` (:func:`load_assessment`): ``avaliacao.gpkg``
  layers ``pedidos`` (protocol, situation, selection, street, neighbourhood, protocol
  date, the request's point), ``postes_propostos`` (protocol, number), ``extensoes``,
  ``pontos_ip`` (the existing lighting points of the territory) and ``vias`` (street
  names), plus ``proveniencia.json``;
* the executed works (:data:`EXECUTED_SCHEMA`, checked by
  :func:`geo_ip.cadastre.executed.check_executed`): one row per protocol executed, or
  one row per as-built point (with ``latitude``/``longitude``);
* the removals (:data:`REMOVED_SCHEMA`, checked by
  :func:`geo_ip.cadastre.removed.check_removed`): one row per existing point taken out, by id
  (``id_ponto``, the utility's code as in the territory's ``pontos_ip``) or coordinates.

Both files are read by :func:`geo_ip.sources.tables.read_sheet`. No row is dropped: every row
comes back in a report with ``situacao`` (``ok``, ``aviso``, ``erro``) and a Portuguese
``motivo`` naming file, row and field. Coordinates in the files are decimal degrees
(SIRGAS 2000 or WGS 84; the difference is below a metre).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo_ip._util.parse import date_problems, parse_dates, quoted, to_number
from geo_ip.errors import InputFileError, RulesError
from geo_ip.rules.config import Rules
from geo_ip.rules.sections import CadastreRules
from geo_ip.sources.tables import read_sheet
from geo_ip.sources.tables_schema import GEOMETRY_PROBLEM, Schema, aliases_of

log = logging.getLogger(__name__)

GEOGRAPHIC_CRS = "EPSG:4674"
"""SIRGAS 2000 geographic: the CRS of every coordinate the cadastre writes."""
ASSESSMENT_GPKG = "avaliacao.gpkg"
REPORT_COLUMNS = ("arquivo", "linha", "protocolo", "id_ponto", "situacao", "pontos", "motivo")
"""Columns of the row reports (one row per input row)."""
POINT_COLUMNS = (
    "id_ponto", "protocolo", "endereco", "poste", "tipo_lampada", "potencia_w", "data",
    "origem", "linha_arquivo", "observacao",
)  # fmt: skip
"""Columns of the point frames built here (besides ``geometry``, in the assessment CRS)."""
SAME_PLACE_M = 0.5
"""Two points closer than this are "the same position" (a repeated row?)."""

_COMMON: dict[str, tuple[str, ...]] = {
    "latitude": ("lat", "latitude_y", "lat_y", "y"),
    "longitude": ("lon", "long", "lng", "longitude_x", "lon_x", "long_x", "x"),
    "tipo_lampada": ("tipo_lamp", "lampada", "tipo_de_lampada", "tipo_da_lampada",
                     "tecnologia", "tipo_luminaria"),
    "potencia_w": ("potencia", "pot_lamp", "potencia_lampada", "potencia_da_lampada",
                   "potencia_w_", "watts", "w", "potencia_watts"),
    "poste": ("poste_id", "id_poste", "codigo_poste", "cod_poste", "pn_con", "numero_poste",
              "n_poste"),
    "endereco": ("logradouro", "endereco_ponto", "local", "localizacao"),
}  # fmt: skip
_PROTOCOL = ("no_protocolo", "n_protocolo", "numero_protocolo", "nr_protocolo",
             "num_protocolo", "protocolo_pedido", "pedido")  # fmt: skip
EXECUTED_SCHEMA = Schema(
    what="arquivo de obras executadas",
    aliases=aliases_of(
        {
            "protocolo": _PROTOCOL,
            "data_execucao": (
                "data_energizacao", "data_de_energizacao", "data_ligacao", "data_conclusao",
                "data_da_execucao", "data_de_execucao", "data_execucao_obra", "data_obra",
                "energizacao", "executado_em", "data",
            ),
            "id_ponto": ("id", "codigo_ponto", "cod_ponto", "ponto", "id_ip", "codigo"),
            **_COMMON,
        }
    ),
    required=("protocolo", "data_execucao"),
    of=" de obras executadas",
    layer="obras_executadas",
)  # fmt: skip
"""Executed works: ``protocolo``, ``data_execucao`` (energisation) and, per as-built
point, ``latitude``, ``longitude``, ``tipo_lampada``, ``potencia_w``, ``poste``,
``endereco``, ``id_ponto`` (all optional)."""
REMOVED_SCHEMA = Schema(
    what="arquivo de pontos removidos",
    aliases=aliases_of(
        {
            "id_ponto": ("id", "cod_id", "codigo", "codigo_ponto", "cod_ponto", "id_origem",
                         "ponto", "id_ip"),
            "data_remocao": ("data", "data_retirada", "data_da_remocao", "data_exclusao"),
            "protocolo": _PROTOCOL,
            "motivo": ("motivo_remocao", "justificativa", "observacao", "observacoes", "obs"),
            **_COMMON,
        }
    ),
    required=(("id_ponto", "latitude"),),
    of=" de pontos removidos",
    layer="pontos_removidos",
)  # fmt: skip
"""Removals: ``id_ponto`` or ``latitude``/``longitude``, and ``potencia_w`` (unless the
id is found in the territory's ``pontos_ip``), ``tipo_lampada``, ``poste``,
``endereco``, ``data_remocao``, ``protocolo``, ``motivo`` (optional)."""


@dataclass(frozen=True)
class AssessmentFolder:
    """What the cadastre uses from a ``geo-ip avaliar`` folder (layers in its CRS)."""

    path: Path
    requests: gpd.GeoDataFrame
    poles: gpd.GeoDataFrame
    extensions: gpd.GeoDataFrame
    lights: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    provenance: dict[str, Any]
    crs: str

    @property
    def files(self) -> list[Path]:
        """The files read (for the provenance record)."""
        names = (ASSESSMENT_GPKG, "proveniencia.json", "ranking.csv")
        return [self.path / n for n in names if (self.path / n).is_file()]


@dataclass
class Checked:
    """Points built from one input file and the report of its rows."""

    points: gpd.GeoDataFrame
    report: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _layer(gpkg: Path, name: str, present: set[str], crs: Any) -> gpd.GeoDataFrame:
    if name not in present:
        return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    frame = pyogrio.read_dataframe(gpkg, layer=name)
    return frame if frame.crs is not None else frame.set_crs(crs)


def load_assessment(folder: str | Path) -> AssessmentFolder:
    """Read the layers of an assessment folder that the cadastre needs.

    Parameters
    ----------
    folder : str or Path
        The ``--saida`` folder of ``geo-ip avaliar``.

    Returns
    -------
    AssessmentFolder

    Raises
    ------
    InputFileError
        When the folder, its ``avaliacao.gpkg`` or the ``pedidos`` layer is missing.
    """
    path = Path(folder)
    gpkg = path / ASSESSMENT_GPKG
    if not path.is_dir():
        raise InputFileError("pasta da avaliação não encontrada (rode geo-ip avaliar)", path=path)
    if not gpkg.is_file():
        raise InputFileError(
            f"a pasta da avaliação não tem {ASSESSMENT_GPKG} (rode geo-ip avaliar --saida nela)",
            path=path,
        )
    try:
        present = {str(n) for n in pyogrio.list_layers(gpkg)[:, 0]}
    except pyogrio.errors.DataSourceError as exc:
        raise InputFileError(f"GeoPackage da avaliação ilegível ({exc})", path=gpkg) from exc
    if "pedidos" not in present:
        raise InputFileError("camada 'pedidos' ausente: não é uma avaliação do geo_ip", path=gpkg)
    requests = pyogrio.read_dataframe(gpkg, layer="pedidos")
    crs = requests.crs
    if crs is None:
        raise InputFileError("camada 'pedidos' sem sistema de coordenadas", path=gpkg)
    requests["protocolo"] = requests["protocolo"].fillna("").astype(str).str.strip()
    provenance: dict[str, Any] = {}
    prov_file = path / "proveniencia.json"
    if prov_file.is_file():
        try:
            provenance = json.loads(prov_file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputFileError(f"proveniência ilegível ({exc})", path=prov_file) from exc
    return AssessmentFolder(
        path=path,
        requests=requests,
        poles=_layer(gpkg, "postes_propostos", present, crs),
        extensions=_layer(gpkg, "extensoes", present, crs),
        lights=_layer(gpkg, "pontos_ip", present, crs),
        roads=_layer(gpkg, "vias", present, crs),
        provenance=provenance,
        crs=str(crs),
    )


# --- shared checks --------------------------------------------------------------------------


def texts(table: pd.DataFrame, names: tuple[str, ...]) -> dict[str, list[str]]:
    """Return the cells of each named column as text (``""`` for an absent column)."""
    empty = [""] * len(table)
    return {n: table[n].fillna("").astype(str).tolist() if n in table else empty for n in names}


@dataclass
class FileRows:
    """A points file being checked: its cells as text and each row's problems and warnings.

    Attributes
    ----------
    path : Path
        The file.
    table : pandas.DataFrame
        As :func:`geo_ip.sources.tables.read_sheet` read it (``linha``: the file's row).
    text : dict of str to list of str
        The cells of the named columns as text (:func:`texts`).
    problems, warnings : list of list of str
        What refuses each row, and what it is warned of, in the order found.
    """

    path: Path
    table: pd.DataFrame
    text: dict[str, list[str]]
    problems: list[list[str]]
    warnings: list[list[str]]

    @classmethod
    def read(cls, path: Path, schema: Schema, names: tuple[str, ...]) -> FileRows:
        """Read a file of ``schema`` with the text of the columns ``names``, no problem yet."""
        table = read_sheet(path, schema).reset_index(drop=True)
        n = len(table)
        return cls(path, table, texts(table, names), [[] for _ in range(n)], [[] for _ in range(n)])

    def __len__(self) -> int:
        """Rows of the file."""
        return len(self.table)

    def line(self, i: int) -> int:
        """Row of the file (as the user counts it) of row ``i`` of the table."""
        return int(self.table["linha"].iloc[i])

    def coordinates(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Parse ``latitude`` and ``longitude``: (lat, lon, given), see :func:`coordinates`."""
        return coordinates(self.text["latitude"], self.text["longitude"], self.problems)

    def powers(self, limit: float) -> np.ndarray:
        """Parse ``potencia_w`` (NaN where blank), see :func:`power_values`."""
        return power_values(self.text["potencia_w"], self.problems, self.warnings, limit)

    def dates(self, name: str, today: date, *, required: bool) -> list[date | None]:
        """Parse the dates of the column ``name``, see :func:`dates`."""
        return dates(self.text[name], name, today, self.problems, required=required)

    def refuse_bad_geometries(self) -> None:
        """Refuse the rows whose geometry could not be read (a GeoJSON or GeoPackage)."""
        if GEOMETRY_PROBLEM in self.table:
            for i, problem in enumerate(self.table[GEOMETRY_PROBLEM].fillna("")):
                if problem:
                    self.problems[i].append(f"geometria: {problem}")

    def report(self, protocols: list[str], ids: list[str], counts: list[int]) -> pd.DataFrame:
        """Return the report of the rows (:func:`row_report`)."""
        return row_report(
            self.path, self.table, protocols, ids, self.problems, self.warnings, counts
        )


def coordinates(
    lat_text: list[str], lon_text: list[str], problems: list[list[str]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse the coordinates; return (lat, lon, given) and add the problems of each row.

    ``given`` is True where at least one of the two cells is filled (the row describes
    a point); a row with both blank describes none and has no problem here.
    """
    lat = to_number(pd.Series(lat_text, dtype=str), thousands=False).to_numpy()
    lon = to_number(pd.Series(lon_text, dtype=str), thousands=False).to_numpy()
    given = np.array([bool(a or b) for a, b in zip(lat_text, lon_text, strict=True)])
    for i in np.flatnonzero(given):
        for name, text, value, limit in (
            ("latitude", lat_text[i], lat[i], 90.0),
            ("longitude", lon_text[i], lon[i], 180.0),
        ):
            if not text:
                other = "longitude" if name == "latitude" else "latitude"
                problems[i].append(f"campo '{name}': vazio, mas a {other} foi informada")
            elif not np.isfinite(value):
                problems[i].append(f"campo '{name}': não é uma coordenada válida {quoted(text)}")
            elif abs(value) > limit:
                hint = (
                    "; parece coordenada projetada (UTM): informe graus decimais"
                    if abs(value) > 1000
                    else ""
                )
                problems[i].append(
                    f"campo '{name}': fora do intervalo válido (-{limit:g} a {limit:g}) "
                    f"{quoted(text)}{hint}"
                )
    return lat, lon, given


def power_values(text: list[str], problems: list[list[str]], warnings: list[list[str]],
           limit: float) -> np.ndarray:  # fmt: skip
    """Parse ``potencia_w`` (NaN where blank); refuse ≤ 0 and non-numbers, warn above ``limit``."""
    values = to_number(pd.Series(text, dtype=str), thousands=True).to_numpy()
    for i, (cell, value) in enumerate(zip(text, values, strict=True)):
        if not cell:
            continue
        if not np.isfinite(value):
            problems[i].append(f"campo 'potencia_w': não é um número {quoted(cell)}")
        elif value <= 0:
            problems[i].append(
                f"campo 'potencia_w': a potência deve ser maior que zero ({value:g} W)"
            )
        elif value > limit:
            warnings[i].append(
                f"campo 'potencia_w': {value:g} W acima de {limit:g} W "
                "(cadastro.potencia_maxima_w): confira"
            )
    return np.where(np.array([bool(c) for c in text]), values, np.nan)


def dates(
    text: list[str],
    name: str,
    today: date,
    problems: list[list[str]],
    *,
    required: bool,
) -> list[date | None]:
    """Parse a column of dates; each row's problem (a future date too) goes to ``problems``."""
    series = pd.Series(text, dtype=str)
    days, status = parse_dates(series, today)
    blank = "obrigatória, está vazia" if required else ""
    messages = date_problems(series, status, name, blank=blank, hint=" (use dd/mm/aaaa)")
    out: list[date | None] = []
    for i, (message, day) in enumerate(zip(messages, days, strict=True)):
        if message:
            problems[i].append(message)
        elif day is not None and day > today:
            problems[i].append(
                f"campo '{name}': data no futuro ({day:%d/%m/%Y}), depois da data de referência "
                f"{today:%d/%m/%Y}"
            )
        out.append(day if isinstance(day, date) else None)
    return out


def row_report(
    path: Path,
    table: pd.DataFrame,
    protocols: list[str],
    ids: list[str],
    problems: list[list[str]],
    warnings: list[list[str]],
    counts: list[int],
) -> pd.DataFrame:
    """Build one report row per file row (:data:`REPORT_COLUMNS`): status, points, reasons."""
    rows = []
    for i, line in enumerate(table["linha"].tolist()):
        status = "erro" if problems[i] else "aviso" if warnings[i] else "ok"
        items = problems[i] + warnings[i]
        motivo = f"arquivo '{path}', linha {line}: " + " | ".join(items) if items else ""
        rows.append((str(path), int(line), protocols[i], ids[i], status, counts[i], motivo))
    report = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    for message in report.loc[report["situacao"] == "erro", "motivo"]:
        log.warning("linha recusada: %s", message)
    return report


def point_frame(records: list[dict[str, Any]], crs: str) -> gpd.GeoDataFrame:
    """Build a points frame (:data:`POINT_COLUMNS` + geometry) from records."""
    data = pd.DataFrame(records, columns=[*POINT_COLUMNS, "geometry"])
    geometry = gpd.GeoSeries(data.pop("geometry").tolist(), crs=crs)
    return gpd.GeoDataFrame(data, geometry=geometry, crs=crs)


def to_crs(lon: float, lat: float, crs: str) -> shapely.Point:
    """Project one point given in decimal degrees (EPSG:4674) into ``crs``."""
    point = gpd.GeoSeries([shapely.Point(lon, lat)], crs=GEOGRAPHIC_CRS).to_crs(crs)
    return point.iloc[0]


def request_lookup(folder: AssessmentFolder) -> dict[str, list[int]]:
    """Map each protocol (upper case) to its rows in the assessment's ``pedidos``."""
    lookup: dict[str, list[int]] = {}
    for i, protocol in enumerate(folder.requests["protocolo"]):
        if protocol:
            lookup.setdefault(protocol.upper(), []).append(i)
    return lookup


def cadastre_rules(rules: Rules) -> CadastreRules:
    """Return the ``[cadastro]`` section of the rules, refusing rules without it.

    Parameters
    ----------
    rules : Rules

    Returns
    -------
    CadastreRules

    Raises
    ------
    RulesError
        When the rules file has no ``[cadastro]`` section.
    """
    if rules.cadastro is None:
        raise RulesError(
            "as regras não têm a seção [cadastro] (CNPJ, distribuidora, tarifa, dias por mês, "
            "tolerâncias): copie-a de data/municipios/extrema.toml",
            path=rules.arquivo or None,
            field="cadastro",
        )
    return rules.cadastro
