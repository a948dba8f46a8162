"""Formatting helpers of the technical sheets: Brazilian numbers, dates, labels.

Every value on a sheet goes through these functions, so the HTML and the PDF write
numbers the same way (``1.234,5``, ``R$ 1.234,56``, ``dd/mm/aaaa``) and show
:data:`MISSING` where a value does not exist.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo_ip.law.phrases import HIGHWAYS, SURFACES
from geo_ip.law.scoring import format_brl, format_number
from geo_ip.outputs.styles import layer_style
from geo_ip.rules.config import Rules

__all__ = [
    "GEOCODING",
    "HIGHWAYS",
    "METHODS",
    "MISSING",
    "OSM_ELEMENTS",
    "REFERENCE_FIELDS",
    "SOURCES",
    "SURFACES",
    "TIPOS",
    "USES",
    "Item",
    "Labels",
    "as_float",
    "br_date",
    "br_dates",
    "brl",
    "candidate_stretch",
    "clean",
    "display",
    "element_reference",
    "evidence_items",
    "hours_per_day",
    "is_missing",
    "num",
    "or_missing",
    "ordinal",
    "pending_place",
    "place_ranges",
    "reference_words",
    "sentence",
    "surface",
    "timestamp",
    "value_labels",
    "worst_case",
    "yes_no",
]


@dataclass(frozen=True)
class Item:
    """One label and its formatted value."""

    rotulo: str
    valor: str


MISSING = "—"
"""Shown where a value does not exist (request not located, not scored, blank cell)."""

TIPOS = {
    "extensao_rede": (
        "Extensão de rede elétrica",
        "Art. 2, I",
        "ampliação da infraestrutura de distribuição de energia",
    ),
    "implantacao": (
        "Implantação de iluminação pública",
        "Art. 2, II",
        "instalação de iluminação em logradouro ou área pública sem qualquer estrutura",
    ),
    "melhoria": (
        "Melhoria de iluminação pública",
        "Art. 2, III",
        "substituição, modernização ou ampliação da iluminação existente",
    ),
}
GEOCODING = {
    "coordenada_informada": "coordenadas informadas no pedido",
    "numero_exato": "endereço com número exato",
    "interpolado": "número interpolado no logradouro",
    "logradouro": "ponto médio do logradouro",
    "bairro": "ponto do bairro",
    "falhou": "não localizado",
    "localizacao_confirmada": "local confirmado pela Comissão",
}
METHODS = {
    "via": "pelas vias",
    "reta_fator_desvio": "linha reta × fator de desvio (nenhuma via liga o pedido à rede)",
    "sem_rede": "sem rede utilizável nas proximidades",
    "sem_localizacao": "pedido não localizado",
}
USES = {
    "residencial": "residencial",
    "comercial": "comercial",
    "industrial": "industrial",
    "servicos": "prestação de serviços",
    "misto": "misto (residencial e outro uso)",
}
SOURCES = {
    "bdgd": "BDGD da distribuidora (ANEEL)",
    "osm": "OpenStreetMap",
    "arquivo": "arquivo do usuário",
    "usuario": "arquivo do usuário",
    "planilha": "planilha do usuário",
}
"""Sources of a grid element or a lighting point (``fonte``; the prefix of ``rede_alvo_id``)."""
_OF_SOURCE = {
    "bdgd": "da BDGD da distribuidora",
    "osm": "do OpenStreetMap",
    "arquivo": "do arquivo do usuário",
    "usuario": "do arquivo do usuário",
    "planilha": "da planilha do usuário",
}
OSM_ELEMENTS = {"node": "Nó", "way": "Linha", "relation": "Relação"}
"""OpenStreetMap element kinds (``node/123``) in words."""


def is_missing(value: Any) -> bool:
    """Tell whether a cell is empty (None, NA, NaN or blank text)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(float(value))
    return isinstance(value, str) and not value.strip()


def as_float(value: Any) -> float:
    """Convert a cell known not to be missing to ``float``."""
    return float(value)


def clean(value: Any) -> str:
    """Return a cell as stripped text, ``""`` when missing."""
    return "" if is_missing(value) else str(value).strip()


def num(value: Any, decimals: int = 1, unit: str = "", *, trim: bool = True) -> str:
    """Format a number the Brazilian way, with a unit (``12,5 m``); :data:`MISSING` if absent."""
    if is_missing(value):
        return MISSING
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return MISSING
    text = format_number(number, decimals, trim=trim)
    return f"{text} {unit}".rstrip() if unit else text


