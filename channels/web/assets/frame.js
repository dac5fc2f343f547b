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

  // linked appends the words to parent as text, each web address in them as a link that opens
  // in a new tab (the punctuation that closes a sentence is not part of the address).
  function linked(parent, words) {
    var re = /https?:\/\/[^\s<>"]+/g, last = 0, m;
    while ((m = re.exec(words)) !== null) {
      var u = m[0].replace(/[.,;:!?)\]]+$/, ""), href = safeURL(u);
      if (!href) { continue; }
      parent.appendChild(document.createTextNode(words.slice(last, m.index)));
      var a = el("a", null, u);
      a.href = href; a.target = "_blank"; a.rel = "noopener noreferrer";
      parent.appendChild(a);
      last = m.index + u.length;
      re.lastIndex = last;
    }
    parent.appendChild(document.createTextNode(words.slice(last)));
    return parent;
  }

  // who says each message, for screen readers (the agent's bubbles show it to everyone).
  function said(cls, who) { var m = el("div", cls); m.appendChild(el("span", "sr", who)); return m; }
  function botLine(text) { var m = said("msg bot", "Asistente: "); m.appendChild(document.createTextNode(text)); return m; }
  function showCitizen(text) { var m = said("msg me", "Usted: "); m.appendChild(document.createTextNode(text)); log.appendChild(m); scroll(); return m; }
  function showError(text) { var e = el("div", "msg err", text); e.setAttribute("role", "alert"); log.appendChild(e); scroll(); return e; }
  function showAgent(name, words) {
    var m = el("div", "msg agent");
    m.appendChild(el("span", "who", (name || "Ejecutivo/a") + " (persona de ChileAtiende)"));
    linked(m, words);
    log.appendChild(m); scroll();
  }
  // The quick replies after an answer: the ficha's other sections, asked in the citizen's words.
  var ASPECTS = {
    requisitos: ["Requisitos", "¿Cuáles son los requisitos?"], monto: ["Monto", "¿Cuánto es el monto?"],
    como: ["Cómo pedirlo", "¿Cómo lo pido?"], documentos: ["Documentos", "¿Qué documentos piden?"],
    fechas: ["Fechas", "¿Cuáles son las fechas y plazos?"], costo: ["Costo", "¿Cuánto cuesta?"]
  };
  var MORE = /^(Más información|More information): /;
  var SHOWN = 3; // items of an answer shown before «Ver todo»
  var SHOWN_PHONE = 2; // on a phone's narrow screen, where each item takes several lines
  var FIGURE = /\$\s?\d[\d.]*(?:,\d+)?|\d+(?:[.,]\d+)?\s?(?:UF|UTM)\b/;

  // card fills the bubble with an answer as the engine composes it ("Título:", the items, "Más
  // información: URL"): the title in bold, the figure that answers in bold, the items as a list.
  // It returns false for a text of another shape (a language model's, emergency lines on top),
  // which is shown as it is; true, or the «Ver todo» button of a long list, which goes beside
  // the link to the official ficha.
  function card(bubble, r, f) {
    var lines = (r.reply || "").split("\n").filter(function (l) { return l.trim() !== "" && !MORE.test(l); });
    if (lines.length < 2 || !/:$/.test(lines[0]) || lines[0].indexOf(f.title) !== 0) { return false; }
    bubble.appendChild(el("strong", "title", lines[0].replace(/:$/, "")));
    var items = lines.slice(1), list = items.length > 1 ? el("ul") : bubble;
    items.forEach(function (line, i) {
      var li = items.length > 1 ? el("li") : el("p", "item");
      var m = i === 0 ? FIGURE.exec(line) : null;
      if (m) {
        linked(li, line.slice(0, m.index));
        li.appendChild(el("strong", "figure", m[0]));
        linked(li, line.slice(m.index + m[0].length));
      } else {
        linked(li, line);
      }
      list.appendChild(li);
    });
    if (list !== bubble) {
      bubble.appendChild(list);
      // A long list shows its first items; the rest one tap away, so the bubble and its
      // button fit on a phone's screen.
      var hidden = [].slice.call(list.children, innerWidth <= 480 ? SHOWN_PHONE : SHOWN);
      if (hidden.length > 0) {
        hidden.forEach(function (li) { li.hidden = true; });
        var all = el("button", "all", "Ver todo (" + hidden.length + " más)");
        all.type = "button";
        all.setAttribute("aria-expanded", "false");
        all.addEventListener("click", function () {
          hidden.forEach(function (li) { li.hidden = false; });
          all.remove();
        });
        return all;
      }
    }
    return true;
  }

  // Buttons of an earlier turn are not answered any more: they go when a new reply comes.
  function clearChoices() {
    [].forEach.call(log.querySelectorAll(".opts, .chips"), function (n) { n.remove(); });
  }
  function choices(cls, label, list) {
    var box = el("div", cls);
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", label);
    list.forEach(function (c) {
      var b = el("button", null, c[0]);
      b.type = "button";
      b.addEventListener("click", function () { clearChoices(); ask(c[1]); });
      box.appendChild(b);
    });
    log.appendChild(box);
  }

  function showBot(r, live) {
    if (!(r.reply || r.text)) { scroll(); return; }
    if (live) { clearChoices(); }
    var f = (r.fichas || [])[0];
    var url = f && safeURL(f.url);
    var bubble = said("msg bot", "Asistente: ");
    var answer = r.action === "answer" && f;
    // Options offered as buttons are not listed again, numbered, in the text (SMS keeps them).
    var text = r.reply || r.text || "";
    if (live && r.options && r.options.length) {
      text = text.split("\n").filter(function (l) { return !/^\d+\. /.test(l); }).join("\n");
    }
    var carded = answer && card(bubble, { reply: text }, f);
    if (!carded) { linked(bubble, text); }
    // The link to the official ficha comes first in the card's last row, before «Ver todo»: on
    // a phone both stay on screen under the first items.
    var row = el("div", "actions");
    if (answer && url) {
      var a = el("a", "official", "Ver ficha oficial");
      a.href = url; a.target = "_blank"; a.rel = "noopener noreferrer";
      a.setAttribute("aria-label", "Ver ficha oficial: " + f.title + " (se abre en otra pestaña)");
      row.appendChild(a);
    }
    if (carded && carded !== true) { row.appendChild(carded); }
    if (row.children.length) { bubble.appendChild(row); }
    log.appendChild(bubble);
    if (live && r.options && r.options.length) {
      choices("opts", "Opciones", r.options.map(function (o) { return [o.n + ". " + o.title, o.title]; }));
    }
    if (live && answer && r.aspects && r.aspects.length) {
      var more = r.aspects.filter(function (k) { return ASPECTS[k]; }).slice(0, 4).map(function (k) { return ASPECTS[k]; });
      more.push(["Hablar con una persona", "Quiero hablar con una persona"]);
      choices("chips", "Preguntar más sobre " + f.title, more);
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
          if (!r.ok) { var e = new Error(j.error || ("Error " + r.status)); e.status = r.status; e.said = !!j.error; throw e; }
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
      if (d.status === "assigned" && d.name) { log.appendChild(botLine(d.name + " le está atendiendo.")); scroll(); }
      else if (d.text) { log.appendChild(botLine(d.text)); scroll(); }
    });
  }

  // Every message the citizen writes is kept until it is answered: those written while a
  // reply is on its way wait in order; one that fails stays with «Reintentar», which resends it
  // with the same client_id, so the server never answers it twice.
  var queue = [];

  function mark(item, state) {
    item.el.setAttribute("data-state", state);
    item.st.textContent = { sending: "Enviando…", sent: "Enviado", failed: "No se envió" }[state];
  }

  function ask(text) {
    text = (text || "").trim();
    if (!text) { return; }
    var bubble = showCitizen(text);
    var item = { text: text, el: bubble, st: el("span", "st", ""),
      clientId: Date.now().toString(36) + Math.random().toString(36).slice(2) };
    bubble.appendChild(item.st);
    mark(item, "sending");
    queue.push(item);
    pump();
  }

  function failure(e) {
    if (e && e.said) { return e.message; } // the server's own words, in Spanish
    if (e && e.status) { // a proxy in front of it, or a server that could not say why
      return "El servicio no respondió (error " + e.status + "). Su mensaje no se perdió: toque «Reintentar» en un momento.";
    }
    return "No hay conexión. Su mensaje no se perdió: revise su conexión y toque «Reintentar».";
  }

  function pump() {
    if (busy || !queue.length) { return; }
    var item = queue[0];
    if (item.el.getAttribute("data-state") === "failed") { return; } // waits for «Reintentar»
    busy = true;
    typing.hidden = false;
    var send = function () {
      return api("POST", "/api/v1/chat/sessions/" + encodeURIComponent(session.id) + "/messages", { text: item.text, client_id: item.clientId });
    };
    (session ? send() : newSession().then(send))
      .catch(function (e) {
        if (e.status === 401 || e.status === 404) { return newSession().then(send); }
        throw e;
      })
      .then(function (r) {
        typing.hidden = true;
        mark(item, "sent");
        queue.shift();
        showBot(r, true);
      }, function (e) {
        typing.hidden = true;
        mark(item, "failed");
        var retry = el("button", "retry", "Reintentar");
        retry.type = "button";
        retry.setAttribute("aria-label", "Reintentar el envío de: " + item.text);
        retry.addEventListener("click", function () {
          retry.remove(); note.remove(); mark(item, "sending"); pump();
        });
        item.el.appendChild(retry);
        var note = showError(failure(e));
      })
      .then(function () { busy = false; input.focus(); pump(); });
  }

  function restore() {
    if (!session) {
      log.appendChild(botLine("Hola, soy el asistente de " + title + ". ¿En qué le puedo ayudar?"));
      return;
    }
    api("GET", "/api/v1/chat/sessions/" + encodeURIComponent(session.id) + "/messages").then(function (r) {
      (r.messages || []).forEach(function (m) {
        if (m.from === "citizen") { showCitizen(m.text); }
        else if (m.from === "agent") { showAgent(m.name, m.text); lastEvent = Math.max(lastEvent, m.id); }
        else { showBot(m, false); }
      });
      if (!(r.messages || []).length) { log.appendChild(botLine("Hola, ¿en qué le puedo ayudar?")); }
      // Who attends now, as the live conversation said it.
      if (r.attending) { log.appendChild(botLine(r.attending + " le está atendiendo.")); }
      scroll();
      listen();
    }, function () {
      session = null; save();
      log.appendChild(botLine("Hola, soy el asistente de " + title + ". ¿En qué le puedo ayudar?"));
    });
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); var t = input.value; input.value = ""; ask(t); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  $("person").addEventListener("click", function () { ask("Quiero hablar con una persona"); });
  function close() { if (window.parent !== window) { window.parent.postMessage({ type: "atiende:close" }, "*"); } }
  $("close").addEventListener("click", close);
  // «Nueva conversación» leaves the old one to the server (an agent may still read it) and
  // starts afresh; a message still waiting to be sent is kept and goes to the new one.
  $("new").addEventListener("click", function () {
    if (source) { source.close(); source = null; }
    session = null; lastEvent = 0; save();
    var waiting = queue.map(function (q) { return q.el; });
    [].slice.call(log.children).forEach(function (n) { if (waiting.indexOf(n) < 0) { n.remove(); } });
    log.insertBefore(botLine("Hola, soy el asistente de " + title + ". ¿En qué le puedo ayudar?"), log.firstChild);
    input.focus();
  });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { close(); } });
  window.addEventListener("message", function (e) {
    if (e.data && e.data.type === "atiende:focus") { input.focus(); }
  });
  restore();
})();
