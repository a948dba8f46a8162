"""Web maps: the overview and the request maps of the demo, offline and without personal data."""

from __future__ import annotations

import html
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import folium
import numpy as np
import pandas as pd
import pytest

import geo_ip
from geo_ip.errors import CatalogError, GeoIPError
from geo_ip.outputs.files import request_file_stems
from geo_ip.outputs.maps import MapSpec, load_map
from geo_ip.outputs.styles import layer_style
from geo_ip.outputs.web.assets import ASSETS_DIR, localise, remote_links
from geo_ip.outputs.web.geojson import LayerData, clean, collection, expand
from geo_ip.outputs.web.layers import map_file_names
from geo_ip.outputs.web.panel import fmt
from geo_ip.outputs.web.parts import Layer
from geo_ip.outputs.web.webmap import OSM_TILES, overview_map, write_maps
from geo_ip.pipeline import Assessment, assess
from geo_ip.requests import privacy
from geo_ip.requests.redaction import scan_for_personal_data
from geo_ip.rules.config import load_rules
from geo_ip.rules.law_locks import CRITERIA
from geo_ip.sources.catalog import load_catalog
from geo_ip.territory.reader import read_layer
from tests.conftest import DEMO
from tests.small_assessment import MISSING_PROOF, PROCEDURE, small_assessment

TODAY = date(2026, 11, 20)
KEY = b"chave-de-teste-do-geo-ip-0123456789"
OSM_COPYRIGHT = "https://www.openstreetmap.org/copyright"
MEASURE_COMMENT = "https://github.com/ljagis/leaflet-measure/issues/171"


@pytest.fixture(scope="module")
def demo(demo_assessment: Assessment) -> Assessment:
    return demo_assessment


