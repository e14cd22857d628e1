//! `rollcall announce …`: write, test, send and steer announcements from the
//! command line. The result alone goes to stdout (`create`: the id; `status`:
//! one line; `list`: one line each); every message goes to stderr. Exit 0 on
//! success and for `send` on something no longer a draft, 1 for a transition
//! not in SPEC's table, 2 for invalid input or an unknown id. The CLI only
//! queues: a running worker (`rollcall serve` or `rollcall worker`) delivers.

use super::Context;
use crate::db::announcements::{self, AnnouncementRow, DeliveryCounts, TestSend, Transition};
use crate::db::{self, audience};
use crate::domain::announcement::{
    Action, AnnouncementDraft, AnnouncementStatus, BODY_MAX_BYTES, RawAudience,
    parse_test_addresses, schedule_time,
};
use crate::domain::quote_safely;
use crate::startup;
use chrono::{DateTime, NaiveDateTime, Utc};
use clap::Subcommand;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The exit code for input that is not valid (and for an unknown id).
const INVALID: i32 = 2;
/// The exit code for a transition not in the table.
const NOT_ALLOWED: i32 = 1;

/// Shown under `rollcall announce --help`.
pub const AFTER_HELP: &str = "\
Only the result goes to stdout: `create` prints the new id, `status` one line
`ID STATUS audience=N queued=Q sent=S failed=F cancelled=C`, `list` one line per
announcement; `test`, `send`, `pause`, `resume`, `cancel` and `unschedule` print
nothing on stdout and confirm on stderr. Messages are queued here and delivered
by a running `rollcall serve` or `rollcall worker`.

Exit status: 0 on success, and for `send` on an announcement that is no longer a
draft (nothing changes); 1 for a change its status does not allow (the message
says which status it is in); 2 for invalid input (subject, body, filter, time,
addresses, the hourly test-send cap) and for an id that names no announcement.";

#[derive(Debug, Subcommand)]
pub enum AnnounceCommand {
    /// Create a draft; prints only its id.
    ///
    /// The audience is every confirmed member, narrowed by the filters given:
    /// different kinds combine with AND, repeats of one kind with OR (`--country NZ
    /// --country FJ --interest "Training and workshops"`: in NZ or FJ, and
    /// interested in training). A member without a value matches no filter of
    /// that kind. The command prints on stderr how many members match now.
    Create(CreateArgs),
    /// Send a test of announcement ID to 1–5 typed addresses.
    ///
    /// The subject is prefixed `[Test] ` and no member gets it; its unsubscribe
    /// link unsubscribes nobody. At most email.test_sends_per_hour recipients an
    /// hour per organiser; the command counts as the organiser `cli:$USER`.
    Test {
        id: String,
        /// One to five addresses (also accepted comma-separated).
        #[arg(required = true)]
        addresses: Vec<String>,
    },
    /// Send a draft to its audience now, or at a time with --at.
    Send {
        id: String,
        /// When to send, in RFC 3339 (e.g. 2026-12-24T09:00:00+13:00); must be in the future.
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
    },
    /// Pause a sending announcement (no new sends start).
    Pause { id: String },
    /// Resume a paused announcement (only what is still queued is sent).
    Resume { id: String },
    /// Cancel a draft, scheduled, sending or paused announcement.
    ///
    /// Queued deliveries are marked cancelled; what was sent stays sent.
    Cancel { id: String },
    /// Return a scheduled announcement to draft.
    Unschedule { id: String },
    /// List announcements, newest first, one line each.
    ///
    /// Eight fields separated by tabs: the id, the status, `audience=N`,
    /// `queued=Q`, `sent=S`, `failed=F`, `cancelled=C` (as `status` counts them)
    /// and the subject, e.g. `cut -f1,2,8` for id, status and subject.
    List,
    /// Print one line: `ID STATUS audience=N queued=Q sent=S failed=F cancelled=C`.
    ///
    /// `audience` counts the deliveries that remain (an erased member's go with
    /// them); a leased delivery counts as queued. A scheduled time, or the reason
    /// it paused itself or went back to draft, goes to stderr.
    Status { id: String },
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The subject: 1–150 characters.
    #[arg(long)]
    subject: String,
    /// A file holding the body in Markdown (UTF-8, at most 64 KiB); `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    body: PathBuf,
    /// Only members in this country (ISO code); repeat for any of several.
    #[arg(long = "country", value_name = "CC")]
    countries: Vec<String>,
    /// Only members of this organisation type (government, university, industry,
    /// nonprofit, other); repeat for any of several.
    #[arg(long = "org-type", value_name = "T")]
    org_types: Vec<String>,
    /// Only members with this interest (as configured in signup.interests); repeatable.
    #[arg(long = "interest", value_name = "I")]
    interests: Vec<String>,
    /// Only members in this IANA time zone; repeatable.
    #[arg(long = "timezone", value_name = "Z")]
    timezones: Vec<String>,
    /// Show it in the public archive once sent.
    #[arg(long)]
    archive: bool,
}

