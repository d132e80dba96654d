//! Outbound requests to addresses the host types in (iCal feed URLs) reach only the public
//! internet: the agent's resolver drops every address that is loopback, private (RFC 1918,
//! shared CGNAT space, IPv6 ULA), link-local, a cloud metadata service, or otherwise not
//! routable, after DNS resolution and for every redirect hop (each hop is resolved through
//! it), so neither a name that resolves inside nor a redirect can reach the machine's own
//! services. `ical.allow_private_addresses` lets LAN feeds through; metadata addresses and
//! unroutable ones never are.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use ureq::Agent;
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use super::outbound::Limits;

/// What kind of address an outbound request would reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Routable on the internet.
    Public,
    /// This machine, its LAN, a carrier's shared space: only with `allow_private_addresses`.
    Private,
    /// Cloud instance metadata (credentials live there): never.
    Metadata,
    /// Unspecified, multicast, broadcast, documentation, reserved: never.
    Unroutable,
}

/// Instance metadata services at addresses that would otherwise pass as private or public
/// (AWS, GCP, Azure, Oracle, Alibaba, the AWS IPv6 one, Azure's wire server).
const METADATA: [IpAddr; 5] = [
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200)),
    IpAddr::V4(Ipv4Addr::new(168, 63, 129, 16)),
    IpAddr::V4(Ipv4Addr::new(192, 0, 0, 192)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)),
];

/// Classifies `ip` (an IPv4 address embedded in IPv6, as mapped, NAT64 or 6to4, is classified
/// as that IPv4 address).
pub fn reach(ip: IpAddr) -> Reach {
    if METADATA.contains(&ip) {
        return Reach::Metadata;
    }
    match ip {
        IpAddr::V4(v4) => reach_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => match reach(IpAddr::V4(v4)) {
                Reach::Public => Reach::Public,
                // Reaching an inside IPv4 address through a translator is no better.
                other => other,
            },
            None => reach_v6(v6),
        },
    }
}

fn reach_v4(ip: Ipv4Addr) -> Reach {
    let [a, b, c, _] = ip.octets();
    if ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b & 0xfe) == 18)
    {
        return Reach::Unroutable;
    }
    let private =
        ip.is_loopback() || ip.is_private() || ip.is_link_local() || (a == 100 && (b & 0xc0) == 64);
    if private {
        Reach::Private
    } else {
        Reach::Public
    }
}

fn reach_v6(ip: Ipv6Addr) -> Reach {
    let s = ip.segments();
    if ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || (s[0] == 0x2001 && s[1] == 0)
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0])
        || s[0] & 0xe000 != 0x2000 && !private_v6(ip)
    {
        return Reach::Unroutable;
    }
    if private_v6(ip) {
        Reach::Private
    } else {
        Reach::Public
    }
}

/// Loopback, unique local (fc00::/7), link-local (fe80::/10) and the old site-local.
fn private_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`),
/// NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:aabb:ccdd::`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    match s {
        [0, 0, 0, 0, 0, 0, hi, lo] if !ip.is_loopback() && !ip.is_unspecified() => {
            Some(low(hi, lo))
        }
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        [0x2002, hi, lo, ..] => Some(low(hi, lo)),
        _ => None,
    }
}

/// Whether a request may reach `ip`.
pub fn allowed(ip: IpAddr, allow_private: bool) -> bool {
    match reach(ip) {
        Reach::Public => true,
        Reach::Private => allow_private,
        Reach::Metadata | Reach::Unroutable => false,
    }
}

/// A resolver that keeps only the addresses `allow` accepts, and fails when none is left.
#[derive(Clone)]
pub struct Checked {
    allow: Arc<dyn Fn(IpAddr) -> bool + Send + Sync>,
}

impl fmt::Debug for Checked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Checked")
    }
}

impl Checked {
    pub fn new(allow: impl Fn(IpAddr) -> bool + Send + Sync + 'static) -> Checked {
        Checked {
            allow: Arc::new(allow),
        }
    }
}

