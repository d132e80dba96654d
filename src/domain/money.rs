//! Exact money and rates: integer cents and basis points, never floating point.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount in cents. Rendered as a string with two decimals (`"48000.00"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

/// A text that is not a non-negative decimal amount with at most `scale` decimals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a valid decimal amount")]
pub struct InvalidDecimal(pub String);

/// Parses a non-negative decimal with at most `scale` fractional digits into units of
/// `10^-scale`.
fn parse_fixed(text: &str, scale: u32) -> Result<i64, InvalidDecimal> {
    let bad = || InvalidDecimal(text.to_owned());
    let trimmed = text.trim();
    let (whole, frac) = trimmed.split_once('.').unwrap_or((trimmed, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(frac) || frac.len() > scale as usize {
        return Err(bad());
    }
    let unit = 10i64.pow(scale);
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac_value = frac.parse::<i64>().map_err(|_| bad())? * 10i64.pow(scale - frac.len() as u32);
    whole
        .checked_mul(unit)
        .and_then(|w| w.checked_add(frac_value))
        .filter(|v| *v <= 1_000_000_000_000_000)
        .ok_or_else(bad)
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_cents(cents: i64) -> Self {
        Money(cents)
    }

    /// A whole amount of currency units.
    pub const fn from_units(units: i64) -> Self {
        Money(units * 100)
    }

    pub const fn cents(self) -> i64 {
        self.0
    }

    /// `self × rate`, rounded half away from zero to the cent.
    pub fn times(self, rate: Rate) -> Money {
        let product = i128::from(self.0) * i128::from(rate.0);
        let rounded = (product + product.signum() * 5_000) / 10_000;
        Money(i64::try_from(rounded).unwrap_or(i64::MAX))
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).fold(0i64, i64::saturating_add))
    }
}

impl FromStr for Money {
    type Err = InvalidDecimal;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_fixed(s, 2).map(Money)
    }
}

impl Money {
    /// The text form (`-1234.50`) written into `buf` without the `fmt` machinery: every
    /// priced response and stored reservation carries several amounts.
    fn text(self, buf: &mut [u8; 24]) -> &str {
        let abs = self.0.unsigned_abs();
        let (mut whole, cents) = (abs / 100, abs % 100);
        let mut at = buf.len() - 3;
        buf[at..].copy_from_slice(&[b'.', b'0' + (cents / 10) as u8, b'0' + (cents % 10) as u8]);
        loop {
            at -= 1;
            buf[at] = b'0' + (whole % 10) as u8;
            whole /= 10;
            if whole == 0 {
                break;
            }
        }
        if self.0 < 0 {
            at -= 1;
            buf[at] = b'-';
        }
        std::str::from_utf8(&buf[at..]).expect("ASCII digits")
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text(&mut [0; 24]))
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.text(&mut [0; 24]))
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A multiplier or share in basis points: `Rate::parse("1.2")` is 12000, 30 % is 3000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(u32);

impl Rate {
    pub const ONE: Rate = Rate(10_000);

    pub const fn from_basis_points(bp: u32) -> Self {
        Rate(bp)
    }

    /// A percentage such as 30 → 0.30.
    pub const fn percent(p: u32) -> Self {
        Rate(p * 100)
    }

    pub const fn basis_points(self) -> u32 {
        self.0
    }
}

impl FromStr for Rate {
    type Err = InvalidDecimal;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let v = parse_fixed(s, 4)?;
        u32::try_from(v)
            .map(Rate)
            .map_err(|_| InvalidDecimal(s.to_owned()))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / 10_000;
        let frac = format!("{:04}", self.0 % 10_000);
        let frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            write!(f, "{whole}")
        } else {
            write!(f, "{whole}.{frac}")
        }
    }
}

/// JSON accepts a decimal string (`"12000.50"`) or a whole number (`12000`); fractional JSON
/// numbers are refused because they are binary floating point.
#[derive(Deserialize)]
#[serde(untagged)]
enum DecimalRepr {
    Text(String),
    Whole(u64),
}

impl DecimalRepr {
    fn into_text(self) -> String {
        match self {
            DecimalRepr::Text(t) => t,
            DecimalRepr::Whole(n) => n.to_string(),
        }
    }
}

macro_rules! decimal_deserialize {
    ($ty:ty) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = DecimalRepr::deserialize(d)
                    .map_err(|_| {
                        serde::de::Error::custom(
                            "expected a decimal string such as \"12000.50\" or a whole number",
                        )
                    })?
                    .into_text();
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

decimal_deserialize!(Money);
decimal_deserialize!(Rate);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_renders_two_decimals() {
        assert_eq!("12000".parse::<Money>().unwrap().to_string(), "12000.00");
        assert_eq!("12000.5".parse::<Money>().unwrap().cents(), 1_200_050);
        assert_eq!("0.05".parse::<Money>().unwrap().to_string(), "0.05");
        for bad in ["", "-1", "1.234", "1e3", "abc", "1.", ".5", "1,5"] {
            assert!(bad.parse::<Money>().is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn rate_parses_multipliers_and_renders_them_back() {
        assert_eq!(
            "1.2".parse::<Rate>().unwrap(),
            Rate::from_basis_points(12_000)
        );
        assert_eq!("1.5".parse::<Rate>().unwrap().to_string(), "1.5");
        assert_eq!(Rate::percent(30).to_string(), "0.3");
        assert!("1.23456".parse::<Rate>().is_err());
    }

    #[test]
    fn times_rounds_half_away_from_zero_to_the_cent() {
        let m = Money::from_cents(5);
        assert_eq!(m.times(Rate::from_basis_points(5_000)).cents(), 3);
        assert_eq!(
            Money::from_units(12_000).times("1.5".parse().unwrap()),
            Money::from_units(18_000)
        );
        assert_eq!(
            Money::from_units(48_000).times(Rate::percent(30)),
            Money::from_units(14_400)
        );
    }

    #[test]
    fn json_accepts_strings_and_whole_numbers_but_not_floats() {
        let m: Money = serde_json::from_str("\"99.90\"").unwrap();
        assert_eq!(m.cents(), 9_990);
        let m: Money = serde_json::from_str("100").unwrap();
        assert_eq!(m.to_string(), "100.00");
        assert!(serde_json::from_str::<Money>("99.9").is_err());
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"100.00\"");
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(cents in 0i64..1_000_000_000_000) {
            let m = Money::from_cents(cents);
            prop_assert_eq!(m.to_string().parse::<Money>().unwrap(), m);
        }

        #[test]
        fn text_is_sign_whole_and_two_decimals(cents in any::<i64>()) {
            let m = Money::from_cents(cents);
            let abs = cents.unsigned_abs();
            let sign = if cents < 0 { "-" } else { "" };
            let expected = format!("{sign}{}.{:02}", abs / 100, abs % 100);
            prop_assert_eq!(&m.to_string(), &expected);
            prop_assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{expected}\""));
        }

        #[test]
        fn times_one_is_identity(cents in 0i64..1_000_000_000_000) {
            prop_assert_eq!(Money::from_cents(cents).times(Rate::ONE).cents(), cents);
        }
    }
}
