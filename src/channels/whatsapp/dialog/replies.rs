//! The dialog's answers once the lookups a [`Turn`](super::Turn) asked for are done: the
//! offer of free accommodations and the quote, nearby dates when nothing is free, the hold
//! taken or refused, the cancel question and its answer, and "mis reservas".
//! Pure, like the state machine: the lookups' results come in as values.

use jiff::ToSpan;
use jiff::civil::Date;

use super::{Conversation, Rules, Step};
use crate::app::booking::Quote;
use crate::app::notices::Vars;
use crate::channels::whatsapp::outgoing;
use crate::channels::whatsapp::texts::{self, render};
use crate::domain::hold_limits::HoldRefusal;
use crate::domain::messages::NewOutbound;

/// Alternatives offered at most when nothing is free.
const MAX_ALTERNATIVES: usize = 3;

fn dates_text(c: &Conversation) -> String {
    match (c.check_in, c.check_out) {
        (Some(a), Some(b)) => texts::stay(a, b),
        _ => String::new(),
    }
}

/// What [`offer`] made of the free accommodations.
#[derive(Debug, PartialEq)]
pub enum Offered {
    /// The answers: a choice of accommodations, or the quote waiting for "sí".
    Replies(Vec<NewOutbound>),
    /// Nothing is free: these, then the [`alternatives`].
    NothingFree(Vec<NewOutbound>),
}

/// Offers the free accommodations (`offers`, priced) for the conversation's stay: the one
/// the guest chose if it is free, the only one, or a choice; then the night-by-night quote.
pub fn offer(conv: &mut Conversation, to: &str, offers: &[Quote], rules: &Rules) -> Offered {
    let guests = conv.guests.unwrap_or_default();
    let vars = [("dates", dates_text(conv)), ("guests", guests.to_string())];
    let chosen = conv
        .accommodation_id
        .and_then(|id| offers.iter().find(|o| o.accommodation.id.get() == id));
    let mut replies = Vec::new();
    if chosen.is_none() && (offers.is_empty() || conv.accommodation_id.is_some()) {
        replies.push(outgoing::text(to, render("no_availability", &vars)));
        conv.accommodation_id = None;
        if offers.is_empty() {
            return Offered::NothingFree(replies);
        }
    }
    let offer = match chosen {
        Some(o) => o,
        None if offers.len() == 1 => &offers[0],
        None => {
            let rows: Vec<(String, String, String)> = offers
                .iter()
                .map(|o| {
                    (
                        format!("acc:{}", o.accommodation.id),
                        o.accommodation.spec.name.clone(),
                        format!("Total {}", texts::money(o.price.total)),
                    )
                })
                .collect();
            replies.push(outgoing::choice(
                to,
                render("choose_accommodation", &vars),
                render("list_button", &[]),
                &rows,
            ));
            return Offered::Replies(replies);
        }
    };
    conv.accommodation_id = Some(offer.accommodation.id.get());
    conv.step = Step::ConfirmHold;
    let nights: Vec<String> = offer
        .price
        .nights
        .iter()
        .map(|n| {
            render(
                "quote_night",
                &[
                    ("date", texts::date(n.date)),
                    ("price", texts::money(n.price)),
                ],
            )
        })
        .collect();
    let body = render(
        "quote",
        &[
            ("accommodation", offer.accommodation.spec.name.clone()),
            ("dates", dates_text(conv)),
            ("guests", guests.to_string()),
            ("nights", nights.join("\n")),
            ("total", texts::money(offer.price.total)),
            ("deposit", texts::money(offer.price.deposit)),
            ("deposit_percent", rules.deposit_percent.to_string()),
            ("hold_minutes", rules.hold_minutes.to_string()),
        ],
    );
    let choices = [
        ("hold:yes".to_owned(), render("button_yes", &[])),
        ("hold:no".to_owned(), render("button_no", &[])),
    ];
    if let Some(link) = rules
        .links
        .iter()
        .find(|l| l.id == offer.accommodation.id.get())
    {
        let caption = render(
            "offer_link",
            &[
                ("accommodation", offer.accommodation.spec.name.clone()),
                ("link", link.page.clone()),
            ],
        );
        replies.push(match &link.photo {
            Some(photo) => outgoing::image(to, photo, caption),
            None => outgoing::text(to, caption),
        });
    }
    replies.push(outgoing::buttons(to, body, &choices));
    Offered::Replies(replies)
}

/// Nearby stays of the same length to look at when nothing is free, nearest first, none
/// starting before `today`.
pub fn alternative_stays(check_in: Date, check_out: Date, today: Date) -> Vec<(Date, Date)> {
    [1i64, -1, 2, -2, 3, -3, 7, -7, 14]
        .into_iter()
        .map(|shift| (check_in + shift.days(), check_out + shift.days()))
        .filter(|(a, _)| *a >= today)
        .collect()
}

