"""CIP rules and tariffs as data: models, loaders and the consumer classes (private).

Loaded by :func:`load_cip_rules` from ``data/cip/<municipio>.toml`` and by
:func:`load_tariffs`; re-exported by :mod:`geo_ip.cip.engine`, which documents the formula.
The classes (:data:`CLASSES`) and the mapping of the BDGD ``CLAS_SUB`` codes onto them
(:data:`BDGD_SUBCLASSES`, :func:`classify`) live here too, beside the rules that name them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from pydantic import BaseModel, Field, field_validator

from geo_ip._util.parse import category
from geo_ip._util.paths import resource_dir
from geo_ip.errors import RulesError
from geo_ip.rules.params import Frozen, Param
from geo_ip.rules.toml_io import merge_tables, read_toml, stamped, validate

__all__ = [
    "BDGD_SUBCLASSES",
    "CLASSES",
    "CLASS_LABELS",
    "EXAMPLE_LABEL",
    "MONTHS",
    "NON_PAYERS",
    "NOT_INFORMED",
    "STATUSES",
    "CipRules",
    "CipRulesMissingError",
    "ClassRule",
    "Tariffs",
    "classify",
    "load_cip_rules",
    "load_tariffs",
]

CLASSES = (
    "residencial",
    "comercial",
    "industrial",
    "rural",
    "poder_publico",
    "servico_publico",
    "consumo_proprio",
)
"""The consumer classes the CIP laws name (REN ANEEL 1.000/2021 classes, lighting excluded)."""
CLASS_LABELS = {
    "residencial": "Residencial",
    "comercial": "Comercial",
    "industrial": "Industrial",
    "rural": "Rural",
    "poder_publico": "Poder público",
    "servico_publico": "Serviço público",
    "consumo_proprio": "Consumo próprio",
}
"""Portuguese name of each class, for tables and messages."""
NON_PAYERS = {
    "iluminacao_publica": (
        "iluminação pública (IP): é o serviço custeado pela CIP, não uma classe contribuinte "
        "das leis"
    ),
    "suprimento": (
        "suprimento a concessionária ou permissionária (CSPS): não é classe de consumo das leis"
    ),
}
"""Codes of units that pay no CIP, with the reason shown in the reading report."""
MONTHS = tuple(range(1, 13))
STATUSES = ("aproveitada", "nao_contribuinte", "outro_municipio", "rejeitada")
"""Status of every input row: used, not a payer, other municipality, rejected (with reason)."""

# BDGD CLAS_SUB (Manual de Instruções da BDGD, PRODIST Módulo 10, domain TCLASUB): the
# letters name the class, the digits the subclass. The codes found in the real UCBT_tab
# of the shared BDGD (Mux Energia 2024) are all listed; others map by their prefix.
BDGD_SUBCLASSES: dict[str, tuple[str, str]] = {
    "RE1": ("residencial", "Residencial"),
    "RE2": ("residencial", "Residencial baixa renda"),
    "CO1": ("comercial", "Comercial"),
    "CO2": ("comercial", "Serviços de transporte, exceto tração elétrica"),
    "CO3": ("comercial", "Serviços de comunicações e telecomunicações"),
    "CO4": ("comercial", "Associação e entidades filantrópicas"),
    "CO5": ("comercial", "Templos religiosos"),
    "CO6": ("comercial", "Administração condominial"),
    "CO7": ("comercial", "Iluminação em rodovias"),
    "CO8": ("comercial", "Semáforos, radares e câmeras de monitoramento de trânsito"),
    "CO9": ("comercial", "Outros serviços e outras atividades"),
    "IN": ("industrial", "Industrial"),
    "RU1": ("rural", "Agropecuária rural"),
    "RU2": ("rural", "Agropecuária urbana"),
    "RU3": ("rural", "Residencial rural"),
    "RU4": ("rural", "Cooperativa de eletrificação rural"),
    "RU5": ("rural", "Agroindustrial"),
    "RU6": ("rural", "Serviço público de irrigação rural"),
    "RU7": ("rural", "Escola agrotécnica"),
    "RU8": ("rural", "Aquicultura"),
    "PP1": ("poder_publico", "Poder público federal"),
    "PP2": ("poder_publico", "Poder público estadual ou distrital"),
    "PP3": ("poder_publico", "Poder público municipal"),
    "SP1": ("servico_publico", "Tração elétrica"),
    "SP2": ("servico_publico", "Água, esgoto e saneamento"),
    "CPR": ("consumo_proprio", "Consumo próprio da distribuidora"),
    "IP": ("iluminacao_publica", "Iluminação pública"),
    "CSPS": ("suprimento", "Concessionária ou permissionária"),
}
"""Known ``CLAS_SUB`` codes → (class, subclass description)."""
_BDGD_CODE = re.compile(r"^(RE[0-9A-Z]{1,3}|CO\d{1,2}|IN|RU\d{1,2}[A-Z]?|PP\d|SP\d|CPR|CSPS|IP)$")
_PREFIX_CLASS = (
    ("RE", "residencial"),
    ("CO", "comercial"),
    ("RU", "rural"),
    ("PP", "poder_publico"),
    ("SP", "servico_publico"),
)
_CLASS_ALIASES = {
    "res": "residencial",
    "residencia": "residencial",
    "baixa_renda": "residencial",
    "residencial_rural": "rural",
    "comercio": "comercial",
    "industria": "industrial",
    "agropecuaria": "rural",
    "irrigacao": "rural",
    "servicos_publicos": "servico_publico",
    "agua_esgoto_saneamento": "servico_publico",
    "tracao_eletrica": "servico_publico",
    "proprio": "consumo_proprio",
    "ip": "iluminacao_publica",
    "iluminacao": "iluminacao_publica",
}
_ALLOWED_CLASSES = (*CLASSES, "iluminacao_publica")


def classify(values: pd.Series) -> pd.Series:
    """Map BDGD ``CLAS_SUB`` codes or class names onto the CIP classes.

    Parameters
    ----------
    values : pandas.Series of str
        ``"RE1"``, ``"CO9"``, ``"PP3"``, ``"Residencial"``, ``"Poder público municipal"``...

    Returns
    -------
    pandas.Series of str
        One of :data:`CLASSES`, a key of :data:`NON_PAYERS`, ``""`` when blank or
        ``"?"`` when unknown.
    """

    def one(text: str) -> str:
        code = text.strip().upper().replace(" ", "")
        if code in ("", "0"):  # BDGD 0: "não informado"
            return ""
        if code in BDGD_SUBCLASSES:
            return BDGD_SUBCLASSES[code][0]
        if _BDGD_CODE.match(code):
            return next((cls for prefix, cls in _PREFIX_CLASS if code.startswith(prefix)), "?")
        found = category(text, _ALLOWED_CLASSES, _CLASS_ALIASES)
        return found or "?"

    uniques = pd.unique(values.fillna("").astype(str))
    mapping = {u: one(u) for u in uniques}
    return values.fillna("").astype(str).map(mapping).astype(str)


_M = TypeVar("_M", bound=BaseModel)

NOT_INFORMED = "não informado no documento-fonte"
"""What a rules file says where the source document gives no rule."""
EXAMPLE_LABEL = "TARIFAS DE EXEMPLO — valores ilustrativos, não homologados; não usar para decisão"


class CipRulesMissingError(RulesError):
    """The CIP rules lack a rule the source document does not give (rate, class rules)."""


class Source(Frozen):
    """A rule without a number, with its source (a class exempt with any consumption)."""

    fonte: str = Field(min_length=3)


def _kwh_param(value: Param | None) -> Param | None:
    if value is not None and value.valor < 0:
        raise ValueError(f"não pode ser negativo (valor {value.valor:g})")
    if value is not None and value.unidade not in ("", "kWh/mês"):
        raise ValueError(f"unidade deve ser 'kWh/mês' (encontrada '{value.unidade}')")
    return value


class ClassRule(Frozen):
    """CIP rules of one consumer class; an absent key means no such rule."""

    limite_kwh: Param | None = None
    """Cap on the kWh of a month that enters the base (kWh/mês)."""
    isencao_ate_kwh: Param | None = None
    """Exempt when the month's consumption is at most this (inclusive: "até 50 kWh")."""
    isenta: Source | None = None
    """The whole class is exempt, with any consumption."""

    _check_kwh = field_validator("limite_kwh", "isencao_ate_kwh")(_kwh_param)


