"""The map of each request as JSON (registry snapshots) and its page script.

On the demo assessment, for three hand-picked requests — PED-2026-0103 (28 new poles from
the medium-voltage line bdgd:30009), PED-2026-0106 (15 poles) and PED-2026-0130 (pending
location: drawn as its candidate stretch, rings around the worse position) — the JSON
carries the assessment's own geometry (the path, to 1e-7 degree), the poles counted in
``postes_novos``, the rules' radii, Portuguese labels instead of codes, stays under 30 kB
per request, and never a name or CPF planted in the requests. The page script
(``geo_ip/webapp/static/pedido_mapa.js``) is run in Debian's Chromium when it is there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_ip.outputs.maps import load_map
from geo_ip.outputs.web import parts
from geo_ip.pipeline import Assessment, assess
from geo_ip.registry.request_map import (
    CONTEXT_DECIMALS,
    OTHER_REQUESTS_MAX,
    OWN_DECIMALS,
    snapshot_maps,
)
from geo_ip.requests.redaction import scan_for_personal_data
from geo_ip.rules.config import load_rules
from tests.browsers import ARGS, BLANK_PNG, CHROMIUM, playwright_or_skip
from tests.conftest import DEMO, DEMO_BUDGET, DEMO_KEY, DEMO_TODAY, ROOT

PICKED = ("PED-2026-0103", "PED-2026-0106", "PED-2026-0130")
PENDING = "PED-2026-0130"
RAW_CODES = (
    # request types, situations, road classes, methods, grid kinds, categories, geocoding
    "extensao_rede", "implantacao", "melhoria",
    "classificado", "aguardando_orcamento", "pendente_localizacao", "inelegivel", "erro",
    "estrategico_art11", "execucao_direta_art12", "pendente_comprovacao",
    "principal", "secundaria", "local",
    "via", "reta_fator_desvio", "bt", "mt", "poste", "ponto_ip", "transformador",
    "escola", "centro_comunitario", "travessia", "lavoura",
    "acidente", "ocorrencia_policial", "reclamacao",
    "coordenada_informada", "numero_exato", "logradouro", "bdgd", "asphalt", "yes",
    "True", "False", "nan", "None",
)  # fmt: skip
"""Codes a popup, a legend or a title must show as their Portuguese label (OSM's ``highway``
values stay as OSM writes them, under the label "Tipo OSM (highway)")."""

PLANTED_NAME = "Zuleica Plantada Quixabeira"
PLANTED_CPFS = ("529.982.247-25", "111.444.777-35")


@pytest.fixture(scope="module")
def demo(demo_assessment: Assessment) -> Assessment:
    return demo_assessment


@pytest.fixture(scope="module")
def maps(demo: Assessment) -> list[dict[str, Any]]:
    return snapshot_maps(demo)


def _row(demo: Assessment, protocol: str) -> int:
    return int(np.flatnonzero(demo.table["protocolo"].to_numpy() == protocol)[0])


def _layer(m: dict[str, Any], ident: str) -> dict[str, Any]:
    (found,) = [layer for layer in m["camadas"] if layer["id"] == ident]
    return found


def _features(m: dict[str, Any], ident: str) -> list[dict[str, Any]]:
    return list(_layer(m, ident)["geojson"]["features"])


def _text(m: dict[str, Any]) -> str:
    return json.dumps(m, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _wgs84(geom: Any, crs: str) -> np.ndarray:
    """Coordinates of a metric geometry in WGS 84, through geopandas (not the module's path)."""
    projected = gpd.GeoSeries([geom], crs=crs).to_crs("EPSG:4326").iloc[0]
    return shapely.get_coordinates(projected)


# --- layout ---------------------------------------------------------------------------------


def test_one_map_per_row_in_order_and_none_for_an_unlocated_request(
    demo: Assessment, maps: list[dict[str, Any]]
) -> None:
    assert len(maps) == len(demo.table) == 41
    x = pd.to_numeric(demo.table["x"], errors="coerce").to_numpy()
    assert [i for i, m in enumerate(maps) if m == {}] == list(np.flatnonzero(np.isnan(x)))
    assert sum(1 for m in maps if m) == 37
    m = maps[_row(demo, "PED-2026-0103")]
    assert set(m) == {"centro", "limites", "fundo", "camadas"}
    lat, lon = m["centro"]
    assert (lat, lon) == pytest.approx((-22.912493, -46.395050), abs=2e-6)  # as requested
    (south, west), (north, east) = m["limites"]
    assert south < lat < north and west < lon < east
    # the composition's order, bottom to top; an empty layer is left out (no lamp near
    # this path, some near PED-2026-0106's)
    ids = [layer["id"] for layer in m["camadas"]]
    assert ids == [
        "vias", "via_pedido", "rede_existente", "equipamentos", "ocorrencias", "aneis",
        "evidencias", "pedidos_outros", "extensoes", "conexao", "postes_propostos", "pedidos",
    ]  # fmt: skip
    other = [layer["id"] for layer in maps[_row(demo, "PED-2026-0106")]["camadas"]]
    assert other[:4] == ["vias", "via_pedido", "rede_existente", "pontos_ip"]
    titles = {layer["id"]: layer["rotulo"] for layer in m["camadas"]}
    assert titles["vias"] == "Vias (hierarquia viária)"
    assert titles["postes_propostos"] == "Postes novos propostos"
    assert titles["aneis"] == "Raios dos critérios"
    assert _layer(m, "pedidos_outros")["visivel"] is False  # as maps/pedido.toml says
    for layer in m["camadas"]:
        assert layer["geojson"]["type"] == "FeatureCollection"
        for c in layer["estilo"]["classes"].values():
            assert set(c) <= {"linha", "ponto", "anel"} and c
    # every feature of every map has the style of its class for its geometry
    for mm in maps:
        for layer in mm.get("camadas", []):
            classes = layer["estilo"]["classes"]
            for f in layer["geojson"]["features"]:
                c = classes[str(f["properties"].get("_c", 0))]
                kind = {"Point": "ponto"}.get(f["geometry"]["type"], "linha")
                if layer["estilo"]["marcador"] == "anel":
                    kind = "anel"
                assert kind in c, (layer["id"], f["properties"])
    # a request's pin in the colour of its situation (the catalog's)
    pins = [
        (layer, f)
        for mm in maps
        for layer in mm.get("camadas", [])
        if layer["id"] in ("pedidos", "pedidos_outros")
        for f in layer["geojson"]["features"]
        if f["properties"]["Situação"] == "Classificado (dentro do orçamento)"
    ]
    assert len({f["properties"]["Protocolo"] for _, f in pins}) == 9  # the demo's 9 ranked
    for layer, f in pins:
        style = layer["estilo"]["classes"][str(f["properties"].get("_c", 0))]
        assert style["ponto"]["fillColor"] == "#1e8449"
    json.loads(_text(m))  # JSON, no NaN


def test_extension_is_the_assessment_path_in_wgs84(
    demo: Assessment, maps: list[dict[str, Any]]
) -> None:
    for protocol in PICKED:
        i = _row(demo, protocol)
        (feature,) = _features(maps[i], "extensoes")
        assert feature["geometry"]["type"] == "LineString"
        got = np.asarray(feature["geometry"]["coordinates"])
        expected = _wgs84(demo.paths.iloc[i], demo.crs)
        assert got.shape == expected.shape, protocol
        assert np.abs(got - expected).max() <= 1e-7, protocol
        assert feature["properties"]["Protocolo"] == protocol
    # the connection is where the path leaves the grid: its first vertex
    i = _row(demo, "PED-2026-0103")
    (start,) = _features(maps[i], "conexao")
    first = _features(maps[i], "extensoes")[0]["geometry"]["coordinates"][0]
    assert start["geometry"]["coordinates"] == first
    assert start["properties"] == {
        "Rede de origem": "Rede de média tensão",
        "Elemento de origem": "bdgd:30009",
        "Método": "Pelas vias",
    }
    # ... and the grid element itself is on the map, whatever its distance
    grid = _features(maps[i], "rede_existente")
    assert "30009" in {f["properties"].get("Código na origem") for f in grid}


def test_new_poles_are_the_postes_novos_along_the_path(
    demo: Assessment, maps: list[dict[str, Any]]
) -> None:
    counts = {}
    for protocol in PICKED:
        i = _row(demo, protocol)
        poles = _features(maps[i], "postes_propostos")
        counts[protocol] = len(poles)
        assert len(poles) == int(demo.table["postes_novos"].iloc[i]), protocol
        assert [p["properties"]["Poste nº"] for p in poles] == [
            str(k) for k in range(1, len(poles) + 1)
        ]
        # the last pole stands at the request's end of the path
        end = _features(maps[i], "extensoes")[0]["geometry"]["coordinates"][-1]
        assert poles[-1]["geometry"]["coordinates"] == pytest.approx(end, abs=2e-7)
    assert counts == {"PED-2026-0103": 28, "PED-2026-0106": 15, "PED-2026-0130": 1}
    assert _layer(maps[_row(demo, "PED-2026-0103")], "postes_propostos")["dica"] == (
        "Poste novo nº {Poste nº}"
    )


def test_rings_have_the_rules_radii_around_the_request(
    demo: Assessment, maps: list[dict[str, Any]]
) -> None:
    av = demo.rules.avaliacao
    radii = {av.raio_seguranca_m.valor, av.raio_ocorrencias_m.valor, av.raio_equipamentos_m.valor}
    for protocol in PICKED:
        m = maps[_row(demo, protocol)]
        rings = _layer(m, "aneis")
        assert rings["estilo"]["marcador"] == "anel"
        found = [f["properties"]["_raio_m"] for f in rings["geojson"]["features"]]
        assert found == sorted(radii) == [150.0, 300.0]  # safety and occurrences share 150 m
        for f in rings["geojson"]["features"]:  # centred on the map's centre
            lon, lat = f["geometry"]["coordinates"]
            assert [lat, lon] == m["centro"]
        colours = [c["anel"]["color"] for c in rings["estilo"]["classes"].values()]
        assert colours == ["#c0392b", "#2874a6"]  # maps/pedido.toml
        assert rings["legenda"][1] == [
            "Equipamentos públicos e comunitários próximos (Art. 9 §3, III): 300 m",
            "#2874a6",
        ]


def test_popups_legends_and_titles_are_portuguese_labels(
    demo: Assessment, maps: list[dict[str, Any]]
) -> None:
    texts: list[str] = []
    for m in maps:
        for layer in m.get("camadas", []):
            texts += [layer["rotulo"], *(row[0] for row in layer["legenda"])]
            for f in layer["geojson"]["features"]:
                for key, value in f["properties"].items():
                    texts.append(key)
                    if not key.startswith("_"):
                        assert isinstance(value, str), (layer["id"], key, value)
                        texts.append(value)
    leaked = sorted({t for t in texts if t in RAW_CODES})
    assert leaked == []
    whole = "".join(_text(m) for m in maps)
    for code in ("extensao_rede", "secundaria", "aguardando_orcamento", "coordenada_informada"):
        assert f'"{code}"' not in whole
    # hand-checked values of PED-2026-0103
    m = maps[_row(demo, "PED-2026-0103")]
    (request,) = _features(m, "pedidos")
    p = request["properties"]
    fields = _layer(m, "pedidos")["campos"]  # the popup's order, as on the Folium map
    assert fields[:4] == ["Protocolo", "Posição", "Situação", "Pontuação total"]
    assert fields[4:9] == [
        "I Beneficiários (40)", "II Segurança (15)", "III Tráfego (15)",
        "IV Custo-benefício (15)", "V Viabilidade técnica (15)",
    ]  # fmt: skip
    assert set(p) - {"_c", "_dica"} == set(fields)
    pending = _layer(maps[_row(demo, PENDING)], "pedidos")["campos"]
    assert pending[:5] == [  # not ranked: no position
        "Protocolo", "Situação", "Pontuação total", "Local a confirmar", "Confirmar no local",
    ]  # fmt: skip
    assert _layer(m, "vias")["campos"] == ["Nome", "Hierarquia", "Pavimento", "Iluminada (OSM)"]
    assert p["Situação"] == "Classificado, aguardando orçamento"
    assert p["Tipo de pedido"] == "Extensão de rede elétrica"
    assert p["Custo estimado (R$)"] == "R$ 182.646,92"
    assert p["I Beneficiários (40)"] == "sugerido 29 · final 29"
    assert p["Data do protocolo"] == "15/05/2026"
    assert p["Localização"] == "coordenadas informadas no pedido"
    (path,) = _features(m, "extensoes")
    assert path["properties"]["Método"] == "Pelas vias"
    assert path["properties"]["Extensão (m)"] == "966,1"
    road = _features(m, "via_pedido")[0]["properties"]
    assert road == {
        "Logradouro": "Rua Bela Vista",
        "Hierarquia": "Local",
        "Tipo OSM (highway)": "residential",
    }
    classes = {row[0] for mm in maps for la in mm.get("camadas", []) for row in la["legenda"]}
    assert {"Principal", "Secundária", "Local", "Rede de média tensão", "Pelas vias"} <= classes


def test_evidence_counted_is_highlighted_with_its_criterion(
    demo: Assessment, maps: list[dict[str, Any]]
) -> None:
    i = _row(demo, "PED-2026-0103")
    items = demo.items[i]
    layer = _layer(maps[i], "evidencias")
    halos = [f for f in layer["geojson"]["features"] if f["geometry"]["type"] == "Point"]
    lines = [f for f in layer["geojson"]["features"] if f["geometry"]["type"] == "LineString"]
    assert len(halos) == len(lines) == sum(len(v) for v in items.values()) == 9
    ids = [h["properties"]["Identificador"] for h in halos]
    assert ids.count("way/10003") == 2  # a school counted for I and II: two rings
    assert sorted(h["properties"].get("_raio_px", 11) for h in halos if "10003" in str(h))[-1] == 16
    assert "ocorrência (linha 5)" in ids
    occurrence = next(
        h for h in halos if h["properties"]["Identificador"] == "ocorrência (linha 5)"
    )
    assert occurrence["properties"]["Nome"] == "Acidente de trânsito em 10/12/2025"
    assert occurrence["properties"]["Conta em"].startswith("II Segurança: ocorrência no raio")
    assert layer["campos"] == [
        "Conta em", "Categoria", "Nome", "Distância ao pedido (m)", "Identificador",
    ]  # fmt: skip
    assert layer["legenda"][0] == [
        "I Beneficiários: equipamento público ou comunitário próximo (Art. 9 §3, III) (2)",
        "#2874a6",
    ]
    for line in lines:  # from the request to the item
        lon, lat = line["geometry"]["coordinates"][0]
        assert [lat, lon] == maps[i]["centro"]


def test_pending_location_is_drawn_as_its_candidate_stretch(
    demo: Assessment, maps: list[dict[str, Any]]
) -> None:
    i = _row(demo, PENDING)
    row = demo.table.iloc[i]
    m = maps[i]
    (request,) = _features(m, "pedidos")
    assert request["geometry"]["type"] == "LineString"
    got = np.asarray(request["geometry"]["coordinates"])
    assert np.abs(got - _wgs84(row["trecho_candidato"], demo.crs)).max() <= 1e-7
    assert request["properties"]["Situação"] == "Pendente de confirmação do local"
    assert request["properties"]["Local a confirmar"].startswith("Local a confirmar (± ")
    assert request["properties"]["_dica"].startswith(f"{PENDING} — Local a confirmar")
    legend = _layer(m, "pedidos")["legenda"]
    assert legend == [[parts.STRETCH_LABEL, "#e67e22"]]
    # the rings and the evidence are those of the worse position along it
    worse = _wgs84(shapely.Point(row["x_via"], row["y_via"]), demo.crs)[0]
    assert m["centro"] == pytest.approx([worse[1], worse[0]], abs=1e-7)
    point = [f for f in _features(m, "via_pedido") if f["geometry"]["type"] == "Point"]
    assert [p["geometry"]["coordinates"] for p in point] == [[m["centro"][1], m["centro"][0]]]
    # the map takes in the whole stretch
    (south, west), (north, east) = m["limites"]
    assert south <= got[:, 1].min() and got[:, 1].max() <= north
    assert west <= got[:, 0].min() and got[:, 0].max() <= east


def test_other_requests_exclude_the_request_and_are_the_nearest(
    demo: Assessment, maps: list[dict[str, Any]]
) -> None:
    i = _row(demo, "PED-2026-0103")
    others = [f["properties"]["Protocolo"] for f in _features(maps[i], "pedidos_outros")]
    assert "PED-2026-0103" not in others and 0 < len(others) <= OTHER_REQUESTS_MAX
    # within the largest ring of the request: the ones the demo has there
    x, y = demo.table["x"].iloc[i], demo.table["y"].iloc[i]
    table = demo.table
    gap = np.hypot(pd.to_numeric(table["x"]) - x, pd.to_numeric(table["y"]) - y)
    near = table.loc[(gap <= 300) & (table["protocolo"] != "PED-2026-0103"), "protocolo"]
    near = [p for p in near if p != PENDING]  # drawn as its stretch: measured to the line
    assert set(near) <= set(others)


def test_coordinates_are_rounded_and_the_demo_maps_are_small(
    demo: Assessment, maps: list[dict[str, Any]]
) -> None:
    i = _row(demo, "PED-2026-0103")
    road = _features(maps[i], "vias")[0]["geometry"]["coordinates"]
    flat = np.asarray(road if isinstance(road[0][0], float) else road[0]).ravel()
    assert np.all(np.round(flat, CONTEXT_DECIMALS) == flat)
    path = np.asarray(_features(maps[i], "extensoes")[0]["geometry"]["coordinates"]).ravel()
    assert np.all(np.round(path, OWN_DECIMALS) == path)
    sizes = [len(_text(m).encode()) for m in maps if m]
    assert max(sizes) < 30_000, max(sizes)
    assert sum(sizes) / len(sizes) < 25_000


def test_composition_must_be_a_request_map(demo: Assessment) -> None:
    from geo_ip.errors import GeoIPError

    with pytest.raises(GeoIPError, match="não é a de um mapa de pedido"):
        snapshot_maps(demo, load_map("panorama"))


# --- personal data --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def planted(demo_territory: Path, tmp_path_factory: pytest.TempPathFactory) -> Assessment:
    """The demo with a made-up applicant's name and CPFs in every personal and free field."""
    requests = pd.read_csv(DEMO / "pedidos.csv", dtype=str, keep_default_na=False)
    rows = requests["protocolo"].isin(["PED-2026-0103", PENDING])
    requests.loc[rows, "nome_solicitante"] = PLANTED_NAME
    requests.loc[rows, "cpf_solicitante"] = PLANTED_CPFS[0]
    requests.loc[rows, "observacoes"] = f"falar com {PLANTED_NAME}, CPF {PLANTED_CPFS[1]}"
    requests.loc[rows, "justificativa_estrategica"] = f"{PLANTED_NAME} ({PLANTED_CPFS[0]})"
    first = requests["protocolo"].eq("PED-2026-0103")
    requests.loc[first, "bairro"] = "Jardim Zuleica Quixabeira"
    requests.loc[requests["protocolo"].eq(PENDING), "cep"] = PLANTED_CPFS[1]
    path = tmp_path_factory.mktemp("plantado") / "pedidos.csv"
    requests.to_csv(path, index=False)
    return assess(
        demo_territory,
        path,
        load_rules("demo"),
        occurrences=DEMO / "ocorrencias.csv",
        decisions=DEMO / "decisoes.csv",
        budget=DEMO_BUDGET,
        key=DEMO_KEY,
        today=DEMO_TODAY,
    )


def test_no_personal_data_in_any_map(planted: Assessment) -> None:
    table = planted.table
    assert (table["nome_solicitante"] == PLANTED_NAME).sum() == 2
    maps = snapshot_maps(planted)
    assert maps[_row(planted, "PED-2026-0103")]  # the planted requests have maps
    assert maps[_row(planted, PENDING)]
    text = "\n".join(_text(m) for m in maps)
    for word in ("Zuleica", "Quixabeira", "Plantada", *PLANTED_CPFS, "52998224725"):
        assert word not in text, word
    names = [*table["nome_solicitante"].dropna().astype(str)]
    cpfs = [*table["cpf_solicitante"].dropna().astype(str), *PLANTED_CPFS]
    assert scan_for_personal_data(text, cpfs, names) == []
    assert scan_for_personal_data(text) == []  # no CPF-like number at all
    for income in ("1.850,00", "980,50"):
        assert income not in text


# --- the page script in a browser -----------------------------------------------------------

ORIGIN = "http://geoip.teste"
SCRIPT = ROOT / "geo_ip" / "webapp" / "static" / "pedido_mapa.js"
LEAFLET = ROOT / "geo_ip" / "_assets" / "web" / "leaflet"
HOSTILE = '<img src=x onerror="window.invadido=1">'


def _page_html(data: dict[str, Any]) -> str:
    import jinja2

    template = jinja2.Environment(autoescape=True).from_string(
        '<!doctype html><html lang="pt-BR"><head><meta charset="utf-8">'
        '<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css">'
        '<link rel="stylesheet" href="/static/teste.css"></head><body>'
        '<div id="mapa"></div>'
        '<script type="application/json" id="mapa-dados">{{ mapa | tojson }}</script>'
        '<script src="/static/vendor/leaflet/leaflet.js"></script>'
        '<script src="/static/pedido_mapa.js"></script></body></html>'
    )
    return template.render(mapa=data)


def _open(data: dict[str, Any]) -> tuple[Any, Any, list[str], list[str]]:
    """Serve a page with the app's CSP from memory; return (playwright, page, errors, tiles)."""
    from geo_ip.webapp.security import CSP

    sync_api = playwright_or_skip()

    files = {
        "/pedido": (_page_html(data).encode(), "text/html; charset=utf-8"),
        "/static/pedido_mapa.js": (SCRIPT.read_bytes(), "text/javascript"),
        "/static/vendor/leaflet/leaflet.js": (
            (LEAFLET / "leaflet.js").read_bytes(),
            "text/javascript",
        ),
        "/static/vendor/leaflet/leaflet.css": ((LEAFLET / "leaflet.css").read_bytes(), "text/css"),
        "/static/teste.css": (b"#mapa { height: 600px; width: 900px; }", "text/css"),
    }
    errors: list[str] = []
    tiles: list[str] = []

    def serve(route: Any) -> None:
        url = route.request.url
        if url.startswith("https://tile.openstreetmap.org/"):
            tiles.append(url)
            route.fulfill(status=200, content_type="image/png", body=BLANK_PNG)
            return
        path = url.removeprefix(ORIGIN).split("?")[0]
        if path.startswith("/static/vendor/leaflet/images/"):
            body = (LEAFLET / "images" / path.rsplit("/", 1)[-1]).read_bytes()
            route.fulfill(status=200, content_type="image/png", body=body)
            return
        if path not in files:
            errors.append(f"fora: {url}")
            route.abort()
            return
        body, kind = files[path]
        route.fulfill(
            status=200, body=body, headers={"Content-Type": kind, "Content-Security-Policy": CSP}
        )

    play = sync_api.sync_playwright().start()
    browser = play.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
    page = browser.new_context(viewport={"width": 1000, "height": 700}).new_page()
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.route("**/*", serve)
    page.goto(f"{ORIGIN}/pedido", wait_until="load")
    page.wait_for_timeout(300)
    return play, page, errors, tiles


def test_page_script_draws_the_map_offline_with_text_only(
    demo: Assessment, maps: list[dict[str, Any]]
) -> None:
    data = json.loads(json.dumps(maps[_row(demo, "PED-2026-0103")]))
    # hostile text from the data never becomes markup
    request = _layer(data, "pedidos")
    request["geojson"]["features"][0]["properties"]["Logradouro"] = HOSTILE
    _layer(data, "vias")["rotulo"] = f"Vias {HOSTILE}"
    play, page, errors, tiles = _open(data)
    try:
        overlays = [
            t.strip()
            for t in page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
        ]
        assert overlays == [layer["rotulo"] for layer in data["camadas"]]
        bases = page.locator(".leaflet-control-layers-base label").all_inner_texts()
        assert [b.strip() for b in bases] == ["Sem mapa de fundo", "OpenStreetMap"]
        assert tiles == []  # no base map by default: works offline
        # the shapes drawn come from OpenStreetMap: credited even without its tiles
        credit = page.locator(".leaflet-control-attribution").inner_text()
        assert "© OpenStreetMap contributors" in credit
        assert page.locator(".leaflet-control-layers img").count() == 0
        # the map is fitted to the request: its point in view
        inside = page.evaluate(
            "c => window.pedidoMapa.mapa.getBounds().contains(L.latLng(c[0], c[1]))",
            data["centro"],
        )
        assert inside is True
        # every visible layer drawn: 28 poles among the vector shapes
        poles = page.evaluate(
            "() => window.pedidoMapa.camadas['postes_propostos'].getLayers().length"
        )
        assert poles == 28
        legend = page.locator(".gi-legenda").text_content() or ""
        assert "Postes novos propostos" in legend and "Poste novo" in legend
        assert "Outros pedidos próximos" not in legend  # hidden when the map opens
        # the legend follows the layers shown
        page.locator(".leaflet-control-layers").hover()
        page.get_by_label("Postes novos propostos").uncheck()
        page.get_by_label("Outros pedidos próximos").check()
        legend = page.locator(".gi-legenda").text_content() or ""
        assert "Postes novos propostos" not in legend and "Outros pedidos próximos" in legend
        page.evaluate("() => window.pedidoMapa.camadas['pedidos'].eachLayer(l => l.openPopup())")
        popup = page.locator(".leaflet-popup-content")
        heads = [t.strip() for t in popup.locator("th").all_inner_texts()]
        assert heads[:4] == ["Protocolo", "Posição", "Situação", "Pontuação total"]
        assert heads == [f for f in request["campos"] if f in heads]  # in the layer's order
        assert "PED-2026-0103" in popup.inner_text()
        assert HOSTILE in popup.inner_text()
        assert popup.locator("img").count() == 0
        assert page.evaluate("() => window.invadido === undefined") is True
        # OpenStreetMap only when chosen
        page.locator(".leaflet-control-layers").hover()
        page.get_by_label("OpenStreetMap").check()
        page.wait_for_timeout(300)
        assert tiles and all(t.startswith("https://tile.openstreetmap.org/") for t in tiles)
        assert errors == []
    finally:
        play.stop()


def test_page_script_says_when_there_is_no_map() -> None:
    play, page, errors, _tiles = _open({})
    try:
        assert page.locator("#mapa").inner_text() == "Pedido sem localização: não há mapa."
        assert errors == []
    finally:
        play.stop()
