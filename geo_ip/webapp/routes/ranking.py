"""The live ranking (``/classificacao``) and the proposals to the Secretary (``/propostas``).

The ranking is :func:`geo_ip.registry.live.live_ranking` — the law functions of
``geo-ip avaliar`` on the latest run and the Commission's current decisions — cached in
this process per state of the cycle (:func:`cached_ranking`): a page view reuses it, a
new decision, run, budget or rules computes it again. The page shows the budget walk
(:func:`geo_ip.law.budget.budget_summary`), how the Art. 11 and 12 reservations and the
tie-breaks of Art. 10 §1 work, and one row per request through
:func:`geo_ip.requests.privacy.public_view`: no personal data on this page. Each row
shows its flags (``alertas``: implausible declaration, approximate location, missing
proof, no road link) as badges after the total, computed once per ranking
(:func:`geo_ip.webapp.ranking_state.compute`); ``?alertas=1`` lists only the requests
with a flag.

Whoever presides freezes the ranking as a signed proposal (``POST
/classificacao/proposta``, :func:`geo_ip.registry.proposals.propose`) and records the
Secretary's act (``POST /propostas/{id}/ato``). ``GET /propostas/{id}/proposta.json``
downloads the frozen document exactly as hashed, so anyone can check its SHA-256.
"""

from __future__ import annotations

import functools
import logging
import math
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

import pandas as pd
from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from geo_ip.errors import GeoIPError
from geo_ip.outputs.format import Labels
from geo_ip.outputs.sheets.content import alert_items
from geo_ip.outputs.tables import BUDGET_ROWS
from geo_ip.outputs.views import ALERTS
from geo_ip.registry import live, proposals
from geo_ip.registry.db import Registry
from geo_ip.registry.models import Cycle, Proposal, User
from geo_ip.registry.models import Request as RequestRow
from geo_ip.registry.store import RegistryError, find_cycle
from geo_ip.rules.config import Rules
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.webapp.ranking_cache import (
    RankingState,
    cached_ranking,
    last_decision_by,
    stale_notice,
)
from geo_ip.webapp.ranking_state import alert_labels, number
from geo_ip.webapp.security import registry_of, require, visible_text
from geo_ip.webapp.templating import fmt_brl, render

__all__ = [
    "PAGE_SIZE",
    "TIE_LABELS",
    "RankingState",
    "alert_badges",
    "app_key",
    "app_secret",
    "cached_ranking",
    "cycle_rules",
    "router",
    "situation_label",
]

log = logging.getLogger(__name__)

router = APIRouter()

PAGE_SIZE = 100
"""Rows per page of the ranking."""
TIE_LABELS = {
    "beneficiarios": "maior número de beneficiários (moradores estimados)",
    "seguranca": "maior pontuação em segurança pública e segurança viária",
    "custo_beneficio": "melhor relação de custo-benefício (menor custo por beneficiário)",
    "antiguidade_protocolo": "protocolo mais antigo",
}
"""How each tie-break key of Art. 10 §1 is said on the page."""
_ROMAN = ("I", "II", "III", "IV", "V")
_ID = Annotated[int, Path(ge=1, le=2**62)]
_BUDGET_MONEY = {"orcamento_rs", "reservado_rs", "saldo_apos_reservas_rs", "classificados_rs",
                 "saldo_final_rs"}  # fmt: skip


def app_key(request: Request) -> bytes:
    """Return the LGPD key the app was given (``app.state.key``; empty when none)."""
    key = getattr(request.app.state, "key", None)
    return key if isinstance(key, bytes) else b""


def app_secret(request: Request) -> str | bytes | None:
    """Return the app's signing secret (``app.state.secret``), or None when absent."""
    secret = getattr(request.app.state, "secret", None)
    return secret if isinstance(secret, str | bytes) and secret else None


