// Draws the page's Plotly figures and sparklines; a click on a point with a URL drills down.
(function () {
  var holder = document.getElementById("figures");
  if (holder && window.Plotly) {
    var figs = JSON.parse(holder.textContent);
    Object.keys(figs).forEach(function (id) {
      var el = document.getElementById(id);
      if (!el) return;
      Plotly.newPlot(el, figs[id].data, figs[id].layout, {displaylogo: false, responsive: true});
      el.on("plotly_click", function (ev) {
        var url = ev.points[0] && ev.points[0].customdata;
        if (url) window.location.href = url;
      });
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
