// Draws the page's Plotly figures and sparklines; a click on a point with a URL drills down.
(function () {
  // A point's drill-down URL: its customdata (a string; heatmaps hold one per cell).
  function target(point) {
    var url = point && point.customdata;
    return typeof url === "string" && url.indexOf("/console/") === 0 ? url : null;
  }
  var leaving = false;
  function go(points) {
    var url = target(points && points[0]);
    if (url && !leaving) {
      leaving = true;  // one navigation even when Plotly and the fallback both report it
      window.location.assign(url);
    }
    return !!url;
  }
  var holder = document.getElementById("figures");
  if (holder && window.Plotly) {
    var figs = JSON.parse(holder.textContent);
    Object.keys(figs).forEach(function (id) {
      var el = document.getElementById(id);
      if (!el) return;
      Plotly.newPlot(el, figs[id].data, figs[id].layout, {displaylogo: false, responsive: true})
        .then(function () { el.dataset.drawn = "1"; });
      var hovered = null;
      el.on("plotly_hover", function (ev) { hovered = ev.points; });
      el.on("plotly_unhover", function () { hovered = null; });
      el.on("plotly_click", function (ev) { go(ev.points); });
      // A treemap zooms on click instead of reporting it as a plain click: follow the link.
      el.on("plotly_treemapclick", function (ev) { return !go(ev.points); });
      // Fallback for clicks Plotly does not report (e.g. a mouseup right after the hover in
      // a headless browser): the point under the pointer when the element is clicked.
      el.addEventListener("click", function () { if (hovered) go(hovered); });
    });
  }
  document.querySelectorAll(".spark").forEach(function (el) {
    var ys = JSON.parse(el.dataset.series || "[]");
    if (!ys.length || !window.Plotly) return;
    Plotly.newPlot(el, [{y: ys, type: "scatter", mode: "lines", hoverinfo: "skip"}],
      {margin: {t: 0, l: 0, r: 0, b: 0}, height: 36, xaxis: {visible: false}, yaxis: {visible: false}},
      {staticPlot: true, displayModeBar: false});
  });
})();
