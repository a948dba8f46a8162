"""The ranking proposed to the Secretary of Works (Art. 7, VI) and the Secretary's act.

:func:`propose` ranks the cycle now (:func:`geo_ip.registry.live.live_ranking`, the law
functions of ``geo-ip avaliar``) and freezes the result: one row per request, without
personal data (:func:`geo_ip.requests.privacy.public_view`), and a summary (budget walk,
run, rules hash, who proposed it and when). The rows and the summary are written as
canonical JSON (:func:`canonical_json`); its SHA-256 is the proposal's fingerprint and
its HMAC-SHA256 with the app's secret the signature (:func:`verify_signature` checks
both, so a row edited in the database afterwards is detected). The requests selected in
the budget become ``proposto``.

The Secretary's act (:func:`record_act`) is recorded once: ``homologado`` makes the
selected requests ``selecionado``; ``devolvido`` returns them to their status before the
proposal.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from geo_ip._util.version import __version__
from geo_ip.law.budget import budget_summary
from geo_ip.outputs.views import ordered_rows
from geo_ip.registry import audit
from geo_ip.registry.live import live_ranking
from geo_ip.registry.models import Cycle, Proposal, Request, StatusChange
from geo_ip.registry.store import RegistryError, set_status
from geo_ip.requests.privacy import public_view
from geo_ip.rules.config import Rules
from geo_ip.rules.law_locks import CRITERIA

__all__ = [
    "ACT_DECISIONS",
    "PROPOSAL_COLUMNS",
    "ActAlreadyRecordedError",
    "canonical_json",
    "proposal_rows",
    "proposals_of",
    "propose",
    "record_act",
    "sign",
    "verify_signature",
]

PROPOSAL_COLUMNS = (
    "posicao", "protocolo", "bairro_encontrado", "situacao", "pontuacao_total",
    *(f"pont_{c}" for c in CRITERIA),
    "custo_estimado_rs", "percentual_municipio", "custo_municipio_rs", "selecionado_orcamento",
    "motivo_situacao",
)  # fmt: skip
"""Columns of each frozen row (those the ranking table has)."""
ACT_DECISIONS = {"homologado": "Homologado", "devolvido": "Devolvido à Comissão"}
"""The Secretary's decisions on a proposal and their labels."""
_FROZEN = ("selecionado", "executado", "inelegivel", "erro")
"""Statuses a proposal does not move a request from."""


def _key(secret: str | bytes) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if not key:
        raise RegistryError("a chave de assinatura da proposta está vazia")
    return key


def canonical_json(rows: Sequence[Mapping[str, Any]], summary: Mapping[str, Any]) -> bytes:
    """Return the canonical JSON of a proposal (keys sorted, compact, UTF-8).

    Parameters
    ----------
    rows : sequence of mapping
        The frozen rows (plain JSON values).
    summary : mapping
        The summary (plain JSON values).

    Returns
    -------
    bytes
        ``{"classificacao": rows, "resumo": summary}`` as canonical JSON.
    """
    document = {"classificacao": list(rows), "resumo": dict(summary)}
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def sign(document: bytes, secret: str | bytes) -> str:
    """Return the HMAC-SHA256 of a proposal's canonical JSON (64 hex characters).

    Parameters
    ----------
    document : bytes
        :func:`canonical_json`.
    secret : str or bytes
        The app's secret.

    Returns
    -------
    str
        The signature.
    """
    return hmac.new(_key(secret), document, hashlib.sha256).hexdigest()


def verify_signature(proposal: Proposal, secret: str | bytes) -> bool:
    """Check that a proposal is as frozen: its SHA-256 and its signature.

    Parameters
    ----------
    proposal : Proposal
        The proposal read from the registry.
    secret : str or bytes
        The app's secret it was signed with.

    Returns
    -------
    bool
        True when the rows and summary give the stored SHA-256 and signature.
    """
    document = canonical_json(proposal.classificacao, proposal.resumo)
    if not hmac.compare_digest(hashlib.sha256(document).hexdigest(), proposal.sha256):
        return False
    return hmac.compare_digest(sign(document, secret), proposal.assinatura)


