//! alojamientos: a single-binary booking appliance for small accommodation hosts.

pub mod app;
pub mod background;
pub mod channels;
pub mod cli;
pub mod config;
pub mod connections;
pub mod control;
pub mod domain;
pub mod first_admin;
pub mod http;
pub mod integrations;
pub mod memory;
pub mod secret;
pub mod startup;
pub mod store;
pub mod systemd;
pub mod telemetry;
pub mod tls;
