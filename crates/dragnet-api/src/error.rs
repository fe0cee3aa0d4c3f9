//! Error responses: Macie's shape (`{"message": ...}` with the exception name in
//! `x-amzn-ErrorType`), and nothing about why a token was refused.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::{BackendError, RevealError};

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Macie's exception name.
    pub kind: &'static str,
    /// What is wrong (never a detected value, never why a token was refused).
    pub message: String,
}

impl ApiError {
    /// 400 ValidationException.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ValidationException", message)
    }

    /// 401: no token, or one that is unknown or revoked (the answer does not say which).
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedException",
            "authentication required",
        )
    }

    /// 403: the token's role may not do this.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            "your role does not allow this action",
        )
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "ResourceNotFoundException", message)
    }

    /// 429.
    pub fn throttled(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "ThrottlingException",
            message,
        )
    }

    /// 500, for a failure inside the service (logged; the caller gets no internals).
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerException",
            "internal error; the server log has the details",
        )
    }

    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
        }
    }
}

impl From<BackendError> for ApiError {
    fn from(e: BackendError) -> Self {
        match e {
            BackendError::NotFound(m) => ApiError::not_found(m),
            BackendError::Conflict(m) => {
                ApiError::new(StatusCode::CONFLICT, "ConflictException", m)
            }
            BackendError::Invalid(m) => ApiError::invalid(m),
            BackendError::Unavailable(m) => {
                tracing::warn!(error = %m, "backend unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailableException",
                    m,
                )
            }
        }
    }
}

impl From<RevealError> for ApiError {
    fn from(e: RevealError) -> Self {
        match e {
            RevealError::Backend(b) => b.into(),
            other => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "UnprocessableEntityException",
                other.to_string(),
            ),
        }
    }
}

impl From<dragnet_findings::QueryError> for ApiError {
    fn from(e: dragnet_findings::QueryError) -> Self {
        ApiError::invalid(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "message": self.message });
        let mut response = (self.status, axum::Json(body)).into_response();
        response
            .headers_mut()
            .insert("x-amzn-ErrorType", HeaderValue::from_static(self.kind));
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"dragnet\""),
            );
        }
        response
    }
}
