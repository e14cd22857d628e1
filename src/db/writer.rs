//! The database writer: a thread that owns a write connection takes signups
//! from a bounded queue (full → the caller answers 503). It drains whatever is
//! waiting into one transaction, a savepoint per signup so one failure does not
//! spoil the batch, and answers each after COMMIT.
//!
//! SQLite has one writer at a time, so it gets one such thread. PostgreSQL
//! takes concurrent writers and a signup there costs one network round trip
//! per statement, so a few threads, each on its own connection, take batches
//! from the same queue and their round trips overlap. Uniqueness and the
//! email cooldown stay decided inside each transaction, exactly as with
//! several server instances on one database.
//!
//! On SQLite the writer does not checkpoint the WAL itself: a checkpoint
//! copies every page written since the last one into the database file and
//! fsyncs it, and done on the writer's thread it stalls every signup waiting
//! in the queue (the benchmark's p99). A second thread on its own connection
//! runs passive checkpoints after commits instead; they never block the
//! writer, and each commit is still fsynced to the WAL before its answer.

use super::signups::{self, NewSignup, SignupOutcome, SignupRules};
use super::{DbConnection, DbError, connect, registrations, write_transaction};
use crate::clock::SharedClock;
use crate::configuration::DatabaseUrl;
use diesel::connection::SimpleConnection;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::time::Duration;
use tokio::sync::oneshot;

/// The most signups one transaction takes on SQLite, where every commit is
/// an fsync by the only writer.
const SQLITE_MAX_BATCH: usize = 256;
/// The same on PostgreSQL, where a commit costs little beside a signup's round
/// trips: small batches spread the queue over the writers, for latency.
const POSTGRES_MAX_BATCH: usize = 16;
/// How long the checkpointer lets commits gather before one checkpoint.
const CHECKPOINT_PAUSE: Duration = Duration::from_millis(100);
/// Writer threads (and connections) on PostgreSQL.
const POSTGRES_WRITERS: usize = 4;

/// The writers' connections and, on SQLite, the checkpointer's.
pub struct WriterConnections {
    url: DatabaseUrl,
    write: Vec<DbConnection>,
    checkpoint: Option<DbConnection>,
    max_batch: usize,
}

impl WriterConnections {
    /// Opens the connections (blocking).
    pub fn open(url: &DatabaseUrl) -> Result<WriterConnections, DbError> {
        let (writers, checkpoint, max_batch) = match url {
            DatabaseUrl::Sqlite(_) => (1, Some(connect(url)?), SQLITE_MAX_BATCH),
            DatabaseUrl::Postgres(_) => (POSTGRES_WRITERS, None, POSTGRES_MAX_BATCH),
        };
        let write = (0..writers)
            .map(|_| connect(url))
            .collect::<Result<_, _>>()?;
        Ok(WriterConnections {
            url: url.clone(),
            write,
            checkpoint,
            max_batch,
        })
    }
}

type Reply = oneshot::Sender<Result<SignupOutcome, DbError>>;

struct Job {
    signup: NewSignup,
    reply: Reply,
}

/// A cloneable handle to the writer threads.
#[derive(Clone)]
pub struct Writer {
    queues: Arc<[SyncSender<Job>]>,
}

/// Batch statistics reported to the metrics registry.
pub trait BatchObserver: Send + Sync + 'static {
    fn batch_committed(&self, size: usize);
}

impl Writer {
    /// Starts a writer thread on each write connection, each with its share of
    /// a queue of `capacity` (and, on SQLite, the checkpointer thread).
    pub fn start(
        connections: WriterConnections,
        rules: SignupRules,
        clock: SharedClock,
        capacity: usize,
        observer: Arc<dyn BatchObserver>,
    ) -> Result<Writer, DbError> {
        let WriterConnections {
            url,
            write: mut conns,
            checkpoint,
            max_batch,
        } = connections;
        let commits = match checkpoint {
            Some(checkpoint_conn) => {
                let (commits, committed) = mpsc::sync_channel(1);
                std::thread::Builder::new()
                    .name("rollcall-db-checkpoint".into())
                    .spawn(move || checkpoint_loop(checkpoint_conn, committed))
                    .map_err(|e| DbError::Connect(format!("cannot start the checkpointer: {e}")))?;
                for conn in &mut conns {
                    conn.batch_execute("PRAGMA wal_autocheckpoint = 0")?;
                }
                Some(commits)
            }
            None => None,
        };
        let share = capacity.div_ceil(conns.len().max(1));
        let mut queues = Vec::with_capacity(conns.len());
        for conn in conns {
            let (queue, jobs) = mpsc::sync_channel(share);
            queues.push(queue);
            let (rules, clock) = (rules.clone(), clock.clone());
            let (observer, commits) = (observer.clone(), commits.clone());
            let conn = WriterConnection {
                url: url.clone(),
                conn,
            };
            std::thread::Builder::new()
                .name("rollcall-db-writer".into())
                .spawn(move || {
                    let batches = std::iter::from_fn(|| next_batch(&jobs, max_batch));
                    run(conn, rules, clock, batches, observer, commits)
                })
                .map_err(|e| DbError::Connect(format!("cannot start the writer: {e}")))?;
        }
        Ok(Writer {
            queues: queues.into(),
        })
    }

