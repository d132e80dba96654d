//! Structured logs (JSON lines for journald) and the Prometheus metrics registry.

pub mod process;
pub mod series;

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

/// Installs the global log subscriber on stderr; `RUST_LOG` overrides `filter` (see
/// [`directives`]). Safe to call twice.
pub fn init_logging(filter: &str, json: bool) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(directives(filter)))
        .unwrap_or_else(|_| EnvFilter::new(directives("info")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
    if json && installed.is_ok() {
        // A panic (a handler's is answered with 500 and the server goes on) is a log line too,
        // not plain text in the JSON stream.
        std::panic::set_hook(Box::new(|info| {
            tracing::error!(target: "alojamientos::panic", "{info}");
        }));
    }
}

/// The filter `log.filter` means: a bare level is this program's own (`alojamientos…` targets);
/// other crates log at `warn` (or the bare level, if stricter) unless a directive names them.
/// `"info"` becomes `"warn,alojamientos=info"`; `"info,hyper=debug"` keeps `hyper=debug`.
pub fn directives(filter: &str) -> String {
    let mut own = None;
    let mut named = Vec::new();
    for directive in filter.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        match directive.parse::<tracing_subscriber::filter::LevelFilter>() {
            Ok(level) if !directive.contains('=') => own = Some(level),
            _ => named.push(directive),
        }
    }
    let own = own.unwrap_or(tracing_subscriber::filter::LevelFilter::INFO);
    let others = own.min(tracing_subscriber::filter::LevelFilter::WARN);
    let mut out = format!("{others},alojamientos={own}");
    for directive in named {
        out.push(',');
        out.push_str(directive);
    }
    out
}

/// A start-up notice the operator must see whatever `log.filter` says (where the server
/// listens, the first admin's password): plain text on stdout, or with `log.format = json` a
/// JSON line shaped like the log lines, on the log stream (stderr), so that stream stays JSON.
pub fn notice(json: bool, message: &str, fields: &[(&str, &str)], plain: impl FnOnce() -> String) {
    use std::io::Write;
    if !json {
        println!("{}", plain());
        return;
    }
    let mut all = serde_json::Map::new();
    all.insert("message".into(), message.into());
    for (key, value) in fields {
        all.insert((*key).into(), (*value).into());
    }
    let line = serde_json::json!({
        "timestamp": jiff::Timestamp::now().to_string(),
        "level": "INFO",
        "fields": all,
        "target": "alojamientos",
    });
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// How often recorded histogram samples are folded into their buckets.
pub const UPKEEP_EVERY: Duration = Duration::from_secs(1);

/// Folds recorded histogram samples into their buckets every [`UPKEEP_EVERY`]. The exporter
/// keeps every raw sample until something renders `/metrics`; without this, a server nobody
/// scrapes grows by 8 bytes per observation (a few per request) for ever.
pub fn spawn_upkeep(handle: PrometheusHandle) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(UPKEEP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            handle.run_upkeep();
        }
    })
}

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// The process-wide Prometheus recorder (installed on first use).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("store_commit_batch_size".into()),
                        BATCH_BUCKETS,
                    )
                })
                .expect("bucket lists are non-empty")
                .install_recorder()
                .expect("install the Prometheus recorder");
            describe();
            handle
        })
        .clone()
}

