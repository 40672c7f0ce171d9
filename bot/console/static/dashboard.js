// 工作台: draws the charts from the JSON the page carries (#dashboard-data) with Chart.js.
"use strict";
(function () {
  const source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const labels = data.labels;
  const green = "#07c160", blue = "#0969da", amber = "#d4a72c";
  window.yskCharts = {};

  function empty(canvas) {
    // No bars to draw: say so in the box instead of an empty frame.
    canvas.replaceWith(ysk.el("p", { class: "empty-chart" }, labels.empty));
  }

  function trend() {
    const canvas = document.getElementById("trend-chart");
    window.yskCharts.trend = new Chart(canvas, {
      type: "line",
      data: {
        labels: data.days,
        datasets: [
          { label: labels.created, data: data.created, borderColor: blue, backgroundColor: blue, cubicInterpolationMode: "monotone" },
          { label: labels.resolved, data: data.resolved, borderColor: green, backgroundColor: green, cubicInterpolationMode: "monotone" },
        ],
      },
      options: {
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  function bars(id, groups) {
    const canvas = document.getElementById(id);
    if (!groups.length) return empty(canvas);
    window.yskCharts[id] = new Chart(canvas, {
      type: "bar",
      data: {
        labels: groups.map((g) => g.name),
        datasets: [
          { label: labels.open, data: groups.map((g) => g.open), backgroundColor: amber, maxBarThickness: 28 },
          { label: labels.done, data: groups.map((g) => g.tickets - g.open), backgroundColor: green, maxBarThickness: 28 },
        ],
      },
      options: {
        indexAxis: "y",
        maintainAspectRatio: false,
        scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } },
        // A bar opens the tickets list of its topic or grid.
        onClick: (event, elements) => {
          const group = elements.length ? groups[elements[0].index] : null;
          if (group && group.url) window.location.href = group.url;
        },
        onHover: (event, elements) => {
          const group = elements.length ? groups[elements[0].index] : null;
          event.native.target.style.cursor = group && group.url ? "pointer" : "default";
        },
      },
    });
  }

  trend();
  bars("topic-chart", data.topics);
  bars("grid-chart", data.grids);
})();
