// The one-on-one, a little nicer with JavaScript; everything works without it.
(function () {
  "use strict";

  // Confirm before destructive posts (discard a conversation).
  document.querySelectorAll("form.js-confirm").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.dataset.confirm || "Are you sure?")) { ev.preventDefault(); }
    });
  });

  // Drafts: what is typed in a step is kept on the server as it is typed (debounced) and when
  // the page is left, through the step's "Leave" button's address (the form carries its CSRF token).
  var leave = document.querySelector("button.js-leave[formaction]");
  if (leave && leave.form) {
    var form = leave.form, url = leave.getAttribute("formaction"), dirty = false, timer = null;
    var keep = function () {
      if (!dirty) { return; }
      dirty = false;
      window.fetch(url, {method: "POST", body: new FormData(form), credentials: "same-origin",
                         headers: {"X-Requested-With": "fetch"}}).catch(function () { dirty = true; });
    };
    form.addEventListener("input", function () {
      dirty = true;
      window.clearTimeout(timer);
      timer = window.setTimeout(keep, 1200);
    });
    form.addEventListener("submit", function () { dirty = false; window.clearTimeout(timer); });
    window.addEventListener("pagehide", function () {
      if (dirty && navigator.sendBeacon) { navigator.sendBeacon(url, new FormData(form)); dirty = false; }
    });
  }

  // The charts panel: Escape closes it.
  var panel = document.getElementById("rep-charts");
  if (panel) {
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && panel.open) { panel.open = false; }
    });
  }

  // Corrective actions: dim the rows that are not chosen.
  document.querySelectorAll(".action").forEach(function (row) {
    var box = row.querySelector("input.js-pick");
    if (!box) { return; }
    var sync = function () { row.classList.toggle("off", !box.checked); };
    box.addEventListener("change", sync);
    sync();
  });

  // The plan: changing the baseline KPI fills its value last month and a target,
  // unless the manager has typed their own.
  var data = document.getElementById("metric-data");
  var metric = document.querySelector("select.js-metric");
  if (data && metric) {
    var known = JSON.parse(data.textContent);
    var baseline = document.querySelector("input.js-baseline");
    var target = document.querySelector("input.js-target");
    var prefilled = document.querySelector("input.js-prefilled");
    var fmt = function (v) { return v === null || v === undefined ? "" : String(v); };
    var untouched = function (input, old, key) { return !old || input.value === "" || input.value === fmt(old[key]); };
    metric.addEventListener("change", function () {
      var old = known[prefilled.value], now = known[metric.value];
      if (!now) { return; }
      if (untouched(baseline, old, "baseline")) { baseline.value = fmt(now.baseline); }
      if (untouched(target, old, "target")) { target.value = fmt(now.target); }
      prefilled.value = metric.value;
      [baseline, target].forEach(function (input) {
        var help = input.parentElement.querySelector("small.muted");
        if (help) { help.textContent = now.unit + (input === target && now.benchmark ? " · " + now.benchmark : ""); }
      });
    });
  }
})();
