//! Stay dates in Argentine Spanish: `20/10`, `20-10-2027`, `15 de enero`, `del 20 al 23 de
//! octubre`, `20 al 23/10`, `mañana`, `pasado mañana`, `el sábado`, `este finde`, `el finde que
//! viene`, `la semana que viene`, `3 noches desde el viernes`. A date without a year is its next
//! occurrence from `today`, never a past one; a check-out is always after the check-in.

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};

use super::text::{has_phrase, month, number};

/// The stay the text names, as far as it names one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stay {
    pub check_in: Option<Date>,
    pub check_out: Option<Date>,
}

/// Something in the text that names a day.
#[derive(Debug, Clone, Copy)]
enum Mention {
    /// Day of month, with month and year when written.
    Day(i8, Option<i8>, Option<i16>),
    Weekday(Weekday),
    /// A day already resolved (`mañana`, `hoy`).
    Fixed(Date),
}

fn weekday(token: &str) -> Option<Weekday> {
    Some(match token {
        "lunes" => Weekday::Monday,
        "martes" => Weekday::Tuesday,
        "miercoles" => Weekday::Wednesday,
        "jueves" => Weekday::Thursday,
        "viernes" => Weekday::Friday,
        "sabado" | "sabados" => Weekday::Saturday,
        "domingo" | "domingos" => Weekday::Sunday,
        _ => return None,
    })
}

fn year(token: &str) -> Option<i16> {
    let n: i16 = token.parse().ok()?;
    match token.len() {
        2 => Some(2000 + n),
        4 if (2000..2200).contains(&n) => Some(n),
        _ => None,
    }
}

/// `20/10`, `20-10-27`, `20.10.2027`.
fn numeric_date(token: &str) -> Option<(i8, i8, Option<i16>)> {
    let parts: Vec<&str> = token.split(['/', '-', '.']).collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty() || p.len() > 4) {
        return None;
    }
    let day: i8 = parts[0].parse().ok()?;
    let month: i8 = parts[1].parse().ok()?;
    if !(1..=31).contains(&day) || !(1..=12).contains(&month) {
        return None;
    }
    let year = match parts.get(2) {
        Some(y) => Some(year(y)?),
        None => None,
    };
    Some((day, month, year))
}

fn day_number(token: &str) -> Option<i8> {
    let n = if token == "primero" {
        1
    } else {
        number(token)?
    };
    i8::try_from(n).ok().filter(|d| (1..=31).contains(d))
}

/// Words that make a preceding number a count, not a day of the month.
fn counts_something(token: Option<&String>) -> bool {
    token.is_some_and(|t| {
        matches!(
            t.as_str(),
            "noche"
                | "noches"
                | "dia"
                | "dias"
                | "persona"
                | "personas"
                | "pax"
                | "adulto"
                | "adultos"
                | "huesped"
                | "huespedes"
                | "semana"
                | "semanas"
                | "ninos"
                | "nino"
                | "chicos"
                | "menores"
        )
    })
}

/// The month (and year) written right after position `i`: `de octubre [de 2027]`, `oct`.
fn month_after(tokens: &[String], i: usize) -> Option<(i8, Option<i16>, usize)> {
    let mut j = i;
    if tokens.get(j).is_some_and(|t| t == "de") {
        j += 1;
    }
    let m = month(tokens.get(j)?)?;
    j += 1;
    let mut y = None;
    if tokens.get(j).is_some_and(|t| t == "de") && tokens.get(j + 1).and_then(|t| year(t)).is_some()
    {
        y = year(&tokens[j + 1]);
        j += 2;
    } else if let Some(found) = tokens.get(j).filter(|t| t.len() == 4).and_then(|t| year(t)) {
        y = Some(found);
        j += 1;
    }
    Some((m, y, j))
}

fn mentions(tokens: &[String], today: Date) -> Vec<Mention> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i].as_str();
        let prev = i.checked_sub(1).map(|p| tokens[p].as_str());
        if let Some((d, m, y)) = numeric_date(t) {
            found.push(Mention::Day(d, Some(m), y));
        } else if let Some(d) = day_number(t).filter(|_| !counts_something(tokens.get(i + 1))) {
            if let Some((m, y, next)) = month_after(tokens, i + 1) {
                found.push(Mention::Day(d, Some(m), y));
                i = next;
                continue;
            }
            let joined = tokens
                .get(i + 1)
                .is_some_and(|n| matches!(n.as_str(), "al" | "hasta" | "y" | "a"))
                && tokens
                    .get(i + 2)
                    .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()));
            let after_article = matches!(prev, Some("el" | "del" | "al" | "desde" | "hasta"));
            if joined || after_article {
                found.push(Mention::Day(d, None, None));
            }
        } else if t == "manana"
            && !matches!(prev, Some("la" | "por" | "de" | "esta"))
            && prev != Some("pasado")
        {
            found.push(Mention::Fixed(today + 1.day()));
        } else if t == "pasado" && tokens.get(i + 1).is_some_and(|n| n == "manana") {
            found.push(Mention::Fixed(today + 2.days()));
            i += 2;
            continue;
        } else if t == "hoy" || (t == "esta" && tokens.get(i + 1).is_some_and(|n| n == "noche")) {
            found.push(Mention::Fixed(today));
        } else if let Some(w) = weekday(t) {
            found.push(Mention::Weekday(w));
        }
        i += 1;
    }
    found
}

