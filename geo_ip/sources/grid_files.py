"""Reading the existing grid from a user's vector or CSV file (for :mod:`geo_ip.sources.grid`).

:func:`read_grid_file` reads GeoPackage, Shapefile, GeoJSON, FlatGeobuf (any
format GDAL opens) or a CSV with latitude/longitude columns, and types each
feature from an argument, a column or, as a last resort, its geometry. It is
public through :mod:`geo_ip.sources.grid`.
"""

from __future__ import annotations

import io
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as ProjCRSError

from geo_ip.errors import GridError
from geo_ip.sources.catalog import GridLayer
from geo_ip.sources.grid_common import (
    IP_COLUMNS,
    WGS84,
    GridData,
    as_text,
    concat_frames,
    error_detail,
    finish_reading,
    gdal_errors,
    layer_info,
    layer_names,
    make_elements,
    mask_for,
    require_exists,
)

_LINE_GEOMS = frozenset({"LineString", "MultiLineString", "LinearRing"})
_POINT_GEOMS = frozenset({"Point", "MultiPoint"})
_GEOMS_OF = {"linha": _LINE_GEOMS, "ponto": _POINT_GEOMS}

# Type values besides the catalog keys and labels: these spellings name a grid type
# (compared after _norm: lower case, no accents, "_"/"-" as spaces).
_TYPE_SYNONYMS: dict[str, str] = {
    "baixa tensao": "bt",
    "rede bt": "bt",
    "rede de baixa tensao": "bt",
    "media tensao": "mt",
    "rede mt": "mt",
    "rede de media tensao": "mt",
    "postes": "poste",
    "trafo": "transformador",
    "trafos": "transformador",
    "transformadores": "transformador",
    "ip": "ponto_ip",
    "ponto ip": "ponto_ip",
    "luminaria": "ponto_ip",
    "luminarias": "ponto_ip",
    "ponto de iluminacao": "ponto_ip",
    "ponto de iluminacao publica": "ponto_ip",
    "iluminacao publica": "ponto_ip",
    "via iluminada": "via_iluminada",
}

_GEOMETRY_DEFAULT_TYPE = {"linha": "bt", "ponto": "poste"}
_TYPE_COLUMN = "tipo"
_ID_COLUMNS = ("id_origem", "cod_id", "id", "codigo")
_TENSION_COLUMNS = ("tensao_v",)
_POWER_COLUMNS = ("potencia_w", "potencia", "pot_lamp")
_LAMP_COLUMNS = ("tipo_lampada", "tipo_lamp", "lampada")
_ENERGY_COLUMNS = ("energia_kwh_ano",)
_POLE_COLUMNS = ("poste_id", "poste", "pn_con")
_CSV_COORDS = (
    ("latitude", "longitude"),
    ("lat", "lon"),
    ("lat", "lng"),
    ("lat", "long"),
    ("y", "x"),
)

_CSV_SUFFIXES = frozenset({".csv", ".txt"})


