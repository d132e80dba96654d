// The first-run checklist on the home page: what is still missing before taking real bookings,
// from GET /api/v1/admin/setup, with the webhook URLs to paste into Mercado Pago's and Meta's
// panels. Uses h(), api(), toast() and fmtTime() of app.js (loaded after this file; called later).
"use strict";

const SETUP_ITEMS = {
  property: {
    title: "Nombre y zona horaria",
    help: "Poné el nombre de tu alojamiento (y la zona horaria si no es Buenos Aires) en /etc/alojamientos/alojamientos.toml.",
  },
  https: {
    title: "HTTPS",
    help: "Mercado Pago, WhatsApp y el inicio de sesión necesitan HTTPS con tu dominio: README, \"Install on a VPS\", pasos 3 y 4.",
  },
  mercadopago: {
    title: "Mercado Pago",
    help: "En el panel de Mercado Pago (Tus integraciones → tu aplicación → Webhooks) pegá esta URL con el evento Pagos; copiá el secreto que muestra a secrets.env.",
    urlLabel: "URL de notificaciones",
  },
  whatsapp: {
    title: "WhatsApp",
    help: "En el panel de Meta (tu app → WhatsApp → Configuración) pegá esta URL de callback con el token de verificación de secrets.env y suscribite a messages.",
    urlLabel: "URL de callback",
  },
  email: {
    title: "Email",
    help: "Opcional: la sección [email] del archivo de configuración (servidor SMTP, remitente, tu dirección).",
  },
  offsite_backups: {
    title: "Copias fuera del servidor",
    help: "Copiá /var/lib/alojamientos/backups a otra máquina (README, \"Backups\") y anotá a dónde en backup.offsite.",
  },
};

const HTTPS_MODES = {
  acme: "certificado automático (Let's Encrypt)",
  files: "certificado desde archivos",
  proxy: "detrás de un proxy (Caddy, nginx)",
  off: "sin HTTPS",
};

function setupUrl(id, label, url) {
  const input = h("input", { id: `setup-url-${id}`, readonly: true, value: url, "aria-label": label });
  const copy = h("button", { type: "button", class: "secondary" }, "Copiar");
  copy.addEventListener("click", async () => {
    input.select();
    const ok = await navigator.clipboard.writeText(url).then(() => true, () => document.execCommand("copy"));
    toast(ok ? "URL copiada." : "Seleccioná y copiá la URL.");
  });
  return h("div", { class: "row setup-url" }, input, copy);
}

function setupHttps(view) {
  const c = view.https.certificate;
  const lines = [h("p", {}, "Modo: ", HTTPS_MODES[view.https.mode] || view.https.mode,
    c && c.domains.length ? ` para ${c.domains.join(", ")}` : "")];
  if (c && c.not_after) lines.push(h("p", {}, "El certificado vence el ", fmtTime(c.not_after), "; se renueva solo."));
  if (c && c.last_error) lines.push(h("p", { class: "error-text" }, "Último error: ", c.last_error));
  return lines;
}

function setupItem(view, item) {
  const text = SETUP_ITEMS[item.id] || { title: item.id, help: "" };
  const body = [];
  if (item.id === "property") body.push(h("p", {}, `${view.property_name} · ${view.time_zone}`));
  if (item.id === "https") body.push(...setupHttps(view));
  if (text.urlLabel) {
    if (item.webhook_url) {
      body.push(h("p", { class: "muted" }, `${text.urlLabel}:`), setupUrl(item.id, text.urlLabel, item.webhook_url));
    } else {
      body.push(h("p", { class: "muted" }, "La URL aparece cuando el servidor conoce su dirección pública (HTTPS o server.public_base_url)."));
    }
  }
  if (!item.done) {
    body.push(h("p", { class: "muted" }, text.help));
    if (item.missing.length) {
      body.push(h("p", {}, "Falta: ", item.missing.flatMap((k, i) => [i ? ", " : "", h("code", {}, k)])));
    }
  }
  return h("li", { class: item.done ? "setup-done" : "setup-todo", dataset: { item: item.id } },
    h("strong", {}, item.done ? "✓ " : "○ ", text.title), body);
}

/** The checklist card, or null once everything is done. */
async function setupCard() {
  const view = await api("GET", "/admin/setup");
  if (view.complete) return null;
  const left = view.items.filter((i) => !i.done).length;
  return h("section", { class: "card setup", id: "setup", "aria-labelledby": "h-setup" },
    h("h2", { id: "h-setup" }, `Puesta en marcha: faltan ${left} de ${view.items.length}`),
    view.public_base_url ? h("p", { class: "muted" }, "Dirección pública: ", h("code", {}, view.public_base_url)) : null,
    h("ul", { class: "plain" }, view.items.map((i) => setupItem(view, i))));
}
