//! A real, in-process SMTP server for integration tests.
//!
//! [`SmtpServer::start`] binds `127.0.0.1` on a free port and speaks enough
//! plain-text SMTP (no STARTTLS; `AUTH PLAIN` in one line) for lettre:
//! greeting, `EHLO`/`HELO`, `AUTH`, `MAIL`, `RCPT`, `DATA`, `RSET`,
//! `NOOP`, `VRFY` and `QUIT`. Every connection is served by its own tokio
//! task, so many concurrent sessions are fine.
//!
//! Accepted messages are recorded as [`ReceivedMail`], whose helpers read
//! headers and the decoded text/plain and text/html parts with `mail-parser`.
//!
//! Tests can script failures: [`SmtpServer::reject_rcpt`] answers `RCPT` for
//! matching addresses with a chosen reply, [`SmtpServer::refuse_auth`] and
//! [`SmtpServer::refuse_sender`] refuse every login or sender,
//! [`SmtpServer::fail_next_data`]
//! turns the next `DATA` completions into errors, and
//! [`SmtpServer::stop`] / [`SmtpServer::restart`] take the whole server away
//! and bring it back on the same port.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

/// Host name the server announces in its greeting and `EHLO` reply.
const HOSTNAME: &str = "localhost";
/// Longest line a session accepts (command or message line, line break
/// included); a longer one ends the session.
const MAX_LINE_BYTES: u64 = 64 * 1024;
/// Largest message `DATA` accepts; advertised through the `SIZE` extension.
const MAX_MESSAGE_BYTES: usize = 32 * 1024 * 1024;
/// Pending-connection queue of the listener, well above the number of
/// sessions tests open at once.
const LISTEN_BACKLOG: u32 = 1024;
/// How long [`SmtpServer::restart`] keeps trying to bind the old port.
const REBIND_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause between two bind attempts of [`SmtpServer::restart`].
const REBIND_INTERVAL: Duration = Duration::from_millis(20);

// ---------------------------------------------------------------------------
// Recorded messages
// ---------------------------------------------------------------------------

/// One message the server accepted (its `DATA` was answered with `250`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// Reverse path from `MAIL FROM`, without angle brackets (empty for the
    /// null sender `<>`).
    pub mail_from: String,
    /// Forward paths of the accepted `RCPT TO` commands, without angle
    /// brackets, in the order they were given.
    pub rcpt_to: Vec<String>,
    /// The raw message as transmitted: CRLF line endings preserved,
    /// dot-stuffing undone, the terminating `.` line excluded. Bytes that are
    /// not UTF-8 are replaced with U+FFFD.
    pub data: String,
}

impl ReceivedMail {
    /// Value of the first header called `name` (case-insensitive), with
    /// folded lines unfolded and surrounding whitespace trimmed. The value is
    /// returned as transmitted, without RFC 2047 decoding.
    pub fn header(&self, name: &str) -> Option<String> {
        let parsed = self.headers_as_text(name)?;
        let header = first_named(&parsed, name)?;
        let raw =
            &self.data.as_bytes()[header.offset_start() as usize..header.offset_end() as usize];
        let unfolded = String::from_utf8_lossy(raw)
            .replace("\r\n", "")
            .replace('\n', "");
        Some(unfolded.trim().to_owned())
    }

    /// The `Message-ID` header as transmitted, angle brackets included.
    pub fn message_id(&self) -> Option<String> {
        self.header("Message-ID")
    }

    /// Like [`ReceivedMail::header`], with RFC 2047 encoded-words decoded
    /// (e.g. a `To` header's display name) and runs of whitespace collapsed.
    pub fn decoded_header(&self, name: &str) -> Option<String> {
        let parsed = self.headers_as_text(name)?;
        let header = first_named(&parsed, name)?;
        Some(header.value().as_text().unwrap_or_default().to_owned())
    }

