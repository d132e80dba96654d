// The host's web UI: a small single-page app over the JSON API (/api/v1), logged in by the
// session cookie. Every change goes through the same API endpoints as any other client.
"use strict";

const API = "/api/v1";
/** A feed without a success for this long is shown as stale (`ical.degraded_after`, default). */
const STALE_MS = 20 * 60 * 1000;
const session = { email: null, csrf: null };

// ---------------------------------------------------------------- helpers

/** Builds an element: h("a", {href: "#/"}, "text", child). Text is never parsed as HTML. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** An API failure, with the server's stable error code. */
class ApiFailure extends Error {
  constructor(status, code, detail) {
    super(detail || code);
    this.status = status;
    this.code = code;
  }
}

const ERRORS = {
  invalid_credentials: "Email o contraseña incorrectos.",
  date_overlap: "Esas fechas ya están ocupadas.",
  invalid_state: "La reserva no admite esa acción en su estado actual.",
  csrf_invalid: "La sesión no es válida para esta acción. Recargá la página.",
  rate_limited: "Demasiados intentos. Esperá un momento.",
  payments_not_configured: "Mercado Pago no está configurado.",
  payment_provider_unavailable: "Mercado Pago no responde. Probá de nuevo en unos minutos.",
  min_stay: "La estadía es más corta que el mínimo.",
  capacity_exceeded: "Supera la capacidad del alojamiento.",
  too_many_holds: "Ese cliente ya tiene el máximo de pre-reservas sin pagar.",
  hold_too_long: "Demasiadas noches para una pre-reserva de un huésped.",
  too_many_held_nights: "Las pre-reservas sin pagar ya cubren el máximo del calendario.",
  login_busy: "Hay muchos ingresos a la vez. Probá de nuevo en unos segundos.",
  weak_password: "La contraseña es débil: usá al menos 12 caracteres y que no sea una contraseña común.",
};

async function api(method, path, body) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && session.csrf) headers["x-csrf-token"] = session.csrf;
  const res = await fetch(API + path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    if (res.status === 401 && path !== "/admin/session") {
      session.email = null;
      location.hash = "#/login";
    }
    throw new ApiFailure(res.status, data.error || "error", data.detail);
  }
  return data;
}

function toast(text, error) {
  const t = document.getElementById("toast");
  t.textContent = text;
  t.className = error ? "error" : "";
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, error ? 7000 : 3500);
}

function failed(e) {
  if (!(e instanceof ApiFailure)) console.error(e);
  const text = e instanceof ApiFailure ? (ERRORS[e.code] || e.message) : "No se pudo conectar con el servidor.";
  toast(text, true);
}

/** Runs an action from a button, disabling it meanwhile; reports errors. */
function act(button, work) {
  return async (ev) => {
    if (ev) ev.preventDefault();
    button.disabled = true;
    try { await work(); } catch (e) { failed(e); } finally { button.disabled = false; }
  };
}

const pad = (n) => String(n).padStart(2, "0");
const iso = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const parseDay = (s) => { const [y, m, d] = s.split("-").map(Number); return new Date(y, m - 1, d); };
const addDays = (s, n) => { const d = parseDay(s); d.setDate(d.getDate() + n); return iso(d); };
const today = () => iso(new Date());
const fmtDay = (s) => s ? s.split("-").reverse().join("/") : "—";
const fmtTime = (t) => t ? new Date(t).toLocaleString("es-AR", { dateStyle: "short", timeStyle: "short" }) : "—";
const MONTHS = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
  "septiembre", "octubre", "noviembre", "diciembre"];

function money(amount, currency) {
  const n = Number(amount);
  if (!Number.isFinite(n)) return amount;
  try {
    return n.toLocaleString("es-AR", { style: "currency", currency: currency || "ARS" });
  } catch (_) {
    return `${currency || ""} ${n.toLocaleString("es-AR")}`;
  }
}

const STATUS = {
  pre_reserved: "Pre-reserva", confirmed: "Confirmada", cancelled: "Cancelada",
  expired: "Vencida", completed: "Completada", no_show: "No se presentó",
};
const SOURCES = { airbnb: "Airbnb", booking: "Booking.com", vrbo: "Vrbo", other: "Otro" };
const KINDS = { cabin: "Cabaña", apartment: "Departamento", house: "Casa", room: "Habitación" };
const DAYS = { monday: "Lun", tuesday: "Mar", wednesday: "Mié", thursday: "Jue", friday: "Vie", saturday: "Sáb", sunday: "Dom" };

const HEALTH = { healthy: "bien", ok: "bien", degraded: "con demoras", unhealthy: "con problemas", not_configured: "sin configurar" };
const CHECKS = { database: "Base de datos", records: "Registros guardados", locks: "Reservas en curso", scheduler: "Tareas programadas", disk: "Disco",
  ical_sync: "Calendarios", mercadopago: "Mercado Pago", backup: "Copias de seguridad", whatsapp: "WhatsApp", outbox: "Envíos pendientes" };
const badge = (status) => h("span", { class: `badge ${status}` }, STATUS[status] || status);

function actor(a) {
  if (!a) return "";
  if (a.kind === "admin") return a.email;
  return { guest: "huésped", system: "sistema" }[a.kind] || a.kind;
}

/** "12:34" until `expires_at`; the ticker below keeps every one of them current. */
function countdown(expiresAt) {
  return h("span", { class: "countdown", dataset: { expires: expiresAt } }, remaining(expiresAt));
}

function remaining(expiresAt) {
  const s = Math.floor((new Date(expiresAt) - Date.now()) / 1000);
  if (s <= 0) return "vencida";
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)} h ${pad(m % 60)} min` : `${m}:${pad(s % 60)}`;
}

setInterval(() => {
  for (const el of document.querySelectorAll("[data-expires]")) el.textContent = remaining(el.dataset.expires);
}, 1000);

let accommodationsCache = null;
async function accommodations(fresh) {
  if (!accommodationsCache || fresh) accommodationsCache = await api("GET", "/admin/accommodations");
  return accommodationsCache;
}
const accName = (list, id) => (list.find((a) => a.id === id) || {}).name || `#${id}`;

function query() {
  const q = location.hash.split("?")[1] || "";
  return Object.fromEntries(new URLSearchParams(q));
}

