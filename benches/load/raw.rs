//! The storage limits: the exact rows one signup writes (registration,
//! consent, ledger event, token, outbox row — `db::signups::record`, with its
//! lookups), on the shipped schema, indexes and pragmas, through one
//! connection. Diesel caches the prepared statement of each DSL query per
//! connection, so after the first signup every statement is prepared once.

use crate::helpers::{TEST_SECRET, TestDatabase};
use rollcall::configuration::Settings;
use rollcall::crypto::Keys;
use rollcall::db::consents::{self, ConsentEvidence};
use rollcall::db::signups::{self, NewSignup, SignupRules};
use rollcall::db::{self, DbConnection, DbError};
use rollcall::domain::{RawSignup, SignupDetails};
use std::time::{Duration, Instant};

/// Signups recorded per second by one connection.
pub struct RawRate {
    pub signups: u64,
    pub seconds: f64,
}

impl RawRate {
    pub fn per_second(&self) -> f64 {
        self.signups as f64 / self.seconds
    }
}

/// A migrated database with the configured consent text, and the rules the
/// server would use.
pub fn prepare(database: &TestDatabase, settings: &Settings) -> (DbConnection, SignupRules) {
    let mut conn = database.connect();
    db::migrations::run_pending(&mut conn).expect("migrations");
    let now = chrono::Utc::now().naive_utc();
    consents::register_text(
        &mut conn,
        &settings.signup.consent_text_version,
        &settings.signup.consent_text,
        now,
    )
    .expect("consent text");
    let keys = Keys::new(TEST_SECRET.as_bytes());
    (conn, rollcall::startup::signup_rules(settings, &keys))
}

/// The signup an API request with this address makes.
pub fn signup(settings: &Settings, email: &str) -> NewSignup {
    let raw = RawSignup {
        email: Some(email.to_owned()),
        name: Some("Lachlan Smith".to_owned()),
        organisation: Some("CSIRO".to_owned()),
        org_type: Some("government".to_owned()),
        country: Some("AU".to_owned()),
        timezone: Some("Australia/Sydney".to_owned()),
        interests: Vec::new(),
        consent: Some(true),
    };
    NewSignup {
        details: SignupDetails::parse(raw, &settings.signup.interests).expect("a valid signup"),
        evidence: ConsentEvidence {
            ip: Some("127.0.0.1".to_owned()),
            user_agent: Some("rollcall-bench".to_owned()),
            text_version: settings.signup.consent_text_version.clone(),
            source: "api".to_owned(),
        },
        actor: "subscriber".to_owned(),
    }
}

/// Records signups in transactions of `per_transaction` for `duration`
/// (bounded also by `max_signups`); the count and the time the transactions
/// took (building the signups is not timed: this is the storage's limit).
pub fn insert_rate(
    conn: &mut DbConnection,
    settings: &Settings,
    rules: &SignupRules,
    per_transaction: usize,
    duration: Duration,
    max_signups: u64,
    tag: &str,
) -> RawRate {
    let mut spent = Duration::ZERO;
    let mut signups = 0u64;
    while spent < duration && signups < max_signups {
        let batch: Vec<NewSignup> = (0..per_transaction)
            .map(|i| {
                signup(
                    settings,
                    &format!("{tag}{}@example.org", signups + i as u64),
                )
            })
            .collect();
        let started = Instant::now();
        record_batch(conn, rules, &batch);
        spent += started.elapsed();
        signups += batch.len() as u64;
    }
    RawRate {
        signups,
        seconds: spent.as_secs_f64(),
    }
}

/// Records `batch` in one write transaction.
pub fn record_batch(conn: &mut DbConnection, rules: &SignupRules, batch: &[NewSignup]) {
    let now = chrono::Utc::now().naive_utc();
    db::write_transaction(conn, |conn| {
        for signup in batch {
            signups::record(conn, rules, signup, now)?;
        }
        Ok::<_, DbError>(())
    })
    .expect("record signups");
}