    /// The `Subject` header with RFC 2047 encoded-words decoded.
    pub fn subject(&self) -> Option<String> {
        self.decoded_header("Subject")
    }

    /// The decoded text/plain body: the message itself if it is not
    /// multipart, otherwise the first text/plain part that is not an
    /// attachment, searched depth-first through nested multiparts.
    pub fn text_body(&self) -> Option<String> {
        self.body_of_type("text/plain")
    }

    /// The text/plain body with its wrapping undone (every run of white
    /// space one space), for finding a sentence that may span lines: text
    /// parts are wrapped at 72 columns.
    pub fn flowed_text(&self) -> Option<String> {
        let text = self.text_body()?;
        Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    /// The decoded text/html body, found like [`ReceivedMail::text_body`].
    pub fn html_body(&self) -> Option<String> {
        self.body_of_type("text/html")
    }

    /// The first non-attachment leaf part whose media type is `media_type`
    /// (case-insensitive, e.g. `"text/plain"`), with its
    /// Content-Transfer-Encoding undone and its charset decoded.
    pub fn body_of_type(&self, media_type: &str) -> Option<String> {
        use mail_parser::{MimeHeaders, PartType};
        let (wanted_type, wanted_subtype) = media_type.trim().split_once('/')?;
        let message = mail_parser::MessageParser::default().parse(self.data.as_bytes())?;
        message
            .parts
            .iter()
            .filter(|part| matches!(part.body, PartType::Text(_) | PartType::Html(_)))
            .filter(|part| {
                !part
                    .content_disposition()
                    .is_some_and(|d| d.is_attachment())
            })
            .find(|part| {
                // RFC 2045: a part without Content-Type is text/plain.
                part.content_type()
                    .map_or(media_type.eq_ignore_ascii_case("text/plain"), |ct| {
                        ct.ctype().eq_ignore_ascii_case(wanted_type)
                            && ct
                                .subtype()
                                .is_some_and(|s| s.eq_ignore_ascii_case(wanted_subtype))
                    })
            })
            .and_then(|part| part.text_contents())
            .map(str::to_owned)
    }

    /// Whether `address` is one of the envelope recipients (case-insensitive).
    pub fn is_addressed_to(&self, address: &str) -> bool {
        let wanted = address.to_lowercase();
        self.rcpt_to
            .iter()
            .any(|rcpt| rcpt.to_lowercase() == wanted)
    }

    /// The top-level headers, with `name` parsed as unstructured text
    /// (RFC 2047 decoded) rather than as an address, date or id.
    fn headers_as_text(&self, name: &str) -> Option<mail_parser::Message<'_>> {
        mail_parser::MessageParser::new()
            .header_text(mail_parser::HeaderName::parse(name.to_owned())?)
            .parse_headers(self.data.as_bytes())
    }
}

/// The first top-level header called `name` (case-insensitive).
fn first_named<'m>(
    message: &'m mail_parser::Message<'_>,
    name: &str,
) -> Option<&'m mail_parser::Header<'m>> {
    message
        .headers()
        .iter()
        .find(|header| header.name().eq_ignore_ascii_case(name))
}

// ---------------------------------------------------------------------------
// The server handle
// ---------------------------------------------------------------------------

/// An SMTP server listening on `127.0.0.1`, running inside the test's tokio
/// runtime. Dropping it stops it.
pub struct SmtpServer {
    port: u16,
    shared: Arc<Shared>,
    running: Mutex<Option<Running>>,
}

impl SmtpServer {
    /// Binds `127.0.0.1` on a free port and starts accepting sessions.
    pub async fn start() -> SmtpServer {
        let wildcard = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let listener = bind(wildcard).expect("SmtpServer: cannot bind 127.0.0.1 on a free port");
        let port = listener
            .local_addr()
            .expect("SmtpServer: a bound listener has a local address")
            .port();
        let shared = Arc::new(Shared::new());
        let running = Running::spawn(listener, Arc::clone(&shared));
        SmtpServer {
            port,
            shared,
            running: Mutex::new(Some(running)),
        }
    }