    /// Records a signup; `QueueFull` when the writer is saturated.
    pub async fn signup(&self, signup: NewSignup) -> Result<SignupOutcome, DbError> {
        let (reply, answer) = oneshot::channel();
        let queue = &self.queues[writer_for(signup.details.email.key(), self.queues.len())];
        match queue.try_send(Job { signup, reply }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(DbError::QueueFull),
            Err(TrySendError::Disconnected(_)) => return Err(DbError::WriterGone),
        }
        answer.await.map_err(|_| DbError::WriterGone)?
    }
}

/// Which of `writers` takes signups for this address key: always the same one.
fn writer_for(email_key: &str, writers: usize) -> usize {
    let mut hasher = std::hash::DefaultHasher::new();
    email_key.hash(&mut hasher);
    (hasher.finish() % writers.max(1) as u64) as usize
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
    batches: impl Iterator<Item = Vec<Job>>,
    observer: Arc<dyn BatchObserver>,
    commits: Option<SyncSender<()>>,
) {
    for batch in batches {
        if !commit_and_answer(&mut conn, &rules, &clock, batch, observer.as_ref()) {
            continue;
        }
        if let Some(commits) = &commits {
            // Full means a checkpoint is already due; nothing is lost.
            let _ = commits.try_send(());
        }
    }
}

/// Waits for a signup, then takes whatever else is waiting (up to
/// `max_batch`); `None` once every handle is gone.
fn next_batch(jobs: &Receiver<Job>, max_batch: usize) -> Option<Vec<Job>> {
    let mut batch = vec![jobs.recv().ok()?];
    while batch.len() < max_batch {
        match jobs.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    Some(batch)
}

/// Runs a passive checkpoint after commits, one per pause however many came;
/// ends when the writer does. Passive checkpoints wait for no one and make no
/// one wait.
fn checkpoint_loop(mut conn: DbConnection, committed: Receiver<()>) {
    while committed.recv().is_ok() {
        std::thread::sleep(CHECKPOINT_PAUSE);
        while committed.try_recv().is_ok() {}
        if let Err(error) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
            tracing::warn!(error = ?error, "WAL checkpoint failed; the next one will retry");
        }
    }
}

/// Commits a batch and answers every signup in it; false if it failed. A batch
/// that failed on a dead connection never committed: after reconnecting it is
/// tried once more rather than failing every signup in it.
fn commit_and_answer(
    conn: &mut WriterConnection,
    rules: &SignupRules,
    clock: &SharedClock,
    batch: Vec<Job>,
    observer: &dyn BatchObserver,
) -> bool {
    let mut result = commit_batch(&mut conn.conn, rules, clock, &batch);
    if result.is_err() && conn.recover() {
        result = commit_batch(&mut conn.conn, rules, clock, &batch);
    }
    match result {
        Ok(outcomes) => {
            observer.batch_committed(batch.len());
            for (job, outcome) in batch.into_iter().zip(outcomes) {
                let _ = job.reply.send(outcome);
            }
            true
        }
        Err(error) => {
            tracing::error!(error = ?error, "signup batch failed to commit");
            for job in batch {
                let _ = job
                    .reply
                    .send(Err(DbError::Connect("commit failed".into())));
            }
            false
        }
    }
}

/// All of a batch in one transaction: as one batch, or, if that fails, a
/// savepoint per signup.
fn commit_batch(
    conn: &mut DbConnection,
    rules: &SignupRules,
    clock: &SharedClock,
    batch: &[Job],
) -> Result<Vec<Result<SignupOutcome, DbError>>, DbError> {
    let now = clock.now_naive();
    let signups: Vec<&NewSignup> = batch.iter().map(|job| &job.signup).collect();
    let together = write_transaction(conn, |conn| {
        signups::record_batch(conn, rules, &signups, now)
    });
    if together.is_ok() {
        return together;
    }
    // The error may name an address, so it is not logged.
    tracing::warn!("a signup batch failed as a whole; recording its signups one by one");
    write_transaction(conn, |conn| {
        // Every row this transaction will lock, locked first in key order.
        let mut keys: Vec<&str> = signups.iter().map(|s| s.details.email.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        registrations::lock_by_email_keys(conn, &keys)?;
        Ok(signups
            .iter()
            .map(|signup| signups::record_in_savepoint(conn, rules, signup, now))
            .collect())
    })
}
