"""Files of a CIP computation: CSV, XLSX and JSON, aggregates only (private).

=======================  ===========================================================
file                     content
=======================  ===========================================================
``cip_anual.csv``        the year per class and the ``total`` row
``cip_classe_mes.csv``   per class and month: consumers, exempt, kWh, base, CIP
``cip_leitura.csv``      every input row accounted for, by status and reason
``cip.xlsx``             the three tables, the rules applied, warnings, provenance
``cip.json``             all of the above with the full provenance record
=======================  ===========================================================

No file has a line per consumer unit (LGPD): the reading report gives row numbers of
the user's own file for the rejected rows, never an identifier nor a consumption.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo_ip._util.atomic import atomic_path, write_staged
from geo_ip._util.safe_cells import XLSX_OPTIONS, to_csv
from geo_ip.cip.result import CipResult
from geo_ip.outputs.palette import load_palette

__all__ = ["write_cip_outputs"]


def _export(table: pd.DataFrame) -> pd.DataFrame:
    """Reais and kWh rounded to 2 decimals (tariffs kept whole)."""
    out = table.copy()
    for column in out.columns:
        if column.endswith("_rs") or column.startswith("kwh_"):
            out[column] = pd.to_numeric(out[column], errors="coerce").round(2)
    return out


def _cell(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _cell(v) for k, v in row.items()} for row in table.to_dict("records")]


def _sheets(result: CipResult) -> dict[str, pd.DataFrame]:
    stamp = str(result.provenance["carimbo"])
    return {
        "Anual": _export(result.by_class).assign(proveniencia=stamp),
        "Por classe e mês": _export(result.by_class_month).assign(proveniencia=stamp),
        "Regras aplicadas": result.applied,
        "Leitura do arquivo": result.reading,
        "Avisos": pd.DataFrame({"aviso": list(result.warnings) or ["nenhum"]}),
        "Proveniência": pd.DataFrame(
            [
                {
                    "chave": k,
                    "valor": v if isinstance(v, str) else json.dumps(v, ensure_ascii=False),
                }
                for k, v in result.provenance.items()
            ]
        ),
    }


def _write_xlsx(sheets: dict[str, pd.DataFrame], out: Path) -> None:
    import xlsxwriter

    with atomic_path(out) as tmp:
        book = xlsxwriter.Workbook(str(tmp), XLSX_OPTIONS)  # strings stay text (issue 17)
        try:
            header = book.add_format(load_palette().workbook_header())  # maps/cores.toml
            money = book.add_format({"num_format": '"R$" #,##0.00'})
            energy = book.add_format({"num_format": "#,##0.00"})
            wrap = book.add_format({"text_wrap": True, "valign": "top"})
            for name, frame in sheets.items():
                sheet = book.add_worksheet(name)
                for i, column in enumerate(frame.columns):
                    sheet.write(0, i, column, header)
                    texty = column.startswith(("fonte", "motivo", "aviso", "valor", "exemplos"))
                    fmt = (
                        money
                        if column.endswith("_rs")
                        else energy
                        if column.startswith("kwh_")
                        else wrap
                        if texty
                        else None
                    )
                    sheet.set_column(i, i, 60 if texty else max(12, min(28, len(column) + 2)), fmt)
                for r, row in enumerate(frame.itertuples(index=False, name=None), start=1):
                    sheet.write_row(r, 0, [_cell(v) for v in row])
                sheet.freeze_panes(1, 1)
        finally:
            book.close()


def _write_text(text: str, out: Path) -> None:
    with atomic_path(out) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_cip_outputs(result: CipResult, out_dir: str | Path) -> list[Path]:
    """Write the CIP files (see the module table) into ``out_dir``.

    Parameters
    ----------
    result : CipResult
        Result of :func:`geo_ip.cip.engine.compute_cip`.
    out_dir : str or Path
        Folder, created when missing.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    InputFileError
        When a file cannot be written (the message names it).
    """
    out = Path(out_dir)
    sheets = _sheets(result)
    payload = {
        "proveniencia": result.provenance,
        "cip_anual_rs": round(result.total_rs, 2),
        "meses_com_consumo": result.months,
        "avisos": list(result.warnings),
        "anual": _records(sheets["Anual"].drop(columns="proveniencia")),
        "classe_mes": _records(sheets["Por classe e mês"].drop(columns="proveniencia")),
        "regras_aplicadas": _records(result.applied),
        "leitura": _records(result.reading),
    }

    def csv(name: str) -> Callable[[Path], None]:
        frame = sheets[name]
        if "proveniencia" not in frame:
            frame = frame.assign(proveniencia=str(result.provenance["carimbo"]))
        return lambda p: _write_text(str(to_csv(frame)), p)

    files: dict[str, Callable[[Path], None]] = {
        "cip_anual.csv": csv("Anual"),
        "cip_classe_mes.csv": csv("Por classe e mês"),
        "cip_leitura.csv": csv("Leitura do arquivo"),
        "cip.xlsx": lambda p: _write_xlsx(sheets, p),
        "cip.json": lambda p: _write_text(json.dumps(payload, ensure_ascii=False, indent=1), p),
    }
    return write_staged(out, files)  # all files or none: never a mix of two runs
