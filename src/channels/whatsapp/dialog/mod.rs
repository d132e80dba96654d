//! The WhatsApp dialog as a pure state machine: one guest message (and what the bot
//! understood of it) moves the conversation state — slots filled across messages, the quote
//! waiting for "sí", the cancel question, the host's handover, the idle timeout — and says
//! what the world around it must do next ([`Turn`]). The answers to those lookups come back
//! through the functions of `replies.rs`. No store, no clock, no network: `conversation.rs`
//! does the I/O.

mod help;
mod replies;
#[cfg(test)]
mod tests;

use std::time::Duration;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

pub use help::help;
pub use replies::{
    CancelOutcome, HoldOutcome, Offered, alternative_stays, alternatives, ask_cancel,
    cancel_answer, held, my_reservations, offer,
};

use super::outgoing;
use super::texts::{self, render};
use crate::domain::messages::NewOutbound;
use crate::domain::nlu::{Analysis, Intent, Topic};

/// The kind of the inbox entry by which the host hands a chat back to the bot (it goes through
/// the worker like a message, so it cannot race with one).
pub const RESUME_KIND: &str = "resume";
/// The inbox kind of the host taking a chat over from the bot.
pub const TAKE_OVER_KIND: &str = "take_over";

/// What the bot waits for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    #[default]
    Idle,
    /// A quote was sent: "sí" takes the hold.
    ConfirmHold,
    /// "sí" cancels this reservation.
    ConfirmCancel { code: String },
}

/// The state kept per phone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub check_in: Option<Date>,
    pub check_out: Option<Date>,
    pub guests: Option<u32>,
    pub accommodation_id: Option<u64>,
    pub step: Step,
    pub last_message_at: Option<Timestamp>,
    /// The bot stays silent until then.
    pub handover_until: Option<Timestamp>,
    /// Reservations taken in this chat, oldest first.
    pub reservations: Vec<String>,
    /// Holds still watched for a reminder or an expiry notice.
    #[serde(default)]
    pub watched: Vec<String>,
    /// Holds already reminded.
    #[serde(default)]
    pub reminded: Vec<String>,
}

impl Conversation {
    /// Whether the guest wrote within `idle`.
    pub fn is_active(&self, now: Timestamp, idle: Duration) -> bool {
        self.last_message_at.is_some_and(|t| {
            now.duration_since(t) < SignedDuration::try_from(idle).unwrap_or_default()
        })
    }

    /// Whether the 24-hour customer-service window is open.
    pub fn window_open(&self, now: Timestamp) -> bool {
        self.last_message_at
            .is_some_and(|t| now.duration_since(t) < SignedDuration::from_hours(24))
    }

    fn forget_stay(&mut self) {
        self.check_in = None;
        self.check_out = None;
        self.guests = None;
        self.accommodation_id = None;
        self.step = Step::Idle;
    }
}

/// What the dialog's texts and timers come from (the property's configuration).
#[derive(Debug, Clone)]
pub struct Rules {
    pub property: String,
    /// Silence after which a half-told stay is forgotten (`whatsapp.conversation_timeout`).
    pub idle: Duration,
    /// How long the bot stays silent after a handover (`whatsapp.handover_timeout`).
    pub handover: Duration,
    pub hold_minutes: u64,
    pub deposit_percent: u32,
    /// Each accommodation's page and first photo on the guest site (absolute URLs; empty
    /// without `server.public_base_url`).
    pub links: Vec<PageLink>,
}

/// Where an accommodation is on the guest site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageLink {
    pub id: u64,
    pub page: String,
    pub photo: Option<String>,
}

impl Rules {
    fn handover_until(&self, now: Timestamp) -> Timestamp {
        now + SignedDuration::try_from(self.handover).unwrap_or_default()
    }

    fn unknown(&self, to: &str) -> NewOutbound {
        outgoing::text(
            to,
            render("unknown", &[("property", self.property.clone())]),
        )
    }
}