def brl(value: Any) -> str:
    """Format an amount in reais (``R$ 1.234,56``); :data:`MISSING` if absent."""
    return MISSING if is_missing(value) else format_brl(float(value))


def yes_no(value: Any) -> str:
    """Return ``sim``/``não`` for a boolean cell (or its ``sim``/``não`` text)."""
    if is_missing(value):
        return MISSING
    if isinstance(value, str):
        return value if value in ("sim", "não") else MISSING
    return "sim" if bool(value) else "não"


def br_date(value: Any) -> str:
    """Format a date as ``dd/mm/aaaa`` (date, timestamp or ISO text)."""
    if is_missing(value):
        return MISSING
    if isinstance(value, datetime | pd.Timestamp):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    text = str(value)
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2}).*", text)
    return f"{match[3]}/{match[2]}/{match[1]}" if match else text


def br_dates(text: str) -> str:
    """Rewrite ISO dates inside a sentence as ``dd/mm/aaaa``."""
    return re.sub(r"\b(\d{4})-(\d{2})-(\d{2})\b", r"\3/\2/\1", text)


def timestamp(value: Any) -> str:
    """Format an ISO date-time as ``dd/mm/aaaa hh:mm`` (``UTC`` when it is)."""
    if is_missing(value):
        return MISSING
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    suffix = " UTC" if moment.utcoffset() is not None and not moment.utcoffset() else ""
    return moment.strftime("%d/%m/%Y %H:%M") + suffix


def or_missing(text: str) -> str:
    """Return ``text``, or :data:`MISSING` when empty."""
    return text if text else MISSING


def ordinal(value: Any) -> str:
    """Format a position as an ordinal (``3º``)."""
    return MISSING if is_missing(value) else f"{int(value)}º"


PENDING_PLACE = "pendente_localizacao"
"""Situation of a request whose place is too uncertain (the Commission must confirm it)."""


def pending_place(row: Any) -> bool:
    """Tell whether a request waits for the Commission to confirm its place.

    Parameters
    ----------
    row : mapping
        A row of the assessment table (``situacao``).

    Returns
    -------
    bool
        ``situacao == "pendente_localizacao"``.
    """
    return clean(row.get("situacao")) == PENDING_PLACE


def candidate_stretch(row: Any) -> shapely.Geometry | None:
    """Return the line a request pending confirmation of its place is drawn as, or None.

    Parameters
    ----------
    row : mapping
        A row of ``Assessment.table`` (``situacao``, ``trecho_candidato``).

    Returns
    -------
    shapely.Geometry or None
        ``trecho_candidato`` (metric CRS) when ``situacao`` is ``pendente_localizacao``
        and the stretch is a non-empty geometry; None for every other request (a pin).
    """
    stretch = row.get("trecho_candidato")
    if not pending_place(row) or not isinstance(stretch, shapely.Geometry):
        return None
    return None if shapely.is_empty(stretch) else stretch


def _span(low: Any, high: Any, fmt: Any) -> str:
    """``"de A a B"``, ``"de A"`` when equal, ``""`` when unknown."""
    if is_missing(low) or is_missing(high):
        return ""
    a, b = fmt(float(low)), fmt(float(high))
    return f"de {a}" if a == b else f"de {a} a {b}"


def place_ranges(row: Any) -> list[str]:
    """Say the ranges over the candidate stretch of a request whose place is uncertain.

    Parameters
    ----------
    row : mapping
        A row with ``extensao_min_m``/``extensao_max_m``, ``postes_min``/``postes_max``,
        ``custo_min_rs``/``custo_max_rs`` and ``pontuacao_sugerida_min``/``_max``.

    Returns
    -------
    list of str
        The phrases known, in that order, e.g. ``["extensão de 4 a 7 m", "de 1 a 2
        postes novos", "custo de R$ 5.243,35 a R$ 5.378,19", "pontuação sugerida de 57
        a 60"]`` (metres and poles whole, points with one decimal when not whole; one
        value when the minimum and the maximum are the same: ``"1 poste novo"``).
    """
    out = []
    extension = _span(
        row.get("extensao_min_m"), row.get("extensao_max_m"), lambda v: format_number(v, 0)
    )
    if extension:
        out.append(f"extensão {extension} m")
    poles = _span(row.get("postes_min"), row.get("postes_max"), lambda v: format_number(v, 0))
    if poles == "de 1":
        out.append("1 poste novo")
    elif poles.count(" ") == 1:  # the same number everywhere
        out.append(f"{poles.removeprefix('de ')} postes novos")
    elif poles:
        out.append(f"{poles} postes novos")
    cost = _span(row.get("custo_min_rs"), row.get("custo_max_rs"), format_brl)
    if cost:
        out.append(f"custo {cost}")
    points = _span(
        row.get("pontuacao_sugerida_min"),
        row.get("pontuacao_sugerida_max"),
        lambda v: format_number(v, 1),
    )
    if points:
        out.append(f"pontuação sugerida {points}")
    return out


