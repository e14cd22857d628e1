//! Request bodies as extractors: the body limit (413), decoding (400) and, for
//! the forms that need it, the CSRF check (403), each written once here.

use crate::domain::member_filter::RawMemberFilter;
use crate::web::body::{self, SubmittedSignup, decode_form, form_value};
use crate::web::csrf;
use crate::web::hardening::is_body_timeout;
use crate::web::responses::{
    forbidden, payload_too_large, refusal, unreadable_form, unreadable_signup,
};
use crate::web::state::{self, AppState};
use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::web::Bytes;
use actix_web::{Error, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

/// The body within `server.max_body_bytes`, else the 413; one that has not
/// arrived within `server.body_timeout_secs`, 408 and the connection closed.
pub async fn read_body(req: &HttpRequest, payload: &mut Payload) -> Result<Bytes, Error> {
    Bytes::from_request(req, payload).await.map_err(|error| {
        match error.as_error::<PayloadError>() {
            Some(PayloadError::Overflow) => refusal(payload_too_large()),
            Some(late) if is_body_timeout(late) => refusal(request_timeout()),
            _ => error,
        }
    })
}

/// 408 for a body too slow to arrive; the connection is not kept.
fn request_timeout() -> actix_web::HttpResponse {
    actix_web::HttpResponse::RequestTimeout()
        .force_close()
        .content_type("text/plain; charset=utf-8")
        .body("The request took too long to arrive.")
}

/// Whether the form's `csrf_token` matches the request's CSRF cookie.
pub fn csrf_holds(req: &HttpRequest, state: &AppState, token: Option<&str>) -> bool {
    csrf::is_valid(req, &state.keys, state.now_unix(), token)
}

/// A urlencoded form, decoded (no CSRF: its own token authorises it).
pub struct FormFields {
    pairs: Vec<(String, String)>,
}

impl FormFields {
    /// Fields already decoded.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self { pairs }
    }

    /// The request's query string, decoded like a form (repeated keys kept);
    /// `None` if it is not percent-encoded UTF-8.
    pub fn from_query(req: &HttpRequest) -> Option<Self> {
        decode_form(req.query_string().as_bytes())
            .ok()
            .map(Self::from_pairs)
    }

    /// The member filter's fields, unchecked.
    pub fn member_filter(&self) -> RawMemberFilter {
        RawMemberFilter::from_fields(|name| self.all(name))
    }

    /// Every value of a repeated field `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The first value of `name`, if sent.
    pub fn get(&self, name: &str) -> Option<String> {
        form_value(&self.pairs, name)
    }

    /// The first value of `name`, or empty.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default()
    }

    async fn read(req: &HttpRequest, payload: &mut Payload) -> Result<Self, Error> {
        let body = read_body(req, payload).await?;
        let pairs = decode_form(&body).map_err(|_| refusal(unreadable_form()))?;
        Ok(Self { pairs })
    }
}

impl FromRequest for FormFields {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (req, mut payload) = (req.clone(), payload.take());
        Box::pin(async move { Self::read(&req, &mut payload).await })
    }
}

/// A urlencoded form whose `csrf_token` holds.
pub struct CsrfForm(pub FormFields);

impl FromRequest for CsrfForm {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (req, mut payload) = (req.clone(), payload.take());
        Box::pin(async move {
            let state = state::from_request(&req)?;
            let form = FormFields::read(&req, &mut payload).await?;
            if !csrf_holds(&req, &state, form.get("csrf_token").as_deref()) {
                return Err(refusal(forbidden(&state.settings.group)));
            }
            Ok(CsrfForm(form))
        })
    }
}

/// The signup form, read into optional text fields, with its CSRF token checked.
pub struct SignupForm(pub SubmittedSignup);

impl FromRequest for SignupForm {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (req, mut payload) = (req.clone(), payload.take());
        Box::pin(async move {
            let state = state::from_request(&req)?;
            let body = read_body(&req, &mut payload).await?;
            let submitted =
                body::signup_from_form(&body).map_err(|e| refusal(unreadable_signup(e)))?;
            if !csrf_holds(&req, &state, submitted.csrf_token.as_deref()) {
                return Err(refusal(forbidden(&state.settings.group)));
            }
            Ok(SignupForm(submitted))
        })
    }
}

/// The signup API's JSON object (`Content-Type: application/json`).
pub struct SignupJson(pub SubmittedSignup);

impl FromRequest for SignupJson {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let (req, mut payload) = (req.clone(), payload.take());
        Box::pin(async move {
            let body = read_body(&req, &mut payload).await?;
            let content_type = req
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok());
            body::signup_from_json(content_type, &body)
                .map(SignupJson)
                .map_err(|e| refusal(unreadable_signup(e)))
        })
    }
}
