//! What a question about the place is about: check-in times, policies, house rules, the
//! address, the contact, one amenity ("¿hay estacionamiento?", "¿se puede hacer asado?",
//! "¿la pileta es climatizada?"), or the accommodations in general.

use super::intent::{any_phrase, any_prefix};
use crate::domain::content::Amenity;

/// Help topics the bot answers from the site's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    CheckTimes,
    Policies,
    Rules,
    Address,
    Contact,
    Amenity(Amenity),
    General,
}

/// The amenity a question names, most specific first.
fn amenity(tokens: &[String]) -> Option<Amenity> {
    let table: [(Amenity, &[&str], &[&str]); 17] = [
        (
            Amenity::PiletaClimatizada,
            &["climatiz", "temperada", "calefaccionada"],
            &["agua caliente en la pileta"],
        ),
        (Amenity::Pileta, &["pileta", "piscina"], &[]),
        (
            Amenity::Parrilla,
            &["parrilla", "asado", "asador"],
            &["hacer un asado"],
        ),
        (
            Amenity::Cochera,
            &[
                "estacionamiento",
                "cochera",
                "estacionar",
                "garage",
                "garaje",
            ],
            &["dejar el auto"],
        ),
        (Amenity::AireAcondicionado, &["aire"], &["split"]),
        (Amenity::Wifi, &["wifi", "wi", "internet"], &[]),
        (
            Amenity::Hogar,
            &["chimenea", "salamandra"],
            &["hogar a lena", "hogar de lena"],
        ),
        (Amenity::Calefaccion, &["calefacc", "estufa", "calor"], &[]),
        (
            Amenity::MascotasPermitidas,
            &["mascot", "perro", "perrito", "gato"],
            &[],
        ),
        (
            Amenity::RopaDeCama,
            &["sabana", "acolchado"],
            &["ropa de cama"],
        ),
        (Amenity::Toallas, &["toalla"], &[]),
        (
            Amenity::CocinaEquipada,
            &["cocina", "cocinar", "vajilla", "horno"],
            &[],
        ),
        (Amenity::Desayuno, &["desayun"], &[]),
        (Amenity::Cuna, &["cuna"], &[]),
        (
            Amenity::Accesible,
            &["accesib", "discapacidad"],
            &["silla de ruedas"],
        ),
        (
            Amenity::Lavarropas,
            &["lavarropa", "lavadora", "lavar la ropa"],
            &[],
        ),
        (
            Amenity::Tv,
            &["television", "tele", "tv", "cable", "netflix"],
            &[],
        ),
    ];
    table
        .iter()
        .find(|(_, prefixes, phrases)| any_prefix(tokens, prefixes) || any_phrase(tokens, phrases))
        .map(|(a, _, _)| *a)
}

/// The help topic a `servicios` question is about.
pub fn topic(tokens: &[String]) -> Topic {
    if any_phrase(
        tokens,
        &[
            "check in",
            "check out",
            "checkin",
            "checkout",
            "horario",
            "horarios",
            "a que hora",
            "hora de entrada",
            "hora de salida",
            "ingreso",
            "egreso",
        ],
    ) {
        Topic::CheckTimes
    } else if let Some(a) = amenity(tokens) {
        Topic::Amenity(a)
    } else if any_prefix(tokens, &["politic", "reembols", "devoluc"]) {
        Topic::Policies
    } else if any_prefix(
        tokens,
        &["fumar", "norma", "regla", "fiesta", "ruido", "visita"],
    ) {
        Topic::Rules
    } else if any_phrase(
        tokens,
        &[
            "direccion",
            "donde queda",
            "donde quedan",
            "ubicacion",
            "como llego",
            "como llegar",
            "donde estan",
            "ubicados",
            "mapa",
        ],
    ) {
        Topic::Address
    } else if any_phrase(tokens, &["telefono", "contacto", "mail", "email", "correo"]) {
        Topic::Contact
    } else {
        Topic::General
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::nlu::text::tokens;

    #[test]
    fn amenity_questions_name_their_amenity() {
        for (text, want) in [
            ("¿hay estacionamiento?", Topic::Amenity(Amenity::Cochera)),
            ("¿se puede hacer asado?", Topic::Amenity(Amenity::Parrilla)),
            ("¿tiene aire?", Topic::Amenity(Amenity::AireAcondicionado)),
            (
                "¿la pileta es climatizada?",
                Topic::Amenity(Amenity::PiletaClimatizada),
            ),
            ("hay wifi?", Topic::Amenity(Amenity::Wifi)),
            (
                "aceptan mascotas?",
                Topic::Amenity(Amenity::MascotasPermitidas),
            ),
            ("se puede fumar adentro?", Topic::Rules),
            ("a qué hora es el check in?", Topic::CheckTimes),
            ("cuál es la política de cancelación?", Topic::Policies),
            ("dónde queda?", Topic::Address),
        ] {
            assert_eq!(topic(&tokens(text)), want, "{text}");
        }
    }
}
