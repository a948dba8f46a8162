"""Brazilian address normalisation for offline geocoding.

The heavy lifting comes from IPEA's ``enderecobr`` (Rust regex tables maintained
for Brazilian address bases): accents, case, punctuation after abbreviations,
street types (``R.``, ``Av.``, ``Tv.``, ``Trav.``, ``Vl.``, ``Ld.``, ``Pça.``,
``Estr.``, ``Rod.``, ``Al.``, ``Bc.``, ``Pq.`` ...), titles and saints (``Dr.``,
``Dra.``, ``Prof.``, ``Profa.``, ``Cel.``, ``Gal.``, ``Gen.``, ``Pe.``, ``Sta.``,
``Sto.``, ``N. Sra.`` ...), house numbers (``s/n``, leading zeros), CEPs and
neighbourhood names (``Jd.``, ``Vl.``, ``Pq.``). This module adds only what the
library lacks, as tables:

* :data:`EXTRA_STREET_RULES`: abbreviations missing from the library
  (``Pr.`` → PRACA, ``Lg.`` → LARGO, ``Vd.`` → VIADUTO, ``Elev.`` → ELEVADO,
  ``Cap.`` → CAPITAO, ``Alm.`` → ALMIRANTE, ``Cmte.`` → COMANDANTE, ``Tte.`` →
  TENENTE, ``Des.`` → DESEMBARGADOR, ``Nsra.`` → NOSSA SENHORA, ``S.`` → SAO ...);
* :data:`STREET_TYPES`: the canonical street types recognised as first word
  (Vila, Viela, Beco, Largo, Travessa, Elevado, Viaduto, Passarela ...);
* :data:`TITLES` and :data:`PARTICLES`: words dropped from the *core* of a name
  (titles only before the name proper), so that ``"R. João Pessoa"`` finds
  ``"Rua Doutor João Pessoa"`` while ``"Azevedo Marques"`` keeps its surname;
* the canonical form of numbers inside names: digits and Roman numerals are
  written **in words** (``"Rua 7 de Setembro"`` and ``"Rua Sete de Setembro"``
  both become ``RUA SETE DE SETEMBRO``; ``"Dom Pedro II"`` becomes
  ``DOM PEDRO DOIS``; ordinals ``1º``/``1ª``/``1o`` and "Primeiro de ..." are read as
  cardinals, ``UM``), with the library's ``numero_por_extenso``. The same
  function is applied to the requests and to the gazetteer, so both sides meet.

House numbers embedded in the address (``"Rua das Flores, 123"``,
``"R. das Flores nº 123"``, ``"Rua das Flores 123 casa 2"``) are split from the
street name; a number right after the street type is the street's name
(``"Rua 10, 45"`` is number 45 of ``RUA DEZ``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import enderecobr

__all__ = [
    "EXTRA_STREET_RULES",
    "NUMBER_WORDS",
    "PARTICLES",
    "STREET_TYPES",
    "TITLES",
    "ParsedAddress",
    "normalize_bairro",
    "normalize_cep",
    "normalize_number",
    "normalize_street",
    "normalize_text",
    "number_tokens",
    "parse_address",
    "street_core",
]


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


EXTRA_STREET_RULES: tuple[tuple[str, str], ...] = (
    # street types the library leaves abbreviated (only as first word)
    (r"^PR\b\.", "PRACA"),
    (r"^ACS?\b\.", "ACESSO"),
    (r"^(PSG|PASS)\b\.?", "PASSAGEM"),
    (r"^(SRV|SERV)\b\.?", "SERVIDAO"),
    (r"^CAM\b\.", "CAMINHO"),
    (r"^VIE\b\.?", "VIELA"),
    (r"^MARG\b\.?", "MARGINAL"),
    (r"^LG\b\.?", "LARGO"),
    (r"^(VD|VDT)\b\.?", "VIADUTO"),
    (r"^ELEV\b\.?", "ELEVADO"),
    (r"^PASSAR\b\.?", "PASSARELA"),
    (r"^ROT\b\.", "ROTATORIA"),
    # titles
    (r"\bCAP\b\.?", "CAPITAO"),
    (r"\bDES\b\.?", "DESEMBARGADOR"),
    (r"\bCOM(EN?D?)?\b\.", "COMENDADOR"),
    (r"\bARQ\b\.", "ARQUITETO"),
    (r"\bJORN\b\.", "JORNALISTA"),
    (r"\bCON\b\.", "CONEGO"),
    (r"\bFR\b\.", "FREI"),
    (r"\bVISC\b\.?", "VISCONDE"),
    (r"\bVSC\b\.?", "VISCONDE"),
    (r"\bALM\b\.?", "ALMIRANTE"),
    (r"\b(CMTE|CMDT|CMT|CTE)\b\.?", "COMANDANTE"),
    (r"\bTTE\b\.?", "TENENTE"),
    (r"\bGRAL\b\.?", "GENERAL"),
    (r"\bMSR\b\.?", "MONSENHOR"),
    (r"\b(MTO|MAEST)\b\.?", "MAESTRO"),
    (r"\bMARQ\b\.?", "MARQUES"),
    (r"\bDNA\b\.?", "DONA"),
    (r"\bBPO\b\.?", "BISPO"),
    (r"\bNSRA\b\.?", "NOSSA SENHORA"),
    (r"\bSRA\b\.?", "SENHORA"),
    # only with the dot: without it these are words of names too
    (r"\bSD\b\.", "SOLDADO"),
    (r"\bCB\b\.", "CABO"),
    (r"\b(PST|PAST)\b\.", "PASTOR"),
    (r"\bDEL\b\.", "DELEGADO"),
    (r"\bCARD\b\.", "CARDEAL"),
    (r"\b(ARCEB|ARC)\b\.", "ARCEBISPO"),
    (r"\bS\. ", "SAO "),
)
"""Substitutions added to ``enderecobr``'s street standardiser: ``(regex, replacement)``.

