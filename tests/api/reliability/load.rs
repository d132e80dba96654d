//! The mixed load: guests take holds and pay them through Mercado Pago, write on WhatsApp and
//! ask for quotes; the host confirms, cancels, syncs the OTA feed and takes backups. Every
//! answer that acknowledges a write is recorded in the [`Ledger`] with what the server must
//! show for it afterwards; a write whose answer never came (the server was killed) is recorded
//! as attempted, so either outcome is accepted.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::world::{LANES, World};
use crate::helpers::fake_graph;
use crate::helpers::fake_mp::{self, FakeMp};

/// What the server must show for one hold.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// The last status a write acknowledged.
    pub acked: String,
    /// Statuses of writes sent after it whose answer never came.
    pub attempted: BTreeSet<String>,
    /// A payment for it was notified (acknowledged or not): it may be confirmed by it.
    pub paid: bool,
    pub deposit: String,
}

impl Expect {
    /// The statuses the server may show now.
    pub fn allowed(&self) -> BTreeSet<String> {
        let mut ok = self.attempted.clone();
        ok.insert(self.acked.clone());
        if ok.contains("pre_reserved") {
            ok.insert("expired".into());
            if self.paid {
                ok.insert("confirmed".into());
            }
        }
        ok
    }
}

/// Every write the server acknowledged.
#[derive(Debug, Default, Clone)]
pub struct Ledger {
    pub holds: BTreeMap<String, Expect>,
    /// Payment id → reservation code, for notifications answered 200.
    pub payments: BTreeMap<String, String>,
    /// Guest phones whose WhatsApp message was answered 200 (recorded).
    pub whatsapp: BTreeSet<String>,
    /// Snapshot paths answered 201.
    pub backups: Vec<String>,
    pub feed_synced: bool,
    /// Acknowledged writes, by kind.
    pub acks: BTreeMap<&'static str, u64>,
}

impl Ledger {
    fn ack(&mut self, kind: &'static str) {
        *self.acks.entry(kind).or_default() += 1;
    }

    pub fn total_acks(&self) -> u64 {
        self.acks.values().sum()
    }
}

/// Which operations the load runs, by weight, and how fast each task goes.
#[derive(Debug, Clone)]
pub struct Mix {
    pub tasks: usize,
    /// Pause between two operations of one task.
    pub pause: Duration,
    /// (operation, weight)
    pub weights: Vec<(Op, u32)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Hold,
    Confirm,
    Cancel,
    Pay,
    WhatsApp,
    FeedSync,
    Backup,
    Quote,
}

impl Mix {
    /// The crash loop's mix: writes of every kind, as fast as `tasks` tasks go.
    pub fn crash_loop() -> Mix {
        Mix {
            tasks: 12,
            pause: Duration::ZERO,
            weights: vec![
                (Op::Hold, 40),
                (Op::Confirm, 12),
                (Op::Cancel, 10),
                (Op::Pay, 12),
                (Op::WhatsApp, 12),
                (Op::FeedSync, 3),
                (Op::Backup, 1),
                (Op::Quote, 10),
            ],
        }
    }
}

/// Latencies of one operation kind in the current window, in microseconds.
#[derive(Debug, Default)]
pub struct Window {
    pub samples: HashMap<Op, Vec<u64>>,
    pub errors: u64,
}

/// A running load.
pub struct Load {
    pub ledger: Arc<Mutex<Ledger>>,
    pub window: Arc<Mutex<Window>>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// What every task shares.
struct Ctx {
    client: Client,
    base: String,
    token: String,
    units: Vec<u64>,
    mp: FakeMp,
    ledger: Arc<Mutex<Ledger>>,
    window: Arc<Mutex<Window>>,
    stop: Arc<AtomicBool>,
    /// Unique numbers for payment ids, WhatsApp message ids and guest phones.
    next: Arc<AtomicU64>,
    /// The latest holds taken, which confirms, cancels and payments pick from.
    recent: Mutex<VecDeque<String>>,
}

/// How many recent holds confirms, cancels and payments choose among.
const RECENT: usize = 2000;

/// Where the load goes and what it records into.
pub struct Target<'a> {
    pub world: &'a World,
    pub base: &'a str,
    pub token: &'a str,
    pub units: &'a [u64],
    pub ledger: Arc<Mutex<Ledger>>,
    /// Shared across runs, so ids, phones and dates are never reused.
    pub next: Arc<AtomicU64>,
}