class ClassRules(Frozen):
    """Rules of each class of :data:`CLASSES` (a class not written has none)."""

    residencial: ClassRule = ClassRule()
    comercial: ClassRule = ClassRule()
    industrial: ClassRule = ClassRule()
    rural: ClassRule = ClassRule()
    poder_publico: ClassRule = ClassRule()
    servico_publico: ClassRule = ClassRule()
    consumo_proprio: ClassRule = ClassRule()


class CipMunicipality(Frozen):
    """Identification of the municipality (the IBGE code is optional: not in the document)."""

    nome: str
    uf: str = Field(pattern=r"^[A-Z]{2}$")
    codigo_ibge: int | None = Field(default=None, ge=1_000_000, le=9_999_999)
    distribuidora: str = ""


class CipLaw(Frozen):
    """The municipal law of the CIP and its amendments as the document names them."""

    numero: str
    alteracoes: tuple[str, ...] = ()
    fonte: str = Field(min_length=3)


def _not_informed(value: Any) -> Any:
    """Read ``"não informado no documento-fonte"`` as None; refuse any other text."""
    if isinstance(value, str):
        if value.strip().lower() == NOT_INFORMED:
            return None
        raise ValueError(
            f"texto não reconhecido ('{value[:40]}'): informe a regra ou escreva '{NOT_INFORMED}'"
        )
    return value


