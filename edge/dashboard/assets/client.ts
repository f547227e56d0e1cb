/**
 * The dashboard's only script, served at /dashboard/assets/dashboard.js: progressive enhancement. Every
 * page works without it; with it, the per-hour table on the overview also becomes a uPlot chart, and
 * destructive forms ask for confirmation. Plain ES2017 in a string, served by the edge as is.
 */
export const CLIENT_JS = `"use strict";
(function () {
  function plot(holder) {
    var source = document.getElementById(holder.getAttribute("data-source"));
    if (!source || typeof uPlot !== "function") return;
    var d = JSON.parse(source.textContent);
    var colours = ["#0a5bc4", "#a40e26", "#116329"];
    var series = [{ label: "hour" }].concat(d.series.map(function (s, i) {
      return { label: s.label, stroke: colours[i % colours.length], width: 2, points: { show: true, size: 5 } };
    }));
    var data = [d.x].concat(d.series.map(function (s) { return s.values; }));
    var size = function () { return { width: Math.max(holder.clientWidth, 240), height: 240 }; };
    var opts = Object.assign(size(), {
      series: series,
      axes: [{}, { label: d.yLabel || "" }],
      scales: { x: { time: true } },
    });
    var chart = new uPlot(opts, data, holder);
    var timer = 0;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { chart.setSize(size()); }, 150);
    });
  }
  document.querySelectorAll("[data-plot]").forEach(plot);
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
    });
  });
})();
`;
