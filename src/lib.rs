//! alojamientos: a single-binary booking appliance for small accommodation hosts.

pub mod domain;
pub mod config;
pub mod store;
pub mod http;
pub mod jobs;
pub mod secret;
pub mod telemetry;
pub mod cli;
pub mod startup;
