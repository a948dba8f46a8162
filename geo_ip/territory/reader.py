"""Reading a territory: the :class:`Territory` opened once per run, and the layer readers.

A territory is one GeoPackage (:func:`geo_ip.territory.build.build_territory`). A run
opens it once as a :class:`Territory` and hands that object to every stage: each layer,
the metadata, the road graph and the stored grid attachment are read from the file the
first time a stage asks and shared afterwards. The readers below (:func:`read_layer`,
:func:`read_metadata`, :func:`layer_names`, :func:`load_graph`,
:func:`read_grid_attachment`) take either the opened territory (and then use its cache)
or the GeoPackage's path (and then read the file).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import pandas as pd
import pyogrio
from pyproj import CRS

from geo_ip.errors import TerritoryError
from geo_ip.network.gridgraph import ATTACHMENT_KEY, ATTACHMENT_TABLE, Attachment

# osmnx is imported in the functions that use it: with matplotlib it takes half a
# second, which every process reading a territory (each helper too) would pay

__all__ = [
    "ARROW",
    "ARROW_MIN_ROWS",
    "GRID_COLUMNS",
    "LAYERS",
    "LIGHT_COLUMNS",
    "METADATA_TABLE",
    "NODE_COLUMNS",
    "OPTIONAL_LAYER_COLUMNS",
    "ROAD_COLUMNS",
    "Territory",
    "TerritoryLike",
    "layer_names",
    "load_graph",
    "read_dataframe",
    "read_grid_attachment",
    "read_layer",
    "read_metadata",
]

log = logging.getLogger(__name__)

ROAD_COLUMNS = [
    "u", "v", "key", "osmid", "name", "highway", "length", "surface", "lit", "lanes",
    "maxspeed", "oneway", "hierarquia", "rural", "componente", "componente_pequena",
    "declividade_pct", "geometry",
]  # fmt: skip
NODE_COLUMNS = ["osmid", "x", "y", "street_count", "componente", "elevacao_m", "geometry"]
GRID_COLUMNS = ["fonte", "tipo", "id_origem", "tensao_v", "geometry"]
LIGHT_COLUMNS = [
    "fonte", "id_origem", "poste_id", "potencia_w", "tipo_lampada", "energia_kwh_ano", "geometry",
]  # fmt: skip
LAYERS = (
    "vias", "nos", "rede_existente", "pontos_ip", "equipamentos", "equipamentos_pegada",
    "edificacoes", "area_urbana", "limite", "bairros", "bairros_area",
)  # fmt: skip
METADATA_TABLE = "metadados"
OPTIONAL_LAYER_COLUMNS: dict[str, list[str]] = {
    "rede_existente": GRID_COLUMNS,
    "pontos_ip": LIGHT_COLUMNS,
    "equipamentos": ["osm_id", "categoria", "grupo", "vulneravel", "nome", "geometry"],
    "equipamentos_pegada": ["osm_id", "categoria", "nome", "geometry"],
    "edificacoes": ["osm_id", "tipo", "logradouro", "numero", "bairro", "cep", "geometry"],
    "agua": ["osm_id", "tipo", "nome", "geometry"],
    "cursos_agua": ["osm_id", "tipo", "nome", "geometry"],
}
"""Layers later steps can do without, and their columns when absent (see :func:`read_layer`)."""

ARROW = importlib.util.find_spec("pyarrow") is not None
"""Whether pyogrio can read and write through Arrow (about 2.5× faster on large layers)."""
ARROW_MIN_ROWS = 10_000
"""Layers at least this long are written through Arrow when it is available."""


class Territory:
    """A territory GeoPackage opened for one run: every layer read once, then shared.

    The stages of a run receive this object instead of the file's path. The first stage
    that asks for a layer reads it; the others get the same table. Tables are shared:
    a stage that needs to change one works on a copy. The object is safe to use from
    the pipeline's threads (one read per layer) and pickles as its path alone, so a
    worker process opens the territory again and reads only what it needs.

    Parameters
    ----------
    path : str or Path
        The territory GeoPackage.

    Raises
    ------
    TerritoryError
        If the file is missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise TerritoryError("território não encontrado", path=self.path)
        self._lock = threading.Lock()
        self._layer_locks: dict[str, threading.Lock] = {}
        self._layers: dict[str, gpd.GeoDataFrame] = {}
        self._names: set[str] | None = None
        self._graph: nx.MultiDiGraph | None = None
        self._attachment: tuple[Attachment | None] | None = None
        self._metadata: dict[str, Any] | None = None

    @classmethod
    def open(cls, territory: TerritoryLike) -> Territory:
        """Return ``territory`` itself when already opened, else open its GeoPackage.

        Parameters
        ----------
        territory : Territory, str or Path
            An opened territory or the path of its GeoPackage.

        Returns
        -------
        Territory
            The opened territory.
        """
        return territory if isinstance(territory, Territory) else cls(territory)

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __str__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"Territory({str(self.path)!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])  # type: ignore[misc]

    @property
    def metadata(self) -> dict[str, Any]:
        """The provenance metadata (``crs``, ``fontes``, ``contagens``...), read once.

        Raises
        ------
        TerritoryError
            If the GeoPackage has no metadata table (not a territory of geo_ip).
        """
        with self._lock:
            if self._metadata is None:
                self._metadata = _metadata_of_file(self.path)
            return self._metadata

    @property
    def crs(self) -> str:
        """The territory's metric CRS (SIRGAS 2000 / UTM), as recorded at build."""
        return str(self.metadata["crs"])

    @property
    def names(self) -> set[str]:
        """The names of the GeoPackage's layers and tables."""
        with self._lock:
            if self._names is None:
                self._names = _names_of_file(self.path)
            return self._names

    def layer(self, name: str, *, missing_ok: bool = False) -> gpd.GeoDataFrame:
        """Return one layer, read from the file the first time only.

        Parameters
        ----------
        name : str
            One of :data:`LAYERS`.
        missing_ok : bool, default False
            As in :func:`read_layer`.

        Returns
        -------
        geopandas.GeoDataFrame
            The layer in the territory's CRS (shared: copy it before changing it).
        """
        names = self.names
        if name not in names and not missing_ok:
            return _layer_of_file(self.path, name, names=names)  # raises: no such layer
        with self._lock:
            lock = self._layer_locks.setdefault(name, threading.Lock())
        with lock:  # the frame itself is returned: forget_layers may clear the cache
            frame = self._layers.get(name)
            if frame is None:
                frame = _layer_of_file(self.path, name, missing_ok=missing_ok, names=names)
                self._layers[name] = frame
            return frame

    def layer_crs(self, name: str) -> str:
        """Return a layer's CRS as its table would say it, without reading its features.

        Parameters
        ----------
        name : str
            One of :data:`LAYERS`.

        Returns
        -------
        str
            ``str(territory.layer(name).crs)``, e.g. ``"EPSG:31983"``.
        """
        with self._lock:
            read = self._layers.get(name)
        if read is not None:
            return str(read.crs)
        if name not in self.names:
            return str(self.layer(name).crs)  # raises: no such layer
        return str(CRS.from_user_input(pyogrio.read_info(self.path, layer=name)["crs"]))

    def columns(self, name: str, columns: Sequence[str]) -> gpd.GeoDataFrame:
        """Return some columns of a layer (and its geometry), read once.

        When the whole layer has been read, its columns are taken from it; otherwise
        only these columns are read (much faster on a large layer, such as the
        buildings when no stage needs their addresses) and kept for the next asker.

        Parameters
        ----------
        name : str
            One of :data:`LAYERS` (present in the territory).
        columns : sequence of str
            The attribute columns wanted (those the layer lacks are left out).

        Returns
        -------
        geopandas.GeoDataFrame
            The columns and the geometry (shared: copy it before changing it).
        """
        with self._lock:
            whole = self._layers.get(name)
        if whole is not None:
            return whole[[c for c in (*columns, whole.geometry.name) if c in whole.columns]]
        key = f"{name}[{','.join(columns)}]"
        with self._lock:
            lock = self._layer_locks.setdefault(key, threading.Lock())
        with lock:
            frame = self._layers.get(key)
            if frame is None:
                fields = {str(f) for f in pyogrio.read_info(self.path, layer=name)["fields"]}
                wanted = [c for c in columns if c in fields]
                frame = read_dataframe(self.path, name, columns=wanted)
                self._layers[key] = frame
            return frame

    def graph(self) -> nx.MultiDiGraph:
        """Return the projected road graph, built once from ``nos`` and ``vias``."""
        nodes, edges = self.layer("nos"), self.layer("vias")
        with self._lock:
            if self._graph is None:
                self._graph = _graph_of(nodes, edges)
            return self._graph

    def grid_attachment(self) -> Attachment | None:
        """Return the grid attachment stored at build (``None`` when it has none)."""
        names = self.names  # both read once, outside the lock they take themselves
        try:
            metadata = self.metadata if METADATA_TABLE in names else {}
        except TerritoryError:
            metadata = {}
        with self._lock:
            if self._attachment is None:
                self._attachment = (_attachment_of_file(self.path, names, metadata),)
            return self._attachment[0]

    def forget_layers(self) -> None:
        """Drop the layers, graph and attachment read so far; they are read again if asked.

        For a step that reads none of them, e.g. the tables and GeoPackage of an
        assessment without maps: at a million edges the cached roads, grid, lamps and
        buildings are about a gigabyte, which the outputs and their helper process need.
        """
        with self._lock:
            self._layers.clear()
            self._graph = None
            self._attachment = None


