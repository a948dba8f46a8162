"""PDF layout of the technical sheets (reportlab, A4 portrait, one page per request).

Each sheet is laid out as a column of tables (platypus) inside a
:class:`~reportlab.platypus.KeepInFrame` in ``shrink`` mode: a sheet whose content
is taller than the page is scaled down as a whole instead of running onto a second
page, so ``todas.pdf`` has exactly one page per request, in ranking order.

The font is DejaVu Sans, embedded (subset) from the copy that matplotlib ships, so
accents (ç ã õ é º ª §) and any other character of street or facility names print
the same on every machine.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    Image,
    KeepInFrame,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from geo_ip.outputs.palette import PageColours, load_palette
from geo_ip.outputs.pdf import FONT
from geo_ip.outputs.pdf import register_fonts as _register_fonts
from geo_ip.outputs.sheets.content import Item, Sheet
from geo_ip.outputs.sheets.staticmap import MAP_SIZE_PX

__all__ = ["FONT", "write_pdf"]


_PAGE_W, _PAGE_H = A4
_MARGIN_X = 11 * mm
_MARGIN_TOP = 9 * mm
_MARGIN_BOTTOM = 11 * mm
_WIDTH = _PAGE_W - 2 * _MARGIN_X
_HEIGHT = _PAGE_H - _MARGIN_TOP - _MARGIN_BOTTOM
_DOCUMENT: dict[str, Any] = {
    "pagesize": A4, "leftMargin": _MARGIN_X, "rightMargin": _MARGIN_X,
    "topMargin": _MARGIN_TOP, "bottomMargin": _MARGIN_BOTTOM, "author": "geo_ip",
    "subject": "Ficha técnica de avaliação (Art. 10)", "creator": "geo_ip",
    "invariant": 1,  # no time or random id in the file: the same sheets, the same bytes
}  # fmt: skip
"""Page and metadata of every sheets' PDF (beside its title)."""
_MAP_WIDTH = 252.0


_FIT_STEPS = 3
_MIN_SCALE = 0.7


def _page() -> PageColours:
    """Return the page design (ink, band, rules, shading) of ``maps/cores.toml``.

    Shared with the utility letter and the workbooks; the map's layers take their colours
    from ``layers/`` and ``maps/``.
    """
    return load_palette().pagina


def _hex(colour: str) -> colors.Color:
    return colors.HexColor(colour)


def _styles(k: float) -> dict[str, ParagraphStyle]:
    """Paragraph styles at scale ``k`` (1.0: body text of 6.6 pt)."""

    def style(name: str, size: float, **extra: Any) -> ParagraphStyle:
        return ParagraphStyle(
            name,
            fontName=extra.pop("fontName", FONT),
            fontSize=size * k,
            leading=size * k * 1.2,
            textColor=extra.pop("textColor", _hex(_page().tinta)),
            **extra,
        )

    bold = f"{FONT}-Bold"
    return {
        "base": style("base", 6.6),
        "label": style("label", 6.6, fontName=bold),
        "key": style("key", 6.2),
        "small": style("small", 5.6),
        "head": style("head", 7.6, fontName=bold, textColor=_hex(_page().texto_faixa)),
        "title": style("title", 9.6, fontName=bold),
        "protocol": style("protocol", 12.5, fontName=bold, alignment=TA_RIGHT),
        "right": style("right", 6.6, alignment=TA_RIGHT),
        "center": style("center", 6.6, alignment=TA_CENTER),
        "alert": style("alert", 7.4, fontName=bold, textColor=_hex(_page().alerta)),
        "fiction": style(
            "fiction", 7.2, fontName=bold, textColor=_hex(_page().alerta), alignment=TA_CENTER
        ),
    }


def _k(st: dict[str, ParagraphStyle]) -> float:
    """Return the scale the styles were made at."""
    return float(st["base"].fontSize) / 6.6


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _grid(extra: Sequence[tuple[Any, ...]] = ()) -> TableStyle:
    return TableStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.25, _hex(_page().linha)),
            ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ("TOPPADDING", (0, 0), (-1, -1), 1),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            *extra,
        ]
    )


def _heading(text: str, st: dict[str, ParagraphStyle], width: float = _WIDTH) -> Table:
    table = Table([[_p(text, st["head"])]], colWidths=[width])
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), _hex(_page().faixa)),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return table


