/* geo_ip — the inspection form (/pedidos/{id}/vistoria), for a phone on site.
 *
 * "Usar a posição deste aparelho" asks navigator.geolocation for the device's position
 * (high accuracy) and fills the latitude, longitude and (hidden) accuracy fields; typing a
 * coordinate by hand clears the accuracy, which then no longer describes it. The photos
 * chosen are previewed (object URLs, CSP img-src blob:). Without JavaScript the form still
 * works: the coordinates are typed, the photos sent as chosen.
 */
(function () {
  "use strict";

  var form = document.getElementById("form-vistoria");
  if (!form) {
    return;
  }
  var button = document.getElementById("usar-posicao");
  var status = document.getElementById("estado-posicao");
  var lat = document.getElementById("v-latitude");
  var lon = document.getElementById("v-longitude");
  var accuracy = document.getElementById("v-precisao");
  var photos = document.getElementById("v-fotos");
  var preview = document.getElementById("previa-fotos");

  function say(text) {
    status.textContent = text;
  }

  function decimal(value, digits) {
    return value.toFixed(digits).replace(".", ",");
  }

  if (button && "geolocation" in navigator) {
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      say("Obtendo a posição do aparelho…");
      navigator.geolocation.getCurrentPosition(
        function (position) {
          var c = position.coords;
          lat.value = c.latitude.toFixed(7);
          lon.value = c.longitude.toFixed(7);
          accuracy.value = c.accuracy ? c.accuracy.toFixed(1) : "";
          say("Posição obtida: " + decimal(c.latitude, 6) + ", " + decimal(c.longitude, 6) +
            (c.accuracy ? " (precisão de " + Math.round(c.accuracy) + " m)." : "."));
          button.disabled = false;
        },
        function (error) {
          var reasons = {
            1: "o acesso à localização foi negado; permita-o nas configurações do navegador",
            2: "a posição não está disponível; vá para um lugar aberto e tente de novo",
            3: "o aparelho demorou demais para responder; tente de novo"
          };
          say("Não foi possível obter a posição: " + (reasons[error.code] || "erro desconhecido") +
            ". Você pode digitar a latitude e a longitude.");
          button.disabled = false;
        },
        { enableHighAccuracy: true, timeout: 30000, maximumAge: 0 }
      );
    });
  } else {
    say("Este navegador não informa a posição: digite a latitude e a longitude.");
  }

  [lat, lon].forEach(function (input) {
    input.addEventListener("input", function () {
      accuracy.value = "";
    });
  });

  if (photos && preview && window.URL && URL.createObjectURL) {
    photos.addEventListener("change", function () {
      preview.querySelectorAll("img").forEach(function (img) {
        URL.revokeObjectURL(img.src);
      });
      preview.textContent = "";
      Array.prototype.forEach.call(photos.files || [], function (file, i) {
        var item = document.createElement("li");
        var figure = document.createElement("figure");
        var img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = "Foto escolhida " + (i + 1);
        var caption = document.createElement("figcaption");
        caption.textContent = file.name + " (" + Math.round(file.size / 1024) + " kB)";
        figure.appendChild(img);
        figure.appendChild(caption);
        item.appendChild(figure);
        preview.appendChild(item);
      });
    });
  }
})();
