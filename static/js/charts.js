// Monitoring charts: uPlot time series from the page's JSON (json_script), coloured from the theme's
// CSS variables so they read in dark mode too. Without JavaScript the page shows the same numbers as tables.
(function () {
  var data = document.getElementById("mon-chart-data");
  if (!data || typeof uPlot === "undefined") return;
  var charts = JSON.parse(data.textContent);
  var palette = ["--accent", "--warn", "--ok", "--fail", "--muted"];
  var plots = [];

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
  }

  function options(chart, width) {
    var text = css("--text"), line = css("--line");
    var axis = {stroke: text, grid: {stroke: line, width: 1}, ticks: {stroke: line, width: 1}};
    return {
      width: width,
      height: 180,
      legend: {show: true},
      cursor: {drag: {x: true, y: false}},
      scales: {x: {time: true}},
      axes: [Object.assign({}, axis), Object.assign({size: 60}, axis)],
      series: [{}].concat(chart.series.map(function (s, i) {
        return {label: s.label, stroke: css(palette[i % palette.length]), width: 1.5, spanGaps: false,
                points: {show: chart.x.length < 60}};
      })),
    };
  }

  function draw() {
    plots.forEach(function (p) { p.destroy(); });
    plots = [];
    charts.forEach(function (chart) {
      var el = document.querySelector('[data-chart="' + chart.key + '"]');
      if (!el) return;
      var width = Math.max(260, el.clientWidth || 400);
      var series = [chart.x].concat(chart.series.map(function (s) { return s.values; }));
      plots.push(new uPlot(options(chart, width), series, el));
    });
  }

  draw();
  var pending;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(draw, 200);
  });
  // Redraw with the other palette when the theme toggles (the toggle flips data-theme on <html>).
  new MutationObserver(draw).observe(document.documentElement, {attributes: true, attributeFilter: ["data-theme"]});
})();
