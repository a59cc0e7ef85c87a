//! `wsgiref.util`: URL reconstruction, path shifting, test defaults, hop-by-hop names and
//! [`FileWrapper`].
//!
//! These behave as CPython's `wsgiref.util` does, quirks included (see each function). A
//! string that cannot be latin-1 encoded is an error, never a panic or a wrong URI.
//!
//! ```
//! use gateway::util::{request_uri, setup_testing_defaults, shift_path_info};
//! use gateway::Environ;
//!
//! let mut env: Environ = [("PATH_INFO", "/blog/2024/")].into_iter().collect();
//! setup_testing_defaults(&mut env);
//! assert_eq!(request_uri(&env, false)?, "http://127.0.0.1/blog/2024/");
//! assert_eq!(shift_path_info(&mut env)?.as_deref(), Some("blog"));
//! assert_eq!((env.get("SCRIPT_NAME"), env.get("PATH_INFO")), (Some("/blog"), Some("/2024/")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use crate::Environ;
use crate::latin1;

pub use crate::file_wrapper::{DEFAULT_BLKSIZE, FileWrapper};

/// `'https'` when `HTTPS` is exactly `"yes"`, `"on"` or `"1"`, else `'http'` (case-sensitive).
///
/// ```
/// use gateway::{util::guess_scheme, Environ};
///
/// let mut env = Environ::new();
/// assert_eq!(guess_scheme(&env), "http");
/// env.insert("HTTPS", "on");
/// assert_eq!(guess_scheme(&env), "https");
/// env.insert("HTTPS", "ON");
/// assert_eq!(guess_scheme(&env), "http");
/// ```
pub fn guess_scheme(environ: &Environ) -> &'static str {
    match environ.get("HTTPS") {
        Some("yes" | "on" | "1") => "https",
        _ => "http",
    }
}

/// Bytes `quote` keeps in SCRIPT_NAME: ASCII letters, digits and `_ . - ~ /`.
fn is_safe_script(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'~' | b'/')
}

/// Bytes `quote` keeps in PATH_INFO: those of SCRIPT_NAME plus `; = ,`.
fn is_safe_path(b: u8) -> bool {
    is_safe_script(b) || matches!(b, b';' | b'=' | b',')
}

