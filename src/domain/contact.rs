//! A guest's contact details: name, phone (normalised to E.164) and optional email.

use serde::{Deserialize, Serialize};

/// Validated contact details: made only by [`Contact::new`] (typed by a guest or the host) and
/// [`Contact::from_whatsapp`] (a WhatsApp sender), read through its accessors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    name: String,
    /// E.164, e.g. `+5491122334455`.
    phone: String,
    email: Option<String>,
}

/// Which contact field is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidContact {
    #[error("contact_name must be 1 to 200 characters")]
    Name,
    #[error("contact_phone is not a valid phone number")]
    Phone,
    #[error("contact_email is not a valid email address")]
    Email,
}

impl Contact {
    /// A WhatsApp guest: `wa_id` is the sender's number as WhatsApp gives it (see
    /// [`whatsapp_phone`]); a missing or unusable profile name becomes `fallback_name`.
    pub fn from_whatsapp(
        name: Option<&str>,
        wa_id: &str,
        fallback_name: &str,
    ) -> Result<Self, InvalidContact> {
        let phone = whatsapp_phone(wa_id).ok_or(InvalidContact::Phone)?;
        let name = name
            .map(str::trim)
            .filter(|n| {
                !n.is_empty() && n.chars().count() <= 200 && !n.chars().any(char::is_control)
            })
            .unwrap_or(fallback_name);
        Ok(Contact {
            name: name.to_owned(),
            phone,
            email: None,
        })
    }

    /// Validates and normalises; `default_country` (e.g. `"54"`) is prefixed to national numbers.
    pub fn new(
        name: &str,
        phone: &str,
        email: Option<&str>,
        default_country: &str,
    ) -> Result<Self, InvalidContact> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            return Err(InvalidContact::Name);
        }
        let email = match email.map(str::trim).filter(|e| !e.is_empty()) {
            Some(e) => Some(normalize_email(e).ok_or(InvalidContact::Email)?),
            None => None,
        };
        Ok(Contact {
            name: name.to_owned(),
            phone: normalize_phone(phone, default_country).ok_or(InvalidContact::Phone)?,
            email,
        })
    }
}

impl Contact {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// E.164, e.g. `+5491122334455`.
    pub fn phone(&self) -> &str {
        &self.phone
    }

    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }
}

/// The region whose numbering plan national numbers follow, for a country calling code such
/// as `"54"` (Argentina); for a code shared by several countries, its main one (`"1"` → US).
pub fn region_of(calling_code: &str) -> Option<phonenumber::country::Id> {
    let code: u16 = calling_code.parse().ok()?;
    let regions = phonenumber::metadata::DATABASE.region(&code)?;
    regions.first()?.parse().ok()
}

/// Loads libphonenumber's metadata now (about 0.1 s, once per process) instead of in the
/// first guest's request.
pub fn load_phone_metadata() {
    let _ = normalize_phone("+5491122334455", "54");
}

/// Longest text taken as a phone number; real ones, formatted, are far shorter.
const MAX_PHONE_TEXT: usize = 40;

/// Normalises a phone number as typed to E.164 with libphonenumber's metadata (the
/// `phonenumber` crate): international forms (`+54 9 11 2233-4455`, `0054…`, `54 9 …`) and
/// national ones in the numbering plan of `default_country` (a calling code such as `"54"`),
/// with their trunk prefix and local habits: Argentine mobiles written with the trunk `0`, the
/// area code and the mobile `15` (`0351 15-412-3456`, `11 15 2233-4455`) become `+549…`.
/// A number that does not parse, or is not a valid number of its country, is `None`.
pub fn normalize_phone(raw: &str, default_country: &str) -> Option<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty()
        || trimmed.len() > MAX_PHONE_TEXT
        || !trimmed
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        || trimmed.rfind('+').is_some_and(|i| i > 0)
    {
        return None;
    }
    let region = region_of(default_country);
    let normal = valid_e164(region, trimmed)?;
    // The E.164 form must read back as itself, here and as a WhatsApp sender: for a few
    // malformed inputs the parser's transforms give a number that does not (fuzzing:
    // "+5111 1533--4456" with the US plan became "+5115334456", read back as "+515334456";
    // "+4 9183183-4455-4455" became 16 digits, longer than E.164 allows). A number typed in
    // its E.164 form has just been read back; a number with a `+` is parsed the same with or
    // without a region, so the read-back is also how WhatsApp's sender would be taken.
    let reads_back = normal == trimmed || valid_e164(region, &normal).as_ref() == Some(&normal);
    (reads_back && sender_digits(&normal[1..]).is_some()).then_some(normal)
}

