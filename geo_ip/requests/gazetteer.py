"""The geocoding gazetteer: street, address and bairro index of one territory.

See :mod:`geo_ip.requests.geocode` for the match order and the confidence scale.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rapidfuzz import process
from rapidfuzz.distance import OSA
from shapely.ops import substring

from geo_ip.requests.address import (
    NUMBER_WORDS,
    PARTICLES,
    ParsedAddress,
    normalize_street,
    number_tokens,
    street_core,
)
from geo_ip.requests.cnefe import read_cnefe
from geo_ip.requests.gazetteer_build import (
    build_bairros,
    build_streets,
    cnefe_address_points,
    most_common,
    osm_address_points,
    transformer,
)
from geo_ip.territory.store import read_layer

log = logging.getLogger(__name__)

FUZZY_CUTOFF = 85.0
"""Minimum similarity (0–100) for a fuzzy bairro match: ``rapidfuzz``'s normalised OSA
similarity (edit distance where swapping two letters counts as one edit) × 100; 85
accepts one edit in 7 letters, two in 14. Street names use :data:`FUZZY_ONE_EDIT_MIN`
and :data:`FUZZY_TWO_EDITS_MIN` instead."""
FUZZY_ONE_EDIT_MIN = 5
"""A street whose core (name without type, leading titles and prepositions) has at least
this many letters is found with one typo (OSA edit: a letter wrong, missing, extra, or two
letters swapped); shorter ones need the exact name ("Rua Dez" is not "Rua Doze", "Av. João"
is not "Avenida Jordão")."""
FUZZY_TWO_EDITS_MIN = 12
"""A street whose core has at least this many letters is found with two typos
("Romilda Valenino" finds "Rua Romilda Valentino")."""
FUZZY_CORE_MIN = 75.0
"""A fuzzy street match also needs this similarity between the names without the type
(or their cores), so that a shared type does not carry a short name."""
ADDRESS_MAX_DIST_M = 150.0
"""Address points farther than this from every piece of their street are not used."""
EXTRAPOLATION_MAX_FRACTION = 0.25
"""A number outside the known range of its street (same parity when possible) is
extrapolated, with the slope of that whole range, only when its distance (in numbers)
to the nearest known one is at most this fraction of the range, and the position stays
on the street; otherwise the street's mid-point is used."""
EXACT_UNCERTAINTY_M = 10.0
"""Uncertainty of an address point (``numero_exato``): a house within a lot's width."""
MIN_INTERPOLATED_M = 10.0
"""Least uncertainty of an interpolated number (a lot's width)."""
CONFIDENCE_SCALE_M = 100.0
"""Uncertainty at which the confidence halves: ``confianca = s · 100 / (100 + incerteza_m)``."""
NEAR_BAIRRO_MARGIN_M = 100.0
"""A street that does not reach the bairro given is narrowed to its stretch within this
distance beyond its nearest approach to the bairro."""
BAIRRO_MISMATCH_FACTOR = 0.9


def confidence(uncertainty_m: float, score: float = 1.0) -> float:
    """Confidence (0–1) of a location from its uncertainty and its match score.

    Parameters
    ----------
    uncertainty_m : float
        Radius (m) within which the real place lies (``incerteza_m``).
    score : float, default 1.0
        Street or bairro match score, 0–1 (1 for an exact name).

    Returns
    -------
    float
        ``score · S / (S + uncertainty_m)`` with ``S`` = :data:`CONFIDENCE_SCALE_M`:
        1 for given coordinates, 0.91 · score at 10 m, 0.5 · score at 100 m, 0.09 ·
        score at 1 km; 0 for NaN.
    """
    if not np.isfinite(uncertainty_m):
        return 0.0
    return float(score * CONFIDENCE_SCALE_M / (CONFIDENCE_SCALE_M + max(uncertainty_m, 0.0)))


_FUZZY_CHUNK = 512
_FUZZY_TOP = 16
_AMBIGUOUS_SHOWN = 6
"""Places listed in an ambiguity message (the others are counted)."""
_SIMILARITY = OSA.normalized_similarity


def _without_numbers(text: str) -> str:
    """Drop number words (and the "E" joining them) from a normalised name."""
    words = text.split()
    keep = [
        w
        for i, w in enumerate(words)
        if w not in NUMBER_WORDS
        and not (
            w == "E"
            and 0 < i < len(words) - 1
            and words[i - 1] in NUMBER_WORDS
            and words[i + 1] in NUMBER_WORDS
        )
    ]
    return " ".join(keep)


def _typo_budget(core: str) -> int:
    """Typos (OSA edits) accepted in a street whose core is ``core``: 0, 1 or 2 by length."""
    letters = sum(c.isalpha() for c in core)
    if letters >= FUZZY_TWO_EDITS_MIN:
        return 2
    return 1 if letters >= FUZZY_ONE_EDIT_MIN else 0


def _bare(text: str) -> frozenset[str]:
    """Words of a normalised name or key, without prepositions."""
    return frozenset(w for w in text.split() if w not in PARTICLES)


_WORD_ALIASES = {"D": ("DOM", "DONA")}
"""Query words that stand for others ("D. Silvério" is "Dom Silvério" or "Dona ...")."""


def _words_found(query: Iterable[str], street: Iterable[str], typos: int = 0) -> bool:
    """Whether every word of ``query`` is a word of ``street``.

    With ``typos``, a word of at least :data:`FUZZY_ONE_EDIT_MIN` letters may differ by that
    many edits.
    """
    words = set(street)
    for q in query:
        if q in words or any(a in words for a in _WORD_ALIASES.get(q, ())):
            continue
        if not typos or len(q) < FUZZY_ONE_EDIT_MIN:
            return False
        if not any(OSA.distance(q, w) <= typos for w in words):
            return False
    return True


