"""Map compositions (``maps/*.toml``): which catalog layers a web map shows, and how.

A composition is data, like the layer catalog: the overview for the commission
(``maps/panorama.toml``) and the map of each request for the engineers
(``maps/pedido.toml``) list their layers bottom to top, with options (visible on
opening, clustered, popup fields, hover label, filter), the base maps, the tools and,
for the request map, the distance rings of the criteria, the colours of the evidence
counted, the labels of its side panel and what the static map of the technical sheet
(:mod:`geo_ip.outputs.sheets.staticmap`, the same request printed) draws besides: both draw
the rings and the map's own layers from this one file. :func:`load_map` validates a file against
the catalog, so a layer name, a style or a field that does not exist is refused with the
file and key named.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from geo_ip._util.paths import resource_dir
from geo_ip.errors import CatalogError
from geo_ip.outputs.styles import LAYER_NAMES, layer_style
from geo_ip.rules.sections import Assessment as AssessmentRules
from geo_ip.sources.catalog import Catalog, load_catalog

__all__ = [
    "MAP_NAMES",
    "SPECIAL_LAYERS",
    "EvidenceGroup",
    "MapLayer",
    "MapSpec",
    "Ring",
    "SheetMap",
    "SheetStrip",
    "load_map",
    "merged_rings",
]

MAP_NAMES = ("panorama", "pedido")
"""The bundled compositions."""

SPECIAL_LAYERS = {
    "pedido": ("via_pedido", "conexao", "aneis", "evidencias"),
    "panorama": (),
}
"""Layers drawn by a map itself (not in the catalog), by scope."""

_COLOUR = r"^#[0-9a-fA-F]{6}$"
Colour = Annotated[str, Field(pattern=_COLOUR)]
COLOURED_LAYERS = ("via_pedido", "conexao")
"""The map's own layers drawn in their ``cor`` (required for them)."""
RADIUS_PARAMETERS = tuple(name for name in AssessmentRules.model_fields if name.endswith("_m"))
"""Distances of ``[avaliacao]`` that a ring may show."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MapLayer(_Frozen):
    """One layer of a map, bottom to top.

    Attributes
    ----------
    camada : str
        A catalog layer (:data:`geo_ip.outputs.styles.LAYER_NAMES`) or one of the map's own
        (:data:`SPECIAL_LAYERS`).
    estilo : str, optional
        Key of an alternative style of the catalog (``alternativos``); default the
        layer's ``[estilo]``.
    titulo : str, optional
        Title in the layer control; default the catalog title (required for the
        map's own layers and for an alternative style).
    visivel : bool
        Shown when the map opens.
    agrupar : bool
        Cluster the points (only when the map has more than ``agrupar_acima_de``).
    campos : tuple of str, optional
        Popup fields, a subset of the catalog's ``campos``, in this order; default all.
    dica : str, optional
        Hover label, with ``{campo}`` placeholders.
    filtro : str
        For ``pedidos``, ``extensoes`` and ``postes_propostos`` on a request map:
        ``pedido`` (only the request), ``outros`` (the other requests around) or
        ``todos``.
    cor : str, optional
        Colour of a map's own layer.
    largura : float, optional
        Line width of a map's own layer.
    """

    camada: str
    estilo: str | None = None
    titulo: str | None = None
    visivel: bool = True
    agrupar: bool = False
    campos: tuple[str, ...] | None = None
    dica: str | None = None
    filtro: Literal["pedido", "outros", "todos"] = "todos"
    cor: str | None = Field(default=None, pattern=_COLOUR)
    largura: float | None = Field(default=None, gt=0)


class Ring(_Frozen):
    """A distance ring around the request: one radius of ``[avaliacao]`` in the rules.

    Attributes
    ----------
    parametro : str
        Name of the radius in the rules (e.g. ``raio_seguranca_m``).
    rotulo : str
        What the radius is for (legend and hover label).
    cor : str
        Line colour, on the web map and on the sheet's static map.
    rotulo_ficha : str, optional
        Short label in the legend of the sheet's static map; default :attr:`rotulo`.
    """

    parametro: str
    rotulo: str
    cor: str = Field(pattern=_COLOUR)
    rotulo_ficha: str | None = None


class EvidenceGroup(_Frozen):
    """How a group of evidence items (``Assessment.items``) is highlighted.

    Attributes
    ----------
    grupo : str
        Key of the items (``equipamentos``, ``seguranca``, ``paradas_onibus_via``,
        ``ocorrencias``).
    rotulo : str
        The criterion it counts for, in the legend and the popups.
    cor : str
        Colour of the halo and of the line to the request.
    """

    grupo: str
    rotulo: str
    cor: str = Field(pattern=_COLOUR)


class SheetStrip(_Frozen):
    """The strip along the path and around the request where buildings are counted.

    Attributes
    ----------
    parametro : str
        Its half-width, a distance of ``[avaliacao]`` in the rules
        (``raio_edificacoes_m``).
    rotulo : str
        What it is, in the legend.
    cor, borda : str
        Fill and outline colours.
    """

    parametro: str
    rotulo: str
    cor: str = Field(pattern=_COLOUR)
    borda: str = Field(pattern=_COLOUR)


class SheetMap(_Frozen):
    """What the static map of the technical sheet draws beyond the layers of the map.

    The sheet prints the request map without tiles: the catalog layers in their
    catalog symbols and the rings in their colours, plus these.

    Attributes
    ----------
    faixa : SheetStrip, optional
        The strip of the buildings counted (not drawn when absent).
    contornos : dict of str to str
        Outline colour of the points of a layer on the sheet only, over the one of
        ``maps/cores.toml`` (``[contornos]``, shared with the web map,
        :func:`geo_ip.outputs.palette.load_palette`); usually empty.
    """

    faixa: SheetStrip | None = None
    contornos: dict[str, Colour] = {}


class MapSpec(_Frozen):
    """One map composition (a ``maps/*.toml`` file).

    Attributes
    ----------
    nome : str
        ``panorama`` or ``pedido`` (the scope: one map for all requests, or one each).
    titulo : str
        Title shown at the top of the map.
    descricao : str
        What the map is for.
    fundos : tuple of str
        Base maps in the layer control, the first one selected: ``osm`` (OpenStreetMap
        tiles, the only thing that needs the internet) and ``nenhum`` (blank).
    margem_m : float
        Territory layers are cut to the requests' extent (or the request's rings and
        path) plus this margin.
    agrupar_acima_de : int
        Points of a layer with ``agrupar`` are clustered only above this count.
    zoom_maximo : int
        Largest zoom level.
    busca, tela_cheia, medicao, escala, legenda : bool
        Tools: search by protocol, fullscreen button, measure tool, scale bar, legend.
    legenda_aberta : bool
        Legend expanded when the map opens.
    camadas_recolhidas : bool
        Layer control collapsed into a button.
    painel : bool
        Side panel with the request's criteria (request map).
    camadas : tuple of MapLayer
        Layers, bottom to top.
    aneis : tuple of Ring
        Distance rings (request map).
    evidencias : tuple of EvidenceGroup
        Colours of the evidence counted (request map).
    rotulos : dict of str to str
        Labels of the side panel's fields where the catalog (``layers/pedidos.toml``,
        ``layers/extensoes.toml``) has none or the panel words them otherwise.
    ficha : SheetMap
        What the static map of the technical sheet draws besides (request map).
    arquivo : Path, optional
        The TOML file read (set by :func:`load_map`).
    """

    nome: Literal["panorama", "pedido"]
    titulo: str
    descricao: str = ""
    fundos: tuple[Literal["osm", "nenhum"], ...] = Field(default=("osm", "nenhum"), min_length=1)
    margem_m: float = Field(default=300.0, ge=0)
    agrupar_acima_de: int = Field(default=30, ge=0)
    zoom_maximo: int = Field(default=19, ge=1, le=22)
    busca: bool = True
    tela_cheia: bool = True
    medicao: bool = True
    escala: bool = True
    legenda: bool = True
    legenda_aberta: bool = True
    camadas_recolhidas: bool = False
    painel: bool = False
    camadas: tuple[MapLayer, ...] = Field(min_length=1)
    aneis: tuple[Ring, ...] = ()
    evidencias: tuple[EvidenceGroup, ...] = ()
    rotulos: dict[str, str] = {}
    ficha: SheetMap = SheetMap()
    arquivo: Path | None = None

    def layer_title(self, layer: MapLayer, catalog: Catalog | None = None) -> str:
        """Title of a layer in the layer control (the catalog's unless overridden).

        Parameters
        ----------
        layer : MapLayer
            One of :attr:`camadas`.
        catalog : Catalog, optional
            The layer catalog; default the bundled one.

        Returns
        -------
        str
            The title.
        """
        if layer.titulo:
            return layer.titulo
        return layer_style(layer.camada, catalog).titulo


def _check(spec: MapSpec, catalog: Catalog) -> None:
    """Raise ``ValueError`` (key, message) when the composition does not fit the catalog."""
    special = SPECIAL_LAYERS[spec.nome]
    for i, layer in enumerate(spec.camadas):
        key = f"camadas[{i}]"
        if layer.camada in special:
            if not layer.titulo:
                raise _ProblemError(f"{key}.titulo", f"a camada '{layer.camada}' precisa de título")
            if layer.camada in COLOURED_LAYERS and not layer.cor:
                raise _ProblemError(f"{key}.cor", f"a camada '{layer.camada}' precisa de cor")
            continue
        if layer.camada not in LAYER_NAMES:
            known = ", ".join((*LAYER_NAMES, *special))
            raise _ProblemError(
                f"{key}.camada", f"camada '{layer.camada}' desconhecida (conhecidas: {known})"
            )
        if layer.estilo is not None:
            entry = getattr(catalog, layer.camada, None)
            options = getattr(entry, "alternativos", {}) or {}
            if layer.estilo not in options:
                raise _ProblemError(
                    f"{key}.estilo",
                    f"estilo '{layer.estilo}' não existe em layers/{layer.camada}.toml "
                    f"(alternativos: {', '.join(options) or 'nenhum'})",
                )
            if not layer.titulo:
                raise _ProblemError(
                    f"{key}.titulo", "um estilo alternativo precisa de título próprio"
                )
        if layer.campos is not None:
            aliases = layer_style(layer.camada, catalog).campos
            unknown = [c for c in layer.campos if c not in aliases]
            if unknown:
                raise _ProblemError(
                    f"{key}.campos",
                    f"campo(s) {', '.join(unknown)} fora de 'campos' de layers/{layer.camada}.toml",
                )
    distances = [(f"aneis[{i}].parametro", ring.parametro) for i, ring in enumerate(spec.aneis)]
    if spec.ficha.faixa is not None:
        distances.append(("ficha.faixa.parametro", spec.ficha.faixa.parametro))
    for key, name in distances:
        if name not in RADIUS_PARAMETERS:
            raise _ProblemError(
                key,
                f"'{name}' não é um raio de [avaliacao] nas regras "
                f"({', '.join(RADIUS_PARAMETERS)})",
            )
    for name in spec.ficha.contornos:
        if name not in (*LAYER_NAMES, *special):
            raise _ProblemError(f"ficha.contornos.{name}", f"camada '{name}' desconhecida")


def merged_rings(spec: MapSpec, rules: AssessmentRules) -> list[tuple[float, tuple[Ring, ...]]]:
    """Radii of the composition's rings, equal radii merged into one ring.

    The web map and the sheet's static map both draw these: each ring in the colour of
    its first entry in the file, with the labels of every entry.

    Parameters
    ----------
    spec : MapSpec
        The request map's composition.
    rules : geo_ip.rules.sections.Assessment
        ``[avaliacao]`` of the rules (the radii).

    Returns
    -------
    list of (float, tuple of Ring)
        Radius (m) and the rings of that radius in the file's order, by radius, smallest
        first.
    """
    merged: dict[float, list[Ring]] = {}
    for ring in spec.aneis:
        merged.setdefault(float(getattr(rules, ring.parametro).valor), []).append(ring)
    return [(radius, tuple(rings)) for radius, rings in sorted(merged.items())]


class _ProblemError(Exception):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


def load_map(name_or_path: str | Path, catalog: Catalog | None = None) -> MapSpec:
    """Load and validate a map composition.

    Parameters
    ----------
    name_or_path : str or Path
        ``"panorama"``, ``"pedido"`` (the bundled ``maps/`` files) or a TOML file.
    catalog : Catalog, optional
        The layer catalog to check against; default the bundled one.

    Returns
    -------
    MapSpec
        The composition.

    Raises
    ------
    CatalogError
        When the file is missing, is not TOML, or names a layer, style, field or
        radius that does not exist; the message names the file and the key.
    """
    if catalog is None and str(name_or_path) in MAP_NAMES:
        return _bundled(str(name_or_path))
    return _load(_path_of(name_or_path), catalog or load_catalog())


def _path_of(name_or_path: str | Path) -> Path:
    if str(name_or_path) in MAP_NAMES:
        return resource_dir("maps") / f"{name_or_path}.toml"
    return Path(name_or_path)


@cache
def _bundled(name: str) -> MapSpec:
    return _load(_path_of(name), load_catalog())


def _load(path: Path, catalog: Catalog) -> MapSpec:
    if not path.is_file():
        raise CatalogError("composição de mapa não encontrada", path=path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(f"TOML inválido ({exc})", path=path) from exc
    try:
        spec = MapSpec.model_validate({**raw, "arquivo": path})
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        reason = "chave obrigatória ausente" if first["type"] == "missing" else first["msg"]
        raise CatalogError(reason, path=path, field=key) from exc
    try:
        _check(spec, catalog)
    except _ProblemError as exc:
        raise CatalogError(exc.message, path=path, field=exc.key) from exc
    return spec
