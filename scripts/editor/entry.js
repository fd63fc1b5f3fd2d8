// The console's editor: CodeMirror 6 with SQL highlighting and completion from the cached catalog.
// Built by scripts/build-editor.sh into static/vendor/codemirror/editor.js; the page works without it.
import { EditorView, basicSetup } from "codemirror";
import { keymap } from "@codemirror/view";
import { sql, PostgreSQL, MySQL, SQLite } from "@codemirror/lang-sql";
import { json } from "@codemirror/lang-json";

function mount(textarea, options) {
  var opts = options || {};
  var schema = {};
  (opts.words || []).forEach(function (w) { schema[w] = []; });
  var language = opts.language === "sql" ? sql({ dialect: PostgreSQL, schema: schema, upperCaseKeywords: true })
    : opts.language === "mongo" ? json() : [];
  var holder = document.createElement("div");
  holder.className = "console-editor-holder";
  textarea.parentNode.insertBefore(holder, textarea);
  var extra = opts.nonce ? [EditorView.cspNonce.of(opts.nonce)] : [];
  var view = new EditorView({
    parent: holder,
    doc: textarea.value,
    extensions: [
      basicSetup,
      extra,
      language,
      keymap.of([{ key: "Mod-Enter", run: function () { if (opts.onRun) { opts.onRun(); } return true; } }]),
    ],
  });
  textarea.hidden = true;
  view.dom.classList.add("console-editor");
  return {
    view: view,
    save: function () { textarea.value = view.state.doc.toString(); },
  };
}

window.DbdeckEditor = { mount: mount, dialects: { PostgreSQL: PostgreSQL, MySQL: MySQL, SQLite: SQLite } };