/// Python's `urllib.parse.quote(s, safe, encoding='latin1')`: upper-case `%XX` escapes.
fn quote(
    key: &'static str,
    s: &str,
    safe: fn(u8) -> bool,
    out: &mut String,
) -> Result<(), UriError> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = latin1::encode(s).map_err(|source| UriError::NotLatin1 { key, source })?;
    out.reserve(bytes.len());
    for b in bytes {
        if safe(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    Ok(())
}

fn required<'e>(environ: &'e Environ, key: &'static str) -> Result<&'e str, UriError> {
    environ.get(key).ok_or(UriError::MissingKey { key })
}

/// The base URI of the application: scheme, host and quoted `SCRIPT_NAME` (PEP 3333 "URL
/// Reconstruction" without PATH_INFO and QUERY_STRING).
///
/// `HTTP_HOST` is used verbatim when non-empty; otherwise `SERVER_NAME` plus `:SERVER_PORT`
/// unless the port string is `"443"` for `https` or `"80"` for any other scheme.
/// `SCRIPT_NAME` is latin-1 encoded and quoted (only letters, digits and `_.-~/` kept); an
/// empty or missing one becomes `/`.
///
/// ```
/// use gateway::{util::application_uri, Environ};
///
/// let mut env: Environ = [("SERVER_NAME", "127.0.0.1"), ("SERVER_PORT", "8080")].into_iter().collect();
/// env.insert("SCRIPT_NAME", "/a b");
/// assert_eq!(application_uri(&env).unwrap(), "http://127.0.0.1:8080/a%20b");
/// ```
pub fn application_uri(environ: &Environ) -> Result<String, UriError> {
    let scheme = environ.url_scheme();
    let mut url = String::with_capacity(64);
    url.push_str(scheme);
    url.push_str("://");
    match environ.get("HTTP_HOST") {
        Some(host) if !host.is_empty() => url.push_str(host),
        _ => {
            url.push_str(required(environ, "SERVER_NAME")?);
            let port = required(environ, "SERVER_PORT")?;
            let default = if scheme == "https" { "443" } else { "80" };
            if port != default {
                url.push(':');
                url.push_str(port);
            }
        }
    }
    match environ.get("SCRIPT_NAME") {
        Some(script) if !script.is_empty() => {
            quote("SCRIPT_NAME", script, is_safe_script, &mut url)?
        }
        _ => url.push('/'),
    }
    Ok(url)
}

/// The full request URI: [`application_uri`], the quoted `PATH_INFO` and, with
/// `include_query`, `?QUERY_STRING` verbatim.
///
/// PATH_INFO keeps `; = ,` unescaped besides SCRIPT_NAME's safe set. Reference quirk kept:
/// when SCRIPT_NAME is empty, the first character of the quoted PATH_INFO is dropped (it is
/// taken to be the `/` application_uri already wrote), even when it is not a `/`.
///
/// ```
/// use gateway::{util::request_uri, Environ};
///
/// let mut env: Environ = [("SERVER_NAME", "127.0.0.1"), ("SERVER_PORT", "80")].into_iter().collect();
/// env.insert("SCRIPT_NAME", "/spammity");
/// env.insert("PATH_INFO", "/spam;cookie=1234,5678");
/// env.insert("QUERY_STRING", "say=ni");
/// assert_eq!(request_uri(&env, true).unwrap(), "http://127.0.0.1/spammity/spam;cookie=1234,5678?say=ni");
/// assert_eq!(request_uri(&env, false).unwrap(), "http://127.0.0.1/spammity/spam;cookie=1234,5678");
/// ```
///
/// A PATH_INFO that is not a "bytes in unicode" string cannot be quoted:
///
/// ```
/// use gateway::{util::{request_uri, UriError}, Environ};
///
/// let mut env: Environ = [("HTTP_HOST", "example.com"), ("SCRIPT_NAME", "/app")].into_iter().collect();
/// env.insert("PATH_INFO", "/\u{263a}"); // above U+00FF: no byte stands for it
/// let err = request_uri(&env, true).unwrap_err();
/// assert!(matches!(err, UriError::NotLatin1 { key: "PATH_INFO", .. }));
/// env.insert_bytes("PATH_INFO", "/\u{263a}".as_bytes()); // what a server stores
/// assert_eq!(request_uri(&env, true)?, "http://example.com/app/%E2%98%BA");
/// # Ok::<(), UriError>(())
/// ```
pub fn request_uri(environ: &Environ, include_query: bool) -> Result<String, UriError> {
    let mut url = application_uri(environ)?;
    let mut path = String::new();
    quote(
        "PATH_INFO",
        environ.get("PATH_INFO").unwrap_or(""),
        is_safe_path,
        &mut path,
    )?;
    match environ.get("SCRIPT_NAME") {
        Some(script) if !script.is_empty() => url.push_str(&path),
        // Quoted text is ASCII, so slicing after the first byte is on a char boundary.
        _ => url.push_str(path.get(1..).unwrap_or("")),
    }
    if include_query && let Some(query) = environ.get("QUERY_STRING").filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(query);
    }
    Ok(url)
}

