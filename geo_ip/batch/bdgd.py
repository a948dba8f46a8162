"""The BDGD's consumer units split by municipality on Dask, for a batch run (``geo-ip lote``).

A utility's BDGD holds the low-voltage consumer units (``UCBT_tab``) of all its
municipalities at once: millions of rows for a large utility. A batch run reads the
table once, in slices, on the Dask workers, and leaves one Parquet file per municipality
that the municipality's task turns into the CIP engine's input:

1. :func:`bdgd_municipalities` counts the rows of ``UCBT_tab`` and ``PIP`` per ``MUN``
   (reading that one field), to choose the municipalities;
2. :func:`partition_consumers` reads ``UCBT_tab`` in slices of ``rows_per_partition``
   records (pyogrio's Arrow reader, ``skip_features``/``max_features``), keeps on each
   worker the rows whose ``MUN`` is one of the municipalities, writes them in pieces and
   then one ``<codigo_ibge>.parquet`` per municipality;
3. :func:`consumers_of` reads such a file back as the
   :class:`~geo_ip.cip.consumers.ConsumerTable` of
   :func:`~geo_ip.cip.consumers.read_consumers` with ``municipio_ibge``: the same CIP.

The Parquet files are working files with one row per consumer unit (monthly kWh, class,
connection date) and must not be published. The unit identifier ``COD_ID`` is kept only
as a keyed hash (BLAKE2b, keyed by the BDGD's SHA-256), enough to join the records of a
unit; it is never the identifier itself. The folder must be reachable by the client and
every worker under the same path (a shared disk on a cluster).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dask
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio

from geo_ip._util.atomic import STAGING_PREFIX, atomic_path
from geo_ip.cip.consumers import (
    BDGD_COLUMNS,
    ConsumerTable,
    _bdgd_layer,
    _gdb_source,
    _municipality_codes,
    _require_bdgd_fields,
    _sha256,
    consumers_from_bdgd,
)
from geo_ip.errors import InputFileError
from geo_ip.sources.catalog import load_catalog
from geo_ip.sources.grid_common import as_text, gdal_errors, layer_names

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["FORMAT", "bdgd_municipalities", "consumers_of", "partition_consumers"]

FORMAT = "geo_ip.consumidores_bdgd/1"
"""Format of the files of :func:`partition_consumers` (key ``geo_ip`` of their metadata)."""

_TEXT = ("COD_ID", "CLAS_SUB", "MUN", "SIT_ATIV", "DAT_CON")
_ENERGY = tuple(c for c in BDGD_COLUMNS if c not in _TEXT)
_SCHEMA = pa.schema(
    [("bdgd", pa.int32()), ("linha", pa.int64())]
    + [(c, pa.string()) for c in _TEXT]
    + [(c, pa.float64()) for c in _ENERGY]
)
"""Columns of the pieces and of the files: which BDGD, its record number, its fields."""
_META_KEY = b"geo_ip"


@dataclass(frozen=True)
class _Source:
    """One BDGD's ``UCBT_tab``, as the workers open it."""

    index: int
    path: Path
    src: str
    layer: str
    descricao: str
    fields: tuple[str, ...]
    features: int


def _open(index: int, path: Path) -> _Source:
    """Find ``UCBT_tab`` in a BDGD and check its fields (client side, cheap)."""
    if not path.exists():
        raise InputFileError("BDGD não encontrada", path=path)
    src = _gdb_source(path.resolve())  # workers may run elsewhere: no relative path
    if src is None:
        raise InputFileError("não é uma BDGD (.gdb, .gdb.zip ou GeoPackage)", path=path)
    layer, descricao = _bdgd_layer(path, src)
    with gdal_errors(path, f"não foi possível ler a tabela '{layer}'"):
        info = pyogrio.read_info(src, layer=layer, force_feature_count=True)
    names = {str(f) for f in info["fields"]}
    _require_bdgd_fields(names, layer, path)
    if "MUN" not in names:
        raise InputFileError(f"tabela '{layer}' sem o campo MUN", path=path, field="MUN")
    fields = tuple(c for c in BDGD_COLUMNS if c in names)
    return _Source(index, path, src, layer, descricao, fields, int(info["features"]))