function setHash(path, params) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v != null)).toString();
  location.hash = q ? `${path}?${q}` : path;
}

function modal(title, body) {
  const dlg = h("dialog", { "aria-label": title }, h("h2", {}, title), body);
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}

function formData(form) {
  return Object.fromEntries(new FormData(form).entries());
}

// ---------------------------------------------------------------- views

async function loginView(main) {
  document.getElementById("top").hidden = true;
  const form = h("form", { class: "card login", id: "login-form" },
    h("h1", {}, "Alojamientos"),
    h("p", { class: "muted" }, "Ingresá con tu email y contraseña de administración."),
    h("label", {}, "Email", h("input", { name: "email", type: "email", autocomplete: "username", required: true })),
    h("label", {}, "Contraseña", h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
    h("p", {}, h("button", { type: "submit" }, "Ingresar")));
  form.addEventListener("submit", act(form.querySelector("button"), async () => {
    const s = await api("POST", "/admin/session", formData(form));
    session.email = s.email;
    session.csrf = s.csrf_token;
    location.hash = "#/";
  }));
  main.append(form);
  form.querySelector("input").focus();
}

/** Guests' live unpaid holds by phone and by network, each with "cancel all" in one action. */
function holdClientsCard(data) {
  const card = h("section", { class: "card", id: "hold-clients", "aria-labelledby": "h-clients" },
    h("h2", { id: "h-clients" }, "Pre-reservas por cliente"));
  const l = data.limits;
  card.append(h("p", { class: "muted" }, `Límites: ${l.per_phone || "sin límite"} por teléfono, ${l.per_address || "sin límite"} por dirección, hasta ${l.max_nights || "∞"} noches.`));
  if (!data.clients.length) {
    card.append(h("p", { class: "muted" }, "Ningún huésped tiene pre-reservas sin pagar."));
    return card;
  }
  card.append(h("ul", { class: "plain" }, data.clients.map((c) => {
    const who = c.kind === "phone" ? `Tel. ${c.client}` : `Dirección ${c.client}`;
    const all = c.count === 1 ? "la pre-reserva" : `las ${c.count} pre-reservas`;
    const button = h("button", { type: "button", class: "danger", dataset: { client: c.client } }, c.count === 1 ? "Cancelar" : `Cancelar las ${c.count}`);
    button.addEventListener("click", act(button, async () => {
      if (!confirm(`¿Cancelar ${all} de ${who}?`)) return;
      const done = await api("POST", "/admin/holds/cancel", { [c.kind]: c.client });
      toast(`Canceladas: ${done.cancelled.length}`);
      route();
    }));
    return h("li", {}, h("strong", {}, who), ` · ${c.count} · `,
      c.holds.map((r) => h("a", { href: `#/reservas/${r.code}` }, r.code, " ")), button);
  })));
  return card;
}

async function dashboardView(main) {
  const day = today();
  const [stats, accs, current, holds, mismatch, refunds, conflicts, health] = await Promise.all([
    api("GET", "/admin/stats"),
    accommodations(true),
    api("GET", `/admin/reservations?status=confirmed&from=${addDays(day, -1)}&to=${addDays(day, 1)}&limit=500`),
    api("GET", "/admin/reservations?status=pre_reserved&limit=100"),
    api("GET", "/admin/payments?flag=amount_mismatch"),
    api("GET", "/admin/payments?flag=needs_refund"),
    api("GET", "/admin/ical/conflicts"),
    fetch(`${API}/healthz`).then((r) => r.json()).catch(() => null),
  ]);
  const byClient = await api("GET", "/admin/holds");
  const feeds = (await Promise.all(accs.map((a) => api("GET", `/admin/accommodations/${a.id}/feeds`)))).flat();
  const arrivals = current.items.filter((r) => r.check_in === day);
  const departures = current.items.filter((r) => r.check_out === day);
  const live = holds.items.filter((r) => r.expires_at && new Date(r.expires_at) > Date.now());
  const stale = (f) => !f.last_success || Date.now() - new Date(f.last_success) > STALE_MS;
  const troubled = feeds.filter((f) => f.enabled && (f.last_error || stale(f)));
  const resLine = (r) => h("li", {}, h("a", { href: `#/reservas/${r.code}` }, r.contact_name),
    ` · ${accName(accs, r.accommodation_id)} · ${fmtDay(r.check_in)} → ${fmtDay(r.check_out)} · ${r.guests} pers.`);
  const list = (items, line, empty) => items.length ? h("ul", { class: "plain" }, items.map(line)) : h("p", { class: "muted" }, empty);
  const setup = await setupCard();

  main.append(
    h("h1", {}, "Inicio"),
    ...[setup].filter(Boolean),
    h("div", { class: "grid" },
      h("section", { class: "card", "aria-labelledby": "h-month" },
        h("h2", { id: "h-month" }, `Este mes (${stats.month})`),
        h("p", {}, "Ocupación ", h("span", { class: "big", id: "occupancy" }, `${stats.occupancy_percent.toFixed(0)} %`)),
        h("p", {}, "Ingresos ", h("span", { class: "big" }, money(stats.revenue_this_month, stats.currency)))),
      h("section", { class: "card", id: "holds", "aria-labelledby": "h-holds" },
        h("h2", { id: "h-holds" }, `Pre-reservas activas (${live.length})`),
        list(live, (r) => h("li", {}, h("a", { href: `#/reservas/${r.code}` }, r.code), ` · ${r.contact_name} · ${fmtDay(r.check_in)} → ${fmtDay(r.check_out)} · vence en `, countdown(r.expires_at)),
          "No hay pre-reservas esperando el pago.")),
      holdClientsCard(byClient),
      h("section", { class: "card", "aria-labelledby": "h-arr" },
        h("h2", { id: "h-arr" }, "Llegan hoy"), list(arrivals, resLine, "Nadie llega hoy."),
        h("h2", {}, "Se van hoy"), list(departures, resLine, "Nadie se va hoy.")),
      h("section", { class: "card", "aria-labelledby": "h-pay" },
        h("h2", { id: "h-pay" }, "Pagos para revisar"),
        list([...mismatch, ...refunds], (p) => h("li", {},
          p.reservation_code ? h("a", { href: `#/reservas/${p.reservation_code}` }, p.reservation_code) : "sin reserva",
          ` · ${money(p.amount, p.currency)} · `, p.flags.map((f) => h("span", { class: "badge warn" }, f.replaceAll("_", " ")))),
          "Nada para revisar.")),
      h("section", { class: "card", "aria-labelledby": "h-conf" },
        h("h2", { id: "h-conf" }, "Conflictos de calendario"),
        list(conflicts, (c) => h("li", {}, `${SOURCES[c.source] || c.source} · ${accName(accs, c.accommodation_id)} · ${fmtDay(c.check_in)} → ${fmtDay(c.check_out)} choca con `,
          c.conflicts_with.map((code) => h("a", { href: `#/reservas/${code}` }, code, " "))), "Sin conflictos.")),
      h("section", { class: "card", "aria-labelledby": "h-feeds" },
        h("h2", { id: "h-feeds" }, "Calendarios importados"),
        list(troubled, (f) => h("li", {}, h("a", { href: `#/alojamientos/${f.accommodation_id}` }, f.name), ` · ${accName(accs, f.accommodation_id)} · `,
          h("span", { class: "badge bad" }, f.last_error || (f.last_success ? "desactualizado" : "nunca sincronizado")), ` · último éxito ${fmtTime(f.last_success)}`),
          feeds.length ? "Todos al día." : "No hay calendarios importados.")),
      h("section", { class: "card", "aria-labelledby": "h-health" },
        h("h2", { id: "h-health" }, "Estado del sistema"),
        health ? [h("p", {}, "General: ", h("strong", { id: "health", class: `health-${health.status === "healthy" ? "ok" : health.status}` }, HEALTH[health.status] || health.status)),
          h("ul", { class: "plain" }, Object.entries(health.checks || {}).map(([name, c]) =>
            h("li", {}, `${CHECKS[name] || name}: `, h("strong", { class: `health-${c.status}` }, HEALTH[c.status] || c.status),
              c.unreadable ? ` · ${c.unreadable} ilegibles (se omiten; ver RUNBOOK)` : "")))]
          : h("p", { class: "muted" }, "Sin datos."))));
}

function monthParam(q) {
  return /^\d{4}-\d{2}$/.test(q.mes || "") ? q.mes : today().slice(0, 7);
}

/** Everything that occupies dates in [from, to): local stays, holds, owner blocks, imported stays. */
async function occupancy(from, to, accommodationId) {
  const acc = accommodationId ? `accommodation_id=${accommodationId}` : "";
  const [res, blocks, imported] = await Promise.all([
    api("GET", `/admin/reservations?from=${from}&to=${to}&limit=500${acc ? "&" + acc : ""}`),
    api("GET", `/admin/blocks${acc ? "?" + acc : ""}`),
    api("GET", `/admin/ical/imported${acc ? "?" + acc : ""}`),
  ]);
  const live = (r) => r.status === "confirmed" || r.status === "completed" ||
    (r.status === "pre_reserved" && r.expires_at && new Date(r.expires_at) > Date.now());
  return [
    ...res.items.filter(live).map((r) => ({
      type: r.status === "pre_reserved" ? "hold" : "confirmed", acc: r.accommodation_id,
      from: r.check_in, to: r.check_out, label: r.contact_name, href: `#/reservas/${r.code}`,
    })),
    ...blocks.map((b) => ({ type: "block", acc: b.accommodation_id, from: b.check_in, to: b.check_out,
      label: b.reason || "Bloqueo", block: b })),
    ...imported.map((s) => ({ type: s.source, acc: s.accommodation_id, from: s.check_in, to: s.check_out,
      label: `${SOURCES[s.source] || s.source}${s.kind === "block" ? " (bloqueo)" : ""}`, imported: s })),
  ].filter((o) => o.from < to && o.to > from);
}

const LEGEND = [["confirmed", "Confirmada"], ["hold", "Pre-reserva"], ["block", "Bloqueo"],
  ["airbnb", "Airbnb"], ["booking", "Booking.com"], ["vrbo", "Vrbo"], ["other", "Otro calendario"]];

function legend() {
  return h("div", { class: "legend", "aria-label": "Referencias" },
    LEGEND.map(([t, label]) => h("span", { class: `chip t-${t}` }, label)));
}

function showItem(item) {
  if (item.href) { location.hash = item.href; return; }
  if (item.block) {
    const b = item.block;
    const del = h("button", { type: "button", class: "danger" }, "Quitar bloqueo");
    const dlg = modal("Bloqueo", h("div", {},
      h("p", {}, `${fmtDay(b.check_in)} → ${fmtDay(b.check_out)}`),
      h("p", {}, b.reason || "Sin motivo"), h("p", { class: "muted" }, `Creado por ${b.created_by} el ${fmtTime(b.created_at)}`),
      h("div", { class: "actions" }, del, h("button", { type: "button", class: "secondary", onclick: () => dlg.close() }, "Cerrar"))));
    del.addEventListener("click", act(del, async () => {
      await api("DELETE", `/admin/blocks/${encodeURIComponent(b.code)}`);
      dlg.close(); toast("Bloqueo quitado."); route();
    }));
    return;
  }
  const s = item.imported;
  const dlg = modal(`Estadía importada (${SOURCES[s.source] || s.source})`, h("div", {},
    h("p", {}, `${fmtDay(s.check_in)} → ${fmtDay(s.check_out)} · ${s.kind === "block" ? "bloqueo" : "reserva"}`),
    s.conflicts_with.length ? h("p", {}, h("span", { class: "badge bad" }, "Conflicto"), " con ", s.conflicts_with.join(", ")) : null,
    h("p", { class: "muted" }, `Actualizada ${fmtTime(s.updated_at)}. Se cambia desde ${SOURCES[s.source] || s.source}.`),
    h("button", { type: "button", class: "secondary", onclick: () => dlg.close() }, "Cerrar")));
}

/** Dialog for a selected free range: block it, or take a manual booking. */
function rangeDialog(acc, from, lastNight) {
  const to = addDays(lastNight, 1);
  const blockForm = h("form", { class: "stack", id: "block-form" },
    h("label", { class: "full" }, "Motivo", h("input", { name: "reason", placeholder: "Mantenimiento, uso propio…" })),
    h("button", { type: "submit" }, "Bloquear fechas"));
  const bookForm = h("form", { class: "stack", id: "booking-form" },
    h("label", {}, "Nombre", h("input", { name: "contact_name", required: true })),
    h("label", {}, "Teléfono", h("input", { name: "contact_phone", required: true, inputmode: "tel" })),
    h("label", {}, "Email", h("input", { name: "contact_email", type: "email" })),
    h("label", {}, "Personas", h("input", { name: "guests", type: "number", min: 1, max: acc.capacity, value: 2, required: true })),
    h("label", { class: "inline full" }, h("input", { name: "confirmed", type: "checkbox", checked: true }), "Confirmada (ya pagó la seña)"),
    h("button", { type: "submit" }, "Crear reserva"));
  const dlg = modal(`${acc.name}: ${fmtDay(from)} → ${fmtDay(to)}`, h("div", {},
    h("p", { class: "muted" }, `${Math.round((parseDay(to) - parseDay(from)) / 864e5)} noches, salida el ${fmtDay(to)}.`),
    h("h2", {}, "Bloquear"), blockForm, h("h2", {}, "Reserva manual"), bookForm,
    h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => dlg.close() }, "Cancelar"))));
  blockForm.addEventListener("submit", act(blockForm.querySelector("button"), async () => {
    const reason = formData(blockForm).reason;
    await api("POST", "/admin/blocks", { accommodation_id: acc.id, check_in: from, check_out: to, reason: reason || null });
    dlg.close(); toast("Fechas bloqueadas."); route();
  }));
  bookForm.addEventListener("submit", act(bookForm.querySelector("button"), async () => {
    const f = formData(bookForm);
    const r = await api("POST", "/admin/reservations", {
      accommodation_id: acc.id, check_in: from, check_out: to, guests: Number(f.guests),
      contact_name: f.contact_name, contact_phone: f.contact_phone, contact_email: f.contact_email || null,
      confirmed: f.confirmed === "on", channel: "admin",
    });
    dlg.close(); toast(`Reserva ${r.code} creada.`); location.hash = `#/reservas/${r.code}`;
  }));
}

