// The console's small script: live updates over server-sent events, and ficha sections
// inserted into the reply. Everything stays text.
(function () {
  "use strict";
  var text = document.getElementById("text");
  // The conversation opens at its newest message.
  var transcript = document.querySelector(".transcript");
  if (transcript) { transcript.scrollTop = transcript.scrollHeight; }
  // A ficha search carries the reply being written, and the page gives it back.
  var search = document.querySelector("form.ficha-search"), draft = document.getElementById("draft");
  if (search && draft && text) { search.addEventListener("submit", function () { draft.value = text.value; }); }
  document.querySelectorAll("button.insert").forEach(function (b) {
    b.addEventListener("click", function () {
      if (!text) { return; }
      text.value = (text.value ? text.value + "\n" : "") + b.getAttribute("data-text");
      text.focus();
    });
  });
  // The reports (and pages without the menu) do not follow the queue: a reload there would
  // rebuild the report for nothing, and an editor may not read the queue's events.
  if (!window.EventSource || !document.querySelector("header nav") || document.querySelector("[data-static]")) { return; }
  var es = new EventSource("/agent/events"), leaving = false;
  // A form being sent takes the agent elsewhere: no reload may race it.
  document.addEventListener("submit", function () { leaving = true; es.close(); }, true);
  window.addEventListener("beforeunload", function () { leaving = true; es.close(); });
  es.addEventListener("update", function () {
    if (leaving) { return; }
    // Reload at once unless the agent is writing; then say there is news.
    if (text && text.value.trim() !== "") { document.getElementById("fresh").hidden = false; return; }
    location.reload();
  });
})();
