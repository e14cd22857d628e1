//! A small SMTP connection pool of our own over lettre's `AsyncSmtpConnection`.
//!
//! lettre's pooled transport neither sets `TCP_NODELAY` (so every message waits
//! for a delayed ACK, ~22 messages a second per connection) nor tells which SMTP
//! stage refused a message. Here we own the socket, keep idle connections for
//! reuse, and send each stage ourselves, so a failure names its stage: up to and
//! including `MAIL FROM` it is the relay's problem, at `RCPT` or `DATA` the
//! message's.

use super::transport::SendError;
use crate::configuration::{SmtpSettings, SmtpTls};
use lettre::Address;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls;

/// Where in a session a failure happened. Everything before `Rcpt` concerns the
/// relay (and so every message); `Rcpt` and `Data` concern one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Connect,
    Tls,
    Auth,
    MailFrom,
    Rcpt,
    Data,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Connect => "connect",
            Stage::Tls => "tls",
            Stage::Auth => "auth",
            Stage::MailFrom => "mail_from",
            Stage::Rcpt => "rcpt",
            Stage::Data => "data",
        }
    }

    /// Whether a failure here is the relay's problem rather than the message's.
    pub fn is_relay(self) -> bool {
        matches!(
            self,
            Stage::Connect | Stage::Tls | Stage::Auth | Stage::MailFrom
        )
    }
}

/// What a failed stage means for the message: a relay failure is transient for
/// every message; after it, a 5xx is permanent and anything else (4xx,
/// timeouts, a dropped connection) is retried.
pub fn classify(stage: Stage, reply: Option<u16>, detail: &str) -> SendError {
    classify_with(stage, reply, None, detail)
}

/// [`classify`] with the reply's enhanced status code (`5.1.1`), when it had
/// one: only a 5.1.x refusal of RCPT is a bounce (SPEC, Bounces).
pub fn classify_with(
    stage: Stage,
    reply: Option<u16>,
    enhanced: Option<&str>,
    detail: &str,
) -> SendError {
    let text = match (reply, enhanced) {
        (Some(code), Some(status)) => format!("{} refused: SMTP {code} {status}", stage.as_str()),
        (Some(code), None) => format!("{} refused: SMTP {code}", stage.as_str()),
        (None, _) => format!("{} failed: {detail}", stage.as_str()),
    };
    let refused = reply.is_some_and(|code| (500..600).contains(&code));
    if stage.is_relay() {
        SendError::Relay { stage, reply, text }
    } else if let Some(status) =
        enhanced.filter(|s| stage == Stage::Rcpt && refused && s.starts_with("5.1."))
    {
        SendError::Bounced {
            status: status.to_owned(),
            text,
        }
    } else if refused {
        SendError::Permanent(text)
    } else {
        SendError::Transient(text)
    }
}

/// A stage's failure as lettre reports it.
fn failed(stage: Stage, error: &lettre::transport::smtp::Error) -> Failure {
    let reply = error.status().map(u16::from);
    let detail = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_tls() {
        "TLS error".to_owned()
    } else {
        "connection or protocol error".to_owned()
    };
    let enhanced =
        std::error::Error::source(error).and_then(|message| enhanced_status(&message.to_string()));
    Failure {
        stage,
        reply,
        enhanced,
        detail,
    }
}

/// The enhanced status code a reply's text starts with (`5.1.1 no such user`).
fn enhanced_status(message: &str) -> Option<String> {
    let first = message.split_whitespace().next()?;
    let mut parts = first.split('.');
    let (class, subject, detail) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |p: &str, max: usize| {
        !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit())
    };
    (parts.next().is_none()
        && matches!(class, "2" | "4" | "5")
        && digits(subject, 3)
        && digits(detail, 3))
    .then(|| first.to_owned())
}

/// The stage a transaction has reached, readable after a timeout dropped it
/// (an atomic, so the send future stays `Send`).
#[derive(Default)]
struct StageReached(AtomicU8);

impl StageReached {
    const ORDER: [Stage; 3] = [Stage::MailFrom, Stage::Rcpt, Stage::Data];

    fn set(&self, stage: Stage) {
        let index = Self::ORDER.iter().position(|s| *s == stage).unwrap_or(0);
        self.0.store(index as u8, Ordering::Relaxed);
    }

