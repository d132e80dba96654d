//! A scripted OTA calendar server on 127.0.0.1: each path answers what the test set last,
//! and every request's headers are kept for assertions.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What a path answers.
#[derive(Clone, Debug)]
pub enum Reply {
    /// 200 `text/calendar`; with an ETag, a matching `If-None-Match` gets 304.
    Calendar { body: Vec<u8>, etag: Option<String> },
    /// Any status with extra headers and a small body.
    Status {
        code: u16,
        headers: Vec<(&'static str, String)>,
    },
    /// Reads the request and never answers.
    Hang,
    /// Announces twice the body's length, sends the body and closes.
    CutShort(Vec<u8>),
}

#[derive(Default)]
struct Script {
    replies: HashMap<String, Reply>,
    requests: HashMap<String, Vec<HashMap<String, String>>>,
}

#[derive(Clone)]
pub struct FakeFeeds {
    pub addr: SocketAddr,
    script: Arc<Mutex<Script>>,
}

impl FakeFeeds {
    pub async fn start() -> FakeFeeds {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let script = Arc::new(Mutex::new(Script::default()));
        let shared = script.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, shared.clone()));
            }
        });
        FakeFeeds { addr, script }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn set(&self, path: &str, reply: Reply) {
        self.script
            .lock()
            .unwrap()
            .replies
            .insert(path.to_owned(), reply);
    }

    /// Serves `body` as a calendar with the given ETag.
    pub fn calendar(&self, path: &str, body: &str, etag: Option<&str>) {
        self.set(
            path,
            Reply::Calendar {
                body: body.as_bytes().to_vec(),
                etag: etag.map(str::to_owned),
            },
        );
    }

    /// Headers (lower-cased names) of every request to `path` so far.
    pub fn requests(&self, path: &str) -> Vec<HashMap<String, String>> {
        self.script
            .lock()
            .unwrap()
            .requests
            .get(path)
            .cloned()
            .unwrap_or_default()
    }
}

async fn serve(mut stream: TcpStream, script: Arc<Mutex<Script>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let path = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let reply = {
        let mut s = script.lock().unwrap();
        s.requests
            .entry(path.clone())
            .or_default()
            .push(headers.clone());
        s.replies.get(&path).cloned()
    };
    let response = match reply {
        None => head_only(404, &[]),
        Some(Reply::Hang) => {
            tokio::time::sleep(std::time::Duration::from_secs(120)).await;
            return;
        }
        Some(Reply::Status { code, headers }) => head_only(code, &headers),
        Some(Reply::CutShort(body)) => {
            let mut out = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len() * 2
            )
            .into_bytes();
            out.extend_from_slice(&body);
            out
        }
        Some(Reply::Calendar { body, etag }) => {
            let matches = etag.is_some() && headers.get("if-none-match") == etag.as_ref();
            let tag = etag.map(|t| format!("ETag: {t}\r\n")).unwrap_or_default();
            if matches {
                format!("HTTP/1.1 304 Not Modified\r\n{tag}Connection: close\r\n\r\n").into_bytes()
            } else {
                let gzip = headers
                    .get("accept-encoding")
                    .is_some_and(|e| e.contains("gzip"));
                let (body, encoding) = if gzip {
                    let mut enc =
                        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                    enc.write_all(&body).unwrap();
                    (enc.finish().unwrap(), "Content-Encoding: gzip\r\n")
                } else {
                    (body, "")
                };
                let mut out = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/calendar; charset=utf-8\r\n{tag}{encoding}Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                out.extend_from_slice(&body);
                out
            }
        }
    };
    let _ = stream.write_all(&response).await;
    let _ = stream.shutdown().await;
}

fn head_only(code: u16, headers: &[(&'static str, String)]) -> Vec<u8> {
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    format!(
        "HTTP/1.1 {code} Scripted\r\n{extra}Content-Length: 5\r\nConnection: close\r\n\r\nerror"
    )
    .into_bytes()
}