def _codes_of(source: str, path: Path, layer: str) -> pd.Series:
    """Seven-digit ``MUN`` of every row of ``layer`` (``""`` when blank or invalid)."""
    with gdal_errors(path, f"não foi possível ler a tabela '{layer}'"):
        mun = pyogrio.read_dataframe(source, layer=layer, columns=["MUN"], read_geometry=False)
    if "MUN" not in mun:
        raise InputFileError(f"tabela '{layer}' sem o campo MUN", path=path, field="MUN")
    return _municipality_codes(as_text(mun["MUN"]))


def bdgd_municipalities(bdgds: Sequence[Path]) -> pd.DataFrame:
    """Count the consumer units and lighting points of each municipality in the BDGDs.

    Only the field ``MUN`` of ``UCBT_tab`` and ``PIP`` is read.

    Parameters
    ----------
    bdgds : sequence of Path
        BDGDs (``.gdb`` folder, ``.gdb.zip`` or GeoPackage with BDGD layer names).

    Returns
    -------
    pandas.DataFrame
        One row per IBGE code found in either table, in code order: ``codigo_ibge``,
        ``unidades_consumidoras`` (rows of ``UCBT_tab``) and ``pontos_ip`` (rows of
        ``PIP``; 0 when the BDGD has no ``PIP``), summed over the BDGDs. Rows whose
        ``MUN`` is blank or not a 7-digit code are not counted.

    Raises
    ------
    InputFileError
        A file that is missing or not a BDGD, without ``UCBT_tab``, or a table without
        ``MUN``.
    """
    counts = {c: pd.Series(dtype="int64") for c in ("unidades_consumidoras", "pontos_ip")}
    lighting = load_catalog().rede_existente.bdgd.tabela_ip.upper()
    for i, path in enumerate(bdgds):
        source = _open(i, Path(path))
        tables = {"unidades_consumidoras": source.layer}
        if (pip := layer_names(source.src, source.path).get(lighting)) is not None:
            tables["pontos_ip"] = pip
        for column, layer in tables.items():
            codes = _codes_of(source.src, source.path, layer)
            found = codes[codes != ""].value_counts()
            counts[column] = found.add(counts[column], fill_value=0)
    table = pd.DataFrame(counts).fillna(0).astype("int64")
    table.index = table.index.astype("int64")
    table = table.sort_index().rename_axis("codigo_ibge").reset_index()
    return table[["codigo_ibge", "unidades_consumidoras", "pontos_ip"]]


def _pseudonyms(units: pd.Series, key: bytes) -> pd.Series:
    """Keyed hash of each unit id; a missing or blank id stays as it is."""

    def one(value: object) -> object:
        if value is None or value == "":
            return value
        return hashlib.blake2b(str(value).encode(), digest_size=12, key=key).hexdigest()

    return units.map(one)


def _read_slice(
    source: _Source, start: int, count: int, wanted: frozenset[str], sha256: str, parts: Path
) -> dict[str, int]:
    """Read records ``start … start + count`` of ``UCBT_tab``; write each municipality's rows.

    Runs on a worker. The piece ``<parts>/<code>/<bdgd>-<start>.parquet`` holds the rows of
    one municipality in the BDGD's order. Returns the number of rows per code.
    """
    with gdal_errors(source.path, f"não foi possível ler a tabela '{source.layer}'"):
        raw = pyogrio.read_dataframe(
            source.src,
            layer=source.layer,
            columns=list(source.fields),
            read_geometry=False,
            skip_features=start,
            max_features=count,
            use_arrow=True,
        )
    codes = _municipality_codes(as_text(raw["MUN"]))
    keep = codes.isin(wanted).to_numpy()
    frame = pd.DataFrame({"bdgd": np.full(int(keep.sum()), source.index, dtype="int32")}).assign(
        linha=np.arange(start + 1, start + len(raw) + 1, dtype="int64")[keep]
    )
    key = (sha256 or source.src).encode()[-64:]
    for column in _TEXT:
        values = as_text(raw[column][keep]) if column in raw else pd.Series([None] * len(frame))
        if column == "COD_ID":
            values = _pseudonyms(values, key)
        frame[column] = values.to_numpy(dtype=object)
    for column in _ENERGY:
        frame[column] = pd.to_numeric(raw[column][keep], errors="coerce").to_numpy(dtype=float)
    written: dict[str, int] = {}
    for code, rows in frame.groupby(codes[keep].to_numpy(), sort=True):
        piece = pa.Table.from_pandas(rows, schema=_SCHEMA, preserve_index=False)
        target = parts / str(code) / f"{source.index:04d}-{start:012d}.parquet"
        with atomic_path(target) as tmp:
            pq.write_table(piece, tmp)
        written[str(code)] = len(rows)
    return written


