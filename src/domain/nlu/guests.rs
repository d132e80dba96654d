//! How many guests: `4 personas`, `somos dos`, `2 adultos y 1 niño` (3), `para 4`, `pareja` (2),
//! `familia de cinco`, `para nosotros tres`.

use super::text::{has_phrase, number};

fn is_adult(word: &str) -> bool {
    matches!(
        word,
        "persona" | "personas" | "pax" | "adulto" | "adultos" | "huesped" | "huespedes" | "mayores"
    )
}

fn is_child(word: &str) -> bool {
    matches!(
        word,
        "nino"
            | "ninos"
            | "nina"
            | "ninas"
            | "nene"
            | "nenes"
            | "nena"
            | "nenas"
            | "chico"
            | "chicos"
            | "menor"
            | "menores"
            | "hijo"
            | "hijos"
            | "hija"
            | "hijas"
            | "bebe"
            | "bebes"
    )
}

/// Words after `para N` that make `N` something other than people.
fn not_people(word: Option<&String>) -> bool {
    word.is_some_and(|w| {
        matches!(
            w.as_str(),
            "noche"
                | "noches"
                | "dia"
                | "dias"
                | "semana"
                | "semanas"
                | "de"
                | "del"
                | "al"
                | "pareja"
                | "familia"
                | "grupo"
        ) || w.contains('/')
            || super::text::month(w).is_some()
    })
}

/// The number of guests the text names, if any.
pub fn guests(tokens: &[String]) -> Option<u32> {
    let mut adults = None;
    let mut children = 0;
    for (i, w) in tokens.windows(2).enumerate() {
        let Some(n) = number(&w[0]) else { continue };
        let addressed = i > 0 && matches!(tokens[i - 1].as_str(), "con" | "quiero" | "a" | "sos");
        if addressed && matches!(w[0].as_str(), "un" | "una") {
            continue;
        }
        if is_adult(&w[1]) {
            adults = Some(adults.unwrap_or(0) + n);
        } else if is_child(&w[1]) {
            children += n;
        } else if i > 0 && tokens[i - 1] == "somos" && !not_people(Some(&w[1])) {
            adults = adults.or(Some(n));
        }
    }
    if let Some(last) = tokens.last()
        && let Some(n) = number(last)
        && tokens.len() >= 2
        && matches!(tokens[tokens.len() - 2].as_str(), "somos" | "para")
    {
        adults = adults.or(Some(n));
    }
    if adults.is_none() {
        for (i, w) in tokens.windows(2).enumerate() {
            if matches!(w[0].as_str(), "para" | "x" | "somos")
                && let Some(n) = number(&w[1])
                && !not_people(tokens.get(i + 2))
                && tokens.get(i + 2).is_none_or(|t| !is_child(t))
            {
                adults = Some(n);
                break;
            }
        }
    }
    if adults.is_none() {
        // "somos una familia de cinco", "un grupo de 6", "para nosotros tres"
        adults = tokens.windows(3).find_map(|w| {
            (matches!(w[0].as_str(), "familia" | "grupo") && w[1] == "de")
                .then(|| number(&w[2]))
                .flatten()
        });
        adults = adults.or_else(|| {
            tokens.windows(2).find_map(|w| {
                matches!(w[0].as_str(), "nosotros" | "nosotras")
                    .then(|| number(&w[1]))
                    .flatten()
            })
        });
    }
    if adults.is_none() {
        let couple = [
            "pareja",
            "matrimonio",
            "mi novia y yo",
            "mi novio y yo",
            "mi esposa y yo",
            "mi esposo y yo",
            "mi mujer y yo",
            "mi marido y yo",
            "con mi novia",
            "con mi novio",
            "con mi esposa",
            "con mi esposo",
            "con mi mujer",
            "con mi marido",
        ];
        if couple.iter().any(|p| has_phrase(tokens, p)) {
            adults = Some(2);
        } else if [
            "solo yo",
            "voy solo",
            "voy sola",
            "viajo solo",
            "viajo sola",
            "para mi solo",
            "para mi sola",
        ]
        .iter()
        .any(|p| has_phrase(tokens, p))
        {
            adults = Some(1);
        }
    }
    if adults.is_none() && children > 0 {
        return None;
    }
    let total = adults? + children;
    (1..=50).contains(&total).then_some(total)
}
