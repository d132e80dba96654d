//! The pages guests and crawlers read: home, accommodation, inactive ones, escaping, share
//! tags, sitemap and robots.

use reqwest::StatusCode;
use serde_json::json;

use super::{property, set_content, slug};
use crate::helpers::{TestApp, day};

#[tokio::test]
async fn home_and_accommodation_pages_show_prices_and_an_inactive_one_has_no_page() {
    let app = TestApp::spawn().await;
    let id = app
        .accommodation(json!({"name": "Cabaña del Lago", "min_stay": 2}))
        .await;
    let r = app.get("/").await;
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = r.text().await.unwrap();
    assert!(html.contains("Cabaña del Lago"));
    assert!(
        html.contains("desde $\u{a0}12.000,00 / noche"),
        "es-AR money"
    );
    assert_eq!(slug(&app, id).await, "cabana-del-lago");

    let (a, b) = (day(30), day(33));
    let page = app
        .get(&format!(
            "/alojamientos/cabana-del-lago?entrada={a}&salida={b}&huespedes=2"
        ))
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Precio de tu estadía"));
    assert!(html.contains("Total") && html.contains("Seña para reservar (30 %)"));
    let book = format!("/alojamientos/cabana-del-lago/reservar?entrada={a}");
    assert!(html.contains(&book), "the Reservar link");
    assert!(html.contains("<table class=\"month\">"), "the calendar");

    // Search on the home page: free ones with their totals.
    let found = app
        .get(&format!("/?entrada={a}&salida={b}&huespedes=2"))
        .await
        .text()
        .await
        .unwrap();
    assert!(found.contains("en total (3 noches)"), "{found}");

    app.admin_post(
        &format!("/api/v1/admin/accommodations/{id}/deactivate"),
        json!({}),
    )
    .await;
    assert_eq!(
        app.get("/alojamientos/cabana-del-lago").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!(
            "/alojamientos/cabana-del-lago/reservar?entrada={a}&salida={b}"
        ))
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    assert!(
        !app.get("/")
            .await
            .text()
            .await
            .unwrap()
            .contains("Cabaña del Lago")
    );
    assert!(
        !app.get("/sitemap.xml")
            .await
            .text()
            .await
            .unwrap()
            .contains("cabana-del-lago")
    );
    // The API and the admin are not shadowed.
    assert_eq!(
        app.get("/api/v1/accommodations").await.status(),
        StatusCode::OK
    );
    assert_eq!(app.get("/admin/").await.status(), StatusCode::OK);
}

const XSS: &str = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>";

