"""The utility's public-lighting cadastre package (``geo-ip cadastro``).

After the works of the program are done, the municipality asks its distributor to add
the new lighting points to its public-lighting (IP) cadastre and invoice, and to take
out the points removed (CEMIG: "medida 060", with the "Ofício da Prefeitura assumindo a
IP", annex 13 — Comunicado EM/PE 020/2024). :func:`build_cadastre` turns an assessment
folder, the executed works and the removals into that package; :func:`write_cadastre`
writes it:

===================================  =========================================================
file                                 content
===================================  =========================================================
``pontos_incluir.csv``               per new point: id, protocol, latitude/longitude (SIRGAS
                                     2000, EPSG:4674, decimal degrees), address, pole, lamp
                                     type, power (W), energisation date, origin
``pontos_excluir.csv``               per removed point: id, coordinates, address, pole, lamp,
                                     power, removal date
``cadastro_ip.gpkg``                 both lists as point layers (EPSG:4674) for QGIS, styled
                                     (``layer_styles``), and the provenance in ``metadados``
``resumo_fatura.csv``                invoice change: points, load (kW), kWh/month, R$/month,
                                     for the inclusions, the exclusions (negative) and the net
``conferencia_obras_executadas.csv`` every row of the executed-works file with its status
``conferencia_pontos_removidos.csv`` every row of the removals file with its status
``oficio.docx``, ``oficio.pdf``      the municipality's letter with the attached lists
``checklist_medida060.md`` / ``.pdf`` the steps of the request in the utility's channel
``proveniencia.json``                tool, rules and their hash, inputs with hashes, params
===================================  =========================================================

Monthly energy is power × ``iluminacao.horas_por_dia`` × ``cadastro.dias_por_mes``
(each with its source in the rules file); the cost uses ``cadastro.tarifa_ip`` (or
``tariff``), left blank while the tariff is "a definir". No personal data: the
cadastre is about lighting points, not people (free text of the removals is redacted).
The cadastre audit (municipal inventory vs. the utility's BDGD) is
:func:`geo_ip.cadastre.audit.audit_cadastre`, re-exported here.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from validate_docbr import CNPJ

import geo_ip.cadastre.letter as _oficio
from geo_ip._util.safe_cells import to_csv
from geo_ip._util.version import __version__
from geo_ip.cadastre.audit import Audit, audit_cadastre, write_audit
from geo_ip.cadastre.audit_inputs import read_utility_cadastre
from geo_ip.cadastre.executed import check_executed
from geo_ip.cadastre.inputs import (
    GEOGRAPHIC_CRS,
    AssessmentFolder,
    cadastre_rules,
    load_assessment,
)
from geo_ip.cadastre.removed import check_removed
from geo_ip.cadastre.writing import metadata_table, provenance_json, write_atomically
from geo_ip.errors import GeoIPError
from geo_ip.outputs.format import hours_per_day
from geo_ip.outputs.qgis.project import style_geopackage
from geo_ip.rules.config import Rules
from geo_ip.rules.provenance import FICTIONAL_LABEL, OSM_ATTRIBUTION, file_record, stamp
from geo_ip.rules.sections import CadastreRules

log = logging.getLogger(__name__)

__all__ = [
    "EXCLUDE_COLUMNS",
    "INCLUDE_COLUMNS",
    "INVOICE_COLUMNS",
    "Audit",
    "Cadastre",
    "audit_cadastre",
    "build_cadastre",
    "cadastre_rules",
    "invoice_change",
    "read_utility_cadastre",
    "validate_cnpj",
    "write_audit",
    "write_cadastre",
]

INCLUDE_COLUMNS = (
    "id_ponto", "protocolo", "latitude", "longitude", "endereco", "poste", "tipo_lampada",
    "potencia_w", "data_energizacao", "origem", "linha_arquivo", "observacao",
)  # fmt: skip
"""Columns of ``pontos_incluir.csv`` (before ``proveniencia``)."""
EXCLUDE_COLUMNS = (
    "id_ponto", "latitude", "longitude", "endereco", "poste", "tipo_lampada", "potencia_w",
    "data_remocao", "protocolo", "origem", "linha_arquivo", "observacao",
)  # fmt: skip
"""Columns of ``pontos_excluir.csv`` (before ``proveniencia``)."""
INVOICE_COLUMNS = (
    "movimento", "pontos", "carga_kw", "horas_por_dia", "dias_por_mes", "energia_kwh_mes",
    "tarifa_rs_kwh", "custo_rs_mes", "fonte_horas", "fonte_dias", "fonte_tarifa",
)  # fmt: skip
"""Columns of ``resumo_fatura.csv`` (before ``proveniencia``)."""
COORDINATE_DIGITS = 7
"""Decimal places of the degrees written (about 1 cm)."""
_CNPJ = CNPJ()


def validate_cnpj(text: str, *, field_name: str = "--cnpj") -> str:
    """Check a CNPJ's check digits and return it formatted (``99.999.999/0001-91``).

    Accepts digits with or without punctuation, and the alphanumeric CNPJ (letters
    in the first 12 positions, as the Receita Federal issues from July 2026).

    Parameters
    ----------
    text : str
        The CNPJ as typed.
    field_name : str, default "--cnpj"
        Where it came from, for the message.

    Returns
    -------
    str
        ``AA.AAA.AAA/AAAA-DD``.

    Raises
    ------
    GeoIPError
        When blank, of the wrong length or with check digits that do not match.
    """
    raw = (text or "").strip()
    plain = re.sub(r"[.\-/\s]", "", raw).upper()
    if not plain:
        raise GeoIPError("CNPJ da Prefeitura não informado", field=field_name)
    if len(plain) != 14 or not re.fullmatch(r"[0-9A-Z]{12}[0-9]{2}", plain):
        raise GeoIPError(
            f"CNPJ inválido ('{raw}'): deve ter 14 caracteres (ex.: 12.345.678/0001-95)",
            field=field_name,
        )
    if not _CNPJ.validate(plain):
        raise GeoIPError(
            f"CNPJ inválido ('{raw}'): os dígitos verificadores não conferem", field=field_name
        )
    return f"{plain[:2]}.{plain[2:5]}.{plain[5:8]}/{plain[8:12]}-{plain[12:]}"


def invoice_change(
    included_w: Sequence[float],
    excluded_w: Sequence[float],
    rules: Rules,
    *,
    tariff: float | None = None,
    tariff_source: str = "",
) -> pd.DataFrame:
    """Estimate the change of the municipal lighting invoice.

    Load = Σ power / 1000 (kW); energy = load × ``iluminacao.horas_por_dia`` ×
    ``cadastro.dias_por_mes`` (kWh/month); cost = energy × tariff (R$/month). Exclusions
    count negative; the last row nets both.

    Parameters
    ----------
    included_w, excluded_w : sequence of float
        Power of each point included / excluded (W).
    rules : Rules
        Municipality rules (with ``[cadastro]``).
    tariff : float, optional
        R$/kWh; default ``cadastro.tarifa_ip``. None (and no tariff in the rules):
        the cost columns stay blank.
    tariff_source : str, optional
        Source of ``tariff`` when given; default: the rules' ``fonte``.

    Returns
    -------
    pandas.DataFrame
        :data:`INVOICE_COLUMNS`; rows ``inclusão``, ``exclusão``, ``saldo``.
    """
    cad = cadastre_rules(rules)
    hours, days = rules.iluminacao.horas_por_dia, cad.dias_por_mes
    rate = tariff if tariff is not None else cad.tarifa_ip.valor
    source = tariff_source if tariff is not None else cad.tarifa_ip.fonte
    rows = []
    for label, powers, sign in (("inclusão", included_w, 1), ("exclusão", excluded_w, -1)):
        watts = float(np.sum(np.asarray(powers, dtype=float))) if len(powers) else 0.0
        rows.append((label, sign * len(powers), sign * watts / 1000.0))
    rows.append(("saldo", rows[0][1] + rows[1][1], rows[0][2] + rows[1][2]))
    rows = [(label, count, kw + 0.0) for label, count, kw in rows]  # no "-0.0"
    out = pd.DataFrame(rows, columns=["movimento", "pontos", "carga_kw"])
    out["horas_por_dia"] = hours.valor
    out["dias_por_mes"] = days.valor
    out["energia_kwh_mes"] = out["carga_kw"] * hours.valor * days.valor
    out["tarifa_rs_kwh"] = rate if rate is not None else np.nan
    out["custo_rs_mes"] = out["energia_kwh_mes"] * (rate if rate is not None else np.nan)
    out["fonte_horas"] = hours.fonte
    out["fonte_dias"] = days.fonte
    out["fonte_tarifa"] = source
    return out[list(INVOICE_COLUMNS)]


@dataclass
class Cadastre:
    """The cadastre package in memory (see :func:`build_cadastre`).

    Attributes
    ----------
    include, exclude : geopandas.GeoDataFrame
        Points to include / exclude, EPSG:4674, :data:`INCLUDE_COLUMNS` /
        :data:`EXCLUDE_COLUMNS`.
    invoice : pandas.DataFrame
        :func:`invoice_change`.
    executed_report, removed_report : pandas.DataFrame
        One row per input row (``situacao``, ``motivo``, points made).
    cnpj : str
        The municipality's CNPJ, validated and formatted.
    provenance : dict
        Tool, rules, inputs with hashes, parameters, counts.
    notes : list of str
        Points the user must check before sending (estimated positions...).
    """

    include: gpd.GeoDataFrame
    exclude: gpd.GeoDataFrame
    invoice: pd.DataFrame
    executed_report: pd.DataFrame
    removed_report: pd.DataFrame
    rules: Rules
    cnpj: str
    today: date
    provenance: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def stamp(self) -> str:
        """The one-line provenance written on every CSV row."""
        return str(self.provenance["carimbo"])


def _addresses(points: gpd.GeoDataFrame, folder: AssessmentFolder, rules: Rules) -> pd.Series:
    """Address of each point: as given, else the nearest named road + the request's bairro."""
    given = points["endereco"].fillna("").astype(str)
    if points.empty:
        return given
    roads = folder.roads
    street = pd.Series("", index=points.index, dtype=object)
    if len(roads) and "name" in roads:
        named = roads.loc[roads["name"].fillna("").astype(str) != "", ["name", "geometry"]]
        if len(named):
            joined = gpd.sjoin_nearest(
                points[["geometry"]],
                named,
                how="left",
                max_distance=rules.rede.distancia_maxima_via.valor,
            )
            joined = joined[~joined.index.duplicated(keep="first")]
            street = joined["name"].reindex(points.index).fillna("").astype(str)
    bairro = pd.Series("", index=points.index, dtype=object)
    if "bairro" in folder.requests and "protocolo" in points:
        by_protocol = folder.requests.drop_duplicates("protocolo").set_index("protocolo")["bairro"]
        bairro = points["protocolo"].map(by_protocol).fillna("").astype(str)
    built = [", ".join(p for p in (s, b) if p) for s, b in zip(street, bairro, strict=True)]
    return given.where(given != "", pd.Series(built, index=points.index))


