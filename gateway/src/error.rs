//! [`HttpError`]: an error an app returns with `?` that becomes the right HTTP response.

use std::borrow::Cow;
use std::fmt;

use crate::{AppError, Body, Environ, Headers, StatusCode};

/// An HTTP error: a status, a short message the client may see, and an optional private
/// cause that only the log sees.
///
/// Return it from an app (it converts into [`AppError`] with `?`) and the protocol engine
/// answers with its status instead of a 500: a small page in the type the client accepts
/// (JSON when `Accept` prefers `application/json`, plain text otherwise), with `Allow` on a
/// 405. A 5xx is logged with its cause, like any app failure; a 4xx is logged as one line.
/// Any error that is not an `HttpError` stays a logged 500 with no detail to the client.
///
/// ```
/// use gateway::{app_fn, Body, HttpError, StatusCode};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// let app = app_fn(|env, sr| {
///     let id: u32 = env
///         .get("QUERY_STRING")
///         .unwrap_or("")
///         .parse()
///         .map_err(|e| HttpError::bad_request(format!("id: {e}")))?;
///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
///     Ok(Body::from(format!("user {id}")))
/// });
/// let response = run_app(&app, EnvironBuilder::new().query("x").build());
/// assert_eq!(response.status, "400 Bad Request");
/// assert_eq!(response.text(), "400 Bad Request: id: invalid digit found in string\n");
///
/// let json = EnvironBuilder::new().query("x").header("Accept", "application/json").build();
/// let response = run_app(&app, json);
/// assert_eq!(response.header("Content-Type"), Some("application/json"));
/// assert_eq!(
///     response.text(),
///     r#"{"status":400,"error":"Bad Request","message":"id: invalid digit found in string"}"#
/// );
///
/// let wrong_method = HttpError::method_not_allowed(["GET", "HEAD"]);
/// assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
/// assert_eq!(wrong_method.headers(), [("Allow".to_owned(), "GET, HEAD".to_owned())]);
/// ```
#[derive(Debug)]
pub struct HttpError {
    status: StatusCode,
    message: Cow<'static, str>,
    cause: Option<AppError>,
    headers: Vec<(String, String)>,
}

impl HttpError {
    /// An error with `status` and a public `message` (may be empty).
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        HttpError {
            status,
            message: message.into(),
            cause: None,
            headers: Vec::new(),
        }
    }

    /// 400: the request is malformed; `message` says how.
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        HttpError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404.
    pub fn not_found() -> Self {
        HttpError::new(StatusCode::NOT_FOUND, "")
    }

    /// 405 with the `Allow` header listing the methods that are allowed.
    pub fn method_not_allowed<I, S>(allowed: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let allow: Vec<String> = allowed.into_iter().map(|m| m.as_ref().to_owned()).collect();
        HttpError::new(StatusCode::METHOD_NOT_ALLOWED, "").with_header("Allow", allow.join(", "))
    }

    /// 411: a body must come with a `Content-Length`.
    pub fn length_required() -> Self {
        HttpError::new(
            StatusCode::LENGTH_REQUIRED,
            "the request body needs a Content-Length",
        )
    }

    /// 413: the body is over `limit` bytes.
    pub fn content_too_large(limit: u64) -> Self {
        HttpError::new(
            StatusCode::CONTENT_TOO_LARGE,
            format!("the request body is larger than {limit} bytes"),
        )
    }

    /// 415: the body's `Content-Type` is not `expected`.
    pub fn unsupported_media_type(expected: &str) -> Self {
        HttpError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("expected a Content-Type of {expected}"),
        )
    }

    /// 422: the body is well-formed but its content is not acceptable.
    pub fn unprocessable(message: impl Into<Cow<'static, str>>) -> Self {
        HttpError::new(StatusCode::UNPROCESSABLE_CONTENT, message)
    }

    /// 500 with a private cause: the client sees only the status.
    pub fn internal(cause: impl Into<AppError>) -> Self {
        HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "").with_cause(cause)
    }

    /// Attaches a private cause (logged, never sent).
    pub fn with_cause(mut self, cause: impl Into<AppError>) -> Self {
        self.cause = Some(cause.into());
        self
    }

    /// Adds a response header (`WWW-Authenticate`, `Retry-After`, ...). Invalid names or
    /// values are dropped when the response is built (and the drop is logged).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The public message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The private cause, if any.
    pub fn cause(&self) -> Option<&AppError> {
        self.cause.as_ref()
    }

    /// The extra response headers.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The response for the client who sent `environ`'s request: status, headers and a body
    /// in the type its `Accept` header prefers (JSON or plain text).
    pub fn response(&self, environ: &Environ) -> (StatusCode, Headers, Body) {
        let json = prefers_json(environ.get("HTTP_ACCEPT").unwrap_or(""));
        let reason = self.status.reason();
        let (content_type, body) = if json {
            let mut body = format!("{{\"status\":{},\"error\":", self.status.as_u16());
            json_string(&mut body, reason);
            body.push_str(",\"message\":");
            json_string(&mut body, &self.message);
            body.push('}');
            ("application/json", body)
        } else if self.message.is_empty() {
            ("text/plain; charset=utf-8", format!("{}\n", self.status))
        } else {
            (
                "text/plain; charset=utf-8",
                format!("{}: {}\n", self.status, self.message),
            )
        };
        let mut headers = Headers::new();
        let _ = headers.append("Content-Type", content_type);
        for (name, value) in &self.headers {
            // Validated here; an invalid one is skipped rather than losing the response.
            let _ = headers.append(name, value);
        }
        (self.status, headers, Body::from(body))
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            write!(f, "{}", self.status)?;
        } else {
            write!(f, "{}: {}", self.status, self.message)?;
        }
        if let Some(cause) = &self.cause {
            write!(f, " (cause: {cause})")?;
        }
        Ok(())
    }
}

impl std::error::Error for HttpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// A header that cannot be sent (a bad `Location`, say) is the server's fault: a 500 with
/// the reason as its cause.
impl From<crate::HeaderError> for HttpError {
    fn from(error: crate::HeaderError) -> Self {
        HttpError::internal(error)
    }
}

impl From<StatusCode> for HttpError {
    fn from(status: StatusCode) -> Self {
        HttpError::new(status, "")
    }
}

/// True when an `Accept` value ranks `application/json` (or `application/*+json`) above the
/// plain text every client can read: the first media range by quality that gateway can
/// produce decides (`*/*` and `text/*` mean text).
fn prefers_json(accept: &str) -> bool {
    let mut best: Option<(f32, bool)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let json = media == "application/json"
            || media.starts_with("application/") && media.ends_with("+json");
        let text = media == "text/plain" || media == "text/*" || media == "*/*";
        if q <= 0.0 || !(json || text) {
            continue;
        }
        if best.is_none_or(|(best_q, _)| q > best_q) {
            best = Some((q, json));
        }
    }
    best.is_some_and(|(_, json)| json)
}

/// Appends `text` as a JSON string literal.
fn json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::{json_string, prefers_json};

    #[test]
    fn accept_negotiation() {
        let cases = [
            ("", false),
            ("application/json", true),
            ("application/problem+json", true),
            ("text/html,application/json;q=0.9", true),
            ("text/plain, application/json", false),
            ("application/json;q=0.5, */*;q=0.8", false),
            ("application/json;q=0, text/plain", false),
            ("*/*", false),
            ("image/png", false),
        ];
        for (accept, json) in cases {
            assert_eq!(prefers_json(accept), json, "{accept:?}");
        }
    }

    #[test]
    fn json_strings_escape() {
        let mut out = String::new();
        json_string(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
    }
}
