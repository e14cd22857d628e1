//! Running the service: logs, metrics and the retention sweep.

pub mod metrics;
pub mod retention;
pub mod supervisor;
pub mod telemetry;