@dataclass
class StreetMatch:
    """Result of matching one normalised street key against the gazetteer."""

    ids: tuple[int, ...] = ()
    score: float = 0.0
    how: str = ""
    suggestion: tuple[str, float] | None = None


@dataclass
class Located:
    """Where one address was placed, how, and how sure (see :func:`confidence`)."""

    kind: str
    xy: tuple[float, float] | None = None
    along: tuple[int, float] | None = None  # (part index, position along it)
    logradouro: str | None = None
    bairro: str | None = None
    confianca: float = 0.0
    detalhe: str = ""
    incerteza: float = float("nan")
    """Radius (m) within which the real place lies; NaN when not located."""
    trecho: Any = None
    """The network lines where the real place may be (territory CRS), or None."""


def _plain_list(names: Iterable[str]) -> str:
    items = list(names)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " e " + items[-1]


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
    interp: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]
    cluster_ceps: dict[int, frozenset[str]]
    fontes: list[str]
    _key_index: dict[str, int] = field(default_factory=dict, repr=False)
    _core_index: dict[str, list[int]] = field(default_factory=dict, repr=False)
    _bairro_index: dict[str, int] = field(default_factory=dict, repr=False)
    _street_clusters: dict[int, list[int]] = field(default_factory=dict, repr=False)
    _area_tree: shapely.STRtree | None = field(default=None, repr=False)
    _clip_cache: dict[tuple[int, int], tuple[Any, tuple[float, float]] | None] = field(
        default_factory=dict, repr=False
    )

    def __post_init__(self) -> None:
        self._reindex()

    def _reindex(self) -> None:
        """Rebuild the lookup dictionaries and arrays from the tables."""
        self._key_index = {k: i for i, k in enumerate(self.streets["chave"])}
        core: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(self.streets["nucleo"]):
            core[c].append(i)
        self._core_index = dict(core)
        self._bairro_index = {k: i for i, k in enumerate(self.bairros["chave"])}
        sc: dict[int, list[int]] = defaultdict(list)
        for cid, sid in enumerate(self.clusters["rua"].to_numpy()):
            sc[int(sid)].append(cid)
        self._street_clusters = dict(sc)
        areas = self.bairros["area"].to_numpy()
        if len(areas) and not shapely.is_missing(areas).all():
            self._area_tree = shapely.STRtree(areas)
        self._c_street = self.clusters["rua"].to_numpy(np.int64)
        self._c_bairros: list[tuple[int, ...]] = list(self.clusters["bairros"])
        self._c_line = self.clusters["linha"].to_numpy(bool)
        self._mx = self.clusters["mx"].to_numpy(np.float64)
        self._my = self.clusters["my"].to_numpy(np.float64)
        self._c_geom = self.clusters.geometry.to_numpy()
        self._display = self.streets["nome_exibicao"].astype(str).to_numpy()
        self._b_name = self.bairros["nome"].astype(str).to_numpy()
        self._b_area = self.bairros["area"].to_numpy()
        self._b_x = shapely.get_x(self.bairros.geometry.to_numpy())
        self._b_y = shapely.get_y(self.bairros.geometry.to_numpy())
        self._b_raio = self._bairro_sizes()
        self._c_length = self.clusters["comprimento"].to_numpy(np.float64)
        self._cluster_tree: shapely.STRtree | None = None
        self._roads_cache: dict[int, Any] = {}

    def _bairro_sizes(self) -> np.ndarray:
        """Radius (m) of each bairro: its farthest part from its point, within the roads.

        An area is cut to the extent of the street network first (the Voronoi cells of
        bairro points reach 50 km beyond them); a bairro without an area keeps the
        ``raio`` of its address points (:func:`build_bairros`).
        """
        n = len(self.bairros)
        raio = (
            self.bairros["raio"].to_numpy(np.float64).copy()
            if "raio" in self.bairros.columns
            else np.full(n, np.nan)
        )
        areas = self.bairros["area"].to_numpy() if n else np.array([], dtype=object)
        todo = np.flatnonzero(np.isnan(raio) & ~shapely.is_missing(areas))
        if not len(todo):
            return raio
        area = areas[todo]
        geoms = self.clusters.geometry.to_numpy()
        if len(geoms):
            area = shapely.intersection(area, shapely.box(*shapely.total_bounds(geoms)))
        points = self.bairros.geometry.to_numpy()[todo]
        far = shapely.hausdorff_distance(points, area)
        whole = np.sqrt(shapely.area(areas[todo]) / np.pi)
        raio[todo] = np.where(np.isfinite(far) & (far > 0), far, whole)
        return raio

    # ------------------------------------------------------------------ build

    @classmethod
    def from_territory(
        cls,
        path: str | Path,
        *,
        cnefe: str | Path | None = None,
        streets: bool = True,
        roads: gpd.GeoDataFrame | None = None,
    ) -> Gazetteer:
        """Index a territory GeoPackage (and optionally a CNEFE file) for geocoding.

        Parameters
        ----------
        path : str or Path
            Territory GeoPackage (layers ``vias``, ``edificacoes`` and, when
            present, ``bairros`` and ``bairros_area``).
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
        path = Path(path)
        vias = read_layer(path, "vias") if roads is None else roads
        crs = vias.crs.to_string()
        fontes = ["OpenStreetMap (vias, addr:*)"]
        bairros = build_bairros(path, crs)
        tables = build_streets(vias if streets else vias.iloc[0:0], bairros)
        street_table, clusters, part_geoms, part_cluster = tables

        points = [osm_address_points(path)] if streets else []
        if cnefe is not None and streets:
            points.append(cnefe_address_points(read_cnefe(cnefe), crs))
            fontes.insert(0, f"CNEFE 2022 do IBGE ({Path(cnefe).name})")
        points = [p for p in points if len(p)]
        addresses = pd.concat(points, ignore_index=True) if points else pd.DataFrame()
        gaz = cls(
            crs=crs,
            streets=street_table,
            clusters=clusters,
            part_geoms=part_geoms,
            part_cluster=part_cluster,
            bairros=bairros,
            exact={},
            interp={},
            cluster_ceps={},
            fontes=fontes,
        )
        if len(addresses):
            gaz._index_addresses(addresses)
        log.info(
            "geocodificador: %d logradouros, %d trechos, %d endereços numerados, %d bairros",
            len(gaz.streets),
            len(gaz.clusters),
            len(gaz.exact),
            len(gaz.bairros),
        )
        return gaz

    def _index_addresses(self, pts: pd.DataFrame) -> None:
        """Attach address points to streets and clusters; build the number indexes."""
        pts = pts[pts["chave"] != ""].reset_index(drop=True)
        keys = pd.Series(pts["chave"].unique())
        link = {k: self._key_index[k] for k in keys if k in self._key_index}
        rest = [k for k in keys if k not in link]
        if rest:
            tipos = [normalize_street(k) for k in rest]
            matches = self.match_streets([(k, t, n) for k, (t, n) in zip(rest, tipos, strict=True)])
            for k, m in zip(rest, matches, strict=True):
                if len(m.ids) == 1:
                    link[k] = m.ids[0]
        # addresses of streets absent from the road network: their own "streets"
        orphans = [k for k in keys if k not in link]
        if orphans:
            first = len(self.streets)
            shown = pts[pts["chave"].isin(orphans)].groupby("chave")["logradouro"].agg(most_common)
            extra = pd.DataFrame({"chave": orphans, "nome_exibicao": shown[orphans].to_numpy()})
            tn = [normalize_street(k) for k in orphans]
            extra["tipo"] = [t for t, _ in tn]
            extra["nome"] = [n for _, n in tn]
            extra["nucleo"] = [street_core(n) for _, n in tn]
            self.streets = pd.concat([self.streets, extra], ignore_index=True)
            for i, k in enumerate(orphans):
                link[k] = first + i
        pts["rua"] = pts["chave"].map(link).astype("int64")
        geom = np.asarray(shapely.points(pts["x"].to_numpy(), pts["y"].to_numpy()))

        # nearest cluster of the point's street
        cl = self.clusters[["rua"]].reset_index(names="cluster")
        pairs = pts[["rua"]].reset_index(names="ponto").merge(cl, on="rua")
        pairs["d"] = shapely.distance(
            geom[pairs["ponto"].to_numpy()],
            self.clusters.geometry.to_numpy()[pairs["cluster"].to_numpy()],
        )
        best = pairs.sort_values("d").drop_duplicates("ponto").set_index("ponto")
        pts["cluster"] = best["cluster"].reindex(pts.index).fillna(-1).astype("int64")
        pts["d"] = best["d"].reindex(pts.index)
        far = (pts["cluster"] >= 0) & (pts["d"] > ADDRESS_MAX_DIST_M)
        if far.any():
            log.info(
                "geocodificador: %d endereço(s) a mais de %.0f m do seu logradouro ignorados",
                int(far.sum()),
                ADDRESS_MAX_DIST_M,
            )
        # orphan streets: one point-only cluster each
        orphan_pts = pts[pts["cluster"] < 0]
        if len(orphan_pts):
            grouped = orphan_pts.groupby("rua")[["x", "y"]].median()
            spread = np.hypot(
                orphan_pts["x"].to_numpy() - grouped["x"].reindex(orphan_pts["rua"]).to_numpy(),
                orphan_pts["y"].to_numpy() - grouped["y"].reindex(orphan_pts["rua"]).to_numpy(),
            )
            # a street known by its address points alone: as long as they spread
            extent = 2 * pd.Series(spread).groupby(orphan_pts["rua"].to_numpy()).max()
            first = len(self.clusters)
            new = gpd.GeoDataFrame(
                {
                    "rua": grouped.index.to_numpy(),
                    "comprimento": extent.reindex(grouped.index).to_numpy(np.float64),
                    "mx": grouped["x"].to_numpy(),
                    "my": grouped["y"].to_numpy(),
                    "linha": False,
                },
                geometry=shapely.points(grouped["x"].to_numpy(), grouped["y"].to_numpy()),
                crs=self.crs,
            )
            new["bairros"] = [(b,) if b >= 0 else () for b in self._bairro_of(new.geometry)]
            self.clusters = pd.concat([self.clusters, new], ignore_index=True)
            remap = dict(zip(grouped.index, range(first, first + len(grouped)), strict=True))
            pts.loc[pts["cluster"] < 0, "cluster"] = orphan_pts["rua"].map(remap)
            self._reindex()
        pts = pts[~far].reset_index(drop=True)
        if self._area_tree is None and len(self.bairros):
            # no bairro areas: a street is in the bairros its address points declare
            bid = pts["bairro"].map(self._bairro_index)
            known = pts.assign(b=bid)[bid.notna()]
            declared: dict[int, set[int]] = defaultdict(set)
            for c, b in zip(known["cluster"], known["b"], strict=True):
                declared[int(c)].add(int(b))
            self.clusters["bairros"] = [
                tuple(sorted(set(old) | declared.get(c, set())))
                for c, old in enumerate(self.clusters["bairros"])
            ]
            self._reindex()

        # exact index: OSM first, then CNEFE overwrites (official source wins)
        numbered = pts[pts["numero"].notna()].copy()
        numbered["numero"] = numbered["numero"].astype("int64")
        for fonte in ("osm", "cnefe"):
            sub = numbered[numbered["fonte"] == fonte]
            if not len(sub):
                continue
            med = sub.groupby(["cluster", "numero"])[["x", "y"]].median()
            med = med.reset_index()
            for c, n, x, y in zip(med["cluster"], med["numero"], med["x"], med["y"], strict=True):
                self.exact[(int(c), int(n))] = (float(x), float(y), fonte)
        ceps: dict[int, set[str]] = defaultdict(set)
        with_cep = pts.dropna(subset=["cep"])
        for c, cep in zip(with_cep["cluster"], with_cep["cep"], strict=True):
            ceps[int(c)].add(str(cep))
        self.cluster_ceps = {c: frozenset(v) for c, v in ceps.items()}

        # interpolation index: position of each number along the nearest part
        line_pts = numbered[numbered["cluster"].map(self.clusters["linha"]).astype(bool)]
        if not len(line_pts):
            return
        parts = pd.DataFrame({"cluster": self.part_cluster}).reset_index(names="parte")
        pp = line_pts[["cluster"]].reset_index(names="ponto").merge(parts, on="cluster")
        pgeom = np.asarray(shapely.points(line_pts["x"].to_numpy(), line_pts["y"].to_numpy()))
        row_of = pd.Series(np.arange(len(line_pts)), index=line_pts.index)
        prow = row_of[pp["ponto"].to_numpy()].to_numpy()
        pp["d"] = shapely.distance(pgeom[prow], self.part_geoms[pp["parte"].to_numpy()])
        best = pp.sort_values("d").drop_duplicates("ponto").set_index("ponto")
        line_pts = line_pts.assign(parte=best["parte"].reindex(line_pts.index).to_numpy())
        line_pts["s"] = shapely.line_locate_point(
            self.part_geoms[line_pts["parte"].to_numpy()],
            shapely.points(line_pts["x"].to_numpy(), line_pts["y"].to_numpy()),
        )
        agg = line_pts.groupby(["cluster", "parte", "numero"])["s"].median().reset_index()
        agg = agg.sort_values(["cluster", "numero"])
        for c in agg["cluster"].unique():
            g = agg[agg["cluster"] == c]
            self.interp[int(c)] = (
                g["numero"].to_numpy(np.int64),
                g["parte"].to_numpy(np.int64),
                g["s"].to_numpy(np.float64),
            )

    # --------------------------------------------------------------- lookups

    def _bairro_of(self, points: Any) -> np.ndarray:
        """Bairro index containing each point (nearest area when none does); -1 without data."""
        geoms = np.asarray(points)
        out = np.full(len(geoms), -1, dtype=np.int64)
        if self._area_tree is None or not len(geoms):
            return out
        inside = self._area_tree.query(geoms, predicate="within")
        out[inside[0]] = inside[1]
        missing = np.flatnonzero(out < 0)
        if len(missing):
            near = self._area_tree.query_nearest(geoms[missing], return_distance=False)
            out[missing[near[0]]] = near[1]
        return out

    def match_streets(self, queries: list[tuple[str, str | None, str]]) -> list[StreetMatch]:
        """Match normalised street keys: exact key, then name or core, then fuzzy (vectorised).

        Parameters
        ----------
        queries : list of (chave, tipo, nome)
            Normalised keys as produced by :func:`geo_ip.requests.address.parse_address`.

        Returns
        -------
        list of StreetMatch
            One per query: the street ids (several when ambiguous), score 0–100,
            how it matched, and the closest name when nothing matched.

        Notes
        -----
        After the exact key, the candidates are the streets with the same name under
        another type (or none), the same core (name without leading titles and
        prepositions), or whose name holds the query's type ("Vila Canadá" is "Estrada
        Vila Canadá", "Rua Vila Nova" is "Vila Nova"). Among them the best are kept,
        in this order: every word of the query is in the street's name ("Azevedo
        Marques" is "Rua Azevedo Marques", not "Rua Tenente Azevedo"); the type agrees;
        the name is the same ("Oscar Pereira" is "Rua Oscar Pereira" rather than "Avenida
        Professor Oscar Pereira", "Ernesto da Fontoura" is not "Ernesto Fontoura").
        Several left: all are returned (ambiguous). Score 95, or 90 when the type
        differs. Nothing: :meth:`_fuzzy`.
        """
        results = [StreetMatch() for _ in queries]
        fuzzy: list[int] = []
        tipos = self.streets["tipo"].to_numpy()
        keys = self.streets["chave"].astype(str).to_numpy()
        names = self.streets["nome"].astype(str).to_numpy()
        by_name = self.streets.groupby("nome", sort=False).indices if len(self.streets) else {}
        for i, (chave, tipo, nome) in enumerate(queries):
            if not chave:
                continue
            sid = self._key_index.get(chave)
            if sid is not None:
                results[i] = StreetMatch((sid,), 100.0, "exato")
                continue
            pool = set(self._core_index.get(street_core(nome), []))
            pool.update(int(s) for s in by_name.get(nome, ()))
            if tipo is not None:
                pool.update(int(s) for s in by_name.get(chave, ()))  # type inside the name
            as_key = self._key_index.get(nome)  # the query's type is not the street's
            if as_key is not None:
                pool.add(as_key)
            if not pool:
                fuzzy.append(i)
                continue
            q_words = _bare(nome)
            ranks: dict[int, tuple[bool, bool, bool]] = {}
            for s in pool:
                words = keys[s].split()
                type_ok = tipo is None or tipos[s] == tipo or tipo in words[1:]
                same = names[s] in (nome, chave) or keys[s] == nome
                ranks[s] = (_words_found(q_words, words), type_ok, same)
            best = max(ranks.values())
            ids = tuple(sorted(s for s, r in ranks.items() if r == best))
            if best[1]:
                results[i] = StreetMatch(ids, 95.0, "nucleo")
            else:
                results[i] = StreetMatch(ids, 90.0, "nucleo_tipo_diferente")
        if fuzzy and len(self.streets):
            self._fuzzy(queries, fuzzy, results)
        return results

    def _fuzzy(
        self,
        queries: list[tuple[str, str | None, str]],
        rows: list[int],
        results: list[StreetMatch],
    ) -> None:
        """Fuzzy street match of ``rows`` (one ``cdist`` per chunk of queries and form).

        Candidates are the streets most similar to the query (best normalised OSA
        similarity between keys, names, name and core, cores: one ``cdist`` each, over
        the unique keys). A candidate is accepted when its fewest edits (OSA: a letter
        wrong, missing or extra, or two letters swapped) over those forms are within
        its typo budget (:func:`_typo_budget`: 0, 1 or 2 by the length of its core,
        :data:`FUZZY_ONE_EDIT_MIN`, :data:`FUZZY_TWO_EDITS_MIN`) and its name or core
        is at least :data:`FUZZY_CORE_MIN` similar (a shared type does not carry a
        short name). A candidate whose name has other numbers than the query's is
        refused (``RUA DEZ`` is not ``RUA DOZE``); when both carry the same numbers the
        rest of the name decides (``RUA INVENTADA 483`` is not ``BECO 483A``).

        The accepted candidates with the fewest edits win; when several streets are
        left, those where every word of the query is found (up to a typo in long
        words), then those of the query's type, are kept; still several: ambiguous.
        The score is the best similarity × 100.
        """
        forms = [self.streets[c].astype(str).tolist() for c in ("chave", "nome", "nucleo")]
        keys, names, cores = forms
        v_nums = [number_tokens(n) for n in names]
        tipos = self.streets["tipo"].to_numpy()
        shown_names = self.streets["nome_exibicao"].tolist()
        for start in range(0, len(rows), _FUZZY_CHUNK):
            chunk = rows[start : start + _FUZZY_CHUNK]
            q_key = [queries[i][0] for i in chunk]
            q_name = [queries[i][2] for i in chunk]
            q_core = [street_core(n) for n in q_name]
            pairs = [(q_key, keys), (q_name, names), (q_name, cores), (q_core, cores)]
            score = np.zeros((len(chunk), len(names)), dtype=np.float32)
            for q, v in pairs:
                np.maximum(score, process.cdist(q, v, scorer=_SIMILARITY, workers=-1), out=score)
            if score.shape[1] > _FUZZY_TOP:
                top = np.argpartition(-score, _FUZZY_TOP, axis=1)[:, :_FUZZY_TOP]
                order = np.argsort(-np.take_along_axis(score, top, axis=1), axis=1)
                top = np.take_along_axis(top, order, axis=1)
            else:
                top = np.argsort(-score, axis=1)
            for r, i in enumerate(chunk):
                tipo = queries[i][1]
                q_forms = (q_key[r], q_name[r], q_name[r], q_core[r])
                q_nums = number_tokens(q_name[r])
                accepted: list[tuple[tuple[int, int], float, int]] = []
                shown: tuple[float, int] | None = None
                for j in (int(j) for j in top[r]):
                    qf: tuple[str, ...] = q_forms
                    vf: tuple[str, ...] = (keys[j], names[j], cores[j], cores[j])
                    numbered = bool(q_nums and v_nums[j])
                    if not numbered and 100 * score[r, j] < FUZZY_CORE_MIN:
                        if shown is None:  # too different to pass the gate
                            shown = (100 * float(score[r, j]), j)
                        continue
                    if numbered:
                        if q_nums != v_nums[j]:
                            continue
                        qf = tuple(_without_numbers(f) for f in qf)
                        vf = tuple(_without_numbers(f) for f in vf)
                    both = list(zip(qf, vf, strict=True))
                    sims = [_SIMILARITY(a, b) if a and b else None for a, b in both]
                    valid = [x for x in sims if x is not None]
                    if not valid:
                        continue
                    s = 100 * max(valid)
                    # names (or cores) alike, not only keys; a typeless query's key is its name
                    alike = [x for x in sims[1 if tipo is not None else 0 :] if x is not None]
                    gate = 100 * max(alike, default=0.0)
                    if shown is None or min(s, gate) > shown[0]:
                        shown = (min(s, gate), j)
                    if gate < FUZZY_CORE_MIN:
                        continue
                    edits = [OSA.distance(a, b) if a and b else 99 for a, b in both]
                    if min(edits) <= _typo_budget(vf[3]):
                        # fewest edits, then fewest between the whole names (prepositions
                        # and titles count: "Ernesto da Fontoura" is not "Ernesto Fontoura")
                        accepted.append(((min(edits), min(edits[:2])), s, j))
                if not accepted:
                    if shown is None:
                        j0 = int(top[r][0])
                        shown = (float(score[r, j0]) * 100, j0)
                    results[i] = StreetMatch(suggestion=(shown_names[shown[1]], shown[0]))
                    continue
                fewest = min(a[0] for a in accepted)
                tied = [(s, j) for e, s, j in accepted if e == fewest]
                if len(tied) > 1:
                    q_words = _bare(q_name[r])
                    found = [(s, j) for s, j in tied if _words_found(q_words, keys[j].split(), 1)]
                    tied = found or tied
                    typed = [(s, j) for s, j in tied if tipo is not None and tipos[j] == tipo]
                    tied = typed or tied
                ids = tuple(sorted(j for _, j in tied))
                results[i] = StreetMatch(ids, round(max(s for s, _ in tied), 1), "aproximado")

    def prefer_known_name(self, parsed: ParsedAddress, endereco: str) -> ParsedAddress:
        """Read a bare trailing number as part of the name when that name exists.

        ``"Av. João 23"`` is parsed as number 23 of ``AVENIDA JOAO``; when that key
        is unknown but ``AVENIDA JOAO VINTE E TRES`` (Avenida João XXIII) is a
        street of the territory, the number is the street's; likewise when only the
        core with the number is known ("João 23" for "Avenida Papa João XXIII").
        """
        if parsed.numero is None or parsed.chave in self._key_index:
            return parsed
        tipo, nome = normalize_street(endereco)
        chave = f"{tipo} {nome}" if tipo else nome
        if chave == parsed.chave:
            return parsed
        by_core = (
            street_core(nome) in self._core_index
            and street_core(parsed.nome) not in self._core_index
        )
        if chave not in self._key_index and not by_core:
            return parsed
        return replace(parsed, tipo=tipo, nome=nome, chave=chave, numero=None)

    def match_bairros(self, keys: list[str | None]) -> list[tuple[int, float]]:
        """Match normalised bairro names: exact, then fuzzy (vectorised).

        Parameters
        ----------
        keys : list of str or None
            Normalised bairro names (:func:`geo_ip.requests.address.normalize_bairro`).

        Returns
        -------
        list of (int, float)
            Bairro index (-1 when not found) and score 0–100.
        """
        out: list[tuple[int, float]] = [(-1, 0.0)] * len(keys)
        todo = []
        for i, k in enumerate(keys):
            if not k:
                continue
            b = self._bairro_index.get(k)
            if b is not None:
                out[i] = (b, 100.0)
            else:
                todo.append(i)
        if todo and len(self.bairros):
            choices = self.bairros["chave"].tolist()
            queries = [keys[i] or "" for i in todo]
            score = 100 * process.cdist(queries, choices, scorer=_SIMILARITY, workers=-1)
            best = score.argmax(axis=1)
            for r, i in enumerate(todo):
                s = float(score[r, best[r]])
                if s >= FUZZY_CUTOFF:
                    out[i] = (int(best[r]), s)
        return out

    # -------------------------------------------------------------- locating

    def _stretch(self, cid: int, bairro: int, near: bool) -> tuple[Any, tuple[float, float]]:
        """Return the stretch of a cluster where the place may be, and its mid-point.

        The whole cluster, or its stretch inside ``bairro`` when it crosses several;
        with ``near`` (the street does not reach the bairro), its stretch within
        :data:`NEAR_BAIRRO_MARGIN_M` beyond its nearest approach to the bairro. A
        point-only cluster (a street known from address points alone) has no stretch.
        """
        whole = self._c_geom[cid] if self._c_line[cid] else None
        default = (whole, (float(self._mx[cid]), float(self._my[cid])))
        if bairro < 0 or whole is None or self._b_area[bairro] is None:
            return default
        inside = self._c_bairros[cid]
        if not near and (len(inside) < 2 or bairro not in inside):
            return default
        key = (cid, bairro)
        if key not in self._clip_cache:
            area = self._b_area[bairro]
            if near:
                area = shapely.buffer(area, shapely.distance(whole, area) + NEAR_BAIRRO_MARGIN_M)
            self._clip_cache[key] = _lines_mid(shapely.intersection(whole, area))
        return self._clip_cache[key] or default

    def _bairro_roads(self, bairro: int) -> Any:
        """Return the streets inside a bairro (within its radius without an area), or None."""
        if bairro not in self._roads_cache:
            area = self._b_area[bairro]
            if area is None:
                radius = float(self._b_raio[bairro])
                if not np.isfinite(radius):
                    self._roads_cache[bairro] = None
                    return None
                area = shapely.buffer(shapely.Point(self._b_x[bairro], self._b_y[bairro]), radius)
            geoms = self._c_geom[self._c_line]
            if self._cluster_tree is None:
                self._cluster_tree = shapely.STRtree(geoms)
            hit = self._cluster_tree.query(area, predicate="intersects")
            found = _lines_mid(shapely.intersection(shapely.union_all(geoms[hit]), area))
            self._roads_cache[bairro] = None if found is None else found[0]
        return self._roads_cache[bairro]

    def _interpolate(
        self, cid: int, numero: int
    ) -> tuple[int, float, str, tuple[float, float]] | None:
        """Position of ``numero`` along cluster ``cid``: (part, s, description, span) or None.

        ``span`` is the stretch of the part (positions from, to) where the number may
        be: between the two known numbers that bracket it, or from the nearest known
        one to the extrapolated position.

        On each part (continuous line) of the street, the nearest known lower and
        higher numbers of the same parity are used (any parity when the same
        side has no bracket); beyond the known range the range's slope
        extrapolates, when close enough (:data:`EXTRAPOLATION_MAX_FRACTION`) and
        the position stays on the line. The narrowest bracket wins.
        """
        data = self.interp.get(cid)
        if data is None:
            return None
        nums, parts, pos = data
        best: tuple[float, int, float, str, tuple[float, float]] | None = None
        for part in np.unique(parts):
            sel = parts == part
            pn, ps = nums[sel], pos[sel]
            same = pn % 2 == numero % 2
            for mask in (same, np.ones_like(same)):
                found = _bracket(pn[mask], ps[mask], numero)
                if found is None:
                    continue
                n1, n2, s1, s2, between = found
                s = s1 + (numero - n1) / (n2 - n1) * (s2 - s1)
                if not 0.0 <= s <= float(shapely.length(self.part_geoms[part])):
                    continue
                cost = abs(n2 - n1) + (0.0 if between else 1e9)
                if best is None or cost < best[0]:
                    text = (
                        f"interpolado entre os números {n1} e {n2}"
                        if between
                        else f"extrapolado a partir dos números {n1} e {n2}"
                    )
                    if between:
                        span = (min(s1, s2), max(s1, s2))
                    else:
                        nearest = s1 if abs(numero - n1) < abs(numero - n2) else s2
                        span = (min(nearest, s), max(nearest, s))
                    best = (cost, int(part), s, text, span)
                break
        return None if best is None else (best[1], best[2], best[3], best[4])

    def _candidate_label(self, cid: int) -> str:
        """Where a candidate stretch is: its bairros, else its coordinates."""
        names = sorted(str(self._b_name[b]) for b in self._c_bairros[cid])
        if names:
            return _plain_list(names)
        lon, lat = transformer(self.crs, "EPSG:4326").transform(self._mx[cid], self._my[cid])
        return f"perto de {lat:.5f}, {lon:.5f}"

    def _ambiguous(self, cands: list[int], street_text: str) -> Located:
        """Failure for a street found in several places: name them and what would decide.

        The full name decides between different streets; the bairro, when the
        candidates lie in known bairros; the CEP only when the gazetteer knows
        postcodes of the candidates (:attr:`cluster_ceps`); otherwise the coordinates
        of the place (or a reference point to find them). Never a silent pick.
        """
        sids = sorted({int(self._c_street[c]) for c in cands})
        in_bairros = any(self._c_bairros[c] for c in cands)
        cep = " ou o CEP" if any(self.cluster_ceps.get(c) for c in cands) else ""
        shown = cands[:_AMBIGUOUS_SHOWN]
        more = len(cands) - len(shown)
        if len(sids) > 1:
            labels = [
                f"'{self._display[self._c_street[c]]}' ({self._candidate_label(c)})" for c in shown
            ]
            if more:
                labels.append(f"mais {more} trecho(s)")
            ask = "o nome completo e o bairro" if in_bairros else "o nome completo"
            return Located(
                "falhou",
                detalhe=(
                    f"logradouro ambíguo: '{street_text}' corresponde a {_plain_list(labels)}; "
                    f"informe {ask}{cep}"
                ),
            )
        bairros = sorted({str(self._b_name[b]) for c in cands for b in self._c_bairros[c]})
        if bairros:
            where = f"nos bairros {_plain_list(bairros)}"
            ask = "informe o bairro"
        else:
            to_geo = transformer(self.crs, "EPSG:4326")
            labels = []
            for c in shown:
                lon, lat = to_geo.transform(self._mx[c], self._my[c])
                labels.append(f"({lat:.5f}, {lon:.5f})")
            if more:
                labels.append(f"mais {more}")
            where = f"em {len(cands)} trechos desconectados e distantes, perto de " + _plain_list(
                labels
            )
            ask = (
                "informe o CEP ou as coordenadas do local (latitude e longitude)"
                if cep
                else "informe as coordenadas do local (latitude e longitude) ou um ponto de "
                "referência"
            )
        return Located(
            "falhou",
            detalhe=f"logradouro ambíguo: '{self._display[sids[0]]}' existe {where}; {ask}",
        )

    def locate(
        self,
        parsed: ParsedAddress,
        street: StreetMatch,
        bairro: tuple[int, float],
        street_text: str,
        bairro_text: str = "",
    ) -> Located:
        """Locate one parsed address (see the module docstring for the order).

        ``street_text`` and ``bairro_text`` are the street and bairro as the request
        wrote them, for the messages.
        """
        b_id, b_score = bairro
        typed_bairro = bairro_text.strip() or parsed.bairro
        b_name = str(self._b_name[b_id]) if b_id >= 0 else None

        def at_bairro(reason: str) -> Located:
            if b_id < 0:
                if parsed.bairro:
                    reason += f"; bairro '{typed_bairro}' não encontrado"
                return Located("falhou", detalhe=reason)
            radius = float(self._b_raio[b_id])
            known = np.isfinite(radius)
            size = f" (raio de {radius:.0f} m)" if known else " (tamanho desconhecido)"
            return Located(
                "bairro",
                xy=(float(self._b_x[b_id]), float(self._b_y[b_id])),
                bairro=b_name,
                confianca=confidence(radius, b_score / 100),
                detalhe=f"{reason}; usada a posição do bairro '{b_name}'{size}",
                incerteza=radius,
                trecho=self._bairro_roads(b_id),
            )

        if not parsed.chave:
            return at_bairro("endereço sem logradouro")
        if not street.ids:
            reason = f"logradouro '{street_text}' não encontrado"
            if street.suggestion is not None:
                name, score = street.suggestion
                reason += f"; mais parecido: '{name}' ({score:.0f}%)"
            return at_bairro(reason)

        cands = [c for sid in street.ids for c in self._street_clusters.get(sid, [])]
        notes: list[str] = []
        mismatch = False
        unknown_bairro = b_id < 0 and bool(parsed.bairro)
        if unknown_bairro:
            notes.append(
                f"bairro '{typed_bairro}' não encontrado no território: posição não "
                "restringida ao bairro"
            )
        if b_id >= 0 and cands:
            inside = [c for c in cands if b_id in self._c_bairros[c]]
            if inside:
                cands = inside
            elif self._area_tree is not None:
                mismatch = True
                if len(cands) > 1:
                    here = shapely.Point(self._b_x[b_id], self._b_y[b_id])
                    dist = shapely.distance(self._c_geom[cands], here)
                    cands = [cands[int(np.argmin(dist))]]
                    notes.append(
                        f"nenhum trecho do logradouro no bairro '{b_name}'; escolhido o "
                        "trecho mais próximo do bairro"
                    )
                else:
                    notes.append(f"o logradouro não passa pelo bairro informado '{b_name}'")
        if len(cands) > 1 and parsed.cep:
            with_cep = [c for c in cands if parsed.cep in self.cluster_ceps.get(c, ())]
            if len(with_cep) == 1:
                cands = with_cep
                notes.append(f"trecho escolhido pelo CEP {parsed.cep}")
        if len(cands) > 1:
            return self._ambiguous(cands, street_text)
        if not cands:
            return at_bairro(f"logradouro '{street_text}' sem trecho utilizável")

        cid = cands[0]
        name = str(self._display[self._c_street[cid]])
        s = street.score / 100
        factor = BAIRRO_MISMATCH_FACTOR if mismatch else 1.0
        if street.how != "exato":
            notes.insert(0, f"'{street_text}' interpretado como '{name}' ({street.score:.0f}%)")

        def done(kind: str, conf: float, text: str, **kw: Any) -> Located:
            detail = "; ".join([text, *notes])
            return Located(kind, logradouro=name, confianca=conf * factor, detalhe=detail, **kw)

        if parsed.numero is not None:
            hit = self.exact.get((cid, parsed.numero))
            if hit is not None:
                fonte = "no CNEFE (IBGE)" if hit[2] == "cnefe" else "no OpenStreetMap (addr:*)"
                return done(
                    "numero_exato",
                    confidence(EXACT_UNCERTAINTY_M, s),
                    f"número {parsed.numero} encontrado {fonte}",
                    xy=(hit[0], hit[1]),
                    incerteza=EXACT_UNCERTAINTY_M,
                )
            found = self._interpolate(cid, parsed.numero) if self._c_line[cid] else None
            if found is not None:
                part, pos, text, (lo, hi) = found
                if text.startswith("extra"):
                    radius = hi - lo + MIN_INTERPOLATED_M
                else:
                    radius = max(pos - lo, hi - pos, MIN_INTERPOLATED_M)
                return done(
                    "interpolado",
                    confidence(radius, s),
                    f"número {parsed.numero} {text} (± {radius:.0f} m)",
                    along=(part, pos),
                    incerteza=radius,
                    trecho=substring(self.part_geoms[part], lo, hi) if hi > lo else None,
                )
            why = f"número {parsed.numero} sem referência de numeração no logradouro"
        elif parsed.sem_numero:
            why = "endereço sem número (s/n)"
        else:
            why = "número não informado"
        stretch, xy = self._stretch(cid, b_id, near=mismatch)
        length = float(shapely.length(stretch)) if stretch is not None else self._c_length[cid]
        radius = max(length / 2, MIN_INTERPOLATED_M)
        if mismatch:
            where = f" no trecho mais próximo do bairro '{b_name}'"
        elif b_id >= 0 and b_id in self._c_bairros[cid]:
            where = f" no bairro '{b_name}'"
        elif b_id >= 0:
            where = ""
            notes.append(
                f"o território não tem os limites dos bairros: posição não restringida ao "
                f"bairro '{b_name}'"
            )
        else:
            where = "" if unknown_bairro else " (bairro não informado)"
        return done(
            "logradouro",
            confidence(radius, s),
            f"{why}; ponto médio do logradouro{where}, num trecho de {length:.0f} m "
            f"(± {radius:.0f} m)",
            xy=xy,
            incerteza=radius,
            trecho=stretch,
        )


def _lines_mid(geometry: Any) -> tuple[Any, tuple[float, float]] | None:
    """Merge the line parts of a geometry; return them and their mid-point (None: no lines).

    Collections (an intersection with an area) are flattened to their lines; points
    where a street only touches the area are dropped.
    """
    parts = shapely.get_parts(shapely.get_parts(geometry))
    lines = [g for g in parts if g.geom_type == "LineString" and g.length > 0]
    if not lines:
        return None
    merged = shapely.line_merge(shapely.multilinestrings(lines))
    mid = shapely.line_interpolate_point(merged, 0.5, normalized=True)
    return merged, (float(shapely.get_x(mid)), float(shapely.get_y(mid)))


def _bracket(
    nums: np.ndarray, pos: np.ndarray, numero: int
) -> tuple[int, int, float, float, bool] | None:
    """Known numbers around ``numero`` (sorted ``nums``): (n1, n2, s1, s2, between) or None."""
    if len(nums) < 2:
        return None
    lo, hi = np.flatnonzero(nums < numero), np.flatnonzero(nums > numero)
    if len(lo) and len(hi):
        a, b, between = lo[-1], hi[0], True
    elif len(lo) >= 2:  # above the known range: slope over the whole range
        a, b, between = lo[0], lo[-1], False
    elif len(hi) >= 2:  # below it
        a, b, between = hi[0], hi[-1], False
    else:
        return None
    n1, n2, s1, s2 = int(nums[a]), int(nums[b]), float(pos[a]), float(pos[b])
    if n1 == n2 or s1 == s2:
        return None
    if not between and min(abs(numero - n1), abs(numero - n2)) > (
        EXTRAPOLATION_MAX_FRACTION * abs(n2 - n1)
    ):
        return None
    return n1, n2, s1, s2, between
