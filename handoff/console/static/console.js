// The console's small script: live updates over server-sent events, and ficha sections
// inserted into the reply. Everything stays text.
(function () {
  "use strict";
  // bind wires what the page's new parts need: the ficha search shows its results in place,
  // and each «Insertar» button adds its text to the reply.
  function bind(root) {
    var search = root.querySelector("form.ficha-search");
    if (search) { search.addEventListener("submit", find); }
    root.querySelectorAll("button.insert").forEach(function (b) {
      b.addEventListener("click", function () {
        var t = document.getElementById("text");
        if (!t) { return; }
        t.value = (t.value ? t.value + "\n" : "") + b.getAttribute("data-text");
        t.focus();
      });
    });
  }
  // find asks the page for the fichas that match and shows them under the search, without
  // leaving the page: the reply being written, its place and the transcript stay as they are.
  // Should that fail, the form is sent as it is, with the draft, which the page gives back.
  function find(e) {
    var form = e.target, q = form.querySelector("#q"), box = document.getElementById("found");
    var text = document.getElementById("text"), draft = document.getElementById("draft");
    if (draft && text) { draft.value = text.value; }
    if (!window.fetch || !window.DOMParser || !q || !box) { return; }
    e.preventDefault();
    var url = form.getAttribute("action") + "?q=" + encodeURIComponent(q.value);
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (!r.ok || r.redirected) { throw new Error("status " + r.status); }
        return r.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("found");
        if (!fresh) { throw new Error("no results on the page"); }
        box.replaceChildren.apply(box, Array.prototype.slice.call(fresh.childNodes));
        bind(box);
        var n = box.querySelectorAll(".found").length, said = document.getElementById("found-said");
        if (said) { said.textContent = n === 1 ? "1 ficha encontrada." : n > 1 ? n + " fichas encontradas." : q.value.trim() ? "Ninguna ficha encontrada." : ""; }
      })
      .catch(function () { form.submit(); });
  }
  // The conversation opens, and stays, at its newest message.
  function pin() {
    var transcript = document.querySelector(".transcript");
    if (transcript) { transcript.scrollTop = transcript.scrollHeight; }
  }
  // keepUnsent shows words the agent wrote that can no longer be sent (the conversation
  // changed hands, was closed or went back to the queue) under the transcript, as text to
  // copy: nothing typed is lost. kind is "reply" or "note" (the «Nota de cierre»).
  function keepUnsent(words, kind) {
    var note = kind === "note", id = note ? "unsent-note" : "unsent";
    var box = document.getElementById(id);
    if (box) { box.value = words; return; }
    var after = document.querySelector(".unsent") || document.querySelector(".transcript");
    if (!after) { return; }
    var s = document.createElement("section"), h = document.createElement("h3"), p = document.createElement("p");
    var label = document.createElement("label");
    box = document.createElement("textarea");
    s.className = "unsent"; s.setAttribute("aria-labelledby", id + "-h");
    h.id = id + "-h"; h.textContent = note ? "Nota de cierre no guardada" : "Respuesta no enviada";
    p.setAttribute("role", "alert");
    p.textContent = "Mientras escribía, la conversación cambió (otra persona la tomó, se cerró o volvió a la fila): " +
      (note ? "su nota de cierre no se guardó y quedó aquí para copiarla." : "su texto no se envió y quedó aquí para copiarlo.");
    label.setAttribute("for", id); label.textContent = note ? "Nota que escribió" : "Texto que escribió";
    box.id = id; box.rows = note ? 3 : 4; box.readOnly = true; box.value = words;
    s.append(h, p, label, box);
    after.after(s);
  }
  bind(document);
  pin();
  // A page answered to a form (a reply refused with 409) has the form's address: the live
  // updates and a reload must ask for the conversation's own page, not send the form again.
  var here = document.querySelector("[data-here]");
  if (here && window.history && history.replaceState && location.pathname !== here.getAttribute("data-here")) {
    history.replaceState(null, "", here.getAttribute("data-here"));
  }
  // Words kept apart go into the reply box when the agent takes the conversation back: the
  // claim reloads the page, and this tab's sessionStorage carries them over, once.
  var key = here ? "atiende unsent " + here.getAttribute("data-here") : "";
  document.addEventListener("submit", function (e) {
    var u = document.getElementById("unsent"), action = e.target.getAttribute("action") || "";
    if (!key || !u || !u.value || !/\/claim$/.test(action)) { return; }
    try { sessionStorage.setItem(key, u.value); } catch (err) { /* storage off: the words stay on the page until it reloads */ }
  }, true);
  (function () {
    var t = document.getElementById("text"), w = null;
    if (!key || !t) { return; }
    try { w = sessionStorage.getItem(key); sessionStorage.removeItem(key); } catch (err) { return; }
    if (w && !t.value) { t.value = w; }
  })();
  // The reports (and pages without the menu) do not follow the queue: an update there would
  // rebuild the report for nothing, and an editor may not read the queue's events.
  if (!window.EventSource || !window.fetch || !window.DOMParser || !document.querySelector("header nav") || document.querySelector("[data-static]")) { return; }
  var es = new EventSource("/agent/events"), leaving = false, busy = false, again = false;
  // A form being sent takes the agent elsewhere: no update may race it. The ficha search
  // stays on the page (find, above).
  document.addEventListener("submit", function (e) {
    if (e.target.matches && e.target.matches("form.ficha-search") && window.fetch && window.DOMParser) { return; }
    leaving = true; es.close();
  }, true);
  window.addEventListener("beforeunload", function () { leaving = true; es.close(); });

  // actions names what the agent may do on a page: the forms it holds. When they change (the
  // conversation was taken, closed or transferred), the page's actions are replaced too.
  function actions(doc) {
    return Array.prototype.map.call(doc.querySelectorAll("main form"), function (f) { return f.getAttribute("action"); }).join(" ");
  }
  // swap brings the page up to date in place: the transcript and the context always, the rest
  // when the actions changed, keeping the reply being written, its focus and the search.
  function swap(doc) {
    var main = document.querySelector("main"), fresh = doc.querySelector("main");
    if (!main || !fresh) { return; }
    document.title = doc.title;
    var ot = document.querySelector(".transcript"), nt = doc.querySelector(".transcript");
    var op = document.querySelector(".packet"), np = doc.querySelector(".packet");
    if (ot && nt && op && np && actions(doc) === actions(document)) {
      // An agent reading further up is left there; one at the newest message stays with it.
      var top = ot.scrollTop, atEnd = ot.scrollTop + ot.clientHeight >= ot.scrollHeight - 8;
      ot.replaceChildren.apply(ot, Array.prototype.slice.call(nt.childNodes));
      op.replaceChildren.apply(op, Array.prototype.slice.call(np.childNodes));
      if (atEnd) { pin(); } else { ot.scrollTop = top; }
      return;
    }
    var text = document.getElementById("text"), draft = text ? text.value : "", focused = document.activeElement === text;
    var unsent = document.getElementById("unsent");
    if (!draft.trim() && unsent) { draft = unsent.value; }
    var noteBox = document.getElementById("note"), note = noteBox ? noteBox.value : "";
    var unsentNote = document.getElementById("unsent-note");
    if (!note.trim() && unsentNote) { note = unsentNote.value; }
    var banner = document.getElementById("fresh"), flash = main.querySelector(".flash");
    main.replaceChildren.apply(main, Array.prototype.slice.call(fresh.childNodes));
    // The banner and the flash of the page the agent opened stay as they were: a refusal
    // ("No se envió su respuesta…") must not vanish when the next update comes.
    var nb = document.getElementById("fresh");
    if (banner && nb && nb !== banner) { nb.replaceWith(banner); }
    if (flash) {
      Array.prototype.forEach.call(main.querySelectorAll(".flash"), function (f) { f.remove(); });
      var at = document.getElementById("fresh");
      if (at) { at.after(flash); } else { main.prepend(flash); }
    }
    // The reply being written goes on in the new reply box; with none (the conversation is no
    // longer the agent's), it is kept apart, to copy.
    var t = document.getElementById("text");
    if (t && draft && !t.value) { t.value = draft; }
    if (!t && draft.trim()) { keepUnsent(draft, "reply"); }
    // So does a closing note being written: in the new close form, or apart.
    var n = document.getElementById("note");
    if (n && note && !n.value) { n.value = note; }
    if (!n && note.trim()) { keepUnsent(note, "note"); }
    if (t && focused) { t.focus(); }
    bind(main);
    pin();
  }
  // update fetches the page as it is now; updates that come while one is on its way are
  // folded into one more.
  function update() {
    if (leaving) { return; }
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        // Signed out, or the page is gone: the browser shows what the server says.
        if (!r.ok || r.redirected) { leaving = true; location.reload(); return null; }
        return r.text();
      })
      .then(function (html) {
        if (html !== null && !leaving) { swap(new DOMParser().parseFromString(html, "text/html")); }
      })
      .catch(function () { document.getElementById("fresh").hidden = false; })
      .then(function () {
        busy = false;
        if (again) { again = false; update(); }
      });
  }
  es.addEventListener("update", update);
})();
