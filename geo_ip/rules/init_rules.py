"""``geo-ip regras criar``: a rules file for another municipality, from Extrema's.

Lei 5.442/2026 of Extrema/MG is the model law of geo_ip. Another municipality that
adopts the same program needs its own rules file: its identification, its own law
number and date, and every number the law leaves to regulation (Art. 15) marked
"a definir em decreto" until its decree is published. :func:`write_rules_template`
builds that file at run time from the bundled ``data/municipios/extrema.toml`` (so
that it follows whatever the bundled rules hold), keeping its comments:

- the preamble (header comment, ``versao``, ``descricao``), ``[municipio]`` and
  ``[lei]`` are rewritten for the new municipality;
- in ``[cadastro]``, the CNPJ, the distributor and the lighting tariff are left
  "a informar";
- the ``fonte`` of every number that the law does not fix (every
  :class:`~geo_ip.rules.params.Param`, :class:`~geo_ip.rules.params.OptionalParam` and
  :class:`~geo_ip.rules.scoring_rules.StepTable` outside
  :data:`~geo_ip.rules.law_locks.LAW_FIXED_PARAMS`), and of the road classification
  (``[hierarquia_viaria]``, ``[via_rural]``), says "sugestão técnica — a definir em
  decreto (Art. 15)"; the values stay as the geo_ip technical suggestion;
- what the law fixes (the weights of Art. 9, the shares of Art. 4, the 5 years of
  Art. 5, II, the tie-break of Art. 10 §1, the level descriptions) is kept as is.

The written file is self-contained (no ``herda``) and is loaded with
:func:`~geo_ip.rules.config.load_rules` before it replaces ``out``. The text is
edited in place with :mod:`geo_ip.rules.toml_text`, so the comments stay.
"""

from __future__ import annotations

import re
import tomllib
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo_ip._util.atomic import atomic_path
from geo_ip.errors import GeoIPError, RulesError
from geo_ip.rules.config import Rules, load_rules, rules_path
from geo_ip.rules.law_locks import LAW_FIXED_PARAMS, LAW_NAME
from geo_ip.rules.params import OptionalParam, Param
from geo_ip.rules.scoring_rules import StepTable
from geo_ip.rules.toml_text import apply_edits, replace_keys, scan, table_body, toml_string

__all__ = [
    "DECREE_MARK",
    "UF_CODES",
    "regulation_sources",
    "render_rules_template",
    "unmarked_regulation_params",
    "write_rules_template",
]

DECREE_MARK = "sugestão técnica — a definir em decreto (Art. 15)"
"""Prefix of the ``fonte`` of a number left to the municipality's regulating decree."""
_MARKED = re.compile(r"a definir em (decreto|regulamento)", re.IGNORECASE)
_TECHNICAL = "sugestão técnica — "
_NOT_GIVEN = "a informar"
_MODEL = "extrema"

UF_CODES: dict[str, int] = {
    "RO": 11, "AC": 12, "AM": 13, "RR": 14, "PA": 15, "AP": 16, "TO": 17,
    "MA": 21, "PI": 22, "CE": 23, "RN": 24, "PB": 25, "PE": 26, "AL": 27, "SE": 28, "BA": 29,
    "MG": 31, "ES": 32, "RJ": 33, "SP": 35,
    "PR": 41, "SC": 42, "RS": 43,
    "MS": 50, "MT": 51, "GO": 52, "DF": 53,
}  # fmt: skip
"""IBGE code of each state (the first two digits of its municipalities' codes)."""

_SOURCE_FIXES = (
    (re.compile(r"tabela SETOP-MG vigente"), "tabela de preços de referência vigente (SINAPI "
     "ou a tabela oficial do estado)"),
    (re.compile(r"a norma da CEMIG \([^)]*\)"), "as normas técnicas da distribuidora"),
    (re.compile(r"\bcom a CEMIG\b"), "com a distribuidora"),
    (re.compile(r"\bda CEMIG\b"), "da distribuidora"),
)  # fmt: skip
"""Extrema-specific references in the sources, made generic for another municipality."""

_SOURCE_MODELS = (Param, OptionalParam, StepTable)
"""Models whose ``fonte`` is the source of a number."""
_EXTRA_SOURCES = frozenset(
    {("participacao", "fonte_faixas"), ("hierarquia_viaria", "fonte"), ("via_rural", "fonte")}
)
"""Other sources of numbers left to regulation: (table, key)."""


# --------------------------------------------------------------------------- schema
def _model_paths(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, type]]:
    """Yield ``(key, model class)`` of every sub-model field, recursively (``[]`` for lists)."""
    for name, info in model.model_fields.items():
        yield from _annotation_paths(info.annotation, f"{prefix}{name}")