    fn get(&self) -> Stage {
        Self::ORDER[usize::from(self.0.load(Ordering::Relaxed)).min(2)]
    }
}

/// A failed stage, before it is classified.
#[derive(Debug)]
struct Failure {
    stage: Stage,
    reply: Option<u16>,
    /// The reply's enhanced status code (RFC 3463), never its text: a reply
    /// may quote the address.
    enhanced: Option<String>,
    detail: String,
}

impl Failure {
    fn timed_out(stage: Stage) -> Failure {
        Failure {
            stage,
            reply: None,
            enhanced: None,
            detail: "timed out".to_owned(),
        }
    }

    fn into_error(self) -> SendError {
        classify_with(
            self.stage,
            self.reply,
            self.enhanced.as_deref(),
            &self.detail,
        )
    }
}

/// How to reach the relay.
struct Relay {
    host: String,
    port: u16,
    tls: SmtpTls,
    credentials: Option<Credentials>,
    timeout: Duration,
    hello: ClientId,
    tls_config: Arc<rustls::ClientConfig>,
}

/// At most `pool_size` sessions at once, idle ones kept for reuse: a send
/// takes an idle connection or opens one, and gives it back when the session is
/// still sound.
pub struct SmtpPool {
    relay: Relay,
    idle: Mutex<Vec<AsyncSmtpConnection>>,
    max_idle: usize,
    sessions: tokio::sync::Semaphore,
}

impl SmtpPool {
    pub fn new(smtp: &SmtpSettings) -> SmtpPool {
        let credentials = match (&smtp.username, &smtp.password) {
            (Some(user), Some(password)) => {
                Some(Credentials::new(user.clone(), password.expose().to_owned()))
            }
            _ => None,
        };
        SmtpPool {
            relay: Relay {
                host: smtp.host.clone(),
                port: smtp.port,
                tls: smtp.tls,
                credentials,
                timeout: smtp.timeout(),
                hello: ClientId::default(),
                tls_config: Arc::new(tls_config()),
            },
            idle: Mutex::new(Vec::new()),
            max_idle: smtp.pool_size.max(1) as usize,
            sessions: tokio::sync::Semaphore::new(smtp.pool_size.max(1) as usize),
        }
    }

    /// Sends one message; the whole attempt (connecting included) is bounded by
    /// `email.smtp.timeout_secs`, and a timeout counts against the stage it hit.
    pub async fn send(&self, envelope: &Envelope, body: &[u8]) -> Result<(), SendError> {
        // The semaphore is never closed; without a permit we would only exceed
        // the pool size.
        let _session = self.sessions.acquire().await.ok();
        let deadline = tokio::time::Instant::now() + self.relay.timeout;
        if let Some(mut connection) = self.take_idle() {
            match self
                .attempt(&mut connection, envelope, body, deadline)
                .await
            {
                Ok(()) => {
                    self.give_back(connection);
                    return Ok(());
                }
                // An idle connection the server has since closed fails before
                // anything of this message was accepted: start over on a new one.
                Err(failure) if failure.stage == Stage::MailFrom && failure.reply.is_none() => {}
                Err(failure) => return Err(self.after_failure(connection, failure).await),
            }
        }
        let mut connection = tokio::time::timeout_at(deadline, self.connect())
            .await
            .unwrap_or_else(|_| Err(Failure::timed_out(Stage::Connect)))
            .map_err(Failure::into_error)?;
        match self
            .attempt(&mut connection, envelope, body, deadline)
            .await
        {
            Ok(()) => {
                self.give_back(connection);
                Ok(())
            }
            Err(failure) => Err(self.after_failure(connection, failure).await),
        }
    }

    /// One transaction before `deadline`.
    async fn attempt(
        &self,
        connection: &mut AsyncSmtpConnection,
        envelope: &Envelope,
        body: &[u8],
        deadline: tokio::time::Instant,
    ) -> Result<(), Failure> {
        let stage = StageReached::default();
        let sent = transaction(connection, envelope, body, &stage);
        match tokio::time::timeout_at(deadline, sent).await {
            Ok(result) => result,
            Err(_) => Err(Failure::timed_out(stage.get())),
        }
    }

