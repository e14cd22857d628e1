//! `rollcall announce …`: write, test, send and steer announcements from the
//! command line. The result alone goes to stdout (`create`: the id; `status`:
//! one line; `list`: one line each); every message goes to stderr. Exit 0 on
//! success and for `send` on something no longer a draft, 1 for a transition
//! not in SPEC's table, 2 for invalid input or an unknown id. The CLI only
//! queues: a running worker (`rollcall serve` or `rollcall worker`) delivers.

mod compose;
mod report;
mod sending;

use super::Context;
use crate::domain::announcement::Action;
use crate::domain::quote_safely;
use chrono::NaiveDateTime;
use clap::Subcommand;
use std::path::PathBuf;

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
        AnnounceCommand::Create(args) => compose::create(ctx, args).await,
        AnnounceCommand::Test { id, addresses } => sending::test(ctx, id, &addresses).await,
        AnnounceCommand::Send { id, at } => sending::send(ctx, id, at.as_deref()).await,
        AnnounceCommand::Pause { id } => sending::act(ctx, id, Action::Pause, None).await,
        AnnounceCommand::Resume { id } => sending::act(ctx, id, Action::Resume, None).await,
        AnnounceCommand::Cancel { id } => sending::act(ctx, id, Action::Cancel, None).await,
        AnnounceCommand::Unschedule { id } => sending::act(ctx, id, Action::Unschedule, None).await,
        AnnounceCommand::List => report::list(ctx).await,
        AnnounceCommand::Status { id } => report::status(ctx, id).await,
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

/// A stored time as RFC 3339 in UTC.
fn utc(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
