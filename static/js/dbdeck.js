// Small progressive enhancements; every page works without them.
(function () {
  var toggle = document.getElementById("theme-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var root = document.documentElement;
      var dark = root.dataset.theme === "dark" ||
        (root.dataset.theme === "auto" && matchMedia("(prefers-color-scheme: dark)").matches);
      root.dataset.theme = dark ? "light" : "dark";
      localStorage.setItem("dbdeck-theme", root.dataset.theme);
    });
  }
  // Connection form: show only the fields the chosen engine uses, with its labels and default port,
  // as the engines describe themselves (ConnectionForm.engine_forms, rendered with json_script).
  var engine = document.getElementById("id_engine");
  var described = document.getElementById("engine-forms");
  if (engine && described) {
    var forms = JSON.parse(described.textContent);
    var sync = function () {
      var mine = forms.engines[engine.value] || {fields: [], labels: {}, default_port: null};
      forms.fields.forEach(function (name) {
        var input = document.getElementById("id_" + name);
        var field = input && input.closest(".field");
        if (field) field.hidden = mine.fields.indexOf(name) === -1;
      });
      Object.keys(forms.labels).forEach(function (name) {
        var label = document.querySelector("label[for=id_" + name + "]");
        if (label) label.textContent = mine.labels[name] || forms.labels[name];
      });
      var port = document.getElementById("id_port");
      if (port) port.placeholder = mine.default_port === null ? "" : String(mine.default_port);
    };
    engine.addEventListener("change", sync);
    sync();
  }
  // In place of inline handlers (the Content-Security-Policy forbids them). Delegated from the
  // document, so buttons and fields that htmx swaps in later behave the same.
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    var asking = target.closest("[data-confirm]");
    if (asking && !window.confirm(asking.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    var select = target.closest("[data-select-on-click]");
    if (select && typeof select.select === "function") select.select();
  }, true);
  // htmx does not swap in error answers (4xx, 5xx); a link that failed in place is followed
  // as a plain link instead, so the error page with its message is what the person sees.
  document.addEventListener("htmx:responseError", function (event) {
    var link = event.detail && event.detail.elt && event.detail.elt.closest("a[href]");
    if (link && link.getAttribute("href") !== "#") window.location.assign(link.href);
  });
})();
