//! Bounces and complaints: the signed return path, and reading reports by
//! their structure.

pub mod intake;
pub mod report;
pub mod tag;
