//! The property's own content: name, pitch, address and map, contact, check-in/out times,
//! policies, check-in instructions and social links. The configuration's `[property]` and
//! `[whatsapp]` values seed it until the host saves it from the web UI.

use serde::{Deserialize, Serialize};

use super::{InvalidContent, invalid, text, url};

/// A link to the property's page elsewhere (Instagram, Facebook, Google Maps reviews…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SocialLink {
    pub label: String,
    pub url: String,
}

/// The property's content as guests (site and WhatsApp) see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PropertyContent {
    pub name: String,
    /// One or two sentences under the name.
    pub pitch: String,
    pub address: String,
    /// A map link (Google Maps, OpenStreetMap).
    pub map_url: String,
    /// How to reach the host (free text: phone, WhatsApp, email).
    pub contact: String,
    pub contact_phone: String,
    pub contact_email: String,
    /// `14:00`
    pub check_in_time: String,
    /// `10:00`
    pub check_out_time: String,
    pub cancellation_policy: String,
    pub deposit_policy: String,
    /// Shown to a guest only once their stay is confirmed (keys, door codes, parking).
    pub check_in_instructions: String,
    pub social_links: Vec<SocialLink>,
}

/// What the configuration says, used until the host saves content of their own.
#[derive(Debug, Clone, Default)]
pub struct PropertyDefaults {
    pub name: String,
    pub address: String,
    pub contact: String,
    pub policies: String,
    pub check_in_time: String,
    pub check_out_time: String,
}

impl PropertyContent {
    /// The content seeded from the configuration (`property.name`, `whatsapp.address`,
    /// `whatsapp.contact`, `whatsapp.policies`, `whatsapp.check_in_time`/`check_out_time`).
    pub fn seeded(d: &PropertyDefaults) -> PropertyContent {
        PropertyContent {
            name: d.name.clone(),
            pitch: String::new(),
            address: d.address.clone(),
            map_url: String::new(),
            contact: d.contact.clone(),
            contact_phone: String::new(),
            contact_email: String::new(),
            check_in_time: d.check_in_time.clone(),
            check_out_time: d.check_out_time.clone(),
            cancellation_policy: d.policies.clone(),
            deposit_policy: String::new(),
            check_in_instructions: String::new(),
            social_links: vec![],
        }
    }

    /// The policies as one text (cancellation, then deposit), for the bot.
    pub fn policies(&self) -> String {
        [&self.cancellation_policy, &self.deposit_policy]
            .into_iter()
            .filter(|p| !p.trim().is_empty())
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// How to reach the host as one text, for the bot.
    pub fn contact_text(&self) -> String {
        [&self.contact, &self.contact_phone, &self.contact_email]
            .into_iter()
            .filter(|p| !p.trim().is_empty())
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

/// What the admin API accepts for the property's content (every field; the web UI sends
/// the whole record back).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PropertyInput {
    pub name: String,
    #[serde(default)]
    pub pitch: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub map_url: String,
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub contact_phone: String,
    #[serde(default)]
    pub contact_email: String,
    #[serde(default)]
    pub check_in_time: String,
    #[serde(default)]
    pub check_out_time: String,
    #[serde(default)]
    pub cancellation_policy: String,
    #[serde(default)]
    pub deposit_policy: String,
    #[serde(default)]
    pub check_in_instructions: String,
    #[serde(default)]
    pub social_links: Vec<SocialLink>,
}

/// `HH:MM` on a 24-hour clock, or empty.
fn time_of_day(field: &'static str, value: &str) -> Result<String, InvalidContent> {
    let value = value.trim();
    let ok = value.is_empty()
        || value.split_once(':').is_some_and(|(h, m)| {
            h.len() <= 2
                && m.len() == 2
                && h.parse::<u8>().is_ok_and(|h| h < 24)
                && m.parse::<u8>().is_ok_and(|m| m < 60)
        });
    if ok {
        Ok(value.to_owned())
    } else {
        Err(invalid(field, "must be a time like 14:00"))
    }
}

impl PropertyInput {
    /// Checks every field.
    pub fn validate(self) -> Result<PropertyContent, InvalidContent> {
        let name = text("name", &self.name, 120, false)?;
        if name.is_empty() {
            return Err(invalid("name", "must not be empty"));
        }
        if self.social_links.len() > 8 {
            return Err(invalid("social_links", "at most 8"));
        }
        let social_links = self
            .social_links
            .into_iter()
            .map(|l| {
                Ok(SocialLink {
                    label: text("social_links.label", &l.label, 40, false)?,
                    url: url("social_links.url", &l.url)?,
                })
            })
            .filter(|l| !matches!(l, Ok(SocialLink { url, .. }) if url.is_empty()))
            .collect::<Result<_, InvalidContent>>()?;
        Ok(PropertyContent {
            name,
            pitch: text("pitch", &self.pitch, 300, false)?,
            address: text("address", &self.address, 300, false)?,
            map_url: url("map_url", &self.map_url)?,
            contact: text("contact", &self.contact, 300, false)?,
            contact_phone: text("contact_phone", &self.contact_phone, 40, false)?,
            contact_email: text("contact_email", &self.contact_email, 200, false)?,
            check_in_time: time_of_day("check_in_time", &self.check_in_time)?,
            check_out_time: time_of_day("check_out_time", &self.check_out_time)?,
            cancellation_policy: text(
                "cancellation_policy",
                &self.cancellation_policy,
                2000,
                true,
            )?,
            deposit_policy: text("deposit_policy", &self.deposit_policy, 2000, true)?,
            check_in_instructions: text(
                "check_in_instructions",
                &self.check_in_instructions,
                4000,
                true,
            )?,
            social_links,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> PropertyInput {
        serde_json::from_value(serde_json::json!({"name": "Cabañas del Sur"})).unwrap()
    }

    #[test]
    fn validates_times_links_and_names() {
        let mut i = input();
        i.check_in_time = "14:00".into();
        i.social_links = vec![
            SocialLink {
                label: "Instagram".into(),
                url: "https://instagram.com/x".into(),
            },
            SocialLink {
                label: "vacío".into(),
                url: " ".into(),
            },
        ];
        let c = i.validate().unwrap();
        assert_eq!(c.social_links.len(), 1);
        let mut i = input();
        i.check_in_time = "25:00".into();
        assert_eq!(i.validate().unwrap_err().field, "check_in_time");
        let mut i = input();
        i.map_url = "javascript:alert(1)".into();
        assert_eq!(i.validate().unwrap_err().field, "map_url");
        let mut i = input();
        i.name = " ".into();
        assert_eq!(i.validate().unwrap_err().field, "name");
    }

    #[test]
    fn the_bot_reads_policies_and_contact_as_one_text() {
        let mut c = PropertyContent::seeded(&PropertyDefaults {
            name: "X".into(),
            policies: "Sin reembolso.".into(),
            ..Default::default()
        });
        c.deposit_policy = "Seña 30 %.".into();
        c.contact_phone = "+54 9 294 1".into();
        assert_eq!(c.policies(), "Sin reembolso.\nSeña 30 %.");
        assert_eq!(c.contact_text(), "+54 9 294 1");
    }
}
