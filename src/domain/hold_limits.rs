//! Limits on the unpaid holds that guests take (public API, booking site, WhatsApp), so that
//! one client cannot empty the calendar: live holds per phone number and per client network,
//! nights per hold, and the share of each accommodation's nights that guests' unpaid holds may
//! cover. Holds taken by the host are never limited. Pure: the store counts, this decides.

use std::net::IpAddr;

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use super::dates::NightRange;

/// The configured limits; a zero (or a share of 100 %) turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldLimits {
    /// Live unpaid holds one phone number may have.
    pub per_phone: u32,
    /// Live unpaid holds one client network (IPv4 address, IPv6 /64) may have.
    pub per_address: u32,
    /// Longest hold a guest may take, in nights.
    pub max_nights: u32,
    /// Length of the windows, from today, over which the share is counted.
    pub window_days: u32,
    /// Share (percent) of a window's nights that guests' unpaid holds may cover.
    pub max_share_percent: u32,
}

impl HoldLimits {
    /// No limit at all (tests and benchmarks that take thousands of holds from one client).
    pub const OFF: HoldLimits = HoldLimits {
        per_phone: 0,
        per_address: 0,
        max_nights: 0,
        window_days: 0,
        max_share_percent: 100,
    };
}

/// Who takes a guest's hold: the phone (E.164) and, when the channel knows it, the client's
/// network. Kept on the hold so its index entries can be found and shown to the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldClient {
    pub phone: String,
    /// [`network_key`] of the client's address (`203.0.113.9`, `2001:db8:1:2::/64`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// Whose live holds a key counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    Phone,
    Address,
}

impl ClientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::Phone => "phone",
            ClientKind::Address => "address",
        }
    }

    /// The index key of `value` (a phone or a network key).
    pub fn key(self, value: &str) -> String {
        format!("{}:{value}", self.as_str())
    }

    /// The kind and value of an index key.
    pub fn split(key: &str) -> Option<(ClientKind, &str)> {
        let (kind, value) = key.split_once(':')?;
        let kind = [ClientKind::Phone, ClientKind::Address]
            .into_iter()
            .find(|k| k.as_str() == kind)?;
        Some((kind, value))
    }
}

impl HoldClient {
    /// The index keys this client's holds count under.
    pub fn keys(&self) -> Vec<(ClientKind, String)> {
        let mut keys = vec![(ClientKind::Phone, ClientKind::Phone.key(&self.phone))];
        if let Some(address) = &self.address {
            keys.push((ClientKind::Address, ClientKind::Address.key(address)));
        }
        keys
    }
}

/// The network a client address stands for: an IPv4 address itself (an IPv4-mapped IPv6
/// address too), an IPv6 address's /64 (one subscriber usually holds a whole /64).
pub fn network_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

/// [`network_of`] as text: `203.0.113.9`, `2001:db8:1:2::/64`.
pub fn network_key(ip: IpAddr) -> String {
    match network_of(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("{v6}/64"),
    }
}

/// Why a guest's hold was refused by a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum HoldRefusal {
    #[error("this phone number already has {limit} unpaid holds; pay one or wait until one lapses")]
    PerPhone {
        limit: u32,
        /// When the first of them lapses.
        free_at: Option<Timestamp>,
    },
    #[error("this network already has {limit} unpaid holds; pay one or wait until one lapses")]
    PerAddress {
        limit: u32,
        free_at: Option<Timestamp>,
    },
    #[error("holds taken online are limited to {max} nights; ask the host for longer stays")]
    TooLong { max: u32 },
    #[error(
        "unpaid holds already cover {percent} % of this accommodation's nights in those {days} days; try again later"
    )]
    AccommodationShare { percent: u32, days: u32 },
}

impl HoldRefusal {
    /// Bounded label for metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            HoldRefusal::PerPhone { .. } => "per_phone",
            HoldRefusal::PerAddress { .. } => "per_address",
            HoldRefusal::TooLong { .. } => "too_long",
            HoldRefusal::AccommodationShare { .. } => "accommodation_share",
        }
    }
}

impl HoldLimits {
    /// Whether a hold of `range` is short enough.
    pub fn check_length(&self, range: &NightRange) -> Result<(), HoldRefusal> {
        match self.max_nights {
            0 => Ok(()),
            max if range.nights() > max => Err(HoldRefusal::TooLong { max }),
            _ => Ok(()),
        }
    }

    /// The most live holds a client of `kind` may have; `None` when unlimited.
    pub fn per(&self, kind: ClientKind) -> Option<u32> {
        let limit = match kind {
            ClientKind::Phone => self.per_phone,
            ClientKind::Address => self.per_address,
        };
        (limit > 0).then_some(limit)
    }

    /// Whether a client of `kind` with `live` holds (the first lapsing at `free_at`) may take
    /// one more.
    pub fn check_client(
        &self,
        kind: ClientKind,
        live: u32,
        free_at: Option<Timestamp>,
    ) -> Result<(), HoldRefusal> {
        match self.per(kind) {
            Some(limit) if live >= limit => Err(match kind {
                ClientKind::Phone => HoldRefusal::PerPhone { limit, free_at },
                ClientKind::Address => HoldRefusal::PerAddress { limit, free_at },
            }),
            _ => Ok(()),
        }
    }

