//! rollcall: interest registration and a double-opt-in mailing list for a community group.

pub mod charts;
pub mod cli;
pub mod clock;
pub mod configuration;
pub mod dashboard;
pub mod db;
pub mod domain;
pub mod email;
pub mod export;
pub mod import;
pub mod metrics;
pub mod pages;
pub mod passwords;
pub mod planner;
pub mod retention;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
mod telemetry_middleware;
pub mod tokens;
pub mod web;
