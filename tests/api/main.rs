//! Integration tests: the real app on a real port, a fresh database per test
//! (a temporary SQLite file, and a new PostgreSQL database when
//! ROLLCALL_TEST_DATABASE_URL is set), mail through a real SMTP server, and
//! pages through headless Chromium.

// Test and benchmark code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chromium;
mod dovecot;
mod helpers;
mod processes;
mod proxy;
mod smtp_server;

mod abuse;
mod accessibility;
mod announce_cli;
mod announcement_browser;
mod announcement_crash;
mod announcement_engine;
mod announcement_pacing;
mod announcement_pages;
mod announcement_relay;
mod announcement_sending;
mod announcing;
mod audience_page;
mod behind_nginx;
mod bounce_mailbox;
mod bounces;
mod bound_details;
mod browser;
mod code_rule;
mod config_check;
mod confirm_links;
mod dashboard;
mod delivery;
mod digests;
mod double_opt_in;
mod emails;
mod enumeration;
mod equal_work;
mod erasure_on_disk;
mod error_pages;
mod export;
mod export_memory;
mod group_commit;
mod import;
mod import_columns;
mod import_states;
mod leases;
mod manage_pages;
mod openapi;
mod ops;
mod opt_in_extras;
mod organisers;
mod relay;
mod secrets;
mod self_service;
mod signup;
mod storage;
mod timezones;
mod welcome;
mod worker_processes;
