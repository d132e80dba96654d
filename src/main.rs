use clap::Parser;

/// mimalloc: lower fragmentation (smaller RSS) than glibc's per-thread arenas, and much faster
/// than musl's allocator in the static build.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
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
