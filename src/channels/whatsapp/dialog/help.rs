//! Answers to questions about the place, from the same content as the guest site: check-in
//! times, address, contact and policies from the property's content; amenities and house
//! rules from each accommodation's page; the accommodations with their page links.

use super::Rules;
use crate::app::site::Page;
use crate::channels::whatsapp::outgoing;
use crate::channels::whatsapp::texts::render;
use crate::domain::content::{Amenity, PropertyContent};
use crate::domain::messages::NewOutbound;
use crate::domain::nlu::Topic;

fn names(pages: &[&Page]) -> String {
    pages
        .iter()
        .map(|p| p.accommodation.spec.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which accommodations on sale have `amenity`, in words.
fn amenity_answer(amenity: Amenity, pages: &[Page]) -> String {
    let (yes, no): (Vec<&Page>, Vec<&Page>) = pages.iter().partition(|p| p.content.has(amenity));
    let label = amenity.label().to_lowercase();
    if amenity == Amenity::PiletaClimatizada && yes.is_empty() {
        let pools: Vec<&Page> = pages
            .iter()
            .filter(|p| p.content.has(Amenity::Pileta))
            .collect();
        if !pools.is_empty() {
            return render("amenity_pool_not_heated", &[("names", names(&pools))]);
        }
    }
    match (yes.is_empty(), no.is_empty()) {
        (true, _) => render("amenity_no", &[("amenity", label)]),
        (false, true) => render("amenity_yes", &[("amenity", label), ("names", names(&yes))]),
        (false, false) => render(
            "amenity_partly",
            &[
                ("amenity", amenity.label().to_owned()),
                ("yes", names(&yes)),
                ("no", names(&no)),
            ],
        ),
    }
}

/// The answer to a question about the place.
pub fn help(
    to: &str,
    topic: Topic,
    property: &PropertyContent,
    pages: &[Page],
    rules: &Rules,
) -> Vec<NewOutbound> {
    let configured = |value: String| {
        if value.trim().is_empty() {
            render("topic_missing", &[("property", rules.property.clone())])
        } else {
            value
        }
    };
    let body = match topic {
        Topic::CheckTimes => render(
            "check_times",
            &[
                ("check_in_time", property.check_in_time.clone()),
                ("check_out_time", property.check_out_time.clone()),
            ],
        ),
        Topic::Policies => configured(property.policies()),
        Topic::Address => configured(
            [property.address.as_str(), property.map_url.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Topic::Contact => configured(property.contact_text()),
        Topic::Amenity(a) => amenity_answer(a, pages),
        Topic::Rules => {
            let lines: Vec<String> = pages
                .iter()
                .filter(|p| !p.content.house_rules.trim().is_empty())
                .map(|p| {
                    render(
                        "house_rules_line",
                        &[
                            ("name", p.accommodation.spec.name.clone()),
                            ("rules", p.content.house_rules.clone()),
                        ],
                    )
                })
                .collect();
            if lines.is_empty() {
                configured(String::new())
            } else {
                render("house_rules", &[("list", lines.join("\n"))])
            }
        }
        Topic::General => {
            let lines: Vec<String> = pages
                .iter()
                .map(|p| {
                    let link = rules
                        .links
                        .iter()
                        .find(|l| l.id == p.accommodation.id.get())
                        .map(|l| format!(" {}", l.page))
                        .unwrap_or_default();
                    render(
                        "service_line",
                        &[
                            ("name", p.accommodation.spec.name.clone()),
                            ("capacity", p.accommodation.spec.capacity.to_string()),
                            (
                                "description",
                                format!("{}{link}", p.accommodation.spec.description),
                            ),
                        ],
                    )
                })
                .collect();
            render("services", &[("list", lines.join("\n"))])
        }
    };
    vec![outgoing::text(to, body)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::accommodation::Accommodation;
    use crate::domain::content::{AccommodationContent, PropertyDefaults};
    use crate::domain::ids::AccommodationId;

    fn page(id: u64, name: &str, amenities: &[Amenity], rules: &str) -> Page {
        let mut input = crate::domain::accommodation::tests::input();
        input.name = name.into();
        let mut content = AccommodationContent::empty(format!("a{id}"));
        content.amenities = amenities.to_vec();
        content.house_rules = rules.into();
        Page {
            accommodation: Accommodation {
                id: AccommodationId::new(id),
                spec: input.validate().unwrap(),
            },
            content,
        }
    }

    fn answer(topic: Topic, pages: &[Page]) -> String {
        let property = PropertyContent::seeded(&PropertyDefaults {
            name: "Cabañas del Sur".into(),
            address: "Ruta 40 km 2000".into(),
            ..Default::default()
        });
        let rules = Rules {
            property: "Cabañas del Sur".into(),
            idle: std::time::Duration::from_secs(60),
            handover: std::time::Duration::from_secs(60),
            hold_minutes: 30,
            deposit_percent: 30,
            links: vec![],
        };
        let out = help("549", topic, &property, pages, &rules);
        out[0].body["text"]["body"].as_str().unwrap().to_owned()
    }

    #[test]
    fn amenity_and_rules_questions_are_answered_from_the_pages() {
        let pages = [
            page(
                1,
                "Cabaña del Lago",
                &[Amenity::Parrilla, Amenity::Pileta, Amenity::Cochera],
                "No fumar.",
            ),
            page(
                2,
                "Departamento Centro",
                &[Amenity::AireAcondicionado, Amenity::Cochera],
                "",
            ),
        ];
        assert_eq!(
            answer(Topic::Amenity(Amenity::Cochera), &pages),
            "Sí: cochera / estacionamiento en Cabaña del Lago, Departamento Centro."
        );
        assert_eq!(
            answer(Topic::Amenity(Amenity::Parrilla), &pages),
            "Parrilla: sí en Cabaña del Lago; no en Departamento Centro."
        );
        assert_eq!(
            answer(Topic::Amenity(Amenity::PiletaClimatizada), &pages),
            "La pileta de Cabaña del Lago no es climatizada."
        );
        assert_eq!(
            answer(Topic::Amenity(Amenity::Wifi), &pages),
            "No, no tenemos wi-fi."
        );
        assert_eq!(
            answer(Topic::Rules, &pages),
            "Normas de la casa:\n• Cabaña del Lago: No fumar."
        );
        assert_eq!(answer(Topic::Address, &pages), "Ruta 40 km 2000");
    }
}
