"""The public model of the portal: what a citizen may see, and nothing else (LGPD).

Both sources (an assessment folder, :mod:`geo_ip.portal.folder`; the registry,
:mod:`geo_ip.portal.registry_source`) are read into these plain records through an
explicit allow-list of fields: a column not named here never reaches the site, whatever
the source holds (names, CPF, income, CadÚnico, telephone, e-mail, the address as typed
with its house number). Every text that reaches a record passes through :func:`public_text`
(CPF-shaped numbers, e-mail addresses and telephone numbers removed) and every street
through :func:`street_only` (house numbers removed). The pages escape every value again
(Jinja2 autoescape); file names come from :func:`page_slug`, never from the raw protocol.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import shapely
from shapely.ops import substring

from geo_ip.outputs.format import is_missing
from geo_ip.requests.redaction import CPF_LIKE, REDACTED

__all__ = [
    "CRITERIA_KEYS",
    "STATUS_LABELS",
    "TYPE_LABELS",
    "CriterionScore",
    "Event",
    "Program",
    "PublicDecision",
    "PublicRequest",
    "number_or_none",
    "page_slug",
    "plain_text",
    "public_text",
    "street_level_line",
    "street_only",
]

CRITERIA_KEYS = ("beneficiarios", "seguranca", "trafego", "custo_beneficio", "viabilidade")
"""The five criteria of Art. 9, in the law's order (I to V)."""

STATUS_LABELS = {
    "classificado": "Classificado e selecionado no orçamento",
    "aguardando_orcamento": "Classificado, aguardando orçamento",
    "execucao_direta_art12": "Execução direta (Art. 12)",
    "estrategico_art11": "Pedido estratégico (Art. 11)",
    "pendente_localizacao": "Aguardando confirmação do local",
    "pendente_comprovacao": "Aguardando comprovação de hipossuficiência",
    "inelegivel": "Inelegível",
    "erro": "Com erro nos dados",
    "selecionado": "Selecionado",
    "executado": "Executado",
    "recebido": "Recebido",
    "avaliado": "Avaliado",
    "decidido": "Decidido pela Comissão",
    "proposto": "Proposto ao Secretário",
    "pendente_documentos": "Aguardando documentos",
    "pendente_vistoria": "Aguardando vistoria",
}
"""Public label of each status (the assessment's situations and the registry's statuses)."""

TYPE_LABELS = {
    "extensao_rede": "Extensão de rede elétrica (Art. 2, I)",
    "implantacao": "Implantação de iluminação pública (Art. 2, II)",
    "melhoria": "Melhoria de iluminação pública (Art. 2, III)",
}
"""Request types of Art. 2 in words."""

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w/-])(?:\(\d{2}\)\s?|\d{2}\s)9?\d{4}[\s.-]?\d{4}(?![\w/-])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

_NUMBER_MARK = re.compile(
    r"(?:,|\s)\s*(?:n[º°o.]?\s*\.?|nº|n°|num\.?|número|numero|casa|lote|lt\.?|qd\.?|quadra|"
    r"km)\s*\d.*$|(?:,\s*|\s-\s*|\s+)s/n\b.*$|(?:,\s*|\s-\s*)sn\b.*$",
    re.IGNORECASE,
)
_AFTER_COMMA_NUMBER = re.compile(r",\s*\d.*$")
_TRAILING_NUMBER = re.compile(r"\s+\d+\s*[A-Za-z]?$")
_ROAD_CODE = re.compile(r"\b[A-Z]{2,3}\s*-?\s*$")


def plain_text(value: Any, limit: int = 100) -> str:
    """Return a cell as text without control characters (for protocol numbers).

    Parameters
    ----------
    value : object
        Any cell (missing: ``""``).
    limit : int, default 100
        Longest text kept (characters).

    Returns
    -------
    str
        The text; HTML is escaped later, by the templates.
    """
    if is_missing(value):
        return ""
    return _CONTROL.sub(" ", str(value)).strip()[:limit]


_COORDINATE = re.compile(r"(?<![\w.,])-?\d{1,3}[.,]\d{4,}(?!\d)")
"""A coordinate in degrees as messages write it (``-22.902651``, ``-46,384813``)."""
HIDDEN_COORDINATE = "[coordenada omitida]"
"""What replaces a coordinate in public text."""