impl Target<'_> {
    fn ctx(&self, stop: &Arc<AtomicBool>, window: &Arc<Mutex<Window>>) -> Arc<Ctx> {
        Arc::new(Ctx {
            client: self.world.client.clone(),
            base: self.base.to_owned(),
            token: self.token.to_owned(),
            units: self.units.to_vec(),
            mp: self.world.mp.clone(),
            ledger: self.ledger.clone(),
            window: window.clone(),
            stop: stop.clone(),
            next: self.next.clone(),
            recent: Mutex::new(VecDeque::with_capacity(RECENT)),
        })
    }
}

impl Load {
    /// Closed loop: `mix.tasks` tasks each run one operation after another (picked by weight),
    /// as fast as the server answers.
    pub fn start(target: Target<'_>, mix: &Mix) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let window = Arc::new(Mutex::new(Window::default()));
        let ctx = target.ctx(&stop, &window);
        let tasks = (0..mix.tasks)
            .map(|i| tokio::spawn(run_task(ctx.clone(), mix.clone(), i)))
            .collect();
        Load {
            ledger: target.ledger,
            window,
            stop,
            tasks,
        }
    }

    /// Open loop: each operation is started `rate` times a second whatever the answers take
    /// (at most `max_in_flight` at once; a tick with none free is counted as an error), so the
    /// latencies measured are the ones guests would see.
    pub fn paced(target: Target<'_>, rates: &[(Op, f64)], max_in_flight: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let window = Arc::new(Mutex::new(Window::default()));
        let ctx = target.ctx(&stop, &window);
        let permits = Arc::new(tokio::sync::Semaphore::new(max_in_flight));
        let tasks = rates
            .iter()
            .enumerate()
            .map(|(i, &(op, rate))| {
                let (ctx, permits) = (ctx.clone(), permits.clone());
                tokio::spawn(async move {
                    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                    while !ctx.stop.load(Ordering::Relaxed) {
                        tick.tick().await;
                        let Ok(permit) = permits.clone().try_acquire_owned() else {
                            ctx.window.lock().unwrap().errors += 1;
                            continue;
                        };
                        let ctx = ctx.clone();
                        tokio::spawn(async move {
                            run_op(&ctx, op, i).await;
                            drop(permit);
                        });
                    }
                })
            })
            .collect();
        Load {
            ledger: target.ledger,
            window,
            stop,
            tasks,
        }
    }

    /// The latencies and errors since the last call.
    pub fn take_window(&self) -> Window {
        std::mem::take(&mut *self.window.lock().unwrap())
    }

    /// Stops every task (requests in flight are abandoned) and waits for them.
    pub async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            t.abort();
            let _ = t.await;
        }
    }
}

fn pick(mix: &Mix, rng: &mut impl Rng) -> Op {
    let total: u32 = mix.weights.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total);
    for (op, w) in &mix.weights {
        if roll < *w {
            return *op;
        }
        roll -= w;
    }
    mix.weights[0].0
}

async fn run_task(ctx: Arc<Ctx>, mix: Mix, task: usize) {
    while !ctx.stop.load(Ordering::Relaxed) {
        let op = pick(&mix, &mut rand::rng());
        run_op(&ctx, op, task).await;
        if !mix.pause.is_zero() {
            tokio::time::sleep(mix.pause).await;
        }
    }
}

/// Runs one operation and records its latency (answered as expected) or an error.
async fn run_op(ctx: &Ctx, op: Op, task: usize) {
    let started = Instant::now();
    let ok = match op {
        Op::Hold => hold(ctx, task).await,
        Op::Confirm => transition(ctx, "confirm", "confirmed").await,
        Op::Cancel => transition(ctx, "cancel", "cancelled").await,
        Op::Pay => pay(ctx).await,
        Op::WhatsApp => whatsapp(ctx).await,
        Op::FeedSync => feed_sync(ctx).await,
        Op::Backup => backup(ctx).await,
        Op::Quote => quote(ctx, task).await,
    };
    let mut w = ctx.window.lock().unwrap();
    match ok {
        Some(true) => w
            .samples
            .entry(op)
            .or_default()
            .push(started.elapsed().as_micros() as u64),
        Some(false) => w.errors += 1,
        None => {}
    }
}

