"""Colours that belong to no layer (``maps/cores.toml``), one definition for every writer.

The layers' colours live in the catalog (``layers/*.toml``) and the rings' in the request
map's composition (``maps/pedido.toml``); the rest is here: the printed page shared by the
technical sheet (:mod:`geo_ip.outputs.sheets.pdf`) and the utility letter
(:mod:`geo_ip.cadastre.letter`), the header of every workbook, the paper of the sheet's
static map (:mod:`geo_ip.outputs.sheets.staticmap`), the web maps' chrome
(``geo_ip/_assets/web/geo_ip/mapa.css`` reads them as CSS variables, see
:func:`geo_ip.outputs.web.parts.palette_css`), the neutral greys and the outline of the
points of each catalog layer. :func:`load_palette` validates the file, so a colour that is
not ``#rrggbb`` or an outline of a layer that does not exist is refused with the file and
key named.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from geo_ip._util.paths import resource_dir
from geo_ip.errors import CatalogError
from geo_ip.sources.catalog import Catalog

__all__ = [
    "PALETTE_FILE",
    "PageColours",
    "Palette",
    "SheetMapColours",
    "WebColours",
    "contrast_ratio",
    "load_palette",
    "relative_luminance",
]

PALETTE_FILE = "cores.toml"
"""Name of the palette in the bundled ``maps/`` folder."""


class _Frozen(BaseModel):
    """A table of the file: read only, and a key it does not know is an error (a typo)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


Colour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]
"""A colour as ``#rrggbb`` (any other text is refused)."""


class PageColours(_Frozen):
    """The printed page: technical sheet, utility letter and workbook header.

    Attributes
    ----------
    tinta : str
        Text; also the labels of the sheet's static map and the ring around a request's
        pin on the web map.
    faixa : str
        Title bands and table headers (PDF, workbooks); the web map's title link and
        clusters.
    texto_faixa : str
        Text on the band.
    linha : str
        Table grid.
    suave : str
        Background of labels and totals.
    alterado : str
        Background of a value the Commission changed, and of warnings.
    alerta : str
        Warnings and the fictional-data label.
    """

    tinta: Colour
    faixa: Colour
    texto_faixa: Colour
    linha: Colour
    suave: Colour
    alterado: Colour
    alerta: Colour


class SheetMapColours(_Frozen):
    """The static map of the technical sheet, beyond its layers.

    Attributes
    ----------
    papel : str
        Background of the map (no tiles).
    alerta : str
        The note of a request that was not located.
    """

    papel: Colour
    alerta: Colour


class WebColours(_Frozen):
    """What the web maps' style sheet paints beyond the layers.

    Attributes
    ----------
    fundo : str
        Background of the map without a base map.
    ficticio : str
        The fictional-data badge.
    alterado : str
        A final score that differs from the suggested one (request popup).
    destaque : str
        Background of the Commission's decisions and of a place to confirm.
    decisao : str
        Border of the Commission's decisions.
    """

    fundo: Colour
    ficticio: Colour
    alterado: Colour
    destaque: Colour
    decisao: Colour


class Palette(_Frozen):
    """The colours of ``maps/cores.toml``.

    Attributes
    ----------
    neutra : str
        Grey of what neither the catalog nor a map composition describes: a GeoPackage
        layer outside the catalog (QGIS), a class left without one, a group of evidence
        no map lists.
    neutra_escura : str
        Dark grey: the frame of the sheet's static map and the web legend's line that
        stands for several colours.
    pagina : PageColours
        The printed page and the workbook header.
    mapa_ficha : SheetMapColours
        The sheet's static map.
    mapa_web : WebColours
        The web maps' chrome.
    contornos : dict of str to str
        Outline of the points of a catalog layer, on the web map (circles) and the
        sheet's static map.
    arquivo : Path, optional
        The TOML file read (set by :func:`load_palette`).
    """

    neutra: Colour
    neutra_escura: Colour
    pagina: PageColours
    mapa_ficha: SheetMapColours
    mapa_web: WebColours
    contornos: dict[str, Colour] = {}
    arquivo: Path | None = None

    def workbook_header(self, **extra: Any) -> dict[str, Any]:
        """Format of a workbook's header row (xlsxwriter): bold, the page's band colours.

        Parameters
        ----------
        **extra : object
            More format properties (``valign``, ``border``...).

        Returns
        -------
        dict
            Properties for ``Workbook.add_format``.
        """
        page = self.pagina
        return {
            "bold": True,
            "font_color": page.texto_faixa,
            "bg_color": page.faixa,
            "text_wrap": True,
            **extra,
        }


def load_palette(path: str | Path | None = None) -> Palette:
    """Load and validate the palette.

    Parameters
    ----------
    path : str or Path, optional
        A TOML file; default the bundled ``maps/cores.toml`` (read once).

    Returns
    -------
    Palette
        The colours.

    Raises
    ------
    CatalogError
        When the file is missing, is not TOML, lacks a colour, holds a colour that is
        not ``#rrggbb`` or outlines a layer the catalog does not have; the message names
        the file and the key.
    """
    if path is None:
        return _bundled()
    return _load(Path(path))


@cache
def _bundled() -> Palette:
    return _load(resource_dir("maps") / PALETTE_FILE)


def _load(path: Path) -> Palette:
    if not path.is_file():
        raise CatalogError("arquivo de cores não encontrado", path=path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        palette = Palette.model_validate({**raw, "arquivo": path})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(f"TOML inválido ({exc})", path=path) from exc
    except ValidationError as exc:
        problem = exc.errors()[0]
        missing = problem["type"] == "missing"
        key = ".".join(str(part) for part in problem["loc"])
        raise CatalogError(
            "chave obrigatória ausente" if missing else problem["msg"], path=path, field=key
        ) from exc
    unknown = sorted(set(palette.contornos) - set(Catalog.model_fields))
    if unknown:
        raise CatalogError(
            f"camada '{unknown[0]}' desconhecida", path=path, field=f"contornos.{unknown[0]}"
        )
    return palette


def relative_luminance(colour: str) -> float:
    """Relative luminance of a ``#rrggbb`` colour (WCAG 2.x), 0 (black) to 1 (white).

    Parameters
    ----------
    colour : str
        ``#rrggbb``.

    Returns
    -------
    float
        ``0.2126 R + 0.7152 G + 0.0722 B`` of the linearised sRGB channels.
    """
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """Contrast ratio of two ``#rrggbb`` colours (WCAG 2.x), from 1 to 21.

    A symbol needs 3:1 against what surrounds it (WCAG 2.1, 1.4.11 non-text contrast);
    two classes of a sequential scale whose ratio is well above 1 stay apart in grey,
    and so for every kind of colour blindness.

    Parameters
    ----------
    first, second : str
        ``#rrggbb`` colours (the order does not matter).

    Returns
    -------
    float
        ``(L1 + 0.05) / (L2 + 0.05)``, ``L1`` the lighter one's
        :func:`relative_luminance`.
    """
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
