//! Typed identifiers: an accommodation's id and a reservation's code, each made only through a
//! constructor that checks it (parse, don't validate). Both serialize exactly as the plain
//! number or string they wrap, so stored records and the JSON API are unchanged.

use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Deserializer, Serialize};

/// The id of an accommodation (assigned by the store, from 1).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct AccommodationId(u64);

impl AccommodationId {
    pub const fn new(id: u64) -> Self {
        AccommodationId(id)
    }

    pub const fn get(self) -> u64 {
        self.0
    }
}

impl From<u64> for AccommodationId {
    fn from(id: u64) -> Self {
        AccommodationId(id)
    }
}

impl fmt::Display for AccommodationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A reservation code: `RES` + yymmdd of creation + 6 upper-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ReservationCode(String);

impl ReservationCode {
    /// The code of a reservation created on `created`, with three random bytes.
    pub fn generate(created: Date, random: [u8; 3]) -> Self {
        ReservationCode(format!(
            "RES{:02}{:02}{:02}{:02X}{:02X}{:02X}",
            created.year() % 100,
            created.month(),
            created.day(),
            random[0],
            random[1],
            random[2]
        ))
    }

    /// `text` as a code, if it has the shape of one (cheap check before a lookup).
    pub fn parse(text: &str) -> Option<Self> {
        is_reservation_code(text).then(|| ReservationCode(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReservationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<ReservationCode> for String {
    fn from(code: ReservationCode) -> String {
        code.0
    }
}

impl PartialEq<str> for ReservationCode {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl<'de> Deserialize<'de> for ReservationCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ReservationCode::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a reservation code")))
    }
}

/// Whether `code` has the shape of a reservation code.
pub fn is_reservation_code(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 15
        && b.starts_with(b"RES")
        && b[3..9].iter().all(u8::is_ascii_digit)
        && b[9..]
            .iter()
            .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c))
}

/// An owner block code: `BLK` + 8 upper-case hex digits.
pub fn block_code(random: [u8; 4]) -> String {
    format!(
        "BLK{:02X}{:02X}{:02X}{:02X}",
        random[0], random[1], random[2], random[3]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn code_has_the_documented_shape() {
        let code = ReservationCode::generate(date(2025, 11, 3), [0xA1, 0xB2, 0xC3]);
        assert_eq!(code.as_str(), "RES251103A1B2C3");
        assert_eq!(ReservationCode::parse(code.as_str()), Some(code));
        assert!(!is_reservation_code("RES251103a1b2c3"));
        assert!(!is_reservation_code("RES25110"));
        assert!(
            !is_reservation_code("RES12345é12345"),
            "multi-byte text never panics"
        );
        assert_eq!(block_code([1, 2, 0xAB, 0xFF]), "BLK0102ABFF");
    }

    #[test]
    fn ids_and_codes_serialize_as_what_they_wrap() {
        let code = ReservationCode::parse("RES251103A1B2C3").unwrap();
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"RES251103A1B2C3\"");
        assert_eq!(
            serde_json::from_str::<ReservationCode>("\"RES251103A1B2C3\"").unwrap(),
            code
        );
        assert!(serde_json::from_str::<ReservationCode>("\"nope\"").is_err());
        assert_eq!(
            serde_json::to_string(&AccommodationId::new(7)).unwrap(),
            "7"
        );
        assert_eq!(
            serde_json::from_str::<AccommodationId>("7").unwrap(),
            AccommodationId::new(7)
        );
    }
}
