"""Tables of the program registry (SQLAlchemy 2; the schema is created by Alembic).

Table and column names are in Portuguese: GIS staff open them in QGIS and the
Commission's IT staff read them. Every table is written only through
:mod:`geo_ip.registry.store`, which appends an audit event (:mod:`geo_ip.registry.audit`)
in the same transaction as each change.

=========================== ===============================================================
table                       content
=========================== ===============================================================
``versoes_regras``          the municipality's rules files used, with their SHA-256
``ciclos``                  a call for requests with its budget (R$)
``pedidos``                 one request of a cycle: public fields, position, current status
``situacoes_pedido``        the status history of each request
``dados_pessoais``          the applicant's data (CPF, names, income, CadÚnico): restricted
``avaliacoes``              one assessment run (provenance, rules hash, the run's table)
``instantaneos``            one request in one run: suggestions, points, motivations,
                            evidence and the proposed extension (a geometry)
``decisoes``                the Commission's decisions, each tied to the snapshot it was
                            made on; a later decision on the same criterion supersedes it
``vistorias``, ``fotos``    site inspections and their photos
``solicitacoes_documentos`` documents asked of the applicant
``pareceres``               the conclusive report per request (Art. 10, VII)
``reunioes``, ``presencas`` the Commission's meetings and who attended
``propostas``               the ranking proposed to the Secretary (Art. 7, VI), frozen and
                            signed, and the Secretary's act
``obras``                   works executed (read by ``geo-ip cadastro --db``)
``envios_cadastro``         submissions of the IP-cadastre change to the utility
``usuarios``, ``sessoes``,  people who use the web app, their sessions and login attempts
``tentativas_login``
``eventos``, ``cadeia``     the append-only, hash-chained audit trail and its head
=========================== ===============================================================
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from geo_ip.registry.types import Geom

__all__ = [
    "ROLES",
    "STATUSES",
    "Base",
    "CadastreSubmission",
    "ChainHead",
    "Cycle",
    "Decision",
    "DocumentRequest",
    "Event",
    "Inspection",
    "LoginAttempt",
    "Meeting",
    "MeetingPresence",
    "PersonalData",
    "Photo",
    "Proposal",
    "Report",
    "Request",
    "RulesVersion",
    "Run",
    "Session",
    "Snapshot",
    "StatusChange",
    "User",
    "Work",
]

ROLES = ("administrador", "presidente", "membro", "consulta")
"""Roles of the web app's users, from the most to the least powerful."""

STATUSES = {
    "recebido": "Recebido",
    "avaliado": "Avaliado",
    "pendente_documentos": "Aguardando documentos",
    "pendente_vistoria": "Aguardando vistoria",
    "pendente_localizacao": "Aguardando confirmação do local",
    "decidido": "Decidido pela Comissão",
    "proposto": "Proposto ao Secretário",
    "selecionado": "Selecionado",
    "executado": "Executado",
    "inelegivel": "Inelegível",
    "erro": "Com erro nos dados",
}
"""Statuses of a request in the registry, with their labels."""