def proposal_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the rows of a ranking as a proposal freezes them (no personal data).

    Parameters
    ----------
    table : pandas.DataFrame
        The ranked table (:attr:`geo_ip.registry.live.LiveRanking.table`).

    Returns
    -------
    list of dict
        Columns :data:`PROPOSAL_COLUMNS` (those present), plain JSON values, rows in the
        order of the ranking lists (ranked requests by position first).
    """
    view = public_view(ordered_rows(table))
    columns = [c for c in PROPOSAL_COLUMNS if c in view.columns]
    records = view[columns].astype(object).where(view[columns].notna(), None)
    return [audit.canonical({str(k): v for k, v in r.items()}) for r in records.to_dict("records")]


def proposals_of(session: Session, cycle: Cycle) -> list[Proposal]:
    """Return the proposals of a cycle, latest first.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A session.
    cycle : Cycle
        The cycle.

    Returns
    -------
    list of Proposal
        Its proposals.
    """
    return list(
        session.scalars(
            select(Proposal)
            .where(Proposal.ciclo_id == cycle.id)
            .order_by(Proposal.proposta_em.desc(), Proposal.id.desc())
        )
    )


def _status_before(session: Session, request: Request, leaving: str) -> str:
    history = session.scalars(
        select(StatusChange.situacao)
        .where(StatusChange.pedido_id == request.id)
        .order_by(StatusChange.id.desc())
    ).all()
    return next((s for s in history if s != leaving), "avaliado")


def _requests(session: Session, cycle: Cycle) -> dict[str, Request]:
    return {
        r.protocolo: r for r in session.scalars(select(Request).where(Request.ciclo_id == cycle.id))
    }


def propose(
    session: Session,
    cycle: Cycle,
    *,
    rules: Rules,
    key: bytes,
    actor: str,
    secret: str | bytes,
    today: date | None = None,
) -> Proposal:
    """Freeze the cycle's ranking now as a signed proposal to the Secretary (Art. 7, VI).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session of the change.
    cycle : Cycle
        The cycle.
    rules : Rules
        The cycle's rules.
    key : bytes
        The LGPD key (:func:`geo_ip.registry.live.live_ranking`).
    actor : str
        Who proposes it (presides).
    secret : str or bytes
        The app's secret, the key of the signature.
    today : datetime.date, optional
        Reference date of eligibility (default: the run's).

    Returns
    -------
    Proposal
        The proposal, with its rows, summary, SHA-256 and signature.

    Raises
    ------
    RegistryError
        The cycle has no run, or an empty secret.
    """
    ranking = live_ranking(session, cycle, rules=rules, key=key, today=today)
    rows = proposal_rows(ranking.table)
    moment = datetime.now(UTC)
    selected = [str(r["protocolo"]) for r in rows if r.get("selecionado_orcamento")]
    summary = audit.canonical(
        {
            "ciclo": cycle.nome,
            "proposta_em": moment.isoformat(timespec="seconds"),
            "proposta_por": actor,
            "avaliacao": ranking.run.id,
            "regras_sha256": ranking.run.regras_sha256,
            "versao_ferramenta": __version__,
            "decisoes_vigentes": len(ranking.decisions),
            "orcamento": budget_summary(ranking.table, cycle.orcamento_rs),
            "selecionados": selected,
        }
    )
    document = canonical_json(rows, summary)
    proposal = Proposal(
        ciclo_id=cycle.id,
        proposta_em=moment,
        proposta_por=actor,
        classificacao=rows,
        resumo=summary,
        sha256=hashlib.sha256(document).hexdigest(),
        assinatura=sign(document, secret),
    )
    session.add(proposal)
    session.flush()
    requests = _requests(session, cycle)
    reason = f"proposta nº {proposal.id} ao Secretário de Obras"
    for request in requests.values():
        if request.situacao == "proposto" and request.protocolo not in selected:
            back = _status_before(session, request, "proposto")
            set_status(session, request, back, actor=actor, reason=f"fora da {reason}",
                       expected_version=None)  # fmt: skip
    for protocol in selected:
        chosen = requests.get(protocol)
        if chosen is not None and chosen.situacao not in _FROZEN:
            set_status(session, chosen, "proposto", actor=actor, reason=reason,
                       expected_version=None)  # fmt: skip
    audit.append(
        session, actor, "proposta", "proposta", proposal.id,
        after={"ciclo": cycle.nome, "sha256": proposal.sha256, "selecionados": selected,
               "pedidos": len(rows)},
    )  # fmt: skip
    return proposal


class ActAlreadyRecordedError(RegistryError):
    """Another act on the proposal was recorded at the same time (it is recorded once).

    Parameters
    ----------
    proposal_id : int
        The proposal.
    """

    def __init__(self, proposal_id: int) -> None:
        self.proposal_id = proposal_id
        super().__init__(
            f"a proposta nº {proposal_id} já tem o ato do Secretário, registrado por outra "
            "pessoa enquanto você preenchia o seu: recarregue a página para vê-lo"
        )


def record_act(
    session: Session,
    proposal: Proposal,
    *,
    number: str,
    day: date,
    decision: str,
    text: str,
    actor: str,
) -> Proposal:
    """Record the Secretary's act on a proposal (once).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session of the change.
    proposal : Proposal
        The latest proposal of its cycle, without an act yet.
    number : str
        The act's number.
    day : datetime.date
        The act's date.
    decision : str
        ``homologado`` or ``devolvido`` (:data:`ACT_DECISIONS`).
    text : str
        The act's text or summary.
    actor : str
        Who records it.

    Returns
    -------
    Proposal
        The proposal with its act. Homologated: the requests selected in it become
        ``selecionado``; returned: they go back to their status before the proposal.

    Raises
    ------
    ActAlreadyRecordedError
        Another act was recorded after the proposal was read (two recorded at the same
        time: the second is refused; the session must then be rolled back).
    RegistryError
        An act already recorded, a later proposal, an unknown decision or missing data.
    """
    if proposal.ato_decisao:
        raise RegistryError(f"a proposta nº {proposal.id} já tem o ato do Secretário")
    if decision not in ACT_DECISIONS:
        raise RegistryError("decisão do Secretário: homologado ou devolvido")
    act_number, body = " ".join(number.split()), text.strip()
    if not act_number:
        raise RegistryError("informe o número do ato do Secretário")
    if len(act_number) > 100 or len(body) > 20_000:
        raise RegistryError("número ou texto do ato longo demais")
    if day > date.today():
        raise RegistryError("a data do ato não pode ser futura")
    cycle = session.get(Cycle, proposal.ciclo_id)
    if cycle is None:  # pragma: no cover - foreign key
        raise RegistryError("ciclo da proposta não encontrado")
    latest = proposals_of(session, cycle)[0]
    if latest.id != proposal.id:
        raise RegistryError(
            f"a proposta nº {proposal.id} foi substituída pela proposta nº {latest.id}"
        )
    # the act is written only where none is yet: of two acts recorded at the same time,
    # the second finds the row taken (its UPDATE waits for the first to commit)
    taken = session.execute(
        update(Proposal)
        .where(Proposal.id == proposal.id, Proposal.ato_decisao == "")
        .values(ato_numero=act_number, ato_data=day, ato_decisao=decision, ato_texto=body)
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:
        raise ActAlreadyRecordedError(proposal.id)
    # the object in the session as the row now is, without a second UPDATE
    for name, value in (("ato_numero", act_number), ("ato_data", day),
                        ("ato_decisao", decision), ("ato_texto", body)):  # fmt: skip
        set_committed_value(proposal, name, value)
    requests = _requests(session, cycle)
    reason = f"ato nº {act_number} do Secretário ({ACT_DECISIONS[decision].lower()})"
    for protocol in proposal.resumo.get("selecionados", []):
        request = requests.get(str(protocol))
        if request is None or request.situacao != "proposto":
            continue
        status = (
            "selecionado"
            if decision == "homologado"
            else _status_before(session, request, "proposto")
        )
        set_status(session, request, status, actor=actor, reason=reason, expected_version=None)
    session.flush()
    audit.append(
        session, actor, "ato_secretario", "proposta", proposal.id,
        before={"ato_decisao": ""},
        after={"ato_numero": act_number, "ato_data": day, "ato_decisao": decision,
               "ato_texto": body},
    )  # fmt: skip
    return proposal
