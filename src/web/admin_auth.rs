//! Who is asking, on the organiser pages: a server-side session (cookie
//! `rollcall_session`, its id stored hashed) or, for GETs, a bearer token.
//! Without either the answer is 401: the login form for browsers, JSON for the rest.

use crate::crypto::token_hash;
use crate::db::organisers::{self, Organiser};
use crate::db::{self};
use crate::web::error::AppError;
use crate::web::pages::LoginPage;
use crate::web::render;
use crate::web::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{ACCEPT, AUTHORIZATION, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse};

pub const SESSION_COOKIE: &str = "rollcall_session";

/// How a request may authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allow {
    /// GETs: a session or a bearer token.
    SessionOrBearer,
    /// POSTs: a session only (and the handler checks CSRF).
    SessionOnly,
}

/// The organiser making the request, if any.
pub async fn organiser(
    req: &HttpRequest,
    state: &AppState,
    allow: Allow,
) -> Result<Option<Organiser>, AppError> {
    let now = state.clock.now_naive();
    if let Some(cookie) = req.cookie(SESSION_COOKIE) {
        let hash = token_hash(cookie.value());
        let found =
            db::blocking(&state.pool, move |c| organisers::by_session(c, &hash, now)).await?;
        if found.is_some() {
            return Ok(found);
        }
    }
    if allow == Allow::SessionOrBearer
        && let Some(token) = bearer(req)
    {
        let hash = token_hash(&token);
        return Ok(db::blocking(&state.pool, move |c| organisers::by_token(c, &hash)).await?);
    }
    Ok(None)
}

fn bearer(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(|t| t.trim().to_owned())
}

fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// 401: the login form for a browser, JSON with `WWW-Authenticate` otherwise.
pub fn unauthorized(req: &HttpRequest, state: &AppState) -> HttpResponse {
    if wants_html(req) {
        let next = req.uri().path_and_query().map(|p| p.as_str().to_owned());
        login_page(req, state, StatusCode::UNAUTHORIZED, None, next)
    } else {
        HttpResponse::Unauthorized()
            .insert_header((WWW_AUTHENTICATE, "Bearer"))
            .json(serde_json::json!({"error": "unauthorized"}))
    }
}

/// The login form, with a fresh CSRF cookie when needed.
pub fn login_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    error: Option<&str>,
    next: Option<String>,
) -> HttpResponse {
    render::form_page(req, state, status, |csrf_token| LoginPage {
        group: state.settings.group.clone(),
        csrf_token,
        error: error.map(str::to_owned),
        next: next.filter(|n| safe_next(n)).unwrap_or_default(),
    })
}

/// Only same-origin paths under `/admin` are followed after login.
pub fn safe_next(next: &str) -> bool {
    let rest = match next.strip_prefix("/admin") {
        Some(rest) => rest,
        None => return false,
    };
    (rest.is_empty() || rest.starts_with(['/', '?']))
        && !next.contains(['\\', '\r', '\n'])
        && !next.starts_with("//")
        && !rest.starts_with("//")
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_admin_paths_are_followed() {
        for good in [
            "/admin",
            "/admin/",
            "/admin/subscribers?email=a",
            "/admin?x=1",
        ] {
            assert!(safe_next(good), "{good}");
        }
        for bad in [
            "https://evil.example/admin",
            "//evil.example",
            "/administrator",
            "/admin//evil.example",
            "/admin\\x",
            "/",
        ] {
            assert!(!safe_next(bad), "{bad}");
        }
    }
}
