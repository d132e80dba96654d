//! Changing accommodations and feeds over the admin API: `PATCH` with only the changed fields,
//! and `PUT` of the object exactly as `GET` returned it (read-only fields accepted when
//! unchanged, 422 naming one that changed).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, body};

async fn send(app: &TestApp, method: Method, path: &str, payload: &Value) -> (StatusCode, Value) {
    let r = app
        .client
        .request(method, app.url(path))
        .bearer_auth(&app.admin_token)
        .json(payload)
        .send()
        .await
        .unwrap();
    (r.status(), body(r).await)
}

async fn shown(app: &TestApp, path: &str, id: u64) -> Value {
    let list = body(app.admin_get(path).await).await;
    list.as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn accommodations_take_back_what_get_shows_and_patches_of_some_fields() {
    let app = TestApp::spawn().await;
    let id = app
        .accommodation(json!({"seasons": [{"name": "Verano", "from": "2027-01-01",
            "to": "2027-03-01", "nightly_price": "20000", "min_stay": 3}], "description": "Con hogar"}))
        .await;
    let path = format!("/api/v1/admin/accommodations/{id}");
    let before = shown(&app, "/api/v1/admin/accommodations", id).await;
    let (status, put) = send(&app, Method::PUT, &path, &before).await;
    assert_eq!(status, StatusCode::OK, "{put}");
    assert_eq!(put, before, "a PUT of the GET object changes nothing");

    let (status, patched) = send(&app, Method::PATCH, &path, &json!({"capacity": 6})).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    let mut expected = before.clone();
    expected["capacity"] = json!(6);
    assert_eq!(patched, expected, "only the capacity changed");
    assert_eq!(
        shown(&app, "/api/v1/admin/accommodations", id).await,
        expected
    );

    let mut moved = expected.clone();
    moved["id"] = json!(id + 1);
    for (method, payload, field) in [
        (Method::PUT, moved, "id"),
        (Method::PATCH, json!({"id": id + 1}), "id"),
        (Method::PATCH, json!({"capacity": 0}), "capacity"),
        (Method::PATCH, json!({"min_stay": 400}), "min_stay"),
        (
            Method::PUT,
            json!({"kind": "cabin", "capacity": 2, "base_price": "1"}),
            "name",
        ),
    ] {
        let (status, err) = send(&app, method.clone(), &path, &payload).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {payload}"
        );
        assert_eq!(err["error"], "validation");
        let detail = err["detail"].as_str().unwrap();
        assert!(detail.starts_with(&format!("{field}:")), "{detail}");
    }
    let (status, err) = send(&app, Method::PATCH, &path, &json!({"slug": "x"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(err["detail"].as_str().unwrap().contains("slug"), "{err}");
    let (status, err) = send(
        &app,
        Method::PATCH,
        "/api/v1/admin/accommodations/999",
        &json!({"capacity": 3}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["error"], "accommodation_not_found");
    assert_eq!(
        shown(&app, "/api/v1/admin/accommodations", id).await,
        expected,
        "refusals change nothing"
    );
}

#[tokio::test]
async fn feeds_take_back_what_get_lists_and_patches_of_some_fields() {
    let app = TestApp::spawn().await;
    let acc = app.accommodation(json!({})).await;
    let other = app.accommodation(json!({})).await;
    let feeds = format!("/api/v1/admin/accommodations/{acc}/feeds");
    let r = app
        .admin_post(
            &feeds,
            json!({"url": "http://127.0.0.1:9/a.ics", "source": "airbnb", "enabled": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let feed = body(r).await["id"].as_u64().unwrap();
    let path = format!("{feeds}/{feed}");
    let before = shown(&app, &feeds, feed).await;
    let (status, put) = send(&app, Method::PUT, &path, &before).await;
    assert_eq!(status, StatusCode::OK, "{put}");
    assert_eq!(put, before);

    // The state the server keeps is ignored, whatever was sent.
    let mut stale = before.clone();
    stale["failures"] = json!(99);
    stale["last_error"] = json!("timeout");
    stale["counts"]["events"] = json!(7);
    let (status, put) = send(&app, Method::PUT, &path, &stale).await;
    assert_eq!(status, StatusCode::OK, "{put}");
    assert_eq!(put, before);

    let (status, patched) = send(
        &app,
        Method::PATCH,
        &path,
        &json!({"name": "Airbnb (depto)", "enabled": false}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["name"], "Airbnb (depto)");
    assert_eq!(patched["url"], before["url"]);
    assert_eq!(patched["source"], "airbnb");

    for (field, value) in [
        ("id", json!(feed + 1)),
        ("accommodation_id", json!(other)),
        ("created_at", json!("2020-01-01T00:00:00Z")),
    ] {
        let mut changed = patched.clone();
        changed[field] = value;
        for method in [Method::PUT, Method::PATCH] {
            let (status, err) = send(&app, method.clone(), &path, &changed).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{method} {field}");
            let detail = err["detail"].as_str().unwrap();
            assert!(detail.starts_with(&format!("{field}:")), "{detail}");
        }
    }
    let elsewhere = format!("/api/v1/admin/accommodations/{other}/feeds/{feed}");
    let (status, _) = send(&app, Method::PATCH, &elsewhere, &json!({"enabled": true})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(shown(&app, &feeds, feed).await["name"], "Airbnb (depto)");
}

#[tokio::test]
async fn the_openapi_document_has_patch_for_accommodations_and_feeds() {
    let app = TestApp::spawn().await;
    let doc = body(app.get("/api/v1/openapi.json").await).await;
    for path in [
        "/api/v1/admin/accommodations/{id}",
        "/api/v1/admin/accommodations/{id}/feeds/{feed_id}",
    ] {
        let ops = &doc["paths"][path];
        assert!(
            ops["patch"].is_object() && ops["put"].is_object(),
            "{path}: {ops}"
        );
    }
}