def cycle_rules(request: Request, session: Session, name: str | None) -> tuple[Cycle, Rules]:
    """Return a cycle (by name, or the latest) and its rules.

    Parameters
    ----------
    request : Request
        The request (``app.state.rules``: the rules given to ``serve``).
    session : sqlalchemy.orm.Session
        A session.
    name : str or None
        The cycle's name (``?ciclo=``).

    Returns
    -------
    tuple of (Cycle, Rules)
        The cycle and its rules.

    Raises
    ------
    geo_ip.registry.store.RegistryError
        No such cycle, or its rules cannot be read.
    """
    cycle = find_cycle(session, name or None)
    return cycle, live.rules_of(session, cycle, getattr(request.app.state, "rules", None))


@functools.cache
def _labels() -> Labels:
    return Labels()


def situation_label(code: Any) -> str:
    """Return the label of a ranking situation (``classificado`` → ``Classificado ...``)."""
    return _labels().situation(code) or str(code or "")


# --- the page ----------------------------------------------------------------------------------

_ALERT_CODES = {label: code for code, label in ALERTS.items()}


def alert_badges(alerts: Any, rules: Rules) -> list[dict[str, str]]:
    """Return the badges of a request's flags (``alertas``), as the pages show them.

    Parameters
    ----------
    alerts : object
        The request's ``alertas`` cell (``"; "``-joined labels) or its labels.
    rules : Rules
        The cycle's rules (the limits the explanation of a flag quotes).

    Returns
    -------
    list of dict
        One per flag, in order: ``codigo`` (the key of
        :data:`geo_ip.outputs.views.ALERTS`, ``"outro"`` for an unknown label),
        ``rotulo`` (the label) and ``dica`` (what to check, as on the technical sheet:
        :func:`geo_ip.outputs.sheets.content.alert_items`).
    """
    labels = alert_labels(alerts) if isinstance(alerts, str) or alerts is None else alerts
    items = alert_items("; ".join(labels), rules) if labels else []
    return [
        {"codigo": _ALERT_CODES.get(i.rotulo, "outro"), "rotulo": i.rotulo, "dica": i.valor}
        for i in items
    ]


def _rows(session: Session, cycle: Cycle, page: pd.DataFrame, rules: Rules) -> list[dict[str, Any]]:
    protocols = [str(p) for p in page["protocolo"]]
    found = session.execute(
        select(RequestRow.protocolo, RequestRow.id).where(
            RequestRow.ciclo_id == cycle.id, RequestRow.protocolo.in_(protocols)
        )
    ).all()
    ids = {str(protocol): int(request_id) for protocol, request_id in found}
    # the explanation of each flag, once per page (the flags were computed per ranking)
    hints = {b["rotulo"]: b for b in alert_badges(tuple(ALERTS.values()), rules)}
    out = []
    for record in page.to_dict("records"):
        protocol = str(record.get("protocolo") or "")
        position = number(record.get("posicao"))
        out.append(
            {
                "id": ids.get(protocol),
                "protocolo": protocol,
                "posicao": None if position is None else int(position),
                "bairro": str(record.get("bairro_encontrado") or record.get("bairro") or ""),
                "situacao": str(record.get("situacao") or ""),
                "situacao_rotulo": situation_label(record.get("situacao")),
                "total": number(record.get("pontuacao_total")),
                "pontos": [number(record.get(f"pont_{c}")) for c in CRITERIA],
                "custo": number(record.get("custo_estimado_rs")),
                "percentual": number(record.get("percentual_municipio")),
                "custo_municipio": number(record.get("custo_municipio_rs")),
                "selecionado": record.get("selecionado_orcamento") is True
                or record.get("selecionado_orcamento") == 1,
                "motivo": str(record.get("motivo_situacao") or ""),
                "motivos": str(record.get("motivos") or ""),
                "alertas": [
                    hints.get(label) or {"codigo": "outro", "rotulo": label, "dica": ""}
                    for label in alert_labels(record.get("alertas"))
                ],
            }
        )
    return out


def _budget_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for key, label in BUDGET_ROWS.items():
        value = summary.get(key)
        if key in _BUDGET_MONEY:
            text = "sem limite informado" if value is None else fmt_brl(value)
        else:
            text = str(value if value is not None else "—")
        rows.append((label, text))
    return rows


