"""Column names of the tables the stages hand each other, declared once with their meaning.

The stages pass tables, not files. The **assessment table** (one row per request, in
input order; :attr:`geo_ip.pipeline.Assessment.table`) grows stage by stage: each stage
adds the columns declared below under its name, in the order it adds them. Every
declaration is an ordered, read-only mapping ``column name -> meaning`` (English, one
line, with the unit): the module that makes a table takes its column tuple from here
(``tuple(schema.GRID_PATH)``), and the lists every writer shares (the ranking's public
and internal columns, :data:`RANKING_PUBLIC` and :data:`RANKING_INTERNAL`) are made of
names declared here. A column of the assessment table has one meaning, whichever stage
writes it (a later stage may rewrite it: ``situacao`` after the ranking); declaring a
name twice with different meanings fails at import.

Besides the assessment table, the requests stage reads the Commission's decisions and the
history of benefits into :data:`DECISIONS` and :data:`HISTORY`, which the law
(:mod:`geo_ip.law`) receives: those are tables of their own (``data`` is a decision's
date in one, a benefit's in the other).

Nothing of geo_ip is imported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "ACTS",
    "ACT_RESULTS",
    "ASSESSMENT",
    "BENEFICIARIES",
    "CHECK_STATUS",
    "COLUMNS",
    "CONTEXT",
    "CRITERIA",
    "DECISIONS",
    "DECISION_COLUMNS",
    "ELIGIBILITY",
    "FINAL_POINTS",
    "GEOCODED",
    "GRID_PATH",
    "HISTORY",
    "HISTORY_COLUMNS",
    "LOCATED",
    "LOCATE_STATUS",
    "MATERIALS",
    "PLACE",
    "RANGES",
    "RANKING",
    "RANKING_INTERNAL",
    "RANKING_INTERNAL_EXTRA",
    "RANKING_LISTS",
    "RANKING_PUBLIC",
    "REQUESTS",
    "SITE_CHECKS",
    "SNAPPED",
    "STAMP",
    "SUGGESTIONS",
    "Columns",
    "criteria_columns",
]

Columns = Mapping[str, str]
"""An ordered, read-only mapping of column names to their meaning."""

_DECLARED: dict[str, str] = {}
"""Every column of the assessment table and of its lists declared so far, with its meaning."""


def _declare(columns: Mapping[str, str]) -> Columns:
    """Declare columns of the assessment table or its lists; a name has one meaning."""
    for name, meaning in columns.items():
        if _DECLARED.setdefault(name, meaning) != meaning:
            raise ValueError(f"column {name!r} declared twice with different meanings")
    return MappingProxyType(dict(columns))


def _same(*names: str) -> Columns:
    """Columns of the assessment table declared before, in the order given, with their meaning."""
    unknown = [name for name in names if name not in _DECLARED]
    if unknown:
        raise ValueError(f"columns not declared: {unknown}")
    if len(set(names)) != len(names):
        raise ValueError(f"a column is listed twice: {list(names)}")
    return MappingProxyType({name: _DECLARED[name] for name in names})


def _table(columns: Mapping[str, str]) -> Columns:
    """Declare the columns of a table other than the assessment table."""
    return MappingProxyType(dict(columns))


CRITERIA = ("beneficiarios", "seguranca", "trafego", "custo_beneficio", "viabilidade")
"""The five criteria of Art. 9 (I to V), in the law's order: the ``<c>`` of the
per-criterion columns; the rules (:mod:`geo_ip.rules.law_locks`) lock their weights."""

_CRITERION = {
    "beneficiarios": "beneficiaries (Art. 9, I)",
    "seguranca": "road safety (Art. 9, II)",
    "trafego": "traffic (Art. 9, III)",
    "custo_beneficio": "cost-benefit (Art. 9, IV)",
    "viabilidade": "technical feasibility (Art. 9, V)",
}


def criteria_columns(prefix: str) -> list[str]:
    """Column names ``<prefix><criterion>`` for the five criteria of Art. 9.

    Parameters
    ----------
    prefix : str
        ``"pont_"``, ``"sugerido_"``, ``"nivel_"``, ``"motivacao_"``, ``"decisao_"`` or
        ``"alterado_"``.

    Returns
    -------
    list of str
        In the law's order (:data:`CRITERIA`).
    """
    return [f"{prefix}{c}" for c in CRITERIA]


# --- 1. requests: the validated spreadsheet (geo_ip.requests.intake) -------------------------

REQUESTS = _declare(
    {
        "linha": "row of the request in the requests file (the header is row 1), integer",
        "protocolo": "protocol number of the request, text (the key joining every output)",
        "data_protocolo": "date the request was filed, datetime.date (None when unknown)",
        "tipo": "request type of Art. 2: extensao_rede, implantacao or melhoria, text",
        "latitude": "latitude of the request, decimal degrees EPSG:4326 (NaN when not located)",
        "longitude": "longitude of the request, decimal degrees EPSG:4326 (NaN when not located)",
        "endereco": "street address as typed in the request, free text",
        "numero": "house number as typed in the request, text",
        "bairro": "bairro as typed; in the ranking lists bairro_encontrado (geocoding), text",
        "cep": "postal code (CEP) as typed in the request, text",
        "residencias": "residences declared (NA if blank); lists: residencias_consideradas, count",
        "moradores": "residents served as declared, count (Int64, NA when blank)",
        "cadunico": "applicant enrolled in CadÚnico (Art. 4 §2, I), boolean (NA when blank)",
        "renda_familiar": "declared family income, R$ per month (float, NaN when blank)",
        "uso_imovel": "use of the property (residencial, comercial, industrial, servicos, misto)",
        "mei": "applicant is a MEI (Art. 5, I), boolean (NA when blank)",
        "cpf_solicitante": "applicant's CPF, formatted 123.456.789-09 (masked after eligibility)",
        "nome_solicitante": "applicant's name, text (personal: never in an output)",
        "beneficio_anterior_data": "date of a previous benefit declared (Art. 5, II), date",
        "beneficio_anterior_justificativa": "supervening fact for a previous benefit, text",
        "estrategico": "request marked strategic (Art. 11) in the spreadsheet, boolean",
        "justificativa_estrategica": "justification of the strategic marking, free text",
        "observacoes": "clerk's notes on the request, free text (internal only)",
        "latitude_corrigida": "suggested latitude for swapped or unsigned coordinates, degrees",
        "longitude_corrigida": "suggested longitude for swapped or unsigned coordinates, degrees",
        "situacao": "status: ok, aviso or erro; after the ranking one of ranking.SITUACOES",
        "problemas": "every problem found in the request, each naming its field, ' | '-joined",
    }
)
"""The requests spreadsheet once typed and checked (``intake.validate_requests``)."""

# --- 2. located requests (geo_ip.requests.geocode, geo_ip.network.roads) ---------------------

GEOCODED = _declare(
    {
        "x": "easting of the located point, metres in the territory CRS (NaN when not located)",
        "y": "northing of the located point, metres in the territory CRS (NaN when not located)",
        "latitude": REQUESTS["latitude"],
        "longitude": REQUESTS["longitude"],
        "geocodificacao": "how the place was found: coordenada_informada, numero_exato, ...",
        "logradouro_encontrado": "street name geocoding matched, as written in the source, text",
        "bairro_encontrado": "bairro geocoding matched, text",
        "confianca": "confidence of the geocoded place, 0 to 1",
        "geocodificacao_detalhe": "how the place was found, Portuguese sentence",
        "incerteza_m": "radius within which the real place lies, metres (NaN when not located)",
        "trecho_candidato": "roads where the place may be, geometry in the territory CRS or None",
    }
)
"""Columns added (or overwritten) by ``geocode.geocode``, in order."""

SNAPPED = _declare(
    {
        "aresta_u": "first node of the nearest road edge, Int64 (NA when not snapped)",
        "aresta_v": "second node of the nearest road edge, Int64 (NA when not snapped)",
        "aresta_key": "key of the nearest edge among parallel ones, Int64 (NA when not snapped)",
        "posicao_aresta_m": "position of the snapped point along its edge from aresta_u, metres",
        "x_via": "easting of the snapped point on the road, metres in the territory CRS",
        "y_via": "northing of the snapped point on the road, metres in the territory CRS",
        "logradouro_via": "name of the nearest road, text",
        "hierarquia_via": "hierarchy of the nearest road: principal, secundaria or local",
        "distancia_via_m": "straight distance from the located point to the nearest road, metres",
        "fora_da_malha": "farther than rede.distancia_maxima_via from every road, boolean",
    }
)
"""Columns added by ``geo_ip.network.roads.RoadIndex.snap``, in order."""

LOCATE_STATUS = _same("situacao", "problemas")
"""Status columns rewritten by ``geo_ip.requests.locate.locate_requests``."""

LOCATED = _same(*REQUESTS, *(c for c in GEOCODED if c not in REQUESTS), *SNAPPED)
"""The located requests (``locate_requests``): requests, geocoding and snapping, in order."""

# --- 3. uncertain places (geo_ip.law.uncertainty) --------------------------------------------

PLACE = _declare(
    {
        "localizacao_pendente": "incerteza_m above avaliacao.incerteza_maxima_m, boolean",
    }
)
"""Column added by ``uncertainty.pending_places`` (via :func:`geo_ip.pipeline.assess`)."""

# --- 4. grid path (geo_ip.network.gridpath) --------------------------------------------------

GRID_PATH = _declare(
    {
        "distancia_rede_m": "along-road distance from the request to the existing grid, metres",
        "distancia_rede_reta_m": "straight distance to the nearest usable grid element, metres",
        "metodo_distancia": "via, reta_fator_desvio, sem_rede or sem_localizacao",
        "rede_alvo_tipo": "tipo of the grid element reached: bt, poste, ponto_ip, ..., mt",
        "rede_alvo_id": "id of the grid element reached, '<fonte>:<id_origem>'",
        "transformador": "a new transformer is needed, boolean (NA when there is no path)",
    }
)
"""Columns of ``GridNetwork.paths`` (the path itself is a GeoSeries apart), in order."""

# --- 5. context (geo_ip.evidence.context) ----------------------------------------------------

CONTEXT = _declare(
    {
        "edificacoes_trecho": "buildings within raio_edificacoes_m of the served stretch, count",
        "equipamentos_proximos": "public or community facilities within raio_equipamentos_m, count",
        "equipamentos_nomes": "names of those facilities, nearest first, '; '-joined",
        "travessias": "pedestrian crossings within raio_seguranca_m, count",
        "paradas_onibus": "bus stops within raio_seguranca_m, count",
        "escolas": "schools within raio_seguranca_m, count",
        "creches": "day-care centres within raio_seguranca_m, count",
        "unidades_saude": "health units within raio_seguranca_m, count",
        "pracas": "squares within raio_seguranca_m, count",
        "centros_comunitarios": "community centres within raio_seguranca_m, count",
        "escolas_nomes": "names of the schools counted, nearest first, '; '-joined",
        "creches_nomes": "names of the day-care centres counted, nearest first, '; '-joined",
        "unidades_saude_nomes": "names of the health units counted, nearest first, '; '-joined",
        "centros_comunitarios_nomes": "names of the community centres counted, '; '-joined",
        "producao_rural": "rural production places within art12.raio_producao_m, count",
        "producao_rural_nomes": "labels of the rural production counted, '; '-joined",
        "usuarios_vulneraveis": "facilities of vulnerable users within raio_seguranca_m, count",
        "vulneraveis_nomes": "names of those facilities, nearest first, '; '-joined",
        "paradas_onibus_via": "bus stops within distancia_parada_via_m of the road edge, count",
        "geradores_noturnos": "night pedestrian generators within raio_seguranca_m, count",
        "ocorrencias": "occurrences within raio_ocorrencias_m in the period, count (NA: no file)",
        "ocorrencias_tipos": "occurrences by type, 'acidente: 2; furto: 1'",
        "distancia_ip_m": "straight distance to the nearest public-lighting point, metres",
        "intermediacao": "sampled betweenness of the request's road edge, unitless",
        "intermediacao_percentil": "percentile of that betweenness among all edges, 0 to 100",
        "via_de_passagem": "the request's edge is not a dead end, boolean",
        "declividade_media_pct": "mean slope along the extension path, percent",
        "declividade_max_pct": "maximum slope along the extension path, percent",
        "declividade_fonte": "where the slope came from: mde, aresta or ''",
        "superficie_via": "OSM surface of the request's road edge, text",
        "via_sem_pavimento": "the request's road edge is unpaved, boolean",
        "via_rural": "the request's road edge is rural, boolean",
    }
)
"""Columns of ``Context.for_requests``, in order."""

# --- 6. evidence: materials, cost and beneficiaries (geo_ip.evidence.materials) --------------

MATERIALS = _declare(
    {
        "postes_novos": "new poles, ceil(distancia_rede_m / rede.vao_postes), count",
        "bracos": "lamp arms, postes_novos + 1, count",
        "luminarias": "luminaires, postes_novos + 1, count",
        "condutor_m": "low-voltage conductor along the extension, metres",
        "transformadores": "new transformers, count (0 or 1)",
        "custo_estimado_rs": "estimated cost of the works (quantities × custos_unitarios), R$",
    }
)
"""Columns of ``materials.bill_of_materials``, in order."""

BENEFICIARIES = _declare(
    {
        "residencias_declaradas": "residences served as declared in the request, count",
        "residencias_consideradas": "residences declared, else edificacoes_trecho (≥ 1), count",
        "moradores_declarados": "residents served as declared in the request, count",
        "moradores_estimados": "residents declared, else residences × household size, persons",
        "fonte_beneficiarios": "where the residences and residents came from, Portuguese text",
        "custo_por_beneficiario_rs": "custo_estimado_rs / moradores_estimados, R$ per person",
    }
)
"""Columns of ``materials.beneficiaries``, in order."""

# --- 7. scores: suggestions of Art. 9 and the Art. 12 indication (geo_ip.law.scoring) --------

SUGGESTIONS = _declare(
    {
        **{
            name: meaning
            for c in CRITERIA
            for label in (_CRITERION[c],)
            for name, meaning in (
                (f"sugerido_{c}", f"suggested points of {label}, points"),
                (f"nivel_{c}", f"reference level of {label}: I, II, III or ''"),
                (f"motivacao_{c}", f"motivation of the suggestion for {label}, Portuguese"),
            )
        },
        "indicio_art12": "indication of a high-flow rural road (Art. 12 §1), boolean",
        "sinais_art12": "families of Art. 12 §1 signs found, ';'-joined",
        "motivo_art12": "each Art. 12 §1 sign with its evidence, Portuguese ('' off rural roads)",
    }
)
"""Columns of ``scoring.suggest``, in order."""

RANGES = _declare(
    {
        "posicoes_avaliadas": "positions of the request assessed (1 when the place is sure), count",
        "extensao_min_m": "minimum distancia_rede_m over the positions, metres",
        "extensao_max_m": "maximum distancia_rede_m over the positions, metres",
        "postes_min": "minimum postes_novos over the positions, count",
        "postes_max": "maximum postes_novos over the positions, count",
        "custo_min_rs": "minimum custo_estimado_rs over the positions, R$",
        "custo_max_rs": "maximum custo_estimado_rs over the positions, R$",
        "pontuacao_sugerida_min": "minimum suggested total over the positions, points",
        "pontuacao_sugerida_max": "maximum suggested total over the positions, points",
    }
)
"""Columns of ``uncertainty.collapse``: ranges over the positions of an uncertain place."""

SITE_CHECKS = _declare(
    {
        "confirmar_no_local": "what the site inspection must confirm of the place, Portuguese",
    }
)
"""Column of ``uncertainty.site_checks`` (``""`` unless ``pendente_localizacao``)."""

# --- 8. eligibility (geo_ip.law.eligibility) -------------------------------------------------

ELIGIBILITY = _declare(
    {
        "elegivel": "eligible to municipal funding (Art. 4, Art. 5), boolean",
        "motivos_inelegibilidade": "every reason of ineligibility, ' | '-joined (internal)",
        "fundamento_inelegibilidade": "articles the request fails, e.g. 'Art. 5, I' (public)",
        "avisos_elegibilidade": "what the Commission should check, without excluding (internal)",
        "hipossuficiencia": "how hardship was proven or not, hardship.HARDSHIP_STATUSES",
        "condicao_hipossuficiencia": "comprovada, pendente, não comprovada or não exigida",
        "pendencia_hipossuficiencia": "proof of hardship a pending request lacks, Portuguese",
        "pedido_estrategico": "marked strategic with a justification (Art. 11), boolean",
        "cpf_hash": "keyed hash of the applicant's CPF, 'h:' + 16 hex digits (internal)",
    }
)
"""Columns of ``eligibility.check``, in order."""

# --- 9. the Commission's points and acts (geo_ip.law.decisions) ------------------------------

FINAL_POINTS = _declare(
    {
        **{
            name: meaning
            for c in CRITERIA
            for label in (_CRITERION[c],)
            for name, meaning in (
                (f"pont_{c}", f"final points of {label}: the decision, else the suggestion"),
                (
                    f"decisao_{c}",
                    f"the Commission's decision on {label}: who, when, why ('' if none)",
                ),
                (f"alterado_{c}", f"the decision on {label} changed the suggestion, boolean"),
            )
        },
        "pontuacao_total": "sum of the five final points, points (NaN when one is unknown)",
    }
)
"""Columns of ``decisions.apply``, in order."""

ACT_RESULTS = _declare(
    {
        "art11_decidido": "the Commission decided an Art. 11 strategic work, boolean",
        "art12_decidido": "the Executive decided an Art. 12 direct execution, boolean",
        "ordem_ato": "order of the Art. 11/12 decisions (date, then file row), integer",
        "decisao_art11": "the Art. 11 decision: who, when, why ('' if none)",
        "decisao_art12": "the Art. 12 decision: who, when, procedure, why ('' if none)",
        "procedimento_art12": "number of the Executive's administrative procedure (Art. 12 §2)",
        "decisao_hipossuficiencia": "hardship accepted (Art. 4 §2, III): who, when, documents",
        "decisao_localizacao": "the confirmation of the place: who, when, where, how ('' if none)",
    }
)
"""Columns of ``decisions.apply_acts``, in order."""

# --- 10. ranking (geo_ip.pipeline, geo_ip.law.ranking) ---------------------------------------

CHECK_STATUS = _declare(
    {
        "situacao_pedido": "status of the request before the ranking: ok, aviso or erro",
        "erro": "the request is in error (spreadsheet or not located), boolean",
    }
)
"""Columns :func:`geo_ip.pipeline.assess` sets before ranking."""

RANKING = _declare(
    {
        **_same("situacao"),
        "posicao": "place in the ranking, 1..k among the ranked requests, Int64 (NA otherwise)",
        "percentual_municipio": "municipal share of the cost (Art. 4 §1), percent",
        "custo_municipio_rs": "percentual_municipio × custo_estimado_rs / 100, R$",
        "selecionado_orcamento": "selected within the budget, boolean",
        "motivo_situacao": "reason of the situation, Portuguese",
    }
)
"""Columns added (or rewritten) by ``ranking.rank``, in order."""

ASSESSMENT: Columns = MappingProxyType(dict(_DECLARED))
"""Every column of the assessment table (the stages above), with its meaning."""

# --- 11. the ranking's lists (geo_ip.outputs.views) ------------------------------------------

RANKING_LISTS = _declare(
    {
        "logradouro": "street of the request: logradouro_via, else logradouro_encontrado",
        "motivos": "motivo_situacao then the problems, ' | '-joined (public: articles only)",
        "hipossuficiencia_comprovacao": "Portuguese label of hipossuficiencia (internal)",
        "alertas": "flags to check (implausible declaration, place, proof, road), '; '-joined",
    }
)
"""Columns the ranking's views derive from the assessment table."""

