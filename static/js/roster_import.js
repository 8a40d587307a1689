// Roster import page: the progress bar of a large import running as a task.
// Progress comes from the WebSocket (live.js dispatches "fangdiao:import-progress"); pushes are
// transient, so the page also asks the server every few seconds and reloads once the batch is done.
(function () {
  "use strict";

  // The upload page: the request checks the file before answering, so show its pushed progress
  // while the browser waits (any batch of this user: the new batch's id is not known yet).
  var upload = document.querySelector("form[data-roster-upload]");
  if (upload) {
    upload.addEventListener("submit", function () {
      var wait = document.getElementById("upload-progress");
      if (!wait) { return; }
      wait.hidden = false;
      var uploadBar = wait.querySelector("progress");
      var uploadText = wait.querySelector("[data-progress-text]");
      document.addEventListener("fangdiao:import-progress", function (event) {
        var m = event.detail || {};
        if (!m.total) { return; }
        uploadBar.max = m.total;
        uploadBar.value = Math.min(m.done, m.total);
        uploadText.textContent = (uploadText.getAttribute("data-template") || "%done / %total")
          .replace("%done", m.done).replace("%total", m.total);
      });
    });
  }

  var box = document.getElementById("roster-import");
  if (!box || box.getAttribute("data-running") !== "true") { return; }
  var importId = parseInt(box.getAttribute("data-import-id"), 10);
  var statusUrl = box.getAttribute("data-status-url");
  var bar = document.getElementById("import-progress");
  var text = document.getElementById("import-progress-text");
  var finished = false;

  function show(done, total) {
    if (!bar || !total) { return; }
    bar.max = total;
    bar.value = Math.min(done, total);
    if (text) {
      text.textContent = (text.getAttribute("data-template") || "%done / %total")
        .replace("%done", done).replace("%total", total);
    }
  }

  function finish() {
    if (finished) { return; }
    finished = true;
    window.location.reload();
  }

  document.addEventListener("fangdiao:import-progress", function (event) {
    var message = event.detail || {};
    if (message["import"] !== importId) { return; }
    show(message.done, message.total);
    if (message.total && message.done >= message.total) {
      // The last push comes just before the batch is saved: ask once more, then reload.
      window.setTimeout(poll, 500);
    }
  });

  function poll() {
    if (finished) { return; }
    fetch(statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (report) {
        if (report && report.status !== "queued" && report.status !== "running") { finish(); }
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  window.setInterval(poll, 4000);
})();