def _public(
    points: gpd.GeoDataFrame,
    folder: AssessmentFolder,
    rules: Rules,
    columns: tuple[str, ...],
    date_name: str,
) -> gpd.GeoDataFrame:
    """Points in EPSG:4674 with their address and latitude/longitude, in ``columns`` order."""
    points = points.copy()
    points["endereco"] = _addresses(points, folder, rules)
    geo = points.to_crs(GEOGRAPHIC_CRS)
    out = pd.DataFrame(geo.drop(columns="geometry"))
    out["latitude"] = np.round(geo.geometry.y.to_numpy(), COORDINATE_DIGITS)
    out["longitude"] = np.round(geo.geometry.x.to_numpy(), COORDINATE_DIGITS)
    out[date_name] = out.pop("data").map(lambda d: d.isoformat() if isinstance(d, date) else "")
    out["potencia_w"] = out["potencia_w"].astype(float)
    return gpd.GeoDataFrame(
        out[list(columns)], geometry=geo.geometry.to_numpy(), crs=GEOGRAPHIC_CRS
    )


def _cnpj_of(cnpj: str | None, cad: CadastreRules) -> str:
    """Return the CNPJ given (``--cnpj``) or else the rules', validated and formatted."""
    if cnpj is None and not cad.cnpj.strip():
        raise GeoIPError(
            f"CNPJ da Prefeitura não informado: use --cnpj (as regras dizem: {cad.fonte_cnpj})",
            field="--cnpj",
        )
    given = cnpj if cnpj is not None else cad.cnpj
    return validate_cnpj(given, field_name="--cnpj" if cnpj is not None else "cadastro.cnpj")