/// Creates at zero the counters that alerts and dashboards use but that only move on rare
/// events, so every series is there from the first scrape (rate() of a missing series is not 0).
pub fn init_series() {
    for name in [
        "reservations_lock_failed_total",
        "reservations_date_overlap_total",
        "reservations_created_total",
        "reservations_confirmed_total",
    ] {
        metrics::counter!(name, "channel" => "web").increment(0);
    }
    for name in [
        "prereservations_expired_total",
        "store_lock_timeouts_total",
        "payments_needs_refund_total",
        "payment_amount_mismatch_total",
        "http_rate_limited_total",
    ] {
        metrics::counter!(name).increment(0);
    }
    metrics::counter!("reservations_hold_limited_total", "channel" => "web", "reason" => "per_phone")
        .increment(0);
    for reason in ["global", "per_client"] {
        metrics::counter!("http_connections_rejected_total", "reason" => reason).increment(0);
    }
    for result in ["ok", "invalid", "busy"] {
        metrics::counter!("admin_logins_total", "result" => result).increment(0);
    }
    metrics::counter!("webhook_signature_invalid_total", "source" => "mercadopago").increment(0);
    metrics::counter!("backup_runs_total", "outcome" => "error").increment(0);
    metrics::counter!("payments_total", "status" => "approved").increment(0);
    for endpoint in ["preferences", "payment", "search"] {
        metrics::counter!("mercadopago_api_requests_total", "endpoint" => endpoint, "result" => "ok")
            .increment(0);
    }
    metrics::gauge!("backup_last_success_timestamp_seconds").increment(0.0);
    metrics::gauge!("backup_size_bytes").increment(0.0);
    process::record();
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_histogram!(
        "site_photo_processing_seconds",
        "Time to decode and re-encode one uploaded photo"
    );
    describe_counter!(
        "site_photo_uploads_total",
        "Photo uploads by outcome (stored, refused)"
    );
    describe_counter!(
        "backup_runs_total",
        "Store snapshots taken, by outcome (ok, error)"
    );
    describe_gauge!(
        "backup_last_success_timestamp_seconds",
        "Unix time of the newest successful store snapshot"
    );
    describe_histogram!(
        "backup_duration_seconds",
        "Time to write one store snapshot"
    );
    describe_gauge!("backup_size_bytes", "Size of the newest store snapshot");
    describe_gauge!(
        "health_check_status",
        "Each health check's level: 0 ok, 1 degraded, 2 unhealthy"
    );
    describe_gauge!(
        "disk_free_percent",
        "Free space on the file system of the data directory, in percent"
    );
    describe_gauge!(
        "reservations_holds_live",
        "Holds (pre-reservations) waiting for payment or expiry"
    );
    describe_gauge!("process_cpu_seconds_total", "CPU time used by the process");
    describe_gauge!(
        "process_resident_memory_bytes",
        "Resident memory of the process"
    );
    describe_gauge!("process_open_fds", "Open file descriptors");
    describe_gauge!("process_max_fds", "Limit of open file descriptors");
    describe_gauge!(
        "process_start_time_seconds",
        "Unix time the process started"
    );
    describe_counter!(
        "http_requests_total",
        "HTTP requests by method, route template and status"
    );
    describe_histogram!("http_request_duration_seconds", "HTTP request latency");
    describe_gauge!("http_requests_in_flight", "HTTP requests being served");
    describe_counter!(
        "http_rate_limited_total",
        "Requests refused with 429 by the per-client limit"
    );
    describe_counter!(
        "reservations_created_total",
        "Reservations created, by channel"
    );
    describe_counter!(
        "reservations_confirmed_total",
        "Reservations confirmed, by channel"
    );
    describe_counter!(
        "reservations_cancelled_total",
        "Reservations cancelled, by reason kind"
    );
    describe_counter!(
        "prereservations_expired_total",
        "Holds that lapsed without payment"
    );
    describe_counter!(
        "reservations_date_overlap_total",
        "Reservation attempts refused for overlapping dates"
    );
    describe_counter!(
        "reservations_lock_failed_total",
        "Reservation attempts that could not get the store writer in time"
    );
    describe_histogram!(
        "reservation_lock_wait_seconds",
        "Time a write waited for the store writer (the in-process lock)"
    );
    describe_counter!(
        "store_lock_timeouts_total",
        "Writes dropped after waiting longer than reservations.lock_timeout"
    );
    describe_gauge!(
        "store_write_queue_depth",
        "Writes queued or running in the store writer"
    );
    describe_histogram!(
        "store_commit_duration_seconds",
        "Time to run and durably commit one group of writes"
    );
    describe_histogram!(
        "store_commit_batch_size",
        "Writes folded into one durable commit"
    );
    describe_gauge!("store_file_size_bytes", "Size of the redb store file");
    describe_gauge!(
        "job_last_success_timestamp_seconds",
        "Unix time of each job's last successful run"
    );
    describe_counter!(
        "job_runs_total",
        "Background job runs by job and outcome (ok, error, panic)"
    );
    describe_gauge!(
        "locks_held",
        "Writes holding or waiting for the store writer"
    );
    describe_histogram!(
        "webhook_processing_seconds",
        "Time to verify and durably record (or ignore) a webhook notification, by source and type"
    );
    describe_counter!(
        "webhook_signature_invalid_total",
        "Webhook notifications refused with 401 invalid_signature, by source"
    );
    describe_counter!(
        "payments_total",
        "Payment statuses newly recorded (duplicates and stale reports excluded), by status"
    );
    describe_counter!(
        "payment_amount_mismatch_total",
        "Approved payments under the deposit or in another currency (hold kept, host told)"
    );
    describe_counter!(
        "payments_needs_refund_total",
        "Approved payments for stays that could not be confirmed (dates taken, stay gone)"
    );
    describe_counter!(
        "mercadopago_api_requests_total",
        "Mercado Pago API attempts by endpoint (preferences, payment, search) and result"
    );
    describe_histogram!(
        "mercadopago_api_duration_seconds",
        "Mercado Pago API attempt latency, by endpoint"
    );
    describe_counter!(
        "email_messages_sent_total",
        "Attempts to hand an email to the SMTP server, by kind (host, guest) and result"
    );
    describe_gauge!(
        "tls_certificate_expiry_timestamp_seconds",
        "Unix time the HTTPS certificate being served expires (ACME or files)"
    );
    describe_counter!(
        "acme_orders_total",
        "ACME certificate orders by outcome (ok, error)"
    );
    describe_counter!(
        "host_notices_undeliverable_total",
        "Host notices a channel could not send (WhatsApp: window closed, no template)"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    /// (alojamientos at debug, alojamientos at info, a third-party crate at info, at warn)
    fn enabled(filter: &str) -> [bool; 4] {
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new(directives(filter)))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            [
                tracing::enabled!(target: "alojamientos::store", Level::DEBUG),
                tracing::enabled!(target: "alojamientos::store", Level::INFO),
                tracing::enabled!(target: "tokio_cron_scheduler::job", Level::INFO),
                tracing::enabled!(target: "tokio_cron_scheduler::job", Level::WARN),
            ]
        })
    }

    #[test]
    fn a_bare_level_is_ours_and_other_crates_log_at_warn_unless_named() {
        assert_eq!(directives("info"), "warn,alojamientos=info");
        assert_eq!(enabled("info"), [false, true, false, true]);
        assert_eq!(enabled("debug"), [true, true, false, true]);
        assert_eq!(
            enabled("info,alojamientos=debug"),
            [true, true, false, true]
        );
        assert_eq!(
            enabled("info,tokio_cron_scheduler=info"),
            [false, true, true, true]
        );
        assert_eq!(enabled("error"), [false, false, false, false]);
        assert_eq!(enabled(""), [false, true, false, true]);
    }
}
