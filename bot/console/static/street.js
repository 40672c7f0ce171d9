// 街道看板: fetch the trend (six months of tickets, slower than the month's table) once the
// page is shown, and put it in place. No build step.
"use strict";
(function () {
  const box = document.getElementById("street-trend");
  if (!box) return;
  fetch(box.dataset.src, { credentials: "same-origin" })
    .then((answer) => {
      if (!answer.ok) throw new Error(String(answer.status));
      return answer.text();
    })
    .then((html) => { box.innerHTML = html; })
    .catch(() => { box.innerHTML = '<p class="muted">走势暂时无法显示，请刷新页面重试。</p>'; });
})();
