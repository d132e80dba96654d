use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match alojamientos::cli::run(alojamientos::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
