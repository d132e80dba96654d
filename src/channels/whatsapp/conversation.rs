//! The I/O around the dialog: one guest message goes through the pure state machine
//! (`dialog`), and what it asks for is done here through the application layer — quotes and
//! holds through `app::booking` (the same functions as every other channel), payment links
//! through `app::payments`, host notices through the event log.

use jiff::Timestamp;

use super::WhatsApp;
use super::dialog::{
    self, CancelOutcome, Conversation, HoldOutcome, Incoming, Offered, PageLink, Rules, Slots, Turn,
};
use super::outgoing;
use super::texts::render;
use crate::app::booking::{First, Held};
use crate::app::notices::{self, Vars};
use crate::domain::booking::{ChangeError, NewReservation, ReserveError};
use crate::domain::contact::{Contact, whatsapp_phone};
use crate::domain::events::{Audience, DomainEvent, EventKind};
use crate::domain::ids::{AccommodationId, ReservationCode};
use crate::domain::messages::{InboundMessage, NewOutbound};
use crate::domain::nlu::{Analysis, analyze};
use crate::domain::reservation::{Actor, Channel, Reservation, Status};
use crate::secret::sha256_hex;
use crate::store::{IdempotencyKey, ReservationFilter, SkipUnreadable, StoreError};

/// The name a guest without a usable WhatsApp profile name books under.
const ANONYMOUS: &str = "Huésped WhatsApp";

impl WhatsApp {
    /// The dialog's rules from the configuration, with the accommodations' pages on the
    /// guest site.
    pub(super) fn rules(&self) -> Rules {
        let s = &self.app.settings;
        let links = match (&s.public_base_url, self.app.site.pages()) {
            (Some(base), Ok(pages)) if s.site.enabled => pages
                .iter()
                .map(|p| PageLink {
                    id: p.accommodation.id.get(),
                    page: format!("{base}/alojamientos/{}", p.content.slug),
                    photo: p
                        .content
                        .photos
                        .first()
                        .and_then(|photo| photo.jpeg_for(960))
                        .map(|v| format!("{base}/media/{}", v.key)),
                })
                .collect(),
            _ => vec![],
        };
        Rules {
            links,
            property: s.property_name.clone(),
            idle: s.whatsapp.conversation_timeout,
            handover: s.whatsapp.handover_timeout,
            hold_minutes: s.hold_duration.as_secs().div_ceil(60),
            deposit_percent: s.deposit_share.basis_points() / 100,
        }
    }

    /// Understands `text` as written now, with the names of the accommodations on sale.
    fn understand(&self, text: &str, now: Timestamp) -> Result<Analysis, StoreError> {
        let names = self.app.accommodations.active_names()?;
        let started = std::time::Instant::now();
        let analysis = analyze(text, self.app.booking.today(now), &names);
        metrics::histogram!("nlu_processing_seconds").record(started.elapsed().as_secs_f64());
        metrics::counter!("nlu_intent_detected_total", "intent" => analysis.intent.as_str(), "channel" => "whatsapp").increment(1);
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
        let rules = self.rules();
        let incoming = Incoming {
            from: &msg.from,
            kind: &msg.kind,
            choice: msg.reply_id.as_deref(),
            text: text.as_deref(),
            profile_name: msg.profile_name.as_deref(),
        };
        let mut understood = Ok(());
        let turn = dialog::on_message(
            conv,
            incoming,
            |text| match self.understand(text, now) {
                Ok(a) => a,
                Err(e) => {
                    understood = Err(e);
                    analyze("", self.app.booking.today(now), &[])
                }
            },
            now,
            &rules,
        );
        understood?;
        let to = msg.from.as_str();
        Ok(match turn {
            Turn::Silent => vec![],
            Turn::Reply(replies) => replies,
            Turn::Quote {
                check_in,
                check_out,
                guests,
            } => self.quote(conv, to, (check_in, check_out), guests, now, &rules)?,
            Turn::Hold(slots) => {
                let outcome = self.take_hold(msg, slots).await?;
                dialog::held(conv, to, outcome, &rules)
            }
            Turn::Cancel(code) => {
                let outcome = self.cancel(msg, &code).await?;
                dialog::cancel_answer(to, &code, outcome, &rules)
            }
            Turn::AskCancel => {
                let latest = self
                    .reservations_of(conv, to)?
                    .into_iter()
                    .rev()
                    .find(|r| r.status.holds_dates())
                    .map(|r| (r.code.to_string(), self.reservation_vars(&r)));
                dialog::ask_cancel(conv, to, latest)
            }
            Turn::MyReservations => {
                let all: Vec<Vars> = self
                    .reservations_of(conv, to)?
                    .iter()
                    .map(|r| self.reservation_vars(r))
                    .collect();
                dialog::my_reservations(to, &all)
            }
            Turn::PaymentLink => self.payment_link(conv, to).await?,
            Turn::Help(topic) => {
                let site = &self.app.site;
                dialog::help(to, topic, &site.property()?, &site.pages()?, &rules)
            }
            Turn::HandOver(replies) => {
                self.tell_host(EventKind::Handover, msg, None).await?;
                replies
            }
        })
    }

    /// Offers the free accommodations for the stay, or nearby dates when none is free.
    fn quote(
        &self,
        conv: &mut Conversation,
        to: &str,
        dates: (jiff::civil::Date, jiff::civil::Date),
        guests: u32,
        now: Timestamp,
        rules: &Rules,
    ) -> Result<Vec<NewOutbound>, StoreError> {
        let booking = &self.app.booking;
        let offers = booking.offers(dates, guests, now)?;
        match dialog::offer(conv, to, &offers, rules) {
            Offered::Replies(replies) => Ok(replies),
            Offered::NothingFree(mut replies) => {
                let mut found = Vec::new();
                for stay in dialog::alternative_stays(dates.0, dates.1, booking.today(now)) {
                    found.extend(booking.offers(stay, guests, now)?.into_iter().next());
                    if found.len() == 3 {
                        break;
                    }
                }
                replies.push(dialog::alternatives(to, &found, rules));
                Ok(replies)
            }
        }
    }

