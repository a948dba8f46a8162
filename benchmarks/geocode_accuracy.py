"""Accuracy of the offline geocoder on real Porto Alegre street names, written as a clerk would.

``python -m benchmarks.geocode_accuracy`` builds the Porto Alegre territory from
``../shared/data/poa/poa_osm.pbf`` (or reads ``--territory`` when given), takes a
deterministic sample of the real street names of its ``vias`` layer (``--n``, ``--seed``),
writes each one the way a clerk would (:func:`clerk_variant`: abbreviated type and titles,
missing accents, upper or lower case, one typo in long names, sometimes no type, sometimes
a house number), geocodes them all with one :func:`geo_ip.requests.geocode.geocode` call and prints
the rate and every failure.

A case is **correct** when the point returned lies within :data:`MAX_DIST_M` of a ``vias``
edge whose name includes the true name. A name that exists in places more than
:data:`OTHER_PLACE_M` apart (or, written without its type, under several types) is
ambiguous in the data: the answer must then be ``falhou`` with "ambíguo" in
``geocodificacao_detalhe`` (a silent pick counts as a failure), and such answers are
counted apart and left out of the rate's denominator. "ambíguo" for a name that is not
ambiguous in the data is a failure.

The same functions feed ``tests/test_geocode_accuracy.py``, which asserts the rate.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import unicodedata
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import enderecobr
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

ROOT = Path(__file__).resolve().parent.parent
POA = ROOT.parent / "shared" / "data" / "poa"

SEED = 18
"""Seed of the sample and of the clerk's writing (issue 18)."""
N_NAMES = 500
"""Names in the sample (a few more: every street type gets at least :data:`MIN_PER_TYPE`)."""
MIN_PER_TYPE = 8
MAX_DIST_M = 30.0
"""A point this close to an edge of the true street is correct."""
SAME_PLACE_M = 100.0
"""Pieces of a name closer than this are one place (the gazetteer's ``SAME_STREET_GAP_M``)."""
OTHER_PLACE_M = 1000.0
"""Pieces farther apart than this are different places (the gazetteer's ``CLUSTER_GAP_M``):
without a bairro, the answer must be "ambíguo"."""
LONG_NAME = 12
"""Names (without the type) of at least this many letters get a typo, one case in two."""
MIN_RATE = 0.97

TYPE_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "Rua": ("R.", "R", "Rua", "RUA"),
    "Avenida": ("Av.", "Av", "Avenida", "Avda."),
    "Travessa": ("Tv.", "Trav.", "Tv", "Travessa"),
    "Beco": ("Bc.", "Beco"),
    "Acesso": ("Ac.", "Acesso"),
    "Praça": ("Pç.", "Pça.", "Praça"),
    "Passagem": ("Pass.", "Psg.", "Passagem"),
    "Estrada": ("Estr.", "Est."),
    "Alameda": ("Al.", "Alameda"),
    "Viela": ("Viela", "Vie."),
    "Via": ("Via",),
    "Viaduto": ("Viad.", "Vd.", "Viaduto"),
    "Largo": ("Lgo.", "Lg.", "Largo"),
    "Vila": ("Vl.", "Vila"),
    "Parque": ("Pq.", "Parque"),
    "Rodovia": ("Rod.",),
    "Ladeira": ("Ld.", "Lad."),
}
"""How a clerk writes each street type (first word of the OSM name)."""

