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
  // Connection form: show only the fields the chosen engine uses.
  var engine = document.getElementById("id_engine");
  if (engine) {
    var sync = function () {
      document.querySelectorAll("[data-engines]").forEach(function (input) {
        var field = input.closest(".field");
        if (field) field.hidden = input.dataset.engines.split(" ").indexOf(engine.value) === -1;
      });
      var db = document.querySelector("label[for=id_database]");
      if (db) db.textContent = {sqlite: "File path", redis: "Database index", s3: "Bucket (optional)", mongodb: "Database"}[engine.value] || "Database";
    };
    engine.addEventListener("change", sync);
    sync();
  }
})();