/// The error a refused address becomes (its kind is how callers recognise it).
pub fn refused(host: &str) -> ureq::Error {
    ureq::Error::Io(std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        format!(
            "{host} resolves only to addresses feeds may not reach (private, loopback, link-local or metadata)"
        ),
    ))
}

impl Resolver for Checked {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let found = DefaultResolver::default().resolve(uri, config, timeout)?;
        let mut kept = self.empty();
        for addr in found.iter().filter(|a| (self.allow)(a.ip())) {
            kept.push(*addr);
        }
        if kept.is_empty() {
            return Err(refused(uri.host().unwrap_or_default()));
        }
        Ok(kept)
    }
}

/// An agent like [`super::outbound::agent`] whose every connection, redirects included, goes
/// only where `allow` says (and never through a proxy, which would hide the destination).
pub fn checked_agent(limits: Limits, resolver: Checked) -> Agent {
    let config = Agent::config_builder()
        .timeout_global(Some(limits.timeout))
        .max_redirects(limits.max_redirects)
        .http_status_as_error(false)
        .proxy(None)
        .user_agent(concat!("alojamientos/", env!("CARGO_PKG_VERSION")))
        .build();
    Agent::with_parts(config, DefaultConnector::default(), resolver)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn inside_addresses_are_private_and_metadata_never_passes() {
        for private in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.10",
            "169.254.1.1",
            "100.64.0.1",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:192.168.1.1",
            "::ffff:127.0.0.1",
            "64:ff9b::10.0.0.1",
            "2002:c0a8:0101::1",
        ] {
            assert_eq!(reach(ip(private)), Reach::Private, "{private}");
            assert!(!allowed(ip(private), false), "{private}");
            assert!(allowed(ip(private), true), "{private} allowed on a LAN");
        }
        for metadata in [
            "169.254.169.254",
            "100.100.100.200",
            "fd00:ec2::254",
            "168.63.129.16",
        ] {
            assert_eq!(reach(ip(metadata)), Reach::Metadata, "{metadata}");
            assert!(!allowed(ip(metadata), true), "{metadata} even on a LAN");
        }
        assert_eq!(reach(ip("::ffff:169.254.169.254")), Reach::Metadata);
    }

    #[test]
    fn unroutable_addresses_never_pass() {
        for bad in [
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "203.0.113.9",
            "::",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
            "100::1",
        ] {
            assert_eq!(reach(ip(bad)), Reach::Unroutable, "{bad}");
            assert!(!allowed(ip(bad), true), "{bad}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for good in [
            "8.8.8.8",
            "1.1.1.1",
            "200.45.1.2",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "2800:3f0:4002::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert_eq!(reach(ip(good)), Reach::Public, "{good}");
            assert!(allowed(ip(good), false), "{good}");
        }
    }

    /// A server on 127.0.0.1 that answers every request with a redirect to `location`.
    fn redirecting(location: String) -> std::net::SocketAddr {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = listener.accept() {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf);
                let reply = format!(
                    "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = s.write_all(reply.as_bytes());
            }
        });
        addr
    }

    #[test]
    fn every_redirect_hop_is_checked() {
        // Only loopback traffic: 127.0.0.1 is "allowed", 127.0.0.2 stands for an inside
        // address; nothing may connect to the latter.
        let inside = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
        inside.set_nonblocking(true).unwrap();
        let target = format!("http://{}/secret", inside.local_addr().unwrap());
        let first = redirecting(target);
        let resolver = Checked::new(|ip| ip == IpAddr::V4(Ipv4Addr::LOCALHOST));
        let limits = Limits {
            timeout: std::time::Duration::from_secs(5),
            max_redirects: 5,
        };
        let agent = checked_agent(limits, resolver);
        let err = agent
            .get(&format!("http://{first}/feed.ics"))
            .call()
            .unwrap_err();
        assert!(
            matches!(&err, ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::PermissionDenied),
            "{err:?}"
        );
        assert!(
            inside.accept().is_err(),
            "the inside address was never connected to"
        );
        let direct = agent
            .get(&format!("http://{}/x", inside.local_addr().unwrap()))
            .call();
        assert!(direct.is_err());
        assert!(inside.accept().is_err());
    }
}
