/* geo_ip — the map of one request on the Commission's request page.
 *
 * Uses only the Leaflet 1.9 the app serves (/static/vendor/leaflet/leaflet.js): nothing
 * from the internet, no inline script (CSP script-src 'self').
 *
 * The data is the request's snapshot map (instantaneos.mapa, written by
 * geo_ip.registry.request_map.snapshot_maps) in <script type="application/json"
 * id="mapa-dados">; the map is drawn in #mapa:
 *   {centro: [lat, lon], limites: [[s, w], [n, e]], fundo: "#rrggbb",
 *    camadas: [{id, rotulo, visivel, dica?, campos: [label, ...], legenda: [[label, colour]],
 *               estilo: {marcador, classes: {"0": {linha?, ponto?, anel?}}},
 *               geojson: FeatureCollection}]}
 * Feature properties: "_c" (class), "_dica" (hover label), "_raio_m" (a ring's radius in
 * metres), "_raio_px" (a stacked halo's radius); every other one is a popup line
 * (Portuguese label: text), in the order of the layer's "campos".
 *
 * Text from the data only ever enters the page as text (textContent), never as HTML; the
 * layer names given to Leaflet's layer control (which uses innerHTML) are escaped.
 * Without base map by default (works offline); OpenStreetMap tiles only when chosen.
 * The map and its layers are left in window.pedidoMapa = {mapa, camadas: {id: layer}}.
 */
