"""The municipality's official letter and the utility's checklist (private, for the cadastre).

Both come from templates in ``data/templates/`` (TOML files whose texts are Jinja2
templates), so the wording can be changed without touching code:

* ``oficio_ip.toml``: the "Ofício da Prefeitura assumindo a IP", modelled on the
  description of CEMIG's annex 13 in Comunicado EM/PE 020/2024 — the municipality
  assumes in its invoice the inclusion and/or exclusion of the lighting points of the
  attached list. Written as DOCX (python-docx) and PDF (reportlab), with the same text;
* ``checklist_medida060.toml``: the steps of the request in CEMIG ATENDE taken from the
  same communiqué, as Markdown and PDF; for another distributor it says the steps are
  CEMIG's.

The PDF uses DejaVu Sans embedded, as the technical sheets (:mod:`geo_ip.outputs.sheets.pdf`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from jinja2 import Environment, StrictUndefined
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from geo_ip._util.paths import resource_dir
from geo_ip.errors import RulesError
from geo_ip.outputs.palette import PageColours, load_palette
from geo_ip.outputs.pdf import FONT
from geo_ip.outputs.pdf import register_fonts as _register_fonts

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "CHECKLIST_TEMPLATE",
    "LETTER_TEMPLATE",
    "Checklist",
    "Letter",
    "Table_",
    "build_checklist",
    "build_letter",
    "checklist_markdown",
    "date_in_words",
    "number_br",
    "points_annex",
    "write_checklist_pdf",
    "write_letter_docx",
    "write_letter_pdf",
]

LETTER_TEMPLATE = "oficio_ip.toml"
CHECKLIST_TEMPLATE = "checklist_medida060.toml"
_MONTHS = ("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto",
           "setembro", "outubro", "novembro", "dezembro")  # fmt: skip
_MARGIN = 18 * mm


def _page() -> PageColours:
    """Return the page design of ``maps/cores.toml`` (ink, band, rules): the sheet's."""
    return load_palette().pagina


def _hex(colour: str) -> colors.Color:
    return colors.HexColor(colour)


def number_br(value: float, digits: int = 2) -> str:
    """Format a number the Brazilian way: ``1234.5`` → ``"1.234,50"``.

    Parameters
    ----------
    value : float
        The number.
    digits : int, default 2
        Decimal places.

    Returns
    -------
    str
    """
    text = f"{value:,.{digits}f}"
    return text.replace(",", "X").replace(".", ",").replace("X", ".")


def date_in_words(day: date) -> str:
    """Write a date as in an official letter: ``1º de dezembro de 2026``.

    Parameters
    ----------
    day : datetime.date

    Returns
    -------
    str
    """
    first = "1º" if day.day == 1 else str(day.day)
    return f"{first} de {_MONTHS[day.month - 1]} de {day.year}"


@dataclass
class Table_:  # noqa: N801 - "Table" is reportlab's flowable
    """A table of the letter: title, header and rows of text."""

    titulo: str
    cabecalho: list[str]
    linhas: list[list[str]]
    vazio: str = "Nenhum ponto."
    pesos: list[float] | None = None
    """Relative column widths (default: from the text lengths)."""


_POINT_WEIGHTS = [4.0, 15, 10.5, 10.5, 22, 15, 7, 5, 10, 13]
"""Column widths of the attached lists (Nº, code, lat, lon, address, pole, lamp, W, date,
protocol)."""


def points_annex(
    title: str, points: gpd.GeoDataFrame, date_label: str, date_name: str, digits: int
) -> Table_:
    """Return an attached list of points: the points to include, or to exclude.

    Parameters
    ----------
    title : str
        What the points are (``Pontos a incluir``); their count is added.
    points : geopandas.GeoDataFrame
        One row per point: ``id_ponto``, ``latitude``, ``longitude``, ``endereco``,
        ``poste``, ``tipo_lampada``, ``potencia_w``, ``protocolo`` and the date.
    date_label, date_name : str
        Header and column of the date (energisation, removal).
    digits : int
        Decimal places of the coordinates.

    Returns
    -------
    Table_
        Numbered rows, in the points' order.
    """
    header = ["Nº", "Código", "Latitude", "Longitude", "Endereço", "Poste", "Lâmpada", "W"]
    rows = [
        [
            str(n),
            str(row.id_ponto),
            f"{row.latitude:.{digits}f}",
            f"{row.longitude:.{digits}f}",
            str(row.endereco),
            str(row.poste),
            str(row.tipo_lampada),
            number_br(float(row.potencia_w), 0),
            str(getattr(row, date_name)),
            str(row.protocolo),
        ]
        for n, row in enumerate(points.itertuples(index=False), start=1)
    ]
    header += [date_label, "Protocolo"]
    return Table_(f"{title} ({len(points)})", header, rows, pesos=_POINT_WEIGHTS)