/// A recent hold with no write in flight that `eligible` accepts, marked in the same step
/// (under the ledger's lock) by `mark`, so no two operations race on one hold.
fn claim(
    ctx: &Ctx,
    eligible: impl Fn(&Expect) -> bool,
    mark: impl FnOnce(&mut Expect),
) -> Option<(String, String)> {
    let recent: Vec<String> = ctx.recent.lock().unwrap().iter().cloned().collect();
    if recent.is_empty() {
        return None;
    }
    let mut l = ctx.ledger.lock().unwrap();
    let start = rand::rng().random_range(0..recent.len());
    let code = (0..recent.len().min(64))
        .map(|i| &recent[(start + i) % recent.len()])
        .find(|c| {
            l.holds
                .get(*c)
                .is_some_and(|e| e.attempted.is_empty() && eligible(e))
        })?
        .clone();
    let e = l.holds.get_mut(&code)?;
    mark(e);
    Some((code, e.deposit.clone()))
}

/// A day no other hold of this run uses: tasks and runs walk their own lanes.
fn fresh_day(ctx: &Ctx) -> i64 {
    2 + (ctx.next.fetch_add(1, Ordering::Relaxed) % 5000) as i64 / ctx.units.len().max(1) as i64
}

/// Takes a one-night hold; `Some(true)` when answered as expected, `Some(false)` on an
/// unexpected answer, `None` when no answer came.
async fn hold(ctx: &Ctx, task: usize) -> Option<bool> {
    // Holds walk the calendar of the LANES units night after night and never come back: a
    // night walked again would meet the stays confirmed on it, and its 409 writes nothing, so
    // the load would thin as a run goes on (a walk of 55 years came back after 1,000 s of the
    // soak). The soak's hour at 60 holds/s walks 36,000 nights per unit, to about 2125: dates
    // end at 2199.
    static NIGHTS: AtomicU64 = AtomicU64::new(0);
    let n = NIGHTS.fetch_add(1, Ordering::Relaxed);
    let unit = ctx.units[(n as usize + task) % LANES];
    let day = 1 + (n / LANES as u64) as i64;
    let r = ctx
        .client
        .post(format!("{}/api/v1/reservations", ctx.base))
        .json(
            &json!({"accommodation_id": unit, "check_in": crate::helpers::day(day),
            "check_out": crate::helpers::day(day + 1), "guests": 2, "contact_name": "Ana Pérez",
            "contact_phone": "0351 15-412-3456", "contact_email": "ana@example.com"}),
        )
        .send()
        .await
        .ok()?;
    let status = r.status();
    let body: Value = r.json().await.ok()?;
    match status {
        StatusCode::CREATED => {
            let code = body["code"].as_str()?.to_owned();
            let mut l = ctx.ledger.lock().unwrap();
            l.holds.insert(
                code.clone(),
                Expect {
                    acked: "pre_reserved".into(),
                    deposit: body["deposit_amount"].as_str()?.to_owned(),
                    ..Expect::default()
                },
            );
            l.ack("hold");
            drop(l);
            let mut recent = ctx.recent.lock().unwrap();
            if recent.len() == RECENT {
                recent.pop_front();
            }
            recent.push_back(code);
            Some(true)
        }
        StatusCode::CONFLICT => Some(true),
        _ => Some(false),
    }
}

/// The host confirms or cancels a recent hold.
async fn transition(ctx: &Ctx, action: &str, to: &str) -> Option<bool> {
    let (code, _) = claim(
        ctx,
        |e| e.acked == "pre_reserved" || (to == "cancelled" && e.acked == "confirmed"),
        |e| {
            e.attempted.insert(to.to_owned());
        },
    )?;
    let r = ctx
        .client
        .post(format!(
            "{}/api/v1/admin/reservations/{code}/{action}",
            ctx.base
        ))
        .bearer_auth(&ctx.token)
        .json(&json!({"reason": "prueba de caídas"}))
        .send()
        .await
        .ok()?;
    let status = r.status();
    let _ = r.bytes().await.ok()?;
    let mut l = ctx.ledger.lock().unwrap();
    let e = l.holds.get_mut(&code)?;
    e.attempted.remove(to);
    match status {
        StatusCode::OK => {
            e.acked = to.to_owned();
            l.ack(if to == "confirmed" {
                "confirm"
            } else {
                "cancel"
            });
            Some(true)
        }
        StatusCode::CONFLICT => Some(true),
        _ => Some(false),
    }
}

