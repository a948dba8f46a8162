"""Layer catalog: the thematic layers described as data in ``layers/*.toml``.

Folium maps and QGIS styles are both generated from this catalog, and the
territory builder takes its OSM filters and category crosswalks from it, so a
change in one TOML file changes every place that uses the layer. The legal
classification of the roads (hierarchy, rural road) is not here: it is a rule of
the municipality (:mod:`geo_ip.rules.road_rules`).
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from geo_ip._util.paths import resource_dir
from geo_ip.errors import CatalogError

TagFilter = dict[str, str]
"""All tags must match; the value ``"*"`` accepts any value."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RoadClass(_Frozen):
    """Style of a road hierarchy class (principal, secundaria, local).

    Which ``highway`` values a class takes is a rule of the municipality
    (:class:`geo_ip.rules.road_rules.RoadHierarchy`), not part of the catalog.
    """

    rotulo: str
    descricao: str
    cor: str
    largura: float


class GraphFilter(_Frozen):
    """Which OSM ways enter the drivable graph."""

    highway: tuple[str, ...]
    """The accepted values, from the most important to the least: an edge that merges
    ways of different values keeps the first (:func:`geo_ip.sources.osm.highway_rank`)."""
    excluir: dict[str, tuple[str, ...]] = {}
    componente_pequena_max_arestas: int = Field(ge=0)

    def accepts(self, tags: dict[str, str]) -> bool:
        """Whether an OSM way with these tags belongs to the graph.

        Parameters
        ----------
        tags : dict of str to str
            The way's tags.

        Returns
        -------
        bool
            True when ``highway`` is listed and no exclusion tag matches.
        """
        if tags.get("highway") not in self.highway:
            return False
        return not any(tags.get(key) in values for key, values in self.excluir.items())


class UrbanLanduse(_Frozen):
    """OSM land uses read as the territory's ``area_urbana`` layer (``[area_urbana]``).

    The rural-road rule that uses the layer is a rule of the municipality
    (:class:`geo_ip.rules.road_rules.RuralRoads`).
    """

    landuse: tuple[str, ...] = Field(min_length=1)


class RoadsLayer(_Frozen):
    """Catalog entry of the ``vias`` layer."""

    camada: str
    titulo: str
    fonte: str
    geometria: str
    grafo: GraphFilter
    area_urbana: UrbanLanduse
    classes: dict[str, RoadClass]


class FacilityCategory(_Frozen):
    """A category of facility (or crossing, or bus stop) of ``layers/equipamentos.toml``.

    Every flag is required: a category that leaves one out is refused when the
    catalog is loaded (the error names the category and the key), so that no
    category counts, or fails to count, by omission.

    Attributes
    ----------
    vulneravel : bool
        Its users are vulnerable (children, patients, elderly): ``usuarios_vulneraveis``
        (Art. 9 §5, V).
    equipamento_publico : bool
        A public or community facility: ``equipamentos_proximos`` (Art. 9 §3, III).
    gerador_noturno : bool
        Generates pedestrian flow at night: ``geradores_noturnos`` (Art. 9 §7, IV).
    """

    rotulo: str
    grupo: str
    vulneravel: bool
    equipamento_publico: bool
    gerador_noturno: bool
    filtros: tuple[TagFilter, ...] = Field(min_length=1)
    cor: str
    icone: str


class FacilitiesLayer(_Frozen):
    """Catalog entry of the ``equipamentos`` layer."""

    camada: str
    titulo: str
    fonte: str
    geometria: str
    categorias: dict[str, FacilityCategory]

    def category_of(self, tags: dict[str, str]) -> str | None:
        """Return the first category whose filters match the tags.

        Parameters
        ----------
        tags : dict of str to str
            OSM tags of a node, way or relation.

        Returns
        -------
        str or None
            Category key, or None when nothing matches.
        """
        for name, category in self.categorias.items():
            for tag_filter in category.filtros:
                if all(
                    key in tags and (value == "*" or tags[key] == value)
                    for key, value in tag_filter.items()
                ):
                    return name
        return None

    @property
    def tag_keys(self) -> frozenset[str]:
        """Every tag key used by a filter (for a fast pre-filter)."""
        return frozenset(key for c in self.categorias.values() for f in c.filtros for key in f)


class GridType(_Frozen):
    """A kind of existing-grid element."""

    rotulo: str
    geometria: str
    cor: str


class BdgdMapping(_Frozen):
    """How BDGD layers map to grid types."""

    camadas: dict[str, str]
    tabela_ip: str
    chave_ip: str
    camada_postes: str
    chave_postes: str


