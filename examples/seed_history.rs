//! Seeds a store with a long history, through the store's own bulk load (big transactions,
//! the same availability rule as a booking), for `bench/run.sh`'s history scenario. Closed
//! reservations older than the archive's week go straight to the archive file (as the bulk
//! load files them), where the server's archive pass would have moved them.
//!
//! Per accommodation: back-to-back completed stays (1 to 7 nights) over the past YEARS, an owner
//! block every quarter among them, back-to-back confirmed stays over the next YEARS, and enough
//! cancelled and expired holds anywhere in those ten years to reach RESERVATIONS in all.
//! Run it on a stopped server's data directory (it creates accommodations 1..=ACCOMMODATIONS
//! when missing). The bench's new holds and quotes then go after the live stays
//! (`BENCH_OFFSET`, printed at the end).
//!
//! cargo run --release --example seed_history -- DATA_DIR [RESERVATIONS] [ACCOMMODATIONS] [YEARS]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use alojamientos::app::accommodations::new_export_settings;
use alojamientos::domain::accommodation::{Accommodation, AccommodationInput};
use alojamientos::domain::contact::Contact;
use alojamientos::domain::dates::{NightRange, local_today};
use alojamientos::domain::ids::ReservationCode;
use alojamientos::domain::money::Rate;
use alojamientos::domain::pricing::quote;
use alojamientos::domain::reservation::{Actor, AuditEntry, Channel, Reservation, Status};
use alojamientos::store::Store;
use anyhow::{Context, bail};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Reservations written per commit.
const BATCH: usize = 50_000;

struct Seeder {
    today: Date,
    contact: Contact,
    /// Codes handed out per creation day (a code is its day plus 24 bits).
    per_day: HashMap<Date, u32>,
    rng: StdRng,
}

impl Seeder {
    fn code(&mut self, created: Date) -> ReservationCode {
        let n = self.per_day.entry(created).or_default();
        *n += 1;
        let [_, a, b, c] = n.to_be_bytes();
        ReservationCode::generate(created, [a, b, c])
    }

    /// A reservation of `acc` for `range` that went through `path` (statuses after creation).
    fn stay(&mut self, acc: &Accommodation, range: NightRange, path: &[Status]) -> Reservation {
        let lead = self.rng.random_range(1..90);
        let created_day = range.check_in().checked_sub(lead.days()).unwrap();
        // A stay further ahead than its lead was booked some day of the past year, not today:
        // about a week's share of the closed ones is then too recent for the archive.
        let booked_by: i64 = self.rng.random_range(0..365);
        let created_day = created_day.min(self.today.checked_sub(booked_by.days()).unwrap());
        let created = jiff::tz::TimeZone::UTC
            .to_timestamp(created_day.at(12, 0, 0, 0))
            .unwrap();
        let priced = quote(&acc.spec, &range, Rate::percent(30));
        let mut history = vec![AuditEntry {
            at: created,
            from: None,
            to: Status::PreReserved,
            actor: Actor::Guest,
            reason: "created".into(),
        }];
        let mut at = created;
        for &to in path {
            at += SignedDuration::from_mins(self.rng.random_range(1..29));
            let from = history.last().map(|e| e.to);
            history.push(AuditEntry {
                at,
                from,
                to,
                actor: Actor::System,
                reason: "history".into(),
            });
        }
        Reservation {
            code: self.code(created_day),
            accommodation_id: acc.id,
            range,
            guests: 2,
            contact: self.contact.clone(),
            channel: Channel::Web,
            status: *path.last().unwrap_or(&Status::PreReserved),
            nightly: priced.nights,
            total: priced.total,
            deposit: priced.deposit,
            currency: "ARS".into(),
            created_at: created,
            expires_at: Some(created + SignedDuration::from_mins(30)),
            access_token_sha256: "0".repeat(64),
            history,
            payment: Default::default(),
            hold_client: None,
        }
    }

    fn nights(&mut self, from: Date) -> NightRange {
        let n: i64 = self.rng.random_range(1..=7);
        NightRange::new(from, from.checked_add(n.days()).unwrap()).unwrap()
    }