/// The E.164 form of `text` parsed in `region`'s plan, if it is a valid number.
fn valid_e164(region: Option<phonenumber::country::Id>, text: &str) -> Option<String> {
    let number = phonenumber::parse(region, text).ok()?;
    number.is_valid().then(|| e164(&number))
}

/// `+`, the country code and the national number with its leading zeros: libphonenumber's
/// E.164 format, without the formatter's search for a national pattern (a third of the cost
/// of normalising a number), which E.164 does not use.
fn e164(number: &phonenumber::PhoneNumber) -> String {
    format!("+{}{}", number.code().value(), number.national())
}

/// The digits of a WhatsApp sender's number (`wa_id`), if they can be one: 1 to 15 digits
/// not starting with 0, an optional `+` before them.
fn sender_digits(wa_id: &str) -> Option<&str> {
    let digits = wa_id.trim().trim_start_matches('+');
    let ok = !digits.is_empty()
        && digits.len() <= 15
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    ok.then_some(digits)
}

/// The E.164 number of a WhatsApp sender (`wa_id`, digits with the country code, e.g.
/// `5493514123456`). A number the metadata knows is taken in its canonical form, however
/// short (some countries' are); WhatsApp has verified the number, so one the metadata does not
/// know yet is still taken as it comes (8 to 15 digits). The same number typed locally by a
/// guest ([`normalize_phone`]) gives the same text.
pub fn whatsapp_phone(wa_id: &str) -> Option<String> {
    let plus = format!("+{}", sender_digits(wa_id)?);
    valid_e164(None, &plus).or_else(|| (plus.len() > 8).then_some(plus))
}

