//! What the guest wants, from keywords, in a fixed order of precedence.

use serde::Serialize;

use super::text::{has_phrase, has_prefix, squeezed};

/// The intents the bot tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Saludo,
    Disponibilidad,
    Precio,
    Reservar,
    Servicios,
    Cancelar,
    MisReservas,
    Pago,
    Humano,
    Desconocido,
}

impl Intent {
    /// The metric label and API value.
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Saludo => "saludo",
            Intent::Disponibilidad => "disponibilidad",
            Intent::Precio => "precio",
            Intent::Reservar => "reservar",
            Intent::Servicios => "servicios",
            Intent::Cancelar => "cancelar",
            Intent::MisReservas => "mis_reservas",
            Intent::Pago => "pago",
            Intent::Humano => "humano",
            Intent::Desconocido => "desconocido",
        }
    }
}

pub(super) fn any_phrase(tokens: &[String], phrases: &[&str]) -> bool {
    phrases.iter().any(|p| has_phrase(tokens, p))
}

pub(super) fn any_prefix(tokens: &[String], prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| has_prefix(tokens, p))
}

/// The intent of a message; `has_dates` says whether it names dates (which alone means
/// asking for availability).
pub fn intent(tokens: &[String], has_dates: bool) -> Intent {
    if any_phrase(
        tokens,
        &[
            "humano",
            "una persona",
            "alguien real",
            "hablar con alguien",
            "hablar con el dueno",
            "hablar con la duena",
            "operador",
            "operadora",
            "encargado",
            "encargada",
            "atencion al cliente",
            "persona real",
            "con el dueno",
            "con la duena",
            "con alguien",
            "alguien para hablar",
            "alguien con quien hablar",
            "quiero hablar",
            "puedo hablar",
            "podemos hablar",
            "hablar por telefono",
            "pasame con",
            "pasenme con",
            "comunicame con",
            "me llamas",
            "me llaman",
            "me pueden llamar",
            "me podes llamar",
            "llamame",
            "llamenme",
            "me llamen",
            "atiende alguien",
            "hay alguien",
        ],
    ) {
        return Intent::Humano;
    }
    if any_prefix(tokens, &["cancel", "anul"])
        || any_phrase(tokens, &["dar de baja", "dar la baja"])
    {
        return Intent::Cancelar;
    }
    if any_phrase(
        tokens,
        &[
            "mis reservas",
            "mi reserva",
            "mis reservaciones",
            "mi reservacion",
            "tengo una reserva",
            "tengo reserva",
            "estado de la reserva",
            "codigo de reserva",
            "reservas que tengo",
            "ya reserve",
            "lo mio",
            "lo nuestro",
            "lo que reserve",
            "lo que reservamos",
            "lo que reservaste",
            "que reserve",
            "quedo lo",
            "quedo confirmado",
            "quedo confirmada",
            "esta confirmado lo",
            "figura mi",
            "figuro",
            "mi estadia",
            "nuestra estadia",
            "tengo algo reservado",
            "tenemos algo reservado",
        ],
    ) || (has_phrase(tokens, "figura") && !has_prefix(tokens, "reserv"))
    {
        return Intent::MisReservas;
    }
    if any_prefix(tokens, &["pag", "abon", "transfer", "sena", "deposit"])
        || any_phrase(
            tokens,
            &[
                "mercado pago",
                "mercadopago",
                "link de pago",
                "tarjeta",
                "cbu",
                "alias",
            ],
        )
    {
        return Intent::Pago;
    }
    if any_prefix(tokens, &["reserv"])
        || any_phrase(
            tokens,
            &[
                "lo tomo",
                "la tomo",
                "me la quedo",
                "me lo quedo",
                "quiero tomarla",
                "quiero alquilar",
                "quiero alquilarla",
                "alquilar",
                "agendame",
                "anotame",
            ],
        )
    {
        return Intent::Reservar;
    }
    if any_prefix(
        tokens,
        &["precio", "tarifa", "cotiz", "presupuest", "costo"],
    ) || any_phrase(
        tokens,
        &[
            "cuanto sale",
            "cuanto cuesta",
            "cuanto esta",
            "cuanto seria",
            "cuanto es",
            "cuanto saldria",
            "cuanto me sale",
            "que valor",
            "el valor",
            "valores",
            "cuanto cobran",
            "cuanto cobras",
            "sale la noche",
        ],
    ) {
        return Intent::Precio;
    }
    if any_prefix(tokens, &["disponib", "libre", "vacan"])
        || any_phrase(
            tokens,
            &[
                "hay lugar",
                "tienen lugar",
                "tenes lugar",
                "tendran lugar",
                "tendrias lugar",
                "hay algo",
                "queda algo",
                "quedan",
                "hay cabana",
                "hay cabanas",
                "tienen algo",
                "tenes algo",
                "tendran algo",
                "hay lugares",
                "se puede ir",
                "lugar para",
                "tienen para",
                "tenes para",
                "hay para",
            ],
        )
    {
        return Intent::Disponibilidad;
    }
    if any_prefix(
        tokens,
        &[
            "wifi",
            "servicio",
            "pileta",
            "piscina",
            "desayun",
            "mascot",
            "estacionamiento",
            "cochera",
            "parrilla",
            "toalla",
            "sabana",
            "calefacc",
            "aire",
            "politic",
            "direcc",
            "ubicac",
            "horario",
            "checkin",
            "checkout",
            "incluye",
            "reembols",
            "amenities",
            "telefono",
            "contacto",
            "asado",
            "climatiz",
            "internet",
            "estufa",
            "chimenea",
            "cuna",
            "accesib",
            "lavarropa",
            "television",
            "normas",
            "reglas",
        ],
    ) || any_phrase(
        tokens,
        &[
            "check in",
            "check out",
            "a que hora",
            "donde queda",
            "como llego",
            "que tiene",
            "que ofrecen",
            "se puede fumar",
            "hora de entrada",
            "hora de salida",
            "ropa de cama",
            "silla de ruedas",
            "tiene tele",
            "hay tele",
            "se puede llevar",
            "puedo llevar",
        ],
    ) {
        return Intent::Servicios;
    }
    if has_dates {
        return Intent::Disponibilidad;
    }
    if any_phrase(
        &squeezed(tokens),
        &[
            "hola",
            "ola",
            "holi",
            "wenas",
            "bnas",
            "bn dia",
            "buen dia",
            "buenos dia",
            "buenas",
            "buen dia",
            "buenos dias",
            "buenas tardes",
            "buenas noches",
            "que tal",
            "holis",
            "hello",
            "hi",
            "saludos",
            "como va",
            "como estas",
        ],
    ) {
        return Intent::Saludo;
    }
    Intent::Desconocido
}

/// Whether the message says yes (`sí`, `dale`, `ok`, `confirmo`, `de una`).
pub fn is_yes(tokens: &[String]) -> bool {
    any_phrase(
        tokens,
        &[
            "si",
            "dale",
            "ok",
            "oka",
            "okey",
            "confirmo",
            "de una",
            "perfecto",
            "listo",
            "claro",
            "joya",
            "genial",
            "bueno",
            "va",
            "vamos",
            "sip",
            "obvio",
            "reservar",
            "reservala",
            "reservalo",
            "confirmar",
        ],
    )
}

/// Whether the message says no (`no`, `mejor no`, `dejalo`).
pub fn is_no(tokens: &[String]) -> bool {
    any_phrase(
        tokens,
        &[
            "no",
            "mejor no",
            "dejalo",
            "deja",
            "nop",
            "para nada",
            "todavia no",
        ],
    )
}