Rust regex syntax, applied after the library's own rules on upper-case text
without accents; ``S. N.`` (sem número) is already ``S/N`` by then.
"""

STREET_TYPES: frozenset[str] = _wordset(
    """RUA AVENIDA TRAVESSA ALAMEDA ESTRADA RODOVIA PRACA BECO LARGO VIELA ACESSO PASSAGEM
    VIA VILA CAMINHO SERVIDAO LADEIRA PARQUE PASSARELA VIADUTO PONTE TUNEL ESCADARIA
    CALCADAO BOULEVARD ESPLANADA MARGINAL CONTORNO RAMAL TREVO ROTATORIA QUADRA CONDOMINIO
    LOTEAMENTO CONJUNTO NUCLEO LINHA TRAVESSAO CORREDOR ELEVADO ELEVADA ROTULA ATALHO
    TRINCHEIRA VARIANTE"""
)
"""Canonical street types recognised as the first word of a standardised street name.

A type glued to a number (``"Beco15"``) is split from it."""

TITLES: frozenset[str] = _wordset(
    """DOUTOR DOUTORA PROFESSOR PROFESSORA CORONEL PADRE MARECHAL GENERAL CAPITAO TENENTE
    SARGENTO SOLDADO MAJOR BRIGADEIRO ALMIRANTE GOVERNADOR PRESIDENTE DEPUTADO VEREADOR
    SENADOR PREFEITO ENGENHEIRO ENGENHEIRA DESEMBARGADOR MINISTRO DOM DONA D MONSENHOR
    CONEGO FREI IRMAO IRMA COMENDADOR ARQUITETO JORNALISTA MAESTRO PASTOR BISPO ARCEBISPO
    CARDEAL PAPA BARAO BARONESA VISCONDE CONDE CONDESSA MARQUES DUQUE COMANDANTE DELEGADO
    JUIZ CABO"""
)
"""Titles dropped from the start of a street's core (``Rua Doutor João Pessoa`` →
``JOAO PESSOA``); after a name they are surnames (``Rua Azevedo Marques``) and stay."""

PARTICLES: frozenset[str] = frozenset({"DA", "DAS", "DE", "DO", "DOS"})
"""Prepositions dropped from a street's core (``Rua das Flores`` → ``FLORES``)."""

