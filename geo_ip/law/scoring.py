"""Suggested scores of the five criteria of Art. 9, from the evidence table (pure, no I/O).

:func:`suggest` turns the evidence of each request (see ``docs/assessment.md``) into a
suggested number of points per criterion, its reference level (Art. 9 §6, §8, §10,
§12) and a one-sentence motivation in Portuguese that cites the evidence (Art. 9
§1 and Art. 10, V). Every threshold comes from ``rules.pontuacao`` and
``rules.avaliacao``; the points of each level from ``rules.criterios``. It also flags
the indication of a high-flow rural road (Art. 12 §1, thresholds in ``rules.art12``),
with the signs found and their evidence: an indication for the Executive, who alone
decides the direct execution (Art. 12 §2), not a scoring situation.

Unknown evidence (NaN, NA, a missing column) never raises: the condition that needs
it counts as not met, so the level is the conservative one, and the motivation says
which datum is unknown. Rows that cannot be scored (not located, or with an error in
the requests spreadsheet) get 0 points and a motivation saying why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from geo_ip._util.parse import format_brl, format_number
from geo_ip.rules.config import ART12_SIGNS, CRITERIA, LEVEL_CODES, LevelCode, Rules, StepTable

__all__ = ["SUGGESTION_COLUMNS", "format_brl", "format_number", "suggest"]

SUGGESTION_COLUMNS: tuple[str, ...] = (
    *(f"{prefix}_{c}" for c in CRITERIA for prefix in ("sugerido", "nivel", "motivacao")),
    "indicio_art12",
    "sinais_art12",
    "motivo_art12",
)
"""Columns added by :func:`suggest`, in order."""

_HIERARCHY_TEXT = {
    "principal": "via principal",
    "secundaria": "via secundária",
    "local": "via local",
}
_RESIDENCES = ("residência diretamente beneficiada", "residências diretamente beneficiadas")
_BUILDINGS = ("edificação mapeada", "edificações mapeadas")
_FACILITIES = ("equipamento público ou comunitário", "equipamentos públicos ou comunitários")
_RESIDENTS = ("morador estimado", "moradores estimados")
_STOPS = ("parada de ônibus na via", "paradas de ônibus na via")
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


def _count(n: float, singular: str, plural: str) -> str:
    """``1 travessia`` / ``2 travessias`` (``n`` formatted as an integer when it is one)."""
    return f"{format_number(n, 1)} {singular if abs(n) < 2 else plural}"


def _points(p: float) -> str:
    """``0 ponto``, ``1 ponto``, ``5 pontos`` (Portuguese singular below two)."""
    return _count(p, "ponto", "pontos")


def _join(items: Sequence[str], last: str = "e") -> str:
    """Join with commas and a final conjunction (``a, b e c``)."""
    items = [item for item in items if item]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


# ---------------------------------------------------------------------------
# Reading evidence columns safely
# ---------------------------------------------------------------------------
class _Evidence:
    """Typed, NaN-safe access to the columns of the evidence table."""

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table
        self.n = len(table)

    def num(self, name: str) -> np.ndarray:
        """Float array of a column (NaN when absent or not a number)."""
        if name not in self.table:
            return np.full(self.n, np.nan)
        values = pd.to_numeric(self.table[name].astype("object"), errors="coerce")
        return np.asarray(values.astype("float64").to_numpy(), dtype=float)

    def flag(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(value, known)`` boolean arrays of a column (unknown when absent or NA)."""
        if name not in self.table:
            return np.zeros(self.n, dtype=bool), np.zeros(self.n, dtype=bool)
        column = self.table[name].astype("object")
        known = column.notna().to_numpy(dtype=bool)
        value = np.array([bool(v) if k else False for v, k in zip(column, known, strict=True)])
        return value.astype(bool).reshape(self.n), known

    def text(self, name: str) -> list[str]:
        """List of strings of a column (``""`` when absent or NA)."""
        if name not in self.table:
            return [""] * self.n
        return ["" if pd.isna(v) else str(v).strip() for v in self.table[name].astype("object")]


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
def _beneficiaries(ev: _Evidence, rules: Rules) -> tuple[np.ndarray, list[str]]:
    cfg = rules.pontuacao.beneficiarios
    weight = rules.criterios.beneficiarios.peso.valor
    residences = ev.num("residencias_consideradas")
    declared = ev.num("residencias_declaradas")
    counted = ev.num("edificacoes_trecho")
    per_building = rules.validacao.residencias_por_edificacao_maxima.valor
    residents = ev.num("moradores_estimados")
    declared_residents = ev.num("moradores")
    facilities = ev.num("equipamentos_proximos")
    names = ev.text("equipamentos_nomes")
    through, through_known = ev.flag("via_de_passagem")
    stops = ev.num("paradas_onibus_via")

    p_res = _steps(cfg.residencias, residences)
    p_mor = _steps(cfg.moradores, residents)
    p_eq = _steps(cfg.equipamentos, facilities)
    p_through = np.where(through, cfg.uso_coletivo.via_de_passagem.valor, 0.0)
    p_stop = np.where(np.nan_to_num(stops) >= 1, cfg.uso_coletivo.parada_onibus_via.valor, 0.0)
    total = np.minimum(p_res + p_mor + p_eq + p_through + p_stop, weight)

    radius_b = format_number(rules.avaliacao.raio_edificacoes_m.valor)
    radius_e = format_number(rules.avaliacao.raio_equipamentos_m.valor)
    per_home = format_number(rules.beneficiarios.moradores_por_domicilio.valor, 2)
    src = (cfg.residencias.fonte_descricao, cfg.moradores.fonte_descricao)
    src_e, src_u = cfg.equipamentos.fonte_descricao, cfg.uso_coletivo.fonte_descricao
    texts = []
    for i in range(ev.n):
        if math.isnan(residences[i]):
            res = f"número de residências desconhecido ({_points(0)}, {src[0]})"
        else:
            if math.isnan(declared[i]):
                origin = f"edificações a menos de {radius_b} m do trecho atendido"
            elif math.isnan(counted[i]):
                origin = "declaradas no pedido"
            else:
                seen = _count(counted[i], *_BUILDINGS) if counted[i] > 0 else "nenhuma edificação"
                origin = f"declaradas no pedido; {seen} a menos de {radius_b} m do trecho atendido"
                if counted[i] > 0 and declared[i] > counted[i] * per_building:
                    origin += (
                        f" — mais de {format_number(per_building)} por edificação mapeada: "
                        "confira a declaração"
                    )
            res = (
                f"{_count(residences[i], *_RESIDENCES)} ({origin}): {_points(p_res[i])} ({src[0]})"
            )
        if math.isnan(residents[i]):
            mor = f"número de moradores desconhecido ({_points(0)}, {src[1]})"
        else:
            origin = (
                "declarados"
                if not math.isnan(declared_residents[i])
                else f"{per_home} por domicílio"
            )
            mor = f"{_count(residents[i], *_RESIDENTS)} ({origin}): {_points(p_mor[i])} ({src[1]})"
        if math.isnan(facilities[i]):
            eq = f"equipamentos próximos desconhecidos ({_points(0)}, {src_e})"
        elif facilities[i] == 0:
            eq = (
                f"nenhum equipamento público ou comunitário a menos de {radius_e} m "
                f"({_points(0)}, {src_e})"
            )
        else:
            listed = f" — {names[i]}" if names[i] else ""
            eq = (
                f"{_count(facilities[i], *_FACILITIES)} a menos de {radius_e} m{listed}: "
                f"{_points(p_eq[i])} ({src_e})"
            )
        if not through_known[i]:
            use = ["via de passagem desconhecida"]
        elif through[i]:
            use = [f"via de passagem ({_points(p_through[i])})"]
        else:
            use = ["via sem saída"]
        if math.isnan(stops[i]):
            use.append("paradas de ônibus na via desconhecidas")
        elif stops[i] >= 1:
            use.append(f"{_count(stops[i], *_STOPS)} ({_points(p_stop[i])})")
        else:
            use.append("nenhuma parada de ônibus na via")
        uso = f"{_join(use)}: {_points(p_through[i] + p_stop[i])} ({src_u})"
        texts.append(
            f"{format_number(total[i])} de {_points(weight)} (Art. 9 §3): "
            f"{res}; {mor}; {eq}; {uso}."
        )
    return total, texts


