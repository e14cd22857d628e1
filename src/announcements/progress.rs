//! What an announcement's page shows beyond the announcement itself: who it
//! reaches, how far sending has come, how fast, and when it should finish.

use crate::db::announcements::{self, AnnouncementRow, DeliveryCounts};
use crate::db::deliveries::{self, FailedDelivery, TestSendRow};
use crate::db::{DbConnection, DbError, audience};
use crate::domain::announcement::AnnouncementStatus;
use chrono::{NaiveDateTime, TimeDelta};

/// Failed deliveries listed on the page (the rest wait for these to be retried).
const FAILED_SHOWN: i64 = 50;
/// Test sends listed on the page.
const TESTS_SHOWN: i64 = 20;

/// An announcement and everything its page shows about it, read at once.
#[derive(Debug, Clone)]
pub struct Overview {
    pub row: AnnouncementRow,
    /// Before the start, the members the audience matches now; after it, the
    /// deliveries that remain (an erased member's went with them).
    pub audience: i64,
    pub counts: DeliveryCounts,
    /// Deliveries sent in the last minute.
    pub per_minute: i64,
    pub finish: Option<NaiveDateTime>,
    pub failed: Vec<FailedDelivery>,
    pub tests: Vec<TestSendRow>,
    /// Test recipients the organiser viewing has used in the last hour.
    pub tests_this_hour: i64,
}

impl Overview {
    /// The overview of `id` for the organiser `actor`, or `None` if there is no such announcement.
    pub fn load(
        conn: &mut DbConnection,
        id: &str,
        actor: &str,
        now: NaiveDateTime,
    ) -> Result<Option<Self>, DbError> {
        let Some(row) = announcements::find(conn, id)? else {
            return Ok(None);
        };
        let counts = announcements::delivery_counts(conn, id)?;
        let audience = if started(row.status()) {
            counts.audience()
        } else {
            audience::count(conn, &row.audience())?
        };
        let per_minute = deliveries::sent_in_last_minute(conn, id, now)?;
        let finish = match row.status() {
            AnnouncementStatus::Sending => estimated_finish(counts.queued, per_minute, now),
            _ => None,
        };
        Ok(Some(Self {
            audience,
            counts,
            per_minute,
            finish,
            failed: deliveries::failed(conn, id, FAILED_SHOWN)?,
            tests: deliveries::test_sends(conn, id, TESTS_SHOWN)?,
            tests_this_hour: deliveries::tests_in_last_hour(conn, actor, now)?,
            row,
        }))
    }
}

/// Whether the deliveries exist: the audience was fixed when it started.
pub fn started(status: AnnouncementStatus) -> bool {
    use AnnouncementStatus::*;
    match status {
        Draft | Scheduled => false,
        Sending | Paused | Sent | Cancelled => true,
    }
}

/// When `queued` deliveries should be done at `per_minute`: unknown while
/// nothing was sent in the last minute, `None` too when nothing is left.
pub fn estimated_finish(queued: i64, per_minute: i64, now: NaiveDateTime) -> Option<NaiveDateTime> {
    if queued <= 0 || per_minute <= 0 {
        return None;
    }
    let minutes = (queued + per_minute - 1) / per_minute;
    now.checked_add_signed(TimeDelta::try_minutes(minutes)?)
}

/// Every announcement, newest first, with its deliveries by status.
pub fn list(conn: &mut DbConnection) -> Result<Vec<(AnnouncementRow, DeliveryCounts)>, DbError> {
    let mut counts = deliveries::counts_by_announcement(conn)?;
    Ok(announcements::list(conn)?
        .into_iter()
        .map(|row| {
            let n = counts.remove(&row.id).unwrap_or_default();
            (row, n)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_finish_is_the_queue_over_the_last_minutes_rate() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        assert_eq!(
            estimated_finish(1000, 600, now),
            Some(now + TimeDelta::minutes(2))
        );
        assert_eq!(
            estimated_finish(600, 600, now),
            Some(now + TimeDelta::minutes(1))
        );
        assert_eq!(estimated_finish(10, 0, now), None, "nothing sent lately");
        assert_eq!(estimated_finish(0, 600, now), None, "nothing left");
    }
}