class OsmGridMapping(_Frozen):
    """How OSM power tags map to grid types."""

    tensao_maxima_bt_v: float
    tensao_maxima_mt_v: float
    linhas: dict[str, str]
    pontos: dict[str, str]
    aviso: str


class GridLayer(_Frozen):
    """Catalog entry of the ``rede_existente`` layer."""

    camada: str
    titulo: str
    geometria: str
    tipos: dict[str, GridType]
    bdgd: BdgdMapping
    osm: OsmGridMapping


class BairrosLayer(_Frozen):
    """Catalog entry of the ``bairros`` layer (neighbourhoods and rural localities)."""

    camada: str
    titulo: str
    fonte: str
    geometria: str
    place: tuple[str, ...] = Field(min_length=1)
    admin_level: tuple[int, ...] = ()


Geometry = Literal["ponto", "linha", "poligono", "misto"]
Renderer = Literal["simples", "categorizado", "graduado"]


class SymbolClass(_Frozen):
    """One symbol: a category value, a numeric range, or the single symbol.

    Attributes
    ----------
    valor : str, optional
        Category value (``categorizado``).
    minimo, maximo : float, optional
        Range ``minimo <= x < maximo`` (``graduado``; the last class includes ``maximo``).
    rotulo : str
        Legend label, in Portuguese.
    cor : str
        ``#rrggbb``.
    largura : float
        Line width (px) or point radius (px).
    icone : str
        Font Awesome icon name for point markers ("" = circle).
    tracejado : bool
        Dashed line.
    geometria : str, optional
        Geometry of this class when the layer mixes points and lines.
    """

    valor: str | None = None
    minimo: float | None = None
    maximo: float | None = None
    rotulo: str
    cor: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")
    largura: float = Field(default=2.0, gt=0)
    icone: str = ""
    tracejado: bool = False
    geometria: Geometry | None = None


class Style(_Frozen):
    """The ``[estilo]`` table of an assessment layer."""

    tipo: Renderer
    campo: str | None = None
    classes: tuple[SymbolClass, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Style:
        if self.tipo != "simples" and not self.campo:
            raise ValueError(f"estilo '{self.tipo}' precisa de 'campo'")
        if self.tipo == "categorizado" and any(c.valor is None for c in self.classes):
            raise ValueError("estilo categorizado: toda classe precisa de 'valor'")
        if self.tipo == "graduado":
            for c in self.classes:
                if c.minimo is None or c.maximo is None or not c.minimo < c.maximo:
                    raise ValueError(f"classe '{c.rotulo}': informe minimo < maximo")
        return self


class OutputLayer(_Frozen):
    """Catalog entry of a layer written by the assessment (``layers/<name>.toml``)."""

    camada: str
    titulo: str
    fonte: str
    geometria: Geometry
    grupo: str
    estilo: Style
    alternativos: dict[str, Style] = {}
    campos: dict[str, str]


class Catalog(_Frozen):
    """The whole layer catalog."""

    vias: RoadsLayer
    equipamentos: FacilitiesLayer
    rede_existente: GridLayer
    bairros: BairrosLayer
    pontos_ip: OutputLayer
    ocorrencias: OutputLayer
    trechos_candidatos: OutputLayer
    extensoes: OutputLayer
    postes_propostos: OutputLayer
    pedidos: OutputLayer


def _read(path: Path) -> dict[str, object]:
    if not path.is_file():
        raise CatalogError("arquivo do catálogo de camadas não encontrado", path=path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(f"TOML inválido ({exc})", path=path) from exc


def load_catalog(folder: str | Path | None = None) -> Catalog:
    """Load the layer catalog from a folder of TOML files.

    Parameters
    ----------
    folder : str or Path, optional
        Folder holding ``vias.toml``, ``equipamentos.toml``,
        ``rede_existente.toml`` and ``bairros.toml``; defaults to the bundled
        ``layers/``.

    Returns
    -------
    Catalog
        The validated catalog.

    Raises
    ------
    CatalogError
        If a file is missing or invalid; the message names the file and key.
    """
    if folder is None:
        return _default_catalog()
    base = Path(folder)
    parts: dict[str, object] = {}
    for name in Catalog.model_fields:
        path = base / f"{name}.toml"
        try:
            parts[name] = Catalog.model_fields[name].annotation.model_validate(_read(path))  # type: ignore[union-attr]
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            reason = "chave obrigatória ausente" if first["type"] == "missing" else first["msg"]
            raise CatalogError(reason, path=path, field=key) from exc
    return Catalog.model_validate(parts)


@cache
def _default_catalog() -> Catalog:
    return load_catalog(resource_dir("layers"))
