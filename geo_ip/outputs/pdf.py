"""The font of every PDF geo_ip writes (technical sheets, the utility letter).

DejaVu Sans, which covers Portuguese and every sign the documents use, is taken from
matplotlib's own data (a run-time dependency already), so no font file is vendored.
This module imports nothing of geo_ip: the letter does not load the sheets to get it.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

__all__ = ["FONT", "register_fonts"]

FONT = "DejaVuSans"
"""Name of the embedded font family."""

_ready: list[bool] = []


def register_fonts() -> None:
    """Register DejaVu Sans (regular, bold, oblique, bold oblique) with reportlab, once."""
    if _ready:
        return
    import matplotlib  # only its data folder: pyplot and the backends are never loaded

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    faces = {
        FONT: "DejaVuSans.ttf",
        f"{FONT}-Bold": "DejaVuSans-Bold.ttf",
        f"{FONT}-Oblique": "DejaVuSans-Oblique.ttf",
        f"{FONT}-BoldOblique": "DejaVuSans-BoldOblique.ttf",
    }
    for name, file in faces.items():
        pdfmetrics.registerFont(TTFont(name, str(folder / file)))
    pdfmetrics.registerFontFamily(
        FONT,
        normal=FONT,
        bold=f"{FONT}-Bold",
        italic=f"{FONT}-Oblique",
        boldItalic=f"{FONT}-BoldOblique",
    )
    _ready.append(True)
