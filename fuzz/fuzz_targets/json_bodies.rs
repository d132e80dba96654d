//! cargo-fuzz target `json_bodies`: see `harness::http::json_bodies` for what it checks.
#![no_main]

#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::http::json_bodies(data));
