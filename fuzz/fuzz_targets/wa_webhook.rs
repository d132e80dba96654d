//! cargo-fuzz target `wa_webhook`: see `harness::http::wa_webhook` for what it checks.
#![no_main]

#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::http::wa_webhook(data));
