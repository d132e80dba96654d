//! The availability calendar of an accommodation page: months of weeks (Monday first) whose
//! free days are links that pick the check-in and then the check-out, so the calendar works
//! as a date picker without JavaScript.

use jiff::ToSpan;
use jiff::civil::Date;

use super::format;
use crate::domain::availability::DayAvailability;

/// One day cell.
pub struct Day {
    pub number: i8,
    /// `vie 3 ene: libre`
    pub label: String,
    /// `free`, `taken`, `past`, plus ` sel` inside the chosen stay.
    pub class: String,
    pub href: Option<String>,
}

/// A month as weeks of seven cells (`None` outside the month).
pub struct Month {
    pub title: String,
    pub weeks: Vec<Vec<Option<Day>>>,
}

/// The first day of `d`'s month.
pub fn month_start(d: Date) -> Date {
    d.first_of_month()
}

/// What the calendar links keep and what they pick.
pub struct Picking<'a> {
    /// `/alojamientos/{slug}`
    pub path: &'a str,
    pub check_in: Option<Date>,
    pub check_out: Option<Date>,
    pub guests: u32,
    /// The first month shown (`mes=` of the links).
    pub first: Date,
}

impl Picking<'_> {
    /// The page with these values, at the calculator.
    pub fn href(&self, check_in: Option<Date>, check_out: Option<Date>, first: Date) -> String {
        let mut q = format!("mes={}-{:02}", first.year(), first.month());
        if let Some(d) = check_in {
            q.push_str(&format!("&entrada={d}"));
        }
        if let Some(d) = check_out {
            q.push_str(&format!("&salida={d}"));
        }
        q.push_str(&format!("&huespedes={}", self.guests));
        format!("{}?{q}#reservar", self.path)
    }
}

/// The months starting at `pick.first` covering `days` (one entry per night, in order),
/// with `today` the property's date.
pub fn months(days: &[DayAvailability], today: Date, pick: &Picking<'_>) -> Vec<Month> {
    let free = |d: Date| days.iter().any(|x| x.date == d && x.available) && d >= today;
    // With a check-in picked and no check-out, the days after it up to the first taken night
    // (included: the guest leaves that morning) pick the check-out.
    let checkout_until = match (pick.check_in, pick.check_out) {
        (Some(ci), None) if free(ci) => {
            let mut d = ci + 1.day();
            while free(d) {
                d += 1.day();
            }
            Some((ci, d))
        }
        _ => None,
    };
    let mut out = Vec::new();
    let mut start = pick.first;
    let last = days.last().map_or(pick.first, |d| d.date);
    while start <= last {
        let offset = i64::from(start.weekday().to_monday_zero_offset());
        let mut cells: Vec<Option<Day>> = (0..offset).map(|_| None).collect();
        let mut d = start;
        while d.month() == start.month() {
            cells.push(Some(day(d, today, free(d), checkout_until, pick)));
            d += 1.day();
        }
        while !cells.len().is_multiple_of(7) {
            cells.push(None);
        }
        out.push(Month {
            title: format::month(start),
            weeks: cells
                .chunks_mut(7)
                .map(|w| w.iter_mut().map(Option::take).collect())
                .collect(),
        });
        start = d;
    }
    out
}

fn day(
    d: Date,
    today: Date,
    free: bool,
    checkout_until: Option<(Date, Date)>,
    pick: &Picking<'_>,
) -> Day {
    let (state, word) = if d < today {
        ("past", "no disponible")
    } else if free {
        ("free", "libre")
    } else {
        ("taken", "ocupado")
    };
    let chosen = match (pick.check_in, pick.check_out) {
        (Some(a), Some(b)) => a <= d && d < b,
        (Some(a), None) => a == d,
        _ => false,
    };
    let href = match checkout_until {
        Some((ci, until)) if d > ci && d <= until => Some(pick.href(Some(ci), Some(d), pick.first)),
        _ if free => Some(pick.href(Some(d), None, pick.first)),
        _ => None,
    };
    let action = match checkout_until {
        Some((ci, until)) if d > ci && d <= until => ", elegir como salida",
        _ if free => ", elegir como llegada",
        _ => "",
    };
    Day {
        number: d.day(),
        label: format!("{}: {word}{action}", format::day(d)),
        class: if chosen {
            format!("{state} sel")
        } else {
            state.to_owned()
        },
        href,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn nights(from: Date, n: i64, taken: &[Date]) -> Vec<DayAvailability> {
        (0..n)
            .map(|i| {
                let date = from + i.days();
                DayAvailability {
                    date,
                    available: !taken.contains(&date),
                }
            })
            .collect()
    }

    #[test]
    fn weeks_start_on_monday_and_free_days_pick_dates() {
        let first = date(2027, 1, 1);
        let days = nights(first, 59, &[date(2027, 1, 10)]);
        let pick = Picking {
            path: "/alojamientos/lago",
            check_in: Some(date(2027, 1, 7)),
            check_out: None,
            guests: 2,
            first,
        };
        let months = months(&days, date(2027, 1, 2), &pick);
        assert_eq!(months.len(), 2);
        assert_eq!(months[0].title, "enero de 2027");
        // 2027-01-01 is a Friday: four empty cells first.
        assert!(months[0].weeks[0][..4].iter().all(Option::is_none));
        let jan = |n: usize| {
            months[0]
                .weeks
                .iter()
                .flatten()
                .flatten()
                .nth(n - 1)
                .unwrap()
        };
        assert_eq!(jan(1).class, "past");
        assert!(jan(1).href.is_none());
        assert!(jan(7).class.ends_with("sel"));
        // The 10th is taken, but the guest may leave that morning.
        assert!(
            jan(10)
                .href
                .as_deref()
                .unwrap()
                .contains("salida=2027-01-10")
        );
        assert!(
            jan(11)
                .href
                .as_deref()
                .unwrap()
                .contains("entrada=2027-01-11")
        );
        assert!(!jan(11).href.as_deref().unwrap().contains("salida"));
    }
}