def _pairs(
    items: Sequence[Item], st: dict[str, ParagraphStyle], widths: Sequence[float], columns: int = 1
) -> Table:
    """Label/value table; ``columns`` pairs per row (``widths``: label, value per pair)."""
    rows: list[list[Any]] = []
    for start in range(0, len(items), columns):
        row: list[Any] = []
        for item in items[start : start + columns]:
            row += [_p(item.rotulo, st["key"]), _p(item.valor, st["base"])]
        row += [""] * (2 * columns - len(row))
        rows.append(row)
    shading = [
        ("BACKGROUND", (c, 0), (c, -1), _hex(_page().suave)) for c in range(0, 2 * columns, 2)
    ]
    table = Table(rows, colWidths=list(widths) * columns)
    table.setStyle(_grid(shading))
    return table


def _header(sheet: Sheet, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    out: list[Flowable] = []
    if sheet.rotulo_ficticio:
        out.append(_p(sheet.rotulo_ficticio.upper(), st["fiction"]))
    title = [
        _p(f"FICHA TÉCNICA DE AVALIAÇÃO — Art. 10 da {sheet.lei}", st["title"]),
        _p(
            f"{sheet.municipio} — Comissão de Avaliação de Iluminação Pública. Documento interno "
            "da Comissão (Arts. 7 a 10): CPF mascarado, sem nome nem renda do solicitante (LGPD).",
            st["base"],
        ),
    ]
    where = sheet.posicao if sheet.posicao != "—" else ""
    status = [
        _p(sheet.protocolo, st["protocol"]),
        _p(f"{sheet.situacao}{f' — {where} lugar' if where else ''}", st["right"]),
    ]
    table = Table([[title, status]], colWidths=[_WIDTH - 150, 150])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.8, _hex(_page().faixa)),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    out.append(table)
    if sheet.aviso:
        box = Table([[_p(sheet.aviso, st["alert"])]], colWidths=[_WIDTH])
        box.setStyle(
            _grid(
                [
                    ("BOX", (0, 0), (-1, -1), 0.8, _hex(_page().alerta)),
                    ("BACKGROUND", (0, 0), (-1, -1), _hex(_page().alterado)),
                ]
            )
        )
        out += [Spacer(1, 2), box]
    if sheet.alertas:
        text = "; ".join(f"<b>{escape(i.rotulo)}</b> — {escape(i.valor)}" for i in sheet.alertas)
        alerts = Table([[Paragraph(f"<b>Alertas:</b> {text}.", st["base"])]], colWidths=[_WIDTH])
        alerts.setStyle(
            _grid(
                [
                    ("BOX", (0, 0), (-1, -1), 0.8, _hex(_page().alerta)),
                    ("BACKGROUND", (0, 0), (-1, -1), _hex(_page().alterado)),
                ]
            )
        )
        out += [Spacer(1, 2), alerts]
    return out