async function calendarView(main) {
  const q = query();
  const accs = await accommodations(true);
  const month = monthParam(q);
  const first = `${month}-01`;
  const next = addDays(first, 32).slice(0, 7) + "-01";
  const prev = addDays(first, -1).slice(0, 7);
  const mode = q.vista === "linea" || !accs.length ? "linea" : "mes";
  const accId = Number(q.alojamiento) || (accs[0] && accs[0].id);
  const [y, m] = month.split("-").map(Number);

  const controls = h("div", { class: "row" },
    h("button", { type: "button", class: "secondary", "aria-label": "Mes anterior", onclick: () => setHash("#/calendario", { ...q, mes: prev }) }, "‹"),
    h("strong", { id: "month-title" }, `${MONTHS[m - 1]} ${y}`),
    h("button", { type: "button", class: "secondary", "aria-label": "Mes siguiente", onclick: () => setHash("#/calendario", { ...q, mes: next.slice(0, 7) }) }, "›"),
    h("label", {}, "Vista", h("select", { id: "view-mode", onchange: (e) => setHash("#/calendario", { ...q, vista: e.target.value }) },
      h("option", { value: "mes", selected: mode === "mes" }, "Mes por alojamiento"),
      h("option", { value: "linea", selected: mode === "linea" }, "Todos los alojamientos"))),
    mode === "mes" ? h("label", {}, "Alojamiento", h("select", { id: "cal-acc", onchange: (e) => setHash("#/calendario", { ...q, alojamiento: e.target.value }) },
      accs.map((a) => h("option", { value: a.id, selected: a.id === accId }, a.name)))) : null);
  main.append(h("h1", {}, "Calendario"), controls, legend());
  if (!accs.length) {
    main.append(h("p", {}, "Todavía no hay alojamientos. ", h("a", { href: "#/alojamientos/nuevo" }, "Creá el primero.")));
    return;
  }
  const items = await occupancy(first, next, mode === "mes" ? accId : null);
  const days = [];
  for (let d = first; d < next; d = addDays(d, 1)) days.push(d);
  const covering = (acc, d) => items.filter((o) => o.acc === acc && o.from <= d && o.to > d);

  if (mode === "linea") {
    const table = h("table", { class: "timeline", id: "timeline" },
      h("thead", {}, h("tr", {}, h("th", { class: "unit", scope: "col" }, "Alojamiento"), days.map((d) => h("th", { scope: "col" }, d.slice(8))))),
      h("tbody", {}, accs.map((a) => h("tr", {}, h("th", { class: "unit", scope: "row" }, a.name),
        days.map((d) => {
          const o = covering(a.id, d)[0];
          if (!o) return h("td", {});
          const link = h("a", { class: `cell t-${o.type}`, href: o.href || "#", title: `${o.label}: ${fmtDay(o.from)} → ${fmtDay(o.to)}`, "aria-label": `${o.label} ${fmtDay(d)}` });
          if (!o.href) link.addEventListener("click", (e) => { e.preventDefault(); showItem(o); });
          return h("td", {}, link);
        })))));
    main.append(h("div", { class: "scroll card" }, table));
    return;
  }

  const acc = accs.find((a) => a.id === accId);
  let start = null;
  const grid = h("div", { class: "month", id: "month-grid", role: "group", "aria-label": `${acc.name}, ${MONTHS[m - 1]} ${y}` },
    ["Lun", "Mar", "Mié", "Jue", "Vie", "Sáb", "Dom"].map((d) => h("div", { class: "dow" }, d)));
  const offset = (parseDay(first).getDay() + 6) % 7;
  for (let i = 0; i < offset; i++) grid.append(h("div", { class: "day out" }));
  for (const d of days) {
    const here = covering(acc.id, d);
    const past = d < today();
    const free = !here.length && !past;
    const cell = h("div", { class: `day${free ? " free" : ""}${past ? " past" : ""}${d === today() ? " today" : ""}`, dataset: { date: d } });
    const num = h("button", { type: "button", class: "num", disabled: past, "aria-label": `${fmtDay(d)}${here.length ? ", ocupado" : past ? "" : ", libre"}` }, Number(d.slice(8)));
    cell.append(num, ...here.map((o) => {
      const chip = h("button", { type: "button", class: `chip t-${o.type}`, title: `${o.label}: ${fmtDay(o.from)} → ${fmtDay(o.to)}` }, o.label);
      chip.addEventListener("click", () => showItem(o));
      return chip;
    }));
    if (free) {
      num.addEventListener("click", () => {
        if (!start || d < start) {
          for (const c of grid.querySelectorAll(".selected")) c.classList.remove("selected");
          start = d;
          cell.classList.add("selected");
          toast("Elegí la última noche.");
          return;
        }
        const taken = days.some((x) => x >= start && x <= d && covering(acc.id, x).length);
        if (taken) { toast("El rango incluye noches ocupadas.", true); return; }
        const from = start;
        start = null;
        rangeDialog(acc, from, d);
      });
    }
    grid.append(cell);
  }
  main.append(h("p", { class: "muted" }, "Tocá una noche libre y después la última noche para bloquear o reservar."), h("div", { class: "card" }, grid));
}

