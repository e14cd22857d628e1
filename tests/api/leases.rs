//! A lease fences sending, not only recording: a worker whose batch outlasts
//! its lease (a slow SMTP server) must not send the messages another worker
//! has claimed and sent since, or they go out twice in normal operation.

use crate::helpers::{Backend, spawn_app_with, valid_json};
use crate::on_both_backends;
use crate::smtp_server::SmtpServer;
use chrono::Duration;
use rollcall::db::outbox::OutboxStatus;
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

on_both_backends!(a_worker_does_not_send_messages_whose_lease_ran_out_while_it_was_busy);

/// A TCP relay to an SMTP server that holds the first connection (no greeting
/// reaches the client) until opened; later connections pass straight through.
/// It stands for a slow server without any sleeping.
pub struct GatedRelay {
    pub port: u16,
    open: watch::Sender<bool>,
    connections: watch::Receiver<usize>,
    task: JoinHandle<()>,
}

impl GatedRelay {
    pub async fn start(upstream: SocketAddr) -> GatedRelay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (open, opened) = watch::channel(false);
        let (count, connections) = watch::channel(0usize);
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                count.send_modify(|n| *n += 1);
                let first = *count.borrow() == 1;
                let mut opened = opened.clone();
                tokio::spawn(async move {
                    if first {
                        let _ = opened.wait_for(|open| *open).await;
                    }
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        GatedRelay {
            port,
            open,
            connections,
            task,
        }
    }

    /// Waits until the first connection is being held.
    pub async fn first_connection(&mut self) {
        let held = self.connections.wait_for(|n| *n >= 1);
        tokio::time::timeout(std::time::Duration::from_secs(30), held)
            .await
            .expect("a worker connected")
            .unwrap();
    }

    pub fn open(&self) {
        self.open.send_replace(true);
    }
}

impl Drop for GatedRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Worker A claims three messages (one lease for the batch) and sends them one
/// at a time; the server keeps A's first send waiting. The lease runs out
/// (the clock moves past it), worker B claims all three and sends them. Then
/// the server answers A.
///
/// The message A was already sending when its lease ran out can arrive twice;
/// that is the "a single send outlived the lease" case `lease_secs ≥ 2 ×
/// smtp.timeout_secs` is meant to rule out. The other two had not been
/// started: A must see that its lease is gone and leave them alone.
async fn a_worker_does_not_send_messages_whose_lease_ran_out_while_it_was_busy(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let mut relay = GatedRelay::start(smtp.addr()).await;
    let app = spawn_app_with(
        backend,
        json!({"email": {
            "smtp": {"port": relay.port, "pool_size": 1, "timeout_secs": 30},
            "lease_secs": 60,
            "batch_size": 3,
        }}),
    )
    .await;
    let addresses: Vec<String> = (0..3).map(|i| format!("slow{i}@example.org")).collect();
    for address in &addresses {
        assert_eq!(app.post_json(&valid_json(address)).await.status(), 202);
    }

    let worker_a = app.worker();
    let busy_a = tokio::spawn(async move { worker_a.run_once().await.unwrap() });
    relay.first_connection().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE lease_owner IS NOT NULL"),
        3,
        "A holds the whole batch"
    );

    app.clock.advance(Duration::seconds(61));
    assert_eq!(app.deliver().await, 3, "B takes over the expired lease");
    relay.open();
    assert_eq!(busy_a.await.unwrap(), 3);

    let mut arrivals: HashMap<String, usize> = HashMap::new();
    for mail in smtp.messages() {
        for rcpt in mail.rcpt_to {
            *arrivals.entry(rcpt).or_default() += 1;
        }
    }
    assert!(
        addresses.iter().all(|a| arrivals.get(a) >= Some(&1)),
        "{arrivals:?}"
    );
    let twice = arrivals.values().filter(|&&n| n > 1).count();
    assert!(
        twice <= 1,
        "only the send in flight when the lease ran out may repeat; \
         per recipient: {arrivals:?}"
    );
    assert!(
        app.outbox()
            .iter()
            .all(|row| row.status() == Some(OutboxStatus::Sent))
    );
}
