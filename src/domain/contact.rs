//! A guest's contact details: name, phone (normalised to E.164) and optional email.

use serde::{Deserialize, Serialize};

/// Validated contact details: made only by [`Contact::new`], read through its accessors.
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

/// Normalises a phone number to E.164. Accepts `+54 9 11 2233-4455`, `0054…`, and national
/// numbers (`011 2233 4455`, leading trunk 0 dropped) which get `default_country`.
pub fn normalize_phone(raw: &str, default_country: &str) -> Option<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty()
        || !trimmed
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        || trimmed.rfind('+').is_some_and(|i| i > 0)
    {
        return None;
    }
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let international = if trimmed.starts_with('+') {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else {
        format!("{default_country}{}", digits.trim_start_matches('0'))
    };
    let valid = (8..=15).contains(&international.len()) && !international.starts_with('0');
    valid.then(|| format!("+{international}"))
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
