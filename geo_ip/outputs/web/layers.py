"""The layers of the web maps, read and serialised once for every map of a run.

:class:`MapSources` holds the territory's layers (roads, grid, lighting, facilities) and
the assessment's own (:func:`request_frame`, and the extensions, poles and occurrences
of :mod:`geo_ip.outputs.features`) in the territory's metric CRS, and serialises each
with the fields a map needs (:mod:`geo_ip.outputs.web.geojson`).

Requests come from :func:`geo_ip.outputs.views.public_ranking` and every other table
through :func:`geo_ip.requests.privacy.public_view`: no personal data reaches a map.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ip.errors import GeoIPError
from geo_ip.law.scoring import format_number
from geo_ip.outputs.features import extension_frame, occurrence_frame, pole_frame
from geo_ip.outputs.format import candidate_stretch, is_missing, place_ranges
from geo_ip.outputs.views import LIST_BAIRRO, public_ranking, public_table, request_file_stems
from geo_ip.outputs.web.basemap import BasemapInfo
from geo_ip.outputs.web.geojson import LayerData, layer_data
from geo_ip.pipeline import Assessment
from geo_ip.sources.catalog import Catalog, load_catalog
from geo_ip.territory.municipality import territory_municipalities
from geo_ip.territory.reader import read_layer

__all__ = [
    "TO_CONFIRM",
    "MapSources",
    "data_municipality",
    "map_file_names",
    "place_to_confirm",
    "request_frame",
]


def map_file_names(table: pd.DataFrame) -> list[str | None]:
    """File name of each request's map (``<protocolo>.html``), None when not located.

    The names of :func:`geo_ip.outputs.files.request_file_stems`, shared with the
    technical sheets, so no map overwrites another.

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`Assessment.table`.

    Returns
    -------
    list of str or None
        Aligned with ``table``.
    """
    x = pd.to_numeric(table["x"], errors="coerce").to_numpy(np.float64)
    y = pd.to_numeric(table["y"], errors="coerce").to_numpy(np.float64)
    located = np.isfinite(x) & np.isfinite(y)
    stems = request_file_stems(table)
    return [f"{s}.html" if ok else None for s, ok in zip(stems, located, strict=True)]


TO_CONFIRM = "Local a confirmar"
"""Label of a request drawn as its candidate stretch (its place is not known well enough)."""


def place_to_confirm(row: Any) -> str:
    """One line on a request pending location: uncertainty and ranges (Portuguese).

    Parameters
    ----------
    row : mapping
        A public row (``incerteza_m`` and the ranges of :func:`place_ranges`).

    Returns
    -------
    str
        E.g. ``"Local a confirmar (± 360 m): extensão de 4 a 7 m; 1 poste novo;
        custo de R$ 5.243,35 a R$ 5.378,19; pontuação sugerida de 57 a 60"``.
    """
    radius = row.get("incerteza_m")
    head = TO_CONFIRM
    if not is_missing(radius):
        head += f" (± {format_number(float(radius), 0)} m)"
    ranges = place_ranges(row)
    return f"{head}: {'; '.join(ranges)}" if ranges else head


def request_frame(assessment: Assessment, public: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Public attributes of every located request, with its point and map file.

    A request pending confirmation of its place (``pendente_localizacao``) with a
    candidate stretch is the stretch (:func:`candidate_stretch`), not a point, and has
    ``local_a_confirmar`` (:func:`place_to_confirm`).

    Parameters
    ----------
    assessment : Assessment
        Result of :func:`geo_ip.pipeline.assess` (its table, ranked by
        :func:`public_ranking`).
    public : pandas.DataFrame, optional
        :func:`geo_ip.outputs.views.public_table` of ``assessment``, when computed
        already.

    Returns
    -------
    geopandas.GeoDataFrame
        :func:`public_ranking` columns plus ``indice`` (row of ``assessment.table``),
        ``mapa`` (file name in ``mapas/``) and ``local_a_confirmar`` (None but for
        the stretches), ranking order, metric CRS; ``indicio_art12`` is ``"sim"`` or
        empty (a popup skips empty values).
    """
    table = assessment.table
    public = public_ranking(assessment, public)
    row_of = {line: i for i, line in enumerate(table["linha"].tolist())}
    index = np.asarray([row_of[line] for line in public["linha"].tolist()], dtype=np.int64)
    files = map_file_names(table)
    x = pd.to_numeric(table["x"], errors="coerce").to_numpy(np.float64)[index]
    y = pd.to_numeric(table["y"], errors="coerce").to_numpy(np.float64)[index]
    located = np.isfinite(x) & np.isfinite(y)
    out = public.reset_index(drop=True).assign(indice=index, mapa=[files[i] for i in index])[
        located
    ]
    if "indicio_art12" in out.columns:
        # a popup shows the Art. 12 §1 indication only where there is one
        sign = out["indicio_art12"].astype(object)
        out["indicio_art12"] = sign.where(sign.eq("sim"), None)
    geometry = np.asarray(shapely.points(x[located], y[located]), dtype=object)
    rows = table.iloc[index[located]]
    texts = np.full(len(out), None, dtype=object)
    for k, (row, record) in enumerate(
        zip(rows.to_dict("records"), out.to_dict("records"), strict=True)
    ):
        stretch = candidate_stretch(row)
        if stretch is not None:
            geometry[k] = stretch
            texts[k] = place_to_confirm(record)
    out["local_a_confirmar"] = texts
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry=geometry, crs=assessment.crs)


