"""The five criteria of Art. 9: suggested level or points and motivation (pure, no I/O).

One function per criterion, each from the evidence table (:class:`geo_ip.law.cells.Evidence`)
and the rules: :func:`beneficiaries` (I, points, Art. 9 §3), :func:`safety` (II, §6),
:func:`traffic` (III, §8), :func:`cost_benefit` (IV, §10) and :func:`viability` (V,
§12), the last four by level (I, II or III). Each gives, for every row, the motivation
in Portuguese that cites the evidence; unknown evidence never raises and counts as the
condition not met. :func:`geo_ip.law.scoring.suggest` puts them together.
"""

from __future__ import annotations

import math
import re

import numpy as np

from geo_ip._util.parse import format_brl, format_number
from geo_ip.law.cells import Evidence
from geo_ip.law.phrases import (
    BUILDINGS,
    FACILITIES,
    OCCURRENCES,
    RESIDENCES,
    RESIDENTS,
    ROAD_CLASSES,
    STOPS,
    count,
    join,
    points,
    surface_word,
)
from geo_ip.rules.config import Rules
from geo_ip.rules.params import LEVEL_CODES, LevelCode
from geo_ip.rules.scoring_rules import SafetyScoring, StepTable

__all__ = [
    "beneficiaries",
    "cost_benefit",
    "implausible_declaration",
    "occurrence_words",
    "road_words",
    "safety",
    "traffic",
    "viability",
]

_OCCURRENCE_COUNT = re.compile(r"^(.*?): (\d+)$")
_NO_DISTANCE = {
    "sem_rede": "nenhuma rede elétrica utilizável encontrada (distância à rede desconhecida)",
    "sem_localizacao": "pedido sem localização (distância à rede desconhecida)",
}
_METHOD_TEXT = {
    "via": "pela via",
    "reta_fator_desvio": "estimada em linha reta × fator de desvio, pois nenhuma via liga o "
    "pedido à rede",
}
_ATTENTION_TEXT = {
    "travessias": ("travessia", "travessias"),
    "paradas_onibus": ("parada de ônibus", "paradas de ônibus"),
    "escolas": ("escola", "escolas"),
    "creches": ("creche", "creches"),
    "unidades_saude": ("unidade de saúde", "unidades de saúde"),
    "pracas": ("praça", "praças"),
}


def road_words(hierarchy: str) -> str:
    """Say a road's hierarchy as the maps label it: ``"secundaria"`` → ``"via secundária"``.

    Parameters
    ----------
    hierarchy : str
        The class of the road (``hierarquia_via``: ``principal``, ``secundaria``, ``local``).

    Returns
    -------
    str
        :data:`geo_ip.law.phrases.ROAD_CLASSES` (``"via "`` and the label of the class in
        ``layers/vias.toml``); an unknown class with its underscores as spaces.
    """
    return ROAD_CLASSES.get(hierarchy, f"via {hierarchy.replace('_', ' ')}")


def occurrence_words(kinds: str) -> str:
    """Say the occurrences by type in words (``"ocorrência policial: 2"``).

    Parameters
    ----------
    kinds : str
        ``ocorrencias_tipos`` of a request (``"<tipo>: <n>; ..."``, codes).

    Returns
    -------
    str
        Each type in the words of :data:`geo_ip.law.phrases.OCCURRENCES` (the labels of
        ``layers/ocorrencias.toml``), an unknown type with its underscores as spaces; the
        counts as they are.
    """
    parts = []
    for part in kinds.split("; "):
        match = _OCCURRENCE_COUNT.match(part.strip())
        kind, n = (match[1], f": {match[2]}") if match else (part.strip(), "")
        parts.append(OCCURRENCES.get(kind, kind.replace("_", " ")) + n)
    return "; ".join(p for p in parts if p)


def _rank(levels: np.ndarray) -> np.ndarray:
    """Index of each level code in :data:`LEVEL_CODES` (0 = I, the best)."""
    return np.array([LEVEL_CODES.index(code) for code in levels], dtype=int).reshape(len(levels))


def _cap(levels: np.ndarray, mask: np.ndarray, cap: LevelCode) -> np.ndarray:
    """Lower the levels of the rows in ``mask`` to at most ``cap`` (never raise them)."""
    worse = mask & (_rank(levels) < LEVEL_CODES.index(cap))
    return np.where(worse, cap, levels)


