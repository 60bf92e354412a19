// A figure's explanation opens beside the figure: the #explain panel is fixed at the side
// of the screen (a sheet on a phone), so it is in view wherever the clicked cell was; focus
// moves to it, and Escape or «Закрыть» returns to the cell.
(function () {
  let opener = null;
  function close() {
    const panel = document.getElementById("explain");
    if (!panel || !panel.innerHTML.trim()) return;
    panel.innerHTML = "";
    if (opener && document.body.contains(opener)) opener.focus();
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.target && event.detail.target.id === "explain") opener = event.detail.elt;
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "explain") {
      event.detail.target.scrollTop = 0;
      event.detail.target.focus({ preventScroll: true });
    }
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-close-explain]")) close();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") close();
  });
})();

// A phone gets the review in a phone's length: the blocks marked data-fold (the visit's
// changes, the tiles, each role's table, the quality, a manager's further reasons) start
// folded under their headings, the attention list and the week's strip stay open. What the
// person opens or closes stays so when the figures block is refreshed (its poll, a period).
(function () {
  const phone = window.matchMedia("(max-width: 600px)");
  const chosen = new Map(); // data-fold → open, as the person left it
  function fold(root) {
    root.querySelectorAll("details[data-fold]").forEach(function (details) {
      const key = details.dataset.fold;
      details.open = chosen.has(key) ? chosen.get(key) : !phone.matches;
    });
  }
  // A click on a summary (a tap, Enter or Space) is the person's choice; the toggle follows it.
  document.addEventListener("click", function (event) {
    const summary = event.target.closest("details[data-fold] > summary");
    if (summary && !event.defaultPrevented) chosen.set(summary.parentElement.dataset.fold, !summary.parentElement.open);
  });
  fold(document);
  phone.addEventListener("change", function () {
    chosen.clear();
    fold(document);
  });
  document.addEventListener("htmx:afterSwap", function () {
    fold(document);
  });
})();
