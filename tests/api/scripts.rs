//! The operator scripts against a real server: the smoke test passes on a live install and
//! fails on a dead one.

use crate::helpers::TestApp;
use serde_json::json;

async fn smoke(base: &str, admin_token: &str) -> (bool, String) {
    let out = tokio::process::Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/smoke-test.sh"
        ))
        .arg(base)
        .env("ADMIN_TOKEN", admin_token)
        .output()
        .await
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[tokio::test]
async fn the_smoke_test_passes_on_a_live_install_and_fails_on_a_dead_one() {
    let app = TestApp::spawn().await;
    app.accommodation(json!({})).await;
    let base = format!("http://{}", app.addr);
    let (ok, text) = smoke(&base, &app.admin_token).await;
    assert!(ok, "{text}");
    assert!(text.contains("ok    iCal export"), "{text}");
    assert!(text.contains("ok    quote"), "{text}");
    app.stop().await;
    let (ok, text) = smoke(&base, "x").await;
    assert!(!ok);
    assert!(text.contains("FAIL  healthz"), "{text}");
}
