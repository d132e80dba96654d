//! Argentine formats for money and dates, and `{placeholder}` filling, shared by every
//! channel's texts.

use jiff::civil::{Date, Weekday};

use crate::domain::money::Money;

/// `template` with every `{name}` replaced by its value.
pub fn fill(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in vars {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// `$ 48.000` or `$ 14.400,50`.
pub fn money(m: Money) -> String {
    let cents = m.cents();
    let (sign, abs) = if cents < 0 {
        ("-", -cents)
    } else {
        ("", cents)
    };
    let units = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(c);
    }
    match abs % 100 {
        0 => format!("{sign}$ {grouped}"),
        c => format!("{sign}$ {grouped},{c:02}"),
    }
}

/// `vie`
pub fn weekday(d: Date) -> &'static str {
    match d.weekday() {
        Weekday::Monday => "lun",
        Weekday::Tuesday => "mar",
        Weekday::Wednesday => "mié",
        Weekday::Thursday => "jue",
        Weekday::Friday => "vie",
        Weekday::Saturday => "sáb",
        Weekday::Sunday => "dom",
    }
}

/// `vie 27/11`.
pub fn date(d: Date) -> String {
    format!("{} {}/{}", weekday(d), d.day(), d.month())
}

/// `del vie 27/11 al lun 30/11`.
pub fn stay(check_in: Date, check_out: Date) -> String {
    format!("del {} al {}", date(check_in), date(check_out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_argentine_and_placeholders_fill() {
        assert_eq!(money(Money::from_cents(4_800_000)), "$ 48.000");
        assert_eq!(money(Money::from_cents(1_440_050)), "$ 14.400,50");
        assert_eq!(money(Money::from_cents(90_000)), "$ 900");
        assert_eq!(date(jiff::civil::date(2026, 11, 27)), "vie 27/11");
        assert_eq!(
            fill(
                "{a} y {b}, {a}",
                &[("a", "uno".into()), ("b", "dos".into())]
            ),
            "uno y dos, uno"
        );
    }
}
