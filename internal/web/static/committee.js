// Seleksi: enhancements of the committee's pages. Every flow works without this script: the
// score sheet is sent in one post and the result shown on a page. With it, the sheet's
// batches are sent one by one and a progress bar follows them. No inline scripts (CSP).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("kirim-nilai");
  if (!form || !window.fetch || !window.FormData) { return; }
  var total = parseInt(form.getAttribute("data-batches"), 10) || 0;
  var box = document.getElementById("kemajuan");
  var bar = document.getElementById("kemajuan-batang");
  var text = document.getElementById("kemajuan-teks");
  var done = document.getElementById("kemajuan-selesai");
  var button = document.getElementById("kirim-nilai-tombol");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    button.disabled = true;
    box.hidden = false;
    var i = 0;
    // Each batch carries the preview's request_id and its number, so sending again after a
    // failure repeats the batches already recorded harmlessly (the API answers them the same).
    function next() {
      if (i >= total) {
        text.textContent = form.getAttribute("data-done");
        done.hidden = false;
        return;
      }
      var data = new FormData(form);
      data.append("batch", String(i));
      fetch(form.action, { method: "POST", body: data, credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (res) {
          if (!res.ok) {
            text.textContent = form.getAttribute("data-failed") + " " + (res.error || "");
            button.disabled = false;
            return;
          }
          i++;
          bar.value = i;
          text.textContent = form.getAttribute("data-progress").replace("{done}", String(i)).replace("{total}", String(total));
          next();
        })
        .catch(function () {
          // Not an answer this script understands (the session ended, the network failed):
          // send the form the plain way, which shows a page saying what happened.
          form.submit();
        });
    }
    next();
  });
});