class Base(DeclarativeBase):
    """Declarative base of the registry's tables."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class RulesVersion(Base):
    """A rules file used by the program (its text and hash)."""

    __tablename__ = "versoes_regras"
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    versao: Mapped[str] = mapped_column(String(100))
    municipio: Mapped[str] = mapped_column(String(200))
    codigo_ibge: Mapped[int] = mapped_column(Integer)
    arquivo: Mapped[str] = mapped_column(Text, default="")
    conteudo: Mapped[str] = mapped_column(Text, default="")
    registrado_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Cycle(Base):
    """A call for requests with its budget."""

    __tablename__ = "ciclos"
    id: Mapped[int] = mapped_column(primary_key=True)
    nome: Mapped[str] = mapped_column(String(200), unique=True)
    orcamento_rs: Mapped[float | None] = mapped_column(Float, nullable=True)
    versao_regras_id: Mapped[int | None] = mapped_column(ForeignKey("versoes_regras.id"))
    aberto_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    encerrado_em: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Request(Base):
    """A request of a cycle: what may be shown to every user, and its current state."""

    __tablename__ = "pedidos"
    __table_args__ = (
        UniqueConstraint("ciclo_id", "protocolo"),
        Index("ix_pedidos_ciclo_decidida", "ciclo_id", "pontuacao_decidida"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    ciclo_id: Mapped[int] = mapped_column(ForeignKey("ciclos.id"), index=True)
    protocolo: Mapped[str] = mapped_column(String(100))
    tipo: Mapped[str] = mapped_column(String(60), default="")
    bairro: Mapped[str] = mapped_column(String(200), default="", index=True)
    logradouro: Mapped[str] = mapped_column(String(300), default="")
    data_protocolo: Mapped[date | None] = mapped_column(Date, nullable=True)
    situacao: Mapped[str] = mapped_column(String(40), default="recebido", index=True)
    pendencias: Mapped[list[Any]] = mapped_column(default=list)
    pontuacao_sugerida: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    pontuacao_decidida: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    custo_estimado_rs: Mapped[float | None] = mapped_column(Float, nullable=True)
    instantaneo_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    geom: Mapped[str | None] = mapped_column(Geom("POINT"), nullable=True)
    versao: Mapped[int] = mapped_column(Integer, default=1)
    atualizado_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    atualizado_por: Mapped[str] = mapped_column(String(200), default="")

    __mapper_args__ = {"version_id_col": versao}  # noqa: RUF012


class StatusChange(Base):
    """One step of a request's status history."""

    __tablename__ = "situacoes_pedido"
    id: Mapped[int] = mapped_column(primary_key=True)
    pedido_id: Mapped[int] = mapped_column(ForeignKey("pedidos.id"), index=True)
    situacao: Mapped[str] = mapped_column(String(40))
    em: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    por: Mapped[str] = mapped_column(String(200), default="")
    motivo: Mapped[str] = mapped_column(Text, default="")


class PersonalData(Base):
    """The applicant's personal data (LGPD): shown only to roles allowed, every view logged."""

    __tablename__ = "dados_pessoais"
    pedido_id: Mapped[int] = mapped_column(ForeignKey("pedidos.id"), primary_key=True)
    dados: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Run(Base):
    """One assessment run (``geo-ip avaliar --db`` or ``registro importar``)."""

    __tablename__ = "avaliacoes"
    id: Mapped[int] = mapped_column(primary_key=True)
    ciclo_id: Mapped[int] = mapped_column(ForeignKey("ciclos.id"), index=True)
    versao_regras_id: Mapped[int | None] = mapped_column(ForeignKey("versoes_regras.id"))
    regras_sha256: Mapped[str] = mapped_column(String(64), default="")
    executado_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    registrado_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    origem: Mapped[str] = mapped_column(String(300), default="")
    versao_ferramenta: Mapped[str] = mapped_column(String(40), default="")
    orcamento_rs: Mapped[float | None] = mapped_column(Float, nullable=True)
    proveniencia: Mapped[dict[str, Any]] = mapped_column(default=dict)
    com_dados_pessoais: Mapped[bool] = mapped_column(Boolean, default=False)
    historico: Mapped[list[Any]] = mapped_column(default=list)
    tabela: Mapped[bytes] = mapped_column(LargeBinary)


class Snapshot(Base):
    """One request as one run saw it: suggestions, motivations, evidence, extension."""

    __tablename__ = "instantaneos"
    id: Mapped[int] = mapped_column(primary_key=True)
    avaliacao_id: Mapped[int] = mapped_column(ForeignKey("avaliacoes.id"), index=True)
    pedido_id: Mapped[int] = mapped_column(ForeignKey("pedidos.id"), index=True)
    linha: Mapped[dict[str, Any]] = mapped_column(default=dict)
    evidencias: Mapped[dict[str, Any]] = mapped_column(default=dict)
    mapa: Mapped[dict[str, Any]] = mapped_column(default=dict)
    extensao: Mapped[str | None] = mapped_column(Geom("GEOMETRY"), nullable=True)


