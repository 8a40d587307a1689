// The page numbers of the volume (卷宗): the contents' 页号 of each document and the cover's page count.
//
// A browser tells a page nothing about how it will be paginated, so each document of the page (those
// printed and those laid out off-page, `.offstage`) is laid out again off screen in columns of exactly
// one A4 page's content box (`.measure` in print.css): Chromium fragments columns with the same engine
// as pages (keep-together blocks, table rows, orphans), so it makes as many columns as the document
// will print pages. Every document begins on a new page, the cover being page 1. Run once the fonts
// are ready, and again just before printing. docs/printing.md
(function () {
  "use strict";

  function pagesOf(doc) {
    var box = document.createElement("div");
    box.className = "measure";
    box.setAttribute("aria-hidden", "true");
    var clone = doc.cloneNode(true);
    clone.classList.remove("offstage");
    box.appendChild(clone);
    document.body.appendChild(box);
    var pages = Math.max(1, Math.round(box.scrollWidth / box.clientWidth));
    document.body.removeChild(box);
    return pages;
  }

  function number() {
    var ranges = {};
    var next = 1;
    document.querySelectorAll(".sheet > .doc").forEach(function (doc) {
      var pages = pagesOf(doc);
      ranges[doc.getAttribute("data-doc")] = [next, next + pages - 1];
      next += pages;
    });
    document.querySelectorAll("[data-pages-of]").forEach(function (cell) {
      var range = ranges[cell.getAttribute("data-pages-of")];
      cell.textContent = !range ? "" : range[0] === range[1] ? String(range[0]) : range[0] + "–" + range[1];
    });
    document.querySelectorAll("[data-volume-pages]").forEach(function (cell) {
      cell.textContent = String(next - 1);
    });
    document.documentElement.setAttribute("data-paginated", String(next - 1));
  }

  function start() {
    number();
    if (document.fonts && document.fonts.ready) {
      document.fonts.ready.then(number);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  window.addEventListener("beforeprint", number);
})();