TITLE_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "Doutor": ("Dr.", "Dr"),
    "Doutora": ("Dra.",),
    "Professor": ("Prof.", "Prof"),
    "Professora": ("Profa.",),
    "Coronel": ("Cel.", "Cel"),
    "General": ("Gen.", "Gal."),
    "Padre": ("Pe.",),
    "Santa": ("Sta.",),
    "Santo": ("Sto.",),
    "São": ("S.",),
    "Nossa Senhora": ("N. Sra.", "Nsa. Sra.", "N. S."),
    "Presidente": ("Pres.",),
    "Engenheiro": ("Eng.",),
    "Marechal": ("Mal.",),
    "Tenente": ("Ten.", "Tte."),
    "Capitão": ("Cap.",),
    "Desembargador": ("Des.",),
    "Governador": ("Gov.",),
    "Deputado": ("Dep.",),
    "Vereador": ("Ver.",),
    "Almirante": ("Alm.",),
    "Comendador": ("Com.",),
    "Monsenhor": ("Mons.",),
    "Brigadeiro": ("Brig.",),
    "Visconde": ("Visc.",),
    "Major": ("Maj.",),
    "Sargento": ("Sgt.",),
    "Ministro": ("Min.",),
    "Frei": ("Fr.",),
    "Comandante": ("Cmte.",),
    "Dom": ("D.",),
}
"""How a clerk writes each title (anywhere in the name, whole words only)."""

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def plain(text: str) -> str:
    """Upper case without accents."""
    nfkd = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in nfkd if not unicodedata.combining(c)).upper().split())


_TYPE_OF = {
    plain(w).rstrip("."): plain(tipo)
    for tipo, written in TYPE_ABBREVIATIONS.items()
    for w in (tipo, *written)
}
_TITLE_OF = {
    plain(w).rstrip("."): plain(title)
    for title, written in TITLE_ABBREVIATIONS.items()
    for w in written
    if " " not in w and w != "D."
}
_GLUED = re.compile(r"([A-Z])(\d)")
_ORDINAL = re.compile(r"(\d)O\b")


def canonical(name: str) -> str:
    """The test's own notion of "the same name" in the OSM data, independent of geo_ip.

    Upper case without accents or dots, the type and titles written in full (OSM has
    "Av Bastian" next to "Avenida Bastian", "Rua Dr. Pereira da Cunha" next to "Rua Doutor
    Pereira da Cunha"), numbers in words (``enderecobr.numero_por_extenso``: "Beco 9" and
    "Beco Nove"), a type glued to a number split ("Beco15"), and "Rua Beco 11" read as
    "Beco 11".
    """
    text = _ORDINAL.sub(r"\1", _GLUED.sub(r"\1 \2", plain(name).replace(".", " ")))
    words = [_TITLE_OF.get(w, w) for w in text.split()]
    if words and words[0] in _TYPE_OF:
        words[0] = _TYPE_OF[words[0]]
    if words[:2] == ["RUA", "BECO"] and len(words) > 2:
        words = words[1:]
    spelled = [
        enderecobr.numero_por_extenso(int(w)) if w.isdigit() and len(w) < 7 else w for w in words
    ]
    return " ".join(spelled)


def bare(name: str) -> str:
    """A name without its type: what a clerk who omits the type means."""
    words = canonical(name).split()
    if len(words) > 1 and words[0] in _TYPE_OF:
        words = words[1:]
    return " ".join(words)


@dataclass
class Case:
    """One address of the set: what the clerk wrote and the street it means."""

    endereco: str
    nome: str
    how: list[str] = field(default_factory=list)


def street_names(vias: gpd.GeoDataFrame) -> pd.Series:
    """Edge names of ``vias`` as a list per edge (OSM joins several with " / ")."""
    return vias["name"].fillna("").astype(str).str.split(r"\s*/\s*|;", regex=True)


def sample_names(vias: gpd.GeoDataFrame, n: int = N_NAMES, seed: int = SEED) -> list[str]:
    """A deterministic sample of the distinct street names of ``vias``, across street types.

    Each type (first word) gets its share of ``n`` and at least :data:`MIN_PER_TYPE`.
    """
    names = sorted({s.strip() for row in street_names(vias) for s in row if s.strip()})
    by_type: dict[str, list[str]] = defaultdict(list)
    for name in names:
        by_type[name.split()[0]].append(name)
    rng = random.Random(seed)
    chosen: list[str] = []
    for tipo in sorted(by_type):
        group = by_type[tipo]
        k = min(len(group), max(MIN_PER_TYPE, round(n * len(group) / len(names))))
        chosen.extend(rng.sample(group, k))
    return sorted(chosen)