def worst_case(text: str, low: Any, high: Any, span: Callable[[Any, Any], str]) -> str:
    """Mark a figure of a request pending location as its worse case, with its range.

    Parameters
    ----------
    text : str
        The figure at the worse position (``"R$ 9.000,00"``).
    low, high : object
        The least and the most over the candidate stretch (cells, maybe missing).
    span : callable
        Formats the two as ``"A a B"``.

    Returns
    -------
    str
        ``"R$ 9.000,00 (pior caso; de R$ 5.000,00 a R$ 9.000,00 no trecho candidato)"``,
        or ``"R$ 9.000,00 (pior caso)"`` when the range is unknown.
    """
    if is_missing(low) or is_missing(high):
        return f"{text} (pior caso)"
    return f"{text} (pior caso; de {span(low, high)} no trecho candidato)"


def surface(row: dict[str, Any]) -> str:
    """Describe the road surface of a request in Portuguese (OSM ``surface`` tag)."""
    tag = clean(row.get("superficie_via"))
    unpaved = row.get("via_sem_pavimento")
    label = SURFACES.get(tag, tag)
    if not label:
        label = "sem pavimento" if unpaved is True else "não informado no OSM"
    elif unpaved is True and label != "sem pavimento":
        label += " (sem pavimento)"
    return label


def sentence(text: str) -> str:
    """Return ``text`` with its first letter in upper case (``"asfalto"`` → ``"Asfalto"``)."""
    return text[:1].upper() + text[1:]


def element_reference(value: Any) -> str:
    """Describe the reference of a grid element or an OSM feature in words.

    Parameters
    ----------
    value : object
        ``"<fonte>:<id_origem>"`` (``rede_alvo_id``, e.g. ``"bdgd:20188"``) or an OSM
        element (``"node/100005"``).

    Returns
    -------
    str
        ``"Elemento 20188 da BDGD da distribuidora"``, ``"Nó 100005 do
        OpenStreetMap"``; any other text as it is, ``""`` when missing.
    """
    text = clean(value)
    match = re.fullmatch(r"([a-z_]+):(.+)", text)
    if match and match[1] in _OF_SOURCE:
        return f"Elemento {match[2]} {_OF_SOURCE[match[1]]}"
    match = re.fullmatch(r"(node|way|relation)/(\d+)", text)
    if match:
        return f"{OSM_ELEMENTS[match[1]]} {match[2]} do OpenStreetMap"
    return text


REFERENCE_FIELDS = ("rede_alvo_id", "elemento", "osm_id", "id")
"""Fields holding an element reference (:func:`element_reference`)."""


def reference_words() -> dict[str, Any]:
    """Return the words of :func:`element_reference`, for the web maps' script.

    Returns
    -------
    dict
        ``campos`` (:data:`REFERENCE_FIELDS`), ``fontes`` (source prefix → "da BDGD da
        distribuidora"...) and ``osm`` (element kind → "Nó"...).
    """
    return {"campos": list(REFERENCE_FIELDS), "fontes": dict(_OF_SOURCE), "osm": dict(OSM_ELEMENTS)}