def read_grid_file(
    path: str | Path,
    catalog: GridLayer,
    *,
    mask: shapely.Geometry | None = None,
    tipo: str | None = None,
    coluna_tipo: str | None = None,
    crs: str | None = None,
) -> GridData:
    """Read the existing grid from a user's vector or CSV file.

    Every layer with geometry is read (all layers of a GeoPackage). A CSV needs
    latitude/longitude columns (``latitude``/``longitude``, ``lat``/``lon`` or
    ``y``/``x``, any case; ``;`` or ``,`` separated; decimal comma accepted). The
    type of each feature is, in order: ``tipo`` (all features), the column
    ``coluna_tipo``, a column named ``tipo``, or the geometry (lines → ``bt``,
    points → ``poste``, with a warning). Type values match the catalog keys and
    labels and common synonyms ("BT", "baixa tensão", "trafo", "luminária"...), in any
    case and with or without accents. Points typed ``ponto_ip`` also go to
    ``pontos_ip`` (``potencia_w`` from a ``potencia``/``potencia_w`` column).

    Parameters
    ----------
    path : str or Path
        The file (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, a ``.zip`` GDAL opens,
        or CSV).
    catalog : GridLayer
        The ``rede_existente`` catalog entry.
    mask : shapely.Geometry, optional
        Area of interest in EPSG:4326; only features intersecting it are kept
        (crossing features whole). Types are still checked on the whole file.
    tipo : str, optional
        A catalog type key given to every feature.
    coluna_tipo : str, optional
        The column holding each feature's type.
    crs : str, optional
        CRS of the coordinates when the file has none (a Shapefile without ``.prj``;
        for a CSV, coordinates in this CRS instead of latitude/longitude).

    Returns
    -------
    GridData
        Elements and lighting points in the file's CRS (EPSG:4326 for a CSV without
        ``crs``).

    Raises
    ------
    GridError
        If the file is missing, empty, unreadable, has no usable geometry, an unknown
        CRS, lacks coordinate columns, or a type value is unknown (with the row and
        field).
    """
    started = time.perf_counter()
    source = Path(path)
    require_exists(source)
    if tipo is not None and tipo not in catalog.tipos:
        raise GridError(
            f"tipo '{tipo}' desconhecido; use um de: {', '.join(catalog.tipos)}", path=source
        )
    avisos: list[str] = []
    layers, descricao = _read_layers(source, _parse_crs(crs, source), mask, avisos)
    elementos, pontos, defaulted = _typed_elements(layers, catalog, source, tipo, coluna_tipo)
    if defaulted:
        avisos.append(
            f"O arquivo {source.name} não informa o tipo dos elementos (sem --rede-tipo, "
            "--rede-coluna-tipo ou coluna 'tipo'): linhas foram tratadas como rede de baixa "
            "tensão (bt) e pontos como postes."
        )
    if elementos.empty:
        avisos.append(f"Nenhum elemento de {source.name} intersecta a área de interesse.")
    return finish_reading(elementos, pontos, descricao, avisos, started)


@dataclass
class _Layer:
    """One layer of a user file: the (masked) features and the full attribute table."""

    name: str
    frame: gpd.GeoDataFrame  # masked features, with "_linha" (1-based row in the layer)
    attrs: pd.DataFrame  # every row of the layer, in file order, without geometry
    total: int  # features in the layer before the mask
    ignored: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Rows (1-based) dropped for lack of usable geometry: their type is not checked."""


def _parse_crs(crs: str | None, path: Path) -> CRS | None:
    if crs is None:
        return None
    try:
        return CRS.from_user_input(crs)
    except ProjCRSError as exc:
        raise GridError(
            f"sistema de coordenadas '{crs}' inválido ({error_detail(exc)})", path=path
        ) from exc


def _norm(text: object) -> str:
    """Lower case, accents stripped, '_' and '-' as spaces, spaces collapsed."""
    plain = unicodedata.normalize("NFKD", str(text))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return " ".join(plain.lower().replace("_", " ").replace("-", " ").split())


def _read_layers(
    path: Path, user_crs: CRS | None, mask: shapely.Geometry | None, avisos: list[str]
) -> tuple[list[_Layer], str]:
    """Read the file's layers, minus features without usable geometry, and describe the file."""
    if path.suffix.lower() in _CSV_SUFFIXES:
        layers = [_read_csv(path, user_crs, mask)]
        descricao = f"arquivo CSV {path.name}"
    else:
        layers = _read_vector(path, user_crs, mask, avisos)
        descricao = f"arquivo vetorial {path.name}"
    if sum(layer.total for layer in layers) == 0:
        raise GridError("o arquivo não tem nenhuma feição", path=path)
    return _usable_geometry(layers, path, masked=mask is not None, avisos=avisos), descricao