    /// Takes the hold through `app::booking`, like every channel; the message id is the
    /// idempotency key, so a message processed twice takes one hold.
    async fn take_hold(&self, msg: &InboundMessage, s: Slots) -> Result<HoldOutcome, StoreError> {
        let to = msg.from.as_str();
        let Ok(contact) = Contact::from_whatsapp(msg.profile_name.as_deref(), to, ANONYMOUS) else {
            return Ok(HoldOutcome::NoContact);
        };
        let req = NewReservation {
            accommodation_id: AccommodationId::new(s.accommodation_id),
            check_in: s.check_in,
            check_out: s.check_out,
            guests: s.guests,
            contact,
            channel: Channel::Whatsapp,
            confirmed: false,
            actor: Actor::Guest,
            note: "created over WhatsApp".into(),
            client_address: None,
        };
        let key = IdempotencyKey {
            scope: "whatsapp",
            key: msg.id.clone(),
            request_sha256: sha256_hex(&format!(
                "{}:{}:{}:{}",
                s.accommodation_id, s.check_in, s.check_out, s.guests
            )),
        };
        let reservation = match self.app.booking.hold(req, Some(key)).await? {
            Held::Fresh(Ok(created)) => *created.reservation,
            Held::Fresh(Err(ReserveError::DateOverlap)) | Held::KeyReused => {
                return Ok(HoldOutcome::DatesTaken);
            }
            Held::Fresh(Err(ReserveError::Limited(refused))) => {
                return Ok(HoldOutcome::Limited(refused));
            }
            Held::Fresh(Err(e)) => return Ok(HoldOutcome::Refused(e.to_string())),
            Held::Replayed(replayed) => match (replayed.first, replayed.current) {
                (First::Outcome(Ok(_)), Some(r)) => r,
                (First::Legacy(first), Some(r)) if first.status == 201 => r,
                (First::Outcome(Ok(_)), None) => return Ok(HoldOutcome::Gone),
                (First::Legacy(first), None) if first.status == 201 => {
                    return Ok(HoldOutcome::Gone);
                }
                _ => return Ok(HoldOutcome::DatesTaken),
            },
        };
        Ok(HoldOutcome::Taken {
            code: reservation.code.to_string(),
            linked: reservation.payment.payment_url.is_some(),
            vars: self.reservation_vars(&reservation),
        })
    }

    /// Cancels `code` for the guest; a confirmed stay is the host's to cancel, so the host is
    /// asked instead.
    async fn cancel(&self, msg: &InboundMessage, code: &str) -> Result<CancelOutcome, StoreError> {
        let Some(parsed) = ReservationCode::parse(code) else {
            return Ok(CancelOutcome::Nothing);
        };
        let reason = "cancelled by the guest over WhatsApp".to_owned();
        let changed = self
            .app
            .booking
            .change(parsed, Status::Cancelled, Actor::Guest, reason)
            .await?;
        Ok(match changed {
            Ok(_) => CancelOutcome::Cancelled,
            Err(ChangeError::RequiresHost) => {
                self.tell_host(EventKind::CancelRequest, msg, Some(code.to_owned()))
                    .await?;
                CancelOutcome::RequiresHost
            }
            Err(_) => CancelOutcome::Nothing,
        })
    }

    async fn payment_link(
        &self,
        conv: &Conversation,
        to: &str,
    ) -> Result<Vec<NewOutbound>, StoreError> {
        let Some(hold) = self
            .reservations_of(conv, to)?
            .into_iter()
            .rev()
            .find(|r| r.status == Status::PreReserved)
        else {
            return Ok(vec![outgoing::text(to, render("payment_no_hold", &[]))]);
        };
        Ok(vec![match self.app.payments.link(&hold, 1).await {
            Ok(linked) => {
                outgoing::text(to, render("payment_link", &self.reservation_vars(&linked)))
            }
            Err(e) => {
                tracing::warn!(code = %hold.code, error = %e, "no payment link for a WhatsApp guest");
                outgoing::text(to, render("payment_link_failed", &[]))
            }
        }])
    }

    /// The placeholders every reservation text may use.
    pub(super) fn reservation_vars(&self, r: &Reservation) -> Vars {
        notices::reservation_vars(&self.app.store, &self.app.settings, r)
    }

    /// The readable holds taken in this chat (one that does not decode is left out, noted),
    /// then the live bookings made elsewhere (web form, the host) under the sender's number,
    /// however it was typed there: oldest first.
    fn reservations_of(
        &self,
        conv: &Conversation,
        to: &str,
    ) -> Result<Vec<Reservation>, StoreError> {
        let mut out = Vec::new();
        for code in conv
            .reservations
            .iter()
            .filter_map(|c| ReservationCode::parse(c))
        {
            out.extend(self.app.store.reservation(&code).skip_unreadable()?);
        }
        if let Some(phone) = whatsapp_phone(to) {
            let filter = ReservationFilter {
                text: Some(phone.clone()),
                ..ReservationFilter::default()
            };
            let mut elsewhere: Vec<Reservation> = self
                .app
                .store
                .all_reservations(&filter)?
                .into_iter()
                .filter(|r| r.contact.phone() == phone && r.status.holds_dates())
                .filter(|r| !out.iter().any(|o| o.code == r.code))
                .collect();
            elsewhere.reverse();
            out.extend(elsewhere);
        }
        Ok(out)
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
        self.app.store.record_event(event, key).await
    }
}