COMPLEMENT_WORDS: frozenset[str] = _wordset(
    """CASA CS APARTAMENTO APTO AP BLOCO BL FUNDOS FDS FRENTE LOTE LT QUADRA QD SALA SL LOJA
    LJ ANDAR CONJUNTO SOBRADO TERREO BOX GALPAO KM COMPLEMENTO CHACARA SITIO EDIFICIO
    CONDOMINIO TORRE UNIDADE"""
)
"""Words that, right after a number, mark it as the house number (then a complement)."""

_ALNUM = re.compile(r"\d+|[A-Z]+")
_ORDINAL = re.compile(r"(\d)(?:\s*[ºª°]|[oO])(?!\w)")  # 1º, 1ª, 1o: read as the cardinal
_ROMAN = re.compile(r"^(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")
_PUNCT = re.compile(r"[^A-Z0-9/ ]+")
_APOSTROPHE = re.compile(r"['`´’‘]")
_SPACES = re.compile(r"\s+")
_SN = re.compile(r"(?:^|[\s,\-])(?:S/N|SEM NUMERO|SEM N|S N|SN)\b\.?")
_MARKER = re.compile(r"(?:,\s*|\s+)N(?:\s*\.\s*O|O|R|RO|UM|UMERO)?\s*\.?\s*(\d+)([A-Z]?)\b")
_COMMA_NUMBER = re.compile(r"^\s*(\d+)(?:\s*-?\s*([A-Z])\b)?\s*[,\-]?\s*(.*)$")
_HOUSE = re.compile(r"^(\d+)(?:-?([A-Z]))?$")
_DIGITS = re.compile(r"\d+")
_GLUED_TYPE = re.compile(r"^([A-Z]{2,})(\d+[A-Z]?)$")


@lru_cache(maxsize=1)
def _street_standardiser() -> enderecobr.Padronizador:
    pad = enderecobr.obter_padronizador_logradouros()
    for regex, replacement in EXTRA_STREET_RULES:
        pad.adicionar(regex, replacement)
    pad.preparar()
    return pad


def _number_words() -> frozenset[str]:
    words: set[str] = {"UMA", "DUAS"}
    for n in range(2000):
        words.update(enderecobr.numero_por_extenso(n).split())
    words.discard("E")
    return frozenset(words)


NUMBER_WORDS: frozenset[str] = _number_words()
"""Words of Portuguese cardinal numbers (from ``enderecobr.numero_por_extenso``), without "E"."""


@dataclass(frozen=True)
class ParsedAddress:
    """A request's address, normalised for matching.

    Attributes
    ----------
    tipo : str or None
        Canonical street type (RUA, AVENIDA, TRAVESSA, ...), None when absent.
    nome : str
        Normalised street name without the type (numbers in words).
    chave : str
        ``tipo + " " + nome``: the matching key.
    numero : int or None
        House number.
    sem_numero : bool
        True for "s/n", "sn", "sem número".
    complemento : str or None
        Standardised complement ("CASA 2", "APARTAMENTO 302").
    bairro : str or None
        Normalised neighbourhood.
    cep : str or None
        Eight digits, when the CEP given is valid.
    """

    tipo: str | None
    nome: str
    chave: str
    numero: int | None
    sem_numero: bool
    complemento: str | None
    bairro: str | None
    cep: str | None


def _prepare(text: str) -> str:
    """Drop apostrophes and ordinal marks before standardising (``D'Ávila``, ``1º``)."""
    return _ORDINAL.sub(r"\1", _APOSTROPHE.sub("", text))


