// Atiende web chat widget. Embed with:
//   <script src="https://HOST/widget.js" data-title="ChileAtiende" async></script>
// The launcher lives in a closed shadow root (the host page's styles cannot touch it); the chat
// opens in an iframe served by Atiende, so the conversation and its token stay in Atiende's
// origin, out of reach of the host page's scripts. No framework, no third-party request.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__atiendeWidget) { return; }
  window.__atiendeWidget = true;
  var base = new URL(script.src, location.href).origin;
  var title = script.getAttribute("data-title") || "ChileAtiende";

  fetch(base + "/api/v1/widget/check", { credentials: "omit" }).then(function (r) {
    if (r.ok) { mount(); } else { console.warn("Atiende: este sitio no está autorizado para mostrar el chat."); }
  }, function () { console.warn("Atiende: no se pudo contactar el servicio de chat."); });

  function mount() {
    var host = document.createElement("div");
    host.setAttribute("data-atiende", "");
    var root = host.attachShadow({ mode: "closed" });
    var style = document.createElement("style");
    style.textContent = [
      ":host{all:initial}",
      "button{font:16px/1.2 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}",
      ".launch{position:fixed;right:16px;bottom:16px;z-index:2147483000;min-height:48px;background:#0a3d7a;color:#fff;border:0;border-radius:24px;padding:12px 18px;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.35)}",
      ".launch:focus-visible{outline:3px solid #f2a900;outline-offset:2px}",
      ".panel{position:fixed;right:16px;bottom:72px;z-index:2147483000;width:380px;height:560px;max-width:calc(100vw - 16px);max-height:calc(100vh - 88px);border:0;border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.35);background:#fff;overflow:hidden}",
      ".panel[hidden]{display:none}",
      "iframe{border:0;width:100%;height:100%;display:block}",
      // On a phone the chat is a full-screen sheet over the page, the launcher hidden while it
      // is open; its height follows the on-screen keyboard (visualViewport, below).
      "@media (max-width:480px){.panel{top:0;right:0;bottom:auto;left:0;width:100%;height:100%;max-width:none;max-height:none;border-radius:0;box-shadow:none}.open .launch{display:none}}"
    ].join("\n");
    var launch = document.createElement("button");
    launch.className = "launch";
    launch.type = "button";
    launch.textContent = "Chat " + title;
    launch.setAttribute("aria-expanded", "false");
    launch.setAttribute("aria-haspopup", "dialog");
    var panel = document.createElement("div");
    panel.className = "panel";
    panel.setAttribute("hidden", "");
    var frame = null;
    var wrap = document.createElement("div");
    root.appendChild(style);
    wrap.appendChild(panel);
    wrap.appendChild(launch);
    root.appendChild(wrap);
    var narrow = window.matchMedia("(max-width:480px)");
    var vv = window.visualViewport;

    // fit keeps the sheet on the part of the screen the keyboard leaves.
    function fit() {
      if (narrow.matches && vv && !panel.hasAttribute("hidden")) {
        panel.style.height = vv.height + "px";
        panel.style.top = vv.offsetTop + "px";
      } else {
        panel.style.height = panel.style.top = "";
      }
    }
    if (vv) { vv.addEventListener("resize", fit); vv.addEventListener("scroll", fit); }
    if (narrow.addEventListener) { narrow.addEventListener("change", fit); }

    function open(on) {
      if (on) {
        if (!frame) {
          frame = document.createElement("iframe");
          frame.title = "Chat con " + title;
          frame.src = base + "/widget/frame?title=" + encodeURIComponent(title);
          frame.addEventListener("load", function () { focusFrame(); });
          panel.appendChild(frame);
        }
        panel.removeAttribute("hidden");
        wrap.className = "open";
        fit();
        focusFrame();
      } else {
        panel.setAttribute("hidden", "");
        wrap.className = "";
        fit();
        launch.focus();
      }
      launch.setAttribute("aria-expanded", on ? "true" : "false");
    }
    function focusFrame() {
      if (frame && !panel.hasAttribute("hidden")) {
        frame.focus();
        frame.contentWindow.postMessage({ type: "atiende:focus" }, base);
      }
    }
    launch.addEventListener("click", function () { open(panel.hasAttribute("hidden")); });
    window.addEventListener("message", function (e) {
      if (e.origin === base && e.data && e.data.type === "atiende:close") { open(false); }
    });
    (document.body || document.documentElement).appendChild(host);
  }
})();