def _annotation_paths(annotation: Any, key: str) -> Iterator[tuple[str, type]]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _annotation_paths(arg, key)
    elif origin is tuple:
        for arg in typing.get_args(annotation):
            if arg is not Ellipsis:
                yield from _annotation_paths(arg, f"{key}[]")
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield key, annotation
        yield from _model_paths(annotation, f"{key}.")


def regulation_sources() -> frozenset[tuple[str, str]]:
    """Return where the sources of the numbers left to regulation are, in a rules file.

    Returns
    -------
    frozenset of (str, str)
        ``(table, key)`` pairs, the table written as in the file with ``[]`` for the
        elements of a list (``("criterios.seguranca.niveis[].pontos", "fonte")``); the
        numbers fixed by the law (:data:`~geo_ip.rules.law_locks.LAW_FIXED_PARAMS`) are left out.
    """
    found = {
        (key, "fonte")
        for key, model in _model_paths(Rules)
        if issubclass(model, _SOURCE_MODELS) and key not in LAW_FIXED_PARAMS
    }
    return frozenset(found | _EXTRA_SOURCES)


def _iter_params(value: Any, key: str = "") -> Iterator[tuple[str, Param]]:
    """Yield ``(key, Param)`` of every parameter of a loaded rules object (with indices)."""
    if isinstance(value, Param):
        yield key, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _iter_params(getattr(value, name), f"{key}.{name}".lstrip("."))
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            yield from _iter_params(item, f"{key}[{i}]")


def unmarked_regulation_params(rules: Rules) -> list[str]:
    """Keys of the parameters left to regulation whose source does not say so.

    Parameters
    ----------
    rules : Rules
        Loaded rules.

    Returns
    -------
    list of str
        Keys (``rede.vao_postes``) of every :class:`~geo_ip.rules.params.Param` outside
        :data:`~geo_ip.rules.law_locks.LAW_FIXED_PARAMS` whose ``fonte`` lacks "a definir em
        decreto" (or "a definir em regulamento"); empty for a fresh template.
    """
    return [
        key
        for key, param in _iter_params(rules)
        if key not in LAW_FIXED_PARAMS and not _MARKED.search(param.fonte)
    ]


# --------------------------------------------------------------------------- rewriting
def _marked(source: str) -> str:
    """Mark a source as a technical suggestion pending the municipality's decree."""
    for pattern, replacement in _SOURCE_FIXES:
        source = pattern.sub(replacement, source)
    if _MARKED.search(source):
        return source
    if source.startswith(_TECHNICAL):
        source = source[len(_TECHNICAL) :]
    return f"{DECREE_MARK}; {source}"


def _mark_sources(text: str) -> str:
    """Mark every source of a number left to regulation (:func:`regulation_sources`)."""
    wanted = regulation_sources()
    edits: list[tuple[int, int, str]] = []
    for value in scan(text).values:
        if (value.table, value.key) not in wanted:
            continue
        literal = text[value.value_start : value.end]
        if not literal.startswith(('"', "'")):
            continue
        source = tomllib.loads(f"x = {literal}")["x"]
        new = _marked(source)
        if new != source:
            edits.append((value.value_start, value.end, toml_string(new)))
    return apply_edits(text, edits)


def _preamble(nome: str, uf: str) -> str:
    return (
        "# Regras do Programa Municipal de Extensão de Rede Elétrica e Iluminação Pública\n"
        f"# Município de {nome}/{uf} — MODELO gerado por `geo-ip regras criar` a partir das\n"
        f"# regras de Extrema/MG ({LAW_NAME}, a lei-modelo do geo_ip).\n"
        "#\n"
        "# Antes de usar:\n"
        "#  1. [lei]: informe o número, a data e a ementa da lei do seu município (hoje\n"
        '#     "a informar").\n'
        "#  2. Os números que a lei-modelo fixa não podem ser alterados: pesos dos critérios\n"
        "#     (Art. 9, I–V), 100 pontos (Art. 8), participação do Município de 50 % a 100 %\n"
        "#     (Art. 4), 5 anos do benefício idêntico (Art. 5, II) e a ordem de desempate\n"
        "#     (Art. 10 §1). Se a lei do seu município fixar outros números, o geo_ip não se\n"
        "#     aplica sem adaptação.\n"
        '#  3. Todo número marcado "a definir em decreto" é sugestão técnica do geo_ip:\n'
        "#     substitua-o pelo valor do decreto regulamentador do seu município e cite o\n"
        "#     decreto na fonte.\n"
        "#  4. [municipio] e [cadastro]: distribuidora, CNPJ e tarifa de iluminação pública.\n"
        "# Cada parâmetro numérico é uma tabela { valor, unidade, fonte }.\n"
    )


