//! A guest books in a real browser (headless chromium through chromedriver): home page →
//! accommodation → calendar → price → form → guest page → the fake Mercado Pago checkout →
//! back to a confirmed guest page; with JavaScript at desktop width, and without it on a
//! 360 px phone. Screenshots go to `target/screenshots/site-*.png`.

use image::{ImageEncoder, RgbImage};
use serde_json::json;

use super::{property, set_content};
use crate::helpers::fake_mp::{self, FakeMp};
use crate::helpers::webdriver::{Browser, browser, browser_without_js};
use crate::helpers::{TestApp, day};

/// A landscape-like picture: sky, hills, a lake.
fn landscape() -> Vec<u8> {
    let (w, h) = (1600, 1066);
    let img = RgbImage::from_fn(w, h, |x, y| {
        let hill = 520.0 + 60.0 * ((x as f32) / 180.0).sin();
        if (y as f32) < hill {
            image::Rgb([120 + (y / 8) as u8, 170 + (y / 12) as u8, 230])
        } else if y < 800 {
            image::Rgb([40, 110 + (x % 40) as u8, 60])
        } else {
            image::Rgb([30, 90, 140 + (y % 30) as u8])
        }
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 88)
        .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// The app on a port known before it starts (Mercado Pago's back URLs and notifications
/// need its public address), with payments through the fake, one accommodation with content
/// and a photo.
async fn site_with_payments() -> (TestApp, FakeMp) {
    let mp = FakeMp::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mp_url = mp.url();
    let app = TestApp::spawn_with(move |raw| {
        fake_mp::configure(raw, mp_url);
        raw.server.listen = format!("127.0.0.1:{port}");
        raw.server.public_base_url = format!("http://127.0.0.1:{port}");
        raw.mercadopago.public_base_url = format!("http://127.0.0.1:{port}");
    })
    .await;
    app.client
        .put(app.url("/api/v1/admin/site"))
        .bearer_auth(&app.admin_token)
        .json(&property(
            json!({"pitch": "Cabañas de madera frente al lago, a 10 minutos del centro.",
            "cancellation_policy": "Cancelando hasta 7 días antes se devuelve la seña."}),
        ))
        .send()
        .await
        .unwrap();
    let id = app
        .accommodation(json!({"name": "Cabaña del Lago", "capacity": 5,
            "description": "Vista al lago, deck y parrilla.\n\nDos dormitorios y un living con hogar."}))
        .await;
    set_content(&app, id, json!({"slug": "cabana-del-lago", "amenities": ["wifi", "parrilla", "pileta", "cochera", "hogar"],
        "house_rules": "No se permiten fiestas. Silencio desde las 23."})).await;
    let r = app
        .client
        .post(app.url(&format!("/api/v1/admin/accommodations/{id}/photos")))
        .query(&[("alt", "La cabaña con el lago de fondo")])
        .bearer_auth(&app.admin_token)
        .body(landscape())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    app.accommodation(json!({"name": "Departamento Centro", "capacity": 2, "base_price": "30000"}))
        .await;
    (app, mp)
}

/// No page may scroll sideways on a 360 px phone (needs page scripts to measure).
async fn assert_fits(b: &Browser, page: &str) {
    let w = b
        .js(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            json!([]),
        )
        .await;
    assert!(
        w[0].as_u64() <= w[1].as_u64(),
        "{page} scrolls sideways: {w}"
    );
}

/// What an automated WCAG pass can check on a rendered page: the language, one `h1`, a label
/// for every form field, alternative text on every image, a name for every link and button,
/// and a skip link that the first Tab focuses.
async fn assert_accessible(b: &Browser, page: &str) {
    let problems = b
        .js(
            r#"const p = [];
            if (document.documentElement.lang !== 'es-AR') p.push('lang ' + document.documentElement.lang);
            if (document.querySelectorAll('h1').length !== 1) p.push('h1 count');
            for (const f of document.querySelectorAll('input:not([type=hidden]), select, textarea'))
              if (!f.labels.length && !f.getAttribute('aria-label') && !f.getAttribute('aria-labelledby'))
                p.push('unlabelled ' + f.outerHTML);
            for (const i of document.querySelectorAll('img'))
              if (!i.hasAttribute('alt')) p.push('no alt ' + i.outerHTML);
            for (const a of document.querySelectorAll('a[href], button'))
              if (!a.textContent.trim() && !a.getAttribute('aria-label') && !a.querySelector('img[alt]:not([alt=""])'))
                p.push('nameless ' + a.outerHTML);
            return p;"#,
            json!([]),
        )
        .await;
    assert_eq!(problems, json!([]), "{page}");
    b.js(
        "document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);",
        json!([]),
    )
    .await;
    b.key("\u{E004}").await;
    let focused = b
        .js("return document.activeElement.className;", json!([]))
        .await;
    assert_eq!(
        focused,
        json!("skip"),
        "{page}: the first Tab reaches the skip link"
    );
}

/// The whole booking; `shots` prefixes the screenshots.
async fn book_and_pay(b: &Browser, app: &TestApp, shots: &str) {
    let (check_in, check_out) = (day(20), day(23));
    b.goto(&app.url("/")).await;
    b.wait_text("h1", "Cabañas del Sur").await;
    b.screenshot(&format!("{shots}-home")).await;
    b.press("a[href='/alojamientos/cabana-del-lago']:not([tabindex])")
        .await;
    b.wait_text("h1", "Cabaña del Lago").await;
    b.screenshot(&format!("{shots}-accommodation")).await;
    b.press(&format!("a.day[href*='entrada={check_in}']")).await;
    b.press(&format!("a.day[href*='salida={check_out}']")).await;
    b.wait_text("#resultado", "Seña para reservar").await;
    b.screenshot(&format!("{shots}-price")).await;
    b.press("#resultado a.button").await;
    b.wait_text("h1", "Reservar Cabaña del Lago").await;
    b.fill("#nombre", "Lucía Fernández").await;
    b.fill("#telefono", "+54 9 294 455-6677").await;
    b.fill("#email", "lucia@example.com").await;
    b.screenshot(&format!("{shots}-form")).await;
    b.press("form button[type=submit]").await;
    b.wait_text(".status", "falta la seña").await;
    b.screenshot(&format!("{shots}-hold")).await;
    b.press("#pagar").await;
    b.wait_text("h1", "Mercado Pago (de prueba)").await;
    b.screenshot(&format!("{shots}-checkout")).await;
    b.press("#pay").await;
    b.wait_text(".status", "Reserva confirmada").await;
    b.wait_text(".arrival", "La llave está en la caja.").await;
    b.screenshot(&format!("{shots}-confirmed")).await;
}

#[tokio::test]
async fn a_guest_books_and_pays_in_a_real_browser_with_javascript() {
    let Some(b) = browser().await else { return };
    let (app, _mp) = site_with_payments().await;
    b.resize(1280, 1000).await;
    book_and_pay(&b, &app, "site-desktop").await;
    let countdown_gone = b
        .js(
            "return document.querySelector('[data-expires]') === null;",
            json!([]),
        )
        .await;
    assert_eq!(countdown_gone, json!(true), "no countdown once confirmed");
    assert_accessible(&b, "the guest page").await;
    let code = b.read(".details .mono").await;
    let r = app
        .admin_get(&format!("/api/v1/admin/reservations/{code}"))
        .await;
    let r = crate::helpers::body(r).await;
    assert_eq!(r["status"], "confirmed");
    assert_eq!(r["channel"], "web");

    // With scripts the calendar and the calculator change in place.
    b.resize(360, 800).await;
    b.goto(&app.url("/alojamientos/cabana-del-lago")).await;
    b.wait_text("h1", "Cabaña del Lago").await;
    b.js("window.__same = 1;", json!([])).await;
    b.press(&format!("a.day[href*='entrada={}']", day(40).as_str()))
        .await;
    b.press(&format!("a.day[href*='salida={}']", day(42).as_str()))
        .await;
    b.wait_text("#resultado", "Total").await;
    assert_eq!(
        b.js("return window.__same === 1;", json!([])).await,
        json!(true),
        "no page load"
    );
    assert!(
        b.url().await.contains(&format!("salida={}", day(42))),
        "the URL follows"
    );
    b.screenshot("site-phone-price").await;
    for path in ["/", "/alojamientos/cabana-del-lago"] {
        b.goto(&app.url(path)).await;
        b.wait_text("body", "Cabañas del Sur").await;
        assert_fits(&b, path).await;
        assert_accessible(&b, path).await;
    }
    b.goto(&app.url("/")).await;
    b.wait_text("h1", "Cabañas del Sur").await;
    b.screenshot("site-phone-home").await;
}

#[tokio::test]
async fn a_guest_books_and_pays_in_a_real_browser_without_javascript() {
    let Some(b) = browser_without_js().await else {
        return;
    };
    let (app, _mp) = site_with_payments().await;
    b.resize(360, 800).await;
    book_and_pay(&b, &app, "site-phone-nojs").await;
    assert!(b.url().await.contains("/reserva/"));
}
