// The query console: Ctrl+Enter runs, the Explain button carries the statement, and the
// CodeMirror editor (static/vendor/codemirror/editor.js) replaces the textarea when it loaded.
(function () {
  "use strict";
  var form = document.getElementById("console-form");
  var text = document.getElementById("console-text");
  if (!form || !text) { return; }
  var words = [];
  var wordsNode = document.getElementById("console-words");
  if (wordsNode) { try { words = JSON.parse(wordsNode.textContent || "[]"); } catch (e) { words = []; } }
  var editor = null;
  var nonce = document.currentScript ? document.currentScript.nonce : "";
  if (window.DbdeckEditor && typeof window.DbdeckEditor.mount === "function") {
    editor = window.DbdeckEditor.mount(text, { language: text.dataset.language, words: words, onRun: submit, nonce: nonce });
  }
  function submit() {
    if (editor) { editor.save(); }
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }
  form.addEventListener("submit", function () { if (editor) { editor.save(); } });
  text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); submit(); }
  });
  var explain = document.getElementById("console-explain");
  if (explain) {
    explain.addEventListener("click", function (event) {
      if (editor) { editor.save(); }
      event.preventDefault();
      window.location.href = explain.dataset.explain + "?statement=" + encodeURIComponent(text.value);
    });
  }
})();
