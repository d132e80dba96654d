//! The connection bounds of `[server]`: how long a client may take to send a request's head
//! and body, how long an idle keep-alive connection stays open, and how many connections
//! may be open at all and per client network.

use std::time::Duration;

use super::{ConfigError, ServerSection, duration, invalid};

/// Validated connection bounds.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionSettings {
    /// The whole request head must arrive within this.
    pub header_read_timeout: Duration,
    /// The whole request body must arrive within this.
    pub body_read_timeout: Duration,
    /// A connection with no request in progress is closed after this.
    pub keep_alive_timeout: Duration,
    /// Open connections at most; more are closed at once.
    pub max_connections: usize,
    /// Open connections per client network (IPv4 address, IPv6 /64) at most.
    pub max_connections_per_client: usize,
}

/// Defaults: (header, body, keep-alive, max, per client).
pub const DEFAULTS: (&str, &str, &str, usize, usize) = ("10s", "30s", "5s", 1024, 64);

pub fn validate(server: &ServerSection) -> Result<ConnectionSettings, ConfigError> {
    let bounded = |key: &'static str, text: &str| {
        let d = duration(key, text)?;
        if !(Duration::from_millis(100)..=Duration::from_secs(600)).contains(&d) {
            return Err(invalid(key, "must be between 100ms and 10m"));
        }
        Ok(d)
    };
    if !(1..=1_000_000).contains(&server.max_connections) {
        return Err(invalid(
            "server.max_connections",
            "must be between 1 and 1000000",
        ));
    }
    if !(1..=server.max_connections).contains(&server.max_connections_per_client) {
        return Err(invalid(
            "server.max_connections_per_client",
            "must be between 1 and server.max_connections",
        ));
    }
    Ok(ConnectionSettings {
        header_read_timeout: bounded("server.header_read_timeout", &server.header_read_timeout)?,
        body_read_timeout: bounded("server.body_read_timeout", &server.body_read_timeout)?,
        keep_alive_timeout: bounded("server.keep_alive_timeout", &server.keep_alive_timeout)?,
        max_connections: server.max_connections,
        max_connections_per_client: server.max_connections_per_client,
    })
}
