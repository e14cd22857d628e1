//! `rollcall bounce FILE`: one raw message, processed as the intake does.

use super::Context;
use crate::bounces::intake::{self, MAX_MESSAGE_BYTES};
use crate::db::{self, bounces::BounceSource};
use std::path::Path;

/// Prints the result word; exit 0, or 2 for a file that is not a message.
pub async fn run(ctx: &Context, file: &Path) -> anyhow::Result<i32> {
    let raw = match std::fs::read(file) {
        Ok(raw) => raw,
        Err(error) => {
            eprintln!("{}: {error}", file.display());
            return Ok(2);
        }
    };
    if raw.len() > MAX_MESSAGE_BYTES {
        eprintln!("{}: over 1 MiB, not a bounce", file.display());
        return Ok(2);
    }
    let (keys, now) = (ctx.keys.clone(), ctx.now());
    let result = db::blocking(&ctx.pool, move |c| {
        intake::process(c, &keys, &raw, BounceSource::Cli, now)
    })
    .await?;
    match result {
        Some(word) => {
            println!("{word}");
            Ok(0)
        }
        None => {
            eprintln!(
                "{}: not a message (no header field before the first empty line)",
                file.display()
            );
            Ok(2)
        }
    }
}