@dataclass
class Letter:
    """The letter's texts after rendering the template, and its attached tables."""

    titulo: str
    cabecalho: list[str]
    numero: str
    local_data: str
    destinatario: list[str]
    assunto: str
    saudacao: str
    corpo: list[str]
    fecho: str
    assinatura: list[str]
    titulo_anexo: str
    nota_anexo: str
    anexos: list[Table_]
    titulo_resumo: str
    resumo: Table_
    rotulo_ficticio: str = ""

    def text(self) -> str:
        """All the letter's text (body and tables), one paragraph a line (for checks)."""
        parts = [self.rotulo_ficticio, *self.cabecalho, self.numero, self.local_data,
                 *self.destinatario, self.assunto, self.saudacao, *self.corpo, self.fecho,
                 *self.assinatura, self.titulo_anexo, self.nota_anexo]  # fmt: skip
        for table in (*self.anexos, self.resumo):
            parts += [table.titulo, " | ".join(table.cabecalho)]
            parts += [" | ".join(row) for row in table.linhas]
        return "\n".join(p for p in parts if p)


@dataclass
class Checklist:
    """The procedure's steps after rendering the template."""

    titulo: str
    fonte: str
    introducao: str
    passos: list[tuple[str, str]]
    aviso: str = ""
    rotulo_ficticio: str = ""
    notas: list[str] = field(default_factory=list)


def _template(name: str) -> dict[str, Any]:
    path = resource_dir("data") / "templates" / name
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulesError(f"modelo ilegível ({exc})", path=path) from exc
    return data


def _renderer(context: Mapping[str, Any]) -> Any:
    env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)

    def render(text: str) -> str:
        return " ".join(env.from_string(text).render(**context).split())

    return render


def _texts(render: Any, values: Sequence[str]) -> list[str]:
    return [t for t in (render(v) for v in values) if t]


def build_letter(
    context: Mapping[str, Any], anexos: list[Table_], resumo: Table_, *, fictional: str = ""
) -> Letter:
    """Render the letter template (``data/templates/oficio_ip.toml``).

    Parameters
    ----------
    context : mapping
        The template variables (listed at the top of the template file).
    anexos : list of Table_
        The attached lists (points to include, points to exclude).
    resumo : Table_
        The invoice change table.
    fictional : str, optional
        Label printed above the letter (the demo's fictional-data notice).

    Returns
    -------
    Letter
    """
    data = _template(LETTER_TEMPLATE)
    render = _renderer(context)
    return Letter(
        titulo=render(data["titulo"]),
        cabecalho=_texts(render, data["cabecalho"]),
        numero=render(data["numero"]),
        local_data=render(data["local_data"]),
        destinatario=_texts(render, data["destinatario"]),
        assunto=render(data["assunto"]),
        saudacao=render(data["saudacao"]),
        corpo=_texts(render, data["corpo"]),
        fecho=render(data["fecho"]),
        assinatura=_texts(render, data["assinatura"]),
        titulo_anexo=render(data["titulo_anexo"]),
        nota_anexo=render(data["nota_anexo"]),
        anexos=anexos,
        titulo_resumo=render(data["titulo_resumo"]),
        resumo=resumo,
        rotulo_ficticio=fictional,
    )


def build_checklist(
    context: Mapping[str, Any], *, cemig: bool, fictional: str = "", notes: Sequence[str] = ()
) -> Checklist:
    """Render the checklist template (``data/templates/checklist_medida060.toml``).

    Parameters
    ----------
    context : mapping
        The template variables (listed at the top of the template file).
    cemig : bool
        Whether the distributor is CEMIG; if not, the checklist opens with the notice
        that the steps are CEMIG's.
    fictional : str, optional
        The demo's fictional-data label.
    notes : sequence of str, optional
        Points for the user to check before sending (estimated positions, warnings).

    Returns
    -------
    Checklist
    """
    data = _template(CHECKLIST_TEMPLATE)
    render = _renderer({**context, "cemig": cemig})
    return Checklist(
        titulo=render(data["titulo"]),
        fonte=render(data["fonte"]),
        introducao=render(data["introducao"]),
        passos=[(render(s["titulo"]), render(s["detalhe"])) for s in data["passos"]],
        aviso="" if cemig else render(data["aviso_outra_distribuidora"]),
        rotulo_ficticio=fictional,
        notas=list(notes),
    )