/// One message from the guest's number (or a host command about the chat).
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// The guest's number, where the replies go.
    pub from: &'a str,
    /// `text`, `interactive`, `audio`, …, or a host command ([`RESUME_KIND`], [`TAKE_OVER_KIND`]).
    pub kind: &'a str,
    /// The button or list row chosen.
    pub choice: Option<&'a str>,
    /// What was written (or transcribed).
    pub text: Option<&'a str>,
    pub profile_name: Option<&'a str>,
}

/// The stay the guest said "sí" to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slots {
    pub check_in: Date,
    pub check_out: Date,
    pub guests: u32,
    pub accommodation_id: u64,
}

/// What one message asks of the world around the dialog.
#[derive(Debug, Clone, PartialEq)]
pub enum Turn {
    /// Nothing to answer (a host command, or the host has the chat).
    Silent,
    /// Send these; nothing to look up.
    Reply(Vec<NewOutbound>),
    /// Every slot is filled: find the free accommodations and [`offer`] them.
    Quote {
        check_in: Date,
        check_out: Date,
        guests: u32,
    },
    /// The guest accepted the quote: take the hold, then answer with [`held`].
    Hold(Slots),
    /// The guest confirmed cancelling this reservation: cancel, then [`cancel_answer`].
    Cancel(String),
    /// The guest wants to cancel: find their latest live reservation and [`ask_cancel`].
    AskCancel,
    /// "mis reservas": [`my_reservations`].
    MyReservations,
    /// The guest asks for the payment link of their latest hold.
    PaymentLink,
    /// A question about the place: [`help`].
    Help(Topic),
    /// The guest asked for a person: tell the host, and send these.
    HandOver(Vec<NewOutbound>),
}

fn say(to: &str, key: &str, vars: &[(&str, String)]) -> Turn {
    Turn::Reply(vec![outgoing::text(to, render(key, vars))])
}

/// Moves `conv` with one message written at `now`; `understand` reads its text (asked only
/// when the text matters).
pub fn on_message(
    conv: &mut Conversation,
    msg: Incoming<'_>,
    understand: impl FnOnce(&str) -> Analysis,
    now: Timestamp,
    rules: &Rules,
) -> Turn {
    if msg.kind == RESUME_KIND {
        conv.handover_until = None;
        return Turn::Silent;
    }
    if msg.kind == TAKE_OVER_KIND {
        conv.handover_until = Some(rules.handover_until(now));
        return Turn::Silent;
    }
    let idle = !conv.is_active(now, rules.idle);
    conv.last_message_at = Some(now);
    if conv.handover_until.is_some_and(|t| t > now) {
        return Turn::Silent;
    }
    conv.handover_until = None;
    if idle {
        conv.forget_stay();
    }
    let to = msg.from;
    if let Some(choice) = msg.choice {
        return on_choice(conv, to, choice, rules);
    }
    let Some(text) = msg.text.filter(|t| !t.trim().is_empty()) else {
        let key = if msg.kind == "audio" {
            "voice_unclear"
        } else {
            "unsupported"
        };
        return say(to, key, &[]);
    };
    let a = understand(text);
    match (&conv.step, a.intent) {
        (Step::ConfirmHold, Intent::Desconocido | Intent::Reservar)
            if a.yes && a.check_in.is_none() =>
        {
            return take_hold(conv, to);
        }
        (Step::ConfirmHold, Intent::Desconocido) if a.no => {
            conv.forget_stay();
            return say(to, "declined", &[]);
        }
        (Step::ConfirmCancel { code }, Intent::Desconocido | Intent::Cancelar) if a.yes || a.no => {
            let code = code.clone();
            return answer_cancel(conv, to, code, a.yes, rules);
        }
        _ => {}
    }
    conv.step = Step::Idle;
    match a.intent {
        Intent::Humano => {
            conv.handover_until = Some(rules.handover_until(now));
            let text = render("handover", &[("property", rules.property.clone())]);
            Turn::HandOver(vec![outgoing::text(to, text)])
        }
        Intent::Cancelar => Turn::AskCancel,
        Intent::MisReservas => Turn::MyReservations,
        Intent::Pago => Turn::PaymentLink,
        Intent::Servicios => Turn::Help(a.topic),
        Intent::Saludo if a.check_in.is_none() && a.guests.is_none() => {
            let name = msg
                .profile_name
                .map(|n| format!(" {n}"))
                .unwrap_or_default();
            say(
                to,
                "greeting",
                &[("name", name), ("property", rules.property.clone())],
            )
        }
        Intent::Desconocido
            if a.check_in.is_none()
                && a.guests.is_none()
                && a.nights.is_none()
                && a.accommodation_id.is_none() =>
        {
            Turn::Reply(vec![rules.unknown(to)])
        }
        _ => {
            merge(conv, &a);
            fill_slots(conv, to)
        }
    }
}

