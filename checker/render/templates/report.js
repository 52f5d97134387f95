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

  // The symbol filter applies to the findings and to the quotes table; severity and rule to the
  // findings; "only quotes with findings" to the quotes table.
  var filters = doc.getElementById("filters");
  var failing = doc.getElementById("filter-failing");
  var severity = doc.getElementById("filter-severity");
  var rule = doc.getElementById("filter-rule");
  var symbol = doc.getElementById("filter-symbol");
  var status = doc.getElementById("filter-status");
  var quotesStatus = doc.getElementById("quotes-status");
  var noMatch = doc.getElementById("no-match");
  var sections = doc.querySelectorAll("section.rule");
  var quoteRows = doc.querySelectorAll("table.quotes tr.quote");
  var total = doc.querySelectorAll("tr.finding").length;
  var count = function (n) { return n.toLocaleString("en-US"); };
  var matches = function (row, wanted) {
    return !wanted || (row.getAttribute("data-symbol") || "").toUpperCase().indexOf(wanted) !== -1;
  };

  var apply = function () {
    var wantSeverity = severity ? severity.value : "";
    var wantRule = rule ? rule.value : "";
    var wantSymbol = symbol ? symbol.value.trim().toUpperCase() : "";
    var shown = 0;
    each(sections, function (section) {
      var visible = 0;
      each(section.querySelectorAll("tr.finding"), function (row) {
        var match = (!wantSeverity || row.getAttribute("data-severity") === wantSeverity) &&
          (!wantRule || row.getAttribute("data-rule") === wantRule) && matches(row, wantSymbol);
        row.hidden = !match;
        if (match) { visible += 1; }
      });
      section.hidden = visible === 0;
      shown += visible;
    });
    if (status && total) {
      status.textContent = "Showing " + count(shown) + " of " + count(total) + " findings on this page";
    }
    if (noMatch) { noMatch.hidden = shown !== 0; }
    var onlyFailing = failing ? failing.checked : false;
    var quotesShown = 0;
    each(quoteRows, function (row) {
      var match = matches(row, wantSymbol) && (!onlyFailing || row.classList.contains("failing"));
      row.hidden = !match;
      if (match) { quotesShown += 1; }
    });
    if (quotesStatus) {
      quotesStatus.textContent = "Showing " + count(quotesShown) + " of " + count(quoteRows.length) +
        " quotes on this page";
    }
  };

  if (filters) {
    filters.addEventListener("submit", function (event) { event.preventDefault(); });
    if (severity) { severity.addEventListener("change", apply); }
    if (rule) { rule.addEventListener("change", apply); }
    symbol.addEventListener("input", apply);
    filters.hidden = false;
  }
  if (failing) {
    failing.parentNode.hidden = false;
    failing.addEventListener("change", apply);
  }
  apply();
}());
