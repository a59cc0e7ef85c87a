//! Request heads: httparse for the syntax, RFC 9112 for the framing, one place for errors.
//!
//! httparse parses the request line and the fields. It takes a target of UTF-8 only and the
//! versions 1.0 and 1.1 only, so a head with other bytes above 0x7F in its target, or with
//! `HTTP/1.2` to `HTTP/1.9`, is parsed from a copy that says what httparse accepts, and the
//! target is taken from the original bytes as latin-1 (the common ASCII head pays one
//! `is_ascii` over its request line).
//!
//! # What a server MUST do with a request (RFC 9112, and the RFC 9110 parts it points to)
//!
//! Each row: the requirement, where it is, what gateway does, and the test that shows it
//! (`tests/server_rfc9112.rs` unless named; `server_http` is `tests/server_http.rs`).
//!
//! | requirement | section | gateway | test |
//! |---|---|---|---|
//! | request-line = method SP request-target SP HTTP-version; invalid: 400 | 9112 §3 | httparse; 400 | `field_syntax_errors_400`, `random_targets_always_answered` |
//! | ignore at least one empty line before the request-line | 9112 §2.2 | any number skipped, dropped as they arrive | `server_wedge` (80,000 bytes of them) |
//! | whitespace between start-line and first field: reject or ignore the lines | 9112 §2.2 | 400 | `field_syntax_errors_400` |
//! | a bare CR: invalid, or replaced by SP | 9112 §2.2 | 400 | `field_syntax_errors_400` |
//! | HTTP-version `HTTP/` DIGIT `.` DIGIT; a higher minor of 1 is processed as the highest supported | 9112 §2.3, 9110 §2.5 | `HTTP/1.2`-`1.9` served as 1.1 (SERVER_PROTOCOL as sent); 2.0+: 505; other: 400 | `http_12_is_processed_as_http_11`, `server_http::http2_request_line_505` |
//! | request-target forms: origin; absolute (`http`/`https`, non-empty host, no userinfo); authority only for CONNECT; asterisk only for OPTIONS | 9112 §3.2, 9110 §4.2 | as said; CONNECT: 501; anything else: 400 | `invalid_target_forms_400`, `asterisk_form_only_for_options` |
//! | absolute form: ignore Host, use the target's authority | 9112 §3.2.2 | `HTTP_HOST` is the target's authority | `absolute_form_authority_replaces_host` |
//! | long request-line: 414 | 9112 §3 | over [`Limits::max_request_line`]: 414 | `server_http::http_11_uri_too_long` |
//! | HTTP/1.1 without Host, more than one Host, or an invalid Host value: 400 | 9112 §3.2 | 400 on every version (Host is `uri-host [":" port]`, RFC 3986 §3.2.2) | `invalid_host_400`, `host_repeated_400_on_any_version`, `server_http::http_11_without_host_400` |
//! | no whitespace between field name and colon: 400 | 9112 §5.1 | 400 | `field_syntax_errors_400` |
//! | obs-fold in a request: 400 (or replace with SP) | 9112 §5.2 | 400, in trailers too | `field_syntax_errors_400`, `malformed_chunked_framing_400_before_the_app` |
//! | CR, LF, NUL in a field value: reject (or replace) | 9110 §5.5 | 400 | `field_syntax_errors_400` |
//! | Transfer-Encoding with Content-Length: may reject, then MUST close | 9112 §6.1, §6.3 | 400 and close | `server_http::content_length_with_transfer_encoding_400` |
//! | Transfer-Encoding on HTTP/1.0: faulty framing | 9112 §6.1 | 400 | `tests::bad_heads` |
//! | chunked not the final coding: 400 and close | 9112 §6.3 | 400 (an unknown coding before chunked: 501) | `server_http::transfer_encoding_chunked_gzip_400`, `…gzip_chunked_501` |
//! | chunked applied more than once: invalid | 9112 §6.1 | 400 | `tests::framing_table` |
//! | invalid Content-Length (not digits, differing values): 400 and close | 9112 §6.3, 9110 §8.6 | 400; larger than [`Limits::max_body`]: 413 | `server_http::illegal_request_length_returns_400_response`, `…content_length_over_max_body_413` |
//! | chunked grammar (size, extensions, trailer fields), size overflow | 9112 §7.1 | [`ChunkedDecoder`]: 400; over the body limit: 413 | `malformed_chunked_framing_400_before_the_app`, `…mid_stream_400`, `server_http::post_with_chunked_overflow` |
//! | trailer fields are fields: same syntax | 9112 §7.1.2 | parsed and checked (never put in the environ); invalid: 400 | `malformed_chunked_framing_400_before_the_app` |
//! | a server that closes after an error reads what the client still sends (graceful close) | 9112 §9.6 | write side shut, read and discard for 2 s | `server_wedge` (case 4), `server_http::streaming_after_an_error_is_cut_off` |
//! | no content in a response to HEAD | 9110 §9.3.2 | error responses included | `head_error_responses_have_no_body`, `server_http::head_response_doesnt_send_body` |
//! | 100-continue: send 100 or the final status | 9110 §10.1.1 | 100 when the app first reads the body | `server_http::expect_continue_sends_100` |

use std::borrow::Cow;
use std::fmt;
use std::mem::MaybeUninit;
use std::sync::LazyLock;

use memchr::memmem;

use super::Limits;
use super::chunked::{CHUNK_LINE_LIMIT, ChunkedDecoder};

