"""The consolidated outputs of a batch run: one row per municipality, in four forms.

==========================  ===================================================================
file                        content
==========================  ===================================================================
``lote.gpkg``               layer ``municipios``: one row per municipality (in the order of
                            the run) with its boundary (none when the extract has none), the
                            columns of :data:`~geo_ip.batch.model.COLUMNS` and
                            ``situacao_rotulo``; the QGIS style (``layer_styles``) with the
                            Portuguese aliases; table ``metadados`` (the provenance)
``lote.xlsx``               sheet "Municípios" (Portuguese headers, frozen header, filter,
                            R$, km, % and thousands formats, the status in words), "Falhas"
                            (when a municipality failed) and "Proveniência"
``lote.csv``                the table for scripts: UTF-8 without BOM, ``,``, decimal point,
                            the columns' codes, ``proveniencia`` (as ``ranking.csv``)
``lote_planilha.csv``       the same for people: what a Brazilian Excel opens (UTF-8 with BOM,
                            ``;``, decimal comma, the labels, the status in words; as
                            ``ranking_planilha.csv``)
``mapa_lote.html``          the municipalities coloured by a column chosen on the map
                            (:mod:`geo_ip.batch.overview_map`), with ``assets/`` beside it
==========================  ===================================================================

Each file is written atomically (:func:`geo_ip._util.atomic.atomic_path`); text cells are
never read as formulas (:mod:`geo_ip._util.safe_cells`). The table holds aggregates only:
no consumer unit and no person appears in it.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ip._util.atomic import atomic_path
from geo_ip._util.safe_cells import XLSX_OPTIONS, to_csv, to_csv_br
from geo_ip._util.version import __version__
from geo_ip.batch.model import COLUMNS, STATUS_LABELS, MunicipalityResult
from geo_ip.batch.overview_map import COLUMN_KINDS, write_overview_map
from geo_ip.errors import GeoIPError
from geo_ip.outputs.format import br_date
from geo_ip.outputs.palette import load_palette
from geo_ip.outputs.qgis.gpkg_layers import read_layers
from geo_ip.outputs.qgis.project import STYLE_TABLE, qml_for, style_geopackage
from geo_ip.outputs.styles import LayerStyle, SymbolClass
from geo_ip.rules.provenance import OSM_ATTRIBUTION
from geo_ip.territory.writer import write_dataframe

__all__ = [
    "CSV_FILE",
    "CSV_PEOPLE_FILE",
    "GPKG_FILE",
    "LAYER",
    "MAP_FILE",
    "STATUS_LABEL_COLUMN",
    "XLSX_FILE",
    "consolidated_table",
    "write_consolidated",
]

GPKG_FILE = "lote.gpkg"
XLSX_FILE = "lote.xlsx"
CSV_FILE = "lote.csv"
CSV_PEOPLE_FILE = "lote_planilha.csv"
MAP_FILE = "mapa_lote.html"
LAYER = "municipios"
"""The GeoPackage layer of the municipalities."""
STATUS_LABEL_COLUMN = "situacao_rotulo"
"""Column of the GeoPackage with the status in words, beside ``situacao`` (its code)."""
METADATA_LAYER = "metadados"
"""Table of the provenance in the GeoPackage (as in ``avaliacao.gpkg``)."""
PROVENANCE_COLUMN = "proveniencia"
"""Column of the CSV files with the provenance stamp (as in ``ranking.csv``)."""

_SHEET = "Municípios"
_FAILURES_SHEET = "Falhas"
_PROVENANCE_SHEET = "Proveniência"
_NUMBER_FORMATS = {
    "rs": '"R$" #,##0.00',
    "km": "#,##0.0",
    "km2": "#,##0.0",
    "pct": '#,##0.0" %"',
    "s": "#,##0.0",
    "int": "#,##0",
    "codigo": "0",
}
"""Number formats of the workbook, by :data:`~geo_ip.batch.overview_map.COLUMN_KINDS`
(Excel shows them with the reader's separators: ``R$ 1.234,56`` in Portuguese)."""
_STATUS_ALIAS = "Situação (por extenso)"


def _integer_columns() -> set[str]:
    return {
        f.name
        for f in dataclasses.fields(MunicipalityResult)
        if str(f.type).replace(" ", "") in ("int", "int|None")
    }


def consolidated_table(results: Sequence[MunicipalityResult]) -> pd.DataFrame:
    """Return the consolidated table: one row per result, in order, the columns' codes.

    Parameters
    ----------
    results : sequence of MunicipalityResult
        One per municipality.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`~geo_ip.batch.model.COLUMNS` in their order; integers as
        ``Int64`` and reals as ``float64`` (missing: ``<NA>``/``NaN``), ``avisos`` joined
        by ``"; "``, ``situacao`` as its code.
    """
    records = [r.record() for r in results]
    integers = _integer_columns()
    data: dict[str, Any] = {}
    for column in COLUMNS:
        values = [record.get(column) for record in records]
        if column in integers:
            data[column] = pd.array([None if v is None else int(v) for v in values], "Int64")
        elif column in COLUMN_KINDS:
            data[column] = np.array([np.nan if v is None else float(v) for v in values])
        else:
            data[column] = np.array(["" if v is None else str(v) for v in values], dtype=object)
    return pd.DataFrame(data, columns=list(COLUMNS))


def _boundaries_of(table: pd.DataFrame, boundaries: gpd.GeoDataFrame) -> list[Any]:
    """Each row's boundary in WGS 84 (None when the boundaries have none for its code)."""
    missing = {"codigo_ibge", "geometry"} - set(boundaries.columns)
    if missing:
        raise GeoIPError(
            f"limites dos municípios sem a coluna '{sorted(missing)[0]}' (esperadas "
            "codigo_ibge, nome e geometry)"
        )
    frame = boundaries
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
    found: dict[int, Any] = {}
    for code, geom in zip(frame["codigo_ibge"], frame.geometry, strict=True):
        try:
            key = int(code)
        except (TypeError, ValueError):
            continue
        if isinstance(geom, shapely.Geometry) and not shapely.is_empty(geom):
            found.setdefault(key, geom)
    return [found.get(int(code)) for code in table["codigo_ibge"]]


def _stamp(provenance: dict[str, Any]) -> str:
    """One line of provenance for the CSV files (the run's ``carimbo`` when it has one)."""
    if provenance.get("carimbo"):
        return str(provenance["carimbo"])
    tool = str(provenance.get("ferramenta") or "geo_ip")
    version = str(provenance.get("versao") or provenance.get("versao_geo_ip") or __version__)
    text = f"{tool} {version}"
    if provenance.get("executado_em"):
        text += f"; lote de {br_date(provenance['executado_em'])}"
    return f"{text}; {OSM_ATTRIBUTION}"


def _provenance_rows(provenance: dict[str, Any]) -> pd.DataFrame:
    """List the provenance one key a row, the value as JSON text (as ``ranking.xlsx``)."""
    return pd.DataFrame(
        [
            {"chave": str(k), "valor": json.dumps(v, ensure_ascii=False, default=str)}
            for k, v in provenance.items()
        ],
        columns=["chave", "valor"],
    )


# --- GeoPackage -----------------------------------------------------------------------------


def _gpkg_style(fields: tuple[str, ...]) -> str:
    """QML of the ``municipios`` layer: categories of the status, the Portuguese aliases."""
    palette = load_palette()
    dark = palette.neutra_escura
    colours = {"concluido": "#2c738e", "reaproveitado": "#1e9c89", "falhou": palette.neutra}
    classes = tuple(
        SymbolClass(valor=code, rotulo=label, cor=colours.get(code, dark), largura=0.8)
        for code, label in STATUS_LABELS.items()
    )
    aliases = dict(COLUMNS)
    aliases[STATUS_LABEL_COLUMN] = _STATUS_ALIAS
    order = list(COLUMNS)
    order.insert(order.index("situacao") + 1, STATUS_LABEL_COLUMN)
    style = LayerStyle(
        camada=LAYER,
        titulo="Municípios do lote",
        fonte=f"geo_ip (lote); limites: OpenStreetMap — {OSM_ATTRIBUTION}",
        geometria="poligono",
        grupo="Lote",
        tipo="categorizado",
        campo="situacao",
        classes=classes,
        campos={c: aliases[c] for c in order},
    )
    return qml_for(style, "MULTIPOLYGON", fields=fields)


def _write_gpkg(
    table: pd.DataFrame, geoms: list[Any], provenance: dict[str, Any], out: Path
) -> None:
    layer = table.copy()
    position = list(layer.columns).index("situacao") + 1
    labels = layer["situacao"].map(lambda v: STATUS_LABELS.get(v, v))
    layer.insert(position, STATUS_LABEL_COLUMN, labels.astype(object))
    frame = gpd.GeoDataFrame(layer, geometry=np.asarray(geoms, dtype=object), crs="EPSG:4326")
    meta = _provenance_rows(provenance)
    with atomic_path(out) as tmp:
        write_dataframe(frame, tmp, LAYER, geometry_type="MultiPolygon", promote_to_multi=True)
        write_dataframe(meta, tmp, METADATA_LAYER)
        style_geopackage(tmp)  # the table layer_styles, as QGIS writes it
        fields = next(x.fields for x in read_layers(tmp) if x.table == LAYER)
        with closing(sqlite3.connect(tmp)) as con, con:
            con.execute(
                f'UPDATE "{STYLE_TABLE}" SET styleQML = ?, description = ? WHERE f_table_name = ?',
                (_gpkg_style(fields), "geo_ip: Municípios do lote — situação", LAYER),
            )


# --- workbook -------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _write_sheet(
    book: Any,
    name: str,
    frame: pd.DataFrame,
    headers: list[str],
    formats: dict[str, Any],
    freeze: int,
) -> None:
    header = book.add_format(load_palette().workbook_header(valign="top", border=1))
    sheet = book.add_worksheet(name)
    for j, (column, title) in enumerate(zip(frame.columns, headers, strict=True)):
        sheet.write_string(0, j, title, header)
        texts = [str(v) for v in frame[column].head(200) if _cell(v) is not None]
        width = max([len(title) * 0.9, *(len(t) + 2 for t in texts)], default=10)
        sheet.set_column(j, j, min(60, max(10, width)))
    for i, row in enumerate(frame.itertuples(index=False, name=None), start=1):
        for j, (column, raw) in enumerate(zip(frame.columns, row, strict=True)):
            value = _cell(raw)
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                sheet.write_boolean(i, j, value)
            elif isinstance(value, int | float):
                sheet.write_number(i, j, value, formats.get(column))
            else:  # text stays text: "=HYPERLINK(...)" is never a formula (issue 17)
                sheet.write_string(i, j, str(value))
    sheet.freeze_panes(1, freeze)
    sheet.autofilter(0, 0, max(len(frame), 1), max(len(frame.columns) - 1, 0))