def _level_text(rules: Rules, criterion: str) -> dict[str, str]:
    """``{"I": "Nível I (Art. 9 §6, I)", ...}`` from the rules file."""
    niveis = getattr(rules.criterios, criterion).niveis
    return {lv.codigo: f"Nível {lv.codigo} ({lv.fonte_descricao})" for lv in niveis}


def _steps(table: StepTable, values: np.ndarray) -> np.ndarray:
    """Points of a step table for each value (0 below the first step and for NaN)."""
    filled = np.nan_to_num(values, nan=-np.inf)
    conditions = [filled >= step.a_partir_de for step in reversed(table.degraus)]
    choices = [step.pontos for step in reversed(table.degraus)]
    return np.asarray(np.select(conditions, choices, default=0.0), dtype=float)


# ---------------------------------------------------------------------------
# Criterion I — beneficiaries (Art. 9 §3)
# ---------------------------------------------------------------------------
def implausible_declaration(
    declared: np.ndarray,
    buildings: np.ndarray,
    rules: Rules,
    residents: np.ndarray | None = None,
) -> np.ndarray:
    """Tell, per request, whether its declared households or residents need checking.

    A declaration is implausible when it declares more residences than
    ``validacao.residencias_por_edificacao_maxima`` per building mapped near the served
    stretch (at least one building mapped), or more residents per declared residence
    than ``validacao.moradores_por_residencia_maximo``: the motivation of criterion I
    then says "confira a declaração". Unknown figures (NaN) never flag.

    Parameters
    ----------
    declared : numpy.ndarray
        Residences declared in each request (``residencias_declaradas``), NaN if blank.
    buildings : numpy.ndarray
        Buildings mapped near the served stretch (``edificacoes_trecho``), NaN if unknown.
    rules : Rules
        The municipality's rules (their ``validacao`` limits).
    residents : numpy.ndarray, optional
        Residents declared (``moradores_declarados``), NaN if blank.

    Returns
    -------
    numpy.ndarray
        One boolean per request.
    """
    declared = np.asarray(declared, dtype=float)
    buildings = np.asarray(buildings, dtype=float)
    limits = rules.validacao
    with np.errstate(invalid="ignore", divide="ignore"):
        flagged = (buildings > 0) & (
            declared > buildings * limits.residencias_por_edificacao_maxima.valor
        )
        if residents is not None:
            per_home = np.asarray(residents, dtype=float) / np.where(declared > 0, declared, np.nan)
            flagged |= per_home > limits.moradores_por_residencia_maximo.valor
    return np.asarray(flagged, dtype=bool)


def _residence_texts(
    ev: Evidence, residences: np.ndarray, awarded: np.ndarray, rules: Rules
) -> list[str]:
    """Say the residences counted, where they come from and their points, for every row."""
    declared = ev.num("residencias_declaradas")
    counted = ev.num("edificacoes_trecho")
    per_building = rules.validacao.residencias_por_edificacao_maxima.valor
    radius_b = format_number(rules.avaliacao.raio_edificacoes_m.valor)
    src = rules.pontuacao.beneficiarios.residencias.fonte_descricao
    implausible = implausible_declaration(declared, counted, rules)
    texts = []
    for i in range(ev.n):
        if math.isnan(residences[i]):
            texts.append(f"número de residências desconhecido ({points(0)}, {src})")
            continue
        if math.isnan(declared[i]):
            origin = f"edificações a menos de {radius_b} m do trecho atendido"
        elif math.isnan(counted[i]):
            origin = "declaradas no pedido"
        else:
            seen = count(counted[i], *BUILDINGS) if counted[i] > 0 else "nenhuma edificação"
            origin = f"declaradas no pedido; {seen} a menos de {radius_b} m do trecho atendido"
            if implausible[i]:
                origin += (
                    f" — mais de {format_number(per_building)} por edificação mapeada: "
                    "confira a declaração"
                )
        texts.append(
            f"{count(residences[i], *RESIDENCES)} ({origin}): {points(awarded[i])} ({src})"
        )
    return texts


