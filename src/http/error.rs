//! The HTTP layer's one error type. Every failure becomes problem JSON
//! (RFC 9457) with a status that tells the client what to do next.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::{ConversationState, FieldError, Invalid};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("the conversation is {0:?}")]
    NotOpen(ConversationState),
    #[error("{0}")]
    Conflict(String),
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("send the body as JSON with Content-Type: application/json")]
    UnsupportedMediaType,
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("too many requests; try again in {} s", .0.as_secs().max(1))]
    RateLimited(Duration),
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [FieldError]>,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        use ApiError::*;
        match self {
            Malformed(_) => (
                StatusCode::BAD_REQUEST,
                "/problems/malformed",
                "Malformed request",
            ),
            Unauthenticated(_) => (
                StatusCode::UNAUTHORIZED,
                "/problems/unauthenticated",
                "Not signed in",
            ),
            Forbidden(_) => (StatusCode::FORBIDDEN, "/problems/forbidden", "Not allowed"),
            NotFound(_) => (StatusCode::NOT_FOUND, "/problems/not-found", "Not found"),
            NotOpen(ConversationState::Closed) => (
                StatusCode::CONFLICT,
                "/problems/conversation-closed",
                "The conversation is closed",
            ),
            NotOpen(_) => (
                StatusCode::CONFLICT,
                "/problems/conversation-not-open",
                "The conversation has not opened yet",
            ),
            Conflict(_) => (StatusCode::CONFLICT, "/problems/conflict", "Conflict"),
            TooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "/problems/too-large",
                "Request too large",
            ),
            UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "/problems/unsupported-media-type",
                "Unsupported media type",
            ),
            Invalid(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "/problems/validation",
                "Invalid input",
            ),
            RateLimited(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "/problems/rate-limited",
                "Too many requests",
            ),
            Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "/problems/unavailable",
                "Service unavailable",
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "/problems/internal",
                "Internal error",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, title) = self.parts();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let detail = match &self {
            ApiError::NotOpen(ConversationState::Closed) => {
                "this conversation has closed; it can still be read but takes no new contributions"
                    .to_string()
            }
            ApiError::NotOpen(_) => "this conversation has not opened yet".to_string(),
            other => other.to_string(),
        };
        let body = Problem {
            kind,
            title,
            status: status.as_u16(),
            detail,
            errors: match &self {
                ApiError::Invalid(invalid) => Some(&invalid.0),
                _ => None,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let ApiError::RateLimited(wait) = self {
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let ApiError::Unavailable(_) = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(what.to_string()),
            StoreError::Conflict(detail) => ApiError::Conflict(detail),
            StoreError::Invalid { field, message } => {
                ApiError::Invalid(Invalid::field(field, message))
            }
            StoreError::Rejected(invalid) => ApiError::Invalid(invalid),
            StoreError::Suspended => ApiError::Forbidden(
                "you have been suspended from contributing to this conversation".into(),
            ),
            StoreError::Overloaded => {
                ApiError::Unavailable("the server is busy; try again shortly".into())
            }
            StoreError::Closed => ApiError::Unavailable("the server is shutting down".into()),
            StoreError::Unavailable(reason) => {
                tracing::warn!(%reason, "the database is unreachable");
                ApiError::Unavailable("the database cannot be reached; try again shortly".into())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}