    /// The port the server listens on; it stays the same across restarts.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address the server listens on (`127.0.0.1:port`).
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// Whether the server is currently accepting connections.
    pub fn is_running(&self) -> bool {
        lock(&self.running).is_some()
    }

    /// Closes the listener and ends every open session, waiting until they
    /// are gone: afterwards connecting to the port is refused and pooled
    /// client connections see their peer closed. Recorded messages and
    /// scripted failures are kept. Does nothing if already stopped.
    pub async fn stop(&self) {
        let running = lock(&self.running).take();
        if let Some(running) = running {
            running.stop().await;
        }
    }

    /// Stops the server if it runs, then listens on the same port again
    /// (retrying the bind for up to five seconds). Recorded messages,
    /// scripted failures and the session count are kept.
    ///
    /// Panics if the port cannot be bound again in time.
    pub async fn restart(&self) {
        self.stop().await;
        let listener = rebind(self.addr()).await;
        let running = Running::spawn(listener, Arc::clone(&self.shared));
        // A concurrent restart may have won the race; dropping its handle
        // shuts that accept loop down, so only one keeps the port.
        drop(lock(&self.running).replace(running));
    }

    /// A snapshot of every message recorded so far, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.shared.mailbox.borrow().clone()
    }

    /// The recorded messages with `address` among their envelope recipients
    /// (case-insensitive), oldest first.
    pub fn messages_to(&self, address: &str) -> Vec<ReceivedMail> {
        self.shared
            .mailbox
            .borrow()
            .iter()
            .filter(|mail| mail.is_addressed_to(address))
            .cloned()
            .collect()
    }

    /// Waits until at least `count` messages are recorded and returns all of
    /// them, oldest first.
    ///
    /// Panics, listing what did arrive, if that does not happen within
    /// `timeout`.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let mut arrivals = self.shared.mailbox.subscribe();
        let waited = tokio::time::timeout(timeout, arrivals.wait_for(|mails| mails.len() >= count));
        match waited.await {
            Ok(Ok(mails)) => mails.clone(),
            Ok(Err(_)) => {
                unreachable!("the mailbox sender lives in `self.shared`, which outlives this wait")
            }
            Err(_) => {
                let arrived = self.messages();
                panic!(
                    "SmtpServer::wait_for: expected at least {count} message(s) within {timeout:?}, \
                     but {} arrived: {}",
                    arrived.len(),
                    describe(&arrived),
                )
            }
        }
    }

    /// Forgets every recorded message.
    pub fn clear(&self) {
        self.shared.mailbox.send_modify(Vec::clear);
    }

    /// Answers `RCPT TO` for every address containing `address_substring`
    /// (case-insensitive) with `reply`, e.g.
    /// `reject_rcpt("bounce@", "550 5.1.1 no such user")`. Rules accumulate;
    /// the first matching one wins.
    ///
    /// Panics if `reply` is not a single-line 4xx or 5xx reply.
    pub fn reject_rcpt(&self, address_substring: &str, reply: &str) {
        let rule = RcptRejection {
            pattern: address_substring.to_lowercase(),
            reply: checked_failure_reply(reply),
        };
        lock(&self.shared.script).rcpt_rejections.push(rule);
    }

    /// Makes the next `count` message transfers end with `reply` (e.g.
    /// `"451 4.3.0 try later"`) instead of `250`; those messages are not
    /// recorded. Adds to failures already scheduled.
    ///
    /// Panics if `reply` is not a single-line 4xx or 5xx reply.
    pub fn fail_next_data(&self, count: usize, reply: &str) {
        let reply = checked_failure_reply(reply);
        let mut script = lock(&self.shared.script);
        script
            .data_failures
            .extend(std::iter::repeat_n(reply, count));
    }

    /// Answers every `AUTH` with `reply` (e.g. `"535 5.7.8 bad credentials"`)
    /// instead of `235`, until [`SmtpServer::clear_failures`].
    pub fn refuse_auth(&self, reply: &str) {
        lock(&self.shared.script).auth_refusal = Some(checked_failure_reply(reply));
    }

    /// Answers every `MAIL FROM` with `reply` (e.g. `"550 5.7.1 sender
    /// rejected"`), until [`SmtpServer::clear_failures`].
    pub fn refuse_sender(&self, reply: &str) {
        lock(&self.shared.script).sender_refusal = Some(checked_failure_reply(reply));
    }

    /// Removes every scripted `RCPT` rejection and pending `DATA` failure.
    pub fn clear_failures(&self) {
        *lock(&self.shared.script) = Script::default();
    }

    /// How many connections the server has accepted since it was started,
    /// across restarts (useful to assert that a client pools connections).
    pub fn session_count(&self) -> usize {
        self.shared.sessions_accepted.load(Ordering::SeqCst)
    }
}

