//! The password policy for admin accounts: at least 12 characters, and not a common password
//! (Openwall's public-domain list of 3,546 passwords and a Spanish (Argentina) list, embedded
//! at build time), also once digits and symbols around a common word are taken away, nor a
//! run of one or two characters, a keyboard or digit sequence, or the account's own name.

use std::collections::HashSet;
use std::sync::LazyLock;

/// Fewest characters (not bytes) in a password.
pub const MIN_CHARS: usize = 12;

/// Openwall's list (`#!comment` lines are its header) and ours (`#` lines are comments).
const LISTS: [&str; 2] = [
    include_str!("../../assets/passwords/common.txt"),
    include_str!("../../assets/passwords/es-AR.txt"),
];

/// Runs that a person types without thinking: digits, keyboard rows, the alphabet.
const SEQUENCES: [&str; 4] = [
    "01234567890123456789",
    "qwertyuiopasdfghjklzxcvbnm",
    "abcdefghijklmnopqrstuvwxyz",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
];

static COMMON: LazyLock<HashSet<String>> = LazyLock::new(|| {
    LISTS
        .iter()
        .flat_map(|list| list.lines())
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_lowercase)
        .collect()
});

/// Why a password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("the password must have at least {MIN_CHARS} characters")]
    TooShort,
    #[error("the password is too common or too easy to guess; choose a longer phrase")]
    Common,
}

/// Whether `password` is acceptable for the account `email`.
pub fn check(password: &str, email: &str) -> Result<(), WeakPassword> {
    if password.chars().count() < MIN_CHARS {
        return Err(WeakPassword::TooShort);
    }
    let lower = password.to_lowercase();
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    let name = email.split('@').next().unwrap_or_default().to_lowercase();
    let distinct: HashSet<char> = lower.chars().collect();
    let guessable = COMMON.contains(&lower)
        || COMMON.contains(core)
        || distinct.len() <= 2
        || is_sequence(&lower)
        || (name.chars().count() >= 4
            && (core == name || lower.contains(&name) && core.len() <= name.len() + 2));
    if guessable {
        Err(WeakPassword::Common)
    } else {
        Ok(())
    }
}

/// Whether `text` is a run of a sequence, forwards or backwards, or such a run repeated.
fn is_sequence(text: &str) -> bool {
    let unit = repeating_unit(text);
    SEQUENCES.iter().any(|seq| {
        let backwards: String = seq.chars().rev().collect();
        [seq.to_string(), backwards]
            .iter()
            .any(|s| s.contains(text) || s.contains(&unit))
    })
}

/// The shortest string that `text` is a repetition of (`text` itself when none is shorter).
fn repeating_unit(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let n = (1..=chars.len())
        .find(|n| chars.len().is_multiple_of(*n) && chars.chunks(*n).all(|c| c == &chars[..*n]))
        .unwrap_or(chars.len());
    chars[..n].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMAIL: &str = "host@cabanas.example";

    #[test]
    fn short_passwords_are_refused() {
        assert_eq!(check("Tr3s-p4lab", EMAIL), Err(WeakPassword::TooShort));
        assert_eq!(check("ñandú-ñandú", EMAIL), Err(WeakPassword::TooShort));
    }

    #[test]
    fn common_passwords_are_refused_even_dressed_up() {
        for weak in [
            "password1234",
            "Password1234!",
            "!!Argentina2024",
            "contraseña123",
            "bocajuniors12",
            "qwertyuiop12",
            "123456789012",
            "210987654321",
            "aaaaaaaaaaaa",
            "abababababab",
            "asdfghjklzxc",
            "host12345678",
            "2024host2024",
        ] {
            assert_eq!(check(weak, EMAIL), Err(WeakPassword::Common), "{weak}");
        }
    }

    #[test]
    fn long_uncommon_phrases_pass() {
        for strong in [
            "caballo correcto batería grapa",
            "la-cabaña-del-lago-tiene-hogar",
            "9f3a6c1e2b7d4a8c0e5f",
            "Mate amargo con tortas fritas",
        ] {
            assert_eq!(check(strong, EMAIL), Ok(()), "{strong}");
        }
    }

    #[test]
    fn the_embedded_lists_are_read() {
        assert!(COMMON.len() > 3_000);
        assert!(COMMON.contains("123456") && COMMON.contains("contraseña"));
    }
}
