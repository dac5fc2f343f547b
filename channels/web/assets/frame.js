// The chat inside the widget's iframe. It runs in Atiende's origin: its session token and
// storage are out of the host page's reach. Everything is rendered as text.
(function () {
  "use strict";
  var KEY = "atiende-session";
  var params = new URLSearchParams(location.search);
  var title = (params.get("title") || "ChileAtiende").slice(0, 60);
  var $ = function (id) { return document.getElementById(id); };
  var log = $("log"), form = $("form"), input = $("text"), typing = $("typing");
  $("title").textContent = title;
  document.title = "Chat " + title;

  var session = null, source = null, lastEvent = 0, busy = false;
  try { session = JSON.parse(localStorage.getItem(KEY) || "null"); } catch (e) { session = null; }

  function save() { try { localStorage.setItem(KEY, JSON.stringify(session)); } catch (e) { /* private mode */ } }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text != null) { e.textContent = text; }
    return e;
  }
  function scroll() { log.scrollTop = log.scrollHeight; }
  function safeURL(u) {
    try { var p = new URL(u); return (p.protocol === "https:" || p.protocol === "http:") ? p.href : null; } catch (e) { return null; }
  }

  function showCitizen(text) { log.appendChild(el("div", "msg me", text)); scroll(); }
  function showError(text) { var e = el("div", "msg err", text); e.setAttribute("role", "alert"); log.appendChild(e); scroll(); }
  function showAgent(name, text) {
    var m = el("div", "msg agent");
    m.appendChild(el("span", "who", (name || "Ejecutivo/a") + " (persona de ChileAtiende)"));
    m.appendChild(document.createTextNode(text));
    log.appendChild(m); scroll();
  }
  function showBot(r, live) {
    if (!(r.reply || r.text)) { scroll(); return; }
    var bubble = el("div", "msg bot", r.reply || r.text || "");
    log.appendChild(bubble);
    var f = (r.fichas || [])[0];
    var url = f && safeURL(f.url);
    if (f && url && (r.action === "answer")) {
      var cards = el("div", "cards"), card = el("div", "card");
      var a = el("a", null, "Ver ficha: " + f.title);
      a.href = url; a.target = "_blank"; a.rel = "noopener noreferrer";
      card.appendChild(a); cards.appendChild(card); log.appendChild(cards);
    }
    if (live && r.options && r.options.length) {
      var opts = el("div", "opts");
      opts.setAttribute("role", "group");
      opts.setAttribute("aria-label", "Opciones");
      r.options.forEach(function (o) {
        var b = el("button", null, o.n + ". " + o.title);
        b.type = "button";
        b.addEventListener("click", function () { opts.remove(); ask(o.title); });
        opts.appendChild(b);
      });
      log.appendChild(opts);
    }
    // A long answer is read from its start.
    if (live && bubble.offsetHeight > log.clientHeight * 0.6) { bubble.scrollIntoView({ block: "start" }); } else { scroll(); }
  }

  function api(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (session) { headers.Authorization = "Bearer " + session.token; }
    return fetch(path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined, credentials: "omit" })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (!r.ok) { var e = new Error(j.error || ("Error " + r.status)); e.status = r.status; throw e; }
          return j;
        });
      });
  }

  function newSession() {
    session = null;
    return api("POST", "/api/v1/chat/sessions", {}).then(function (s) { session = s; save(); listen(); return s; });
  }

  function listen() {
    if (!session || !window.EventSource) { return; }
    if (source) { source.close(); }
    var url = "/api/v1/chat/sessions/" + encodeURIComponent(session.id) + "/events?token=" + encodeURIComponent(session.token);
    if (lastEvent) { url += "&last=" + lastEvent; }
    source = new EventSource(url);
    source.addEventListener("message", function (e) {
      var d; try { d = JSON.parse(e.data); } catch (x) { return; }
      if (d.id) { lastEvent = Math.max(lastEvent, d.id); }
      if (d.from === "agent") { showAgent(d.name, d.text); }
    });
    source.addEventListener("handoff", function (e) {
      var d; try { d = JSON.parse(e.data); } catch (x) { return; }
      if (d.id) { lastEvent = Math.max(lastEvent, d.id); }
      if (d.status === "assigned" && d.name) { log.appendChild(el("div", "msg bot", d.name + " le está atendiendo.")); scroll(); }
      else if (d.text) { log.appendChild(el("div", "msg bot", d.text)); scroll(); }
    });
  }

  function ask(text) {
    text = (text || "").trim();
    if (!text || busy) { return; }
    busy = true;
    showCitizen(text);
    typing.hidden = false;
    var clientId = Date.now().toString(36) + Math.random().toString(36).slice(2);
    var send = function () {
      return api("POST", "/api/v1/chat/sessions/" + encodeURIComponent(session.id) + "/messages", { text: text, client_id: clientId });
    };
    (session ? send() : newSession().then(send))
      .catch(function (e) {
        if (e.status === 401 || e.status === 404) { return newSession().then(send); }
        throw e;
      })
      .then(function (r) { typing.hidden = true; showBot(r, true); })
      .catch(function (e) { typing.hidden = true; showError(e.message || "No se pudo enviar. Revise su conexión e intente de nuevo."); })
      .then(function () { busy = false; input.focus(); });
  }

  function restore() {
    if (!session) {
      log.appendChild(el("div", "msg bot", "Hola, soy el asistente de " + title + ". ¿En qué le puedo ayudar?"));
      return;
    }
    api("GET", "/api/v1/chat/sessions/" + encodeURIComponent(session.id) + "/messages").then(function (r) {
      (r.messages || []).forEach(function (m) {
        if (m.from === "citizen") { showCitizen(m.text); }
        else if (m.from === "agent") { showAgent(null, m.text); lastEvent = Math.max(lastEvent, m.id); }
        else { showBot(m, false); }
      });
      if (!(r.messages || []).length) { log.appendChild(el("div", "msg bot", "Hola, ¿en qué le puedo ayudar?")); }
      listen();
    }, function () {
      session = null; save();
      log.appendChild(el("div", "msg bot", "Hola, soy el asistente de " + title + ". ¿En qué le puedo ayudar?"));
    });
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); var t = input.value; input.value = ""; ask(t); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  $("person").addEventListener("click", function () { ask("Quiero hablar con una persona"); });
  function close() { if (window.parent !== window) { window.parent.postMessage({ type: "atiende:close" }, "*"); } }
  $("close").addEventListener("click", close);
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { close(); } });
  window.addEventListener("message", function (e) {
    if (e.data && e.data.type === "atiende:focus") { input.focus(); }
  });
  restore();
})();