def _location_block(sheet: Sheet, st: dict[str, ParagraphStyle]) -> Table:
    """Items II and III on the left, the map on the right."""
    map_width = _MAP_WIDTH
    left_width = _WIDTH - map_width - 4
    label_width = 72.0 * _k(st)
    left: list[Flowable] = [
        _heading(sheet.heading("I"), st, left_width),
        _pairs(sheet.identificacao, st, (label_width, left_width - label_width)),
        Spacer(1, 3),
        _heading(sheet.heading("II"), st, left_width),
        _pairs(sheet.local, st, (label_width, left_width - label_width)),
    ]
    height = map_width * MAP_SIZE_PX[1] / MAP_SIZE_PX[0]
    right: list[Flowable] = []
    if sheet.mapa_png:
        right.append(Image(io.BytesIO(sheet.mapa_png), width=map_width, height=height))
    right.append(
        _p(
            "Mapa do pedido: vias por hierarquia, rede e iluminação existentes, "
            "equipamentos, ocorrências, extensão proposta com os postes novos e raios "
            "das regras. © OpenStreetMap contributors.",
            st["small"],
        )
    )
    table = Table([[left, right]], colWidths=[left_width + 4, map_width])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (0, -1), 4),
                ("RIGHTPADDING", (1, 0), (1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def _criteria(sheet: Sheet, st: dict[str, ParagraphStyle]) -> Table:
    header = [
        _p("Critério (Art. 9)", st["label"]),
        _p("Máx.", st["label"]),
        _p("Nível", st["label"]),
        _p("Sug.", st["label"]),
        _p("Final", st["label"]),
        _p("Motivação (sugestão do geo_ip) e decisão da Comissão", st["label"]),
    ]
    rows: list[list[Any]] = [header]
    changed: list[tuple[Any, ...]] = []
    for n, c in enumerate(sheet.criterios, start=1):
        text: list[Flowable] = [_p(c.motivacao, st["base"])]
        if c.decisao:
            text.append(Paragraph(f"<b>Decisão da Comissão:</b> {escape(c.decisao)}", st["base"]))
        small = st["small"].fontSize
        final = f"<b>{escape(c.final)}</b>" + (
            f'<br/><font size="{small:.1f}">alterada</font>' if c.alterado else ""
        )
        rows.append(
            [
                _p(f"{c.numero} – {c.curto}", st["base"]),
                _p(c.maximo, st["center"]),
                _p(c.nivel, st["center"]),
                _p(c.sugerido, st["center"]),
                Paragraph(final, st["center"]),
                text,
            ]
        )
        if c.alterado:
            changed.append(("BACKGROUND", (4, n), (4, n), _hex(_page().alterado)))
    rows.append(
        [
            _p("Total", st["label"]),
            _p("100", st["center"]),
            "",
            _p(sheet.total_sugerido, st["center"]),
            Paragraph(f"<b>{escape(sheet.total_final)}</b>", st["center"]),
            _p(
                "Pontuação final = soma das pontuações finais (decisão da Comissão, ou a "
                "sugestão quando não houve decisão).",
                st["small"],
            ),
        ]
    )
    widths = [70.0, 22.0, 24.0, 24.0, 32.0]
    table = Table(rows, colWidths=[*widths, _WIDTH - sum(widths)], repeatRows=1)
    table.setStyle(
        _grid(
            [
                ("BACKGROUND", (0, 0), (-1, 0), _hex(_page().suave)),
                ("BACKGROUND", (0, -1), (-1, -1), _hex(_page().suave)),
                *changed,
            ]
        )
    )
    return table


def _final_block(sheet: Sheet, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    half = _WIDTH / 2
    label = 100.0 * _k(st)
    out: list[Flowable] = [
        _p(sheet.pontuacao_final, st["label"]),
        _pairs([*sheet.final, *sheet.custos], st, (label, half - label), columns=2),
    ]
    if sheet.fundamentacao:
        out.append(_p(f"Fundamentação: {sheet.fundamentacao}", st["base"]))
    return out


def _opinion(sheet: Sheet, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    out: list[Flowable] = [
        _p("Elementos para o parecer — elegibilidade (Art. 4 §2 e Art. 5):", st["label"]),
        _pairs(sheet.elegibilidade, st, (100.0 * _k(st), _WIDTH - 100.0 * _k(st))),
        Spacer(1, 3),
        _p(
            "Parecer técnico conclusivo da Comissão (a preencher pela Comissão; o geo_ip não "
            "emite parecer):",
            st["label"],
        ),
    ]
    lines = Table([[""]] * sheet.linhas_parecer, colWidths=[_WIDTH], rowHeights=11.5 * _k(st))
    lines.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.4, _hex(_page().linha))]))
    out += [
        lines,
        Spacer(1, 3),
        _p("Membros da Comissão de Avaliação de Iluminação Pública (Art. 6):", st["label"]),
    ]
    width = _WIDTH / len(sheet.assinaturas)
    line = Table([[""]], colWidths=[width - 10], rowHeights=15 * _k(st))
    line.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.5, _hex(_page().tinta))]))
    cells = [
        [
            line,
            _p(f"Área de {role.lower()}", st["center"]),
            _p("Nome: ____________________  Data: ___/___/_____", st["small"]),
        ]
        for role in sheet.assinaturas
    ]
    signatures = Table([cells], colWidths=[width] * len(cells))
    signatures.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    out.append(signatures)
    return out


def _provenance(sheet: Sheet, st: dict[str, ParagraphStyle]) -> Paragraph:
    text = " · ".join(f"<b>{escape(i.rotulo)}:</b> {escape(i.valor)}" for i in sheet.proveniencia)
    label = f" · {escape(sheet.rotulo_ficticio)}" if sheet.rotulo_ficticio else ""
    return Paragraph(
        f"<b>Proveniência</b> (ficha {escape(sheet.protocolo)}): {text} · "
        f"{escape(sheet.atribuicao)}{label}",
        st["small"],
    )


