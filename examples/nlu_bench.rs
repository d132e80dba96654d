//! Benchmark: how long the Spanish NLU takes per message, over every phrase of the golden set
//! (read from `src/domain/nlu/golden.rs`) for a host with three accommodations, timed one call
//! at a time. Run with `cargo run --release --example nlu_bench`.

use std::time::{Duration, Instant};

use alojamientos::domain::nlu::analyze;
use jiff::civil::date;

const GOLDEN: &str = include_str!("../src/domain/nlu/golden.rs");
const ROUNDS: usize = 200;

/// The message (first string) of every tuple of the golden table.
fn phrases() -> Vec<String> {
    let table = GOLDEN
        .split("const GOLDEN")
        .nth(1)
        .expect("the golden table");
    let table = table.split("\n];").next().unwrap();
    let mut out = Vec::new();
    for tuple in table.split('(').skip(1) {
        let Some(rest) = tuple.trim_start().strip_prefix('"') else {
            continue;
        };
        let mut message = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => message.extend(chars.next()),
                '"' => break,
                c => message.push(c),
            }
        }
        out.push(message);
    }
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn main() {
    let phrases = phrases();
    assert!(phrases.len() >= 150, "{} phrases", phrases.len());
    let names: Vec<(u64, String)> = [
        "Cabaña del Lago",
        "Cabaña del Bosque",
        "Departamento Centro",
    ]
    .iter()
    .enumerate()
    .map(|(i, n)| (i as u64 + 1, (*n).to_owned()))
    .collect();
    let today = date(2026, 11, 25);
    let mut times = Vec::with_capacity(phrases.len() * ROUNDS);
    for _ in 0..ROUNDS {
        for p in &phrases {
            let started = Instant::now();
            std::hint::black_box(analyze(std::hint::black_box(p), today, &names));
            times.push(started.elapsed());
        }
    }
    times.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{} phrases x {ROUNDS} rounds = {} calls: p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs",
        phrases.len(),
        times.len(),
        us(percentile(&times, 0.50)),
        us(percentile(&times, 0.99)),
        us(percentile(&times, 0.999)),
        us(*times.last().unwrap()),
    );
}
