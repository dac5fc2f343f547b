// Atiende web chat widget. Embed with:
//   <script src="https://HOST/widget.js" data-title="ChileAtiende" async></script>
// No framework, no third-party request; everything is rendered as text in a shadow root.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var base = new URL(script.src, location.href).origin;
  var title = script.getAttribute("data-title") || "ChileAtiende";
  var storeKey = "atiende-session:" + base;

  var host = document.createElement("div");
  host.setAttribute("data-atiende", "");
  var root = host.attachShadow({ mode: "closed" });
  var css = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}",
    ".launch{position:fixed;right:16px;bottom:16px;z-index:2147483000;background:#0a3d7a;color:#fff;border:0;border-radius:24px;padding:12px 18px;font-size:16px;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.3)}",
    ".launch:focus-visible,button:focus-visible,textarea:focus-visible,a:focus-visible{outline:3px solid #f2a900;outline-offset:2px}",
    ".panel{position:fixed;right:16px;bottom:72px;z-index:2147483000;width:min(380px,calc(100vw - 32px));height:min(560px,calc(100vh - 96px));background:#fff;color:#1b1b1b;border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.3);display:flex;flex-direction:column;overflow:hidden}",
    ".panel[hidden]{display:none}",
    "header{background:#0a3d7a;color:#fff;padding:10px 12px;display:flex;align-items:center;gap:8px}",
    "header h2{font-size:16px;margin:0;flex:1}",
    "header button{background:transparent;color:#fff;border:1px solid #fff;border-radius:6px;padding:4px 8px;font-size:14px;cursor:pointer}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f5f7fa}",
    ".msg{max-width:85%;padding:8px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word;font-size:15px;line-height:1.4}",
    ".me{align-self:flex-end;background:#0a3d7a;color:#fff}",
    ".bot{align-self:flex-start;background:#fff;border:1px solid #c9d3df}",
    ".err{align-self:center;background:#fde8e8;color:#8a1c1c;border:1px solid #e5a5a5}",
    ".cards,.opts{display:flex;flex-direction:column;gap:6px;align-self:flex-start;max-width:85%}",
    ".card{background:#fff;border:1px solid #c9d3df;border-radius:8px;padding:6px 10px;font-size:14px}",
    ".card a{color:#0a3d7a}",
    ".opts button{background:#fff;color:#0a3d7a;border:1px solid #0a3d7a;border-radius:16px;padding:6px 12px;font-size:14px;cursor:pointer;text-align:left}",
    ".typing{align-self:flex-start;color:#4a5563;font-size:14px;font-style:italic}",
    "form{display:flex;gap:6px;padding:8px;border-top:1px solid #c9d3df;background:#fff}",
    "textarea{flex:1;resize:none;font-size:15px;padding:8px;border:1px solid #6b7785;border-radius:8px;min-height:40px;max-height:96px}",
    "form button{background:#0a3d7a;color:#fff;border:0;border-radius:8px;padding:0 14px;font-size:15px;cursor:pointer}",
    ".person{margin:0 8px 8px;background:#fff;color:#0a3d7a;border:1px solid #0a3d7a;border-radius:8px;padding:6px;font-size:14px;cursor:pointer}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}",
    "@media (prefers-reduced-motion:no-preference){.panel{transition:opacity .15s}}"
  ].join("\n");
  var style = document.createElement("style");
  style.textContent = css;
  root.appendChild(style);

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) { e.setAttribute(k, attrs[k]); }
    if (text != null) { e.textContent = text; }
    return e;
  }

  var launch = el("button", { "class": "launch", "aria-expanded": "false", "aria-controls": "atiende-panel" }, "Chat " + title);
  var panel = el("section", { "class": "panel", id: "atiende-panel", role: "dialog", "aria-label": "Chat con " + title, hidden: "" });
  var header = el("header");
  header.appendChild(el("h2", null, title));
  var close = el("button", { type: "button", "aria-label": "Cerrar el chat" }, "Cerrar");
  header.appendChild(close);
  var log = el("div", { "class": "log", role: "log", "aria-live": "polite", "aria-label": "Conversación" });
  var form = el("form");
  var label = el("label", { "for": "atiende-text", "class": "sr" }, "Escriba su consulta");
  var input = el("textarea", { id: "atiende-text", rows: "1", maxlength: "2000", placeholder: "Escriba su consulta…" });
  var send = el("button", { type: "submit" }, "Enviar");
  form.appendChild(label); form.appendChild(input); form.appendChild(send);
  var person = el("button", { type: "button", "class": "person" }, "Hablar con una persona");
  panel.appendChild(header); panel.appendChild(log); panel.appendChild(form); panel.appendChild(person);
  root.appendChild(launch); root.appendChild(panel);

  var session = null;
  try { session = JSON.parse(sessionStorage.getItem(storeKey) || localStorage.getItem(storeKey) || "null"); } catch (e) { session = null; }
  var history = [];
  try { history = JSON.parse(localStorage.getItem(storeKey + ":log") || "[]"); } catch (e) { history = []; }

  function save() {
    try {
      localStorage.setItem(storeKey, JSON.stringify(session));
      localStorage.setItem(storeKey + ":log", JSON.stringify(history.slice(-50)));
    } catch (e) { /* private mode: the conversation lasts the page */ }
  }

  function show(item) {
    if (item.kind === "me") { log.appendChild(el("div", { "class": "msg me" }, item.text)); }
    else if (item.kind === "err") { log.appendChild(el("div", { "class": "msg err", role: "alert" }, item.text)); }
    else {
      log.appendChild(el("div", { "class": "msg bot" }, item.text));
      if (item.fichas && item.fichas.length && item.action === "answer") {
        var cards = el("div", { "class": "cards" });
        var f = item.fichas[0];
        var card = el("div", { "class": "card" });
        var a = el("a", { href: safeURL(f.url), target: "_blank", rel: "noopener noreferrer" }, f.title);
        card.appendChild(a);
        cards.appendChild(card);
        log.appendChild(cards);
      }
      if (item.options && item.options.length && item.live) {
        var opts = el("div", { "class": "opts", role: "group", "aria-label": "Opciones" });
        item.options.forEach(function (o) {
          var b = el("button", { type: "button" }, o.n + ". " + o.title);
          b.addEventListener("click", function () { opts.remove(); ask(o.title); });
          opts.appendChild(b);
        });
        log.appendChild(opts);
      }
    }
    log.scrollTop = log.scrollHeight;
  }

  function safeURL(u) {
    try { var p = new URL(u); return (p.protocol === "https:" || p.protocol === "http:") ? p.href : "#"; } catch (e) { return "#"; }
  }

  function api(path, body, token) {
    var headers = { "Content-Type": "application/json" };
    if (token) { headers.Authorization = "Bearer " + token; }
    return fetch(base + path, { method: "POST", headers: headers, body: JSON.stringify(body), credentials: "omit" })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (!r.ok) { var e = new Error(j.error || "Error " + r.status); e.status = r.status; throw e; }
          return j;
        });
      });
  }

  function ensureSession() {
    if (session && session.id && session.token) { return Promise.resolve(session); }
    return api("/api/v1/chat/sessions", {}).then(function (s) { session = s; history = []; save(); return s; });
  }

  var busy = false;
  function ask(text) {
    text = (text || "").trim();
    if (!text || busy) { return; }
    busy = true;
    var mine = { kind: "me", text: text };
    history.push(mine); show(mine); save();
    var typing = el("div", { "class": "typing", "aria-hidden": "true" }, "Escribiendo…");
    log.appendChild(typing);
    var clientId = Date.now().toString(36) + Math.random().toString(36).slice(2);
    ensureSession()
      .then(function (s) { return api("/api/v1/chat/sessions/" + encodeURIComponent(s.id) + "/messages", { text: text, client_id: clientId }, s.token); })
      .catch(function (e) {
        if (e.status === 401 || e.status === 404) { session = null; return ensureSession().then(function (s) { return api("/api/v1/chat/sessions/" + encodeURIComponent(s.id) + "/messages", { text: text, client_id: clientId }, s.token); }); }
        throw e;
      })
      .then(function (r) {
        var item = { kind: "bot", text: r.reply, action: r.action, fichas: r.fichas, options: r.options };
        history.push(item); save();
        item = Object.assign({ live: true }, item);
        typing.remove(); show(item);
      })
      .catch(function (e) {
        typing.remove();
        show({ kind: "err", text: e.message || "No se pudo enviar. Revise su conexión e intente de nuevo." });
      })
      .then(function () { busy = false; });
  }

  function open(on) {
    if (on) { panel.removeAttribute("hidden"); } else { panel.setAttribute("hidden", ""); }
    launch.setAttribute("aria-expanded", on ? "true" : "false");
    if (on) {
      if (!log.childNodes.length) {
        if (history.length) { history.forEach(show); }
        else { show({ kind: "bot", text: "Hola, soy el asistente de " + title + ". ¿En qué le puedo ayudar?" }); }
      }
      input.focus();
    } else { launch.focus(); }
  }

  launch.addEventListener("click", function () { open(panel.hasAttribute("hidden")); });
  close.addEventListener("click", function () { open(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { open(false); } });
  form.addEventListener("submit", function (e) { e.preventDefault(); var t = input.value; input.value = ""; ask(t); });
  input.addEventListener("keydown", function (e) { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit")); } });
  person.addEventListener("click", function () { ask("Quiero hablar con una persona"); });

  (document.body || document.documentElement).appendChild(host);
})();