def _municipality(codigo_ibge: int, nome: str, uf: str, crs: str | None) -> str:
    lines = [
        f"nome = {toml_string(nome)}",
        f"uf = {toml_string(uf)}",
        f"codigo_ibge = {codigo_ibge}",
    ]
    if crs:
        lines += [
            f"crs = {toml_string(crs)}",
            "crs_fonte = "
            + toml_string(
                "informado em geo-ip regras criar (--crs); SIRGAS 2000 é o referencial geodésico "
                "oficial (IBGE, Resolução PR 1/2005): confira o fuso UTM do município"
            ),
        ]
    else:
        lines += [
            "# Sem crs: o geo-ip territorio escolhe o SIRGAS 2000 / UTM da localização dos dados.",
            '# Para fixá-lo: crs = "EPSG:319xx" e crs_fonte = "...".',
        ]
    lines += ["# Distribuidora de energia do município: a informar.", 'distribuidora = ""']
    return "\n".join(lines) + "\n"


def _law(nome: str, uf: str, ementa: str) -> str:
    numero = (
        f"{_NOT_GIVEN} — lei municipal de {nome}/{uf} (modelo: Lei nº 5.442/2026 de Extrema/MG)"
    )
    return (
        f"# Modelo: {LAW_NAME} de Extrema/MG. Substitua pelo número, pela data (AAAA-MM-DD) e\n"
        "# pela ementa da lei do seu município.\n"
        f"numero = {toml_string(numero)}\n"
        f"data = {toml_string(_NOT_GIVEN)}\n"
        f"ementa = {toml_string(ementa)}\n"
    )


def _cadastre(nome: str, uf: str) -> dict[str, str]:
    tariff = (
        "a definir: tarifa B4a (iluminação pública) vigente da distribuidora, homologada "
        "pela ANEEL, com os tributos da fatura; informe com --tarifa"
    )
    return {
        "cnpj": '# CNPJ do Município: a informar (o geo-ip cadastro exige --cnpj).\ncnpj = ""\n',
        "fonte_cnpj": "fonte_cnpj = "
        + toml_string(f"{_NOT_GIVEN} pela Prefeitura (CNPJ do Município de {nome}/{uf})")
        + "\n",
        "distribuidora": "# Distribuidora de energia do município (destinatária do ofício).\n"
        f"distribuidora = {toml_string(_NOT_GIVEN)}\n",
        "tarifa_ip": "# Sem valor: a estimativa em reais fica em branco até que a tarifa seja "
        "informada.\n"
        f'tarifa_ip = {{ unidade = "R$/kWh", fonte = {toml_string(tariff)} }}\n',
    }


def _check_arguments(
    codigo_ibge: int | str, nome: str, uf: str, crs: str | None
) -> tuple[int, str]:
    """Validate the municipality's identification; return the IBGE code and the CRS."""
    code = str(codigo_ibge).strip()
    if not re.fullmatch(r"\d{7}", code):
        raise GeoIPError(
            f"código IBGE inválido ('{codigo_ibge}'): informe os 7 dígitos do município "
            "(ex.: 4314902 para Porto Alegre)",
            field="--ibge",
        )
    if not re.fullmatch(r"[A-Z]{2}", uf) or uf not in UF_CODES:
        raise GeoIPError(
            f"UF inválida ('{uf}'): informe a sigla do estado em duas letras maiúsculas "
            "(ex.: RS, MG)",
            field="--uf",
        )
    if int(code[:2]) != UF_CODES[uf]:
        raise GeoIPError(
            f"o código IBGE {code} não é de um município de {uf} (os municípios de {uf} "
            f"começam por {UF_CODES[uf]})",
            field="--ibge",
        )
    if not nome.strip():
        raise GeoIPError("informe o nome do município", field="--nome")
    if crs is None:
        return int(code), ""
    try:
        parsed = CRS.from_user_input(crs)
    except CRSError as exc:
        message = f"CRS não reconhecido ('{crs}'): use EPSG:<código>"
        raise GeoIPError(message, field="--crs") from exc
    if not parsed.is_projected:
        raise GeoIPError(
            f"o CRS {crs} não é projetado (em metros): use o SIRGAS 2000 / UTM do município "
            "(ex.: EPSG:31982 para o fuso 22S, EPSG:31983 para o 23S)",
            field="--crs",
        )
    epsg = parsed.to_epsg()
    return int(code), f"EPSG:{epsg}" if epsg else crs