/// Lower-cases the domain and checks the obvious shape `local@domain.tld`.
pub fn normalize_email(raw: &str) -> Option<String> {
    let (local, domain) = raw.rsplit_once('@')?;
    let ok = !local.is_empty()
        && local.len() <= 64
        && raw.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !raw.chars().any(|c| c.is_whitespace() || c.is_control())
        && !local.contains('@');
    ok.then(|| format!("{local}@{}", domain.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_normalised_number_normalises_to_itself_and_is_what_whatsapp_reports() {
        // The last two were found by fuzzing.
        for input in [
            "0351 15-412-3456",
            "+5111 1533--4456",
            "+4 9183183-4455-4455",
        ] {
            for cc in ["54", "1", "34"] {
                if let Some(n) = normalize_phone(input, cc) {
                    assert_eq!(normalize_phone(&n, cc).as_ref(), Some(&n), "{input} {cc}");
                    assert_eq!(whatsapp_phone(&n[1..]).as_ref(), Some(&n), "{input} {cc}");
                }
            }
        }
        assert_eq!(normalize_phone("+5111 1533--4456", "1"), None);
        assert_eq!(normalize_phone("+4 9183183-4455-4455", "54"), None);
    }

    #[test]
    fn e164_is_libphonenumbers_e164_format() {
        for text in [
            "+5493514123456",
            "+390612345678",
            "+14155552671",
            "+59899123456",
            "+8123456789",
            "+22507123456",
        ] {
            let n = phonenumber::parse(None, text).unwrap();
            let library = n.format().mode(phonenumber::Mode::E164).to_string();
            assert_eq!(e164(&n), library, "{text}");
        }
    }

    #[test]
    fn argentine_mobiles_in_every_usual_local_form_become_549() {
        let cases = [
            ("0351 15-412-3456", "+5493514123456"),
            ("351 15 4123456", "+5493514123456"),
            ("(0351) 15 412 3456", "+5493514123456"),
            ("+54 9 351 412-3456", "+5493514123456"),
            ("54 9 351 4123456", "+5493514123456"),
            ("+54 351 15 412-3456", "+5493514123456"),
            ("11 15 2233-4455", "+5491122334455"),
            ("011 15 2233-4455", "+5491122334455"),
            ("+54 9 11 2233-4455", "+5491122334455"),
            ("54 9 11 2233 4455", "+5491122334455"),
            ("+54 11 15 2233-4455", "+5491122334455"),
            ("0294 15 442-1234", "+5492944421234"),
        ];
        for (typed, e164) in cases {
            assert_eq!(
                normalize_phone(typed, "54").as_deref(),
                Some(e164),
                "{typed}"
            );
        }
    }

    #[test]
    fn a_whatsapp_sender_and_the_same_phone_typed_locally_match() {
        for (wa_id, typed) in [
            ("5493514123456", "0351 15-412-3456"),
            ("5491122334455", "11 15 2233-4455"),
            ("5492944421234", "(0294) 15 442-1234"),
        ] {
            assert_eq!(
                whatsapp_phone(wa_id),
                normalize_phone(typed, "54"),
                "{wa_id}"
            );
        }
        assert_eq!(
            whatsapp_phone("5491100000000").as_deref(),
            Some("+5491100000000"),
            "a number WhatsApp verified is kept even if the metadata does not know it"
        );
        assert_eq!(whatsapp_phone("12"), None);
        // Found by fuzzing: a short number valid in its country must round-trip.
        let short = normalize_phone("008 243 121", "54").unwrap();
        assert_eq!(whatsapp_phone(&short[1..]), Some(short));
        assert_eq!(whatsapp_phone("54911abc"), None);
    }

    #[test]
    fn the_default_country_code_chooses_the_numbering_plan() {
        assert_eq!(
            normalize_phone("(415) 555-2671", "1").as_deref(),
            Some("+14155552671")
        );
        assert_eq!(
            normalize_phone("612 34 56 78", "34").as_deref(),
            Some("+34612345678")
        );
        assert_eq!(
            normalize_phone("+598 99 123 456", "54").as_deref(),
            Some("+59899123456")
        );
        assert_eq!(
            region_of("54").map(|r| r.as_ref().to_owned()).as_deref(),
            Some("AR")
        );
        assert_eq!(region_of("999"), None);
    }

    #[test]
    fn normalises_argentine_numbers_to_e164() {
        assert_eq!(
            normalize_phone("+54 9 11 2233-4455", "54").as_deref(),
            Some("+5491122334455")
        );
        assert_eq!(
            normalize_phone("0054 9 11 2233 4455", "54").as_deref(),
            Some("+5491122334455")
        );
        assert_eq!(
            normalize_phone("011 2233-4455", "54").as_deref(),
            Some("+541122334455")
        );
        assert_eq!(
            normalize_phone("(0294) 442-1234", "54").as_deref(),
            Some("+542944421234")
        );
    }

    #[test]
    fn rejects_what_is_not_a_phone() {
        for bad in [
            "",
            "abc",
            "12",
            "+54 11 +2233",
            "1234567890123456789",
            "+0123456789",
            "15 2233-4455",
            "2233-4455",
            "+54 11 1234",
            "+1 555 0100",
            "011 2233-4455 int 12 más texto largo de relleno",
        ] {
            assert_eq!(normalize_phone(bad, "54"), None, "{bad:?}");
        }
    }

    #[test]
    fn validates_email_and_name() {
        assert_eq!(
            normalize_email("Ana@Example.COM").as_deref(),
            Some("Ana@example.com")
        );
        for bad in ["ana", "ana@", "@x.com", "ana@x", "a na@x.com", "ana@.com"] {
            assert_eq!(normalize_email(bad), None, "{bad:?}");
        }
        assert_eq!(
            Contact::new(" ", "+5491122334455", None, "54"),
            Err(InvalidContact::Name)
        );
        assert_eq!(
            Contact::new("Ana", "+5491122334455", Some("nope"), "54"),
            Err(InvalidContact::Email)
        );
        let c = Contact::new("Ana", "+5491122334455", Some(""), "54").unwrap();
        assert_eq!(c.email, None);
    }
}
