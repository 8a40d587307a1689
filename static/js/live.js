// Live updates over /ws/notifications/ (docs/api.md#websocket): the unread badge, a toast per notification,
// and the parts of a page that show a referral which just changed. No framework, no external
// requests, no inline script. Translated texts come from data attributes of the header bell.
(function () {
  "use strict";

  var PING_MS = 25000; // keeps proxies from closing an idle socket, and finds a dead one
  var BACKOFF_MAX_MS = 30000;
  var DEBOUNCE_MS = 300; // ten changes in a burst cost one fetch
  var BANNER_DELAY_MS = 1500; // leaving a page closes its socket too: do not flash the banner
  var TOAST_MS = 8000;
  var MAX_TOASTS = 4;
  var SUBMIT_GRACE_MS = 10000;

  var badge = document.getElementById("notification-count");
  var bell = document.querySelector("[data-notifications-link]");
  if (!badge || !bell || !("WebSocket" in window)) { return; }

  var socket = null;
  var attempts = 0;
  var connectedBefore = false;
  var signedOut = false;
  var leaving = false;
  var lastHeard = 0;
  var pingSentAt = 0;
  var submittedAt = 0;
  var pingTimer = null;
  var retryTimer = null;
  var bannerTimer = null;
  var refreshTimer = null;
  var banner = null;
  var changed = {}; // referral ids changed since the last refresh, to flash their rows
  var stale = {}; // selectors of the fragments to fetch again

  function say(name, fallback) { return bell.getAttribute("data-text-" + name) || fallback; }

  function setState(state) { document.documentElement.setAttribute("data-live", state); }

  // --- The socket ---------------------------------------------------------------------------

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (signedOut || leaving || socket) { return; }
    var ws;
    try {
      ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/notifications/");
    } catch (e) {
      lost(); // e.g. refused by a content security policy: try again later like any failure
      return;
    }
    socket = ws;
    setState("connecting");
    ws.onmessage = function (event) {
      if (socket !== ws) { return; }
      lastHeard = Date.now();
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      handle(message);
    };
    ws.onclose = function (event) {
      if (socket !== ws) { return; }
      if (event.code === 4401) {
        // Logged out (here or in another tab) or deactivated: reconnecting cannot help.
        signedOut = true;
        drop();
        showBanner(say("signed-out", "Signed out."), true);
        setState("signed-out");
        return;
      }
      lost();
    };
  }

  function drop() {
    var ws = socket;
    socket = null;
    clearInterval(pingTimer);
    pingTimer = null;
    if (ws) {
      ws.onclose = ws.onmessage = null;
      if (ws.readyState < 2) { ws.close(); }
    }
  }

  function lost() {
    drop();
    if (leaving) { return; }
    setState("disconnected");
    if (!bannerTimer && (!banner || banner.hidden)) {
      bannerTimer = setTimeout(function () { bannerTimer = null; showBanner(say("lost", "Reconnecting…")); }, BANNER_DELAY_MS);
    }
    // Exponential back-off with "equal jitter": after a server restart, every open page comes
    // back spread over a window instead of all in the same second.
    var ceiling = Math.min(BACKOFF_MAX_MS, 1000 * Math.pow(2, attempts));
    attempts += 1;
    retryTimer = setTimeout(connect, ceiling / 2 + Math.random() * ceiling / 2);
  }

  function connected() {
    attempts = 0;
    hideBanner();
    setState("open");
    clearInterval(pingTimer);
    pingSentAt = 0;
    pingTimer = setInterval(function () {
      // The previous ping got no answer at all: the connection died without a close frame (a
      // laptop lid, a dropped VPN). Relative to the ping, so throttled background timers are fine.
      if (pingSentAt && lastHeard < pingSentAt) { lost(); return; }
      pingSentAt = Date.now();
      send({ type: "ping" });
    }, PING_MS);
    // Whatever happened while we were away is in the database: read it again.
    if (connectedBefore) { resync(); }
    connectedBefore = true;
  }

  function send(message) {
    if (socket && socket.readyState === 1) { socket.send(JSON.stringify(message)); }
  }

  function reconnectNow() {
    if (socket || signedOut || leaving) { return; }
    attempts = 0;
    connect();
  }

  // --- Messages -----------------------------------------------------------------------------

  function handle(message) {
    switch (message.type) {
      case "hello":
        setBadge(message.unread);
        connected();
        break;
      case "unread":
        setBadge(message.unread);
        refreshSoon("[data-live-inbox]");
        break;
      case "notification":
        setBadge(typeof message.unread === "number" ? message.unread : count() + 1);
        toast(message.notification);
        refreshSoon("[data-live-inbox]");
        break;
      case "referral.changed":
        referralChanged(String(message.referral), message.state, message.event);
        break;
      case "import.progress":
        importProgress(message);
        break;
    }
  }

  function count() { return parseInt(badge.getAttribute("data-count"), 10) || 0; }

  function setBadge(n) {
    n = Math.max(0, parseInt(n, 10) || 0);
    badge.textContent = String(n);
    badge.setAttribute("data-count", String(n));
  }

  function toast(n) {
    var box = document.getElementById("toasts");
    if (!box || !n) { return; }
    var el = document.createElement("div");
    el.className = "toast";
    el.setAttribute("data-notification-id", String(n.id));
    var title = document.createElement("strong");
    title.textContent = n.title;
    el.appendChild(title);
    if (n.body) {
      var body = document.createElement("div");
      body.textContent = n.body;
      el.appendChild(body);
    }
    var link = document.createElement("a");
    // Through the centre, so that following the link also marks the notification read.
    link.href = bell.getAttribute("href") + encodeURIComponent(n.id) + "/open/";
    link.textContent = say("open", "Open");
    el.appendChild(link);
    box.appendChild(el);
    while (box.children.length > MAX_TOASTS) { box.removeChild(box.firstElementChild); }
    setTimeout(function () { if (el.parentNode) { el.parentNode.removeChild(el); } }, TOAST_MS);
  }

  function referralChanged(id, state, event) {
    if (!/^\d+$/.test(id)) { return; }
    changed[id] = true;
    refreshSoon("[data-live-list]");
    refreshSoon("[data-live-refresh]");
    document.querySelectorAll("[data-live-detail]").forEach(function (el) {
      if (el.getAttribute("data-referral") !== id) { return; }
      // The page already shows this change (the actor's own step, which sent them here): no reload.
      var shown = Number(el.getAttribute("data-event") || 0);
      if (event && shown && Number(event) <= shown) { return; }
      if (el.getAttribute("data-state") !== state || !formInUse()) { reload(); } else { showStaleNote(); }
    });
  }

  function importProgress(message) {
    document.querySelectorAll("[data-import-progress]").forEach(function (el) {
      if (el.getAttribute("data-import-progress") !== String(message["import"])) { return; }
      if (el.tagName === "PROGRESS") {
        el.max = message.total;
        el.value = message.done;
      } else {
        el.textContent = message.done + " / " + message.total;
      }
    });
    document.dispatchEvent(new CustomEvent("fangdiao:import-progress", { detail: message }));
  }

  // --- Refreshing parts of the page ---------------------------------------------------------

  // Every request this script makes by itself carries this header: the server does not count it as
  // the person's activity, so a page left open lets its session expire (accounts/middleware.py).
  function marked(headers) {
    headers["X-Live-Refresh"] = "1";
    return headers;
  }

  function refreshSoon(selector) {
    if (!document.querySelector(selector)) { return; }
    stale[selector] = true;
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refreshStale, DEBOUNCE_MS);
  }

  function refreshStale() {
    var ids = Object.keys(changed);
    var selectors = Object.keys(stale);
    changed = {};
    stale = {};
    selectors.forEach(function (selector) {
      document.querySelectorAll(selector + "[data-fragment-url]").forEach(function (el) { refresh(el, ids); });
    });
  }

  function refresh(el, ids) {
    var seq = (el.liveSeq || 0) + 1;
    el.liveSeq = seq; // a slower older answer must not overwrite a newer one
    fetch(el.getAttribute("data-fragment-url"), { credentials: "same-origin", headers: marked({ "X-Requested-With": "fetch" }) })
      .then(function (response) {
        // A redirect means the session ended (login page): keep what is shown.
        if (!response.ok || response.redirected) { throw new Error("fragment " + response.status); }
        return response.text();
      })
      .then(function (html) {
        if (el.liveSeq !== seq) { return; }
        el.innerHTML = html;
        ids.forEach(function (id) {
          el.querySelectorAll('[data-referral-id="' + id + '"]').forEach(function (row) { row.classList.add("flash"); });
        });
      })
      .catch(function () { /* the next change or reconnect fetches again */ });
  }

  function resync() {
    ["[data-live-list]", "[data-live-refresh]", "[data-live-inbox]"].forEach(refreshSoon);
    document.querySelectorAll("[data-live-detail]").forEach(function (el) {
      var id = el.getAttribute("data-referral");
      if (!/^\d+$/.test(id)) { return; }
      fetch("/api/referrals/" + id + "/", { credentials: "same-origin", headers: marked({ Accept: "application/json" }) })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (referral) {
          if (!referral) { showStaleNote(); } else if (referral.state !== el.getAttribute("data-state")) { reload(); }
        })
        .catch(function () {});
    });
  }

  // A user typing into a form (or who just sent one) must not lose it to a reload.
  function formInUse() {
    if (Date.now() - submittedAt < SUBMIT_GRACE_MS) { return true; }
    var main = document.getElementById("main") || document.body;
    if (main.querySelector("form[data-live-dirty], details[open][data-live-opened] form")) { return true; }
    var active = document.activeElement;
    return !!(active && active.form && main.contains(active));
  }

  function reload() {
    if (Date.now() - submittedAt < SUBMIT_GRACE_MS || leaving) { return; } // a new page is on its way
    location.reload();
  }

  function showStaleNote() {
    document.querySelectorAll("[data-stale-note]").forEach(function (note) { note.hidden = false; });
  }

  // --- The banner ---------------------------------------------------------------------------

  function showBanner(text, withReload) {
    if (!banner) {
      banner = document.createElement("div");
      banner.className = "connection-lost";
      banner.setAttribute("role", "status");
      document.body.appendChild(banner);
    }
    banner.textContent = "";
    var line = document.createElement(withReload ? "a" : "span");
    if (withReload) { line.href = ""; } // reloads this page, which leads to the login page
    line.textContent = text;
    banner.appendChild(line);
    banner.hidden = false;
  }

  function hideBanner() {
    clearTimeout(bannerTimer);
    bannerTimer = null;
    if (banner) { banner.hidden = true; }
  }

  // --- Page events --------------------------------------------------------------------------

  document.addEventListener("input", markDirty);
  document.addEventListener("change", markDirty);
  function markDirty(event) {
    var form = event.target.form;
    if (form && !form.closest(".site-header, .site-footer")) { form.setAttribute("data-live-dirty", ""); }
  }
  document.addEventListener("click", function (event) {
    var summary = event.target.closest("details > summary");
    if (summary) { summary.parentElement.setAttribute("data-live-opened", ""); }
  });
  // app.js listens first and may cancel a submit (a declined confirmation).
  document.addEventListener("submit", function (event) {
    if (!event.defaultPrevented) { submittedAt = Date.now(); }
  });
  window.addEventListener("pagehide", function () { leaving = true; hideBanner(); drop(); });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { leaving = false; reconnectNow(); } // back from the back-forward cache
  });
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { reconnectNow(); }
  });

  connect();
})();