def data_municipality(assessment: Assessment) -> str:
    """Name of the municipality the assessment's data covers (the maps' title says it).

    The territory's municipal boundary (layer ``limite``) names it: the rules' own
    name when the boundary is the rules' municipality (same IBGE code or name), the
    largest boundary's name otherwise; without a named boundary, the municipality the
    territory was built for (its metadata), and last the rules'.

    Parameters
    ----------
    assessment : Assessment
        The run (its territory and rules).

    Returns
    -------
    str
        E.g. ``"Porto Alegre"`` for a Porto Alegre territory, whatever the rules file.
    """
    rules = assessment.rules.municipio
    try:
        found = territory_municipalities(assessment.territory)
    except (GeoIPError, OSError, ValueError):  # an unreadable boundary never stops a map
        found = []
    same = [
        m
        for m in found
        if (m.codigo_ibge is not None and str(m.codigo_ibge) == str(rules.codigo_ibge))
        or (m.nome and m.nome.casefold() == rules.nome.casefold())
    ]
    if same:
        return rules.nome
    named = [m.nome for m in found if m.nome]
    if named:
        return named[0]
    try:
        meta = getattr(assessment.territory, "metadata", None)
    except (GeoIPError, OSError, ValueError):
        meta = None
    built = meta.get("municipio") if isinstance(meta, dict) else None
    return str(built) if built else rules.nome


_TERRITORY = ("vias", "rede_existente", "pontos_ip", "equipamentos")
"""Territory layers every map draws."""


def _dedupe_roads(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One line per street segment: the graph has both directions of two-way roads."""
    if not {"u", "v", "key"} <= set(roads.columns):
        return roads
    a = np.minimum(roads["u"].to_numpy(), roads["v"].to_numpy())
    b = np.maximum(roads["u"].to_numpy(), roads["v"].to_numpy())
    length = np.round(shapely.length(roads.geometry.to_numpy()), 1)
    key = pd.DataFrame({"a": a, "b": b, "k": roads["key"].to_numpy(), "l": length})
    return roads[~key.duplicated().to_numpy()]


@dataclass
class MapSources:
    """The assessment's layers, read and serialised once for every map of a run.

    Attributes
    ----------
    assessment : Assessment
        The run.
    catalog : Catalog
        Layer catalog.
    frames : dict of str to GeoDataFrame
        Public features of each layer, in the territory's metric CRS.
    roads : geopandas.GeoDataFrame
        Every road edge (both directions), to find a request's own edge.
    public : pandas.DataFrame
        :func:`geo_ip.outputs.views.public_table` of ``assessment.table`` (same rows).
    municipality : str
        :func:`data_municipality` (the maps' title).
    background : BasemapInfo, optional
        The territory's offline background (:func:`geo_ip.outputs.web.basemap.write_basemap`),
        once written next to the maps: their default base layer.
    """

    assessment: Assessment
    catalog: Catalog
    frames: dict[str, gpd.GeoDataFrame]
    roads: gpd.GeoDataFrame
    public: pd.DataFrame
    municipality: str = ""
    background: BasemapInfo | None = None
    _data: dict[tuple[str, tuple[str, ...]], LayerData] = field(default_factory=dict)

    @classmethod
    def from_assessment(cls, assessment: Assessment, catalog: Catalog | None = None) -> MapSources:
        """Read the territory layers and build the public frames of the assessment.

        Parameters
        ----------
        assessment : Assessment
            Result of :func:`geo_ip.pipeline.assess`.
        catalog : Catalog, optional
            Layer catalog; default the bundled one.

        Returns
        -------
        MapSources
            The sources.
        """
        crs = assessment.crs
        frames: dict[str, gpd.GeoDataFrame] = {}
        for name in _TERRITORY:
            frames[name] = read_layer(assessment.territory, name, missing_ok=True).to_crs(crs)
        roads = frames["vias"]
        frames["vias"] = _dedupe_roads(roads)
        shared = public_table(assessment)  # redacted once for every frame
        frames["pedidos"] = request_frame(assessment, shared)
        frames["extensoes"] = extension_frame(assessment, shared)
        frames["postes_propostos"] = pole_frame(assessment)
        occurrences = occurrence_frame(assessment)
        if occurrences is not None:
            frames["ocorrencias"] = occurrences
        public = shared.drop(columns=[LIST_BAIRRO], errors="ignore")
        return cls(
            assessment,
            catalog or load_catalog(),
            frames,
            roads,
            public,
            data_municipality(assessment),
        )

    def data(self, name: str, fields: Sequence[str]) -> LayerData:
        """Return the serialised features of a layer with these fields (cached)."""
        key = (name, tuple(sorted(set(fields))))
        if key not in self._data:
            owner = "indice" if "indice" in self.frames[name].columns else None
            self._data[key] = layer_data(self.frames[name], key[1], self.assessment.crs, owner)
        return self._data[key]