impl Drop for SmtpServer {
    /// Aborts the accept loop; that drops the listener and aborts every
    /// session without waiting for them.
    fn drop(&mut self) {
        if let Some(running) = lock(&self.running).take() {
            running.accept_task.abort();
        }
    }
}

/// A one-line summary per message, for failure messages.
fn describe(mails: &[ReceivedMail]) -> String {
    if mails.is_empty() {
        return "none".to_string();
    }
    let lines: Vec<String> = mails
        .iter()
        .map(|mail| {
            format!(
                "[to {:?}, subject {:?}]",
                mail.rcpt_to,
                mail.subject().unwrap_or_default()
            )
        })
        .collect();
    lines.join(", ")
}

/// Checks that a scripted reply is one line starting with a 4xx or 5xx code,
/// so that clients really see a failure; returns it without surrounding
/// whitespace.
fn checked_failure_reply(reply: &str) -> String {
    let reply = reply.trim();
    let bytes = reply.as_bytes();
    let has_code = bytes.len() >= 3
        && matches!(bytes[0], b'4' | b'5')
        && bytes[1..3].iter().all(u8::is_ascii_digit)
        && matches!(bytes.get(3), None | Some(b' '));
    assert!(
        has_code && !reply.contains(['\r', '\n']),
        "SmtpServer: scripted reply {reply:?} must be one line like \"550 5.1.1 no such user\" \
         (a 4xx or 5xx code, then optional text)",
    );
    reply.to_string()
}

/// Locks a mutex, carrying on if another test thread panicked while holding
/// it: the guarded data stays consistent because every critical section
/// here is a single push, pop or replace.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------------------
// State shared by the handle, the accept loop and the sessions
// ---------------------------------------------------------------------------

/// Everything that outlives a single run of the accept loop.
struct Shared {
    /// Recorded messages; watchers are woken on every change.
    mailbox: watch::Sender<Vec<ReceivedMail>>,
    /// Scripted failures.
    script: Mutex<Script>,
    /// Connections accepted so far.
    sessions_accepted: AtomicUsize,
}

/// Failures tests asked for.
#[derive(Default)]
struct Script {
    rcpt_rejections: Vec<RcptRejection>,
    data_failures: VecDeque<String>,
    auth_refusal: Option<String>,
    sender_refusal: Option<String>,
}

/// Reply `reply` to `RCPT` for addresses containing `pattern` (lowercase).
struct RcptRejection {
    pattern: String,
    reply: String,
}

impl Shared {
    fn new() -> Self {
        Shared {
            mailbox: watch::Sender::new(Vec::new()),
            script: Mutex::new(Script::default()),
            sessions_accepted: AtomicUsize::new(0),
        }
    }

    /// Stores an accepted message and wakes every waiter.
    fn record(&self, mail: ReceivedMail) {
        self.mailbox.send_modify(|mails| mails.push(mail));
    }

