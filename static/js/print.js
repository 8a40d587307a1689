// The print button of the printable documents (no inline script, for the content security policy).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) { window.print(); }
});