def _rewrite(
    text: str, data: dict[str, Any], code: int, nome: str, uf: str, crs: str | None
) -> str:
    """Rewrite the model's text for another municipality (see the module docstring).

    Raises :class:`KeyError` or :class:`ValueError` when the text lacks a table or
    the scanner does not read it.
    """
    text = _mark_sources(text)
    for table in ("municipio", "lei"):
        table_body(text, table)
    # preamble: the header comment block is replaced, then versao and descricao
    lines = text.splitlines(keepends=True)
    skip = 0
    while skip < len(lines) and (not lines[skip].strip() or lines[skip].lstrip()[0] == "#"):
        skip += 1
    text = _preamble(nome, uf) + "\n" + "".join(lines[skip:])
    descricao = (
        f"Regras de {nome}/{uf} — modelo gerado das regras de Extrema/MG ({LAW_NAME}); "
        "lei municipal e decreto regulamentador a informar"
    )
    versao = f"{data.get('versao', '1')}-modelo"
    text = replace_keys(
        text,
        "",
        {
            "versao": f"versao = {toml_string(versao)}\n",
            "descricao": f"descricao = {toml_string(descricao)}\n",
        },
    )
    ementa = str(data.get("lei", {}).get("ementa", ""))
    for table, body in (
        ("municipio", _municipality(code, nome, uf, crs)),
        ("lei", _law(nome, uf, ementa)),
    ):
        start, end = table_body(text, table)
        text = apply_edits(text, [(start, end, body)])
    if "cadastro" in data:
        text = replace_keys(text, "cadastro", _cadastre(nome, uf))
    return text


def render_rules_template(
    *,
    codigo_ibge: int | str,
    nome: str,
    uf: str,
    crs: str | None = None,
    model: str | Path = _MODEL,
) -> str:
    """Return the text of a rules file for another municipality (see the module docstring).

    Parameters
    ----------
    codigo_ibge : int or str
        IBGE code of the municipality (7 digits, consistent with ``uf``).
    nome : str
        Name of the municipality.
    uf : str
        State, two upper-case letters.
    crs : str, optional
        Projected CRS of the municipality (``EPSG:31982``); omitted, the territory
        chooses the SIRGAS 2000 / UTM zone of the data.
    model : str or Path, default "extrema"
        Rules file used as the model (it must not inherit with ``herda``).

    Returns
    -------
    str
        The TOML text.

    Raises
    ------
    GeoIPError
        When an argument is invalid (the field names the option).
    RulesError
        When the model rules file cannot be used.
    """
    code, crs_text = _check_arguments(codigo_ibge, nome, uf, crs)
    nome = nome.strip()
    path = rules_path(model)
    load_rules(path)  # the model must be valid itself
    text = path.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    if "herda" in data:
        raise RulesError("o modelo de regras herda de outro arquivo (herda)", path=path)
    try:
        return _rewrite(text, data, code, nome, uf, crs_text or None)
    except (KeyError, ValueError) as exc:
        raise RulesError(
            f"não foi possível montar o modelo a partir deste arquivo de regras ({exc})",
            path=path,
        ) from exc


def write_rules_template(
    out: str | Path,
    *,
    codigo_ibge: int | str,
    nome: str,
    uf: str,
    crs: str | None = None,
    overwrite: bool = False,
    model: str | Path = _MODEL,
) -> Rules:
    """Write a rules file for another municipality and return it loaded.

    Parameters
    ----------
    out : str or Path
        The TOML file to write.
    codigo_ibge : int or str
        IBGE code of the municipality (7 digits, consistent with ``uf``).
    nome : str
        Name of the municipality.
    uf : str
        State, two upper-case letters.
    crs : str, optional
        Projected CRS of the municipality; omitted, the territory chooses it.
    overwrite : bool, default False
        Replace ``out`` when it exists (``--forcar``).
    model : str or Path, default "extrema"
        Rules file used as the model.

    Returns
    -------
    Rules
        The rules just written, loaded with :func:`~geo_ip.rules.config.load_rules`.

    Raises
    ------
    GeoIPError
        When an argument is invalid or ``out`` exists and ``overwrite`` is false.
    RulesError
        When the model cannot be used or the result does not load (``out`` is
        then left untouched).
    """
    out = Path(out)
    if out.suffix != ".toml":
        raise GeoIPError("o arquivo de regras deve terminar em .toml", path=out, field="--saida")
    if out.exists() and not overwrite:
        raise GeoIPError(
            "o arquivo já existe; use --forcar para substituí-lo", path=out, field="--saida"
        )
    if out.is_dir():
        raise GeoIPError("é uma pasta, não um arquivo", path=out, field="--saida")
    text = render_rules_template(codigo_ibge=codigo_ibge, nome=nome, uf=uf, crs=crs, model=model)
    with atomic_path(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
        try:
            rules = load_rules(tmp)
        except RulesError as exc:
            raise RulesError(
                f"o modelo gerado não passou na validação ({exc.message})",
                path=rules_path(model),
                field=exc.field,
            ) from exc
        unmarked = unmarked_regulation_params(rules)
        if unmarked or "herda" in tomllib.loads(text):
            raise RulesError(
                "o modelo gerado tem números sem a marca 'a definir em decreto': "
                + ", ".join(unmarked),
                path=rules_path(model),
            )
    return rules.model_copy(update={"arquivo": str(out)})
