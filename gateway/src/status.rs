//! [`StatusCode`]: HTTP status codes as constants, so a typo in a reason phrase cannot compile.

use std::fmt;

/// An HTTP status code (100 to 999) with its standard reason phrase.
///
/// The constants cover RFC 9110's codes; [`as_str`](StatusCode::as_str) gives the WSGI status
/// line (`"404 Not Found"`) without allocating. WSGI status strings stay accepted everywhere a
/// status is taken ([`StartResponse::start`](crate::StartResponse::start)); a `StatusCode`
/// goes there through `as_str`.
///
/// ```
/// use gateway::StatusCode;
///
/// assert_eq!(StatusCode::NOT_FOUND.as_str(), "404 Not Found");
/// assert_eq!(StatusCode::NOT_FOUND.as_u16(), 404);
/// assert_eq!(StatusCode::from_u16(418).unwrap().as_str(), "418 I'm a teapot");
/// assert_eq!(StatusCode::from_u16(299).unwrap().as_str(), "299 Unknown");
/// assert!(StatusCode::from_u16(99).is_err());
/// assert!(StatusCode::BAD_REQUEST.is_client_error());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusCode(u16);

/// A number that is not a status code (outside 100..=999).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidStatusCode(pub u16);

impl fmt::Display for InvalidStatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is not an HTTP status code (they are three digits, 100 to 999)",
            self.0
        )
    }
}

impl std::error::Error for InvalidStatusCode {}