/// The next `w` on or after `from`.
fn on_or_after(from: Date, w: Weekday) -> Date {
    let ahead = (w.to_monday_zero_offset() - from.weekday().to_monday_zero_offset()).rem_euclid(7);
    from + i64::from(ahead).days()
}

/// The next date with this day (and month) on or after `from`; `None` for impossible dates.
fn next_day(from: Date, day: i8, m: Option<i8>, y: Option<i16>) -> Option<Date> {
    if let (Some(m), Some(y)) = (m, y) {
        return Date::new(y, m, day).ok();
    }
    let mut cursor = Date::new(from.year(), from.month(), 1).ok()?;
    for _ in 0..=48 {
        let candidate = Date::new(cursor.year(), m.unwrap_or(cursor.month()), day);
        if let Ok(c) = candidate
            && c >= from
        {
            return Some(c);
        }
        cursor += if m.is_some() { 1.year() } else { 1.month() };
    }
    None
}

fn resolve(mention: Mention, from: Date) -> Option<Date> {
    match mention {
        Mention::Day(d, m, y) => next_day(from, d, m, y),
        Mention::Weekday(w) => Some(on_or_after(from, w)),
        Mention::Fixed(date) => Some(date),
    }
}

/// `3 noches`, `una semana`: the nights asked for.
pub fn nights(tokens: &[String]) -> Option<u32> {
    tokens.windows(2).find_map(|w| {
        let n = number(&w[0])?;
        let nights = match w[1].as_str() {
            "noche" | "noches" => Some(n),
            "semana" | "semanas" => n.checked_mul(7),
            _ => None,
        }?;
        // A stay is at least one night and never longer than any stay can be booked for;
        // anything else ("0 noches", "4000000000 noches") is not a length of stay.
        (1..=crate::domain::stay::MAX_NIGHTS)
            .contains(&nights)
            .then_some(nights)
    })
}

/// The weekend the text names: `este finde`, `el finde que viene`, `el fin de semana largo`.
fn weekend(tokens: &[String], today: Date) -> Option<Stay> {
    let named = has_phrase(tokens, "finde")
        || has_phrase(tokens, "fin de semana")
        || has_phrase(tokens, "findes");
    if !named {
        return None;
    }
    let mut start = match today.weekday() {
        Weekday::Saturday => today,
        Weekday::Sunday => today + 5.days(),
        _ => on_or_after(today, Weekday::Friday),
    };
    if has_phrase(tokens, "que viene")
        || has_phrase(tokens, "proximo")
        || has_phrase(tokens, "siguiente")
    {
        start = on_or_after(start + 1.day(), Weekday::Friday);
    }
    let long = has_phrase(tokens, "largo");
    let end = on_or_after(
        start + 1.day(),
        if long {
            Weekday::Monday
        } else {
            Weekday::Sunday
        },
    );
    Some(Stay {
        check_in: Some(start),
        check_out: Some(end),
    })
}

/// The stay named in `tokens`, relative to `today` (the property's date).
pub fn stay(tokens: &[String], today: Date) -> Stay {
    let found = mentions(tokens, today);
    let mut stay = Stay::default();
    if found.is_empty() {
        if let Some(w) = weekend(tokens, today) {
            stay = w;
        } else if has_phrase(tokens, "semana que viene") || has_phrase(tokens, "proxima semana") {
            stay.check_in = Some(on_or_after(today + 1.day(), Weekday::Monday));
        }
    } else {
        let mut first = found[0];
        // `del 20 al 23 de octubre`: the first day borrows the second's month and year.
        if let (Mention::Day(d, None, None), Some(Mention::Day(d2, Some(m), y))) =
            (first, found.get(1).copied())
        {
            let m = if d > d2 { (m + 10) % 12 + 1 } else { m };
            first = Mention::Day(d, Some(m), y.filter(|_| d <= d2));
        }
        stay.check_in = resolve(first, today);
        if let (Some(check_in), Some(second)) = (stay.check_in, found.get(1)) {
            stay.check_out = resolve(*second, check_in + 1.day());
        }
    }
    if stay.check_out.is_none()
        && let (Some(check_in), Some(n)) = (stay.check_in, nights(tokens))
    {
        stay.check_out = check_in.checked_add(i64::from(n).days()).ok();
    }
    if let (Some(a), Some(b)) = (stay.check_in, stay.check_out)
        && b <= a
    {
        stay.check_out = None;
    }
    stay
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::nlu::text::tokens;

    #[test]
    fn nights_are_lengths_a_stay_can_have() {
        assert_eq!(nights(&tokens("3 noches")), Some(3));
        assert_eq!(nights(&tokens("dos semanas")), Some(14));
        for absurd in [
            "0 noches",
            "4000000000 noches",
            "700000000 semanas",
            "366 noches",
            "60 semanas",
        ] {
            assert_eq!(nights(&tokens(absurd)), None, "{absurd}");
        }
    }
}