def _notes(
    notes: list[str],
    reports: dict[str, pd.DataFrame],
    invoice: pd.DataFrame,
    folder: AssessmentFolder,
    rules: Rules,
) -> list[str]:
    """Return what the user must check before sending: ``notes`` and the package's own."""
    out = list(notes)
    used = folder.provenance.get("regras", {}).get("sha256")
    if used and used != rules.sha256:
        out.append(
            f"as regras ({rules.versao}, sha256 {rules.sha256[:12]}) não são as da avaliação "
            f"(sha256 {str(used)[:12]}): confira --regras"
        )
    for name, report in reports.items():
        bad = int((report["situacao"] == "erro").sum())
        if bad:
            label = name.replace("_", " ")
            out.append(f"{bad} linha(s) do arquivo de {label} recusada(s): veja a conferência")
    if math.isnan(float(invoice["tarifa_rs_kwh"].iloc[0])):
        out.append("tarifa de iluminação pública a definir: custo em reais não estimado")
    return out


def _parameters(rules: Rules, invoice: pd.DataFrame) -> dict[str, Any]:
    """Return the parameters of the invoice change, each with its source (provenance)."""
    rate = float(invoice["tarifa_rs_kwh"].iloc[0])
    return {
        "horas_por_dia": rules.iluminacao.horas_por_dia.model_dump(),
        "dias_por_mes": cadastre_rules(rules).dias_por_mes.model_dump(),
        "tarifa_ip": {"valor": invoice["tarifa_rs_kwh"].iloc[0] if not math.isnan(rate) else None,
                      "unidade": "R$/kWh", "fonte": invoice["fonte_tarifa"].iloc[0]},
        "potencia_padrao": rules.iluminacao.potencia_padrao.model_dump(),
    }  # fmt: skip


