/* Mapa dos pedidos: pontos por situação, extensões propostas e obras; filtros. */
(function () {
  "use strict";
  var dados = window.PORTAL_DADOS;
  if (!dados || typeof L === "undefined") { return; }
  var mapa = L.map("mapa");
  var osm = "\u00a9 OpenStreetMap contributors";
  if (dados.fundo) {
    L.tileLayer(dados.fundo.url, {
      minZoom: 0, maxZoom: 20, minNativeZoom: dados.fundo.minNativeZoom,
      maxNativeZoom: dados.fundo.maxNativeZoom, bounds: dados.fundo.bounds,
      attribution: osm
    }).addTo(mapa);
  } else {
    L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
      maxZoom: 19, attribution: osm
    }).addTo(mapa);
  }
  var extensoes = L.geoJSON(dados.extensoes, { style: { color: "#8250df", weight: 3, dashArray: "6 4" } }).addTo(mapa);
  var obras = L.geoJSON(dados.obras, {
    pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 5, color: "#0a3069", fillOpacity: 1 }); }
  }).addTo(mapa);
  var camada = L.layerGroup().addTo(mapa);
  function popup(p) {
    var div = document.createElement("div");
    var a = document.createElement("a");
    a.href = p.u; a.textContent = "Pedido " + p.p;
    div.appendChild(a);
    var linhas = [p.sl, [p.r, p.b].filter(Boolean).join(", "), p.t === null ? "" : p.t.toLocaleString("pt-BR") + " pontos"];
    linhas.forEach(function (t) { if (t) { div.appendChild(document.createElement("br")); div.appendChild(document.createTextNode(t)); } });
    return div;
  }
  var situacao = document.getElementById("filtro-situacao");
  var bairro = document.getElementById("filtro-bairro");
  var contagem = document.getElementById("contagem");
  function desenhar() {
    camada.clearLayers();
    var n = 0;
    dados.pontos.forEach(function (p) {
      if (situacao.value && p.s !== situacao.value) { return; }
      if (bairro.value && p.b !== bairro.value) { return; }
      n += 1;
      L.circleMarker([p.y, p.x], {
        radius: 7, color: "#1f2328", weight: 1, fillColor: dados.cores[p.s] || "#6e7781", fillOpacity: 0.9
      }).bindPopup(popup(p)).addTo(camada);
    });
    contagem.textContent = n + " pedido(s) no mapa";
  }
  situacao.addEventListener("change", desenhar);
  bairro.addEventListener("change", desenhar);
  desenhar();
  var legenda = document.getElementById("legenda");
  Object.keys(dados.situacoes).forEach(function (s) {
    var item = document.createElement("span");
    var bola = document.createElement("i");
    bola.style.background = dados.cores[s] || "#6e7781";
    item.appendChild(bola);
    item.appendChild(document.createTextNode(dados.situacoes[s]));
    legenda.appendChild(item);
  });
  var limites = L.latLngBounds(dados.pontos.map(function (p) { return [p.y, p.x]; }));
  if (extensoes.getLayers().length) { limites.extend(extensoes.getBounds()); }
  if (obras.getLayers().length) { limites.extend(obras.getBounds()); }
  if (dados.fundo) { mapa.fitBounds(dados.fundo.bounds); }
  else if (limites.isValid()) { mapa.fitBounds(limites, { padding: [20, 20] }); }
  else { mapa.setView([-15.8, -47.9], 4); }
}());
