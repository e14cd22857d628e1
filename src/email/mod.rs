//! Email: rendering from `templates/email/`, the transports (SMTP or files), and
//! the outbox worker. The request path never waits on SMTP: it only queues.

pub mod digest_mail;
pub mod headers;
pub mod list_mail;
pub mod plain_text;
pub mod render;
pub mod smtp_pool;
pub mod transport;
pub mod worker;