def _proposal_views(
    session: Session, cycle: Cycle, secret: str | bytes | None
) -> list[dict[str, Any]]:
    out = []
    for p in proposals.proposals_of(session, cycle):
        valid = proposals.verify_signature(p, secret) if secret is not None else None
        out.append(
            {
                "p": p,
                "valida": valid,
                "selecionados": p.resumo.get("selecionados", []),
                "ato": proposals.ACT_DECISIONS.get(p.ato_decisao, ""),
            }
        )
    return out


def _context(
    request: Request,
    session: Session,
    cycle: Cycle,
    rules: Rules,
    page_number: int,
    viewer: str | None = None,
    *,
    alerted: bool = False,
) -> dict[str, Any]:
    registry: Registry = request.app.state.registry
    # while members decide, the last ranking computed is shown if it holds every
    # decision of the member viewing it
    hold = None if viewer is None else last_decision_by(session, cycle, viewer)
    state = cached_ranking(session, registry.url, cycle, rules, app_key(request),
                           must_hold=hold, registry=registry)  # fmt: skip
    total = len(state.alerted if alerted else state.order)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page_number = min(max(1, page_number), pages)
    start = (page_number - 1) * PAGE_SIZE
    criteria = [
        {
            "codigo": c,
            "numero": _ROMAN[i],
            "titulo": getattr(rules.criterios, c).titulo,
            "peso": float(getattr(rules.criterios, c).peso.valor),
        }
        for i, c in enumerate(CRITERIA)
    ]
    return {
        "ciclo": cycle,
        "criterios": criteria,
        "linhas": _rows(
            session, cycle, state.public_rows(start, start + PAGE_SIZE, alerted=alerted), rules
        ),
        "pagina": page_number,
        "paginas": pages,
        "total": total,
        "so_alertas": alerted,
        "com_alerta": len(state.alerted),
        "todos": len(state.order),
        "inicio": start,
        "orcamento": _budget_rows(state.summary),
        "resumo": state.summary,
        "contagem": [(situation_label(s), n) for s, n in state.situations.items()],
        "desatualizada": stale_notice(state),
        "desempate": [TIE_LABELS.get(k, k) for k in rules.desempate.ordem],
        "fonte_desempate": rules.desempate.fonte,
        "faixas": [(b.pontuacao_minima, b.percentual) for b in rules.participacao.faixas],
        "avaliacao": state.run_id,
        "decisoes": state.decisions,
        "elegibilidade_conferida": state.eligibility_checked,
        "propostas": _proposal_views(session, cycle, app_secret(request)),
        "assinatura_disponivel": app_secret(request) is not None,
        "hoje": date.today().isoformat(),
        "atos": proposals.ACT_DECISIONS,
    }


def _show(
    request: Request,
    registry: Registry,
    name: str | None,
    page_number: int = 1,
    *,
    message: str = "",
    error: str = "",
    status_code: int = 200,
    viewer: str | None = None,
    alerted: bool = False,
) -> Response:
    with registry.session() as session:
        try:
            cycle, rules = cycle_rules(request, session, name)
            context = _context(request, session, cycle, rules, page_number, viewer,
                               alerted=alerted)  # fmt: skip
        except GeoIPError as exc:
            context = {"indisponivel": str(exc), "erro": error}
            return render(request, "classificacao.html", context, status_code=status_code)
        except (ValueError, KeyError, TypeError) as exc:  # a run table the law cannot rank
            log.warning("classificação ao vivo falhou (%s)", type(exc).__name__)
            return render(
                request, "classificacao.html",
                {"indisponivel": "a avaliação registrada não pôde ser classificada"},
                status_code=status_code,
            )  # fmt: skip
        context.update(mensagem=message, erro=error)
        return render(request, "classificacao.html", context, status_code=status_code)


_SAVED = {
    "proposta": "Classificação proposta ao Secretário: retrato assinado gravado.",
    "ato": "Ato do Secretário registrado.",
}