def value_labels(layer: str, catalog: Any = None) -> dict[str, dict[str, str]]:
    """Words for the coded values of a layer's fields, as a person reads them on a map.

    Parameters
    ----------
    layer : str
        Catalog layer (``pedidos``, ``vias``, ``rede_existente``...).
    catalog : Catalog, optional
        Layer catalog; default the bundled one.

    Returns
    -------
    dict of str to dict of str to str
        Field → code → label, e.g. ``{"tipo": {"extensao_rede": "Extensão de rede
        elétrica"}}`` for ``pedidos``; the classes of the catalog (situations, road
        hierarchy, grid types, facility categories, occurrence types, path methods),
        the request types, geocoding results, road surfaces, OSM ``highway`` values and
        sources, each starting with a capital letter.
    """
    roads = {str(c.valor): c.rotulo for c in layer_style("vias", catalog).classes if c.valor}
    surfaces = {k: sentence(v) for k, v in SURFACES.items()}
    sources = {k: sentence(v) for k, v in SOURCES.items()}
    yes_no_osm = {"yes": "sim", "no": "não"}
    if catalog is None:
        from geo_ip.sources.catalog import load_catalog

        catalog = load_catalog()
    grid = {k: t.rotulo for k, t in catalog.rede_existente.tipos.items()}
    methods = {k: sentence(v) for k, v in METHODS.items()}
    drawn = layer_style("extensoes", catalog).classes
    methods.update({str(c.valor): c.rotulo for c in drawn if c.valor})
    situations = {
        str(c.valor): c.rotulo for c in layer_style("pedidos", catalog).classes if c.valor
    }
    common = {
        "hierarquia": roads,
        "hierarquia_via": roads,
        "surface": surfaces,
        "superficie_via": surfaces,
        "highway": {k: sentence(v) for k, v in HIGHWAYS.items()},
        "lit": yes_no_osm,
        "fonte": sources,
        "situacao": situations,
        "metodo_distancia": methods,
        "rede_alvo_tipo": grid,
        "geocodificacao": {k: sentence(v) for k, v in GEOCODING.items()},
        "categoria": {k: c.rotulo for k, c in catalog.equipamentos.categorias.items()},
        "condicao_hipossuficiencia": {
            "comprovada": "Comprovada",
            "pendente": "Pendente de comprovação",
            "não comprovada": "Não comprovada",
            "não exigida": "Não exigida",
        },
    }
    own: dict[str, dict[str, dict[str, str]]] = {
        "pedidos": {"tipo": {k: v[0] for k, v in TIPOS.items()}},
        "rede_existente": {"tipo": grid},
        "ocorrencias": {
            "tipo": {str(c.valor): c.rotulo for c in layer_style("ocorrencias", catalog).classes}
        },
    }
    return {**common, **own.get(layer, {})}


def display(field: str, value: Any, labels: dict[str, dict[str, str]]) -> str:
    """Return a cell as a person reads it: a label for a code, dd/mm/aaaa for a date.

    Parameters
    ----------
    field : str
        Column name.
    value : object
        The cell (text; other values are returned as text).
    labels : dict
        :func:`value_labels` of the layer.

    Returns
    -------
    str
        The label of a coded value, an element reference in words
        (:func:`element_reference`), ISO dates as ``dd/mm/aaaa``; ``""`` when missing.
    """
    if isinstance(value, datetime | date | pd.Timestamp):
        return br_date(value)
    text = clean(value)
    if not text:
        return ""
    known = labels.get(field, {}).get(text)
    if known is not None:
        return known
    if field in REFERENCE_FIELDS:
        return element_reference(text)
    return br_dates(re.sub(r"\b(\d{4}-\d{2}-\d{2})T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?", r"\1", text))


def hours_per_day(hours: Any) -> str:
    """Say a number of hours as hours and minutes (``11.8667`` → ``"11 h 52 min"``).

    Parameters
    ----------
    hours : object
        Hours (a number or its text); :data:`MISSING` when missing or not a number.

    Returns
    -------
    str
        ``"11 h 52 min"``, ``"12 h"`` when whole (minutes rounded; 60 min carried).
    """
    if is_missing(hours):
        return MISSING
    try:
        minutes = round(float(hours) * 60)
    except (TypeError, ValueError):
        return MISSING
    h, m = divmod(minutes, 60)
    return f"{h} h {m} min" if m else f"{h} h"


class Labels:
    """Portuguese labels of the catalog classes, looked up once per run."""

    def __init__(self) -> None:
        self.roads = layer_style("vias")
        self.grid = layer_style("rede_existente")
        self.facilities = layer_style("equipamentos")
        self.occurrences = layer_style("ocorrencias")
        self.requests = layer_style("pedidos")

    @staticmethod
    def _lookup(style: Any, value: Any) -> str:
        text = clean(value)
        if not text:
            return ""
        for c in style.classes:
            if c.valor == text:
                return str(c.rotulo)
        return text

    def road(self, value: Any) -> str:
        """Label of a road class (``principal``...), lower case."""
        return self._lookup(self.roads, value).lower()

    def grid_type(self, value: Any) -> str:
        """Label of a grid element type."""
        return self._lookup(self.grid, value)

    def facility(self, value: Any) -> str:
        """Label of a facility category."""
        return self._lookup(self.facilities, value)

    def occurrence(self, value: Any) -> str:
        """Label of an occurrence type."""
        return self._lookup(self.occurrences, value)

    def situation(self, value: Any) -> str:
        """Label of a ranking situation."""
        return self._lookup(self.requests, value)


