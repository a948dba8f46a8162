"""The Atom 1.0 feed of the program's decisions and selections (``atom.xml``)."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, time
from urllib.parse import quote

from geo_ip.outputs.format import br_date
from geo_ip.portal.model import Program

__all__ = ["ATOM", "atom_feed"]

ATOM = "http://www.w3.org/2005/Atom"
"""The Atom namespace (RFC 4287)."""


def _stamp(day: date | None, fallback: date | None) -> str:
    moment = day or fallback or date(1970, 1, 1)
    return datetime.combine(moment, time(0, 0), tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _sub(parent: ET.Element, tag: str, text: str = "", **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text:
        element.text = text
    return element


def atom_feed(program: Program, base_url: str = "") -> bytes:
    """Build the Atom feed: one entry per decision and per selection, newest first.

    Parameters
    ----------
    program : Program
        The public model.
    base_url : str, optional
        Address where the site is published (``https://.../``): makes the links
        absolute; without it they are relative to the feed.

    Returns
    -------
    bytes
        The UTF-8 XML document.
    """
    ET.register_namespace("", ATOM)
    key = hashlib.sha256(f"{program.municipality}|{program.law}".encode()).hexdigest()[:16]
    root = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": "pt-BR"})
    _sub(root, "title", f"Programa de iluminação pública — {program.municipality}: decisões")
    subtitle = (
        f"{program.law}; regras {program.rules_version} "
        f"(sha256 {program.rules_sha256[:12]}); dados de {br_date(program.data_date)}"
    )
    _sub(root, "subtitle", subtitle)
    _sub(root, "id", f"urn:geo-ip:portal:{key}")
    entries = sorted(
        program.decisions,
        key=lambda d: (d.day or date.min, d.protocol, d.subject),
        reverse=True,
    )
    newest = max((d.day for d in entries if d.day), default=program.data_date)
    _sub(root, "updated", _stamp(newest, program.data_date))
    author = _sub(root, "author")
    _sub(author, "name", f"Comissão de Avaliação de Iluminação Pública — {program.municipality}")
    _sub(root, "link", rel="self", href=f"{base_url}atom.xml")
    _sub(root, "link", rel="alternate", type="text/html", href=f"{base_url}index.html")
    _sub(root, "generator", "geo_ip")
    for n, decision in enumerate(entries):
        entry = _sub(root, "entry")
        ident = quote(f"{decision.protocol}/{decision.kind}/{decision.subject}/{n}", safe="")
        _sub(entry, "id", f"urn:geo-ip:portal:{key}:{ident}")
        what = "Seleção" if decision.kind == "selecao" else "Decisão"
        _sub(entry, "title", f"{what} — protocolo {decision.protocol}: {decision.subject}")
        _sub(entry, "updated", _stamp(decision.day, program.data_date))
        _sub(entry, "link", rel="alternate", type="text/html",
             href=f"{base_url}pedidos/{decision.slug}.html")  # fmt: skip
        if decision.official:
            person = _sub(entry, "author")
            _sub(person, "name", decision.official)
        _sub(entry, "summary", decision.text or what, type="text")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
