//! The soak: the binary under steady mixed load for `SOAK_SECONDS` (an hour with
//! `bench/soak.sh`; 12 s in the normal `cargo test`, as a smoke of the harness), sampled every
//! `SOAK_SAMPLE_SECONDS` (10): resident memory, open file descriptors, p50 / p99 latency of
//! quotes and holds in the window, errors. The rates are open loop (see [`RATES`]). Writes
//! `target/reliability/soak.csv` and `soak.md` (a table and the flatness verdict: after the
//! first tenth of the run, RSS within 5 MB, open fds unchanged, p99 within 20 %). Sockets are
//! told apart from the other descriptors: their number follows the connections the open-loop
//! load opens (more while answers are slow) and the providers' connections, while a leak of
//! files would show in the others.

use std::fmt::Write as _;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::load::{Ledger, Load, Op, Target};
use super::world::{World, process_usage};
use crate::helpers::binary::login;

/// Operations per second. Quotes at 2,350/s are 10 % of the quote capacity measured by
/// `bench/run.sh` on this machine (23.5k/s); holds at 60/s are 1 % of the bare hold capacity
/// (6k/s), but each hold here also asks Mercado Pago for a link and sends the host a WhatsApp
/// message and an email, which is where the write path's cost is.
const RATES: [(Op, f64); 8] = [
    (Op::Quote, 2350.0),
    (Op::Hold, 60.0),
    (Op::Confirm, 12.0),
    (Op::Cancel, 12.0),
    (Op::Pay, 6.0),
    (Op::WhatsApp, 6.0),
    (Op::FeedSync, 1.0 / 30.0),
    (Op::Backup, 1.0 / 600.0),
];

