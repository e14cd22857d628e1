//! `rollcall erase EMAIL` and `rollcall audit EMAIL`.

use super::Context;
use crate::db::{self, erasure, ledger, registrations, suppressions};
use crate::domain::EmailAddress;
use anyhow::Context as _;

/// Erases a person; exit 0 when erased, 1 when there was nothing to erase.
pub async fn erase(ctx: &Context, email: &str) -> anyhow::Result<i32> {
    let address = EmailAddress::parse(email).map_err(|e| anyhow::anyhow!("{email:?}: {e}"))?;
    let (keys, key, now, actor) = (
        ctx.keys.clone(),
        address.key().to_owned(),
        ctx.now(),
        ctx.actor(),
    );
    let erased = db::blocking(&ctx.pool, move |c| {
        erasure::erase_address(c, &keys, &key, &actor, now)
    })
    .await
    .context("erase")?;
    if erased {
        println!("erased {}", address.mask());
        Ok(0)
    } else {
        eprintln!("no registration for that address");
        Ok(1)
    }
}

/// Prints the ledger of one registration, oldest first.
pub async fn audit(ctx: &Context, email: &str) -> anyhow::Result<i32> {
    let address = EmailAddress::parse(email).map_err(|e| anyhow::anyhow!("{email:?}: {e}"))?;
    let (key, hash) = (
        address.key().to_owned(),
        ctx.keys.suppression_hash(address.key()),
    );
    let found = db::blocking(&ctx.pool, move |c| {
        let Some(registration) = registrations::find_by_email_key(c, &key)? else {
            return Ok(Err(suppressions::contains(c, &hash)?));
        };
        let events = ledger::for_registration(c, &registration.id)?;
        Ok(Ok((registration, events)))
    })
    .await?;
    match found {
        Ok((registration, events)) => {
            println!(
                "registration {} status {}",
                registration.id, registration.status
            );
            for e in events {
                println!(
                    "{}Z\t{}\t{}\t{}\t{}",
                    e.at.format("%Y-%m-%dT%H:%M:%S"),
                    e.event,
                    e.actor,
                    e.consent_text_version.unwrap_or_default(),
                    e.source.unwrap_or_default()
                );
            }
            Ok(0)
        }
        Err(true) => {
            println!("erased at the person's request; no personal data is kept");
            Ok(0)
        }
        Err(false) => {
            eprintln!("no registration for that address");
            Ok(1)
        }
    }
}
