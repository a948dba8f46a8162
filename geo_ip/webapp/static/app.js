/* geo_ip — small helpers shared by every page (no inline scripts: CSP script-src 'self').
 *
 *   geoip.csrf()                the session's CSRF token (from <meta name="csrf-token">)
 *   geoip.fetch(url, options)   window.fetch with the X-CSRF-Token header and the cookie
 *   data-confirmar="Texto?"     on a form or its submit button: asks before submitting
 */
(function () {
  "use strict";

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function csrfFetch(url, options) {
    var settings = Object.assign({}, options || {});
    var headers = new Headers(settings.headers || {});
    headers.set("X-CSRF-Token", csrf());
    settings.headers = headers;
    settings.credentials = "same-origin";
    return window.fetch(url, settings);
  }

  window.geoip = Object.assign(window.geoip || {}, { csrf: csrf, fetch: csrfFetch });

  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = (button && button.getAttribute("data-confirmar")) ||
      event.target.getAttribute("data-confirmar");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
