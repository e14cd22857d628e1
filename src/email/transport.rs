//! Where messages go: lettre's pooled async SMTP transport, or `.eml` files for
//! a first run (so the whole flow can be clicked through without a mail server).

use crate::configuration::{EmailSettings, EmailTransportKind, SmtpTls};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;

/// How a send ended, as far as retrying is concerned.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth retrying: 4xx replies, refused connections, timeouts, I/O.
    #[error("temporary delivery failure: {0}")]
    Transient(String),
    /// The server refused the message for good (5xx).
    #[error("permanent delivery failure: {0}")]
    Permanent(String),
}

/// A configured transport.
#[derive(Clone)]
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

impl Mailer {
    pub fn from_settings(settings: &EmailSettings, mail_dir: PathBuf) -> anyhow::Result<Mailer> {
        match settings.transport {
            EmailTransportKind::File => Ok(Mailer::Files(mail_dir)),
            EmailTransportKind::Smtp => Ok(Mailer::Smtp(smtp_transport(settings)?)),
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
            Mailer::Smtp(smtp) => smtp
                .send(message.clone())
                .await
                .map(|_| ())
                .map_err(classify),
            Mailer::Files(dir) => write_file(dir, message, message_id).await,
        }
    }
}

fn smtp_transport(settings: &EmailSettings) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let smtp = &settings.smtp;
    let builder = match smtp.tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)?,
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)?,
    };
    let mut builder = builder
        .port(smtp.port)
        .timeout(Some(smtp.timeout()))
        .pool_config(PoolConfig::new().max_size(smtp.pool_size));
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
    }
    Ok(builder.build())
}

/// 5xx replies are permanent; everything else (4xx, refused, timeouts) is retried.
fn classify(error: lettre::transport::smtp::Error) -> SendError {
    let text = match error.status() {
        Some(code) => format!("SMTP {code}"),
        None if error.is_timeout() => "timed out".to_owned(),
        None => "connection or protocol error".to_owned(),
    };
    if error.is_permanent() {
        SendError::Permanent(text)
    } else {
        SendError::Transient(text)
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