def _resident_texts(
    ev: Evidence, residents: np.ndarray, awarded: np.ndarray, rules: Rules
) -> list[str]:
    """Say the residents counted (declared or estimated per home) and their points."""
    declared = ev.num("moradores")
    per_home = format_number(rules.beneficiarios.moradores_por_domicilio.valor, 2)
    src = rules.pontuacao.beneficiarios.moradores.fonte_descricao
    texts = []
    for i in range(ev.n):
        if math.isnan(residents[i]):
            texts.append(f"número de moradores desconhecido ({points(0)}, {src})")
            continue
        origin = "declarados" if not math.isnan(declared[i]) else f"{per_home} por domicílio"
        texts.append(f"{count(residents[i], *RESIDENTS)} ({origin}): {points(awarded[i])} ({src})")
    return texts


def _facility_texts(
    ev: Evidence, facilities: np.ndarray, awarded: np.ndarray, rules: Rules
) -> list[str]:
    """Say the public or community facilities nearby (named) and their points."""
    names = ev.text("equipamentos_nomes")
    radius_e = format_number(rules.avaliacao.raio_equipamentos_m.valor)
    src = rules.pontuacao.beneficiarios.equipamentos.fonte_descricao
    texts = []
    for i in range(ev.n):
        if math.isnan(facilities[i]):
            texts.append(f"equipamentos próximos desconhecidos ({points(0)}, {src})")
        elif facilities[i] == 0:
            texts.append(
                f"nenhum equipamento público ou comunitário a menos de {radius_e} m "
                f"({points(0)}, {src})"
            )
        else:
            listed = f" — {names[i]}" if names[i] else ""
            texts.append(
                f"{count(facilities[i], *FACILITIES)} a menos de {radius_e} m{listed}: "
                f"{points(awarded[i])} ({src})"
            )
    return texts


def _collective_use_texts(
    ev: Evidence, through_points: np.ndarray, stop_points: np.ndarray, src: str
) -> list[str]:
    """Say the collective use of the road (through road, bus stops) and its points."""
    through, through_known = ev.flag("via_de_passagem")
    stops = ev.num("paradas_onibus_via")
    texts = []
    for i in range(ev.n):
        if not through_known[i]:
            use = ["via de passagem desconhecida"]
        elif through[i]:
            use = [f"via de passagem ({points(through_points[i])})"]
        else:
            use = ["via sem saída"]
        if math.isnan(stops[i]):
            use.append("paradas de ônibus na via desconhecidas")
        elif stops[i] >= 1:
            use.append(f"{count(stops[i], *STOPS)} ({points(stop_points[i])})")
        else:
            use.append("nenhuma parada de ônibus na via")
        texts.append(f"{join(use)}: {points(through_points[i] + stop_points[i])} ({src})")
    return texts


def beneficiaries(ev: Evidence, rules: Rules) -> tuple[np.ndarray, list[str]]:
    """Criterion I (Art. 9 §3): points and motivation of every row.

    Parameters
    ----------
    ev : Evidence
        The evidence table.
    rules : Rules
        ``pontuacao.beneficiarios`` (step tables and collective use), the weight of the
        criterion and the radii quoted.

    Returns
    -------
    tuple
        Points (residences, residents and nearby facilities by their step tables, plus
        a through road and a bus stop on it, capped at the weight) and motivations.
    """
    cfg = rules.pontuacao.beneficiarios
    weight = rules.criterios.beneficiarios.peso.valor
    residences = ev.num("residencias_consideradas")
    residents = ev.num("moradores_estimados")
    facilities = ev.num("equipamentos_proximos")
    through, _ = ev.flag("via_de_passagem")
    stops = ev.num("paradas_onibus_via")
    p_res = _steps(cfg.residencias, residences)
    p_mor = _steps(cfg.moradores, residents)
    p_eq = _steps(cfg.equipamentos, facilities)
    p_through = np.where(through, cfg.uso_coletivo.via_de_passagem.valor, 0.0)
    p_stop = np.where(np.nan_to_num(stops) >= 1, cfg.uso_coletivo.parada_onibus_via.valor, 0.0)
    total = np.minimum(p_res + p_mor + p_eq + p_through + p_stop, weight)
    parts = zip(
        _residence_texts(ev, residences, p_res, rules),
        _resident_texts(ev, residents, p_mor, rules),
        _facility_texts(ev, facilities, p_eq, rules),
        _collective_use_texts(ev, p_through, p_stop, cfg.uso_coletivo.fonte_descricao),
        strict=True,
    )
    texts = [
        f"{format_number(total[i])} de {points(weight)} (Art. 9 §3): {'; '.join(part)}."
        for i, part in enumerate(parts)
    ]
    return total, texts


