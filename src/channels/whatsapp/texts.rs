//! The es-AR texts of `assets/whatsapp/es-AR.toml` (embedded at build time), filled in with
//! `{placeholders}`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use figment::Figment;
use figment::providers::{Format, Toml};

use crate::app::notices::format::fill;
pub use crate::app::notices::format::{date, money, stay};

const SOURCE: &str = include_str!("../../../assets/whatsapp/es-AR.toml");

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
    fill(template, vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_parses() {
        assert!(TEXTS.len() > 40);
        assert!(TEXTS.values().all(|t| !t.trim().is_empty()));
        assert_eq!(
            render("ask_check_out", &[("check_in", "vie 27/11".into())]),
            "¿Hasta qué día, o cuántas noches? (llegada el vie 27/11)"
        );
    }

    #[test]
    fn every_text_the_code_renders_exists() {
        let sources = [
            include_str!("dialog/mod.rs"),
            include_str!("dialog/replies.rs"),
            include_str!("dialog/help.rs"),
            include_str!("conversation.rs"),
            include_str!("delivery.rs"),
            include_str!("reminders.rs"),
            include_str!("mod.rs"),
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