def _typed_elements(
    layers: list[_Layer],
    catalog: GridLayer,
    path: Path,
    tipo: str | None,
    coluna_tipo: str | None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, bool]:
    """Elements and lighting points of all layers, in the first one's CRS.

    The flag is True when some layer's types were taken from the geometry.
    """
    multi = len(layers) > 1
    parts: list[gpd.GeoDataFrame] = []
    ips: list[gpd.GeoDataFrame] = []
    defaulted = False
    for layer in layers:
        kinds, by_geometry = _layer_types(layer, catalog, path, tipo, coluna_tipo, multi)
        defaulted = defaulted or by_geometry
        frame = layer.frame.assign(_tipo=kinds)
        _check_geometry_types(frame, catalog, path, layer.name if multi else None)
        frame = _explode_multipoints(frame)
        ids = _column(frame, _ID_COLUMNS)
        prefix = f"{layer.name}:" if multi else ""
        frame["_id"] = (
            as_text(ids).to_numpy() if ids is not None else prefix + frame["_linha"].astype(str)
        )
        tension = _numeric(frame, _TENSION_COLUMNS, path, layer, multi, strict=False)
        parts.append(make_elements(frame, "arquivo", frame["_tipo"], frame["_id"], tension))
        lights = frame[frame["_tipo"] == "ponto_ip"].reset_index(drop=True)
        if not lights.empty:
            ips.append(_file_lighting(lights, path, layer, multi))
    target_crs = layers[0].frame.crs
    elementos = concat_frames(parts, target_crs)
    return elementos, concat_frames(ips, target_crs, columns=IP_COLUMNS), defaulted


def _read_vector(
    path: Path, user_crs: CRS | None, mask: shapely.Geometry | None, avisos: list[str]
) -> list[_Layer]:
    """Every geometric layer of a vector file, masked, with its full attribute table."""
    src = str(path)
    names = list(layer_names(src, path).values())
    layers: list[_Layer] = []
    for name in names:
        info = layer_info(src, path, name)
        if info["geometry_type"] is None:
            continue  # attribute table
        layer_crs: object = info["crs"]
        if layer_crs is None:
            if user_crs is None:
                raise GridError(
                    "sistema de coordenadas desconhecido: informe --rede-crs", path=path
                )
            layer_crs = user_crs
        elif user_crs is not None and not CRS.from_user_input(layer_crs).equals(user_crs):
            avisos.append(
                f"A camada '{name}' de {path.name} já declara o sistema de coordenadas "
                f"{layer_crs}; --rede-crs foi ignorado para ela."
            )
        layers.append(_read_vector_layer(src, path, name, layer_crs, mask_for(mask, layer_crs)))
    if not layers:
        raise GridError(
            "o arquivo não tem geometria (só tabelas de atributos)"
            if names
            else "o arquivo não tem nenhuma camada",
            path=path,
        )
    return layers


def _read_vector_layer(
    src: str, path: Path, name: str, crs: object, mask: shapely.Geometry | None
) -> _Layer:
    with gdal_errors(path):
        if mask is None:
            frame = pyogrio.read_dataframe(src, layer=name)
            attrs = pd.DataFrame(frame.drop(columns="geometry"))
            positions = np.arange(len(frame))
        else:
            # Attributes of every row (row numbers and type checks cover the whole file)
            # and geometry only inside the mask, matched by feature id.
            attrs = pyogrio.read_dataframe(src, layer=name, read_geometry=False, fid_as_index=True)
            geoms = pyogrio.read_dataframe(
                src, layer=name, columns=[], mask=mask, fid_as_index=True
            )
            if attrs.index.is_unique:
                rows = pd.Series(np.arange(len(attrs)), index=attrs.index)
                positions = rows.loc[geoms.index].to_numpy()
                frame = gpd.GeoDataFrame(
                    attrs.iloc[positions].reset_index(drop=True),
                    geometry=geoms.geometry.to_numpy(),
                    crs=geoms.crs,
                )
            else:  # feature ids not unique: mask in memory
                full = pyogrio.read_dataframe(src, layer=name)
                attrs = pd.DataFrame(full.drop(columns="geometry"))
                positions = np.flatnonzero(full.intersects(mask).to_numpy())
                frame = full.iloc[positions]
    frame = gpd.GeoDataFrame(frame.reset_index(drop=True), geometry="geometry")
    if frame.crs is None:
        frame = frame.set_crs(crs)
    frame["_linha"] = positions + 1
    return _Layer(name, frame, pd.DataFrame(attrs).reset_index(drop=True), len(attrs))


