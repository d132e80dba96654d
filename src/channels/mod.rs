//! The ways guests and the host reach the application besides HTTP: WhatsApp and email.

pub mod email;
pub mod whatsapp;
