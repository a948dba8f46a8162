"""The live ranking: the registry's latest run and current decisions through the law.

:func:`live_ranking` reads the cycle's latest run (its table, without personal data),
adds the applicants' data back when the run recorded it, and hands the table and the
Commission's current decisions to :func:`geo_ip.pipeline.decide`, the same function
``geo-ip assess`` uses. The ranking the Commission sees in the web app is therefore the
ranking ``geo-ip assess --decisions <registry export>`` writes, to the cent.

Two things need a new run of ``geo-ip assess --db`` and are said so on the page: a place
confirmed by the Commission (the evidence is measured again at the new place) and
new requests filed since the run.
"""

from __future__ import annotations

import functools
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from geo_ip.pipeline import decide
from geo_ip.registry.models import Cycle, RulesVersion, Run
from geo_ip.registry.store import (
    PERSONAL,
    RegistryError,
    current_decisions,
    latest_run,
    personal_rows,
    run_table,
)
from geo_ip.rules.config import Rules, load_rules

__all__ = ["LiveRanking", "live_ranking", "rules_of"]


@functools.lru_cache(maxsize=8)
def _rules_from_text(sha256: str, name: str, text: str) -> Rules:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (name or "regras.toml")
        path.write_text(text, encoding="utf-8")
        rules = load_rules(path)
    if rules.sha256 != sha256:
        raise RegistryError(
            "as regras gravadas no registro dependem de outro arquivo (herda = ...): "
            "informe o arquivo de regras com --rules"
        )
    return rules


def rules_of(session: Session, cycle: Cycle, given: Rules | None = None) -> Rules:
    """Return the rules of a cycle.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    cycle : Cycle
        The cycle.
    given : Rules, optional
        Rules the user passed (``--rules``): used when their hash is the cycle's.

    Returns
    -------
    Rules
        The cycle's rules.

    Raises
    ------
    RegistryError
        The cycle has no rules, or the rules given are not the cycle's.
    """
    version = session.get(RulesVersion, cycle.versao_regras_id) if cycle.versao_regras_id else None
    if version is None:
        if given is None:
            raise RegistryError(f"o ciclo {cycle.nome!r} não tem regras registradas")
        return given
    if given is not None:
        if given.sha256 != version.sha256:
            raise RegistryError(
                f"as regras informadas (sha256 {given.sha256[:12]}) não são as do ciclo "
                f"{cycle.nome!r} (sha256 {version.sha256[:12]}, versão {version.versao})"
            )
        return given
    return _rules_from_text(version.sha256, version.arquivo, version.conteudo)


@dataclass
class LiveRanking:
    """The ranking of a cycle now.

    Attributes
    ----------
    table : pandas.DataFrame
        The assessment table after the current decisions (ranking columns included).
        Holds the applicants' data when the run recorded it: show it only through
        :func:`geo_ip.requests.privacy.public_view` or to roles allowed.
    run : Run
        The run it is based on.
    decisions : pandas.DataFrame
        The current decisions applied.
    eligibility_checked : bool
        Whether eligibility was checked again (the run recorded the applicants' data).
    """

    table: pd.DataFrame
    run: Run
    decisions: pd.DataFrame
    eligibility_checked: bool


def _with_personal(session: Session, cycle: Cycle, table: pd.DataFrame) -> pd.DataFrame:
    personal = dict(personal_rows(session, cycle))
    protocols = table["protocolo"].astype(str)
    out = table.copy()
    for column in PERSONAL:
        values = [personal.get(p, {}).get(column) for p in protocols]
        if any(v is not None for v in values):
            out[column] = pd.Series(values, index=out.index, dtype=object)
    return out


def _history(run: Run) -> pd.DataFrame | None:
    if not run.historico:
        return None
    history = pd.DataFrame.from_records(run.historico)
    if "data" in history.columns:
        history["data"] = pd.to_datetime(history["data"], errors="coerce").dt.date
    return history


def live_ranking(
    session: Session,
    cycle: Cycle,
    *,
    rules: Rules,
    key: bytes,
    today: date | None = None,
) -> LiveRanking:
    """Rank a cycle from its latest run and the Commission's current decisions.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    cycle : Cycle
        The cycle (its budget is the ranking's budget).
    rules : Rules
        The cycle's rules (:func:`rules_of`).
    key : bytes
        The LGPD key of the run (only needed to compare a raw CPF with the history).
    today : datetime.date, optional
        Reference date of eligibility; default: the run's reference date.

    Returns
    -------
    LiveRanking
        The ranked table.

    Raises
    ------
    RegistryError
        The cycle has no run yet.
    """
    run = latest_run(session, cycle)
    if run is None:
        raise RegistryError(f"o ciclo {cycle.nome!r} ainda não tem avaliação registrada")
    table = run_table(run)
    decisions = current_decisions(session, cycle)
    if today is None:
        reference = str(run.proveniencia.get("data_referencia") or "")
        today = date.fromisoformat(reference) if reference else date.today()
    check = bool(run.com_dados_pessoais)
    if check:
        table = _with_personal(session, cycle, table)
    ranked = decide(
        table,
        decisions,
        rules,
        budget=cycle.orcamento_rs,
        key=key,
        today=today,
        history=_history(run) if check else None,
        check_eligibility=check,
    )
    return LiveRanking(ranked, run, decisions, check)