    /// Every reservation of `acc`; `total` of them, `years` back and forth from today.
    fn history(&mut self, acc: &Accommodation, total: usize, years: i64) -> Vec<Reservation> {
        let span = years * 365;
        let first = self.today.checked_sub(span.days()).unwrap();
        let last = self.today.checked_add(span.days()).unwrap();
        let mut out = Vec::with_capacity(total);
        let mut day = first;
        while day < self.today && out.len() < total {
            let mut range = self.nights(day);
            if range.check_out() > self.today {
                range = NightRange::new(day, self.today).unwrap();
            }
            out.push(self.stay(acc, range, &[Status::Confirmed, Status::Completed]));
            day = range.check_out();
        }
        let mut day = self.today;
        while day < last && out.len() < total {
            let range = self.nights(day);
            out.push(self.stay(acc, range, &[Status::Confirmed]));
            day = range.check_out();
        }
        while out.len() < total {
            let from = first
                .checked_add(self.rng.random_range(0..2 * span).days())
                .unwrap();
            let range = self.nights(from);
            let end = if out.len() % 2 == 0 {
                Status::Cancelled
            } else {
                Status::Expired
            };
            out.push(self.stay(acc, range, &[end]));
        }
        out
    }
}

async fn accommodations(store: &Store, wanted: u64) -> anyhow::Result<Vec<Accommodation>> {
    for i in store.accommodations()?.len() as u64 + 1..=wanted {
        let input = serde_json::json!({
            "name": format!("Unidad {i}"), "kind": "room", "capacity": 4, "base_price": "12000",
        });
        let spec = serde_json::from_value::<AccommodationInput>(input)?.validate()?;
        store
            .create_accommodation(spec, new_export_settings(Timestamp::now()))
            .await?;
    }
    let mut all = store.accommodations()?;
    all.truncate(wanted as usize);
    Ok(all)
}

/// An owner block every quarter of the past `years`, five nights each.
async fn blocks(store: &Store, all: &[Accommodation], today: Date, years: i64) -> usize {
    let mut made = Vec::new();
    for acc in all {
        for q in 1..=4 * years {
            let from = today.checked_sub((q * 91).days()).unwrap();
            let range = NightRange::new(from, from.checked_add(5.days()).unwrap()).unwrap();
            made.push(store.create_block(acc.id, range, "history".into(), "seed".into()));
        }
    }
    let mut n = 0;
    for block in made {
        if matches!(block.await, Ok(Ok(_))) {
            n += 1;
        }
    }
    n
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        bail!("usage: seed_history DATA_DIR [RESERVATIONS] [ACCOMMODATIONS] [YEARS]");
    };
    let arg = |i: usize, default: u64| -> anyhow::Result<u64> {
        args.get(i)
            .map_or(Ok(default), |a| a.parse().with_context(|| format!("{a:?}")))
    };
    let (total, units, years) = (arg(1, 1_000_000)?, arg(2, 100)?, arg(3, 5)? as i64);
    let started = Instant::now();
    let (store, writer) = Store::open(dir.as_ref(), Duration::from_secs(600), 64 << 20)?;
    let all = accommodations(&store, units).await?;
    let tz = jiff::tz::TimeZone::get("America/Argentina/Buenos_Aires")?;
    let today = local_today(Timestamp::now(), &tz);
    let mut seeder = Seeder {
        today,
        contact: Contact::new("Huésped Histórico", "+5491122334455", None, "54")?,
        per_day: HashMap::new(),
        rng: StdRng::seed_from_u64(18),
    };
    let made_blocks = blocks(&store, &all, today, years).await;
    let mut counts: HashMap<Status, usize> = HashMap::new();
    let mut batch = Vec::with_capacity(BATCH);
    for (i, acc) in all.iter().enumerate() {
        let share = total as usize / all.len() + usize::from(i < total as usize % all.len());
        for r in seeder.history(acc, share, years) {
            *counts.entry(r.status).or_default() += 1;
            batch.push(r);
            if batch.len() == BATCH {
                store
                    .import_reservations(std::mem::take(&mut batch))
                    .await??;
            }
        }
    }
    if !batch.is_empty() {
        store.import_reservations(batch).await??;
    }
    let archived = store.archived_count()?;
    store.close().await;
    drop(store);
    let _ = writer.join();
    let offset = years * 366 + 3;
    println!(
        "seeded {total} reservations ({counts:?}; {archived} of them closed over a week ago, in \
         the archive file) and {made_blocks} blocks on {} accommodations in {:.1} s; live stays \
         end by {}: bench with BENCH_OFFSET={offset}",
        all.len(),
        started.elapsed().as_secs_f64(),
        today.checked_add((years * 365 + 7).days())?,
    );
    Ok(())
}
