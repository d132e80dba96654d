//! The host's view of a flood in a real browser: the home page lists guests' live holds by
//! phone and by network, and one click cancels all of one phone's holds; the account page
//! refuses a common password.

use reqwest::StatusCode;
use serde_json::json;

use super::{hold_from, with_hold_limits};
use crate::helpers::webdriver::browser;
use crate::helpers::{body, day};

#[tokio::test]
async fn the_host_cancels_a_phones_holds_in_one_click() {
    let Some(b) = browser().await else { return };
    let app = with_hold_limits(|_| {}).await;
    let acc = app.accommodation(json!({})).await;
    for (i, address) in ["203.0.113.7", "203.0.113.8"].iter().enumerate() {
        let stay = json!({"accommodation_id": acc, "check_in": day(5 + 5 * i as i64),
            "check_out": day(8 + 5 * i as i64), "guests": 2, "contact_name": "Mal Actor",
            "contact_phone": "+54 9 11 7777-0000"});
        assert_eq!(
            hold_from(&app, address, &stay).await.status(),
            StatusCode::CREATED
        );
    }
    b.resize(1280, 1000).await;
    b.log_in(&app).await;
    b.wait_text("#hold-clients", "Tel. +5491177770000").await;
    b.js(
        "document.getElementById('hold-clients').scrollIntoView(); return null;",
        json!([]),
    )
    .await;
    b.screenshot("hold-clients-desktop").await;
    b.click("#hold-clients button.danger[data-client=\"+5491177770000\"]")
        .await;
    b.accept_dialog().await;
    b.wait_text(
        "#hold-clients",
        "Ningún huésped tiene pre-reservas sin pagar",
    )
    .await;
    let listed = body(app.admin_get("/api/v1/admin/holds").await).await;
    assert_eq!(listed["clients"], json!([]));
    // The account page: a common password is refused, in Spanish.
    b.goto(&app.url("/admin/#/cuenta")).await;
    b.ready("#/cuenta").await;
    b.type_into(
        "#password-form input[name=current_password]",
        &app.admin_password,
    )
    .await;
    b.type_into("#password-form input[name=new_password]", "password1234")
        .await;
    b.type_into("#password-form input[name=repeat]", "password1234")
        .await;
    b.click("#password-form button[type=submit]").await;
    b.wait_text("#toast", "La contraseña es débil").await;
    // Both pages fit a 360 px phone.
    b.resize(360, 800).await;
    for hash in ["#/cuenta", "#/"] {
        b.goto(&app.url(&format!("/admin/{hash}"))).await;
        b.ready(hash).await;
        let widths = b
            .js(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                json!([]),
            )
            .await;
        assert!(widths[0].as_u64() <= widths[1].as_u64(), "{hash}: {widths}");
    }
    b.screenshot("hold-clients-phone").await;
}
