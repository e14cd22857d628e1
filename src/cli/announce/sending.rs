//! `announce test`, `send` and the other actions: each one guarded transition
//! (or the test-send queue) and its outcome as an exit code.

use super::{Context, NOT_ALLOWED, invalid, no_announcement, utc};
use crate::db;
use crate::db::announcements::{self, DeliveryCounts, TestSend, Transition};
use crate::domain::announcement::{
    Action, AnnouncementStatus, parse_test_addresses, schedule_time,
};
use crate::domain::quote_safely;
use crate::startup;
use chrono::{DateTime, NaiveDateTime, Utc};

pub(super) async fn test(ctx: &Context, id: String, addresses: &[String]) -> anyhow::Result<i32> {
    let addresses = match parse_test_addresses(addresses.iter().map(String::as_str)) {
        Ok(addresses) => addresses,
        Err(error) => return Ok(invalid(format_args!("addresses: {error}"))),
    };
    let per_hour = ctx.settings.email.test_sends_per_hour;
    let mail_domain = startup::send_rules(&ctx.settings, &ctx.keys).mail_domain;
    let (actor, now, wanted) = (ctx.actor(), ctx.now(), id.clone());
    let outcome = db::blocking(&ctx.pool, move |c| {
        announcements::queue_tests(c, &wanted, &addresses, &actor, per_hour, &mail_domain, now)
    })
    .await?;
    Ok(match outcome {
        TestSend::Queued(n) => {
            eprintln!("test queued to {n} address(es); a running worker sends it");
            0
        }
        TestSend::OverCap { retry_after } => {
            let minutes = (retry_after.num_seconds() + 59) / 60;
            invalid(format_args!(
                "over the test-send limit of {per_hour} recipients an hour for {}; \
                 try again in {minutes} minute(s), after {}",
                ctx.actor(),
                utc(now + retry_after)
            ))
        }
        TestSend::NotFound => no_announcement(&id),
    })
}

pub(super) async fn send(ctx: &Context, id: String, at: Option<&str>) -> anyhow::Result<i32> {
    let Some(at) = at else {
        return act(ctx, id, Action::SendNow, None).await;
    };
    let at = match DateTime::parse_from_rfc3339(at) {
        Ok(at) => at.with_timezone(&Utc),
        Err(_) => {
            return Ok(invalid(format_args!(
                "--at: {:?} is not an RFC 3339 time (e.g. 2026-12-24T09:00:00+13:00)",
                quote_safely(at)
            )));
        }
    };
    match schedule_time(at, ctx.now()) {
        Ok(at) => act(ctx, id, Action::Schedule, Some(at)).await,
        Err(why) => Ok(invalid(format_args!("--at: {} {why}", utc(at.naive_utc())))),
    }
}

/// Applies one action and reports the outcome on stderr.
pub(super) async fn act(
    ctx: &Context,
    id: String,
    action: Action,
    at: Option<NaiveDateTime>,
) -> anyhow::Result<i32> {
    let rules = startup::send_rules(&ctx.settings, &ctx.keys);
    let (now, wanted) = (ctx.now(), id.clone());
    let (transition, counts) = db::blocking(&ctx.pool, move |c| {
        let transition = announcements::apply(c, &rules, &wanted, action, at, now)?;
        Ok((transition, announcements::delivery_counts(c, &wanted)?))
    })
    .await?;
    Ok(match transition {
        Transition::Done(to) => {
            eprintln!("{}", done_message(&id, action, to, at, &counts));
            0
        }
        Transition::Unchanged(status) => {
            eprintln!(
                "announcement {id} is {status}, not a draft: nothing changed (it is sent only once)"
            );
            0
        }
        Transition::NotAllowed(status) => {
            let from: Vec<&str> = action.from().iter().map(|s| s.as_str()).collect();
            eprintln!(
                "cannot {} announcement {id}: it is {status} ({} works only from {})",
                action.as_str(),
                action.as_str(),
                from.join(", ")
            );
            NOT_ALLOWED
        }
        Transition::NotFound => no_announcement(&id),
    })
}

fn done_message(
    id: &str,
    action: Action,
    to: AnnouncementStatus,
    at: Option<NaiveDateTime>,
    counts: &DeliveryCounts,
) -> String {
    match action {
        Action::SendNow => format!(
            "announcement {id} is sending: {} deliveries queued; a running worker delivers them",
            counts.queued
        ),
        Action::Schedule => format!(
            "announcement {id} is scheduled for {}",
            at.map(utc).unwrap_or_default()
        ),
        Action::Cancel => format!(
            "announcement {id} is cancelled; {} deliveries will not be sent",
            counts.cancelled
        ),
        Action::Unschedule | Action::Pause | Action::Resume => {
            format!("announcement {id} is {to}")
        }
    }
}