/// The free alternatives found (the first free accommodation of each stay, up to three).
pub fn alternatives(to: &str, found: &[Quote], rules: &Rules) -> NewOutbound {
    let options: Vec<String> = found
        .iter()
        .take(MAX_ALTERNATIVES)
        .map(|o| {
            format!(
                "• {} {}: {}",
                o.accommodation.spec.name,
                texts::stay(o.range.check_in(), o.range.check_out()),
                texts::money(o.price.total)
            )
        })
        .collect();
    if options.is_empty() {
        outgoing::text(
            to,
            render("no_alternatives", &[("property", rules.property.clone())]),
        )
    } else {
        outgoing::text(
            to,
            render("alternatives", &[("options", options.join("\n"))]),
        )
    }
}

/// How taking the hold went.
#[derive(Debug)]
pub enum HoldOutcome {
    /// Held (now, or by the first time this message was handled); `vars` describe it.
    Taken {
        code: String,
        linked: bool,
        vars: Vars,
    },
    /// The dates went to someone else meanwhile.
    DatesTaken,
    /// The stay breaks a rule (the reason is shown).
    Refused(String),
    /// A hold limit refused it (too many unpaid holds, too long, too much of the calendar).
    Limited(HoldRefusal),
    /// No contact could be made of the chat (an unusable number).
    NoContact,
    /// A retry whose reservation is gone: nothing to say.
    Gone,
}

/// The answer to "sí" on a quote.
pub fn held(
    conv: &mut Conversation,
    to: &str,
    outcome: HoldOutcome,
    rules: &Rules,
) -> Vec<NewOutbound> {
    let (key, vars) = match outcome {
        HoldOutcome::Gone => return vec![],
        HoldOutcome::NoContact => return vec![rules.unknown(to)],
        HoldOutcome::DatesTaken => {
            conv.step = Step::Idle;
            conv.accommodation_id = None;
            ("dates_taken", vec![])
        }
        HoldOutcome::Refused(reason) => {
            conv.step = Step::Idle;
            ("stay_refused", vec![("reason", reason)])
        }
        HoldOutcome::Limited(refused) => {
            conv.step = Step::Idle;
            limited(refused, rules)
        }
        HoldOutcome::Taken { code, linked, vars } => {
            conv.step = Step::Idle;
            conv.reservations.push(code.clone());
            conv.watched.push(code);
            conv.check_in = None;
            conv.check_out = None;
            let key = if linked {
                "hold_taken"
            } else {
                "hold_taken_no_link"
            };
            (key, vars)
        }
    };
    vec![outgoing::text(to, render(key, &vars))]
}

/// The text and placeholders that explain a hold limit to the guest.
fn limited(refused: HoldRefusal, rules: &Rules) -> (&'static str, Vars) {
    let property = ("property", rules.property.clone());
    match refused {
        HoldRefusal::PerPhone { limit, .. } | HoldRefusal::PerAddress { limit, .. } => (
            "hold_limit_holds",
            vec![("limit", limit.to_string()), property],
        ),
        HoldRefusal::TooLong { max } => (
            "hold_limit_nights",
            vec![("max", max.to_string()), property],
        ),
        HoldRefusal::AccommodationShare { .. } => ("hold_limit_calendar", vec![property]),
    }
}

/// The placeholders of the cancel texts.
pub(super) fn cancel_vars(to: &str, code: &str, rules: &Rules) -> Vars {
    vec![
        ("code", code.to_owned()),
        ("property", rules.property.clone()),
        ("phone", to.to_owned()),
    ]
}

/// The question "cancel this one?" about the guest's latest live reservation (its code and
/// placeholders), or that there is nothing to cancel.
pub fn ask_cancel(
    conv: &mut Conversation,
    to: &str,
    latest: Option<(String, Vars)>,
) -> Vec<NewOutbound> {
    let Some((code, vars)) = latest else {
        return vec![outgoing::text(to, render("cancel_nothing", &[]))];
    };
    conv.step = Step::ConfirmCancel { code };
    let choices = [
        ("cancel:yes".to_owned(), render("button_cancel", &[])),
        ("cancel:no".to_owned(), render("button_keep", &[])),
    ];
    vec![outgoing::buttons(to, render("cancel_ask", &vars), &choices)]
}

/// How a confirmed cancellation went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    Cancelled,
    /// A confirmed stay: the host was asked.
    RequiresHost,
    /// Nothing to cancel any more.
    Nothing,
}

/// The answer to "sí, cancelar".
pub fn cancel_answer(
    to: &str,
    code: &str,
    outcome: CancelOutcome,
    rules: &Rules,
) -> Vec<NewOutbound> {
    let vars = cancel_vars(to, code, rules);
    let (key, vars) = match outcome {
        CancelOutcome::Cancelled => ("cancelled", vars),
        CancelOutcome::RequiresHost => ("cancel_requires_host", vars),
        CancelOutcome::Nothing => ("cancel_nothing", vec![]),
    };
    vec![outgoing::text(to, render(key, &vars))]
}

/// "mis reservas": one line per reservation (their placeholders), oldest first.
pub fn my_reservations(to: &str, reservations: &[Vars]) -> Vec<NewOutbound> {
    let list: Vec<String> = reservations
        .iter()
        .map(|vars| render("my_reservation", vars))
        .collect();
    vec![outgoing::text(
        to,
        if list.is_empty() {
            render("no_reservations", &[])
        } else {
            render("my_reservations", &[("list", list.join("\n"))])
        },
    )]
}
