"""One municipality of a batch: the work a Dask worker does, and what it measures.

:func:`run_municipality` runs on a worker with a :class:`~geo_ip.batch.model.MunicipalityJob`
and returns a :class:`~geo_ip.batch.model.MunicipalityResult`: it builds the territory from
the municipality's OSM extract and the BDGDs' grid, estimates the CIP from its consumer
units, audits its IP inventory against the utility's ``PIP`` and assesses its requests
when it has any, writing the same files as the single-municipality commands into its own
folder. A step that fails is reported in the result (``situacao = "falhou"``, ``erro``
naming the step), never raised: one broken municipality does not stop the others.

The result is also written to ``<pasta>/resultado.json`` with the hash of the inputs
(:func:`job_hash`), so that a later run skips the municipality when nothing changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ip._util.atomic import atomic_path
from geo_ip._util.parallel import limited_cores
from geo_ip._util.version import __version__
from geo_ip.batch.model import MunicipalityJob, MunicipalityResult
from geo_ip.errors import GeoIPError
from geo_ip.rules.config import Rules, load_rules
from geo_ip.rules.provenance import file_digest

log = logging.getLogger(__name__)

__all__ = ["RESULT_FILE", "input_digest", "job_hash", "previous_result", "run_municipality"]

RESULT_FILE = "resultado.json"
"""The municipality's result and input hash, in its folder."""


def input_digest(path: Path, cache: dict[Path, str] | None = None) -> str:
    """Return the SHA-256 of an input file, or of a ``.gdb`` folder's files in order.

    Parameters
    ----------
    path : Path
        A file or a folder.
    cache : dict, optional
        Digests already computed in this run (a BDGD is read once).

    Returns
    -------
    str
        Hex SHA-256.
    """
    if cache is not None and path in cache:
        return cache[path]
    if path.is_dir():
        digest = hashlib.sha256()
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(f"{file.relative_to(path).as_posix()}:{file_digest(file)}".encode())
        value = digest.hexdigest()
    else:
        value = file_digest(path)
    if cache is not None:
        cache[path] = value
    return value


