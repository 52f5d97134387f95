(function () {
  "use strict";
  // The page is complete without this script: it only adds filtering and sorting.
  var doc = document;
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  doc.documentElement.classList.add("js");

  function sortKey(row, index, numeric) {
    var cell = row.cells[index];
    if (!cell) { return numeric ? -Infinity : ""; }
    var key = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent.trim();
    if (!numeric) { return key.toLowerCase(); }
    var number = parseFloat(key.replace(/[,%\u2212]/g, function (c) { return c === "\u2212" ? "-" : ""; }));
    return isNaN(number) ? -Infinity : number;
  }

  function sortTable(table, header) {
    var cells = header.parentNode.cells;
    var index = Array.prototype.indexOf.call(cells, header);
    var numeric = header.getAttribute("data-type") === "num";
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    each(cells, function (cell) { cell.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    each(table.tBodies, function (body) {
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = sortKey(a, index, numeric), y = sortKey(b, index, numeric);
        var order = x < y ? -1 : (x > y ? 1 : 0);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  }

  each(doc.querySelectorAll("table.sortable"), function (table) {
    each(table.tHead.rows[0].cells, function (header) {
      var button = doc.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (header.firstChild) { button.appendChild(header.firstChild); }
      header.appendChild(button);
      button.addEventListener("click", function () { sortTable(table, header); });
    });
  });

  var filters = doc.getElementById("filters");
  if (filters) {
    var severity = doc.getElementById("filter-severity");
    var rule = doc.getElementById("filter-rule");
    var symbol = doc.getElementById("filter-symbol");
    var status = doc.getElementById("filter-status");
    var noMatch = doc.getElementById("no-match");
    var sections = doc.querySelectorAll("section.rule");
    var total = doc.querySelectorAll("tr.finding").length;

    var apply = function () {
      var wantSeverity = severity.value;
      var wantRule = rule.value;
      var wantSymbol = symbol.value.trim().toUpperCase();
      var shown = 0;
      each(sections, function (section) {
        var visible = 0;
        each(section.querySelectorAll("tr.finding"), function (row) {
          var match = (!wantSeverity || row.getAttribute("data-severity") === wantSeverity) &&
            (!wantRule || row.getAttribute("data-rule") === wantRule) &&
            (!wantSymbol || row.getAttribute("data-symbol").toUpperCase().indexOf(wantSymbol) !== -1);
          row.hidden = !match;
          if (match) { visible += 1; }
        });
        section.hidden = visible === 0;
        shown += visible;
      });
      status.textContent = "Showing " + shown.toLocaleString("en-US") + " of " + total.toLocaleString("en-US") +
        " findings on this page";
      noMatch.hidden = shown !== 0;
    };
    filters.addEventListener("submit", function (event) { event.preventDefault(); });
    severity.addEventListener("change", apply);
    rule.addEventListener("change", apply);
    symbol.addEventListener("input", apply);
    filters.hidden = false;
    apply();
  }

  var failing = doc.getElementById("filter-failing");
  if (failing) {
    failing.parentNode.hidden = false;
    failing.addEventListener("change", function () {
      each(doc.querySelectorAll("table.quotes tr.quote"), function (row) {
        row.hidden = failing.checked && !row.classList.contains("failing");
      });
    });
  }
}());