def _standardise(text: str) -> str:
    """Standardise a street with ``enderecobr`` (and :data:`EXTRA_STREET_RULES`).

    The library reads ``"Rua R"`` as the type written twice and drops the name (``"Rua
    R, 45"`` became ``RUA 45``, a street named 45): the letter is put back; a lone ``R``
    (``"Rua R"`` written without its type) stays a letter.
    """
    raw = normalize_text(text).split()
    if raw == ["R"]:
        return "R"
    standard = _street_standardiser().padronizar(_prepare(text))
    raw = raw[:2]
    twice = len(raw) == 2 and raw[0] in {"R", "RUA"} and raw[1] == "R"
    if twice and standard.startswith("RUA") and not re.match(r"RUA\W+R\b", standard):
        standard = "RUA R" + standard[3:]
    return standard


def _blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN
        return True
    return str(value).strip() == ""


def normalize_text(text: str) -> str:
    """Upper case, no accents, punctuation as spaces, single spaces.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        Normalised text (apostrophes are dropped: ``D'Ávila`` → ``DAVILA``).

    Examples
    --------
    >>> normalize_text("  Rua  São-João, nº 12 ")
    'RUA SAO JOAO NO 12'
    """
    if _blank(text):
        return ""
    upper = enderecobr.normalizar(_APOSTROPHE.sub("", str(text)))
    return _SPACES.sub(" ", _PUNCT.sub(" ", upper.replace("/", " "))).strip()


_LONGEST_SPELLED = 6
"""Digits of the longest number written in words (enderecobr overflows at 11 digits)."""


def _words_for_numbers(tokens: list[str]) -> list[str]:
    """Write digits and Roman numerals of a name in words (the canonical form)."""
    split: list[tuple[str, bool]] = []
    for tok in tokens:  # "483A" → "483 A" (the letter is then never a Roman numeral)
        if tok.isdigit() or tok.isalpha():
            split.append((tok, False))
        else:
            split.extend((part, True) for part in _ALNUM.findall(tok))
    out: list[str] = []
    for i, (tok, part) in enumerate(split):
        if tok.isdigit() and len(tok) > _LONGEST_SPELLED:
            out.append(tok)  # a CPF or a phone typed as a name: no street is named so
        elif tok.isdigit():
            out.extend(enderecobr.numero_por_extenso(int(tok)).split())
        elif tok in {"PRIMEIRO", "PRIMEIRA"} and i + 1 < len(split) and split[i + 1][0] == "DE":
            out.append("UM")  # "Primeiro de Maio" = "1º de Maio" = "1 de Maio"
        elif (
            not part and _ROMAN.match(tok) and (len(tok) >= 2 or (tok in {"I", "V", "X"} and i > 0))
        ):
            out.extend(enderecobr.numero_por_extenso(enderecobr.romano_para_inteiro(tok)).split())
        else:
            out.append(tok)
    return out


def _unglue_type(tokens: list[str]) -> list[str]:
    """Split a street type glued to a number in the first token (``BECO15`` → ``BECO 15``)."""
    glued = _GLUED_TYPE.match(tokens[0]) if tokens else None
    if glued is None or glued.group(1) not in STREET_TYPES:
        return tokens
    return [glued.group(1), glued.group(2), *tokens[1:]]


def _split_type(tokens: list[str]) -> tuple[str | None, list[str]]:
    if len(tokens) > 1 and tokens[0] in STREET_TYPES:
        return tokens[0], tokens[1:]
    return None, tokens


@lru_cache(maxsize=200_000)
def normalize_street(text: str) -> tuple[str | None, str]:
    """Split a street string into its canonical type and normalised name.

    Parameters
    ----------
    text : str
        Street as written (``"R. Dr. João Pessoa"``, ``"Av 15 de Novembro"``).

    Returns
    -------
    tipo : str or None
        Canonical type (:data:`STREET_TYPES`), None when the text has none.
    nome : str
        Name without the type: upper case, no accents or punctuation, titles
        expanded, numbers in words.

    Examples
    --------
    >>> normalize_street("R. Dr. João Pessoa")
    ('RUA', 'DOUTOR JOAO PESSOA')
    >>> normalize_street("Av 15 de Novembro")
    ('AVENIDA', 'QUINZE DE NOVEMBRO')
    """
    if _blank(text):
        return None, ""
    standard = _standardise(str(text))
    tipo, name = _split_type(_unglue_type(normalize_text(standard).split()))
    return tipo, " ".join(_words_for_numbers(name))


