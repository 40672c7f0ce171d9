// Shared by every console page: the CSRF token for fetch(), and small helpers. No build step.
"use strict";
window.ysk = (function () {
  const meta = document.querySelector('meta[name="csrf-token"]');
  let token = meta ? meta.content : "";

  function send(url, data) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(data || {}),
      credentials: "same-origin",
    });
  }

  // Logging in (in another tab, say) starts a new session with a new CSRF token: a page
  // opened before then would fail every POST. On a 400, ask for the session's token once and,
  // if it changed, send again with it.
  async function freshToken() {
    try {
      const answer = await fetch("/admin/csrf-token", { credentials: "same-origin" });
      return (await answer.json()).token || null;
    } catch (error) {
      return null;
    }
  }

  async function post(url, data) {
    let response = await send(url, data);
    if (response.status === 400) {
      const fresh = await freshToken();
      if (fresh && fresh !== token) {
        token = fresh;
        if (meta) meta.content = fresh;
        response = await send(url, data);
      }
    }
    const body = await response.json().catch(() => ({ error: "服务器没有返回可读的结果" }));
    if (!response.ok && !body.error) body.error = "请求失败（" + response.status + "）";
    return body;
  }

  async function get(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    return response.json();
  }

  // Text into the page as text, never as HTML: residents' words are shown, not run.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  return { get token() { return token; }, post, get, el };
})();
