//! `announce list` and `announce status`: counts from the deliveries that remain.

use super::{Context, no_announcement, utc};
use crate::db;
use crate::db::announcements::{self, AnnouncementRow, DeliveryCounts};
use crate::domain::announcement::AnnouncementStatus;

pub(super) async fn list(ctx: &Context) -> anyhow::Result<i32> {
    let rows = db::blocking(&ctx.pool, |c| {
        announcements::list(c)?
            .into_iter()
            .map(|row| Ok((announcements::delivery_counts(c, &row.id)?, row)))
            .collect::<Result<Vec<_>, db::DbError>>()
    })
    .await?;
    for (counts, row) in rows {
        // A subject holds no control characters, so no tab or line break.
        println!(
            "{}\t{}\t{}\t{}",
            row.id,
            row.status,
            counts_line(&counts).replace(' ', "\t"),
            row.subject
        );
    }
    Ok(0)
}

pub(super) async fn status(ctx: &Context, id: String) -> anyhow::Result<i32> {
    let wanted = id.clone();
    let found = db::blocking(&ctx.pool, move |c| {
        let Some(row) = announcements::find(c, &wanted)? else {
            return Ok(None);
        };
        Ok(Some((announcements::delivery_counts(c, &wanted)?, row)))
    })
    .await?;
    let Some((counts, row)) = found else {
        return Ok(no_announcement(&id));
    };
    println!("{} {} {}", row.id, row.status, counts_line(&counts));
    if let Some(detail) = status_detail(&row) {
        eprintln!("{detail}");
    }
    Ok(0)
}

/// `audience=N queued=Q sent=S failed=F cancelled=C`.
fn counts_line(counts: &DeliveryCounts) -> String {
    format!(
        "audience={} queued={} sent={} failed={} cancelled={}",
        counts.audience(),
        counts.queued,
        counts.sent,
        counts.failed,
        counts.cancelled
    )
}

/// What the status line leaves out: a scheduled time, or why it is paused or back in draft.
fn status_detail(row: &AnnouncementRow) -> Option<String> {
    match (row.status(), &row.status_reason, row.scheduled_at) {
        (AnnouncementStatus::Scheduled, _, Some(at)) => Some(format!("scheduled for {}", utc(at))),
        (_, Some(reason), _) => Some(format!("{}: {reason}", row.status)),
        _ => None,
    }
}
