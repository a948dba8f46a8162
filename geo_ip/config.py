"""Municipality rules: load and validate ``data/municipios/<name>.toml``.

The rules file holds every number the law leaves to regulation, each with its
source. It is loaded into frozen pydantic models; any problem is reported as a
:class:`~geo_ip.errors.RulesError` naming the offending key.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from geo_ip._paths import resource_dir
from geo_ip.errors import RulesError

CRITERIA = ("beneficiarios", "seguranca", "trafego", "custo_beneficio", "viabilidade")
"""The five criteria of Art. 9, in the law's order."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Param(_Frozen):
    """A number with its unit and its source (article, norm or "a definir em decreto")."""

    valor: float
    unidade: str = ""
    fonte: str = Field(min_length=3)

    @property
    def to_be_decreed(self) -> bool:
        """Whether the value is a technical suggestion pending the regulating decree."""
        return "a definir em decreto" in self.fonte.lower()


class Municipality(_Frozen):
    """Identification of the municipality."""

    nome: str
    uf: str = Field(pattern=r"^[A-Z]{2}$")
    codigo_ibge: int = Field(ge=1_000_000, le=9_999_999)
    crs: str | None = None
    crs_fonte: str | None = None
    distribuidora: str | None = None
    ficticio: bool = False
    """True for the bundled demo: every output is labelled as fictional data."""


class Law(_Frozen):
    """The municipal law implemented by these rules."""

    numero: str
    data: str
    ementa: str = ""


class Level(_Frozen):
    """A reference level of a criterion (Art. 9 §6, §8, §10, §12)."""

    codigo: Literal["I", "II", "III"]
    descricao: str
    fonte_descricao: str
    pontos: Param


class Criterion(_Frozen):
    """One of the five scoring criteria of Art. 9."""

    titulo: str
    peso: Param
    niveis: tuple[Level, ...] = ()

    @model_validator(mode="after")
    def _levels_within_weight(self) -> Criterion:
        for level in self.niveis:
            if not 0 <= level.pontos.valor <= self.peso.valor:
                raise ValueError(
                    f"nível {level.codigo}: {level.pontos.valor:g} pontos fora de 0 a "
                    f"{self.peso.valor:g} (peso do critério)"
                )
        return self


class Criteria(_Frozen):
    """The five criteria of Art. 9."""

    beneficiarios: Criterion
    seguranca: Criterion
    trafego: Criterion
    custo_beneficio: Criterion
    viabilidade: Criterion

    @model_validator(mode="after")
    def _weights_sum_to_100(self) -> Criteria:
        total = sum(getattr(self, name).peso.valor for name in CRITERIA)
        if abs(total - 100) > 1e-9:
            raise ValueError(f"a soma dos pesos é {total:g}, mas o Art. 9 fixa 100 pontos")
        return self


class TieBreak(_Frozen):
    """Tie-break order of Art. 10 §1."""

    ordem: tuple[
        Literal["beneficiarios", "seguranca", "custo_beneficio", "antiguidade_protocolo"], ...
    ]
    fonte: str


class Band(_Frozen):
    """A cost-share band: from ``pontuacao_minima`` points, the municipality pays ``percentual``."""

    pontuacao_minima: float = Field(ge=0, le=100)
    percentual: float


