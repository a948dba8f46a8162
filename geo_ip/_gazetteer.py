"""The geocoding gazetteer: street, address and bairro index of one territory.

See :mod:`geo_ip.geocode` for the match order and the confidence scale.
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

from geo_ip._cnefe import read_cnefe
from geo_ip._gazetteer_build import (
    build_bairros,
    build_streets,
    cnefe_address_points,
    most_common,
    osm_address_points,
    transformer,
)
from geo_ip.address import (
    NUMBER_WORDS,
    ParsedAddress,
    normalize_street,
    number_tokens,
    street_core,
)
from geo_ip.territory import read_layer

log = logging.getLogger("geo_ip")

FUZZY_CUTOFF = 85.0
"""Minimum similarity (0–100) for a fuzzy street or bairro match: ``rapidfuzz``'s
normalised OSA similarity (edit distance where swapping two letters counts as one
edit) × 100; 85 accepts one edit in 7 letters, two in 14."""
FUZZY_CORE_MIN = 75.0
"""A fuzzy street match also needs this similarity between the names without the type
(or their cores), so that a shared type does not carry a short name ("Av. João" is not
"Avenida Jordão")."""
TIE_MARGIN = 1.0
"""Fuzzy candidates within this many points of the best are reported as ambiguous."""
ADDRESS_MAX_DIST_M = 150.0
"""Address points farther than this from every piece of their street are not used."""
EXTRAPOLATION_MAX_FRACTION = 0.25
"""A number outside the known range of its street (same parity when possible) is
extrapolated, with the slope of that whole range, only when its distance (in numbers)
to the nearest known one is at most this fraction of the range, and the position stays
on the street; otherwise the street's mid-point is used."""
CONFIDENCE = {
    "coordenada_informada": 1.0,
    "numero_exato": 0.95,
    "interpolado": 0.85,
    "extrapolado": 0.75,
    "logradouro": 0.60,
    "bairro": 0.30,
    "falhou": 0.0,
}
"""Confidence factors (multiplied by the match score, see the module docstring)."""
BAIRRO_MISMATCH_FACTOR = 0.9
_FUZZY_CHUNK = 512
_FUZZY_TOP = 8
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


@dataclass
class StreetMatch:
    """Result of matching one normalised street key against the gazetteer."""

    ids: tuple[int, ...] = ()
    score: float = 0.0
    how: str = ""
    suggestion: tuple[str, float] | None = None


