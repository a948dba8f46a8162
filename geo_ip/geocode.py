"""Offline geocoding of requests against a territory (and an optional IBGE CNEFE file).

A :class:`Gazetteer` is built once per territory: street names of the ``vias``
layer are normalised (:mod:`geo_ip.address`), edges sharing a normalised name
are grouped into *clusters* (one physical street each), address points (OSM
``addr:*`` in ``edificacoes`` and, when given, IBGE CNEFE) are attached to the
nearest cluster of their street and indexed by ``(cluster, number)`` and, for
interpolation, by position along the street. Bairros come from the ``bairros``
(points) and ``bairros_area`` (polygons) layers; without polygons each bairro
point gets its Voronoi cell ("nearest bairro point"); without either layer the
``bairro`` field of ``edificacoes`` gives the bairro points.

:func:`geocode` then locates every request, in this order:

1. ``coordenada_informada``: the request has latitude/longitude;
2. ``numero_exato``: an address point with the same street and number (CNEFE
   first, being official, then OSM);
3. ``interpolado``: linear interpolation between the nearest known lower and
   higher numbers of the same street (same parity side when possible), or a
   short extrapolation beyond the known range (:data:`EXTRAPOLATION_MAX_FRACTION`);
4. ``logradouro``: the mid-point (along its length) of the street, restricted to
   the bairro given when the street crosses several;
5. ``bairro``: the bairro's point;
6. ``falhou``: nothing found, or the street is ambiguous (same name in two or
   more places) and neither the bairro nor the CEP tells which — never picked
   silently.

Street names are matched exactly on the normalised key (type + name), then on
the name's core (without type, titles and prepositions: "Flores" finds "Rua
das Flores" when unique), then fuzzily with ``rapidfuzz`` in vectorised
``cdist`` calls over the unique keys (:data:`FUZZY_CUTOFF`).

Confidence (``confianca``, 0–1), with ``s`` the street match score / 100 (1.0
for an exact key, 0.95 for a core match, 0.90 for a core match with another
street type, the fuzzy OSA similarity otherwise) and ``b`` the bairro match score / 100:

=======================  ==========================
coordenada_informada     1.0
numero_exato             0.95 · s
interpolado              0.85 · s (0.75 · s when extrapolated)
logradouro               0.60 · s
bairro                   0.30 · b
falhou                   0.0
=======================  ==========================

Each is multiplied by 0.9 when the bairro given does not contain the street found.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from rapidfuzz import process
from rapidfuzz.distance import OSA
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo_ip.address import (
    NUMBER_WORDS,
    ParsedAddress,
    normalize_bairro,
    normalize_cep,
    normalize_number,
    normalize_street,
    number_tokens,
    parse_address,
    street_core,
)
from geo_ip.errors import InputFileError, TerritoryError
from geo_ip.osm import JOIN
from geo_ip.territory import read_layer

__all__ = [
    "ADDRESS_MAX_DIST_M",
    "CLUSTER_GAP_M",
    "CNEFE_ESPECIES",
    "CNEFE_MAX_NV_GEO",
    "CONFIDENCE",
    "EXTRAPOLATION_MAX_FRACTION",
    "FUZZY_CORE_MIN",
    "FUZZY_CUTOFF",
    "GEOCODE_COLUMNS",
    "SAME_STREET_GAP_M",
    "Gazetteer",
    "geocode",
    "read_cnefe",
]

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
SAME_STREET_GAP_M = 100.0
"""Disconnected pieces of a street name closer than this are always the same street."""
CLUSTER_GAP_M = 1000.0
"""Pieces closer than this are the same street when they share a bairro (or no bairro
data exists); farther pieces, or pieces in different bairros, are different streets."""
ADDRESS_MAX_DIST_M = 150.0
"""Address points farther than this from every piece of their street are not used."""
EXTRAPOLATION_MAX_FRACTION = 0.25
"""A number outside the known range of its street (same parity when possible) is
extrapolated, with the slope of that whole range, only when its distance (in numbers)
to the nearest known one is at most this fraction of the range, and the position stays
on the street; otherwise the street's mid-point is used."""
CNEFE_MAX_NV_GEO = 3
"""CNEFE coordinates used: ``NV_GEO_COORD`` 1–3 (address level); 4–6 (block face,
locality, tract) are too coarse for an address."""
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
GEOCODE_COLUMNS = (
    "x", "y", "latitude", "longitude", "geocodificacao", "logradouro_encontrado",
    "bairro_encontrado", "confianca", "geocodificacao_detalhe",
)  # fmt: skip
"""Columns added (or overwritten) by :func:`geocode`."""

