// The guest site in the web UI: the property's content (shared with the WhatsApp bot), each
// accommodation's page (address, amenities, notes, rules, photos with alt text and order) and
// the snippets to put the site on the host's own website. Uses h(), api(), act(), toast(),
// formData() and session of app.js (loaded after this file; called later).
"use strict";

const PROPERTY_FIELDS = [
  ["name", "Nombre del alojamiento", "input"],
  ["pitch", "Frase de presentación", "input"],
  ["address", "Dirección", "input"],
  ["map_url", "Enlace al mapa (Google Maps u OpenStreetMap)", "url"],
  ["contact", "Contacto (texto libre)", "input"],
  ["contact_phone", "Teléfono", "input"],
  ["contact_email", "Email", "input"],
  ["check_in_time", "Check-in desde (HH:MM)", "input"],
  ["check_out_time", "Check-out hasta (HH:MM)", "input"],
  ["cancellation_policy", "Política de cancelación", "textarea"],
  ["deposit_policy", "Política de seña", "textarea"],
  ["check_in_instructions", "Instrucciones de llegada (sólo las ve el huésped con la reserva confirmada)", "textarea"],
];

function copyRow(id, label, value) {
  const field = h("textarea", { id, readonly: true, rows: 2, "aria-label": label }, value);
  const copy = h("button", { type: "button", class: "secondary" }, "Copiar");
  copy.addEventListener("click", async () => {
    field.select();
    const ok = await navigator.clipboard.writeText(value).then(() => true, () => document.execCommand("copy"));
    toast(ok ? "Copiado." : "Seleccioná y copiá el texto.");
  });
  return h("div", { class: "stack" }, h("strong", {}, label), field, h("div", {}, copy));
}

async function siteView(main) {
  const [p, embed] = await Promise.all([api("GET", "/admin/site"), api("GET", "/admin/site/embed")]);
  const form = h("form", { class: "stack card", id: "site-form" },
    PROPERTY_FIELDS.map(([k, label, kind]) => h("label", { class: kind === "textarea" ? "full" : null }, label,
      kind === "textarea" ? h("textarea", { name: k, rows: 3 }, p[k] || "") : h("input", { name: k, type: kind === "url" ? "url" : "text", value: p[k] || "" }))),
    h("label", { class: "full" }, "Redes (una por línea: Nombre | https://…)",
      h("textarea", { name: "social", rows: 3 }, p.social_links.map((l) => `${l.label} | ${l.url}`).join("\n"))),
    h("div", { class: "full" }, h("button", { type: "submit" }, "Guardar")));
  form.addEventListener("submit", act(form.querySelector("button[type=submit]"), async () => {
    const f = formData(form);
    const body = Object.fromEntries(PROPERTY_FIELDS.map(([k]) => [k, f[k] || ""]));
    body.social_links = (f.social || "").split("\n").map((l) => l.split("|").map((x) => x.trim()))
      .filter(([label, url]) => label && url).map(([label, url]) => ({ label, url }));
    await api("PUT", "/admin/site", body);
    toast("Contenido guardado. El sitio y el bot de WhatsApp ya lo usan.");
  }));
  const site = embed.site_url || "";
  main.append(h("h1", {}, "Sitio de reservas"),
    h("p", {}, site ? h("a", { href: site + "/", target: "_blank", rel: "noopener" }, "Ver el sitio") :
      h("span", { class: "muted" }, "Configurá server.public_base_url para tener enlaces completos.")),
    form,
    h("section", { class: "card", id: "embed", "aria-labelledby": "h-embed" },
      h("h2", { id: "h-embed" }, "Poné el sitio en tu página web"),
      h("p", { class: "muted" }, embed.frame_ancestors.length ? `El widget se puede mostrar en: ${embed.frame_ancestors.join(", ")}.`
        : "Para el widget, agregá el dominio de tu página a site.frame_ancestors; el botón funciona siempre."),
      copyRow("embed-button", "Botón «Reservar»", embed.button),
      copyRow("embed-widget", "Widget (búsqueda y alojamientos)", embed.widget),
      copyRow("embed-iframe", "Iframe", embed.iframe)));
}