class Decision(Base):
    """A decision of the Commission on one criterion or act of one request."""

    __tablename__ = "decisoes"
    id: Mapped[int] = mapped_column(primary_key=True)
    pedido_id: Mapped[int] = mapped_column(ForeignKey("pedidos.id"), index=True)
    instantaneo_id: Mapped[int | None] = mapped_column(ForeignKey("instantaneos.id"))
    reuniao_id: Mapped[int | None] = mapped_column(ForeignKey("reunioes.id"), nullable=True)
    criterio: Mapped[str] = mapped_column(String(40))
    pontos: Mapped[float | None] = mapped_column(Float, nullable=True)
    motivacao: Mapped[str] = mapped_column(Text)
    membro: Mapped[str] = mapped_column(String(200), default="")
    usuario: Mapped[str] = mapped_column(String(100), default="")
    data: Mapped[date | None] = mapped_column(Date, nullable=True)
    decidido_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    procedimento: Mapped[str] = mapped_column(String(100), default="")
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    votacao: Mapped[str] = mapped_column(String(200), default="")
    vigente: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    substituida_por: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Inspection(Base):
    """A site inspection (vistoria)."""

    __tablename__ = "vistorias"
    id: Mapped[int] = mapped_column(primary_key=True)
    pedido_id: Mapped[int] = mapped_column(ForeignKey("pedidos.id"), index=True)
    data: Mapped[date] = mapped_column(Date)
    equipe: Mapped[str] = mapped_column(Text, default="")
    residencias_contadas: Mapped[int | None] = mapped_column(Integer, nullable=True)
    constatacoes: Mapped[str] = mapped_column(Text, default="")
    precisao_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    posicao_confirmada: Mapped[bool] = mapped_column(Boolean, default=False)
    geom: Mapped[str | None] = mapped_column(Geom("POINT"), nullable=True)
    registrado_por: Mapped[str] = mapped_column(String(100), default="")
    registrado_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Photo(Base):
    """A photo of an inspection, with its EXIF position and time."""

    __tablename__ = "fotos"
    id: Mapped[int] = mapped_column(primary_key=True)
    vistoria_id: Mapped[int] = mapped_column(ForeignKey("vistorias.id"), index=True)
    nome: Mapped[str] = mapped_column(String(200), default="")
    tipo: Mapped[str] = mapped_column(String(60), default="image/jpeg")
    conteudo: Mapped[bytes] = mapped_column(LargeBinary)
    miniatura: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    exif_latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    exif_longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    exif_data_hora: Mapped[str] = mapped_column(String(40), default="")


class DocumentRequest(Base):
    """A document asked of the applicant."""

    __tablename__ = "solicitacoes_documentos"
    id: Mapped[int] = mapped_column(primary_key=True)
    pedido_id: Mapped[int] = mapped_column(ForeignKey("pedidos.id"), index=True)
    descricao: Mapped[str] = mapped_column(Text)
    solicitado_em: Mapped[date] = mapped_column(Date)
    prazo: Mapped[date | None] = mapped_column(Date, nullable=True)
    respondido_em: Mapped[date | None] = mapped_column(Date, nullable=True)
    resposta: Mapped[str] = mapped_column(Text, default="")
    solicitado_por: Mapped[str] = mapped_column(String(100), default="")


class Report(Base):
    """The conclusive report of a request (Art. 10, VII); one current text per request."""

    __tablename__ = "pareceres"
    pedido_id: Mapped[int] = mapped_column(ForeignKey("pedidos.id"), primary_key=True)
    texto: Mapped[str] = mapped_column(Text)
    autor: Mapped[str] = mapped_column(String(100))
    em: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    versao: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": versao}  # noqa: RUF012


