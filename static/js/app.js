// Small behaviours shared by every page. No framework, no external requests.
(function () {
  "use strict";

  var PHONE = "(max-width: 699px)";

  // The service worker keeps the app shell (config/views.py service_worker); pages are never stored.
  var script = document.currentScript;
  var worker = script && script.getAttribute("data-service-worker");
  if (worker && "serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register(worker).catch(function () { /* the site works without it */ });
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-menu-toggle]");
    if (toggle) {
      var nav = document.getElementById(toggle.getAttribute("aria-controls"));
      var open = !nav.classList.contains("open");
      nav.classList.toggle("open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
    var add = event.target.closest("[data-add-form]");
    if (add) {
      event.preventDefault();
      addForm(add.getAttribute("data-add-form"));
    }
    var remove = event.target.closest("[data-remove-form]");
    if (remove) {
      event.preventDefault();
      var box = remove.closest("[data-form]");
      var del = box.querySelector("input[name$='-DELETE']");
      if (del) { del.checked = true; }
      box.hidden = true;
    }
    // The action bar: a button opens its form (wherever it is on the page) and brings it into view.
    var opener = event.target.closest("[data-open-form]");
    if (opener) {
      var form = document.getElementById(opener.getAttribute("data-open-form"));
      if (form) {
        event.preventDefault();
        reveal(form);
        form.open = true;
        form.setAttribute("data-live-opened", ""); // live.js: not to be lost to a reload
        form.scrollIntoView({ block: "start" });
        var summary = form.querySelector("summary");
        if (summary) { summary.focus({ preventScroll: true }); }
      }
    }
    // A line of the error summary: to its field, focused.
    var link = event.target.closest("[data-field-link]");
    if (link) {
      var field = fieldOf(link.getAttribute("href").slice(1));
      if (field) {
        event.preventDefault();
        field.focus();
      }
    }
    // 拍照: the same file field, asked once for the camera.
    var camera = event.target.closest("[data-camera-for]");
    if (camera) {
      var input = document.getElementById(camera.getAttribute("data-camera-for"));
      if (input) { takePhoto(input); }
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]")) {
      event.target.form.submit();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.getAttribute("method") === "dialog") { return; }
    var question = form.getAttribute("data-confirm");
    if (question && !form.hasAttribute("data-confirmed")) {
      var dialog = document.getElementById("confirm-dialog");
      event.preventDefault();
      if (dialog && typeof dialog.showModal === "function") {
        askFirst(dialog, form, question, event.submitter);
      } else if (window.confirm(question)) {
        send(form, event.submitter);
      }
      return;
    }
    form.removeAttribute("data-confirmed");
    // One press is one action: a second press while the first is on its way would only get a 409.
    var buttons = form.querySelectorAll("button[type=submit]");
    window.setTimeout(function () { buttons.forEach(function (b) { b.disabled = true; }); }, 0);
  });

  function send(form, submitter) {
    form.setAttribute("data-confirmed", "");
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
    } else {
      form.submit();
    }
  }

  // The confirm step: the action, what it does, and what the form says, before anything is sent.
  function askFirst(dialog, form, question, submitter) {
    var title = form.getAttribute("data-confirm-title");
    if (title) { dialog.querySelector("[data-confirm-title]").textContent = title; }
    dialog.querySelector("[data-confirm-text]").textContent = question;
    var list = dialog.querySelector("[data-confirm-summary]");
    list.textContent = "";
    summarise(form).forEach(function (pair) {
      var dt = document.createElement("dt");
      var dd = document.createElement("dd");
      dt.textContent = pair[0];
      dd.textContent = pair[1];
      list.appendChild(dt);
      list.appendChild(dd);
    });
    list.hidden = !list.firstChild;
    dialog.returnValue = "";
    dialog.addEventListener("close", function done() {
      dialog.removeEventListener("close", done);
      if (dialog.returnValue === "ok") {
        send(form, submitter);
      } else if (submitter) {
        submitter.focus();
      }
    });
    dialog.showModal();
  }

  // Each filled-in field of the form, as label and value, in words the user chose.
  function summarise(form) {
    var pairs = [];
    form.querySelectorAll(".field").forEach(function (box) {
      var label = box.querySelector("legend, label");
      if (!label) { return; }
      var name = label.cloneNode(true);
      name.querySelectorAll(".req, .visually-hidden").forEach(function (n) { n.remove(); });
      var values = [];
      box.querySelectorAll("input, select, textarea").forEach(function (el) {
        if (el.type === "hidden") { return; }
        if (el.type === "checkbox" || el.type === "radio") {
          if (!el.checked) { return; }
          var own = el.closest("label") || (el.id && box.querySelector("label[for='" + el.id + "']"));
          values.push(own && own !== label ? own.textContent.trim() : "✓");
        } else if (el.tagName === "SELECT") {
          Array.prototype.forEach.call(el.selectedOptions, function (o) { if (o.value) { values.push(o.textContent.trim()); } });
        } else if (el.type === "file") {
          Array.prototype.forEach.call(el.files || [], function (f) { values.push(f.name); });
        } else if (el.value.trim()) {
          values.push(el.value.trim());
        }
      });
      if (box.classList.contains("checkbox") && values.length) {
        values = ["✓"];
      }
      if (values.length) {
        var text = values.join("、");
        pairs.push([name.textContent.trim(), text.length > 120 ? text.slice(0, 120) + "…" : text]);
      }
    });
    return pairs;
  }

  function takePhoto(input) {
    var accept = input.getAttribute("accept");
    input.setAttribute("accept", "image/*");
    input.setAttribute("capture", "environment");
    input.click();
    window.setTimeout(function () {
      input.removeAttribute("capture");
      if (accept) { input.setAttribute("accept", accept); }
    }, 0);
  }

  // The element to focus for a field's id: the input itself, or the first of a group's.
  function fieldOf(id) {
    var el = document.getElementById(id) || document.getElementById(id + "_0");
    if (el && !el.matches("input, select, textarea, button")) {
      el = el.querySelector("input, select, textarea");
    }
    return el;
  }

  // Open every folded section around an element.
  // A bar button tapped before this script ran (a slow phone) only changed the address's #action-…:
  // open that form now, and whenever the address names another one.
  function openNamedForm() {
    var id = window.location.hash.slice(1);
    var form = /^action-[a-z_]+$/.test(id) && document.getElementById(id);
    if (form && form.tagName === "DETAILS") {
      reveal(form);
      form.open = true;
    }
  }
  openNamedForm();
  window.addEventListener("hashchange", openNamedForm);

  function reveal(el) {
    for (var p = el.parentElement; p; p = p.parentElement) {
      if (p.tagName === "DETAILS" && !p.open) { p.open = true; }
    }
  }

  function inView(el) {
    var r = el.getBoundingClientRect();
    var bar = document.querySelector("[data-action-bar]");
    var bottom = window.innerHeight;
    if (bar && window.getComputedStyle(bar).position === "fixed") { bottom = bar.getBoundingClientRect().top; }
    return r.top >= 0 && r.bottom <= bottom;
  }

  // On a phone the case page leads with what to do: the facts fold away unless they hold a form
  // (something to do) or an error. They are open on a desktop, and without scripts.
  function foldForPhone() {
    if (!window.matchMedia || !window.matchMedia(PHONE).matches) { return; }
    document.querySelectorAll("details[data-fold]").forEach(function (fold) {
      if (!fold.querySelector("form, [data-error-summary], .has-error")) { fold.open = false; }
    });
  }

  // A form sent back with errors: its summary in view, the first wrong field focused.
  function showErrors() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) {
      var other = document.querySelector("[data-focus-on-load]");
      if (other) { other.focus(); }
      return;
    }
    reveal(summary);
    summary.scrollIntoView({ block: "start" });
    var first = summary.querySelector("[data-field-link]");
    var field = first ? fieldOf(first.getAttribute("href").slice(1)) : null;
    if (!field) {
      summary.focus({ preventScroll: true });
      return;
    }
    field.focus({ preventScroll: true });
    if (!inView(field)) { field.scrollIntoView({ block: "center" }); }
  }

  function showCameraButtons() {
    if (!window.matchMedia || !window.matchMedia("(pointer: coarse)").matches) { return; }
    document.querySelectorAll("[data-camera-for]").forEach(function (b) { b.hidden = false; });
  }

  foldForPhone();
  showCameraButtons();
  showErrors();

  // Formsets: clone the empty form template with the next index.
  function addForm(prefix) {
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var template = document.getElementById(prefix + "-empty");
    var container = document.getElementById(prefix + "-forms");
    if (!total || !template || !container) { return; }
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    container.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var first = container.lastElementChild.querySelector("input, select, textarea");
    if (first) { first.focus(); }
  }
})();