class CipRules(Frozen):
    """CIP rules of one municipality, validated and immutable.

    ``aliquota`` and ``classes`` are ``None`` where the source document gives no rule.
    """

    versao: str
    descricao: str = ""
    documento_fonte: str = Field(min_length=3)
    url_fonte: str = NOT_INFORMED
    municipio: CipMunicipality
    lei: CipLaw
    aliquota: Param | None
    classes: ClassRules | None
    avisos: tuple[str, ...] = ()
    # Set by the loader, not by the file.
    arquivo: str = ""
    sha256: str = ""

    _check_informed = field_validator("aliquota", "classes", mode="before")(_not_informed)

    @field_validator("aliquota")
    @classmethod
    def _rate(cls, value: Param | None) -> Param | None:
        if value is None:
            return value
        if value.unidade != "%":
            raise ValueError(f"unidade deve ser '%' (encontrada '{value.unidade}')")
        if not 0 < value.valor <= 100:
            raise ValueError(f"alíquota fora de (0, 100] % (valor {value.valor:g})")
        return value

    def missing(self) -> list[str]:
        """Keys the source document does not give (``aliquota``, ``classes``)."""
        return [key for key in ("aliquota", "classes") if getattr(self, key) is None]

    def rule(self, classe: str) -> ClassRule:
        """Return the rules of a class (empty when the class is not written)."""
        if self.classes is None:
            raise self._missing_error()
        rule: ClassRule = getattr(self.classes, classe)
        return rule

    def require_complete(self) -> None:
        """Raise :class:`CipRulesMissingError` naming every rule the document does not give."""
        if self.missing():
            raise self._missing_error()

    def _missing_error(self) -> CipRulesMissingError:
        keys = self.missing()
        what = {
            "aliquota": "a alíquota da CIP",
            "classes": "as regras por classe (limites e isenções)",
        }
        names = " e ".join(f"{what[k]} (chave '{k}')" for k in keys)
        stem = Path(self.arquivo).stem or "municipio"
        parts = []
        if "aliquota" in keys:
            parts.append('aliquota = { valor = X, unidade = "%", fonte = "Lei ..., art. ..." }')
        if "classes" in keys:
            parts.append(
                "uma tabela por classe, ex.: [classes.residencial] limite_kwh = "
                '{ valor = N, unidade = "kWh/mês", fonte = "Lei ..., art. ..." }'
            )
        example = "; ".join(parts)
        return CipRulesMissingError(
            f"falta {names}: o arquivo diz '{NOT_INFORMED}' ({self.lei.numero}, "
            f"{self.municipio.nome}/{self.municipio.uf}). O geo_ip não calcula a CIP sem essa "
            "regra e não a inventa: "
            f'crie um arquivo TOML com herda = "{stem}" e a regra da lei ({example}) e passe-o '
            "em --cip-regras",
            path=self.arquivo or None,
            field=keys[0],
        )