def _write_xlsx(table: pd.DataFrame, provenance: dict[str, Any], out: Path) -> None:
    import xlsxwriter

    people = table.copy()
    people["situacao"] = people["situacao"].map(lambda v: STATUS_LABELS.get(v, v))
    failed = table[table["situacao"] == "falhou"][["codigo_ibge", "nome", "erro"]]
    meta = _provenance_rows(provenance)
    with atomic_path(out) as tmp:
        book = xlsxwriter.Workbook(str(tmp), XLSX_OPTIONS)  # strings stay text (issue 17)
        try:
            formats = {
                column: book.add_format({"num_format": _NUMBER_FORMATS[kind]})
                for column, kind in COLUMN_KINDS.items()
            }
            labels = [COLUMNS[c] for c in people.columns]
            _write_sheet(book, _SHEET, people, labels, formats, freeze=2)
            if len(failed):
                headers = [COLUMNS[c] for c in failed.columns]
                _write_sheet(book, _FAILURES_SHEET, failed, headers, formats, freeze=0)
            _write_sheet(book, _PROVENANCE_SHEET, meta, ["Chave", "Valor"], {}, freeze=0)
        finally:
            book.close()


# --- CSV ------------------------------------------------------------------------------------


def _write_csv(table: pd.DataFrame, stamp: str, out: Path) -> None:
    with atomic_path(out) as tmp:
        to_csv(table.assign(**{PROVENANCE_COLUMN: stamp}), tmp)  # never a formula (issue 17)