fn env_secs(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

/// One sample: seconds since start, RSS (MB), open fds (and how many are sockets), and per op
/// (quote, hold) p50 / p99 in ms and count, plus errors.
struct Sample {
    t: u64,
    rss_mb: f64,
    fds: usize,
    sockets: usize,
    quote: (f64, f64, usize),
    hold: (f64, f64, usize),
    all_p99: f64,
    ops: usize,
    errors: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_fds_and_latency_stay_flat_under_steady_load() {
    let seconds = env_secs("SOAK_SECONDS", 12);
    let every = env_secs("SOAK_SAMPLE_SECONDS", if seconds >= 600 { 10 } else { 2 });
    let scale: f64 = std::env::var("SOAK_RATE_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if seconds >= 600 { 1.0 } else { 0.05 });
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let world = World::start().await;
    // Holds lapse after 10 minutes, so the load's calendar walk finds its nights free again.
    // `SOAK_SERVER_ENV` adds settings for an experiment, e.g. `SERVER__CACHE_SIZE_MB=4`
    // (space-separated `KEY=value` pairs, each read as `ALOJAMIENTOS_KEY`).
    let extra_env = std::env::var("SOAK_SERVER_ENV").unwrap_or_default();
    let mut settings = vec![("RESERVATIONS__HOLD_DURATION", "10m")];
    settings.extend(extra_env.split_whitespace().map(|kv| {
        kv.split_once('=')
            .unwrap_or_else(|| panic!("SOAK_SERVER_ENV: {kv:?} is not KEY=value"))
    }));
    let server = world.serve_with(&data, &settings).await;
    let pid = server.child.id().unwrap();
    // The load generator may run niced (bench/soak.sh); the server it measures does not.
    let _ = std::process::Command::new("renice")
        .args(["-n", "0", "-p", &pid.to_string()])
        .output();
    let token = login(
        &world.client,
        &server.base,
        "admin@alojamientos.local",
        server.password.as_deref().unwrap(),
    )
    .await;
    let units = world.set_up(&server.base, &token).await;
    let rates: Vec<(Op, f64)> = RATES.iter().map(|(op, r)| (*op, r * scale)).collect();
    let load = Load::paced(
        Target {
            world: &world,
            base: &server.base,
            token: &token,
            units: &units,
            ledger: Arc::new(Mutex::new(Ledger::default())),
            next: Arc::new(AtomicU64::new(0)),
        },
        &rates,
        512,
    );
    let started = Instant::now();
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs(every));
    tick.tick().await;
    while started.elapsed() < Duration::from_secs(seconds) {
        tick.tick().await;
        let mut w = load.take_window();
        let mut stats = |op: Op| {
            let v = w.samples.entry(op).or_default();
            v.sort_unstable();
            (percentile(v, 0.5), percentile(v, 0.99), v.len())
        };
        let (quote, hold) = (stats(Op::Quote), stats(Op::Hold));
        let mut all: Vec<u64> = w.samples.values().flatten().copied().collect();
        all.sort_unstable();
        let (rss, fds, sockets) = process_usage(pid).expect("the server runs");
        samples.push(Sample {
            t: started.elapsed().as_secs(),
            rss_mb: rss as f64 / 1e6,
            fds,
            sockets,
            quote,
            hold,
            all_p99: percentile(&all, 0.99),
            ops: all.len(),
            errors: w.errors,
        });
    }
    let acks = load.ledger.lock().unwrap().total_acks();
    load.stop().await;
    report(&samples, seconds, every, scale, acks, &extra_env);
    assert!(samples.len() >= 3, "too few samples");
    assert!(
        samples.iter().all(|s| s.ops > 0),
        "a window without answers"
    );
}

/// `extra_env`: the settings `SOAK_SERVER_ENV` added, named in the report's first line.
fn report(samples: &[Sample], seconds: u64, every: u64, scale: f64, acks: u64, extra_env: &str) {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/reliability");
    std::fs::create_dir_all(&out).unwrap();
    let mut csv = String::from(
        "t_s,rss_mb,open_fds,sockets,quote_p50_ms,quote_p99_ms,quotes,hold_p50_ms,hold_p99_ms,holds,all_p99_ms,ops,errors\n",
    );
    for s in samples {
        let _ = writeln!(
            csv,
            "{},{:.1},{},{},{:.2},{:.2},{},{:.2},{:.2},{},{:.2},{},{}",
            s.t,
            s.rss_mb,
            s.fds,
            s.sockets,
            s.quote.0,
            s.quote.1,
            s.quote.2,
            s.hold.0,
            s.hold.1,
            s.hold.2,
            s.all_p99,
            s.ops,
            s.errors
        );
    }
    std::fs::write(out.join("soak.csv"), &csv).unwrap();
    let warm = samples.len() / 10;
    let steady = &samples[warm.min(samples.len() - 1)..];
    let (first, last) = (&steady[0], &steady[steady.len() - 1]);
    let rss_min = steady.iter().map(|s| s.rss_mb).fold(f64::MAX, f64::min);
    let rss_max = steady.iter().map(|s| s.rss_mb).fold(f64::MIN, f64::max);
    let fds: Vec<usize> = steady.iter().map(|s| s.fds).collect();
    let sockets: Vec<usize> = steady.iter().map(|s| s.sockets).collect();
    let files: Vec<usize> = steady.iter().map(|s| s.fds - s.sockets).collect();
    let half = steady.len() / 2;
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let p99_early = median(&mut steady[..half.max(1)].iter().map(|s| s.all_p99).collect());
    let p99_late = median(&mut steady[half..].iter().map(|s| s.all_p99).collect());
    let mut md = format!(
        "Soak: {seconds} s at rate scale {scale} (quotes {:.0}/s, holds {:.0}/s), sampled every {every} s; {acks} writes acknowledged; server settings changed: {}.\n\n\
         | t (s) | RSS (MB) | open fds (sockets) | quote p50 / p99 (ms) | hold p50 / p99 (ms) | all p99 (ms) | ops in window | errors |\n|---|---|---|---|---|---|---|---|\n",
        RATES[0].1 * scale,
        RATES[1].1 * scale,
        if extra_env.trim().is_empty() {
            "none"
        } else {
            extra_env.trim()
        }
    );
    let step = (samples.len() / 24).max(1);
    let tail = samples
        .last()
        .filter(|_| !(samples.len() - 1).is_multiple_of(step));
    for s in samples.iter().step_by(step).chain(tail) {
        let _ = writeln!(
            md,
            "| {} | {:.1} | {} ({}) | {:.2} / {:.2} | {:.2} / {:.2} | {:.2} | {} | {} |",
            s.t,
            s.rss_mb,
            s.fds,
            s.sockets,
            s.quote.0,
            s.quote.1,
            s.hold.0,
            s.hold.1,
            s.all_p99,
            s.ops,
            s.errors
        );
    }
    let _ = write!(
        md,
        "\nAfter the first tenth: RSS {:.1}–{:.1} MB (first {:.1}, last {:.1}, spread {:.1} MB; target ≤ 5), \
         open fds {}–{}: sockets {}–{}, other descriptors {}–{} (target: unchanged), median p99 of the first half {p99_early:.2} ms vs second half {p99_late:.2} ms \
         ({:+.0} %; target within 20 %).\n",
        rss_min,
        rss_max,
        first.rss_mb,
        last.rss_mb,
        rss_max - rss_min,
        fds.iter().min().unwrap(),
        fds.iter().max().unwrap(),
        sockets.iter().min().unwrap(),
        sockets.iter().max().unwrap(),
        files.iter().min().unwrap(),
        files.iter().max().unwrap(),
        (p99_late / p99_early - 1.0) * 100.0
    );
    std::fs::write(out.join("soak.md"), &md).unwrap();
    eprintln!("{md}");
}