# ---------------------------------------------------------------------------
# Criterion II — safety (Art. 9 §6)
# ---------------------------------------------------------------------------
def _safety(ev: _Evidence, rules: Rules) -> tuple[np.ndarray, list[str]]:
    cfg = rules.pontuacao.seguranca
    av = rules.avaliacao
    occurrences = ev.num("ocorrencias")
    occ = np.nan_to_num(occurrences)
    kinds = ev.text("ocorrencias_tipos")
    lamp = ev.num("distancia_ip_m")
    # "no lighting point LESS than distancia_escuro_m away": a lamp at exactly that
    # distance leaves the place dark. No lighting point in the territory at all:
    # darkness is unknown, not assumed.
    dark = ~np.isnan(lamp) & (np.nan_to_num(lamp) >= av.distancia_escuro_m.valor)
    vulnerable = np.nan_to_num(ev.num("usuarios_vulneraveis"))
    vulnerable_names = ev.text("vulneraveis_nomes")
    crossings = np.nan_to_num(ev.num("travessias"))
    hierarchy = ev.text("hierarquia_via")
    high_road = np.isin(np.array(hierarchy, dtype=object), list(cfg.hierarquias_nivel_i))
    attention = {col: ev.num(col) for col in _ATTENTION_TEXT}
    any_attention = np.zeros(ev.n, dtype=bool)
    for col in cfg.pontos_de_atencao:
        any_attention |= np.nan_to_num(attention[col]) >= 1

    by_history = occ >= cfg.ocorrencias_nivel_i.valor
    by_risk = (
        dark
        & (vulnerable >= cfg.vulneraveis_nivel_i.valor)
        & (high_road | (crossings >= cfg.travessias_nivel_i.valor))
    )
    level_i = by_history | by_risk
    level_ii = dark & ((occ >= cfg.ocorrencias_nivel_ii.valor) | any_attention)
    levels = np.select([level_i, level_ii], ["I", "II"], default="III")

    head = _level_text(rules, "seguranca")
    far = format_number(av.distancia_escuro_m.valor)
    radius = format_number(av.raio_seguranca_m.valor)
    radius_o = format_number(av.raio_ocorrencias_m.valor)
    months = format_number(av.periodo_ocorrencias_meses.valor)
    texts = []
    for i in range(ev.n):
        if math.isnan(lamp[i]):
            light = (
                "iluminação existente desconhecida (nenhum ponto de iluminação pública no "
                "território): não considerada"
            )
        elif dark[i]:
            light = (
                f"sem iluminação a menos de {far} m (ponto de IP mais próximo a "
                f"{format_number(lamp[i])} m)"
            )
        else:
            light = f"ponto de IP existente a {format_number(lamp[i])} m (menos de {far} m)"
        found = [
            _count(attention[col][i], *_ATTENTION_TEXT[col])
            for col in cfg.pontos_de_atencao
            if attention[col][i] >= 1
        ]
        unknown = [col for col in cfg.pontos_de_atencao if math.isnan(attention[col][i])]
        if found:
            near = f"{_join(found)} a menos de {radius} m"
        elif len(unknown) == len(cfg.pontos_de_atencao):
            near = "pontos de atenção no entorno desconhecidos"
        else:
            words = [_ATTENTION_TEXT[col][0] for col in cfg.pontos_de_atencao]
            near = f"nenhuma {_join(words, 'ou')} a menos de {radius} m"
        parts = [light, near]
        if vulnerable[i] >= 1:
            who = vulnerable_names[i] or _count(vulnerable[i], "equipamento", "equipamentos")
            parts.append(f"usuários vulneráveis: {who}")
        if high_road[i]:
            parts.append(_HIERARCHY_TEXT.get(hierarchy[i], hierarchy[i]))
        if math.isnan(occurrences[i]):
            parts.append("ocorrências desconhecidas (sem camada de ocorrências)")
        elif occ[i] == 0:
            parts.append(f"nenhuma ocorrência registrada em {months} meses")
        else:
            detail = f" ({kinds[i]})" if kinds[i] else ""
            parts.append(
                f"{_count(occ[i], 'ocorrência registrada', 'ocorrências registradas')} em "
                f"{months} meses a menos de {radius_o} m{detail}"
            )
        if by_history[i]:
            parts.insert(
                0,
                f"histórico relevante (a partir de "
                f"{_count(cfg.ocorrencias_nivel_i.valor, 'ocorrência', 'ocorrências')})",
            )
        elif by_risk[i]:
            parts.insert(0, "risco elevado (local escuro com usuários vulneráveis)")
        texts.append(f"{head[levels[i]]}: {'; '.join(parts)}.")
    return levels, texts


