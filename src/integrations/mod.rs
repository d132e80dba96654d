//! Outbound clients for external providers. Each one is blocking (ureq over rustls) and is
//! called from `spawn_blocking`; base URLs come from configuration so tests can point them at
//! local fakes.

pub mod ical;
pub mod mercadopago;
pub mod outbound;
pub mod whatsapp;
