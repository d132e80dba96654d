//! A fake SMTP server on 127.0.0.1 that tests script: a plain-text SMTP conversation (no TLS,
//! no login) that records every message it accepts, decoded (RFC 2047 subjects, base64 or
//! quoted-printable bodies), and answers `MAIL FROM` with the fault codes queued by the test,
//! in order.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub message_id: String,
    pub body: String,
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    faults: VecDeque<u16>,
    attempts: usize,
}

#[derive(Clone)]
pub struct FakeSmtp {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl FakeSmtp {
    pub async fn start() -> FakeSmtp {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let s = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(converse(stream, s.clone()));
            }
        });
        FakeSmtp { addr, state }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The next `MAIL FROM`s are answered with these codes (e.g. 451, 554), one each.
    pub fn fail(&self, codes: &[u16]) {
        self.state.lock().unwrap().faults.extend(codes);
    }

    pub fn clear_faults(&self) {
        self.state.lock().unwrap().faults.clear();
    }

    /// Every accepted message, in order.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Accepted messages with `rcpt` among their recipients.
    pub fn received_by(&self, rcpt: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == rcpt))
            .collect()
    }

    /// `MAIL FROM` commands seen, refused ones included.
    pub fn attempts(&self) -> usize {
        self.state.lock().unwrap().attempts
    }
}

/// The address inside `<…>` of a `MAIL FROM:` / `RCPT TO:` argument.
fn address(arg: &str) -> String {
    arg.split('<')
        .nth(1)
        .and_then(|a| a.split('>').next())
        .unwrap_or(arg)
        .trim()
        .to_owned()
}

async fn converse(stream: TcpStream, state: Arc<Mutex<State>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let (mut from, mut to) = (String::new(), Vec::new());
    if write.write_all(b"220 fake.test ESMTP\r\n").await.is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        let reply = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            "250-fake.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n".to_owned()
        } else if upper.starts_with("MAIL FROM:") {
            let mut s = state.lock().unwrap();
            s.attempts += 1;
            match s.faults.pop_front() {
                Some(code) => format!("{code} fault injected by the test\r\n"),
                None => {
                    from = address(&command[10..]);
                    to.clear();
                    "250 OK\r\n".to_owned()
                }
            }
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&command[8..]));
            "250 OK\r\n".to_owned()
        } else if upper == "DATA" {
            if write
                .write_all(b"354 end with <CRLF>.<CRLF>\r\n")
                .await
                .is_err()
            {
                return;
            }
            let mut raw = String::new();
            loop {
                let mut data = String::new();
                if lines.read_line(&mut data).await.unwrap_or(0) == 0 {
                    return;
                }
                if data == ".\r\n" {
                    break;
                }
                raw.push_str(data.strip_prefix('.').unwrap_or(&data));
            }
            let message = parse(&raw, from.clone(), to.clone());
            state.lock().unwrap().received.push(message);
            "250 queued\r\n".to_owned()
        } else if upper == "QUIT" {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else if upper == "RSET" || upper == "NOOP" {
            "250 OK\r\n".to_owned()
        } else {
            "502 not implemented\r\n".to_owned()
        };
        if write.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn parse(raw: &str, from: String, to: Vec<String>) -> Received {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let header = |name: &str| {
        unfolded
            .split("\r\n")
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    let body = match header("Content-Transfer-Encoding")
        .to_ascii_lowercase()
        .as_str()
    {
        "base64" => base64(body),
        "quoted-printable" => quoted_printable(body),
        _ => body.as_bytes().to_vec(),
    };
    Received {
        from,
        to,
        subject: encoded_words(&header("Subject")),
        message_id: header("Message-ID"),
        body: String::from_utf8(body).unwrap(),
    }
}

/// RFC 2047: `=?utf-8?b?…?=` / `=?utf-8?q?…?=` words, the space between two of them dropped.
fn encoded_words(value: &str) -> String {
    let mut out = Vec::new();
    let mut previous_encoded = false;
    for (i, word) in value.split(' ').enumerate() {
        let parts: Vec<&str> = word.split('?').collect();
        if parts.len() == 5 && parts[0] == "=" && parts[4] == "=" {
            if i > 0 && !previous_encoded {
                out.push(b' ');
            }
            match parts[2].to_ascii_lowercase().as_str() {
                "b" => out.extend(base64(parts[3])),
                _ => out.extend(quoted_printable(&parts[3].replace('_', " "))),
            }
            previous_encoded = true;
        } else {
            if i > 0 {
                out.push(b' ');
            }
            out.extend(word.as_bytes());
            previous_encoded = false;
        }
    }
    String::from_utf8(out).unwrap()
}

fn base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (mut out, mut bits, mut n) = (Vec::new(), 0u32, 0);
    for c in text.bytes() {
        let Some(v) = ALPHABET.iter().position(|&a| a == c) else {
            continue;
        };
        bits = (bits << 6) | v as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    out
}

fn quoted_printable(text: &str) -> Vec<u8> {
    let bytes = text.replace("=\r\n", "").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        if bytes[i] == b'='
            && let Some(b) = hex
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}
