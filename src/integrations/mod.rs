//! Outbound clients for external providers, and only those: Mercado Pago, the WhatsApp Graph
//! API, SMTP, iCal feed fetches, the retry rule they share (`outbound.rs`) and what health
//! knows of their recent calls (`api_health.rs`). Each is blocking (ureq, or lettre for SMTP,
//! over rustls) and is called from `spawn_blocking`; base URLs and hosts come from
//! configuration so tests can point them at local fakes.

pub mod api_health;
pub mod ical_fetch;
pub mod mercadopago;
pub mod outbound;
pub mod public_address;
pub mod smtp;
pub mod whatsapp;
