// 投票 page: the tally as a bar chart, refreshed from tally.json every few seconds.
"use strict";
(function () {
  const section = document.getElementById("poll-tally");
  if (!section) return;
  const url = section.dataset.url;
  const every = Number(section.dataset.refresh) || 3000;
  const first = JSON.parse(document.getElementById("tally-data").textContent);

  const chart = new Chart(document.getElementById("tally-chart"), {
    type: "bar",
    data: {
      labels: first.labels.map((label, i) => label + " " + first.options[i]),
      datasets: [{ label: "票数", data: first.counts, backgroundColor: "#07c160" }],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: { duration: 300 },
      plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });

  function text(id, value) {
    const node = document.getElementById(id);
    if (node) node.textContent = value;
  }

  // [words, tone] from the server (polls_view.py): neutral while the poll is open.
  function verdict(id, pair) {
    const node = document.getElementById(id);
    if (!node || !pair) return;
    node.textContent = pair[0];
    node.className = pair[1];
  }

  function pct(value) {
    return value === null || value === undefined ? "—" : Math.round(value * 100) + "%";
  }

  function show(tally) {
    chart.data.datasets[0].data = tally.counts;
    chart.update();
    tally.labels.forEach((label, i) => {
      const cell = section.querySelector('[data-count="' + label + '"]');
      if (cell) cell.textContent = String(tally.counts[i]);
    });
    text("tally-ballots", tally.ballots);
    text("tally-eligible", tally.eligible);
    text("tally-turnout", pct(tally.turnout));
    text("poll-status", tally.status_name);
    verdict("tally-quorum", tally.quorum_verdict);
    verdict("tally-passed", tally.passed_verdict);
    let outcome = "暂无投票";
    if (tally.tie) outcome = "平票：" + tally.leaders.join("、");
    else if (tally.leaders.length) outcome = "领先：" + tally.leaders[0];
    text("tally-outcome", outcome);
    const clock = { hour12: false, timeZone: section.dataset.zone || undefined };
    text("tally-updated", "实时更新 · " + new Date().toLocaleTimeString("zh-CN", clock));
  }

  async function refresh() {
    if (document.hidden) return;
    try {
      show(await ysk.get(url));
    } catch (error) {
      text("tally-updated", "暂时无法刷新，稍后重试");
    }
  }

  setInterval(refresh, every);

  // Forms that change something for good ask first (the close button).
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
})();