def _provenance(
    rules: Rules,
    folder: AssessmentFolder,
    paths: dict[str, str | Path | None],
    started: datetime,
    today: date,
    invoice: pd.DataFrame,
    counts: dict[str, int],
    reports: dict[str, pd.DataFrame],
    notes: list[str],
) -> dict[str, Any]:
    """Return the provenance of the package.

    Tool, rules, inputs with hashes, parameters, counts (of points and of the input rows
    by status) and the notes.
    """
    cad = cadastre_rules(rules)
    used = folder.provenance.get("regras", {}).get("sha256")
    territory = folder.provenance.get("territorio") or {}
    inputs = [file_record("avaliacao", p) for p in folder.files]
    inputs += [file_record(name, Path(path)) for name, path in paths.items() if path is not None]
    provenance: dict[str, Any] = {
        "ferramenta": "geo_ip",
        "versao_ferramenta": __version__,
        "executado_em": started.isoformat(timespec="seconds"),
        "data_referencia": today.isoformat(),
        "regras": {"arquivo": rules.arquivo, "versao": rules.versao, "sha256": rules.sha256,
                   "municipio": rules.municipio.nome, "codigo_ibge": rules.municipio.codigo_ibge},
        "avaliacao": {"pasta": str(folder.path), "carimbo": folder.provenance.get("carimbo"),
                      "regras_sha256": used},
        "entradas": inputs,
        "crs": GEOGRAPHIC_CRS,
        "distribuidora": cad.distribuidora,
        "parametros": _parameters(rules, invoice),
        "contagens": {
            **counts,
            **{f"linhas_{name}": {k: int(v) for k, v in
                                  report["situacao"].value_counts().sort_index().items()}
               for name, report in reports.items()},
        },
        "avisos": notes,
        "atribuicao": OSM_ATTRIBUTION,
        "carimbo": stamp(rules, {"osm_data": territory.get("osm_data"), "crs": GEOGRAPHIC_CRS}),
    }  # fmt: skip
    if rules.municipio.ficticio:
        provenance["rotulo"] = FICTIONAL_LABEL
    return provenance


