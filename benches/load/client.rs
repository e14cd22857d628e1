//! A small HTTP/1.1 keep-alive client over a raw `TcpStream`, and the load
//! runner built on it.
//!
//! Hand-written rather than reqwest so that the load generator, which shares
//! two cores with the server, spends as little as possible per request: each
//! connection reuses one request buffer and one read buffer, parses only the
//! status line and the framing headers, and never allocates per request.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One keep-alive connection.
pub struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Start of the bytes not yet consumed.
    pos: usize,
    /// End of the bytes read so far.
    len: usize,
}

/// The parts of a response the bench looks at.
pub struct Response {
    pub status: u16,
    /// The raw header block (status line included), kept only when asked for.
    pub head: Vec<u8>,
    /// The body length in bytes.
    pub body_len: u64,
}

impl Response {
    /// The value of the first `name` header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.head, name.as_bytes()).and_then(|v| std::str::from_utf8(v).ok())
    }
}

impl Client {
    pub async fn connect(port: u16) -> io::Result<Client> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        Ok(Client {
            stream,
            buf: vec![0; 64 * 1024],
            pos: 0,
            len: 0,
        })
    }

    /// Sends one request and reads its whole response; body bytes go to `sink`.
    pub async fn request(
        &mut self,
        request: &[u8],
        keep_head: bool,
        mut sink: impl FnMut(&[u8]),
    ) -> io::Result<Response> {
        self.stream.write_all(request).await?;
        let head_len = loop {
            if let Some(at) = find(&self.buf[self.pos..self.len], b"\r\n\r\n") {
                break at + 4;
            }
            self.fill().await?;
        };
        let head = &self.buf[self.pos..self.pos + head_len];
        let status = parse_status(head)?;
        let chunked = header_value(head, b"transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case(b"chunked"));
        let length = header_value(head, b"content-length")
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let head = if keep_head { head.to_vec() } else { Vec::new() };
        self.pos += head_len;
        let body_len = match (chunked, length) {
            (true, _) => self.chunked_body(&mut sink).await?,
            (false, Some(n)) => {
                self.sized_body(n, &mut sink).await?;
                n
            }
            // Bodiless answers (e.g. 303 without a body) carry Content-Length: 0
            // from actix; anything else is a framing the bench does not expect.
            (false, None) => return Err(invalid("response without framing")),
        };
        Ok(Response {
            status,
            head,
            body_len,
        })
    }

    async fn sized_body(
        &mut self,
        mut remaining: u64,
        sink: &mut impl FnMut(&[u8]),
    ) -> io::Result<()> {
        while remaining > 0 {
            if self.pos == self.len {
                self.fill().await?;
            }
            let take = (self.len - self.pos).min(usize::try_from(remaining).unwrap_or(usize::MAX));
            sink(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            remaining -= take as u64;
        }
        Ok(())
    }

    async fn chunked_body(&mut self, sink: &mut impl FnMut(&[u8])) -> io::Result<u64> {
        let mut total = 0u64;
        loop {
            let line = self.line().await?;
            let size_text = line.split(|b| *b == b';').next().unwrap_or_default();
            let size = std::str::from_utf8(size_text)
                .ok()
                .and_then(|s| u64::from_str_radix(s.trim(), 16).ok())
                .ok_or_else(|| invalid("bad chunk size"))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.line().await?.is_empty() {}
                return Ok(total);
            }
            self.sized_body(size, sink).await?;
            total += size;
            if !self.line().await?.is_empty() {
                return Err(invalid("chunk without CRLF"));
            }
        }
    }

    /// The next CRLF-terminated line, without its CRLF.
    async fn line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(at) = find(&self.buf[self.pos..self.len], b"\r\n") {
                let line = self.buf[self.pos..self.pos + at].to_vec();
                self.pos += at + 2;
                return Ok(line);
            }
            self.fill().await?;
        }
    }

    /// Reads more bytes, compacting or growing the buffer first if it is full.
    async fn fill(&mut self) -> io::Result<()> {
        if self.pos == self.len {
            self.pos = 0;
            self.len = 0;
        }
        if self.len == self.buf.len() {
            if self.pos > 0 {
                self.buf.copy_within(self.pos..self.len, 0);
                self.len -= self.pos;
                self.pos = 0;
            } else {
                self.buf.resize(self.buf.len() * 2, 0);
            }
        }
        let n = self.stream.read(&mut self.buf[self.len..]).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.len += n;
        Ok(())
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse_status(head: &[u8]) -> io::Result<u16> {
    // "HTTP/1.1 200 OK"
    head.get(9..12)
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("bad status line"))
}

