//! HTTP plumbing shared by the route handlers: client address, CSRF, rate limit,
//! request bodies, rendering and the error-to-response mapping.

pub mod admin_auth;
pub mod body;
pub mod client;
pub mod cookies;
pub mod csrf;
pub mod error;
pub mod limiter;
pub mod pages;
pub mod render;
pub(crate) mod request_log;
pub mod state;
pub mod throttle;