async function reservationsView(main) {
  const q = query();
  const accs = await accommodations();
  const params = new URLSearchParams();
  for (const k of ["status", "accommodation_id", "from", "to", "q", "cursor"]) if (q[k]) params.set(k, q[k]);
  params.set("limit", "25");
  const page = await api("GET", `/admin/reservations?${params}`);
  const filters = h("form", { class: "stack card", id: "filters" },
    h("label", {}, "Estado", h("select", { name: "status" }, h("option", { value: "" }, "Todos"),
      Object.entries(STATUS).map(([v, l]) => h("option", { value: v, selected: q.status === v }, l)))),
    h("label", {}, "Alojamiento", h("select", { name: "accommodation_id" }, h("option", { value: "" }, "Todos"),
      accs.map((a) => h("option", { value: a.id, selected: String(a.id) === q.accommodation_id }, a.name)))),
    h("label", {}, "Desde", h("input", { type: "date", name: "from", value: q.from || "" })),
    h("label", {}, "Hasta", h("input", { type: "date", name: "to", value: q.to || "" })),
    h("label", {}, "Buscar", h("input", { type: "search", name: "q", value: q.q || "", placeholder: "Código, nombre, teléfono…" })),
    h("button", { type: "submit" }, "Filtrar"));
  filters.addEventListener("submit", (e) => { e.preventDefault(); setHash("#/reservas", formData(filters)); });
  const csv = new URLSearchParams([...params].filter(([k]) => k !== "cursor" && k !== "limit"));
  main.append(h("h1", {}, "Reservas"), filters,
    h("div", { class: "actions" }, h("a", { class: "button secondary", href: `${API}/admin/reservations.csv?${csv}`, download: "reservas.csv" }, "Descargar CSV")),
    h("div", { class: "scroll" }, h("table", { id: "reservations" },
      h("thead", {}, h("tr", {}, ["Código", "Huésped", "Alojamiento", "Fechas", "Estado", "Total"].map((t, i) =>
        h("th", { scope: "col", class: i === 2 || i === 5 ? "hide-sm" : null }, t)))),
      h("tbody", {}, page.items.map((r) => h("tr", {},
        h("td", {}, h("a", { href: `#/reservas/${r.code}` }, r.code)),
        h("td", {}, r.contact_name),
        h("td", { class: "hide-sm" }, accName(accs, r.accommodation_id)),
        h("td", {}, `${fmtDay(r.check_in)} → ${fmtDay(r.check_out)}`),
        h("td", {}, badge(r.status), r.status === "pre_reserved" && r.expires_at ? [" ", countdown(r.expires_at)] : null),
        h("td", { class: "hide-sm" }, money(r.total_price, r.currency))))))),
    page.items.length ? null : h("p", { class: "muted" }, "No hay reservas con esos filtros."),
    h("div", { class: "actions" },
      q.cursor ? h("button", { type: "button", class: "secondary", onclick: () => history.back() }, "Anterior") : null,
      page.next_cursor ? h("button", { type: "button", class: "secondary", onclick: () => setHash("#/reservas", { ...q, cursor: page.next_cursor }) }, "Siguiente") : null));
}

