//! Login and logout. One generic message for any wrong credentials, the same
//! work for an unknown address as for a wrong password, and a throttle (429).

use super::for_post;
use crate::crypto::{random_token, token_hash};
use crate::db::{self, organisers};
use crate::domain::EmailAddress;
use crate::organisers::passwords;
use crate::routes::signup::{forbidden, too_many_requests};
use crate::web::admin_auth::{self, SESSION_COOKIE, safe_next};
use crate::web::body::{decode_form, form_value};
use crate::web::client::client_ip;
use crate::web::csrf;
use crate::web::error::AppError;
use crate::web::state::AppState;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};

const WRONG: &str = "That email address and password do not match an organiser account.";

pub async fn form(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let next =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("next").cloned());
    admin_auth::login_page(&req, &state, StatusCode::OK, None, next)
}

pub async fn submit(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let Ok(pairs) = decode_form(&body) else {
        return Ok(HttpResponse::BadRequest().body("The form could not be read."));
    };
    let field = |name: &str| form_value(&pairs, name).unwrap_or_default();
    if !csrf::is_valid(
        &req,
        &state.keys,
        state.now_unix(),
        Some(&field("csrf_token")),
    ) {
        return Ok(forbidden(&state));
    }
    let email_key = EmailAddress::parse(&field("email"))
        .map(|e| e.key().to_owned())
        .ok();
    let throttle_keys = [
        format!(
            "ip:{}",
            client_ip(&req, &state.settings.server.trusted_proxies)
        ),
        format!(
            "account:{}",
            email_key
                .clone()
                .unwrap_or_else(|| field("email").to_lowercase())
        ),
    ];
    let now_unix = state.now_unix();
    if let Err(wait) = state.login_throttle.check(&throttle_keys, now_unix) {
        return Ok(too_many_requests(wait));
    }
    let password = field("password");
    let organiser = db::blocking(&state.pool, move |c| match email_key {
        Some(key) => organisers::find_by_email_key(c, &key),
        None => Ok(None),
    })
    .await?;
    let stored = organiser.as_ref().map(|o| o.password_hash.clone());
    let verified = web::block(move || passwords::verify(&password, stored.as_deref()))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("password check: {e}")))?;
    let Some(organiser) = organiser.filter(|_| verified) else {
        state
            .login_throttle
            .record_failure(&throttle_keys, now_unix);
        return Ok(admin_auth::login_page(
            &req,
            &state,
            StatusCode::UNAUTHORIZED,
            Some(WRONG),
            Some(field("next")),
        ));
    };
    state.login_throttle.clear(&throttle_keys[1]);
    let session = random_token(32);
    let (hash, now) = (token_hash(&session), state.clock.now_naive());
    let ttl = state.settings.admin.session_ttl();
    let id = organiser.id.clone();
    db::blocking(&state.pool, move |c| {
        organisers::create_session(c, &hash, &id, now, now + ttl)
    })
    .await?;
    let next = Some(field("next"))
        .filter(|n| safe_next(n))
        .unwrap_or_else(|| "/admin".to_owned());
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, next))
        .cookie(session_cookie(&state, session, ttl.num_seconds()))
        .finish())
}

fn session_cookie(state: &AppState, value: String, max_age: i64) -> Cookie<'static> {
    crate::web::cookies::build(
        SESSION_COOKIE,
        value,
        max_age,
        state.secure_cookies(),
        SameSite::Strict,
    )
}

/// Ends the server-side session and clears the cookie.
pub async fn logout(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if let Err(answer) = for_post(&req, &state, &body).await? {
        return Ok(answer);
    }
    if let Some(cookie) = req.cookie(SESSION_COOKIE) {
        let hash = token_hash(cookie.value());
        db::blocking(&state.pool, move |c| organisers::delete_session(c, &hash)).await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, "/admin/login"))
        .cookie(session_cookie(&state, String::new(), 0))
        .finish())
}
