//! Running the service: logs, metrics, the retention sweep and the digest rule.

pub mod digests;
pub mod metrics;
pub mod retention;
pub mod supervisor;
pub mod telemetry;