TerritoryLike = Territory | str | Path
"""What the stages accept as a territory: the opened :class:`Territory` or its path."""


def read_metadata(path: TerritoryLike) -> dict[str, Any]:
    """Read the provenance metadata of a territory.

    Parameters
    ----------
    path : Territory, str or Path
        The opened territory or its GeoPackage.

    Returns
    -------
    dict
        Keys such as ``versao_ferramenta``, ``crs``, ``fontes``, ``contagens``.

    Raises
    ------
    TerritoryError
        If the file is missing or has no metadata table.
    """
    return path.metadata if isinstance(path, Territory) else _metadata_of_file(path)


def layer_names(path: TerritoryLike) -> set[str]:
    """Return the names of the layers of a territory.

    Parameters
    ----------
    path : Territory, str or Path
        The opened territory or its GeoPackage.

    Returns
    -------
    set of str
        Its layers and tables.

    Raises
    ------
    TerritoryError
        If the file is missing or is not a GeoPackage.
    """
    return set(path.names) if isinstance(path, Territory) else _names_of_file(path)


def read_layer(path: TerritoryLike, layer: str, *, missing_ok: bool = False) -> gpd.GeoDataFrame:
    """Read one layer of a territory.

    Parameters
    ----------
    path : Territory, str or Path
        The opened territory (the layer is then read once and shared) or its
        GeoPackage.
    layer : str
        One of :data:`LAYERS`.
    missing_ok : bool, default False
        For a layer of :data:`OPTIONAL_LAYER_COLUMNS`: when it is absent, log a
        warning and return it empty (its columns, the territory's CRS) instead of
        raising, so one missing layer never stops an assessment.

    Returns
    -------
    GeoDataFrame
        The layer in the territory's CRS.

    Raises
    ------
    TerritoryError
        If the file or the layer is missing, or the file is not a GeoPackage.
    """
    if isinstance(path, Territory):
        return path.layer(layer, missing_ok=missing_ok)
    return _layer_of_file(path, layer, missing_ok=missing_ok)