def _write_csv_br(table: pd.DataFrame, stamp: str, out: Path) -> None:
    people = table.copy()
    people["situacao"] = people["situacao"].map(lambda v: STATUS_LABELS.get(v, v))
    people = people.assign(**{PROVENANCE_COLUMN: stamp})
    labels = {**COLUMNS, PROVENANCE_COLUMN: "Proveniência"}
    with atomic_path(out) as tmp:
        to_csv_br(people.set_axis([labels[c] for c in people.columns], axis=1), tmp)


def write_consolidated(
    results: Sequence[MunicipalityResult],
    boundaries: gpd.GeoDataFrame,
    out_dir: str | Path,
    provenance: dict[str, Any],
) -> list[Path]:
    """Write the consolidated outputs of a batch run (see the module table) into ``out_dir``.

    Parameters
    ----------
    results : sequence of MunicipalityResult
        One per municipality, in the order the rows are written (failed ones included:
        they keep their row, with the error).
    boundaries : geopandas.GeoDataFrame
        The municipal boundaries: ``codigo_ibge``, ``nome``, ``geometry`` (WGS 84; another
        CRS is reprojected). A result whose code has no boundary gets a row without
        geometry, and is not drawn on the map.
    out_dir : str or Path
        The batch's output folder (created when missing); files of the same name are
        replaced, each atomically, and nothing else in it is touched.
    provenance : dict
        The run's provenance (``ferramenta``, ``versao``, ``executado_em``, inputs...),
        kept whole in the GeoPackage (``metadados``) and the workbook ("Proveniência"),
        as a stamp in the CSV files (``carimbo`` when given) and in the map's footer.

    Returns
    -------
    list of Path
        ``lote.gpkg``, ``lote.xlsx``, ``lote.csv``, ``lote_planilha.csv`` and
        ``mapa_lote.html`` (its ``assets/`` folder is written beside it).

    Raises
    ------
    GeoIPError
        When ``boundaries`` lacks ``codigo_ibge`` or ``geometry``.
    InputFileError
        When a file cannot be written.
    """
    out = Path(out_dir)
    table = consolidated_table(results)
    geoms = _boundaries_of(table, boundaries)
    stamp = _stamp(provenance)
    paths = [out / name for name in (GPKG_FILE, XLSX_FILE, CSV_FILE, CSV_PEOPLE_FILE, MAP_FILE)]
    _write_gpkg(table, geoms, provenance, paths[0])
    _write_xlsx(table, provenance, paths[1])
    _write_csv(table, stamp, paths[2])
    _write_csv_br(table, stamp, paths[3])
    write_overview_map(table, geoms, paths[4], provenance)
    return paths
