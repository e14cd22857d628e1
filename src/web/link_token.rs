//! The `token` of a link (`?token=T`): confirm, unsubscribe and manage pages
//! are authorised by it. Missing is empty, which no row matches.

use actix_web::dev::Payload;
use actix_web::{Error, FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The link's token, as sent.
pub struct LinkToken(pub String);

impl FromRequest for LinkToken {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let query = web::Query::<TokenQuery>::from_request(req, payload);
        Box::pin(async move {
            let query = query.await?;
            Ok(LinkToken(query.into_inner().token.unwrap_or_default()))
        })
    }
}