_ITEM_GROUPS = (
    ("equipamentos", "Equipamentos públicos", "raio_equipamentos_m"),
    ("seguranca", "Pontos de segurança", None),
    ("paradas_onibus_via", "Paradas na via", "distancia_parada_via_m"),
    ("ocorrencias", "Ocorrências", "raio_ocorrencias_m"),
)
_MAX_NAMED_ITEMS = 8


def _first(
    items: list[dict[str, Any]], describe: Callable[[dict[str, Any]], str], more: str = ""
) -> list[str]:
    """Describe the first :data:`_MAX_NAMED_ITEMS` items, then say how many more there are."""
    parts = [describe(e) for e in items[:_MAX_NAMED_ITEMS]]
    if len(items) > _MAX_NAMED_ITEMS:
        parts.append(f"e mais {len(items) - _MAX_NAMED_ITEMS}{more}")
    return parts


def _named(rows: list[dict[str, Any]], labels: Labels) -> list[str]:
    """Named items with category and distance; unnamed ones counted per category."""
    named = [e for e in rows if clean(e.get("nome"))]
    unnamed: dict[str, list[float]] = {}
    for e in rows:
        if not clean(e.get("nome")):
            unnamed.setdefault(labels.facility(e.get("categoria")), []).append(
                float(e.get("distancia_m") or 0.0)
            )
    parts = _first(
        named,
        lambda e: (
            f"{clean(e.get('nome'))} ({labels.facility(e.get('categoria')).lower()}, "
            f"{num(e.get('distancia_m'), 1, 'm')})"
        ),
        " com nome",
    )
    for label, distances in unnamed.items():
        span = num(min(distances), 1, "m")
        if len(distances) > 1:
            span = f"de {num(min(distances), 1)} a {num(max(distances), 1, 'm')}"
        parts.append(f"{len(distances)} × {label.lower()} sem nome ({span})")
    return parts


_SAFETY_COUNTS = (
    ("travessias", "travessias"),
    ("paradas de ônibus", "paradas_onibus"),
    ("escolas", "escolas"),
    ("creches", "creches"),
    ("unidades de saúde", "unidades_saude"),
    ("praças", "pracas"),
    ("usuários vulneráveis", "usuarios_vulneraveis"),
    ("geradores de fluxo noturno", "geradores_noturnos"),
)


def evidence_items(
    row: dict[str, Any], entries: dict[str, Any], rules: Rules, labels: Labels
) -> list[Item]:
    """Describe the counts of Art. 9 with the items behind them (names and distances)."""
    av = rules.avaliacao
    counts = {
        "equipamentos": num(row.get("equipamentos_proximos"), 0),
        "seguranca": "; ".join(
            f"{label}: {num(row.get(column), 0)}"
            for label, column in _SAFETY_COUNTS
            if num(row.get(column), 0) not in ("0", MISSING)
        )
        or "nenhum",
        "paradas_onibus_via": num(row.get("paradas_onibus_via"), 0),
        "ocorrencias": num(row.get("ocorrencias"), 0),
    }
    out = []
    for key, title, radius in _ITEM_GROUPS:
        limit = getattr(av, radius).valor if radius else av.raio_seguranca_m.valor
        heading = f"{title} ({num(limit, 0, 'm')})"
        if key == "ocorrencias":
            heading = (
                f"{title} ({num(limit, 0, 'm')}, "
                f"{num(av.periodo_ocorrencias_meses.valor, 0)} meses)"
            )
        rows = [e for e in entries.get(key) or [] if isinstance(e, dict)]
        rows.sort(key=lambda e: float(e.get("distancia_m") or 0.0))
        if key == "ocorrencias":
            parts = _first(
                rows,
                lambda e: (
                    f"{labels.occurrence(e.get('tipo')).lower() or 'ocorrência'} em "
                    f"{br_date(e.get('data'))} a {num(e.get('distancia_m'), 1, 'm')}"
                ),
            )
        else:
            parts = _named(rows, labels)
        value = counts[key]
        if parts:
            value += " — " + "; ".join(parts)
        out.append(Item(heading, value))
    return out
