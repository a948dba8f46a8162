"""Name matching of the geocoding gazetteer: streets (exact, core, fuzzy) and bairros.

:class:`NameIndex` holds the street and bairro names of one territory, indexed; see
:mod:`geo_ip.requests.geocode` for the match order and the scores.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import OSA

from geo_ip.requests.address import (
    NUMBER_WORDS,
    PARTICLES,
    ParsedAddress,
    normalize_street,
    number_tokens,
    street_core,
)

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

_FUZZY_CHUNK = 512
_FUZZY_TOP = 16
_SIMILARITY = OSA.normalized_similarity

Query = tuple[str, str | None, str]
"""A normalised street as matched: (chave, tipo, nome)."""
_Accepted = tuple[tuple[int, int], float, int]
"""A fuzzy candidate within its typo budget: ((edits, edits between names), score, street)."""


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


class NameIndex:
    """Street and bairro names of one territory, indexed for matching.

    Parameters
    ----------
    streets : pandas.DataFrame
        Street table (``chave``, ``tipo``, ``nome``, ``nucleo``, ``nome_exibicao``;
        :func:`geo_ip.requests.gazetteer_build.build_streets`); a street's id is its row.
    bairros : pandas.DataFrame
        Bairro table (``chave``; :func:`geo_ip.requests.gazetteer_build.build_bairros`);
        a bairro's id is its row.
    """

    def __init__(self, streets: pd.DataFrame, bairros: pd.DataFrame) -> None:
        self.streets = streets
        self.bairros = bairros
        self.key_index = {k: i for i, k in enumerate(streets["chave"])}
        """Street id of each normalised key (type + name)."""
        core: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(streets["nucleo"]):
            core[c].append(i)
        self.core_index = dict(core)
        """Street ids of each core (name without type, leading titles and prepositions)."""
        self.bairro_index = {k: i for i, k in enumerate(bairros["chave"])}
        """Bairro id of each normalised bairro name."""

    def match_streets(self, queries: list[Query]) -> list[StreetMatch]:
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
            sid = self.key_index.get(chave)
            if sid is not None:
                results[i] = StreetMatch((sid,), 100.0, "exato")
                continue
            pool = set(self.core_index.get(street_core(nome), []))
            pool.update(int(s) for s in by_name.get(nome, ()))
            if tipo is not None:
                pool.update(int(s) for s in by_name.get(chave, ()))  # type inside the name
            as_key = self.key_index.get(nome)  # the query's type is not the street's
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

    def _fuzzy(self, queries: list[Query], rows: list[int], results: list[StreetMatch]) -> None:
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
        keys, names, _ = forms
        v_nums = [number_tokens(n) for n in names]
        tipos = self.streets["tipo"].to_numpy()
        shown_names = self.streets["nome_exibicao"].tolist()
        for start in range(0, len(rows), _FUZZY_CHUNK):
            chunk = rows[start : start + _FUZZY_CHUNK]
            q_key = [queries[i][0] for i in chunk]
            q_name = [queries[i][2] for i in chunk]
            q_core = [street_core(n) for n in q_name]
            score, top = _fuzzy_scores((q_key, q_name, q_core), forms)
            for r, i in enumerate(chunk):
                tipo = queries[i][1]
                q_forms = (q_key[r], q_name[r], q_name[r], q_core[r])
                accepted, shown = _fuzzy_candidates(q_forms, tipo, top[r], score[r], forms, v_nums)
                if not accepted:
                    if shown is None:
                        j0 = int(top[r][0])
                        shown = (float(score[r, j0]) * 100, j0)
                    results[i] = StreetMatch(suggestion=(shown_names[shown[1]], shown[0]))
                    continue
                results[i] = _fewest_edits(accepted, q_name[r], tipo, keys, tipos)

    def prefer_known_name(self, parsed: ParsedAddress, endereco: str) -> ParsedAddress:
        """Read a bare trailing number as part of the name when that name exists.

        ``"Av. João 23"`` is parsed as number 23 of ``AVENIDA JOAO``; when that key
        is unknown but ``AVENIDA JOAO VINTE E TRES`` (Avenida João XXIII) is a
        street of the territory, the number is the street's; likewise when only the
        core with the number is known ("João 23" for "Avenida Papa João XXIII").

        Parameters
        ----------
        parsed : ParsedAddress
            The address as parsed (:func:`geo_ip.requests.address.parse_address`).
        endereco : str
            The address as written.

        Returns
        -------
        ParsedAddress
            ``parsed``, or a copy without number whose name holds it.
        """
        if parsed.numero is None or parsed.chave in self.key_index:
            return parsed
        tipo, nome = normalize_street(endereco)
        chave = f"{tipo} {nome}" if tipo else nome
        if chave == parsed.chave:
            return parsed
        by_core = (
            street_core(nome) in self.core_index and street_core(parsed.nome) not in self.core_index
        )
        if chave not in self.key_index and not by_core:
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
            b = self.bairro_index.get(k)
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


def _fuzzy_scores(
    queries: tuple[list[str], list[str], list[str]], forms: list[list[str]]
) -> tuple[np.ndarray, np.ndarray]:
    """Best similarity of each query to each street, and each query's closest streets first."""
    q_key, q_name, q_core = queries
    keys, names, cores = forms
    pairs = [(q_key, keys), (q_name, names), (q_name, cores), (q_core, cores)]
    score = np.zeros((len(q_key), len(names)), dtype=np.float32)
    for q, v in pairs:
        np.maximum(score, process.cdist(q, v, scorer=_SIMILARITY, workers=-1), out=score)
    if score.shape[1] > _FUZZY_TOP:
        top = np.argpartition(-score, _FUZZY_TOP, axis=1)[:, :_FUZZY_TOP]
        order = np.argsort(-np.take_along_axis(score, top, axis=1), axis=1)
        top = np.take_along_axis(top, order, axis=1)
    else:
        top = np.argsort(-score, axis=1)
    return score, top


