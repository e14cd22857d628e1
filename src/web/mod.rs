//! HTTP plumbing shared by the route handlers: the extractors (organiser, CSRF
//! form, signup bodies, rate limit), the shared refusals, client address, CSRF,
//! rendering and the error-to-response mapping.

pub mod admin_auth;
pub mod announcement_form;
pub mod announcement_pages;
pub mod archive_pages;
pub mod assets;
pub mod audience_pages;
pub mod body;
pub mod client;
pub mod cookies;
pub mod csrf;
pub mod error;
pub mod error_pages;
pub mod forms;
pub mod hardening;
pub mod json_errors;
pub mod link_token;
pub mod pages;
pub mod rate_limit;
pub mod raw_message;
pub mod render;
pub(crate) mod request_log;
pub mod responses;
pub mod state;
pub mod timezone_menu;
