//! Building the request environ, as `WSGIRequestHandler.get_environ` does (PEP 3333,
//! "environ Variables"), with gateway's deliberate differences.

use std::borrow::Cow;
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

/// [`fill_environ`] into a new environ (fuzzing and tests).
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn build_environ(
    head: &RequestHead,
    base: &VarsPrefix,
    peer: &Peer,
    keep_underscores: bool,
    storage: crate::environ::VarStorage,
) -> Environ {
    let mut env = Environ::with_storage(storage);
    fill_environ(&mut env, head, base, peer, keep_underscores);
    env
}

/// The environ of one request, built into `env`, an empty environ (from
/// [`Environ::with_storage`]) where the caller keeps it: the server builds each request's
/// environ in place.
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
pub(crate) fn fill_environ(
    env: &mut Environ,
    head: &RequestHead,
    base: &VarsPrefix,
    peer: &Peer,
    keep_underscores: bool,
) {
    // Every name pushed here is distinct, so the environ is built without lookups.
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
    // A bit per key pushed from here on (see `key_bit`): a field whose bit is clear cannot
    // repeat an earlier one, so the search for one to join is skipped (most requests repeat
    // no field, and the search would make building the environ quadratic in the fields).
    let mut keys_seen = 0u64;
    let absolute = match head.form {
        TargetForm::Absolute { start, len } => {
            // RFC 9112 §3.2.2: with an absolute-form target the Host field is ignored and
            // the target's authority is the host.
            let start = target_at.start + start;
            env.push_span("HTTP_HOST", span(start..start + len));
            keys_seen |= key_bit("HTTP_HOST");
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
        // Filled only for a field whose key is built (the key borrows it).
        let mut room;
        let key = match known_key(name) {
            // A common field: its key has no underscore of the name's own and is no CGI
            // variable's.
            Some(key) => Cow::Borrowed(key),
            None => {
                room = [0; KEY_ROOM];
                let (key, underscore) = environ_key(name, &mut room);
                if underscore && !keep_underscores {
                    continue;
                }
                // The reference skips a header whose key, less `HTTP_`, is already in the
                // environ: one that turns into a CGI variable's name, or (`Http-X` after `X`)
                // into an earlier header's key.
                let bare = &key[5..];
                if CGI_NAMES.contains(&bare)
                    || bare.len() > 5 && bare.starts_with("HTTP_") && env.get(bare).is_some()
                {
                    continue;
                }
                key
            }
        };
        if absolute && key == "HTTP_HOST" {
            continue;
        }
        let value = span(value);
        let bit = key_bit(&key);
        let from = (keys_seen & bit != 0).then_some(fields_start);
        keys_seen |= bit;
        env.push_or_join(from, |text| text.push_str(&key), value);
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

/// The environ keys of the fields browsers, API clients and proxies send most, by the
/// length of the name (lower case): [`known_key`] finds them without building a key.
const KNOWN_KEYS: [&[(&str, &str)]; 26] = [
    &[],
    &[],
    &[("te", "HTTP_TE")],
    &[("dnt", "HTTP_DNT")],
    &[("host", "HTTP_HOST")],
    &[("range", "HTTP_RANGE")],
    &[
        ("accept", "HTTP_ACCEPT"),
        ("cookie", "HTTP_COOKIE"),
        ("origin", "HTTP_ORIGIN"),
        ("pragma", "HTTP_PRAGMA"),
    ],
    &[("referer", "HTTP_REFERER"), ("upgrade", "HTTP_UPGRADE")],
    &[("priority", "HTTP_PRIORITY"), ("if-match", "HTTP_IF_MATCH")],
    &[
        ("sec-ch-ua", "HTTP_SEC_CH_UA"),
        ("x-real-ip", "HTTP_X_REAL_IP"),
    ],
    &[
        ("user-agent", "HTTP_USER_AGENT"),
        ("connection", "HTTP_CONNECTION"),
        ("keep-alive", "HTTP_KEEP_ALIVE"),
    ],
    &[],
    &[("x-request-id", "HTTP_X_REQUEST_ID")],
    &[
        ("authorization", "HTTP_AUTHORIZATION"),
        ("cache-control", "HTTP_CACHE_CONTROL"),
        ("if-none-match", "HTTP_IF_NONE_MATCH"),
    ],
    &[
        ("sec-fetch-dest", "HTTP_SEC_FETCH_DEST"),
        ("sec-fetch-mode", "HTTP_SEC_FETCH_MODE"),
        ("sec-fetch-site", "HTTP_SEC_FETCH_SITE"),
        ("sec-fetch-user", "HTTP_SEC_FETCH_USER"),
    ],
    &[
        ("accept-encoding", "HTTP_ACCEPT_ENCODING"),
        ("accept-language", "HTTP_ACCEPT_LANGUAGE"),
        ("x-forwarded-for", "HTTP_X_FORWARDED_FOR"),
    ],
    &[
        ("sec-ch-ua-mobile", "HTTP_SEC_CH_UA_MOBILE"),
        ("x-requested-with", "HTTP_X_REQUESTED_WITH"),
        ("x-forwarded-host", "HTTP_X_FORWARDED_HOST"),
    ],
    &[
        ("if-modified-since", "HTTP_IF_MODIFIED_SINCE"),
        ("x-forwarded-proto", "HTTP_X_FORWARDED_PROTO"),
    ],
    &[("sec-ch-ua-platform", "HTTP_SEC_CH_UA_PLATFORM")],
    &[],
    &[],
    &[],
    &[],
    &[],
    &[],
    &[(
        "upgrade-insecure-requests",
        "HTTP_UPGRADE_INSECURE_REQUESTS",
    )],
];

/// The environ key of a common field (see [`KNOWN_KEYS`]): the upper-casing and the UTF-8
/// check of a built key cost more than this lookup. Such a key has no underscore of the
/// name's own and is no CGI variable's.
fn known_key(name: &str) -> Option<&'static str> {
    let name = name.as_bytes();
    KNOWN_KEYS
        .get(name.len())?
        .iter()
        .find(|(known, _)| same_token(name, known.as_bytes()))
        .map(|&(_, key)| key)
}

/// Whether the field name `name` is `known` (lower-case letters and dashes, as long) in any
/// case: each byte with the case bit set must be the known one. That is exact for field
/// names, which are tokens: the only other byte that turns into a lower-case letter or a
/// dash so is the carriage return (`\r` to `-`), which no name holds. Eight bytes at a time,
/// without branches (`eq_ignore_ascii_case` lower-cases both sides byte by byte).
fn same_token(name: &[u8], known: &[u8]) -> bool {
    if name.len() != known.len() {
        return false;
    }
    let (names, knowns) = (name.chunks_exact(8), known.chunks_exact(8));
    let tail = names
        .remainder()
        .iter()
        .zip(knowns.remainder())
        .fold(0, |diff, (&a, &b)| diff | ((a | 0x20) ^ b));
    let word = |bytes: &[u8]| u64::from_le_bytes(bytes.try_into().unwrap_or_default());
    names.zip(knowns).fold(u64::from(tail), |diff, (a, b)| {
        diff | ((word(a) | 0x2020_2020_2020_2020) ^ word(b))
    }) == 0
}

/// Where `part` starts in `whole`, if it is a subslice of it.
fn offset_in(whole: &str, part: &str) -> Option<usize> {
    (part.as_ptr() as usize)
        .checked_sub(whole.as_ptr() as usize)
        .filter(|&offset| offset + part.len() <= whole.len())
}

/// Room on the stack for a header's environ key (longer names build a `String`).
const KEY_ROOM: usize = 96;

/// A header's environ key: `HTTP_` and the name upper-cased, dashes turned to underscores,
/// built in `room` (field names are tokens, so ASCII); and whether the name has an
/// underscore of its own.
fn environ_key<'r>(name: &str, room: &'r mut [u8; KEY_ROOM]) -> (Cow<'r, str>, bool) {
    let bytes = name.as_bytes();
    if name.is_ascii() && bytes.len() + 5 <= KEY_ROOM {
        room[..5].copy_from_slice(b"HTTP_");
        let mut underscore = false;
        for (slot, &b) in room[5..].iter_mut().zip(bytes) {
            underscore |= b == b'_';
            *slot = if b == b'-' {
                b'_'
            } else {
                b.to_ascii_uppercase()
            };
        }
        if let Ok(key) = std::str::from_utf8(&room[..5 + bytes.len()]) {
            return (Cow::Borrowed(key), underscore);
        }
    }
    let key = format!("HTTP_{}", crate::environ::header_key(name));
    (Cow::Owned(key), name.contains('_'))
}

/// A bit standing for an environ key (from its length and last byte): equal keys have the
/// same bit.
fn key_bit(key: &str) -> u64 {
    let last = key.as_bytes().last().copied().unwrap_or(0);
    1 << ((key.len() * 7 + usize::from(last)) % 64)
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
    #[test]
    fn known_keys_are_the_keys_the_fields_would_get() {
        let mut count = 0;
        for (len, known) in super::KNOWN_KEYS.iter().enumerate() {
            for &(name, key) in *known {
                assert_eq!(name.len(), len, "{name} is filed under its length");
                let mut room = [0; super::KEY_ROOM];
                let (built, underscore) = super::environ_key(name, &mut room);
                assert_eq!((key, underscore), (&*built, false));
                assert!(!super::CGI_NAMES.contains(&&key[5..]), "{key}");
                assert!(!key[5..].starts_with("HTTP_"), "{key}");
                // Any case finds it.
                let upper = name.to_ascii_uppercase();
                assert_eq!(super::known_key(&upper), Some(key));
                assert_eq!(super::known_key(name), Some(key));
                count += 1;
            }
        }
        assert!(count > 30);
        assert_eq!(super::known_key("x-custom"), None);
        assert_eq!(super::known_key("a-name-longer-than-any-known-one"), None);
        assert_eq!(super::known_key(""), None);
        // Every token byte against every letter and the dash: equal only without regard to case.
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        for a in (0..=255u8).filter(|&b| token(b)) {
            for b in (b'a'..=b'z').chain([b'-']) {
                assert_eq!(
                    super::same_token(&[a], &[b]),
                    a.to_ascii_lowercase() == b,
                    "{a} {b}"
                );
            }
        }
        assert!(!super::same_token(b"host", b"hostx"));
        // Words and the bytes after them.
        assert!(super::same_token(b"X-Forwarded-For", b"x-forwarded-for"));
        assert!(!super::same_token(b"X-Forwarded-Fox", b"x-forwarded-for"));
        assert!(!super::same_token(b"Y-Forwarded-For", b"x-forwarded-for"));
        assert!(super::same_token(b"SEC-FETCH-MODE", b"sec-fetch-mode"));
    }

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
    fn environ_keys() {
        use super::{KEY_ROOM, environ_key};
        let long = "X-".repeat(60);
        for (name, key, underscore) in [
            ("Host", "HTTP_HOST", false),
            ("user-agent", "HTTP_USER_AGENT", false),
            ("X-Custom-Thing", "HTTP_X_CUSTOM_THING", false),
            ("x_under", "HTTP_X_UNDER", true),
            ("Http-X", "HTTP_HTTP_X", false),
            ("caf\u{e9}", "HTTP_CAF\u{e9}", false),
            (&long, &format!("HTTP_{}", "X_".repeat(60)), false),
        ] {
            let mut room = [0; KEY_ROOM];
            assert_eq!(
                environ_key(name, &mut room),
                (key.into(), underscore),
                "{name}"
            );
        }
    }

    #[test]
    fn repeated_fields_are_joined_and_others_pushed_once() {
        use super::super::request::parse;
        use super::{Peer, build_environ};
        let mut head = String::from("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nAccept: a\r\n");
        // Many distinct fields: some share a key bit with X-A (same length and last letter).
        let distinct: Vec<String> = (0..40).map(|i| format!("F{i}-A")).collect();
        for name in &distinct {
            head.push_str(&format!("{name}: {name}\r\nZ-A: z\r\n"));
        }
        head.push_str("x_a: 2\r\nX-a: 3\r\naccept: b\r\n\r\n");
        let limits = super::super::Limits {
            max_headers: 200,
            ..Default::default()
        };
        let parsed = parse(head.as_bytes(), &limits)
            .expect("valid")
            .expect("whole");
        let base = crate::environ::VarsPrefix::new(&[]);
        let env = build_environ(&parsed, &base, &Peer::new(None), true, Default::default());
        assert_eq!(env.get("HTTP_X_A"), Some("1,2,3"));
        assert_eq!(env.get("HTTP_ACCEPT"), Some("a,b"));
        assert_eq!(env.get("HTTP_Z_A"), Some(&*vec!["z"; 40].join(",")));
        for name in &distinct {
            let key = format!("HTTP_{}", name.to_ascii_uppercase().replace('-', "_"));
            assert_eq!(env.get(&key), Some(name.as_str()), "{key}");
        }
        let keys: Vec<&str> = env.keys().filter(|k| k.starts_with("HTTP_")).collect();
        assert_eq!(keys.len(), 4 + distinct.len(), "each key once: {keys:?}");
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
