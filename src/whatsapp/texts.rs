//! The es-AR texts of `assets/whatsapp/es-AR.toml` (embedded at build time), filled in with
//! `{placeholders}`, and the Argentine formats for money and dates.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use figment::Figment;
use figment::providers::{Format, Toml};
use jiff::civil::{Date, Weekday};

use crate::domain::money::Money;

const SOURCE: &str = include_str!("../../assets/whatsapp/es-AR.toml");

static TEXTS: LazyLock<BTreeMap<String, String>> = LazyLock::new(|| {
    Figment::from(Toml::string(SOURCE))
        .extract()
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "assets/whatsapp/es-AR.toml does not parse");
            BTreeMap::new()
        })
});

/// Text `key` with every `{name}` replaced by its value.
pub fn render(key: &str, vars: &[(&str, String)]) -> String {
    let Some(template) = TEXTS.get(key) else {
        tracing::error!(key, "missing WhatsApp text");
        return String::new();
    };
    let mut out = template.clone();
    for (name, value) in vars {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// `$ 48.000` or `$ 14.400,50`.
pub fn money(m: Money) -> String {
    let cents = m.cents();
    let (sign, abs) = if cents < 0 {
        ("-", -cents)
    } else {
        ("", cents)
    };
    let units = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(c);
    }
    match abs % 100 {
        0 => format!("{sign}$ {grouped}"),
        c => format!("{sign}$ {grouped},{c:02}"),
    }
}

/// `vie 27/11`.
pub fn date(d: Date) -> String {
    let day = match d.weekday() {
        Weekday::Monday => "lun",
        Weekday::Tuesday => "mar",
        Weekday::Wednesday => "mié",
        Weekday::Thursday => "jue",
        Weekday::Friday => "vie",
        Weekday::Saturday => "sáb",
        Weekday::Sunday => "dom",
    };
    format!("{day} {}/{}", d.day(), d.month())
}

/// `del vie 27/11 al lun 30/11`.
pub fn stay(check_in: Date, check_out: Date) -> String {
    format!("del {} al {}", date(check_in), date(check_out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_parses_and_formats_are_argentine() {
        assert!(TEXTS.len() > 40);
        assert!(TEXTS.values().all(|t| !t.trim().is_empty()));
        assert_eq!(
            render("ask_check_out", &[("check_in", "vie 27/11".into())]),
            "¿Hasta qué día, o cuántas noches? (llegada el vie 27/11)"
        );
        assert_eq!(money(Money::from_cents(4_800_000)), "$ 48.000");
        assert_eq!(money(Money::from_cents(1_440_050)), "$ 14.400,50");
        assert_eq!(money(Money::from_cents(90_000)), "$ 900");
        assert_eq!(date(jiff::civil::date(2026, 11, 27)), "vie 27/11");
    }

    #[test]
    fn every_text_the_code_renders_exists() {
        let sources = [
            include_str!("conversation.rs"),
            include_str!("mod.rs"),
            include_str!("reminders.rs"),
        ];
        let mut used = 0;
        for source in sources {
            for piece in source.split("render(\"").skip(1) {
                let key = piece.split('"').next().unwrap();
                assert!(
                    TEXTS.contains_key(key),
                    "assets/whatsapp/es-AR.toml lacks {key}"
                );
                used += 1;
            }
        }
        assert!(used > 30, "{used}");
    }
}