# ---------------------------------------------------------------------------
# Criterion III — traffic (Art. 9 §8)
# ---------------------------------------------------------------------------
def _traffic(ev: _Evidence, rules: Rules) -> tuple[np.ndarray, list[str]]:
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
            road = _HIERARCHY_TEXT[hierarchy[i]]
        else:
            road = "hierarquia da via desconhecida"
        if street[i]:
            road += f" ({street[i]})"
        link = (
            f"via de ligação relevante (intermediação no percentil "
            f"{format_number(percentile[i], 0)}, a partir de {threshold} — §8, I)"
        )
        bus = f"{_count(stops[i], *_STOPS)} (§7, III)"
        if base[i] == LEVEL_CODES[0] and (by_link[i] or by_bus[i]):
            signs = [link] if by_link[i] else []
            signs += [bus] if by_bus[i] else []
            road += f", já no nível mais alto; também {_join(signs)}"
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
def _cost_benefit(ev: _Evidence, rules: Rules) -> tuple[np.ndarray, list[str]]:
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
                f"{_count(residents[i], *_RESIDENTS)}, "
                f"{format_brl(per_person[i])} por beneficiário ({limit})"
            )
        texts.append(f"{head[levels[i]]}: {why}.")
    return levels, texts


# ---------------------------------------------------------------------------
# Criterion V — technical viability (Art. 9 §12)
# ---------------------------------------------------------------------------
def _viability(ev: _Evidence, rules: Rules) -> tuple[np.ndarray, list[str]]:
    cfg = rules.pontuacao.viabilidade
    distance = ev.num("distancia_rede_m")
    method = ev.text("metodo_distancia")
    transformer, transformer_known = ev.flag("transformador")
    poles = ev.num("postes_novos")
    slope = ev.num("declividade_max_pct")
    unpaved, unpaved_known = ev.flag("via_sem_pavimento")
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
            parts.append(_count(poles[i], "poste novo", "postes novos"))
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
        if not unpaved_known[i]:
            parts.append("pavimento da via desconhecido (não permite o nível I)")
        elif unpaved[i]:
            parts.append(f"via sem pavimento limita ao nível {cfg.nivel_maximo_sem_pavimento}")
        else:
            parts.append("via pavimentada")
        cap = cfg.nivel_maximo_sem_conexao_viaria
        if off_grid[i]:
            parts.append(f"pedido fora da malha viária limita ao nível {cap}")
        elif no_road[i] and not math.isnan(distance[i]):
            parts.append(f"sem ligação pela via limita ao nível {cap}")
        texts.append(f"{head[levels[i]]}: {'; '.join(parts)}.")
    return levels, texts


