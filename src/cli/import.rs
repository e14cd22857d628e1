//! `rollcall import FILE [--mode reconfirm|confirmed] [--source TEXT]`:
//! rejected lines to stderr as `line N: reason`, the summary to stdout, exit 0
//! when nothing was rejected and 2 otherwise (also when the file or the
//! arguments cannot be used at all; 1 is left for faults such as the database).

use super::Context;
use crate::clock::SharedClock;
use crate::db::Pool;
use crate::db::imports::{self, ImportMode, ImportPlan, LineOutcome};
use crate::domain::quote_safely;
use crate::import::{ImportReader, ImportRecord, Line, ReadError};
use crate::startup;
use anyhow::Context as _;
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Lines per write transaction: short enough not to hold up signups.
const BATCH: usize = 100;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The CSV file exported from the hosted service.
    file: PathBuf,
    /// reconfirm: pending registrations and confirmation emails; confirmed:
    /// consent obtained elsewhere (needs --source and a consent time column).
    #[arg(long, value_enum, default_value_t = Mode::Reconfirm)]
    mode: Mode,
    /// Where the consent came from, like mailchimp (default `import`; 1–40
    /// printable characters; not form or api, which are rollcall's own).
    #[arg(long)]
    source: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Mode {
    Reconfirm,
    Confirmed,
}

pub async fn run(ctx: &Context, args: ImportArgs) -> anyhow::Result<i32> {
    let plan = match plan(ctx, &args) {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("{message}");
            return Ok(2);
        }
    };
    let file = match File::open(&args.file) {
        Ok(file) => file,
        Err(error) => {
            eprintln!("{}: {error}", args.file.display());
            return Ok(2);
        }
    };
    let job = Job {
        pool: ctx.pool.clone(),
        clock: ctx.clock.clone(),
        plan,
        path: args.file,
    };
    tokio::task::spawn_blocking(move || job.run(file))
        .await
        .context("import task")?
}

/// One import, run on a blocking thread with one connection.
struct Job {
    pool: Pool,
    clock: SharedClock,
    plan: ImportPlan,
    path: PathBuf,
}

impl Job {
    fn run(self, file: File) -> anyhow::Result<i32> {
        let need_time = self.plan.mode == ImportMode::Confirmed;
        let reader = match ImportReader::open(file, need_time) {
            Ok(reader) => reader,
            Err(ReadError::Header(error)) => {
                eprintln!("{}: {error}", self.path.display());
                return Ok(2);
            }
            Err(ReadError::Io(error)) => return Err(error).context("read the file"),
        };
        let tally = self.import_all(reader)?;
        println!("{tally}");
        Ok(if tally.rejected == 0 { 0 } else { 2 })
    }

    /// Reads, stores and reports batch after batch, in line order.
    fn import_all(&self, mut reader: ImportReader<File>) -> anyhow::Result<Tally> {
        let mut conn = self.pool.get().context("database connection")?;
        let mut tally = Tally::default();
        let mut progress = Progress::new(std::io::stderr().is_terminal());
        loop {
            let now = self.clock.now_naive();
            let lines = reader.next_batch(BATCH, now).context("read the file")?;
            if lines.is_empty() {
                break;
            }
            let (numbers, records, mut rejected) = split(lines);
            let outcomes = imports::apply_batch(&mut conn, &self.plan, &records, now)?;
            rejected.extend(tally.count(&numbers, &outcomes));
            rejected.sort_by_key(|(number, _)| *number);
            tally.rejected += rejected.len() as u64;
            progress.report(&rejected, numbers.len() + rejected.len());
        }
        progress.finish();
        Ok(tally)
    }
}

