//! The reliability campaign (docs/reliability.md): the restore drill run word for word, the
//! money rule, iCal feeds as they arrive in the wild, phones, NLU inputs the fuzzer found, the
//! replay of every committed fuzz input, a full disk, and short runs of the crash loop and the
//! soak (bench/crash-loop.sh and bench/soak.sh run them long, on the release build).

mod crash_loop;
mod disk_full;
mod fuzz_replay;
mod ical_wild;
mod load;
mod money;
mod nlu;
mod phones;
mod restore_drill;
mod soak;
mod world;
