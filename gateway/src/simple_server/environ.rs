//! Building the request environ, as `WSGIRequestHandler.get_environ` does (PEP 3333,
//! "environ Variables"), with gateway's deliberate differences.

use std::net::SocketAddr;
use std::sync::Arc;

use super::request::{Framing, RequestHead, TargetForm};
use crate::environ::VarsPrefix;
use crate::{Environ, latin1};

/// Percent-decodes a path: each valid `%XX` becomes the byte XX, invalid escapes stay as
/// they are, `+` stays `+`; the bytes are then read as latin-1 ("bytes in unicode").
pub(crate) fn decode_path(path: &str) -> String {
    if !path.contains('%') {
        return path.to_owned();
    }
    let bytes = latin1::encode(path).unwrap_or_else(|_| path.as_bytes().to_vec());
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    latin1::decode(&out)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The path and query part of a request target: origin-form as is (with the reference's
/// collapse of leading `//` to `/`), absolute-form without scheme and authority, `*` as is.
/// Only ASCII bytes are looked for, so a cut never falls inside a character.
fn target_path(target: &str, form: TargetForm) -> &str {
    let target = match form {
        TargetForm::Absolute { start, len } => &target[start + len..],
        TargetForm::Origin | TargetForm::Asterisk => target,
    };
    if target.starts_with("//") {
        // Keep one slash: `//a//b` → `/a//b`.
        let trimmed = target.trim_start_matches('/');
        &target[target.len() - trimmed.len() - 1..]
    } else {
        target
    }
}

/// The environ of one request.
///
/// - `base` holds the server's variables but `CONTENT_LENGTH`, which comes last (`SERVER_NAME`, `SERVER_PORT`,
///   `GATEWAY_INTERFACE`, `SCRIPT_NAME`, ...);
/// - `SERVER_PROTOCOL`, `REQUEST_METHOD`, `REQUEST_URI` (the raw target) are as sent;
/// - the target is split at the first `?`: `PATH_INFO` is the percent-decoded path as
///   latin-1, `QUERY_STRING` the raw rest;
/// - `REMOTE_ADDR` and `REMOTE_PORT` are the peer's;
/// - `CONTENT_TYPE` and `CONTENT_LENGTH` come from their headers unprefixed (a chunked body
///   has an empty `CONTENT_LENGTH`); other headers become `HTTP_*` (dashes to underscores,
///   upper case), repeated ones joined with `,`; a header whose key would collide with a CGI
///   variable is ignored;
/// - header names containing `_` are dropped unless `keep_underscores` (they could spoof a
///   dashed header a proxy set); the process environment is never copied in.
pub(crate) fn build_environ(
    head: &RequestHead,
    base: &VarsPrefix,
    peer: &Peer,
    keep_underscores: bool,
    storage: crate::environ::VarStorage,
) -> Environ {
    // Every name pushed here is distinct, so the environ is built without lookups.
    let mut env = Environ::with_storage(storage);
    env.push_prefix(base);
    env.push_var("SERVER_PROTOCOL", head.protocol());
    env.push_var("REQUEST_METHOD", &head.method);
    // The target and every header value are spans of one copy of the head's text in the
    // environ: no allocation per variable.
    let at = env.append_text(head.headers.text());
    let span = |range: std::ops::Range<usize>| at + range.start..at + range.end;
    let raw_target = head.target();
    let target_at = head.headers.target_span();
    env.push_span("REQUEST_URI", span(target_at.clone()));
    let target = target_path(raw_target, head.form);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    // Only an absolute-form target (`http://host?q`) has an empty path: RFC 9112 §3.2.2
    // reads it as "/".
    let path = if path.is_empty() { "/" } else { path };
    match offset_in(raw_target, path) {
        _ if path.contains('%') => env.push_var("PATH_INFO", &decode_path(path)),
        Some(start) => {
            let start = target_at.start + start;
            env.push_span("PATH_INFO", span(start..start + path.len()));
        }
        // Not part of the target (an absolute-form target without a path reads as "/").
        None => env.push_var("PATH_INFO", path),
    }
    match offset_in(raw_target, query) {
        Some(start) if !query.is_empty() => {
            let start = target_at.start + start;
            env.push_span("QUERY_STRING", span(start..start + query.len()));
        }
        _ => env.push_var("QUERY_STRING", query),
    }
    env.push_var("REMOTE_ADDR", &peer.addr);
    env.push_var("REMOTE_PORT", &peer.port);

    let mut content_type = None;
    let mut content_length = None;
    let fields_start = env.len();
    let absolute = match head.form {
        TargetForm::Absolute { start, len } => {
            // RFC 9112 §3.2.2: with an absolute-form target the Host field is ignored and
            // the target's authority is the host.
            let start = target_at.start + start;
            env.push_span("HTTP_HOST", span(start..start + len));
            true
        }
        TargetForm::Origin | TargetForm::Asterisk => false,
    };
    for (name, value) in head.headers.ranges() {
        if name.eq_ignore_ascii_case("content-type") {
            content_type.get_or_insert(value);
            continue;
        }
        if name.eq_ignore_ascii_case("content-length") {
            content_length.get_or_insert(());
            continue;
        }
        if name.contains('_') && !keep_underscores || absolute && name.eq_ignore_ascii_case("host")
        {
            continue;
        }
        let value = span(value);
        match common_key(name) {
            Some(key) => env.push_or_join(fields_start, |text| text.push_str(key), value),
            // A header whose name turns into a CGI variable's is ignored, as the reference
            // does (no common header's does).
            None if CGI_NAMES.iter().any(|cgi| same_key(cgi, name)) => {}
            // So is one whose name, less `Http-`, is an earlier header's (`X` then
            // `Http-X`): the reference skips any header whose key is already in the environ.
            None if is_http_prefixed(name)
                && env.get(&crate::environ::header_key(name)).is_some() => {}
            None => env.push_or_join(fields_start, |text| push_key(text, name), value),
        }
    }
    match content_type {
        Some(value) => env.push_span("CONTENT_TYPE", span(value)),
        None => env.push_var("CONTENT_TYPE", "text/plain"),
    }
    match head.framing {
        Framing::Length(n) if content_length.is_some() => {
            let mut digits = [0; 20];
            env.push_var("CONTENT_LENGTH", super::handler::decimal(n, &mut digits));
        }
        _ => env.push_var("CONTENT_LENGTH", ""),
    }
    env.set_input_terminated(true);
    env
}

/// The CGI variables a request environ has before its headers are added: a header whose key
/// would be one of these is dropped.
pub(crate) const CGI_NAMES: [&str; 15] = [
    "SERVER_NAME",
    "GATEWAY_INTERFACE",
    "SERVER_PORT",
    "REMOTE_HOST",
    "CONTENT_LENGTH",
    "SCRIPT_NAME",
    "SERVER_PROTOCOL",
    "SERVER_SOFTWARE",
    "REQUEST_METHOD",
    "REQUEST_URI",
    "PATH_INFO",
    "QUERY_STRING",
    "REMOTE_ADDR",
    "REMOTE_PORT",
    "CONTENT_TYPE",
];

/// Where `part` starts in `whole`, if it is a subslice of it.
fn offset_in(whole: &str, part: &str) -> Option<usize> {
    (part.as_ptr() as usize)
        .checked_sub(whole.as_ptr() as usize)
        .filter(|&offset| offset + part.len() <= whole.len())
}

/// The `HTTP_*` keys of common request headers, which then cost no allocation.
const COMMON_KEYS: [(&str, &str); 26] = [
    ("host", "HTTP_HOST"),
    ("user-agent", "HTTP_USER_AGENT"),
    ("accept", "HTTP_ACCEPT"),
    ("accept-encoding", "HTTP_ACCEPT_ENCODING"),
    ("accept-language", "HTTP_ACCEPT_LANGUAGE"),
    ("connection", "HTTP_CONNECTION"),
    ("cookie", "HTTP_COOKIE"),
    ("referer", "HTTP_REFERER"),
    ("origin", "HTTP_ORIGIN"),
    ("cache-control", "HTTP_CACHE_CONTROL"),
    ("pragma", "HTTP_PRAGMA"),
    ("authorization", "HTTP_AUTHORIZATION"),
    ("if-none-match", "HTTP_IF_NONE_MATCH"),
    ("if-modified-since", "HTTP_IF_MODIFIED_SINCE"),
    ("range", "HTTP_RANGE"),
    ("expect", "HTTP_EXPECT"),
    ("transfer-encoding", "HTTP_TRANSFER_ENCODING"),
    (
        "upgrade-insecure-requests",
        "HTTP_UPGRADE_INSECURE_REQUESTS",
    ),
    ("dnt", "HTTP_DNT"),
    ("sec-fetch-dest", "HTTP_SEC_FETCH_DEST"),
    ("sec-fetch-mode", "HTTP_SEC_FETCH_MODE"),
    ("sec-fetch-site", "HTTP_SEC_FETCH_SITE"),
    ("sec-fetch-user", "HTTP_SEC_FETCH_USER"),
    ("x-forwarded-for", "HTTP_X_FORWARDED_FOR"),
    ("x-forwarded-proto", "HTTP_X_FORWARDED_PROTO"),
    ("x-requested-with", "HTTP_X_REQUESTED_WITH"),
];

/// The environ key of a common header, without building it.
fn common_key(name: &str) -> Option<&'static str> {
    COMMON_KEYS
        .iter()
        .find(|(lower, _)| lower.len() == name.len() && lower.eq_ignore_ascii_case(name))
        .map(|(_, key)| *key)
}

/// Appends a header's environ key: `HTTP_` and the name upper-cased, dashes turned to
/// underscores.
fn push_key(out: &mut String, name: &str) {
    out.push_str("HTTP_");
    out.extend(name.chars().map(key_char));
}

/// A header name that starts with `Http-` (or `Http_`): its key could be another header's.
fn is_http_prefixed(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() > 5 && bytes[..4].eq_ignore_ascii_case(b"http") && matches!(bytes[4], b'-' | b'_')
}

fn key_char(c: char) -> char {
    if c == '-' {
        '_'
    } else {
        c.to_ascii_uppercase()
    }
}

/// True when the header `name` would become the variable `key` (less its `HTTP_`).
fn same_key(key: &str, name: &str) -> bool {
    key.len() == name.len() && key.chars().zip(name.chars()).all(|(k, n)| k == key_char(n))
}

/// A header's environ key (see [`push_key`]).
#[cfg(test)]
fn header_key(name: &str) -> std::borrow::Cow<'static, str> {
    match common_key(name) {
        Some(key) => std::borrow::Cow::Borrowed(key),
        None => {
            let mut key = String::new();
            push_key(&mut key, name);
            std::borrow::Cow::Owned(key)
        }
    }
}

