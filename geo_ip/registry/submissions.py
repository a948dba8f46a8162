"""Submissions of the IP-cadastre change to the utility (CEMIG "medida 060").

``geo-ip cadastro --db`` prepares the package from the works the registry holds and
records it here (status ``preparado``), with the points to include and to exclude; the
utility's protocol number is added when the package is sent (:func:`mark_sent`). Each
step is an audit event.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_ip.registry import audit
from geo_ip.registry.base import RegistryError, now
from geo_ip.registry.models import CadastreSubmission, Cycle

__all__ = ["SUBMISSION_STATUSES", "mark_sent", "record_submission", "submissions_of"]

SUBMISSION_STATUSES = {
    "preparado": "Pacote preparado",
    "enviado": "Enviado à distribuidora",
}
"""Statuses of a submission, with their labels."""


def record_submission(
    session: Session,
    cycle: Cycle,
    *,
    folder: str,
    included: int,
    excluded: int,
    actor: str,
) -> CadastreSubmission:
    """Record a cadastre package prepared for the utility.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Session of the change.
    cycle : Cycle
        The cycle whose works the package covers.
    folder : str
        Where the package was written (``--saida``).
    included, excluded : int
        Points to include in and to exclude from the utility's IP cadastre.
    actor : str
        Who prepared it.

    Returns
    -------
    CadastreSubmission
        The record (status ``preparado``).
    """
    if included < 0 or excluded < 0:
        raise RegistryError("número de pontos negativo no pacote do cadastro")
    row = CadastreSubmission(
        ciclo_id=cycle.id,
        criado_em=now(),
        pasta=folder,
        pontos_incluidos=included,
        pontos_excluidos=excluded,
        situacao="preparado",
    )
    session.add(row)
    session.flush()
    audit.append(
        session, actor, "cadastro_preparado", "envio_cadastro", row.id,
        after={"ciclo": cycle.nome, "pasta": folder, "pontos_incluidos": included,
               "pontos_excluidos": excluded},
    )  # fmt: skip
    return row


def mark_sent(session: Session, row: CadastreSubmission, protocol: str, *, actor: str) -> None:
    """Record that a package was sent, with the utility's protocol number.

    Raises
    ------
    RegistryError
        No protocol number, or the package was sent already.
    """
    number = protocol.strip()
    if not number or len(number) > 100:
        raise RegistryError("informe o protocolo da distribuidora (até 100 caracteres)")
    if row.situacao == "enviado":
        raise RegistryError(f"este pacote já foi enviado (protocolo {row.protocolo_distribuidora})")
    before = {"situacao": row.situacao, "protocolo_distribuidora": row.protocolo_distribuidora}
    row.situacao, row.protocolo_distribuidora = "enviado", number
    session.flush()
    audit.append(
        session, actor, "cadastro_enviado", "envio_cadastro", row.id,
        before=before, after={"situacao": "enviado", "protocolo_distribuidora": number},
    )  # fmt: skip


def submissions_of(session: Session, cycle: Cycle) -> list[CadastreSubmission]:
    """Return the cycle's submissions, newest first."""
    return list(
        session.scalars(
            select(CadastreSubmission)
            .where(CadastreSubmission.ciclo_id == cycle.id)
            .order_by(CadastreSubmission.id.desc())
        )
    )
