//! Integration tests: the real app on a real port, a fresh database per test
//! (a temporary SQLite file, and a new PostgreSQL database when
//! ROLLCALL_TEST_DATABASE_URL is set), mail through a real SMTP server, and
//! pages through headless Chromium.

mod chromium;
mod helpers;
mod smtp_server;

mod browser;
mod double_opt_in;
mod ops;
mod opt_in_extras;
mod signup;
mod storage;
