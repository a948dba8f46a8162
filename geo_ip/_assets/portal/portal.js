/* Ordenação e busca das tabelas do portal (sem bibliotecas). */
(function () {
  "use strict";
  function valor(celula, tipo) {
    var bruto = celula.getAttribute("data-valor");
    var texto = bruto !== null ? bruto : celula.textContent.trim();
    if (tipo === "numero") {
      var n = parseFloat(texto);
      return isNaN(n) ? Infinity : n;
    }
    return texto.toLocaleLowerCase("pt-BR");
  }
  document.querySelectorAll("table.ordenavel").forEach(function (tabela) {
    var cabecalhos = tabela.querySelectorAll("thead th");
    cabecalhos.forEach(function (th, coluna) {
      var botao = th.querySelector("button");
      if (!botao) { return; }
      botao.addEventListener("click", function () {
        var tipo = th.getAttribute("data-tipo");
        var crescente = th.getAttribute("aria-sort") !== "ascending";
        cabecalhos.forEach(function (outro) { outro.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", crescente ? "ascending" : "descending");
        var corpo = tabela.tBodies[0];
        var linhas = Array.prototype.slice.call(corpo.rows);
        linhas.sort(function (a, b) {
          var x = valor(a.cells[coluna], tipo), y = valor(b.cells[coluna], tipo);
          if (x < y) { return crescente ? -1 : 1; }
          if (x > y) { return crescente ? 1 : -1; }
          return 0;
        });
        linhas.forEach(function (linha) { corpo.appendChild(linha); });
      });
    });
  });
  document.querySelectorAll("input[data-tabela]").forEach(function (campo) {
    campo.addEventListener("input", function () {
      var termo = campo.value.trim().toLocaleLowerCase("pt-BR");
      document.querySelectorAll("table.ordenavel tbody tr").forEach(function (linha) {
        var texto = Array.prototype.map.call(
          linha.querySelectorAll("td:not(.desempate)"), function (c) { return c.textContent; }
        ).join(" ").toLocaleLowerCase("pt-BR");
        linha.hidden = termo !== "" && texto.indexOf(termo) < 0;
      });
    });
  });
}());