class TariffTable(Frozen):
    """Tariff of each class (R$/kWh); ``iluminacao_publica`` is the lighting (B4a) tariff."""

    residencial: Param | None = None
    comercial: Param | None = None
    industrial: Param | None = None
    rural: Param | None = None
    poder_publico: Param | None = None
    servico_publico: Param | None = None
    consumo_proprio: Param | None = None
    iluminacao_publica: Param | None = None

    @field_validator("*")
    @classmethod
    def _per_kwh(cls, value: Param | None) -> Param | None:
        if value is None:
            return value
        if value.unidade != "R$/kWh":
            raise ValueError(f"unidade deve ser 'R$/kWh' (encontrada '{value.unidade}')")
        if not value.valor > 0:
            raise ValueError(f"a tarifa deve ser maior que zero (valor {value.valor:g})")
        return value


class Tariffs(Frozen):
    """Tariffs per class, with the ANEEL resolution they come from."""

    versao: str
    exemplo: bool = False
    """True for illustrative values: every output is labelled."""
    descricao: str = ""
    distribuidora: str
    resolucao_aneel: str = Field(min_length=3)
    vigencia: str = ""
    tributos: str = ""
    tarifas: TariffTable
    arquivo: str = ""
    sha256: str = ""


# --- loading ----------------------------------------------------------------------------------


def _cip_path(name_or_path: str | Path) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        return candidate
    return resource_dir("data") / "cip" / f"{name_or_path}.toml"


def _read(path: Path, what: str, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], bytes]:
    """Read a TOML, resolving ``herda`` (bundled name first, then beside the file)."""
    data, raw = read_toml(path, f"{what} não encontrado", f"o {what} não é um TOML válido")
    parent = data.pop("herda", None)
    if parent is None:
        return data, raw
    if not isinstance(parent, str) or not parent.strip():
        raise RulesError(
            "'herda' deve ser o nome ou o caminho de outro arquivo", path=path, field="herda"
        )
    parent_path = _cip_path(parent)
    if not parent_path.is_absolute() and not parent_path.is_file():
        parent_path = path.parent / parent_path
    if not parent_path.is_file() and Path(parent).suffix != ".toml":
        parent_path = path.parent / f"{parent}.toml"
    if parent_path.resolve() in (*seen, path.resolve()):
        raise RulesError("herança circular entre arquivos", path=path, field="herda")
    base, base_raw = _read(parent_path, what, (*seen, path.resolve()))
    return merge_tables(base, data), base_raw + raw


def _load(model: type[_M], name_or_path: str | Path, what: str) -> _M:
    """Read, validate and stamp one CIP file (``what`` names it in the errors)."""
    path = _cip_path(name_or_path)
    data, raw = _read(path, what)
    return stamped(validate(model, data, path), path, raw)


def load_cip_rules(name_or_path: str | Path) -> CipRules:
    """Load and validate the CIP rules of a municipality.

    Parameters
    ----------
    name_or_path : str or Path
        Stem of a file in ``data/cip/`` (``"santo_antonio_do_planalto"``) or a path. A
        file may start with ``herda = "<name>"`` to take every key of another file and
        add or override some (typically the ``aliquota`` the document does not give);
        the hash then covers both files.

    Returns
    -------
    CipRules
        With ``arquivo`` and ``sha256`` filled in. Loading never refuses a rule marked
        ``"não informado no documento-fonte"``; :func:`compute_cip` does.

    Raises
    ------
    RulesError
        Missing file, invalid TOML, a missing or invalid key (the message names it).
    """
    return _load(CipRules, name_or_path, "arquivo de regras da CIP")


def load_tariffs(name_or_path: str | Path = "tarifas_exemplo") -> Tariffs:
    """Load the tariffs per class (R$/kWh).

    Parameters
    ----------
    name_or_path : str or Path, default "tarifas_exemplo"
        Stem of a file in ``data/cip/`` or a path. The bundled ``tarifas_exemplo`` holds
        illustrative values (``exemplo = true``): replace it by the distributor's
        homologated tariff (ANEEL Resolução Homologatória).

    Returns
    -------
    Tariffs

    Raises
    ------
    RulesError
        Missing file, invalid TOML, a missing or invalid key (the message names it).
    """
    return _load(Tariffs, name_or_path, "arquivo de tarifas")