@router.get("/classificacao")
def ranking_page(
    request: Request,
    user: Annotated[User, Depends(require("ver"))],
    registry: Annotated[Registry, Depends(registry_of)],
    ciclo: str = "",
    pagina: int = 1,
    gravado: str = "",
    alertas: str = "",
) -> Response:
    """Show the live ranking of a cycle (``?ciclo=`` or the latest), a page of rows.

    ``?alertas=1`` lists only the requests with a flag (``alertas``).
    """
    page_number = max(1, min(pagina, 10**6))
    return _show(request, registry, ciclo[:200] or None, page_number,
                 message=_SAVED.get(gravado, ""), viewer=user.login,
                 alerted=alertas == "1")  # fmt: skip


@router.post("/classificacao/proposta")
def propose(
    request: Request,
    user: Annotated[User, Depends(require("presidir"))],
    registry: Annotated[Registry, Depends(registry_of)],
    ciclo: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Freeze the live ranking as a signed proposal to the Secretary (Art. 7, VI)."""
    secret = app_secret(request)
    if secret is None:
        return _show(request, registry, ciclo or None, error=(
            "a assinatura da proposta não está disponível neste servidor (sem segredo)"
        ), status_code=503)  # fmt: skip
    try:
        with registry.session() as session:
            cycle, rules = cycle_rules(request, session, ciclo or None)
            proposals.propose(session, cycle, rules=rules, key=app_key(request),
                              actor=user.login, secret=secret)  # fmt: skip
            name = cycle.nome
    except RegistryError as exc:
        return _show(request, registry, ciclo or None, error=str(exc), status_code=422)
    query = f"?ciclo={_quote(name)}&gravado=proposta#propostas"
    return RedirectResponse(f"/classificacao{query}", status_code=303)


def _quote(text: str) -> str:
    return quote(text, safe="")


def _proposal_or_404(session: Session, proposal_id: int) -> Proposal:
    found = session.get(Proposal, proposal_id)
    if found is None:
        raise HTTPException(status_code=404, detail="Proposta não encontrada.")
    return found


@router.post("/propostas/{proposta_id}/ato")
def secretary_act(
    request: Request,
    proposta_id: _ID,
    user: Annotated[User, Depends(require("presidir"))],
    registry: Annotated[Registry, Depends(registry_of)],
    numero: Annotated[str, Form(max_length=100)] = "",
    data: Annotated[str, Form(max_length=20)] = "",
    decisao: Annotated[str, Form(max_length=40)] = "",
    texto: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """Record the Secretary's act on a proposal (homologated: requests selected)."""
    cycle_name = None
    try:
        with registry.session() as session:
            proposal = _proposal_or_404(session, proposta_id)
            cycle = session.get(Cycle, proposal.ciclo_id)
            cycle_name = cycle.nome if cycle is not None else None
            try:
                day = date.fromisoformat(data.strip()[:10])
            except ValueError:
                raise RegistryError("informe a data do ato (aaaa-mm-dd)") from None
            proposals.record_act(session, proposal, number=visible_text(numero), day=day,
                                 decision=decisao, text=visible_text(texto),
                                 actor=user.login)  # fmt: skip
    except proposals.ActAlreadyRecordedError as exc:  # recorded meanwhile (or twice at once)
        return _show(request, registry, cycle_name, error=str(exc), status_code=409)
    except RegistryError as exc:
        return _show(request, registry, cycle_name, error=str(exc), status_code=422)
    query = f"?ciclo={_quote(cycle_name or '')}&gravado=ato#propostas"
    return RedirectResponse(f"/classificacao{query}", status_code=303)


@router.get("/propostas/{proposta_id}/proposta.json")
def proposal_document(
    proposta_id: _ID,
    user: Annotated[User, Depends(require("ver"))],
    registry: Annotated[Registry, Depends(registry_of)],
) -> Response:
    """Download the frozen proposal exactly as hashed (its SHA-256 is the proposal's)."""
    with registry.session() as session:
        proposal = _proposal_or_404(session, proposta_id)
        document = proposals.canonical_json(proposal.classificacao, proposal.resumo)
    return Response(
        document,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="proposta-{proposta_id}.json"',
            "Cache-Control": "no-store",
        },
    )
