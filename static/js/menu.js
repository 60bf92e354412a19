// The main menu folds behind «Меню» on a narrow screen (app.css, .topbar.collapsible), and the
// company's settings are a dropdown on a wide one. Without this script the menu stays open and
// the settings fold as a plain <details>, so every page is reachable either way.
(function () {
  var header = document.querySelector(".topbar");
  var toggle = header && header.querySelector(".menu-toggle");
  if (!toggle) return;
  var group = header.querySelector(".nav-group");
  var narrow = window.matchMedia("(max-width: 1023px)");
  header.classList.add("collapsible");
  toggle.hidden = false;

  function setExpanded(open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }
  // In the folded menu the settings are always listed; on a wide screen they wait for a click.
  function fitGroup() {
    if (group) group.open = narrow.matches;
  }
  fitGroup();
  narrow.addEventListener("change", fitGroup);

  toggle.addEventListener("click", function () {
    setExpanded(toggle.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    if (toggle.getAttribute("aria-expanded") === "true") {
      setExpanded(false);
      toggle.focus();
    } else if (group && group.open && !narrow.matches) {
      group.open = false;
      group.querySelector("summary").focus();
    }
  });
  document.addEventListener("click", function (event) {
    if (group && group.open && !narrow.matches && !group.contains(event.target)) group.open = false;
  });
  // The page one is on, marked in the menu (for the eye and for screen readers).
  header.querySelectorAll(".nav a").forEach(function (link) {
    if (link.pathname !== window.location.pathname) return;
    link.setAttribute("aria-current", "page");
    if (group && group.contains(link)) group.classList.add("current");
  });
})();
