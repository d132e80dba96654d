//! The `[site]` section: the guest booking site (on or off), which other sites may frame it
//! (the embed), and the limits on photo uploads.

use serde::{Deserialize, Serialize};

use super::{ConfigError, invalid};

/// `[site]` as written in the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSection {
    pub enabled: bool,
    pub frame_ancestors: Vec<String>,
    pub photo_max_bytes: usize,
    pub photo_max_pixels: u64,
}

impl Default for SiteSection {
    fn default() -> Self {
        Self {
            enabled: true,
            frame_ancestors: vec![],
            photo_max_bytes: 15 * 1024 * 1024,
            photo_max_pixels: 50_000_000,
        }
    }
}

/// Validated site settings.
#[derive(Debug, Clone)]
pub struct SiteSettings {
    /// Serve the guest pages at `/` (the API and the admin are served either way).
    pub enabled: bool,
    /// Origins (`https://www.example.com.ar`) allowed to show the site in a frame.
    pub frame_ancestors: Vec<String>,
    /// Largest photo upload, in bytes (413 above it).
    pub photo_max_bytes: usize,
    /// Largest photo, in pixels (width × height): bigger ones are refused before decoding.
    pub photo_max_pixels: u64,
}

/// An origin: scheme and host (and port), no path.
fn origin(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches('/');
    let host = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))?;
    let plain = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    plain.then(|| text.to_ascii_lowercase())
}

impl SiteSection {
    pub fn validate(self) -> Result<SiteSettings, ConfigError> {
        let frame_ancestors = self
            .frame_ancestors
            .iter()
            .map(|o| {
                origin(o).ok_or_else(|| {
                    invalid(
                        "site.frame_ancestors",
                        format!("{o:?} is not an origin like https://www.example.com.ar"),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        if !(64 * 1024..=100 * 1024 * 1024).contains(&self.photo_max_bytes) {
            return Err(invalid(
                "site.photo_max_bytes",
                "must be between 65536 and 104857600",
            ));
        }
        if !(1_000_000..=200_000_000).contains(&self.photo_max_pixels) {
            return Err(invalid(
                "site.photo_max_pixels",
                "must be between 1000000 and 200000000",
            ));
        }
        Ok(SiteSettings {
            enabled: self.enabled,
            frame_ancestors,
            photo_max_bytes: self.photo_max_bytes,
            photo_max_pixels: self.photo_max_pixels,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_have_no_path_and_no_tricks() {
        assert_eq!(
            origin("https://Www.Example.com.ar/").as_deref(),
            Some("https://www.example.com.ar")
        );
        for bad in [
            "example.com",
            "https://a.com/x",
            "https://a.com;b",
            "https://",
        ] {
            assert!(origin(bad).is_none(), "{bad}");
        }
    }
}
