"""Provenance stamps: what every output says about how it was made.

Files that can hold metadata (GeoPackage, JSON, XLSX) carry the full record of
:attr:`geo_ip.pipeline.Assessment.provenance`; tables that cannot (CSV) carry
:func:`stamp` in a ``proveniencia`` column, the same text on every row.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geo_ip._util.version import __version__
from geo_ip.rules.config import Rules

__all__ = ["FICTIONAL_LABEL", "OSM_ATTRIBUTION", "file_digest", "file_record", "stamp"]

OSM_ATTRIBUTION = "© OpenStreetMap contributors"
FICTIONAL_LABEL = "Município de Demonstração — dados fictícios"


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in blocks (``hashlib.file_digest``).

    Parameters
    ----------
    path : str or Path
        A file.

    Returns
    -------
    str
        The hex digest.
    """
    with Path(path).open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def file_record(
    kind: str, path: str | Path, *, resolve: bool = False, **extra: Any
) -> dict[str, Any]:
    """Describe an input file for the provenance: kind, path, hash, size and time.

    Parameters
    ----------
    kind : str
        What the file is (``"pedidos"``, ``"osm"``, ...).
    path : str or Path
        The file (a folder, such as a file geodatabase, gets no hash).
    resolve : bool, default False
        Record the absolute path rather than the path as given.
    **extra
        More keys of the record.

    Returns
    -------
    dict
        ``tipo``, ``arquivo``, ``sha256``, ``tamanho_bytes``, ``modificado_em`` (ISO,
        UTC) and ``extra``.
    """
    path = Path(path)
    stat = path.stat()
    return {
        "tipo": kind,
        "arquivo": str(path.resolve() if resolve else path),
        "sha256": file_digest(path) if path.is_file() else None,
        "tamanho_bytes": stat.st_size,
        "modificado_em": datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(timespec="seconds"),
        **extra,
    }


def stamp(rules: Rules, territory: dict[str, Any] | None = None) -> str:
    """One line of provenance for tables: tool, rules and their hash, data date, CRS.

    Parameters
    ----------
    rules : Rules
        Rules used (file version and hash).
    territory : dict, optional
        Territory metadata (:func:`geo_ip.territory.reader.read_metadata`): OSM date and CRS.

    Returns
    -------
    str
        E.g. ``"geo_ip 0.1.0; regras 2026.1 (sha256 0def1ac3a48b); OSM de 2026-01-15;
        EPSG:31983; © OpenStreetMap contributors"``, prefixed with the fictional-data
        label for the demo.
    """
    parts = [
        f"geo_ip {__version__}",
        f"regras {rules.versao} (sha256 {rules.sha256[:12]})",
    ]
    meta = territory or {}
    if meta.get("osm_data"):
        parts.append(f"OSM de {str(meta['osm_data'])[:10]}")
    if meta.get("crs"):
        parts.append(str(meta["crs"]))
    parts.append(OSM_ATTRIBUTION)
    text = "; ".join(parts)
    return f"{FICTIONAL_LABEL.upper()}; {text}" if rules.municipio.ficticio else text
