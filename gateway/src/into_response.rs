//! [`IntoResponse`]: what a `#[wsgi_app]` handler may return.

use std::borrow::Cow;

use crate::util::FileWrapper;
use crate::{AppError, Body, HeaderError, Headers, HttpError, Response, StatusCode};

/// A handler's return value, turned into a [`Response`] or the [`HttpError`] that answers
/// instead (the engine renders it as text or JSON by `Accept` and logs it).
///
/// | return type | response |
/// |---|---|
/// | `&'static str`, `String`, `Cow<'static, str>` | 200 `text/plain; charset=utf-8` |
/// | [`Html<T>`] | 200 `text/html; charset=utf-8` |
/// | `Vec<u8>`, `&'static [u8]`, [`Bytes`](crate::Bytes) | 200 `application/octet-stream` |
/// | [`Json<T>`](crate::Json) (feature `json`) | 200 `application/json` |
/// | [`Response`] | itself |
/// | [`Body`], [`FileWrapper`] | 200 `application/octet-stream`, streamed (a file is sent with sendfile) |
/// | [`StatusCode`] | that status, a one-line text body (none for 1xx, 204 and 304) |
/// | `()` | 204 No Content |
/// | `(StatusCode, T)` | `T` with that status |
/// | `(StatusCode, Headers, T)`, `(StatusCode, [(&str, &str); N], T)` | `T` with that status and those headers added (replacing `T`'s of the same name) |
/// | `Option<T>` | `T`, or a 404 for `None` |
/// | `Result<T, E>` | `T`, or `E` converted: an [`HttpError`] answers with its status; an [`AppError`] or `io::Error` is a logged 500 |
/// | [`HttpError`] | the error |
///
/// ```
/// use gateway::{HttpError, IntoResponse, StatusCode};
///
/// let response = (StatusCode::CREATED, [("Location", "/items/7")], "made").into_response()?;
/// assert_eq!(response.status, StatusCode::CREATED);
/// assert_eq!(response.headers.get("Location"), Some("/items/7"));
/// assert_eq!(response.headers.get("Content-Type"), Some("text/plain; charset=utf-8"));
/// let missing = None::<String>.into_response().unwrap_err();
/// assert_eq!(missing.status(), StatusCode::NOT_FOUND);
/// # Ok::<(), HttpError>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "a #[wsgi_app] handler cannot return `{Self}`",
    label = "this type does not convert into a response",
    note = "return a `&'static str`, `String`, `Html<T>`, `Json<T>`, `Vec<u8>`, `Response`, `Body`, `FileWrapper`, `StatusCode`, `()`, a `(StatusCode, T)` or `(StatusCode, headers, T)` tuple, an `Option` or a `Result` of these, or implement `gateway::IntoResponse`"
)]
pub trait IntoResponse {
    /// The response, or the error that answers instead.
    fn into_response(self) -> Result<Response, HttpError>;
}

impl IntoResponse for Response {
    fn into_response(self) -> Result<Response, HttpError> {
        Ok(self)
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Result<Response, HttpError> {
        Err(self)
    }
}

impl IntoResponse for &'static str {
    fn into_response(self) -> Result<Response, HttpError> {
        // Sent from where it is, not copied.
        Ok(Response::with_type("text/plain; charset=utf-8", self))
    }
}

impl IntoResponse for String {
    fn into_response(self) -> Result<Response, HttpError> {
        Ok(Response::text(self))
    }
}

impl IntoResponse for Cow<'static, str> {
    fn into_response(self) -> Result<Response, HttpError> {
        Ok(Response::text(self))
    }
}

/// An `application/octet-stream` 200 with `body`.
fn octets(body: Body) -> Result<Response, HttpError> {
    Ok(Response::with_type("application/octet-stream", body))
}

impl IntoResponse for Vec<u8> {
    fn into_response(self) -> Result<Response, HttpError> {
        octets(Body::from(self))
    }
}

impl IntoResponse for &'static [u8] {
    fn into_response(self) -> Result<Response, HttpError> {
        octets(Body::from(self))
    }
}

