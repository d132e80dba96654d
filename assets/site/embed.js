// alojamientos: the "Reservar" button or widget for the host's own website. Paste
// <script src="https://RESERVAS/sitio/embed.js" data-modo="boton" async></script> where it goes;
// data-modo="widget" shows the search and the accommodations in a frame instead (its origin
// must be in site.frame_ancestors), data-texto changes the button's words.
(function () {
  "use strict";
  var s = document.currentScript;
  if (!s) return;
  var origin = new URL(s.src).origin;
  var el;
  if (s.getAttribute("data-modo") === "widget") {
    el = document.createElement("iframe");
    el.src = origin + "/embed";
    el.title = s.getAttribute("data-titulo") || "Reservas";
    el.loading = "lazy";
    el.style.cssText = "width:100%;max-width:960px;border:0;min-height:" + (s.getAttribute("data-alto") || "560") + "px";
  } else {
    el = document.createElement("a");
    el.href = origin + "/";
    el.textContent = s.getAttribute("data-texto") || "Reservar";
    el.style.cssText = "display:inline-block;padding:.75em 1.4em;border-radius:.5em;background:#0b6e4f;color:#fff;font:600 1rem/1.2 system-ui,sans-serif;text-decoration:none";
  }
  s.parentNode.insertBefore(el, s.nextSibling);
})();
