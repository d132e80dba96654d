//! Argentine formats for the guest pages: `$ 48.000,00`, `vie 3 ene`, `enero de 2027`,
//! `15:42`.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::app::notices::format::weekday;
use crate::domain::money::Money;

const MONTHS: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

/// `$ 48.000,00` (a no-break space after the sign, so it never ends a line)
pub fn money(m: Money) -> String {
    let cents = m.cents();
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let units = (abs / 100).to_string();
    let mut grouped = String::with_capacity(units.len() + units.len() / 3);
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(c);
    }
    format!("{sign}$\u{a0}{grouped},{:02}", abs % 100)
}

/// `vie 3 ene`
pub fn day(d: Date) -> String {
    format!(
        "{} {} {}",
        weekday(d),
        d.day(),
        &MONTHS[(d.month() - 1) as usize][..3]
    )
}

/// `viernes 3 de enero de 2027`-like, short: `vie 3 ene 2027`
pub fn day_with_year(d: Date) -> String {
    format!("{} {}", day(d), d.year())
}

/// `enero de 2027`
pub fn month(d: Date) -> String {
    format!("{} de {}", MONTHS[(d.month() - 1) as usize], d.year())
}

/// `15:42` at the property.
pub fn time(t: Timestamp, tz: &TimeZone) -> String {
    let z = tz.to_datetime(t);
    format!("{:02}:{:02}", z.hour(), z.minute())
}

/// `3 noches`
pub fn nights(n: usize) -> String {
    if n == 1 {
        "1 noche".into()
    } else {
        format!("{n} noches")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn formats_are_argentine() {
        assert_eq!(money(Money::from_cents(4_800_000)), "$\u{a0}48.000,00");
        assert_eq!(money(Money::from_cents(1_440_050)), "$\u{a0}14.400,50");
        assert_eq!(money(Money::from_cents(90_000)), "$\u{a0}900,00");
        assert_eq!(money(Money::from_cents(123_456_789)), "$\u{a0}1.234.567,89");
        assert_eq!(day(date(2027, 1, 1)), "vie 1 ene");
        assert_eq!(day(date(2027, 1, 3)), "dom 3 ene");
        assert_eq!(month(date(2027, 9, 1)), "septiembre de 2027");
        assert_eq!(nights(1), "1 noche");
    }
}