/// Moves one path segment from `PATH_INFO` to `SCRIPT_NAME` and returns it.
///
/// Returns `Ok(None)` (changing nothing) when PATH_INFO is empty or missing, and `Ok(None)`
/// after shifting a lone `.`. Interior empty and `.` segments are skipped; `..` is returned
/// literally and applied to SCRIPT_NAME (which is normalised like POSIX `normpath`); a
/// trailing slash leaves `PATH_INFO` `"/"`, and shifting that gives `""` and a `SCRIPT_NAME`
/// ending in `/`. A PATH_INFO without any `/` is an error and changes nothing.
///
/// ```
/// use gateway::{util::shift_path_info, Environ};
///
/// let mut env: Environ = [("SCRIPT_NAME", ""), ("PATH_INFO", "/a/b/")].into_iter().collect();
/// assert_eq!(shift_path_info(&mut env).unwrap().as_deref(), Some("a"));
/// assert_eq!((env.get("SCRIPT_NAME"), env.get("PATH_INFO")), (Some("/a"), Some("/b/")));
/// assert_eq!(shift_path_info(&mut env).unwrap().as_deref(), Some("b"));
/// assert_eq!(shift_path_info(&mut env).unwrap().as_deref(), Some(""));
/// assert_eq!((env.get("SCRIPT_NAME"), env.get("PATH_INFO")), (Some("/a/b/"), Some("")));
/// assert_eq!(shift_path_info(&mut env).unwrap(), None);
/// ```
pub fn shift_path_info(environ: &mut Environ) -> Result<Option<String>, ShiftPathError> {
    let path_info = match environ.get("PATH_INFO") {
        None | Some("") => return Ok(None),
        Some(p) => p,
    };
    let mut parts: Vec<&str> = path_info.split('/').collect();
    if parts.len() < 2 {
        return Err(ShiftPathError::NoSlash {
            path_info: path_info.to_owned(),
        });
    }
    // Drop empty and "." segments from the interior only (never the first or last element).
    let last = parts.len() - 1;
    let mut kept = Vec::with_capacity(parts.len());
    for (i, part) in parts.drain(..).enumerate() {
        if i == 0 || i == last || !(part.is_empty() || part == ".") {
            kept.push(part);
        }
    }
    let name = kept.remove(1).to_owned();
    let new_path_info = kept.join("/");

    let old_script = environ.get("SCRIPT_NAME").unwrap_or("");
    let mut script = normpath(&format!("{old_script}/{name}"));
    if script.ends_with('/') {
        script.pop();
    }
    if name.is_empty() && !script.ends_with('/') {
        script.push('/');
    }
    environ.insert("SCRIPT_NAME", script);
    environ.insert("PATH_INFO", new_path_info);
    Ok(if name == "." { None } else { Some(name) })
}

/// POSIX `normpath` as Python's `posixpath` does it.
fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let leading = if path.starts_with("//") && !path.starts_with("///") {
        "//"
    } else if path.starts_with('/') {
        "/"
    } else {
        ""
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if leading.is_empty() && parts.last().is_none_or(|p| *p == "..") {
                    parts.push("..");
                } else if !parts.is_empty() {
                    parts.pop();
                }
            }
            other => parts.push(other),
        }
    }
    let joined = format!("{leading}{}", parts.join("/"));
    if joined.is_empty() {
        ".".to_owned()
    } else {
        joined
    }
}

/// Fills in what a test environ lacks, never replacing a key that is present.
///
/// In order: `SERVER_NAME` `127.0.0.1`, `SERVER_PROTOCOL` `HTTP/1.0`, `HTTP_HOST` (the
/// SERVER_NAME), `REQUEST_METHOD` `GET`, `SCRIPT_NAME` `""` and `PATH_INFO` `/` (only when
/// both are absent), the url scheme from [`guess_scheme`] unless one was set, and
/// `SERVER_PORT` `80`/`443` for http/https (none for another scheme). The typed entries need
/// no filling: every [`Environ`] has `wsgi.version` `(1, 0)`, false flags, and an empty
/// `wsgi.input` and `wsgi.errors` unless they were set.
///
/// ```
/// use gateway::{util::setup_testing_defaults, Environ};
///
/// let mut env = Environ::new();
/// env.insert("HTTPS", "on");
/// setup_testing_defaults(&mut env);
/// assert_eq!(env.url_scheme(), "https");
/// assert_eq!(env.get("SERVER_PORT"), Some("443"));
/// assert_eq!(env.get("HTTP_HOST"), Some("127.0.0.1"));
/// assert_eq!(env.get("PATH_INFO"), Some("/"));
/// ```
pub fn setup_testing_defaults(environ: &mut Environ) {
    environ.set_default("SERVER_NAME", "127.0.0.1");
    environ.set_default("SERVER_PROTOCOL", "HTTP/1.0");
    let server_name = environ.get("SERVER_NAME").unwrap_or_default().to_owned();
    environ.set_default("HTTP_HOST", server_name);
    environ.set_default("REQUEST_METHOD", "GET");
    if !environ.contains("SCRIPT_NAME") && !environ.contains("PATH_INFO") {
        environ.insert("SCRIPT_NAME", "");
        environ.insert("PATH_INFO", "/");
    }
    if !environ.has_url_scheme() {
        let scheme = guess_scheme(environ);
        environ.set_url_scheme(scheme);
    }
    match environ.url_scheme() {
        "http" => {
            environ.set_default("SERVER_PORT", "80");
        }
        "https" => {
            environ.set_default("SERVER_PORT", "443");
        }
        _ => {}
    }
}