    /// Nights of each window guests' unpaid holds may cover; `None` when unlimited.
    pub fn share_cap(&self) -> Option<u32> {
        (self.window_days > 0 && self.max_share_percent < 100)
            .then(|| self.window_days * self.max_share_percent / 100)
    }

    /// The windows `range` touches: consecutive spans of `window_days` starting `today`
    /// (a stay before today touches none).
    pub fn windows(&self, today: Date, range: &NightRange) -> Vec<NightRange> {
        let Some(_) = self.share_cap() else {
            return vec![];
        };
        let days = i64::from(self.window_days);
        let offset = |d: Date| today.until(d).map_or(0, |s| i64::from(s.get_days()));
        let first = offset(range.check_in()).max(0) / days;
        let last = (offset(range.check_out()) - 1).max(0) / days;
        (first..=last)
            .filter_map(|k| {
                let start = today.checked_add((k * days).days()).ok()?;
                let end = start.checked_add(days.days()).ok()?;
                NightRange::new(start, end).ok()
            })
            .filter(|w| w.overlaps(range))
            .collect()
    }

    /// Whether `wanted` more nights fit in a window where guests' holds cover `held`.
    pub fn check_share(&self, held: u32, wanted: u32) -> Result<(), HoldRefusal> {
        match self.share_cap() {
            Some(cap) if held + wanted > cap => Err(HoldRefusal::AccommodationShare {
                percent: self.max_share_percent,
                days: self.window_days,
            }),
            _ => Ok(()),
        }
    }
}

/// How many nights of `range` fall in `window`.
pub fn nights_within(range: &NightRange, window: &NightRange) -> u32 {
    let from = range.check_in().max(window.check_in());
    let to = range.check_out().min(window.check_out());
    NightRange::new(from, to).map_or(0, |r| r.nights())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const LIMITS: HoldLimits = HoldLimits {
        per_phone: 2,
        per_address: 4,
        max_nights: 30,
        window_days: 60,
        max_share_percent: 50,
    };

    fn range(a: Date, b: Date) -> NightRange {
        NightRange::new(a, b).unwrap()
    }

    #[test]
    fn ipv6_clients_are_their_slash_64_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(network_of(a), network_of(b));
        assert_ne!(network_of(a), network_of(c));
        assert_eq!(network_key(a), "2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:203.0.113.9".parse().unwrap();
        assert_eq!(network_key(mapped), "203.0.113.9");
        assert_eq!(network_key("203.0.113.9".parse().unwrap()), "203.0.113.9");
    }

    #[test]
    fn client_limits_refuse_at_the_limit_and_zero_is_off() {
        assert!(LIMITS.check_client(ClientKind::Phone, 1, None).is_ok());
        assert_eq!(
            LIMITS.check_client(ClientKind::Phone, 2, None),
            Err(HoldRefusal::PerPhone {
                limit: 2,
                free_at: None
            })
        );
        assert!(LIMITS.check_client(ClientKind::Address, 3, None).is_ok());
        assert!(LIMITS.check_client(ClientKind::Address, 4, None).is_err());
        assert!(
            HoldLimits::OFF
                .check_client(ClientKind::Phone, 1000, None)
                .is_ok()
        );
        let long = range(date(2027, 1, 1), date(2027, 3, 2));
        assert_eq!(
            LIMITS.check_length(&long),
            Err(HoldRefusal::TooLong { max: 30 })
        );
        assert!(HoldLimits::OFF.check_length(&long).is_ok());
    }

    #[test]
    fn a_stay_touches_the_windows_its_nights_fall_in() {
        let today = date(2027, 1, 1);
        let w = |r| LIMITS.windows(today, &r);
        assert_eq!(
            w(range(date(2027, 1, 10), date(2027, 1, 12))),
            [range(today, date(2027, 3, 2))]
        );
        let straddling = w(range(date(2027, 2, 25), date(2027, 3, 5)));
        assert_eq!(
            straddling,
            [
                range(today, date(2027, 3, 2)),
                range(date(2027, 3, 2), date(2027, 5, 1))
            ]
        );
        assert_eq!(
            straddling
                .iter()
                .map(|win| nights_within(&range(date(2027, 2, 25), date(2027, 3, 5)), win))
                .collect::<Vec<_>>(),
            [5, 3]
        );
        assert!(
            HoldLimits::OFF
                .windows(today, &range(today, date(2027, 1, 2)))
                .is_empty()
        );
    }

    #[test]
    fn the_share_caps_the_nights_of_each_window() {
        assert_eq!(LIMITS.share_cap(), Some(30));
        assert!(LIMITS.check_share(0, 30).is_ok());
        assert!(LIMITS.check_share(20, 10).is_ok());
        assert_eq!(
            LIMITS.check_share(20, 11),
            Err(HoldRefusal::AccommodationShare {
                percent: 50,
                days: 60
            })
        );
        assert!(HoldLimits::OFF.check_share(365, 365).is_ok());
    }

    #[test]
    fn index_keys_name_their_kind() {
        let client = HoldClient {
            phone: "+5491122334455".into(),
            address: Some("2001:db8::/64".into()),
        };
        let keys = client.keys();
        assert_eq!(keys[0].1, "phone:+5491122334455");
        assert_eq!(
            ClientKind::split(&keys[1].1),
            Some((ClientKind::Address, "2001:db8::/64"))
        );
    }
}
