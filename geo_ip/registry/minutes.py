"""The minutes (ata) of a Commission meeting, as an A4 PDF.

:func:`minutes_pdf` lays out what :class:`Minutes` holds: the municipality and the law,
the meeting's title, date and place, the members present, every decision taken in it
(protocol, criterion, points, motivation, member, vote or consensus), one signature line
per member present and the provenance line (tool version, rules hash). The text is the
registry's, escaped: nothing typed by a user is read as reportlab markup. The PDF is
built with reportlab's ``invariant`` option, so the same minutes give the same bytes.

The minutes are a public document of a public process (the law makes it so) signed by
the members: they never carry an applicant's personal data. Every text typed by a user
(the title, the place, each motivation, the vote, the remarks) goes through
:class:`geo_ip.registry.store.ApplicantNames`: CPF-shaped numbers always, and the names
of the cycle's applicants given in :attr:`Minutes.applicants` (with every part of the
name of the request a motivation is about), become ``[dado pessoal omitido]``. The
members' names stay: they sign.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from geo_ip.outputs.pdf import FONT, register_fonts
from geo_ip.registry.store import ApplicantNames

__all__ = ["Minutes", "MinutesDecision", "MinutesMember", "minutes_pdf"]


@dataclass
class MinutesMember:
    """A member present.

    Attributes
    ----------
    name : str
        The member's name.
    role : str
        The member's role label (``Presidente``, ``Membro``...).
    """

    name: str
    role: str


@dataclass
class MinutesDecision:
    """A decision taken in the meeting, as the minutes write it.

    Attributes
    ----------
    protocol : str
        The request's protocol.
    criterion : str
        The criterion's or act's label.
    points : str
        Points as written (``12,5``), ``""`` for an act.
    motivation : str
        The motivation.
    member : str
        Who proposed it.
    vote : str
        ``consenso`` or the votes; ``""`` when not recorded.
    """

    protocol: str
    criterion: str
    points: str
    motivation: str
    member: str
    vote: str


@dataclass
class Minutes:
    """Everything the minutes of one meeting say.

    Attributes
    ----------
    municipality, law : str
        The municipality and the law of the program.
    cycle : str
        The cycle's name.
    number : int
        The meeting's number in the registry.
    title, place : str
        The meeting's title and place.
    opened, closed : datetime
        When it was opened and closed (local time shown as given).
    opened_by : str
        Who opened it.
    members : sequence of MinutesMember
        The members present.
    decisions : sequence of MinutesDecision
        The decisions, in the order taken.
    notes : str
        Other remarks.
    tool_version : str
        geo_ip's version.
    rules_sha256 : str
        Hash of the cycle's rules.
    applicants : mapping of str to str
        The cycle's applicants' names by protocol
        (:func:`geo_ip.registry.store.applicants_of`), redacted from the texts; never
        printed.
    """

    municipality: str
    law: str
    cycle: str
    number: int
    title: str
    place: str
    opened: datetime
    closed: datetime
    opened_by: str
    members: Sequence[MinutesMember] = field(default_factory=list)
    decisions: Sequence[MinutesDecision] = field(default_factory=list)
    notes: str = ""
    tool_version: str = ""
    rules_sha256: str = ""
    applicants: Mapping[str, str] = field(default_factory=dict, repr=False)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=9.5, leading=12.5)
    return {
        "base": base,
        "title": ParagraphStyle(
            "title", parent=base, fontName=f"{FONT}-Bold", fontSize=13, leading=16,
            alignment=TA_CENTER, spaceAfter=2,
        ),
        "subtitle": ParagraphStyle("subtitle", parent=base, alignment=TA_CENTER, spaceAfter=8),
        "heading": ParagraphStyle(
            "heading", parent=base, fontName=f"{FONT}-Bold", fontSize=10.5, spaceBefore=8,
            spaceAfter=4,
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5),
        "head": ParagraphStyle("head", parent=base, fontName=f"{FONT}-Bold", fontSize=8.5,
                               leading=10.5),
        "small": ParagraphStyle("small", parent=base, fontSize=7, leading=9,
                                textColor=colors.HexColor("#444444")),
        "sign": ParagraphStyle("sign", parent=base, alignment=TA_CENTER, fontSize=9),
    }  # fmt: skip


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    body = escape(text or "").replace("\n", "<br/>")
    return Paragraph(body, style)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%d/%m/%Y %H:%M")


def _decisions_table(
    minutes: Minutes, names: ApplicantNames, st: dict[str, ParagraphStyle]
) -> Table:
    header = ["Protocolo", "Critério / ato", "Pontos", "Motivação", "Membro", "Votação"]
    rows: list[list[Flowable]] = [[_p(h, st["head"]) for h in header]]
    for d in minutes.decisions:
        rows.append(
            [
                _p(d.protocol, st["cell"]),
                _p(d.criterion, st["cell"]),
                _p(d.points or "—", st["cell"]),
                _p(names.redact(d.motivation, d.protocol), st["cell"]),
                _p(d.member, st["cell"]),
                _p(names.redact(d.vote) or "não registrada", st["cell"]),
            ]
        )
    widths = [24 * mm, 32 * mm, 14 * mm, 60 * mm, 26 * mm, 24 * mm]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#888888")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _signatures(minutes: Minutes, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    out: list[Flowable] = []
    for member in minutes.members:
        out.append(
            KeepTogether(
                [
                    Spacer(1, 14 * mm),
                    _p("_" * 60, st["sign"]),
                    _p(f"{member.name} — {member.role}", st["sign"]),
                ]
            )
        )
    return out


def minutes_pdf(minutes: Minutes) -> bytes:
    """Lay out the minutes of a meeting as an A4 PDF.

    Parameters
    ----------
    minutes : Minutes
        What the minutes say; the texts typed by users are redacted (module docstring).

    Returns
    -------
    bytes
        The PDF (same input, same bytes).
    """
    register_fonts()
    st = _styles()
    names = ApplicantNames(minutes.applicants)
    title, place = names.redact(minutes.title), names.redact(minutes.place)
    notes = names.redact(minutes.notes)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
        bottomMargin=15 * mm, title=f"Ata da reunião nº {minutes.number}",
        author="Comissão (geo_ip)", invariant=True,
    )  # fmt: skip
    present = "; ".join(f"{m.name} ({m.role})" for m in minutes.members) or "nenhum registrado"
    story: list[Flowable] = [
        _p(minutes.municipality, st["title"]),
        _p(
            f"Comissão de avaliação dos pedidos de iluminação pública — {minutes.law}",
            st["subtitle"],
        ),
        _p(f"Ata da reunião nº {minutes.number}: {title}", st["title"]),
        _p(
            f"Ciclo {minutes.cycle}. Local: {place or 'não informado'}. Aberta em "
            f"{_stamp(minutes.opened)} por {minutes.opened_by}; encerrada em "
            f"{_stamp(minutes.closed)}.",
            st["base"],
        ),
        _p("Membros presentes", st["heading"]),
        _p(present, st["base"]),
        _p("Decisões tomadas", st["heading"]),
    ]
    if minutes.decisions:
        story.append(_decisions_table(minutes, names, st))
    else:
        story.append(_p("Nenhuma decisão foi registrada nesta reunião.", st["base"]))
    if notes.strip():
        story += [_p("Observações", st["heading"]), _p(notes, st["base"])]
    story.append(_p("Assinaturas dos membros presentes", st["heading"]))
    story += _signatures(minutes, st)
    story += [
        Spacer(1, 8 * mm),
        _p(
            f"Documento gerado pelo geo_ip {minutes.tool_version} a partir do registro do "
            f"programa; regras sha256 {minutes.rules_sha256 or 'não registradas'}.",
            st["small"],
        ),
    ]
    doc.build(story)
    return buffer.getvalue()