@dataclass
class Located:
    kind: str
    xy: tuple[float, float] | None = None
    along: tuple[int, float] | None = None  # (part index, position along it)
    logradouro: str | None = None
    bairro: str | None = None
    confianca: float = 0.0
    detalhe: str = ""


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
    _clip_cache: dict[tuple[int, int], tuple[float, float] | None] = field(
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
            first = len(self.clusters)
            new = gpd.GeoDataFrame(
                {
                    "rua": grouped.index.to_numpy(),
                    "comprimento": 0.0,
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
        """Match normalised street keys: exact key, then core, then fuzzy (vectorised).

        Parameters
        ----------
        queries : list of (chave, tipo, nome)
            Normalised keys as produced by :func:`geo_ip.address.parse_address`.

        Returns
        -------
        list of StreetMatch
            One per query: the street ids (several when ambiguous), score 0–100,
            how it matched, and the closest name when nothing matched.
        """
        results = [StreetMatch() for _ in queries]
        fuzzy: list[int] = []
        tipos = self.streets["tipo"].to_numpy()
        for i, (chave, tipo, nome) in enumerate(queries):
            if not chave:
                continue
            sid = self._key_index.get(chave)
            if sid is not None:
                results[i] = StreetMatch((sid,), 100.0, "exato")
                continue
            ids = self._core_index.get(street_core(nome), [])
            if ids:
                same = [s for s in ids if tipos[s] == tipo]
                if tipo is None or same:
                    results[i] = StreetMatch(tuple(same or ids), 95.0, "nucleo")
                else:
                    results[i] = StreetMatch(tuple(ids), 90.0, "nucleo_tipo_diferente")
                continue
            fuzzy.append(i)
        if fuzzy and len(self.streets):
            self._fuzzy(queries, fuzzy, results)
        return results

    def _fuzzy(
        self,
        queries: list[tuple[str, str | None, str]],
        rows: list[int],
        results: list[StreetMatch],
    ) -> None:
        """Fuzzy street match of ``rows`` (one ``cdist`` per chunk of queries).

        The score is the best of the OSA similarity (edit distance counting a
        transposition as one edit) between keys, names and cores, × 100. A
        candidate whose name (without the type) and core (without titles and
        prepositions) are both less similar than :data:`FUZZY_CORE_MIN` is
        refused (``AVENIDA JOAO`` is not ``AVENIDA JORDAO``, though the shared
        type makes the keys similar); a candidate whose name has other numbers
        than the query's is refused
        (``RUA DEZ`` is not ``RUA DOZE``); when both carry the same numbers the
        rest of the name decides (``RUA INVENTADA 483`` is not ``BECO 483A``).
        """
        variants = [self.streets[c].tolist() for c in ("chave", "nome", "nucleo")]
        v_nums = [number_tokens(n) for n in variants[1]]
        names = self.streets["nome_exibicao"].tolist()
        for start in range(0, len(rows), _FUZZY_CHUNK):
            chunk = rows[start : start + _FUZZY_CHUNK]
            q_name = [queries[i][2] for i in chunk]
            q_variants = [[queries[i][0] for i in chunk], q_name, [street_core(n) for n in q_name]]
            score = np.zeros((len(chunk), len(names)), dtype=np.float32)
            for q, v in zip(q_variants, variants, strict=True):
                np.maximum(score, process.cdist(q, v, scorer=_SIMILARITY, workers=-1), out=score)
            score *= 100
            top = np.argsort(-score, axis=1)[:, :_FUZZY_TOP]
            for r, i in enumerate(chunk):
                q_nums = number_tokens(q_name[r])
                # gate: names (or cores) alike, not only keys; with no type in the
                # query its key is its name, so key against key is fair too
                gates = [(q_variants[1], variants[1]), (q_variants[2], variants[2])]
                if queries[i][1] is None:
                    gates.append((q_variants[0], variants[0]))
                accepted: list[tuple[float, int]] = []
                shown: tuple[float, int] | None = None
                for j in top[r]:
                    s = float(score[r, j])
                    if q_nums and v_nums[j]:
                        if q_nums != v_nums[j]:
                            continue
                        s = 100 * max(
                            _SIMILARITY(_without_numbers(q[r]), _without_numbers(v[j]))
                            for q, v in zip(q_variants, variants, strict=True)
                        )
                    gate = 100 * max(_SIMILARITY(q[r], v[j]) for q, v in gates)
                    if shown is None or min(s, gate) > shown[0]:
                        shown = (min(s, gate), int(j))
                    if gate >= FUZZY_CORE_MIN and s >= FUZZY_CUTOFF:
                        accepted.append((s, int(j)))
                accepted.sort(key=lambda c: -c[0])
                if accepted:
                    best = accepted[0][0]
                    ids = tuple(j for s, j in accepted if s >= best - TIE_MARGIN)
                    results[i] = StreetMatch(ids, round(best, 1), "aproximado")
                else:
                    j0 = int(top[r][0])
                    s0, j0 = shown if shown is not None else (float(score[r, j0]), j0)
                    results[i] = StreetMatch(suggestion=(names[j0], s0))

    def prefer_known_name(self, parsed: ParsedAddress, endereco: str) -> ParsedAddress:
        """Read a bare trailing number as part of the name when that name exists.

        ``"Av. João 23"`` is parsed as number 23 of ``AVENIDA JOAO``; when that key
        is unknown but ``AVENIDA JOAO VINTE E TRES`` (Avenida João XXIII) is a
        street of the territory, the number is the street's.
        """
        if parsed.numero is None or parsed.chave in self._key_index:
            return parsed
        tipo, nome = normalize_street(endereco)
        chave = f"{tipo} {nome}" if tipo else nome
        if chave == parsed.chave or chave not in self._key_index:
            return parsed
        return replace(parsed, tipo=tipo, nome=nome, chave=chave, numero=None)

    def match_bairros(self, keys: list[str | None]) -> list[tuple[int, float]]:
        """Match normalised bairro names: exact, then fuzzy (vectorised).

        Parameters
        ----------
        keys : list of str or None
            Normalised bairro names (:func:`geo_ip.address.normalize_bairro`).

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

    def _street_point(self, cid: int, bairro: int) -> tuple[float, float]:
        """Mid-point of a cluster, of its stretch inside ``bairro`` when it crosses several."""
        default = (float(self._mx[cid]), float(self._my[cid]))
        inside = self._c_bairros[cid]
        if bairro < 0 or not self._c_line[cid] or len(inside) < 2 or bairro not in inside:
            return default
        key = (cid, bairro)
        if key not in self._clip_cache:
            point = None
            area = self._b_area[bairro]
            if area is not None:
                piece = shapely.intersection(self._c_geom[cid], area)
                lines = [g for g in shapely.get_parts(piece) if g.geom_type == "LineString"]
                if lines:
                    merged = shapely.line_merge(shapely.multilinestrings(lines))
                    mid = shapely.line_interpolate_point(merged, 0.5, normalized=True)
                    point = (float(shapely.get_x(mid)), float(shapely.get_y(mid)))
            self._clip_cache[key] = point
        return self._clip_cache[key] or default

    def _interpolate(self, cid: int, numero: int) -> tuple[int, float, str] | None:
        """Position of ``numero`` along cluster ``cid``: (part, s, description) or None.

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
        best: tuple[float, int, float, str] | None = None
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
                    best = (cost, int(part), s, text)
                break
        return None if best is None else (best[1], best[2], best[3])

    def _candidate_label(self, cid: int) -> str:
        names = sorted(str(self._b_name[b]) for b in self._c_bairros[cid])
        if names:
            return _plain_list(names)
        lon, lat = transformer(self.crs, "EPSG:4326").transform(self._mx[cid], self._my[cid])
        return f"(perto de {lat:.5f}, {lon:.5f})"

    def _ambiguous(self, cands: list[int], street_text: str) -> Located:
        sids = sorted({int(self._c_street[c]) for c in cands})
        if len(sids) > 1:
            labels = [
                f"'{self._display[self._c_street[c]]}' ({self._candidate_label(c)})" for c in cands
            ]
            return Located(
                "falhou",
                detalhe=(
                    f"logradouro ambíguo: '{street_text}' corresponde a {_plain_list(labels)}; "
                    "informe o nome completo e o bairro"
                ),
            )
        bairros = sorted({str(self._b_name[b]) for c in cands for b in self._c_bairros[c]})
        if bairros:
            where = f"nos bairros {_plain_list(bairros)}"
            ask = "informe o bairro"
        else:
            labels = [self._candidate_label(c) for c in cands]
            where = f"em {len(cands)} trechos desconectados e distantes, {_plain_list(labels)}"
            ask = "informe o CEP"
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
    ) -> Located:
        """Locate one parsed address (see the module docstring for the order)."""
        b_id, b_score = bairro
        b_name = str(self._b_name[b_id]) if b_id >= 0 else None

        def at_bairro(reason: str) -> Located:
            if b_id < 0:
                if parsed.bairro:
                    reason += f"; bairro '{parsed.bairro}' não encontrado"
                return Located("falhou", detalhe=reason)
            return Located(
                "bairro",
                xy=(float(self._b_x[b_id]), float(self._b_y[b_id])),
                bairro=b_name,
                confianca=CONFIDENCE["bairro"] * b_score / 100,
                detalhe=f"{reason}; usada a posição do bairro '{b_name}'",
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
                    CONFIDENCE["numero_exato"] * s,
                    f"número {parsed.numero} encontrado {fonte}",
                    xy=(hit[0], hit[1]),
                )
            found = self._interpolate(cid, parsed.numero) if self._c_line[cid] else None
            if found is not None:
                part, pos, text = found
                scale = CONFIDENCE["extrapolado" if text.startswith("extra") else "interpolado"]
                return done(
                    "interpolado", scale * s, f"número {parsed.numero} {text}", along=(part, pos)
                )
            why = f"número {parsed.numero} sem referência de numeração no logradouro"
        elif parsed.sem_numero:
            why = "endereço sem número (s/n)"
        else:
            why = "número não informado"
        where = f" no bairro '{b_name}'" if b_id >= 0 and not mismatch else ""
        return done(
            "logradouro",
            CONFIDENCE["logradouro"] * s,
            f"{why}; ponto médio do logradouro{where}",
            xy=self._street_point(cid, b_id),
        )


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
