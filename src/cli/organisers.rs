//! `rollcall organiser …`: accounts for the people who run the list.

use super::Context;
use crate::crypto::{random_token, token_hash};
use crate::db::{self, organisers};
use crate::domain::EmailAddress;
use crate::ops::digests::Frequency;
use crate::organisers::passwords;
use clap::Subcommand;
use std::io::BufRead;

#[derive(Debug, Subcommand)]
pub enum OrganiserCommand {
    /// Add an organiser (password from ROLLCALL_PASSWORD, else the first line of stdin).
    Add { email: String },
    /// Set a new password (ends the organiser's sessions).
    Password { email: String },
    /// List organisers.
    List,
    /// Remove an organiser, with their tokens and sessions.
    Remove { email: String },
    /// Create an API token; prints only the token.
    Token { email: String },
    /// Revoke every API token of an organiser.
    RevokeTokens { email: String },
    /// Choose the organiser's summary by email: daily, weekly or off (the default).
    #[command(
        after_help = "A digest counts a local day, or a week Monday to Sunday, in admin.digest_timezone \
(unset: the first of dashboard.zones), and goes out from admin.digest_hour local time \
on the day after it ends. Nothing is sent for a day or week with nothing to count."
    )]
    Digest {
        email: String,
        #[arg(value_parser = ["daily", "weekly", "off"])]
        frequency: String,
    },
}

pub async fn run(ctx: &Context, command: OrganiserCommand) -> anyhow::Result<i32> {
    match command {
        OrganiserCommand::Add { email } => add(ctx, &email).await,
        OrganiserCommand::Password { email } => password(ctx, &email).await,
        OrganiserCommand::List => list(ctx).await,
        OrganiserCommand::Remove { email } => remove(ctx, &email).await,
        OrganiserCommand::Token { email } => token(ctx, &email).await,
        OrganiserCommand::RevokeTokens { email } => revoke(ctx, &email).await,
        OrganiserCommand::Digest { email, frequency } => digest(ctx, &email, &frequency).await,
    }
}

fn parse_email(email: &str) -> anyhow::Result<EmailAddress> {
    EmailAddress::parse(email).map_err(|e| anyhow::anyhow!("{email:?}: {e}"))
}

/// The new password: `ROLLCALL_PASSWORD`, else the first line of stdin.
fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("ROLLCALL_PASSWORD") {
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn hash_new_password() -> anyhow::Result<String> {
    Ok(passwords::hash(&read_password()?)?)
}

async fn add(ctx: &Context, email: &str) -> anyhow::Result<i32> {
    let address = parse_email(email)?;
    let hash = hash_new_password()?;
    let now = ctx.now();
    let created = db::blocking(&ctx.pool, move |c| {
        organisers::insert(c, address.as_str(), address.key(), &hash, now)
    })
    .await?;
    if created.is_some() {
        eprintln!("organiser added");
        Ok(0)
    } else {
        eprintln!("an organiser with that address already exists");
        Ok(1)
    }
}

/// Runs `work` on the organiser with this address, or reports that there is none.
async fn with_organiser<T: Send + 'static>(
    ctx: &Context,
    email: &str,
    work: impl FnOnce(&mut db::DbConnection, &organisers::Organiser) -> Result<T, db::DbError>
    + Send
    + 'static,
) -> anyhow::Result<Option<T>> {
    let key = parse_email(email)?.key().to_owned();
    Ok(db::blocking(&ctx.pool, move |c| {
        match organisers::find_by_email_key(c, &key)? {
            Some(organiser) => work(c, &organiser).map(Some),
            None => Ok(None),
        }
    })
    .await?)
}

fn missing() -> anyhow::Result<i32> {
    eprintln!("no organiser with that address");
    Ok(1)
}

async fn password(ctx: &Context, email: &str) -> anyhow::Result<i32> {
    let hash = hash_new_password()?;
    let now = ctx.now();
    match with_organiser(ctx, email, move |c, o| {
        organisers::set_password(c, &o.id, &hash, now)
    })
    .await?
    {
        Some(()) => {
            eprintln!("password changed; sessions ended");
            Ok(0)
        }
        None => missing(),
    }
}

async fn list(ctx: &Context) -> anyhow::Result<i32> {
    let rows = db::blocking(&ctx.pool, |c| {
        organisers::list(c)?
            .into_iter()
            .map(|o| Ok((organisers::live_token_count(c, &o.id)?, o)))
            .collect::<Result<Vec<_>, db::DbError>>()
    })
    .await?;
    for (tokens, o) in rows {
        println!(
            "{}\tadded {}\t{} live token(s)\tdigest {}",
            o.email,
            o.created_at.format("%Y-%m-%d"),
            tokens,
            o.digest
        );
    }
    Ok(0)
}

async fn remove(ctx: &Context, email: &str) -> anyhow::Result<i32> {
    match with_organiser(ctx, email, |c, o| organisers::remove(c, &o.id)).await? {
        Some(_) => {
            eprintln!("organiser removed");
            Ok(0)
        }
        None => missing(),
    }
}

async fn token(ctx: &Context, email: &str) -> anyhow::Result<i32> {
    let token = format!("rc_{}", random_token(32));
    let (hash, now) = (token_hash(&token), ctx.now());
    match with_organiser(ctx, email, move |c, o| {
        organisers::add_token(c, &o.id, &hash, now)
    })
    .await?
    {
        Some(()) => {
            println!("{token}");
            eprintln!(
                "This token is shown once: store it now. Revoke with `rollcall organiser revoke-tokens`."
            );
            Ok(0)
        }
        None => missing(),
    }
}

async fn revoke(ctx: &Context, email: &str) -> anyhow::Result<i32> {
    let now = ctx.now();
    match with_organiser(ctx, email, move |c, o| {
        organisers::revoke_tokens(c, &o.id, now)
    })
    .await?
    {
        Some(n) => {
            eprintln!("revoked {n} token(s)");
            Ok(0)
        }
        None => missing(),
    }
}

async fn digest(ctx: &Context, email: &str, frequency: &str) -> anyhow::Result<i32> {
    let frequency = Frequency::parse(frequency)
        .ok_or_else(|| anyhow::anyhow!("{frequency:?}: use daily, weekly or off"))?;
    let now = ctx.now();
    let set = with_organiser(ctx, email, move |c, o| {
        organisers::set_digest(c, &o.id, frequency.as_str(), now)
    })
    .await?;
    let Some(()) = set else { return missing() };
    let admin = &ctx.settings.admin;
    let zone = admin.digest_zone(&ctx.settings.dashboard);
    let hour = admin.digest_hour;
    match frequency {
        Frequency::Off => eprintln!("digests off"),
        Frequency::Daily => eprintln!(
            "daily digests on: each day's, from {hour:02}:00 {zone} the next day (none for a day with nothing to count)"
        ),
        Frequency::Weekly => eprintln!(
            "weekly digests on: each week's, from {hour:02}:00 {zone} on the Monday after (none for a week with nothing to count)"
        ),
    }
    Ok(0)
}