def _content(sheet: Sheet, k: float) -> list[Flowable]:
    _register_fonts()
    st = _styles(k)
    half = _WIDTH / 2
    return [
        *_header(sheet, st),
        Spacer(1, 3),
        _location_block(sheet, st),
        Spacer(1, 3),
        _heading(sheet.heading("III"), st),
        _p(sheet.resumo, st["base"]),
        _pairs(sheet.solicitacao, st, (94.0 * k, half - 94.0 * k), columns=2),
        Spacer(1, 3),
        _heading(sheet.heading("IV"), st),
        _pairs(sheet.levantamentos, st, (104.0 * k, half - 104.0 * k), columns=2),
        _pairs(sheet.itens, st, (118.0 * k, _WIDTH - 118.0 * k)),
        Spacer(1, 3),
        _heading(sheet.heading("V"), st),
        _criteria(sheet, st),
        Spacer(1, 3),
        _heading(sheet.heading("VI"), st),
        *_final_block(sheet, st),
        Spacer(1, 3),
        _heading(sheet.heading("VII"), st),
        *_opinion(sheet, st),
        Spacer(1, 3),
        _provenance(sheet, st),
    ]


def _height(content: Sequence[Flowable]) -> float:
    return float(sum(f.wrap(_WIDTH, _HEIGHT)[1] for f in content))


def sheet_flowables(sheet: Sheet) -> list[Flowable]:
    """Build the flowables of one sheet, fitted to one page.

    The sheet is laid out at full size; when taller than the page, again with every
    font (and the map) scaled down by the square root of the excess — text re-wraps,
    so the height shrinks about with the square of the scale — at most
    :data:`_FIT_STEPS` times. Whatever still does not fit is shrunk as a whole
    (:class:`~reportlab.platypus.KeepInFrame`), so a sheet is never split. The scale
    found is kept in ``sheet.escala``: the same sheet in ``todas.pdf`` is laid out once.
    """
    if sheet.escala is not None:
        content = _content(sheet, sheet.escala)
        return [KeepInFrame(_WIDTH, _HEIGHT, content, mode="shrink", hAlign="LEFT", vAlign="TOP")]
    k = 1.0
    content = _content(sheet, k)
    for _ in range(_FIT_STEPS):
        height = _height(content)
        if height <= _HEIGHT:
            break
        k = max(_MIN_SCALE, k * math.sqrt(_HEIGHT / height) * 0.995)
        content = _content(sheet, k)
        if k == _MIN_SCALE:
            break
    sheet.escala = k
    return [KeepInFrame(_WIDTH, _HEIGHT, content, mode="shrink", hAlign="LEFT", vAlign="TOP")]


class _NumberedCanvas(Canvas):
    """Canvas that writes ``página n de N`` once the page count is known."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 - reportlab's API
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(FONT, 5.6)
            self.setFillColor(_hex(_page().tinta))
            self.drawRightString(
                _PAGE_W - _MARGIN_X, _MARGIN_BOTTOM / 2, f"página {self._pageNumber} de {total}"
            )
            self.drawString(
                _MARGIN_X,
                _MARGIN_BOTTOM / 2,
                "geo_ip — ficha técnica de avaliação (Art. 10) — documento interno da Comissão",
            )
            super().showPage()
        super().save()


def write_pdf(sheets: Sequence[Sheet], path: Path, *, title: str) -> int:
    """Write the sheets to one PDF, one A4 page each.

    Parameters
    ----------
    sheets : sequence of Sheet
        In page order, each with its map (``mapa_png``).
    path : Path
        Output file.
    title : str
        Document title (PDF metadata).

    Returns
    -------
    int
        Number of pages written.
    """
    _register_fonts()
    doc = BaseDocTemplate(str(path), title=title, **_DOCUMENT)
    frame = Frame(
        _MARGIN_X,
        _MARGIN_BOTTOM,
        _WIDTH,
        _HEIGHT,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="ficha",
    )
    doc.addPageTemplates([PageTemplate(id="ficha", frames=[frame])])
    story: list[Flowable] = []
    if not sheets:
        story.append(Paragraph("Nenhum pedido na avaliação.", _styles(1.0)["label"]))
    for n, sheet in enumerate(sheets):
        if n:
            story.append(PageBreak())
        story += sheet_flowables(sheet)
    # images as binary streams: reportlab's pure-Python ASCII85 encoder is slow
    previous = rl_config.useA85
    rl_config.useA85 = 0
    try:
        doc.build(story, canvasmaker=_NumberedCanvas)
    finally:
        rl_config.useA85 = previous
    return int(doc.page)
