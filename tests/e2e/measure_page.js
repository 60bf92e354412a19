// What tests/e2e/test_every_page.py measures on a page at one width: the sideways overflow,
// controls without a label, tables whose columns lack headers (on a phone, where a table
// becomes stacked cards: cells without their data-label).
() => {
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)
    && getComputedStyle(el).visibility !== "hidden";
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth) {
    const wide = [...document.querySelectorAll("body *")].filter(
      (el) => visible(el) && el.getBoundingClientRect().right > window.innerWidth + 1
        && !el.closest("[data-scroll], .scroll, .table-scroll"));
    const culprit = wide.slice(-1).map((el) => el.tagName.toLowerCase()
      + (el.id ? "#" + el.id : "") + (el.className ? "." + String(el.className).split(" ").join(".") : ""));
    problems.push(`scrolls sideways: ${doc.scrollWidth} > ${window.innerWidth} (${culprit})`);
  }
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (["hidden", "submit", "button", "reset", "image"].includes(el.type) || !visible(el)) continue;
    const named = (el.labels && el.labels.length) || el.getAttribute("aria-label")
      || el.getAttribute("aria-labelledby") || el.getAttribute("title");
    if (!named) problems.push(`no label: <${el.tagName.toLowerCase()} name="${el.name}">`);
  }
  for (const table of document.querySelectorAll("table")) {
    if (!visible(table)) continue;
    const id = table.id || table.className || "table";
    const head = table.tHead && table.tHead.rows.length ? table.tHead.rows[table.tHead.rows.length - 1] : null;
    const width = (row) => [...row.cells].reduce((n, cell) => n + (cell.colSpan || 1), 0);
    const columns = Math.max(0, ...[...table.tBodies].flatMap((b) => [...b.rows].map(width)));
    if (!columns) continue;
    const shown = head && visible(head);
    if (head && width(head) < columns) problems.push(`${id}: ${columns} columns, ${width(head)} headers`);
    if (!head && !table.querySelector("th")) problems.push(`${id}: no column headers`);
    if (head && !shown) {
      // Stacked cards: each cell with content names its column.
      for (const cell of table.querySelectorAll("tbody td")) {
        const alone = cell.colSpan > 1 || cell.parentElement.cells.length === 1;
        // A column of actions (a button, a link) needs no name: its control says what it does.
        const action = !(cell.dataset.label) && cell.querySelector("a, button, form")
          && ![...cell.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
        if (action) continue;
        if (visible(cell) && cell.innerText.trim() && !cell.dataset.label && !alone) {
          problems.push(`${id}: a cell without its column's label on a phone ("${cell.innerText.trim().slice(0, 30)}")`);
          break;
        }
      }
    }
  }
  return problems;
}