# ---------------------------------------------------------------------------
# Criterion II — safety (Art. 9 §6)
# ---------------------------------------------------------------------------
def _light_texts(lamp: np.ndarray, dark: np.ndarray, far: str) -> list[str]:
    """Say the existing lighting: the nearest lighting point, whether it is dark."""
    texts = []
    for i in range(len(lamp)):
        if math.isnan(lamp[i]):
            texts.append(
                "iluminação existente desconhecida (nenhum ponto de iluminação pública no "
                "território): não considerada"
            )
        elif dark[i]:
            texts.append(
                f"sem iluminação a menos de {far} m (ponto de IP mais próximo a "
                f"{format_number(lamp[i])} m)"
            )
        else:
            texts.append(f"ponto de IP existente a {format_number(lamp[i])} m (menos de {far} m)")
    return texts


def _attention_texts(
    attention: dict[str, np.ndarray], columns: tuple[str, ...], radius: str, n: int
) -> list[str]:
    """Say the points of attention nearby (crossings, bus stops, schools, ...), or none."""
    texts = []
    for i in range(n):
        found = [
            count(attention[col][i], *_ATTENTION_TEXT[col])
            for col in columns
            if attention[col][i] >= 1
        ]
        unknown = [col for col in columns if math.isnan(attention[col][i])]
        if found:
            texts.append(f"{join(found)} a menos de {radius} m")
        elif len(unknown) == len(columns):
            texts.append("pontos de atenção no entorno desconhecidos")
        else:
            words = [_ATTENTION_TEXT[col][0] for col in columns]
            texts.append(f"nenhuma {join(words, 'ou')} a menos de {radius} m")
    return texts


def _occurrence_texts(ev: Evidence, rules: Rules) -> list[str]:
    """Say the occurrences recorded nearby over the period, with their kinds."""
    occurrences = ev.num("ocorrencias")
    occ = np.nan_to_num(occurrences)
    kinds = ev.text("ocorrencias_tipos")
    months = format_number(rules.avaliacao.periodo_ocorrencias_meses.valor)
    radius_o = format_number(rules.avaliacao.raio_ocorrencias_m.valor)
    texts = []
    for i in range(ev.n):
        if math.isnan(occurrences[i]):
            texts.append("ocorrências desconhecidas (sem camada de ocorrências)")
        elif occ[i] == 0:
            texts.append(f"nenhuma ocorrência registrada em {months} meses")
        else:
            detail = f" ({occurrence_words(kinds[i])})" if kinds[i] else ""
            texts.append(
                f"{count(occ[i], 'ocorrência registrada', 'ocorrências registradas')} em "
                f"{months} meses a menos de {radius_o} m{detail}"
            )
    return texts


def _high_road(ev: Evidence, cfg: SafetyScoring) -> np.ndarray:
    """Tell whether each row's road is of a hierarchy that counts for level I."""
    hierarchy = np.array(ev.text("hierarquia_via"), dtype=object)
    return np.isin(hierarchy, list(cfg.hierarquias_nivel_i))


