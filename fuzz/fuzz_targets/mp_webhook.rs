//! cargo-fuzz target `mp_webhook`: see `harness::mp_webhook` for what it checks.
#![no_main]

#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::mp_webhook(data));
