//! [`Response`]: a status, headers and a body, sent through `start_response` in one step.

use std::fs::File;
use std::path::Path;

use crate::util::FileWrapper;
use crate::{AppError, Body, HeaderError, Headers, HttpError, StartResponse, StatusCode};

/// A whole response: status, [`Headers`] and [`Body`]. [`send`](Response::send) calls
/// `start_response` and returns the body, so an app ends with one line.
///
/// ```
/// use gateway::{app_fn, Response, StatusCode};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// let app = app_fn(|env, sr| {
///     let name = env.get("QUERY_STRING").unwrap_or("world").to_owned();
///     Response::text(format!("hello {name}"))
///         .with_status(StatusCode::CREATED)
///         .header("X-Greeting", "yes")?
///         .send(sr)
/// });
/// let response = run_app(&app, EnvironBuilder::new().query("you").build());
/// assert_eq!(response.status, "201 Created");
/// assert_eq!(response.header("Content-Type"), Some("text/plain; charset=utf-8"));
/// assert_eq!(response.header("X-Greeting"), Some("yes"));
/// assert_eq!(response.text(), "hello you");
/// ```
#[derive(Debug)]
pub struct Response {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: Headers,
    /// The body.
    pub body: Body,
}

impl Response {
    /// An empty response with `status` (no Content-Type: a 204 or 304 must have none).
    pub fn empty(status: StatusCode) -> Self {
        Response {
            status,
            headers: Headers::new(),
            body: Body::empty(),
        }
    }

    /// `body` with a `Content-Type` (200).
    ///
    /// ```
    /// use gateway::Response;
    ///
    /// let png = Response::bytes("image/png", vec![0x89, b'P', b'N', b'G']).unwrap();
    /// assert_eq!(png.headers.get("content-type"), Some("image/png"));
    /// assert!(Response::bytes("bad\ntype", "x").is_err());
    /// ```
    pub fn bytes(content_type: &str, body: impl Into<Vec<u8>>) -> Result<Self, HeaderError> {
        let mut headers = Headers::new();
        headers.append("Content-Type", content_type)?;
        Ok(Response {
            status: StatusCode::OK,
            headers,
            body: Body::from(body.into()),
        })
    }

    /// UTF-8 text (`text/plain; charset=utf-8`, 200).
    pub fn text(text: impl Into<String>) -> Self {
        Response::with_type("text/plain; charset=utf-8", text.into().into_bytes())
    }

    /// An HTML page (`text/html; charset=utf-8`, 200).
    pub fn html(html: impl Into<String>) -> Self {
        Response::with_type("text/html; charset=utf-8", html.into().into_bytes())
    }

    /// A value as JSON (`application/json`, 200), serialized with `serde_json`. A value that
    /// cannot be serialized (a map with non-string keys) is a 500 with the reason as cause.
    ///
    /// ```
    /// use gateway::Response;
    ///
    /// let response = Response::json(&serde_json::json!({"id": 7})).unwrap();
    /// assert_eq!(response.headers.get("content-type"), Some("application/json"));
    /// ```
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<Self, HttpError> {
        let body = serde_json::to_vec(value).map_err(HttpError::internal)?;
        Ok(Response::with_type("application/json", body))
    }

    /// A redirect to `location`: 303 See Other (after a POST, fetch this with GET).
    ///
    /// ```
    /// use gateway::{Response, StatusCode};
    ///
    /// let response = Response::see_other("/entries").unwrap();
    /// assert_eq!(response.status, StatusCode::SEE_OTHER);
    /// assert_eq!(response.headers.get("location"), Some("/entries"));
    /// assert!(Response::see_other("/a\r\nSet-Cookie: x=1").is_err());
    /// ```
    pub fn see_other(location: &str) -> Result<Self, HeaderError> {
        Response::redirect(StatusCode::SEE_OTHER, location)
    }

    /// A redirect to `location`: 307 Temporary Redirect (same method, same body).
    pub fn temporary_redirect(location: &str) -> Result<Self, HeaderError> {
        Response::redirect(StatusCode::TEMPORARY_REDIRECT, location)
    }

    /// A redirect to `location`: 308 Permanent Redirect (same method, same body).
    pub fn permanent_redirect(location: &str) -> Result<Self, HeaderError> {
        Response::redirect(StatusCode::PERMANENT_REDIRECT, location)
    }

