"""Requests whose place is uncertain: evidence over the candidate stretch (issue 18).

The geocoder says how sure it is (:func:`geo_ip.requests.geocode.geocode`): ``incerteza_m``, the
radius within which the real place lies, and ``trecho_candidato``, the network lines
where it may be (the street stretch of a match without the number, the roads of a
bairro). A request whose ``incerteza_m`` is above the rules' limit
(``avaliacao.incerteza_maxima_m``) is *pending location* (``localizacao_pendente``):

1. :func:`expand` adds, for each of them, :data:`CANDIDATE_SAMPLES` positions evenly
   spaced along its candidate stretch (both ends included), snapped again to the roads
   (:meth:`geo_ip.network.roads.RoadIndex.snap`), as extra rows of the located table: the
   paths, the surroundings, the bill of materials and the suggestions are then computed
   once for all rows, the originals and the positions together;
2. :func:`collapse` folds the positions back into their request: the range of the
   extension, poles, cost and suggested total (minimum and maximum over the request's
   own point and its positions), and, in the request's row, the evidence of the worse
   case (the position with the lowest suggested total; a tie goes to the higher cost,
   then to the request's own point and the earlier position), its path as the
   request's path. The request keeps its own ``x``/``y``; every input row comes out
   once, in order;
3. :func:`site_checks` writes what must be confirmed on site.

A ``localizacao`` decision of the Commission (:mod:`geo_ip.law.decisions`) gives the
confirmed place: :func:`confirm_places` puts it in the located table before all this
(given coordinates, ``geocodificacao = localizacao_confirmada``, ``incerteza_m = 0``,
snapped again), so that request is assessed at its place and ranked.

Everything is vectorised over all requests: one interpolation, one snap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo_ip._util.parse import number_column as _numbers
from geo_ip.law.scoring import format_brl, format_number
from geo_ip.network.roads import SNAP_COLUMNS, RoadIndex
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.schema import RANGES

__all__ = [
    "CANDIDATE_SAMPLES",
    "CONFIRMED",
    "RANGE_COLUMNS",
    "collapse",
    "confirm_places",
    "expand",
    "pending_places",
    "site_checks",
    "with_uncertainty",
]

log = logging.getLogger(__name__)

CANDIDATE_SAMPLES = 9
"""Positions sampled along each candidate stretch (both ends included), besides the
request's own point."""
CONFIRMED = "localizacao_confirmada"
"""``geocodificacao`` of a request whose place the Commission confirmed."""
RANGE_COLUMNS = tuple(RANGES)
"""Columns added by :func:`collapse` (:data:`geo_ip.schema.RANGES`): the positions
assessed (1 when the place is sure) and the minimum and maximum of ``distancia_rede_m``,
``postes_novos``, ``custo_estimado_rs`` and the suggested total over them."""
_LOCATION_PROBLEMS = (
    "não localizado:",
    "aviso: localizado só pelo",
    "aviso: localizado fora do limite municipal",
    "aviso: fora_da_malha",
)
"""Problems of :func:`geo_ip.requests.locate.locate_requests` about the located point: a confirmed
place replaces them."""

RoadIndexOf = Callable[[], RoadIndex]
"""Gives the territory's road index (built once, when first needed)."""


def with_uncertainty(located: pd.DataFrame) -> pd.DataFrame:
    """Make sure the located table has ``incerteza_m`` and ``trecho_candidato``.

    Parameters
    ----------
    located : pandas.DataFrame
        Output of :func:`geo_ip.requests.locate.locate_requests`.

    Returns
    -------
    pandas.DataFrame
        ``located`` (a copy when a column was added): ``incerteza_m`` float (NaN:
        unknown), ``trecho_candidato`` geometries or None.
    """
    if {"incerteza_m", "trecho_candidato"} <= set(located.columns):
        return located
    out = located.copy()
    if "incerteza_m" not in out.columns:
        out["incerteza_m"] = np.nan
    if "trecho_candidato" not in out.columns:
        out["trecho_candidato"] = pd.Series([None] * len(out), index=out.index, dtype=object)
    return out