STAMP = _declare(
    {
        "proveniencia": "provenance stamp of the run (tool, rules, territory), on every CSV row",
    }
)
"""Last column of every CSV (``geo_ip.rules.provenance.stamp``)."""

RANKING_PUBLIC = _same(
    "protocolo", "posicao", "situacao", "pontuacao_total", "alertas",
    *criteria_columns("pont_"), *criteria_columns("sugerido_"),
    "residencias", "moradores_estimados", "hierarquia_via", "logradouro",
    "distancia_rede_m", "distancia_rede_reta_m", "metodo_distancia", "postes_novos",
    "transformador", "custo_estimado_rs", "custo_por_beneficiario_rs",
    "percentual_municipio", "custo_municipio_rs", "selecionado_orcamento", "motivos",
    "fundamento_inelegibilidade", "condicao_hipossuficiencia", "indicio_art12", "linha",
    "data_protocolo", "tipo", "geocodificacao", "incerteza_m", "confirmar_no_local",
    "extensao_min_m", "extensao_max_m", "postes_min", "postes_max", "custo_min_rs",
    "custo_max_rs", "pontuacao_sugerida_min", "pontuacao_sugerida_max", "bairro", "latitude",
    "longitude",
)  # fmt: skip
"""Columns of ``ranking.csv``, in order (then :data:`STAMP`); the first ones are those of
issue 4, with ``alertas`` beside the total (issue 21: the flags are not buried).
Hardship appears only as its public condition (``condicao_hipossuficiencia``),
never how it was proven. The place's uncertainty and the ranges over the candidate
stretch are public (they describe the works, not the applicant)."""

