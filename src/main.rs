use clap::Parser;

/// mimalloc: lower fragmentation (smaller RSS) than glibc's per-thread arenas, and much faster
/// than musl's allocator in the static build.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h's `mi_option_e` (checked by the test below).
const MI_OPTION_PURGE_DELAY: i32 = 15;

unsafe extern "C" {
    fn mi_option_set(option: i32, value: std::ffi::c_long);
    #[cfg(test)]
    fn mi_option_get(option: i32) -> std::ffi::c_long;
}

/// Keeps the resident set near what is in use:
/// - mimalloc gives freed memory back to the system 10 ms after it is freed, not 1 s: under
///   load that second of churn stays resident (bench/run.sh, 64 connections: peak 51-56 MB ->
///   47-48 MB, throughput unchanged). `MIMALLOC_PURGE_DELAY` wins.
/// - No transparent huge pages for this process. mimalloc asks for them on its arenas, and a
///   2 MiB page stays resident as long as any of its 4 KiB is in use, whatever mimalloc gives
///   back: a store of 250 MB after 10 s of holds showed 84-88 MB resident, 97-108 MB after
///   backups; without huge pages 69 and 80 MB, throughput unchanged (`/tmp/bk2.sh`-style runs,
///   2026-12-06). mimalloc's own switch (`MIMALLOC_ALLOW_THP=0`) is read before `main`, so the
///   process flag is set here instead; it applies to later page faults in memory already
///   mapped too. Children inherit it: the speech-to-text command clears it (voice.rs).
fn return_freed_memory_promptly() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mimalloc's documented option setter; any value is valid for this option.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 10) };
    }
    // SAFETY: prctl(2) with PR_SET_THP_DISABLE takes plain integers and touches no memory.
    unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    return_freed_memory_promptly();
    match alojamientos::cli::run(alojamientos::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            if e.downcast_ref::<alojamientos::cli::Logged>().is_none() {
                eprintln!("error: {e:#}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_memory_goes_back_promptly_and_no_huge_pages_are_used() {
        // SAFETY: mimalloc's documented option getter.
        let default = unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(default, 1000, "mimalloc's purge delay default is 1000 ms");
        return_freed_memory_promptly();
        assert_eq!(unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) }, 10);
        // SAFETY: prctl(2) with PR_GET_THP_DISABLE only returns the flag.
        assert_eq!(
            unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) },
            1
        );
    }
}
