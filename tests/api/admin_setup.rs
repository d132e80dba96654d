//! The admin's first-run checklist: GET /api/v1/admin/setup over HTTP, and its card on the web
//! UI's home page in a real headless chromium.

use crate::helpers::webdriver::browser;
use crate::helpers::{TestApp, body};
use reqwest::StatusCode;
use serde_json::{Value, json};

const BASE: &str = "https://reservas.example.com.ar";

/// Half configured: property named, Mercado Pago token but no webhook secret, nothing else.
async fn half_configured() -> TestApp {
    TestApp::spawn_with(|c| {
        c.server.public_base_url = BASE.into();
        c.property.name = "Cabañas del Lago".into();
        c.mercadopago.access_token = "APP_USR-test".into();
    })
    .await
}

fn item<'a>(view: &'a Value, id: &str) -> &'a Value {
    view["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {view}"))
}

#[tokio::test]
async fn the_checklist_names_what_is_missing_with_urls_from_the_configuration() {
    let app = half_configured().await;
    let anonymous = app.get("/api/v1/admin/setup").await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // A hostile Host header changes nothing: URLs come from server.public_base_url.
    let r = app
        .client
        .get(app.url("/api/v1/admin/setup"))
        .bearer_auth(&app.admin_token)
        .header("host", "evil.example")
        .header("x-forwarded-proto", "http")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let view = body(r).await;
    assert_eq!(view["complete"], false);
    assert_eq!(view["public_base_url"], BASE);
    assert_eq!(view["property_name"], "Cabañas del Lago");
    assert_eq!(view["time_zone"], "America/Argentina/Buenos_Aires");
    assert_eq!(item(&view, "property")["done"], true);
    let mp = item(&view, "mercadopago");
    assert_eq!(mp["done"], false);
    assert_eq!(mp["missing"], json!(["mercadopago.webhook_secret"]));
    assert_eq!(
        mp["webhook_url"],
        format!("{BASE}/api/v1/webhooks/mercadopago")
    );
    let wa = item(&view, "whatsapp");
    assert_eq!(
        wa["webhook_url"],
        format!("{BASE}/api/v1/webhooks/whatsapp")
    );
    assert_eq!(wa["missing"].as_array().unwrap().len(), 4);
    let https = item(&view, "https");
    assert_eq!(https["done"], false);
    assert_eq!(view["https"]["mode"], "off");
    assert_eq!(
        item(&view, "offsite_backups")["missing"],
        json!(["backup.offsite"])
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_with_an_https_address_https_is_done() {
    let app = TestApp::spawn_with(|c| {
        c.server.public_base_url = BASE.into();
        c.server.trusted_proxies = vec!["127.0.0.1".into()];
        c.backup.offsite = "restic sftp:backup@otra-maquina".into();
    })
    .await;
    let view = body(app.admin_get("/api/v1/admin/setup").await).await;
    assert_eq!(view["https"]["mode"], "proxy");
    assert_eq!(item(&view, "https")["done"], true);
    assert_eq!(item(&view, "offsite_backups")["done"], true);
    assert_eq!(item(&view, "property")["missing"], json!(["property.name"]));
}

#[tokio::test]
async fn the_home_page_shows_the_checklist_with_the_webhook_urls() {
    let Some(b) = browser().await else { return };
    let app = half_configured().await;
    b.log_in(&app).await;
    let title = b.text("#h-setup").await;
    assert_eq!(title, "Puesta en marcha: faltan 5 de 6");
    for provider in ["mercadopago", "whatsapp"] {
        let url = b
            .js(
                "return document.getElementById('setup-url-' + arguments[0]).value;",
                json!([provider]),
            )
            .await;
        assert_eq!(url, format!("{BASE}/api/v1/webhooks/{provider}").as_str());
    }
    let states = b
        .js(
            "return [...document.querySelectorAll('#setup li')].map(li => li.dataset.item + ':' + li.className);",
            json!([]),
        )
        .await;
    assert_eq!(
        states,
        json!([
            "property:setup-done",
            "https:setup-todo",
            "mercadopago:setup-todo",
            "whatsapp:setup-todo",
            "email:setup-todo",
            "offsite_backups:setup-todo"
        ])
    );
    let mp = b.text("#setup li[data-item=mercadopago]").await;
    assert!(mp.contains("mercadopago.webhook_secret"), "{mp}");
    b.resize(360, 800).await;
    let widths = b
        .js(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            json!([]),
        )
        .await;
    assert!(
        widths[0].as_u64() <= widths[1].as_u64(),
        "the checklist scrolls sideways at 360 px: {widths}"
    );
    b.screenshot("setup-checklist-phone").await;
}
