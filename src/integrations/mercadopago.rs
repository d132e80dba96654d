//! Mercado Pago REST client (blocking; call it from `spawn_blocking`): Checkout Pro
//! preferences, payment lookups and searches, with bounded, jittered retries on 429 / 5xx /
//! network errors, per-endpoint metrics, and a record of recent results for health.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use ureq::Agent;

use super::api_health::ApiHealth;
use super::outbound::{self, Limits, backoff, retry_after};
use crate::config::{BackUrls, MercadoPagoSettings};
use crate::domain::money::{MAX_AMOUNT, Money};
use crate::domain::payment::{PaymentStatus, ProviderPayment};

/// A failed call, after any retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MpError {
    /// A 4xx other than 429: retrying would not help.
    #[error("Mercado Pago refused the request with HTTP {0}")]
    Refused(u16),
    /// 429, 5xx or network errors on every attempt.
    #[error("Mercado Pago is unavailable: {0}")]
    Unavailable(String),
    /// A 2xx whose body is not what the API documents.
    #[error("unexpected answer from Mercado Pago: {0}")]
    Invalid(String),
}

/// The link request for a hold's deposit.
#[derive(Debug, Clone)]
pub struct PreferenceRequest {
    pub reservation_code: String,
    pub title: String,
    pub deposit: Money,
    pub currency: String,
    pub expires_at: Timestamp,
    pub notification_url: Option<String>,
    pub back_urls: BackUrls,
    pub payer_email: Option<String>,
}

/// A created Checkout Pro preference.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Preference {
    pub id: String,
    /// Where the guest pays.
    pub init_point: String,
}

/// How many times a call may be retried, and by when a retry must have started.
#[derive(Debug, Clone, Copy)]
struct Tries {
    retries: u32,
    deadline: Option<Instant>,
}

/// The Mercado Pago API with one access token.
#[derive(Clone)]
pub struct MercadoPago {
    agent: Agent,
    base: String,
    token: String,
    max_retries: u32,
    retry_base: Duration,
    retry_cap: Duration,
    health: Arc<ApiHealth>,
}

/// Outcome label of one HTTP attempt.
fn result_label(status: u16) -> &'static str {
    match status {
        200..=299 => "ok",
        429 => "rate_limited",
        500..=599 => "server_error",
        _ => "client_error",
    }
}

/// `2024-01-10T12:00:00.000+00:00`, the date format the API documents.
fn api_date(t: Timestamp) -> String {
    format!("{}.000+00:00", t.strftime("%Y-%m-%dT%H:%M:%S"))
}

