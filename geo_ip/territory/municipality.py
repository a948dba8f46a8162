"""The rules belong to a municipality: refuse a territory of another one.

:func:`check_municipality` compares the municipal boundaries of a territory (layer
``limite``, OSM ``admin_level`` 8, IBGE code from ``IBGE:GEOCODIGO``) with the
municipality of the rules file, so that an assessment of Porto Alegre never goes
out under Extrema's name and rules.
"""

from __future__ import annotations

import logging
import re
import shlex
import unicodedata
from dataclasses import dataclass

import pandas as pd

from geo_ip.errors import RulesError
from geo_ip.rules.config import Rules
from geo_ip.territory.reader import TerritoryLike, layer_names, read_layer

log = logging.getLogger(__name__)

__all__ = ["TerritoryMunicipality", "check_municipality", "territory_municipalities"]

MUNICIPAL_LEVEL = 8
"""OSM ``admin_level`` of a Brazilian municipality."""
_IBGE_CODE = re.compile(r"\d{7}")


@dataclass(frozen=True)
class TerritoryMunicipality:
    """A municipal boundary of a territory."""

    nome: str
    """Its name (``""`` when the boundary has none)."""
    codigo_ibge: int | None
    """Its 7-digit IBGE code, when the boundary carries one."""
    area: float
    """Its area in the territory's CRS units (to tell the main municipality)."""


def _code(value: object) -> int | None:
    """Return the 7-digit IBGE code of a cell (text, number or missing), if any."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    text = str(value).strip()
    text = text.removesuffix(".0")
    return int(text) if _IBGE_CODE.fullmatch(text) else None


def _normalized(name: str) -> str:
    """Drop accents, case and repeated spaces of a name, to compare municipalities."""
    plain = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def territory_municipalities(territory: TerritoryLike) -> list[TerritoryMunicipality]:
    """List the municipal boundaries of a territory GeoPackage, the largest first.

    Parameters
    ----------
    territory : Territory, str or Path
        The territory (``geo-ip territorio``), opened or as its GeoPackage.

    Returns
    -------
    list of TerritoryMunicipality
        One per municipality (boundaries of the same code or name merged): the
        ``limite`` polygons of ``admin_level`` 8, and those of any level with a
        7-digit IBGE code (the code of a municipality). Empty when the territory
        has no such boundary.
    """
    if "limite" not in layer_names(territory):
        return []
    limits = read_layer(territory, "limite")
    if limits.empty:
        return []
    levels = (
        pd.to_numeric(limits["admin_level"], errors="coerce")
        if "admin_level" in limits.columns
        else pd.Series(float("nan"), index=limits.index)
    )
    codes = (
        limits["codigo_ibge"].map(_code)
        if "codigo_ibge" in limits.columns
        else pd.Series(None, index=limits.index, dtype=object)
    )
    names = (
        limits["nome"].map(lambda v: "" if v is None or v != v else str(v).strip())
        if "nome" in limits.columns
        else pd.Series("", index=limits.index)
    )
    polygonal = limits.geometry.notna() & limits.geometry.geom_type.isin(
        ["Polygon", "MultiPolygon"]
    )
    municipal = polygonal & ((levels == MUNICIPAL_LEVEL) | codes.notna())
    areas = limits.geometry.area.where(municipal, 0.0)
    merged: dict[object, TerritoryMunicipality] = {}
    for index in limits.index[municipal.to_numpy()]:
        code, name = codes[index], names[index]
        key: object = code if code is not None else _normalized(name)
        previous = merged.get(key)
        area = float(areas[index]) + (previous.area if previous else 0.0)
        merged[key] = TerritoryMunicipality(name or (previous.nome if previous else ""), code, area)
    return sorted(merged.values(), key=lambda m: -m.area)


def _describe(found: TerritoryMunicipality) -> str:
    name = found.nome or "sem nome"
    code = f"IBGE {found.codigo_ibge}" if found.codigo_ibge else "sem código IBGE"
    return f"{name} ({code})"


def _init_command(found: TerritoryMunicipality) -> str:
    from geo_ip.rules.init_rules import UF_CODES

    code = str(found.codigo_ibge) if found.codigo_ibge else "<código IBGE>"
    states = {number: uf for uf, number in UF_CODES.items()}
    uf = states.get(int(code[:2]), "<UF>") if found.codigo_ibge else "<UF>"
    name = shlex.quote(found.nome) if found.nome else "'<nome do município>'"
    return f"geo-ip regras criar --ibge {code} --nome {name} --uf {uf} --saida regras.toml"


def check_municipality(territory: TerritoryLike, rules: Rules) -> None:
    """Refuse rules of another municipality than the territory's.

    Parameters
    ----------
    territory : Territory, str or Path
        The territory, opened or as its GeoPackage; its ``limite`` layer is read.
    rules : Rules
        The municipality rules in use.

    Raises
    ------
    RulesError
        When the territory has municipal boundaries and none is the rules'
        municipality: by IBGE code when the boundaries carry one, otherwise by
        name (accents and case ignored). The message names both municipalities
        and the ``geo-ip regras criar`` command that creates the right rules.

    Notes
    -----
    A territory over several municipalities is accepted when one of them is the
    rules' (logged); a territory without municipal boundaries cannot be checked,
    and a warning names the rules file in use.
    """
    ours = rules.municipio
    source = rules.arquivo or "(regras sem arquivo)"
    found = territory_municipalities(territory)
    if not found:
        log.warning(
            "território sem limite municipal: não foi possível conferir o município; usando "
            "as regras de '%s' ('%s')",
            ours.nome,
            source,
        )
        return
    target = _normalized(ours.nome)
    matches = [
        m
        for m in found
        if m.codigo_ibge == ours.codigo_ibge
        or (m.codigo_ibge is None and m.nome and _normalized(m.nome) == target)
    ]
    if matches:
        if len(found) > 1:
            log.info(
                "o território abrange %d municípios (%s); as regras são de %s/%s (IBGE %s)",
                len(found),
                ", ".join(_describe(m) for m in found),
                ours.nome,
                ours.uf,
                ours.codigo_ibge,
            )
        return
    main = found[0]
    others = f" (e também {', '.join(_describe(m) for m in found[1:])})" if found[1:] else ""
    raise RulesError(
        f"o território é de {_describe(main)}{others}, mas o arquivo de regras "
        f"'{source}' é de {ours.nome}/{ours.uf} (IBGE {ours.codigo_ibge}): a avaliação sairia "
        "com o nome, a lei e as regras de outro município. Use --regras com as regras do "
        f"município, ou crie-as com: {_init_command(main)}",
        field="--regras",
    )