class CostShare(_Frozen):
    """Municipal share of the cost (Art. 4)."""

    percentual_minimo: Param
    percentual_maximo: Param
    fonte_faixas: str
    faixas: tuple[Band, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _bands_within_law(self) -> CostShare:
        low, high = self.percentual_minimo.valor, self.percentual_maximo.valor
        for band in self.faixas:
            if not low <= band.percentual <= high:
                raise ValueError(
                    f"faixa a partir de {band.pontuacao_minima:g} pontos: {band.percentual:g} % "
                    f"fora do intervalo de {low:g} % a {high:g} % do Art. 4"
                )
        if not any(band.pontuacao_minima == 0 for band in self.faixas):
            raise ValueError(
                "as faixas devem cobrir a pontuação 0 (uma faixa com pontuacao_minima = 0)"
            )
        return self

    def share_for(self, score: float) -> float:
        """Return the municipal percentage for a total score.

        Parameters
        ----------
        score : float
            Total score (0–100).

        Returns
        -------
        float
            Percentage paid by the municipality, from the highest band reached.
        """
        reached = [b for b in self.faixas if score >= b.pontuacao_minima]
        return max(reached, key=lambda b: b.pontuacao_minima).percentual


class Eligibility(_Frozen):
    """Eligibility rules of Art. 5 and hardship threshold of Art. 2, IV."""

    anos_beneficio_identico: Param
    usos_inelegiveis: tuple[str, ...]
    fonte_usos: str
    renda_per_capita_maxima: Param


class UnitCosts(_Frozen):
    """Unit costs of the bill of materials (R$)."""

    poste: Param
    braco: Param
    luminaria: Param
    condutor_bt: Param
    transformador: Param


class Network(_Frozen):
    """Technical parameters of the network extension."""

    vao_postes: Param
    alcance_bt: Param
    fator_desvio: Param
    distancia_maxima_via: Param
    usar_mt_com_transformador: bool = True


class Lighting(_Frozen):
    """Lighting energy parameters."""

    horas_por_dia: Param
    potencia_padrao: Param


class Beneficiaries(_Frozen):
    """Parameters to estimate beneficiaries."""

    moradores_por_domicilio: Param


class Validation(_Frozen):
    """Plausibility limits applied when checking the requests spreadsheet (``pedidos``).

    Values above these limits are not refused: the row is kept with a warning
    (``situacao = aviso``) so that a clerk checks the declaration.
    """

    residencias_maximas: Param
    moradores_maximos: Param
    moradores_por_residencia_maximo: Param
    idade_maxima_protocolo: Param


class Rules(_Frozen):
    """All rules of one municipality, validated and immutable."""

    versao: str
    descricao: str = ""
    municipio: Municipality
    lei: Law
    criterios: Criteria
    desempate: TieBreak
    participacao: CostShare
    elegibilidade: Eligibility
    custos_unitarios: UnitCosts
    rede: Network
    iluminacao: Lighting
    beneficiarios: Beneficiaries
    validacao: Validation
    # Set by the loader, not by the file.
    arquivo: str = ""
    sha256: str = ""


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


def _key(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as a TOML-like key (``a.b[0].c``)."""
    return "".join(f"[{item}]" if isinstance(item, int) else f".{item}" for item in loc).lstrip(".")


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_toml(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], bytes]:
    """Read a rules file, resolving ``herda = "<name>"`` (inherit from another file)."""
    if not path.is_file():
        raise RulesError("arquivo de regras do município não encontrado", path=path)
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulesError(f"o arquivo de regras não é um TOML válido ({exc})", path=path) from exc
    parent = data.pop("herda", None)
    if parent is None:
        return data, raw
    parent_path = rules_path(parent) if not Path(parent).is_absolute() else Path(parent)
    if not parent_path.is_absolute() and not parent_path.exists():
        parent_path = path.parent / f"{parent}.toml"
    if parent_path.resolve() in seen:
        raise RulesError("herança circular entre arquivos de regras", path=path, field="herda")
    base, base_raw = _read_toml(parent_path, (*seen, path.resolve()))
    return _merge(base, data), base_raw + raw


_PT_ERRORS = {
    "missing": "chave obrigatória ausente",
    "extra_forbidden": "chave desconhecida",
    "float_parsing": "deve ser um número",
    "float_type": "deve ser um número",
    "int_parsing": "deve ser um número inteiro",
    "int_type": "deve ser um número inteiro",
    "string_type": "deve ser um texto",
    "bool_type": "deve ser true ou false",
    "bool_parsing": "deve ser true ou false",
    "literal_error": "valor não permitido",
    "string_pattern_mismatch": "formato inválido",
    "string_too_short": "texto curto demais (informe a fonte)",
    "greater_than_equal": "valor abaixo do mínimo",
    "less_than_equal": "valor acima do máximo",
    "too_short": "lista vazia",
    "model_type": "deve ser uma tabela",
    "tuple_type": "deve ser uma lista",
}


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
    try:
        rules = Rules.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = _key(tuple(first["loc"]))
        reason = _PT_ERRORS.get(first["type"], first["msg"])
        if first["type"] == "value_error":
            reason = str(first.get("ctx", {}).get("error", first["msg"]))
        more = len(exc.errors()) - 1
        extra = f" (e mais {more} problema(s))" if more else ""
        raise RulesError(f"{reason}{extra}", path=path, field=key or None) from exc
    digest = hashlib.sha256(raw).hexdigest()
    return rules.model_copy(update={"arquivo": str(path), "sha256": digest})
