//! Where messages go: SMTP through our own connection pool, or `.eml` files for
//! a first run (so the whole flow can be clicked through without a mail server).

use super::smtp_pool::{SmtpPool, Stage};
use crate::configuration::{EmailSettings, EmailTransportKind};
use lettre::Message;
use std::path::PathBuf;
use std::sync::Arc;

/// How a send ended, as far as retrying is concerned.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth retrying: 4xx replies, refused connections, timeouts, I/O.
    #[error("temporary delivery failure: {0}")]
    Transient(String),
    /// The server refused the message for good (5xx to RCPT or DATA).
    #[error("permanent delivery failure: {0}")]
    Permanent(String),
    /// The server refused the recipient at RCPT with an enhanced status 5.1.x
    /// (no such mailbox): permanent, and a hard bounce without any report.
    #[error("recipient refused: {text}")]
    Bounced { status: String, text: String },
    /// The relay failed before the message was its concern (connect, TLS,
    /// AUTH, MAIL FROM): transient for every message, whatever the reply.
    /// `reply` is the relay's code, when it answered.
    #[error("SMTP relay failure: {text}")]
    Relay {
        stage: Stage,
        reply: Option<u16>,
        text: String,
    },
}

/// How the relay refused us, when a relay failure was a refusal rather than
/// a breakdown: AUTH answered 530, 534 or 535, or the sender got a 5xx.
/// Organisers are told once the relay accepts again; a refused connection or
/// a TLS failure is not a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Auth,
    Sender,
}

impl Refusal {
    pub fn of(stage: Stage, reply: Option<u16>) -> Option<Refusal> {
        match (stage, reply) {
            (Stage::Auth, Some(530 | 534 | 535)) => Some(Refusal::Auth),
            (Stage::MailFrom, Some(500..=599)) => Some(Refusal::Sender),
            _ => None,
        }
    }
}

impl SendError {
    /// The refusal this is, if it is one (see [`Refusal`]).
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            SendError::Relay { stage, reply, .. } => Refusal::of(*stage, *reply),
            _ => None,
        }
    }
}

/// A configured transport.
#[derive(Clone)]
pub enum Mailer {
    Smtp(Arc<SmtpPool>),
    Files(PathBuf),
}

impl Mailer {
    pub fn from_settings(settings: &EmailSettings, mail_dir: PathBuf) -> anyhow::Result<Mailer> {
        match settings.transport {
            EmailTransportKind::File => Ok(Mailer::Files(mail_dir)),
            EmailTransportKind::Smtp => Ok(Mailer::Smtp(Arc::new(SmtpPool::new(&settings.smtp)))),
        }
    }

    /// Where the file transport writes, for the one start-up log line.
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp(_) => "SMTP".to_owned(),
            Mailer::Files(dir) => format!("files in {}", dir.display()),
        }
    }

    pub async fn send(&self, message: &Message, message_id: &str) -> Result<(), SendError> {
        match self {
            Mailer::Smtp(pool) => pool.send(message.envelope(), &message.formatted()).await,
            Mailer::Files(dir) => write_file(dir, message, message_id).await,
        }
    }
}

/// Writes `<dir>/<message-id>.eml` through a temporary file, so a reader never
/// sees half a message.
async fn write_file(
    dir: &std::path::Path,
    message: &Message,
    message_id: &str,
) -> Result<(), SendError> {
    let io = |e: std::io::Error| SendError::Transient(format!("cannot write mail file: {e}"));
    // Messages hold addresses: the folder and files are the owner's only.
    tokio::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .await
        .map_err(io)?;
    let name = message_id
        .trim_matches(['<', '>'])
        .replace(['/', '\\'], "_");
    let path = dir.join(format!("{name}.eml"));
    let partial = dir.join(format!(".{name}.eml.partial"));
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)
        .await
        .map_err(io)?;
    tokio::io::AsyncWriteExt::write_all(&mut file, &message.formatted())
        .await
        .map_err(io)?;
    tokio::io::AsyncWriteExt::flush(&mut file)
        .await
        .map_err(io)?;
    tokio::fs::rename(&partial, &path).await.map_err(io)?;
    tracing::info!(path = %path.display(), "email written to file");
    Ok(())
}
