// The console's small script: live updates over server-sent events, and ficha sections
// inserted into the reply. Everything stays text.
(function () {
  "use strict";
  var text = document.getElementById("text");
  document.querySelectorAll("button.insert").forEach(function (b) {
    b.addEventListener("click", function () {
      if (!text) { return; }
      text.value = (text.value ? text.value + "\n" : "") + b.getAttribute("data-text");
      text.focus();
    });
  });
  if (!window.EventSource || !document.querySelector("header nav")) { return; }
  var es = new EventSource("/agent/events");
  es.addEventListener("update", function () {
    // Reload at once unless the agent is writing; then say there is news.
    if (text && text.value.trim() !== "") { document.getElementById("fresh").hidden = false; return; }
    location.reload();
  });
})();