fn header_value<'a>(head: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    head.split(|b| *b == b'\n').skip(1).find_map(|line| {
        let colon = line.iter().position(|b| *b == b':')?;
        let (key, value) = line.split_at(colon);
        key.eq_ignore_ascii_case(name)
            .then(|| value[1..].trim_ascii())
    })
}

/// What a load run sends.
#[derive(Clone)]
pub enum Scenario {
    /// `GET /health`.
    Health,
    /// `POST /api/v1/subscriptions` with a unique address per request.
    Api,
    /// `POST /subscriptions` with the CSRF cookie and token from one `GET /`.
    Form,
    /// As `Api`, but connections go in pairs that send the same addresses in
    /// the same order: every address arrives twice at once (a double-submitting
    /// client, or an attacker).
    ApiTwice,
}

impl Scenario {
    fn expected_status(&self) -> u16 {
        match self {
            Scenario::Health => 200,
            Scenario::Api | Scenario::ApiTwice => 202,
            Scenario::Form => 303,
        }
    }
}

/// Per-connection state: the CSRF cookie and token for form posts.
struct FormSession {
    cookie: String,
    token: String,
}

/// Throughput, latency and errors of one load run.
#[derive(Debug, Clone)]
pub struct LoadResult {
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub first_error: Option<String>,
}

impl LoadResult {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

struct Window {
    measure_from: Instant,
    measure_until: Instant,
}

#[derive(Default)]
struct ConnStats {
    ok: u64,
    errors: u64,
    latencies_us: Vec<u32>,
    first_error: Option<String>,
}

/// Runs `connections` keep-alive connections against `port` for `warmup`
/// (not counted) plus `measure`; every request that finishes inside the
/// measured window counts. Bounded in time: every loop stops at the window's end.
pub async fn run_load(
    port: u16,
    scenario: Scenario,
    connections: usize,
    warmup: Duration,
    measure: Duration,
    run_tag: &str,
) -> LoadResult {
    let start = Instant::now();
    let window = Arc::new(Window {
        measure_from: start + warmup,
        measure_until: start + warmup + measure,
    });
    let tasks: Vec<_> = (0..connections)
        .map(|index| {
            let (scenario, window) = (scenario.clone(), window.clone());
            let pair = match scenario {
                Scenario::ApiTwice => index / 2,
                _ => index,
            };
            let tag = format!("{run_tag}c{pair}");
            tokio::spawn(async move { connection_loop(port, scenario, &tag, &window).await })
        })
        .collect();
    let mut total = ConnStats::default();
    for task in tasks {
        match task.await {
            Ok(stats) => {
                total.ok += stats.ok;
                total.errors += stats.errors;
                total.latencies_us.extend(stats.latencies_us);
                total.first_error = total.first_error.or(stats.first_error);
            }
            Err(error) => {
                total.errors += 1;
                total.first_error.get_or_insert(error.to_string());
            }
        }
    }
    total.latencies_us.sort_unstable();
    LoadResult {
        requests: total.ok,
        errors: total.errors,
        seconds: measure.as_secs_f64(),
        p50_ms: percentile_ms(&total.latencies_us, 0.50),
        p99_ms: percentile_ms(&total.latencies_us, 0.99),
        first_error: total.first_error,
    }
}

fn percentile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted_us.len() as f64 * q).ceil() as usize).clamp(1, sorted_us.len());
    f64::from(sorted_us[rank - 1]) / 1000.0
}