def _fuzzy_candidates(
    q_forms: tuple[str, ...],
    tipo: str | None,
    top: np.ndarray,
    score: np.ndarray,
    forms: list[list[str]],
    v_nums: list[tuple[str, ...]],
) -> tuple[list[_Accepted], tuple[float, int] | None]:
    """Closest streets of one query within their typo budget, and the name to suggest."""
    keys, names, cores = forms
    q_nums = number_tokens(q_forms[1])
    accepted: list[_Accepted] = []
    shown: tuple[float, int] | None = None
    for j in (int(j) for j in top):
        qf: tuple[str, ...] = q_forms
        vf: tuple[str, ...] = (keys[j], names[j], cores[j], cores[j])
        numbered = bool(q_nums and v_nums[j])
        if not numbered and 100 * score[j] < FUZZY_CORE_MIN:
            if shown is None:  # too different to pass the gate
                shown = (100 * float(score[j]), j)
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
    return accepted, shown


def _fewest_edits(
    accepted: list[_Accepted], q_name: str, tipo: str | None, keys: list[str], tipos: np.ndarray
) -> StreetMatch:
    """Keep the accepted streets with the fewest edits; ties by words found, then type."""
    fewest = min(a[0] for a in accepted)
    tied = [(s, j) for e, s, j in accepted if e == fewest]
    if len(tied) > 1:
        q_words = _bare(q_name)
        found = [(s, j) for s, j in tied if _words_found(q_words, keys[j].split(), 1)]
        tied = found or tied
        typed = [(s, j) for s, j in tied if tipo is not None and tipos[j] == tipo]
        tied = typed or tied
    ids = tuple(sorted(j for _, j in tied))
    return StreetMatch(ids, round(max(s for s, _ in tied), 1), "aproximado")