async function reservationView(main, code) {
  const path = `/admin/reservations/${encodeURIComponent(code)}`;
  const [r, accs, payments, outbox] = await Promise.all([
    api("GET", path), accommodations(), api("GET", `${path}/payments`),
    api("GET", "/admin/whatsapp/outbox").then((o) => o.messages, () => []),
  ]);
  const digits = r.contact_phone.replace(/\D/g, "");
  const messages = outbox.filter((m) => m.to === digits);
  const done = (text) => { toast(text); route(); };
  const actions = h("div", { class: "actions", id: "actions" });
  const button = (label, cls, work) => {
    const b = h("button", { type: "button", class: cls }, label);
    b.addEventListener("click", act(b, work));
    actions.append(b);
  };
  if (r.status === "pre_reserved") {
    button("Confirmar", "", async () => { await api("POST", `${path}/confirm`, {}); done("Reserva confirmada."); });
    button("Reenviar link de pago", "secondary", async () => {
      const link = await api("POST", `${path}/payment-link`);
      await navigator.clipboard.writeText(link.payment_url).catch(() => {});
      const text = `Hola ${r.contact_name}, este es el link para pagar la seña de tu reserva ${r.code} ` +
        `(${fmtDay(r.check_in)} al ${fmtDay(r.check_out)}): ${link.payment_url}` +
        (r.expires_at ? ` La pre-reserva vence el ${fmtTime(r.expires_at)}.` : "");
      modal("Link de pago", h("div", { id: "payment-link" },
        h("p", {}, "Copiado. Envialo al huésped:"), h("p", { class: "mono" }, link.payment_url),
        h("div", { class: "actions" },
          h("a", { class: "button", href: `https://wa.me/${digits}?text=${encodeURIComponent(text)}`, target: "_blank", rel: "noopener" }, "Enviar por WhatsApp"),
          r.contact_email ? h("a", { class: "button secondary", href: `mailto:${r.contact_email}?subject=${encodeURIComponent(`Seña de la reserva ${r.code}`)}&body=${encodeURIComponent(text)}` }, "Enviar por email") : null),
        h("form", { method: "dialog" }, h("button", { class: "secondary" }, "Cerrar"))));
    });
  }
  if (r.status === "confirmed" && r.check_in <= today()) {
    button("No se presentó", "secondary", async () => { await api("POST", `${path}/no-show`, {}); done("Marcada como no presentada."); });
  }
  if (r.status === "pre_reserved" || r.status === "confirmed") {
    button("Cancelar…", "danger", async () => {
      const form = h("form", { class: "stack", id: "cancel-form" },
        h("label", { class: "full" }, "Motivo (queda en el historial)", h("input", { name: "reason", required: true, minlength: 3 })),
        h("button", { type: "submit", class: "danger" }, "Cancelar reserva"));
      const dlg = modal(`Cancelar ${r.code}`, form);
      form.addEventListener("submit", act(form.querySelector("button"), async () => {
        await api("POST", `${path}/cancel`, { reason: formData(form).reason });
        dlg.close(); done("Reserva cancelada.");
      }));
    });
  }
  main.append(
    h("p", {}, h("a", { href: "#/reservas" }, "← Reservas")),
    h("h1", {}, `Reserva ${r.code} `, badge(r.status)),
    actions,
    h("div", { class: "grid" },
      h("section", { class: "card" }, h("h2", {}, "Estadía"),
        h("p", {}, h("strong", {}, accName(accs, r.accommodation_id)), h("br"),
          `${fmtDay(r.check_in)} → ${fmtDay(r.check_out)} · ${r.nights} noches · ${r.guests} personas`),
        r.status === "pre_reserved" && r.expires_at ? h("p", {}, "La pre-reserva vence en ", countdown(r.expires_at)) : null,
        h("table", {}, h("tbody", {}, r.nightly.map((n) => h("tr", {}, h("td", {}, fmtDay(n.date)),
          h("td", {}, n.season || (n.weekend ? "fin de semana" : "")), h("td", {}, money(n.price, r.currency)))))),
        h("p", {}, "Total ", h("strong", {}, money(r.total_price, r.currency)), ` · seña ${money(r.deposit_amount, r.currency)} · pagado ${money(r.paid_amount, r.currency)}`)),
      h("section", { class: "card" }, h("h2", {}, "Huésped"),
        h("p", {}, r.contact_name, h("br"), h("a", { href: `tel:${r.contact_phone}` }, r.contact_phone), h("br"),
          r.contact_email ? h("a", { href: `mailto:${r.contact_email}` }, r.contact_email) : "sin email"),
        h("p", { class: "muted" }, `Canal: ${r.channel} · creada ${fmtTime(r.created_at)}`)),
      h("section", { class: "card" }, h("h2", {}, "Historial"),
        h("ul", { class: "plain", id: "history" }, r.history.map((e) => h("li", {}, `${fmtTime(e.at)} · `,
          e.from ? `${STATUS[e.from] || e.from} → ` : "", h("strong", {}, STATUS[e.to] || e.to), ` · ${actor(e.actor)}`, e.reason ? ` · ${e.reason}` : "")))),
      h("section", { class: "card" }, h("h2", {}, "Pagos"),
        payments.length ? h("ul", { class: "plain" }, payments.map((p) => h("li", {}, `${money(p.amount, p.currency)} · ${p.status} · ${fmtTime(p.updated_at)} `,
          p.flags.map((f) => h("span", { class: "badge warn" }, f.replaceAll("_", " ")))))) : h("p", { class: "muted" }, "Sin pagos.")),
      h("section", { class: "card" }, h("h2", {}, "Mensajes enviados"),
        messages.length ? h("ul", { class: "plain" }, messages.map((m) => h("li", {}, `${fmtTime(m.created_at)} · ${m.kind} · ${m.status}`))) :
          h("p", { class: "muted" }, "Sin mensajes de WhatsApp."))));
}