(function () {
  "use strict";

  var OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
  var OSM_ATTRIBUTION =
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors';
  var NO_BASE_MAP = "Sem mapa de fundo";
  var COLOUR = /^#[0-9a-fA-F]{6}$/;
  var GREY = "#7f8c8d";
  var ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  var TIP_EDGES = /^[\s—:·-]+|[\s—:·-]+$/g;

  function escapeHtml(value) {
    return String(value).replace(/[&<>"']/g, function (c) { return ENTITIES[c]; });
  }

  function colour(value, fallback) {
    return typeof value === "string" && COLOUR.test(value) ? value : fallback;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function notice(target, text) {
    target.textContent = "";
    target.appendChild(element("p", "gi-mapa-aviso", text));
  }

  /* Leaflet options of a feature: those of its class for its geometry. */
  function options(layer, feature) {
    var p = feature.properties || {};
    var classes = (layer.estilo && layer.estilo.classes) || {};
    var style = classes[String(p._c || 0)] || {};
    var point = feature.geometry && feature.geometry.type === "Point";
    var out;
    if (point && layer.estilo.marcador === "anel") {
      out = Object.assign({}, style.anel || {});
    } else if (point) {
      out = Object.assign({}, style.ponto || {});
      if (typeof p._raio_px === "number") { out.radius = p._raio_px; }
    } else {
      out = Object.assign({}, style.linha || {});
    }
    out.color = colour(out.color, GREY);
    if (out.fillColor !== undefined) { out.fillColor = colour(out.fillColor, GREY); }
    return out;
  }

  /* Hover label: the feature's "_dica", or the layer's template ("{Label}" → property). */
  function hoverLabel(layer, p) {
    if (typeof p._dica === "string") { return p._dica; }
    if (typeof layer.dica !== "string") { return ""; }
    var text = layer.dica.replace(/\{([^{}]+)\}/g, function (_, key) {
      var value = Object.prototype.hasOwnProperty.call(p, key) ? p[key] : null;
      return value === undefined || value === null ? "" : String(value);
    });
    return text.replace(TIP_EDGES, "") ? text : "";
  }

  /* Popup labels of a feature, in the layer's order ("campos": stored JSON may not keep
     the keys' order), then any the list lacks; "_" keys and empty values left out. */
  function popupLabels(layer, p) {
    var order = Array.isArray(layer.campos) ? layer.campos.slice() : [];
    Object.keys(p).forEach(function (key) {
      if (order.indexOf(key) < 0) { order.push(key); }
    });
    return order.filter(function (key) {
      if (key.charAt(0) === "_" || !Object.prototype.hasOwnProperty.call(p, key)) {
        return false;
      }
      var value = p[key];
      return value !== null && value !== undefined && value !== "";
    });
  }

  /* The popup: the layer's title and a label → value table, text only. */
  function popup(layer, p) {
    var box = element("div", "gi-popup");
    box.appendChild(element("div", "gi-popup-titulo", layer.rotulo));
    var table = element("table");
    popupLabels(layer, p).forEach(function (key) {
      var row = element("tr");
      row.appendChild(element("th", null, key));
      row.appendChild(element("td", null, p[key]));
      table.appendChild(row);
    });
    box.appendChild(table);
    return box;
  }

  function leafletLayer(L, layer) {
    return L.geoJSON(layer.geojson, {
      style: function (feature) { return options(layer, feature); },
      pointToLayer: function (feature, latlng) {
        var opts = options(layer, feature);
        var p = feature.properties || {};
        if (layer.estilo.marcador === "anel" && typeof p._raio_m === "number") {
          return L.circle(latlng, Object.assign(opts, { radius: p._raio_m }));
        }
        return L.circleMarker(latlng, opts);
      },
      onEachFeature: function (feature, shape) {
        var p = feature.properties || {};
        if (popupLabels(layer, p).length) {
          shape.bindPopup(function () { return popup(layer, p); },
            { maxWidth: 320, minWidth: 200, maxHeight: 360, autoPanPadding: [16, 48] });
        }
        var text = hoverLabel(layer, p);
        if (text) {
          var line = feature.geometry && feature.geometry.type !== "Point";
          shape.bindTooltip(element("span", null, text), { sticky: line, direction: "top" });
        }
      }
    });
  }

  /* The legend: one section per visible layer, each class's colour and label. Closed
     when the page opens (a phone's screen is small); <details> works with the keyboard. */
  function legend(L, map, layers, visible) {
    var control = L.control({ position: "bottomright" });
    var list;
    control.onAdd = function () {
      var box = element("details", "gi-controle gi-legenda");
      box.appendChild(element("summary", null, "Legenda"));
      list = element("div", "gi-legenda-camadas");
      box.appendChild(list);
      box.style.background = "#ffffff";
      box.style.padding = "4px 8px";
      box.style.maxHeight = "50vh";
      box.style.overflowY = "auto";
      box.style.maxWidth = "300px";
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    control.refresh = function () {
      if (!list) { return; }
      list.textContent = "";
      layers.forEach(function (layer) {
        if (!visible[layer.id] || !(layer.legenda || []).length) { return; }
        var section = element("section", "gi-legenda-secao");
        section.appendChild(element("h3", null, layer.rotulo));
        var rows = element("ul");
        rows.style.listStyle = "none";
        rows.style.margin = "0";
        rows.style.padding = "0";
        layer.legenda.forEach(function (entry) {
          var item = element("li");
          var swatch = element("span", "gi-amostra");
          swatch.style.display = "inline-block";
          swatch.style.width = "12px";
          swatch.style.height = "12px";
          swatch.style.marginRight = "6px";
          swatch.style.borderRadius = layer.estilo.marcador === "anel" ? "50%" : "2px";
          swatch.style.background = colour(entry[1], GREY);
          swatch.setAttribute("aria-hidden", "true");
          item.appendChild(swatch);
          item.appendChild(element("span", null, entry[0]));
          rows.appendChild(item);
        });
        section.appendChild(rows);
        list.appendChild(section);
      });
    };
    control.addTo(map);
    control.refresh();
    return control;
  }

  function validBounds(bounds) {
    return Array.isArray(bounds) && bounds.length === 2 && bounds.every(function (corner) {
      return Array.isArray(corner) && corner.length === 2 && corner.every(function (v) {
        return typeof v === "number" && isFinite(v);
      });
    });
  }

  function draw() {
    var L = window.L;
    var target = document.getElementById("mapa");
    var source = document.getElementById("mapa-dados");
    if (!target) { return; }
    if (!L) { notice(target, "O mapa não pôde ser carregado (Leaflet ausente)."); return; }
    var data = null;
    try {
      data = source ? JSON.parse(source.textContent || "null") : null;
    } catch (error) {
      data = null;
    }
    if (!data || !Array.isArray(data.centro) || !Array.isArray(data.camadas)) {
      notice(target, "Pedido sem localização: não há mapa.");
      return;
    }
    var map = L.map(target, { maxZoom: 20, zoomControl: true });
    // the roads, grid and facilities drawn come from OpenStreetMap, with or without tiles
    map.attributionControl.addAttribution(OSM_ATTRIBUTION);
    target.style.background = colour(data.fundo, "#f2f4f4");
    var bases = {};
    bases[escapeHtml(NO_BASE_MAP)] = L.layerGroup().addTo(map);
    bases.OpenStreetMap = L.tileLayer(OSM_URL, {
      maxZoom: 20, maxNativeZoom: 19, attribution: OSM_ATTRIBUTION
    });
    var overlays = {};
    var byId = {};
    var visible = {};
    data.camadas.forEach(function (layer) {
      if (!layer || !layer.geojson || !layer.estilo) { return; }
      var drawn = leafletLayer(L, layer);
      var name = escapeHtml(layer.rotulo || layer.id);
      while (Object.prototype.hasOwnProperty.call(overlays, name)) { name += " "; }
      overlays[name] = drawn;
      byId[layer.id] = drawn;
      drawn.giId = layer.id;
      if (layer.visivel) {
        drawn.addTo(map);
        visible[layer.id] = true;
      }
    });
    L.control.layers(bases, overlays, { collapsed: true, position: "topright" }).addTo(map);
    L.control.scale({ imperial: false, maxWidth: 160 }).addTo(map);
    var box = legend(L, map, data.camadas, visible);
    map.on("overlayadd overlayremove", function (event) {
      if (event.layer && event.layer.giId) {
        visible[event.layer.giId] = event.type === "overlayadd";
        box.refresh();
      }
    });
    if (validBounds(data.limites)) {
      map.fitBounds(data.limites, { padding: [12, 12] });
    } else {
      map.setView(data.centro, 17);
    }
    window.pedidoMapa = { mapa: map, camadas: byId };
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
