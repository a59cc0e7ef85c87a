//! What `#[wsgi_app]` expansions call: not public API, and may change at any release.

pub use crate::extract::{header, route_param};
pub use crate::{App, AppError, Body, Environ, FromEnviron, Route, Routes, StartResponse};

use crate::{HttpError, IntoResponse};

/// Sends a handler's return value: its response through `start_response`, or its error to
/// the engine.
#[inline]
pub fn respond<R: IntoResponse>(
    value: R,
    start_response: &mut StartResponse<'_>,
) -> Result<Body, AppError> {
    match value.into_response() {
        Ok(response) => response.send(start_response),
        Err(error) => Err(error.into()),
    }
}

/// A required header: absent is a 400 naming it.
#[inline]
pub fn required<T>(value: Option<T>, name: &str) -> Result<T, HttpError> {
    value.ok_or_else(|| HttpError::bad_request(format!("missing header '{name}'")))
}