impl IntoResponse for crate::Bytes {
    fn into_response(self) -> Result<Response, HttpError> {
        self.0.into_response()
    }
}

impl IntoResponse for Body {
    fn into_response(self) -> Result<Response, HttpError> {
        octets(self)
    }
}

impl IntoResponse for FileWrapper {
    fn into_response(self) -> Result<Response, HttpError> {
        octets(Body::file(self))
    }
}

impl IntoResponse for StatusCode {
    fn into_response(self) -> Result<Response, HttpError> {
        let code = self.as_u16();
        if code < 200 || code == 204 || code == 304 {
            return Ok(Response::empty(self));
        }
        Ok(Response::text(format!("{self}\n")).with_status(self))
    }
}

impl IntoResponse for () {
    fn into_response(self) -> Result<Response, HttpError> {
        Ok(Response::empty(StatusCode::NO_CONTENT))
    }
}

impl<T: IntoResponse> IntoResponse for Option<T> {
    fn into_response(self) -> Result<Response, HttpError> {
        match self {
            Some(value) => value.into_response(),
            None => Err(HttpError::not_found()),
        }
    }
}

impl<T: IntoResponse, E: IntoResponse> IntoResponse for Result<T, E> {
    fn into_response(self) -> Result<Response, HttpError> {
        match self {
            Ok(value) => value.into_response(),
            Err(error) => error.into_response(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Result<Response, HttpError> {
        Err(HttpError::internal(self))
    }
}

impl IntoResponse for std::io::Error {
    fn into_response(self) -> Result<Response, HttpError> {
        Err(HttpError::internal(self))
    }
}

impl IntoResponse for HeaderError {
    fn into_response(self) -> Result<Response, HttpError> {
        Err(HttpError::internal(self))
    }
}

impl<T: IntoResponse> IntoResponse for (StatusCode, T) {
    fn into_response(self) -> Result<Response, HttpError> {
        Ok(self.1.into_response()?.with_status(self.0))
    }
}

/// `response` with `headers` over its own: a name it had is replaced by every value given
/// for it (two `Set-Cookie` stay two).
fn with_headers<'h>(
    mut response: Response,
    headers: impl IntoIterator<Item = (&'h str, &'h str)> + Clone,
) -> Result<Response, HttpError> {
    for (name, _) in headers.clone() {
        response.headers.remove(name);
    }
    for (name, value) in headers {
        response
            .headers
            .append(name, value)
            .map_err(HttpError::internal)?;
    }
    Ok(response)
}

impl<T: IntoResponse> IntoResponse for (StatusCode, Headers, T) {
    fn into_response(self) -> Result<Response, HttpError> {
        let response = self.2.into_response()?.with_status(self.0);
        with_headers(response, self.1.iter())
    }
}

impl<T: IntoResponse, const N: usize> IntoResponse for (StatusCode, [(&str, &str); N], T) {
    fn into_response(self) -> Result<Response, HttpError> {
        let response = self.2.into_response()?.with_status(self.0);
        with_headers(response, self.1)
    }
}

/// An HTML page: as a return value, `text/html; charset=utf-8`.
///
/// ```
/// use gateway::{wsgi_app, Html};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// #[wsgi_app]
/// fn page() -> Html<&'static str> {
///     Html("<h1>hi</h1>")
/// }
///
/// let response = run_app(&page, EnvironBuilder::new().build());
/// assert_eq!(response.header("Content-Type"), Some("text/html; charset=utf-8"));
/// assert_eq!(response.text(), "<h1>hi</h1>");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Html<T>(pub T);

impl<T: Into<String>> IntoResponse for Html<T> {
    fn into_response(self) -> Result<Response, HttpError> {
        Ok(Response::html(self.0))
    }
}

#[cfg(feature = "json")]
impl<T: serde::Serialize> IntoResponse for crate::Json<T> {
    fn into_response(self) -> Result<Response, HttpError> {
        Response::json(&self.0)
    }
}
