"""Municipality rules: load and validate ``data/municipios/<name>.toml``.

The rules file holds every number the law leaves to regulation, each with its
source. It is loaded into frozen pydantic models, one per section (see
:mod:`geo_ip.rules.law_locks` for what the law itself fixes,
:mod:`geo_ip.rules.sections`, :mod:`geo_ip.rules.road_rules` and
:mod:`geo_ip.rules.scoring_rules` for the rest); any problem is reported as a
:class:`~geo_ip.errors.RulesError` naming the file and the offending key. The
loaded :class:`Rules` carry the file's path and SHA-256 hash.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import model_validator

from geo_ip._util.paths import resource_dir
from geo_ip.errors import RulesError
from geo_ip.rules.law_locks import CRITERIA, CostShare, Criteria, Eligibility, TieBreak
from geo_ip.rules.params import LEVEL_CODES, Frozen, KeyedRuleError
from geo_ip.rules.road_rules import RoadHierarchy, RuralRoads
from geo_ip.rules.scoring_rules import Art12, Scoring
from geo_ip.rules.sections import (
    Assessment,
    Beneficiaries,
    Budget,
    CadastreRules,
    Hardship,
    Law,
    Lighting,
    Municipality,
    Network,
    UnitCosts,
    Validation,
)
from geo_ip.rules.toml_io import merge_tables, read_toml, stamped, validate

__all__ = ["Rules", "load_rules", "rules_path"]


class Rules(Frozen):
    """All rules of one municipality, validated and immutable."""

    versao: str
    descricao: str = ""
    municipio: Municipality
    lei: Law
    criterios: Criteria
    desempate: TieBreak
    participacao: CostShare
    elegibilidade: Eligibility
    hipossuficiencia: Hardship
    custos_unitarios: UnitCosts
    rede: Network
    iluminacao: Lighting
    beneficiarios: Beneficiaries
    validacao: Validation
    avaliacao: Assessment
    pontuacao: Scoring
    hierarquia_viaria: RoadHierarchy
    """Crosswalk OSM ``highway`` → road hierarchy (Art. 9 §8), applied by the territory."""
    via_rural: RuralRoads
    """Which roads are rural (Art. 12), applied by the territory."""
    art12: Art12
    orcamento: Budget = Budget()
    cadastro: CadastreRules | None = None
    """Optional: only ``geo-ip cadastro`` needs it (and refuses to run without it)."""
    # Set by the loader, not by the file.
    arquivo: str = ""
    sha256: str = ""

    @model_validator(mode="after")
    def _scoring_fits_criteria(self) -> Rules:
        weight = self.criterios.beneficiarios.peso.valor
        total = self.pontuacao.beneficiarios.maximo
        if total > weight + 1e-9:
            raise KeyedRuleError(
                "pontuacao.beneficiarios",
                f"a soma dos máximos dos subcritérios é {total:g} pontos, acima do peso de "
                f"{weight:g} pontos do critério (criterios.beneficiarios.peso, Art. 9, I)",
            )
        for name in CRITERIA[1:]:
            codes = sorted(level.codigo for level in getattr(self.criterios, name).niveis)
            if codes != sorted(LEVEL_CODES):
                raise KeyedRuleError(
                    f"criterios.{name}.niveis",
                    "o critério deve ter exatamente os níveis I, II e III (Art. 9 §6, §8, §10, "
                    f"§12); encontrados: {', '.join(codes) or 'nenhum'}",
                )
        unclassified = [
            highway
            for highway in self.via_rural.highway_candidatos
            if self.hierarquia_viaria.hierarchy_of(highway) is None
        ]
        if unclassified:
            raise KeyedRuleError(
                "via_rural.highway_candidatos",
                f"highway sem classe em hierarquia_viaria: {', '.join(unclassified)} (toda via "
                "candidata a rural deve ter uma classe da hierarquia viária, Art. 9 §8)",
            )
        return self

    def level_points(self, criterion: str) -> dict[str, float]:
        """Return the points of each level code of a criterion with levels.

        Parameters
        ----------
        criterion : str
            One of ``seguranca``, ``trafego``, ``custo_beneficio``, ``viabilidade``.

        Returns
        -------
        dict of str to float
            ``{"I": ..., "II": ..., "III": ...}``.
        """
        return {lv.codigo: lv.pontos.valor for lv in getattr(self.criterios, criterion).niveis}


def rules_path(name_or_path: str | Path) -> Path:
    """Resolve a rules name (``"extrema"``) or a path to a TOML file.

    Parameters
    ----------
    name_or_path : str or Path
        Either the stem of a file in ``data/municipios/`` or a path.

    Returns
    -------
    Path
        Path of the rules file.
    """
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        return candidate
    return resource_dir("data") / "municipios" / f"{name_or_path}.toml"


def _read_toml(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], bytes]:
    """Read a rules file, resolving ``herda = "<name>"`` (inherit from another file)."""
    missing = "arquivo de regras do município não encontrado"
    data, raw = read_toml(path, missing, "o arquivo de regras não é um TOML válido")
    parent = data.pop("herda", None)
    if parent is None:
        return data, raw
    parent_path = rules_path(parent) if not Path(parent).is_absolute() else Path(parent)
    if not parent_path.is_absolute() and not parent_path.exists():
        parent_path = path.parent / f"{parent}.toml"
    if parent_path.resolve() in seen:
        raise RulesError("herança circular entre arquivos de regras", path=path, field="herda")
    base, base_raw = _read_toml(parent_path, (*seen, path.resolve()))
    return merge_tables(base, data), base_raw + raw


def load_rules(name_or_path: str | Path = "extrema") -> Rules:
    """Load and validate a municipality rules file.

    Parameters
    ----------
    name_or_path : str or Path, default "extrema"
        Name of a bundled rules file or path to one. A file may start with
        ``herda = "<name>"`` to inherit every key of another rules file and
        override only some; the hash then covers both files.

    Returns
    -------
    Rules
        Frozen, validated rules, with ``arquivo`` and ``sha256`` filled in.

    Raises
    ------
    RulesError
        If the file is missing, is not valid TOML, or a key is missing or invalid;
        the message names the key.
    """
    path = rules_path(name_or_path)
    data, raw = _read_toml(path)
    return stamped(validate(Rules, data, path), path, raw)