fn on_choice(conv: &mut Conversation, to: &str, choice: &str, rules: &Rules) -> Turn {
    if let Some(id) = choice.strip_prefix("acc:").and_then(|i| i.parse().ok()) {
        conv.accommodation_id = Some(id);
        return fill_slots(conv, to);
    }
    match (choice, conv.step.clone()) {
        ("hold:yes", Step::ConfirmHold) => take_hold(conv, to),
        ("hold:no", _) => {
            conv.forget_stay();
            say(to, "declined", &[])
        }
        (c, Step::ConfirmCancel { code }) if c.starts_with("cancel:") => {
            answer_cancel(conv, to, code, c == "cancel:yes", rules)
        }
        _ => Turn::Reply(vec![rules.unknown(to)]),
    }
}

/// The hold when every slot is known; otherwise the question for the missing one.
fn take_hold(conv: &mut Conversation, to: &str) -> Turn {
    match (
        conv.check_in,
        conv.check_out,
        conv.guests,
        conv.accommodation_id,
    ) {
        (Some(check_in), Some(check_out), Some(guests), Some(accommodation_id)) => {
            Turn::Hold(Slots {
                check_in,
                check_out,
                guests,
                accommodation_id,
            })
        }
        _ => fill_slots(conv, to),
    }
}

fn answer_cancel(
    conv: &mut Conversation,
    to: &str,
    code: String,
    yes: bool,
    rules: &Rules,
) -> Turn {
    conv.step = Step::Idle;
    if yes {
        return Turn::Cancel(code);
    }
    say(to, "cancel_kept", &replies::cancel_vars(to, &code, rules))
}

/// Asks for what is missing, or asks for the quote.
fn fill_slots(conv: &mut Conversation, to: &str) -> Turn {
    let Some(check_in) = conv.check_in else {
        return say(to, "ask_dates", &[]);
    };
    let Some(check_out) = conv.check_out else {
        return say(to, "ask_check_out", &[("check_in", texts::date(check_in))]);
    };
    let Some(guests) = conv.guests else {
        return say(to, "ask_guests", &[]);
    };
    Turn::Quote {
        check_in,
        check_out,
        guests,
    }
}

/// New slot values override the old ones; a new check-in without a check-out drops the old
/// check-out when it no longer fits.
fn merge(conv: &mut Conversation, a: &Analysis) {
    match (conv.check_in, conv.check_out, a.check_in, a.check_out) {
        // "hasta el 23" after the check-in: the date is the check-out.
        (Some(known), None, Some(d), None) if d > known && a.nights.is_none() => {
            conv.check_out = Some(d)
        }
        (_, _, Some(d), out) => {
            conv.check_in = Some(d);
            conv.check_out = out.or(conv.check_out.filter(|o| *o > d));
        }
        (Some(known), _, None, _) => {
            if let Some(n) = a.nights {
                conv.check_out = Some(known + i64::from(n).days());
            }
        }
        _ => {}
    }
    if a.guests.is_some() {
        conv.guests = a.guests;
    }
    if a.accommodation_id.is_some() {
        conv.accommodation_id = a.accommodation_id;
    }
}