    /// Resets a connection that got a reply it could go on from and keeps it;
    /// drops one that broke.
    async fn after_failure(
        &self,
        mut connection: AsyncSmtpConnection,
        failure: Failure,
    ) -> SendError {
        if failure.reply.is_some()
            && !connection.has_broken()
            && connection.command(Rset).await.is_ok()
        {
            self.give_back(connection);
        }
        failure.into_error()
    }

    fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    fn give_back(&self, connection: AsyncSmtpConnection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.max_idle {
            idle.push(connection);
        }
    }

    /// A new session: TCP with `TCP_NODELAY`, TLS as configured, `EHLO`, `AUTH`.
    async fn connect(&self) -> Result<AsyncSmtpConnection, Failure> {
        let relay = &self.relay;
        let io_failure = |stage: Stage, error: std::io::Error| Failure {
            stage,
            reply: None,
            enhanced: None,
            detail: error.kind().to_string(),
        };
        let tcp = open_socket(&relay.host, relay.port)
            .await
            .map_err(|e| io_failure(Stage::Connect, e))?;
        let stream: Box<dyn AsyncTokioStream> =
            match relay.tls {
                SmtpTls::Tls => {
                    let name = rustls::pki_types::ServerName::try_from(relay.host.clone())
                        .map_err(|_| Failure {
                            stage: Stage::Tls,
                            reply: None,
                            enhanced: None,
                            detail: "the host is not a valid TLS server name".to_owned(),
                        })?;
                    let tls = TlsConnector::from(relay.tls_config.clone())
                        .connect(name, tcp)
                        .await
                        .map_err(|e| io_failure(Stage::Tls, e))?;
                    Box::new(Tls(tls))
                }
                SmtpTls::None | SmtpTls::Starttls => Box::new(tcp),
            };
        let mut connection = AsyncSmtpConnection::connect_with_transport(stream, &relay.hello)
            .await
            .map_err(|e| failed(Stage::Connect, &e))?;
        if relay.tls == SmtpTls::Starttls {
            let parameters =
                TlsParameters::new(relay.host.clone()).map_err(|e| failed(Stage::Tls, &e))?;
            connection
                .starttls(parameters, &relay.hello)
                .await
                .map_err(|e| failed(Stage::Tls, &e))?;
        }
        if let Some(credentials) = &relay.credentials {
            connection
                .auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(|e| failed(Stage::Auth, &e))?;
        }
        Ok(connection)
    }
}

/// A TCP connection with `TCP_NODELAY`: lettre writes the end-of-data line apart
/// from the body, and with Nagle's algorithm that small write waits for the
/// server's delayed ACK (~40 ms per message).
async fn open_socket(host: &str, port: u16) -> std::io::Result<TcpStream> {
    let tcp = TcpStream::connect((host, port)).await?;
    tcp.set_nodelay(true)?;
    Ok(tcp)
}

/// `MAIL FROM`, `RCPT TO` per recipient, `DATA` and the message, each reply
/// checked on its own.
async fn transaction(
    connection: &mut AsyncSmtpConnection,
    envelope: &Envelope,
    body: &[u8],
    stage: &StageReached,
) -> Result<(), Failure> {
    let info = connection.server_info();
    let mut parameters = Vec::new();
    let non_ascii = |a: &Address| !AsRef::<str>::as_ref(a).is_ascii();
    if envelope.to().iter().chain(envelope.from()).any(non_ascii)
        && info.supports_feature(Extension::SmtpUtfEight)
    {
        parameters.push(MailParameter::SmtpUtfEight);
    }
    if !body.is_ascii() && info.supports_feature(Extension::EightBitMime) {
        parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    connection
        .command(Mail::new(envelope.from().cloned(), parameters))
        .await
        .map_err(|e| failed(Stage::MailFrom, &e))?;
    stage.set(Stage::Rcpt);
    for recipient in envelope.to() {
        connection
            .command(Rcpt::new(recipient.clone(), Vec::new()))
            .await
            .map_err(|e| failed(Stage::Rcpt, &e))?;
    }
    stage.set(Stage::Data);
    connection
        .command(Data)
        .await
        .map_err(|e| failed(Stage::Data, &e))?;
    connection
        .message(body)
        .await
        .map_err(|e| failed(Stage::Data, &e))?;
    Ok(())
}

/// The roots lettre trusts too (Mozilla's, from `webpki-roots`); the bounce
/// mailbox uses them as well.
pub(crate) fn tls_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(builder) => builder.with_root_certificates(roots).with_no_client_auth(),
        // The ring provider supports the default versions; this cannot happen.
        Err(_) => rustls::ClientConfig::builder()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
    }
}