    fn redirect(status: StatusCode, location: &str) -> Result<Self, HeaderError> {
        let mut response = Response::empty(status);
        response.headers.append("Location", location)?;
        Ok(response)
    }

    /// A file, sent with sendfile(2) by the server: `Content-Type` guessed from its
    /// extension (`mime_guess`; `application/octet-stream` when unknown, with
    /// `charset=utf-8` for text types) and `Content-Length` from its size. A missing file is
    /// a 404, one that cannot be read a 403 (the path is never shown to the client).
    ///
    /// ```
    /// use gateway::{Response, StatusCode};
    ///
    /// let response = Response::file("Cargo.toml").unwrap();
    /// assert_eq!(response.headers.get("content-type"), Some("text/x-toml; charset=utf-8"));
    /// let size = std::fs::metadata("Cargo.toml").unwrap().len().to_string();
    /// assert_eq!(response.headers.get("content-length"), Some(size.as_str()));
    /// assert_eq!(Response::file("no/such/file").unwrap_err().status(), StatusCode::NOT_FOUND);
    /// ```
    #[cfg(feature = "mime")]
    pub fn file(path: impl AsRef<Path>) -> Result<Self, HttpError> {
        let path = path.as_ref();
        let guess = mime_guess::from_path(path).first_or_octet_stream();
        let content_type = if guess.type_() == mime_guess::mime::TEXT {
            format!("{guess}; charset=utf-8")
        } else {
            guess.to_string()
        };
        Response::file_as(path, &content_type)
    }

    /// A file with the given `Content-Type` (see [`file`](Response::file) when the `mime`
    /// feature is on), `Content-Length` from its size, sent with sendfile(2) by the server.
    pub fn file_as(path: impl AsRef<Path>, content_type: &str) -> Result<Self, HttpError> {
        let path = path.as_ref();
        let open = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::NotFound => HttpError::not_found().with_cause(e),
            _ => HttpError::new(StatusCode::FORBIDDEN, "").with_cause(e),
        };
        let file = File::open(path).map_err(open)?;
        let metadata = file.metadata().map_err(open)?;
        if !metadata.is_file() {
            return Err(HttpError::not_found());
        }
        let mut headers = Headers::new();
        headers
            .append("Content-Type", content_type)
            .map_err(HttpError::internal)?;
        headers
            .append("Content-Length", metadata.len().to_string())
            .map_err(HttpError::internal)?;
        Ok(Response {
            status: StatusCode::OK,
            headers,
            body: Body::file(FileWrapper::with_default_blksize(file)),
        })
    }

    /// The same response with another status.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Adds a header (an error names an invalid name or value).
    pub fn header(mut self, name: &str, value: impl AsRef<str>) -> Result<Self, HeaderError> {
        self.headers.append(name, value)?;
        Ok(self)
    }

    /// Adds a `Set-Cookie` header for `cookie` (built with the `cookie` crate).
    ///
    /// ```
    /// use gateway::Response;
    /// use gateway::cookie::Cookie;
    ///
    /// let cookie = Cookie::build(("session", "abc")).path("/").http_only(true).build();
    /// let response = Response::text("hi").set_cookie(&cookie).unwrap();
    /// assert_eq!(response.headers.get("set-cookie"), Some("session=abc; HttpOnly; Path=/"));
    /// ```
    #[cfg(feature = "cookies")]
    pub fn set_cookie(self, cookie: &cookie::Cookie<'_>) -> Result<Self, HeaderError> {
        self.header("Set-Cookie", cookie.to_string())
    }

    /// Calls `start_response` with the status and headers and returns the body: the last
    /// line of an app.
    pub fn send(self, start_response: &mut StartResponse<'_>) -> Result<Body, AppError> {
        start_response.start_with_headers(self.status.as_str(), self.headers, None)?;
        Ok(self.body)
    }

    /// A 200 with a constant (valid) `Content-Type`.
    pub(crate) fn with_type(content_type: &'static str, body: impl Into<Body>) -> Self {
        Response {
            status: StatusCode::OK,
            headers: Headers::with_trusted("Content-Type", content_type),
            body: body.into(),
        }
    }
}

impl From<HttpError> for Response {
    /// The error as plain text (use [`HttpError::response`] to follow the client's `Accept`).
    fn from(error: HttpError) -> Self {
        let (status, headers, body) = error.response(&crate::Environ::new());
        Response {
            status,
            headers,
            body,
        }
    }
}