def _safety_texts(
    ev: Evidence, rules: Rules, levels: np.ndarray, dark: np.ndarray, lead: list[str]
) -> list[str]:
    """Motivation of criterion II: the reason of level I first (``lead``), then the evidence."""
    cfg = rules.pontuacao.seguranca
    av = rules.avaliacao
    head = _level_text(rules, "seguranca")
    light = _light_texts(ev.num("distancia_ip_m"), dark, format_number(av.distancia_escuro_m.valor))
    attention = {col: ev.num(col) for col in _ATTENTION_TEXT}
    radius = format_number(av.raio_seguranca_m.valor)
    near = _attention_texts(attention, tuple(cfg.pontos_de_atencao), radius, ev.n)
    occurrences = _occurrence_texts(ev, rules)
    vulnerable = np.nan_to_num(ev.num("usuarios_vulneraveis"))
    vulnerable_names = ev.text("vulneraveis_nomes")
    hierarchy = ev.text("hierarquia_via")
    high_road = _high_road(ev, cfg)
    texts = []
    for i in range(ev.n):
        parts = [light[i], near[i]]
        if vulnerable[i] >= 1:
            who = vulnerable_names[i] or count(vulnerable[i], "equipamento", "equipamentos")
            parts.append(f"usuários vulneráveis: {who}")
        if high_road[i]:
            parts.append(road_words(hierarchy[i]))
        parts.append(occurrences[i])
        if lead[i]:
            parts.insert(0, lead[i])
        texts.append(f"{head[levels[i]]}: {'; '.join(parts)}.")
    return texts


def safety(ev: Evidence, rules: Rules) -> tuple[np.ndarray, list[str]]:
    """Criterion II (Art. 9 §6): level and motivation of every row.

    Parameters
    ----------
    ev : Evidence
        The evidence table.
    rules : Rules
        ``pontuacao.seguranca`` (thresholds) and ``avaliacao`` (distances and radii).

    Returns
    -------
    tuple
        Levels and motivations. Level I by a relevant history of occurrences, or by a
        high risk (a dark place with vulnerable users on a main road or with
        crossings); level II a dark place with occurrences or a point of attention.
    """
    cfg = rules.pontuacao.seguranca
    occ = np.nan_to_num(ev.num("ocorrencias"))
    lamp = ev.num("distancia_ip_m")
    # "no lighting point LESS than distancia_escuro_m away": a lamp at exactly that
    # distance leaves the place dark. No lighting point in the territory at all:
    # darkness is unknown, not assumed.
    dark = ~np.isnan(lamp) & (np.nan_to_num(lamp) >= rules.avaliacao.distancia_escuro_m.valor)
    vulnerable = np.nan_to_num(ev.num("usuarios_vulneraveis"))
    crossings = np.nan_to_num(ev.num("travessias"))
    attention = {col: ev.num(col) for col in _ATTENTION_TEXT}
    any_attention = np.zeros(ev.n, dtype=bool)
    for col in cfg.pontos_de_atencao:
        any_attention |= np.nan_to_num(attention[col]) >= 1
    by_history = occ >= cfg.ocorrencias_nivel_i.valor
    by_risk = (
        dark
        & (vulnerable >= cfg.vulneraveis_nivel_i.valor)
        & (_high_road(ev, cfg) | (crossings >= cfg.travessias_nivel_i.valor))
    )
    level_ii = dark & ((occ >= cfg.ocorrencias_nivel_ii.valor) | any_attention)
    levels = np.select([by_history | by_risk, level_ii], ["I", "II"], default="III")
    history = count(cfg.ocorrencias_nivel_i.valor, "ocorrência", "ocorrências")
    lead = [
        f"histórico relevante (a partir de {history})"
        if h
        else "risco elevado (local escuro com usuários vulneráveis)"
        if r
        else ""
        for h, r in zip(by_history, by_risk, strict=True)
    ]
    return levels, _safety_texts(ev, rules, levels, dark, lead)