/// True for the eight HTTP/1.1 hop-by-hop header names (any case): `Connection`,
/// `Keep-Alive`, `Proxy-Authenticate`, `Proxy-Authorization`, `TE`, `Trailers`,
/// `Transfer-Encoding`, `Upgrade`.
///
/// ```
/// use gateway::util::is_hop_by_hop;
///
/// assert!(is_hop_by_hop("Connection"));
/// assert!(is_hop_by_hop("TRANSFER-ENCODING"));
/// assert!(!is_hop_by_hop("Trailer")); // the reference lists "trailers"
/// assert!(!is_hop_by_hop(" connection"));
/// ```
pub fn is_hop_by_hop(header_name: &str) -> bool {
    const HOP_BY_HOP: [&str; 8] = [
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
    ];
    // Python compares `header_name.lower()`, which is Unicode-aware: "\u{212A}eep-alive"
    // (KELVIN SIGN) lowercases to "keep-alive". Only non-ASCII names need the full mapping.
    let lowered;
    let name = if header_name.is_ascii() {
        header_name
    } else {
        lowered = header_name.to_lowercase();
        &lowered
    };
    HOP_BY_HOP.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// A URI could not be rebuilt from the environ.
///
/// ```
/// use gateway::util::{application_uri, UriError};
/// use gateway::Environ;
///
/// let mut env = Environ::new(); // no HTTP_HOST, no SERVER_NAME
/// assert_eq!(application_uri(&env), Err(UriError::MissingKey { key: "SERVER_NAME" }));
///
/// env.insert("HTTP_HOST", "example.com");
/// env.insert("SCRIPT_NAME", "/\u{5e9}"); // Hebrew shin: not latin-1
/// match application_uri(&env) {
///     Err(UriError::NotLatin1 { key, source }) => {
///         assert_eq!((key, source.character), ("SCRIPT_NAME", '\u{5e9}'));
///     }
///     other => panic!("expected NotLatin1, got {other:?}"),
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UriError {
    /// A variable the URI needs is missing (Python's `KeyError`).
    MissingKey {
        /// The missing key.
        key: &'static str,
    },
    /// A path variable holds a character latin-1 cannot encode.
    NotLatin1 {
        /// The variable concerned.
        key: &'static str,
        /// The encoding failure.
        source: latin1::NotLatin1,
    },
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UriError::MissingKey { key } => write!(
                f,
                "the environ has no {key}, which is needed to rebuild the URI without HTTP_HOST; \
                 set it (util::setup_testing_defaults fills it in for tests)"
            ),
            UriError::NotLatin1 { key, source } => write!(f, "{key}: {source}"),
        }
    }
}

impl std::error::Error for UriError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            UriError::NotLatin1 { source, .. } => Some(source),
            UriError::MissingKey { .. } => None,
        }
    }
}

/// [`shift_path_info`] was given a PATH_INFO it cannot split.
///
/// ```
/// use gateway::util::{shift_path_info, ShiftPathError};
/// use gateway::Environ;
///
/// let mut env: Environ = [("SCRIPT_NAME", "/app"), ("PATH_INFO", "relative")].into_iter().collect();
/// let err = shift_path_info(&mut env).unwrap_err();
/// assert_eq!(err, ShiftPathError::NoSlash { path_info: "relative".into() });
/// assert_eq!(env.get("SCRIPT_NAME"), Some("/app")); // nothing changed
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShiftPathError {
    /// PATH_INFO is non-empty but contains no `/` (Python raises `IndexError`).
    NoSlash {
        /// The offending PATH_INFO.
        path_info: String,
    },
}

impl fmt::Display for ShiftPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShiftPathError::NoSlash { path_info } => write!(
                f,
                "cannot shift a segment from PATH_INFO {path_info:?}: it has no '/'; a PATH_INFO \
                 is empty or starts with '/'"
            ),
        }
    }
}

impl std::error::Error for ShiftPathError {}

#[cfg(test)]
mod tests {
    use super::normpath;

    #[test]
    fn normpath_follows_posixpath() {
        for (input, expected) in [
            ("/a/b/../c", "/a/c"),
            ("//x", "//x"),
            ("///x", "/x"),
            ("/..", "/"),
            ("a/../..", ".."),
            ("/a//b/./c/", "/a/b/c"),
            ("", "."),
            ("./x", "x"),
        ] {
            assert_eq!(normpath(input), expected, "normpath({input:?})");
        }
    }
}