/// How the request body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// A body of exactly this many bytes (0 when neither header is present).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A parsed request head.
#[derive(Debug)]
pub(crate) struct RequestHead {
    pub(crate) method: Cow<'static, str>,
    /// `HTTP/1.<minor>` (1 for a later minor version, which is processed as 1.1).
    pub(crate) minor: u8,
    /// The minor version the client sent (SERVER_PROTOCOL says it, as the reference does).
    pub(crate) sent_minor: u8,
    /// The form of the request target (RFC 9112 §3.2).
    pub(crate) form: TargetForm,
    /// Header names and values as latin-1 strings, in arrival order.
    pub(crate) headers: Fields,
    pub(crate) framing: Framing,
    /// The connection may carry another request after this one.
    pub(crate) keep_alive: bool,
    /// `Expect: 100-continue` on HTTP/1.1.
    pub(crate) expect_continue: bool,
    /// Bytes the head took in the buffer.
    pub(crate) len: usize,
}

/// The request target and the header fields of a head in one string (latin-1) with their
/// spans, so a request costs no allocation per field; recycled between requests on a
/// connection.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    text: String,
    /// The target's span in `text`.
    target: (usize, usize),
    /// (name start, name end, value start, value end) of each field in `text`.
    spans: Vec<[usize; 4]>,
    /// Where the head's bytes begin in memory when `text` is a copy of the whole head (an
    /// ASCII head, the usual case: one copy instead of one per name and value).
    head: Option<(usize, usize)>,
}

impl Fields {
    /// The memory it holds, in bytes.
    pub(crate) fn bytes(&self) -> usize {
        self.text.capacity() + self.spans.capacity() * std::mem::size_of::<[usize; 4]>()
    }

    /// The request target exactly as sent.
    pub(crate) fn target(&self) -> &str {
        &self.text[self.target.0..self.target.1]
    }

    /// The target's span in [`text`](Fields::text).
    pub(crate) fn target_span(&self) -> std::ops::Range<usize> {
        self.target.0..self.target.1
    }

    /// The text the target and the fields are spans of.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Each field as (name, range of its value in [`text`](Fields::text)), in arrival order.
    pub(crate) fn ranges(&self) -> impl Iterator<Item = (&str, std::ops::Range<usize>)> + '_ {
        self.spans
            .iter()
            .map(|&[name, name_end, value, value_end]| {
                (&self.text[name..name_end], value..value_end)
            })
    }

    /// Where `part` (a slice of the head) sits in `text`, when `text` is the head's copy.
    fn within_head(&self, part: &[u8]) -> Option<(usize, usize)> {
        let (base, len) = self.head?;
        let start = (part.as_ptr() as usize).checked_sub(base)?;
        (start + part.len() <= len).then_some((start, start + part.len()))
    }

    /// Appends `text` (latin-1 bytes) and returns its span.
    fn append(&mut self, bytes: &[u8]) -> (usize, usize) {
        let start = self.text.len();
        if let Ok(ascii) = std::str::from_utf8(bytes)
            && ascii.is_ascii()
        {
            // ASCII is its own latin-1 and UTF-8 form.
            self.text.push_str(ascii);
        } else {
            self.text.extend(bytes.iter().map(|&b| char::from(b)));
        }
        (start, self.text.len())
    }

    fn push(&mut self, name: &str, value: &[u8]) {
        let name = self
            .within_head(name.as_bytes())
            .unwrap_or_else(|| self.append(name.as_bytes()));
        let value = self
            .within_head(value)
            .unwrap_or_else(|| self.append(value));
        self.spans.push([name.0, name.1, value.0, value.1]);
    }

    /// The fields in arrival order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.ranges().map(|(name, value)| (name, &self.text[value]))
    }

    /// An empty set for the head `head` with target `target` (a slice of it), keeping the
    /// allocations of this one.
    fn recycle(mut self, head: &[u8], target: &[u8]) -> Fields {
        self.text.clear();
        self.spans.clear();
        self.head = None;
        if let Ok(text) = std::str::from_utf8(head)
            && text.is_ascii()
        {
            self.text.push_str(text);
            self.head = Some((head.as_ptr() as usize, head.len()));
        }
        self.target = self
            .within_head(target)
            .unwrap_or_else(|| self.append(target));
        self
    }
}

impl RequestHead {
    pub(crate) fn is_head(&self) -> bool {
        self.method == "HEAD"
    }

    /// The request target exactly as sent (latin-1).
    pub(crate) fn target(&self) -> &str {
        self.headers.target()
    }

    /// The request line as sent, for the access log.
    pub(crate) fn request_line(&self) -> String {
        format!("{} {} {}", self.method, self.target(), self.protocol())
    }

    /// The version as the client sent it: `HTTP/1.0` to `HTTP/1.9`.
    pub(crate) fn protocol(&self) -> &'static str {
        const SENT: [&str; 10] = [
            "HTTP/1.0", "HTTP/1.1", "HTTP/1.2", "HTTP/1.3", "HTTP/1.4", "HTTP/1.5", "HTTP/1.6",
            "HTTP/1.7", "HTTP/1.8", "HTTP/1.9",
        ];
        SENT[usize::from(self.sent_minor.min(9))]
    }
}

/// The form of a request target (RFC 9112 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TargetForm {
    /// `/path?query`.
    Origin,
    /// `http://authority/path?query` (or `https`): the authority is this many bytes
    /// after the scheme's `//`.
    Absolute {
        /// Where the authority starts in the target.
        start: usize,
        /// Its length.
        len: usize,
    },
    /// `*`, with `OPTIONS` only.
    Asterisk,
}