def build_cadastre(
    assessment: str | Path,
    executed: str | Path,
    rules: Rules,
    *,
    removed: str | Path | None = None,
    cnpj: str | None = None,
    tariff: float | None = None,
    today: date | None = None,
) -> Cadastre:
    """Build the cadastre package from an assessment folder and the executed works.

    Parameters
    ----------
    assessment : str or Path
        The ``--saida`` folder of ``geo-ip avaliar``.
    executed : str or Path
        Executed works: ``protocolo``, ``data_execucao`` and, optionally, the as-built
        points (``latitude``, ``longitude``, ``tipo_lampada``, ``potencia_w``,
        ``poste``, ``endereco``, ``id_ponto``). See :mod:`geo_ip.cadastre.inputs`.
    rules : Rules
        Municipality rules, with ``[cadastro]``.
    removed : str or Path, optional
        Existing points removed (``id_ponto`` or coordinates, ``potencia_w``...).
    cnpj : str, optional
        The municipality's CNPJ; default ``cadastro.cnpj`` (required when that is empty).
    tariff : float, optional
        R$/kWh, overriding ``cadastro.tarifa_ip``.
    today : datetime.date, optional
        Reference date (future dates refused; date of the letter). Default: today.

    Returns
    -------
    Cadastre

    Raises
    ------
    GeoIPError
        Missing or invalid CNPJ, negative tariff, unreadable inputs, rules without
        ``[cadastro]``.
    """
    started = datetime.now(UTC)
    today = today or date.today()
    cad = cadastre_rules(rules)
    number = _cnpj_of(cnpj, cad)
    if tariff is not None and not (math.isfinite(tariff) and tariff > 0):
        raise GeoIPError(f"tarifa inválida ({tariff}): informe R$/kWh > 0", field="--tarifa")
    folder = load_assessment(assessment)
    done = check_executed(executed, folder, rules, cad, today)
    gone = check_removed(removed, folder, cad, today) if removed is not None else None
    include = _public(done.points, folder, rules, INCLUDE_COLUMNS, "data_energizacao")
    gone_points = gone.points if gone is not None else done.points.iloc[0:0]
    exclude = _public(gone_points, folder, rules, EXCLUDE_COLUMNS, "data_remocao")
    source = "informada em --tarifa" if tariff is not None else ""
    invoice = invoice_change(
        include["potencia_w"].tolist(), exclude["potencia_w"].tolist(), rules,
        tariff=tariff, tariff_source=source,
    )  # fmt: skip
    removed_report = gone.report if gone is not None else done.report.iloc[0:0].copy()
    reports = {"obras_executadas": done.report, "pontos_removidos": removed_report}
    notes = _notes(done.notes, reports, invoice, folder, rules)
    counts = {"pontos_incluir": len(include), "pontos_excluir": len(exclude)}
    paths = {"obras_executadas": executed, "pontos_removidos": removed}
    provenance = _provenance(rules, folder, paths, started, today, invoice, counts, reports, notes)
    log.info(
        "cadastro: %d ponto(s) a incluir, %d a excluir; saldo %.3f kW",
        len(include), len(exclude), float(invoice["carga_kw"].iloc[-1]),
    )  # fmt: skip
    return Cadastre(
        include=include,
        exclude=exclude,
        invoice=invoice,
        executed_report=done.report,
        removed_report=removed_report,
        rules=rules,
        cnpj=number,
        today=today,
        provenance=provenance,
        notes=notes,
    )


# --- writing --------------------------------------------------------------------------------


def _money(value: float, digits: int = 2) -> str:
    return "" if not math.isfinite(value) else _oficio.number_br(value, digits)