CNEFE_ESPECIES = {
    1: "domicílio particular",
    2: "domicílio coletivo",
    3: "estabelecimento agropecuário",
    4: "estabelecimento de ensino",
    5: "estabelecimento de saúde",
    6: "estabelecimento de outras finalidades",
    7: "edificação em construção ou reforma",
    8: "estabelecimento religioso",
}
"""``COD_ESPECIE`` of the IBGE CNEFE 2022 dictionary (1 = private household)."""

_CNEFE_COLUMNS = {
    "COD_UNICO_ENDERECO": "cod_unico_endereco",
    "COD_MUNICIPIO": "cod_municipio",
    "COD_SETOR": "cod_setor",
    "CEP": "cep",
    "DSC_LOCALIDADE": "localidade",
    "NOM_TIPO_SEGLOGR": "tipo_logradouro",
    "NOM_TITULO_SEGLOGR": "titulo_logradouro",
    "NOM_SEGLOGR": "nome_logradouro",
    "NUM_ENDERECO": "num_endereco",
    "DSC_MODIFICADOR": "modificador",
    "LATITUDE": "latitude",
    "LONGITUDE": "longitude",
    "NV_GEO_COORD": "nv_geo_coord",
    "COD_ESPECIE": "especie",
}
_CNEFE_REQUIRED = ("LATITUDE", "LONGITUDE", "NOM_SEGLOGR", "NUM_ENDERECO")
_NAME_SPLIT = re.compile(r"\s*" + re.escape(JOIN.strip()) + r"\s*|;")
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


# ------------------------------------------------------------------------- CNEFE


def _read_csv_text(path: Path, **kwargs: Any) -> pd.DataFrame:
    try:
        return pd.read_csv(path, encoding="utf-8", **kwargs)
    except UnicodeDecodeError:
        return pd.read_csv(path, encoding="latin-1", **kwargs)