def _join(
    code: int,
    sources: list[dict[str, Any]],
    counts: list[tuple[int, dict[str, int]]],
    parts: Path,
    out: Path,
) -> Path | None:
    """Join the pieces of one municipality into ``out`` (runs on a worker)."""
    rows = [0] * len(sources)
    for index, found in counts:
        rows[index] += found.get(str(code), 0)
    if not any(rows):
        out.unlink(missing_ok=True)
        return None
    meta = {
        "formato": FORMAT,
        "codigo_ibge": code,
        "fontes": [
            {"bdgd": i, **s, "linhas": n}
            for i, (s, n) in enumerate(zip(sources, rows, strict=True))
            if n
        ],
    }
    schema = _SCHEMA.with_metadata({_META_KEY: json.dumps(meta, ensure_ascii=False).encode()})
    with atomic_path(out) as tmp, pq.ParquetWriter(tmp, schema) as writer:
        for piece in sorted((parts / str(code)).glob("*.parquet")):
            writer.write_table(pq.read_table(piece, schema=_SCHEMA))
    shutil.rmtree(parts / str(code), ignore_errors=True)
    return out


def partition_consumers(
    bdgds: Sequence[Path],
    codes: Collection[int],
    out_dir: Path,
    client: Client | None = None,
    *,
    rows_per_partition: int = 250_000,
) -> dict[int, Path]:
    """Split the BDGDs' consumer units (``UCBT_tab``) by municipality on Dask.

    Each BDGD's ``UCBT_tab`` is read in slices of ``rows_per_partition`` records, one Dask
    task each; the worker keeps the rows whose ``MUN`` is in ``codes`` and writes them in
    pieces; one task per municipality then joins its pieces into
    ``<out_dir>/<codigo_ibge>.parquet``: the rows of every BDGD for that code, BDGD after
    BDGD (in the order given) and in each BDGD's record order. Each file is written
    atomically; its Parquet metadata (key ``geo_ip``) says where each row came from, for
    :func:`consumers_of`.

    Parameters
    ----------
    bdgds : sequence of Path
        BDGDs (``.gdb`` folder, ``.gdb.zip`` or GeoPackage with ``UCBT_tab``).
    codes : collection of int
        IBGE codes of the municipalities wanted.
    out_dir : Path
        Folder of the files; created when needed; reachable by every worker.
    client : distributed.Client, optional
        Where to run; default the current Dask scheduler (:func:`dask.compute`).
    rows_per_partition : int
        Records read by one task.

    Returns
    -------
    dict of int to Path
        The file of each municipality that has rows. A municipality without any row gets
        no file (one left by an earlier run is removed).

    Raises
    ------
    InputFileError
        A BDGD that is missing, unreadable or lacks ``UCBT_tab`` or one of its fields
        ``CLAS_SUB``, ``MUN``, ``ENE_01`` … ``ENE_12``.
    """
    if rows_per_partition < 1:
        raise ValueError("rows_per_partition must be positive")
    sources = [_open(i, Path(p)) for i, p in enumerate(bdgds)]
    wanted = frozenset(str(int(c)) for c in codes)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}partes-", dir=out_dir))
    try:
        counts: list[Any] = []
        described: list[Any] = []
        for source in sources:
            sha = dask.delayed(_sha256, pure=True)(source.path.resolve())
            described.append(
                dask.delayed(dict, pure=True)(
                    arquivo=str(source.path),
                    descricao=source.descricao,
                    sha256=sha,
                    campos=list(source.fields),
                )
            )
            for start in range(0, source.features, rows_per_partition):
                task = dask.delayed(_read_slice, pure=True)(
                    source, start, rows_per_partition, wanted, sha, parts
                )
                counts.append(dask.delayed(tuple, pure=True)([source.index, task]))
        joins = [
            dask.delayed(_join, pure=True)(
                int(c), described, counts, parts, out_dir / f"{c}.parquet"
            )
            for c in sorted(wanted, key=int)
        ]
        done = client.gather(client.compute(joins)) if client is not None else dask.compute(*joins)
    finally:
        shutil.rmtree(parts, ignore_errors=True)
    return {int(c): p for c, p in zip(sorted(wanted, key=int), done, strict=True) if p is not None}