def _snap_into(
    out: pd.DataFrame, rows: np.ndarray, snapped: pd.DataFrame, x: np.ndarray, y: np.ndarray
) -> None:
    """Write points and their snapping into the rows (positions) of ``out``, in place."""
    labels = out.index[rows]
    out.loc[labels, "x"] = x
    out.loc[labels, "y"] = y
    for column in SNAP_COLUMNS:
        values = snapped[column]
        if column == "fora_da_malha":
            values = values.astype("boolean")
        out.loc[labels, column] = values.to_numpy()


def _confirmed_problems(
    problems: list[str], status: list[str], failed: list[bool], far: list[str]
) -> tuple[list[str], list[str]]:
    """Problems and status of confirmed rows: the located point's problems replaced.

    A row that was an error only because it could not be located is no longer one; an
    error in the spreadsheet stays.
    """
    texts, states = [], []
    for text, state, no_place, far_text in zip(problems, status, failed, far, strict=True):
        items = [s for s in text.split(" | ") if s and not s.startswith(_LOCATION_PROBLEMS)]
        if far_text:
            items.append(far_text)
        warnings_only = all(s.startswith("aviso:") for s in items)
        if state == "erro" and not (no_place and warnings_only):
            states.append("erro")
        else:
            states.append("aviso" if items else "ok")
        texts.append(" | ".join(items))
    return texts, states


def confirm_places(
    located: pd.DataFrame,
    decisions: pd.DataFrame,
    roads: RoadIndexOf,
    *,
    crs: str,
    max_distance_m: float,
) -> pd.DataFrame:
    """Put the places confirmed by the Commission (``localizacao`` decisions) in the table.

    Parameters
    ----------
    located : pandas.DataFrame
        Located requests (:func:`with_uncertainty` applied), index ``0..n-1``.
    decisions : pandas.DataFrame
        Valid decisions of :func:`geo_ip.requests.decision_file.read_decisions` (``latitude`` and
        ``longitude`` of the ``localizacao`` rows, inside the municipality).
    roads : callable
        Gives the road index used to snap the confirmed points.
    crs : str
        Territory CRS (``x``/``y``).
    max_distance_m : float
        ``rede.distancia_maxima_via``: farther from every road is ``fora_da_malha``.

    Returns
    -------
    pandas.DataFrame
        ``located`` with, in the confirmed rows: ``latitude``/``longitude`` of the
        decision, ``x``/``y`` projected, ``geocodificacao = localizacao_confirmada``,
        ``confianca = 1``, ``incerteza_m = 0``, no ``trecho_candidato``, the snapping
        columns again, and the located point's problems replaced (a request that was an
        error only because it could not be located is ``ok`` or ``aviso`` now).
    """
    rows, lat, lon, lines = _confirmed_places(located, decisions)
    if rows.size == 0:
        return located
    out = located.copy()
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    before = out["geocodificacao"].astype(str).to_numpy()[rows]
    snapped = roads().snap(x, y, max_distance_m)
    _write_places(out, rows, (lat, lon, lines), snapped, x, y)
    texts, states = _confirmed_problems(
        [str(v) for v in out["problemas"].fillna("").to_numpy()[rows]],
        [str(v) for v in out["situacao"].to_numpy()[rows]],
        list(before == "falhou"),
        _far_texts(snapped, max_distance_m),
    )
    labels = out.index[rows]
    out.loc[labels, "problemas"] = texts
    out.loc[labels, "situacao"] = states
    log.info("local confirmado pela Comissão: %d pedido(s)", rows.size)
    return out