macro_rules! status_codes {
    ($( $(#[$doc:meta])* ($code:expr, $name:ident, $line:expr); )+) => {
        impl StatusCode {
            $( $(#[$doc])* pub const $name: StatusCode = StatusCode($code); )+

            /// The status line for WSGI (`"200 OK"`): the code and its standard reason phrase
            /// (`Unknown` for a code without one).
            pub fn as_str(self) -> &'static str {
                match self.0 {
                    $( $code => $line, )+
                    _ => unknown_line(self.0),
                }
            }
        }
    };
}

status_codes! {
    /// 100
    (100, CONTINUE, "100 Continue");
    /// 101
    (101, SWITCHING_PROTOCOLS, "101 Switching Protocols");
    /// 200
    (200, OK, "200 OK");
    /// 201
    (201, CREATED, "201 Created");
    /// 202
    (202, ACCEPTED, "202 Accepted");
    /// 203
    (203, NON_AUTHORITATIVE_INFORMATION, "203 Non-Authoritative Information");
    /// 204
    (204, NO_CONTENT, "204 No Content");
    /// 205
    (205, RESET_CONTENT, "205 Reset Content");
    /// 206
    (206, PARTIAL_CONTENT, "206 Partial Content");
    /// 300
    (300, MULTIPLE_CHOICES, "300 Multiple Choices");
    /// 301
    (301, MOVED_PERMANENTLY, "301 Moved Permanently");
    /// 302
    (302, FOUND, "302 Found");
    /// 303
    (303, SEE_OTHER, "303 See Other");
    /// 304
    (304, NOT_MODIFIED, "304 Not Modified");
    /// 307
    (307, TEMPORARY_REDIRECT, "307 Temporary Redirect");
    /// 308
    (308, PERMANENT_REDIRECT, "308 Permanent Redirect");
    /// 400
    (400, BAD_REQUEST, "400 Bad Request");
    /// 401
    (401, UNAUTHORIZED, "401 Unauthorized");
    /// 403
    (403, FORBIDDEN, "403 Forbidden");
    /// 404
    (404, NOT_FOUND, "404 Not Found");
    /// 405
    (405, METHOD_NOT_ALLOWED, "405 Method Not Allowed");
    /// 406
    (406, NOT_ACCEPTABLE, "406 Not Acceptable");
    /// 408
    (408, REQUEST_TIMEOUT, "408 Request Timeout");
    /// 409
    (409, CONFLICT, "409 Conflict");
    /// 410
    (410, GONE, "410 Gone");
    /// 411
    (411, LENGTH_REQUIRED, "411 Length Required");
    /// 412
    (412, PRECONDITION_FAILED, "412 Precondition Failed");
    /// 413
    (413, CONTENT_TOO_LARGE, "413 Content Too Large");
    /// 414
    (414, URI_TOO_LONG, "414 URI Too Long");
    /// 415
    (415, UNSUPPORTED_MEDIA_TYPE, "415 Unsupported Media Type");
    /// 416
    (416, RANGE_NOT_SATISFIABLE, "416 Range Not Satisfiable");
    /// 417
    (417, EXPECTATION_FAILED, "417 Expectation Failed");
    /// 418
    (418, IM_A_TEAPOT, "418 I'm a teapot");
    /// 421
    (421, MISDIRECTED_REQUEST, "421 Misdirected Request");
    /// 422
    (422, UNPROCESSABLE_CONTENT, "422 Unprocessable Content");
    /// 426
    (426, UPGRADE_REQUIRED, "426 Upgrade Required");
    /// 428
    (428, PRECONDITION_REQUIRED, "428 Precondition Required");
    /// 429
    (429, TOO_MANY_REQUESTS, "429 Too Many Requests");
    /// 431
    (431, REQUEST_HEADER_FIELDS_TOO_LARGE, "431 Request Header Fields Too Large");
    /// 451
    (451, UNAVAILABLE_FOR_LEGAL_REASONS, "451 Unavailable For Legal Reasons");
    /// 500
    (500, INTERNAL_SERVER_ERROR, "500 Internal Server Error");
    /// 501
    (501, NOT_IMPLEMENTED, "501 Not Implemented");
    /// 502
    (502, BAD_GATEWAY, "502 Bad Gateway");
    /// 503
    (503, SERVICE_UNAVAILABLE, "503 Service Unavailable");
    /// 504
    (504, GATEWAY_TIMEOUT, "504 Gateway Timeout");
    /// 505
    (505, HTTP_VERSION_NOT_SUPPORTED, "505 HTTP Version Not Supported");
}

/// `"NNN Unknown"` for a code without a standard phrase, built once per code.
fn unknown_line(code: u16) -> &'static str {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static LINES: OnceLock<Mutex<HashMap<u16, &'static str>>> = OnceLock::new();
    let lines = LINES.get_or_init(Default::default);
    let mut lines = lines.lock().unwrap_or_else(|e| e.into_inner());
    lines
        .entry(code)
        .or_insert_with(|| Box::leak(format!("{code} Unknown").into_boxed_str()))
}

impl StatusCode {
    /// The status for `code`, or an error naming it when it is not 100 to 999.
    pub fn from_u16(code: u16) -> Result<StatusCode, InvalidStatusCode> {
        if (100..=999).contains(&code) {
            Ok(StatusCode(code))
        } else {
            Err(InvalidStatusCode(code))
        }
    }

    /// The number.
    pub fn as_u16(self) -> u16 {
        self.0
    }

    /// The reason phrase (`"Not Found"`).
    pub fn reason(self) -> &'static str {
        &self.as_str()[4..]
    }

    /// 1xx.
    pub fn is_informational(self) -> bool {
        (100..200).contains(&self.0)
    }

    /// 2xx.
    pub fn is_success(self) -> bool {
        (200..300).contains(&self.0)
    }

    /// 3xx.
    pub fn is_redirection(self) -> bool {
        (300..400).contains(&self.0)
    }

    /// 4xx.
    pub fn is_client_error(self) -> bool {
        (400..500).contains(&self.0)
    }

    /// 5xx and above.
    pub fn is_server_error(self) -> bool {
        self.0 >= 500
    }
}

impl fmt::Debug for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatusCode({})", self.0)
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<StatusCode> for u16 {
    fn from(status: StatusCode) -> u16 {
        status.0
    }
}

impl TryFrom<u16> for StatusCode {
    type Error = InvalidStatusCode;

    fn try_from(code: u16) -> Result<Self, Self::Error> {
        StatusCode::from_u16(code)
    }
}

#[cfg(test)]
mod tests {
    use super::StatusCode;

    #[test]
    fn every_line_is_a_valid_wsgi_status() {
        for code in 100..=999 {
            let status = StatusCode::from_u16(code).unwrap();
            let line = status.as_str();
            assert_eq!(crate::validate_status(line), Ok(code), "{line}");
            assert!(line.starts_with(&code.to_string()));
        }
        assert_eq!(StatusCode::CONTENT_TOO_LARGE.reason(), "Content Too Large");
    }
}
