//! Every series an alert, a recording rule or a dashboard reads exists in a freshly started
//! binary, before any job ran or any request came: zero-initialised per job, per provider
//! endpoint and result, per feed source and per store table (`rate()` of a missing series is
//! no data, not 0, and an alert on it cannot fire).

use crate::helpers::binary::{command, start_with};
use crate::helpers::metric_value;
use crate::monitoring::missing_metrics;

/// Later than any test runs: no job is due.
const NEVER: &str = "0 0 0 1 1 *";

const JOBS: [&str; 6] = [
    "expire_holds",
    "complete_stays",
    "purge_idempotency",
    "ical_sync",
    "backup",
    "reconcile_payments",
];

#[tokio::test]
async fn a_freshly_started_binary_exports_every_metric_alerts_rules_and_dashboards_use() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["reservas.test".into()]).unwrap();
    let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).unwrap();
    let mut cmd = command(dir.path());
    for (key, value) in [
        ("JOBS__EXPIRE_HOLDS", NEVER),
        ("JOBS__COMPLETE_STAYS", NEVER),
        ("JOBS__PURGE_IDEMPOTENCY", NEVER),
        ("ICAL__CHECK_SCHEDULE", NEVER),
        ("BACKUP__SCHEDULE", NEVER),
        ("MERCADOPAGO__RECONCILE", NEVER),
        // Providers configured (never called here): their series are made at start.
        ("MERCADOPAGO__ACCESS_TOKEN", "TEST-token"),
        ("MERCADOPAGO__API_BASE_URL", "http://127.0.0.1:9"),
        ("MERCADOPAGO__WEBHOOK_SECRET", "secret"),
        ("WHATSAPP__PHONE_NUMBER_ID", "1029384756"),
        ("WHATSAPP__ACCESS_TOKEN", "TEST-token"),
        ("WHATSAPP__API_BASE_URL", "http://127.0.0.1:9"),
        ("SERVER__TLS__LISTEN", "127.0.0.1:0"),
        ("SERVER__TLS__HTTP_LISTEN", ""),
        ("SERVER__TLS__CERT_FILE", cert_file.to_str().unwrap()),
        ("SERVER__TLS__KEY_FILE", key_file.to_str().unwrap()),
    ] {
        cmd.env(format!("ALOJAMIENTOS_{key}"), value);
    }
    let server = start_with(cmd).await;
    let text = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (missing, _) = missing_metrics(&text);
    assert!(
        missing.is_empty(),
        "not exported by a fresh binary:\n{}",
        missing.join("\n")
    );
    let series = |name: &str, labels: &[(&str, &str)]| {
        let found = text.lines().any(|l| {
            l.starts_with(&format!("{name}{{"))
                && labels
                    .iter()
                    .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        });
        assert!(found, "{name} {labels:?} exists:\n{text}");
        metric_value(&text, name, labels)
    };
    for job in JOBS {
        for outcome in ["ok", "error", "panic"] {
            let runs = series("job_runs_total", &[("job", job), ("outcome", outcome)]);
            assert_eq!(runs, 0.0, "{job} has not run");
        }
        let last = series("job_last_success_timestamp_seconds", &[("job", job)]);
        assert_eq!(last, 0.0, "0: {job} has not succeeded since the start");
    }
    for endpoint in ["preferences", "payment", "search"] {
        for result in [
            "ok",
            "client_error",
            "rate_limited",
            "server_error",
            "network_error",
        ] {
            let calls = series(
                "mercadopago_api_requests_total",
                &[("endpoint", endpoint), ("result", result)],
            );
            assert_eq!(calls, 0.0);
        }
    }
    for source in ["airbnb", "booking", "vrbo", "other"] {
        for result in ["ok", "not_modified", "held_back", "error"] {
            series(
                "ical_sync_runs_total",
                &[("source", source), ("result", result)],
            );
        }
    }
    for table in ["reservations", "payments", "accommodations", "ical_feeds"] {
        series("store_decode_errors_total", &[("table", table)]);
    }
}
