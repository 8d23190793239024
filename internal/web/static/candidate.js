// Seleksi: the candidate's documents upload in resumable chunks with a progress bar
// (tus-js-client, static/vendor/tus.min.js) through the web application's relay
// /unggah/tus/, which forwards them to the upload handler as the signed-in candidate.
// Without JavaScript, or where the browser lacks what tus needs, each form posts its file
// to /unggah/dokumen as it is. No inline scripts: the Content-Security-Policy allows files.
"use strict";
(function () {
  function texts() {
    var el = document.getElementById("teks-unggah");
    return el ? el.dataset : {};
  }
  function size(n) {
    if (n < 1024) { return n + " B"; }
    if (n < 1048576) { return Math.round(n / 1024) + " KB"; }
    return (n / 1048576).toFixed(1) + " MB";
  }
  // message is the refusal's text: the upload handler answers with a google.rpc.Status in
  // the page's language.
  function message(err, fallback) {
    var res = err && err.originalResponse;
    if (res) {
      try {
        var st = JSON.parse(res.getBody());
        if (st && st.message) { return st.message; }
      } catch (e) { /* not JSON */ }
    }
    return fallback;
  }
  function showError(form, input, text) {
    var id = input.id + "-error";
    var el = document.getElementById(id);
    if (!el) {
      el = document.createElement("span");
      el.className = "field-error";
      el.id = id;
      el.setAttribute("role", "alert");
      input.parentNode.insertBefore(el, input);
      input.setAttribute("aria-describedby", input.getAttribute("aria-describedby") + " " + id);
    }
    el.textContent = text;
    input.setAttribute("aria-invalid", "true");
  }
  function clearError(input) {
    var el = document.getElementById(input.id + "-error");
    if (el) { el.remove(); }
    input.removeAttribute("aria-invalid");
  }
  function showDone(form, file, doc) {
    var status = document.getElementById("status-" + form.dataset.kind);
    if (!status) { return; }
    var t = texts();
    status.textContent = "";
    var badge = document.createElement("span");
    badge.className = "badge ok";
    badge.textContent = t.done || "OK";
    status.appendChild(badge);
    status.appendChild(document.createTextNode(" " + file.name + " · " + size(doc.sizeBytes ? Number(doc.sizeBytes) : file.size)));
    if (doc.sha256) {
      status.appendChild(document.createElement("br"));
      var hint = document.createElement("span");
      hint.className = "hint";
      hint.appendChild(document.createTextNode("SHA-256 "));
      var code = document.createElement("code");
      code.className = "digest";
      code.textContent = doc.sha256;
      hint.appendChild(code);
      status.appendChild(hint);
    }
    status.dataset.document = doc.name || "";
  }
  function enhance(form) {
    var input = form.querySelector("input[type=file]");
    var bar = form.querySelector("progress");
    var button = form.querySelector("button[type=submit]");
    var csrf = form.querySelector("input[name=csrf_token]");
    form.addEventListener("submit", function (ev) {
      var file = input.files && input.files[0];
      if (!file) { return; } // the server says what is missing
      ev.preventDefault();
      clearError(input);
      var t = texts();
      var doc = {};
      button.disabled = true;
      bar.hidden = false;
      bar.value = 0;
      var upload = new window.tus.Upload(file, {
        endpoint: "/unggah/tus/",
        chunkSize: 1048576,
        retryDelays: [0, 1000, 3000, 5000, 10000],
        removeFingerprintOnSuccess: true,
        headers: { "X-CSRF-Token": csrf ? csrf.value : "" },
        metadata: { selection: form.dataset.selection, kind: form.dataset.kind, filename: file.name },
        onProgress: function (sent, total) {
          var pct = total ? Math.floor(sent * 100 / total) : 0;
          bar.value = pct;
          bar.textContent = pct + "%";
          if (t.uploading) { button.textContent = t.uploading.replace("{p}", pct); }
        },
        onAfterResponse: function (req, res) {
          var name = res.getHeader("Seleksi-Document");
          if (name) {
            doc.name = name;
            try { Object.assign(doc, JSON.parse(res.getBody() || "{}")); } catch (e) { /* headers suffice */ }
          }
        },
        onError: function (err) {
          button.disabled = false;
          button.textContent = t.upload || button.textContent;
          bar.hidden = true;
          showError(form, input, message(err, t.failed || "Upload failed"));
          input.focus();
        },
        onSuccess: function () {
          button.disabled = false;
          button.textContent = t.upload || button.textContent;
          bar.value = 100;
          showDone(form, file, doc);
          input.value = "";
        }
      });
      // An upload of the same file cut short earlier (a dropped connection, a closed tab)
      // goes on from where the server has it.
      upload.findPreviousUploads().then(function (previous) {
        if (previous.length) { upload.resumeFromPreviousUpload(previous[0]); }
        upload.start();
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.tus || !window.tus.isSupported) { return; }
    document.querySelectorAll("form.upload").forEach(enhance);
  });
})();
