/*
 * geo_ip — camadas, balões, legenda, painel e rodapé dos mapas web.
 * Parte do geo_ip (licença MIT). Usa só o Leaflet 1.9 e, para agrupar pontos, o
 * Leaflet.markercluster; nada de jQuery nem de Bootstrap, nada da internet.
 *
 * Cada camada chega do Python como um GeoJSON compacto e uma "spec" gerada do
 * catálogo de camadas (layers/*.toml, geo_ip.styles.LayerStyle):
 *   {titulo, tipo: "simples"|"categorizado"|"graduado", campo, classes: [...],
 *    campos: [[campo, rótulo], ...], dica, marcador, popup, agrupar, ...}
 * geoIp.classe segue LayerStyle.symbol_for: a primeira classe quando nada casa.
 */
(function (global) {
  "use strict";
  var L = global.L;
  var geoIp = {};
  var ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

  function esc(v) {
    return String(v).replace(/[&<>"']/g, function (c) { return ESC[c]; });
  }

  function vazio(v) {
    return v === null || v === undefined || v === "" || (typeof v === "number" && isNaN(v));
  }

  function numero(v, casas) {
    return v.toLocaleString("pt-BR", { minimumFractionDigits: casas, maximumFractionDigits: casas });
  }

  /* Datas ISO dentro de um texto como dd/mm/aaaa (como geo_ip.outputs.format.display). */
  function datas(texto) {
    return texto
      .replace(/\b(\d{4}-\d{2}-\d{2})T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?/g, "$1")
      .replace(/\b(\d{4})-(\d{2})-(\d{2})\b/g, "$3/$2/$1");
  }
  geoIp.datas = datas;

  /* Referência de um elemento em palavras ("bdgd:20188" → "Elemento 20188 da BDGD da
     distribuidora"; "node/5" → "Nó 5 do OpenStreetMap"), com as palavras da spec
     (geo_ip.outputs.format.element_reference). */
  function referencia(texto, refs) {
    var m = /^([a-z_]+):(.+)$/.exec(texto);
    if (m && refs.fontes[m[1]]) { return "Elemento " + m[2] + " " + refs.fontes[m[1]]; }
    m = /^(node|way|relation)\/(\d+)$/.exec(texto);
    if (m && refs.osm[m[1]]) { return refs.osm[m[1]] + " " + m[2] + " do OpenStreetMap"; }
    return texto;
  }

  /* Valor de um campo como texto: R$ para *_rs, % para a participação, vírgula decimal;
     um código pelo seu rótulo (spec.valores, de geo_ip.outputs.format.value_labels), uma
     referência em palavras (spec.referencias) e as datas em dd/mm/aaaa. */
  function formata(campo, v, spec) {
    if (vazio(v)) { return ""; }
    if (typeof v === "number") {
      if (/_rs$/.test(campo)) { return "R$ " + numero(v, 2); }
      if (campo === "percentual_municipio") { return numero(v, 0) + " %"; }
      if (Math.round(v) === v) { return numero(v, 0); }
      return v.toLocaleString("pt-BR", { maximumFractionDigits: 1 });
    }
    var texto = String(v);
    var rotulos = spec && spec.valores && spec.valores[campo];
    if (rotulos && Object.prototype.hasOwnProperty.call(rotulos, texto)) { return rotulos[texto]; }
    var refs = spec && spec.referencias;
    if (refs && refs.campos.indexOf(campo) >= 0) { return referencia(texto, refs); }
    return datas(texto);
  }
  geoIp.formata = formata;

  /* A classe de símbolo de uma feição (como geo_ip.styles.LayerStyle.symbol_for). */
  function classe(spec, p) {
    var cs = spec.classes, v = p ? p[spec.campo] : undefined, i;
    if (spec.tipo === "categorizado") {
      for (i = 0; i < cs.length; i++) {
        if (cs[i].valor === String(v)) { return cs[i]; }
      }
    } else if (spec.tipo === "graduado" && !vazio(v) && !isNaN(Number(v))) {
      var x = Number(v);
      for (i = 0; i < cs.length; i++) {
        var ultima = i === cs.length - 1;
        if ((cs[i].minimo <= x && x < cs[i].maximo) || (ultima && x === cs[i].maximo)) {
          return cs[i];
        }
      }
    }
    return cs[0];
  }
  geoIp.classe = classe;

  function dica(p, molde, spec) {
    var texto = molde.replace(/\{(\w+)\}/g, function (_, k) { return formata(k, p[k], spec); });
    return texto.replace(/^[\s—:·-]+|[\s—:·-]+$/g, "") ? esc(texto) : "";
  }

  /* Textos corridos da avaliação (motivos, problemas): escritos pelo geo_ip, não códigos. */
  var LIVRES = ["motivos", "problemas", "motivo_situacao", "confirmar_no_local"];

  function linhas(campos, p, spec) {
    var h = "";
    campos.forEach(function (par) {
      var v = formata(par[0], p[par[0]], spec);
      if (v !== "") {
        h += (LIVRES.indexOf(par[0]) >= 0 ? '<tr class="gi-livre">' : "<tr>") + "<th>" +
          esc(par[1]) + "</th><td>" + esc(v) + "</td></tr>";
      }
    });
    return h;
  }

  function popupTabela(spec, p) {
    return '<div class="gi-popup"><div class="gi-popup-titulo">' + esc(spec.titulo) +
      "</div><table>" + linhas(spec.campos, p, spec) + "</table></div>";
  }

  /* Os alertas de um pedido ("declaração implausível; local aproximado"), em destaque. */
  function alertas(texto) {
    if (vazio(texto)) { return ""; }
    var itens = String(texto).split(";").map(function (t) { return t.trim(); })
      .filter(function (t) { return t !== ""; });
    if (!itens.length) { return ""; }
    return '<div class="gi-alertas">' + itens.map(function (t) {
      return '<span class="gi-alerta"><i class="fa-solid fa-triangle-exclamation"></i> ' +
        esc(t) + "</span>";
    }).join("") + "</div>";
  }
  geoIp.alertas = alertas;

  /* Balão de um pedido: situação, posição, pontuação, os cinco critérios (sugerido e
     final), custo e participação, e o link para o mapa do pedido. */
  function popupPedido(spec, p) {
    var c = classe(spec.situacao, p);
    var h = '<div class="gi-popup gi-popup-pedido"><div class="gi-popup-titulo">' +
      esc(p.protocolo || "") + "</div>";
    h += '<div class="gi-situacao"><span class="gi-chip" style="background:' + esc(c.cor) +
      '"></span>' + esc(c.rotulo) + "</div>";
    var resumo = [];
    if (!vazio(p.posicao)) { resumo.push(esc(formata("posicao", p.posicao)) + "º na classificação"); }
    if (!vazio(p.pontuacao_total)) {
      resumo.push("<b>" + esc(formata("pontuacao_total", p.pontuacao_total)) + "</b> de 100 pontos");
    }
    if (!vazio(p.local_a_confirmar) && resumo.length) {
      resumo[resumo.length - 1] += " no pior caso";
    }
    h += '<div class="gi-resumo">' + resumo.join(" · ") + "</div>";
    h += alertas(p.alertas);
    /* Pedido com o local incerto: desenhado como o trecho candidato, com a incerteza,
       as faixas e o que confirmar no local (textos do Python, sempre escapados). */
    if (!vazio(p.local_a_confirmar)) {
      h += '<div class="gi-local-confirmar"><b>' + esc(p.local_a_confirmar) + "</b>";
      if (!vazio(p.confirmar_no_local)) { h += "<p>" + esc(p.confirmar_no_local) + "</p>"; }
      h += "</div>";
    }
    h += '<table class="gi-criterios"><tr><th>Critério</th><th>Sugerido</th><th>Final</th></tr>';
    spec.criterios.forEach(function (cr) {
      var s = p[cr[1]], f = p[cr[2]];
      var mudou = !vazio(s) && !vazio(f) && Number(s) !== Number(f);
      h += "<tr" + (mudou ? ' class="gi-alterado"' : "") + "><td>" + esc(cr[0]) + "</td><td>" +
        esc(formata(cr[1], s)) + "</td><td>" + esc(formata(cr[2], f)) + "</td></tr>";
    });
    h += "</table><table>" + linhas(spec.campos, p, spec) + "</table>";
    if (spec.link !== null && spec.link !== undefined && p.mapa) {
      h += '<a class="gi-link" href="' + esc(spec.link + p.mapa) + '">Abrir o mapa do pedido</a>';
    }
    return h + "</div>";
  }

  var POPUPS = { tabela: popupTabela, pedido: popupPedido };

  function estiloLinha(c, spec) {
    if (spec.marcador === "halo") {
      return { color: c.cor, weight: 2, opacity: 0.9, dashArray: "4 6" };
    }
    if (spec.marcador === "pedido") {  /* local a confirmar: o trecho candidato, tracejado */
      return { color: c.cor, weight: 5, opacity: 0.95, lineCap: "butt", lineJoin: "round",
        dashArray: "10 7" };
    }
    return {
      color: c.cor, weight: c.largura, opacity: c.opacidade || 0.9, lineCap: "round",
      lineJoin: "round", dashArray: c.tracejado ? "8 6" : null
    };
  }

  function estiloPonto(c, spec, p) {
    if (spec.marcador === "halo") {
      return { radius: 11 + 5 * ((p && p._k) || 0), color: c.cor, weight: 3, opacity: 0.95, fill: false };
    }
    /* contorno: o da camada em maps/cores.toml ([contornos], o mesmo da ficha); branco sem ele */
    return {
      radius: c.largura, color: spec.borda || "#ffffff", weight: 1, opacity: 1,
      fillColor: c.cor, fillOpacity: 0.95
    };
  }

  function marcadorIcone(ll, c) {
    var html = '<span style="background:' + esc(c.cor) + '"><i class="fa-solid fa-' +
      esc(c.icone) + '"></i></span>';
    return L.marker(ll, {
      icon: L.divIcon({ className: "gi-icone", html: html, iconSize: [20, 20], iconAnchor: [10, 10],
        popupAnchor: [0, -10], tooltipAnchor: [0, -10] }),
      keyboard: false
    });
  }

  function marcadorPedido(ll, c) {
    var d = 2 * c.largura + 8;
    return L.marker(ll, {
      icon: L.divIcon({ className: "gi-pedido", html: '<span style="background:' + esc(c.cor) +
        '"></span>', iconSize: [d, d], iconAnchor: [d / 2, d / 2], popupAnchor: [0, -d / 2],
        tooltipAnchor: [0, -d / 2] }),
      riseOnHover: true
    });
  }

  function grupoIcone(cluster) {
    var n = cluster.getChildCount();
    var d = n < 10 ? 30 : n < 100 ? 36 : 44;
    return L.divIcon({ html: "<span>" + n + "</span>", className: "gi-grupo", iconSize: [d, d] });
  }

  /* Dados compactos do Python ({campos, feicoes: [[geometria, [valores]]]}) em GeoJSON. */
  function expande(d) {
    if (d.type) { return d; }
    var fs = d.feicoes.map(function (f) {
      var p = {}, v = f[1] || [], g = f[0];
      for (var i = 0; i < v.length; i++) {
        if (v[i] !== null) { p[d.campos[i]] = v[i]; }
      }
      if (Array.isArray(g)) {  /* [lon, lat]: ponto; [[lon, lat], ...]: linha */
        g = { type: Array.isArray(g[0]) ? "LineString" : "Point", coordinates: g };
      }
      return { type: "Feature", geometry: g, properties: p };
    });
    return { type: "FeatureCollection", features: fs };
  }
  geoIp.expande = expande;

  /* Uma camada do catálogo: GeoJSON com os símbolos, balões e dicas da spec. */
  geoIp.camada = function (dados, spec) {
    var g = L.geoJSON(expande(dados), {
      style: function (f) {
        var c = classe(spec, f.properties);
        return f.geometry.type === "Point" ? estiloPonto(c, spec, f.properties) : estiloLinha(c, spec);
      },
      pointToLayer: function (f, ll) {
        var c = classe(spec, f.properties);
        if (spec.marcador === "icone" && c.icone) { return marcadorIcone(ll, c); }
        if (spec.marcador === "pedido") { return marcadorPedido(ll, c); }
        return L.circleMarker(ll, estiloPonto(c, spec, f.properties));
      },
      onEachFeature: function (f, layer) {
        var p = f.properties || {};
        if (spec.popup) {
          layer.bindPopup(function () { return POPUPS[spec.popup](spec, p); },
            { maxWidth: 380, minWidth: 240, maxHeight: 420, autoPanPadding: [20, 60] });
        }
        var ponto = f.geometry.type === "Point";
        var molde = !ponto && spec.dica_trecho ? spec.dica_trecho : spec.dica;
        if (molde) {
          var t = dica(p, molde, spec);
          if (t) { layer.bindTooltip(t, { sticky: !ponto, direction: "top" }); }
        }
      }
    });
    if (spec.agrupar) {
      var grupo = L.markerClusterGroup({
        maxClusterRadius: 35, disableClusteringAtZoom: 17, showCoverageOnHover: false,
        spiderfyOnMaxZoom: true, iconCreateFunction: grupoIcone
      });
      grupo.addLayer(g);
      return grupo;
    }
    return g;
  };

  /* Um controle do Leaflet com HTML pronto (legenda, rodapé). */
  geoIp.controle = function (mapa, posicao, classeCss, html) {
    var C = L.Control.extend({
      onAdd: function () {
        var d = L.DomUtil.create("div", "gi-controle " + classeCss);
        d.innerHTML = html;
        L.DomEvent.disableClickPropagation(d);
        L.DomEvent.disableScrollPropagation(d);
        return d;
      }
    });
    return new C({ position: posicao }).addTo(mapa);
  };

  /* A legenda segue o controle de camadas: a seção de uma camada desligada some. */
  geoIp.legenda = function (mapa) {
    var caixa = mapa.getContainer().querySelector(".gi-legenda");
    if (!caixa) { return null; }
    function mostra(nome, visivel) {
      caixa.querySelectorAll("details[data-camada]").forEach(function (d) {
        if (d.getAttribute("data-camada") === nome) { d.hidden = !visivel; }
      });
    }
    mapa.on("overlayadd", function (e) { mostra(e.name, true); });
    mapa.on("overlayremove", function (e) { mostra(e.name, false); });
    return caixa;
  };

  /* Enquadra os limites fora dos controles: nenhuma feição fica sob a legenda, o
     controle de camadas, o título ou o rodapé. */
  geoIp.enquadra = function (mapa, limites, zoomMax) {
    var caixa = mapa.getContainer().getBoundingClientRect();
    function lado(seletor, medida) {
      var n = 0;
      mapa.getContainer().querySelectorAll(seletor).forEach(function (el) {
        if (el.offsetParent !== null) { n = Math.max(n, medida(el.getBoundingClientRect())); }
      });
      return n;
    }
    var direita = lado(".leaflet-top.leaflet-right > *, .leaflet-bottom.leaflet-right > .gi-legenda",
      function (r) { return caixa.right - r.left; });
    var topo = lado(".gi-titulo", function (r) { return r.bottom - caixa.top; });
    var baixo = lado(".leaflet-bottom.leaflet-left > *", function (r) { return caixa.bottom - r.top; });
    var esquerda = lado(".leaflet-top.leaflet-left > *", function (r) { return r.right - caixa.left; });
    var folga = 12;
    var livreX = caixa.width - direita - esquerda - 2 * folga;
    var livreY = caixa.height - topo - baixo - 2 * folga;
    if (livreX < 120 || livreY < 120) {  /* tela pequena: só o título e o rodapé */
      direita = esquerda = 0;
    }
    mapa.fitBounds(limites, {
      paddingTopLeft: [esquerda + folga, topo + folga],
      paddingBottomRight: [direita + folga, baixo + folga],
      maxZoom: zoomMax, animate: false
    });
  };

  geoIp.titulo = function (mapa, html) {
    var d = L.DomUtil.create("div", "gi-titulo", mapa.getContainer());
    d.innerHTML = html;
    L.DomEvent.disableClickPropagation(d);
    L.DomEvent.disableScrollPropagation(d);
    return d;
  };

  /* Painel lateral do mapa do pedido, com botão para ocultar. */
  geoIp.painel = function (mapa, html) {
    var d = document.createElement("aside");
    d.className = "gi-painel";
    d.innerHTML = html;
    document.body.appendChild(d);
    document.body.classList.add("gi-com-painel");
    var b = document.createElement("button");
    b.type = "button";
    b.className = "gi-painel-botao";
    b.title = "Mostrar ou ocultar o painel do pedido";
    b.textContent = "Painel";
    b.onclick = function () {
      document.body.classList.toggle("gi-painel-oculto");
      mapa.invalidateSize();
    };
    document.body.appendChild(b);
    mapa.invalidateSize();
    return d;
  };

  geoIp.escala = function (mapa) {
    return L.control.scale({ imperial: false, maxWidth: 160 }).addTo(mapa);
  };

  geoIp.atribuicao = function (mapa, texto) {
    mapa.attributionControl.addAttribution(texto);
  };

  /* Sugestão da busca como texto, nunca como HTML: o leaflet-search monta cada sugestão
     com innerHTML, e um protocolo "PED-1<img src=x onerror=...>" rodaria (issue 17). */
  function sugestao(texto) {
    var li = L.DomUtil.create("li", "");
    li.textContent = texto;
    return li;
  }
  geoIp.sugestao = sugestao;

  /* Busca por protocolo: abre o balão do pedido encontrado, mesmo dentro de um grupo. */
  geoIp.busca = function (mapa, controle, camada) {
    controle.options.buildTip = sugestao;
    controle.options.textErr = "Protocolo não encontrado";
    controle.options.textCancel = "Limpar";
    if (controle._cancel) { controle._cancel.title = "Limpar"; }
    controle.on("search:locationfound", function (e) {
      var alvo = e.layer;
      if (!alvo) { return; }
      var agrupador = null;
      camada.eachLayer(function (l) {  /* só pontos ficam em grupos; um trecho, não */
        if (l.zoomToShowLayer && alvo.getLatLng && l.hasLayer(alvo)) { agrupador = l; }
      });
      if (agrupador) {
        agrupador.zoomToShowLayer(alvo, function () { alvo.openPopup(); });
      } else {
        mapa.once("moveend", function () { alvo.openPopup(); });
      }
    });
  };

  global.geoIp = geoIp;
}(window));