async fn connection_loop(port: u16, scenario: Scenario, tag: &str, window: &Window) -> ConnStats {
    let mut stats = ConnStats::default();
    let mut request = Vec::with_capacity(1024);
    let mut seq = 0u64;
    while Instant::now() < window.measure_until {
        let mut client = match open(port, &scenario).await {
            Ok(pair) => pair,
            Err(error) => {
                note_error(&mut stats, window, format!("connect: {error}"));
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        // Requests on this connection until it fails or the window ends.
        while Instant::now() < window.measure_until {
            seq += 1;
            request.clear();
            write_request(&mut request, &scenario, client.1.as_ref(), tag, seq);
            let sent = Instant::now();
            let outcome = client.0.request(&request, false, |_| {}).await;
            let done = Instant::now();
            let in_window = sent >= window.measure_from && done <= window.measure_until;
            match outcome {
                Ok(response) if response.status == scenario.expected_status() => {
                    if in_window {
                        stats.ok += 1;
                        let us = (done - sent).as_micros();
                        stats
                            .latencies_us
                            .push(u32::try_from(us).unwrap_or(u32::MAX));
                    }
                }
                Ok(response) => {
                    if in_window {
                        note_error(&mut stats, window, format!("status {}", response.status));
                    }
                }
                Err(error) => {
                    note_error(&mut stats, window, format!("request: {error}"));
                    break;
                }
            }
        }
    }
    stats
}

fn note_error(stats: &mut ConnStats, window: &Window, what: String) {
    if Instant::now() >= window.measure_from {
        stats.errors += 1;
        stats.first_error.get_or_insert(what);
    }
}

async fn open(port: u16, scenario: &Scenario) -> io::Result<(Client, Option<FormSession>)> {
    let mut client = Client::connect(port).await?;
    let session = match scenario {
        Scenario::Form => Some(form_session(&mut client).await?),
        _ => None,
    };
    Ok((client, session))
}

/// `GET /` once: the `rollcall_csrf` cookie and the form's token.
async fn form_session(client: &mut Client) -> io::Result<FormSession> {
    let mut page = Vec::new();
    let response = client
        .request(
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            true,
            |bytes| page.extend_from_slice(bytes),
        )
        .await?;
    let cookie = response
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .filter(|c| c.starts_with("rollcall_csrf="))
        .ok_or_else(|| invalid("no rollcall_csrf cookie on GET /"))?
        .to_owned();
    let page = String::from_utf8_lossy(&page);
    let marker = r#"name="csrf_token" value=""#;
    let token = page
        .find(marker)
        .map(|at| &page[at + marker.len()..])
        .and_then(|rest| rest.split('"').next())
        .ok_or_else(|| invalid("no csrf_token on GET /"))?
        .to_owned();
    Ok(FormSession { cookie, token })
}

fn write_request(
    out: &mut Vec<u8>,
    scenario: &Scenario,
    session: Option<&FormSession>,
    tag: &str,
    seq: u64,
) {
    use std::io::Write;
    let mut body = [0u8; 512];
    let body_len = {
        let mut cursor = io::Cursor::new(&mut body[..]);
        // The buffers are sized for the longest body; a write cannot fail.
        let _ = match (scenario, session) {
            (Scenario::Api | Scenario::ApiTwice, _) => write!(
                cursor,
                r#"{{"email":"{tag}n{seq}@example.org","name":"Lachlan Smith","organisation":"CSIRO","org_type":"government","country":"AU","timezone":"Australia/Sydney","interests":[],"consent":true}}"#
            ),
            (Scenario::Form, Some(s)) => write!(
                cursor,
                "email={tag}n{seq}%40example.org&name=Aroha+Ngata&organisation=NIWA&org_type=government&country=nz&timezone=Pacific%2FAuckland&consent=yes&csrf_token={}",
                s.token
            ),
            _ => Ok(()),
        };
        usize::try_from(cursor.position()).unwrap_or(0)
    };
    let body = &body[..body_len];
    let _ = match (scenario, session) {
        (Scenario::Health, _) => write!(out, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        (Scenario::Api | Scenario::ApiTwice, _) => write!(
            out,
            "POST /api/v1/subscriptions HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: rollcall-bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        ),
        (Scenario::Form, session) => write!(
            out,
            "POST /subscriptions HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: rollcall-bench\r\nContent-Type: application/x-www-form-urlencoded\r\nCookie: {}\r\nContent-Length: {}\r\n\r\n",
            session.map_or("", |s| s.cookie.as_str()),
            body.len()
        ),
    };
    out.extend_from_slice(body);
}
