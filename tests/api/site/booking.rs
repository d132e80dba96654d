//! Booking through the site's plain forms, and the guest page behind its secret.

use reqwest::StatusCode;
use serde_json::json;

use super::{book, book_page, hidden, no_redirects, same_origin, slug, web_reservations};
use crate::helpers::{TestApp, day};

/// The body of the page at `url`.
async fn text_of(client: &reqwest::Client, url: &str) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// The guest page's path and secret from the booking's redirect.
fn location(r: &reqwest::Response) -> (String, String, String) {
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the booking redirects to the guest page"
    );
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let (path, secret) = to.split_once("?clave=").unwrap();
    let code = path.trim_start_matches("/reserva/").to_owned();
    (to.clone(), code, secret.to_owned())
}

#[tokio::test]
async fn a_guest_books_with_plain_forms_and_sees_the_hold_behind_the_secret_link() {
    let app = TestApp::spawn().await;
    let id = app.accommodation(json!({})).await;
    let slug = slug(&app, id).await;
    let client = no_redirects();
    let (a, b) = (day(20), day(23));
    let r = book(&app, &client, &slug, (&a, &b), "Ana <b>Pérez</b>").await;
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    let (to, code, secret) = location(&r);
    assert!(
        cookie.contains(&format!("Path=/reserva/{code}"))
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let page = client.get(app.url(&to)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains(&code));
    assert!(html.contains("Reserva tomada: falta la seña"));
    assert!(html.contains("data-expires="), "the countdown");
    assert!(
        html.contains("Ana &lt;b&gt;Pérez&lt;/b&gt;") || html.contains("Ana &#60;b&#62;"),
        "the guest's name is escaped"
    );
    assert!(
        !html.contains("La llave"),
        "no check-in instructions before it is confirmed"
    );
    assert_eq!(web_reservations(&app).await, 1);
    // The same stay is now taken for anyone else: the form says so and is not shown.
    let again = book_page(&app, &client, &slug, (&a, &b)).await;
    assert!(again.contains("ya no están libres") && !again.contains("name=\"token\""));
    // The cookie alone opens the page (how Mercado Pago sends the guest back).
    let jar_cookie = cookie.split(';').next().unwrap().to_owned();
    let back = client
        .get(app.url(&format!("/reserva/{code}?status=approved")))
        .header("cookie", &jar_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), StatusCode::OK);
    assert!(back.text().await.unwrap().contains("Confirmando tu pago"));
    // The .ics of the stay.
    let ics = client
        .get(app.url(&format!("/reserva/{code}/estadia.ics?clave={secret}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ics.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let ics = ics.text().await.unwrap();
    assert!(ics.contains(&format!("DTSTART;VALUE=DATE:{}", a.replace('-', ""))));
    assert!(ics.contains(&format!("DTEND;VALUE=DATE:{}", b.replace('-', ""))));

    // Confirmed by the host: the address and instructions appear.
    app.client
        .put(app.url("/api/v1/admin/site"))
        .bearer_auth(&app.admin_token)
        .json(&super::property(json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(
        app.act(&code, "confirm", json!({})).await.status(),
        StatusCode::OK
    );
    let html = text_of(&client, &app.url(&to)).await;
    assert!(
        html.contains("Reserva confirmada")
            && html.contains("La llave está en la caja.")
            && html.contains("Ruta 40 km 2000")
    );
}

#[tokio::test]
async fn a_forged_or_missing_secret_sees_nothing_and_forged_forms_are_refused() {
    let app = TestApp::spawn().await;
    let id = app.accommodation(json!({})).await;
    let slug = slug(&app, id).await;
    let client = no_redirects();
    let r = book(&app, &client, &slug, (&day(10), &day(12)), "Bea Secreta").await;
    let (to, code, secret) = location(&r);
    let other = book(&app, &client, &slug, (&day(40), &day(42)), "Otro Huésped").await;
    let (_, other_code, other_secret) = location(&other);
    // The real secret with its last digit changed (to '0', or to '1' when it already is '0').
    let last = if secret.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &secret[..secret.len() - 1]);
    for path in [
        format!("/reserva/{code}"),
        format!("/reserva/{code}?clave="),
        format!("/reserva/{code}?clave={forged}"),
        format!("/reserva/{code}?clave={other_secret}"),
        format!("/reserva/{code}/estadia.ics"),
        format!("/reserva/{code}/estadia.ics?clave={forged}"),
        format!("/reserva/RES000000ABCDEF?clave={secret}"),
    ] {
        let r = client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let html = r.text().await.unwrap();
        assert!(
            !html.contains("Bea Secreta") && !html.contains(&code[3..]),
            "{path} shows the reservation"
        );
    }
    // Back from Mercado Pago without the secret: thanks, and nothing about the reservation.
    let r = client
        .get(app.url(&format!("/reserva/{code}?status=approved&payment_id=1")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Gracias por tu pago")
            && !html.contains("Bea Secreta")
            && !html.contains(&code[3..])
    );
    // Another reservation's cookie does not open this one.
    let r = client
        .get(app.url(&format!("/reserva/{code}")))
        .header("cookie", format!("alojamientos_reserva={other_secret}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_ne!(code, other_code);

    // Cancelling needs the secret, a form token from our page, and a request from our site.
    let page = text_of(&client, &app.url(&to)).await;
    let token = page[page.find("/cancelar").unwrap()..].to_owned();
    let token = hidden(&token, "token");
    let cancel = |clave: String, token: String, headers: reqwest::header::HeaderMap| {
        let client = client.clone();
        let url = app.url(&format!("/reserva/{code}/cancelar"));
        async move {
            client
                .post(url)
                .headers(headers)
                .form(&[("clave", clave), ("token", token)])
                .send()
                .await
                .unwrap()
        }
    };
    let mut cross = reqwest::header::HeaderMap::new();
    cross.insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(
        cancel(secret.clone(), token.clone(), cross).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        cancel(secret.clone(), "1.2.3".into(), same_origin())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        cancel(forged, token.clone(), same_origin()).await.status(),
        StatusCode::NOT_FOUND
    );
    let still = app
        .admin_get(&format!("/api/v1/admin/reservations/{code}"))
        .await;
    assert_eq!(crate::helpers::body(still).await["status"], "pre_reserved");
    let done = cancel(secret.clone(), token, same_origin()).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let html = text_of(&client, &app.url(&to)).await;
    assert!(html.contains("Reserva cancelada"));

    // A booking form posted from another site, or without a form token, is refused before
    // anything is held (the second gets the form back to send again).
    let post_form = |headers: reqwest::header::HeaderMap| {
        let (client, url) = (
            client.clone(),
            app.url(&format!("/alojamientos/{slug}/reservar")),
        );
        async move {
            client
                .post(url)
                .headers(headers)
                .form(&[
                    ("entrada", day(50)),
                    ("salida", day(52)),
                    ("huespedes", "2".into()),
                    ("nombre", "X".into()),
                    ("telefono", "1122334455".into()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let mut cross = reqwest::header::HeaderMap::new();
    cross.insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(post_form(cross).await.status(), StatusCode::FORBIDDEN);
    let r = post_form(same_origin()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("El formulario venció"));
    assert_eq!(web_reservations(&app).await, 2);
}

#[tokio::test]
async fn a_form_sent_twice_takes_one_hold_and_bad_contact_details_are_named() {
    let app = TestApp::spawn().await;
    let id = app.accommodation(json!({})).await;
    let slug = slug(&app, id).await;
    let client = no_redirects();
    let (a, b) = (day(5), day(7));
    let form = book_page(&app, &client, &slug, (&a, &b)).await;
    let token = hidden(&form, "token");
    let send = |phone: &'static str| {
        let (client, token, url) = (
            client.clone(),
            token.clone(),
            app.url(&format!("/alojamientos/{slug}/reservar")),
        );
        let (a, b) = (a.clone(), b.clone());
        async move {
            client
                .post(url)
                .headers(same_origin())
                .form(&[
                    ("entrada", a.as_str()),
                    ("salida", b.as_str()),
                    ("huespedes", "2"),
                    ("nombre", "Caro Díaz"),
                    ("telefono", phone),
                    ("token", token.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let bad = send("12").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text().await.unwrap();
    assert!(html.contains("Revisá el teléfono") && html.contains("aria-invalid=\"true\""));
    assert!(
        html.contains("value=\"Caro Díaz\""),
        "what the guest wrote stays"
    );
    let first = send("+54 9 294 455-6677").await;
    let second = send("+54 9 294 455-6677").await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        first.headers()["location"],
        second.headers()["location"],
        "one hold"
    );
    assert_eq!(web_reservations(&app).await, 1);
}
