// 分类规则: the try-a-message box (live, as you type) and the backtest of a pending change.
"use strict";
(function () {
  const el = ysk.el;

  // --- 试一试 ---------------------------------------------------------------------------
  const box = document.getElementById("try");
  if (box) {
    const input = document.getElementById("try-text");
    const status = document.getElementById("try-status");
    const result = document.getElementById("try-result");
    const field = (name) => result.querySelector('[data-field="' + name + '"]');
    let timer = null;
    let asked = 0;

    async function analyse() {
      const text = input.value;
      const ticket = ++asked;
      if (!text.trim()) { result.hidden = true; status.textContent = ""; return; }
      status.textContent = "分析中…";
      let data;
      try {
        data = await ysk.get(box.dataset.url + "?text=" + encodeURIComponent(text));
      } catch (e) {
        status.textContent = "请求失败，请重试";
        return;
      }
      if (ticket !== asked) return; // a newer text is on its way
      status.textContent = "";
      show(data);
    }

    function show(data) {
      if (data.empty) { result.hidden = true; return; }
      const verdict = field("verdict");
      verdict.replaceChildren(data.verdict);
      verdict.className = data.by ? "verdict-sure" : "verdict-unsure";
      field("tokens").replaceChildren(...(data.tokens.length
        ? data.tokens.map((t) => el("span", { class: "badge" }, t)) : ["（无）"]));
      field("matches").replaceChildren(...(data.matches.length ? data.matches.map((m) =>
        el("li", {}, el("b", {}, m.topic + "："), m.rules.map((r) =>
          r.kind === "exclude" ? r.keyword + "（否决）" : r.keyword + "（+" + r.weight + "）"
        ).join("、"))) : [el("li", { class: "muted" }, "没有命中任何关键词")]));
      const top = data.scores.length ? data.scores[0].score : 1;
      field("scores").replaceChildren(...data.scores.map((s, i) =>
        el("tr", { class: i === 0 ? "winner" : "" }, el("td", {}, s.topic),
          el("td", {}, el("span", { class: "bar", style: "width:" + Math.max(4, 120 * s.score / top) + "px" }),
            String(s.score)))));
      field("vetoed").textContent = data.vetoed.length ? "被否决的分类：" + data.vetoed.join("、") : "";
      showModel(data);
      result.hidden = false;
    }

    // The model is asked only when the rules are unsure: its ranking and its n-grams.
    function showModel(data) {
      const model = data.model;
      field("model").hidden = !model;
      if (model) {
        field("model-ranked").textContent = model.ranked.slice(0, 3).map((r) => r.topic + " " + r.shown).join("，");
        field("model-need").textContent = data.by === "model" ? "" : !model.words ? "（只有数字或符号，模型不作判断）" :
          "（需 ≥" + Math.round(model.threshold * 100) + "% 且领先 " + Math.round(model.margin * 100) + "%）";
        field("model-for").textContent = model.for;
        field("model-terms").replaceChildren(...(model.terms.length ? model.terms.map((t) =>
          el("span", { class: "badge" }, t.term + " " + (t.weight >= 0 ? "+" : "") + t.weight.toFixed(2))) : ["（无）"]));
      }
      field("model-none").textContent = model ? "" : data.by === "rules" ? "规则已确定，未询问模型。" : "未使用模型。";
    }

    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(analyse, 250); });
    document.getElementById("try-go").addEventListener("click", analyse);
    if (input.value.trim()) analyse();
  }

  // --- 回测 -------------------------------------------------------------------------------
  const panel = document.getElementById("backtest");
  if (panel) {
    const out = document.getElementById("backtest-result");
    const pct = (v) => (v * 100).toFixed(1) + "%";

    function pending(form) {
      const value = (name) => {
        const node = form.elements.namedItem(name);
        return node ? node.value : null;
      };
      const checkbox = form.elements.namedItem("enabled");
      return {
        topic_id: Number(panel.dataset.topic),
        keyword: form.dataset.keyword || value("keyword") || "",
        weight: value("weight"),
        kind: value("kind") || "include",
        enabled: checkbox && checkbox.type === "checkbox" ? checkbox.checked : true,
      };
    }

    function delta(before, after) {
      const d = after - before;
      if (Math.abs(d) < 0.0005) return el("span", { class: "muted" }, "—");
      return el("span", { class: d > 0 ? "delta-up" : "delta-down" }, (d > 0 ? "+" : "") + (d * 100).toFixed(1));
    }

    function row(label, before, after, changed) {
      return el("tr", { class: changed ? "changed" : "" }, el("td", {}, label),
        el("td", {}, pct(before)), el("td", {}, pct(after)), el("td", {}, delta(before, after)));
    }

    function render(change, data) {
      const b = data.before, a = data.after;
      const overall = el("table", {}, el("thead", {}, el("tr", {},
          el("th", {}, "总体（" + data.sample + " 条）"), el("th", {}, "改动前"), el("th", {}, "改动后"), el("th", {}, "变化（百分点）"))),
        el("tbody", {}, row("准确率", b.accuracy, a.accuracy), row("平均精确率", b.precision, a.precision),
          row("平均召回率", b.recall, a.recall), row("宏平均 F1", b.macro_f1, a.macro_f1),
          row("不确定占比", b.unsure_share, a.unsure_share)));
      const after = Object.fromEntries(a.topics.map((t) => [t.topic, t]));
      const perTopic = el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "分类"), el("th", {}, "条数"),
          el("th", {}, "精确率 前 → 后"), el("th", {}, "召回率 前 → 后"))),
        el("tbody", {}, ...b.topics.map((t) => {
          const n = after[t.topic] || t;
          const changed = n.precision !== t.precision || n.recall !== t.recall;
          return el("tr", { class: changed ? "changed" : "" }, el("td", {}, t.topic), el("td", {}, t.support),
            el("td", {}, pct(t.precision) + " → " + pct(n.precision), " ", delta(t.precision, n.precision)),
            el("td", {}, pct(t.recall) + " → " + pct(n.recall), " ", delta(t.recall, n.recall)));
        })));
      out.replaceChildren(el("p", {}, "改动：" + change + "（尚未保存）"),
        el("div", { class: "table-wrap" }, overall), el("h3", {}, "各分类"), el("div", { class: "table-wrap" }, perTopic));
    }

    document.querySelectorAll("[data-backtest]").forEach((button) => {
      button.addEventListener("click", async () => {
        const form = document.getElementById(button.dataset.backtest);
        const change = pending(form);
        if (!change.keyword.trim()) { out.replaceChildren(el("p", { class: "flash error" }, "请先填写关键词。")); return; }
        out.replaceChildren(el("p", { class: "muted" }, "回测中…"));
        const data = await ysk.post(panel.dataset.url, change);
        if (data.error) { out.replaceChildren(el("p", { class: "flash error" }, data.error)); return; }
        const what = change.keyword + " 权重 " + change.weight + (change.kind === "exclude" ? "（否决）" : "") + (change.enabled ? "" : "（停用）");
        render(what, data);
        panel.scrollIntoView({ behavior: "smooth", block: "start" });
      });
    });
  }

  // A long list of rules, narrowed as you type.
  const filter = document.getElementById("rule-filter");
  if (filter) {
    filter.addEventListener("input", () => {
      const needle = filter.value.trim().toLowerCase();
      document.querySelectorAll("#rules tbody tr[data-keyword]").forEach((row) => {
        row.hidden = needle !== "" && !row.dataset.keyword.toLowerCase().includes(needle);
      });
    });
  }

  // Deleting asks first.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => { if (!window.confirm(form.dataset.confirm)) event.preventDefault(); });
  });
})();