RANKING_INTERNAL_EXTRA = _same(
    "elegivel", "motivos_inelegibilidade", "avisos_elegibilidade", "cadunico",
    "hipossuficiencia", "hipossuficiencia_comprovacao", "decisao_hipossuficiencia",
    "pendencia_hipossuficiencia", "pedido_estrategico", "motivo_art12", "sinais_art12",
    "ordem_ato", "decisao_art11", "decisao_art12", "procedimento_art12",
    "localizacao_pendente", "posicoes_avaliadas", "decisao_localizacao", "cpf_solicitante",
    "cpf_hash",
)  # fmt: skip
"""Columns of the internal list (``ranking.xlsx``) after the public ones."""

RANKING_INTERNAL = _same(*RANKING_PUBLIC, *RANKING_INTERNAL_EXTRA)
"""Columns of the internal list (``ranking.xlsx``), in order (then :data:`STAMP`)."""

COLUMNS: Columns = MappingProxyType(_DECLARED)
"""Every column declared above: the assessment table's and the lists' (one meaning each)."""

# --- tables other than the assessment table --------------------------------------------------

ACTS = ("hipossuficiencia", "art11", "art12", "localizacao")
"""Decisions without points: proof of hardship accepted (Art. 4 §2, III), strategic
request analysed directly (Art. 11), direct execution by the Executive (Art. 12), the
request's place confirmed by the Commission (Art. 7, II)."""