/// A guest pays the deposit of a recent hold: Mercado Pago reports the payment and notifies
/// us (sometimes twice, as it does when it retries).
async fn pay(ctx: &Ctx) -> Option<bool> {
    let (code, deposit) = claim(
        ctx,
        |e| e.acked == "pre_reserved" && !e.paid,
        |e| e.paid = true,
    )?;
    let id = (9_000_000_000 + ctx.next.fetch_add(1, Ordering::Relaxed)).to_string();
    ctx.mp
        .set_payment(fake_mp::payment(&id, "approved", &deposit, Some(&code)));
    let times = if rand::rng().random_bool(0.3) { 2 } else { 1 };
    let mut ok = true;
    for _ in 0..times {
        let ts = jiff::Timestamp::now().as_second();
        let manifest = format!("id:{id};request-id:req-{id};ts:{ts};");
        let sig = format!(
            "ts={ts},v1={}",
            alojamientos::secret::hmac_sha256_hex(
                fake_mp::WEBHOOK_SECRET.as_bytes(),
                manifest.as_bytes()
            )
        );
        let r = ctx
            .client
            .post(format!(
                "{}/api/v1/webhooks/mercadopago?data.id={id}&type=payment",
                ctx.base
            ))
            .header("x-signature", sig)
            .header("x-request-id", format!("req-{id}"))
            .json(&json!({"type": "payment", "data": {"id": id}}))
            .send()
            .await
            .ok()?;
        ok &= r.status() == StatusCode::OK;
        if r.status() == StatusCode::OK {
            let mut l = ctx.ledger.lock().unwrap();
            l.payments.insert(id.clone(), code.clone());
            l.ack("payment_notification");
        }
    }
    Some(ok)
}

/// A guest writes on WhatsApp from a number of their own.
async fn whatsapp(ctx: &Ctx) -> Option<bool> {
    let n = ctx.next.fetch_add(1, Ordering::Relaxed);
    let phone = (super::world::FIRST_GUEST_PHONE + n).to_string();
    let event = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5491155550000", "phone_number_id": fake_graph::PHONE_ID},
            "contacts": [{"profile": {"name": "Huésped"}, "wa_id": phone}],
            "messages": [{"from": phone, "id": format!("wamid.in{n}"),
                "timestamp": jiff::Timestamp::now().as_second().to_string(),
                "type": "text", "text": {"body": "hola! tienen lugar para 2 el finde?"}}]}}]}]});
    let raw = event.to_string();
    let sig = format!(
        "sha256={}",
        alojamientos::secret::hmac_sha256_hex(fake_graph::APP_SECRET.as_bytes(), raw.as_bytes())
    );
    let r = ctx
        .client
        .post(format!("{}/api/v1/webhooks/whatsapp", ctx.base))
        .header("x-hub-signature-256", sig)
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .ok()?;
    let ok = r.status() == StatusCode::OK;
    if ok {
        let mut l = ctx.ledger.lock().unwrap();
        l.whatsapp.insert(phone);
        l.ack("whatsapp_message");
    }
    Some(ok)
}

async fn feed_sync(ctx: &Ctx) -> Option<bool> {
    let unit = ctx.units[LANES];
    let r = ctx
        .client
        .post(format!(
            "{}/api/v1/admin/accommodations/{unit}/feeds/1/sync",
            ctx.base
        ))
        .bearer_auth(&ctx.token)
        .send()
        .await
        .ok()?;
    let ok = r.status() == StatusCode::OK;
    let body: Value = r.json().await.ok()?;
    if ok && body["error"].is_null() {
        let mut l = ctx.ledger.lock().unwrap();
        l.feed_synced = true;
        l.ack("feed_sync");
    }
    Some(ok)
}

async fn backup(ctx: &Ctx) -> Option<bool> {
    let r = ctx
        .client
        .post(format!("{}/api/v1/admin/backups", ctx.base))
        .bearer_auth(&ctx.token)
        .send()
        .await
        .ok()?;
    let ok = r.status() == StatusCode::CREATED;
    let body: Value = r.json().await.ok()?;
    if ok {
        let mut l = ctx.ledger.lock().unwrap();
        l.backups.push(body["path"].as_str()?.to_owned());
        l.ack("backup");
    }
    Some(ok)
}

async fn quote(ctx: &Ctx, task: usize) -> Option<bool> {
    let unit = ctx.units[task % ctx.units.len()];
    let from = fresh_day(ctx);
    let r = ctx
        .client
        .get(format!(
            "{}/api/v1/accommodations/{unit}/quote?check_in={}&check_out={}&guests=2",
            ctx.base,
            crate::helpers::day(from),
            crate::helpers::day(from + 3)
        ))
        .send()
        .await
        .ok()?;
    let ok = r.status() == StatusCode::OK;
    let _ = r.bytes().await.ok()?;
    Some(ok)
}