def _confirmed_places(
    located: pd.DataFrame, decisions: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """Find the rows with a ``localizacao`` decision: row, latitude, longitude, file line."""
    none: tuple[np.ndarray, np.ndarray, np.ndarray, list[int]] = (
        np.zeros(0, dtype="int64"),
        np.zeros(0),
        np.zeros(0),
        [],
    )
    if decisions.empty or "latitude" not in decisions.columns:
        return none
    chosen = decisions[decisions["criterio"].astype(str) == "localizacao"]
    if chosen.empty:
        return none
    place = {
        str(r["protocolo"]): (float(r["latitude"]), float(r["longitude"]), int(r["linha"]))
        for r in chosen.to_dict("records")
    }
    protocols = located["protocolo"].astype(str).to_numpy(dtype=object)
    rows = np.flatnonzero([p in place for p in protocols])
    lat = np.array([place[p][0] for p in protocols[rows]], dtype=float)
    lon = np.array([place[p][1] for p in protocols[rows]], dtype=float)
    return rows, lat, lon, [place[p][2] for p in protocols[rows]]


def _write_places(
    out: pd.DataFrame,
    rows: np.ndarray,
    place: tuple[np.ndarray, np.ndarray, list[int]],
    snapped: pd.DataFrame,
    x: np.ndarray,
    y: np.ndarray,
) -> None:
    """Write the confirmed places (latitude, longitude, decision line) into ``out``, in place.

    The coordinates and their snapping, the geocoding as confirmed, no uncertainty and no
    candidate stretch.
    """
    lat, lon, lines = place
    labels = out.index[rows]
    for column in ("latitude", "longitude"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype("float64")
    out.loc[labels, "latitude"] = lat
    out.loc[labels, "longitude"] = lon
    _snap_into(out, rows, snapped, x, y)
    out.loc[labels, "geocodificacao"] = CONFIRMED
    out.loc[labels, "geocodificacao_detalhe"] = [
        f"local confirmado pela Comissão (decisão 'localizacao', linha {n} do arquivo de decisões)"
        for n in lines
    ]
    out.loc[labels, "confianca"] = 1.0
    out["incerteza_m"] = pd.to_numeric(out["incerteza_m"], errors="coerce").astype("float64")
    out.loc[labels, "incerteza_m"] = 0.0
    trechos = out["trecho_candidato"].to_numpy(dtype=object).copy()
    trechos[rows] = None
    out["trecho_candidato"] = pd.Series(trechos, index=out.index, dtype=object)


def _far_texts(snapped: pd.DataFrame, max_distance_m: float) -> list[str]:
    """Warning of each confirmed place farther than ``max_distance_m`` from every road."""
    far = snapped["fora_da_malha"].to_numpy(dtype=bool)
    distance = snapped["distancia_via_m"].to_numpy(dtype=float)
    return [
        f"aviso: fora_da_malha — a {d:.0f} m da via mais próxima (limite {max_distance_m:g} m)"
        if f
        else ""
        for f, d in zip(far, distance, strict=True)
    ]


def pending_places(located: pd.DataFrame, limit_m: float) -> pd.Series:
    """Flag the requests located with an uncertainty above the rules' limit.

    Parameters
    ----------
    located : pandas.DataFrame
        ``x``, ``y`` and ``incerteza_m``.
    limit_m : float
        ``avaliacao.incerteza_maxima_m``.

    Returns
    -------
    pandas.Series of bool
        ``localizacao_pendente``, same index: located (``x``/``y``) with an uncertainty
    above the limit, or of unknown size (NaN).
    """
    x = pd.to_numeric(located["x"], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(located["y"], errors="coerce").to_numpy(dtype=float)
    radius = pd.to_numeric(located["incerteza_m"], errors="coerce").to_numpy(dtype=float)
    # an unknown size (a lone bairro point, an online answer without its box) is not
    # a precise place: pending too
    pending = np.isfinite(x) & np.isfinite(y) & (~np.isfinite(radius) | (radius > limit_m))
    return pd.Series(pending, index=located.index, dtype=bool)


def _lines(geoms: np.ndarray) -> np.ndarray:
    """Return the geometries as lines (polygons by their boundary); None when not lineal."""
    out = np.full(len(geoms), None, dtype=object)
    present = np.array([g is not None and isinstance(g, shapely.Geometry) for g in geoms])
    if not present.any():
        return out
    kinds = np.full(len(geoms), -1)
    kinds[present] = shapely.get_type_id(geoms[present].astype(object))
    lineal = present & np.isin(kinds, (1, 2, 5))  # LineString, LinearRing, MultiLineString
    areal = present & np.isin(kinds, (3, 6))  # Polygon, MultiPolygon
    out[lineal] = geoms[lineal]
    if areal.any():
        out[areal] = shapely.boundary(geoms[areal].astype(object))
    return out


def expand(
    located: pd.DataFrame,
    pending: pd.Series,
    roads: RoadIndexOf,
    *,
    max_distance_m: float,
    samples: int = CANDIDATE_SAMPLES,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Add the positions along the candidate stretch of each pending request as rows.

    Parameters
    ----------
    located : pandas.DataFrame
        Located requests, index ``0..n-1``.
    pending : pandas.Series of bool
        :func:`pending_places`; requests in ``erro`` are not expanded (never scored).
    roads : callable
        Gives the road index used to snap the positions.
    max_distance_m : float
        ``rede.distancia_maxima_via``.
    samples : int, default :data:`CANDIDATE_SAMPLES`
        Positions per stretch, evenly spaced, both ends included.

    Returns
    -------
    table : pandas.DataFrame
        The ``n`` requests, then the positions: copies of their request's row with
        ``x``/``y`` on the stretch and the snapping columns of that point; index
        ``0..n+k-1``.
    owner : numpy.ndarray
        The request (row of ``located``) of every row of ``table``.
    """
    n = len(located)
    owner = np.arange(n)
    errors = located["situacao"].astype(str).to_numpy() == "erro"
    rows = np.flatnonzero(pending.to_numpy(dtype=bool) & ~errors)
    if rows.size == 0 or samples < 1:
        return located, owner
    lines = _lines(located["trecho_candidato"].to_numpy(dtype=object)[rows])
    has = np.array([g is not None for g in lines], dtype=bool)
    length = np.zeros(len(rows))
    length[has] = shapely.length(lines[has].astype(object))
    keep = has & (length > 0)
    rows, lines, length = rows[keep], lines[keep], length[keep]
    if rows.size == 0:
        return located, owner
    fraction = np.linspace(0.0, 1.0, samples) if samples > 1 else np.array([0.5])
    k = len(fraction)
    points = shapely.line_interpolate_point(
        np.repeat(lines, k).astype(object), np.tile(fraction, rows.size) * np.repeat(length, k)
    )
    x, y = shapely.get_x(points), shapely.get_y(points)
    snapped = roads().snap(x, y, max_distance_m)
    extra = located.iloc[np.repeat(rows, k)].reset_index(drop=True)
    _snap_into(extra, np.arange(len(extra)), snapped, x, y)
    table = pd.concat([located, extra], ignore_index=True)
    log.info(
        "localização incerta: %d pedido(s), %d posição(ões) ao longo dos trechos candidatos",
        rows.size,
        len(extra),
    )
    return table, np.concatenate([owner, np.repeat(rows, k)])


def collapse(
    table: pd.DataFrame,
    paths: gpd.GeoSeries,
    items: list[dict[str, object]],
    owner: np.ndarray,
    n: int,
) -> tuple[pd.DataFrame, gpd.GeoSeries, list[dict[str, object]]]:
    """Fold the positions back into their request: the range and the worse case.

    Parameters
    ----------
    table : pandas.DataFrame
        The suggestions table of :func:`expand`'s rows (``sugerido_<c>``,
        ``distancia_rede_m``, ``postes_novos``, ``custo_estimado_rs``, ``x``, ``y``).
    paths : geopandas.GeoSeries
        Path of every row, aligned with ``table``.
    items : list of dict
        Evidence items of every row.
    owner : numpy.ndarray
        Request of every row (:func:`expand`).
    n : int
        Number of requests (the first ``n`` rows are the requests themselves).

    Returns
    -------
    table : pandas.DataFrame
        ``n`` rows, index ``0..n-1``: each request with the evidence of its worse case
        (lowest suggested total, then highest cost, then the earliest row) but its own
        ``x``/``y``, plus :data:`RANGE_COLUMNS`.
    paths : geopandas.GeoSeries
        The worse case's path of each request.
    items : list of dict
        The worse case's evidence items.
    """
    m = len(table)
    totals = np.column_stack([_numbers(table, f"sugerido_{c}") for c in CRITERIA]).sum(axis=1)
    distance = _numbers(table, "distancia_rede_m")
    poles = _numbers(table, "postes_novos")
    cost = _numbers(table, "custo_estimado_rs")
    if m == n:
        worst = np.arange(n)
        low = high = {"d": distance, "p": poles, "c": cost, "t": totals}
        count = np.ones(n, dtype="int64")
    else:
        total_key = np.where(np.isnan(totals), np.inf, totals)
        cost_key = np.where(np.isnan(cost), np.inf, -cost)
        order = np.lexsort((np.arange(m), cost_key, total_key, owner))
        first = np.r_[True, owner[order][1:] != owner[order][:-1]]
        worst = order[first]  # one per request, in request order (every one has its row)
        frame = pd.DataFrame({"o": owner, "d": distance, "p": poles, "c": cost, "t": totals})
        groups = frame.groupby("o", sort=True)
        mins, maxs = groups.min(), groups.max()
        low = {k: mins[k].to_numpy(dtype=float) for k in ("d", "p", "c", "t")}
        high = {k: maxs[k].to_numpy(dtype=float) for k in ("d", "p", "c", "t")}
        count = groups.size().to_numpy(dtype="int64")
    out = table.iloc[worst].reset_index(drop=True)
    out["x"] = table["x"].to_numpy()[:n]
    out["y"] = table["y"].to_numpy()[:n]
    out["posicoes_avaliadas"] = pd.array(count, dtype="Int64")
    out["extensao_min_m"] = np.round(low["d"], 1)
    out["extensao_max_m"] = np.round(high["d"], 1)
    out["postes_min"] = pd.array(low["p"], dtype="Float64").astype("Int64")
    out["postes_max"] = pd.array(high["p"], dtype="Float64").astype("Int64")
    out["custo_min_rs"] = np.round(low["c"], 2)
    out["custo_max_rs"] = np.round(high["c"], 2)
    out["pontuacao_sugerida_min"] = np.round(low["t"], 6)
    out["pontuacao_sugerida_max"] = np.round(high["t"], 6)
    geoms = np.asarray(paths.array, dtype=object)[worst]
    out_paths = gpd.GeoSeries(geoms, index=out.index, crs=paths.crs)
    return out, out_paths, [items[i] for i in worst]


def _place_text(method: str, street: str, bairro: str) -> str:
    if method == "logradouro" and street:
        return f" ao longo de {street}"
    if method == "bairro" and bairro:
        return f" no bairro {bairro}"
    return ""


def _range_phrase(
    subject: str, low: float, high: float, fmt: Callable[[float], str], unknown: str
) -> str:
    """``"<subject> varia de A a B"``, ``"<subject> é de A"`` or ``"<subject> <unknown>"``."""
    if np.isnan(low) or np.isnan(high):
        return f"{subject} {unknown}"
    if low == high:
        return f"{subject} é de {fmt(low)}"
    return f"{subject} varia de {fmt(low)} a {fmt(high)}"


def site_checks(table: pd.DataFrame, limit_m: float) -> pd.Series:
    """Say what must be confirmed on site for each request pending location (Portuguese).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`collapse` with ``localizacao_pendente``, ``incerteza_m``,
        ``trecho_candidato``, ``geocodificacao``, ``logradouro_encontrado``,
        ``bairro_encontrado`` and ``situacao`` (no check for a request in error).
    limit_m : float
        ``avaliacao.incerteza_maxima_m``.

    Returns
    -------
    pandas.Series of str
        ``confirmar_no_local``: e.g. ``"Confirmar no local a posição do pedido ao longo
        de Rua X (trecho candidato de 640 m; incerteza de 320 m, acima do limite de 100
        m): a extensão até a rede varia de 35 m a 410 m, o número de postes novos varia
        de 1 a 12 e o custo varia de R$ ... a R$ ...; registre o local confirmado como
        decisão 'localizacao', com latitude e longitude."``; ``""`` for the others.
    """
    out = np.full(len(table), "", dtype=object)
    errors = table["situacao"].astype(str).to_numpy() == "erro"
    pending = np.flatnonzero(table["localizacao_pendente"].to_numpy(dtype=bool) & ~errors)
    if pending.size == 0:
        return pd.Series(out, index=table.index, dtype=object)
    stretch = table["trecho_candidato"].to_numpy(dtype=object)[pending]
    lengths = [
        float(shapely.length(g)) if isinstance(g, shapely.Geometry) else np.nan for g in stretch
    ]
    radius = _numbers(table, "incerteza_m")[pending]
    ranges = {c: _numbers(table, c)[pending] for c in RANGE_COLUMNS}
    places = zip(
        *(
            _texts(table, column, pending)
            for column in (
                "geocodificacao", "logradouro_encontrado", "logradouro_via", "bairro_encontrado"
            )
        ),
        strict=True,
    )  # fmt: skip
    for j, (method, street, via, bairro) in enumerate(places):
        where = _place_text(method, street or via, bairro)
        size = "" if np.isnan(lengths[j]) else f"trecho candidato de {_metres(lengths[j])}; "
        uncertainty = (
            f"de {_metres(radius[j])}, acima do limite de {_metres(limit_m)}"
            if np.isfinite(radius[j])
            else "desconhecida"
        )
        out[pending[j]] = (
            f"Confirmar no local a posição do pedido{where} ({size}incerteza {uncertainty}): "
            f"{_ranges_text(ranges, j)}; registre o local confirmado como decisão "
            "'localizacao', com latitude e longitude."
        )
    return pd.Series(out, index=table.index, dtype=object)


def _texts(table: pd.DataFrame, column: str, rows: np.ndarray) -> list[str]:
    """Read a column's stripped strings at ``rows`` (``""``: None, NaN or no column)."""
    if column not in table.columns:
        return [""] * len(rows)
    return [
        "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
        for v in table[column].to_numpy(dtype=object)[rows]
    ]


def _metres(v: float) -> str:
    return f"{format_number(v, 0)} m"


def _whole(v: float) -> str:
    return format_number(v, 0)


def _ranges_text(ranges: dict[str, np.ndarray], j: int) -> str:
    """Say the ranges of the ``j``-th pending request: extension, new poles and cost."""
    extension = _range_phrase(
        "a extensão até a rede", ranges["extensao_min_m"][j], ranges["extensao_max_m"][j],
        _metres, "não pôde ser estimada",
    )  # fmt: skip
    poles = _range_phrase(
        "o número de postes novos", ranges["postes_min"][j], ranges["postes_max"][j],
        _whole, "não pôde ser estimado",
    )  # fmt: skip
    cost = _range_phrase(
        "o custo", ranges["custo_min_rs"][j], ranges["custo_max_rs"][j], format_brl,
        "não pôde ser estimado",
    )  # fmt: skip
    return f"{extension}, {poles} e {cost}"
