//! Series that alerts and dashboards read, created before anything happens: per provider
//! endpoint and result, per webhook source, per booking channel and payment status, and the
//! histograms of requests, commits, webhooks and snapshots (each with its buckets at zero). A
//! missing series is "no data" to Prometheus, not 0: `rate()` of it is empty and an alert on it
//! cannot fire. Jobs create their own (`app::jobs`), feed sources theirs (`app::ical`), store
//! tables theirs (`store::unreadable`).

/// Label values of a metric, exactly as the code that moves it writes them.
const MERCADOPAGO_ENDPOINTS: [&str; 3] = ["preferences", "payment", "search"];
const MERCADOPAGO_RESULTS: [&str; 5] = [
    "ok",
    "client_error",
    "rate_limited",
    "server_error",
    "network_error",
];
const CHANNELS: [&str; 7] = [
    "web", "whatsapp", "email", "phone", "walk_in", "admin", "other",
];
const PAYMENT_STATUSES: [&str; 10] = [
    "pending",
    "in_process",
    "authorized",
    "approved",
    "rejected",
    "cancelled",
    "refunded",
    "charged_back",
    "in_mediation",
    "unknown",
];
const WEBHOOKS: [(&str, &str); 2] = [("mercadopago", "payment"), ("whatsapp", "messages")];

/// Registers a histogram without a sample: it is exported with every bucket at zero.
fn create(_: metrics::Histogram) {}

/// Creates every series of this module at zero.
pub fn init() {
    for endpoint in MERCADOPAGO_ENDPOINTS {
        for result in MERCADOPAGO_RESULTS {
            metrics::counter!("mercadopago_api_requests_total", "endpoint" => endpoint, "result" => result)
                .increment(0);
        }
        create(metrics::histogram!("mercadopago_api_duration_seconds", "endpoint" => endpoint));
    }
    for channel in CHANNELS {
        for name in [
            "reservations_created_total",
            "reservations_confirmed_total",
            "reservations_date_overlap_total",
            "reservations_lock_failed_total",
        ] {
            metrics::counter!(name, "channel" => channel).increment(0);
        }
    }
    for reason in ["guest", "host", "system"] {
        metrics::counter!("reservations_cancelled_total", "reason" => reason).increment(0);
    }
    for status in PAYMENT_STATUSES {
        metrics::counter!("payments_total", "status" => status).increment(0);
    }
    for (source, event_type) in WEBHOOKS {
        metrics::counter!("webhook_signature_invalid_total", "source" => source).increment(0);
        create(
            metrics::histogram!("webhook_processing_seconds", "source" => source, "event_type" => event_type),
        );
    }
    // Requests: one route's series (the health check) carries the names until traffic comes.
    let route = "/api/v1/healthz";
    for status in ["200", "503"] {
        metrics::counter!("http_requests_total", "method" => "GET", "route" => route, "status" => status)
            .increment(0);
    }
    create(
        metrics::histogram!("http_request_duration_seconds", "method" => "GET", "route" => route),
    );
    for name in [
        "reservation_lock_wait_seconds",
        "store_commit_duration_seconds",
        "store_commit_batch_size",
        "backup_duration_seconds",
    ] {
        create(metrics::histogram!(name));
    }
}
