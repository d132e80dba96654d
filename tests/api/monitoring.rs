//! Monitoring against the real binary: every metric an alert, recording rule or dashboard
//! uses is exported, and a real Prometheus scrapes the app on loopback and queries it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::helpers::{TestApp, day, eventually, free_port};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// PromQL expressions of a rules file: each `expr:` value, with its continuation lines.
fn rule_exprs(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut exprs = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some((expr_indent, buf)) = &mut current {
            if indent > *expr_indent && !line.trim().is_empty() {
                buf.push(' ');
                buf.push_str(line.trim());
                continue;
            }
            exprs.push(std::mem::take(buf));
            current = None;
        }
        if let Some(rest) = line.trim_start().strip_prefix("expr:") {
            current = Some((indent, rest.trim().trim_start_matches('|').to_owned()));
        }
    }
    if let Some((_, buf)) = current {
        exprs.push(buf);
    }
    exprs
}

fn dashboard_exprs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s) if k == "expr" => out.push(s.clone()),
                    other => dashboard_exprs(other, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| dashboard_exprs(v, out)),
        _ => {}
    }
}

/// Removes the text between `open` and its matching `close`, brackets included.
fn strip_groups(expr: &str, open: char, close: char) -> String {
    let mut depth = 0;
    let mut out = String::new();
    for c in expr.chars() {
        if c == open {
            depth += 1;
        } else if c == close && depth > 0 {
            depth -= 1;
        } else if depth == 0 {
            out.push(c);
        }
    }
    out
}

/// Metric and recording-rule names a PromQL expression reads.
fn metric_names(expr: &str) -> BTreeSet<String> {
    const KEYWORDS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "group_left",
        "group_right",
        "inf",
        "nan",
    ];
    let mut text = strip_groups(expr, '{', '}');
    text = strip_groups(&text, '[', ']');
    for kw in ["by", "without", "on", "ignoring"] {
        while let Some(i) = text.find(&format!("{kw} (")) {
            let end = text[i..].find(')').map_or(text.len(), |e| i + e + 1);
            text.replace_range(i..end, " ");
        }
    }
    let chars: Vec<char> = text.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_alphabetic() || chars[i] == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "_:".contains(chars[i])) {
                i += 1;
            }
            let token: String = chars[start..i].iter().collect();
            let next = chars[i..].iter().find(|c| !c.is_whitespace());
            let is_call = next == Some(&'(');
            let is_number = start > 0 && chars[start - 1].is_ascii_digit();
            if !is_call && !is_number && !KEYWORDS.contains(&token.as_str()) {
                names.insert(token);
            }
        } else {
            i += 1;
        }
    }
    names
}

/// Metric names in a Prometheus exposition, with histogram series under their base name too.
fn exported_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let name = line.split(['{', ' ']).next().unwrap().to_owned();
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(base) = name.strip_suffix(suffix) {
                names.insert(base.to_owned());
            }
        }
        names.insert(name);
    }
    names
}