def public_text(value: Any, limit: int = 4000) -> str:
    """Return a cell as public text: no CPF, e-mail, telephone, coordinate or control character.

    Parameters
    ----------
    value : object
        Any cell (missing: ``""``).
    limit : int, default 4000
        Longest text kept (characters); longer ones are cut with ``…``.

    Returns
    -------
    str
        The text; HTML is escaped later, by the templates.
    """
    if is_missing(value):
        return ""
    text = _CONTROL.sub(" ", str(value)).strip()
    text = CPF_LIKE.sub(REDACTED, text)
    text = _EMAIL.sub(REDACTED, text)
    text = _PHONE.sub(REDACTED, text)
    text = _COORDINATE.sub(HIDDEN_COORDINATE, text)  # the applicant's point is their home
    return text if len(text) <= limit else text[: limit - 1] + "…"


def street_only(value: Any) -> str:
    """Return a street name without any house number (location at street level only).

    Drops what follows a comma with a number (``Rua X, 123``), a number marker
    (``nº 12``, ``casa 3``, ``s/n``) and a trailing number after a named street
    (``Avenida Brasil 1500``); keeps numbers that are part of the name
    (``Rua 7 de Setembro``, ``Rua 25``, ``Rodovia MG 290``).

    Parameters
    ----------
    value : object
        A street as found or typed (missing: ``""``).

    Returns
    -------
    str
        The street name.
    """
    text = public_text(value, limit=300)
    if not text:
        return ""
    text = _NUMBER_MARK.sub("", text)
    text = _AFTER_COMMA_NUMBER.sub("", text)
    trailing = _TRAILING_NUMBER.search(text)
    if trailing is not None:
        head = text[: trailing.start()]
        if len(head.split()) >= 2 and not _ROAD_CODE.search(head):
            text = head
    return text.strip(" ,;-")


def page_slug(protocol: str, taken: set[str]) -> str:
    """Return a safe, stable file name stem for a request's page (no path tricks).

    Letters, digits, ``-`` and ``_`` of the protocol are kept (accents folded); anything
    else becomes ``-``; a stem left empty or too long gets a short hash of the protocol;
    a stem already in ``taken`` gets ``-2``, ``-3``... (``taken`` is updated).

    Parameters
    ----------
    protocol : str
        The protocol number as recorded.
    taken : set of str
        Stems already given (updated in place).

    Returns
    -------
    str
        The stem: ``pedidos/<stem>.html``.
    """
    folded = unicodedata.normalize("NFKD", protocol)
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", plain.encode("ascii", "ignore").decode()).strip("-_")
    stem = re.sub(r"-{2,}", "-", stem)
    if not stem or len(stem) > 80:
        digest = hashlib.sha256(protocol.encode("utf-8")).hexdigest()[:12]
        stem = f"{stem[:60]}-{digest}" if stem else f"pedido-{digest}"
    base, k = stem, 2
    while stem.lower() in taken:
        stem = f"{base}-{k}"
        k += 1
    taken.add(stem.lower())
    return stem


def number_or_none(value: Any) -> float | None:
    """Return a cell as a finite float, or None."""
    if is_missing(value):
        return None
    if isinstance(value, str):
        value = value.strip().replace(",", ".")
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


@dataclass(frozen=True)
class CriterionScore:
    """One criterion of Art. 9 for one request: points and the public motivation."""

    key: str
    title: str
    weight: float
    points: float | None
    suggested: float | None
    level: str
    motivation: str
    decision: str


@dataclass(frozen=True)
class PublicDecision:
    """A decision of the Commission (or the Executive) on a request, as published."""

    protocol: str
    slug: str
    subject: str
    text: str
    official: str
    day: date | None
    kind: str = "decisao"
    """``decisao`` (a criterion or an act) or ``selecao`` (selected within the budget)."""


@dataclass(frozen=True)
class Event:
    """A step of a request's history (filed, assessed, decided, selected, executed)."""

    label: str
    day: date | None
    note: str = ""


PUBLIC_DECIMALS = 3
"""Decimal places of a published coordinate: 0.001° is about 100 m, a stretch of street,
never one house (the applicant's own point would locate their home)."""


