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
from geo_ip.sources.osm_features import WATERWAYS

__all__ = [
    "BACKGROUND_GROUP",
    "BACKGROUND_LAYERS",
    "EXTRA_LAYER_NAMES",
    "LAYER_NAMES",
    "LayerStyle",
    "OutputLayer",
    "SymbolClass",
    "extra_style",
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


BACKGROUND_GROUP = "Fundo (offline)"
"""QGIS layer-tree group of the territory layers that draw the municipality without internet."""
BACKGROUND_LAYERS = (
    "limite", "area_urbana", "agua", "cursos_agua", "bairros_area", "equipamentos_pegada",
    "edificacoes", "vias", "bairros",
)  # fmt: skip
"""Territory layers of :data:`BACKGROUND_GROUP`, bottom to top (roads by hierarchy,
buildings, neighbourhoods, water, urban area and municipal boundary: a map with no tiles)."""

_OSM = "OpenStreetMap — © OpenStreetMap contributors"
_POINT_FIELDS = {
    "id_ponto": "Ponto", "protocolo": "Protocolo", "latitude": "Latitude",
    "longitude": "Longitude", "endereco": "Endereço", "poste": "Poste",
    "tipo_lampada": "Tipo de lâmpada", "potencia_w": "Potência (W)", "origem": "Origem",
    "linha_arquivo": "Linha no arquivo", "observacao": "Observação",
    "proveniencia": "Proveniência",
}  # fmt: skip
_WATER_FILL, _WATER_LINE = "#aad3df", "#6fa8dc"
_WATERWAY_WIDTHS = {"river": 2.5, "canal": 1.6, "stream": 1.0}
"""Line width of each ``waterway`` (rivers wider than canals, canals than streams)."""
_WATER_FIELDS = {"nome": "Nome", "tipo": "Tipo", "osm_id": "OSM id"}
_EXTRA_FIELD = {"cursos_agua": "tipo"}
"""Layers of :data:`_EXTRA` drawn by categories of a field (the others: one symbol)."""
_EXTRA: dict[str, tuple[str, str, Geometry, str, tuple[SymbolClass, ...], dict[str, str]]] = {
    # name: (title, source, geometry, group, classes, aliases); the colours are the
    # quiet greys and tints of a base map, under the catalog's layers
    "limite": (
        "Limite do município", _OSM, "poligono", BACKGROUND_GROUP,
        (SymbolClass(rotulo="Limite do município", cor="#c8bdb2", largura=2.5,
                     tracejado=True),),
        {"nome": "Nome", "admin_level": "Nível administrativo (OSM)",
         "codigo_ibge": "Código IBGE", "osm_id": "OSM id"},
    ),
    "area_urbana": (
        "Área urbana", _OSM, "poligono", BACKGROUND_GROUP,
        (SymbolClass(rotulo="Área urbana", cor="#e4dccb", largura=0.5),),
        {"landuse": "Uso do solo (OSM landuse)", "osm_id": "OSM id"},
    ),
    "agua": (
        "Água (lagos, rios, represas)", _OSM, "poligono", BACKGROUND_GROUP,
        (SymbolClass(rotulo="Água", cor=_WATER_FILL, largura=0.3),),
        _WATER_FIELDS,
    ),
    "cursos_agua": (
        "Cursos d'água", _OSM, "linha", BACKGROUND_GROUP,
        tuple(
            SymbolClass(valor=label, rotulo=label, cor=_WATER_LINE, largura=_WATERWAY_WIDTHS[key])
            for key, label in WATERWAYS.items()
        ),
        _WATER_FIELDS,
    ),
    "bairros_area": (
        "Bairros (áreas)", _OSM, "poligono", BACKGROUND_GROUP,
        (SymbolClass(rotulo="Bairro", cor="#b9a7d0", largura=1.0, tracejado=True),),
        {"nome": "Nome", "tipo": "Tipo (OSM place)", "osm_id": "OSM id"},
    ),
    "equipamentos_pegada": (
        "Equipamentos (áreas)", _OSM, "poligono", BACKGROUND_GROUP,
        (SymbolClass(rotulo="Área de equipamento", cor="#c9b48a", largura=0.5),),
        {"nome": "Nome", "categoria": "Categoria", "osm_id": "OSM id"},
    ),
    "edificacoes": (
        "Edificações", _OSM, "ponto", BACKGROUND_GROUP,  # one point per building
        (SymbolClass(rotulo="Edificação", cor="#a8a29a", largura=1.5),),
        {"tipo": "Tipo", "logradouro": "Logradouro", "numero": "Número", "bairro": "Bairro",
         "cep": "CEP", "osm_id": "OSM id"},
    ),
    "bairros": (
        "Bairros e localidades", _OSM, "ponto", BACKGROUND_GROUP,
        (SymbolClass(rotulo="Bairro ou localidade", cor="#7b5fa6", largura=2.0),),
        {"nome": "Nome", "tipo": "Tipo (OSM place)", "osm_id": "OSM id"},
    ),
    "nos": (
        "Nós da rede viária", _OSM, "ponto", "Vias",
        (SymbolClass(rotulo="Nó (cruzamento ou fim de via)", cor="#9a9a9a", largura=1.0),),
        {"osmid": "OSM id", "street_count": "Vias no nó", "elevacao_m": "Elevação (m)"},
    ),
    "pontos_incluir": (
        "Pontos de IP a incluir no cadastro", "geo_ip (obras executadas)", "ponto",
        "Cadastro de IP",
        (SymbolClass(rotulo="Incluir", cor="#1a9850", largura=4.0),),
        {**_POINT_FIELDS, "data_energizacao": "Data de energização"},
    ),
    "pontos_excluir": (
        "Pontos de IP a excluir do cadastro", "geo_ip (pontos removidos)", "ponto",
        "Cadastro de IP",
        (SymbolClass(rotulo="Excluir", cor="#d73027", largura=4.0),),
        {**_POINT_FIELDS, "data_remocao": "Data de remoção"},
    ),
}  # fmt: skip
EXTRA_LAYER_NAMES = tuple(_EXTRA)
"""Layers the tool writes outside the catalog (territory background, cadastre package)
that still get a style of their own rather than the neutral grey of an unknown layer."""


def extra_style(name: str) -> LayerStyle | None:
    """Return the style of a layer outside the catalog, or None for an unknown one.

    Parameters
    ----------
    name : str
        A layer of :data:`EXTRA_LAYER_NAMES` (``edificacoes``, ``bairros``,
        ``pontos_incluir``...).

    Returns
    -------
    LayerStyle or None
        The layer's title, source, group and aliases, and a single symbol (or, for
        ``cursos_agua``, one per ``tipo``: rivers wider than streams).

    Examples
    --------
    >>> extra_style("edificacoes").grupo
    'Fundo (offline)'
    >>> extra_style("quadras") is None
    True
    """
    if name not in _EXTRA:
        return None
    title, source, geometry, group, classes, fields = _EXTRA[name]
    field = _EXTRA_FIELD.get(name)
    return LayerStyle(
        camada=name, titulo=title, fonte=source, geometria=geometry, grupo=group,
        tipo="categorizado" if field else "simples", campo=field, classes=classes,
        campos=fields,
    )  # fmt: skip
