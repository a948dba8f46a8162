"""Indication of a high-flow rural road (Art. 12 §1), from the evidence table (pure).

On a rural road, each family of signs enabled in ``rules.art12.sinais`` is tested on its
evidence (:data:`geo_ip.rules.scoring_rules.ART12_SIGNS`): intense circulation (a
relevant link or many buildings along the stretch), school or public transport (bus
stops on the road), access to facilities, and the outflow of rural production. Unknown
evidence never raises a sign. It is an indication for the Executive, who alone decides
the direct execution (Art. 12 §2), not a scoring situation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from geo_ip._util.parse import format_number
from geo_ip.law.cells import Evidence
from geo_ip.law.phrases import STOPS, count, join
from geo_ip.rules.config import Rules
from geo_ip.rules.scoring_rules import ART12_SIGNS

__all__ = ["art12_indication"]

_ACCESS_TEXT = {
    "escolas": ("escola", "escolas"),
    "creches": ("creche", "creches"),
    "unidades_saude": ("unidade de saúde", "unidades de saúde"),
    "centros_comunitarios": ("centro comunitário", "centros comunitários"),
}
_PRODUCTION = ("local de produção rural", "locais de produção rural")
_ART12_HEAD = "Indício de via rural de alto fluxo (Art. 12 §1)"
_ART12_TAIL = (
    "Só o Poder Executivo, em procedimento administrativo próprio, pode decidir a execução "
    "direta (Art. 12 §2)."
)
_ART12_NONE = "Via rural sem sinal de alto fluxo (Art. 12 §1)."


class _Signs(NamedTuple):
    """The evidence of the signs, one value per row."""

    percentile: np.ndarray
    buildings: np.ndarray
    stops: np.ndarray
    counts: dict[str, np.ndarray]  # facilities of each kind of ``art12.equipamentos_sinal``
    names: dict[str, list[str]]
    production: np.ndarray
    production_names: list[str]
    by_link: np.ndarray  # a relevant link (betweenness percentile)
    by_buildings: np.ndarray  # many buildings along the stretch


def _at_least(minimum: float, text: str) -> str:
    """``text`` and, when the minimum is above one, ``", a partir de <minimum>"``."""
    return f"{text}, a partir de {format_number(minimum)}" if minimum > 1 else text


def _read_signs(ev: Evidence, rules: Rules) -> tuple[_Signs, dict[str, np.ndarray]]:
    """Read the evidence of the signs and find each family of signs (rural or not)."""
    cfg = rules.art12
    percentile = ev.num("intermediacao_percentil")
    buildings = ev.num("edificacoes_trecho")
    stops = ev.num("paradas_onibus_via")
    counts: dict[str, np.ndarray] = {col: ev.num(col) for col in cfg.equipamentos_sinal}
    production = ev.num("producao_rural")
    by_link = np.nan_to_num(percentile, nan=-1.0) >= cfg.intermediacao_percentil_minima.valor
    by_buildings = np.nan_to_num(buildings) >= cfg.edificacoes_minimas.valor
    facilities = np.zeros(ev.n)
    for values in counts.values():
        facilities = facilities + np.nan_to_num(values)
    found = {
        "circulacao": by_link | by_buildings,
        "transporte": np.nan_to_num(stops) >= cfg.paradas_onibus_via_minimas.valor,
        "acesso": facilities >= cfg.equipamentos_minimos.valor,
        "producao": np.nan_to_num(production) >= cfg.producao_minima.valor,
    }
    names: dict[str, list[str]] = {col: ev.text(f"{col}_nomes") for col in cfg.equipamentos_sinal}
    signs = _Signs(
        percentile, buildings, stops, counts, names, production, ev.text("producao_rural_nomes"),
        by_link, by_buildings,
    )  # fmt: skip
    return signs, found


def _sign_texts(here: Sequence[str], i: int, s: _Signs, rules: Rules) -> list[str]:
    """Say each sign found on row ``i``, with its evidence."""
    cfg = rules.art12
    parts = []
    if "circulacao" in here:
        why = []
        if s.by_link[i]:
            why.append(
                f"via de ligação relevante, intermediação no percentil "
                f"{format_number(s.percentile[i], 0)}, a partir de "
                f"{format_number(cfg.intermediacao_percentil_minima.valor)}"
            )
        if s.by_buildings[i]:
            radius_b = format_number(rules.avaliacao.raio_edificacoes_m.valor)
            why.append(
                f"{count(s.buildings[i], 'edificação', 'edificações')} a menos de "
                f"{radius_b} m do trecho atendido, a partir de "
                f"{format_number(cfg.edificacoes_minimas.valor)}"
            )
        parts.append(f"intensa circulação ({'; '.join(why)})")
    if "transporte" in here:
        what = _at_least(cfg.paradas_onibus_via_minimas.valor, count(s.stops[i], *STOPS))
        parts.append(f"utilização por transporte escolar ou coletivo ({what})")
    if "acesso" in here:
        radius_s = format_number(rules.avaliacao.raio_seguranca_m.valor)
        cols = [col for col in cfg.equipamentos_sinal if s.counts[col][i] >= 1]
        what = join([count(s.counts[c][i], *_ACCESS_TEXT[c]) for c in cols])
        listed = "; ".join(s.names[c][i] for c in cols if s.names[c][i])
        text = _at_least(cfg.equipamentos_minimos.valor, f"acesso a {what} a menos de {radius_s} m")
        parts.append(f"{text} ({listed})" if listed else text)
    if "producao" in here:
        radius_p = format_number(cfg.raio_producao_m.valor)
        what = _at_least(
            cfg.producao_minima.valor,
            f"{count(s.production[i], *_PRODUCTION)} a menos de {radius_p} m",
        )
        if s.production_names[i]:
            what += f": {s.production_names[i]}"
        parts.append(f"relevância para o escoamento da produção rural ({what})")
    return parts


def art12_indication(ev: Evidence, rules: Rules) -> tuple[np.ndarray, list[str], list[str]]:
    """Flag, signs found and motivation of a high-flow rural road (Art. 12 §1).

    Parameters
    ----------
    ev : Evidence
        The evidence table (``via_rural`` and the evidence of each sign).
    rules : Rules
        ``rules.art12``: the signs enabled and their thresholds; the radii quoted.

    Returns
    -------
    tuple
        ``indicio_art12`` (bool array), ``sinais_art12`` (the families of signs found,
        ``;``-separated) and ``motivo_art12`` (each sign with its evidence; ``""`` off
        rural roads).
    """
    rural, _ = ev.flag("via_rural")
    signs, found = _read_signs(ev, rules)
    enabled = [sign for sign in ART12_SIGNS if sign in rules.art12.sinais]
    indication = np.zeros(ev.n, dtype=bool)
    for sign in enabled:
        found[sign] = found[sign] & rural
        indication |= found[sign]
    texts, signs_found = [], []
    for i in range(ev.n):
        if not rural[i]:
            texts.append("")
            signs_found.append("")
            continue
        here = [sign for sign in enabled if found[sign][i]]
        signs_found.append(";".join(here))
        parts = _sign_texts(here, i, signs, rules)
        texts.append(f"{_ART12_HEAD}: {'; '.join(parts)}. {_ART12_TAIL}" if parts else _ART12_NONE)
    return indication, signs_found, texts
