//! A JSON body extractor whose refusals are problem JSON: 400 naming the
//! field for bad shapes and types, 413 for oversized bodies, 415 for a
//! missing JSON content type; and the middleware that holds every
//! state-changing request to that content type, body or no body.

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
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
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|axum::Json(value)| ApiJson(value))
            .map_err(json_problem)
    }
}

fn json_problem(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
        JsonRejection::JsonDataError(e) => ApiError::Malformed(e.body_text()),
        JsonRejection::JsonSyntaxError(e) => ApiError::Malformed(e.body_text()),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(0),
        other => ApiError::Malformed(other.body_text()),
    }
}

/// Like [`ApiJson`], but an empty body stands for `T::default()`. The
/// content type must still be JSON.
pub struct ApiJsonOrEmpty<T>(pub T);

impl<S, T> FromRequest<S> for ApiJsonOrEmpty<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        // Read the body rather than trust Content-Length: a chunked empty
        // body has none.
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge(0)
            } else {
                ApiError::Malformed(rejection.body_text())
            }
        })?;
        if bytes.is_empty() {
            return Ok(ApiJsonOrEmpty(T::default()));
        }
        axum::Json::<T>::from_bytes(&bytes)
            .map(|axum::Json(value)| ApiJsonOrEmpty(value))
            .map_err(json_problem)
    }
}

/// Whether the request says its body is JSON: `application/json` or
/// `application/*+json`, parameters allowed (the rule axum's `Json` applies).
pub fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json") || subtype.to_ascii_lowercase().ends_with("+json"))
}

/// Whether a method changes state (everything but GET, HEAD and OPTIONS).
pub fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Refuses a state-changing request without a JSON content type with 415,
/// whether or not it has a body: a form or `text/plain` request is what a
/// cross-site page can send without asking, so none of them may change
/// anything.
pub async fn json_writes(request: Request, next: Next) -> Response {
    if is_write(request.method()) && !json_content_type(request.headers()) {
        return ApiError::UnsupportedMediaType.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).unwrap(),
        );
        headers
    }

    #[test]
    fn json_content_types() {
        for yes in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/problem+json",
        ] {
            assert!(json_content_type(&with(yes)), "{yes}");
        }
        for no in [
            "application/x-www-form-urlencoded",
            "text/plain",
            "multipart/form-data; boundary=x",
            "text/json",
            "application/jsonp",
            "",
        ] {
            assert!(!json_content_type(&with(no)), "{no}");
        }
        assert!(!json_content_type(&HeaderMap::new()));
    }
}
