// Small behaviours shared by every page. No framework, no external requests.
(function () {
  "use strict";

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
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]")) {
      event.target.form.submit();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    // One press is one action: a second press while the first is on its way would only get a 409.
    var buttons = form.querySelectorAll("button[type=submit]");
    window.setTimeout(function () { buttons.forEach(function (b) { b.disabled = true; }); }, 0);
  });

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