def _merge(tables: list[ConsumerTable]) -> ConsumerTable:
    """One table of the units of several BDGDs (each checked on its own)."""
    if len(tables) == 1:
        return tables[0]
    years = {t.ano for t in tables}
    notes = [w for t in tables for w in t.avisos]
    if len(years) > 1:
        shown = ", ".join(str(y) for y in sorted(y for y in years if y is not None))
        notes.append(f"as BDGDs são de anos diferentes ({shown}): os consumos foram somados.")
    return replace(
        tables[0],
        records=pd.concat([t.records for t in tables], ignore_index=True),
        kwh=np.vstack([t.kwh for t in tables]),
        descricao=" + ".join(t.descricao for t in tables),
        arquivo="; ".join(t.arquivo for t in tables),
        sha256="; ".join(t.sha256 for t in tables),
        ano=years.pop() if len(years) == 1 else None,
        avisos=tuple(notes),
    )


def consumers_of(parquet: Path, code: int) -> ConsumerTable:
    """Read a municipality's consumer units from a file of :func:`partition_consumers`.

    The result is what :func:`~geo_ip.cip.consumers.read_consumers` gives for the BDGD
    with ``municipio_ibge=code``, so :func:`geo_ip.cip.engine.compute_cip` gives the same
    ``total_rs`` and ``by_class``; but its reading table (``CipResult.reading``) counts
    only this municipality's rows: the rows of the other municipalities
    (``outro_municipio``) and those without a valid ``MUN`` are not in the file. The
    warning on units switched off (``SIT_ATIV = DS``) counts this municipality's rows.
    ``linha`` is the record number in the BDGD; ``unidade`` is a keyed hash of ``COD_ID``.
    With several BDGDs, each is checked on its own and the tables are stacked.

    Parameters
    ----------
    parquet : Path
        ``<codigo_ibge>.parquet`` written by :func:`partition_consumers`.
    code : int
        The municipality's IBGE code (checked against the file).

    Returns
    -------
    ConsumerTable

    Raises
    ------
    InputFileError
        When the file is missing, unreadable, not of this format or of another municipality.
    """
    parquet = Path(parquet)
    try:
        table = pq.read_table(parquet)
        meta = json.loads((table.schema.metadata or {}).get(_META_KEY, b"{}"))
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise InputFileError(
            f"arquivo de consumidores por município ilegível ({exc})", path=parquet
        ) from exc
    if meta.get("formato") != FORMAT:
        raise InputFileError(
            "não é um arquivo de consumidores por município do geo_ip (geo-ip lote)", path=parquet
        )
    if int(meta["codigo_ibge"]) != int(code):
        raise InputFileError(
            f"o arquivo é do município {meta['codigo_ibge']}, não de {code}", path=parquet
        )
    frame = table.to_pandas()
    tables = []
    for source in meta["fontes"]:
        mine = (
            frame[frame["bdgd"].to_numpy() == source["bdgd"]] if len(meta["fontes"]) > 1 else frame
        )
        raw = mine[["linha", *source["campos"]]].reset_index(drop=True)
        tables.append(
            consumers_from_bdgd(
                raw,
                path=Path(source["arquivo"]),
                descricao=source["descricao"],
                sha256=source["sha256"],
                municipio_ibge=int(code),
                warnings=[],
            )
        )
    return _merge(tables)
