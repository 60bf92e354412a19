// A read-only field marked data-select-all (a webhook address to copy) selects its whole
// value when clicked. Here rather than in an onclick attribute, which the CSP forbids.
document.addEventListener("click", function (event) {
  if (event.target.matches("input[data-select-all]")) {
    event.target.select();
  }
});
