//! Command-line verbs.

mod backup;

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::config::{DEFAULT_CONFIG, Settings};
use crate::secret::hash_password;
use crate::startup::{Application, shutdown_signal};
use crate::store::{AdminUser, Store};

/// Booking appliance for small accommodation hosts: reservations, holds and payments from
/// one binary and one data directory.
#[derive(Debug, Parser)]
#[command(name = "alojamientos", version, propagate_version = true)]
pub struct Cli {
    /// Config file (TOML). Without one, built-in defaults and ALOJAMIENTOS_* variables apply.
    #[arg(long, global = true, env = "ALOJAMIENTOS_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the server (the default).
    Serve {
        /// Seed three demo accommodations into an empty store.
        #[arg(long)]
        demo: bool,
    },
    /// Manage admin accounts (the server must be stopped).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Show configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Take a consistent snapshot now: the running server makes it (in `backup.dir`), or,
    /// when none runs, this command snapshots the store file itself.
    Backup {
        /// Also (or, without a server, only) write the snapshot here, with PATH.sha256.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Replace the store by a verified snapshot; the server must be stopped. The replaced
    /// store is kept beside it as alojamientos.redb.replaced-<time>.
    Restore {
        /// Snapshot file (with its .sha256 beside it).
        path: PathBuf,
    },
    /// Verify a store or snapshot: checksum (if a .sha256 is beside it), redb integrity,
    /// schema version, records decode. Without PATH, the store (server stopped).
    Check {
        /// Snapshot or store file.
        path: Option<PathBuf>,
    },
    /// Print the version.
    Version,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin or reset their password; the password is read from standard input.
    Add {
        /// The admin's email address.
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the commented example configuration (the built-in defaults).
    Default,
}

/// Runs the chosen verb.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Version => {
            println!("alojamientos {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Default,
        } => {
            print!("{DEFAULT_CONFIG}");
            Ok(())
        }
        Command::Serve { demo } => serve(load(cli.config)?, demo).await,
        Command::Admin {
            command: AdminCommand::Add { email },
        } => add_admin(load(cli.config)?, &email).await,
        Command::Backup { out } => backup::backup(load(cli.config)?, out).await,
        Command::Restore { path } => backup::restore(&load(cli.config)?, &path),
        Command::Check { path } => backup::check(&load(cli.config)?, path),
    }
}

fn load(path: Option<PathBuf>) -> anyhow::Result<Settings> {
    Ok(Settings::load(path.as_deref())?)
}

/// An error already written to the JSON log stream; `main` does not print it again.
#[derive(Debug, thiserror::Error)]
#[error("{0:#}")]
pub struct Logged(anyhow::Error);

async fn serve(settings: Settings, demo: bool) -> anyhow::Result<()> {
    let json = settings.log_json;
    crate::telemetry::init_logging(&settings.log_filter, json);
    match run_server(settings, demo, json).await {
        Err(e) if json => {
            tracing::error!(error = format!("{e:#}"), "the server stopped with an error");
            Err(Logged(e).into())
        }
        other => other,
    }
}

async fn run_server(settings: Settings, demo: bool, json: bool) -> anyhow::Result<()> {
    let app = Application::build(settings, demo).await?;
    if let Some(admin) = &app.first_admin {
        crate::first_admin::show(&app.data_dir(), &admin.email, &admin.password, json)
            .context("writing the first admin's one-time password")?;
    }
    let url = format!("http://{}", app.local_addr());
    crate::telemetry::notice(json, "listening", &[("url", &url)], || {
        format!("alojamientos listening on {url}")
    });
    app.run(shutdown_signal()).await
}

async fn add_admin(settings: Settings, email: &str) -> anyhow::Result<()> {
    let email = crate::domain::contact::normalize_email(email.trim())
        .with_context(|| format!("{email:?} is not an email address"))?
        .to_lowercase();
    eprintln!(
        "Password for {email} (at least {} characters, not a common password), then Enter:",
        crate::domain::password::MIN_CHARS
    );
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    if let Err(weak) = crate::domain::password::check(&password, &email) {
        bail!("{weak}");
    }
    let (store, _writer) = Store::open(
        &settings.data_dir,
        settings.lock_timeout,
        settings.cache_bytes,
    )?;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password)).await?;
    store
        .put_admin(AdminUser {
            email: email.clone(),
            password_hash: hash,
            created_at: jiff::Timestamp::now(),
        })
        .await?;
    crate::first_admin::forget(&settings.data_dir, &email);
    println!("admin {email} saved");
    Ok(())
}