class Meeting(Base):
    """A meeting of the Commission."""

    __tablename__ = "reunioes"
    __table_args__ = (
        # one open meeting per cycle, even when two are opened at the same time
        Index(
            "uq_reunioes_aberta_por_ciclo",
            "ciclo_id",
            unique=True,
            sqlite_where=text("encerrada_em IS NULL"),
            postgresql_where=text("encerrada_em IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    ciclo_id: Mapped[int] = mapped_column(ForeignKey("ciclos.id"), index=True)
    titulo: Mapped[str] = mapped_column(String(300))
    local: Mapped[str] = mapped_column(String(300), default="")
    aberta_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    aberta_por: Mapped[str] = mapped_column(String(100), default="")
    encerrada_em: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    observacoes: Mapped[str] = mapped_column(Text, default="")
    ata_pdf: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    ata_sha256: Mapped[str] = mapped_column(String(64), default="")


class MeetingPresence(Base):
    """A member present at a meeting."""

    __tablename__ = "presencas"
    __table_args__ = (UniqueConstraint("reuniao_id", "usuario"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    reuniao_id: Mapped[int] = mapped_column(ForeignKey("reunioes.id"), index=True)
    usuario: Mapped[str] = mapped_column(String(100))
    nome: Mapped[str] = mapped_column(String(200))
    papel: Mapped[str] = mapped_column(String(40))


class Proposal(Base):
    """The ranking proposed to the Secretary of Works (Art. 7, VI) and the Secretary's act."""

    __tablename__ = "propostas"
    id: Mapped[int] = mapped_column(primary_key=True)
    ciclo_id: Mapped[int] = mapped_column(ForeignKey("ciclos.id"), index=True)
    proposta_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    proposta_por: Mapped[str] = mapped_column(String(100))
    classificacao: Mapped[list[Any]] = mapped_column(default=list)
    resumo: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sha256: Mapped[str] = mapped_column(String(64))
    assinatura: Mapped[str] = mapped_column(String(128))
    ato_numero: Mapped[str] = mapped_column(String(100), default="")
    ato_data: Mapped[date | None] = mapped_column(Date, nullable=True)
    ato_decisao: Mapped[str] = mapped_column(String(40), default="")
    ato_texto: Mapped[str] = mapped_column(Text, default="")


class Work(Base):
    """Works executed for a request (the input of ``geo-ip cadastro``)."""

    __tablename__ = "obras"
    id: Mapped[int] = mapped_column(primary_key=True)
    pedido_id: Mapped[int] = mapped_column(ForeignKey("pedidos.id"), index=True)
    data_execucao: Mapped[date] = mapped_column(Date)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    tipo_lampada: Mapped[str] = mapped_column(String(60), default="")
    potencia_w: Mapped[float | None] = mapped_column(Float, nullable=True)
    poste: Mapped[str] = mapped_column(String(100), default="")
    observacao: Mapped[str] = mapped_column(Text, default="")
    geom: Mapped[str | None] = mapped_column(Geom("POINT"), nullable=True)
    registrado_por: Mapped[str] = mapped_column(String(100), default="")


class CadastreSubmission(Base):
    """A submission of the IP-cadastre change (medida 060) to the utility."""

    __tablename__ = "envios_cadastro"
    id: Mapped[int] = mapped_column(primary_key=True)
    ciclo_id: Mapped[int] = mapped_column(ForeignKey("ciclos.id"), index=True)
    criado_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    pasta: Mapped[str] = mapped_column(Text, default="")
    pontos_incluidos: Mapped[int] = mapped_column(Integer, default=0)
    pontos_excluidos: Mapped[int] = mapped_column(Integer, default=0)
    protocolo_distribuidora: Mapped[str] = mapped_column(String(100), default="")
    situacao: Mapped[str] = mapped_column(String(40), default="preparado")


class User(Base):
    """A person who uses the web app."""

    __tablename__ = "usuarios"
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(100), unique=True)
    nome: Mapped[str] = mapped_column(String(200))
    papel: Mapped[str] = mapped_column(String(40))
    senha_hash: Mapped[str] = mapped_column(String(200))
    ativo: Mapped[bool] = mapped_column(Boolean, default=True)
    criado_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Session(Base):
    """A browser session: the cookie carries a signed random id; only its hash is stored."""

    __tablename__ = "sessoes"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    usuario_id: Mapped[int | None] = mapped_column(ForeignKey("usuarios.id"), nullable=True)
    csrf: Mapped[str] = mapped_column(String(64))
    criada_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    vista_em: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginAttempt(Base):
    """A login attempt, for throttling."""

    __tablename__ = "tentativas_login"
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(100), index=True)
    endereco: Mapped[str] = mapped_column(String(100), default="")
    em: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    sucesso: Mapped[bool] = mapped_column(Boolean, default=False)


class Event(Base):
    """An audit event: who, when, what, before and after, chained by hash."""

    __tablename__ = "eventos"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    em: Mapped[str] = mapped_column(String(40))
    usuario: Mapped[str] = mapped_column(String(100))
    acao: Mapped[str] = mapped_column(String(60), index=True)
    entidade: Mapped[str] = mapped_column(String(60))
    entidade_id: Mapped[str] = mapped_column(String(100), default="", index=True)
    antes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    depois: Mapped[dict[str, Any]] = mapped_column(default=dict)
    hash_anterior: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ChainHead(Base):
    """The head of the audit chain: the number of events and the last hash (one row)."""

    __tablename__ = "cadeia"
    id: Mapped[int] = mapped_column(primary_key=True)
    eventos: Mapped[int] = mapped_column(Integer, default=0)
    ultimo_hash: Mapped[str] = mapped_column(String(64))