/// The form of `target`, or why it cannot be served: an origin server takes the origin form,
/// the absolute form with an `http` or `https` URI, and `*` with `OPTIONS` (RFC 9112 §3.2);
/// `CONNECT` (the authority form) is not implemented.
pub(crate) fn target_form(method: &str, target: &[u8]) -> Result<TargetForm, HttpError> {
    if method == "CONNECT" {
        return Err(HttpError::NotImplemented("CONNECT is not supported"));
    }
    match target {
        [b'/', ..] => Ok(TargetForm::Origin),
        b"*" if method == "OPTIONS" => Ok(TargetForm::Asterisk),
        b"*" => Err(HttpError::BadRequest(
            "the asterisk-form target is only for OPTIONS",
        )),
        _ => {
            let start = [&b"http://"[..], b"https://"]
                .iter()
                .find(|scheme| {
                    target
                        .get(..scheme.len())
                        .is_some_and(|t| t.eq_ignore_ascii_case(scheme))
                })
                .map(|scheme| scheme.len())
                .ok_or(HttpError::BadRequest("invalid request target"))?;
            let rest = &target[start..];
            let len = rest
                .iter()
                .position(|&b| b == b'/' || b == b'?')
                .unwrap_or(rest.len());
            let authority = &rest[..len];
            // RFC 9110 §4.2.1: an http URI with an empty host is invalid; §4.2.4: userinfo
            // is treated as an error.
            if authority.is_empty() || authority.starts_with(b":") || !valid_host(authority) {
                return Err(HttpError::BadRequest(
                    "invalid authority in the request target",
                ));
            }
            Ok(TargetForm::Absolute { start, len })
        }
    }
}

/// A `Host` value (RFC 9110 §7.2: `uri-host [ ":" port ]`, RFC 3986 §3.2.2): empty, or an
/// IP literal in brackets, or a registered name / IPv4 address made of unreserved
/// characters, sub-delims and percent-escapes; then an optional port of digits.
pub(crate) fn valid_host(value: &[u8]) -> bool {
    let port = if let Some(literal) = value.strip_prefix(b"[") {
        let Some(close) = literal.iter().position(|&b| b == b']') else {
            return false;
        };
        let inside = &literal[..close];
        let ok = match inside {
            [b'v' | b'V', future @ ..] => {
                let dot = future.iter().position(|&b| b == b'.');
                dot.is_some_and(|d| {
                    d > 0
                        && future[..d].iter().all(u8::is_ascii_hexdigit)
                        && future.len() > d + 1
                        && future[d + 1..]
                            .iter()
                            .all(|&b| unreserved(b) || sub_delim(b) || b == b':')
                })
            }
            _ => std::str::from_utf8(inside)
                .is_ok_and(|text| text.parse::<std::net::Ipv6Addr>().is_ok()),
        };
        if !ok {
            return false;
        }
        &literal[close + 1..]
    } else {
        // One pass: every byte up to the port's colon must be a host byte (one table
        // lookup); percent-escapes (rare) are checked apart.
        let mut colon = value.len();
        let mut escapes = false;
        for (i, &b) in value.iter().enumerate() {
            if b == b':' {
                colon = i;
                break;
            }
            if !HOST_BYTES[usize::from(b)] {
                return false;
            }
            escapes |= b == b'%';
        }
        let host = &value[..colon];
        if escapes
            && !host
                .split(|&b| b == b'%')
                .skip(1)
                .all(|after| after.len() >= 2 && after[..2].iter().all(u8::is_ascii_hexdigit))
        {
            return false;
        }
        &value[colon..]
    };
    match port {
        [] => true,
        [b':', digits @ ..] => digits.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

/// The bytes of a reg-name or IPv4 address: unreserved, sub-delims and `%` (RFC 3986 §3.2.2).
const HOST_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = unreserved(byte) || sub_delim(byte) || byte == b'%';
        b += 1;
    }
    table
};

const fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

