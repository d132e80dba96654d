//! A small W3C WebDriver client over chromedriver and Debian's headless chromium, for the
//! web UI's end-to-end tests. The browser runs in the property's time zone.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use reqwest::Client;
use serde_json::{Value, json};

use super::eventually;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// The browser and its driver: Debian's packages unless `CHROMIUM` / `CHROMEDRIVER` say otherwise.
fn program(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// A browser session; chromedriver is killed when it is dropped.
pub struct Browser {
    driver: Child,
    base: String,
    client: Client,
    _profile: tempfile::TempDir,
}

/// Starts chromium, or `None` (after saying why) when it is not installed and
/// `ALOJAMIENTOS_BROWSER_TESTS` is not `required` (`.ci/run` sets it).
pub async fn browser() -> Option<Browser> {
    browser_with(&[]).await
}

/// A browser with page scripts turned off (the guest site must work without them).
pub async fn browser_without_js() -> Option<Browser> {
    browser_with(&["--blink-settings=scriptEnabled=false"]).await
}

async fn browser_with(extra: &[&str]) -> Option<Browser> {
    let chromium = program("CHROMIUM", "/usr/bin/chromium");
    let chromedriver = program("CHROMEDRIVER", "/usr/bin/chromedriver");
    if !chromedriver.exists() || !chromium.exists() {
        let required = std::env::var("ALOJAMIENTOS_BROWSER_TESTS").is_ok_and(|v| v == "required");
        let why = format!(
            "no {} / {} (apt-get install chromium chromium-driver)",
            chromium.display(),
            chromedriver.display()
        );
        assert!(!required, "the browser test is required: {why}");
        eprintln!("SKIPPED: {why}");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Its own process group, so that dropping the browser ends chromium's processes too.
    let driver = Command::new(&chromedriver)
        .process_group(0)
        .arg(format!("--port={port}"))
        .env("TZ", "America/Argentina/Buenos_Aires")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let client = Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let up = eventually(Duration::from_secs(20), || async {
        client
            .get(format!("{base}/status"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await;
    assert!(up, "chromedriver did not come up");
    let profile = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--headless=new".to_owned(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--lang=es-AR".into(),
        format!("--user-data-dir={}", profile.path().display()),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {"binary": chromium, "args": args}
    }}});
    let created: Value = client
        .post(format!("{base}/session"))
        .json(&caps)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no browser session: {created}"));
    Some(Browser {
        driver,
        base: format!("{base}/session/{id}"),
        client,
        _profile: profile,
    })
}

impl Drop for Browser {
    fn drop(&mut self) {
        let group = -(self.driver.id() as i32);
        // SAFETY: a plain kill(2) of the process group this browser started.
        unsafe { libc::kill(group, libc::SIGKILL) };
        let _ = self.driver.wait();
    }
}

/// Where screenshots go: `target/screenshots/` (CI keeps them as artifacts).
pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Browser {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        v["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({"url": url})).await;
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await;
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its result.
    pub async fn js(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// Polls until `expr` (a JavaScript expression) is truthy, for up to ten seconds.
    pub async fn wait_for(&self, expr: &str) {
        let script = format!("return !!({expr});");
        let ok = eventually(Duration::from_secs(10), || async {
            self.js(&script, json!([])).await == json!(true)
        })
        .await;
        let page = self
            .js(
                "return location.hash + ' ' + document.body.innerText.slice(0, 2000);",
                json!([]),
            )
            .await;
        assert!(ok, "timed out waiting for {expr}; page: {page}");
    }

    /// Waits until the app finished rendering `hash`.
    pub async fn ready(&self, hash: &str) {
        self.wait_for(&format!(
            "document.getElementById('main').dataset.ready === {}",
            json!(hash)
        ))
        .await;
    }

    /// The element matching `css`, once it exists.
    async fn find(&self, css: &str) -> String {
        self.wait_for(&format!("document.querySelector({})", json!(css)))
            .await;
        let found = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        found[ELEMENT].as_str().unwrap().to_owned()
    }

    /// Logs in to the web UI of `app` as its first admin and waits for the home page.
    pub async fn log_in(&self, app: &super::TestApp) {
        self.goto(&app.url("/admin/")).await;
        self.type_into("#login-form input[name=email]", &app.admin_email)
            .await;
        self.type_into("#login-form input[name=password]", &app.admin_password)
            .await;
        self.click("#login-form button[type=submit]").await;
        self.ready("#/").await;
    }

    /// Presses and releases one key on the page (WebDriver key codes: `\u{E004}` is Tab).
    pub async fn key(&self, key: &str) {
        let actions = json!([{"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]);
        self.post(
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.post(&format!("/element/{id}/click"), json!({})).await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.post(&format!("/element/{id}/clear"), json!({})).await;
        self.post(&format!("/element/{id}/value"), json!({"text": text}))
            .await;
    }

    pub async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The element matching `css`, polled through WebDriver alone (no page script needed).
    async fn element(&self, css: &str) -> String {
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Some(id) = self.try_element(css).await {
                return id;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no {css} on {}", self.url().await);
    }

    async fn try_element(&self, css: &str) -> Option<String> {
        let v = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        v[ELEMENT].as_str().map(str::to_owned)
    }

    /// Clicks `css` without running page scripts (works with JavaScript off).
    pub async fn press(&self, css: &str) {
        let id = self.element(css).await;
        self.post(&format!("/element/{id}/click"), json!({})).await;
    }

    /// Types into `css` without running page scripts.
    pub async fn fill(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.post(&format!("/element/{id}/clear"), json!({})).await;
        self.post(&format!("/element/{id}/value"), json!({"text": text}))
            .await;
    }

    /// Chooses the file at `path` in the file input `css`.
    pub async fn attach(&self, css: &str, path: &Path) {
        let id = self.element(css).await;
        let text = path.display().to_string();
        self.post(&format!("/element/{id}/value"), json!({"text": text}))
            .await;
    }

    /// The text of `css` without running page scripts.
    pub async fn read(&self, css: &str) -> String {
        let id = self.element(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The current URL.
    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Polls until the page at the current URL shows `text` in `css`.
    pub async fn wait_text(&self, css: &str, text: &str) {
        let start = std::time::Instant::now();
        let mut last = String::new();
        while start.elapsed() < Duration::from_secs(15) {
            if let Some(id) = self.try_element(css).await {
                last = self
                    .call(reqwest::Method::GET, &format!("/element/{id}/text"), None)
                    .await
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if last.contains(text) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{css} never showed {text:?} on {}; last: {last:?}",
            self.url().await
        );
    }

    /// Accepts a `confirm()` dialog once it is open.
    pub async fn accept_dialog(&self) {
        let ok = eventually(Duration::from_secs(5), || async {
            self.post("/alert/accept", json!({})).await.is_null()
        })
        .await;
        assert!(ok, "no dialog to accept");
    }

    pub async fn cookies(&self) -> Vec<Value> {
        self.call(reqwest::Method::GET, "/cookie", None)
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Saves a PNG of the viewport as `target/screenshots/{name}.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let data = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap())
            .unwrap();
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}