@pytest.fixture(scope="module")
def maps(demo: Assessment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mapas")
    (out / "mapas").mkdir()
    (out / "mapas" / "PED-ANTIGO.html").write_text("mapa de outra execução", encoding="utf-8")
    write_maps(demo, out)
    return out


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


_DATA = re.compile(r"^\s*var (\w+)_dados = (.*);$", re.M)
_LAYER = re.compile(r"^\s*var \w+ = geoIp\.camada\((\w+)_dados, (\{.*\})\)\.addTo\(\w+\);$", re.M)
_CALL = re.compile(r"^\s*geoIp\.(\w+)\(\w+(?:, (.*))?\);$", re.M)


def layers(page: str) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Title → (spec, GeoJSON features) of every geo_ip layer of a page."""
    data = {name: json.loads(text) for name, text in _DATA.findall(page)}
    out = {}
    for source, spec_text in _LAYER.findall(page):
        spec = json.loads(spec_text)
        out[spec["titulo"]] = (spec, expand(data[source])["features"])
    return out


def calls(page: str, function: str) -> list[list[Any]]:
    """Arguments (after the map) of every ``geoIp.<function>`` call of a page."""
    found = _CALL.findall(page)
    return [json.loads(f"[{args or ''}]") for name, args in found if name == function]


def control_names(page: str) -> tuple[list[str], list[str]]:
    """Base layers and overlays of the layer control, in order."""
    block = re.search(r"base_layers : \{(.*?)\},\s*overlays :\s*\{(.*?)\},", page, re.S)
    assert block is not None
    names = [
        [json.loads(k) for k in re.findall(r'^\s*("(?:[^"\\]|\\.)*") :', part, re.M)]
        for part in block.groups()
    ]
    return names[0], names[1]


def located(demo: Assessment) -> pd.DataFrame:
    t = demo.table
    return t[np.isfinite(pd.to_numeric(t["x"], errors="coerce").to_numpy(np.float64))]


# --- the overview -------------------------------------------------------------------------


def test_overview_has_one_feature_per_located_request(demo: Assessment, maps: Path) -> None:
    spec, features = layers(read(maps / "mapa.html"))["Pedidos avaliados"]
    where = located(demo)
    assert len(where) == 37  # 41 rows, 4 without a location
    assert len(features) == len(where)
    assert sorted(f["properties"]["protocolo"] for f in features) == sorted(where["protocolo"])
    assert spec["agrupar"] is True  # 37 > agrupar_acima_de = 30
    assert spec["marcador"] == "pedido" and spec["popup"] == "pedido"


def test_popup_data_has_the_five_scores_cost_share_and_position(
    demo: Assessment, maps: Path
) -> None:
    _, features = layers(read(maps / "mapa.html"))["Pedidos avaliados"]
    ranked = demo.table[pd.to_numeric(demo.table["posicao"], errors="coerce") == 1].iloc[0]
    protocol = str(ranked["protocolo"])
    first = next(f["properties"] for f in features if f["properties"]["protocolo"] == protocol)
    assert first["posicao"] == 1
    assert first["pontuacao_total"] == ranked["pontuacao_total"]
    assert first["situacao"] == ranked["situacao"]
    assert first["situacao"] in ("classificado", "aguardando_orcamento")
    assert first["percentual_municipio"] == ranked["percentual_municipio"]
    assert first["custo_estimado_rs"] == pytest.approx(ranked["custo_estimado_rs"], abs=0.01)
    assert first["condicao_hipossuficiencia"] in ("comprovada", "não exigida")
    for c in CRITERIA:
        assert f"sugerido_{c}" in first and f"pont_{c}" in first
    assert first["mapa"] == f"{protocol}.html"
    # the commission's override of PED-2026-0103 (viabilidade 5 -> 10) is in the data
    row = next(f["properties"] for f in features if f["properties"]["protocolo"] == "PED-2026-0103")
    assert (row["sugerido_viabilidade"], row["pont_viabilidade"]) != (None, None)


def test_feature_groups_match_the_catalog_titles(maps: Path) -> None:
    base, overlays = control_names(read(maps / "mapa.html"))
    assert base == ["Mapa do território (offline)", "OpenStreetMap", "Sem mapa de fundo"]
    catalog = [
        layer_style(n).titulo
        for n in ("vias", "rede_existente", "pontos_ip", "equipamentos", "ocorrencias", "extensoes")
    ]
    assert overlays == [*catalog, "Pedidos pela pontuação total", "Pedidos avaliados"]
    assert overlays[-1] == load_catalog().pedidos.titulo
    assert overlays[0] == "Vias (hierarquia viária)"


def test_layers_are_styled_from_the_catalog(maps: Path, demo_territory: Path) -> None:
    territory = demo_territory
    found = layers(read(maps / "mapa.html"))
    roads, features = found["Vias (hierarquia viária)"]
    assert (roads["tipo"], roads["campo"]) == ("categorizado", "hierarquia")
    assert [c["cor"] for c in roads["classes"]] == [c.cor for c in layer_style("vias").classes]
    # one line per street segment: the graph's two directions are drawn once
    edges = read_layer(territory, "vias")
    ends = zip(edges["u"], edges["v"], edges["key"], strict=True)
    segments = {(min(u, v), max(u, v), k) for u, v, k in ends}
    assert len(edges) == 410
    assert len(features) == len(segments) == 211
    score, shared = found["Pedidos pela pontuação total"]
    assert (score["tipo"], score["campo"]) == ("graduado", "pontuacao_total")
    assert score["classes"][0]["rotulo"] == "0 a 40 pontos"
    assert len(shared) == 37  # the same data, drawn in the other style
    facilities, _ = found["Equipamentos públicos e comunitários"]
    icons = {c["valor"]: c.get("icone") for c in facilities["classes"]}
    assert icons["escola"] == "graduation-cap"
    assert icons["ponto_onibus"] == "bus"
    assert icons["travessia"] == "road"
    assert icons["quadra"] == "futbol"  # Font Awesome 4 name of the catalog, mapped
    assert facilities["marcador"] == "icone"


def test_extensions_are_one_layer_with_every_path(demo: Assessment, maps: Path) -> None:
    _, features = layers(read(maps / "mapa.html"))["Extensões propostas"]
    expected = int((~demo.paths.isna()).sum())
    assert len(features) == expected == 37
    assert {f["geometry"]["type"] for f in features} == {"LineString"}


def test_legend_lists_every_situation_label(maps: Path) -> None:
    page = read(maps / "mapa.html")
    (legend,) = [args[2] for args in calls(page, "controle") if args[1] == "gi-legenda"]
    for c in layer_style("pedidos").classes:
        assert html.escape(c.rotulo) in legend
        assert c.cor in legend
    for c in load_catalog().pedidos.alternativos["pontuacao"].classes:
        assert c.rotulo in legend
    assert "Pelas vias" in legend and "Principal" in legend and "Escola" in legend


def test_title_footer_attribution_and_fictional_label(demo: Assessment, maps: Path) -> None:
    page = read(maps / "mapa.html")
    (footer,) = [args[2] for args in calls(page, "controle") if args[1] == "gi-rodape"]
    assert f"geo_ip {geo_ip.__version__}" in footer
    assert demo.rules.sha256[:12] in footer
    assert "OSM de 15/01/2026" in footer  # dates as dd/mm/aaaa (issue 21)
    assert "data de referência 20/11/2026" in footer
    assert "Município de Demonstração — dados fictícios" in footer
    (title,) = calls(page, "titulo")
    assert "Panorama dos pedidos" in title[0] and "dados fictícios" in title[0]
    assert calls(page, "atribuicao") == [
        [f'© <a href="{OSM_COPYRIGHT}">OpenStreetMap</a> contributors']
    ]


def test_search_by_protocol_fullscreen_measure_and_scale(maps: Path) -> None:
    page = read(maps / "mapa.html")
    assert "new L.Control.Search(" in page and "propertyName: 'protocolo'" in page
    assert "L.control.fullscreen(" in page
    assert "new L.Control.Measure(" in page and '"localization": "pt_BR"' in page
    assert calls(page, "escala") == [[]]
    assert len(re.findall(r"geoIp\.busca\(\w+, \w+searchControl, \w+\);", page)) == 1


def _links(page: str) -> list[str]:
    return re.findall(r'<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"', page)


def test_no_cdn_or_remote_script_and_every_asset_is_shipped(maps: Path) -> None:
    pages = [maps / "mapa.html", *sorted((maps / "mapas").glob("*.html"))]
    for path in pages:
        page = read(path)
        assert remote_links(page) == [], path.name
        assert "cdn" not in page.lower(), path.name
        # the only addresses: the tile template, the OSM copyright link and a comment
        # of folium's measure-control template
        urls = set(re.findall(r"https?://[^\s\"'<>)\\]+", page))
        allowed = {OSM_TILES, OSM_COPYRIGHT, MEASURE_COMMENT}
        assert urls <= allowed, (path.name, urls - allowed)
        links = _links(page)
        assert len(links) >= 8
        for link in links:
            assert (path.parent / link).is_file(), (path.name, link)
    assert not (maps / "mapas" / "PED-ANTIGO.html").exists()  # stale map removed
    assert sorted(_links(read(pages[0])))[0].startswith("assets/")
    assert sorted(_links(read(pages[1])))[0].startswith("../assets/")


def test_vendored_assets_keep_their_licences() -> None:
    for folder in (
        "leaflet",
        "leaflet.markercluster",
        "leaflet.fullscreen",
        "leaflet-measure",
        "leaflet-search",
        "fontawesome",
    ):
        licences = [p for p in (ASSETS_DIR / folder).iterdir() if "licen" in p.name.lower()]
        assert licences, folder
    notes = (ASSETS_DIR / "LEIAME.md").read_text(encoding="utf-8")
    for name in (
        "leaflet@1.9.3",
        "leaflet.markercluster@1.1.0",
        "leaflet.fullscreen@3.0.0",
        "leaflet-measure@2.1.7",
        "leaflet-search@2.9.7",
        "@fortawesome/fontawesome-free@6.2.0",
    ):
        assert name in notes


def test_every_catalog_icon_is_in_the_vendored_font() -> None:
    css = (ASSETS_DIR / "fontawesome" / "css" / "fontawesome.min.css").read_text(encoding="utf-8")
    catalog = load_catalog()
    icons = {c.icone for c in catalog.equipamentos.categorias.values()}
    icons |= {c.icone for c in layer_style("ocorrencias").classes if c.icone}
    for icon in icons:
        name = icon
        assert re.search(rf"\.fa-{re.escape(name)}[:,]", css), icon


def test_no_personal_data_on_any_map(demo: Assessment, maps: Path) -> None:
    raw = pd.read_csv(DEMO / "pedidos.csv", dtype=str, keep_default_na=False)
    cpfs = [c for c in raw["cpf_solicitante"] if c]
    names = [n for n in raw["nome_solicitante"] if n]
    assert len(cpfs) > 30 and len(names) > 30
    pages = [maps / "mapa.html", *sorted((maps / "mapas").glob("*.html"))]
    assert len(pages) == 38
    for path in pages:
        page = read(path)
        assert scan_for_personal_data(page, cpfs, names) == [], path.name
        for income in ("1.850,00", "980,50"):
            assert income not in page, path.name
        for _, (spec, features) in layers(page).items():
            fields = {k for f in features for k in f["properties"]}
            personal = {
                *privacy.PERSONAL_COLUMNS,
                *privacy.PSEUDONYMOUS_COLUMNS,
                *privacy.ELIGIBILITY_DETAIL,
            }
            assert not fields & personal, (path.name, spec["titulo"])


def test_coordinates_are_rounded_to_about_a_metre(maps: Path) -> None:
    page = read(maps / "mapa.html")
    for _, (_, features) in layers(page).items():
        for f in features:
            coords = np.asarray(f["geometry"]["coordinates"], dtype=float).reshape(-1)
            assert np.allclose(coords, np.round(coords, 5), atol=1e-12, rtol=0)


def test_size_of_the_demo_overview(maps: Path) -> None:
    size = (maps / "mapa.html").stat().st_size
    assert 100_000 < size < 350_000, size


# --- the request maps ---------------------------------------------------------------------


def test_one_map_per_located_request_with_unique_names(demo: Assessment, maps: Path) -> None:
    files = sorted(p.name for p in (maps / "mapas").glob("*.html"))
    assert len(files) == len(located(demo)) == 37
    # a protocol repeated in the spreadsheet (an error, on its later line): no overwrite
    where = located(demo)
    repeated = where[where["protocolo"].duplicated()]
    assert len(repeated) == 1
    protocol, line = repeated.iloc[0]["protocolo"], int(repeated.iloc[0]["linha"])
    stem_of = dict(zip(demo.table["linha"], request_file_stems(demo.table), strict=True))
    assert f"{protocol}.html" in files and f"{stem_of[line]}.html" in files
    assert re.fullmatch(rf"{re.escape(protocol)}-[0-9a-f]{{8}}", stem_of[line])
    names = map_file_names(
        pd.DataFrame(
            {
                "protocolo": ["A/1", "a/1", None, "B"],
                "linha": [2, 3, 4, 5],
                "x": [1.0, 2.0, 3.0, np.nan],
                "y": [1.0, 2.0, 3.0, np.nan],
            }
        )
    )  # the same names as the sheets (issue 17: a hash suffix makes a repeat unique)
    assert names[0] == "A_1.html" and names[2:] == ["linha_4.html", None]
    assert re.fullmatch(r"a_1-[0-9a-f]{8}\.html", str(names[1]))


def _request(demo: Assessment, protocol: str) -> pd.Series:
    return demo.table[demo.table["protocolo"] == protocol].iloc[0]


def test_request_map_has_the_motivations_levels_and_decisions(demo: Assessment, maps: Path) -> None:
    page = read(maps / "mapas" / "PED-2026-0103.html")
    ((panel,),) = calls(page, "painel")
    row = privacy.public_view(demo.table[demo.table["protocolo"] == "PED-2026-0103"]).iloc[0]
    for c in CRITERIA:
        text = str(row[f"motivacao_{c}"])
        assert len(text) > 40
        assert html.escape(text) in panel, c
    assert "Nível I" in panel  # safety, level I
    assert "sugerido 29 · final 29" in panel  # criterion I of this request
    decision = str(row["decisao_seguranca"])
    assert decision.startswith("mantido em 15 por Comissão (relator fictício) (12/11/2026)")
    # dates as dd/mm/aaaa (issue 21)
    assert html.escape(decision) in panel
    assert "R$ 182.646,92" in panel  # cost, Brazilian format
    assert "Rede de média tensão" in panel
    assert "Elemento 30009 da BDGD da distribuidora" in panel and "bdgd:" not in panel


def test_request_map_has_rings_with_the_rules_radii(demo: Assessment, maps: Path) -> None:
    page = read(maps / "mapas" / "PED-2026-0103.html")
    radii = sorted(float(r) for r in re.findall(r'"radius": ([\d.]+)', page))
    av = demo.rules.avaliacao
    rules = {av.raio_seguranca_m.valor, av.raio_ocorrencias_m.valor, av.raio_equipamentos_m.valor}
    assert sorted(rules) == radii == [150.0, 300.0]  # safety and occurrences share 150 m
    (legend,) = [args[2] for args in calls(page, "controle") if args[1] == "gi-legenda"]
    assert "Segurança: travessias" in legend and "Ocorrências consideradas" in legend


def test_request_map_highlights_the_evidence_counted(demo: Assessment, maps: Path) -> None:
    index = int(demo.table.index[demo.table["protocolo"] == "PED-2026-0103"][0])
    items = demo.items[index]
    assert items["ocorrencias"] and items["seguranca"]
    page = read(maps / "mapas" / "PED-2026-0103.html")
    spec, features = layers(page)["Evidências contadas nos critérios"]
    halos = [f["properties"] for f in features if f["geometry"]["type"] == "Point"]
    lines = [f for f in features if f["geometry"]["type"] == "LineString"]
    expected = sum(len(v) for v in items.values())
    assert len(halos) == len(lines) == expected
    ids = {h["id"] for h in halos}
    for item in items["seguranca"]:
        assert item["osm_id"] in ids
    for item in items["ocorrencias"]:
        assert f"ocorrência (linha {item['linha']})" in ids
    assert {h["grupo"] for h in halos} == {k for k, v in items.items() if v}
    assert spec["marcador"] == "halo"


def test_request_map_has_its_road_path_poles_and_connection(demo: Assessment, maps: Path) -> None:
    row = _request(demo, "PED-2026-0103")
    found = layers(read(maps / "mapas" / "PED-2026-0103.html"))
    _, road = found["Via do pedido (trecho ligado)"]
    parts_ = {f["properties"]["parte"]: f["properties"] for f in road}
    assert parts_["trecho"]["name"] == row["logradouro_via"] == "Rua Bela Vista"
    assert "ligacao" in parts_
    _, poles = found["Postes novos propostos"]
    assert len(poles) == row["postes_novos"] == 28
    assert [p["properties"]["numero"] for p in poles] == list(range(1, 29))
    _, path = found["Extensões propostas"]
    assert len(path) == 1 and path[0]["properties"]["protocolo"] == "PED-2026-0103"
    # the last pole is at the request's end of the path
    end = path[0]["geometry"]["coordinates"][-1]
    assert poles[-1]["geometry"]["coordinates"] == pytest.approx(end, abs=2e-5)
    _, mine = found["Pedidos avaliados"]
    assert [f["properties"]["protocolo"] for f in mine] == ["PED-2026-0103"]
    _, connection = found["Ponto de conexão à rede existente"]
    assert connection[0]["properties"]["elemento"] == "bdgd:30009"
    assert connection[0]["geometry"]["coordinates"] == pytest.approx(
        path[0]["geometry"]["coordinates"][0], abs=1e-9
    )


def test_unlocated_request_has_no_map(demo: Assessment) -> None:
    from geo_ip.outputs.web.webmap import request_map

    index = int(np.flatnonzero(pd.to_numeric(demo.table["x"], errors="coerce").isna())[0])
    with pytest.raises(GeoIPError, match="sem localização"):
        request_map(demo, index)


# --- 1,000 requests -------------------------------------------------------------------------


def test_overview_of_a_thousand_requests_stays_small(demo_territory: Path, tmp_path: Path) -> None:
    from benchmarks.stages import synthetic_requests

    csv = synthetic_requests(str(demo_territory), 1000, tmp_path / "pedidos.csv")
    big = assess(demo_territory, csv, load_rules("demo"), key=KEY, today=TODAY)
    out = tmp_path / "mapa.html"
    from geo_ip.outputs.web.webmap import save_map

    save_map(overview_map(big), out, "assets/")
    size = out.stat().st_size
    _, features = layers(read(out))["Pedidos avaliados"]
    assert len(features) == len(located(big)) > 950
    assert size < 1_500_000, size  # about 0.95 MB: under 1.5 kB per request with its path


# --- pieces -------------------------------------------------------------------------------


def test_layer_data_is_compact_and_safe_inside_a_script() -> None:
    import shapely

    evil = "Rua {{ x }} {% if %} </script><b>"
    data = LayerData.build(
        [shapely.Point(350000.123, 7460000.987), None],
        [{"name": evil, "n": 3, "vazio": None}, {"name": "dropped"}],
        "EPSG:31983",
    )
    text = data.json()
    assert "</script>" not in text and "<b>" not in text
    parsed = json.loads(text)
    assert parsed["campos"] == ["n", "name"]
    (feature,) = expand(parsed)["features"]
    assert feature["properties"] == {"n": 3, "name": evil}
    lon, lat = feature["geometry"]["coordinates"]
    assert (round(lon, 5), round(lat, 5)) == (lon, lat)
    # rendered through folium, the text is never read as a Jinja template
    m = folium.Map(tiles=None)
    group = folium.FeatureGroup(name="teste").add_to(m)
    spec = {"titulo": "t", "tipo": "simples", "classes": [{"rotulo": "x", "cor": "#000000"}]}
    group.add_child(Layer(text, spec))
    localise(m, "assets/")
    page = m.get_root().render()
    assert "Rua {{ x }} {% if %} \\u003c/script\\u003e\\u003cb\\u003e" in page
    assert collection(("a",), []) == '{"campos":["a"],"feicoes":[]}'


def test_points_and_lines_are_bare_coordinates_other_geometries_geojson() -> None:
    import shapely

    wgs84 = "EPSG:4326"  # no reprojection: coordinates as written, rounded to 5 decimals
    data = LayerData.build(
        [
            shapely.Point(-46.1234567, -22.7654321),
            shapely.LineString([(-46.0, -22.0), (-46.000011, -22.0), (-46.1, -22.2)]),
            shapely.Polygon([(-46, -22), (-46.1, -22), (-46.1, -22.1)]),
        ],
        [{"n": 1}, {"n": 2}, {}],
        wgs84,
    )
    text = data.json()
    assert text == (
        '{"campos":["n"],"feicoes":[[[-46.12346,-22.76543],[1]],'
        "[[[-46.0,-22.0],[-46.00001,-22.0],[-46.1,-22.2]],[2]],"
        '[{"type":"Polygon","coordinates":[[[-46.0,-22.0],[-46.1,-22.0],[-46.1,-22.1],'
        "[-46.0,-22.0]]]},[]]]}"
    )
    kinds = [f["geometry"]["type"] for f in expand(json.loads(text))["features"]]
    assert kinds == ["Point", "LineString", "Polygon"]


def test_clean_and_format_values() -> None:
    assert clean(np.float64(12.0)) == 12 and isinstance(clean(12.0), int)
    assert clean(12.345) == 12.35
    assert clean(float("nan")) is None and clean(pd.NA) is None and clean("  ") is None
    assert clean(True) == "sim" and clean(np.bool_(False)) == "não"
    assert clean(date(2026, 5, 6)) == "2026-05-06"
    assert fmt("custo_estimado_rs", 182646.92) == "R$ 182.646,92"
    assert fmt("percentual_municipio", 50.0) == "50 %"
    assert fmt("distancia_rede_m", 966.16) == "966,2"
    assert fmt("postes_novos", 28) == "28"
    assert fmt("x", None) == ""


def test_localise_refuses_a_link_without_a_local_copy() -> None:
    m = folium.Map(tiles=None)
    m.default_js = [*m.default_js, ("plugin_desconhecido", "https://cdn.example.org/x.js")]
    with pytest.raises(GeoIPError, match="sem cópia local"):
        localise(m, "assets/")


# --- compositions -------------------------------------------------------------------------


def test_bundled_compositions() -> None:
    panorama, pedido = load_map("panorama"), load_map("pedido")
    assert isinstance(panorama, MapSpec) and panorama.nome == "panorama"
    assert panorama.fundos == ("osm", "nenhum")
    assert [la.camada for la in pedido.camadas][-1] == "pedidos"
    assert {r.parametro for r in pedido.aneis} == {
        "raio_seguranca_m",
        "raio_ocorrencias_m",
        "raio_equipamentos_m",
    }
    assert pedido.painel and not panorama.painel


@pytest.mark.parametrize(
    ("extra", "key", "message"),
    [
        ('[[camadas]]\ncamada = "estradas"\n', "camadas[1].camada", "desconhecida"),
        (
            '[[camadas]]\ncamada = "pedidos"\nestilo = "cor"\ntitulo = "x"\n',
            "camadas[1].estilo",
            "não existe",
        ),
        (
            '[[camadas]]\ncamada = "pedidos"\nestilo = "pontuacao"\n',
            "camadas[1].titulo",
            "título próprio",
        ),
        ('[[camadas]]\ncamada = "vias"\ncampos = ["name", "cpf"]\n', "camadas[1].campos", "cpf"),
        (
            '[[aneis]]\nparametro = "raio_lunar_m"\nrotulo = "x"\ncor = "#000000"\n',
            "aneis[0].parametro",
            "não é um raio",
        ),
        ('[[camadas]]\ncamada = "vias"\ncor = "vermelho"\n', "camadas.1.cor", "pattern"),
        ('[[camadas]]\ncamada = "conexao"\ntitulo = "x"\n', "camadas[1].cor", "precisa de cor"),
        (
            '[ficha.faixa]\nparametro = "raio_lunar_m"\nrotulo = "x"\ncor = "#000000"\n'
            'borda = "#000000"\n',
            "ficha.faixa.parametro",
            "não é um raio",
        ),
        ('[ficha.contornos]\nestradas = "#000000"\n', "ficha.contornos.estradas", "desconhecida"),
        ('[ficha.contornos]\nvias = "preto"\n', "ficha.contornos.vias", "pattern"),
    ],
)
def test_composition_errors_name_the_file_and_key(
    tmp_path: Path, extra: str, key: str, message: str
) -> None:
    path = tmp_path / "mapa.toml"
    path.write_text(
        f'nome = "pedido"\ntitulo = "t"\n[[camadas]]\ncamada = "vias"\n{extra}', encoding="utf-8"
    )
    with pytest.raises(CatalogError, match=re.escape(key)) as info:
        load_map(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_missing_composition_is_reported(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="não encontrada"):
        load_map(tmp_path / "nada.toml")


# --- hardship and Arts. 11 and 12 in the popups and panels (issue 16) --------------------------


def test_request_popups_show_the_hardship_condition_and_the_art12_indication() -> None:
    from geo_ip.outputs.web.layers import request_frame

    frame = request_frame(small_assessment()).set_index("protocolo")
    assert "hipossuficiencia" not in frame.columns
    assert "decisao_hipossuficiencia" not in frame.columns
    assert frame["condicao_hipossuficiencia"].to_dict() == {
        "PED-1": "comprovada", "PED-2": "comprovada", "PED-4": "comprovada",
        "PED-5": "comprovada", "PED-8": "pendente", "PED-3": "pendente",
        "PED-6": "não comprovada", "PED-7": "pendente",
    }  # fmt: skip
    # shown only where there is an indication (a popup skips empty values)
    signs = frame["indicio_art12"].to_dict()
    assert {k for k, v in signs.items() if v is not None} == {"PED-2", "PED-4"}
    assert signs["PED-2"] == "sim"
    labels = layer_style("pedidos").campos
    assert labels["condicao_hipossuficiencia"] == "Hipossuficiência"
    assert labels["indicio_art12"] == "Indício de via rural de alto fluxo (Art. 12 §1)"
    assert "hipossuficiencia" not in labels
    for name in ("panorama", "pedido"):
        for layer in load_map(name).camadas:
            if layer.camada == "pedidos" and layer.filtro != "outros":
                assert {"condicao_hipossuficiencia", "indicio_art12"} <= set(layer.campos or ())


def test_every_situation_has_a_portuguese_label() -> None:
    from geo_ip.law.ranking import SITUACOES

    style = layer_style("pedidos")
    labels = {c.valor: c.rotulo for c in style.classes}
    assert set(labels) == set(SITUACOES)
    assert labels["pendente_comprovacao"] == "Pendente de comprovação da hipossuficiência"
    assert labels["execucao_direta_art12"] == "Execução direta (Art. 12)"
    assert labels["estrategico_art11"] == "Estratégico (Art. 11)"
    assert len({c.cor for c in style.classes}) == len(style.classes)


def test_request_panel_says_what_is_pending_and_the_acts() -> None:
    from geo_ip.outputs.web.panel import _acts

    assessment = small_assessment()
    public = privacy.public_view(assessment.table).set_index(assessment.table["protocolo"])
    assert _acts(public.loc["PED-3"]) == [
        f"Hipossuficiência pendente de comprovação: {MISSING_PROOF}."
    ]
    assert _acts(public.loc["PED-4"]) == [
        "Indício de via rural de alto fluxo (Art. 12 §1): acesso a 1 escola a menos de 150 m "
        "(Escola Rural Teste). Só o Poder Executivo, em procedimento administrativo próprio, "
        "pode decidir a execução direta (Art. 12 §2).",
        "Execução direta decidida pelo Poder Executivo (Art. 12 §2), procedimento "
        f"administrativo {PROCEDURE}.",
    ]
    assert _acts(public.loc["PED-5"]) == [
        "Estratégico (Art. 11): análise direta pela Comissão, sem a pontuação; parecer: "
        "decidido por Comissão (relator fictício) em 13/11/2026: Parecer técnico "
        "circunstanciado 01/2026: acesso noturno à escola."
    ]
    assert _acts(public.loc["PED-2"])[0] == (
        "Marcado como estratégico (Art. 11); aguarda parecer da Comissão."
    )
    assert _acts(public.loc["PED-1"]) == []


# --- a place to confirm (issue 18) -------------------------------------------------------------

PENDING = "PED-2026-0130"
"""The demo's request pending confirmation of its place: "R. Dr. Carlos Chagas", no number."""
CONFIRMED = "PED-2026-0133"
"""The demo's request ("Zona rural") whose place a ``localizacao`` decision confirms."""
STRETCH_LABEL = "Local a confirmar: trecho candidato (pendente de confirmação do local)"


def _length_m(coordinates: list[list[float]]) -> float:
    from pyproj import Transformer

    lon, lat = np.asarray(coordinates, dtype=float).T
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:31983", always_xy=True).transform(lon, lat)
    return float(np.hypot(np.diff(x), np.diff(y)).sum())


def test_a_request_pending_location_is_drawn_as_its_candidate_stretch(
    demo: Assessment, maps: Path
) -> None:
    row = _request(demo, PENDING)
    assert row["situacao"] == "pendente_localizacao"
    page = read(maps / "mapa.html")
    found = layers(page)
    for title in ("Pedidos avaliados", "Pedidos pela pontuação total"):
        spec, features = found[title]
        by_protocol = {f["properties"]["protocolo"]: f for f in features}
        mine = by_protocol[PENDING]
        # the whole street without the number, 720 m (± 360 m around its middle), no pin
        assert mine["geometry"]["type"] == "LineString"
        assert _length_m(mine["geometry"]["coordinates"]) == pytest.approx(720, abs=3)
        # every other request keeps its pin
        others = {f["geometry"]["type"] for p, f in by_protocol.items() if p != PENDING}
        assert others == {"Point"}
        assert spec["dica_trecho"] == "{protocolo} — {local_a_confirmar}"
    props = by_protocol[PENDING]["properties"]
    # one pole whatever the position (4 to 7 m from the low-voltage grid): R$ 2.800 +
    # 2 × (R$ 180 + R$ 950) + R$ 45/m, i.e. R$ 5.060,00 + R$ 45 × metres
    low, high = row["extensao_min_m"], row["extensao_max_m"]
    assert (round(low), round(high), row["postes_min"], row["postes_max"]) == (4, 7, 1, 1)
    assert row["custo_min_rs"] == pytest.approx(5060 + 45 * low, abs=45 * 0.05)
    assert row["custo_max_rs"] == pytest.approx(5060 + 45 * high, abs=45 * 0.05)
    assert props["local_a_confirmar"] == (
        f"Local a confirmar (± 360 m): extensão de 4 a 7 m; 1 poste novo; custo de "
        f"{fmt('custo_rs', row['custo_min_rs'])} a {fmt('custo_rs', row['custo_max_rs'])}; "
        f"pontuação sugerida de {fmt('p', row['pontuacao_sugerida_min'])} a "
        f"{fmt('p', row['pontuacao_sugerida_max'])}"
    )
    assert props["confirmar_no_local"].startswith(
        "Confirmar no local a posição do pedido ao longo de Rua Doutor Carlos Chagas (trecho "
        "candidato de 720 m; incerteza de 360 m, acima do limite de 100 m)"
    )
    # the worse case is what the popup scores
    assert props["pontuacao_total"] == row["pontuacao_sugerida_min"] == row["pontuacao_total"]
    rest = [f["properties"] for f in features if f["properties"]["protocolo"] != PENDING]
    assert not any("local_a_confirmar" in p for p in rest)
    (legend,) = [args[2] for args in calls(page, "controle") if args[1] == "gi-legenda"]
    assert legend.count(html.escape(STRETCH_LABEL) + "</span>") == 1  # the situation layer
    assert html.escape(STRETCH_LABEL) + ", na cor da pontuação no pior caso" in legend
    assert "dashed #e67e22" in legend  # the colour of pendente_localizacao


def test_the_map_of_a_request_pending_location(demo: Assessment, maps: Path) -> None:
    from pyproj import Transformer

    row = _request(demo, PENDING)
    page = read(maps / "mapas" / f"{PENDING}.html")
    found = layers(page)
    _, mine = found["Pedidos avaliados"]
    assert [f["geometry"]["type"] for f in mine] == ["LineString"]
    # the road layer shows the worse position assessed instead of the link to the road
    _, road = found["Via do pedido (trecho ligado)"]
    parts_ = {f["properties"]["parte"]: f for f in road}
    assert set(parts_) == {"trecho", "pior_caso"}
    to_wgs = Transformer.from_crs("EPSG:31983", "EPSG:4326", always_xy=True)
    lon, lat = to_wgs.transform(row["x_via"], row["y_via"])
    assert parts_["pior_caso"]["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=2e-5)
    # and the rings are around that position, whose evidence the map shows
    centres = re.findall(r"L\.circle\(\s*\[([-\d.]+), ([-\d.]+)\]", page)
    assert centres and {(float(a), float(b)) for a, b in centres} == {
        (round(lat, 6), round(lon, 6))
    }
    ((panel,),) = calls(page, "painel")
    assert "<h2>Local a confirmar</h2>" in panel
    assert html.escape(str(row["confirmar_no_local"])) in panel
    assert "pior caso entre as 10 posições avaliadas" in panel
    assert "de 100 pontos no pior caso" in panel
    assert "Incerteza da localização</th><td>± 360 m" in panel
    (legend,) = [args[2] for args in calls(page, "controle") if args[1] == "gi-legenda"]
    assert "Pior caso avaliado no trecho candidato" in legend
    assert html.escape(STRETCH_LABEL) in legend


def test_the_map_of_a_place_confirmed_by_the_commission(demo: Assessment, maps: Path) -> None:
    row = _request(demo, CONFIRMED)
    assert row["geocodificacao"] == "localizacao_confirmada"
    page = read(maps / "mapas" / f"{CONFIRMED}.html")
    _, mine = layers(page)["Pedidos avaliados"]
    assert [f["geometry"]["type"] for f in mine] == ["Point"]  # a pin, at the confirmed place
    assert mine[0]["geometry"]["coordinates"] == pytest.approx([-46.38481, -22.89493], abs=1e-5)
    ((panel,),) = calls(page, "painel")
    assert "<h2>Local confirmado</h2>" in panel
    assert (
        "Local confirmado pela Comissão (decisão &#x27;localizacao&#x27;): decidido por "
        "Comissão (relator fictício) em 13/11/2026, local confirmado em (-22,894926; "
        "-46,384813): Vistoria de 13/11/2026"
    ) in panel
    assert "Incerteza da localização</th><td>± 0 m" in panel
    assert "Local a confirmar" not in panel


def test_place_to_confirm_texts_are_portuguese_and_escaped() -> None:
    from geo_ip.outputs.web.layers import place_to_confirm
    from geo_ip.outputs.web.panel import _place_section

    row = pd.Series(
        {
            "situacao": "pendente_localizacao", "incerteza_m": 359.87,
            "extensao_min_m": 35.0, "extensao_max_m": 1005.04, "postes_min": 1,
            "postes_max": 29, "custo_min_rs": 5285.0, "custo_max_rs": 188325.0,
            "pontuacao_sugerida_min": 39.0, "pontuacao_sugerida_max": 59.5,
            "posicoes_avaliadas": 10,
            "confirmar_no_local": "Confirmar no local <img src=x onerror=alert(1)> & ver",
        }
    )  # fmt: skip
    assert place_to_confirm(row) == (
        "Local a confirmar (± 360 m): extensão de 35 a 1.005 m; de 1 a 29 postes novos; custo "
        "de R$ 5.285,00 a R$ 188.325,00; pontuação sugerida de 39 a 59,5"
    )
    same = row.copy()
    same[["postes_max", "custo_max_rs", "extensao_max_m"]] = [1, 5285.0, 35.2]
    assert place_to_confirm(same) == (
        "Local a confirmar (± 360 m): extensão de 35 m; 1 poste novo; custo de R$ 5.285,00; "
        "pontuação sugerida de 39 a 59,5"
    )
    section = "".join(_place_section(row, True))
    assert "<img" not in section
    assert "Confirmar no local &lt;img src=x onerror=alert(1)&gt; &amp; ver" in section
    assert "pior caso entre as 10 posições avaliadas" in section
    assert _place_section(row.drop("confirmar_no_local"), False) == []


# --- issue 21: zoom limits, words instead of codes, the legend, the title, the alerts -------


def test_the_map_itself_has_zoom_limits_whatever_its_base_layer(maps: Path) -> None:
    # with "Sem mapa de fundo" no tile layer gives the map a maxZoom: the clusters need one
    assert (load_map("panorama").zoom_maximo, load_map("pedido").zoom_maximo) == (19, 20)
    for path, deepest in ((maps / "mapa.html", 19), (maps / "mapas" / "PED-2026-0103.html", 20)):
        page = read(path)
        options = re.search(r"L\.map\(\s*\"\w+\",\s*\{(.*?)\}\s*\);", page, re.S)
        assert options is not None
        assert '"minZoom": 3' in options.group(1)
        assert f'"maxZoom": {deepest}' in options.group(1)
        (fit,) = calls(page, "enquadra")  # fitted again once the controls are drawn
        assert fit[1] == deepest and len(fit[0]) == 2


def test_codes_are_shown_as_words() -> None:
    from geo_ip.outputs.format import display, element_reference, hours_per_day, value_labels

    words = value_labels("pedidos")
    assert words["tipo"]["extensao_rede"] == "Extensão de rede elétrica"
    assert words["hierarquia_via"]["secundaria"] == "Secundária"
    assert words["geocodificacao"]["logradouro"] == "Ponto médio do logradouro"
    assert words["superficie_via"]["asphalt"] == words["surface"]["asphalt"] == "Asfalto"
    assert words["situacao"]["inelegivel"] == "Inelegível (Art. 4 e Art. 5)"
    assert words["rede_alvo_tipo"]["bt"] == "Rede de baixa tensão"
    assert words["metodo_distancia"]["via"] == "Pelas vias"
    assert words["metodo_distancia"]["sem_rede"] == "Sem rede utilizável nas proximidades"
    assert value_labels("rede_existente")["tipo"]["mt"] == "Rede de média tensão"
    assert value_labels("ocorrencias")["tipo"]["ocorrencia_policial"] == "Ocorrência policial"
    assert "tipo" not in value_labels("vias")  # "tipo" means something else in each layer
    assert element_reference("bdgd:20188") == "Elemento 20188 da BDGD da distribuidora"
    assert element_reference("osm:77") == "Elemento 77 do OpenStreetMap"
    assert element_reference("node/100005") == "Nó 100005 do OpenStreetMap"
    assert element_reference("way/12") == "Linha 12 do OpenStreetMap"
    assert element_reference("PED-1") == "PED-1" and element_reference(None) == ""
    assert display("tipo", "extensao_rede", words) == "Extensão de rede elétrica"
    assert display("tipo", "troca de lâmpada", words) == "troca de lâmpada"  # not a code
    assert display("rede_alvo_id", "bdgd:20188", words) == "Elemento 20188 da BDGD da distribuidora"
    assert display("data_protocolo", "2026-01-31", words) == "31/01/2026"
    assert display("data_protocolo", date(2026, 1, 31), words) == "31/01/2026"
    assert display("d", "em 2026-01-31T10:00:00+00:00, ok", words) == "em 31/01/2026, ok"
    assert display("protocolo", "PED-2026-0101", words) == "PED-2026-0101"
    assert display("x", None, words) == ""
    assert hours_per_day(11.8667) == "11 h 52 min"
    assert hours_per_day("12") == "12 h" and hours_per_day(11.999) == "12 h"
    assert hours_per_day(0.5) == "0 h 30 min" and hours_per_day(None) == "—"


def test_popup_specs_carry_the_words_of_their_fields(maps: Path) -> None:
    found = layers(read(maps / "mapa.html"))
    spec, _ = found["Pedidos avaliados"]
    assert spec["valores"]["tipo"]["extensao_rede"] == "Extensão de rede elétrica"
    assert "hierarquia" not in spec["valores"]  # only the fields the popup shows
    roads, _ = found["Vias (hierarquia viária)"]
    assert roads["valores"]["surface"]["asphalt"] == "Asfalto"
    assert roads["valores"]["highway"]["residential"] == "Rua residencial"
    assert "referencias" not in roads
    page = read(maps / "mapas" / "PED-2026-0103.html")
    extensions, _ = layers(page)["Extensões propostas"]
    assert "rede_alvo_id" in extensions["referencias"]["campos"]
    assert extensions["referencias"]["fontes"]["bdgd"] == "da BDGD da distribuidora"
    ((panel,),) = calls(page, "painel")
    assert "Coordenadas informadas no pedido" in panel
    evidence, features = layers(page)["Evidências contadas nos critérios"]
    assert "id" in evidence["referencias"]["campos"]
    names = " ".join(str(f["properties"].get("nome")) for f in features)
    assert re.search(r"\d{4}-\d{2}-\d{2}", names) is None  # occurrences "em dd/mm/aaaa"
    assert re.search(r" em \d{2}/\d{2}/\d{4}", names)


def test_legend_sections_follow_the_layers_and_start_hidden_when_off(maps: Path) -> None:
    from geo_ip.outputs.web.parts import legend_html

    page = read(maps / "mapa.html")
    (legend,) = [args[2] for args in calls(page, "controle") if args[1] == "gi-legenda"]
    assert '<details data-camada="Pedidos pela pontuação total" hidden>' in legend
    assert '<details data-camada="Pedidos avaliados" open>' in legend
    assert calls(page, "legenda") == [[]]
    hostile = '"><img src=x onerror=alert(1)>'
    box = legend_html([(hostile, [("", "a")], False)], True, [hostile])
    assert "<img" not in box
    assert 'data-camada="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" hidden>' in box


def test_facility_icons_are_not_round_like_the_requests() -> None:
    css = (ASSETS_DIR / "geo_ip" / "mapa.css").read_text(encoding="utf-8")
    icon = re.search(r"\.gi-icone span \{([^}]*)\}", css)
    pin = re.search(r"\.gi-pedido span \{([^}]*)\}", css)
    assert icon is not None and pin is not None
    assert "border-radius: 4px" in icon.group(1)  # a bus stop is a square, a request a disc
    assert "border-radius: 50%" in pin.group(1)


def test_alerts_are_badges_in_the_panel_and_the_popup_data() -> None:
    from geo_ip.outputs.web.layer_specs import layer_fields, map_style
    from geo_ip.outputs.web.panel import alerts_html

    assert alerts_html(None) == "" and alerts_html(" ; ") == "" and alerts_html(np.nan) == ""
    badges = alerts_html("declaração implausível; local aproximado <b>")
    assert badges.count('class="gi-alerta"') == 2
    assert "local aproximado &lt;b&gt;</span>" in badges and "<b>" not in badges
    layer = load_map("panorama").camadas[-1]
    assert "alertas" in layer_fields(layer, map_style(layer, load_catalog()))


def test_the_title_names_the_municipality_of_the_data(tmp_path: Path, demo: Assessment) -> None:
    import geopandas as gpd
    import shapely

    from geo_ip.outputs.web.layers import data_municipality

    rules = load_rules("demo")

    class Run:  # what data_municipality reads of an Assessment
        def __init__(self, territory: Any) -> None:
            self.rules, self.territory = rules, territory

    def territory(name: str, code: int | None) -> Path:
        path = tmp_path / f"{name}.gpkg"
        gpd.GeoDataFrame(
            {"nome": [name], "codigo_ibge": [code], "admin_level": ["8"]},
            geometry=[shapely.box(0, 0, 1000, 1000)],
            crs="EPSG:31982",
        ).to_file(path, layer="limite")
        return path

    assert data_municipality(Run(territory("Porto Alegre", 4314902))) == "Porto Alegre"
    assert data_municipality(Run(territory("Outro nome", 9999999))) == rules.municipio.nome
    assert data_municipality(Run(tmp_path / "nada.gpkg")) == rules.municipio.nome
    assert data_municipality(demo) == rules.municipio.nome  # the demo's own boundary