async function siteContentCard(id) {
  const c = await api("GET", `/admin/accommodations/${id}/content`);
  const base = `/admin/accommodations/${id}`;
  const form = h("form", { class: "stack", id: "content-form" },
    h("label", {}, "Dirección de la página (/alojamientos/…)", h("input", { name: "slug", value: c.slug, required: true, pattern: "[a-z0-9-]+" })),
    h("fieldset", { class: "full" }, h("legend", {}, "Comodidades"),
      h("div", { class: "row" }, c.amenity_choices.map((a) => h("label", { class: "inline" },
        h("input", { type: "checkbox", name: "amenities", value: a.key, checked: c.amenities.includes(a.key) }), a.label)))),
    h("label", { class: "full" }, "Notas (se muestran junto a las comodidades)", h("textarea", { name: "notes", rows: 2 }, c.notes)),
    h("label", { class: "full" }, "Normas de la casa", h("textarea", { name: "house_rules", rows: 2 }, c.house_rules)),
    h("p", { class: "full" }, h("button", { type: "submit" }, "Guardar página")));
  form.addEventListener("submit", act(form.querySelector("button"), async () => {
    const f = new FormData(form);
    await api("PUT", `${base}/content`, { slug: f.get("slug"), amenities: f.getAll("amenities"), notes: f.get("notes"), house_rules: f.get("house_rules") });
    toast("Página guardada.");
  }));
  const photos = h("ul", { class: "plain photos", id: "photos" }, c.photos.map((p, i) => {
    const thumb = p.variants.find((v) => v.format === "jpeg");
    const alt = h("input", { value: p.alt, "aria-label": "Descripción de la foto" });
    const save = h("button", { type: "button", class: "secondary" }, "Guardar descripción");
    save.addEventListener("click", act(save, async () => { await api("PUT", `${base}/photos/${p.id}`, { alt: alt.value }); toast("Descripción guardada."); }));
    const first = h("button", { type: "button", class: "secondary", disabled: i === 0 }, "Poner primera");
    first.addEventListener("click", act(first, async () => { await api("PUT", `${base}/photos/${p.id}`, { position: 0 }); route(); }));
    const del = h("button", { type: "button", class: "danger" }, "Quitar");
    del.addEventListener("click", act(del, async () => { if (!confirm("¿Quitar esta foto?")) return; await api("DELETE", `${base}/photos/${p.id}`); route(); }));
    return h("li", {}, thumb ? h("img", { src: `/media/${thumb.key}`, alt: p.alt, width: 160 }) : null, alt, h("div", { class: "actions" }, save, first, del));
  }));
  const file = h("input", { id: "photo-file", type: "file", accept: "image/jpeg,image/png,image/webp", "aria-label": "Foto" });
  const upAlt = h("input", { id: "photo-alt", placeholder: "Qué muestra la foto", "aria-label": "Descripción de la foto nueva" });
  const up = h("button", { type: "button", id: "photo-upload" }, "Subir foto");
  up.addEventListener("click", act(up, async () => {
    const f = file.files[0];
    if (!f) { toast("Elegí una foto.", true); return; }
    const res = await fetch(`${API}${base}/photos?alt=${encodeURIComponent(upAlt.value)}`, {
      method: "POST", body: f, credentials: "same-origin",
      headers: { "content-type": f.type || "application/octet-stream", "x-csrf-token": session.csrf },
    });
    if (!res.ok) {
      const e = await res.json().catch(() => ({}));
      const words = { photo_too_large: "La foto es demasiado pesada.", unsupported_image: "Sólo fotos JPEG, PNG o WebP.",
        image_too_large: "La foto tiene demasiados píxeles.", invalid_image: "No se pudo leer la foto.", too_many_photos: "Ya hay demasiadas fotos." };
      toast(words[e.error] || e.detail || "No se pudo subir la foto.", true);
      return;
    }
    toast("Foto subida."); route();
  }));
  return h("section", { class: "card", "aria-labelledby": "h-page" },
    h("h2", { id: "h-page" }, "Página en el sitio"),
    h("p", {}, h("a", { href: c.path, target: "_blank", rel: "noopener" }, "Ver la página")),
    form, h("h3", {}, "Fotos"), c.photos.length ? photos : h("p", { class: "muted" }, "Todavía no hay fotos."),
    h("div", { class: "row" }, file, upAlt, up));
}
