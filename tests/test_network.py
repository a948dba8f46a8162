"""Snapping on hand-made roads where the answer is known by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString

from geo_ip.network.roads import SNAP_COLUMNS, RoadIndex

CRS = "EPSG:31983"


@pytest.fixture
def index() -> RoadIndex:
    # An L-shaped street A (two-way: both directions stored, as in the graph) and a
    # principal avenue B along y = 200.
    a = LineString([(0, 0), (100, 0), (100, 100)])
    roads = gpd.GeoDataFrame(
        {
            "u": [1, 3, 10],
            "v": [3, 1, 11],
            "key": [0, 0, 0],
            "name": ["Rua A", "Rua A", "Avenida B"],
            "hierarquia": ["local", "local", "principal"],
            "geometry": [a, a.reverse(), LineString([(0, 200), (300, 200)])],
        },
        crs=CRS,
    )
    return RoadIndex(roads)


def test_snap_hand_checked(index: RoadIndex) -> None:
    x = np.array([30.0, 130.0, 50.0, np.nan, 150.0])
    y = np.array([-10.0, 60.0, 190.0, np.nan, 500.0])
    out = index.snap(x, y, max_distance=150)
    assert list(out.columns) == SNAP_COLUMNS
    # (30, -10): 10 m from Rua A at (30, 0), 30 m along the first edge (u=1 → v=3).
    row = out.iloc[0]
    assert (row.aresta_u, row.aresta_v, row.aresta_key) == (1, 3, 0)
    assert row.posicao_aresta_m == pytest.approx(30)
    assert (row.x_via, row.y_via, row.distancia_via_m) == pytest.approx((30, 0, 10))
    assert row.logradouro_via == "Rua A" and row.hierarquia_via == "local"
    # (130, 60): 30 m east of the vertical leg, 100 + 60 = 160 m along Rua A.
    assert out.loc[1, "posicao_aresta_m"] == pytest.approx(160)
    assert out.loc[1, "distancia_via_m"] == pytest.approx(30)
    # (50, 190): 10 m from Avenida B, which is nearer than Rua A (~94 m).
    assert out.loc[2, "logradouro_via"] == "Avenida B"
    assert out.loc[2, "distancia_via_m"] == pytest.approx(10)
    assert not out.loc[:2, "fora_da_malha"].any()
    # No location: empty snap, not an error.
    assert pd.isna(out.loc[3, "aresta_u"]) and np.isnan(out.loc[3, "distancia_via_m"])
    assert not out.loc[3, "fora_da_malha"]
    # (150, 500): 300 m from Avenida B → beyond 150 m, flagged but still measured.
    assert out.loc[4, "fora_da_malha"]
    assert out.loc[4, "distancia_via_m"] == pytest.approx(300)


def test_snap_is_deterministic_between_two_directions(index: RoadIndex) -> None:
    out = index.snap(np.array([60.0] * 3), np.array([5.0] * 3), max_distance=150)
    assert out["aresta_u"].tolist() == [1, 1, 1]


def test_snap_empty_inputs(index: RoadIndex) -> None:
    out = index.snap(np.array([]), np.array([]), max_distance=150)
    assert len(out) == 0 and list(out.columns) == SNAP_COLUMNS
