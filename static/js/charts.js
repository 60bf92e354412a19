// Draws every Plotly figure on the page: <div data-figure="ID"> with its figure in the
// JSON script element ID (written by Django's json_script, so it is escaped). Parts the
// page swaps in through HTMX are drawn when they arrive.
function drawFigures(root) {
  root.querySelectorAll("[data-figure]").forEach(function (target) {
    var source = document.getElementById(target.dataset.figure);
    if (!source || !window.Plotly) return;
    var figure = JSON.parse(source.textContent);
    window.Plotly.newPlot(target, figure.data, figure.layout, { displayModeBar: false, responsive: true });
  });
}
drawFigures(document);
document.body.addEventListener("htmx:afterSettle", function (event) {
  drawFigures(event.detail.elt || document);
});
