//! Bounces and complaints: the signed return path, reading reports by their
//! structure, and the bounce mailbox read over IMAP.

pub mod imap;
pub mod intake;
pub mod report;
pub mod tag;
