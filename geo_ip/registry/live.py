"""The live ranking: the registry's latest run and current decisions through the law.

:func:`live_ranking` reads the cycle's latest run (its table, without personal data),
adds the applicants' data back when the run recorded it, and hands the table and the
Commission's current decisions to :func:`geo_ip.pipeline.decide`, the same function
``geo-ip avaliar`` uses. The ranking the Commission sees in the web app is therefore the
ranking ``geo-ip avaliar --decisoes <registry export>`` writes, to the cent.

Two things need a new run of ``geo-ip avaliar --db`` and are said so on the page: a place
confirmed by the Commission (the evidence is measured again at the new place) and
new requests filed since the run.
"""

from __future__ import annotations

import functools
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from geo_ip.law import eligibility
from geo_ip.law.decisions import accepted_hardship
from geo_ip.law.hardship import PUBLIC_HARDSHIP
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
            "informe o arquivo de regras com --regras"
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
        Rules the user passed (``--regras``): used when their hash is the cycle's.

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
    rows = list(personal_rows(session, cycle))
    if not rows:
        return table
    personal = pd.DataFrame.from_records(
        [data for _, data in rows], index=pd.Index([p for p, _ in rows], name="protocolo")
    )
    personal = personal[[c for c in PERSONAL if c in personal.columns]]
    personal = personal[~personal.index.duplicated(keep="last")]
    aligned = personal.reindex(table["protocolo"].astype(str).to_numpy())
    out = table.drop(columns=[c for c in aligned.columns if c in table.columns])
    for column in aligned.columns:
        out[column] = pd.Series(aligned[column].to_numpy(dtype=object), index=out.index)
    return out


def _history(run: Run) -> pd.DataFrame | None:
    if not run.historico:
        return None
    history = pd.DataFrame.from_records(run.historico)
    if "data" in history.columns:
        history["data"] = pd.to_datetime(history["data"], errors="coerce").dt.date
    return history


_CACHE_SIZE = 4
_BASES: OrderedDict[tuple[Any, ...], pd.DataFrame] = OrderedDict()
_CHECKED: OrderedDict[tuple[Any, ...], pd.DataFrame] = OrderedDict()
_LOCK = threading.Lock()


def _cached(
    cache: OrderedDict[tuple[Any, ...], pd.DataFrame],
    key: tuple[Any, ...],
    build: Callable[[], pd.DataFrame],
) -> pd.DataFrame:
    """Return ``cache[key]``, building it once; the tables are shared: never modified."""
    with _LOCK:
        found = cache.get(key)
        if found is not None:
            cache.move_to_end(key)
            return found
    built = build()
    with _LOCK:
        cache[key] = built
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)
    return built


def _base(session: Session, cycle: Cycle, run: Run) -> pd.DataFrame:
    """Return the run's table, with the applicants' data when recorded (cached per run)."""
    url = session.get_bind().engine.url.render_as_string(hide_password=False)

    def build() -> pd.DataFrame:
        table = run_table(run)
        if run.com_dados_pessoais:
            return _with_personal(session, cycle, table)
        if "hipossuficiencia" not in table.columns and (
            "condicao_hipossuficiencia" in table.columns
        ):
            # a run without the applicants' data (an imported folder) keeps its
            # eligibility; the ranking only needs to know which requests still lack the
            # proof of hardship, which the public condition says
            pending = table["condicao_hipossuficiencia"].astype(str).eq("pendente")
            table["hipossuficiencia"] = pending.map({True: "sem_comprovacao", False: ""})
        return table

    return _cached(_BASES, (url, run.id), build)


def _eligibility(
    session: Session,
    base: pd.DataFrame,
    run: Run,
    decisions: pd.DataFrame,
    rules: Rules,
    *,
    key: bytes,
    today: date,
) -> pd.DataFrame:
    """Eligibility checked again, cached per run and hardship decisions (Art. 4 §2, III).

    Eligibility depends on the applicants' data, the history, the reference date and the
    hardship the Commission accepted, not on the points decided: a decision on a
    criterion reuses it, and only the ranking is computed again.
    """
    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    accepted = accepted_hardship(decisions)
    cache_key = (url, run.id, rules.sha256, today, key, tuple(sorted(accepted.items())))

    def build() -> pd.DataFrame:
        table = base.copy()
        if "situacao_pedido" in table.columns:
            table["situacao"] = table["situacao_pedido"]
        return eligibility.check(
            table, rules, history=_history(run), reference_date=today, key=key,
            accepted=accepted,
        )  # fmt: skip

    return _cached(_CHECKED, cache_key, build)


def _accepted_without_data(table: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """Apply the hardship the Commission accepted (Art. 4 §2, III) to a run without data.

    Without the applicants' data eligibility is not checked again; a request still
    lacking the proof of hardship (``sem_comprovacao``) whose proof the Commission
    accepted is proven by that decision, as :func:`geo_ip.law.hardship.hardship_status`
    says (``aceita_comissao``). A request over the income limit needs its data checked
    again (a new ``geo-ip avaliar --db``).
    """
    accepted = accepted_hardship(decisions)
    if not accepted or "hipossuficiencia" not in table.columns:
        return table
    rows = table["protocolo"].astype(str).isin(list(accepted)) & table["hipossuficiencia"].astype(
        str
    ).eq("sem_comprovacao")
    if not rows.any():
        return table
    out = table.copy()
    out.loc[rows, "hipossuficiencia"] = "aceita_comissao"
    if "condicao_hipossuficiencia" in out.columns:
        out.loc[rows, "condicao_hipossuficiencia"] = PUBLIC_HARDSHIP["aceita_comissao"]
    if "pendencia_hipossuficiencia" in out.columns:
        out.loc[rows, "pendencia_hipossuficiencia"] = ""
    return out


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
    decisions = current_decisions(session, cycle)
    if today is None:
        reference = str(run.proveniencia.get("data_referencia") or "")
        today = date.fromisoformat(reference) if reference else date.today()
    check = bool(run.com_dados_pessoais)
    table = _base(session, cycle, run)
    if check:
        table = _eligibility(session, table, run, decisions, rules, key=key, today=today)
    else:
        table = _accepted_without_data(table, decisions)
    # eligibility is in the table now (checked above, or as the run recorded it)
    ranked = decide(
        table, decisions, rules, budget=cycle.orcamento_rs, key=key, today=today,
        check_eligibility=False,
    )  # fmt: skip
    return LiveRanking(ranked, run, decisions, check)
