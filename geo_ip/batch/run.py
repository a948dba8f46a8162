"""A batch over many municipalities on Dask: plan, cut, spread, resume, consolidate.

:func:`run_batch` is ``geo-ip lote``. On the client it finds the municipal boundaries of
the regional OSM extract and cuts the extract by municipality in one pass
(:mod:`geo_ip.batch.osm_cut`); the BDGD's consumer table is read in partitions and split by
``MUN`` on the workers (:mod:`geo_ip.batch.bdgd`). Then every municipality is one Dask task
(:func:`geo_ip.batch.task.run_municipality`), spread over the cluster; a municipality whose
inputs did not change since the last run is not sent again (its stored result is reused),
so an interrupted state run resumes where it stopped. A task whose worker dies is retried by
Dask on another worker; a municipality that fails is a row with its error, and the others
finish. The rows end in one GeoPackage, workbook and overview map
(:mod:`geo_ip.batch.consolidate`).

The cluster is a :class:`distributed.LocalCluster` on this machine's cores
(:func:`open_client`), or any running Dask scheduler given by its address: the same code
runs on Coiled, Kubernetes (dask-kubernetes) or an HPC queue (dask-jobqueue), whose
workers must see the input and output folders at the same paths (a shared file system).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from geo_ip._util.atomic import STAGING_PREFIX, atomic_path
from geo_ip._util.version import __version__
from geo_ip.batch.model import MunicipalityJob, MunicipalityResult
from geo_ip.batch.osm_boundaries import NO_BOUNDARY
from geo_ip.batch.task import input_digest, job_hash, previous_result, run_municipality
from geo_ip.errors import GeoIPError, InputFileError

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger(__name__)

__all__ = [
    "UF_BY_CODE", "BatchConfig", "BatchReport", "check_inputs", "close_client", "open_client",
    "plan_jobs", "run_batch", "run_jobs",
]  # fmt: skip

UF_BY_CODE: dict[int, str] = {
    11: "RO", 12: "AC", 13: "AM", 14: "RR", 15: "PA", 16: "AP", 17: "TO", 21: "MA", 22: "PI",
    23: "CE", 24: "RN", 25: "PB", 26: "PE", 27: "AL", 28: "SE", 29: "BA", 31: "MG", 32: "ES",
    33: "RJ", 35: "SP", 41: "PR", 42: "SC", 43: "RS", 50: "MS", 51: "MT", 52: "GO", 53: "DF",
}  # fmt: skip
"""State of a municipality by the first two digits of its IBGE code (IBGE's table)."""
WORK_FOLDER = "_interno"
"""Folder of the run's intermediate files (extracts, consumer partitions): not to publish."""
MUNICIPALITIES_FOLDER = "municipios"
"""Folder holding one folder per municipality (named by its IBGE code)."""
_REQUESTS = ("pedidos.csv", "pedidos.xlsx", "pedidos.geojson", "pedidos.gpkg")
_INVENTORY = ("inventario.gpkg", "inventario.geojson", "inventario.csv", "inventario.xlsx")
_CODE = re.compile(r"\d{7}")

Progress = Callable[[int, int, MunicipalityResult], None]
"""Called after each municipality: (done, total, its result)."""


@dataclass(frozen=True)
class BatchConfig:
    """What a batch run reads and where it writes.

    Attributes
    ----------
    saida : Path
        Output folder: ``lote.gpkg``, ``lote.xlsx``, ``mapa_lote.html``, ``municipios/``.
    osm : Path or None
        The regional OSM extract (a state's ``.osm.pbf``).
    bdgds : tuple of Path
        The utilities' BDGDs.
    municipios : tuple of int or None
        IBGE codes; None: every municipality whose boundary is in the extract (without an
        extract: every ``MUN`` of the BDGDs).
    por_municipio : Path or None
        Folder with one sub-folder per IBGE code holding any of ``regras.toml``,
        ``cip.toml``, ``pedidos.csv|xlsx|geojson|gpkg``, ``inventario.gpkg|geojson|csv|xlsx``
        and ``orcamento.txt`` (the budget of the municipal part, in R$).
    regras_cip : str or None
        CIP rules for the municipalities without their own ``cip.toml``.
    tarifas : str
        Tariffs of the CIP.
    margem_m : float
        Margin around each boundary kept in its extract (streets that cross it).
    """

    saida: Path
    osm: Path | None = None
    bdgds: tuple[Path, ...] = ()
    municipios: tuple[int, ...] | None = None
    por_municipio: Path | None = None
    regras_cip: str | None = None
    tarifas: str = "tarifas_exemplo"
    margem_m: float = 500.0


@dataclass
class BatchReport:
    """What :func:`run_batch` did."""

    results: list[MunicipalityResult]
    """One row per municipality, in the order of the codes."""
    files: list[Path]
    """The consolidated files written."""
    reused: int = 0
    """Municipalities skipped because their inputs did not change."""
    notes: list[str] = field(default_factory=list)
    """Warnings of the planning (codes without a boundary, ...)."""


def open_client(
    scheduler: str | None = None,
    *,
    workers: int | None = None,
    memory_limit: str = "4GB",
    dashboard: str | None = ":8787",
) -> Client:
    """Connect to a Dask scheduler, or start a cluster on this machine.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); None: a
        :class:`distributed.LocalCluster` of ``workers`` processes with one thread each.
    workers : int, optional
        Local workers; default: this machine's cores.
    memory_limit : str, default "4GB"
        Memory limit per local worker (Dask pauses, then restarts, a worker above it).
    dashboard : str or None, default ":8787"
        Address of the local dashboard (``":0"``: any free port; None: no dashboard, and
        the scheduler's HTTP server on any free port).

    Returns
    -------
    distributed.Client
        The client (its ``cluster`` is closed with it when local).
    """
    import dask
    from distributed import Client, LocalCluster

    from geo_ip._util.parallel import cores

    if scheduler:
        return Client(scheduler)
    # the territory draws on helper processes of its own: a worker must be allowed to
    # have children (Dask's workers are daemonic processes by default)
    dask.config.set({"distributed.worker.daemon": False})
    cluster = LocalCluster(
        n_workers=workers or cores(),
        threads_per_worker=1,
        processes=True,
        memory_limit=memory_limit,
        dashboard_address=dashboard,
        # without a dashboard the scheduler still serves HTTP (health, metrics): on a free
        # port, never on 8787 (another run, or another user's dashboard, may hold it)
        scheduler_kwargs=None if dashboard else {"dashboard_address": ":0"},
    )
    client = Client(cluster)
    client._geo_ip_cluster = cluster  # type: ignore[attr-defined]  # closed with the client
    return client


def close_client(client: Client) -> None:
    """Close a client and, when :func:`open_client` started it, its local cluster."""
    cluster = getattr(client, "_geo_ip_cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


# --------------------------------------------------------------------------- planning


def check_inputs(config: BatchConfig) -> None:
    """Check the inputs of a batch before any cluster is started.

    Parameters
    ----------
    config : BatchConfig
        The run.

    Raises
    ------
    GeoIPError
        No input at all (:class:`InputFileError`: an input file or folder that does not
        exist; the message names it, in Portuguese).
    """
    from geo_ip.sources.osm import check_osm_file

    if config.osm is None and not config.bdgds:
        raise GeoIPError("informe o extrato OSM (--osm) ou ao menos uma BDGD (--bdgd)")
    if config.osm is not None:
        check_osm_file(config.osm)
    for bdgd in config.bdgds:
        if not bdgd.exists():
            raise InputFileError("BDGD não encontrada", path=bdgd, field="--bdgd")
    if config.por_municipio is not None and not config.por_municipio.is_dir():
        raise InputFileError(
            "pasta de arquivos por município não encontrada",
            path=config.por_municipio,
            field="--por-municipio",
        )


def _code_folders(root: Path | None) -> dict[int, Path]:
    """Return the sub-folders of ``--por-municipio`` named by a 7-digit IBGE code."""
    if root is None:
        return {}
    if not root.is_dir():
        raise InputFileError("pasta de arquivos por município não encontrada", path=root)
    return {
        int(p.name): p for p in sorted(root.iterdir()) if p.is_dir() and _CODE.fullmatch(p.name)
    }


def _first(folder: Path | None, names: Sequence[str]) -> Path | None:
    if folder is None:
        return None
    return next((folder / n for n in names if (folder / n).is_file()), None)


def _manifest_ok(path: Path, key: dict[str, Any]) -> bool:
    try:
        return bool(json.loads(path.read_text(encoding="utf-8")) == key)
    except (OSError, ValueError):
        return False


def _write_manifest(path: Path, key: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(key, sort_keys=True), encoding="utf-8")


def _boundaries(config: BatchConfig) -> gpd.GeoDataFrame:
    """Return the municipal boundaries of the extract (all, or the codes asked for)."""
    from geo_ip.batch.osm_cut import find_municipalities

    if config.osm is None:
        return gpd.GeoDataFrame(
            {"codigo_ibge": pd.Series(dtype="int64"), "nome": pd.Series(dtype=str),
             "erro": pd.Series(dtype=str)},
            geometry=gpd.GeoSeries([], crs="EPSG:4326"),
        )  # fmt: skip
    return find_municipalities(config.osm, config.municipios)


def _cuts(
    config: BatchConfig, boundaries: gpd.GeoDataFrame, digests: dict[Path, str]
) -> dict[int, Path]:
    """Cut the extract by municipality (once: reused while the extract and the codes match)."""
    from geo_ip.batch.osm_cut import cut_municipalities

    if config.osm is None:
        return {}
    usable = boundaries[boundaries["erro"].astype(str) == ""]
    folder = config.saida / WORK_FOLDER / "osm"
    codes = sorted(int(c) for c in usable["codigo_ibge"])
    key = {"osm": input_digest(config.osm, digests), "codigos": codes,
           "margem_m": config.margem_m, "versao": __version__}  # fmt: skip
    manifest = folder / "recortes.json"
    expected = {c: folder / f"{c}.osm.pbf" for c in codes}
    if _manifest_ok(manifest, key) and all(p.is_file() for p in expected.values()):
        return expected
    folder.mkdir(parents=True, exist_ok=True)
    cuts = cut_municipalities(config.osm, usable, folder, margin_m=config.margem_m)
    _write_manifest(manifest, key)
    return cuts


def _consumers(
    config: BatchConfig, codes: Sequence[int], client: Client, digests: dict[Path, str]
) -> tuple[dict[int, Path], dict[int, tuple[Path, ...]]]:
    """Split the BDGDs' consumer units by municipality; and which BDGDs hold each code."""
    from geo_ip.batch.bdgd import bdgd_municipalities, partition_consumers

    if not config.bdgds:
        return {}, {}
    holders: dict[int, list[Path]] = {}
    for bdgd in config.bdgds:
        found = bdgd_municipalities([bdgd])
        present = found[(found["unidades_consumidoras"] > 0) | (found["pontos_ip"] > 0)]
        for code in present["codigo_ibge"].astype(int):
            holders.setdefault(int(code), []).append(bdgd)
    folder = config.saida / WORK_FOLDER / "consumidores"
    key = {"bdgds": [input_digest(b, digests) for b in config.bdgds],
           "codigos": sorted(codes), "versao": __version__}  # fmt: skip
    manifest = folder / "particoes.json"
    if _manifest_ok(manifest, key):
        parts = {c: folder / f"{c}.parquet" for c in codes if (folder / f"{c}.parquet").is_file()}
    else:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(f"{STAGING_PREFIX}partes-*"):  # a killed run's pieces
            shutil.rmtree(stale, ignore_errors=True)
        parts = partition_consumers(list(config.bdgds), codes, folder, client)
        _write_manifest(manifest, key)
    return parts, {c: tuple(v) for c, v in holders.items()}


def _all_codes(config: BatchConfig, boundaries: gpd.GeoDataFrame) -> list[int]:
    if config.municipios is not None:
        return list(dict.fromkeys(config.municipios))
    if config.osm is not None:
        return sorted(int(c) for c in boundaries["codigo_ibge"])
    from geo_ip.batch.bdgd import bdgd_municipalities

    return sorted(int(c) for c in bdgd_municipalities(list(config.bdgds))["codigo_ibge"])


def plan_jobs(
    config: BatchConfig, client: Client, digests: dict[Path, str] | None = None
) -> tuple[list[MunicipalityJob], gpd.GeoDataFrame, list[str]]:
    """Find, cut and split the inputs; return one job per municipality.

    Parameters
    ----------
    config : BatchConfig
        The run.
    client : distributed.Client
        Where the BDGD partitions are read.
    digests : dict, optional
        Cache of file digests.

    Returns
    -------
    jobs : list of MunicipalityJob
        In the order of the codes, each with its input hash.
    boundaries : geopandas.GeoDataFrame
        The boundaries found (``codigo_ibge``, ``nome``, ``erro``, geometry).
    notes : list of str
        Warnings of the planning.
    """
    digests = {} if digests is None else digests
    check_inputs(config)
    boundaries = _boundaries(config)
    codes = _all_codes(config, boundaries)
    if not codes:
        raise InputFileError(
            "nenhum município encontrado: o extrato OSM não tem limites municipais "
            "(admin_level=8 com código IBGE) e a BDGD não tem o campo MUN",
            path=config.osm,
        )
    notes: list[str] = []
    by_code = {int(r.codigo_ibge): r for r in boundaries.itertuples()}
    cuts = _cuts(config, boundaries, digests)
    parts, holders = _consumers(config, codes, client, digests)
    folders = _code_folders(config.por_municipio)
    jobs = []
    for code in codes:
        found = by_code.get(code)
        own = folders.get(code)
        problem = ""
        if config.osm is not None and found is None:
            problem = NO_BOUNDARY
        elif found is not None and str(found.erro):
            problem = str(found.erro)
        cip = _first(own, ("cip.toml",))
        job = MunicipalityJob(
            codigo_ibge=code,
            nome=str(found.nome) if found is not None and str(found.nome) else f"IBGE {code}",
            uf=UF_BY_CODE.get(code // 100_000, ""),
            pasta=config.saida / MUNICIPALITIES_FOLDER / str(code),
            osm=cuts.get(code),
            bdgds=holders.get(code, ()),
            consumidores=parts.get(code),
            regras=_first(own, ("regras.toml",)),
            regras_cip=str(cip) if cip is not None else config.regras_cip,
            tarifas=config.tarifas,
            pedidos=_first(own, _REQUESTS),
            inventario=_first(own, _INVENTORY),
            orcamento=_first(own, ("orcamento.txt",)),
            erro_previo=problem,
        )
        jobs.append(_with_hash(job, digests))
    unknown = sorted(set(folders) - set(codes))
    if unknown:
        notes.append(
            "pastas por município sem município no lote (ignoradas): "
            + ", ".join(str(c) for c in unknown)
        )
    return jobs, boundaries, notes


def _with_hash(job: MunicipalityJob, digests: dict[Path, str]) -> MunicipalityJob:
    from dataclasses import replace

    return replace(job, hash_entradas=job_hash(job, digests))


# --------------------------------------------------------------------------- running


def _failed(job: MunicipalityJob, error: BaseException) -> MunicipalityResult:
    """Return the row of a task Dask gave up on (its worker died too often, or it raised)."""
    name = type(error).__name__
    reason = (
        "o trabalhador morreu ao processar o município mais vezes que o permitido"
        if name == "KilledWorker"
        else f"erro inesperado no trabalhador ({name})"
    )
    return MunicipalityResult(
        codigo_ibge=job.codigo_ibge,
        nome=job.nome,
        uf=job.uf,
        situacao="falhou",
        erro=reason,
        pasta=str(job.pasta),
        hash_entradas=job.hash_entradas,
    )


def run_jobs(
    jobs: Sequence[MunicipalityJob],
    client: Client,
    *,
    retries: int = 2,
    progress: Progress | None = None,
) -> tuple[list[MunicipalityResult], int]:
    """Run the jobs on the cluster, skipping those whose inputs did not change.

    Parameters
    ----------
    jobs : sequence of MunicipalityJob
        With their hashes (:func:`plan_jobs`).
    client : distributed.Client
        The cluster.
    retries : int, default 2
        Extra attempts of a task that raised (a worker that died is retried by Dask
        itself, up to ``distributed.scheduler.allowed-failures`` times).
    progress : callable, optional
        Called after each municipality.

    Returns
    -------
    results : list of MunicipalityResult
        In the order of ``jobs``.
    reused : int
        How many were skipped.
    """
    from distributed import as_completed

    results: dict[int, MunicipalityResult] = {}
    todo: list[MunicipalityJob] = []
    total = len(jobs)
    for job in jobs:
        stored = previous_result(job, job.hash_entradas)
        if stored is not None:
            results[job.codigo_ibge] = stored
            if progress is not None:
                progress(len(results), total, stored)
        else:
            todo.append(job)
    reused = len(results)
    if todo:
        keys = [f"municipio-{j.codigo_ibge}-{j.hash_entradas[:12]}" for j in todo]
        futures = client.map(run_municipality, todo, key=keys, retries=retries, pure=False)
        job_of = {f.key: j for f, j in zip(futures, todo, strict=True)}
        for future in as_completed(futures):
            job = job_of[future.key]
            try:
                result = future.result()
            except Exception as exc:
                log.warning("município %s: %s", job.codigo_ibge, type(exc).__name__)
                result = _failed(job, exc)
            results[job.codigo_ibge] = result
            if progress is not None:
                progress(len(results), total, result)
    return [results[j.codigo_ibge] for j in jobs], reused


def _provenance(config: BatchConfig, digests: dict[Path, str], started: datetime) -> dict[str, Any]:
    inputs = []
    for kind, path in [("osm", config.osm), *[("bdgd", b) for b in config.bdgds]]:
        if path is not None:
            inputs.append(
                {"tipo": kind, "arquivo": path.name, "sha256": input_digest(path, digests)}
            )
    return {
        "ferramenta": "geo_ip",
        "versao_ferramenta": __version__,
        "executado_em": started.isoformat(timespec="seconds"),
        "entradas": inputs,
        "regras_cip": config.regras_cip,
        "tarifas": config.tarifas,
        "crs": "EPSG:4326",
        "atribuicao": "© OpenStreetMap contributors" if config.osm is not None else "",
    }


def run_batch(
    config: BatchConfig, client: Client, *, progress: Progress | None = None
) -> BatchReport:
    """Run a whole batch: plan, run every municipality, write the consolidated files.

    Parameters
    ----------
    config : BatchConfig
        Inputs and output folder.
    client : distributed.Client
        The Dask cluster (:func:`open_client`).
    progress : callable, optional
        Called after each municipality with (done, total, result).

    Returns
    -------
    BatchReport
        The rows, the files written and how many municipalities were reused.

    Raises
    ------
    InputFileError
        No input, or no municipality found in them.
    """
    from geo_ip.batch.consolidate import write_consolidated

    started = datetime.now(UTC)
    digests: dict[Path, str] = {}
    config.saida.mkdir(parents=True, exist_ok=True)
    jobs, boundaries, notes = plan_jobs(config, client, digests)
    results, reused = run_jobs(jobs, client, progress=progress)
    provenance = _provenance(config, digests, started)
    files = write_consolidated(results, boundaries, config.saida, provenance)
    return BatchReport(results, files, reused, notes)
