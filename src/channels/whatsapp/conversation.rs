//! One guest's conversation: slots filled across messages, quotes, holds, payment links,
//! "mis reservas", cancellation with confirmation, help topics and handover to the host.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use super::WhatsApp;
use super::outgoing;
use super::texts::{self, render};
use crate::domain::accommodation::Accommodation;
use crate::domain::availability::is_free;
use crate::domain::contact::Contact;
use crate::domain::dates::{NightRange, local_today};
use crate::domain::events::{Audience, DomainEvent, EventKind};
use crate::domain::nlu::{Analysis, Intent, Topic, analyze};
use crate::domain::pricing::quote;
use crate::domain::reservation::{Actor, Channel, Reservation, Status};
use crate::domain::stay::{StayLimits, validate_stay};
use crate::app::notices::{self, Vars};
use crate::secret::sha256_hex;
use crate::store::{
    ChangeError, ChangeRequest, IdempotencyKey, InboundMessage, NewOutbound, NewReservation,
    Replay, ReserveError, StoreError, StoredResponse,
};

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
    pub fn is_active(&self, now: Timestamp, idle: std::time::Duration) -> bool {
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

/// A free accommodation with its priced stay.
struct Offer {
    acc: Accommodation,
    quote: crate::domain::pricing::Quote,
}

fn dates_text(c: &Conversation) -> String {
    match (c.check_in, c.check_out) {
        (Some(a), Some(b)) => texts::stay(a, b),
        _ => String::new(),
    }
}

impl WhatsApp {
    fn today(&self, now: Timestamp) -> Date {
        local_today(now, &self.settings.time_zone)
    }

    fn active_accommodations(&self) -> Result<Vec<Accommodation>, StoreError> {
        Ok(self
            .store
            .accommodations()?
            .into_iter()
            .filter(|a| a.spec.active)
            .collect())
    }

    /// Understands `text` as written now.
    pub fn understand(&self, text: &str, now: Timestamp) -> Result<Analysis, StoreError> {
        let names: Vec<(u64, String)> = self
            .active_accommodations()?
            .into_iter()
            .map(|a| (a.id, a.spec.name))
            .collect();
        let started = std::time::Instant::now();
        let analysis = analyze(text, self.today(now), &names);
        metrics::histogram!("nlu_processing_seconds").record(started.elapsed().as_secs_f64());
        Ok(analysis)
    }

    /// The replies to one guest message (none while handed over), updating `conv`.
    pub(super) async fn reply(
        &self,
        conv: &mut Conversation,
        msg: &InboundMessage,
        text: Option<String>,
        now: Timestamp,
    ) -> Result<Vec<NewOutbound>, StoreError> {
        let wa = &self.settings.whatsapp;
        if msg.kind == RESUME_KIND {
            conv.handover_until = None;
            return Ok(vec![]);
        }
        if msg.kind == TAKE_OVER_KIND {
            conv.handover_until =
                Some(now + SignedDuration::try_from(wa.handover_timeout).unwrap_or_default());
            return Ok(vec![]);
        }
        let idle = !conv.is_active(now, wa.conversation_timeout);
        conv.last_message_at = Some(now);
        if conv.handover_until.is_some_and(|t| t > now) {
            return Ok(vec![]);
        }
        conv.handover_until = None;
        if idle {
            conv.forget_stay();
        }
        let to = msg.from.as_str();
        if let Some(choice) = msg.reply_id.as_deref() {
            return self.on_choice(conv, to, choice, msg, now).await;
        }
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            let key = if msg.kind == "audio" {
                "voice_unclear"
            } else {
                "unsupported"
            };
            return Ok(vec![outgoing::text(to, render(key, &[]))]);
        };
        let a = self.understand(&text, now)?;
        metrics::counter!("nlu_intent_detected_total", "intent" => a.intent.as_str(), "channel" => "whatsapp").increment(1);
        match (&conv.step, a.intent) {
            (Step::ConfirmHold, Intent::Desconocido | Intent::Reservar)
                if a.yes && a.check_in.is_none() =>
            {
                return self.take_hold(conv, msg, now).await;
            }
            (Step::ConfirmHold, Intent::Desconocido) if a.no => {
                conv.forget_stay();
                return Ok(vec![outgoing::text(to, render("declined", &[]))]);
            }
            (Step::ConfirmCancel { code }, Intent::Desconocido | Intent::Cancelar)
                if a.yes || a.no =>
            {
                let code = code.clone();
                return self.answer_cancel(conv, msg, &code, a.yes).await;
            }
            _ => {}
        }
        conv.step = Step::Idle;
        match a.intent {
            Intent::Humano => self.hand_over(conv, msg, now).await,
            Intent::Cancelar => self.ask_cancel(conv, to),
            Intent::MisReservas => self.my_reservations(conv, to),
            Intent::Pago => self.payment_link(conv, to).await,
            Intent::Servicios => self.help(to, a.topic),
            Intent::Saludo if a.check_in.is_none() && a.guests.is_none() => {
                let name = msg
                    .profile_name
                    .as_deref()
                    .map(|n| format!(" {n}"))
                    .unwrap_or_default();
                Ok(vec![outgoing::text(
                    to,
                    render(
                        "greeting",
                        &[
                            ("name", name),
                            ("property", self.settings.property_name.clone()),
                        ],
                    ),
                )])
            }
            Intent::Desconocido
                if a.check_in.is_none()
                    && a.guests.is_none()
                    && a.nights.is_none()
                    && a.accommodation_id.is_none() =>
            {
                Ok(vec![outgoing::text(
                    to,
                    render(
                        "unknown",
                        &[("property", self.settings.property_name.clone())],
                    ),
                )])
            }
            _ => {
                merge(conv, &a);
                self.fill_slots(conv, to, now)
            }
        }
    }

    async fn on_choice(
        &self,
        conv: &mut Conversation,
        to: &str,
        choice: &str,
        msg: &InboundMessage,
        now: Timestamp,
    ) -> Result<Vec<NewOutbound>, StoreError> {
        if let Some(id) = choice.strip_prefix("acc:").and_then(|i| i.parse().ok()) {
            conv.accommodation_id = Some(id);
            return self.fill_slots(conv, to, now);
        }
        match (choice, conv.step.clone()) {
            ("hold:yes", Step::ConfirmHold) => self.take_hold(conv, msg, now).await,
            ("hold:no", _) => {
                conv.forget_stay();
                Ok(vec![outgoing::text(to, render("declined", &[]))])
            }
            (c, Step::ConfirmCancel { code }) if c.starts_with("cancel:") => {
                self.answer_cancel(conv, msg, &code, c == "cancel:yes")
                    .await
            }
            _ => Ok(vec![outgoing::text(
                to,
                render(
                    "unknown",
                    &[("property", self.settings.property_name.clone())],
                ),
            )]),
        }
    }

    /// Asks for what is missing, offers the free accommodations, or quotes.
    fn fill_slots(
        &self,
        conv: &mut Conversation,
        to: &str,
        now: Timestamp,
    ) -> Result<Vec<NewOutbound>, StoreError> {
        let Some(check_in) = conv.check_in else {
            return Ok(vec![outgoing::text(to, render("ask_dates", &[]))]);
        };
        let Some(check_out) = conv.check_out else {
            return Ok(vec![outgoing::text(
                to,
                render("ask_check_out", &[("check_in", texts::date(check_in))]),
            )]);
        };
        let Some(guests) = conv.guests else {
            return Ok(vec![outgoing::text(to, render("ask_guests", &[]))]);
        };
        let offers = self.offers(check_in, check_out, guests, now)?;
        let vars = [("dates", dates_text(conv)), ("guests", guests.to_string())];
        let chosen = conv
            .accommodation_id
            .and_then(|id| offers.iter().find(|o| o.acc.id == id));
        let mut replies = Vec::new();
        if chosen.is_none() && (offers.is_empty() || conv.accommodation_id.is_some()) {
            replies.push(outgoing::text(to, render("no_availability", &vars)));
            conv.accommodation_id = None;
            if offers.is_empty() {
                replies.push(self.alternatives(to, check_in, check_out, guests, now)?);
                return Ok(replies);
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
                            format!("acc:{}", o.acc.id),
                            o.acc.spec.name.clone(),
                            format!("Total {}", texts::money(o.quote.total)),
                        )
                    })
                    .collect();
                replies.push(outgoing::choice(
                    to,
                    render("choose_accommodation", &vars),
                    render("list_button", &[]),
                    &rows,
                ));
                return Ok(replies);
            }
        };
        conv.accommodation_id = Some(offer.acc.id);
        conv.step = Step::ConfirmHold;
        let nights: Vec<String> = offer
            .quote
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
                ("accommodation", offer.acc.spec.name.clone()),
                ("dates", dates_text(conv)),
                ("guests", guests.to_string()),
                ("nights", nights.join("\n")),
                ("total", texts::money(offer.quote.total)),
                ("deposit", texts::money(offer.quote.deposit)),
                (
                    "deposit_percent",
                    (self.settings.deposit_share.basis_points() / 100).to_string(),
                ),
                ("hold_minutes", self.hold_minutes().to_string()),
            ],
        );
        let choices = [
            ("hold:yes".to_owned(), render("button_yes", &[])),
            ("hold:no".to_owned(), render("button_no", &[])),
        ];
        replies.push(outgoing::buttons(to, body, &choices));
        Ok(replies)
    }

    fn hold_minutes(&self) -> u64 {
        self.settings.hold_duration.as_secs().div_ceil(60)
    }

    /// Active accommodations that take `guests` and are free for the stay, priced.
    fn offers(
        &self,
        check_in: Date,
        check_out: Date,
        guests: u32,
        now: Timestamp,
    ) -> Result<Vec<Offer>, StoreError> {
        let Ok(window) = NightRange::new(check_in, check_out) else {
            return Ok(vec![]);
        };
        let limits = StayLimits {
            today: self.today(now),
            max_nights: self.settings.max_nights,
        };
        let mut offers = Vec::new();
        for acc in self.active_accommodations()? {
            let Some((acc, taken)) = self.store.accommodation_with_occupancy(acc.id, window)?
            else {
                continue;
            };
            if let Ok(range) = validate_stay(&acc.spec, check_in, check_out, guests, limits)
                && is_free(&range, &taken, now)
            {
                let quote = quote(&acc.spec, &range, self.settings.deposit_share);
                offers.push(Offer { acc, quote });
            }
        }
        Ok(offers)
    }

    /// Nearby stays of the same length that are free (up to three).
    fn alternatives(
        &self,
        to: &str,
        check_in: Date,
        check_out: Date,
        guests: u32,
        now: Timestamp,
    ) -> Result<NewOutbound, StoreError> {
        let mut options = Vec::new();
        for shift in [1i64, -1, 2, -2, 3, -3, 7, -7, 14] {
            let (a, b) = (check_in + shift.days(), check_out + shift.days());
            if a < self.today(now) {
                continue;
            }
            if let Some(o) = self.offers(a, b, guests, now)?.into_iter().next() {
                options.push(format!(
                    "• {} {}: {}",
                    o.acc.spec.name,
                    texts::stay(a, b),
                    texts::money(o.quote.total)
                ));
            }
            if options.len() == 3 {
                break;
            }
        }
        Ok(if options.is_empty() {
            outgoing::text(
                to,
                render(
                    "no_alternatives",
                    &[("property", self.settings.property_name.clone())],
                ),
            )
        } else {
            outgoing::text(
                to,
                render("alternatives", &[("options", options.join("\n"))]),
            )
        })
    }

    /// Takes the hold through the same atomic store path as the API; the message id is the
    /// idempotency key, so a message processed twice takes one hold.
    async fn take_hold(
        &self,
        conv: &mut Conversation,
        msg: &InboundMessage,
        now: Timestamp,
    ) -> Result<Vec<NewOutbound>, StoreError> {
        let to = msg.from.as_str();
        let (Some(check_in), Some(check_out), Some(guests), Some(accommodation_id)) = (
            conv.check_in,
            conv.check_out,
            conv.guests,
            conv.accommodation_id,
        ) else {
            return self.fill_slots(conv, to, now);
        };
        let name = msg
            .profile_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "Huésped WhatsApp".into());
        let Ok(contact) = Contact::new(
            &name,
            &format!("+{to}"),
            None,
            &self.settings.default_country_code,
        )
        .or_else(|_| {
            Contact::new(
                "Huésped WhatsApp",
                &format!("+{to}"),
                None,
                &self.settings.default_country_code,
            )
        }) else {
            return Ok(vec![outgoing::text(
                to,
                render(
                    "unknown",
                    &[("property", self.settings.property_name.clone())],
                ),
            )]);
        };
        let req = NewReservation {
            accommodation_id,
            check_in,
            check_out,
            guests,
            contact,
            channel: Channel::Whatsapp,
            confirmed: false,
            actor: Actor::Guest,
            note: "created over WhatsApp".into(),
        };
        let key = IdempotencyKey {
            scope: "whatsapp",
            key: msg.id.clone(),
            request_sha256: sha256_hex(&format!(
                "{accommodation_id}:{check_in}:{check_out}:{guests}"
            )),
        };
        let render_code = |outcome: &Result<crate::store::Created, ReserveError>| StoredResponse {
            status: if outcome.is_ok() { 201 } else { 409 },
            body: outcome
                .as_ref()
                .map(|c| c.reservation.code.clone())
                .unwrap_or_default(),
        };
        let reservation = match self
            .store
            .reserve(
                req,
                super::reserve_policy(&self.settings),
                Some(key),
                render_code,
            )
            .await?
        {
            Replay::Fresh(Ok(created)) => {
                metrics::counter!("reservations_created_total", "channel" => "whatsapp")
                    .increment(1);
                created.reservation
            }
            Replay::Stored(stored) if stored.status == 201 => {
                match self.store.reservation(&stored.body)? {
                    Some(r) => r,
                    None => return Ok(vec![]),
                }
            }
            Replay::Fresh(Err(ReserveError::DateOverlap))
            | Replay::Stored(_)
            | Replay::KeyReused => {
                metrics::counter!("reservations_date_overlap_total", "channel" => "whatsapp")
                    .increment(1);
                conv.step = Step::Idle;
                conv.accommodation_id = None;
                return Ok(vec![outgoing::text(to, render("dates_taken", &[]))]);
            }
            Replay::Fresh(Err(e)) => {
                conv.step = Step::Idle;
                return Ok(vec![outgoing::text(
                    to,
                    render("stay_refused", &[("reason", e.to_string())]),
                )]);
            }
        };
        conv.step = Step::Idle;
        conv.reservations.push(reservation.code.clone());
        conv.watched.push(reservation.code.clone());
        let linked = self
            .payments
            .link_for_new_hold(&reservation)
            .await
            .unwrap_or(reservation);
        let vars = self.reservation_vars(&linked);
        let key = if linked.payment.payment_url.is_some() {
            "hold_taken"
        } else {
            "hold_taken_no_link"
        };
        conv.check_in = None;
        conv.check_out = None;
        Ok(vec![outgoing::text(to, render(key, &vars))])
    }

    /// The placeholders every reservation text may use.
    pub(super) fn reservation_vars(&self, r: &Reservation) -> Vars {
        notices::reservation_vars(&self.store, &self.settings, r)
    }

    fn reservations_of(&self, conv: &Conversation) -> Result<Vec<Reservation>, StoreError> {
        let mut out = Vec::new();
        for code in &conv.reservations {
            if let Some(r) = self.store.reservation(code)? {
                out.push(r);
            }
        }
        Ok(out)
    }

    fn my_reservations(
        &self,
        conv: &Conversation,
        to: &str,
    ) -> Result<Vec<NewOutbound>, StoreError> {
        let list: Vec<String> = self
            .reservations_of(conv)?
            .iter()
            .map(|r| render("my_reservation", &self.reservation_vars(r)))
            .collect();
        Ok(vec![outgoing::text(
            to,
            if list.is_empty() {
                render("no_reservations", &[])
            } else {
                render("my_reservations", &[("list", list.join("\n"))])
            },
        )])
    }

    fn ask_cancel(
        &self,
        conv: &mut Conversation,
        to: &str,
    ) -> Result<Vec<NewOutbound>, StoreError> {
        let Some(r) = self
            .reservations_of(conv)?
            .into_iter()
            .rev()
            .find(|r| r.status.holds_dates())
        else {
            return Ok(vec![outgoing::text(to, render("cancel_nothing", &[]))]);
        };
        conv.step = Step::ConfirmCancel {
            code: r.code.clone(),
        };
        let choices = [
            ("cancel:yes".to_owned(), render("button_cancel", &[])),
            ("cancel:no".to_owned(), render("button_keep", &[])),
        ];
        Ok(vec![outgoing::buttons(
            to,
            render("cancel_ask", &self.reservation_vars(&r)),
            &choices,
        )])
    }

    async fn answer_cancel(
        &self,
        conv: &mut Conversation,
        msg: &InboundMessage,
        code: &str,
        yes: bool,
    ) -> Result<Vec<NewOutbound>, StoreError> {
        let to = msg.from.as_str();
        conv.step = Step::Idle;
        let vars = [
            ("code", code.to_owned()),
            ("property", self.settings.property_name.clone()),
            ("phone", to.to_owned()),
        ];
        if !yes {
            return Ok(vec![outgoing::text(to, render("cancel_kept", &vars))]);
        }
        let req = ChangeRequest {
            to: Status::Cancelled,
            actor: Actor::Guest,
            reason: "cancelled by the guest over WhatsApp".into(),
        };
        match self.store.change_status(code.to_owned(), req).await? {
            Ok(_) => Ok(vec![outgoing::text(to, render("cancelled", &vars))]),
            Err(ChangeError::RequiresHost) => {
                self.tell_host(EventKind::CancelRequest, msg, Some(code.to_owned()))
                    .await?;
                Ok(vec![outgoing::text(
                    to,
                    render("cancel_requires_host", &vars),
                )])
            }
            Err(_) => Ok(vec![outgoing::text(to, render("cancel_nothing", &[]))]),
        }
    }

    async fn payment_link(
        &self,
        conv: &Conversation,
        to: &str,
    ) -> Result<Vec<NewOutbound>, StoreError> {
        let Some(hold) = self
            .reservations_of(conv)?
            .into_iter()
            .rev()
            .find(|r| r.status == Status::PreReserved)
        else {
            return Ok(vec![outgoing::text(to, render("payment_no_hold", &[]))]);
        };
        Ok(vec![match self.payments.link(&hold, 1).await {
            Ok(linked) => {
                outgoing::text(to, render("payment_link", &self.reservation_vars(&linked)))
            }
            Err(e) => {
                tracing::warn!(code = %hold.code, error = %e, "no payment link for a WhatsApp guest");
                outgoing::text(to, render("payment_link_failed", &[]))
            }
        }])
    }

    fn help(&self, to: &str, topic: Topic) -> Result<Vec<NewOutbound>, StoreError> {
        let wa = &self.settings.whatsapp;
        let missing = || {
            render(
                "topic_missing",
                &[("property", self.settings.property_name.clone())],
            )
        };
        let configured = |value: &str| {
            if value.trim().is_empty() {
                missing()
            } else {
                value.to_owned()
            }
        };
        let body = match topic {
            Topic::CheckTimes => render(
                "check_times",
                &[
                    ("check_in_time", wa.check_in_time.clone()),
                    ("check_out_time", wa.check_out_time.clone()),
                ],
            ),
            Topic::Policies => configured(&wa.policies),
            Topic::Address => configured(&wa.address),
            Topic::Contact => configured(&wa.contact),
            Topic::General => {
                let lines: Vec<String> = self
                    .active_accommodations()?
                    .iter()
                    .map(|a| {
                        render(
                            "service_line",
                            &[
                                ("name", a.spec.name.clone()),
                                ("capacity", a.spec.capacity.to_string()),
                                ("description", a.spec.description.clone()),
                            ],
                        )
                    })
                    .collect();
                render("services", &[("list", lines.join("\n"))])
            }
        };
        Ok(vec![outgoing::text(to, body)])
    }

    async fn hand_over(
        &self,
        conv: &mut Conversation,
        msg: &InboundMessage,
        now: Timestamp,
    ) -> Result<Vec<NewOutbound>, StoreError> {
        let wa = &self.settings.whatsapp;
        conv.handover_until =
            Some(now + SignedDuration::try_from(wa.handover_timeout).unwrap_or_default());
        self.tell_host(EventKind::Handover, msg, None).await?;
        Ok(vec![outgoing::text(
            &msg.from,
            render(
                "handover",
                &[("property", self.settings.property_name.clone())],
            ),
        )])
    }

    /// Records a host notice about this chat (WhatsApp and email deliver it from the event
    /// log), once per guest message: a message answered again after a crash adds nothing.
    async fn tell_host(
        &self,
        kind: EventKind,
        msg: &InboundMessage,
        code: Option<String>,
    ) -> Result<(), StoreError> {
        let mut event = DomainEvent::new(kind, Audience::Host, code, Timestamp::now());
        event.phone = Some(msg.from.clone());
        let key = IdempotencyKey {
            scope: "host_notice",
            key: msg.id.clone(),
            request_sha256: sha256_hex(&format!("{kind:?}")),
        };
        self.store.record_event(event, key).await
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