/// A TLS stream lettre can drive (its trait wants `peer_addr`).
struct Tls(TlsStream<TcpStream>);

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tls")
    }
}

impl AsyncTokioStream for Tls {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl AsyncRead for Tls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_to_mail_from_is_the_relays_problem_after_it_the_messages() {
        for stage in [Stage::Connect, Stage::Tls, Stage::Auth, Stage::MailFrom] {
            for reply in [None, Some(421), Some(535), Some(550)] {
                assert!(
                    matches!(classify(stage, reply, "x"), SendError::Relay { .. }),
                    "{stage:?} {reply:?}"
                );
            }
        }
        for stage in [Stage::Rcpt, Stage::Data] {
            assert!(matches!(
                classify(stage, Some(550), "x"),
                SendError::Permanent(_)
            ));
            assert!(matches!(
                classify(stage, Some(451), "x"),
                SendError::Transient(_)
            ));
            assert!(matches!(
                classify(stage, None, "timed out"),
                SendError::Transient(_)
            ));
        }
    }

    #[tokio::test]
    async fn sockets_to_the_relay_do_not_wait_for_delayed_acks() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let socket = open_socket("127.0.0.1", port).await.unwrap();
        assert!(socket.nodelay().unwrap(), "TCP_NODELAY is set");
    }

    #[test]
    fn a_refused_login_or_sender_is_a_refusal_a_refused_connection_is_not() {
        use crate::email::transport::Refusal;
        let refusal = |stage, reply| classify(stage, reply, "x").refusal();
        assert_eq!(refusal(Stage::Auth, Some(535)), Some(Refusal::Auth));
        assert_eq!(refusal(Stage::Auth, Some(530)), Some(Refusal::Auth));
        assert_eq!(refusal(Stage::Auth, Some(534)), Some(Refusal::Auth));
        assert_eq!(refusal(Stage::Auth, Some(454)), None);
        assert_eq!(refusal(Stage::MailFrom, Some(550)), Some(Refusal::Sender));
        assert_eq!(refusal(Stage::MailFrom, Some(451)), None);
        assert_eq!(refusal(Stage::Connect, None), None);
        assert_eq!(refusal(Stage::Tls, None), None);
        assert_eq!(refusal(Stage::Rcpt, Some(550)), None);
    }

    #[test]
    fn only_a_5_1_x_refusal_of_rcpt_is_a_bounce() {
        assert!(matches!(
            classify_with(Stage::Rcpt, Some(550), Some("5.1.1"), "x"),
            SendError::Bounced { status, .. } if status == "5.1.1"
        ));
        for (stage, reply, enhanced) in [
            (Stage::Rcpt, Some(550), Some("5.7.1")),
            (Stage::Rcpt, Some(550), None),
            (Stage::Data, Some(554), Some("5.1.1")),
        ] {
            assert!(matches!(
                classify_with(stage, reply, enhanced, "x"),
                SendError::Permanent(_)
            ));
        }
        assert!(matches!(
            classify_with(Stage::MailFrom, Some(550), Some("5.1.0"), "x"),
            SendError::Relay { .. }
        ));
        assert!(matches!(
            classify_with(Stage::Rcpt, Some(450), Some("4.1.1"), "x"),
            SendError::Transient(_)
        ));
        assert_eq!(
            enhanced_status("5.1.1 <x@example.org>: no such user").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(enhanced_status("no such user"), None);
        assert_eq!(enhanced_status("5.1 short"), None);
    }

    #[test]
    fn the_error_text_names_the_stage_and_code_only() {
        let SendError::Permanent(text) = classify(Stage::Rcpt, Some(550), "x") else {
            panic!("a 550 at RCPT is permanent");
        };
        assert_eq!(text, "rcpt refused: SMTP 550");
    }
}
