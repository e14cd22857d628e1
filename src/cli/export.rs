//! `rollcall export`: exactly the HTTP body's bytes for the same filters, to
//! stdout or to `--output` (through a temporary file renamed at the end, so a
//! failed export never leaves half a file).

use super::Context;
use crate::domain::announcement::RawAudience;
use crate::domain::member_filter::RawMemberFilter;
use crate::organisers::csv_export::{self, CHANNEL_CHUNKS, ExportJob};
use anyhow::Context as _;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// confirmed (default), pending, unsubscribed or all.
    #[arg(long)]
    status: Option<String>,
    /// Only registrations created on or after this date (YYYY-MM-DD, UTC).
    #[arg(long)]
    since: Option<String>,
    /// Only registrations created before this date (YYYY-MM-DD, UTC).
    #[arg(long)]
    until: Option<String>,
    /// Part of the email, name or organisation (ignoring case; at least 2 characters).
    #[arg(long)]
    q: Option<String>,
    /// A country code; repeat for any of several.
    #[arg(long)]
    country: Vec<String>,
    /// An organisation type; repeat for any of several.
    #[arg(long = "org-type")]
    org_type: Vec<String>,
    /// An interest; repeat for any of several.
    #[arg(long)]
    interest: Vec<String>,
    /// An IANA time zone; repeat for any of several.
    #[arg(long)]
    timezone: Vec<String>,
    /// How they came: form, api, import or an import's --source text.
    #[arg(long)]
    source: Vec<String>,
    /// Start with a UTF-8 byte-order mark (for Excel).
    #[arg(long)]
    bom: bool,
    /// Write to this file instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
}

pub async fn run(ctx: &Context, args: ExportArgs) -> anyhow::Result<i32> {
    let raw = RawMemberFilter {
        status: args.status,
        since: args.since,
        until: args.until,
        q: args.q,
        sources: args.source,
        audience: RawAudience {
            countries: args.country,
            org_types: args.org_type,
            interests: args.interest,
            timezones: args.timezone,
        },
    };
    let filter = match csv_export::parse_filter(&raw, &ctx.settings.signup.interests) {
        Ok(filter) => filter,
        Err(message) => {
            eprintln!("{message}");
            return Ok(2);
        }
    };
    let job = ExportJob {
        pool: ctx.pool.clone(),
        clock: ctx.clock.clone(),
        filter,
        bom: args.bom,
        interests: ctx.settings.signup.interests.clone(),
        actor: ctx.actor(),
    };
    let (chunks, mut received) = mpsc::channel(CHANNEL_CHUNKS);
    let reader = tokio::task::spawn_blocking(move || csv_export::run(job, chunks));
    let (mut sink, partial) = open_sink(args.output.as_deref())?;
    let progress = std::io::stderr().is_terminal();
    let mut bytes = 0usize;
    while let Some(chunk) = received.recv().await {
        let chunk = chunk.context("export failed")?;
        sink.write_all(&chunk)?;
        bytes += chunk.len();
        if progress {
            eprint!("\rexporting… {} KiB", bytes / 1024);
        }
    }
    let rows = reader.await.context("export task")?;
    sink.flush()?;
    drop(sink);
    if let (Some(partial), Some(output)) = (partial, args.output.as_deref()) {
        partial
            .persist(output)
            .context("move the export into place")?;
    }
    if progress {
        eprintln!();
    }
    eprintln!("exported {rows} rows");
    Ok(0)
}

/// Stdout, or a temporary file beside `--output` that is renamed into place.
fn open_sink(
    output: Option<&Path>,
) -> anyhow::Result<(Box<dyn Write>, Option<tempfile::TempPath>)> {
    match output {
        None => Ok((
            Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            None,
        )),
        Some(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let file = tempfile::NamedTempFile::new_in(dir).context("create a temporary file")?;
            let (file, temp_path) = file.into_parts();
            Ok((Box::new(std::io::BufWriter::new(file)), Some(temp_path)))
        }
    }
}
