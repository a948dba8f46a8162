"""The public features of an assessment: one source for the GeoPackage and the web maps.

The proposed extensions with their materials and cost (:func:`extension_frame`), the new
poles along them (:func:`pole_frame`), the candidate stretches of the requests whose
place is to be confirmed (:func:`candidate_stretches`) and the occurrences the maps
draw (:func:`occurrence_frame`), each a GeoDataFrame in the territory's metric CRS.
Attributes go through :func:`geo_ip.requests.privacy.public_view`: no personal data.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ip.outputs.views import applicant_names, export_table, ordered_rows, proposed_poles
from geo_ip.pipeline import Assessment
from geo_ip.requests import privacy

__all__ = ["candidate_stretches", "extension_frame", "occurrence_frame", "pole_frame"]


_EXTENSION_COLUMNS = (
    "protocolo", "situacao", "metodo_distancia", "distancia_rede_m", "rede_alvo_tipo",
    "rede_alvo_id", "transformador", "postes_novos", "bracos", "luminarias", "condutor_m",
    "transformadores", "custo_estimado_rs", "custo_municipio_rs",
)  # fmt: skip


def extension_frame(assessment: Assessment, public: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Proposed extension paths with their public attributes and ``indice``.

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess` (its table and ``paths``).
    public : pandas.DataFrame, optional
        :func:`geo_ip.outputs.views.public_table` of ``assessment``, when computed
        already: its rows are taken instead of redacting the table's again (the same
        cells: none of these columns is free text).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per request with a path, metric CRS.
    """
    table = assessment.table
    geoms = np.asarray(assessment.paths.array, dtype=object)
    has = ~shapely.is_missing(geoms)
    columns = [c for c in _EXTENSION_COLUMNS if c in table.columns]
    if public is None:
        view = privacy.public_view(table.loc[has, columns]).reset_index(drop=True)
    else:
        view = public.loc[has, columns].reset_index(drop=True)
    view["indice"] = np.flatnonzero(has)
    return gpd.GeoDataFrame(view, geometry=geoms[has], crs=assessment.crs)


def pole_frame(assessment: Assessment) -> gpd.GeoDataFrame:
    """Place the new poles along the extensions (``proposed_poles``) with protocol and number.

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess` (its paths, their ``postes_novos``
        and the rules' ``rede.vao_postes``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``protocolo``, ``numero``, ``indice``; metric CRS.
    """
    table = assessment.table
    poles = proposed_poles(
        assessment.paths, table["postes_novos"], assessment.rules.rede.vao_postes.valor
    )
    rows = poles["indice"].to_numpy()
    frame = pd.DataFrame(
        {
            "protocolo": table["protocolo"].to_numpy()[rows] if len(rows) else [],
            "numero": poles["numero"].to_numpy(),
            "indice": rows,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=poles["geometry"].to_numpy(), crs=assessment.crs)


_STRETCH_COLUMNS = (
    "protocolo", "situacao", "geocodificacao", "incerteza_m", "localizacao_pendente",
    "extensao_min_m", "extensao_max_m", "custo_min_rs", "custo_max_rs", "confirmar_no_local",
)  # fmt: skip


def candidate_stretches(assessment: Assessment) -> gpd.GeoDataFrame:
    """Layer ``trechos_candidatos``: where each uncertain request may be (public).

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess` (its table's ``trecho_candidato``;
        the applicants' names, redacted from the text).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per request with a ``trecho_candidato`` (the candidate street stretch,
        the roads of the bairro), in the order of the lists: :data:`_STRETCH_COLUMNS`
        and ``comprimento_m`` (length of the stretch); empty when there is none.
    """
    table = ordered_rows(assessment.table)
    geoms = (
        table["trecho_candidato"].to_numpy(dtype=object)
        if "trecho_candidato" in table.columns
        else np.full(len(table), None, dtype=object)
    )
    has = np.array(
        [isinstance(g, shapely.Geometry) and not shapely.is_empty(g) for g in geoms], dtype=bool
    )
    view = privacy.public_view(
        table.loc[has, [c for c in _STRETCH_COLUMNS if c in table.columns]],
        free_text=("confirmar_no_local",),
        names=applicant_names(assessment),
    )
    out = export_table(view).reset_index(drop=True)
    out["comprimento_m"] = np.round(shapely.length(geoms[has].astype(object)), 1)
    return gpd.GeoDataFrame(out, geometry=list(geoms[has]), crs=assessment.crs)


def occurrence_frame(assessment: Assessment) -> gpd.GeoDataFrame | None:
    """Usable occurrences, date and type only (free-text descriptions may name people).

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess` (its ``occurrences``, when read).

    Returns
    -------
    geopandas.GeoDataFrame or None
        ``linha``, ``data``, ``tipo``; None when the run had no occurrences file.
    """
    occ = assessment.occurrences
    if occ is None:
        return None
    usable = occ[(occ["situacao"].astype(str) != "erro") & ~occ.geometry.is_empty]
    usable = usable[usable.geometry.notna()]
    return gpd.GeoDataFrame(
        usable[["linha", "data", "tipo"]].reset_index(drop=True),
        geometry=usable.geometry.to_numpy(),
        crs=occ.crs,
    ).to_crs(assessment.crs)