    /// The scripted reply for `RCPT TO:<address>`, if a rule matches.
    fn rcpt_rejection(&self, address: &str) -> Option<String> {
        let address = address.to_lowercase();
        lock(&self.script)
            .rcpt_rejections
            .iter()
            .find(|rule| address.contains(&rule.pattern))
            .map(|rule| rule.reply.clone())
    }

    /// Consumes the next scripted `DATA` failure, if any.
    fn take_data_failure(&self) -> Option<String> {
        lock(&self.script).data_failures.pop_front()
    }
}

// ---------------------------------------------------------------------------
// Listening
// ---------------------------------------------------------------------------

/// A running accept loop and the means to stop it.
struct Running {
    /// Sending (or dropping) this asks the accept loop to shut down.
    shutdown: oneshot::Sender<()>,
    accept_task: JoinHandle<()>,
}

impl Running {
    fn spawn(listener: TcpListener, shared: Arc<Shared>) -> Self {
        let (shutdown, shutdown_requested) = oneshot::channel();
        let accept_task = tokio::spawn(accept_loop(listener, shared, shutdown_requested));
        Running {
            shutdown,
            accept_task,
        }
    }

    /// Asks the accept loop to shut down and waits until the listener is
    /// closed and every session has ended.
    async fn stop(self) {
        // An error only means the loop already ended, which is what we want.
        let _ = self.shutdown.send(());
        if let Err(error) = self.accept_task.await
            && error.is_panic()
        {
            std::panic::resume_unwind(error.into_panic());
        }
    }
}

/// Binds a listener with `SO_REUSEADDR`, so that a restart can take the port
/// back while connections of the previous run linger in `TIME_WAIT`.
fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Binds `addr` again, retrying for a short while in case the old socket
/// has not been released yet.
async fn rebind(addr: SocketAddr) -> TcpListener {
    let deadline = Instant::now() + REBIND_TIMEOUT;
    loop {
        match bind(addr) {
            Ok(listener) => return listener,
            Err(error) if Instant::now() >= deadline => {
                panic!(
                    "SmtpServer::restart: cannot bind {addr} again within {REBIND_TIMEOUT:?}: {error}"
                )
            }
            Err(_) => tokio::time::sleep(REBIND_INTERVAL).await,
        }
    }
}

/// Accepts connections, one task per session, until shutdown is requested;
/// then closes the listener and aborts and awaits every session.
async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown_requested: oneshot::Receiver<()>,
) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown_requested => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    shared.sessions_accepted.fetch_add(1, Ordering::SeqCst);
                    sessions.spawn(run_session(stream, Arc::clone(&shared)));
                }
                // Typically out of file descriptors: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            // Reaps finished sessions so the set does not grow without bound.
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
    drop(listener);
    sessions.shutdown().await;
}

// ---------------------------------------------------------------------------
// One SMTP session
// ---------------------------------------------------------------------------

/// Serves one connection until the client quits or goes away.
async fn run_session(stream: TcpStream, shared: Arc<Shared>) {
    // An error only means the client vanished or misbehaved; the session
    // simply ends and the connection is closed.
    let _ = Session::new(stream, shared).serve().await;
}

/// Whether the session goes on after a command.
enum Flow {
    Continue,
    Quit,
}

/// The envelope of the mail transaction in progress.
#[derive(Default)]
struct Transaction {
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

/// The state of one SMTP conversation.
struct Session {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    shared: Arc<Shared>,
    greeted: bool,
    transaction: Transaction,
}

impl Session {
    fn new(stream: TcpStream, shared: Arc<Shared>) -> Self {
        let (reader, writer) = stream.into_split();
        Session {
            reader: BufReader::new(reader),
            writer,
            shared,
            greeted: false,
            transaction: Transaction::default(),
        }
    }

