//! Who is asking, on the organiser pages: a server-side session (cookie
//! `rollcall_session`, its id stored hashed) or, for GETs, a bearer token.
//! Without either the answer is 401: the login form for browsers, JSON for the rest.
//! [`SignedIn`] is the extractor every organiser route starts with.

use crate::crypto::token_hash;
use crate::db::organisers::{self, Organiser};
use crate::db::{self};
use crate::web::body::decode_form;
use crate::web::error::AppError;
use crate::web::forms::{FormFields, csrf_holds, read_body};
use crate::web::pages::LoginPage;
use crate::web::render;
use crate::web::responses::{forbidden, refusal};
use crate::web::state::{self, AppState};
use actix_web::dev::Payload;
use actix_web::http::header::{ACCEPT, AUTHORIZATION, WWW_AUTHENTICATE};
use actix_web::http::{Method, StatusCode};
use actix_web::{Error, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;

pub const SESSION_COOKIE: &str = "rollcall_session";

/// The organiser behind a request under `/admin`. A GET may come with a session
/// or a bearer token; any other method needs a session and the form's
/// `csrf_token` (the body is read first, so an oversized one is still a 413).
pub struct SignedIn(pub Organiser);

impl SignedIn {
    /// The ledger actor for this organiser's actions.
    pub fn actor(&self) -> String {
        format!("organiser:{}", self.0.email)
    }

    async fn extract(req: HttpRequest, payload: Payload) -> Result<Self, Error> {
        Ok(Self::with_form(req, payload).await?.0)
    }

    /// The organiser and, for a POST, the form it sent (decoded once: its
    /// `csrf_token` is checked here).
    async fn with_form(
        req: HttpRequest,
        mut payload: Payload,
    ) -> Result<(Self, Option<FormFields>), Error> {
        let state = state::from_request(&req)?;
        if req.method() == Method::GET {
            return match organiser(&req, &state, Allow::SessionOrBearer).await? {
                Some(organiser) => Ok((SignedIn(organiser), None)),
                None => Err(refusal(unauthorized(&req, &state))),
            };
        }
        let body = read_body(&req, &mut payload).await?;
        let Some(organiser) = organiser(&req, &state, Allow::SessionOnly).await? else {
            return Err(refusal(unauthorized(&req, &state)));
        };
        let form = decode_form(&body).ok().map(FormFields::from_pairs);
        let token = form.as_ref().and_then(|f| f.get("csrf_token"));
        if !csrf_holds(&req, &state, token.as_deref()) {
            return Err(refusal(forbidden(&state.settings.group)));
        }
        Ok((SignedIn(organiser), form))
    }
}

/// An organiser's form POST: a session, a `csrf_token` that holds, and the
/// decoded fields (what [`SignedIn`] checks, with the body kept).
pub struct SignedInForm(pub SignedIn, pub FormFields);

impl FromRequest for SignedInForm {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (req, payload) = (req.clone(), payload.take());
        Box::pin(async move {
            let (organiser, form) = SignedIn::with_form(req, payload).await?;
            Ok(SignedInForm(
                organiser,
                form.unwrap_or_else(|| FormFields::from_pairs(Vec::new())),
            ))
        })
    }
}

impl FromRequest for SignedIn {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        Box::pin(Self::extract(req.clone(), payload.take()))
    }
}

/// How a request may authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Allow {
    /// GETs: a session or a bearer token.
    SessionOrBearer,
    /// POSTs: a session only (and the CSRF token).
    SessionOnly,
}

/// The organiser making the request, if any.
async fn organiser(
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

pub(crate) fn bearer(req: &HttpRequest) -> Option<String> {
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
fn unauthorized(req: &HttpRequest, state: &AppState) -> HttpResponse {
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

/// Only clean same-origin paths under `/admin` are followed after login:
/// visible ASCII only (a control character would break the `Location`
/// header), no backslash, no `//`, and no dot segments (also percent-encoded,
/// which browsers resolve) that could climb out of `/admin`.
pub fn safe_next(next: &str) -> bool {
    let Some(rest) = next.strip_prefix("/admin") else {
        return false;
    };
    let path = next.split(['?', '#']).next().unwrap_or_default();
    let climbs = path.split('/').any(|segment| {
        let segment = segment.to_ascii_lowercase().replace("%2e", ".");
        segment == "." || segment == ".."
    });
    (rest.is_empty() || rest.starts_with(['/', '?']))
        && next.bytes().all(|b| b.is_ascii_graphic())
        && !next.contains('\\')
        && !path.contains("//")
        && !climbs
}

#[cfg(test)]
#[path = "admin_auth_props.rs"]
mod props;

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
            "/admin/\u{1}",
            "/admin/\u{7f}",
            "/admin/a b",
            "/admin/../x",
            "/admin/%2E%2e/x",
            "/admin/ünï",
        ] {
            assert!(!safe_next(bad), "{bad}");
        }
    }
}
