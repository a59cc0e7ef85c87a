//! Building the request environ, as `WSGIRequestHandler.get_environ` does (PEP 3333,
//! "environ Variables"), with gateway's deliberate differences.

use std::net::SocketAddr;
use std::sync::Arc;

use super::request::{Framing, RequestHead};
use crate::environ::Text;
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

/// The path part of a request target: origin-form as is (with the reference's collapse of
/// leading `//` to `/`), absolute-form stripped of scheme and authority.
fn target_path(target: &str) -> &str {
    let lower_starts = |prefix: &str| {
        target.len() >= prefix.len() && target[..prefix.len()].eq_ignore_ascii_case(prefix)
    };
    let target = if lower_starts("http://") || lower_starts("https://") {
        let after_scheme = &target[target.find("//").map_or(0, |i| i + 2)..];
        match after_scheme.find(['/', '?']) {
            Some(i) if after_scheme.as_bytes()[i] == b'/' => &after_scheme[i..],
            Some(i) => &after_scheme[i..],
            None => "/",
        }
    } else {
        target
    };
    if target.starts_with("//") {
        let trimmed = target.trim_start_matches('/');
        // Keep one slash: `//a//b` → `/a//b`.
        &target[target.len() - trimmed.len() - 1..]
    } else {
        target
    }
}

/// The environ of one request.
///
/// - `peer.base` holds the server's variables (`SERVER_NAME`, `SERVER_PORT`,
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
    peer: &Peer,
    keep_underscores: bool,
    storage: crate::environ::VarStorage,
) -> Environ {
    // Every name pushed here is distinct, so the environ is built without lookups.
    let mut env = Environ::with_storage(storage);
    for (key, value) in &peer.base {
        if *key != "CONTENT_LENGTH" {
            env.push_static(key, Text::Shared(Arc::clone(value)));
        }
    }
    let protocol = if head.minor == 0 {
        "HTTP/1.0"
    } else {
        "HTTP/1.1"
    };
    env.push_static("SERVER_PROTOCOL", Text::Static(protocol));
    env.push_static(
        "REQUEST_METHOD",
        match &head.method {
            std::borrow::Cow::Borrowed(method) => Text::Static(method),
            std::borrow::Cow::Owned(method) => Text::Owned(method.clone()),
        },
    );
    env.push_static("REQUEST_URI", Text::Owned(head.target.clone()));
    let target = target_path(&head.target);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    env.push_static("PATH_INFO", Text::Owned(decode_path(path)));
    env.push_static("QUERY_STRING", owned_or_empty(query));
    env.push_static("REMOTE_ADDR", Text::Shared(Arc::clone(&peer.addr)));
    env.push_static("REMOTE_PORT", Text::Shared(Arc::clone(&peer.port)));

    let mut content_type = None;
    let mut content_length = None;
    let fields_start = env.len();
    for (name, value) in head.headers.iter() {
        if name.eq_ignore_ascii_case("content-type") {
            content_type.get_or_insert(value);
            continue;
        }
        if name.eq_ignore_ascii_case("content-length") {
            content_length.get_or_insert(());
            continue;
        }
        if name.contains('_') && !keep_underscores {
            continue;
        }
        let mut key = String::with_capacity(name.len() + 5);
        key.push_str("HTTP_");
        key.extend(name.chars().map(|c| {
            if c == '-' {
                '_'
            } else {
                c.to_ascii_uppercase()
            }
        }));
        // A header whose name turns into a CGI variable's is ignored, as the reference does.
        if CGI_NAMES.contains(&&key[5..]) {
            continue;
        }
        env.push_or_join(fields_start, key, value);
    }
    let content_type =
        content_type.map_or(Text::Static("text/plain"), |t| Text::Owned(t.to_owned()));
    env.push_static("CONTENT_TYPE", content_type);
    let content_length = match head.framing {
        Framing::Length(n) if content_length.is_some() => Text::Owned(n.to_string()),
        _ => Text::Static(""),
    };
    env.push_static("CONTENT_LENGTH", content_length);
    env.set_input_terminated(true);
    env
}

/// The CGI variables a request environ has before its headers are added: a header whose key
/// would be one of these is dropped.
const CGI_NAMES: [&str; 15] = [
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

fn owned_or_empty(value: &str) -> Text {
    if value.is_empty() {
        Text::Static("")
    } else {
        Text::Owned(value.to_owned())
    }
}

/// A client's address as environ values, made once per connection and shared by its requests.
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    pub(crate) addr: Arc<str>,
    pub(crate) port: Arc<str>,
    /// This connection's own copies of the server's base variables: cloning them per
    /// request touches only counters no other thread uses.
    pub(crate) base: Vec<(&'static str, Arc<str>)>,
}

impl Peer {
    pub(crate) fn new(peer: SocketAddr) -> Self {
        Peer {
            addr: Arc::from(peer.ip().to_string()),
            port: Arc::from(peer.port().to_string()),
            base: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
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
    fn target_paths() {
        let cases = [
            ("/a", "/a"),
            ("//a//b", "/a//b"),
            ("///a", "/a"),
            ("http://example.com/abs?q", "/abs?q"),
            ("HTTP://example.com", "/"),
            ("http://example.com?q", "?q"),
            ("*", "*"),
        ];
        for (raw, expected) in cases {
            assert_eq!(target_path(raw), expected, "{raw:?}");
        }
    }
}
