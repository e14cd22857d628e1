//! One raw message in, one result word out: the rule the webhook, the CLI
//! and the IMAP poller share.

use super::report::{self, Reading};
use crate::crypto::Keys;
use crate::db::bounces::{self, BounceSource, NewBounce};
use crate::db::{DbConnection, DbError};
use chrono::NaiveDateTime;

/// The largest raw message accepted.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// Reads and records one raw message: SPEC's result word, or `None` when
/// it is not a message at all.
pub fn process(
    conn: &mut DbConnection,
    keys: &Keys,
    raw: &[u8],
    source: BounceSource,
    now: NaiveDateTime,
) -> Result<Option<&'static str>, DbError> {
    let (class, status, outbox_id, report_part) = match report::read(keys, raw) {
        None => return Ok(None),
        Some(Reading::Ignored) => return Ok(Some("ignored")),
        Some(Reading::Report {
            class,
            status,
            outbox_id,
            report_part,
        }) => (class, status, outbox_id, report_part),
    };
    let report = NewBounce {
        class,
        status_code: status.as_deref(),
        outbox_id: outbox_id.as_deref(),
        report_part: &report_part,
        source,
    };
    Ok(Some(bounces::record(conn, &report, now)?.as_str()))
}