# ---------------------------------------------------------------------------
# Art. 12 — high-flow rural roads
# ---------------------------------------------------------------------------
def _at_least(minimum: float, text: str) -> str:
    """``text`` and, when the minimum is above one, ``", a partir de <minimum>"``."""
    return f"{text}, a partir de {format_number(minimum)}" if minimum > 1 else text


def _art12(ev: _Evidence, rules: Rules) -> tuple[np.ndarray, list[str], list[str]]:
    """Flag, signs found and motivation of a high-flow rural road (Art. 12 §1).

    Each enabled family of signs (``rules.art12.sinais``) is tested on its evidence;
    unknown evidence (NaN) never raises a sign.
    """
    cfg = rules.art12
    rural, _ = ev.flag("via_rural")
    percentile = ev.num("intermediacao_percentil")
    buildings = ev.num("edificacoes_trecho")
    stops = ev.num("paradas_onibus_via")
    counts = {col: ev.num(col) for col in cfg.equipamentos_sinal}
    names = {col: ev.text(f"{col}_nomes") for col in cfg.equipamentos_sinal}
    production = ev.num("producao_rural")
    production_names = ev.text("producao_rural_nomes")

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
    enabled = [sign for sign in ART12_SIGNS if sign in cfg.sinais]
    indication = np.zeros(ev.n, dtype=bool)
    for sign in enabled:
        found[sign] = found[sign] & rural
        indication |= found[sign]

    radius_b = format_number(rules.avaliacao.raio_edificacoes_m.valor)
    radius_s = format_number(rules.avaliacao.raio_seguranca_m.valor)
    radius_p = format_number(cfg.raio_producao_m.valor)
    texts, signs_found = [], []
    for i in range(ev.n):
        if not rural[i]:
            texts.append("")
            signs_found.append("")
            continue
        here = [sign for sign in enabled if found[sign][i]]
        signs_found.append(";".join(here))
        parts = []
        if "circulacao" in here:
            why = []
            if by_link[i]:
                why.append(
                    f"via de ligação relevante, intermediação no percentil "
                    f"{format_number(percentile[i], 0)}, a partir de "
                    f"{format_number(cfg.intermediacao_percentil_minima.valor)}"
                )
            if by_buildings[i]:
                why.append(
                    f"{_count(buildings[i], 'edificação', 'edificações')} a menos de "
                    f"{radius_b} m do trecho atendido, a partir de "
                    f"{format_number(cfg.edificacoes_minimas.valor)}"
                )
            parts.append(f"intensa circulação ({'; '.join(why)})")
        if "transporte" in here:
            what = _at_least(cfg.paradas_onibus_via_minimas.valor, _count(stops[i], *_STOPS))
            parts.append(f"utilização por transporte escolar ou coletivo ({what})")
        if "acesso" in here:
            cols = [col for col in cfg.equipamentos_sinal if counts[col][i] >= 1]
            what = _join([_count(counts[c][i], *_ACCESS_TEXT[c]) for c in cols])
            listed = "; ".join(names[c][i] for c in cols if names[c][i])
            text = f"acesso a {what} a menos de {radius_s} m"
            text = _at_least(cfg.equipamentos_minimos.valor, text)
            parts.append(f"{text} ({listed})" if listed else text)
        if "producao" in here:
            what = _at_least(
                cfg.producao_minima.valor,
                f"{_count(production[i], *_PRODUCTION)} a menos de {radius_p} m",
            )
            if production_names[i]:
                what += f": {production_names[i]}"
            parts.append(f"relevância para o escoamento da produção rural ({what})")
        if parts:
            texts.append(f"{_ART12_HEAD}: {'; '.join(parts)}. {_ART12_TAIL}")
        else:
            texts.append(_ART12_NONE)
    return indication, signs_found, texts