#[tokio::test]
async fn host_text_is_escaped_on_every_page() {
    let app = TestApp::spawn_with(|raw| {
        raw.server.public_base_url = "https://reservas.example.com.ar".into()
    })
    .await;
    let id = app
        .accommodation(
            json!({"name": format!("Cabaña {XSS}"), "description": format!("Linda. {XSS}")}),
        )
        .await;
    let r = app
        .client
        .put(app.url("/api/v1/admin/site"))
        .bearer_auth(&app.admin_token)
        .json(&property(
            json!({"name": format!("Sur {XSS}"), "pitch": XSS, "address": XSS,
            "social_links": [{"label": "<b>Insta</b>", "url": "https://instagram.com/sur"}]}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = set_content(
        &app,
        id,
        json!({"slug": "cabana", "amenities": ["wifi", "parrilla"],
        "notes": XSS, "house_rules": XSS}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    for path in ["/", "/alojamientos/cabana", "/embed"] {
        let html = app.get(path).await.text().await.unwrap();
        assert!(
            !html.contains("<script>alert"),
            "{path} runs the host's text"
        );
        assert!(
            !html.contains("<img src=x"),
            "{path} renders the host's markup"
        );
        assert!(
            html.contains("&lt;script&gt;")
                || html.contains("&#60;script&#62;")
                || html.contains("\\u003cscript"),
            "{path}"
        );
    }
    let html = app.get("/alojamientos/cabana").await.text().await.unwrap();
    let ld = &html[html.find("application/ld+json").unwrap()..];
    let ld = &ld[..ld.find("</script>").unwrap()];
    assert!(!ld.contains('<'), "JSON-LD cannot close its script: {ld}");
    assert!(html.contains("Parrilla") && html.contains("Wi-Fi"));
    // A javascript: URL is refused where the host gives links.
    let r = app
        .client
        .put(app.url("/api/v1/admin/site"))
        .bearer_auth(&app.admin_token)
        .json(&property(json!({"map_url": "javascript:alert(1)"})))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn share_tags_sitemap_and_robots_use_the_configured_base_url_never_the_host_header() {
    let app = TestApp::spawn_with(|raw| {
        raw.server.public_base_url = "https://reservas.example.com.ar".into();
        raw.site.frame_ancestors = vec!["https://www.example.com.ar".into()];
    })
    .await;
    app.accommodation(json!({"name": "Cabaña del Bosque"}))
        .await;
    let r = app
        .client
        .get(app.url("/alojamientos/cabana-del-bosque"))
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .send()
        .await
        .unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("frame-ancestors 'self' https://www.example.com.ar"),
        "{csp}"
    );
    assert!(
        r.headers().get("x-frame-options").is_none(),
        "the embed may be framed"
    );
    let html = r.text().await.unwrap();
    assert!(!html.contains("evil.example"));
    assert!(html.contains(r#"<link rel="canonical" href="https://reservas.example.com.ar/alojamientos/cabana-del-bosque">"#));
    assert!(
        html.contains(r#"<meta property="og:title" content="Cabaña del Bosque · Mi alojamiento">"#)
    );
    assert!(
        html.contains("\"@type\":\"Accommodation\"")
            && html.contains("\"@type\":\"LodgingBusiness\"")
    );
    let sitemap = app.get("/sitemap.xml").await.text().await.unwrap();
    assert!(sitemap.contains("<loc>https://reservas.example.com.ar/</loc>"));
    assert!(
        sitemap
            .contains("<loc>https://reservas.example.com.ar/alojamientos/cabana-del-bosque</loc>")
    );
    let robots = app.get("/robots.txt").await.text().await.unwrap();
    assert!(robots.contains("Sitemap: https://reservas.example.com.ar/sitemap.xml"));
    assert!(robots.contains("Disallow: /reserva/"));
    // The admin keeps refusing every frame.
    let admin = app.get("/admin/").await;
    let csp = admin.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(admin.headers()["x-frame-options"], "DENY");
    // The embed snippets come from the configured base URL too.
    let embed: serde_json::Value = app
        .admin_get("/api/v1/admin/site/embed")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        embed["button"]
            .as_str()
            .unwrap()
            .contains("https://reservas.example.com.ar/sitio/embed.js")
    );
    assert_eq!(app.get("/sitio/embed.js").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_a_base_url_there_are_no_absolute_links() {
    let app = TestApp::spawn().await;
    app.accommodation(json!({})).await;
    let html = app
        .get("/alojamientos/cabana-test")
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("rel=\"canonical\""));
    let sitemap = app.get("/sitemap.xml").await.text().await.unwrap();
    assert!(!sitemap.contains("<loc>"));
}

#[tokio::test]
async fn with_the_site_off_no_page_answers_and_the_api_goes_on() {
    let app = TestApp::spawn_with(|raw| raw.site.enabled = false).await;
    app.accommodation(json!({})).await;
    for path in [
        "/",
        "/alojamientos/cabana-test",
        "/sitemap.xml",
        "/robots.txt",
        "/embed",
        "/sitio/embed.js",
    ] {
        assert_eq!(
            app.get(path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let r = app.get("/api/v1/accommodations").await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.reserve(1, &day(10), &day(12)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
}