    /// Greets the client, then answers commands until `QUIT` or end of
    /// stream.
    async fn serve(mut self) -> io::Result<()> {
        self.reply(&format!("220 {HOSTNAME} ESMTP rollcall test server ready"))
            .await?;
        while let Some(line) = self.read_line().await? {
            if let Flow::Quit = self.dispatch(&line).await? {
                break;
            }
        }
        Ok(())
    }

    /// Reads one line, line break included; `None` at end of stream. A line
    /// longer than [`MAX_LINE_BYTES`] is answered with `500` and ends the
    /// session.
    async fn read_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut line = Vec::new();
        let mut limited = (&mut self.reader).take(MAX_LINE_BYTES);
        limited.read_until(b'\n', &mut line).await?;
        if line.ends_with(b"\n") {
            return Ok(Some(line));
        }
        if line.len() as u64 >= MAX_LINE_BYTES {
            self.reply("500 5.5.2 Line too long").await?;
            return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
        }
        // End of stream; a final line without line break is dropped.
        Ok(None)
    }

    /// Sends one reply (which may hold several CRLF-separated lines).
    async fn reply(&mut self, reply: &str) -> io::Result<()> {
        self.writer
            .write_all(format!("{reply}\r\n").as_bytes())
            .await
    }

    /// Answers one command line.
    async fn dispatch(&mut self, line: &[u8]) -> io::Result<Flow> {
        let line = String::from_utf8_lossy(line);
        let (verb, argument) = split_command(&line);
        let reply = match verb.as_str() {
            "EHLO" => self.hello(argument, ehlo_reply()),
            "HELO" => self.hello(argument, format!("250 {HOSTNAME}")),
            "MAIL" => self.mail(argument),
            "AUTH" => lock(&self.shared.script)
                .auth_refusal
                .clone()
                .unwrap_or_else(|| "235 2.7.0 Authentication successful".to_string()),
            "RCPT" => self.rcpt(argument),
            "DATA" => return self.data().await.map(|()| Flow::Continue),
            "RSET" => {
                self.transaction = Transaction::default();
                "250 2.0.0 OK".to_string()
            }
            "NOOP" => "250 2.0.0 OK".to_string(),
            "VRFY" => "252 2.5.2 Cannot VRFY user, but will accept message".to_string(),
            "QUIT" => {
                self.reply(&format!("221 2.0.0 {HOSTNAME} closing connection"))
                    .await?;
                return Ok(Flow::Quit);
            }
            _ => "500 5.5.2 Command not recognized".to_string(),
        };
        self.reply(&reply).await?;
        Ok(Flow::Continue)
    }

    /// `EHLO` / `HELO`: starts over with a fresh transaction.
    fn hello(&mut self, domain: &str, reply: String) -> String {
        if domain.is_empty() {
            return "501 5.5.4 Syntax: EHLO/HELO domain".to_string();
        }
        self.greeted = true;
        self.transaction = Transaction::default();
        reply
    }

    /// `MAIL FROM:<path> [parameters]`: opens a transaction.
    fn mail(&mut self, argument: &str) -> String {
        if !self.greeted {
            return "503 5.5.1 Send EHLO or HELO first".to_string();
        }
        if self.transaction.mail_from.is_some() {
            return "503 5.5.1 Nested MAIL command".to_string();
        }
        if let Some(reply) = lock(&self.shared.script).sender_refusal.clone() {
            return reply;
        }
        match parse_path(argument, "FROM:") {
            Some(path) => {
                self.transaction.mail_from = Some(path);
                "250 2.1.0 Sender OK".to_string()
            }
            None => "501 5.5.4 Syntax: MAIL FROM:<address>".to_string(),
        }
    }