const fn sub_delim(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

/// A copy of `head` whose request line (`line_len` bytes) httparse accepts: bytes above 0x7F
/// in the target (between the first and the last space) become `x`, and a version
/// `HTTP/1.2` to `HTTP/1.9` becomes `HTTP/1.1`. Returns the copy and, when the version was
/// changed, the minor version sent. Everything else is left for httparse to judge.
fn patch_request_line(head: &[u8], line_len: usize) -> (Vec<u8>, Option<u8>) {
    let mut copy = head.to_vec();
    let line = &mut copy[..line_len];
    let mut minor = None;
    if let (Some(first), Some(last)) = (
        line.iter().position(|&b| b == b' '),
        line.iter().rposition(|&b| b == b' '),
    ) && first < last
    {
        for b in &mut line[first + 1..last] {
            if *b >= 0x80 {
                *b = b'x';
            }
        }
        if let [b'H', b'T', b'T', b'P', b'/', b'1', b'.', sent] = &mut line[last + 1..]
            && (b'2'..=b'9').contains(sent)
        {
            minor = Some(*sent - b'0');
            *sent = b'1';
        }
    }
    (copy, minor)
}

/// A request that cannot be served; each maps to one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HttpError {
    /// Malformed syntax or ambiguous framing (smuggling): 400 and close.
    BadRequest(&'static str),
    /// The request line is over [`Limits::max_request_line`]: 414.
    UriTooLong,
    /// The head is over [`Limits::max_header_bytes`] or has more than
    /// [`Limits::max_headers`] fields: 431.
    HeadersTooLarge(&'static str),
    /// The body announces more than [`Limits::max_body`]: 413.
    PayloadTooLarge,
    /// The head did not arrive within the header-read deadline: 408.
    Timeout,
    /// A transfer coding we do not implement: 501.
    NotImplemented(&'static str),
    /// HTTP/2 or later on an HTTP/1 connection: 505.
    VersionNotSupported,
}

impl HttpError {
    /// The status line's text (the one place parse errors become statuses).
    pub(crate) fn status(&self) -> &'static str {
        match self {
            HttpError::BadRequest(_) => "400 Bad Request",
            HttpError::UriTooLong => "414 URI Too Long",
            HttpError::HeadersTooLarge(_) => "431 Request Header Fields Too Large",
            HttpError::PayloadTooLarge => "413 Content Too Large",
            HttpError::Timeout => "408 Request Timeout",
            HttpError::NotImplemented(_) => "501 Not Implemented",
            HttpError::VersionNotSupported => "505 HTTP Version Not Supported",
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::BadRequest(why)
            | HttpError::HeadersTooLarge(why)
            | HttpError::NotImplemented(why) => write!(f, "{}: {why}", self.status()),
            _ => f.write_str(self.status()),
        }
    }
}

/// Header slots kept on the stack while parsing (enough for the default limit of 100).
const STACK_HEADERS: usize = 128;

/// `Ok(None)` while the head is incomplete.
pub(crate) type ParseResult = Result<Option<RequestHead>, HttpError>;

/// Finds the end of the head (after the blank line), tolerating bare LF line ends: the first
/// newline followed by CRLF or by LF.
///
/// A short buffer is searched newline by newline. A longer one (a browser's head has a dozen
/// lines, and each newline search has a start-up cost) takes two vectorised substring
/// searches: `\n\r\n`, then `\n\n` before it (callgrind: about 1,000 fewer instructions
/// for a 700-byte head, and 250 more for a 40-byte one, hence the two ways).
///
/// Only the first `max` bytes are searched (the most a head may take): a head that ends later
/// is rejected by the callers from the buffer's length, and the bytes after a head (a body, or
/// pipelined requests) are not scanned for a `\n\r\n` that a bare-LF head does not have.
#[inline]
fn head_end(buf: &[u8], max: usize) -> Option<usize> {
    let buf = &buf[..buf.len().min(max)];
    if buf.len() >= SHORT_HEAD {
        return long_head_end(buf);
    }
    memchr::memchr_iter(b'\n', buf).find_map(|nl| {
        let rest = &buf[nl + 1..];
        if rest.starts_with(b"\r\n") {
            Some(nl + 3)
        } else if rest.starts_with(b"\n") {
            Some(nl + 2)
        } else {
            None
        }
    })
}

/// [`head_end`] of a buffer of at least [`SHORT_HEAD`] bytes (kept out of line, so the
/// short search inlines where it is called).
#[inline(never)]
fn long_head_end(buf: &[u8]) -> Option<usize> {
    static CRLF: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new(b"\n\r\n"));
    static LF: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(b"\n\n"));
    match CRLF.find(buf) {
        // A bare-LF blank line ends the head first if its newline comes earlier.
        Some(nl) => Some(LF.find(&buf[..=nl]).map_or(nl + 3, |lf| lf + 2)),
        None => LF.find(buf).map(|lf| lf + 2),
    }
}

/// Below this many bytes, [`head_end`] searches newline by newline.
const SHORT_HEAD: usize = 128;

/// True when the request at the start of `buf` is a `HEAD` (its error responses carry no
/// body), judged from its first bytes before the head is parsed.
pub(crate) fn is_head_request(buf: &[u8]) -> bool {
    buf[leading_empty_lines(buf)..].starts_with(b"HEAD ")
}

/// How far a request has arrived in a connection's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// Not a whole head yet, and no limit passed.
    Partial,
    /// A whole head whose small body (see [`BUFFERED_BODY`]) is still coming: the head and
    /// body take this many bytes from the start of the buffer.
    Body(usize),
    /// A whole request (or enough to reject it): a worker can take it. `head_end` is where
    /// its head ends, counted after the leading empty lines (`None` when the limits reject
    /// it), for [`parse_into`], which then need not look for it again.
    Ready { head_end: Option<usize> },
}

/// Where the request starts: after the empty lines a client may send first (RFC 9112 §2.2).
pub(crate) fn leading_empty_lines(buf: &[u8]) -> usize {
    buf.iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(buf.len())
}

/// How far the request at the start of `buf` has arrived (one scan of the head).
pub(crate) fn arrival(buf: &[u8], limits: &Limits) -> Arrival {
    let start = leading_empty_lines(buf);
    let head = &buf[start..];
    let Some(end) = head_end(head, limits.max_header_bytes) else {
        let over = head.len() > limits.max_header_bytes
            || memchr::memchr(b'\n', head).is_none() && head.len() > limits.max_request_line;
        return if over {
            Arrival::Ready { head_end: None }
        } else {
            Arrival::Partial
        };
    };
    let body_at = start + end;
    match body_to_await(&head[..end], limits) {
        Some(Awaited::Length(length)) if buf.len() < body_at + length => {
            Arrival::Body(body_at + length)
        }
        Some(Awaited::Chunked) => {
            let window = body_at + CHUNKED_WINDOW;
            let body = &buf[body_at..];
            match ChunkedDecoder::new(limits.max_body).check(body) {
                // More to come, and it may still fit the window: keep waiting.
                Ok(None) if buf.len() < window => Arrival::Body(window),
                // Whole, bad (the worker answers 400 before the app runs), or too big to
                // wait for (the app streams it).
                _ => Arrival::Ready {
                    head_end: Some(end),
                },
            }
        }
        _ => Arrival::Ready {
            head_end: Some(end),
        },
    }
}

