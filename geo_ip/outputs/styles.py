"""Symbology of every layer the tool writes, as one model for Folium and QGIS.

Each layer of the catalog (``layers/*.toml``) describes how it is drawn: a
single symbol, categories of a field, or graduated ranges of a number; the
Portuguese alias of each field (popups, attribute tables) and the group the layer
belongs to (layer control, QGIS layer tree). :func:`layer_style` turns any catalog
entry into a :class:`LayerStyle`, so the web map (:mod:`geo_ip.outputs.web.webmap`) and the
QGIS styles (:mod:`geo_ip.outputs.qgis.project`) are generated from the same data and always agree.

The territory layers keep their own tables (``vias.classes``, ``equipamentos.categorias``,
``rede_existente.tipos``); the assessment layers (``pedidos``, ``extensoes``,
``postes_propostos``, ``trechos_candidatos``, ``pontos_ip``, ``ocorrencias``) have an
``[estilo]`` table.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from geo_ip.sources.catalog import (
    Catalog,
    Geometry,
    OutputLayer,
    Renderer,
    SymbolClass,
    load_catalog,
)

__all__ = [
    "LAYER_NAMES",
    "LayerStyle",
    "OutputLayer",
    "SymbolClass",
    "layer_style",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LayerStyle(_Frozen):
    """How one layer is drawn, whatever its catalog entry looks like.

    Attributes
    ----------
    camada : str
        Layer name (in the GeoPackage).
    titulo : str
        Title shown to the user.
    fonte : str
        Data source and attribution.
    geometria : str
        ``ponto``, ``linha``, ``poligono`` or ``misto``.
    grupo : str
        Group in the layer control and in the QGIS layer tree.
    tipo : str
        ``simples``, ``categorizado`` or ``graduado``.
    campo : str or None
        Field the renderer reads.
    classes : tuple of SymbolClass
        The symbols, in legend order.
    campos : dict of str to str
        Field → Portuguese alias, in popup order.
    """

    camada: str
    titulo: str
    fonte: str
    geometria: Geometry
    grupo: str
    tipo: Renderer
    campo: str | None
    classes: tuple[SymbolClass, ...]
    campos: dict[str, str]

    def symbol_for(self, value: object) -> SymbolClass:
        """Return the class of a feature's value (the first class when nothing matches).

        Parameters
        ----------
        value : object
            Value of :attr:`campo` (ignored for a single symbol).

        Returns
        -------
        SymbolClass
            The matching class.
        """
        if self.tipo == "categorizado":
            for c in self.classes:
                if c.valor == str(value):
                    return c
        elif self.tipo == "graduado":
            try:
                number = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return self.classes[0]
            for i, c in enumerate(self.classes):
                assert c.minimo is not None and c.maximo is not None
                last = i == len(self.classes) - 1
                if c.minimo <= number < c.maximo or (last and number == c.maximo):
                    return c
        return self.classes[0]


LAYER_NAMES = (
    "vias", "rede_existente", "pontos_ip", "equipamentos", "ocorrencias",
    "trechos_candidatos", "extensoes", "postes_propostos", "pedidos",
)  # fmt: skip
"""Layers with a style, in drawing order (bottom to top)."""

_ROAD_FIELDS = {
    "name": "Nome", "highway": "Tipo OSM (highway)", "hierarquia": "Hierarquia",
    "rural": "Via rural", "surface": "Pavimento", "lit": "Iluminada (OSM)",
    "length": "Comprimento (m)", "osmid": "OSM id",
}  # fmt: skip
_FACILITY_FIELDS = {"nome": "Nome", "categoria": "Categoria", "osm_id": "OSM id"}
_GRID_FIELDS = {
    "tipo": "Tipo", "fonte": "Fonte", "id_origem": "Código na origem", "tensao_v": "Tensão (V)"
}  # fmt: skip


def layer_style(name: str, catalog: Catalog | None = None) -> LayerStyle:
    """Return the style of a catalog layer.

    Parameters
    ----------
    name : str
        One of :data:`LAYER_NAMES`.
    catalog : Catalog, optional
        The layer catalog; default: the bundled one.

    Returns
    -------
    LayerStyle
        Renderer, classes, aliases and group of the layer.

    Raises
    ------
    KeyError
        If the catalog has no such layer.
    """
    cat = catalog or load_catalog()
    if name == "vias":
        roads = cat.vias
        classes = tuple(
            SymbolClass(valor=key, rotulo=c.rotulo, cor=c.cor, largura=c.largura)
            for key, c in roads.classes.items()
        )
        return LayerStyle(
            camada="vias", titulo=roads.titulo, fonte=roads.fonte, geometria="linha",
            grupo="Vias", tipo="categorizado", campo="hierarquia", classes=classes,
            campos=_ROAD_FIELDS,
        )  # fmt: skip
    if name == "equipamentos":
        fac = cat.equipamentos
        classes = tuple(
            SymbolClass(valor=key, rotulo=c.rotulo, cor=c.cor, largura=6, icone=c.icone)
            for key, c in fac.categorias.items()
        )
        return LayerStyle(
            camada="equipamentos", titulo=fac.titulo, fonte=fac.fonte, geometria="ponto",
            grupo="Equipamentos", tipo="categorizado", campo="categoria", classes=classes,
            campos=_FACILITY_FIELDS,
        )  # fmt: skip
    if name == "rede_existente":
        grid = cat.rede_existente
        classes = tuple(
            SymbolClass(
                valor=key, rotulo=t.rotulo, cor=t.cor, largura=2.0 if t.geometria == "linha" else 3,
                geometria="linha" if t.geometria == "linha" else "ponto",
            )
            for key, t in grid.tipos.items()
        )  # fmt: skip
        return LayerStyle(
            camada="rede_existente", titulo=grid.titulo, fonte="BDGD (ANEEL), arquivo do "
            "usuário ou OpenStreetMap — © OpenStreetMap contributors", geometria="misto",
            grupo="Rede", tipo="categorizado", campo="tipo", classes=classes,
            campos=_GRID_FIELDS,
        )  # fmt: skip
    layer: OutputLayer = getattr(cat, name)
    return LayerStyle(
        camada=layer.camada,
        titulo=layer.titulo,
        fonte=layer.fonte,
        geometria=layer.geometria,
        grupo=layer.grupo,
        tipo=layer.estilo.tipo,
        campo=layer.estilo.campo,
        classes=layer.estilo.classes,
        campos=layer.campos,
    )