/// The import's settings from the arguments, or why they cannot be used.
fn plan(ctx: &Context, args: &ImportArgs) -> Result<ImportPlan, String> {
    let source = match (args.mode, args.source.as_deref()) {
        (Mode::Confirmed, None) => {
            return Err(
                "--mode confirmed needs --source: say where the consent was given \
                 (for example --source mailchimp)"
                    .into(),
            );
        }
        (_, None) => "import".to_owned(),
        (_, Some(text)) => check_source(text)?,
    };
    Ok(ImportPlan {
        mode: match args.mode {
            Mode::Reconfirm => ImportMode::Reconfirm,
            Mode::Confirmed => ImportMode::Confirmed,
        },
        source,
        actor: ctx.actor(),
        text_version: ctx.settings.signup.consent_text_version.clone(),
        rules: startup::signup_rules(&ctx.settings, &ctx.keys),
    })
}

/// A short, printable label; `form` and `api` name rollcall's own endpoints,
/// so an import may not claim them.
fn check_source(text: &str) -> Result<String, String> {
    let source = text.trim();
    // quote_safely changes only text over 40 characters or with Cc/Cf characters.
    if source.is_empty() || source != quote_safely(source) {
        return Err("--source: give 1 to 40 printable characters, like mailchimp".into());
    }
    if matches!(source, "form" | "api") {
        return Err(format!(
            "--source: {source} is rollcall's own; name the service the consent came from"
        ));
    }
    Ok(source.to_owned())
}

type Rejection = (u64, String);

/// Splits a batch into the lines to store (with their numbers) and the rejected.
fn split(lines: Vec<Line>) -> (Vec<u64>, Vec<ImportRecord>, Vec<Rejection>) {
    let mut numbers = Vec::with_capacity(lines.len());
    let mut records = Vec::with_capacity(lines.len());
    let mut rejected = Vec::new();
    for line in lines {
        match line.parsed {
            Ok(record) => {
                for note in &record.ignored {
                    eprintln!("line {}: {note}", line.number);
                }
                numbers.push(line.number);
                records.push(record);
            }
            Err(reason) => rejected.push((line.number, reason)),
        }
    }
    (numbers, records, rejected)
}

/// The four numbers of the summary line.
#[derive(Debug, Default)]
struct Tally {
    imported: u64,
    already_present: u64,
    skipped: u64,
    rejected: u64,
}

impl Tally {
    /// Counts stored lines; returns the erased ones as rejections. Lines
    /// rejected while reading are counted when reported.
    fn count(&mut self, numbers: &[u64], outcomes: &[LineOutcome]) -> Vec<Rejection> {
        let mut erased = Vec::new();
        for (number, outcome) in numbers.iter().zip(outcomes) {
            match outcome {
                LineOutcome::Imported => self.imported += 1,
                LineOutcome::AlreadyPresent => self.already_present += 1,
                LineOutcome::Skipped => self.skipped += 1,
                LineOutcome::Erased => {
                    erased.push((*number, "erased at the person's request".to_owned()));
                }
            }
        }
        erased
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "imported {}, already present {}, skipped {}, rejected {}",
            self.imported, self.already_present, self.skipped, self.rejected
        )
    }
}

/// Rejected lines on stderr, with a `\r` progress line when stderr is a terminal.
struct Progress {
    terminal: bool,
    lines: usize,
    shown: usize,
}

impl Progress {
    fn new(terminal: bool) -> Self {
        Progress {
            terminal,
            lines: 0,
            shown: 0,
        }
    }

    fn report(&mut self, rejected: &[Rejection], lines: usize) {
        let mut err = std::io::stderr().lock();
        if !rejected.is_empty() {
            self.clear(&mut err);
        }
        for (number, reason) in rejected {
            let _ = writeln!(err, "line {number}: {reason}");
        }
        self.lines += lines;
        if self.terminal {
            let text = format!("importing… {} lines", self.lines);
            self.shown = text.chars().count();
            let _ = write!(err, "\r{text}");
        }
    }

    fn clear(&mut self, err: &mut impl Write) {
        if self.shown > 0 {
            let _ = write!(err, "\r{}\r", " ".repeat(self.shown));
            self.shown = 0;
        }
    }

    fn finish(&mut self) {
        self.clear(&mut std::io::stderr().lock());
    }
}