def _typo(word: str, rng: random.Random) -> str:
    """One edit inside ``word`` (never its first letter): swap, drop, double or replace."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double", "replace"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[: i + 1] + word[i] + word[i + 1 :]
    other = rng.choice([c for c in _LETTERS if c != word[i].lower()])
    return word[:i] + (other.upper() if word[i].isupper() else other) + word[i + 1 :]


def clerk_variant(name: str, seed: int = SEED) -> Case:
    """Write a real street name the way a clerk would (deterministic for a name and seed)."""
    rng = random.Random(zlib.crc32(name.encode()) ^ seed)
    words = name.split()
    how: list[str] = []
    typed = words[0] in TYPE_ABBREVIATIONS and len(words) > 1
    tipo = words[0] if typed else None
    text = " ".join(words[1:] if typed else words)
    for title, abbreviations in TITLE_ABBREVIATIONS.items():
        pattern = rf"\b{title}\b"
        if re.search(pattern, text) and rng.random() < 0.7:
            text = re.sub(pattern, rng.choice(abbreviations), text)
            how.append("título abreviado")
    letters = sum(c.isalpha() for c in text)
    candidates = [i for i, w in enumerate(text.split()) if w.isalpha() and len(w) >= 5]
    if letters >= LONG_NAME and candidates and rng.random() < 0.5:
        parts = text.split()
        i = rng.choice(candidates)
        parts[i] = _typo(parts[i], rng)
        text = " ".join(parts)
        how.append("erro de digitação")
    if tipo is not None:
        if rng.random() < 0.2:
            how.append("sem tipo")
        else:
            written = rng.choice(TYPE_ABBREVIATIONS[tipo])
            text = f"{written} {text}"
            if written != tipo:
                how.append("tipo abreviado")
    if rng.random() < 0.6:
        text = plain(text).title() if rng.random() < 0.5 else _strip_accents(text)
        how.append("sem acento")
    case = rng.random()
    if case < 0.3:
        text = text.upper()
        how.append("maiúsculas")
    elif case < 0.6:
        text = text.lower()
        how.append("minúsculas")
    if rng.random() < 0.3:
        text += f", {rng.randint(1, 2500)}"
        how.append("com número")
    return Case(text, name, how)


def _strip_accents(text: str) -> str:
    nfkd = unicodedata.normalize("NFKD", text)
    return "".join(c for c in nfkd if not unicodedata.combining(c))


def build_cases(vias: gpd.GeoDataFrame, n: int = N_NAMES, seed: int = SEED) -> list[Case]:
    """The accuracy set: one clerk-written address per sampled real name."""
    return [clerk_variant(name, seed) for name in sample_names(vias, n, seed)]


def _places(geoms: np.ndarray, gap: float) -> int:
    """Pieces of a set of lines, joining (in chains) those closer than ``gap``."""
    if not len(geoms):
        return 0
    near = shapely.distance(geoms[:, None], geoms[None, :]) < gap
    n, _ = connected_components(csr_matrix(near), directed=False)
    return int(n)


@dataclass
class Result:
    """Outcome of the accuracy set."""

    total: int
    correct: int
    ambiguous: int
    failures: list[tuple[Case, str, str]]

    @property
    def rate(self) -> float:
        """Correct answers over the cases not (rightly) answered "ambíguo"."""
        scored = self.total - self.ambiguous
        return self.correct / scored if scored else 1.0


def evaluate(cases: list[Case], out: pd.DataFrame, vias: gpd.GeoDataFrame) -> Result:
    """Score the geocoded ``out`` (same order as ``cases``) against the ``vias`` layer."""
    names = street_names(vias)
    geoms = vias.geometry.to_numpy()
    edges_of: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(names):
        for s in row:
            if s.strip():
                edges_of[s.strip()].append(i)
    same: dict[str, set[str]] = defaultdict(set)
    by_bare: dict[str, set[str]] = defaultdict(set)
    for name in edges_of:
        same[canonical(name)].add(name)
        by_bare[bare(name)].add(name)

    correct = ambiguous = 0
    failures: list[tuple[Case, str, str]] = []
    for case, (_, row) in zip(cases, out.iterrows(), strict=True):
        typeless = "sem tipo" in case.how
        fitting = same[canonical(case.nome)] | (by_bare[bare(case.nome)] if typeless else set())
        fit_geoms = geoms[sorted({e for f in fitting for e in edges_of[f]})]
        must = _places(fit_geoms, OTHER_PLACE_M) >= 2 or (
            typeless and len({canonical(f) for f in fitting}) >= 2
        )
        may = must or _places(fit_geoms, SAME_PLACE_M) >= 2
        detail = str(row["geocodificacao_detalhe"])
        said_ambiguous = row["geocodificacao"] == "falhou" and "ambíguo" in detail
        if said_ambiguous and may:
            ambiguous += 1
            continue
        if said_ambiguous:
            failures.append((case, "ambíguo sem ser", detail))
            continue
        found = np.isfinite(row["x"]) and row["geocodificacao"] not in ("falhou", "bairro")
        if not found:
            failures.append((case, str(row["geocodificacao"]), detail))
            continue
        if must:
            failures.append((case, f"escolha silenciosa: {row['logradouro_encontrado']}", detail))
            continue
        true_geoms = geoms[sorted({e for f in same[canonical(case.nome)] for e in edges_of[f]})]
        dist = float(shapely.distance(shapely.Point(row["x"], row["y"]), true_geoms).min())
        if dist <= MAX_DIST_M:
            correct += 1
        else:
            what = f"{row['logradouro_encontrado']} (a {dist:.0f} m)"
            failures.append((case, what, detail))
    return Result(len(cases), correct, ambiguous, failures)


def run(territory: Path, n: int = N_NAMES, seed: int = SEED) -> tuple[Result, list[Case]]:
    """Build the gazetteer of ``territory``, geocode the set in one call and score it."""
    from geo_ip.requests.geocode import Gazetteer, geocode
    from geo_ip.territory.reader import read_layer

    vias = read_layer(territory, "vias")
    gazetteer = Gazetteer.from_territory(territory, roads=vias)
    cases = build_cases(vias, n, seed)
    out = geocode(requests_of(cases), gazetteer)
    return evaluate(cases, out, vias), cases


def requests_of(cases: list[Case]) -> pd.DataFrame:
    """The requests table of a set (no bairro, no CEP, no coordinates)."""
    return pd.DataFrame(
        {
            "protocolo": [f"A{i:04d}" for i in range(len(cases))],
            "endereco": [c.endereco for c in cases],
            "latitude": np.nan,
            "longitude": np.nan,
        }
    )


def report(result: Result) -> str:
    """The rate and the failures, as printed by ``python -m benchmarks.geocode_accuracy``."""
    lines = [
        f"endereços: {result.total}; corretos: {result.correct}; "
        f"ambíguos nos dados (respondidos 'ambíguo', fora do denominador): {result.ambiguous}; "
        f"falhas: {len(result.failures)}",
        f"taxa de acerto: {100 * result.rate:.1f}% "
        f"({result.correct}/{result.total - result.ambiguous})",
    ]
    for case, what, detail in result.failures:
        lines.append(
            f"- {case.endereco!r} → esperado {case.nome!r} ({', '.join(case.how) or 'como está'}); "
            f"obtido: {what}; {detail}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--territory", type=Path, help="território já construído (GeoPackage)")
    parser.add_argument("--n", type=int, default=N_NAMES, help="nomes na amostra")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    territory: Any = args.territory
    with tempfile.TemporaryDirectory() as tmp:
        if territory is None:
            pbf = POA / "poa_osm.pbf"
            if not pbf.exists():
                print(f"dados reais ausentes: {pbf} (veja ../shared/data/README.md)")
                return 0
            from geo_ip.rules.config import load_rules
            from geo_ip.territory.build import build_territory

            territory = Path(tmp) / "poa.gpkg"
            build_territory(
                territory,
                rules=load_rules("extrema"),
                osm=pbf,
                dem=POA / "poa_elevation.tif",
            )
        result, _ = run(territory, args.n, args.seed)
    print(report(result))
    return 0 if result.rate >= MIN_RATE else 1


if __name__ == "__main__":
    sys.exit(main())
