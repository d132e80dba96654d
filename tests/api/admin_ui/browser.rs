//! The host's whole workflow in a real browser (headless chromium through chromedriver),
//! with screenshots at phone and desktop widths.

use super::*;

/// No page may scroll sideways on a 360 px phone.
async fn assert_fits_phone(b: &Browser, page: &str) {
    let widths = b
        .js(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            json!([]),
        )
        .await;
    let (scroll, inner) = (widths[0].as_u64().unwrap(), widths[1].as_u64().unwrap());
    assert!(
        scroll <= inner,
        "{page} scrolls sideways at {inner} px: {scroll} px wide"
    );
}

#[tokio::test]
async fn host_workflow_in_a_real_browser() {
    let Some(b) = browser().await else { return };
    let mp = FakeMp::start().await;
    let mp_url = mp.url();
    let app = TestApp::spawn_with(move |raw| {
        fake_mp::configure(raw, mp_url);
        raw.mercadopago.public_base_url = "http://127.0.0.1:8080".into();
    })
    .await;
    b.resize(1280, 1000).await;

    // Log in: the session cookie is HttpOnly and SameSite=Strict.
    b.log_in(&app).await;
    let cookies = b.cookies().await;
    let session = cookies
        .iter()
        .find(|c| c["name"] == "alojamientos_session")
        .expect("the session cookie is set");
    assert_eq!(session["httpOnly"], true);
    assert_eq!(session["sameSite"], "Strict");
    assert_eq!(
        b.js("return document.cookie;", json!([])).await,
        "",
        "page scripts cannot read the session"
    );

    // Create an accommodation.
    b.goto(&app.url("/admin/#/alojamientos/nuevo")).await;
    b.ready("#/alojamientos/nuevo").await;
    b.type_into("#acc-form input[name=name]", "Cabaña del Lago")
        .await;
    b.type_into("#acc-form input[name=capacity]", "4").await;
    b.type_into("#acc-form input[name=base_price]", "30000")
        .await;
    b.click("#acc-form button[type=submit]").await;
    b.wait_for(
        "/^#\\/alojamientos\\/\\d+$/.test(document.getElementById('main').dataset.ready || '')",
    )
    .await;
    let accs = admin_json(&app, "/api/v1/admin/accommodations").await;
    assert_eq!(accs[0]["name"], "Cabaña del Lago");
    assert_eq!(accs[0]["base_price"], "30000.00");
    let id = accs[0]["id"].as_u64().unwrap();

    // A guest's hold, taken through the public API, shows on the dashboard with a countdown.
    let hold = app.reserve(id, &day(3), &day(5)).await;
    assert_eq!(hold.status(), StatusCode::CREATED);
    let code = body(hold).await["code"].as_str().unwrap().to_owned();
    b.goto(&app.url("/admin/#/")).await;
    b.ready("#/").await;
    b.wait_for(&format!(
        "document.getElementById('holds').innerText.includes({})",
        json!(code)
    ))
    .await;
    let first = b.text("#holds .countdown").await;
    assert!(
        first.contains(':'),
        "countdown shows minutes and seconds: {first}"
    );
    b.wait_for(&format!(
        "document.querySelector('#holds .countdown').innerText !== {}",
        json!(first)
    ))
    .await;
    b.screenshot("dashboard-desktop").await;

    // Its detail page resends the Mercado Pago link: ready to go out on WhatsApp.
    b.goto(&app.url(&format!("/admin/#/reservas/{code}"))).await;
    b.ready(&format!("#/reservas/{code}")).await;
    b.click("#actions button.secondary").await;
    b.wait_for("document.querySelector('#payment-link a')")
        .await;
    let link = admin_json(&app, &format!("/api/v1/admin/reservations/{code}")).await;
    let payment_url = link["payment_url"]
        .as_str()
        .expect("the hold has a link")
        .to_owned();
    let whatsapp = b
        .js(
            "const u = new URL(document.querySelector('#payment-link a').href); \
             return [u.origin + u.pathname, u.searchParams.get('text')];",
            json!([]),
        )
        .await;
    assert_eq!(whatsapp[0], "https://wa.me/5491122334455");
    let text = whatsapp[1].as_str().unwrap();
    assert!(
        text.contains(&payment_url) && text.contains(&code),
        "{text}"
    );
    b.js(
        "document.querySelector('#payment-link').closest('dialog').close();",
        json!([]),
    )
    .await;

    // Confirm it.
    b.click("#actions button").await;
    b.wait_for("document.querySelector('h1 .badge.confirmed')")
        .await;
    let r = admin_json(&app, &format!("/api/v1/admin/reservations/{code}")).await;
    assert_eq!(r["status"], "confirmed");
    b.screenshot("reservation-desktop").await;

    // It is on the calendar.
    let month = &day(3)[..7];
    b.goto(&app.url(&format!("/admin/#/calendario?alojamiento={id}&mes={month}")))
        .await;
    b.ready(&format!("#/calendario?alojamiento={id}&mes={month}"))
        .await;
    b.wait_for(&format!(
        "document.querySelector('.day[data-date=\"{}\"] .chip.t-confirmed')",
        day(3)
    ))
    .await;
    // Select two free nights of one month and block them.
    let n = if day(10)[..7] == day(11)[..7] { 10 } else { 11 };
    let (from, to) = (day(n), day(n + 1));
    let block_month = &from[..7];
    b.goto(&app.url(&format!(
        "/admin/#/calendario?alojamiento={id}&mes={block_month}"
    )))
    .await;
    b.ready(&format!("#/calendario?alojamiento={id}&mes={block_month}"))
        .await;
    b.click(&format!(".day[data-date=\"{from}\"] .num")).await;
    b.click(&format!(".day[data-date=\"{to}\"] .num")).await;
    b.type_into("#block-form input[name=reason]", "Pintura")
        .await;
    b.click("#block-form button[type=submit]").await;
    b.wait_for(&format!(
        "document.querySelector('.day[data-date=\"{from}\"] .chip.t-block')"
    ))
    .await;
    let blocks = admin_json(&app, "/api/v1/admin/blocks").await;
    assert_eq!(blocks[0]["check_in"], from.as_str());
    assert_eq!(blocks[0]["reason"], "Pintura");
    b.screenshot("calendar-desktop").await;

    // Cancel a booking with a reason.
    b.goto(&app.url(&format!("/admin/#/reservas/{code}"))).await;
    b.ready(&format!("#/reservas/{code}")).await;
    b.click("#actions button.danger").await;
    b.type_into("#cancel-form input[name=reason]", "El huésped no viaja")
        .await;
    b.click("#cancel-form button[type=submit]").await;
    b.wait_for("document.querySelector('h1 .badge.cancelled')")
        .await;
    let r = admin_json(&app, &format!("/api/v1/admin/reservations/{code}")).await;
    assert_eq!(r["status"], "cancelled");
    assert_eq!(
        r["history"].as_array().unwrap().last().unwrap()["reason"],
        "El huésped no viaja"
    );

    // Rotate the iCal export URL: the old one stops working.
    b.goto(&app.url(&format!("/admin/#/alojamientos/{id}")))
        .await;
    b.ready(&format!("#/alojamientos/{id}")).await;
    let old = b
        .js(
            "return document.getElementById('export-url').value;",
            json!([]),
        )
        .await;
    let old = old.as_str().unwrap().to_owned();
    assert_eq!(
        app.client.get(&old).send().await.unwrap().status(),
        StatusCode::OK
    );
    b.click("#rotate").await;
    b.accept_dialog().await;
    b.wait_for(&format!(
        "document.getElementById('export-url').value !== {}",
        json!(old)
    ))
    .await;
    let new = b
        .js(
            "return document.getElementById('export-url').value;",
            json!([]),
        )
        .await;
    assert_eq!(
        app.client.get(&old).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.client
            .get(new.as_str().unwrap())
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    b.screenshot("accommodation-desktop").await;

    // Import an Airbnb calendar and sync it now: its stay shows on the calendar in its colour.
    let feeds = FakeFeeds::start().await;
    let (ota_in, ota_out) = (day(n + 5), day(n + 7));
    feeds.calendar(
        "/airbnb.ics",
        &format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Airbnb Inc//Hosting Calendar//EN\r\n\
             BEGIN:VEVENT\r\nUID:ui-test@airbnb.com\r\nDTSTART;VALUE=DATE:{}\r\n\
             DTEND;VALUE=DATE:{}\r\nSUMMARY:Reserved\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            ota_in.replace('-', ""),
            ota_out.replace('-', "")
        ),
        None,
    );
    b.type_into("#feed-form input[name=url]", &feeds.url("/airbnb.ics"))
        .await;
    b.type_into("#feed-form input[name=name]", "Airbnb Lago")
        .await;
    b.click("#feed-form button[type=submit]").await;
    b.wait_for("document.querySelector('#feeds') && document.querySelector('#feeds').innerText.includes('Airbnb Lago')")
        .await;
    b.click("#feeds .actions button").await;
    b.wait_for("document.querySelector('#feeds').innerText.includes('1 reservas')")
        .await;
    let ota_month = &ota_in[..7];
    b.goto(&app.url(&format!(
        "/admin/#/calendario?alojamiento={id}&mes={ota_month}"
    )))
    .await;
    b.ready(&format!("#/calendario?alojamiento={id}&mes={ota_month}"))
        .await;
    b.wait_for(&format!(
        "document.querySelector('.day[data-date=\"{ota_in}\"] .chip.t-airbnb')"
    ))
    .await;

    // Every main page fits a phone.
    b.resize(360, 800).await;
    for (hash, name) in [
        ("#/".to_owned(), "dashboard-phone"),
        (
            format!("#/calendario?alojamiento={id}&mes={month}"),
            "calendar-phone",
        ),
        ("#/calendario?vista=linea".to_owned(), "timeline-phone"),
        ("#/reservas".to_owned(), "reservations-phone"),
        (format!("#/reservas/{code}"), "reservation-phone"),
        (format!("#/alojamientos/{id}"), "accommodation-phone"),
        ("#/conversaciones".to_owned(), "conversations-phone"),
    ] {
        b.goto(&app.url(&format!("/admin/{hash}"))).await;
        b.ready(&hash).await;
        assert_fits_phone(&b, &hash).await;
        b.screenshot(name).await;
    }
    b.resize(1280, 1000).await;
    b.goto(&app.url("/admin/#/reservas")).await;
    b.ready("#/reservas").await;
    b.wait_for(&format!(
        "document.getElementById('reservations').innerText.includes({})",
        json!(code)
    ))
    .await;
    b.screenshot("reservations-desktop").await;

    // Log out: back to the login form, and the old cookie no longer works.
    let cookie = format!(
        "alojamientos_session={}",
        session["value"].as_str().unwrap()
    );
    b.click("#logout").await;
    b.wait_for("document.getElementById('login-form')").await;
    let after = session_with(&app, &cookie).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}