/// True once `buf` holds a whole head (or enough to reject it), so a worker can take it.
pub(crate) fn head_ready(buf: &[u8], limits: &Limits) -> bool {
    arrival(buf, limits) != Arrival::Partial
}

/// Request bodies up to this size (announced by `Content-Length`) are buffered while the
/// connection is parked, before a worker takes the request: a client sending a small body
/// slowly costs a buffer, not a thread.
pub(crate) const BUFFERED_BODY: u64 = 64 * 1024;

/// The most bytes of a chunked body (data and framing) awaited while the connection is
/// parked: a chunked body that ends within them is checked whole before the app runs.
pub(crate) const CHUNKED_WINDOW: usize = BUFFERED_BODY as usize + CHUNK_LINE_LIMIT;

/// A body to await before a worker takes the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Awaited {
    /// This many bytes (a `Content-Length` of at most [`BUFFERED_BODY`]).
    Length(usize),
    /// A chunked body, up to [`CHUNKED_WINDOW`] bytes.
    Chunked,
}

/// The body a whole `head` announces, when it is one to await before a worker takes the
/// request: at most [`BUFFERED_BODY`] bytes by `Content-Length`, or `chunked` alone. `None`
/// whenever the head is one the parser must judge (no or several differing lengths, a
/// malformed one, another coding, both headers) or the client may be waiting for
/// `100 Continue` (`Expect`). `GET` and `HEAD` are not examined: their bodies are rare (and
/// are still checked as the app reads them).
fn body_to_await(head: &[u8], limits: &Limits) -> Option<Awaited> {
    if head.starts_with(b"GET ") || head.starts_with(b"HEAD ") {
        return None;
    }
    let mut length = None;
    let mut chunked = false;
    for line in head.split(|&b| b == b'\n').skip(1) {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.eq_ignore_ascii_case(b"content-length") {
            let n = parse_length(trim(value))?;
            if length.is_some_and(|l| l != n) {
                return None;
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            if chunked || !trim(value).eq_ignore_ascii_case(b"chunked") {
                return None;
            }
            chunked = true;
        } else if name.eq_ignore_ascii_case(b"expect") {
            return None;
        }
    }
    match (length, chunked) {
        (None, true) => Some(Awaited::Chunked),
        (Some(_), true) => None,
        (length, false) => {
            let length = length.filter(|&n| n > 0 && n <= BUFFERED_BODY && n <= limits.max_body)?;
            usize::try_from(length).ok().map(Awaited::Length)
        }
    }
}

/// The bytes a request whose small body is still coming takes (see [`Arrival::Body`]).
#[cfg(test)]
fn awaited_body(buf: &[u8], limits: &Limits) -> Option<usize> {
    match arrival(buf, limits) {
        Arrival::Body(total) => Some(total),
        _ => None,
    }
}

/// Parses a request head from the start of `buf`.
///
/// Rules applied, in order (RFC 9112; the table in the module docs has them all):
/// - leading empty lines are skipped (§2.2); a request line longer than the limit is 414;
///   a head longer than the limit, or with too many fields, is 431;
/// - httparse rejects bad tokens, control characters in the target or header values,
///   whitespace before a colon and obs-fold continuation lines (§5.1, §5.2): 400;
/// - a version other than HTTP/1.x: 505 for 2.0 and later, else 400; 1.2 to 1.9 are 1.1;
/// - the target's form (§3.2): origin, absolute (`http`/`https` with a valid authority), or
///   `*` with `OPTIONS`: else 400; `CONNECT`: 501;
/// - HTTP/1.1 needs a `Host`, no request may have two, each must be valid (§3.2): 400;
/// - `Transfer-Encoding` with `Content-Length`, on HTTP/1.0, or not ending in one
///   `chunked`: 400; any other coding before `chunked`: 501 (§6.1, §6.3);
/// - `Content-Length` values must all be the same decimal number (§6.3): 400; more than
///   the body limit: 413.
#[cfg(test)]
pub(crate) fn parse(buf: &[u8], limits: &Limits) -> ParseResult {
    parse_into(buf, limits, Fields::default(), None)
}

/// [`parse`], storing the header fields in `fields` (recycled from an earlier request).
/// `known_end` is where the head ends after the leading empty lines, when [`arrival`] just
/// found it in these same bytes ([`Arrival::Ready`]); `None` to look for it here.
pub(crate) fn parse_into(
    buf: &[u8],
    limits: &Limits,
    fields: Fields,
    known_end: Option<usize>,
) -> ParseResult {
    let start = leading_empty_lines(buf);
    let buf = &buf[start..];
    let line_end = match memchr::memchr(b'\n', buf) {
        None if buf.len() > limits.max_request_line => return Err(HttpError::UriTooLong),
        None => return Ok(None),
        Some(line_end) if line_end > limits.max_request_line => return Err(HttpError::UriTooLong),
        Some(line_end) => line_end,
    };
    debug_assert!(
        known_end.is_none() || known_end == head_end(buf, limits.max_header_bytes),
        "a head end from other bytes"
    );
    let Some(end) = known_end.or_else(|| head_end(buf, limits.max_header_bytes)) else {
        return if buf.len() > limits.max_header_bytes {
            Err(HttpError::HeadersTooLarge("header section too large"))
        } else {
            Ok(None)
        };
    };
    if end > limits.max_header_bytes {
        return Err(HttpError::HeadersTooLarge("header section too large"));
    }

    // Header slots live on the stack for the default limit (uninitialised: httparse fills
    // only what it parses, instead of 4 KiB being zeroed per request); a larger limit
    // allocates.
    let mut stack = [MaybeUninit::<httparse::Header<'_>>::uninit(); STACK_HEADERS];
    let mut heap = Vec::new();
    let slots: &mut [MaybeUninit<httparse::Header<'_>>] = if limits.max_headers <= STACK_HEADERS {
        &mut stack[..limits.max_headers]
    } else {
        heap.resize(limits.max_headers, MaybeUninit::uninit());
        &mut heap
    };
    // httparse takes a target of UTF-8 only and versions 1.0 and 1.1 only; a head with any
    // other byte above 0x7F in its target, or a later HTTP/1.x, is parsed from a copy that
    // says what httparse accepts, and the target is then taken from the original bytes.
    let patched;
    let line = &buf[..line_end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let (parsed, minor_sent) =
        if line.is_ascii() && (line.ends_with(b" HTTP/1.1") || line.ends_with(b" HTTP/1.0")) {
            (&buf[..end], None)
        } else {
            let (copy, minor) = patch_request_line(&buf[..end], line.len());
            patched = copy;
            (&patched[..], minor)
        };
    let mut req = httparse::Request::new(&mut []);
    let status = req.parse_with_uninit_headers(parsed, slots);
    let status = status.map_err(|e| match e {
        httparse::Error::TooManyHeaders => HttpError::HeadersTooLarge("too many header fields"),
        httparse::Error::Version => version_error(buf),
        httparse::Error::HeaderName => HttpError::BadRequest("invalid header name"),
        httparse::Error::HeaderValue => HttpError::BadRequest("invalid header value"),
        httparse::Error::Token => HttpError::BadRequest("invalid method or request target"),
        httparse::Error::NewLine => HttpError::BadRequest("invalid line ending"),
        _ => HttpError::BadRequest("malformed request head"),
    })?;
    if status.is_partial() {
        return Err(HttpError::BadRequest("malformed request head"));
    }
    let method = method_name(req.method.unwrap_or_default());
    let target = req.path.unwrap_or_default().as_bytes();
    // The same bytes in the original head (they differ from the copy's where it was patched).
    let target_at = target.as_ptr() as usize - parsed.as_ptr() as usize;
    let target = &buf[target_at..target_at + target.len()];
    let minor = req.version.unwrap_or(1);
    // A later HTTP/1.x is processed as HTTP/1.1, the highest minor version we implement
    // (RFC 9110 §2.5).
    let sent_minor = minor_sent.unwrap_or(minor);

    let form = target_form(&method, target)?;
    let mut headers = fields.recycle(parsed, target);
    let mut lengths: Vec<&[u8]> = Vec::new();
    let mut codings: Vec<&[u8]> = Vec::new();
    let (mut hosts, mut close, mut keep_alive_token, mut expect_continue) =
        (0, false, false, false);
    for h in req.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case("content-length") {
            lengths.push(h.value);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            codings.push(h.value);
        } else if name.eq_ignore_ascii_case("host") {
            hosts += 1;
            if !valid_host(trim(h.value)) {
                return Err(HttpError::BadRequest("invalid Host header"));
            }
        } else if name.eq_ignore_ascii_case("connection") {
            for token in list_tokens(h.value) {
                close |= token.eq_ignore_ascii_case(b"close");
                keep_alive_token |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name.eq_ignore_ascii_case("expect") {
            expect_continue |= trim(h.value).eq_ignore_ascii_case(b"100-continue");
        }
        headers.push(name, trim(h.value));
    }

    // RFC 9112 §3.2: HTTP/1.1 needs a Host; no request may have two.
    if hosts > 1 {
        return Err(HttpError::BadRequest("more than one Host header"));
    }
    if minor == 1 && hosts == 0 {
        return Err(HttpError::BadRequest("HTTP/1.1 request without Host"));
    }

    let framing = if !codings.is_empty() {
        if !lengths.is_empty() {
            return Err(HttpError::BadRequest(
                "both Content-Length and Transfer-Encoding",
            ));
        }
        if minor == 0 {
            return Err(HttpError::BadRequest(
                "Transfer-Encoding in an HTTP/1.0 request",
            ));
        }
        let all: Vec<&[u8]> = codings.iter().flat_map(|v| list_tokens(v)).collect();
        match all.split_last() {
            Some((last, before)) if last.eq_ignore_ascii_case(b"chunked") => {
                if before.iter().any(|c| c.eq_ignore_ascii_case(b"chunked")) {
                    return Err(HttpError::BadRequest("chunked applied more than once"));
                }
                if !before.is_empty() {
                    return Err(HttpError::NotImplemented("unsupported transfer coding"));
                }
                Framing::Chunked
            }
            _ => {
                return Err(HttpError::BadRequest(
                    "Transfer-Encoding must end with chunked",
                ));
            }
        }
    } else if !lengths.is_empty() {
        let mut value = None;
        for raw in lengths.iter().flat_map(|v| v.split(|&b| b == b',')) {
            let parsed =
                parse_length(trim(raw)).ok_or(HttpError::BadRequest("invalid Content-Length"))?;
            if value.is_some_and(|v| v != parsed) {
                return Err(HttpError::BadRequest("differing Content-Length values"));
            }
            value = Some(parsed);
        }
        let length = value.unwrap_or(0);
        if length > limits.max_body {
            return Err(HttpError::PayloadTooLarge);
        }
        Framing::Length(length)
    } else {
        Framing::Length(0)
    };

    let keep_alive = if minor == 1 {
        !close
    } else {
        keep_alive_token && !close
    };
    Ok(Some(RequestHead {
        method,
        minor,
        sent_minor,
        form,
        headers,
        framing,
        keep_alive,
        expect_continue: expect_continue && minor == 1,
        len: start + end,
    }))
}

/// The method, without an allocation for the common ones.
fn method_name(method: &str) -> Cow<'static, str> {
    const COMMON: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT",
    ];
    match COMMON.iter().find(|m| **m == method) {
        Some(m) => Cow::Borrowed(m),
        None => Cow::Owned(method.to_owned()),
    }
}

/// httparse only knows HTTP/1.x: a well-formed `HTTP/2.0` or later is 505, anything else 400.
fn version_error(buf: &[u8]) -> HttpError {
    let line = buf.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let version = line.rsplit(|&b| b == b' ').next().unwrap_or_default();
    match version.strip_prefix(b"HTTP/") {
        Some([major, b'.', minor])
            if major.is_ascii_digit() && minor.is_ascii_digit() && *major >= b'2' =>
        {
            HttpError::VersionNotSupported
        }
        _ => HttpError::BadRequest("invalid HTTP version"),
    }
}

/// A Content-Length value: one or more ASCII digits, nothing else, no overflow.
fn parse_length(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    value.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

fn trim(value: &[u8]) -> &[u8] {
    let start = value
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &value[start..end]
}

/// The non-empty, trimmed elements of a comma-separated header value.
fn list_tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim)
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    /// The first newline followed by CRLF or LF, one byte at a time: what `head_end`'s
    /// vectorised newline search must agree with.
    fn head_end_by_lines(buf: &[u8]) -> Option<usize> {
        let mut i = 0;
        while let Some(pos) = buf[i..].iter().position(|&b| b == b'\n') {
            let nl = i + pos;
            let rest = &buf[nl + 1..];
            if rest.starts_with(b"\r\n") {
                return Some(nl + 3);
            }
            if rest.starts_with(b"\n") {
                return Some(nl + 2);
            }
            i = nl + 1;
        }
        None
    }

    #[test]
    fn head_end_agrees_with_a_line_by_line_scan() {
        // Every string over a small alphabet up to length 7, and long pseudo-random ones.
        let alphabet = [b'a', b'\r', b'\n', b':'];
        let mut all = vec![Vec::new()];
        for _ in 0..7 {
            let longer: Vec<Vec<u8>> = all
                .iter()
                .filter(|s| s.len() == all.last().map_or(0, Vec::len))
                .flat_map(|s| {
                    alphabet.iter().map(move |&b| {
                        let mut t = s.clone();
                        t.push(b);
                        t
                    })
                })
                .collect();
            all.extend(longer);
        }
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..2000 {
            let len = (seed % 200) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    [b'x', b'x', b'x', b'\r', b'\n', b' '][(seed % 6) as usize]
                })
                .collect();
            all.push(text);
        }
        // Heads around and above `SHORT_HEAD` (the vectorised search): lines of a field,
        // then each kind of blank line, or none, and sometimes another kind after it.
        let ends: [&[u8]; 5] = [b"\r\n\r\n", b"\n\n", b"\n\r\n", b"\r\n\n", b""];
        for len in (SHORT_HEAD - 40..SHORT_HEAD + 40).chain([300, 700]) {
            for first in ends {
                for second in ends {
                    let mut text = b"GET / HTTP/1.1\r\n".to_vec();
                    while text.len() < len {
                        text.extend_from_slice(if text.len().is_multiple_of(3) {
                            b"A: b\n"
                        } else {
                            b"A: b\r\n"
                        });
                    }
                    text.extend_from_slice(first);
                    text.extend_from_slice(b"body");
                    text.extend_from_slice(second);
                    all.push(text);
                }
            }
        }
        for text in &all {
            assert_eq!(
                head_end(text, usize::MAX),
                head_end_by_lines(text),
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn head_end_looks_no_further_than_a_head_may_reach() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nbody";
        assert_eq!(head_end(head, usize::MAX), Some(27));
        assert_eq!(head_end(head, 27), Some(27));
        assert_eq!(head_end(head, 26), None);
        // A long head (the substring search), ending in bare LF, before a body.
        let mut long = b"GET / HTTP/1.1\n".to_vec();
        long.extend(std::iter::repeat_n(b"A: b\n".as_slice(), 30).flatten());
        long.extend_from_slice(b"\nbody\n\r\n");
        let end = long.len() - 7;
        assert_eq!(head_end(&long, usize::MAX), Some(end));
        assert_eq!(head_end(&long, end), Some(end));
        assert_eq!(head_end(&long, end - 1), None);
        // Too large a head is still refused for its size.
        let limits = Limits {
            max_header_bytes: end - 1,
            ..limits()
        };
        assert!(matches!(
            parse(&long, &limits),
            Err(HttpError::HeadersTooLarge(_))
        ));
    }

    fn ok(raw: &str) -> RequestHead {
        parse(raw.as_bytes(), &limits())
            .expect("valid")
            .expect("complete")
    }

    fn err(raw: &str) -> HttpError {
        parse(raw.as_bytes(), &limits()).expect_err(raw)
    }

    #[test]
    fn awaited_bodies() {
        use super::awaited_body;
        let limits = limits();
        let post = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n";
        assert_eq!(awaited_body(post.as_bytes(), &limits), Some(post.len() + 5));
        let partial = format!("\r\n{post}ab");
        assert_eq!(
            awaited_body(partial.as_bytes(), &limits),
            Some(post.len() + 7)
        );
        let whole = format!("{post}abcde");
        assert_eq!(awaited_body(whole.as_bytes(), &limits), None);
        let cases = [
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n",
        ];
        for head in cases {
            assert_eq!(awaited_body(head.as_bytes(), &limits), None, "{head:?}");
        }
        // Chunked bodies are awaited (up to the window) until they end or turn out bad.
        let chunked = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        let window = Some(chunked.len() + CHUNKED_WINDOW);
        for body in ["", "3\r\nab", "3\r\nabc\r\n0\r\n", "0\r\nX: y\r\n"] {
            let request = format!("{chunked}{body}");
            assert_eq!(
                awaited_body(request.as_bytes(), &limits),
                window,
                "{body:?}"
            );
        }
        for body in ["0\r\n\r\n", "3\r\nabcd", "x\r\n", "0\r\nGET / HTTP/1.1\r\n"] {
            let request = format!("{chunked}{body}");
            assert_eq!(awaited_body(request.as_bytes(), &limits), None, "{body:?}");
        }
        let expect = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\
                      Expect: 100-continue\r\n\r\n";
        assert_eq!(awaited_body(expect.as_bytes(), &limits), None);
    }

    #[test]
    fn simple_get() {
        let head = ok("GET /a?b HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(
            (&*head.method, head.target(), head.minor),
            ("GET", "/a?b", 1)
        );
        assert_eq!(head.framing, Framing::Length(0));
        assert!(head.keep_alive);
    }

    #[test]
    fn partial_at_every_offset() {
        let raw = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n";
        for cut in 0..raw.len() {
            assert!(
                parse(&raw[..cut], &limits()).unwrap().is_none(),
                "cut at {cut}"
            );
        }
        assert_eq!(parse(raw, &limits()).unwrap().unwrap().len, raw.len());
    }

    #[test]
    fn framing_table() {
        let cases: &[(&str, Result<Framing, &str>)] = &[
            ("Content-Length: 5", Ok(Framing::Length(5))),
            (
                "Content-Length: 5\r\nContent-Length: 5",
                Ok(Framing::Length(5)),
            ),
            ("Content-Length: 5, 5", Ok(Framing::Length(5))),
            ("Transfer-Encoding: chunked", Ok(Framing::Chunked)),
            ("Transfer-Encoding: CHUNKED", Ok(Framing::Chunked)),
            ("Content-Length: 5\r\nContent-Length: 6", Err("400")),
            ("Content-Length: 5, 6", Err("400")),
            ("Content-Length: -1", Err("400")),
            ("Content-Length: +5", Err("400")),
            ("Content-Length: 0x10", Err("400")),
            ("Content-Length: 99999999999999999999999", Err("400")),
            (
                "Content-Length: 3\r\nTransfer-Encoding: chunked",
                Err("400"),
            ),
            ("Transfer-Encoding: chunked, identity", Err("400")),
            (
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
                Err("400"),
            ),
            ("Transfer-Encoding: gzip, chunked", Err("501")),
            ("Transfer-Encoding: gzip", Err("400")),
        ];
        for (headers, expected) in cases {
            let raw = format!("POST / HTTP/1.1\r\nHost: x\r\n{headers}\r\n\r\n");
            match (parse(raw.as_bytes(), &limits()), expected) {
                (Ok(Some(head)), Ok(framing)) => assert_eq!(head.framing, *framing, "{headers}"),
                (Err(e), Err(code)) => assert!(e.status().starts_with(code), "{headers}: {e}"),
                (got, _) => panic!("{headers}: unexpected {got:?}"),
            }
        }
    }

    #[test]
    fn bad_heads() {
        let cases: &[(&str, &str)] = &[
            ("GET / HTTP/1.1\r\n\r\n", "400"),
            ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "400"),
            ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", "505"),
            ("GET / HTTP/3.0\r\n\r\n", "505"),
            ("GET / HTTP/x.y\r\n\r\n", "400"),
            ("GET / HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n\r\n", "400"),
            (
                "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n folded\r\n\r\n",
                "400",
            ),
            ("GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n", "400"),
            ("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x00b\r\n\r\n", "400"),
            (
                "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
                "400",
            ),
            ("G@T / HTTP/1.1\r\nHost: a\r\n\r\n", "400"),
        ];
        for (raw, code) in cases {
            let e = err(raw);
            assert!(e.status().starts_with(code), "{raw:?}: {e}");
        }
    }

    #[test]
    fn limits_give_414_and_431() {
        let long = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(9000));
        assert_eq!(err(&long), HttpError::UriTooLong);
        let no_newline_yet = format!("GET /{}", "a".repeat(9000));
        assert_eq!(err(&no_newline_yet), HttpError::UriTooLong);
        let many: String = (0..101).map(|i| format!("X-{i}: v\r\n")).collect();
        let raw = format!("GET / HTTP/1.1\r\nHost: a\r\n{many}\r\n");
        assert!(matches!(err(&raw), HttpError::HeadersTooLarge(_)));
        let big = format!(
            "GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n",
            "v".repeat(70_000)
        );
        assert!(matches!(err(&big), HttpError::HeadersTooLarge(_)));
    }

    #[test]
    fn keep_alive_rules() {
        assert!(ok("GET / HTTP/1.1\r\nHost: a\r\n\r\n").keep_alive);
        assert!(!ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").keep_alive);
        assert!(!ok("GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(ok("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
        assert!(ok("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n").expect_continue);
        assert!(!ok("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expect_continue);
    }

    #[test]
    fn leading_blank_lines_are_skipped() {
        let head = ok("\r\n\r\nGET / HTTP/1.0\r\n\r\n");
        assert_eq!(head.len, "\r\n\r\nGET / HTTP/1.0\r\n\r\n".len());
    }
}