def _documents(cadastre: Cadastre) -> tuple[_oficio.Letter, _oficio.Checklist]:
    rules = cadastre.rules
    cad = cadastre_rules(rules)
    inv: dict[str, dict[str, float]] = {
        str(row["movimento"]): {str(k): v for k, v in row.items() if k != "movimento"}
        for row in cadastre.invoice[["movimento", "pontos", "carga_kw", "energia_kwh_mes",
                                     "tarifa_rs_kwh", "custo_rs_mes"]].to_dict("records")
    }  # fmt: skip
    town = rules.municipio
    fictional = FICTIONAL_LABEL if town.ficticio else ""
    protocols = sorted({p for p in cadastre.include["protocolo"] if p})
    rate = float(inv["saldo"]["tarifa_rs_kwh"])
    name = town.nome.removeprefix("Município de ").strip()
    context = {
        "municipio": name,
        "uf": town.uf,
        "prefeitura": f"Prefeitura Municipal de {name}",
        "cnpj": cadastre.cnpj,
        "distribuidora": cad.distribuidora,
        "n_incluir": len(cadastre.include),
        "n_excluir": len(cadastre.exclude),
        "kw_incluir": _oficio.number_br(float(inv["inclusão"]["carga_kw"]), 3),
        "kw_excluir": _oficio.number_br(-float(inv["exclusão"]["carga_kw"]), 3),
        "kw_saldo": _oficio.number_br(float(inv["saldo"]["carga_kw"]), 3),
        "kwh_saldo": _oficio.number_br(float(inv["saldo"]["energia_kwh_mes"]), 2),
        "horas": hours_per_day(rules.iluminacao.horas_por_dia.valor),  # "11 h 52 min"
        "dias": _oficio.number_br(cad.dias_por_mes.valor, 0),
        "fonte_horas": rules.iluminacao.horas_por_dia.fonte,
        "tarifa": _money(rate, 4),
        "custo_saldo": _money(float(inv["saldo"]["custo_rs_mes"])),
        "protocolos": ", ".join(protocols),
        "local_data": f"{name}/{town.uf}, {_oficio.date_in_words(cadastre.today)}.",
        "ano": cadastre.today.year,
        "data": f"{cadastre.today:%d/%m/%Y}",
        "ficticio": town.ficticio,
        "rotulo_ficticio": fictional,
        "arquivos": ["oficio.pdf (assinado)", "pontos_incluir.csv", "pontos_excluir.csv",
                     "cadastro_ip.gpkg"],
    }  # fmt: skip
    anexos = [
        _oficio.points_annex("Pontos a incluir", cadastre.include, "Energização",
                             "data_energizacao", COORDINATE_DIGITS),
        _oficio.points_annex("Pontos a excluir", cadastre.exclude, "Remoção", "data_remocao",
                             COORDINATE_DIGITS),
    ]  # fmt: skip
    resumo = _oficio.Table_(
        "Variação da fatura",
        ["Movimento", "Pontos", "Carga (kW)", "Energia (kWh/mês)", "Tarifa (R$/kWh)",
         "Custo (R$/mês)"],
        [
            [label, str(int(row["pontos"])), _oficio.number_br(row["carga_kw"], 3),
             _oficio.number_br(row["energia_kwh_mes"], 2),
             _money(row["tarifa_rs_kwh"], 4) or "a definir",
             _money(row["custo_rs_mes"]) or "a definir"]
            for label, row in inv.items()
        ],
    )  # fmt: skip
    letter = _oficio.build_letter(context, anexos, resumo, fictional=fictional)
    checklist = _oficio.build_checklist(
        context, cemig=cad.is_cemig, fictional=fictional, notes=cadastre.notes
    )
    return letter, checklist


def _write_csv(frame: pd.DataFrame, path: Path, stamp_text: str) -> None:
    out = pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).assign(
        proveniencia=stamp_text
    )
    to_csv(out, path)  # text cells never read as formulas (issue 17)


def _write_gpkg(cadastre: Cadastre, path: Path) -> None:
    for name, frame in (("pontos_incluir", cadastre.include),
                        ("pontos_excluir", cadastre.exclude)):  # fmt: skip
        layer = frame.assign(proveniencia=cadastre.stamp)
        pyogrio.write_dataframe(layer, path, layer=name, driver="GPKG", geometry_type="Point")
    meta = metadata_table(cadastre.provenance)
    pyogrio.write_dataframe(meta, path, layer="metadados", driver="GPKG")
    style_geopackage(path)  # QGIS opens each layer styled (table layer_styles)


def write_cadastre(cadastre: Cadastre, out_dir: str | Path) -> list[Path]:
    """Write every file of the cadastre package (see the module docstring).

    Parameters
    ----------
    cadastre : Cadastre
        From :func:`build_cadastre`.
    out_dir : str or Path
        Folder (created when missing).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    InputFileError
        When a file cannot be written.
    """
    letter, checklist = _documents(cadastre)
    text = cadastre.stamp
    files: dict[str, Any] = {
        "pontos_incluir.csv": lambda p: _write_csv(cadastre.include, p, text),
        "pontos_excluir.csv": lambda p: _write_csv(cadastre.exclude, p, text),
        "cadastro_ip.gpkg": lambda p: _write_gpkg(cadastre, p),
        "resumo_fatura.csv": lambda p: _write_csv(cadastre.invoice.round(
            {"carga_kw": 3, "energia_kwh_mes": 2, "custo_rs_mes": 2}), p, text),
        "conferencia_obras_executadas.csv": lambda p: _write_csv(cadastre.executed_report, p, text),
        "conferencia_pontos_removidos.csv": lambda p: _write_csv(cadastre.removed_report, p, text),
        "oficio.docx": lambda t: _oficio.write_letter_docx(letter, t),
        "oficio.pdf": lambda t: _oficio.write_letter_pdf(letter, t),
        "checklist_medida060.md": lambda t: t.write_text(
            _oficio.checklist_markdown(checklist), encoding="utf-8"),
        "checklist_medida060.pdf": lambda t: _oficio.write_checklist_pdf(checklist, t),
        "proveniencia.json": provenance_json(cadastre.provenance),
    }  # fmt: skip
    return write_atomically(Path(out_dir), files)