def checklist_markdown(checklist: Checklist) -> str:
    """Write the checklist as Markdown (a task list).

    Parameters
    ----------
    checklist : Checklist

    Returns
    -------
    str
    """
    lines = []
    if checklist.rotulo_ficticio:
        lines += [f"**{checklist.rotulo_ficticio.upper()}**", ""]
    lines += [f"# {checklist.titulo}", ""]
    if checklist.aviso:
        lines += [f"> **{checklist.aviso}**", ""]
    lines += [checklist.introducao, ""]
    for n, (title, detail) in enumerate(checklist.passos, start=1):
        lines.append(f"- [ ] **{n}. {title}** — {detail}")
    if checklist.notas:
        lines += ["", "## Antes de enviar, confira", ""]
        lines += [f"- {note}" for note in checklist.notas]
    lines += ["", f"Fonte: {checklist.fonte}", ""]
    return "\n".join(lines)


# --- DOCX -----------------------------------------------------------------------------------


def write_letter_docx(letter: Letter, path: Path) -> None:
    """Write the letter as a Word document (python-docx).

    Parameters
    ----------
    letter : Letter
    path : Path
        Output ``.docx``.
    """
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.shared import Mm, Pt, RGBColor

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(18))
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(11)
    props = doc.core_properties
    props.title, props.author, props.comments = letter.titulo, "geo_ip", letter.rotulo_ficticio

    def paragraph(text: str, *, bold: bool = False, align: Any = None, size: float = 0) -> Any:
        par = doc.add_paragraph()
        run = par.add_run(text)
        run.bold = bold
        if size:
            run.font.size = Pt(size)
        if align is not None:
            par.alignment = align
        return par

    if letter.rotulo_ficticio:
        fiction = paragraph(
            letter.rotulo_ficticio.upper(), bold=True, align=WD_ALIGN_PARAGRAPH.CENTER
        )
        fiction.runs[0].font.color.rgb = RGBColor.from_string(_page().alerta[1:])
    for line in letter.cabecalho:
        paragraph(line, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    paragraph(letter.numero)
    paragraph(letter.local_data, align=WD_ALIGN_PARAGRAPH.RIGHT)
    for line in letter.destinatario:
        paragraph(line)
    paragraph(letter.assunto, bold=True)
    paragraph(letter.saudacao)
    for text in letter.corpo:
        paragraph(text, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    paragraph(letter.fecho)
    doc.add_paragraph()
    for line in letter.assinatura:
        paragraph(line, align=WD_ALIGN_PARAGRAPH.CENTER)

    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    paragraph(letter.titulo_anexo, bold=True, size=12)
    paragraph(letter.nota_anexo, size=9)
    for table in (*letter.anexos, letter.resumo):
        paragraph(table.titulo, bold=True)
        if not table.linhas:
            paragraph(table.vazio, size=9)
            continue
        grid = doc.add_table(rows=1 + len(table.linhas), cols=len(table.cabecalho))
        grid.style = "Table Grid"
        grid.alignment = WD_TABLE_ALIGNMENT.CENTER
        for r, row in enumerate([table.cabecalho, *table.linhas]):
            cells = grid.rows[r].cells
            for c, value in enumerate(row):
                cells[c].text = value
                for par in cells[c].paragraphs:
                    for run in par.runs:
                        run.font.size = Pt(7.5)
                        run.bold = r == 0
    doc.save(str(path))


# --- PDF ------------------------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    def style(name: str, size: float, **extra: Any) -> ParagraphStyle:
        return ParagraphStyle(
            name,
            fontName=extra.pop("fontName", FONT),
            fontSize=size,
            leading=size * 1.3,
            textColor=extra.pop("textColor", _hex(_page().tinta)),
            **extra,
        )

    bold = f"{FONT}-Bold"
    return {
        "body": style("body", 10.5, alignment=TA_JUSTIFY, spaceAfter=6),
        "plain": style("plain", 10.5, spaceAfter=2),
        "bold": style("bold", 10.5, fontName=bold, spaceAfter=6),
        "center": style("center", 10.5, alignment=TA_CENTER),
        "head": style("head", 11.5, fontName=bold, alignment=TA_CENTER),
        "right": style("right", 10.5, alignment=TA_RIGHT, spaceAfter=8),
        "title": style("title", 12, fontName=bold, spaceAfter=4),
        "small": style("small", 8, spaceAfter=4),
        "cell": style("cell", 6.6),
        "cellhead": style("cellhead", 6.6, fontName=bold, textColor=_hex(_page().texto_faixa)),
        "fiction": style(
            "fiction", 10, fontName=bold, textColor=_hex(_page().alerta), alignment=TA_CENTER
        ),
        "step": style("step", 10, spaceAfter=2, leftIndent=14, firstLineIndent=-14),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _table(table: Table_, st: dict[str, ParagraphStyle], width: float) -> list[Flowable]:
    out: list[Flowable] = [_p(table.titulo, st["bold"])]
    if not table.linhas:
        return [*out, _p(table.vazio, st["small"])]
    rows = [[_p(h, st["cellhead"]) for h in table.cabecalho]]
    rows += [[_p(v, st["cell"]) for v in row] for row in table.linhas]
    weights = table.pesos
    if weights is None:
        columns = zip(table.cabecalho, *table.linhas, strict=True)
        weights = [min(max(max(len(str(v)) for v in col), 4), 38) for col in columns]
    total = sum(weights)
    grid = Table(rows, colWidths=[width * w / total for w in weights], repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("GRID", (0, 0), (-1, -1), 0.25, _hex(_page().linha)),
                ("BACKGROUND", (0, 0), (-1, 0), _hex(_page().faixa)),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return [*out, grid, Spacer(1, 8)]


def _start(
    path: Path, title: str, fictional: str
) -> tuple[SimpleDocTemplate, dict[str, ParagraphStyle], list[Flowable]]:
    """Open a PDF: the document, its styles and the story (the fictional-data label first)."""
    doc = _document(path, title)
    st = _styles()
    story: list[Flowable] = []
    if fictional:
        story += [_p(fictional.upper(), st["fiction"]), Spacer(1, 6)]
    return doc, st, story


def _document(path: Path, title: str) -> SimpleDocTemplate:
    _register_fonts()
    return SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=title,
        author="geo_ip",
        creator="geo_ip",
        invariant=1,
    )


def write_letter_pdf(letter: Letter, path: Path) -> None:
    """Write the letter and its attached lists as an A4 PDF (reportlab).

    Parameters
    ----------
    letter : Letter
    path : Path
        Output ``.pdf``.
    """
    doc, st, story = _start(path, letter.titulo, letter.rotulo_ficticio)
    story += [_p(line, st["head"]) for line in letter.cabecalho]
    story += [Spacer(1, 14), _p(letter.numero, st["plain"]), _p(letter.local_data, st["right"])]
    story += [_p(line, st["plain"]) for line in letter.destinatario]
    story += [Spacer(1, 8), _p(letter.assunto, st["bold"]), _p(letter.saudacao, st["plain"])]
    story += [Spacer(1, 4), *(_p(text, st["body"]) for text in letter.corpo)]
    story += [_p(letter.fecho, st["plain"]), Spacer(1, 36)]
    story += [_p(line, st["center"]) for line in letter.assinatura]
    story += [PageBreak(), _p(letter.titulo_anexo, st["title"]), _p(letter.nota_anexo, st["small"])]
    width = A4[0] - 2 * _MARGIN
    for table in (*letter.anexos, letter.resumo):
        story += _table(table, st, width)
    doc.build(story)


def write_checklist_pdf(checklist: Checklist, path: Path) -> None:
    """Write the checklist as an A4 PDF (boxes to tick by hand).

    Parameters
    ----------
    checklist : Checklist
    path : Path
        Output ``.pdf``.
    """
    doc, st, story = _start(path, checklist.titulo, checklist.rotulo_ficticio)
    story.append(_p(checklist.titulo, st["title"]))
    if checklist.aviso:
        box = Table([[_p(checklist.aviso, st["bold"])]], colWidths=[A4[0] - 2 * _MARGIN])
        box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1, _hex(_page().alerta))]))
        story += [box, Spacer(1, 6)]
    story += [_p(checklist.introducao, st["body"]), Spacer(1, 4)]
    for n, (title, detail) in enumerate(checklist.passos, start=1):
        story.append(_p(f"☐ {n}. {title} — {detail}", st["step"]))
        story.append(Spacer(1, 4))
    if checklist.notas:
        story += [Spacer(1, 6), _p("Antes de enviar, confira", st["bold"])]
        story += [_p(f"• {note}", st["step"]) for note in checklist.notas]
    story += [Spacer(1, 10), _p(f"Fonte: {checklist.fonte}", st["small"])]
    doc.build(story)