HIDDEN_END_M = 100.0
"""Length of a proposed extension left out at the request's end: the line stops a
stretch of street before the home it serves."""
_M_PER_DEGREE = 111_320.0


def street_level_line(geom: Any) -> dict[str, Any] | None:
    """Return a proposed extension as published, without its last :data:`HIDDEN_END_M` m.

    The extension runs from the grid to the request (its last point is the request's,
    on the street or, drawn straight, at the home itself). The public map shows the work
    up to a stretch of street before it: the last 100 m, or the second half of a line
    shorter than 200 m, are left out; coordinates keep 5 decimals (about 1 m).

    Parameters
    ----------
    geom : shapely geometry or None
        The extension in WGS 84 (longitude, latitude), a LineString or MultiLineString
        whose last coordinate is the request's end.

    Returns
    -------
    dict or None
        The GeoJSON geometry; None for an empty or missing line.

    Examples
    --------
    >>> line = shapely.LineString([(-46.0, -22.0), (-46.0, -22.0 + 300 / 111_320)])
    >>> [round(y, 5) for _, y in street_level_line(line)["coordinates"]]
    [-22.0, -21.9982]
    """
    if geom is None or geom.is_empty or geom.geom_type not in ("LineString", "MultiLineString"):
        return None
    merged = shapely.line_merge(geom) if geom.geom_type == "MultiLineString" else geom
    parts = list(getattr(merged, "geoms", [merged]))
    last = parts[-1]
    # metres in a local equirectangular frame around the request's end
    scale = np.array([_M_PER_DEGREE * math.cos(math.radians(last.coords[-1][1])), _M_PER_DEGREE])
    local = shapely.transform(last, lambda xy: xy * scale)
    length = local.length
    keep = length - HIDDEN_END_M if length > 2 * HIDDEN_END_M else length / 2
    parts[-1] = shapely.transform(substring(local, 0.0, keep), lambda xy: xy / scale)
    out = parts[0] if len(parts) == 1 else shapely.MultiLineString(parts)
    out = shapely.set_precision(out, 1e-5)
    return None if out.is_empty else dict(shapely.geometry.mapping(out))


@dataclass
class PublicRequest:
    """Everything the portal shows about one request (allow-listed, redacted).

    The coordinates are rounded to :data:`PUBLIC_DECIMALS` when the request is built.
    """

    protocol: str
    slug: str
    status: str
    request_type: str
    street: str
    district: str
    latitude: float | None
    longitude: float | None
    filed: date | None
    position: int | None
    total: float | None
    cost: float | None
    share_pct: float | None
    municipal_cost: float | None
    selected: bool
    reason: str
    tie_break: str
    criteria: list[CriterionScore] = field(default_factory=list)
    decisions: list[PublicDecision] = field(default_factory=list)
    history: list[Event] = field(default_factory=list)
    report: str = ""
    ineligibility: str = ""
    hardship: str = ""

    def __post_init__(self) -> None:
        """Round the coordinates to a stretch of street (:data:`PUBLIC_DECIMALS`)."""
        if self.latitude is not None:
            self.latitude = round(self.latitude, PUBLIC_DECIMALS)
        if self.longitude is not None:
            self.longitude = round(self.longitude, PUBLIC_DECIMALS)

    @property
    def status_label(self) -> str:
        """The status in words."""
        return STATUS_LABELS.get(self.status, self.status.replace("_", " ").capitalize())

    @property
    def type_label(self) -> str:
        """The type of Art. 2 in words."""
        return TYPE_LABELS.get(self.request_type, self.request_type or "não informado")


@dataclass
class Program:
    """The whole program as published: rules, budget, requests, decisions, map layers."""

    municipality: str
    fictitious: bool
    law: str
    rules_version: str
    rules_sha256: str
    data_date: date | None
    osm_date: str
    budget: dict[str, float | None]
    requests: list[PublicRequest]
    decisions: list[PublicDecision]
    extensions: dict[str, Any]
    works: dict[str, Any]
    rules: Any = None
    """The :class:`geo_ip.rules.config.Rules` in force, when available."""
    rules_text: str = ""
    """The rules file as recorded (TOML), when available."""
    source: str = ""
    """What the site was built from, in words (``pasta de avaliação``, ``registro``)."""