    /// `RCPT TO:<path> [parameters]`: adds a recipient unless a scripted
    /// rejection matches it.
    fn rcpt(&mut self, argument: &str) -> String {
        if self.transaction.mail_from.is_none() {
            return "503 5.5.1 Need MAIL before RCPT".to_string();
        }
        let Some(path) = parse_path(argument, "TO:").filter(|path| !path.is_empty()) else {
            return "501 5.5.4 Syntax: RCPT TO:<address>".to_string();
        };
        if let Some(reply) = self.shared.rcpt_rejection(&path) {
            return reply;
        }
        self.transaction.rcpt_to.push(path);
        "250 2.1.5 Recipient OK".to_string()
    }

    /// `DATA`: reads the message and records it, unless a failure is
    /// scripted. Either way the transaction ends.
    async fn data(&mut self) -> io::Result<()> {
        if self.transaction.rcpt_to.is_empty() {
            return self.reply("503 5.5.1 Need RCPT before DATA").await;
        }
        self.reply("354 End data with <CR><LF>.<CR><LF>").await?;
        let content = self.read_message().await?;
        let transaction = std::mem::take(&mut self.transaction);
        let reply = self.complete(transaction, content);
        self.reply(&reply).await
    }

    /// Reads message lines up to the lone `.` line, undoing dot-stuffing.
    /// Returns `None` if the message exceeded [`MAX_MESSAGE_BYTES`] (it is
    /// still read to the end so the session stays in sync).
    async fn read_message(&mut self) -> io::Result<Option<String>> {
        let mut data = Vec::new();
        let mut too_large = false;
        loop {
            let Some(line) = self.read_line().await? else {
                return Err(io::ErrorKind::UnexpectedEof.into());
            };
            if line == b".\r\n" || line == b".\n" {
                break;
            }
            let line = line.strip_prefix(b".").unwrap_or(&line);
            too_large |= data.len() + line.len() > MAX_MESSAGE_BYTES;
            if !too_large {
                data.extend_from_slice(line);
            }
        }
        Ok((!too_large).then(|| String::from_utf8_lossy(&data).into_owned()))
    }

    /// Decides the reply to a completed transfer and records the message if
    /// it is accepted.
    fn complete(&self, transaction: Transaction, content: Option<String>) -> String {
        let Some(data) = content else {
            return "552 5.3.4 Message too big".to_string();
        };
        if let Some(reply) = self.shared.take_data_failure() {
            return reply;
        }
        self.shared.record(ReceivedMail {
            mail_from: transaction.mail_from.unwrap_or_default(),
            rcpt_to: transaction.rcpt_to,
            data,
        });
        "250 2.0.0 OK: message accepted".to_string()
    }
}

/// The multi-line `EHLO` reply: plain text only, no STARTTLS; `AUTH PLAIN`
/// with the credentials sent in the command itself (any are accepted unless
/// [`SmtpServer::refuse_auth`] says otherwise).
fn ehlo_reply() -> String {
    [
        format!("250-{HOSTNAME}"),
        "250-8BITMIME".to_string(),
        "250-SMTPUTF8".to_string(),
        "250-PIPELINING".to_string(),
        "250-AUTH PLAIN".to_string(),
        "250-ENHANCEDSTATUSCODES".to_string(),
        format!("250 SIZE {MAX_MESSAGE_BYTES}"),
    ]
    .join("\r\n")
}

/// Splits a command line into its upper-cased verb and trimmed argument.
fn split_command(line: &str) -> (String, &str) {
    let line = line.trim_end_matches(['\r', '\n']);
    let (verb, argument) = line.split_once(' ').unwrap_or((line, ""));
    (verb.to_ascii_uppercase(), argument.trim())
}

/// Extracts the address from `FROM:<address> params` or `TO:<address>`
/// (`keyword` matched case-insensitively, spaces allowed after the colon).
fn parse_path(argument: &str, keyword: &str) -> Option<String> {
    let prefix = argument.get(..keyword.len())?;
    if !prefix.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = argument[keyword.len()..].trim_start();
    let (path, _parameters) = rest.strip_prefix('<')?.split_once('>')?;
    Some(path.to_string())
}
