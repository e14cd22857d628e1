//! One IMAP session with the bounce mailbox: TCP, TLS as configured (from the
//! first byte, or after STARTTLS), LOGIN, SELECT, and the three commands a
//! poll needs. Every step has a time limit and fails with the step's name.

use crate::configuration::{ImapSettings, SmtpTls};
use async_imap::{Client, Session};
use futures_util::TryStreamExt;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls;

/// How long one step (connecting, one command and its answer) may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// The most of one message that is read: a report's own parts come first, and
/// the intake takes no more than this from any source.
const MAX_MESSAGE_BYTES: usize = crate::bounces::intake::MAX_MESSAGE_BYTES;

/// A failed step: its name and what went wrong (never the password; the
/// server's own words are cut short).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    pub stage: &'static str,
    pub text: String,
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.stage, self.text)
    }
}

impl StepError {
    pub fn new(stage: &'static str, text: impl fmt::Display) -> StepError {
        let mut text = text.to_string().replace(['\r', '\n'], " ");
        if text.len() > 200 {
            let mut end = 200;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text.push('…');
        }
        StepError { stage, text }
    }
}

/// Runs one step within [`STEP_TIMEOUT`].
async fn step<T, E: fmt::Display>(
    stage: &'static str,
    work: impl Future<Output = Result<T, E>>,
) -> Result<T, StepError> {
    match tokio::time::timeout(STEP_TIMEOUT, work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(StepError::new(stage, error)),
        Err(_) => Err(StepError::new(stage, "timed out")),
    }
}

/// A logged-in session with the mailbox selected.
pub struct Mailbox {
    session: Session<Io>,
    /// The mailbox's UIDVALIDITY.
    pub uid_validity: i64,
}

impl Mailbox {
    /// Connects, logs in and selects `settings.mailbox`.
    pub async fn open(
        settings: &ImapSettings,
        tls_config: &Arc<rustls::ClientConfig>,
    ) -> Result<Mailbox, StepError> {
        let host = settings.host.as_deref().unwrap_or_default();
        let tcp = step("connect", TcpStream::connect((host, settings.port))).await?;
        let io = match settings.tls {
            SmtpTls::Tls => Io::Tls(Box::new(tls(host, tcp, tls_config).await?)),
            SmtpTls::None | SmtpTls::Starttls => Io::Plain(tcp),
        };
        let mut client = Client::new(io);
        let greeting = step("greeting", client.read_response()).await?;
        if greeting.is_none() {
            return Err(StepError::new("greeting", "connection closed"));
        }
        if settings.tls == SmtpTls::Starttls {
            step("tls", client.run_command_and_check_ok("STARTTLS", None)).await?;
            let Io::Plain(tcp) = client.into_inner() else {
                return Err(StepError::new("tls", "already encrypted"));
            };
            client = Client::new(Io::Tls(Box::new(tls(host, tcp, tls_config).await?)));
        }
        let username = settings.username.as_deref().unwrap_or_default();
        let password = settings.password.as_ref().map_or("", |p| p.expose());
        let login = async { client.login(username, password).await.map_err(|(e, _)| e) };
        let mut session = step("login", login).await?;
        let selected = step("select", session.select(&settings.mailbox)).await?;
        let uid_validity = selected
            .uid_validity
            .ok_or_else(|| StepError::new("select", "the server gave no UIDVALIDITY"))?;
        Ok(Mailbox {
            session,
            uid_validity: i64::from(uid_validity),
        })
    }

    /// The UIDs above `after`, in order.
    pub async fn uids_after(&mut self, after: i64) -> Result<Vec<i64>, StepError> {
        // `n:*` always includes the highest UID, even when it is below n.
        let query = format!("UID {}:*", after.saturating_add(1));
        let found = step("search", self.session.uid_search(query)).await?;
        let mut uids: Vec<i64> = found
            .into_iter()
            .map(i64::from)
            .filter(|&uid| uid > after)
            .collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// The raw message `uid` (at most [`MAX_MESSAGE_BYTES`]), without setting
    /// `\Seen`; `None` when the server has no body for it (gone meanwhile).
    pub async fn message(&mut self, uid: i64) -> Result<Option<Vec<u8>>, StepError> {
        let query = format!("(UID BODY.PEEK[]<0.{MAX_MESSAGE_BYTES}>)");
        let fetched = async {
            let stream = self.session.uid_fetch(uid.to_string(), query).await?;
            stream.try_collect::<Vec<_>>().await
        };
        let fetches = step("fetch", fetched).await?;
        Ok(fetches
            .iter()
            .find(|f| f.uid.map(i64::from) == Some(uid))
            .and_then(|f| f.body())
            .map(<[u8]>::to_vec))
    }

    /// Marks message `uid` `\Seen` (nothing is ever deleted or expunged).
    pub async fn mark_seen(&mut self, uid: i64) -> Result<(), StepError> {
        let stored = async {
            let stream = self
                .session
                .uid_store(uid.to_string(), "+FLAGS (\\Seen)")
                .await?;
            stream.try_collect::<Vec<_>>().await
        };
        step("store", stored).await.map(|_| ())
    }

    /// Says goodbye; a failure here loses nothing.
    pub async fn close(mut self) {
        let _ = step("logout", self.session.logout()).await;
    }
}

async fn tls(
    host: &str,
    tcp: TcpStream,
    config: &Arc<rustls::ClientConfig>,
) -> Result<TlsStream<TcpStream>, StepError> {
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|_| StepError::new("tls", "the host is not a valid TLS server name"))?;
    step("tls", TlsConnector::from(config.clone()).connect(name, tcp)).await
}

/// The connection, plain or encrypted.
enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl fmt::Debug for Io {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Io::Plain(_) => "Io::Plain",
            Io::Tls(_) => "Io::Tls",
        })
    }
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_server_answer_is_cut_short_on_one_line() {
        let error = StepError::new("login", format!("NO {}\r\nmore", "é".repeat(300)));
        assert_eq!(error.stage, "login");
        assert!(!error.text.contains('\n'));
        assert!(error.text.len() <= 200 + '…'.len_utf8());
        assert!(error.to_string().starts_with("login: NO é"));
    }
}