/// An app with the features on whose metrics appear only once used, exercised once each.
async fn exercised_app() -> TestApp {
    let app = TestApp::spawn_with(|c| {
        c.backup.schedule = "* * * * * *".into();
        c.mercadopago.webhook_secret = "test-secret".into();
        // HTTPS from a certificate file, for the certificate expiry metric.
        let cert = rcgen::generate_simple_self_signed(vec!["reservas.test".into()]).unwrap();
        let (cert_file, key_file) = (
            c.server.data_dir.join("cert.pem"),
            c.server.data_dir.join("key.pem"),
        );
        std::fs::write(&cert_file, cert.cert.pem()).unwrap();
        std::fs::write(&key_file, cert.signing_key.serialize_pem()).unwrap();
        c.server.tls.listen = "127.0.0.1:0".into();
        c.server.tls.http_listen = String::new();
        c.server.tls.cert_file = Some(cert_file);
        c.server.tls.key_file = Some(key_file);
    })
    .await;
    let unit = app.accommodation(json!({})).await;
    assert_eq!(
        app.reserve(unit, &day(20), &day(23)).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        app.reserve(unit, &day(21), &day(22)).await.status(),
        StatusCode::CONFLICT
    );
    let r = app
        .client
        .post(app.url("/api/v1/webhooks/mercadopago?data.id=1&type=payment"))
        .header("x-signature", "ts=1,v1=00")
        .header("x-request-id", "r1")
        .json(&json!({"type": "payment", "action": "payment.updated", "data": {"id": "1"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let ts = jiff::Timestamp::now().as_second();
    let manifest = format!("id:1;request-id:r2;ts:{ts};");
    let v1 = alojamientos::secret::hmac_sha256_hex(b"test-secret", manifest.as_bytes());
    let r = app
        .client
        .post(app.url("/api/v1/webhooks/mercadopago?data.id=1&type=merchant_order"))
        .header("x-signature", format!("ts={ts},v1={v1}"))
        .header("x-request-id", "r2")
        .json(&json!({"type": "merchant_order", "data": {"id": "1"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let backed_up = || async { app.metric("backup_runs_total", &[("outcome", "ok")]).await >= 1.0 };
    assert!(eventually(Duration::from_secs(10), backed_up).await);
    app
}

/// The recording rules' names, and every expression of the alerts, recording rules and
/// dashboards with where it comes from.
fn rule_and_dashboard_exprs() -> (BTreeSet<String>, Vec<(String, Vec<String>)>) {
    let recording: BTreeSet<String> =
        std::fs::read_to_string(repo("monitoring/prometheus/slo.yml"))
            .unwrap()
            .lines()
            .filter_map(|l| {
                l.trim()
                    .strip_prefix("- record:")
                    .map(|n| n.trim().to_owned())
            })
            .collect();
    assert!(recording.len() >= 8, "{recording:?}");
    let mut sources: Vec<(String, Vec<String>)> = ["alerts.yml", "slo.yml"]
        .iter()
        .map(|f| {
            let path = repo(&format!("monitoring/prometheus/{f}"));
            (f.to_string(), rule_exprs(&path))
        })
        .collect();
    let dashboards = std::fs::read_dir(repo("monitoring/grafana/dashboards")).unwrap();
    let mut dashboard_count = 0;
    for entry in dashboards {
        let path = entry.unwrap().path();
        let board: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut exprs = Vec::new();
        dashboard_exprs(&board, &mut exprs);
        assert!(exprs.len() >= 7, "{} has its panels", path.display());
        sources.push((path.display().to_string(), exprs));
        dashboard_count += 1;
    }
    assert_eq!(dashboard_count, 4);
    (recording, sources)
}

/// The metrics alerts, rules and dashboards read that `exposition` lacks, each with where it
/// is used; and every name checked.
pub(crate) fn missing_metrics(exposition: &str) -> (Vec<String>, BTreeSet<String>) {
    let exported = exported_names(exposition);
    let (recording, sources) = rule_and_dashboard_exprs();
    let mut missing = Vec::new();
    let mut checked = BTreeSet::new();
    for (source, exprs) in &sources {
        assert!(!exprs.is_empty(), "{source} has expressions");
        for expr in exprs {
            for name in metric_names(expr) {
                let known = exported.contains(&name)
                    || recording.contains(&name)
                    || name == "up"
                    || name.starts_with("node_");
                if !known {
                    missing.push(format!("{source}: {name} in {expr}"));
                }
                checked.insert(name);
            }
        }
    }
    (missing, checked)
}

#[tokio::test]
async fn every_metric_used_by_alerts_rules_and_dashboards_is_exported() {
    let app = exercised_app().await;
    let text = app.get("/metrics").await.text().await.unwrap();
    let (missing, checked) = missing_metrics(&text);
    assert!(missing.is_empty(), "not exported:\n{}", missing.join("\n"));
    for expected in [
        "backup_last_success_timestamp_seconds",
        "backup_duration_seconds",
        "backup_size_bytes",
        "process_resident_memory_bytes",
        "webhook_processing_seconds",
        "reservations_date_overlap_total",
    ] {
        assert!(
            checked.iter().any(|n| n.starts_with(expected)),
            "{expected} is used somewhere"
        );
    }
}

#[test]
fn the_metric_name_extraction_sees_names_and_skips_labels_functions_and_keywords() {
    let names = metric_names(
        r#"histogram_quantile(0.95, sum by (job, le) (rate(a_seconds_bucket{route=~"/x"}[5m]))) > 2 or on (job) b_total * 1e3 and slo:c:rate5m"#,
    );
    let expected: BTreeSet<String> = ["a_seconds_bucket", "b_total", "slo:c:rate5m"]
        .map(String::from)
        .into();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn a_real_prometheus_scrapes_the_app_and_evaluates_the_rules() {
    let Ok(prometheus) = which("prometheus") else {
        eprintln!(
            "SKIPPED: no `prometheus` binary on PATH (Debian package `prometheus`; .ci/run installs it)"
        );
        return;
    };
    let app = exercised_app().await;
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\n  - {}\nscrape_configs:\n  - job_name: alojamientos\n    static_configs:\n      - targets: ['{}']\n",
        repo("monitoring/prometheus/alerts.yml").display(),
        repo("monitoring/prometheus/slo.yml").display(),
        app.addr
    );
    std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
    let port = free_port();
    let _prom = tokio::process::Command::new(prometheus)
        .arg(format!(
            "--config.file={}",
            dir.path().join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let client = &app.client;
    let query = |q: &'static str| {
        let base = base.clone();
        async move {
            let r = client
                .get(format!("{base}/query"))
                .query(&[("query", q)])
                .send()
                .await
                .ok()?;
            let v: Value = r.json().await.ok()?;
            v["data"]["result"].as_array().cloned()
        }
    };
    let up = || async {
        query(r#"up{job="alojamientos"}"#)
            .await
            .is_some_and(|r| r.first().is_some_and(|s| s["value"][1] == "1"))
    };
    assert!(
        eventually(Duration::from_secs(60), up).await,
        "Prometheus sees the target up"
    );
    let custom = || async {
        query(r#"backup_last_success_timestamp_seconds{job="alojamientos"} > 0"#)
            .await
            .is_some_and(|r| !r.is_empty())
            && query(r#"reservations_created_total{job="alojamientos",channel="web"} > 0"#)
                .await
                .is_some_and(|r| !r.is_empty())
    };
    assert!(
        eventually(Duration::from_secs(30), custom).await,
        "custom metrics can be queried"
    );
    let rules: Value = client
        .get(format!("{base}/rules"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let groups = rules["data"]["groups"].as_array().unwrap();
    assert_eq!(
        groups.len(),
        4,
        "three alert groups and the SLO group loaded"
    );
    let budget = || async {
        query(r#"slo:http_requests:rate5m{job="alojamientos"}"#)
            .await
            .is_some_and(|r| !r.is_empty())
    };
    // The SLO group is evaluated every 30 s (`interval: 30s` in slo.yml), at an offset
    // Prometheus picks; an evaluation before the second scrape finds no rate yet, so the
    // series can take two intervals to appear.
    assert!(
        eventually(Duration::from_secs(75), budget).await,
        "recording rules produce series"
    );
}

fn which(name: &str) -> Result<PathBuf, ()> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or(())
}
