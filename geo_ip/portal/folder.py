"""Read an assessment folder (the output of ``geo-ip avaliar``) into the public model.

Reads ``ranking.csv`` (the public list), ``evidencias.json`` (each criterion's public
motivation and the Commission's decisions), ``proveniencia.json`` (rules version and
hash, the data's date, the budget; never the paths of the input files) and, when
present, the ``extensoes`` layer of ``avaliacao.gpkg``. Only the fields named here are
read (:mod:`geo_ip.portal.model`).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from geo_ip.errors import InputFileError
from geo_ip.outputs.format import is_missing
from geo_ip.portal.model import (
    CRITERIA_KEYS,
    CriterionScore,
    Event,
    Program,
    PublicDecision,
    PublicRequest,
    number_or_none,
    page_slug,
    plain_text,
    public_text,
    street_level_line,
    street_only,
)

__all__ = ["CRITERION_TITLES", "program_from", "read_folder", "tie_break_of"]

CRITERION_TITLES = {
    "beneficiarios": "I – Beneficiários diretos e indiretos",
    "seguranca": "II – Segurança pública e viária",
    "trafego": "III – Tráfego de veículos e pedestres",
    "custo_beneficio": "IV – Custo-benefício social",
    "viabilidade": "V – Viabilidade técnica",
}
"""Titles of the criteria of Art. 9 (the rules' titles are used when available)."""
DEFAULT_WEIGHTS = {"beneficiarios": 40.0, "seguranca": 15.0, "trafego": 15.0,
                   "custo_beneficio": 15.0, "viabilidade": 15.0}  # fmt: skip
"""The weights of Art. 9 (the law fixes them)."""

_RANKING_COLUMNS = (
    "protocolo", "posicao", "situacao", "pontuacao_total", "logradouro", "bairro", "tipo",
    "data_protocolo", "latitude", "longitude", "custo_estimado_rs", "percentual_municipio",
    "custo_municipio_rs", "selecionado_orcamento", "motivos", "fundamento_inelegibilidade",
    "condicao_hipossuficiencia",
    *(f"pont_{c}" for c in CRITERIA_KEYS), *(f"sugerido_{c}" for c in CRITERIA_KEYS),
)  # fmt: skip
"""The only columns of ``ranking.csv`` the portal reads (the allow-list)."""
_TIE = re.compile(r"empatado com o protocolo .*?\(Art\. 10 §1\)|empatado com o protocolo [^;|]*")
_DAY = re.compile(r"\b(\d{2})/(\d{2})/(\d{4})\b")
_OFFICIAL = re.compile(r"\bpor (.+?)(?: \((\d{2}/\d{2}/\d{4})\)| em (\d{2}/\d{2}/\d{4}))")


def tie_break_of(reason: str) -> str:
    """Return the tie-break part of a ranked request's reason (``""``: no tie).

    Parameters
    ----------
    reason : str
        The ``motivos`` text of the ranking (``...; empatado com o protocolo X, que fica à
        frente por ... (Art. 10 §1); ...``).

    Returns
    -------
    str
        ``empatado com o protocolo X, que fica à frente por ...`` or ``""``.
    """
    found = _TIE.search(reason)
    return found.group(0).strip() if found else ""


def _day(value: Any) -> date | None:
    if is_missing(value):
        return None
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        found = _DAY.search(text)
        if found is None:
            return None
        try:
            return date(int(found[3]), int(found[2]), int(found[1]))
        except ValueError:
            return None


def _yes(value: Any) -> bool:
    return str(value).strip().lower() in ("sim", "true", "1", "verdadeiro")


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputFileError(f"não foi possível ler {path.name}: {exc}", path=path) from exc
    return data if isinstance(data, dict) else {}


def _decision(protocol: str, slug: str, subject: str, text: str) -> PublicDecision:
    found = _OFFICIAL.search(text)
    official = public_text(found[1], 200) if found else ""
    day = _day(found[2] or found[3]) if found else _day(text)
    return PublicDecision(protocol, slug, subject, public_text(text), official, day)


def _extensions(folder: Path, slugs: dict[str, str]) -> dict[str, Any]:
    """Return the proposed extensions (``extensoes`` of the GeoPackage) as WGS 84 GeoJSON."""
    path = folder / "avaliacao.gpkg"
    empty: dict[str, Any] = {"type": "FeatureCollection", "features": []}
    if not path.exists():
        return empty
    import geopandas as gpd
    import pyogrio

    if "extensoes" not in {str(name) for name, _ in pyogrio.list_layers(path)}:
        return empty
    layer = gpd.read_file(path, layer="extensoes")
    if layer.empty or "protocolo" not in layer.columns or layer.crs is None:
        return empty
    layer = layer.to_crs(4326)
    features = []
    for protocol, geom in zip(layer["protocolo"].astype(str), layer.geometry, strict=True):
        shown = street_level_line(geom)
        if shown is None or protocol not in slugs:
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {"protocolo": plain_text(protocol), "pagina": slugs[protocol]},
                "geometry": json.loads(json.dumps(shown)),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def read_folder(folder: str | Path, *, criterion_titles: dict[str, str] | None = None) -> Program:
    """Read an assessment folder into the public model.

    Parameters
    ----------
    folder : str or Path
        The folder ``geo-ip avaliar`` wrote (``ranking.csv`` at least).
    criterion_titles : dict, optional
        Title of each criterion (default: :data:`CRITERION_TITLES`).

    Returns
    -------
    Program
        Rules left unset (the caller loads them: :func:`geo_ip.portal.site.build_site`).

    Raises
    ------
    InputFileError
        No ``ranking.csv``, or a file that cannot be read.
    """
    folder = Path(folder)
    ranking_path = folder / "ranking.csv"
    if not ranking_path.exists():
        raise InputFileError(
            "a pasta não é uma avaliação do geo_ip (falta ranking.csv)", path=ranking_path
        )
    header = pd.read_csv(ranking_path, nrows=0, encoding="utf-8").columns
    wanted = [c for c in _RANKING_COLUMNS if c in header]
    table = pd.read_csv(
        ranking_path, usecols=wanted, dtype=str, keep_default_na=False, encoding="utf-8"
    )
    provenance = _read_json(folder / "proveniencia.json")
    evidence = _read_json(folder / "evidencias.json")
    records: dict[str, dict[str, Any]] = {}
    for record in evidence.get("pedidos", []) or []:
        if isinstance(record, dict):
            records.setdefault(str(record.get("protocolo", "")), record)
    if not provenance.get("data_referencia") and not provenance.get("executado_em"):
        modified = datetime.fromtimestamp(ranking_path.stat().st_mtime).date()
        provenance = {**provenance, "data_referencia": modified.isoformat()}
    program = program_from(
        [{str(k): v for k, v in row.items()} for row in table.to_dict("records")],
        records,
        provenance,
        criterion_titles=criterion_titles,
    )
    slugs = {r.protocol: r.slug for r in program.requests}
    program.extensions = _extensions(folder, slugs)
    return program


def program_from(
    rows: list[dict[str, Any]],
    records: dict[str, dict[str, Any]],
    provenance: dict[str, Any],
    *,
    criterion_titles: dict[str, str] | None = None,
    source: str = "pasta de avaliação",
) -> Program:
    """Build the public model from rows in the columns of ``ranking.csv``.

    Only the columns of the allow-list are read from ``rows``; from ``records`` (keyed
    by protocol, laid out as the records of ``evidencias.json``) only each criterion's
    level, motivation and decision and the decisions of Art. 11 and 12; from
    ``provenance`` (laid out as ``proveniencia.json``) the rules' version and hash, the
    municipality, the law, the reference date, the OSM date and the budget.

    Parameters
    ----------
    rows : list of dict
        One dict per request, in the ranking's order.
    records : dict
        Evidence records by protocol.
    provenance : dict
        The run's provenance.
    criterion_titles : dict, optional
        Title of each criterion (default: :data:`CRITERION_TITLES`).
    source : str, optional
        What the site is built from, in words.

    Returns
    -------
    Program
        No extensions, works or rules yet (the caller adds them).
    """
    titles = criterion_titles or CRITERION_TITLES
    rules = provenance.get("regras", {}) if isinstance(provenance.get("regras"), dict) else {}
    reference = _day(provenance.get("data_referencia"))
    taken: set[str] = set()
    requests: list[PublicRequest] = []
    decisions: list[PublicDecision] = []
    for full in rows:
        row = {k: full.get(k) for k in _RANKING_COLUMNS}
        protocol = plain_text(row.get("protocolo")) or "sem protocolo"
        raw_protocol = str(row.get("protocolo", ""))
        slug = page_slug(protocol, taken)
        record = records.get(raw_protocol, {})
        crit_record = record.get("criterios", {}) if isinstance(record, dict) else {}
        criteria = []
        for key in CRITERIA_KEYS:
            detail = crit_record.get(key, {}) if isinstance(crit_record, dict) else {}
            detail = detail if isinstance(detail, dict) else {}
            criteria.append(
                CriterionScore(
                    key=key,
                    title=titles.get(key, key),
                    weight=DEFAULT_WEIGHTS[key],
                    points=number_or_none(row.get(f"pont_{key}")),
                    suggested=number_or_none(row.get(f"sugerido_{key}")),
                    level=public_text(detail.get(f"nivel_{key}"), 10),
                    motivation=public_text(detail.get(f"motivacao_{key}")),
                    decision=public_text(detail.get(f"decisao_{key}")),
                )
            )
        own: list[PublicDecision] = [
            _decision(protocol, slug, c.title, c.decision) for c in criteria if c.decision
        ]
        for section, label in (("art11", "Art. 11"), ("art12", "Art. 12")):
            part = record.get(section, {}) if isinstance(record, dict) else {}
            text = public_text(part.get(f"decisao_{section}")) if isinstance(part, dict) else ""
            if text:
                own.append(_decision(protocol, slug, label, text))
        reason = public_text(row.get("motivos"))
        status = public_text(row.get("situacao"), 40)
        selected = _yes(row.get("selecionado_orcamento"))
        filed = _day(row.get("data_protocolo"))
        history = [Event("Protocolado", filed)]
        if status != "erro":
            history.append(Event("Avaliado", reference))
        history += [Event(f"Decisão: {d.subject}", d.day) for d in own]
        if selected:
            history.append(Event("Selecionado no orçamento", reference))
            own.append(
                PublicDecision(
                    protocol, slug, "Seleção no orçamento (Art. 13)",
                    public_text(reason.split(" | ")[0]), "", reference, kind="selecao",
                )
            )  # fmt: skip
        history.sort(key=lambda e: e.day or date.max)
        position = number_or_none(row.get("posicao"))
        requests.append(
            PublicRequest(
                protocol=protocol,
                slug=slug,
                status=status,
                request_type=public_text(row.get("tipo"), 60),
                street=street_only(row.get("logradouro")),
                district=street_only(row.get("bairro")),
                latitude=number_or_none(row.get("latitude")),
                longitude=number_or_none(row.get("longitude")),
                filed=filed,
                position=None if position is None else int(position),
                total=number_or_none(row.get("pontuacao_total")),
                cost=number_or_none(row.get("custo_estimado_rs")),
                share_pct=number_or_none(row.get("percentual_municipio")),
                municipal_cost=number_or_none(row.get("custo_municipio_rs")),
                selected=selected,
                reason=reason,
                tie_break=tie_break_of(reason),
                criteria=criteria,
                decisions=own,
                history=history,
                ineligibility=public_text(row.get("fundamento_inelegibilidade")),
                hardship=public_text(row.get("condicao_hipossuficiencia"), 60),
            )
        )
        decisions += own
    budget_record = provenance.get("orcamento", {})
    budget_record = budget_record if isinstance(budget_record, dict) else {}
    budget = {
        "orcamento_rs": number_or_none(budget_record.get("orcamento_rs")),
        "reservado_rs": number_or_none(budget_record.get("reservado_rs")),
        "selecionado_rs": number_or_none(budget_record.get("classificados_rs")),
        "executado_rs": None,
        "saldo_rs": number_or_none(budget_record.get("saldo_final_rs")),
    }
    territory = provenance.get("territorio", {})
    osm = str(territory.get("osm_data", "") or "") if isinstance(territory, dict) else ""
    executed = provenance.get("executado_em")
    data_date = reference or (_day(executed) if executed else None)
    return Program(
        municipality=public_text(rules.get("municipio"), 200),
        fictitious="fictício" in str(rules.get("municipio", "")).lower(),
        law=public_text(rules.get("lei"), 200) or "Lei nº 5.442/2026",
        rules_version=public_text(rules.get("versao"), 100),
        rules_sha256=re.sub(r"[^0-9a-f]", "", str(rules.get("sha256", "")).lower())[:64],
        data_date=data_date,
        osm_date=osm[:10],
        budget=budget,
        requests=requests,
        decisions=decisions,
        extensions={"type": "FeatureCollection", "features": []},
        works={"type": "FeatureCollection", "features": []},
        source=source,
    )
