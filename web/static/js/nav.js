// The main navigation collapses behind a Menu button on narrow screens (CSS decides when);
// without JavaScript it stays open, wrapped.
(function () {
  // a region that scrolls sideways (a wide table in its card on a narrow screen) can be scrolled
  // from the keyboard: it takes the focus when it holds nothing else that does
  function focusableScrollers() {
    document.querySelectorAll(".card, .table-scroll, .table-wrap, .fw-table-wrap, .numbers-table, .grid2 > section").forEach(function (el) {
      var scrolls = el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== "visible";
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        el.dataset.scrollFocus = "1";
      } else if (!scrolls && el.dataset.scrollFocus === "1") {
        el.removeAttribute("tabindex");
        delete el.dataset.scrollFocus;
      }
    });
  }
  focusableScrollers();
  window.addEventListener("resize", focusableScrollers);
  window.addEventListener("load", focusableScrollers);
})();
(function () {
  var bar = document.querySelector(".topbar");
  var button = document.querySelector(".nav-toggle");
  if (!bar || !button) return;
  document.documentElement.classList.add("js-nav");
  button.hidden = false;
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    bar.classList.toggle("nav-open", open);
  });
})();