# ---------------------------------------------------------------------------
# Criterion III — traffic (Art. 9 §8)
# ---------------------------------------------------------------------------
def traffic(ev: Evidence, rules: Rules) -> tuple[np.ndarray, list[str]]:
    """Criterion III (Art. 9 §8): level and motivation of every row.

    The level of the road's hierarchy; a relevant link (betweenness percentile) is
    level I by itself, a bus stop on the road promotes one level.
    """
    cfg = rules.pontuacao.trafego
    by_hierarchy = cfg.nivel_por_hierarquia.model_dump()
    hierarchy = ev.text("hierarquia_via")
    street = ev.text("logradouro_via")
    percentile = ev.num("intermediacao_percentil")
    stops = ev.num("paradas_onibus_via")
    lowest = LEVEL_CODES[-1]
    base = np.array([by_hierarchy.get(h, lowest) for h in hierarchy], dtype=object)
    # §8, I: "via principal, estrutural ou de ligação relevante" — a relevant link is
    # level I by itself; a bus stop (§7, III) promotes one level
    by_link = np.nan_to_num(percentile, nan=-1.0) >= cfg.intermediacao_percentil_promocao.valor
    by_bus = np.nan_to_num(stops) >= cfg.paradas_onibus_via_promocao.valor
    promoted_rank = np.maximum(_rank(base) - by_bus.astype(int), 0)
    promoted_rank = np.where(by_link, 0, promoted_rank)
    levels = np.array([LEVEL_CODES[r] for r in promoted_rank], dtype=object)

    head = _level_text(rules, "trafego")
    threshold = format_number(cfg.intermediacao_percentil_promocao.valor)
    texts = []
    for i in range(ev.n):
        if hierarchy[i] in by_hierarchy:
            road = road_words(hierarchy[i])
        else:
            road = "hierarquia da via desconhecida"
        if street[i]:
            road += f" ({street[i]})"
        link = (
            f"via de ligação relevante (intermediação no percentil "
            f"{format_number(percentile[i], 0)}, a partir de {threshold} — §8, I)"
        )
        bus = f"{count(stops[i], *STOPS)} (§7, III)"
        if base[i] == LEVEL_CODES[0] and (by_link[i] or by_bus[i]):
            signs = [link] if by_link[i] else []
            signs += [bus] if by_bus[i] else []
            road += f", já no nível mais alto; também {join(signs)}"
        elif by_link[i]:
            road += f", nível {LEVEL_CODES[0]} como {link}"
            if by_bus[i]:
                road += f"; também {bus}"
        elif by_bus[i]:
            road += f", promovida do nível {base[i]} por {bus}"
        else:
            link_text = (
                "intermediação desconhecida"
                if math.isnan(percentile[i])
                else f"intermediação no percentil {format_number(percentile[i], 0)} "
                f"(via de ligação relevante a partir de {threshold})"
            )
            bus_text = (
                "paradas de ônibus na via desconhecidas"
                if math.isnan(stops[i])
                else "nenhuma parada de ônibus na via"
            )
            road += f"; {link_text} e {bus_text}"
        texts.append(f"{head[levels[i]]}: {road}.")
    return levels, texts


# ---------------------------------------------------------------------------
# Criterion IV — cost-benefit (Art. 9 §10)
# ---------------------------------------------------------------------------
def cost_benefit(ev: Evidence, rules: Rules) -> tuple[np.ndarray, list[str]]:
    """Criterion IV (Art. 9 §10): level and motivation of every row, by cost per resident."""
    cfg = rules.pontuacao.custo_beneficio
    cost = ev.num("custo_estimado_rs")
    residents = ev.num("moradores_estimados")
    per_person = ev.num("custo_por_beneficiario_rs")
    finite = np.isfinite(per_person)
    value = np.where(finite, per_person, np.inf)
    levels = np.select(
        [value <= cfg.nivel_i_ate_rs.valor, value <= cfg.nivel_ii_ate_rs.valor],
        ["I", "II"],
        default="III",
    )
    head = _level_text(rules, "custo_beneficio")
    limit_i, limit_ii = format_brl(cfg.nivel_i_ate_rs.valor), format_brl(cfg.nivel_ii_ate_rs.valor)
    texts = []
    for i in range(ev.n):
        if math.isnan(cost[i]):
            why = "custo estimado desconhecido"
        elif math.isnan(residents[i]):
            why = f"custo estimado de {format_brl(cost[i])}, mas número de moradores desconhecido"
        elif residents[i] <= 0 or not finite[i]:
            why = f"custo estimado de {format_brl(cost[i])} sem morador estimado beneficiado"
        else:
            if levels[i] == "I":
                limit = f"até {limit_i}"
            elif levels[i] == "II":
                limit = f"acima de {limit_i} e até {limit_ii}"
            else:
                limit = f"acima de {limit_ii}"
            why = (
                f"custo estimado de {format_brl(cost[i])} para "
                f"{count(residents[i], *RESIDENTS)}, "
                f"{format_brl(per_person[i])} por beneficiário ({limit})"
            )
        texts.append(f"{head[levels[i]]}: {why}.")
    return levels, texts


