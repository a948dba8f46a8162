"""``geo-ip avaliar``: from the requests spreadsheet to the commission's working list.

One pass for all requests, in the order of ``docs/assessment.md``:

1. :func:`geo_ip.requests.locate.locate_requests` — intake, validation, geocoding, snapping; then
   the places the Commission confirmed (``localizacao`` decisions) replace the located
   ones, and each request whose place is too uncertain gets positions along its
   candidate stretch as extra rows (:mod:`geo_ip.law.uncertainty`);
2. :class:`geo_ip.network.gridpath.GridNetwork` — the proposed extension along the roads;
3. :class:`geo_ip.evidence.context.Context` — facilities, occurrences, darkness, buildings,
   betweenness, slope and access;
4. :mod:`geo_ip.evidence.materials` — bill of materials, cost, beneficiaries;
5. :func:`geo_ip.law.scoring.suggest` — the five suggestions of Art. 9 with motivations;
   the positions are then folded back into their request (range and worse case);
6. :func:`geo_ip.law.eligibility.check` — Art. 4 §2, Art. 5 and Art. 11;
7. :func:`geo_ip.law.decisions.apply` — the commission's decisions, when given;
8. :func:`geo_ip.law.ranking.rank` — order (Art. 8 §2, 10 §1, 13), cost share (Art. 4 §1)
   and budget.

:func:`assess` opens the territory once (:class:`geo_ip.territory.reader.Territory`) and
hands it to every stage, which read its layers from it (each layer is read from the file
once and shared, the writers included). The stages pass tables: :func:`_locate_and_trace`
(steps 1 and 2, with the grid network and the context prepared in a thread meanwhile),
:func:`_evidence` (3 and 4), :func:`_apply_law` (5 to 8) and :func:`_provenance`.
:func:`assess` returns everything in memory (:class:`Assessment`);
:func:`geo_ip.outputs.files.write_outputs` writes the files of the ``--saida`` folder.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_ip._util.version import __version__
from geo_ip.errors import BudgetError
from geo_ip.evidence.context import Context, occurrences_report, read_occurrences
from geo_ip.evidence.materials import beneficiaries, bill_of_materials
from geo_ip.law import budget as budget_mod
from geo_ip.law import decisions as decisions_mod
from geo_ip.law import eligibility, ranking, scoring, uncertainty
from geo_ip.law.scoring import format_brl
from geo_ip.network.gridpath import GridNetwork
from geo_ip.network.roads import RoadIndex
from geo_ip.requests import intake
from geo_ip.requests.cpf import load_key
from geo_ip.requests.decision_file import REJECTED_COLUMNS, read_decisions
from geo_ip.requests.history_file import read_history
from geo_ip.requests.locate import locate_requests
from geo_ip.rules.config import Rules
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.rules.provenance import file_record, stamp
from geo_ip.schema import DECISION_COLUMNS
from geo_ip.territory.build import FICTIONAL_LABEL, OSM_ATTRIBUTION
from geo_ip.territory.municipality import check_municipality
from geo_ip.territory.reader import Territory, TerritoryLike

log = logging.getLogger(__name__)

__all__ = ["Assessment", "assess", "check_budget", "decide"]


@dataclass
class Assessment:
    """Everything one run of the assessment produced, in memory.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per input request, in input order: located request, evidence,
        suggestions, eligibility, decisions and ranking columns. Holds personal
        data (it is the municipality's own working table): write it only through
        :mod:`geo_ip.requests.privacy` views.
        A request whose place is uncertain (``localizacao_pendente``) holds the
        evidence of its worse position along ``trecho_candidato`` and the range over
        its positions (:data:`geo_ip.law.uncertainty.RANGE_COLUMNS`).
    paths : geopandas.GeoSeries
        Proposed extension of each request (None when none), aligned with ``table``.
    items : list of dict
        Per request, the evidence items counted (facilities, occurrences) with ids
        and distances: the audit trail behind the motivations.
    rejected_decisions, rejected_history, occurrences_report : pandas.DataFrame
        Rows of the optional input files that were not used, with the reason.
    occurrences : geopandas.GeoDataFrame or None
        The occurrences read (every row, with ``situacao`` and ``motivo``).
    cip : dict or None
        CIP revenue and lighting energy cost next to the budget
        (:func:`geo_ip.cip.budget.program_cip`), when asked for.
    history : pandas.DataFrame or None
        The previous benefits read (keyed hashes, never a CPF), when a history was given:
        the registry keeps it to check eligibility again (:mod:`geo_ip.registry.live`).
    provenance : dict
        Tool version, rules (file, version, hash), input files, territory
        metadata, CRS, time of run, attribution.
    crs : str
        Territory CRS.
    rules : Rules
        The municipality's rules of the run.
    territory : Territory
        The territory the run read (its layers stay cached for the writers).
    """

    table: pd.DataFrame
    paths: gpd.GeoSeries
    items: list[dict[str, Any]]
    rejected_decisions: pd.DataFrame
    rejected_history: pd.DataFrame
    occurrences_report: pd.DataFrame
    provenance: dict[str, Any]
    crs: str
    rules: Rules
    territory: Territory
    occurrences: gpd.GeoDataFrame | None = None
    cip: dict[str, Any] | None = None
    history: pd.DataFrame | None = None


def _dem_path(territory: Territory, dem: str | Path | None) -> Path | None:
    if dem is not None:
        return Path(dem)
    ref = (territory.metadata.get("mde") or {}).get("arquivo")
    if not ref:
        return None
    path = Path(ref)
    if not path.is_file():
        log.warning(
            "modelo de elevação do território não encontrado (%s): declividade pelas vias", path
        )
        return None
    return path


def check_budget(budget: float | None) -> None:
    """Refuse a budget that is negative, not a number or infinite.

    Parameters
    ----------
    budget : float or None
        Amount in R$ for the municipal part of the works; None = no limit.

    Raises
    ------
    BudgetError
        With a Portuguese message (Brazilian number format).
    """
    if budget is None:
        return
    if not math.isfinite(budget):
        raise BudgetError(
            "orçamento inválido: informe um valor em reais (sem limite: não informe --orcamento)",
            field="orcamento",
        )
    if budget < 0:
        raise BudgetError(
            f"orçamento negativo ({format_brl(budget)}): informe um valor ≥ 0", field="orcamento"
        )


_UNSCORED = ("erro", "estrategico_art11", "execucao_direta_art12")
"""Situations without points: errors, and the works the Commission (Art. 11) or the
Executive (Art. 12) took out of the scoring (their suggestions stay, as evidence)."""


def _blank_unscored(table: pd.DataFrame) -> pd.DataFrame:
    """Blank the final points of unscored rows, evidence not computed, site checks not due."""
    out = table.copy()
    unscored = out["situacao"].isin(_UNSCORED)
    out.loc[unscored, [f"pont_{c}" for c in CRITERIA]] = np.nan
    out.loc[unscored, "pontuacao_total"] = np.nan
    error = out["situacao"] == "erro"
    out.loc[error, [f"sugerido_{c}" for c in CRITERIA]] = np.nan
    out.loc[error, ["pontuacao_sugerida_min", "pontuacao_sugerida_max"]] = np.nan
    # only a request waiting for its place is to be checked on site (an ineligible one
    # or one in error is not visited for it)
    waiting = out["situacao"] == "pendente_localizacao"
    out["confirmar_no_local"] = out["confirmar_no_local"].where(waiting, "")
    no_path = out["distancia_rede_m"].isna()
    out["transformador"] = out["transformador"].astype("boolean").mask(no_path)
    return out


def _grid_network(territory: Territory, rules: Rules) -> GridNetwork:
    """Build the territory's grid network, with the attachment stored at build time if valid."""
    return GridNetwork(
        territory.layer("vias"),
        territory.layer("rede_existente", missing_ok=True),
        max_attach_m=rules.rede.distancia_maxima_rede_via.valor,
        stored=territory.grid_attachment(),
    )


@dataclass
class _Files:
    """The input files of one run (the optional ones may be None)."""

    requests: str | Path
    occurrences: str | Path | None
    decisions: str | Path | None
    history: str | Path | None
    cnefe: str | Path | None


@dataclass
class _Optional:
    """The optional files read first, so that a bad one stops the run before the work."""

    occurrences: gpd.GeoDataFrame | None
    occurrences_report: pd.DataFrame
    history: pd.DataFrame | None
    rejected_history: pd.DataFrame


def _read_optional(files: _Files, crs: str, rules: Rules, key: bytes, today: date) -> _Optional:
    occ_table, occ_report = None, pd.DataFrame()
    if files.occurrences is not None:
        occ_table = read_occurrences(files.occurrences, crs, today=today)
        occ_report = occurrences_report(
            occ_table, reference_date=today, months=rules.avaliacao.periodo_ocorrencias_meses.valor
        )
    past, rejected_history = None, pd.DataFrame()
    if files.history is not None:
        past, rejected_history = read_history(files.history, key, today=today)
    return _Optional(occ_table, occ_report, past, rejected_history)


@dataclass
class _Traced:
    """Requests located (with their uncertain positions) and traced to the grid."""

    located: pd.DataFrame
    owner: np.ndarray
    n_requests: int
    path_table: pd.DataFrame
    paths: gpd.GeoSeries
    context: Context
    chosen: pd.DataFrame
    rejected_decisions: pd.DataFrame


def _decisions(
    files: _Files, located: pd.DataFrame, territory: Territory, rules: Rules, today: date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if files.decisions is None:
        return pd.DataFrame(columns=list(DECISION_COLUMNS)), pd.DataFrame(
            columns=list(REJECTED_COLUMNS)
        )
    protocols = {str(p) for p in located["protocolo"] if str(p)}
    return read_decisions(
        files.decisions,
        rules,
        protocols,
        today=today,
        boundary=intake.territory_boundary(territory, rules.municipio.codigo_ibge),
    )


def _with_positions(
    located: pd.DataFrame, chosen: pd.DataFrame, roads: gpd.GeoDataFrame, rules: Rules
) -> tuple[pd.DataFrame, np.ndarray, int]:
    """Put the requests where the Commission confirmed them, then spread the uncertain ones.

    Every request still too uncertain gets positions along its candidate stretch as
    extra rows, assessed with the others (``owner`` maps them back).
    """
    road_index = functools.cache(lambda: RoadIndex(roads))
    snap_limit = rules.rede.distancia_maxima_via.valor
    located = uncertainty.confirm_places(
        uncertainty.with_uncertainty(located),
        chosen,
        road_index,
        crs=str(roads.crs),
        max_distance_m=snap_limit,
    )
    n_requests = len(located)
    located["localizacao_pendente"] = uncertainty.pending_places(
        located, rules.avaliacao.incerteza_maxima_m.valor
    )
    located, owner = uncertainty.expand(
        located, located["localizacao_pendente"], road_index, max_distance_m=snap_limit
    )
    return located, owner, n_requests


def _locate_and_trace(
    territory: Territory,
    files: _Files,
    rules: Rules,
    *,
    dem: str | Path | None,
    today: date,
    step: Callable[[str], None],
) -> _Traced:
    """Locate the requests and trace their paths to the grid.

    The grid network (reading the roads, then the grid and its attachment to the roads,
    stored in the territory or computed again) and then the surroundings (reading the
    facilities, lamps and buildings) are prepared in a thread while the requests are
    read, checked and located: pyogrio and shapely release the GIL, the requests'
    checks (pandas) hold it. The locating takes the roads from the territory's cache,
    waiting for the thread's read if it is not done yet.
    """
    net = rules.rede
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="geo_ip_rede") as pool:
        # the roads are read first there, while the requests are read and checked here
        # (the locating waits for them only when it needs them: the territory's cache)
        building = pool.submit(_grid_network, territory, rules)
        reading = pool.submit(
            lambda: Context.from_territory(
                territory,
                betweenness_sample=int(rules.avaliacao.amostra_intermediacao.valor),
                dem=_dem_path(territory, dem),
                roads=territory.layer("vias"),
            )
        )
        step("Conferindo, geocodificando e ligando os pedidos à malha")
        try:
            located = locate_requests(
                files.requests, territory, rules, cnefe=files.cnefe, today=today
            )
        except BaseException:
            reading.cancel()  # a bad requests file: its message without waiting for it
            raise
        # the Commission's decisions and the positions do not need the grid network:
        # they are prepared while it is still being built
        try:
            chosen, rejected = _decisions(files, located, territory, rules, today)
            roads = territory.layer("vias")
            located, owner, n_requests = _with_positions(located, chosen, roads, rules)
        except BaseException:
            building.result()  # a broken grid network is said first, as it always was
            raise
        network = building.result()
        step("Traçando as extensões até a rede existente")
        path_table, paths = network.paths(
            located,
            lv_reach_m=net.alcance_bt.valor,
            detour_factor=net.fator_desvio.valor,
            allow_mt=net.usar_mt_com_transformador,
        )
        step("Reunindo as evidências do entorno")
        context = reading.result()
    return _Traced(located, owner, n_requests, path_table, paths, context, chosen, rejected)


def _evidence(
    traced: _Traced,
    rules: Rules,
    occurrences: gpd.GeoDataFrame | None,
    today: date,
    step: Callable[[str], None],
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Gather the surroundings, the bill of materials, the cost and the beneficiaries."""
    av = rules.avaliacao
    surroundings, items = traced.context.for_requests(
        traced.located,
        traced.paths,
        buildings_radius_m=av.raio_edificacoes_m.valor,
        facilities_radius_m=av.raio_equipamentos_m.valor,
        safety_radius_m=av.raio_seguranca_m.valor,
        stop_distance_m=av.distancia_parada_via_m.valor,
        occurrences_radius_m=av.raio_ocorrencias_m.valor,
        production_radius_m=rules.art12.raio_producao_m.valor,
        occurrences_months=av.periodo_ocorrencias_meses.valor,
        reference_date=today,
        occurrences=occurrences,
    )
    step("Materiais, custos e beneficiários")
    bom = bill_of_materials(traced.path_table, rules)
    people = beneficiaries(
        traced.located, surroundings["edificacoes_trecho"], bom["custo_estimado_rs"], rules
    )
    evidence = pd.concat([traced.located, traced.path_table, surroundings, bom, people], axis=1)
    return evidence.loc[:, ~evidence.columns.duplicated()], items


def _apply_law(
    evidence: pd.DataFrame,
    traced: _Traced,
    items: list[dict[str, Any]],
    rules: Rules,
    *,
    history: pd.DataFrame | None,
    budget: float | None,
    key: bytes,
    today: date,
    step: Callable[[str], None],
) -> tuple[pd.DataFrame, gpd.GeoSeries, list[dict[str, Any]]]:
    """Suggestions, eligibility, the Commission's decisions, ranking and budget."""
    step("Pontuação sugerida, elegibilidade e decisões da Comissão")
    table, paths, items = uncertainty.collapse(
        scoring.suggest(evidence, rules), traced.paths, items, traced.owner, traced.n_requests
    )
    table["confirmar_no_local"] = uncertainty.site_checks(
        table, rules.avaliacao.incerteza_maxima_m.valor
    )
    step("Classificação, participação do Município e orçamento")
    table = decide(
        table, traced.chosen, rules, budget=budget, key=key, today=today, history=history
    )
    log.info("avaliação: %d pedido(s); %s", len(table), _status_counts(table["situacao"]))
    return table, paths, items


def decide(
    table: pd.DataFrame,
    decisions: pd.DataFrame,
    rules: Rules,
    *,
    budget: float | None,
    key: bytes,
    today: date,
    history: pd.DataFrame | None = None,
    check_eligibility: bool = True,
) -> pd.DataFrame:
    """Apply the law after the suggestions: eligibility, decisions, ranking and budget.

    The one place where :func:`assess` and the Commission's registry
    (:mod:`geo_ip.registry.live`) turn suggestions and decisions into the ranking, so
    that the ranking of the web app is the ranking of ``geo-ip avaliar``.

    Parameters
    ----------
    table : pandas.DataFrame
        The suggested table (:func:`geo_ip.law.scoring.suggest`, positions folded back).
        A table that went through :func:`decide` already may come back: its
        ``situacao`` is first reset to the request's own status (``situacao_pedido``).
    decisions : pandas.DataFrame
        Valid decisions (:data:`geo_ip.schema.DECISION_COLUMNS`), points and acts.
    rules : Rules
        Municipality rules.
    budget : float or None
        Amount available for the municipal part of the works (R$).
    key : bytes
        The LGPD key of the CPF hashes (:func:`geo_ip.requests.cpf.load_key`).
    today : datetime.date
        Reference date of eligibility (Art. 5, II).
    history : pandas.DataFrame, optional
        Previous benefits (:func:`geo_ip.requests.history_file.read_history`).
    check_eligibility : bool, default True
        Check eligibility again (Art. 4, 5 and 11). ``False`` keeps the eligibility
        columns the table has (a table recorded without the applicants' data).

    Returns
    -------
    pandas.DataFrame
        The assessment table with eligibility, final points, acts and ranking columns.
    """
    table = table.copy()
    if "situacao_pedido" in table.columns:
        table["situacao"] = table["situacao_pedido"]
    if check_eligibility:
        table = eligibility.check(
            table,
            rules,
            history=history,
            reference_date=today,
            key=key,
            accepted=decisions_mod.accepted_hardship(decisions),
        )
    table = decisions_mod.apply(table, decisions, rules)
    table = decisions_mod.apply_acts(table, decisions)
    # ranking writes its own situacao; the request's check status is kept beside it
    table["situacao_pedido"] = table["situacao"]
    table["erro"] = table["situacao"].eq("erro").to_numpy()
    return _blank_unscored(ranking.rank(table, rules, budget))


def _input_records(territory: Territory, files: _Files) -> list[dict[str, Any]]:
    """Return the provenance records (hash, size, time) of the input files."""
    inputs = (
        ("territorio", territory.path),
        ("pedidos", files.requests),
        ("ocorrencias", files.occurrences),
        ("decisoes", files.decisions),
        ("historico_beneficios", files.history),
        ("cnefe", files.cnefe),
    )
    return [file_record(kind, path) for kind, path in inputs if path is not None]


def _provenance(
    territory: Territory,
    records: list[dict[str, Any]],
    rules: Rules,
    table: pd.DataFrame,
    *,
    crs: str,
    budget: float | None,
    started: datetime,
    today: date,
) -> dict[str, Any]:
    meta = territory.metadata
    provenance = {
        "ferramenta": "geo_ip",
        "versao_ferramenta": __version__,
        "executado_em": started.isoformat(timespec="seconds"),
        "data_referencia": today.isoformat(),
        "regras": {
            "arquivo": rules.arquivo,
            "versao": rules.versao,
            "sha256": rules.sha256,
            "municipio": rules.municipio.nome,
            "codigo_ibge": rules.municipio.codigo_ibge,
            "lei": rules.lei.numero,
        },
        "entradas": records,
        "territorio": {
            k: meta.get(k)
            for k in ("criado_em", "versao_ferramenta", "regras_sha256", "fontes", "osm_data")
        },
        "crs": crs,
        "orcamento_rs": budget,
        "orcamento": budget_mod.budget_summary(table, budget),
        "contagens": {
            "pedidos": len(table),
            **{
                f"situacao_{k}": int(v)
                for k, v in table["situacao"].value_counts().sort_index().items()
            },
        },
        "atribuicao": OSM_ATTRIBUTION,
        "carimbo": stamp(rules, meta),
    }
    if rules.municipio.ficticio:
        provenance["rotulo"] = FICTIONAL_LABEL
    return provenance


def assess(
    territory: TerritoryLike,
    requests: str | Path,
    rules: Rules,
    *,
    occurrences: str | Path | None = None,
    decisions: str | Path | None = None,
    history: str | Path | None = None,
    budget: float | None = None,
    cnefe: str | Path | None = None,
    dem: str | Path | None = None,
    key: bytes | None = None,
    today: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> Assessment:
    """Assess every request of a spreadsheet under the municipality's rules.

    Parameters
    ----------
    territory : Territory, str or Path
        The territory (``geo-ip territorio``), opened once here and shared by every stage.
    requests : str or Path
        Requests spreadsheet (CSV, XLSX, GeoJSON, GeoPackage).
    rules : Rules
        Municipality rules.
    occurrences : str or Path, optional
        Accidents, police reports and complaints (points with date and type).
    decisions : str or Path, optional
        The commission's decisions per protocol and criterion.
    history : str or Path, optional
        Previous benefits (Art. 5, II).
    budget : float, optional
        Amount available for the municipal part of the works (R$).
    cnefe : str or Path, optional
        IBGE CNEFE address file for exact house numbers.
    dem : str or Path, optional
        Elevation model; default: the one recorded in the territory, if present.
    key : bytes, optional
        LGPD key for the applicants' keyed hashes (:func:`geo_ip.requests.cpf.load_key`);
        required to compare with a history of hashes from earlier runs.
    today : datetime.date, optional
        Reference date (future dates, occurrence period, the 5 years of Art. 5).
    progress : callable, optional
        Called with a Portuguese description at the start of each step.

    Returns
    -------
    Assessment
        The tables and records of the run.
    """
    step = progress or (lambda _text: None)
    territory = Territory.open(territory)
    today, started = today or date.today(), datetime.now(UTC)
    check_budget(budget)
    key = key if key is not None else load_key(None)
    files = _Files(requests, occurrences, decisions, history, cnefe)
    crs = territory.layer_crs("vias")  # the roads themselves are read in a thread, later
    check_municipality(territory, rules)  # never Extrema's rules on another municipality
    optional = _read_optional(files, crs, rules, key, today)
    traced = _locate_and_trace(territory, files, rules, dem=dem, today=today, step=step)
    # the input files are hashed for the provenance while the law is applied (hashlib
    # releases the GIL; the territory alone may be hundreds of megabytes)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="geo_ip_proveniencia") as pool:
        hashing = pool.submit(_input_records, territory, files)
        evidence, items = _evidence(traced, rules, optional.occurrences, today, step)
        table, paths, items = _apply_law(
            evidence, traced, items, rules,
            history=optional.history, budget=budget, key=key, today=today, step=step,
        )  # fmt: skip
        records = hashing.result()
    return Assessment(
        table=table,
        paths=paths,
        items=items,
        rejected_decisions=traced.rejected_decisions,
        rejected_history=optional.rejected_history,
        occurrences_report=optional.occurrences_report,
        provenance=_provenance(
            territory, records, rules, table, crs=crs, budget=budget, started=started, today=today
        ),
        crs=crs,
        rules=rules,
        territory=territory,
        occurrences=optional.occurrences,
        history=optional.history,
    )


def _status_counts(status: pd.Series) -> str:
    """Count the requests by status, in words (the catalog's labels, lower-case)."""
    from geo_ip.sources.catalog import load_catalog

    labels = {str(c.valor): c.rotulo for c in load_catalog().pedidos.estilo.classes if c.valor}
    counts = status.value_counts()
    return (
        "; ".join(f"{labels.get(str(k), str(k)).lower()}: {int(v)}" for k, v in counts.items())
        or "nenhum pedido"
    )
