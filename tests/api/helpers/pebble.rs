//! Let's Encrypt's ACME test server (Debian package `pebble`) on loopback, with
//! `pebble-challtestsrv` as its DNS (every name → 127.0.0.1).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio::process::{Child, Command};

use super::free_port;

pub use super::https_client::get;

/// Whether pebble can run here. Without it the caller skips, unless
/// `ALOJAMIENTOS_PEBBLE_TESTS=required` (as `.ci/run` sets), which makes that a failure.
pub fn available() -> bool {
    let found = ["pebble", "pebble-challtestsrv"]
        .iter()
        .all(|b| which(b).is_some());
    super::tool_present(found, "ALOJAMIENTOS_PEBBLE_TESTS", "pebble")
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
}

/// Where pebble validates: the server's port-80 and HTTPS ports.
pub struct Targets {
    pub http_port: u16,
    pub tls_port: u16,
    /// Lifetime of the certificates it issues, in seconds.
    pub validity_s: u64,
}

/// Pebble's files and ports, kept across a stop so it can come back at the same address.
pub struct Setup {
    dir: PathBuf,
    acme: u16,
    management: u16,
    dns: u16,
    dns_management: u16,
}

/// Pebble and its DNS, killed when dropped.
pub struct Pebble {
    pub directory: String,
    /// PEM of the self-signed certificate of pebble's own HTTPS listeners.
    pub listener_ca: PathBuf,
    setup: Setup,
    children: Vec<Child>,
}

impl Pebble {
    /// Starts pebble with its files in `dir`; returns once its directory answers.
    pub async fn start(dir: &Path, targets: &Targets) -> Pebble {
        std::fs::create_dir_all(dir).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        std::fs::write(dir.join("pebble-listener.pem"), cert.pem()).unwrap();
        std::fs::write(dir.join("pebble-listener.key"), key.serialize_pem()).unwrap();
        let setup = Setup {
            dir: dir.to_owned(),
            acme: free_port(),
            management: free_port(),
            dns: free_port(),
            dns_management: free_port(),
        };
        let config = serde_json::json!({"pebble": {
            "listenAddress": format!("127.0.0.1:{}", setup.acme),
            "managementListenAddress": format!("127.0.0.1:{}", setup.management),
            "certificate": dir.join("pebble-listener.pem"),
            "privateKey": dir.join("pebble-listener.key"),
            "httpPort": targets.http_port,
            "tlsPort": targets.tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false,
            "certificateValidityPeriod": targets.validity_s,
        }});
        std::fs::write(dir.join("pebble.json"), config.to_string()).unwrap();
        Pebble::run(setup).await
    }

    /// Starts (again) on `setup`'s ports; a new run has a new issuing root.
    pub async fn run(setup: Setup) -> Pebble {
        let dns_server = Command::new("pebble-challtestsrv")
            .args(["-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""])
            .args(["-dns01", &format!("127.0.0.1:{}", setup.dns)])
            .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
            .args([
                "-management",
                &format!("127.0.0.1:{}", setup.dns_management),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pebble = Command::new("pebble")
            .arg("-config")
            .arg(setup.dir.join("pebble.json"))
            .args(["-dnsserver", &format!("127.0.0.1:{}", setup.dns)])
            .env("PEBBLE_VA_NOSLEEP", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pebble = Pebble {
            directory: format!("https://127.0.0.1:{}/dir", setup.acme),
            listener_ca: setup.dir.join("pebble-listener.pem"),
            children: vec![dns_server, pebble],
            setup,
        };
        let roots = vec![pebble.listener_root()];
        let acme = SocketAddr::from(([127, 0, 0, 1], pebble.setup.acme));
        let answers = super::eventually(Duration::from_secs(20), || async {
            get(acme, "127.0.0.1", "/dir", &roots).await.is_ok()
        })
        .await;
        assert!(answers, "pebble answers on {}", pebble.directory);
        pebble
    }

    fn listener_root(&self) -> CertificateDer<'static> {
        CertificateDer::from_pem_file(&self.listener_ca).unwrap()
    }

    /// The root that signs the certificates this pebble run issues (new on every start).
    pub async fn issuing_root(&self) -> CertificateDer<'static> {
        let management = SocketAddr::from(([127, 0, 0, 1], self.setup.management));
        let r = get(management, "127.0.0.1", "/roots/0", &[self.listener_root()])
            .await
            .unwrap();
        CertificateDer::from_pem_slice(r.body.as_bytes()).unwrap()
    }

    /// Stops both processes; the setup brings them back with [`Pebble::run`].
    pub async fn stop(mut self) -> Setup {
        for child in &mut self.children {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
        self.setup
    }
}
