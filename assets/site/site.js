// The guest site's progressive enhancement: every page works without this file. With it, the
// calendar and the calculator update in place (the server renders the same page; only the
// booking panel is swapped), and a hold's countdown ticks.
"use strict";

function remaining(iso) {
  const s = Math.floor((new Date(iso) - Date.now()) / 1000);
  if (s <= 0) return "venció";
  const m = Math.floor(s / 60);
  return `quedan ${m}:${String(s % 60).padStart(2, "0")} min`;
}

function tick() {
  for (const el of document.querySelectorAll("[data-expires]")) el.textContent = remaining(el.dataset.expires);
}

async function swap(url) {
  const panel = document.querySelector("[data-live]");
  if (!panel) { location.href = url; return; }
  panel.setAttribute("aria-busy", "true");
  try {
    const res = await fetch(url, { headers: { accept: "text/html" }, credentials: "same-origin" });
    if (!res.ok) throw new Error(String(res.status));
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    const fresh = doc.querySelector("[data-live]");
    if (!fresh) throw new Error("no panel");
    panel.replaceWith(fresh);
    history.replaceState(null, "", url);
    const result = document.getElementById("resultado");
    if (result && result.textContent.trim()) result.focus({ preventScroll: true });
  } catch (_) {
    location.href = url;
  } finally {
    panel.removeAttribute("aria-busy");
  }
}

document.addEventListener("click", (ev) => {
  const a = ev.target.closest("a[data-live-link]");
  if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
  ev.preventDefault();
  swap(a.href);
});

document.addEventListener("submit", (ev) => {
  const form = ev.target.closest("form[data-live-form]");
  if (!form) return;
  ev.preventDefault();
  const url = new URL(form.action, location.href);
  url.search = new URLSearchParams(new FormData(form)).toString();
  swap(url.toString());
});

document.addEventListener("change", (ev) => {
  const form = ev.target.closest("form[data-live-form]");
  if (form && form.checkValidity()) form.requestSubmit();
});

const result = document.getElementById("resultado");
if (result) result.tabIndex = -1;
tick();
setInterval(tick, 1000);