# ---------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------
def _unscored(ev: _Evidence) -> tuple[np.ndarray, list[str]]:
    """Rows that cannot be scored and why (not located, or an error in the spreadsheet)."""
    problems = ev.text("problemas")
    located = ~np.isnan(ev.num("x")) if "x" in ev.table else np.ones(ev.n, dtype=bool)
    mask = np.array([s == "erro" for s in ev.text("situacao")], dtype=bool) | ~located
    reasons = [""] * ev.n
    for i in np.flatnonzero(mask):
        what = "pedido não localizado" if not located[i] else "pedido com erro na planilha"
        reasons[i] = f"Não pontuado: {what}{f' ({problems[i]})' if problems[i] else ''}."
    return mask, reasons


def suggest(evidence: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Suggest the points of the five criteria of Art. 9 for every request.

    Parameters
    ----------
    evidence : DataFrame
        The evidence table (one row per request; columns in ``docs/assessment.md``).
        Absent columns and NaN/NA values are treated as unknown evidence.
    rules : Rules
        Municipality rules: weights and level points (``criterios``), thresholds
        (``pontuacao``, ``art12``) and radii (``avaliacao``).

    Returns
    -------
    DataFrame
        A copy of ``evidence`` (same index and order) with the columns of
        :data:`SUGGESTION_COLUMNS`: for each criterion ``c``, ``sugerido_<c>``
        (float points), ``nivel_<c>`` (``"I"``/``"II"``/``"III"``, ``""`` for
        beneficiarios and for unscored rows) and ``motivacao_<c>`` (Portuguese
        sentence citing the evidence); then the indication of a high-flow rural road
        (Art. 12 §1): ``indicio_art12`` (bool), ``sinais_art12`` (the families of signs
        found, ``;``-separated, e.g. ``"circulacao;acesso"``) and ``motivo_art12``
        (each sign with its evidence; ``""`` off rural roads). It is an indication
        for the Executive, not a decision (Art. 12 §2). Unscored rows (not located,
        or ``situacao == "erro"``) get 0 points, no level, a motivation saying why and
        no Art. 12 indication.
    """
    ev = _Evidence(evidence)
    unscored, reasons = _unscored(ev)
    out = evidence.copy()
    columns: dict[str, object] = {}

    points, texts = _beneficiaries(ev, rules)
    columns["sugerido_beneficiarios"] = np.where(unscored, 0.0, points)
    columns["nivel_beneficiarios"] = [""] * ev.n
    columns["motivacao_beneficiarios"] = [r or t for r, t in zip(reasons, texts, strict=True)]
    for criterion, build in (
        ("seguranca", _safety),
        ("trafego", _traffic),
        ("custo_beneficio", _cost_benefit),
        ("viabilidade", _viability),
    ):
        levels, texts = build(ev, rules)
        by_level = rules.level_points(criterion)
        level_points = np.array([by_level[code] for code in levels], dtype=float)
        columns[f"sugerido_{criterion}"] = np.where(unscored, 0.0, level_points)
        columns[f"nivel_{criterion}"] = [
            "" if skip else str(code) for skip, code in zip(unscored, levels, strict=True)
        ]
        columns[f"motivacao_{criterion}"] = [r or t for r, t in zip(reasons, texts, strict=True)]
    indication, signs, texts = _art12(ev, rules)
    columns["indicio_art12"] = indication & ~unscored
    columns["sinais_art12"] = ["" if skip else t for skip, t in zip(unscored, signs, strict=True)]
    columns["motivo_art12"] = ["" if skip else t for skip, t in zip(unscored, texts, strict=True)]

    for name in SUGGESTION_COLUMNS:
        dtype = "float64" if name.startswith("sugerido_") else "object"
        dtype = "bool" if name == "indicio_art12" else dtype
        out[name] = pd.Series(columns[name], index=evidence.index, dtype=dtype)
    return out