def load_graph(path: TerritoryLike) -> nx.MultiDiGraph:
    """Rebuild the projected road graph from a territory.

    Parameters
    ----------
    path : Territory, str or Path
        The opened territory or its GeoPackage
        (:func:`geo_ip.territory.build.build_territory`).

    Returns
    -------
    networkx.MultiDiGraph
        osmnx-compatible graph in the territory's metric CRS.
    """
    if isinstance(path, Territory):
        return path.graph()
    return _graph_of(read_layer(path, "nos"), read_layer(path, "vias"))


def read_grid_attachment(path: TerritoryLike) -> Attachment | None:
    """Return the grid attachment stored in a territory, or ``None`` when it has none.

    Parameters
    ----------
    path : Territory, str or Path
        The opened territory or its GeoPackage.

    Returns
    -------
    Attachment or None
        Record and table as :func:`geo_ip.territory.build.grid_attachment` computed them
        (territories built before the table existed have none: the network computes it).
    """
    if isinstance(path, Territory):
        return path.grid_attachment()
    return _attachment_of_file(path)


# --- the file itself ------------------------------------------------------------------------


def _read_metadata(path: Path) -> dict[str, Any]:
    df = pyogrio.read_dataframe(path, layer=METADATA_TABLE, read_geometry=False)
    return {row.chave: json.loads(row.valor) for row in df.itertuples()}


