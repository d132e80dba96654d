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

/// mimalloc gives freed memory back to the system 1 s after it is freed; under load that second
/// of churn stays resident. 10 ms keeps the resident set near what is in use (bench/run.sh, 64
/// connections: peak 51-56 MB -> 47-48 MB, throughput unchanged). `MIMALLOC_PURGE_DELAY` wins.
fn return_freed_memory_promptly() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mimalloc's documented option setter; any value is valid for this option.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 10) };
    }
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
    fn the_purge_delay_option_is_the_one_set() {
        // SAFETY: mimalloc's documented option getter.
        let default = unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(default, 1000, "mimalloc's purge delay default is 1000 ms");
        return_freed_memory_promptly();
        assert_eq!(unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) }, 10);
    }
}