async function accommodationsView(main) {
  const accs = await accommodations(true);
  main.append(h("h1", {}, "Alojamientos"),
    h("div", { class: "actions" }, h("a", { class: "button", href: "#/alojamientos/nuevo" }, "Nuevo alojamiento")),
    accs.length ? h("div", { class: "grid" }, accs.map((a) => h("a", { class: "card", href: `#/alojamientos/${a.id}` },
      h("h2", {}, a.name), h("p", { class: "muted" }, `${KINDS[a.kind] || a.kind} · hasta ${a.capacity} personas · ${money(a.base_price, "ARS")} por noche${a.active ? "" : " · inactivo"}`))))
      : h("p", { class: "muted" }, "Todavía no hay alojamientos."));
}

function seasonRow(s) {
  const row = h("div", { class: "stack card season" },
    h("label", {}, "Temporada", h("input", { name: "s_name", value: s.name || "", required: true })),
    h("label", {}, "Desde (primera noche)", h("input", { name: "s_from", type: "date", value: s.from || "", required: true })),
    h("label", {}, "Hasta (exclusive)", h("input", { name: "s_to", type: "date", value: s.to || "", required: true })),
    h("label", {}, "Precio por noche", h("input", { name: "s_price", inputmode: "decimal", value: s.nightly_price || "", required: true })),
    h("label", {}, "Estadía mínima", h("input", { name: "s_min", type: "number", min: 1, value: s.min_stay || "" })));
  row.append(h("button", { type: "button", class: "secondary", onclick: () => row.remove() }, "Quitar temporada"));
  return row;
}