def read_cnefe(path: str | Path, *, municipio_ibge: int | None = None) -> gpd.GeoDataFrame:
    """Read an IBGE CNEFE 2022 address file (one municipality, ``;``-separated CSV).

    Parameters
    ----------
    path : str or Path
        ``.csv`` (UTF-8 or Latin-1) or a ``.zip`` holding one CSV, with IBGE's
        column names (``LATITUDE``, ``LONGITUDE``, ``NOM_TIPO_SEGLOGR``,
        ``NOM_TITULO_SEGLOGR``, ``NOM_SEGLOGR``, ``NUM_ENDERECO``, ``CEP``,
        ``DSC_LOCALIDADE``, ``NV_GEO_COORD``, ``COD_ESPECIE``, ``COD_SETOR`` ...).
    municipio_ibge : int, optional
        Keep only this municipality (``COD_MUNICIPIO``, 7 digits).

    Returns
    -------
    GeoDataFrame
        EPSG:4674 (SIRGAS 2000) points with ``cod_unico_endereco``,
        ``cod_municipio``, ``cod_setor``, ``cep`` (8 digits or None),
        ``localidade``, ``tipo_logradouro``, ``titulo_logradouro``,
        ``nome_logradouro``, ``logradouro`` (type + title + name), ``numero``
        (``Int64``; missing for "sem número"), ``modificador``,
        ``nv_geo_coord`` (``Int64``), ``especie`` (``Int64``, ``COD_ESPECIE``)
        and ``especie_descricao`` (Portuguese label, see :data:`CNEFE_ESPECIES`).
        Rows without valid coordinates are dropped (logged).

    Raises
    ------
    InputFileError
        If the file is missing, unreadable or lacks the required columns.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError("arquivo do CNEFE não encontrado", path=path)
    try:
        df = _read_csv_text(
            path,
            sep=";",
            dtype=str,
            keep_default_na=False,
            usecols=lambda c: str(c).strip().upper() in _CNEFE_COLUMNS,
        )
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise InputFileError(f"não foi possível ler o CNEFE: {exc}", path=path) from exc
    df.columns = [str(c).strip().upper() for c in df.columns]
    missing = [c for c in _CNEFE_REQUIRED if c not in df.columns]
    if missing:
        raise InputFileError(
            "não parece um arquivo do CNEFE 2022 do IBGE (separado por ';'): faltam as "
            f"colunas {', '.join(missing)}",
            path=path,
        )
    for col in _CNEFE_COLUMNS:
        if col not in df.columns:
            df[col] = ""
    df = df.rename(columns=_CNEFE_COLUMNS)
    df = df.apply(lambda s: s.str.strip())
    if municipio_ibge is not None:
        if (df["cod_municipio"] == "").all():
            raise InputFileError(
                "o CNEFE não tem a coluna COD_MUNICIPIO para filtrar o município", path=path
            )
        codes = pd.to_numeric(df["cod_municipio"], errors="coerce")
        df = df[codes == int(municipio_ibge)]
    lat = pd.to_numeric(df["latitude"].str.replace(",", ".", regex=False), errors="coerce")
    lon = pd.to_numeric(df["longitude"].str.replace(",", ".", regex=False), errors="coerce")
    valid = lat.between(-90, 90) & lon.between(-180, 180) & (lat != 0) & (lon != 0)
    if (~valid).any():
        log.warning(
            "CNEFE: %d endereço(s) sem coordenadas válidas ignorado(s)", int((~valid).sum())
        )
    df, lat, lon = df[valid], lat[valid], lon[valid]

    numero = pd.to_numeric(df["num_endereco"], errors="coerce").astype("Int64")
    sem_numero = df["modificador"].str.upper().str.replace(r"[^A-Z]", "", regex=True) == "SN"
    numero = numero.where((numero > 0) & ~sem_numero)
    joined = df["tipo_logradouro"] + " " + df["titulo_logradouro"] + " " + df["nome_logradouro"]
    logradouro = joined.str.replace(r"\s+", " ", regex=True).str.strip()
    especie = pd.to_numeric(df["especie"], errors="coerce").astype("Int64")
    ceps = {c: normalize_cep(c) for c in df["cep"].unique()}
    out = pd.DataFrame(
        {
            "cod_unico_endereco": df["cod_unico_endereco"],
            "cod_municipio": df["cod_municipio"],
            "cod_setor": df["cod_setor"],
            "cep": df["cep"].map(ceps),
            "localidade": df["localidade"].replace("", None),
            "tipo_logradouro": df["tipo_logradouro"],
            "titulo_logradouro": df["titulo_logradouro"],
            "nome_logradouro": df["nome_logradouro"],
            "logradouro": logradouro,
            "numero": numero,
            "modificador": df["modificador"].replace("", None),
            "nv_geo_coord": pd.to_numeric(df["nv_geo_coord"], errors="coerce").astype("Int64"),
            "especie": especie,
            "especie_descricao": especie.map(CNEFE_ESPECIES).astype("object"),
        }
    ).reset_index(drop=True)
    geometry = gpd.points_from_xy(lon.to_numpy(), lat.to_numpy(), crs="EPSG:4674")
    return gpd.GeoDataFrame(out, geometry=geometry, crs="EPSG:4674")


# -------------------------------------------------------------------- gazetteer


@dataclass
class _StreetMatch:
    """Result of matching one normalised street key against the gazetteer."""

    ids: tuple[int, ...] = ()
    score: float = 0.0
    how: str = ""
    suggestion: tuple[str, float] | None = None


@dataclass
class _Located:
    kind: str
    xy: tuple[float, float] | None = None
    along: tuple[int, float] | None = None  # (part index, position along it)
    logradouro: str | None = None
    bairro: str | None = None
    confianca: float = 0.0
    detalhe: str = ""


def _safe_layer(path: Path, layer: str) -> gpd.GeoDataFrame | None:
    try:
        gdf = read_layer(path, layer)
    except TerritoryError:
        return None
    return gdf if len(gdf) else None


def _mode(values: pd.Series) -> str:
    counts = values.value_counts()
    return str(counts.index[0]) if len(counts) else ""


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
    def from_territory(cls, path: str | Path, *, cnefe: str | Path | None = None) -> Gazetteer:
        """Index a territory GeoPackage (and optionally a CNEFE file) for geocoding.

        Parameters
        ----------
        path : str or Path
            Territory GeoPackage (layers ``vias``, ``edificacoes`` and, when
            present, ``bairros`` and ``bairros_area``).
        cnefe : str or Path, optional
            IBGE CNEFE 2022 CSV of the municipality (see :func:`read_cnefe`).

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
        vias = read_layer(path, "vias")
        crs = vias.crs.to_string()
        fontes = ["OpenStreetMap (vias, addr:*)"]
        bairros = _build_bairros(path, crs)
        streets, clusters, part_geoms, part_cluster = _build_streets(vias, bairros)

        points = [_osm_address_points(path)]
        if cnefe is not None:
            points.append(_cnefe_address_points(read_cnefe(cnefe), crs))
            fontes.insert(0, f"CNEFE 2022 do IBGE ({Path(cnefe).name})")
        points = [p for p in points if len(p)]
        addresses = pd.concat(points, ignore_index=True) if points else pd.DataFrame()
        gaz = cls(
            crs=crs,
            streets=streets,
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
            shown = pts[pts["chave"].isin(orphans)].groupby("chave")["logradouro"].agg(_mode)
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

    def match_streets(self, queries: list[tuple[str, str | None, str]]) -> list[_StreetMatch]:
        """Match normalised street keys: exact key, then core, then fuzzy (vectorised).

        Parameters
        ----------
        queries : list of (chave, tipo, nome)
            Normalised keys as produced by :func:`geo_ip.address.parse_address`.

        Returns
        -------
        list of _StreetMatch
            One per query: the street ids (several when ambiguous), score 0–100,
            how it matched, and the closest name when nothing matched.
        """
        results = [_StreetMatch() for _ in queries]
        fuzzy: list[int] = []
        tipos = self.streets["tipo"].to_numpy()
        for i, (chave, tipo, nome) in enumerate(queries):
            if not chave:
                continue
            sid = self._key_index.get(chave)
            if sid is not None:
                results[i] = _StreetMatch((sid,), 100.0, "exato")
                continue
            ids = self._core_index.get(street_core(nome), [])
            if ids:
                same = [s for s in ids if tipos[s] == tipo]
                if tipo is None or same:
                    results[i] = _StreetMatch(tuple(same or ids), 95.0, "nucleo")
                else:
                    results[i] = _StreetMatch(tuple(ids), 90.0, "nucleo_tipo_diferente")
                continue
            fuzzy.append(i)
        if fuzzy and len(self.streets):
            self._fuzzy(queries, fuzzy, results)
        return results

    def _fuzzy(
        self,
        queries: list[tuple[str, str | None, str]],
        rows: list[int],
        results: list[_StreetMatch],
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
                    results[i] = _StreetMatch(ids, round(best, 1), "aproximado")
                else:
                    j0 = int(top[r][0])
                    s0, j0 = shown if shown is not None else (float(score[r, j0]), j0)
                    results[i] = _StreetMatch(suggestion=(names[j0], s0))

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
        lon, lat = _transformer(self.crs, "EPSG:4326").transform(self._mx[cid], self._my[cid])
        return f"(perto de {lat:.5f}, {lon:.5f})"

    def _ambiguous(self, cands: list[int], street_text: str) -> _Located:
        sids = sorted({int(self._c_street[c]) for c in cands})
        if len(sids) > 1:
            labels = [
                f"'{self._display[self._c_street[c]]}' ({self._candidate_label(c)})" for c in cands
            ]
            return _Located(
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
        return _Located(
            "falhou",
            detalhe=f"logradouro ambíguo: '{self._display[sids[0]]}' existe {where}; {ask}",
        )

    def locate(
        self,
        parsed: ParsedAddress,
        street: _StreetMatch,
        bairro: tuple[int, float],
        street_text: str,
    ) -> _Located:
        """Locate one parsed address (see the module docstring for the order)."""
        b_id, b_score = bairro
        b_name = str(self._b_name[b_id]) if b_id >= 0 else None

        def at_bairro(reason: str) -> _Located:
            if b_id < 0:
                if parsed.bairro:
                    reason += f"; bairro '{parsed.bairro}' não encontrado"
                return _Located("falhou", detalhe=reason)
            return _Located(
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

        def done(kind: str, conf: float, text: str, **kw: Any) -> _Located:
            detail = "; ".join([text, *notes])
            return _Located(kind, logradouro=name, confianca=conf * factor, detalhe=detail, **kw)

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


_TRANSFORMERS: dict[tuple[str, str], Transformer] = {}


def _transformer(src: str, dst: str) -> Transformer:
    key = (src, dst)
    if key not in _TRANSFORMERS:
        _TRANSFORMERS[key] = Transformer.from_crs(src, dst, always_xy=True)
    return _TRANSFORMERS[key]


# ------------------------------------------------------------------ build steps


def _build_bairros(path: Path, crs: str) -> gpd.GeoDataFrame:
    """Bairro table: ``nome``, ``chave``, point geometry, ``area`` and ``fonte``.

    Sources, in order: ``bairros_area`` polygons (points from ``bairros`` when
    inside, else a representative point); ``bairros`` points, each with its
    Voronoi cell as area (nearest bairro point); the ``bairro`` field of
    ``edificacoes`` (median of its address points, no area: streets then get
    their bairros from their own address points).
    """
    points = _safe_layer(path, "bairros")
    areas = _safe_layer(path, "bairros_area")
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()

    def add(nome: Any, geom: Any, area: Any, fonte: str) -> None:
        key = normalize_bairro(nome)
        if key and key not in seen and geom is not None and not geom.is_empty:
            seen.add(key)
            rows.append(
                {"nome": str(nome).strip(), "chave": key, "geometry": geom, "area": area}
                | {"fonte": fonte}
            )

    if areas is not None:
        inside: dict[str | None, Any] = {}
        if points is not None:
            for nome, geom in zip(points["nome"], points.geometry, strict=True):
                inside.setdefault(normalize_bairro(nome), geom)
        for nome, area in zip(areas["nome"], areas.geometry, strict=True):
            if area is None or area.is_empty:
                continue
            point = inside.get(normalize_bairro(nome))
            if point is None or not area.contains(point):
                point = area.representative_point()
            add(nome, point, area, "bairros_area")
    elif points is not None:
        for nome, geom in zip(points["nome"], points.geometry, strict=True):
            add(nome, geom, None, "bairros")
        if len(rows) >= 2:
            multi = shapely.multipoints([r["geometry"] for r in rows])
            extent = shapely.buffer(shapely.envelope(multi), 50_000)
            cells = shapely.get_parts(
                shapely.voronoi_polygons(multi, extend_to=extent, ordered=True)
            )
            for r, cell in zip(rows, cells, strict=True):
                r["area"] = cell
    else:
        edif = _safe_layer(path, "edificacoes")
        if edif is not None and "bairro" in edif.columns:
            edif = edif[edif["bairro"].notna() & edif.geometry.notna()]
            edif = edif.assign(
                chave=edif["bairro"].map(normalize_bairro), x=edif.geometry.x, y=edif.geometry.y
            )
            for _key, g in edif[edif["chave"].notna()].groupby("chave"):
                add(
                    _mode(g["bairro"]),
                    shapely.Point(g["x"].median(), g["y"].median()),
                    None,
                    "edificacoes",
                )
    return gpd.GeoDataFrame(
        {
            "nome": [r["nome"] for r in rows],
            "chave": [r["chave"] for r in rows],
            "area": np.array([r["area"] for r in rows], dtype=object),
            "fonte": [r["fonte"] for r in rows],
        },
        geometry=[r["geometry"] for r in rows],
        crs=crs,
    )


def _build_streets(
    vias: gpd.GeoDataFrame, bairros: gpd.GeoDataFrame
) -> tuple[pd.DataFrame, gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """Normalise edge names and group edges into streets and clusters."""
    named = vias[vias["name"].notna()][["u", "v", "name", "geometry"]]
    names = named["name"].astype(str).str.split(_NAME_SPLIT)
    edges = named.assign(raw=names).explode("raw")
    edges["raw"] = edges["raw"].str.strip()
    edges = edges[edges["raw"] != ""]
    unique = pd.Series(edges["raw"].unique())
    parts = {n: normalize_street(n) for n in unique}
    edges["tipo"] = edges["raw"].map(lambda n: parts[n][0])
    edges["nome"] = edges["raw"].map(lambda n: parts[n][1])
    edges = edges[edges["nome"] != ""]
    edges["chave"] = [
        f"{t} {n}" if isinstance(t, str) else n
        for t, n in zip(edges["tipo"], edges["nome"], strict=True)
    ]
    # both directions of a two-way street are two edges: keep one
    lo = np.minimum(edges["u"].to_numpy(), edges["v"].to_numpy())
    hi = np.maximum(edges["u"].to_numpy(), edges["v"].to_numpy())
    length = np.round(shapely.length(edges.geometry.to_numpy()), 1)
    edges = edges.assign(_lo=lo, _hi=hi, _len=length)
    edges = edges.drop_duplicates(["chave", "_lo", "_hi", "_len"]).reset_index(drop=True)
    edges["rua"], chaves = pd.factorize(edges["chave"])
    first = edges.drop_duplicates("rua").set_index("rua").sort_index()
    streets = pd.DataFrame(
        {
            "chave": list(chaves),
            "tipo": first["tipo"].to_numpy(),
            "nome": first["nome"].to_numpy(),
            "nucleo": [street_core(n) for n in first["nome"]],
            "nome_exibicao": edges.groupby("rua")["raw"].agg(_mode).sort_index().to_numpy(),
        }
    )
    streets["tipo"] = streets["tipo"].where(streets["tipo"].notna(), None)
    if not len(edges):
        empty = gpd.GeoDataFrame(
            {"rua": [], "comprimento": [], "mx": [], "my": [], "linha": [], "bairros": []},
            geometry=[],
            crs=vias.crs,
        )
        return streets, empty, np.array([], dtype=object), np.array([], dtype=np.int64)

    # 1. connected pieces of each street (edges sharing a node)
    n = len(edges)
    nodes = pd.MultiIndex.from_arrays(
        [np.r_[edges["rua"], edges["rua"]], np.r_[edges["u"], edges["v"]]]
    )
    codes, uniq = pd.factorize(nodes)
    graph = coo_matrix((np.ones(n), (codes[:n], codes[n:])), shape=(len(uniq), len(uniq)))
    _, node_label = connected_components(graph, directed=False)
    edges["peca"] = node_label[codes[:n]]
    edges["peca"] = pd.factorize(edges["peca"])[0]
    order = np.argsort(edges["peca"].to_numpy(), kind="stable")
    piece_geom = np.asarray(
        shapely.line_merge(
            shapely.multilinestrings(
                edges.geometry.to_numpy()[order], indices=edges["peca"].to_numpy()[order]
            )
        )
    )
    piece_street = edges.groupby("peca")["rua"].first().sort_index().to_numpy()
    n_pieces = len(piece_geom)

    # bairros of each piece
    area_list = bairros["area"].to_numpy() if len(bairros) else np.array([], dtype=object)
    has_areas = len(area_list) and not shapely.is_missing(area_list).all()
    piece_bairros: list[set[int]] = [set() for _ in range(n_pieces)]
    if has_areas:
        tree = shapely.STRtree(area_list)
        hit = tree.query(piece_geom, predicate="intersects")
        for p, b in zip(hit[0], hit[1], strict=True):
            piece_bairros[p].add(int(b))
    elif len(bairros) == 1:
        piece_bairros = [{0} for _ in range(n_pieces)]

    # 2. merge pieces of one street into clusters (same physical street)
    tree = shapely.STRtree(piece_geom)
    a, b = tree.query(piece_geom, predicate="dwithin", distance=CLUSTER_GAP_M)
    keep = (a < b) & (piece_street[a] == piece_street[b])
    a, b = a[keep], b[keep]
    dist = shapely.distance(piece_geom[a], piece_geom[b])
    share = np.array(
        [
            not piece_bairros[i]
            or not piece_bairros[j]
            or bool(piece_bairros[i] & piece_bairros[j])
            for i, j in zip(a, b, strict=True)
        ],
        dtype=bool,
    )
    merge = (dist <= SAME_STREET_GAP_M) | share
    link = coo_matrix((np.ones(int(merge.sum())), (a[merge], b[merge])), shape=(n_pieces, n_pieces))
    _, piece_cluster = connected_components(link, directed=False)
    piece_cluster = pd.factorize(piece_cluster)[0]
    order = np.argsort(piece_cluster, kind="stable")
    cluster_geom = np.asarray(
        shapely.line_merge(
            shapely.multilinestrings(
                shapely.get_parts(piece_geom[order]),
                indices=np.repeat(
                    piece_cluster[order], shapely.get_num_geometries(piece_geom[order])
                ),
            )
        )
    )
    n_clusters = len(cluster_geom)
    cluster_street = np.zeros(n_clusters, dtype=np.int64)
    cluster_street[piece_cluster] = piece_street
    cluster_bairros: list[set[int]] = [set() for _ in range(n_clusters)]
    for p, c in enumerate(piece_cluster):
        cluster_bairros[c] |= piece_bairros[p]
    mid = shapely.line_interpolate_point(cluster_geom, 0.5, normalized=True)
    clusters = gpd.GeoDataFrame(
        {
            "rua": cluster_street,
            "comprimento": shapely.length(cluster_geom),
            "mx": shapely.get_x(mid),
            "my": shapely.get_y(mid),
            "linha": True,
            "bairros": [tuple(sorted(s)) for s in cluster_bairros],
        },
        geometry=cluster_geom,
        crs=vias.crs,
    )
    part_geoms, part_cluster = shapely.get_parts(cluster_geom, return_index=True)
    return streets, clusters, part_geoms, part_cluster.astype(np.int64)


def _address_frame(
    logradouro: pd.Series,
    numero: pd.Series,
    cep: pd.Series,
    bairro: pd.Series,
    xy: tuple[np.ndarray, np.ndarray],
    fonte: str,
) -> pd.DataFrame:
    """Normalised address points: logradouro, chave, numero, cep, bairro, x, y, fonte."""
    keys: dict[Any, str] = {}
    for raw in logradouro.dropna().unique():
        t, n = normalize_street(str(raw))
        keys[raw] = f"{t} {n}" if t and n else n
    nums = {raw: normalize_number(raw)[0] for raw in numero.dropna().unique()}
    ceps = {raw: normalize_cep(raw) for raw in cep.dropna().unique()}
    bairros = {raw: normalize_bairro(raw) for raw in bairro.dropna().unique()}
    return pd.DataFrame(
        {
            "logradouro": logradouro.to_numpy(),
            "chave": logradouro.map(keys).fillna("").to_numpy(),
            "numero": numero.map(nums).astype("Float64").to_numpy(),
            "cep": cep.map(ceps).to_numpy(),
            "bairro": bairro.map(bairros).to_numpy(),
            "x": xy[0],
            "y": xy[1],
            "fonte": fonte,
        }
    )


def _osm_address_points(path: Path) -> pd.DataFrame:
    edif = _safe_layer(path, "edificacoes")
    if edif is None or "logradouro" not in edif.columns:
        return pd.DataFrame()
    edif = edif[edif["logradouro"].notna() & edif.geometry.notna()]
    if not len(edif):
        return pd.DataFrame()

    def col(name: str) -> pd.Series:
        return edif[name] if name in edif.columns else pd.Series(None, index=edif.index)

    xy = (edif.geometry.x.to_numpy(), edif.geometry.y.to_numpy())
    return _address_frame(edif["logradouro"], col("numero"), col("cep"), col("bairro"), xy, "osm")


def _cnefe_address_points(cnefe: gpd.GeoDataFrame, crs: str) -> pd.DataFrame:
    good = cnefe[cnefe["nv_geo_coord"].fillna(99) <= CNEFE_MAX_NV_GEO]
    if not len(good):
        return pd.DataFrame()
    lon, lat = good.geometry.x.to_numpy(), good.geometry.y.to_numpy()
    x, y = _transformer("EPSG:4674", crs).transform(lon, lat)
    numero = good["numero"].astype("float64")
    xy = (np.asarray(x), np.asarray(y))
    return _address_frame(good["logradouro"], numero, good["cep"], good["localidade"], xy, "cnefe")


# ---------------------------------------------------------------------- geocode


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return str(value).strip()


def geocode(requests: pd.DataFrame, gazetteer: Gazetteer) -> pd.DataFrame:
    """Locate every request: given coordinates, address point, interpolation, street, bairro.

    Parameters
    ----------
    requests : pandas.DataFrame
        Validated requests with at least ``protocolo``, ``latitude``,
        ``longitude`` (float or NaN), ``endereco``, ``numero``, ``bairro``,
        ``cep``; missing columns are treated as empty. Rows with
        ``situacao = "erro"`` are geocoded too when they have something to use.
    gazetteer : Gazetteer
        Index of the territory (:meth:`Gazetteer.from_territory`).

    Returns
    -------
    pandas.DataFrame
        The same rows in the same order, plus :data:`GEOCODE_COLUMNS`: ``x``,
        ``y`` (territory CRS), ``latitude``, ``longitude`` (EPSG:4326, filled
        when found from the address), ``geocodificacao`` (coordenada_informada,
        numero_exato, interpolado, logradouro, bairro or falhou),
        ``logradouro_encontrado`` (street name as written in the source),
        ``bairro_encontrado``, ``confianca`` (0–1, scale in the module
        docstring) and ``geocodificacao_detalhe`` (Portuguese explanation).
    """
    out = requests.copy()
    n = len(out)

    def column(name: str) -> list[str]:
        if name not in out.columns:
            return [""] * n
        return [_text(v) for v in out[name].tolist()]

    lat = pd.to_numeric(out.get("latitude", pd.Series(np.nan, index=out.index)), errors="coerce")
    lon = pd.to_numeric(out.get("longitude", pd.Series(np.nan, index=out.index)), errors="coerce")
    lat_a, lon_a = lat.to_numpy(np.float64), lon.to_numpy(np.float64)
    given = np.isfinite(lat_a) & np.isfinite(lon_a)

    kind = np.full(n, "falhou", dtype=object)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    conf = np.zeros(n)
    street_found: list[str | None] = [None] * n
    bairro_found: list[str | None] = [None] * n
    detail = np.full(n, "", dtype=object)

    if given.any():
        gx, gy = _transformer("EPSG:4326", gazetteer.crs).transform(lon_a[given], lat_a[given])
        x[given], y[given] = gx, gy
        kind[given] = "coordenada_informada"
        conf[given] = CONFIDENCE["coordenada_informada"]
        detail[given] = "coordenadas informadas no pedido"

    todo = np.flatnonzero(~given)
    endereco, numero, bairro, cep = (column(c) for c in ("endereco", "numero", "bairro", "cep"))
    parsed = [parse_address(endereco[i], numero[i] or None, bairro[i], cep[i]) for i in todo]
    parsed = [
        gazetteer.prefer_known_name(p, endereco[i]) for i, p in zip(todo, parsed, strict=True)
    ]
    qkeys = sorted({(p.chave, p.tipo, p.nome) for p in parsed if p.chave}, key=str)
    matches = dict(zip(qkeys, gazetteer.match_streets(list(qkeys)), strict=True))
    bkeys = sorted({p.bairro for p in parsed if p.bairro})
    bmatch = dict(zip(bkeys, gazetteer.match_bairros(list(bkeys)), strict=True))

    along_rows: list[int] = []
    along_part: list[int] = []
    along_s: list[float] = []
    for i, p in zip(todo, parsed, strict=True):
        if not p.chave and not p.bairro:
            detail[i] = "sem coordenadas nem endereço"
            continue
        match = matches.get((p.chave, p.tipo, p.nome), _StreetMatch())
        street_text = endereco[i].split(",")[0].strip() or p.chave
        res = gazetteer.locate(p, match, bmatch.get(p.bairro or "", (-1, 0.0)), street_text)
        kind[i] = res.kind
        conf[i] = round(res.confianca, 3)
        detail[i] = res.detalhe
        street_found[i] = res.logradouro
        bairro_found[i] = res.bairro
        if res.xy is not None:
            x[i], y[i] = res.xy
        elif res.along is not None:
            along_rows.append(int(i))
            along_part.append(res.along[0])
            along_s.append(res.along[1])
    if along_rows:
        pts = shapely.line_interpolate_point(gazetteer.part_geoms[along_part], np.array(along_s))
        x[along_rows], y[along_rows] = shapely.get_x(pts), shapely.get_y(pts)

    found = np.isfinite(x) & ~given
    if found.any():
        flon, flat = _transformer(gazetteer.crs, "EPSG:4326").transform(x[found], y[found])
        lon_a, lat_a = lon_a.copy(), lat_a.copy()
        lon_a[found], lat_a[found] = flon, flat
    located = np.flatnonzero(np.isfinite(x))
    if len(located) and len(gazetteer.bairros):
        ids = gazetteer._bairro_of(shapely.points(x[located], y[located]))
        names = gazetteer.bairros["nome"].to_numpy()
        for i, b in zip(located, ids, strict=True):
            if bairro_found[i] is None and b >= 0:
                bairro_found[i] = str(names[b])

    out["x"], out["y"] = x, y
    out["latitude"], out["longitude"] = lat_a, lon_a
    out["geocodificacao"] = kind.astype(str)
    out["logradouro_encontrado"] = pd.Series(street_found, index=out.index, dtype=object)
    out["bairro_encontrado"] = pd.Series(bairro_found, index=out.index, dtype=object)
    out["confianca"] = conf
    out["geocodificacao_detalhe"] = detail.astype(str)
    counts = out["geocodificacao"].value_counts()
    log.info(
        "geocodificação: %s",
        ", ".join(f"{k}: {v}" for k, v in counts.items()),
    )
    return out
