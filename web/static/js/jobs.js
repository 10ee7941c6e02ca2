/* fairway: follow a background job on its page. Polls the job's status every second, shows
 * its progress, and reloads the page once the job has ended (the server shows the outcome). */
(function () {
  "use strict";
  var box = document.getElementById("job");
  var text = document.getElementById("job-progress");
  if (!box || box.getAttribute("data-finished") === "1") { return; }
  var url = box.getAttribute("data-job-status-url");

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (s === null) { window.setTimeout(poll, 3000); return; }
        if (s.finished) { window.location.reload(); return; }
        text.textContent = s.progress;
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
}());
