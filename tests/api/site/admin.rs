//! The host manages the site in the web UI: the property's content, the embed snippets with
//! their copy buttons, an accommodation's page and a photo upload.

use serde_json::json;

use crate::helpers::webdriver::browser;
use crate::helpers::{TestApp, body, eventually};

#[tokio::test]
async fn the_host_edits_the_site_and_uploads_a_photo_in_the_web_ui() {
    let Some(b) = browser().await else { return };
    let app = TestApp::spawn_with(|raw| {
        raw.server.public_base_url = "https://reservas.example.com.ar".into();
        raw.site.frame_ancestors = vec!["https://www.example.com.ar".into()];
    })
    .await;
    let id = app.accommodation(json!({"name": "Cabaña del Lago"})).await;
    b.resize(1280, 1000).await;
    b.goto(&app.url("/admin/")).await;
    let status = b
        .js(
            "return fetch('/api/v1/admin/session', {method: 'POST', headers: {'content-type': 'application/json'}, \
             body: JSON.stringify({email: arguments[0], password: arguments[1]})}).then(r => r.status);",
            json!([app.admin_email, app.admin_password]),
        )
        .await;
    assert_eq!(status, json!(200));
    b.goto(&app.url("/admin/#/sitio")).await;
    b.ready("#/sitio").await;
    b.type_into("#site-form input[name=pitch]", "Cabañas frente al lago")
        .await;
    b.type_into(
        "#site-form textarea[name=social]",
        "Instagram | https://instagram.com/cabanasdelsur",
    )
    .await;
    b.click("#site-form button[type=submit]").await;
    let saved = eventually(std::time::Duration::from_secs(5), || async {
        body(app.admin_get("/api/v1/admin/site").await).await["pitch"] == "Cabañas frente al lago"
    })
    .await;
    assert!(saved, "the property's content was saved");
    let snippet = b
        .js(
            "return document.getElementById('embed-button').value;",
            json!([]),
        )
        .await;
    assert!(
        snippet
            .as_str()
            .unwrap()
            .contains("https://reservas.example.com.ar/sitio/embed.js")
    );
    b.screenshot("site-admin-embed").await;

    b.goto(&app.url(&format!("/admin/#/alojamientos/{id}")))
        .await;
    b.ready(&format!("#/alojamientos/{id}")).await;
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("lago.jpg");
    let img = image::RgbImage::from_fn(1200, 800, |x, y| {
        image::Rgb([(x / 5) as u8, (y / 4) as u8, 180])
    });
    img.save(&photo).unwrap();
    b.attach("#photo-file", &photo).await;
    b.type_into("#photo-alt", "El deck").await;
    b.click("#photo-upload").await;
    b.wait_for("document.querySelector('#photos img')").await;
    let content = body(
        app.admin_get(&format!("/api/v1/admin/accommodations/{id}/content"))
            .await,
    )
    .await;
    assert_eq!(content["photos"][0]["alt"], "El deck");
    b.screenshot("site-admin-photos").await;
}
