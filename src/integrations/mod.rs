//! Outbound clients for external providers. Each one is blocking (ureq, or lettre for SMTP,
//! over rustls) and is called from `spawn_blocking`; base URLs and hosts come from
//! configuration so tests can point them at local fakes.

pub mod api_health;
pub mod ical_fetch;
pub mod mercadopago;
pub mod outbound;
pub mod smtp;
pub mod whatsapp;
