// The secretariat's selection wizard: live checks as the user types. The form works without
// this script, and the server's checks stay the authority: this only says early what the API
// will say on submit (the weights' sum and the committee's composition). Texts come from the
// page (data-* attributes), in its language.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("seleksi-baru");
  if (!form) { return; }
  function fill(text, vals) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return k in vals ? String(vals[k]) : m; });
  }
  function show(el, text, ok) {
    el.textContent = text;
    el.hidden = false;
    el.className = "live-status " + (ok ? "ok" : "bad");
  }

  var sumEl = document.getElementById("score_weights-sum");
  var weights = form.querySelectorAll("input[name^='score_weights-']");
  function checkWeights() {
    var sum = 0;
    weights.forEach(function (el) {
      var n = parseInt(el.value, 10);
      if (!isNaN(n)) { sum += n; }
    });
    var ok = sum === 100;
    show(sumEl, fill(sumEl.getAttribute(ok ? "data-ok" : "data-bad"), { n: sum }), ok);
  }

  var comEl = document.getElementById("committee-status");
  function val(name) {
    var el = form.elements[name];
    return el ? String(el.value || "").trim() : "";
  }
  function checkCommittee() {
    var n = 0, internal = 0, chairs = 0;
    for (var i = 0; i < 9; i++) {
      var p = "committee-" + i + "-";
      if (!val(p + "member_id") && !val(p + "display_name")) { continue; }
      n++;
      if (val(p + "kind") === "MEMBER_KIND_INTERNAL") { internal++; }
      if (val(p + "role") === "COMMITTEE_ROLE_CHAIR") { chairs++; }
    }
    var pct = n ? Math.round(internal * 100 / n) : 0;
    var msgs = [fill(comEl.getAttribute("data-summary"), { n: n, i: internal, p: pct, c: chairs })];
    if (n < 5 || n > 9) { msgs.push(comEl.getAttribute("data-size")); }
    if (n % 2 === 0) { msgs.push(comEl.getAttribute("data-odd")); }
    if (internal * 100 > n * 45) { msgs.push(comEl.getAttribute("data-share")); }
    if (chairs !== 1) { msgs.push(comEl.getAttribute("data-chair")); }
    show(comEl, msgs.join(" "), msgs.length === 1);
  }

  form.addEventListener("input", function (ev) {
    var name = ev.target.name || "";
    if (name.indexOf("score_weights-") === 0) { checkWeights(); }
    if (name.indexOf("committee-") === 0) { checkCommittee(); }
  });
  form.addEventListener("change", function (ev) {
    if ((ev.target.name || "").indexOf("committee-") === 0) { checkCommittee(); }
  });
  checkWeights();
  checkCommittee();
});