/// A client's address as environ values, made once per connection and shared by its requests.
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    pub(crate) addr: Arc<str>,
    pub(crate) port: Arc<str>,
}

impl Peer {
    /// A TCP client's address and port; a Unix domain socket's client (`None`) has neither,
    /// so both are empty.
    pub(crate) fn new(peer: Option<SocketAddr>) -> Self {
        match peer {
            Some(peer) => Peer {
                addr: Arc::from(peer.ip().to_string()),
                port: Arc::from(peer.port().to_string()),
            },
            None => Peer {
                addr: Arc::from(""),
                port: Arc::from(""),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::request::target_form;
    use super::{decode_path, target_path};

    #[test]
    fn decode_path_table() {
        let cases = [
            ("/p%61th/x%2Fy%20z+q%zz", "/path/x/y z+q%zz"),
            ("/\u{c3}\u{a9}%C3%A9", "/\u{c3}\u{a9}\u{c3}\u{a9}"),
            ("/\u{80}%80", "/\u{80}\u{80}"),
            ("/%uFFFF%E9%2", "/%uFFFF\u{e9}%2"),
            ("/%", "/%"),
            ("/%4", "/%4"),
            ("/%41", "/A"),
        ];
        for (raw, expected) in cases {
            assert_eq!(decode_path(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn header_keys_common_and_not() {
        use super::{COMMON_KEYS, header_key};
        for (lower, key) in COMMON_KEYS {
            let built: String = format!("HTTP_{}", lower.to_ascii_uppercase().replace('-', "_"));
            assert_eq!(key, built, "{lower}");
            assert_eq!(header_key(&lower.to_ascii_uppercase()), key);
        }
        assert_eq!(header_key("X-Custom-Thing"), "HTTP_X_CUSTOM_THING");
        assert!(super::same_key("SCRIPT_NAME", "script-name"));
        assert!(!super::same_key("SCRIPT_NAME", "script-names"));
        assert!(matches!(
            header_key("Host"),
            std::borrow::Cow::Borrowed("HTTP_HOST")
        ));
    }

    #[test]
    fn target_paths() {
        let cases = [
            ("/a", "/a"),
            ("//a//b", "/a//b"),
            ("///a", "/a"),
            ("/caf\u{c3}\u{a9}", "/caf\u{c3}\u{a9}"),
            ("//\u{c3}\u{a9}\u{c3}\u{a9}", "/\u{c3}\u{a9}\u{c3}\u{a9}"),
            ("/\u{e9}", "/\u{e9}"),
            ("http://example.com/abs?q", "/abs?q"),
            ("HTTP://example.com", ""),
            ("http://example.com?q", "?q"),
            ("https://example.com/\u{e9}", "/\u{e9}"),
            ("*", "*"),
        ];
        for (raw, expected) in cases {
            let bytes = crate::latin1::encode(raw).expect("latin-1");
            let form = target_form(if raw == "*" { "OPTIONS" } else { "GET" }, &bytes)
                .expect("a valid target");
            assert_eq!(target_path(raw, form), expected, "{raw:?}");
        }
    }
}
