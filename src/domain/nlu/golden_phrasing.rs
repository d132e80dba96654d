//! More of the golden set: the kinds of real guest phrasing the first set missed — guest
//! counts after "para" or "familia de", asking for a person in other words, asking about
//! one's own booking without the word "reserva", greetings with typos and stretched letters,
//! and questions about amenities. Written for Wednesday 2026-11-25 like `golden.rs`.

use super::golden::{Phrase, wrong_answers};

/// (message, intent, check-in, check-out, guests, accommodation id); `""` and `0` = none.
const PHRASING: &[Phrase] = &[
    // guest counts after "para", "familia de", "nosotros"
    ("hay lugar para 3?", "disponibilidad", "", "", 3, 0),
    ("somos una familia de cinco", "desconocido", "", "", 5, 0),
    (
        "¿tienen para nosotros tres?",
        "disponibilidad",
        "",
        "",
        3,
        0,
    ),
    ("vamos en grupo de seis", "desconocido", "", "", 6, 0),
    (
        "una familia de 4, hay algo libre del 10 al 12 de enero?",
        "disponibilidad",
        "2027-01-10",
        "2027-01-12",
        4,
        0,
    ),
    (
        "tenés para nosotros dos del 3 al 5 de febrero?",
        "disponibilidad",
        "2027-02-03",
        "2027-02-05",
        2,
        0,
    ),
    // a person, in other words
    ("¿hay alguien para hablar?", "humano", "", "", 0, 0),
    ("pasame con el encargado porfa", "humano", "", "", 0, 0),
    ("¿me llamás?", "humano", "", "", 0, 0),
    (
        "prefiero que me llamen por teléfono",
        "humano",
        "",
        "",
        0,
        0,
    ),
    ("me podés llamar al celu?", "humano", "", "", 0, 0),
    ("quiero hablar con alguien de ahí", "humano", "", "", 0, 0),
    // one's own booking, without "reserva" first
    ("¿figura lo mío?", "mis_reservas", "", "", 0, 0),
    (
        "¿para qué fecha quedó lo que reservé?",
        "mis_reservas",
        "",
        "",
        0,
        0,
    ),
    ("quedó confirmado lo nuestro?", "mis_reservas", "", "", 0, 0),
    ("ya pagué la seña, ¿figura?", "mis_reservas", "", "", 0, 0),
    (
        "¿está todo bien con lo que reservamos?",
        "mis_reservas",
        "",
        "",
        0,
        0,
    ),
    (
        "tenemos algo reservado a nombre de Juan?",
        "mis_reservas",
        "",
        "",
        0,
        0,
    ),
    // greetings with typos and stretched letters
    ("holaaaa", "saludo", "", "", 0, 0),
    ("wenas", "saludo", "", "", 0, 0),
    ("buen diaa", "saludo", "", "", 0, 0),
    ("buenass tardess", "saludo", "", "", 0, 0),
    ("Holiii!!", "saludo", "", "", 0, 0),
    ("olaa q tal", "saludo", "", "", 0, 0),
    ("bnas noches", "saludo", "", "", 0, 0),
    // amenities and rules
    ("¿hay estacionamiento?", "servicios", "", "", 0, 0),
    ("¿se puede hacer asado?", "servicios", "", "", 0, 0),
    ("¿tiene aire?", "servicios", "", "", 0, 0),
    ("¿la pileta es climatizada?", "servicios", "", "", 0, 0),
    ("puedo llevar a mi perro?", "servicios", "", "", 0, 0),
    ("hay cuna para el bebé?", "servicios", "", "", 0, 0),
    ("tiene tele con cable?", "servicios", "", "", 0, 0),
];

#[test]
fn new_guest_phrasing_is_understood() {
    let wrong = wrong_answers(PHRASING);
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