def job_hash(job: MunicipalityJob, digests: dict[Path, str] | None = None) -> str:
    """Return the content hash of a municipality's inputs (what a re-run compares).

    The hash covers the tool version, the job's settings and the bytes of every input
    file (its OSM extract, its consumer units, the BDGDs, its rules, requests and
    inventory), not their paths' dates: a re-run with the same contents skips it.

    Parameters
    ----------
    job : MunicipalityJob
        The municipality's inputs.
    digests : dict, optional
        Cache of file digests shared by the jobs of a run (a BDGD is hashed once).

    Returns
    -------
    str
        Hex SHA-256.
    """
    parts: dict[str, Any] = {"versao": __version__}
    for item in fields(job):
        value = getattr(job, item.name)
        if item.name in ("pasta", "hash_entradas"):
            continue
        if isinstance(value, Path):
            value = input_digest(value, digests) if value.exists() else f"ausente:{value.name}"
        elif isinstance(value, tuple):
            value = [input_digest(v, digests) if v.exists() else f"ausente:{v.name}" for v in value]
        elif item.name == "regras_cip" and value and Path(value).is_file():
            value = input_digest(Path(value), digests)
        parts[item.name] = value
    text = json.dumps(parts, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def previous_result(job: MunicipalityJob, hash_now: str) -> MunicipalityResult | None:
    """Return the result a previous run left for the same inputs, if it succeeded.

    Parameters
    ----------
    job : MunicipalityJob
        The municipality.
    hash_now : str
        :func:`job_hash` of its inputs now.

    Returns
    -------
    MunicipalityResult or None
        The stored result with ``situacao = "reaproveitado"``, or None (no result, a
        failed one, other inputs, or a file that cannot be read).
    """
    path = job.pasta / RESULT_FILE
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("hash_entradas") != hash_now:
        return None
    if stored.get("situacao") not in ("concluido", "reaproveitado"):
        return None
    known = {f.name for f in fields(MunicipalityResult)}
    try:
        result = MunicipalityResult(**{k: v for k, v in stored.items() if k in known})
    except TypeError:
        return None
    result.situacao = "reaproveitado"
    return result


def _write_result(result: MunicipalityResult, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / RESULT_FILE) as tmp:
        tmp.write_text(
            json.dumps(asdict(result), ensure_ascii=False, indent=2, allow_nan=False),
            encoding="utf-8",
        )


# --------------------------------------------------------------------------- the steps


def _rules(job: MunicipalityJob) -> Rules:
    """Return the municipality's rules, or rules made for it from the template."""
    if job.regras is not None:
        return load_rules(job.regras)
    from geo_ip.rules.init_rules import write_rules_template

    return write_rules_template(
        job.pasta / "regras.toml",
        codigo_ibge=str(job.codigo_ibge),
        nome=job.nome,
        uf=job.uf,
        crs=None,
        overwrite=True,
    )


def _road_km(roads: gpd.GeoDataFrame) -> float:
    """Length of the streets (a two-way street once, not once per direction), in km."""
    if roads.empty:
        return 0.0
    u, v = roads["u"].to_numpy(), roads["v"].to_numpy()
    forward = pd.MultiIndex.from_arrays([u, v])
    reverse = pd.MultiIndex.from_arrays([v, u])
    both = reverse.isin(forward)
    length = pd.to_numeric(roads["length"], errors="coerce").fillna(0.0).to_numpy()
    return float((length / np.where(both, 2.0, 1.0)).sum() / 1000.0)


def _territory_figures(path: Path, job: MunicipalityJob, rules: Rules) -> dict[str, Any]:
    """Area, street and grid length, and the share of streets the grid reaches."""
    from geo_ip.territory.reader import read_layer

    figures: dict[str, Any] = {}
    limits = read_layer(path, "limite", missing_ok=True)
    if len(limits) and "codigo_ibge" in limits.columns:
        codes = pd.to_numeric(limits["codigo_ibge"], errors="coerce")
        own = limits[codes == job.codigo_ibge]
        if len(own):
            figures["area_km2"] = round(float(own.geometry.area.sum()) / 1e6, 3)
    roads = read_layer(path, "vias")
    figures["vias_km"] = round(_road_km(roads), 3)
    grid = read_layer(path, "rede_existente", missing_ok=True)
    lines = grid[grid.geometry.notna() & grid.geom_type.str.contains("Line")]
    figures["rede_km"] = round(float(lines.geometry.length.sum()) / 1000.0, 3)
    reach = float(rules.avaliacao.raio_edificacoes_m.valor)
    if len(roads) and len(lines):
        middle = shapely.line_interpolate_point(roads.geometry.to_numpy(), 0.5, normalized=True)
        tree = shapely.STRtree(lines.geometry.to_numpy())
        near, _ = tree.query(middle, predicate="dwithin", distance=reach)
        served = np.zeros(len(roads), dtype=bool)
        served[np.unique(near)] = True
        length = pd.to_numeric(roads["length"], errors="coerce").fillna(0.0).to_numpy()
        total = float(length.sum())
        figures["cobertura_rede_pct"] = round(100.0 * float(length[served].sum()) / total, 1)
    elif len(roads):
        figures["cobertura_rede_pct"] = 0.0
    return figures


def _territory(job: MunicipalityJob, rules: Rules) -> Path:
    from geo_ip.outputs.qgis.project import style_geopackage
    from geo_ip.territory.build import GridSource, build_territory
    from geo_ip.territory.municipality import check_municipality

    assert job.osm is not None
    out = job.pasta / "territorio.gpkg"
    grids = [GridSource(path) for path in job.bdgds]
    report = build_territory(out, rules=rules, osm=job.osm, grids=grids, styler=style_geopackage)
    check_municipality(report.path, rules)
    return report.path


def _cip(job: MunicipalityJob, result: MunicipalityResult) -> None:
    from geo_ip.batch.bdgd import consumers_of
    from geo_ip.cip.engine import compute_cip, load_cip_rules, load_tariffs, write_cip_outputs

    assert job.consumidores is not None
    table = consumers_of(job.consumidores, job.codigo_ibge)
    result.unidades_consumidoras = int(table.records["unidade"].nunique())
    if job.regras_cip is None:
        result.avisos.append("CIP não estimada: informe as regras da CIP do município")
        return
    cip = compute_cip(load_cip_rules(job.regras_cip), table, load_tariffs(job.tarifas))
    write_cip_outputs(cip, job.pasta / "cip")
    result.cip_rs_ano = round(float(cip.total_rs), 2)


def _audit(job: MunicipalityJob, rules: Rules, inventory: Path, result: MunicipalityResult) -> None:
    from geo_ip.cadastre.package import audit_cadastre, write_audit

    audit = audit_cadastre(inventory, job.bdgds[0], rules, ibge=job.codigo_ibge)
    write_audit(audit, job.pasta / "auditoria")
    counts = audit.summary.set_index("situacao")["pontos"]

    def count(*names: str) -> int:
        return int(sum(int(counts.get(name, 0)) for name in names))

    result.pontos_ip_bdgd = count("conferido", "potencia_divergente", "faturado_nao_encontrado")
    result.pontos_ip_inventario = count(
        "conferido", "potencia_divergente", "encontrado_nao_faturado"
    )
    result.pontos_ip_diferenca = result.pontos_ip_bdgd - result.pontos_ip_inventario


def _budget(path: Path | None) -> float | None:
    """Read ``orcamento.txt``: one amount in R$ (``300000``, ``300.000,00``); None: no file."""
    from geo_ip._util.parse import to_number
    from geo_ip.errors import BudgetError, InputFileError
    from geo_ip.pipeline import check_budget

    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8-sig").strip()
    except (OSError, UnicodeError) as exc:
        raise InputFileError("não foi possível ler o orçamento", path=path) from exc
    value = float(to_number(pd.Series([text[:40]], dtype=object), thousands=True).iloc[0])
    if len(text) > 40 or value != value:
        raise BudgetError(
            "orçamento inválido: escreva só o valor em reais (ex.: 300.000,00)", path=path
        )
    check_budget(value)
    return value


def _numbers(table: pd.DataFrame, column: str) -> pd.Series:
    """Return a column as numbers (0 where missing or not a number; all 0 when absent)."""
    if column not in table.columns:
        return pd.Series(0.0, index=table.index)
    return pd.to_numeric(table[column], errors="coerce").fillna(0.0)


def _assess(
    job: MunicipalityJob, rules: Rules, territory: Path, result: MunicipalityResult
) -> None:
    from geo_ip.outputs.files import write_outputs
    from geo_ip.pipeline import assess
    from geo_ip.requests.cpf import KEY_FILE_NAME, load_key

    assert job.pedidos is not None
    folder = job.pasta / "avaliacao"
    own_key = job.pedidos.parent / KEY_FILE_NAME
    key = load_key(own_key) if own_key.is_file() else load_key(create_at=job.pasta / KEY_FILE_NAME)
    assessment = assess(territory, job.pedidos, rules, key=key, budget=_budget(job.orcamento))
    write_outputs(assessment, folder, maps=False, sheets=False)
    table = assessment.table
    result.pedidos = len(table)
    if "selecionado_orcamento" in table.columns:
        chosen = table["selecionado_orcamento"].fillna(False).astype(bool)
        cost = _numbers(table, "custo_estimado_rs")
        share = _numbers(table, "custo_municipio_rs")
        result.pedidos_financiados = int(chosen.sum())
        result.custo_rs = round(float(cost[chosen].sum()), 2)
        result.custo_municipio_rs = round(float(share[chosen].sum()), 2)


def _step(name: str, result: MunicipalityResult, errors: list[str], work: Callable[[], Any]) -> Any:
    """Run one step; a failure is written into ``errors`` (Portuguese) and returns None."""
    try:
        return work()
    except GeoIPError as exc:
        errors.append(f"{name}: {exc}")
    except MemoryError:
        errors.append(f"{name}: memória insuficiente no trabalhador")
    except Exception as exc:
        # the message of an unexpected error may quote input data: only its type goes
        # into the table; the traceback goes to the municipality's own log
        errors.append(f"{name}: erro inesperado ({type(exc).__name__}); detalhes em erros.log")
        log_path = result.pasta and Path(result.pasta)
        if log_path:
            with (log_path / "erros.log").open("a", encoding="utf-8") as handle:
                handle.write(f"--- {name}\n{traceback.format_exc()}\n")
    return None


def _worker_threads() -> int | None:
    """Return the threads of the Dask worker running this task (None: not on a worker)."""
    try:
        from distributed import get_worker

        return int(get_worker().state.nthreads)
    except (ImportError, ValueError, AttributeError):
        return None


def run_municipality(job: MunicipalityJob) -> MunicipalityResult:
    """Do one municipality's work (on a Dask worker) and return its row.

    Parameters
    ----------
    job : MunicipalityJob
        Its inputs and folder.

    Returns
    -------
    MunicipalityResult
        Its figures; ``situacao`` is ``"concluido"``, or ``"falhou"`` with ``erro``
        naming each step that failed (the figures of the other steps are kept).

    Notes
    -----
    On a Dask worker the work uses as many cores as the worker has threads (one, in the
    local cluster): the cluster, not each municipality, spreads the work over the cores.
    """
    with limited_cores(_worker_threads()):
        return _run(job)


def _run(job: MunicipalityJob) -> MunicipalityResult:
    """Do the work of :func:`run_municipality` (cores already limited)."""
    started = time.perf_counter()
    result = MunicipalityResult(
        codigo_ibge=job.codigo_ibge,
        nome=job.nome,
        uf=job.uf,
        situacao="concluido",
        pasta=str(job.pasta),
        hash_entradas=job.hash_entradas,
    )
    # an error found before the task (a boundary that cannot be cut) fails the row, and
    # the steps that do not need the territory still run: the CIP, an inventory's audit
    errors: list[str] = [job.erro_previo] if job.erro_previo else []
    job.pasta.mkdir(parents=True, exist_ok=True)
    (job.pasta / "erros.log").unlink(missing_ok=True)
    rules = _step("regras", result, errors, lambda: _rules(job))
    territory = None
    if rules is not None and job.osm is not None and not job.erro_previo:
        territory = _step("território", result, errors, lambda: _territory(job, rules))
        if territory is not None:
            figures = _step(
                "território", result, errors, lambda: _territory_figures(territory, job, rules)
            )
            for name, value in (figures or {}).items():
                setattr(result, name, value)
    elif job.osm is None and not job.erro_previo:
        result.avisos.append("sem extrato OSM: território não construído")
    if job.consumidores is not None:
        _step("CIP", result, errors, lambda: _cip(job, result))
    inventory = job.inventario or territory
    if rules is not None and job.bdgds and inventory is not None:
        _step(
            "auditoria do cadastro",
            result,
            errors,
            lambda: _audit(job, rules, inventory, result),
        )
    if rules is not None and territory is not None and job.pedidos is not None:
        _step("avaliação", result, errors, lambda: _assess(job, rules, territory, result))
    if errors:
        result.situacao, result.erro = "falhou", "; ".join(errors)
    result.segundos = round(time.perf_counter() - started, 2)
    _write_result(result, job.pasta)
    log.info("município %s (%s): %s", job.codigo_ibge, job.nome, result.situacao)
    return result
