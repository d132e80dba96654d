//! alojamientos: a single-binary booking appliance for small accommodation hosts.

pub mod backups;
pub mod cli;
pub mod config;
pub mod control;
pub mod domain;
pub mod email;
pub mod http;
pub mod integrations;
pub mod jobs;
pub mod notices;
pub mod payments;
pub mod secret;
pub mod startup;
pub mod store;
pub mod systemd;
pub mod telemetry;
pub mod tls;
pub mod whatsapp;
