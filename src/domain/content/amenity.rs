//! The fixed list of amenities a host can tick, with their es-AR labels. Serialized by key
//! (`"parrilla"`), so the list can grow and be translated without touching stored content.

use serde::{Deserialize, Serialize};

/// One amenity of an accommodation.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Amenity {
    Wifi,
    Parrilla,
    Pileta,
    PiletaClimatizada,
    Cochera,
    AireAcondicionado,
    Calefaccion,
    Hogar,
    MascotasPermitidas,
    RopaDeCama,
    Toallas,
    CocinaEquipada,
    Heladera,
    Lavarropas,
    Tv,
    Desayuno,
    AptoNinos,
    Cuna,
    Accesible,
    VistaAlLago,
}

impl Amenity {
    /// Every amenity, in the order guests see them.
    pub const ALL: [Amenity; 20] = [
        Amenity::Wifi,
        Amenity::Parrilla,
        Amenity::Pileta,
        Amenity::PiletaClimatizada,
        Amenity::Cochera,
        Amenity::AireAcondicionado,
        Amenity::Calefaccion,
        Amenity::Hogar,
        Amenity::MascotasPermitidas,
        Amenity::RopaDeCama,
        Amenity::Toallas,
        Amenity::CocinaEquipada,
        Amenity::Heladera,
        Amenity::Lavarropas,
        Amenity::Tv,
        Amenity::Desayuno,
        Amenity::AptoNinos,
        Amenity::Cuna,
        Amenity::Accesible,
        Amenity::VistaAlLago,
    ];

    /// The es-AR label.
    pub fn label(self) -> &'static str {
        match self {
            Amenity::Wifi => "Wi-Fi",
            Amenity::Parrilla => "Parrilla",
            Amenity::Pileta => "Pileta",
            Amenity::PiletaClimatizada => "Pileta climatizada",
            Amenity::Cochera => "Cochera / estacionamiento",
            Amenity::AireAcondicionado => "Aire acondicionado",
            Amenity::Calefaccion => "Calefacción",
            Amenity::Hogar => "Hogar a leña",
            Amenity::MascotasPermitidas => "Mascotas permitidas",
            Amenity::RopaDeCama => "Ropa de cama",
            Amenity::Toallas => "Toallas",
            Amenity::CocinaEquipada => "Cocina equipada",
            Amenity::Heladera => "Heladera",
            Amenity::Lavarropas => "Lavarropas",
            Amenity::Tv => "TV",
            Amenity::Desayuno => "Desayuno",
            Amenity::AptoNinos => "Apto niños",
            Amenity::Cuna => "Cuna",
            Amenity::Accesible => "Accesible (silla de ruedas)",
            Amenity::VistaAlLago => "Vista al lago",
        }
    }

    /// The key as stored and sent (`"aire_acondicionado"`).
    pub fn key(self) -> &'static str {
        match self {
            Amenity::Wifi => "wifi",
            Amenity::Parrilla => "parrilla",
            Amenity::Pileta => "pileta",
            Amenity::PiletaClimatizada => "pileta_climatizada",
            Amenity::Cochera => "cochera",
            Amenity::AireAcondicionado => "aire_acondicionado",
            Amenity::Calefaccion => "calefaccion",
            Amenity::Hogar => "hogar",
            Amenity::MascotasPermitidas => "mascotas_permitidas",
            Amenity::RopaDeCama => "ropa_de_cama",
            Amenity::Toallas => "toallas",
            Amenity::CocinaEquipada => "cocina_equipada",
            Amenity::Heladera => "heladera",
            Amenity::Lavarropas => "lavarropas",
            Amenity::Tv => "tv",
            Amenity::Desayuno => "desayuno",
            Amenity::AptoNinos => "apto_ninos",
            Amenity::Cuna => "cuna",
            Amenity::Accesible => "accesible",
            Amenity::VistaAlLago => "vista_al_lago",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_serialized_names() {
        for a in Amenity::ALL {
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                format!("\"{}\"", a.key())
            );
        }
    }
}
