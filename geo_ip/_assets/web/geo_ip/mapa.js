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

  /* Valor de um campo como texto: R$ para *_rs, % para a participação, vírgula decimal. */
  function formata(campo, v) {
    if (vazio(v)) { return ""; }
    if (typeof v === "number") {
      if (/_rs$/.test(campo)) { return "R$ " + numero(v, 2); }
      if (campo === "percentual_municipio") { return numero(v, 0) + " %"; }
      if (Math.round(v) === v) { return numero(v, 0); }
      return v.toLocaleString("pt-BR", { maximumFractionDigits: 1 });
    }
    return String(v);
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

  function dica(p, molde) {
    var texto = molde.replace(/\{(\w+)\}/g, function (_, k) { return formata(k, p[k]); });
    return texto.replace(/^[\s—:·-]+|[\s—:·-]+$/g, "") ? esc(texto) : "";
  }

  function linhas(campos, p) {
    var h = "";
    campos.forEach(function (par) {
      var v = formata(par[0], p[par[0]]);
      if (v !== "") { h += "<tr><th>" + esc(par[1]) + "</th><td>" + esc(v) + "</td></tr>"; }
    });
    return h;
  }

  function popupTabela(spec, p) {
    return '<div class="gi-popup"><div class="gi-popup-titulo">' + esc(spec.titulo) +
      "</div><table>" + linhas(spec.campos, p) + "</table></div>";
  }

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
    h += "</table><table>" + linhas(spec.campos, p) + "</table>";
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
          var t = dica(p, molde);
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
