//! Text normalisation for the NLU: lower case, no accents, punctuation as spaces, number
//! words and month names.

/// Lower-cases, strips accents (`ñ` → `n`) and turns punctuation other than `/` and `-`
/// between digits into spaces; the result is split into tokens.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let c = fold(*c);
        let between_digits = i > 0
            && chars[i - 1].is_ascii_digit()
            && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if c.is_ascii_alphanumeric() || ((c == '/' || c == '-' || c == '.') && between_digits) {
            out.push(c);
        } else {
            out.push(' ');
        }
    }
    out.split_whitespace().map(str::to_owned).collect()
}

/// One character without its accent, in lower case.
fn fold(c: char) -> char {
    match c {
        'á' | 'à' | 'ä' | 'â' | 'Á' | 'À' | 'Ä' | 'Â' => 'a',
        'é' | 'è' | 'ë' | 'ê' | 'É' | 'È' | 'Ë' | 'Ê' => 'e',
        'í' | 'ì' | 'ï' | 'î' | 'Í' | 'Ì' | 'Ï' | 'Î' => 'i',
        'ó' | 'ò' | 'ö' | 'ô' | 'Ó' | 'Ò' | 'Ö' | 'Ô' => 'o',
        'ú' | 'ù' | 'ü' | 'û' | 'Ú' | 'Ù' | 'Ü' | 'Û' => 'u',
        'ñ' | 'Ñ' => 'n',
        other => other.to_ascii_lowercase(),
    }
}

/// A small number written in digits or words (`"3"`, `"tres"`, `"un"`).
pub fn number(token: &str) -> Option<u32> {
    if let Ok(n) = token.parse::<u32>() {
        return Some(n);
    }
    Some(match token {
        "un" | "una" | "uno" => 1,
        "dos" => 2,
        "tres" => 3,
        "cuatro" => 4,
        "cinco" => 5,
        "seis" => 6,
        "siete" => 7,
        "ocho" => 8,
        "nueve" => 9,
        "diez" => 10,
        "once" => 11,
        "doce" => 12,
        "catorce" => 14,
        "quince" => 15,
        _ => return None,
    })
}

/// A month name or abbreviation (`"octubre"`, `"oct"`, `"set"`), 1-12.
pub fn month(token: &str) -> Option<i8> {
    let m = match token {
        "enero" | "ene" => 1,
        "febrero" | "feb" => 2,
        "marzo" | "mar" => 3,
        "abril" | "abr" => 4,
        "mayo" | "may" => 5,
        "junio" | "jun" => 6,
        "julio" | "jul" => 7,
        "agosto" | "ago" => 8,
        "septiembre" | "setiembre" | "sep" | "sept" | "set" => 9,
        "octubre" | "oct" => 10,
        "noviembre" | "nov" => 11,
        "diciembre" | "dic" => 12,
        _ => return None,
    };
    Some(m)
}

/// The tokens with runs of one letter squeezed to one (`holaaa` → `hola`, `buenass` →
/// `buenas`): how stretched greetings are read. Digits are left alone.
pub fn squeezed(tokens: &[String]) -> Vec<String> {
    tokens
        .iter()
        .map(|t| {
            let mut out = String::with_capacity(t.len());
            for c in t.chars() {
                if !(c.is_ascii_alphabetic() && out.ends_with(c)) {
                    out.push(c);
                }
            }
            out
        })
        .collect()
}

/// Whether `phrase` (space-separated normalised words) occurs in `tokens` as whole words.
pub fn has_phrase(tokens: &[String], phrase: &str) -> bool {
    let words: Vec<&str> = phrase.split(' ').collect();
    tokens
        .windows(words.len())
        .any(|w| w.iter().zip(&words).all(|(t, p)| t == p))
}

/// Whether any token starts with `prefix`.
pub fn has_prefix(tokens: &[String], prefix: &str) -> bool {
    tokens.iter().any(|t| t.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_case_and_punctuation() {
        assert_eq!(
            tokens("¿Hay LUGAR mañana, del 20/10 al 23-10? ¡Sí!"),
            [
                "hay", "lugar", "manana", "del", "20/10", "al", "23-10", "si"
            ]
        );
        assert_eq!(number("tres"), Some(3));
        assert_eq!(month("setiembre"), Some(9));
        assert!(has_phrase(
            &tokens("quiero hablar con una persona"),
            "una persona"
        ));
    }
}
