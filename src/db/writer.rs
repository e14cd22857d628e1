//! The database writer: one thread owns the write connection and takes signups
//! from a bounded queue (full → the caller answers 503). It drains whatever is
//! waiting into one transaction, a savepoint per signup so one failure does not
//! spoil the batch, and answers each after COMMIT.

use super::signups::{self, NewSignup, SignupOutcome, SignupRules};
use super::{DbConnection, DbError, connect, write_transaction};
use crate::clock::SharedClock;
use crate::configuration::DatabaseUrl;
use diesel::Connection;
use diesel::connection::SimpleConnection;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use tokio::sync::oneshot;

/// The most signups one transaction takes.
const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<SignupOutcome, DbError>>;

struct Job {
    signup: NewSignup,
    reply: Reply,
}

/// A cloneable handle to the writer thread.
#[derive(Clone)]
pub struct Writer {
    queue: SyncSender<Job>,
}

/// Batch statistics reported to the metrics registry.
pub trait BatchObserver: Send + 'static {
    fn batch_committed(&self, size: usize);
}

impl Writer {
    /// Starts the writer thread on its own connection with a queue of `capacity`.
    pub fn start(
        url: DatabaseUrl,
        rules: SignupRules,
        clock: SharedClock,
        capacity: usize,
        observer: Box<dyn BatchObserver>,
    ) -> std::io::Result<Writer> {
        let conn = connect(&url).map_err(std::io::Error::other)?;
        let (queue, jobs) = mpsc::sync_channel(capacity);
        std::thread::Builder::new()
            .name("rollcall-db-writer".into())
            .spawn(move || run(WriterConnection { url, conn }, rules, clock, jobs, observer))?;
        Ok(Writer { queue })
    }

    /// Records a signup; `QueueFull` when the writer is saturated.
    pub async fn signup(&self, signup: NewSignup) -> Result<SignupOutcome, DbError> {
        let (reply, answer) = oneshot::channel();
        match self.queue.try_send(Job { signup, reply }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(DbError::QueueFull),
            Err(TrySendError::Disconnected(_)) => return Err(DbError::WriterGone),
        }
        answer.await.map_err(|_| DbError::WriterGone)?
    }
}

/// The writer's connection, reopened when the database went away.
struct WriterConnection {
    url: DatabaseUrl,
    conn: DbConnection,
}

impl WriterConnection {
    /// After a failed batch: if the connection is dead (a database restart),
    /// open a new one. Returns whether a new connection replaced the old.
    fn recover(&mut self) -> bool {
        if self.conn.batch_execute("SELECT 1").is_ok() {
            return false;
        }
        match connect(&self.url) {
            Ok(conn) => {
                tracing::warn!("the signup writer reconnected to the database");
                self.conn = conn;
                true
            }
            Err(error) => {
                tracing::error!(%error, "the signup writer cannot reconnect yet");
                false
            }
        }
    }
}

fn run(
    mut conn: WriterConnection,
    rules: SignupRules,
    clock: SharedClock,
    jobs: Receiver<Job>,
    observer: Box<dyn BatchObserver>,
) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut result = commit_batch(&mut conn.conn, &rules, &clock, &batch);
        // A batch that failed on a dead connection never committed: after
        // reconnecting it is tried once more rather than failing every signup in it.
        if result.is_err() && conn.recover() {
            result = commit_batch(&mut conn.conn, &rules, &clock, &batch);
        }
        match result {
            Ok(outcomes) => {
                observer.batch_committed(batch.len());
                for (job, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = job.reply.send(outcome);
                }
            }
            Err(error) => {
                tracing::error!(error = ?error, "signup batch failed to commit");
                for job in batch {
                    let _ = job
                        .reply
                        .send(Err(DbError::Connect("commit failed".into())));
                }
            }
        }
    }
}

/// All of a batch in one transaction, a savepoint per signup.
fn commit_batch(
    conn: &mut DbConnection,
    rules: &SignupRules,
    clock: &SharedClock,
    batch: &[Job],
) -> Result<Vec<Result<SignupOutcome, DbError>>, DbError> {
    let now = clock.now_naive();
    write_transaction(conn, |conn| {
        Ok(batch
            .iter()
            .map(|job| record_in_savepoint(conn, rules, &job.signup, now))
            .collect())
    })
}

/// One signup in its own savepoint. A unique-key race with another instance
/// (both inserting the same new address) is retried once as an existing address.
fn record_in_savepoint(
    conn: &mut DbConnection,
    rules: &SignupRules,
    signup: &NewSignup,
    now: chrono::NaiveDateTime,
) -> Result<SignupOutcome, DbError> {
    let attempt = |conn: &mut DbConnection| {
        conn.transaction(|conn| signups::record(conn, rules, signup, now))
    };
    match attempt(conn) {
        Err(DbError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ))) => attempt(conn),
        other => other,
    }
}