# ---------------------------------------------------------------------------
# Criterion V — technical viability (Art. 9 §12)
# ---------------------------------------------------------------------------
def viability(ev: Evidence, rules: Rules) -> tuple[np.ndarray, list[str]]:
    """Criterion V (Art. 9 §12): level and motivation of every row.

    Distance to the grid, a new transformer and the slope set the level; no road
    connection and an unpaved road cap it.
    """
    cfg = rules.pontuacao.viabilidade
    distance = ev.num("distancia_rede_m")
    method = ev.text("metodo_distancia")
    transformer, transformer_known = ev.flag("transformador")
    poles = ev.num("postes_novos")
    slope = ev.num("declividade_max_pct")
    unpaved, unpaved_known = ev.flag("via_sem_pavimento")
    surfaces = ev.text("superficie_via")
    off_grid, _ = ev.flag("fora_da_malha")

    dist = np.nan_to_num(distance, nan=np.inf)
    # Unknown slope (no elevation model) is not held against the request: the law's
    # viability items (Art. 9 §11) are grid, extension, poles, access and standards.
    slope_v = np.nan_to_num(slope, nan=0.0)
    no_transformer = transformer_known & ~transformer
    paved = unpaved_known & ~unpaved
    level_i = (
        (dist <= cfg.distancia_nivel_i_m.valor)
        & no_transformer
        & (slope_v <= cfg.declividade_nivel_i_pct.valor)
        & paved
    )
    level_ii = (dist <= cfg.distancia_nivel_ii_m.valor) & (
        slope_v <= cfg.declividade_nivel_ii_pct.valor
    )
    levels = np.select([level_i, level_ii], ["I", "II"], default="III")
    no_road = np.isin(np.array(method, dtype=object), list(cfg.metodos_sem_conexao_viaria))
    levels = _cap(levels, no_road | off_grid, cfg.nivel_maximo_sem_conexao_viaria)
    levels = _cap(levels, unpaved, cfg.nivel_maximo_sem_pavimento)

    head = _level_text(rules, "viabilidade")
    d1 = format_number(cfg.distancia_nivel_i_m.valor)
    d2 = format_number(cfg.distancia_nivel_ii_m.valor)
    s1 = format_number(cfg.declividade_nivel_i_pct.valor)
    s2 = format_number(cfg.declividade_nivel_ii_pct.valor)
    texts = []
    for i in range(ev.n):
        parts = []
        if math.isnan(distance[i]):
            parts.append(_NO_DISTANCE.get(method[i], "distância à rede desconhecida"))
        else:
            how = _METHOD_TEXT.get(method[i], "método de cálculo desconhecido")
            parts.append(
                f"extensão de {format_number(distance[i])} m até a rede existente ({how}; "
                f"nível I até {d1} m, nível II até {d2} m)"
            )
        if not math.isnan(poles[i]):
            parts.append(count(poles[i], "poste novo", "postes novos"))
        if not transformer_known[i]:
            parts.append("necessidade de transformador desconhecida")
        else:
            parts.append("exige transformador novo" if transformer[i] else "sem transformador novo")
        if math.isnan(slope[i]):
            parts.append("declividade desconhecida (sem modelo de elevação): não considerada")
        else:
            parts.append(
                f"declividade máxima de {format_number(slope[i])} % (nível I até {s1} %, "
                f"nível II até {s2} %)"
            )
        word = surface_word(surfaces[i])
        what = f" ({word})" if word not in ("", "pavimentada", "sem pavimento") else ""
        if not unpaved_known[i]:
            parts.append("pavimento da via desconhecido (não permite o nível I)")
        elif unpaved[i]:
            parts.append(
                f"via sem pavimento{what} limita ao nível {cfg.nivel_maximo_sem_pavimento}"
            )
        else:
            parts.append(f"via pavimentada{what}")
        cap = cfg.nivel_maximo_sem_conexao_viaria
        if off_grid[i]:
            parts.append(f"pedido fora da malha viária limita ao nível {cap}")
        elif no_road[i] and not math.isnan(distance[i]):
            parts.append(f"sem ligação pela via limita ao nível {cap}")
        texts.append(f"{head[levels[i]]}: {'; '.join(parts)}.")
    return levels, texts
