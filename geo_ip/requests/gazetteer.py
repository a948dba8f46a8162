"""The geocoding gazetteer: street, address and bairro index of one territory.

:class:`Gazetteer` holds the tables, built once per territory by
:meth:`Gazetteer.from_territory` from the steps of :mod:`geo_ip.requests.gazetteer_build`
(streets, clusters, bairros) and :mod:`geo_ip.requests.gazetteer_addresses` (address
points); its :attr:`~Gazetteer.names` match street and bairro names
(:mod:`geo_ip.requests.gazetteer_match`) and its :attr:`~Gazetteer.locator` places a
matched address (:mod:`geo_ip.requests.gazetteer_locate`). See
:mod:`geo_ip.requests.geocode` for the match order and the confidence scale.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ip.requests.cnefe import read_cnefe
from geo_ip.requests.gazetteer_addresses import (
    AddressIndex,
    NumberLine,
    cnefe_address_points,
    index_addresses,
    osm_address_points,
)
from geo_ip.requests.gazetteer_build import bairro_tree, bairros_of, build_bairros, build_streets
from geo_ip.requests.gazetteer_locate import Locator
from geo_ip.requests.gazetteer_match import NameIndex
from geo_ip.territory.reader import Territory, TerritoryLike

log = logging.getLogger(__name__)


@dataclass
class Gazetteer:
    """Street, address and bairro index of one territory, built once and reused.

    Build it with :meth:`from_territory`. Attributes are internal tables; the
    public use is ``geocode(requests, gazetteer)``.
    """

    crs: str
    streets: pd.DataFrame
    clusters: gpd.GeoDataFrame
    part_geoms: np.ndarray
    part_cluster: np.ndarray
    bairros: gpd.GeoDataFrame
    exact: dict[tuple[int, int], tuple[float, float, str]]
    interp: dict[int, NumberLine]
    cluster_ceps: dict[int, frozenset[str]]
    fontes: list[str]
    names: NameIndex = field(init=False, repr=False)
    """The street and bairro names, indexed for matching."""
    locator: Locator = field(init=False, repr=False)
    """Places a matched address on the tables."""
    _area_tree: shapely.STRtree | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        self._area_tree = bairro_tree(self.bairros)
        self.names = NameIndex(self.streets, self.bairros)
        self.locator = Locator(
            self.crs,
            self.streets,
            self.clusters,
            self.part_geoms,
            self.bairros,
            self.exact,
            self.interp,
            self.cluster_ceps,
            has_areas=self._area_tree is not None,
        )

    @classmethod
    def from_territory(
        cls,
        path: TerritoryLike,
        *,
        cnefe: str | Path | None = None,
        streets: bool = True,
        roads: gpd.GeoDataFrame | None = None,
    ) -> Gazetteer:
        """Index a territory GeoPackage (and optionally a CNEFE file) for geocoding.

        Parameters
        ----------
        path : Territory, str or Path
            The territory, opened or as its GeoPackage (layers ``vias``,
            ``edificacoes`` and, when present, ``bairros`` and ``bairros_area``).
        cnefe : str or Path, optional
            IBGE CNEFE 2022 CSV of the municipality (see :func:`read_cnefe`).
        streets : bool, default True
            Index the streets and address points. ``False`` gives a gazetteer of
            bairros only, enough when every request has coordinates (much faster on
            a large territory).
        roads : GeoDataFrame, optional
            The ``vias`` layer, when the caller has already read it.

        Returns
        -------
        Gazetteer
            The index, in the territory's CRS.

        Raises
        ------
        TerritoryError
            If the territory or its ``vias`` layer is missing.
        InputFileError
            If the CNEFE file cannot be read.
        """
        territory = Territory.open(path)
        vias = territory.layer("vias") if roads is None else roads
        crs = vias.crs.to_string()
        fontes = ["OpenStreetMap (vias, addr:*)"]
        bairros = build_bairros(territory, crs)
        tables = build_streets(vias if streets else vias.iloc[0:0], bairros)
        street_table, clusters, part_geoms, part_cluster = tables

        points = [osm_address_points(territory)] if streets else []
        if cnefe is not None and streets:
            points.append(cnefe_address_points(read_cnefe(cnefe), crs))
            fontes.insert(0, f"CNEFE 2022 do IBGE ({Path(cnefe).name})")
        points = [p for p in points if len(p)]
        addresses = pd.concat(points, ignore_index=True) if points else pd.DataFrame()
        if len(addresses):
            parts = (part_geoms, part_cluster)
            index = index_addresses(addresses, street_table, clusters, bairros, parts, crs)
        else:
            index = AddressIndex(street_table, clusters)
        gaz = cls(
            crs=crs,
            streets=index.streets,
            clusters=index.clusters,
            part_geoms=part_geoms,
            part_cluster=part_cluster,
            bairros=bairros,
            exact=index.exact,
            interp=index.interp,
            cluster_ceps=index.cluster_ceps,
            fontes=fontes,
        )
        log.info(
            "geocodificador: %d logradouros, %d trechos, %d endereços numerados, %d bairros",
            len(gaz.streets),
            len(gaz.clusters),
            len(gaz.exact),
            len(gaz.bairros),
        )
        return gaz

    def bairro_of(self, points: Any) -> np.ndarray:
        """Bairro index containing each point (nearest area when none does).

        Parameters
        ----------
        points : array-like of shapely.Point
            Points in the gazetteer's CRS.

        Returns
        -------
        numpy.ndarray
            One row of :attr:`bairros` per point; -1 for every point when the
            bairros have no areas.
        """
        return bairros_of(self._area_tree, points)
