//! Signed cookie values: `value.signature`, with the signature from the secret key.

use crate::crypto::Keys;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};

/// Signs `value` for the cookie `name`.
pub fn signed_value(keys: &Keys, name: &str, value: &str) -> String {
    format!("{value}.{}", keys.sign(name, value))
}

/// The value of a signed cookie, if its signature is right.
pub fn verified_value<'a>(keys: &Keys, name: &str, raw: &'a str) -> Option<&'a str> {
    let (value, signature) = raw.rsplit_once('.')?;
    keys.verify(name, value, signature).then_some(value)
}

/// An HttpOnly cookie for the whole site.
pub fn build(
    name: &'static str,
    value: String,
    max_age_secs: i64,
    secure: bool,
    same_site: SameSite,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(same_site)
        .max_age(CookieDuration::seconds(max_age_secs))
        .finish()
}
