//! CSRF protection for the public and organiser forms: a random seed in the
//! HttpOnly `rollcall_csrf` cookie (signed, with its issue time), and a form
//! token derived from it. Valid for the cookie's 24 h, and reusable.

use super::cookies;
use crate::crypto::{Keys, random_token};
use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};

pub const COOKIE: &str = "rollcall_csrf";
const LIFETIME_SECS: i64 = 24 * 3600;
/// A cookie older than this is replaced when a form is shown, so a form the
/// person is filling in always has at least this long left.
const REFRESH_AFTER_SECS: i64 = 12 * 3600;

/// A verified CSRF seed from the request cookie.
#[derive(Debug, Clone)]
pub struct CsrfSeed {
    seed_and_time: String,
    issued_at: i64,
}

impl CsrfSeed {
    /// The token to put in `<input type="hidden" name="csrf_token">`.
    pub fn form_token(&self, keys: &Keys) -> String {
        keys.sign("csrf-form", &self.seed_and_time)
    }
}

/// Reads and checks the CSRF cookie.
pub fn from_request(req: &HttpRequest, keys: &Keys, now_unix: i64) -> Option<CsrfSeed> {
    let cookie = req.cookie(COOKIE)?;
    let value = cookies::verified_value(keys, COOKIE, cookie.value())?;
    let (_, issued) = value.rsplit_once('.')?;
    let issued_at: i64 = issued.parse().ok()?;
    let age = now_unix - issued_at;
    (0..LIFETIME_SECS).contains(&age).then(|| CsrfSeed {
        seed_and_time: value.to_owned(),
        issued_at,
    })
}

/// The seed for a page with a form, and the cookie to set when a new one is needed.
pub fn for_form(
    req: &HttpRequest,
    keys: &Keys,
    now_unix: i64,
    secure: bool,
) -> (CsrfSeed, Option<Cookie<'static>>) {
    if let Some(seed) =
        from_request(req, keys, now_unix).filter(|s| now_unix - s.issued_at < REFRESH_AFTER_SECS)
    {
        return (seed, None);
    }
    let value = format!("{}.{now_unix}", random_token(16));
    let cookie = cookies::build(
        COOKIE,
        cookies::signed_value(keys, COOKIE, &value),
        LIFETIME_SECS,
        secure,
        SameSite::Lax,
    );
    (
        CsrfSeed {
            seed_and_time: value,
            issued_at: now_unix,
        },
        Some(cookie),
    )
}

/// Whether a submitted token matches the request's cookie.
pub fn is_valid(req: &HttpRequest, keys: &Keys, now_unix: i64, submitted: Option<&str>) -> bool {
    match (from_request(req, keys, now_unix), submitted) {
        (Some(seed), Some(token)) => keys.verify("csrf-form", &seed.seed_and_time, token),
        _ => false,
    }
}
