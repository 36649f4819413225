//! A JSON body extractor whose refusals are problem JSON: 400 naming the
//! field for bad shapes and types, 413 for oversized bodies, 415 for a
//! missing JSON content type.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::ApiError;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(match rejection {
                JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
                JsonRejection::JsonDataError(e) => ApiError::Malformed(e.body_text()),
                JsonRejection::JsonSyntaxError(e) => ApiError::Malformed(e.body_text()),
                other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(0),
                other => ApiError::Malformed(other.body_text()),
            }),
        }
    }
}

/// Like [`ApiJson`], but an empty body stands for `T::default()`.
pub struct ApiJsonOrEmpty<T>(pub T);

impl<S, T> FromRequest<S> for ApiJsonOrEmpty<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let empty = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .is_some_and(|len| len == "0");
        if empty {
            return Ok(ApiJsonOrEmpty(T::default()));
        }
        ApiJson::<T>::from_request(req, state)
            .await
            .map(|ApiJson(value)| ApiJsonOrEmpty(value))
    }
}
