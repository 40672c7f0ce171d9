// The simulator: a WeChat-like conversation with the bot, as any person, and the pushes panel.
// Each person's conversation is kept in sessionStorage (this tab), so switching back shows it.
"use strict";
(function () {
  const { el, post, get } = window.ysk;
  const urls = document.body.dataset;
  const OPENID = /^[A-Za-z0-9_-]{1,64}$/;
  const KEEP_MESSAGES = 200;
  const KEEP_PUSHES = 200;
  const store = window.sessionStorage;
  const $ = (id) => document.getElementById(id);

  const state = { openid: "", people: [], pushes: [], lastPush: 0, sending: false };

  // -- per-person conversations ----------------------------------------------------------
  function conversation(openid) {
    try {
      return JSON.parse(store.getItem("ysk-sim:chat:" + openid) || "[]");
    } catch (e) {
      return [];
    }
  }

  function remember(openid, entry) {
    const list = conversation(openid);
    list.push(entry);
    store.setItem("ysk-sim:chat:" + openid, JSON.stringify(list.slice(-KEEP_MESSAGES)));
    if (openid === state.openid) showChat();
  }

  function person(openid) {
    return state.people.find((p) => p.openid === openid) || null;
  }

  function initial(openid) {
    const found = person(openid);
    if (found && found.name) return found.name.slice(0, 1);
    return found && found.kind !== "resident" ? "工" : "居";
  }

  // "18:02" today, "11月23日 18:02" before: in the community's time zone, as pushes show it.
  const parts = (options) => new Intl.DateTimeFormat("zh-CN", Object.assign(
    { timeZone: urls.zone || undefined, hour12: false }, options));
  const hourMinute = parts({ hour: "2-digit", minute: "2-digit" });
  const day = parts({ month: "numeric", day: "numeric" });

  function clock(at) {
    const hm = hourMinute.format(new Date(at));
    const sameDay = day.format(new Date(at)) === day.format(new Date());
    return sameDay ? hm : day.format(new Date(at)) + " " + hm;
  }

  function bubble(entry, openid) {
    if (entry.from === "note") return el("div", { class: "wx-note" }, entry.text);
    if (entry.from === "error") return el("div", { class: "wx-note wx-error", role: "alert" }, entry.text);
    const mine = entry.from === "me";
    return el("div", { class: "wx-row " + (mine ? "me" : "bot") },
      el("div", { class: "wx-avatar", "aria-hidden": "true" }, mine ? initial(openid) : "议"),
      el("div", { class: "wx-bubble" },
        entry.push ? el("span", { class: "wx-tag" }, "推送") : null,
        entry.text));
  }

  function showChat() {
    const chat = $("chat");
    chat.replaceChildren();
    let previous = 0;
    for (const entry of conversation(state.openid)) {
      if (entry.at && entry.at - previous > 3 * 60 * 1000) {
        chat.append(el("div", { class: "wx-time" }, clock(entry.at)));
      }
      if (entry.at) previous = entry.at;
      chat.append(bubble(entry, state.openid));
    }
    chat.scrollTop = chat.scrollHeight;
  }

  // -- who am I --------------------------------------------------------------------------
  function actAs(openid) {
    if (!OPENID.test(openid)) {
      showWhoError("openid 只能由字母、数字、下划线和短横线组成，长度 1 到 64 个字符。");
      return;
    }
    showWhoError("");
    state.openid = openid;
    store.setItem("ysk-sim:current", openid);
    const found = person(openid);
    $("person-select").value = found ? openid : "";
    $("openid-input").value = openid;
    $("chat-who").textContent = "以「" + (found ? found.label : openid) + "」的身份";
    showChat();
    showPushes();
  }

  function showWhoError(text) {
    $("who-error").textContent = text;
    $("who-error").hidden = !text;
  }

  async function loadPeople() {
    try {
      state.people = (await get(urls.peopleUrl)).people || [];
    } catch (e) {
      state.people = [];
    }
    const select = $("person-select");
    for (const p of state.people) select.append(el("option", { value: p.openid }, p.label));
    const stored = store.getItem("ysk-sim:current");
    const resident = state.people.find((p) => p.kind === "resident");
    actAs(stored || (resident || state.people[0] || { openid: "o_sim_resident" }).openid);
  }

  // -- talking -----------------------------------------------------------------------------
  async function send(data, shown) {
    if (state.sending) return;
    const openid = state.openid;
    state.sending = true;
    $("send-button").disabled = true;
    remember(openid, shown);
    let body;
    try {
      body = await post(urls.sendUrl, Object.assign({ openid }, data));
    } catch (e) {
      body = { error: "无法连接服务器：" + e.message };
    }
    state.sending = false;
    $("send-button").disabled = false;
    if (body.error) remember(openid, { from: "error", text: body.error, at: Date.now() });
    else if (body.reply) remember(openid, { from: "bot", text: body.reply, at: Date.now() });
  }

  $("send-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("message-input");
    const text = input.value;
    if (!text.trim() || state.sending) return;
    input.value = "";
    send({ text }, { from: "me", text, at: Date.now() });
    input.focus();
  });

  document.querySelectorAll(".wx-menu button").forEach((button) => {
    button.addEventListener("click", () => send(
      { event: "click", key: button.dataset.key },
      { from: "note", text: "点击了菜单「" + button.textContent.trim() + "」", at: Date.now() }));
  });

  document.querySelectorAll(".wx-follow button").forEach((button) => {
    button.addEventListener("click", () => send(
      { event: button.dataset.event },
      { from: "note", text: button.dataset.event === "subscribe" ? "关注了公众号" : "取消关注了公众号", at: Date.now() }));
  });

  $("person-select").addEventListener("change", (event) => {
    if (event.target.value) actAs(event.target.value);
    else $("openid-input").focus();
  });

  $("openid-form").addEventListener("submit", (event) => {
    event.preventDefault();
    actAs($("openid-input").value.trim());
  });

  // -- pushes --------------------------------------------------------------------------------
  function showPushes() {
    const mineOnly = $("push-filter").value === "mine";
    const list = $("pushes");
    const shown = state.pushes.filter((p) => !mineOnly || p.to.includes(state.openid));
    list.replaceChildren(...shown.slice().reverse().map((p) => el("li", { class: "sim-push", "data-id": p.id },
      el("div", { class: "sim-push-head" },
        el("b", {}, p.recipient), " ", el("span", { class: "muted" }, p.when),
        " ", el("span", { class: "badge " + p.status }, p.status_label)),
      el("div", { class: "sim-push-text" }, p.text))));
    $("pushes-empty").hidden = shown.length > 0;
  }

  function received(pushes, intoChats) {
    for (const p of pushes) {
      if (p.id <= state.lastPush) continue;
      state.pushes.push(p);
      state.lastPush = p.id;
      if (intoChats) {
        // As WeChat shows a customer-service message: in the recipient's own conversation.
        for (const openid of p.to) remember(openid, { from: "bot", text: p.text, at: Date.parse(p.at), push: true });
      }
    }
    state.pushes = state.pushes.slice(-KEEP_PUSHES);
    store.setItem("ysk-sim:lastpush", String(state.lastPush));
    if (pushes.length) showPushes();
  }

  async function poll() {
    let more = false;
    try {
      const body = await get(urls.pushesUrl + "?after=" + state.lastPush);
      received(body.pushes || [], true);
      more = (body.pushes || []).length >= 100;
    } catch (e) {
      // The server is restarting: try again on the next tick.
    }
    setTimeout(poll, more ? 0 : 1000);
  }

  async function startPushes() {
    let seen = Number(store.getItem("ysk-sim:lastpush") || "0");
    try {
      const body = await get(urls.pushesUrl);
      if ((body.last || 0) < seen) seen = 0; // a new database since this tab last looked
      const recent = body.pushes || [];
      // Pushes from before this tab opened go to the panel only; later ones also to chats.
      received(recent.filter((p) => !seen || p.id <= seen), false);
      received(recent.filter((p) => seen && p.id > seen), true);
      state.lastPush = Math.max(state.lastPush, body.last || 0);
    } catch (e) {
      state.lastPush = seen;
    }
    showPushes();
    poll();
  }

  $("push-filter").addEventListener("change", showPushes);

  loadPeople().then(startPushes);
})();
