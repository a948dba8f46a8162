"""The QGIS package of a cycle's current state: GeoPackage and project, zipped.

The Commission's GIS staff download it from the web app (``Downloads``): the requests as
they stand now (status in the registry, the live ranking with the Commission's
decisions, pending items), the proposed extensions of the latest run and the site
inspections, in the municipality's CRS, with the same default styles and project as
``avaliacao.gpkg``/``avaliacao.qgz`` (:func:`geo_ip.outputs.qgis.project.style_geopackage`,
:func:`geo_ip.outputs.qgis.project.write_project`). No personal data: the requests go
through :func:`geo_ip.requests.privacy.public_view`.

On PostgreSQL/PostGIS, QGIS can also open the live tables themselves (``pedidos``,
``instantaneos``, ``vistorias``, ``obras``): their geometry columns are PostGIS columns.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_ip._util.version import __version__
from geo_ip.outputs.qgis.project import style_geopackage, write_project
from geo_ip.outputs.views import PUBLIC_COLUMNS, export_table, request_alerts
from geo_ip.registry.live import rules_of
from geo_ip.registry.models import STATUSES, Cycle, Inspection, Request, Run, Snapshot
from geo_ip.registry.types import SRID
from geo_ip.requests import privacy

__all__ = ["write_qgis_package"]

_WGS84 = f"EPSG:{SRID}"


def _requests_layer(
    session: Session, cycle: Cycle, ranked: pd.DataFrame, crs: str
) -> gpd.GeoDataFrame:
    # always from the current ranking: a stored column is stale after decisions
    table = privacy.public_view(ranked).assign(
        alertas=request_alerts(ranked, rules_of(session, cycle))
    )
    keep = [c for c in PUBLIC_COLUMNS if c in table.columns]
    out = export_table(table[keep]).copy()
    registry = {
        r.protocolo: r for r in session.scalars(select(Request).where(Request.ciclo_id == cycle.id))
    }
    protocols = out["protocolo"].astype(str)
    out["situacao_registro"] = [
        STATUSES.get(registry[p].situacao, registry[p].situacao) if p in registry else ""
        for p in protocols
    ]
    out["pendencias"] = [
        ", ".join(registry[p].pendencias) if p in registry else "" for p in protocols
    ]
    geoms = [shapely.from_wkt(registry[p].geom) if p in registry and registry[p].geom else None
             for p in protocols]  # fmt: skip
    frame = gpd.GeoDataFrame(out, geometry=geoms, crs=_WGS84)
    return frame[~frame.geometry.isna()].to_crs(crs)


def _extensions_layer(
    session: Session, ranked: pd.DataFrame, run: Run, crs: str
) -> gpd.GeoDataFrame:
    rows = session.execute(
        select(Request.protocolo, Snapshot.extensao, Snapshot.linha)
        .join(Request, Request.id == Snapshot.pedido_id)
        .where(Snapshot.avaliacao_id == run.id, Snapshot.extensao.is_not(None))
    ).all()
    status = dict(zip(ranked["protocolo"].astype(str), ranked["situacao"], strict=False))
    records: list[dict[str, Any]] = [
        {
            "protocolo": protocol,
            "situacao": status.get(protocol, ""),
            "metodo_distancia": line.get("metodo_distancia"),
            "distancia_rede_m": line.get("distancia_rede_m"),
            "postes_novos": line.get("postes_novos"),
            "custo_estimado_rs": line.get("custo_estimado_rs"),
        }
        for protocol, _, line in rows
    ]
    geoms = [shapely.from_wkt(wkt) for _, wkt, _ in rows]
    frame = gpd.GeoDataFrame(
        pd.DataFrame.from_records(
            records,
            columns=[
                "protocolo",
                "situacao",
                "metodo_distancia",
                "distancia_rede_m",
                "postes_novos",
                "custo_estimado_rs",
            ],
        ),
        geometry=geoms,
        crs=_WGS84,
    )
    return frame.to_crs(crs)


def _inspections_layer(session: Session, cycle: Cycle, crs: str) -> gpd.GeoDataFrame:
    rows = session.execute(
        select(Request.protocolo, Inspection)
        .join(Request, Request.id == Inspection.pedido_id)
        .where(Request.ciclo_id == cycle.id, Inspection.geom.is_not(None))
    ).all()
    records = [
        {
            "protocolo": protocol,
            "data": i.data.isoformat(),
            "residencias_contadas": i.residencias_contadas,
            "posicao_confirmada": "sim" if i.posicao_confirmada else "não",
            "constatacoes": i.constatacoes,
        }
        for protocol, i in rows
    ]
    frame = pd.DataFrame.from_records(
        records,
        columns=["protocolo", "data", "residencias_contadas", "posicao_confirmada", "constatacoes"],
    )
    frame = privacy.public_view(frame, free_text=("constatacoes",))
    geoms = [shapely.from_wkt(i.geom) for _, i in rows]
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=_WGS84).to_crs(crs)


def write_qgis_package(
    session: Session, cycle: Cycle, ranked: pd.DataFrame, run: Run, out_zip: Path
) -> Path:
    """Write ``<cycle>.zip`` with ``registro.gpkg`` and ``registro.qgz`` of the current state.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session on the registry.
    cycle : Cycle
        The cycle.
    ranked : pandas.DataFrame
        The cycle's live ranking (``LiveRanking.table``,
        :func:`geo_ip.registry.live.live_ranking`).
    run : Run
        The run the ranking is based on (its extensions and provenance).
    out_zip : Path
        The zip file to write.

    Returns
    -------
    Path
        ``out_zip``.
    """
    provenance = dict(run.proveniencia)
    crs = str(provenance.get("crs") or _WGS84)
    provenance.setdefault("carimbo", f"geo_ip {__version__}; registro do ciclo {cycle.nome}")
    layers = {
        "pedidos": _requests_layer(session, cycle, ranked, crs),
        "extensoes": _extensions_layer(session, ranked, run, crs),
        "vistorias": _inspections_layer(session, cycle, crs),
    }
    with tempfile.TemporaryDirectory() as folder:
        gpkg = Path(folder) / "registro.gpkg"
        for name, frame in layers.items():
            kind = "MultiLineString" if name == "extensoes" else "Point"
            pyogrio.write_dataframe(
                frame, gpkg, layer=name, driver="GPKG", append=gpkg.exists(),
                geometry_type=kind, promote_to_multi=name == "extensoes",
            )  # fmt: skip
        style_geopackage(gpkg)
        qgz = write_project(
            gpkg,
            Path(folder) / "registro.qgz",
            crs=crs,
            title=f"Registro do programa — ciclo {cycle.nome}",
            provenance=provenance,
        )
        out_zip.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out_zip, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.write(gpkg, "registro.gpkg")
            archive.write(qgz, "registro.qgz")
    return out_zip