async function accommodationView(main, id) {
  const isNew = id === "nuevo";
  const a = isNew ? { name: "", kind: "cabin", capacity: 2, base_price: "", weekend_multiplier: "1", weekend_nights: ["friday", "saturday"], min_stay: 1, seasons: [], description: "", active: true }
    : (await accommodations(true)).find((x) => String(x.id) === id);
  if (!a) { main.append(h("p", {}, "No existe ese alojamiento.")); return; }
  const seasons = h("div", { id: "seasons" }, a.seasons.map(seasonRow));
  const form = h("form", { class: "stack card", id: "acc-form" },
    h("label", {}, "Nombre", h("input", { name: "name", value: a.name, required: true })),
    h("label", {}, "Tipo", h("select", { name: "kind" }, Object.entries(KINDS).map(([v, l]) => h("option", { value: v, selected: a.kind === v }, l)))),
    h("label", {}, "Capacidad (personas)", h("input", { name: "capacity", type: "number", min: 1, value: a.capacity, required: true })),
    h("label", {}, "Precio base por noche", h("input", { name: "base_price", inputmode: "decimal", value: a.base_price, required: true })),
    h("label", {}, "Multiplicador de fin de semana", h("input", { name: "weekend_multiplier", inputmode: "decimal", value: a.weekend_multiplier })),
    h("label", {}, "Estadía mínima (noches)", h("input", { name: "min_stay", type: "number", min: 1, value: a.min_stay })),
    h("fieldset", { class: "full" }, h("legend", {}, "Noches de fin de semana"),
      h("div", { class: "row" }, Object.entries(DAYS).map(([v, l]) => h("label", { class: "inline" },
        h("input", { type: "checkbox", name: "weekend_nights", value: v, checked: a.weekend_nights.includes(v) }), l)))),
    h("label", { class: "full" }, "Descripción", h("textarea", { name: "description", rows: 2 }, a.description || "")),
    h("label", { class: "inline full" }, h("input", { type: "checkbox", name: "active", checked: a.active }), "Disponible para reservar"),
    h("div", { class: "full" }, h("h2", {}, "Temporadas"), seasons,
      h("button", { type: "button", class: "secondary", onclick: () => seasons.append(seasonRow({})) }, "Agregar temporada")),
    h("div", { class: "full" }, h("button", { type: "submit" }, isNew ? "Crear alojamiento" : "Guardar cambios")));
  form.addEventListener("submit", act(form.querySelector("button[type=submit]"), async () => {
    const f = new FormData(form);
    const body = {
      name: f.get("name"), kind: f.get("kind"), capacity: Number(f.get("capacity")), base_price: f.get("base_price"),
      weekend_multiplier: f.get("weekend_multiplier") || "1", weekend_nights: f.getAll("weekend_nights"),
      min_stay: Number(f.get("min_stay")) || 1, description: f.get("description"), active: f.get("active") === "on",
      seasons: [...seasons.querySelectorAll(".season")].map((row) => {
        const v = (n) => row.querySelector(`[name=${n}]`).value;
        return { name: v("s_name"), from: v("s_from"), to: v("s_to"), nightly_price: v("s_price"), min_stay: Number(v("s_min")) || null };
      }),
    };
    const saved = isNew ? await api("POST", "/admin/accommodations", body) : await api("PUT", `/admin/accommodations/${a.id}`, body);
    accommodationsCache = null;
    toast(isNew ? "Alojamiento creado." : "Cambios guardados.");
    location.hash = `#/alojamientos/${saved.id}`;
    if (!isNew) route();
  }));
  main.append(h("p", {}, h("a", { href: "#/alojamientos" }, "← Alojamientos")), h("h1", {}, isNew ? "Nuevo alojamiento" : a.name), form);
  if (!isNew) {
    main.append(await siteContentCard(a.id), await exportCard(a.id), await feedsCard(a.id));
  }
}

async function exportCard(id) {
  const ex = await api("GET", `/admin/accommodations/${id}/ical`);
  const url = h("input", { id: "export-url", readonly: true, value: ex.export_url, "aria-label": "URL del calendario" });
  const copy = h("button", { type: "button", class: "secondary" }, "Copiar");
  copy.addEventListener("click", async () => {
    url.select();
    const ok = await navigator.clipboard.writeText(ex.export_url).then(() => true, () => document.execCommand("copy"));
    toast(ok ? "URL copiada." : "Seleccioná y copiá la URL.");
  });
  const rotate = h("button", { type: "button", class: "danger", id: "rotate" }, "Cambiar URL");
  rotate.addEventListener("click", act(rotate, async () => {
    if (!confirm("La URL actual deja de funcionar. Vas a tener que cargar la nueva en Airbnb, Booking y Vrbo. ¿Seguir?")) return;
    const fresh = await api("POST", `/admin/accommodations/${id}/ical/rotate`);
    url.value = fresh.export_url;
    ex.export_url = fresh.export_url;
    toast("Nueva URL generada.");
  }));
  return h("section", { class: "card", "aria-labelledby": "h-export" },
    h("h2", { id: "h-export" }, "Calendario para Airbnb, Booking y Vrbo"),
    h("p", { class: "muted" }, "Pegá esta URL donde cada sitio pide \"importar calendario\"."),
    h("div", { class: "row" }, url, copy, rotate));
}

async function feedsCard(id) {
  const feeds = await api("GET", `/admin/accommodations/${id}/feeds`);
  const base = `/admin/accommodations/${id}/feeds`;
  const add = h("form", { class: "stack", id: "feed-form" },
    h("label", {}, "URL del calendario (.ics)", h("input", { name: "url", type: "url", required: true })),
    h("label", {}, "Origen", h("select", { name: "source" }, Object.entries(SOURCES).map(([v, l]) => h("option", { value: v }, l)))),
    h("label", {}, "Nombre", h("input", { name: "name" })),
    h("button", { type: "submit" }, "Agregar calendario"));
  add.addEventListener("submit", act(add.querySelector("button"), async () => {
    const f = formData(add);
    await api("POST", base, { url: f.url, source: f.source, name: f.name || null });
    toast("Calendario agregado."); route();
  }));
  const rows = feeds.map((f) => {
    const sync = h("button", { type: "button", class: "secondary" }, "Sincronizar ahora");
    sync.addEventListener("click", act(sync, async () => { await api("POST", `${base}/${f.id}/sync`); toast("Sincronizado."); route(); }));
    const toggle = h("button", { type: "button", class: "secondary" }, f.enabled ? "Pausar" : "Activar");
    toggle.addEventListener("click", act(toggle, async () => { await api("PUT", `${base}/${f.id}`, { enabled: !f.enabled }); route(); }));
    const del = h("button", { type: "button", class: "danger" }, "Quitar");
    del.addEventListener("click", act(del, async () => {
      if (!confirm("¿Quitar este calendario? Sus fechas importadas se liberan.")) return;
      await api("DELETE", `${base}/${f.id}`); route();
    }));
    return h("li", {},
      h("strong", {}, f.name), ` · ${SOURCES[f.source] || f.source}${f.enabled ? "" : " · pausado"}`, h("br"),
      h("span", { class: "mono" }, f.url), h("br"),
      `Último intento ${fmtTime(f.last_attempt)} · último éxito ${fmtTime(f.last_success)} · próximo ${fmtTime(f.next_run)}`, h("br"),
      `${f.counts.reservations} reservas, ${f.counts.blocks} bloqueos`,
      f.last_error ? [" · ", h("span", { class: "badge bad" }, f.last_error), f.last_error_detail ? ` ${f.last_error_detail}` : ""] : null,
      h("div", { class: "actions" }, sync, toggle, del));
  });
  return h("section", { class: "card", "aria-labelledby": "h-feeds" },
    h("h2", { id: "h-feeds" }, "Calendarios importados"),
    rows.length ? h("ul", { class: "plain", id: "feeds" }, rows) : h("p", { class: "muted" }, "Ninguno todavía."),
    add);
}

