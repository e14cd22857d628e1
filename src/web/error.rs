//! Handler errors. Expected outcomes are values; what reaches here is either
//! "unavailable, try again" (503 with Retry-After) or an internal fault (a logged
//! 500 with a generic body: the cause chain goes to the log, never to the user).

use crate::db::DbError;
use crate::organisers::login::LoginError;
use actix_web::http::StatusCode;
use actix_web::http::header::RETRY_AFTER;
use actix_web::{HttpResponse, ResponseError};

#[derive(thiserror::Error)]
pub enum AppError {
    #[error("the service is busy or the database is unreachable")]
    Unavailable(#[source] DbError),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl std::fmt::Debug for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")?;
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            write!(f, "\n  caused by: {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl From<DbError> for AppError {
    fn from(error: DbError) -> Self {
        if error.is_unavailable() {
            AppError::Unavailable(error)
        } else {
            AppError::Internal(error.into())
        }
    }
}

impl From<LoginError> for AppError {
    fn from(error: LoginError) -> Self {
        match error {
            LoginError::Db(error) => error.into(),
            LoginError::PasswordCheck(_) => AppError::Internal(error.into()),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Unavailable(_) => {
                tracing::warn!(error = ?self, "answering 503");
                HttpResponse::ServiceUnavailable()
                    .insert_header((RETRY_AFTER, "5"))
                    .content_type("text/plain; charset=utf-8")
                    .body("The service is busy. Please try again in a few seconds.")
            }
            AppError::Internal(_) => {
                tracing::error!(error = ?self, "answering 500");
                HttpResponse::InternalServerError()
                    .content_type("text/plain; charset=utf-8")
                    .body("Something went wrong on our side. Please try again later.")
            }
        }
    }
}
