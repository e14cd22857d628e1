//! rollcall: interest registration and a double-opt-in mailing list for a community group.

pub mod announcements;
pub mod bounces;
pub mod cli;
pub mod clock;
pub mod configuration;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod email;
pub mod import;
pub mod limits;
pub mod ops;
pub mod organisers;
pub mod routes;
pub mod startup;
pub mod web;
