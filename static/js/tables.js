// A table on a phone becomes one card per row (app.css, max-width 600px), and its header
// row is hidden: each cell then names its column from a data-label. Templates may write
// data-label themselves; every cell without one gets its column's header text here, for
// the tables of the page and for those HTMX swaps in later.
(function () {
  function headerCells(table) {
    var row = table.tHead && table.tHead.rows.length ? table.tHead.rows[table.tHead.rows.length - 1] : null;
    if (!row) return null;
    var names = [];
    Array.prototype.forEach.call(row.cells, function (cell) {
      // textContent, not innerText: a table folded in a closed <details> is not rendered,
      // and its innerText is empty.
      var name = cell.textContent.replace(/\s+/g, " ").trim();
      for (var i = 0; i < (cell.colSpan || 1); i++) names.push(name);
    });
    return names;
  }
  function label(root) {
    var tables = root.matches && root.matches("table") ? [root] : root.querySelectorAll("table");
    Array.prototype.forEach.call(tables, function (table) {
      var names = headerCells(table);
      if (!names) return;
      Array.prototype.forEach.call(table.tBodies, function (body) {
        Array.prototype.forEach.call(body.rows, function (row) {
          var column = 0;
          Array.prototype.forEach.call(row.cells, function (cell) {
            var name = names[column];
            if (!cell.hasAttribute("data-label") && name && (cell.colSpan || 1) === 1) {
              cell.setAttribute("data-label", name);
            }
            column += cell.colSpan || 1;
          });
        });
      });
    });
  }
  label(document);
  document.addEventListener("htmx:afterSettle", function (event) {
    label(event.detail.elt || document);
  });
})();
