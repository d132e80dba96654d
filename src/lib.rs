//! alojamientos: a single-binary booking appliance for small accommodation hosts.

pub mod domain;
pub mod config;
pub mod store;
