//! Prometheus metrics: HTTP requests by route and status, latency, signups by
//! outcome, database write batches, deliveries, SMTP relay failures, the bounce
//! mailbox's messages and errors. Served on `/metrics`.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, text::encode};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

/// How a signup request ended.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum SignupResult {
    accepted,
    invalid,
    honeypot,
    rate_limited,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SignupLabels {
    pub outcome: SignupResult,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    pub result: String,
}

/// The SMTP stage at which the relay failed (connect, tls, auth, mail_from).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RelayLabels {
    pub stage: String,
}

/// The step at which a poll of the bounce mailbox failed (connect, tls,
/// greeting, login, select, search, fetch, store, database).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ImapErrorLabels {
    pub stage: String,
}

/// Every metric the process exports.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_latency: Family<RouteLabels, Histogram>,
    signups: Family<SignupLabels, Counter>,
    db_write_batches: Counter,
    db_write_batch_size: Histogram,
    deliveries: Family<DeliveryLabels, Counter>,
    relay_failures: Family<RelayLabels, Counter>,
    imap_messages: Family<DeliveryLabels, Counter>,
    imap_errors: Family<ImapErrorLabels, Counter>,
    pub outbox_queued: Gauge,
    pub outbox_failed: Gauge,
    pub outbox_oldest_due_seconds: Gauge<f64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("rollcall");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            http_requests.clone(),
        );
        let http_latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            http_latency.clone(),
        );
        let signups = Family::<SignupLabels, Counter>::default();
        registry.register("signups", "Signup requests by outcome", signups.clone());
        let db_write_batches = Counter::default();
        registry.register(
            "db_write_batches",
            "Write transactions committed by the signup writer",
            db_write_batches.clone(),
        );
        let db_write_batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 10));
        registry.register(
            "db_write_batch_size",
            "Signups per write transaction",
            db_write_batch_size.clone(),
        );
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "delivery_attempts",
            "Email delivery attempts by result",
            deliveries.clone(),
        );
        let relay_failures = Family::<RelayLabels, Counter>::default();
        registry.register(
            "smtp_relay_failures",
            "SMTP sessions the relay failed before accepting a message, by stage",
            relay_failures.clone(),
        );
        let imap_messages = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "bounce_imap_messages",
            "Messages read from the bounce mailbox, by intake result",
            imap_messages.clone(),
        );
        let imap_errors = Family::<ImapErrorLabels, Counter>::default();
        registry.register(
            "bounce_imap_errors",
            "Polls of the bounce mailbox that failed, by step",
            imap_errors.clone(),
        );
        let outbox_queued = Gauge::default();
        registry.register(
            "outbox_queued",
            "Messages waiting to be sent",
            outbox_queued.clone(),
        );
        let outbox_failed = Gauge::default();
        registry.register(
            "outbox_failed",
            "Messages that failed permanently",
            outbox_failed.clone(),
        );
        let outbox_oldest_due_seconds = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "outbox_oldest_due_seconds",
            "Age of the oldest due message",
            outbox_oldest_due_seconds.clone(),
        );
        Self {
            registry,
            http_requests,
            http_latency,
            signups,
            db_write_batches,
            db_write_batch_size,
            deliveries,
            relay_failures,
            imap_messages,
            imap_errors,
            outbox_queued,
            outbox_failed,
            outbox_oldest_due_seconds,
        }
    }

    pub fn observe_request(&self, route: &str, status: u16, seconds: f64) {
        self.http_requests
            .get_or_create(&HttpLabels {
                route: route.to_owned(),
                status,
            })
            .inc();
        self.http_latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    pub fn signup(&self, outcome: SignupResult) {
        self.signups.get_or_create(&SignupLabels { outcome }).inc();
    }

    pub fn write_batch(&self, size: usize) {
        self.db_write_batches.inc();
        self.db_write_batch_size.observe(size as f64);
    }

    pub fn delivery(&self, result: &str) {
        self.deliveries
            .get_or_create(&DeliveryLabels {
                result: result.to_owned(),
            })
            .inc();
    }

    pub fn relay_failure(&self, stage: &str) {
        self.relay_failures
            .get_or_create(&RelayLabels {
                stage: stage.to_owned(),
            })
            .inc();
    }

    /// A message read from the bounce mailbox, by its intake result
    /// (`hard`, …, `duplicate`, or `not_a_message`).
    pub fn imap_message(&self, result: &str) {
        self.imap_messages
            .get_or_create(&DeliveryLabels {
                result: result.to_owned(),
            })
            .inc();
    }

    /// A failed poll of the bounce mailbox.
    pub fn imap_error(&self, stage: &str) {
        self.imap_errors
            .get_or_create(&ImapErrorLabels {
                stage: stage.to_owned(),
            })
            .inc();
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