DECISIONS = _table(
    {
        "linha": "row of the decision in the decisions file (the header is row 1), integer",
        "protocolo": "protocol number of the request decided, text",
        "criterio": "a criterion of Art. 9 (CRITERIA) or an act without points (ACTS)",
        "pontos": "points decided, points (NaN for an act)",
        "motivacao": "the decision's motivation, Portuguese",
        "membro": "who decided, text",
        "data": "date of the decision, datetime.date",
        "procedimento": "number of the Executive's administrative procedure (art12 acts)",
        "latitude": "latitude of the confirmed place, degrees EPSG:4326 (NaN unless localizacao)",
        "longitude": "longitude of the confirmed place, degrees EPSG:4326 (NaN unless localizacao)",
    }
)
"""The Commission's valid decisions, one row per (protocol, criterion)
(``geo_ip.requests.decision_file.read_decisions``)."""

DECISION_COLUMNS = tuple(DECISIONS)
"""Names of :data:`DECISIONS`, in order."""

HISTORY = _table(
    {
        "linha": "row of the benefit in the history file (the header is row 1), integer",
        "protocolo": "protocol number of the earlier request, text",
        "data": "date the benefit was granted, datetime.date",
        "tipo": "request type of Art. 2 of the benefit, text",
        "cpf_hash": "keyed hash of the beneficiary's CPF (never the CPF)",
    }
)
"""Benefits granted before (Art. 5, II) (``geo_ip.requests.history_file.read_history``)."""

HISTORY_COLUMNS = tuple(HISTORY)
"""Names of :data:`HISTORY`, in order."""
