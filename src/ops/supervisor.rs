//! Background tasks that must run as long as the process does (the email
//! worker, the bounce mailbox's poller, housekeeping). One that panics or
//! returns before shutdown is logged and ends the process with an error, so a
//! supervisor restarts it, rather than leaving a server that silently stopped
//! sending mail.

use std::collections::HashMap;
use std::future::Future;
use tokio::task::{Id, JoinError, JoinSet};

#[derive(Default)]
pub struct Background {
    tasks: JoinSet<()>,
    names: HashMap<Id, &'static str>,
}

impl Background {
    pub fn spawn(&mut self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        let handle = self.tasks.spawn(task);
        self.names.insert(handle.id(), name);
    }

    /// Waits until a task ends while it should still be running, logs it, and
    /// returns the error to exit with. Pending forever when there are no tasks.
    pub async fn first_ended(&mut self) -> anyhow::Error {
        match self.tasks.join_next_with_id().await {
            Some(ended) => self.report(ended),
            None => std::future::pending().await,
        }
    }

    /// After shutdown was signalled: waits for every task; a panic is an error.
    pub async fn finish(mut self) -> anyhow::Result<()> {
        let mut failure = None;
        while let Some(ended) = self.tasks.join_next_with_id().await {
            if ended.is_err() {
                failure = Some(self.report(ended));
            }
        }
        failure.map_or(Ok(()), Err)
    }

    fn report(&self, ended: Result<(Id, ()), JoinError>) -> anyhow::Error {
        let (id, panic) = match &ended {
            Ok((id, ())) => (*id, None),
            Err(error) => (error.id(), Some(error.to_string())),
        };
        let task = self.names.get(&id).copied().unwrap_or("background task");
        match panic {
            Some(panic) => {
                tracing::error!(task, %panic, "{task} panicked; stopping the process");
                anyhow::anyhow!("{task} panicked: {panic}")
            }
            None => {
                tracing::error!(task, "{task} ended before shutdown; stopping the process");
                anyhow::anyhow!("{task} ended before shutdown")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_task_is_reported_by_name() {
        let mut background = Background::default();
        background.spawn("email worker", async { panic!("boom") });
        background.spawn("housekeeping", std::future::pending());
        let error = background.first_ended().await.to_string();
        assert!(error.starts_with("email worker panicked"), "{error}");
    }

    #[tokio::test]
    async fn a_task_that_returns_early_is_reported() {
        let mut background = Background::default();
        background.spawn("housekeeping", async {});
        let error = background.first_ended().await.to_string();
        assert_eq!(error, "housekeeping ended before shutdown");
    }

    #[tokio::test]
    async fn finish_after_shutdown_is_ok_unless_a_task_panicked() {
        let mut quiet = Background::default();
        quiet.spawn("housekeeping", async {});
        assert!(quiet.finish().await.is_ok());
        let mut failing = Background::default();
        failing.spawn("email worker", async { panic!("boom") });
        assert!(failing.finish().await.is_err());
    }
}