def _metadata_of_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise TerritoryError("território não encontrado", path=path)
    try:
        return _read_metadata(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise TerritoryError(
            f"não é um território do geo_ip (falta a tabela '{METADATA_TABLE}')", path=path
        ) from exc


def _names_of_file(path: str | Path) -> set[str]:
    path = Path(path)
    if not path.is_file():
        raise TerritoryError("território não encontrado", path=path)
    try:
        return {str(n) for n in pyogrio.list_layers(path)[:, 0]}
    except pyogrio.errors.DataSourceError as exc:
        raise TerritoryError(f"território ilegível ({exc})", path=path) from exc


def _layer_of_file(
    path: str | Path, layer: str, *, missing_ok: bool = False, names: set[str] | None = None
) -> gpd.GeoDataFrame:
    path = Path(path)
    names = _names_of_file(path) if names is None else names
    if layer not in names and missing_ok and layer in OPTIONAL_LAYER_COLUMNS:
        log.warning(
            "arquivo '%s': a camada '%s' não existe no território; seguindo sem ela", path, layer
        )
        crs = pyogrio.read_info(path, layer="vias")["crs"] if "vias" in names else None
        columns = [c for c in OPTIONAL_LAYER_COLUMNS[layer] if c != "geometry"]
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in columns}, geometry=[], crs=crs)
    if layer not in names:
        raise TerritoryError(
            f"a camada '{layer}' não existe no território (camadas: {', '.join(sorted(names))})",
            path=path,
            field=layer,
        )
    return read_dataframe(path, layer)


def _graph_of(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame) -> nx.MultiDiGraph:
    import osmnx as ox

    return ox.graph_from_gdfs(nodes.set_index("osmid"), edges.set_index(["u", "v", "key"]))


def _attachment_of_file(
    path: str | Path, names: set[str] | None = None, metadata: dict[str, Any] | None = None
) -> Attachment | None:
    """Read the stored attachment; ``names`` and ``metadata`` when the caller has them."""
    try:
        if names is None:
            names = {str(n) for n in pyogrio.list_layers(path)[:, 0]}
        if ATTACHMENT_TABLE not in names or METADATA_TABLE not in names:
            return None
        if metadata is None:
            metadata = _read_metadata(Path(path))
        record = metadata.get(ATTACHMENT_KEY)
        if not isinstance(record, dict):
            return None
        return Attachment(record, read_dataframe(path, ATTACHMENT_TABLE))
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError):
        return None


def read_dataframe(path: str | os.PathLike[str], layer: str, **options: Any) -> gpd.GeoDataFrame:
    """Read a layer with pyogrio, through Arrow when it is large and pyarrow is there.

    Arrow reads a large layer 3-4× faster and gives the same table (same dtypes and
    values, checked on the synthetic 200k-edge territory); small layers are read as
    before, so nothing changes at the scale where it would not matter.

    Parameters
    ----------
    path : str or Path
        A GeoPackage (or any file pyogrio reads).
    layer : str
        The layer.
    **options
        More keywords of :func:`pyogrio.read_dataframe` (``columns``...).

    Returns
    -------
    geopandas.GeoDataFrame
        The layer (a DataFrame for a table without geometry).
    """
    arrow = ARROW and int(pyogrio.read_info(path, layer=layer)["features"]) >= ARROW_MIN_ROWS
    frame: gpd.GeoDataFrame = pyogrio.read_dataframe(path, layer=layer, use_arrow=arrow, **options)
    return frame
