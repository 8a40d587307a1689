// Records written without a signal (a village with no network): a session record or a follow-up
// submitted while the phone is offline is kept on the phone and sent as soon as it is back online.
//
// Only forms marked data-offline-queue, only their text fields (no files). Each entry keeps the
// form's own csrf token and form_token, so a record sent twice (two tabs flushing at once, a reply
// lost on the way back) is recorded once: the server answers a repeated form_token with the first
// answer (core/middleware.py IdempotencyMiddleware). A session that expired meanwhile keeps the
// entry until the person has logged in again and any page is opened.
(function () {
  "use strict";

  var KEY = "fangdiao-offline-outbox";
  var script = document.currentScript;
  var text = {
    saved: script.getAttribute("data-text-saved"),
    pending: script.getAttribute("data-text-pending"),
    sent: script.getAttribute("data-text-sent"),
    refused: script.getAttribute("data-text-refused"),
  };
  var flushing = false;

  function load() {
    try { return JSON.parse(window.localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }

  function store(entries) {
    window.localStorage.setItem(KEY, JSON.stringify(entries));
  }

  function fields(form) {
    var out = [];
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string") { out.push([name, value]); }
    });
    return out;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-offline-queue") || navigator.onLine !== false) { return; }
    event.preventDefault();
    event.stopImmediatePropagation(); // app.js's confirm and button locking are for a real send
    var entries = load();
    entries.push({ action: form.action, fields: fields(form), page: location.pathname, at: Date.now() });
    store(entries);
    form.reset();
    var details = form.closest("details");
    if (details) { details.open = false; }
    show(text.saved, "warning-box");
  }, true);

  function show(message, tone) {
    var box = document.getElementById("offline-outbox");
    if (!box) {
      box = document.createElement("p");
      box.id = "offline-outbox";
      box.setAttribute("role", "status");
      var main = document.getElementById("main") || document.body;
      main.insertBefore(box, main.firstChild);
    }
    box.className = tone;
    box.textContent = message;
    box.hidden = !message;
  }

  function flush() {
    var entries = load();
    if (flushing || !entries.length || navigator.onLine === false) { return; }
    flushing = true;
    var left = [];
    var sent = 0;
    var refused = 0;
    var chain = Promise.resolve();
    entries.forEach(function (entry) {
      chain = chain.then(function () {
        var body = new URLSearchParams();
        entry.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
        return fetch(entry.action, { method: "POST", body: body, credentials: "same-origin", redirect: "follow" })
          .then(function (response) {
            if (response.ok && !/\/login\//.test(response.url) && response.url.indexOf(entry.page) !== -1) {
              sent += 1;
            } else if (response.status === 400 || response.status === 409 || response.status === 403) {
              refused += 1; // the server said no (the case moved on): not sent again
            } else {
              left.push(entry); // logged out, or the server away: next time
            }
          })
          .catch(function () { left.push(entry); });
      });
    });
    chain.then(function () {
      store(left);
      flushing = false;
      if (refused) {
        show(text.refused.replace("%s", refused), "error-summary");
      } else if (left.length) {
        show(text.pending.replace("%s", left.length), "warning-box");
      } else if (sent) {
        show(text.sent.replace("%s", sent), "message success");
        // The page shows what was just recorded.
        if (entries.some(function (e) { return e.page === location.pathname; })) { location.reload(); }
      }
    });
  }

  window.addEventListener("online", flush);
  if (load().length) {
    if (navigator.onLine === false) { show(text.pending.replace("%s", load().length), "warning-box"); } else { flush(); }
  }
})();
