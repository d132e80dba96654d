//! The accommodation a message names, by the distinctive words of its name.

use super::text::tokens;

/// Words every name shares, which tell nothing apart.
const GENERIC: &[&str] = &[
    "cabana",
    "cabanas",
    "departamento",
    "depto",
    "dpto",
    "casa",
    "habitacion",
    "hab",
    "suite",
    "apart",
    "loft",
    "del",
    "de",
    "la",
    "el",
    "los",
    "las",
    "y",
    "en",
    "con",
];

/// The id of the accommodation whose distinctive words the message uses most (none on a tie).
pub fn named(message: &[String], accommodations: &[(u64, String)]) -> Option<u64> {
    let mut best: Option<(usize, u64)> = None;
    let mut tie = false;
    for (id, name) in accommodations {
        let hits = tokens(name)
            .iter()
            .filter(|w| !GENERIC.contains(&w.as_str()) && w.len() > 1)
            .filter(|w| message.contains(w))
            .count();
        if hits == 0 {
            continue;
        }
        match best {
            Some((b, _)) if hits < b => {}
            Some((b, _)) if hits == b => tie = true,
            _ => {
                best = Some((hits, *id));
                tie = false;
            }
        }
    }
    best.filter(|_| !tie).map(|(_, id)| id)
}