/// An amount as the API writes it (a JSON number), in exact cents; a negative one or one above
/// [`MAX_AMOUNT`] is not an amount.
fn money_of(value: &Value) -> Option<Money> {
    let amount = match value {
        Value::Number(n) => n.to_string().parse().ok().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0)
                .map(|f| Money::from_cents((f * 100.0).round() as i64))
        }),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    amount.filter(|m| *m <= MAX_AMOUNT)
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads a payment object of the API.
pub fn parse_payment(value: &Value) -> Result<ProviderPayment, MpError> {
    let field = |name: &str| value.get(name).filter(|v| !v.is_null());
    let id = field("id")
        .and_then(text_of)
        .ok_or_else(|| MpError::Invalid("payment without id".into()))?;
    Ok(ProviderPayment {
        id,
        status: PaymentStatus::parse(field("status").and_then(Value::as_str).unwrap_or("")),
        status_detail: field("status_detail")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        amount: field("transaction_amount")
            .and_then(money_of)
            .ok_or_else(|| MpError::Invalid("payment without transaction_amount".into()))?,
        currency: field("currency_id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_uppercase(),
        external_reference: field("external_reference")
            .and_then(text_of)
            .filter(|r| !r.is_empty()),
    })
}

impl MercadoPago {
    /// A client when an access token is configured.
    pub fn new(settings: &MercadoPagoSettings, health: Arc<ApiHealth>) -> Option<MercadoPago> {
        let token = settings.access_token.clone()?;
        Some(MercadoPago {
            agent: outbound::agent(Limits {
                timeout: settings.timeout,
                max_redirects: 0,
            }),
            base: settings.api_base_url.clone(),
            token,
            max_retries: settings.max_retries,
            retry_base: settings.retry_base,
            retry_cap: settings.retry_cap,
            health,
        })
    }

    /// Creates the Checkout Pro preference for a hold's deposit; `retries` bounds the retries,
    /// and none starts after `deadline` (a hold being taken waits for its link only so long).
    pub fn create_preference(
        &self,
        req: &PreferenceRequest,
        retries: u32,
        deadline: Option<Instant>,
    ) -> Result<Preference, MpError> {
        let unit_price = req.deposit.cents() as f64 / 100.0;
        let mut body = json!({
            "items": [{
                "id": req.reservation_code,
                "title": req.title,
                "quantity": 1,
                "unit_price": unit_price,
                "currency_id": req.currency,
            }],
            "external_reference": req.reservation_code,
            "expires": true,
            "expiration_date_from": api_date(Timestamp::now()),
            "expiration_date_to": api_date(req.expires_at),
        });
        if let Some(url) = &req.notification_url {
            body["notification_url"] = json!(url);
        }
        if let Some(email) = &req.payer_email {
            body["payer"] = json!({ "email": email });
        }
        let b = &req.back_urls;
        if b.success.is_some() || b.failure.is_some() || b.pending.is_some() {
            body["back_urls"] = json!({
                "success": b.success, "failure": b.failure, "pending": b.pending,
            });
            if b.success.is_some() {
                body["auto_return"] = json!("approved");
            }
        }
        let idempotency = format!("{}-{}", req.reservation_code, req.expires_at.as_second());
        let text = body.to_string();
        let tries = Tries { retries, deadline };
        let answer = self.call("preferences", tries, || {
            self.agent
                .post(format!("{}/checkout/preferences", self.base))
                .header("authorization", format!("Bearer {}", self.token))
                .header("content-type", "application/json")
                .header("x-idempotency-key", idempotency.as_str())
                .send(text.as_str())
        })?;
        serde_json::from_value(answer).map_err(|e| MpError::Invalid(e.to_string()))
    }

    /// The payment with provider id `id` (digits).
    pub fn payment(&self, id: &str) -> Result<ProviderPayment, MpError> {
        let answer = self.call("payment", self.tries(), || {
            self.agent
                .get(format!("{}/v1/payments/{id}", self.base))
                .header("authorization", format!("Bearer {}", self.token))
                .call()
        })?;
        parse_payment(&answer)
    }

    /// Payments whose `external_reference` is `reference` (a reservation code).
    pub fn search(&self, reference: &str) -> Result<Vec<ProviderPayment>, MpError> {
        let answer = self.call("search", self.tries(), || {
            self.agent
                .get(format!("{}/v1/payments/search", self.base))
                .query("external_reference", reference)
                .query("sort", "date_created")
                .query("criteria", "desc")
                .header("authorization", format!("Bearer {}", self.token))
                .call()
        })?;
        answer
            .get("results")
            .and_then(Value::as_array)
            .ok_or_else(|| MpError::Invalid("search without results".into()))?
            .iter()
            .map(parse_payment)
            .collect()
    }

    /// Every retry the settings allow, with no deadline.
    fn tries(&self) -> Tries {
        Tries {
            retries: self.max_retries,
            deadline: None,
        }
    }

    /// Sends with `send`, retrying on 429, 5xx and network errors as `tries` allows (a retry
    /// whose wait, `Retry-After` included, would end past the deadline is not made); returns
    /// the JSON of the 2xx answer. Counts every attempt and records the outcome for health.
    fn call(
        &self,
        endpoint: &'static str,
        tries: Tries,
        send: impl Fn() -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Value, MpError> {
        let mut failures = 0;
        loop {
            let started = Instant::now();
            let attempt = send();
            metrics::histogram!("mercadopago_api_duration_seconds", "endpoint" => endpoint)
                .record(started.elapsed().as_secs_f64());
            let (label, outcome, wait_hint) = match attempt {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    let hint = retry_after(response.headers(), Timestamp::now());
                    let outcome = match status {
                        200..=299 => response
                            .body_mut()
                            .read_to_string()
                            .map_err(|e| MpError::Unavailable(e.to_string()))
                            .and_then(|text| {
                                serde_json::from_str(&text)
                                    .map_err(|e| MpError::Invalid(e.to_string()))
                            }),
                        429 | 500..=599 => Err(MpError::Unavailable(format!("HTTP {status}"))),
                        _ => Err(MpError::Refused(status)),
                    };
                    (result_label(status), outcome, hint)
                }
                Err(e) => (
                    "network_error",
                    Err(MpError::Unavailable(e.to_string())),
                    None,
                ),
            };
            metrics::counter!("mercadopago_api_requests_total", "endpoint" => endpoint, "result" => label)
                .increment(1);
            let wait = backoff(
                failures + 1,
                self.retry_base,
                self.retry_cap,
                rand::random(),
            )
            .max(wait_hint.unwrap_or_default())
            .min(self.retry_cap);
            let in_time = tries.deadline.is_none_or(|d| Instant::now() + wait < d);
            match outcome {
                Err(MpError::Unavailable(reason)) if failures < tries.retries && in_time => {
                    failures += 1;
                    tracing::warn!(endpoint, %reason, attempt = failures, ?wait, "Mercado Pago call failed; retrying");
                    std::thread::sleep(wait);
                }
                other => {
                    let healthy = !matches!(
                        other,
                        Err(MpError::Unavailable(_) | MpError::Refused(401 | 403))
                    );
                    self.health.record(healthy);
                    return other;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payments_parse_with_exact_amounts() {
        let p = parse_payment(&json!({
            "id": 123456789u64, "status": "approved", "status_detail": "accredited",
            "transaction_amount": 14400.5, "currency_id": "ars", "external_reference": "RES250101000001"
        }))
        .unwrap();
        assert_eq!(p.id, "123456789");
        assert_eq!(p.status, PaymentStatus::Approved);
        assert_eq!(p.amount, Money::from_cents(1_440_050));
        assert_eq!(p.currency, "ARS");
        assert_eq!(p.external_reference.as_deref(), Some("RES250101000001"));
        let odd = parse_payment(
            &json!({"id": "7", "status": "mystery", "transaction_amount": 0.1,
            "external_reference": null}),
        )
        .unwrap();
        assert_eq!(odd.status, PaymentStatus::Unknown);
        assert_eq!(odd.amount, Money::from_cents(10));
        assert_eq!(odd.external_reference, None);
        assert!(parse_payment(&json!({"status": "approved"})).is_err());
        for amount in [
            json!(-5.5),
            json!(-1),
            json!(1e300),
            json!("10000000000000.01"),
        ] {
            let p = json!({"id": "8", "status": "approved", "transaction_amount": amount});
            assert!(parse_payment(&p).is_err(), "{amount} is not an amount");
        }
    }

    #[test]
    fn dates_use_the_documented_format() {
        let t: Timestamp = "2026-11-28T10:00:00Z".parse().unwrap();
        assert_eq!(api_date(t), "2026-11-28T10:00:00.000+00:00");
    }
}
