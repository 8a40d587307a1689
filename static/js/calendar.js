// Beside every <input type="date">: whether the chosen day is a rest day (and which holiday), a
// make-up working day, and whether that year's calendar is still provisional. Deadlines count
// working days, so the person choosing a date sees what the clocks will see.
// One GET /api/calendar/?year= per year, kept in memory for the page's life. The URL and the
// (translated) words come from this script tag's data attributes: no inline script (CSP).
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !window.fetch) { return; }
  var url = script.getAttribute("data-url");
  var words = {
    rest: script.getAttribute("data-text-rest"),
    holiday: script.getAttribute("data-text-holiday"),
    makeup: script.getAttribute("data-text-makeup"),
    provisional: script.getAttribute("data-text-provisional"),
  };
  var years = {};  // year → promise of {confirmed, days: {"YYYY-MM-DD": day}}, or of null on failure
  var counter = 0;

  function calendarOf(year) {
    if (!(year in years)) {
      years[year] = fetch(url + "?year=" + year, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (body) {
          var days = {};
          body.days.forEach(function (day) { days[day.date] = day; });
          return { confirmed: body.confirmed, days: days };
        })
        .catch(function () {
          delete years[year];  // a later change may try again
          return null;
        });
    }
    return years[year];
  }

  function hintOf(input) {
    var id = input.getAttribute("data-date-hint");
    var hint = id && document.getElementById(id);
    if (!hint) {
      counter += 1;
      id = "date-hint-" + counter;
      hint = document.createElement("span");
      hint.id = id;
      hint.className = "help date-hint";
      hint.setAttribute("aria-live", "polite");
      input.insertAdjacentElement("afterend", hint);
      input.setAttribute("data-date-hint", id);
      var described = input.getAttribute("aria-describedby");
      input.setAttribute("aria-describedby", described ? described + " " + id : id);
    }
    return hint;
  }

  function describe(day, year, confirmed) {
    var parts = [];
    if (!day.working) {
      parts.push(day.kind === "holiday" && day.name ? words.holiday.replace("%s", day.name) : words.rest);
    } else if (day.kind === "makeup_workday") {
      parts.push(words.makeup);
    }
    if (!confirmed) { parts.push(words.provisional.replace("%s", String(year))); }
    return parts.join(" ");
  }

  function show(input) {
    var value = input.value;
    var match = /^(\d{4})-\d{2}-\d{2}$/.exec(value);
    var year = match ? parseInt(match[1], 10) : 0;
    if (year < 2000 || year > 2100) {
      if (input.hasAttribute("data-date-hint")) { hintOf(input).textContent = ""; }
      return;
    }
    calendarOf(year).then(function (calendar) {
      if (input.value !== value) { return; }  // changed again while the year was on its way
      var day = calendar && calendar.days[value];
      hintOf(input).textContent = day ? describe(day, year, calendar.confirmed) : "";
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input[type=date]")) { show(event.target); }
  });
  document.querySelectorAll("input[type=date]").forEach(function (input) {
    if (input.value) { show(input); }
  });
})();
