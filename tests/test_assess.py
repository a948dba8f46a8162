"""`geo-ip avaliar` end to end: the demo with every optional input, and Porto Alegre."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from typer.testing import CliRunner

from geo_ip.cli.app import app
from geo_ip.outputs.files import public_ranking, write_outputs
from geo_ip.outputs.tables import read_sheet
from geo_ip.pipeline import Assessment, assess
from geo_ip.requests.redaction import scan_for_personal_data
from geo_ip.rules.config import load_rules
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.territory.reader import read_layer
from tests.conftest import DEMO

runner = CliRunner()
TODAY = date(2026, 11, 20)
KEY = b"chave-de-teste-do-geo-ip-0123456789"
BUDGET = 300_000.0


def _run(territory: Path, **extra: Any) -> Assessment:
    options: dict[str, Any] = {
        "occurrences": DEMO / "ocorrencias.csv",
        "decisions": DEMO / "decisoes.csv",
        "history": DEMO / "beneficios_anteriores.csv",
        "budget": BUDGET,
    }
    options.update(extra)
    return assess(
        territory, DEMO / "pedidos.csv", load_rules("demo"), key=KEY, today=TODAY, **options
    )


@pytest.fixture(scope="module")
def demo(demo_assessment: Assessment) -> Assessment:
    return demo_assessment


@pytest.fixture(scope="module")
def written(demo_outputs: list[Path]) -> Path:
    return demo_outputs[0].parent


def _row(a: Assessment, protocolo: str) -> pd.Series:
    rows = a.table[a.table["protocolo"] == protocolo]
    return rows.iloc[0]


def test_every_request_is_in_the_output_with_a_situation(demo: Assessment) -> None:
    raw = pd.read_csv(DEMO / "pedidos.csv", dtype=str)
    ranking = public_ranking(demo)
    assert len(ranking) == len(raw) == 41
    assert sorted(ranking["protocolo"]) == sorted(raw["protocolo"])
    # the demo shows every situation
    assert set(ranking["situacao"]) == {
        "classificado", "aguardando_orcamento", "pendente_localizacao", "pendente_comprovacao",
        "inelegivel", "estrategico_art11", "execucao_direta_art12", "erro",
    }  # fmt: skip


def test_uncertain_places_wait_until_the_commission_confirms_them(demo: Assessment) -> None:
    t = demo.table.set_index("protocolo")
    limit = demo.rules.avaliacao.incerteza_maxima_m.valor
    # located only by the street, beyond the rules' limit: scored at the worse position of
    # the street, the range over the positions, never funded
    waiting = t[t["situacao"] == "pendente_localizacao"]
    assert waiting.index.tolist() == ["PED-2026-0130"]  # R. Dr. Carlos Chagas, no number
    assert waiting["incerteza_m"].round().tolist() == [360.0]  # half of its 720 m
    assert (waiting["geocodificacao"].isin(["logradouro", "bairro"])).all()
    assert (waiting["incerteza_m"] > limit).all() and waiting["localizacao_pendente"].all()
    assert (waiting["posicoes_avaliadas"] == 10).all()
    assert (waiting["pontuacao_sugerida_min"] <= waiting["pontuacao_total"]).all()
    assert (waiting["extensao_min_m"] <= waiting["extensao_max_m"]).all()
    assert not waiting["selecionado_orcamento"].any() and waiting["posicao"].isna().all()
    assert waiting["confirmar_no_local"].str.startswith("Confirmar no local a posição").all()
    # the Commission confirmed the places of PED-2026-0133 (by bairro) and PED-2026-0140 (by
    # street) on site: given coordinates, re-snapped, back to their situations
    for protocolo, situation in (
        ("PED-2026-0133", "execucao_direta_art12"),
        ("PED-2026-0140", "pendente_comprovacao"),
    ):
        row = t.loc[protocolo]
        assert row["geocodificacao"] == "localizacao_confirmada"
        assert (row["incerteza_m"], row["posicoes_avaliadas"]) == (0.0, 1)
        assert row["situacao"] == situation
        assert row["decisao_localizacao"].startswith("decidido por Comissão (relator fictício)")
        assert row["confirmar_no_local"] == ""
    # the places the requests' own coordinates give are sure: one position each
    sure = t[t["geocodificacao"] == "coordenada_informada"]
    assert (sure["posicoes_avaliadas"] == 1).all()
    assert np.allclose(sure["extensao_min_m"], sure["distancia_rede_m"], atol=0.05, equal_nan=True)
    assert (sure["extensao_min_m"].fillna(-1) == sure["extensao_max_m"].fillna(-1)).all()


def test_situations_follow_the_law(demo: Assessment) -> None:
    t = demo.table.set_index("linha")
    # Art. 5, II from the request's own field (2 years ago), Art. 5, I (commercial, no MEI),
    # Art. 5, II from the history file (the applicant of PED-2026-0109, in 2023)
    assert t.loc[3, "situacao"] == "inelegivel"
    assert t.loc[25, "situacao"] == "inelegivel"
    assert t.loc[10, "situacao"] == "inelegivel"
    assert "Art. 5, II" in t.loc[10, "motivos_inelegibilidade"]
    # the history row of 6 years ago does not count (PED-2026-0111)
    assert t.loc[12, "situacao"] in ("classificado", "aguardando_orcamento")
    # Art. 11 only by the Commission's decision (PED-2026-0105); PED-2026-0119 is marked
    # strategic with a justification but has no decision: it stays in the ranking
    assert t.loc[6, "situacao"] == "estrategico_art11"
    assert pd.isna(t.loc[6, "posicao"])
    assert t.loc[20, "pedido_estrategico"]
    assert t.loc[20, "situacao"] in ("classificado", "aguardando_orcamento")
    # Art. 12 only by the Executive's decision, with its procedure (PED-2026-0133); the
    # software's indication keeps PED-2026-0131 in the ranking
    assert t.loc[34, "situacao"] == "execucao_direta_art12"
    assert t.loc[34, "procedimento_art12"] == "PA-2026/0042"
    assert t.loc[32, "indicio_art12"] and pd.notna(t.loc[32, "posicao"])
    # hardship (Art. 4): income above the limit (PED-2026-0110), no proof (PED-2026-0140),
    # other documents accepted by the Commission (PED-2026-0122)
    assert (t.loc[11, "situacao"], t.loc[11, "hipossuficiencia"]) == (
        "inelegivel",
        "acima_do_limite",
    )
    assert t.loc[11, "fundamento_inelegibilidade"] == "Art. 4, caput; Art. 2, IV"
    assert (t.loc[41, "situacao"], t.loc[41, "hipossuficiencia"]) == (
        "pendente_comprovacao",
        "sem_comprovacao",
    )
    assert t.loc[41, "pontuacao_total"] == 85
    assert pd.isna(t.loc[41, "percentual_municipio"]) and not t.loc[41, "selecionado_orcamento"]
    assert t.loc[23, "hipossuficiencia"] == "aceita_comissao"
    assert t.loc[23, "situacao"] in ("classificado", "aguardando_orcamento")
    # every check or geocoding error stays an error, with no points
    errors = [8, 14, 15, 18, 24, 28, 29, 30, 36, 38, 42]  # 28 and 42: repeated protocol
    assert sorted(t.index[t["situacao"] == "erro"]) == errors
    assert t.loc[errors, "pontuacao_total"].isna().all()  # not scored: blank, not zero
    # MEI in hardship with commercial use (Art. 5, I exception) is eligible
    assert t.loc[5, "situacao"] in ("classificado", "aguardando_orcamento")


def test_network_distance_is_never_shorter_than_straight(demo: Assessment) -> None:
    t = demo.table
    both = t["distancia_rede_m"].notna() & t["distancia_rede_reta_m"].notna()
    assert both.sum() >= 30
    assert (t.loc[both, "distancia_rede_m"] >= t.loc[both, "distancia_rede_reta_m"] - 1e-6).all()
    on_roads = t["metodo_distancia"] == "via"
    lengths = shapely.length(np.asarray(demo.paths[on_roads].array, dtype=object))
    assert np.allclose(lengths, t.loc[on_roads, "distancia_rede_m"], atol=0.05)


def test_bill_of_materials_of_one_request(demo: Assessment) -> None:
    # PED-2026-0103 (Vila Nova): far from the LV grid, MT nearer -> transformer
    row = _row(demo, "PED-2026-0103")
    assert row["metodo_distancia"] == "via"
    assert bool(row["transformador"]) is True
    poles = int(np.ceil(row["distancia_rede_m"] / 35))
    assert row["postes_novos"] == poles
    expected = poles * 2800 + (poles + 1) * (180 + 950) + row["distancia_rede_m"] * 45 + 28_000
    assert row["custo_estimado_rs"] == pytest.approx(expected, abs=0.01)
    assert row["moradores_estimados"] == 19  # declared
    assert row["custo_por_beneficiario_rs"] == pytest.approx(expected / 19, abs=0.01)


def test_motivations_name_the_evidence(demo: Assessment) -> None:
    scored = demo.table[demo.table["situacao"] != "erro"]
    for _, row in scored.iterrows():
        for c in CRITERIA:
            assert row[f"motivacao_{c}"], (row["protocolo"], c)
        street = row["logradouro_via"]
        if isinstance(street, str) and street:
            assert street in row["motivacao_trafego"], row["protocolo"]
        cost = f"{row['custo_estimado_rs']:,.2f}".replace(",", "X").replace(".", ",")
        assert cost.replace("X", ".") in row["motivacao_custo_beneficio"], row["protocolo"]
    row = _row(demo, "PED-2026-0103")
    assert "Escola Municipal Monteiro Lobato" in row["motivacao_seguranca"]
    assert "4 ocorrências" in row["motivacao_seguranca"]
    assert row["nivel_seguranca"] == "I"


def test_commission_decisions(demo: Assessment) -> None:
    row = _row(demo, "PED-2026-0111")
    assert row["sugerido_viabilidade"] == 5
    assert row["pont_viabilidade"] == 10
    assert row["decisao_viabilidade"].startswith("alterado de 5 para 10 por Comissão")
    total = sum(row[f"pont_{c}"] for c in CRITERIA)
    assert row["pontuacao_total"] == pytest.approx(total)
    reasons = demo.rejected_decisions["motivo"].tolist()
    assert len(reasons) == 3
    assert "acima do máximo de 15" in reasons[0]
    assert "'PED-2026-9999' não consta da avaliação" in reasons[1]
    assert "a decisão 'hipossuficiencia' não tem pontos" in reasons[2]


def test_budget_is_respected_in_ranking_order(demo: Assessment) -> None:
    t = demo.table
    # the Art. 11 and Art. 12 works are reserved first, in the order of their decisions
    reserved = t[t["situacao"].isin(["estrategico_art11", "execucao_direta_art12"])]
    reserved = reserved.sort_values("ordem_ato")
    assert reserved["protocolo"].tolist() == ["PED-2026-0105", "PED-2026-0133"]
    assert reserved["selecionado_orcamento"].all()
    assert (reserved["percentual_municipio"] == 100).all()
    reserved_rs = round(float(reserved["custo_municipio_rs"].sum()), 2)
    summary = demo.provenance["orcamento"]
    assert summary["reservado_rs"] == reserved_rs
    assert summary["saldo_apos_reservas_rs"] == round(BUDGET - reserved_rs, 2)
    ranked = t[t["posicao"].notna()].sort_values("posicao")
    chosen = ranked[ranked["selecionado_orcamento"].astype(bool)]
    assert chosen["custo_municipio_rs"].sum() <= BUDGET - reserved_rs
    assert summary["classificados_rs"] == round(float(chosen["custo_municipio_rs"].sum()), 2)
    left = BUDGET - reserved_rs
    for _, row in ranked.iterrows():
        fits = row["custo_municipio_rs"] <= left + 1e-9
        assert bool(row["selecionado_orcamento"]) is bool(fits), row["protocolo"]
        assert row["situacao"] == ("classificado" if fits else "aguardando_orcamento")
        if fits:
            left -= row["custo_municipio_rs"]
    assert (ranked["situacao"] == "aguardando_orcamento").any()
    positions = ranked["posicao"].astype(int).tolist()
    assert positions == list(range(1, len(ranked) + 1))
    totals = ranked["pontuacao_total"].tolist()
    assert totals == sorted(totals, reverse=True)


def test_same_inputs_same_results(demo: Assessment, demo_territory: Path) -> None:
    again = _run(demo_territory)
    pd.testing.assert_frame_equal(public_ranking(again), public_ranking(demo))


def test_outputs_and_their_contents(written: Path, demo: Assessment) -> None:
    names = sorted(p.name for p in written.iterdir())
    assert names == [
        "assets", "avaliacao.gpkg", "avaliacao.qgz", "evidencias.json", "fichas", "fundo",
        "mapa.html", "mapas", "proveniencia.json", "ranking.csv", "ranking.xlsx",
        "ranking_planilha.csv",
    ]  # fmt: skip
    ranking = pd.read_csv(written / "ranking.csv", dtype=str, keep_default_na=False)
    assert list(ranking.columns[:10]) == [
        "protocolo", "posicao", "situacao", "pontuacao_total", "alertas", "pont_beneficiarios",
        "pont_seguranca", "pont_trafego", "pont_custo_beneficio", "pont_viabilidade",
    ]  # fmt: skip
    assert (
        ranking["proveniencia"].str.startswith("MUNICÍPIO DE DEMONSTRAÇÃO — DADOS FICTÍCIOS").all()
    )
    assert ranking["proveniencia"].str.contains("© OpenStreetMap contributors").all()
    assert ranking.loc[0, "posicao"] == "1"
    layers = dict(pyogrio.list_layers(written / "avaliacao.gpkg"))
    for layer in ("pedidos", "extensoes", "postes_propostos", "vias", "rede_existente",
                  "pontos_ip", "equipamentos", "ocorrencias", "metadados"):  # fmt: skip
        assert layer in layers, layer
    occurrences = read_layer(written / "avaliacao.gpkg", "ocorrencias")
    assert len(occurrences) == 8  # the two rows with errors are left out
    assert list(occurrences.columns) == ["data", "tipo", "geometry"]
    pedidos = read_layer(written / "avaliacao.gpkg", "pedidos")
    assert len(pedidos) == 41
    assert pedidos.geometry.isna().sum() == 4  # not located: ambiguous, unknown, outside x2
    extensions = read_layer(written / "avaliacao.gpkg", "extensoes")
    assert len(extensions) == demo.table["distancia_rede_m"].notna().sum()
    poles = read_layer(written / "avaliacao.gpkg", "postes_propostos")
    assert len(poles) == int(demo.table["postes_novos"].fillna(0).sum())
    evidence = json.loads((written / "evidencias.json").read_text(encoding="utf-8"))
    assert evidence["proveniencia"]["regras"]["sha256"] == demo.rules.sha256
    record = next(r for r in evidence["pedidos"] if r["protocolo"] == "PED-2026-0103")
    assert record["rede"]["rede_alvo_id"].startswith("bdgd:")
    assert {i["nome"] for i in record["itens"]["equipamentos"]} >= {
        "Escola Municipal Monteiro Lobato"
    }
    assert len(record["itens"]["ocorrencias"]) == 4
    provenance = json.loads((written / "proveniencia.json").read_text(encoding="utf-8"))
    kinds = {e["tipo"] for e in provenance["entradas"]}
    assert kinds == {"territorio", "pedidos", "ocorrencias", "decisoes", "historico_beneficios"}
    assert all(len(e["sha256"]) == 64 for e in provenance["entradas"])
    sheets = pd.read_excel(written / "ranking.xlsx", sheet_name=None)
    assert list(sheets) == [
        "Classificação", "Orçamento", "Critérios", "Evidências", "Não aproveitado", "Regras",
        "Proveniência",
    ]  # fmt: skip
    assert len(sheets["Classificação"]) == 41


def test_evidence_file_is_written_a_chunk_at_a_time(
    demo: Assessment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geo_ip.outputs import tables as _assess_outputs

    monkeypatch.setattr(_assess_outputs, "EVIDENCE_CHUNK_ROWS", 4)  # 41 requests: 11 chunks
    out = tmp_path / "evidencias.json"
    _assess_outputs.write_evidence(demo, out)
    text = out.read_text(encoding="utf-8")
    parsed = json.loads(text)
    records = _assess_outputs.evidence_records(demo)
    default = _assess_outputs.json_default
    assert parsed["pedidos"] == json.loads(json.dumps(records, default=default))
    assert parsed["proveniencia"] == json.loads(json.dumps(demo.provenance, default=default))
    assert [r["protocolo"] for r in parsed["pedidos"]] == demo.table["protocolo"].tolist()
    lines = text.splitlines()
    # the provenance indented, then one request per line, in input order
    assert lines[-1] == "]}"
    assert [json.loads(line.rstrip(","))["linha"] for line in lines[-42:-1]] == list(
        demo.table["linha"]
    )


def _texts(folder: Path) -> dict[str, str]:
    texts = {}
    for path in folder.rglob("*"):
        if "assets" in path.parts or not path.is_file():
            continue  # the vendored Leaflet files
        if path.suffix in (".csv", ".json", ".html"):
            texts[str(path.relative_to(folder))] = path.read_text(encoding="utf-8")
        elif path.suffix == ".xlsx":
            sheets = pd.read_excel(path, sheet_name=None, dtype=str)
            texts[path.name] = "\n".join(s.to_csv(index=False) for s in sheets.values())
        elif path.suffix == ".qgz":
            import zipfile

            with zipfile.ZipFile(path) as archive:
                texts[path.name] = "\n".join(
                    archive.read(n).decode("utf-8") for n in archive.namelist()
                )
        elif path.suffix == ".gpkg":
            parts = []
            for name, _ in pyogrio.list_layers(path):
                parts.append(pyogrio.read_dataframe(path, layer=name).drop(
                    columns="geometry", errors="ignore").to_csv(index=False))  # fmt: skip
            texts[path.name] = "\n".join(parts)
    return texts


def test_no_personal_data_in_the_outputs(written: Path) -> None:
    raw = pd.read_csv(DEMO / "pedidos.csv", dtype=str, keep_default_na=False)
    cpfs = [c for c in raw["cpf_solicitante"] if c]
    names = [n for n in raw["nome_solicitante"] if n]
    for name, text in _texts(written).items():
        found = scan_for_personal_data(text, cpfs, names)
        assert found == [], (name, found)
        for income in ("1.850,00", "980,50"):
            assert income not in text, (name, income)
    internal = read_sheet(written / "ranking.xlsx", "Classificação", dtype=str)
    masked = internal["cpf_solicitante"].dropna()
    assert masked.str.fullmatch(r"\*\*\*\.\d{3}\.\d{3}-\*\*|").all()
    assert internal["cpf_hash"].dropna().str.fullmatch(r"h:[0-9a-f]{16}|").all()
    public = pd.read_csv(written / "ranking.csv", dtype=str)
    assert not {"cpf_solicitante", "cpf_hash", "nome_solicitante"} & set(public.columns)


def test_negative_budget_is_refused(demo_territory: Path) -> None:
    from geo_ip.errors import GeoIPError

    with pytest.raises(GeoIPError, match="orçamento negativo"):
        _run(demo_territory, budget=-1.0)


def test_assess_cli(demo_territory: Path, tmp_path: Path) -> None:
    out = tmp_path / "av"
    result = runner.invoke(
        app,
        ["-q", "avaliar", "--territorio", str(demo_territory), "--pedidos",
         str(DEMO / "pedidos.csv"), "--regras", "demo", "--saida", str(out), "--orcamento", "50000",
         "--ocorrencias", str(DEMO / "ocorrencias.csv")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Classificação (41 pedido(s)" in result.output
    assert (out / "ranking.csv").is_file()
    assert (out / ".chave_lgpd").is_file()  # the key is kept with the internal files
    code = runner.invoke(
        app,
        ["avaliar", "--territorio", str(demo_territory), "--pedidos", str(DEMO / "pedidos.csv"),
         "--regras", "demo", "--saida", str(tmp_path / "x"), "--orcamento", "-5"],
    )  # fmt: skip
    assert code.exit_code != 0
    assert "orçamento negativo" in code.output


def test_assess_cli_bad_occurrences_file(demo_territory: Path, tmp_path: Path) -> None:
    empty = tmp_path / "ocorrencias.csv"
    empty.write_bytes(b"")
    result = runner.invoke(
        app,
        ["avaliar", "--territorio", str(demo_territory), "--pedidos", str(DEMO / "pedidos.csv"),
         "--regras", "demo", "--saida", str(tmp_path / "x"), "--ocorrencias", str(empty)],
    )  # fmt: skip
    assert result.exit_code == 3
    assert re.search(r"arquivo '.*ocorrencias\.csv'", result.output)
    assert not (tmp_path / "x" / "ranking.csv").exists()


# --------------------------------------------------------------- Porto Alegre


def test_porto_alegre_with_real_lamps_as_the_grid(poa_territory: Any, tmp_path: Path) -> None:
    """OSM street lamps are the only grid; 60 requests at random road points."""
    territory = poa_territory.path
    roads = read_layer(territory, "vias")
    rng = np.random.default_rng(5)
    picked = roads.iloc[rng.choice(len(roads), 60, replace=False)]
    points = picked.geometry.interpolate(0.5, normalized=True).to_crs("EPSG:4326")
    requests = pd.DataFrame(
        {
            "protocolo": [f"POA-{i:03d}" for i in range(60)],
            "data_protocolo": "2026-06-01",
            "tipo": "extensao_rede",
            "latitude": points.y.round(6).to_numpy(),
            "longitude": points.x.round(6).to_numpy(),
            "residencias": "2",
        }
    )
    path = tmp_path / "pedidos_poa.csv"
    requests.to_csv(path, index=False)
    result = assess(territory, path, load_rules("extrema"), key=KEY, today=TODAY)
    files = write_outputs(result, tmp_path / "out", sheets=False)  # sheets: tested on the demo
    assert len([p for p in files if p.parent.name == "mapas"]) == 60  # one map per request
    t = result.table
    assert len(t) == 60
    assert set(t["rede_alvo_tipo"].dropna()) <= {"ponto_ip", "via_iluminada", "bt", "mt", "poste"}
    both = t["distancia_rede_m"].notna()
    assert both.sum() == 60
    assert (t.loc[both, "distancia_rede_m"] >= t.loc[both, "distancia_rede_reta_m"] - 1e-6).all()
    for _, row in t.iterrows():
        assert (
            row["logradouro_via"] is None
            or str(row["logradouro_via"]) in str(row["motivacao_trafego"])
            or pd.isna(row["logradouro_via"])
        )
        assert "R$" in row["motivacao_custo_beneficio"]
        assert "m" in row["motivacao_viabilidade"]
    assert result.provenance["crs"] == "EPSG:31982"


def test_public_reasons_of_ineligible_requests_name_only_the_article(demo: Assessment) -> None:
    public = public_ranking(demo).set_index("protocolo")
    internal = demo.table.set_index("protocolo")
    # commercial use without MEI: the public list says the article, not the applicant's case
    assert public.loc["PED-2026-0124", "motivos"].startswith(
        "Inelegível ao custeio municipal (Art. 5, I)."
    )
    assert "MEI" not in public.loc["PED-2026-0124", "motivos"]
    assert "MEI" in internal.loc["PED-2026-0124", "motivos_inelegibilidade"]
    assert public.loc["PED-2026-0102", "fundamento_inelegibilidade"] == "Art. 5, II"
    # an error keeps its reason and its problems, without repeating them
    motive = public.loc["PED-2026-0117", "motivos"]
    assert motive.startswith("Pedido com erro, não classificado (ver problemas).")
    assert motive.count("cpf_solicitante") == 1


def test_requests_listed_apart_have_no_points(demo: Assessment) -> None:
    t = demo.table.set_index("protocolo")
    for protocolo in ("PED-2026-0105", "PED-2026-0133"):  # Art. 11, Art. 12
        row = t.loc[protocolo]
        assert pd.isna(row["pontuacao_total"]) and pd.isna(row["pont_seguranca"])
        # charged to the budget at the rules' share (Art. 11 sole §, Art. 13)
        assert row["percentual_municipio"] == 100
        assert row["custo_municipio_rs"] == pytest.approx(row["custo_estimado_rs"], abs=0.01)
        assert row["sugerido_seguranca"] > 0  # the suggestion stays, as evidence
    assert pd.isna(t.loc["PED-2026-0128", "transformador"])  # not located: unknown


def test_shuffled_rows_give_the_same_ranking(demo_territory: Path, tmp_path: Path) -> None:
    raw = pd.read_csv(DEMO / "pedidos.csv", dtype=str, keep_default_na=False)
    shuffled = tmp_path / "pedidos.csv"
    raw.sample(frac=1.0, random_state=4).to_csv(shuffled, index=False)
    rules = load_rules("demo")
    options = {"key": KEY, "today": TODAY, "budget": BUDGET}
    a = assess(demo_territory, DEMO / "pedidos.csv", rules, **options).table
    b = assess(demo_territory, shuffled, rules, **options).table
    columns = ["protocolo", "situacao", "posicao", "pontuacao_total", "custo_municipio_rs"]

    def key(t: pd.DataFrame) -> pd.DataFrame:
        return t[columns].sort_values(["protocolo", "situacao"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(key(a), key(b))


@pytest.mark.parametrize("budget", [float("nan"), float("inf"), -5.0])
def test_unusable_budgets_are_refused_before_any_work(demo_territory: Path, budget: float) -> None:
    from geo_ip.errors import BudgetError

    with pytest.raises(BudgetError, match=r"orçamento (negativo|inválido)"):
        assess(demo_territory, DEMO / "nao_existe.csv", load_rules("demo"), budget=budget)


def test_bad_decisions_file_fails_before_the_heavy_work(
    demo_territory: Path, tmp_path: Path
) -> None:
    from geo_ip.errors import InputFileError

    empty = tmp_path / "decisoes.csv"
    empty.write_bytes(b"")
    steps: list[str] = []
    with pytest.raises(InputFileError, match=r"decisoes\.csv"):
        assess(demo_territory, DEMO / "pedidos.csv", load_rules("demo"), decisions=empty,
               key=KEY, today=TODAY, progress=steps.append)  # fmt: skip
    assert steps == ["Conferindo, geocodificando e ligando os pedidos à malha"]


def test_territory_without_grid_nor_lighting_layers(demo_territory: Path, tmp_path: Path) -> None:
    """Every request is sem_rede and every file is still written."""
    bare = tmp_path / "sem_rede.gpkg"
    for name, _ in pyogrio.list_layers(demo_territory):
        if name in ("rede_existente", "pontos_ip", "equipamentos"):
            continue
        frame = pyogrio.read_dataframe(demo_territory, layer=name)
        pyogrio.write_dataframe(frame, bare, layer=name, driver="GPKG")
    result = assess(bare, DEMO / "pedidos.csv", load_rules("demo"), key=KEY, today=TODAY)
    located = result.table[result.table["x"].notna()]
    assert (located["metodo_distancia"] == "sem_rede").all()
    files = write_outputs(result, tmp_path / "out", sheets=False)
    assert {p.name for p in files} >= {"ranking.csv", "avaliacao.gpkg", "mapa.html"}
    layers = dict(pyogrio.list_layers(tmp_path / "out" / "avaliacao.gpkg"))
    assert "pedidos" in layers and "rede_existente" not in layers


def test_reference_date_option(demo_territory: Path, tmp_path: Path) -> None:
    out = tmp_path / "av"
    base = ["-q", "avaliar", "--territorio", str(demo_territory), "--pedidos",
            str(DEMO / "pedidos.csv"), "--regras", "demo", "--saida", str(out)]  # fmt: skip
    result = runner.invoke(app, [*base, "--data-referencia", "2026-11-20"])
    assert result.exit_code == 0, result.output
    provenance = json.loads((out / "proveniencia.json").read_text(encoding="utf-8"))
    assert provenance["data_referencia"] == "2026-11-20"
    bad = runner.invoke(app, [*base, "--data-referencia", "20/11/2026"])
    assert bad.exit_code != 0
    assert "use AAAA-MM-DD" in bad.output


def test_cip_next_to_the_budget(demo: Assessment) -> None:
    from geo_ip.cip.budget import added_lighting_kwh_month, lighting_kwh_month, program_cip
    from geo_ip.cip.engine import compute_cip

    rules = demo.rules
    assert rules.cadastro is not None
    hours, days = rules.iluminacao.horas_por_dia.valor, rules.cadastro.dias_por_mes.valor
    assert (hours, days, rules.iluminacao.potencia_padrao.valor) == (11.8667, 30, 60)
    chosen = demo.table["selecionado_orcamento"].astype(bool)
    lights = int(demo.table.loc[chosen, "luminarias"].sum())
    assert added_lighting_kwh_month(demo) == pytest.approx(lights * 60 * 11.8667 * 30 / 1000)
    lamps = read_layer(demo.territory, "pontos_ip")
    assert lighting_kwh_month(demo) == pytest.approx(lamps["energia_kwh_ano"].sum() / 12)
    cip = program_cip(demo, "municipio_demo", DEMO / "consumidores.csv")
    total = compute_cip("municipio_demo", DEMO / "consumidores.csv", None).total_rs
    assert cip["arrecadacao_cip_anual_rs"] == pytest.approx(total, abs=0.01)
    assert cip["orcamento_rs"] == BUDGET
    selected = demo.table.loc[chosen, "custo_municipio_rs"].sum()
    assert cip["custo_municipio_selecionado_rs"] == pytest.approx(selected, abs=0.01)
    assert cip["custo_iluminacao_projetado_anual_rs"] > cip["custo_iluminacao_atual_anual_rs"]
    assert any("TARIFAS DE EXEMPLO" in w for w in cip["avisos"])


def test_cip_options_go_together(demo_territory: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["avaliar", "--territorio", str(demo_territory), "--pedidos", str(DEMO / "pedidos.csv"),
         "--regras", "demo", "--saida", str(tmp_path / "x"), "--cip-regras", "municipio_demo",
         "--sem-mapas", "--sem-fichas"],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "informe --cip-regras e --cip-consumidores juntos" in result.output
