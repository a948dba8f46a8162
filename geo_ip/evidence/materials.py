"""Evidence per request: bill of materials, estimated cost and beneficiaries.

The path to the grid comes from :mod:`geo_ip.network.gridpath`, the surroundings from
:mod:`geo_ip.evidence.context`; this module turns them into what Art. 9 §3 (beneficiaries)
and §9 (cost-benefit) ask for, with the rules file's unit costs, pole span and
household size. Pure functions of tables and rules, vectorised over all requests.

Bill of materials (one new pole every ``rede.vao_postes`` metres of extension):

* ``postes_novos = ceil(distancia_rede_m / vao_postes)``;
* ``bracos = luminarias = postes_novos + 1`` (an arm and a luminaire on every new
  pole, plus the one at the request's own point);
* ``condutor_m = distancia_rede_m`` (low-voltage conductor along the extension);
* ``transformadores = 1`` when :mod:`geo_ip.network.gridpath` says a transformer is needed;
* ``custo_estimado_rs`` = Σ quantity × ``custos_unitarios``.

Beneficiaries: residences declared in the request, cross-checked against the
buildings and address points counted along the served stretch
(``edificacoes_trecho``); the declaration wins when present, else the count (at
least the request's own residence). Residents: declared, else residences ×
``beneficiarios.moradores_por_domicilio``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo_ip._util.parse import number_column as _numbers
from geo_ip.rules.config import Rules
from geo_ip.schema import BENEFICIARIES, MATERIALS

__all__ = ["BENEFICIARY_COLUMNS", "BOM_COLUMNS", "beneficiaries", "bill_of_materials"]

BOM_COLUMNS = tuple(MATERIALS)
"""Columns added by :func:`bill_of_materials` (:data:`geo_ip.schema.MATERIALS`)."""
BENEFICIARY_COLUMNS = tuple(BENEFICIARIES)
"""Columns added by :func:`beneficiaries` (:data:`geo_ip.schema.BENEFICIARIES`)."""


def bill_of_materials(paths: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Materials and estimated cost of every proposed extension.

    Parameters
    ----------
    paths : pandas.DataFrame
        ``distancia_rede_m`` (NaN when unknown) and ``transformador`` (bool)
        per request, as :mod:`geo_ip.network.gridpath` gives them.
    rules : Rules
        ``rede.vao_postes`` and ``custos_unitarios``.

    Returns
    -------
    pandas.DataFrame
        :data:`BOM_COLUMNS`, same index; all NA when the distance is unknown.
    """
    distance = _numbers(paths, "distancia_rede_m")
    known = np.isfinite(distance)
    span = rules.rede.vao_postes.valor
    poles = np.where(known, np.ceil(np.round(np.maximum(distance, 0.0), 6) / span), np.nan)
    lights = poles + 1
    transformer = (
        paths["transformador"].fillna(False).astype(bool).to_numpy()
        if "transformador" in paths.columns
        else np.zeros(len(paths), dtype=bool)
    )
    transformers = np.where(known, transformer.astype(float), np.nan)
    unit = rules.custos_unitarios
    cost = (
        poles * unit.poste.valor
        + lights * unit.braco.valor
        + lights * unit.luminaria.valor
        + distance * unit.condutor_bt.valor
        + transformers * unit.transformador.valor
    )
    out = pd.DataFrame(index=paths.index)
    out["postes_novos"] = pd.array(np.where(known, poles, np.nan), dtype="Float64").astype("Int64")
    out["bracos"] = pd.array(lights, dtype="Float64").astype("Int64")
    out["luminarias"] = pd.array(lights, dtype="Float64").astype("Int64")
    out["condutor_m"] = np.round(distance, 1)
    out["transformadores"] = pd.array(transformers, dtype="Float64").astype("Int64")
    out["custo_estimado_rs"] = np.round(cost, 2)
    return out


def beneficiaries(
    requests: pd.DataFrame, buildings: pd.Series, cost: pd.Series, rules: Rules
) -> pd.DataFrame:
    """Residences and residents served, and the cost per beneficiary.

    Parameters
    ----------
    requests : pandas.DataFrame
        ``residencias`` and ``moradores`` as declared (NA when blank).
    buildings : pandas.Series
        Buildings / address points along the served stretch
        (``edificacoes_trecho`` from :mod:`geo_ip.evidence.context`), same index.
    cost : pandas.Series
        ``custo_estimado_rs``, same index.
    rules : Rules
        ``beneficiarios.moradores_por_domicilio``.

    Returns
    -------
    pandas.DataFrame
        :data:`BENEFICIARY_COLUMNS`. ``fonte_beneficiarios`` says in Portuguese
        where each figure came from; ``custo_por_beneficiario_rs`` is the cost
        divided by the estimated residents (NaN when either is unknown or zero).
    """
    declared_homes = _numbers(requests, "residencias")
    declared_people = _numbers(requests, "moradores")
    counted = pd.to_numeric(buildings, errors="coerce").astype("float64").to_numpy()
    has_homes = np.isfinite(declared_homes) & (declared_homes >= 0)
    homes = np.where(has_homes, declared_homes, np.maximum(np.nan_to_num(counted), 1.0))
    size = rules.beneficiarios.moradores_por_domicilio.valor
    has_people = np.isfinite(declared_people) & (declared_people >= 0)
    people = np.where(has_people, declared_people, np.round(homes * size, 1))

    homes_text = np.where(
        has_homes, "residências declaradas", "residências contadas no trecho (edificações)"
    )
    people_text = np.where(
        has_people,
        "moradores declarados",
        f"moradores estimados (residências × {size:g} por domicílio)".replace(".", ","),
    )
    costs = pd.to_numeric(cost, errors="coerce").astype("float64").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        per_person = np.where(people > 0, costs / people, np.nan)

    out = pd.DataFrame(index=requests.index)
    out["residencias_declaradas"] = pd.array(
        np.where(has_homes, declared_homes, np.nan), dtype="Float64"
    ).astype("Int64")
    out["residencias_consideradas"] = pd.array(homes, dtype="Float64").astype("Int64")
    out["moradores_declarados"] = pd.array(
        np.where(has_people, declared_people, np.nan), dtype="Float64"
    ).astype("Int64")
    out["moradores_estimados"] = people
    out["fonte_beneficiarios"] = [f"{h}; {p}" for h, p in zip(homes_text, people_text, strict=True)]
    out["custo_por_beneficiario_rs"] = np.round(per_person, 2)
    return out