async function conversationsView(main) {
  const convs = await api("GET", "/admin/whatsapp/conversations");
  main.append(h("h1", {}, "Conversaciones"),
    convs.length ? h("ul", { class: "plain card", id: "conversations" }, convs.map((c) => h("li", {},
      h("a", { href: `#/conversaciones/${c.phone}` }, c.profile_name || `+${c.phone}`),
      ` · ${fmtTime(c.last_activity)}`, c.handover ? [" ", h("span", { class: "badge warn" }, "atiende el anfitrión")] : null)))
      : h("p", { class: "muted" }, "Todavía no escribió nadie por WhatsApp."));
}

async function conversationView(main, phone) {
  const c = await api("GET", `/admin/whatsapp/conversations/${encodeURIComponent(phone)}`);
  const toggle = h("button", { type: "button", class: c.handover ? "" : "secondary", id: "handover" },
    c.handover ? "Devolver al bot" : "Atender yo (silenciar al bot)");
  toggle.addEventListener("click", act(toggle, async () => {
    await api("POST", `/admin/whatsapp/conversations/${encodeURIComponent(phone)}/${c.handover ? "resume" : "handover"}`);
    toast(c.handover ? "El bot vuelve a responder." : "El bot queda en silencio en este chat."); route();
  }));
  main.append(h("p", {}, h("a", { href: "#/conversaciones" }, "← Conversaciones")),
    h("h1", {}, c.profile_name || `+${c.phone}`),
    h("div", { class: "actions" }, h("a", { class: "button secondary", href: `https://wa.me/${c.phone}`, rel: "noopener", target: "_blank" }, "Abrir en WhatsApp"), toggle),
    h("section", { class: "card", id: "thread" }, c.messages.length ? c.messages.map((m) => h("div", { class: `bubble ${m.direction === "out" ? "out" : ""}` },
      m.text || `(${m.kind})`, h("div", { class: "muted" }, fmtTime(m.at)))) : h("p", { class: "muted" }, "Sin mensajes guardados.")));
}

// ---------------------------------------------------------------- routing

/** The logged-in admin's password: at least 12 characters and not a common one (the server checks). */
async function accountView(main) {
  const field = (label, name, autocomplete) => h("label", {}, label,
    h("input", { name, type: "password", autocomplete, required: true, minlength: name === "current_password" ? null : 12 }));
  const form = h("form", { class: "card stack", id: "password-form" },
    h("h2", {}, "Cambiar contraseña"),
    h("p", { class: "muted" }, "Al menos 12 caracteres. Mejor una frase que solo vos recuerdes; las contraseñas comunes se rechazan."),
    field("Contraseña actual", "current_password", "current-password"),
    field("Contraseña nueva", "new_password", "new-password"),
    field("Repetir la nueva", "repeat", "new-password"),
    h("p", {}, h("button", { type: "submit" }, "Guardar")));
  form.addEventListener("submit", act(form.querySelector("button"), async () => {
    const { current_password, new_password, repeat } = formData(form);
    if (new_password !== repeat) { toast("Las contraseñas nuevas no coinciden.", true); return; }
    await api("POST", "/admin/password", { current_password, new_password });
    form.reset();
    toast("Contraseña cambiada.");
  }));
  main.append(h("h1", {}, `Cuenta ${session.email}`), form);
}

const ROUTES = [
  [/^#\/login$/, loginView],
  [/^#\/cuenta$/, accountView],
  [/^#\/calendario$/, calendarView],
  [/^#\/reservas$/, reservationsView],
  [/^#\/reservas\/([A-Za-z0-9-]+)$/, reservationView],
  [/^#\/alojamientos$/, accommodationsView],
  [/^#\/alojamientos\/(nuevo|\d+)$/, accommodationView],
  [/^#\/conversaciones$/, conversationsView],
  [/^#\/conversaciones\/(\d+)$/, conversationView],
  [/^#\/sitio$/, siteView],
  [/^#?\/?$/, dashboardView],
];

async function route() {
  const main = document.getElementById("main");
  const hash = location.hash.split("?")[0];
  if (!session.email && hash !== "#/login") {
    try {
      const s = await api("GET", "/admin/session");
      session.email = s.email;
      session.csrf = s.csrf_token;
    } catch (_) {
      location.hash = "#/login";
      return;
    }
  }
  let view = dashboardView;
  let args = [];
  for (const [re, v] of ROUTES) {
    const m = hash.match(re);
    if (m) { view = v; args = m.slice(1); break; }
  }
  main.replaceChildren();
  if (session.email) {
    document.getElementById("top").hidden = false;
    document.getElementById("who-email").textContent = session.email;
  }
  for (const a of document.querySelectorAll("nav a")) {
    const target = a.getAttribute("href");
    const current = target === "#/" ? hash === "#/" || hash === "" : hash.startsWith(target);
    if (current) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  try {
    await view(main, ...args.map(decodeURIComponent));
  } catch (e) {
    if (!(e instanceof ApiFailure && e.status === 401)) {
      failed(e);
      main.append(h("p", { class: "muted" }, "No se pudo cargar esta página."));
    }
  }
  main.dataset.ready = location.hash;
}

document.getElementById("logout").addEventListener("click", async () => {
  try { await api("DELETE", "/admin/session"); } catch (_) { /* the session is gone either way */ }
  session.email = null;
  session.csrf = null;
  document.getElementById("top").hidden = true;
  location.hash = "#/login";
});

window.addEventListener("hashchange", route);
route();
