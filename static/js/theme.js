// Runs before paint so a dark-mode user never sees a white flash.
(function () {
  var saved = localStorage.getItem("dbdeck-theme");
  if (saved === "light" || saved === "dark") document.documentElement.dataset.theme = saved;
})();