def street_core(nome: str) -> str:
    """Core of a normalised street name: without leading titles and prepositions.

    Titles are dropped only before the name proper (``DOUTOR JOAO PESSOA``); after it
    a title word is a surname (``AZEVEDO MARQUES``, ``JOSE BISPO``) and stays.

    Parameters
    ----------
    nome : str
        Name as returned by :func:`normalize_street`.

    Returns
    -------
    str
        The remaining words, or ``nome`` itself when nothing would remain.

    Examples
    --------
    >>> street_core("DOUTOR JOAO PESSOA")
    'JOAO PESSOA'
    >>> street_core("DAS FLORES")
    'FLORES'
    >>> street_core("AZEVEDO MARQUES")
    'AZEVEDO MARQUES'
    """
    words: list[str] = []
    for w in nome.split():
        if w in PARTICLES or (w in TITLES and not words):
            continue
        words.append(w)
    return " ".join(words) if words else nome


def number_tokens(nome: str) -> tuple[str, ...]:
    """Return the number words of a normalised name, in order.

    Used to refuse fuzzy matches such as ``RUA DEZ`` ≈ ``RUA DOZE``.

    Parameters
    ----------
    nome : str
        Normalised name or key.

    Returns
    -------
    tuple of str
        Words of :data:`NUMBER_WORDS` in the name.
    """
    return tuple(w for w in nome.split() if w in NUMBER_WORDS)


def normalize_cep(cep: object) -> str | None:
    """Return a CEP as eight digits, or None when it is not a valid CEP.

    Accepts ``37640-000``, ``37.640-000``, ``37640000`` (and surrounding spaces).

    Parameters
    ----------
    cep : object
        CEP as given.

    Returns
    -------
    str or None
        ``"37640000"``, or None when the value does not have exactly 8 digits.
    """
    if _blank(cep):
        return None
    text = str(cep).strip()
    if text.endswith(".0") and text[:-2].isdigit():  # read as a float by a spreadsheet
        text = text[:-2]
    digits = re.sub(r"[\s.\-]", "", text)
    if not digits.isdigit() or len(digits) != 8:
        return None
    return enderecobr.padronizar_cep(digits).replace("-", "")


def normalize_bairro(bairro: object) -> str | None:
    """Normalise a neighbourhood name (``enderecobr.padronizar_bairros``).

    Parameters
    ----------
    bairro : object
        Neighbourhood as written (``"Jd. das Palmeiras"``).

    Returns
    -------
    str or None
        ``"JARDIM DAS PALMEIRAS"``; None when blank.
    """
    if _blank(bairro):
        return None
    text = normalize_text(enderecobr.padronizar_bairros(str(bairro)))
    return " ".join(_words_for_numbers(text.split())) or None


def normalize_number(numero: object) -> tuple[int | None, bool, str | None]:
    """Parse a house number field.

    Parameters
    ----------
    numero : object
        ``"123"``, ``"0123"``, ``"123A"``, ``"s/n"``, ``123.0`` ...

    Returns
    -------
    numero : int or None
        The number, None when absent or "sem número".
    sem_numero : bool
        True when the field says "s/n" (or 0).
    resto : str or None
        A letter or text after the number (``"A"`` in ``123A``), else None.
    """
    if _blank(numero):
        return None, False, None
    if isinstance(numero, int | float):
        value = int(numero)
        return (value, False, None) if value > 0 else (None, True, None)
    text = enderecobr.padronizar_numeros(str(numero))
    if text == "S/N":
        return None, True, None
    match = _DIGITS.search(text)
    if match is None:
        return None, False, text or None
    rest = (text[: match.start()] + " " + text[match.end() :]).strip(" -/")
    value = int(match.group())
    if value == 0:
        return None, True, rest or None
    return value, False, rest or None


def _complement(text: str) -> str | None:
    text = text.strip(" ,-/")
    if not text:
        return None
    return enderecobr.padronizar_complementos(text) or None


