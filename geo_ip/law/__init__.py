"""Lei 5.442/2026 as pure functions: tables in, tables out, no file I/O.

:data:`ARTICLES` is the law's index: each article, what is applied, the functions that
apply it (dotted names, so that importing this package loads nothing; resolved by
``tests/test_law_index.py``) and the keys of the municipality's rules file
(``data/municipios/*.toml``) that set its parameters. The table "Da lei à função" of the
README (section "Arquitetura") shows the same rows; the test keeps them equal.

The modules, in the order an assessment uses them:

- :mod:`~geo_ip.law.uncertainty`: requests whose place is uncertain, assessed over their
  candidate stretch; the places the Commission confirmed;
- :mod:`~geo_ip.law.scoring`: the suggestions of Art. 9, one function per criterion in
  :mod:`~geo_ip.law.criteria`, the indication of Art. 12 in :mod:`~geo_ip.law.art12`;
- :mod:`~geo_ip.law.eligibility`: Art. 4, 5 and 11, with hardship in
  :mod:`~geo_ip.law.hardship` and a previous identical benefit in
  :mod:`~geo_ip.law.benefits`;
- :mod:`~geo_ip.law.decisions`: the Commission's decisions and acts;
- :mod:`~geo_ip.law.ranking`: situation, municipal share and reasons, with the order and
  tie-break in :mod:`~geo_ip.law.order` and the budget walk in :mod:`~geo_ip.law.budget`.

:mod:`~geo_ip.law.cells` reads the tables' cells and :mod:`~geo_ip.law.phrases` words the
motivations.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["ARTICLES", "Article"]


class Article(NamedTuple):
    """One row of the law's index."""

    article: str
    """The articles, as the README's table names them (``"Art. 5, I e II"``)."""
    applies: str
    """What is applied, in Portuguese."""
    functions: tuple[str, ...]
    """Dotted names of the functions (or methods) that apply it, the entry point first."""
    rules: tuple[str, ...]
    """Tables (and keys) of the rules file that set its parameters; empty when the law
    fixes them. ``[pontuacao.*]`` is every table under ``pontuacao``."""


ARTICLES: tuple[Article, ...] = (
    Article(
        "Art. 1; Art. 2, IV; Art. 4 §2",
        "hipossuficiência (CadÚnico, declaração, aceita pela Comissão) e os tipos que a exigem",
        ("geo_ip.law.eligibility.check", "geo_ip.law.hardship.hardship_status"),
        ("[hipossuficiencia]",),
    ),
    Article(
        "Art. 2",
        "os três tipos de pedido (`extensao_rede`, `implantacao`, `melhoria`)",
        ("geo_ip.requests.intake.validate_requests",),
        (),
    ),
    Article(
        "Art. 4, caput e §1",
        "participação do Município de 50 a 100 % pela pontuação",
        ("geo_ip.law.ranking.rank",),
        ("[participacao] faixas",),
    ),
    Article(
        "Art. 5, I e II",
        "uso do imóvel; benefício idêntico nos últimos 5 anos",
        (
            "geo_ip.law.eligibility.check",
            "geo_ip.law.benefits.previous_benefit",
            "geo_ip.requests.history_file.read_history",
        ),
        ("[elegibilidade]",),
    ),
    Article(
        "Art. 7, II; Art. 9 §1; Art. 10, V",
        "decisões da Comissão (pontos, local confirmado)",
        (
            "geo_ip.requests.decision_file.read_decisions",
            "geo_ip.law.decisions.apply",
            "geo_ip.law.decisions.apply_acts",
            "geo_ip.law.uncertainty.confirm_places",
        ),
        (),
    ),
    Article(
        "Art. 9, I–V",
        "as cinco sugestões com motivação (40/15/15/15/15, travados)",
        (
            "geo_ip.law.scoring.suggest",
            "geo_ip.law.criteria.beneficiaries",
            "geo_ip.law.criteria.safety",
            "geo_ip.law.criteria.traffic",
            "geo_ip.law.criteria.cost_benefit",
            "geo_ip.law.criteria.viability",
        ),
        ("[criterios.*]", "[pontuacao.*]"),
    ),
    Article(
        "Art. 9 §8",
        "hierarquia viária (principal, secundária, local) e via rural, na montagem do território",
        ("geo_ip.territory.roads.classify_roads",),
        ("[hierarquia_viaria]", "[via_rural]"),
    ),
    Article(
        "Art. 9 §3, §5–§12",
        "evidências: beneficiários, segurança, tráfego, custo, viabilidade",
        (
            "geo_ip.network.gridpath.GridNetwork.paths",
            "geo_ip.evidence.context.Context.for_requests",
            "geo_ip.evidence.materials.beneficiaries",
            "geo_ip.evidence.materials.bill_of_materials",
        ),
        ("[rede]", "[custos_unitarios]", "[beneficiarios]", "[avaliacao]"),
    ),
    Article(
        "Art. 10",
        "ficha técnica; desempate (beneficiários, segurança, custo-benefício, protocolo)",
        ("geo_ip.outputs.sheets.sheets.write_sheets", "geo_ip.law.order.sort_requests"),
        ("[desempate]",),
    ),
    Article(
        "Art. 11",
        "obra estratégica, parecer da Comissão, reserva no orçamento",
        ("geo_ip.law.decisions.apply_acts", "geo_ip.law.budget.walk_budget"),
        ("[participacao] percentual_art11",),
    ),
    Article(
        "Art. 12",
        "estrada rural de grande fluxo: indício e execução direta",
        (
            "geo_ip.law.art12.art12_indication",
            "geo_ip.law.decisions.apply_acts",
            "geo_ip.law.budget.walk_budget",
        ),
        ("[art12]", "[participacao] percentual_art12"),
    ),
    Article(
        "Art. 13",
        "classificação decrescente dentro do orçamento",
        (
            "geo_ip.law.ranking.rank",
            "geo_ip.law.budget.walk_budget",
            "geo_ip.law.budget.budget_summary",
        ),
        ("[orcamento]",),
    ),
)
"""The law's index: one row per article or group of articles, in the law's order."""
