// Seleksi's progressive enhancement. Every page works without this script; it only adds
// conveniences. No inline scripts: the Content-Security-Policy allows this file only.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // An error summary takes the focus, so screen readers announce what to fix (WCAG 3.3.1).
  var summary = document.getElementById("ringkasan-galat");
  if (summary) { summary.focus(); }
  // Buttons with data-confirm ask before a consequential action (advance, decide, withdraw).
  document.querySelectorAll("[data-confirm]").forEach(function (el) {
    el.addEventListener("click", function (ev) {
      if (!window.confirm(el.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });
});