def _extract_number(text: str, allow_bare: bool) -> tuple[str, int | None, bool, str | None, bool]:
    """Split ``street, number complement`` in a standardised address string.

    The last value tells whether the number was a bare one (no comma nor "nº").
    """
    sem_numero = False
    sn = _SN.search(text)
    if sn is not None:
        sem_numero = True
        rest = text[sn.end() :]
        return text[: sn.start()], None, True, _complement(rest), False

    marker = _MARKER.search(text)
    if marker is not None and len(normalize_text(text[: marker.start()]).split()) >= 2:
        rest = (marker.group(2) + " " + text[marker.end() :]).strip()
        return text[: marker.start()], int(marker.group(1)), False, _complement(rest), False

    if "," in text:
        street, after = text.split(",", 1)
        m = _COMMA_NUMBER.match(after)
        if m is not None:
            rest = ((m.group(2) or "") + " " + m.group(3)).strip()
            return street, int(m.group(1)), False, _complement(rest), False
        return street, None, sem_numero, _complement(after), False

    if allow_bare:
        tokens = normalize_text(text).split()
        tipo, _ = _split_type(tokens)
        first_name = 1 if tipo else 0
        for i in range(first_name + 1, len(tokens)):
            m = _HOUSE.match(tokens[i])
            follows = tokens[i + 1] if i + 1 < len(tokens) else None
            named = any(t not in PARTICLES for t in tokens[first_name:i])
            if (
                named
                and tokens[i] in COMPLEMENT_WORDS
                and follows is not None
                and _DIGITS.search(follows)
            ):
                # "Travessa 2 casa 3": a complement without house number
                return " ".join(tokens[:i]), None, False, _complement(" ".join(tokens[i:])), False
            if m is not None and (follows is None or follows in COMPLEMENT_WORDS):
                rest = ((m.group(2) or "") + " " + " ".join(tokens[i + 1 :])).strip()
                street = " ".join(tokens[:i])
                return street, int(m.group(1)), False, _complement(rest), True
    return text, None, sem_numero, None, False


def parse_address(
    endereco: str,
    numero: str | None = None,
    bairro: str | None = None,
    cep: str | None = None,
) -> ParsedAddress:
    """Parse and normalise one address.

    Parameters
    ----------
    endereco : str
        Street, possibly with the number and a complement
        (``"R. das Flores, 123 casa 2"``, ``"Rua 10, 45"``).
    numero : str, optional
        House number field. When given it wins over a number found in
        ``endereco``, and a bare trailing number in ``endereco`` is then kept
        as part of the street name (``"Rua Projetada 3"``) unless it repeats
        the number field.
    bairro : str, optional
        Neighbourhood.
    cep : str, optional
        CEP in any usual format.

    Returns
    -------
    ParsedAddress
        The normalised parts.

    Examples
    --------
    >>> p = parse_address("Rua 10, 45")
    >>> p.chave, p.numero
    ('RUA DEZ', 45)
    """
    given_number, given_sn, given_rest = normalize_number(numero)
    has_number_field = given_number is not None or given_sn
    standard = "" if _blank(endereco) else _standardise(str(endereco))
    street, num, sem_numero, complemento, bare = _extract_number(standard, True)
    if has_number_field and bare and num != given_number:
        # "Rua Projetada 3" with numero=45: the trailing 3 belongs to the name
        street, num, sem_numero, complemento, _ = _extract_number(standard, False)
    tipo, nome = normalize_street(street)
    if has_number_field:
        num, sem_numero = given_number, given_sn
        if given_rest:
            complemento = " ".join(x for x in (given_rest, complemento) if x)
    chave = f"{tipo} {nome}" if tipo and nome else (nome or (tipo or ""))
    return ParsedAddress(
        tipo=tipo,
        nome=nome,
        chave=chave,
        numero=num,
        sem_numero=sem_numero and num is None,
        complemento=complemento,
        bairro=normalize_bairro(bairro),
        cep=normalize_cep(cep),
    )
