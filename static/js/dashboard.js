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