def _read_csv(path: Path, user_crs: CRS | None, mask: shapely.Geometry | None) -> _Layer:
    raw = path.read_bytes()
    if not raw.strip():
        raise GridError("arquivo vazio", path=path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    header = next(line for line in text.splitlines() if line.strip())
    sep = max((";", ",", "\t"), key=header.count)
    try:
        table = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise GridError(f"CSV ilegível ({error_detail(exc)})", path=path) from exc
    table.columns = [str(c).strip() for c in table.columns]
    lat_col, lon_col = _coordinate_columns(table, path)
    lat = _parse_numbers(table[lat_col], path, lat_col, "coordenada inválida")
    lon = _parse_numbers(table[lon_col], path, lon_col, "coordenada inválida")
    for column, values in ((lat_col, lat), (lon_col, lon)):
        missing = np.flatnonzero(np.isnan(values))
        if missing.size:
            raise GridError("coordenada vazia", path=path, row=int(missing[0]) + 1, field=column)
    crs: CRS = user_crs if user_crs is not None else WGS84
    if user_crs is None:
        for column, values, limit, what in (
            (lat_col, lat, 90.0, "latitude"),
            (lon_col, lon, 180.0, "longitude"),
        ):
            bad = np.flatnonzero(np.abs(values) > limit)
            if bad.size:
                raise GridError(
                    f"valor {values[bad[0]]:g} fora do intervalo de {what} (±{limit:g}°); "
                    "se as coordenadas forem projetadas (UTM), informe --rede-crs",
                    path=path,
                    row=int(bad[0]) + 1,
                    field=column,
                )
    frame = gpd.GeoDataFrame(
        table.drop(columns=[lat_col, lon_col]),
        geometry=gpd.points_from_xy(lon, lat),
        crs=crs,
    )
    frame["_linha"] = np.arange(1, len(frame) + 1)
    attrs = pd.DataFrame(table)
    if mask is not None:
        frame = frame[frame.intersects(mask_for(mask, crs))].reset_index(drop=True)
    return _Layer(name=path.stem, frame=frame, attrs=attrs, total=len(table))


def _coordinate_columns(table: pd.DataFrame, path: Path) -> tuple[str, str]:
    by_norm = {_norm(c): c for c in table.columns}
    for lat, lon in _CSV_COORDS:
        if lat in by_norm and lon in by_norm:
            return by_norm[lat], by_norm[lon]
    present = ", ".join(table.columns) or "nenhuma"
    raise GridError(
        "colunas de coordenadas não encontradas (use latitude/longitude, lat/lon ou y/x); "
        f"colunas presentes: {present}",
        path=path,
    )


def _parse_numbers(values: pd.Series, path: Path, field_name: str, what: str) -> np.ndarray:
    """Numbers from text (decimal comma accepted); empty → NaN; garbage → GridError."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float).to_numpy()
    text, numbers = _text_numbers(values)
    bad = np.flatnonzero(numbers.isna().to_numpy() & (text != "").to_numpy())
    if bad.size:
        raise GridError(
            f"{what}: '{text.iloc[bad[0]]}'", path=path, row=int(bad[0]) + 1, field=field_name
        )
    return numbers.astype(float).to_numpy()


def _text_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Values as stripped text ("" when missing) and as numbers (decimal comma; NaN if not)."""
    text = values.astype(object).where(values.notna(), "").map(lambda v: str(v).strip())
    return text, pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")


def _usable_geometry(
    layers: list[_Layer], path: Path, *, masked: bool, avisos: list[str]
) -> list[_Layer]:
    """Drop null/empty/areal geometries (with a warning); fail when nothing is left."""
    found: dict[str, int] = {}
    kept: list[_Layer] = []
    dropped = 0
    for layer in layers:
        geoms = layer.frame.geometry
        kinds = geoms.geom_type.where(~(geoms.isna() | geoms.is_empty), "sem geometria")
        for kind, count in kinds.value_counts().items():
            found[str(kind)] = found.get(str(kind), 0) + int(count)
        usable = kinds.isin(_LINE_GEOMS | _POINT_GEOMS).to_numpy()
        dropped += int((~usable).sum())
        frame = layer.frame[usable].reset_index(drop=True)
        frame.geometry = frame.geometry.force_2d()
        ignored = layer.frame.loc[~usable, "_linha"].to_numpy(dtype=np.int64)
        kept.append(_Layer(layer.name, frame, layer.attrs, layer.total, ignored))
    if not any(not layer.frame.empty for layer in kept):
        if masked and all(k in _LINE_GEOMS | _POINT_GEOMS for k in found):
            return kept  # nothing in the area of interest: empty result, warned later
        listed = ", ".join(f"{k} ({n})" for k, n in sorted(found.items())) or "nenhuma"
        raise GridError(
            "nenhuma geometria utilizável (são aceitas linhas e pontos); "
            f"geometrias encontradas: {listed}",
            path=path,
        )
    if dropped:
        listed = ", ".join(
            f"{k} ({n})" for k, n in sorted(found.items()) if k not in _LINE_GEOMS | _POINT_GEOMS
        )
        avisos.append(
            f"{dropped} feição(ões) de {path.name} sem geometria utilizável foram ignoradas: "
            f"{listed}."
        )
    return kept


def _type_lookup(catalog: GridLayer) -> dict[str, str]:
    lookup = {_norm(key): key for key in catalog.tipos}
    lookup.update({_norm(t.rotulo): key for key, t in catalog.tipos.items()})
    lookup.update({_norm(k): v for k, v in _TYPE_SYNONYMS.items() if v in catalog.tipos})
    return lookup


def _find_column(columns: pd.Index, wanted: str) -> str | None:
    target = _norm(wanted)
    for column in columns:
        if _norm(column) == target:
            return str(column)
    return None


def _layer_types(
    layer: _Layer,
    catalog: GridLayer,
    path: Path,
    tipo: str | None,
    coluna_tipo: str | None,
    multi: bool,
) -> tuple[np.ndarray, bool]:
    """Type each feature of ``layer.frame``; the flag is True when taken from geometry."""
    frame = layer.frame
    if tipo is not None:
        return np.full(len(frame), tipo, dtype=object), False
    where = f"camada '{layer.name}': " if multi else ""
    column = None
    if coluna_tipo is not None:
        column = _find_column(layer.attrs.columns, coluna_tipo)
        if column is None:
            raise GridError(
                f"{where}coluna de tipo não encontrada; colunas presentes: "
                f"{', '.join(map(str, layer.attrs.columns)) or 'nenhuma'}",
                path=path,
                field=coluna_tipo,
            )
    else:
        column = _find_column(layer.attrs.columns, _TYPE_COLUMN)
    if column is None:
        lines = frame.geom_type.isin(_LINE_GEOMS).to_numpy()
        kinds = np.where(
            lines, _GEOMETRY_DEFAULT_TYPE["linha"], _GEOMETRY_DEFAULT_TYPE["ponto"]
        ).astype(object)
        return kinds, True

    # Check the whole layer (not only the masked part), so row numbers are the file's.
    lookup = _type_lookup(catalog)
    values = layer.attrs[column]
    mapped = values.map(lambda v: None if pd.isna(v) else lookup.get(_norm(v)))
    unknown = mapped.isna().to_numpy().copy()
    unknown[layer.ignored - 1] = False
    bad = np.flatnonzero(unknown)
    if bad.size:
        value = values.iloc[bad[0]]
        shown = (
            "não informado"
            if pd.isna(value) or not str(value).strip()
            else f"'{value}' desconhecido"
        )
        raise GridError(
            f"{where}tipo {shown}; use um de: {', '.join(catalog.tipos)} "
            "(ou BT, MT, trafo, IP, luminária...)",
            path=path,
            row=int(bad[0]) + 1,
            field=column,
        )
    return mapped.to_numpy(dtype=object)[frame["_linha"].to_numpy() - 1], False


def _check_geometry_types(
    frame: gpd.GeoDataFrame, catalog: GridLayer, path: Path, layer: str | None
) -> None:
    """Each feature's geometry must fit its type (lines for bt/mt, points for poles...)."""
    where = f"camada '{layer}': " if layer else ""
    geom_types = frame.geom_type.to_numpy()
    for kind in pd.unique(frame["_tipo"]):
        family = catalog.tipos[str(kind)].geometria
        allowed = _GEOMS_OF.get(family)
        if allowed is None:
            continue
        wrong = np.flatnonzero(
            (frame["_tipo"].to_numpy() == kind) & ~np.isin(geom_types, list(allowed))
        )
        if wrong.size:
            row = int(frame["_linha"].iloc[wrong[0]])
            raise GridError(
                f"{where}o tipo '{kind}' exige geometria de {family}, mas a feição "
                f"é {geom_types[wrong[0]]}",
                path=path,
                row=row,
            )


def _explode_multipoints(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    multi = (frame.geom_type == "MultiPoint").to_numpy()
    if not multi.any():
        return frame
    exploded = frame[multi].explode(index_parts=False)
    out = pd.concat([frame[~multi], exploded]).sort_values("_linha", kind="stable")
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs=frame.crs)


def _column(frame: pd.DataFrame, names: tuple[str, ...]) -> pd.Series | None:
    for name in names:
        column = _find_column(frame.columns, name)
        if column is not None:
            return frame[column]
    return None


def _numeric(
    frame: pd.DataFrame,
    names: tuple[str, ...],
    path: Path,
    layer: _Layer,
    multi: bool,
    *,
    strict: bool,
) -> np.ndarray:
    """Read a numeric column by one of ``names`` (NaN when absent)."""
    for name in names:
        column = _find_column(frame.columns, name)
        if column is None:
            continue
        values = frame[column]
        if not strict:
            return _text_numbers(values)[1].astype(float).to_numpy()
        try:
            return _parse_numbers(values, path, column, "número inválido")
        except GridError as exc:
            # Re-point the row at the file's row (frame rows may be a masked subset).
            row = int(frame["_linha"].iloc[(exc.row or 1) - 1])
            where = f"camada '{layer.name}': " if multi else ""
            raise GridError(f"{where}{exc.message}", path=path, row=row, field=column) from exc
    return np.full(len(frame), np.nan)


def _file_lighting(
    lights: gpd.GeoDataFrame, path: Path, layer: _Layer, multi: bool
) -> gpd.GeoDataFrame:
    lamp = _column(lights, _LAMP_COLUMNS)
    pole = _column(lights, _POLE_COLUMNS)
    return gpd.GeoDataFrame(
        {
            "fonte": np.full(len(lights), "arquivo", dtype=object),
            "id_origem": lights["_id"].to_numpy(dtype=object),
            "poste_id": (
                as_text(pole).to_numpy() if pole is not None else np.full(len(lights), None)
            ),
            "potencia_w": _numeric(lights, _POWER_COLUMNS, path, layer, multi, strict=True),
            "tipo_lampada": (
                as_text(lamp).to_numpy() if lamp is not None else np.full(len(lights), None)
            ),
            "energia_kwh_ano": _numeric(lights, _ENERGY_COLUMNS, path, layer, multi, strict=True),
        },
        geometry=gpd.GeoSeries(lights.geometry.to_numpy(), crs=lights.crs),
        crs=lights.crs,
    )