pub async fn run(ctx: &Context, command: AnnounceCommand) -> anyhow::Result<i32> {
    match command {
        AnnounceCommand::Create(args) => create(ctx, args).await,
        AnnounceCommand::Test { id, addresses } => test(ctx, id, &addresses).await,
        AnnounceCommand::Send { id, at } => send(ctx, id, at.as_deref()).await,
        AnnounceCommand::Pause { id } => act(ctx, id, Action::Pause, None).await,
        AnnounceCommand::Resume { id } => act(ctx, id, Action::Resume, None).await,
        AnnounceCommand::Cancel { id } => act(ctx, id, Action::Cancel, None).await,
        AnnounceCommand::Unschedule { id } => act(ctx, id, Action::Unschedule, None).await,
        AnnounceCommand::List => list(ctx).await,
        AnnounceCommand::Status { id } => status(ctx, id).await,
    }
}

/// Reports invalid input; returns the exit code for it.
fn invalid(message: impl std::fmt::Display) -> i32 {
    eprintln!("{message}");
    INVALID
}

fn no_announcement(id: &str) -> i32 {
    invalid(format_args!("no announcement {}", quote_safely(id)))
}

async fn create(ctx: &Context, args: CreateArgs) -> anyhow::Result<i32> {
    let body = match read_body(&args.body) {
        Ok(body) => body,
        Err(message) => return Ok(invalid(message)),
    };
    let raw = RawAudience {
        countries: args.countries,
        org_types: args.org_types,
        interests: args.interests,
        timezones: args.timezones,
    };
    let interests = &ctx.settings.signup.interests;
    let draft = match AnnouncementDraft::parse(&args.subject, &body, &raw, args.archive, interests)
    {
        Ok(draft) => draft,
        Err(errors) => {
            for (field, messages) in errors.iter() {
                for message in messages {
                    eprintln!("--{}: {message}", field.replace('_', "-"));
                }
            }
            return Ok(INVALID);
        }
    };
    let (actor, now) = (ctx.actor(), ctx.now());
    let (id, matching) = db::blocking(&ctx.pool, move |c| {
        let id = announcements::create(c, &draft, &actor, now)?;
        Ok((id, audience::count(c, &draft.audience)?))
    })
    .await?;
    println!("{id}");
    eprintln!("draft created; {matching} member(s) match its audience now");
    Ok(0)
}

/// The body from `path` (`-` is stdin): text, or why not, naming the option.
/// Reads at most twice the limit: normalising CRLF can at most halve the size,
/// so anything longer is too long however it ends.
fn read_body(path: &Path) -> Result<String, String> {
    let limit = u64::try_from(2 * BODY_MAX_BYTES + 1).unwrap_or(u64::MAX);
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|file| file.take(limit).read_to_end(&mut bytes))
    };
    let shown = path.display();
    if let Err(error) = read {
        return Err(format!("--body {shown}: {error}"));
    }
    if bytes.len() > 2 * BODY_MAX_BYTES {
        return Err(format!("--body {shown}: at most 64 KiB"));
    }
    String::from_utf8(bytes).map_err(|_| format!("--body {shown}: not UTF-8 text"))
}

async fn test(ctx: &Context, id: String, addresses: &[String]) -> anyhow::Result<i32> {
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

async fn send(ctx: &Context, id: String, at: Option<&str>) -> anyhow::Result<i32> {
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
async fn act(
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

async fn list(ctx: &Context) -> anyhow::Result<i32> {
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

async fn status(ctx: &Context, id: String) -> anyhow::Result<i32> {
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

/// A stored time as RFC 3339 in UTC.
fn utc(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
