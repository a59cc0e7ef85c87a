//! Section 1 (`wsgiref.util`, 1.1 to 1.7) of `/work/shared/reference/wsgiref-behaviour.md`,
//! every table row and example, replayed against `gateway::util`.
//!
//! Python-to-Rust mapping used throughout:
//! * an environ `{'wsgi.url_scheme': 's', ...}` is [`Environ::set_url_scheme`]; other keys are
//!   plain variables; Python `'/sp\xe4m'` is Rust `"/sp\u{e4}m"`;
//! * `KeyError` is `UriError::MissingKey`, `UnicodeEncodeError` is `UriError::NotLatin1`,
//!   `shift_path_info`'s `IndexError` is `ShiftPathError::NoSlash`.
//!
//! Intended deviations, tested as the Rust behaviour (each is also noted where it applies):
//! * an [`Environ`] always has a url scheme (`"http"` when unset), so "KeyError
//!   `wsgi.url_scheme`" cannot happen;
//! * a Python `None` value (`HTTP_HOST=None`) cannot exist: the "absent" or "empty" variant is
//!   tested instead;
//! * `wsgi.version`, `wsgi.run_once`, `wsgi.multithread`, `wsgi.multiprocess`, `wsgi.input` and
//!   `wsgi.errors` are typed fields that always exist (version `(1, 0)`, flags `false`).

use std::collections::VecDeque;
use std::fs;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use gateway::util::{
    DEFAULT_BLKSIZE, FileWrapper, ShiftPathError, UriError, application_uri, guess_scheme,
    is_hop_by_hop, request_uri, setup_testing_defaults, shift_path_info,
};
use gateway::{Body, Environ};

/// Builds an environ from an optional `wsgi.url_scheme` and string variables.
fn environ(scheme: Option<&str>, vars: &[(&str, &str)]) -> Environ {
    let mut env: Environ = vars.iter().copied().collect();
    if let Some(scheme) = scheme {
        env.set_url_scheme(scheme);
    }
    env
}

/// The variables of an environ, sorted by key.
fn vars_of(env: &Environ) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    vars.sort();
    vars
}

/// Sorted owned copy of an expected variable list.
fn sorted(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = vars
        .iter()
        .map(|&(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// 1. Public names
// ---------------------------------------------------------------------------------------------

#[test]
fn public_names_exist() {
    // `__all__`: FileWrapper, guess_scheme, application_uri, request_uri, shift_path_info,
    // setup_testing_defaults, plus is_hop_by_hop. Naming them is the test: this compiles only
    // if every one is public in `gateway::util`.
    let _: fn(&Environ) -> &'static str = guess_scheme;
    let _: fn(&Environ) -> Result<String, UriError> = application_uri;
    let _: fn(&Environ, bool) -> Result<String, UriError> = request_uri;
    let _: fn(&mut Environ) -> Result<Option<String>, ShiftPathError> = shift_path_info;
    let _: fn(&mut Environ) = setup_testing_defaults;
    let _: fn(&str) -> bool = is_hop_by_hop;
    let _: fn(io::Empty, usize) -> FileWrapper = FileWrapper::new::<io::Empty>;
}

// ---------------------------------------------------------------------------------------------
// 1.1 guess_scheme
// ---------------------------------------------------------------------------------------------

#[test]
fn guess_scheme_table() {
    // (case, HTTPS value or None for a missing key, expected)
    // Python's `{'HTTPS': 1}` (an int) cannot be expressed: Rust variables are strings.
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("{}", None, "http"),
        ("HTTPS='foo'", Some("foo"), "http"),
        ("HTTPS='on'", Some("on"), "https"),
        ("HTTPS='yes'", Some("yes"), "https"),
        ("HTTPS='1'", Some("1"), "https"),
        ("HTTPS='ON' (case-sensitive)", Some("ON"), "http"),
        ("HTTPS='Yes' (case-sensitive)", Some("Yes"), "http"),
        ("HTTPS='true'", Some("true"), "http"),
        ("HTTPS=''", Some(""), "http"),
        ("HTTPS=' on' (no trimming)", Some(" on"), "http"),
    ];
    for &(case, https, expected) in cases {
        let mut env = Environ::new();
        if let Some(value) = https {
            env.insert("HTTPS", value);
        }
        assert_eq!(guess_scheme(&env), expected, "guess_scheme, case {case}");
    }
}

#[test]
fn guess_scheme_ignores_the_url_scheme() {
    // guess_scheme reads HTTPS only, never wsgi.url_scheme.
    let env = environ(Some("https"), &[]);
    assert_eq!(guess_scheme(&env), "http");
}

// ---------------------------------------------------------------------------------------------
// 1.2 application_uri and 1.3 request_uri
// ---------------------------------------------------------------------------------------------

/// What a URI function should give.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// `Ok` with this URI.
    Uri(&'static str),
    /// `KeyError`: `UriError::MissingKey` for this key.
    MissingKey(&'static str),
    /// `UnicodeEncodeError`: `UriError::NotLatin1` for this key and offending character.
    NotLatin1(&'static str, char),
}

fn check_uri(
    case: &str,
    got: Result<String, UriError>,
    want: Want,
    value_of: impl Fn(&str) -> String,
) {
    match want {
        Want::Uri(uri) => assert_eq!(got.as_deref(), Ok(uri), "case {case}"),
        Want::MissingKey(key) => {
            let err = got.expect_err(case);
            assert!(
                matches!(err, UriError::MissingKey { key: k } if k == key),
                "case {case}: expected MissingKey {key}, got {err:?}"
            );
            assert!(
                err.to_string().contains(key),
                "case {case}: the message should name {key}: {err}"
            );
        }
        Want::NotLatin1(key, character) => {
            let err = got.expect_err(case);
            assert!(
                matches!(
                    &err,
                    UriError::NotLatin1 { key: k, source } if *k == key && source.character == character
                ),
                "case {case}: expected NotLatin1 {key} {character:?}, got {err:?}"
            );
            let message = err.to_string();
            assert!(
                message.contains(key),
                "case {case}: the message should name {key}: {message}"
            );
            let value = value_of(key);
            assert!(
                message.contains(&value),
                "case {case}: the message should show the value {value:?}: {message}"
            );
        }
    }
}

struct AppUriCase {
    name: &'static str,
    /// Start from the reference's base env (SERVER_NAME 127.0.0.1, SERVER_PORT 80).
    base: bool,
    /// `wsgi.url_scheme`; `None` leaves it unset (reads as `"http"`).
    scheme: Option<&'static str>,
    /// Variables added on top of the base (replacing base values).
    extra: &'static [(&'static str, &'static str)],
    want: Want,
}

const BASE: &[(&str, &str)] = &[("SERVER_NAME", "127.0.0.1"), ("SERVER_PORT", "80")];

fn app_env(case: &AppUriCase) -> Environ {
    let mut env = environ(case.scheme, if case.base { BASE } else { &[] });
    env.extend(case.extra.iter().copied());
    env
}

#[test]
fn application_uri_table() {
    use Want::*;
    let http = Some("http");
    let cases = [
        // The reference's table (base env: scheme http, SERVER_NAME 127.0.0.1, SERVER_PORT 80).
        AppUriCase {
            name: "base env",
            base: true,
            scheme: http,
            extra: &[],
            want: Uri("http://127.0.0.1/"),
        },
        AppUriCase {
            name: "SN /spam",
            base: true,
            scheme: http,
            extra: &[("SCRIPT_NAME", "/spam")],
            want: Uri("http://127.0.0.1/spam"),
        },
        AppUriCase {
            name: "SN /sp\\xe4m",
            base: true,
            scheme: http,
            extra: &[("SCRIPT_NAME", "/sp\u{e4}m")],
            want: Uri("http://127.0.0.1/sp%E4m"),
        },
        AppUriCase {
            name: "SN /",
            base: true,
            scheme: http,
            extra: &[("SCRIPT_NAME", "/")],
            want: Uri("http://127.0.0.1/"),
        },
        AppUriCase {
            name: "SN /a b",
            base: true,
            scheme: http,
            extra: &[("SCRIPT_NAME", "/a b")],
            want: Uri("http://127.0.0.1/a%20b"),
        },
        AppUriCase {
            name: "SN /a;b=c,d",
            base: true,
            scheme: http,
            extra: &[("SCRIPT_NAME", "/a;b=c,d")],
            want: Uri("http://127.0.0.1/a%3Bb%3Dc%2Cd"),
        },
        AppUriCase {
            name: "SN /-_.~!*'()@:$&+",
            base: true,
            scheme: http,
            extra: &[("SCRIPT_NAME", "/-_.~!*'()@:$&+")],
            want: Uri("http://127.0.0.1/-_.~%21%2A%27%28%29%40%3A%24%26%2B"),
        },
        AppUriCase {
            name: "SN /%41",
            base: true,
            scheme: http,
            extra: &[("SCRIPT_NAME", "/%41")],
            want: Uri("http://127.0.0.1/%2541"),
        },
        AppUriCase {
            name: "SN /a?b#c",
            base: true,
            scheme: http,
            extra: &[("SCRIPT_NAME", "/a?b#c")],
            want: Uri("http://127.0.0.1/a%3Fb%23c"),
        },
        AppUriCase {
            name: "SN /\\u0100",
            base: true,
            scheme: http,
            extra: &[("SCRIPT_NAME", "/\u{100}")],
            want: NotLatin1("SCRIPT_NAME", '\u{100}'),
        },
        AppUriCase {
            name: "HTTP_HOST spam.example.com:2071, port 2071",
            base: true,
            scheme: http,
            extra: &[
                ("HTTP_HOST", "spam.example.com:2071"),
                ("SERVER_PORT", "2071"),
            ],
            want: Uri("http://spam.example.com:2071/"),
        },
        AppUriCase {
            name: "SERVER_NAME spam.example.com, HTTP_HOST absent",
            base: true,
            scheme: http,
            extra: &[("SERVER_NAME", "spam.example.com")],
            want: Uri("http://spam.example.com/"),
        },
        AppUriCase {
            name: "HTTP_HOST 127.0.0.1, SERVER_NAME spam.example.com",
            base: true,
            scheme: http,
            extra: &[
                ("HTTP_HOST", "127.0.0.1"),
                ("SERVER_NAME", "spam.example.com"),
            ],
            want: Uri("http://127.0.0.1/"),
        },
        AppUriCase {
            name: "HTTP_HOST '' is ignored",
            base: true,
            scheme: http,
            extra: &[("HTTP_HOST", "")],
            want: Uri("http://127.0.0.1/"),
        },
        AppUriCase {
            name: "SERVER_PORT 8080",
            base: true,
            scheme: http,
            extra: &[("SERVER_PORT", "8080")],
            want: Uri("http://127.0.0.1:8080/"),
        },
        AppUriCase {
            name: "SERVER_PORT 443 over http",
            base: true,
            scheme: http,
            extra: &[("SERVER_PORT", "443")],
            want: Uri("http://127.0.0.1:443/"),
        },
        AppUriCase {
            name: "https, port 443",
            base: true,
            scheme: Some("https"),
            extra: &[("SERVER_PORT", "443")],
            want: Uri("https://127.0.0.1/"),
        },
        AppUriCase {
            name: "https, port 80",
            base: true,
            scheme: Some("https"),
            extra: &[],
            want: Uri("https://127.0.0.1:80/"),
        },
        AppUriCase {
            name: "ftp, port 80",
            base: true,
            scheme: Some("ftp"),
            extra: &[],
            want: Uri("ftp://127.0.0.1/"),
        },
        AppUriCase {
            name: "ftp, port 21",
            base: true,
            scheme: Some("ftp"),
            extra: &[("SERVER_PORT", "21")],
            want: Uri("ftp://127.0.0.1:21/"),
        },
        AppUriCase {
            name: "https, port 8443, HTTP_HOST example.com",
            base: true,
            scheme: Some("https"),
            extra: &[("SERVER_PORT", "8443"), ("HTTP_HOST", "example.com")],
            want: Uri("https://example.com/"),
        },
        AppUriCase {
            name: "only scheme http and SERVER_NAME n",
            base: false,
            scheme: http,
            extra: &[("SERVER_NAME", "n")],
            want: MissingKey("SERVER_PORT"),
        },
        // Statements of the algorithm text.
        AppUriCase {
            name: "HTTP_HOST verbatim, port kept",
            base: true,
            scheme: http,
            extra: &[("HTTP_HOST", "example.com:80")],
            want: Uri("http://example.com:80/"),
        },
        AppUriCase {
            name: "HTTP_HOST not normalised",
            base: true,
            scheme: http,
            extra: &[("HTTP_HOST", "EXAMPLE.com.")],
            want: Uri("http://EXAMPLE.com./"),
        },
        AppUriCase {
            name: "port 080 is not elided",
            base: true,
            scheme: http,
            extra: &[("SERVER_PORT", "080")],
            want: Uri("http://127.0.0.1:080/"),
        },
        AppUriCase {
            name: "https, port 0443 is not elided",
            base: true,
            scheme: Some("https"),
            extra: &[("SERVER_PORT", "0443")],
            want: Uri("https://127.0.0.1:0443/"),
        },
        AppUriCase {
            name: "SN '' becomes /",
            base: true,
            scheme: http,
            extra: &[("SCRIPT_NAME", "")],
            want: Uri("http://127.0.0.1/"),
        },
        AppUriCase {
            name: "SN noslash: no slash inserted",
            base: true,
            scheme: http,
            extra: &[("SCRIPT_NAME", "noslash")],
            want: Uri("http://127.0.0.1noslash"),
        },
        AppUriCase {
            name: "SN: % ? # space escaped, upper-case hex",
            base: true,
            scheme: http,
            extra: &[("SCRIPT_NAME", "/%?# \u{ff}")],
            want: Uri("http://127.0.0.1/%25%3F%23%20%FF"),
        },
        AppUriCase {
            name: "SN \\u20ac",
            base: true,
            scheme: http,
            extra: &[("SCRIPT_NAME", "/a\u{20ac}")],
            want: NotLatin1("SCRIPT_NAME", '\u{20ac}'),
        },
        AppUriCase {
            name: "missing SERVER_NAME",
            base: false,
            scheme: http,
            extra: &[("SERVER_PORT", "80")],
            want: MissingKey("SERVER_NAME"),
        },
        AppUriCase {
            name: "empty environ: SERVER_NAME is needed first",
            base: false,
            scheme: http,
            extra: &[],
            want: MissingKey("SERVER_NAME"),
        },
        AppUriCase {
            name: "HTTP_HOST makes SERVER_NAME/PORT unneeded",
            base: false,
            scheme: http,
            extra: &[("HTTP_HOST", "h")],
            want: Uri("http://h/"),
        },
        AppUriCase {
            name: "HTTP_HOST '' still needs SERVER_PORT",
            base: false,
            scheme: http,
            extra: &[("HTTP_HOST", ""), ("SERVER_NAME", "n")],
            want: MissingKey("SERVER_PORT"),
        },
        // Deviation: Python raises KeyError 'wsgi.url_scheme' for a missing scheme; an Environ
        // always has one, "http" when unset.
        AppUriCase {
            name: "url scheme unset reads as http",
            base: true,
            scheme: None,
            extra: &[],
            want: Uri("http://127.0.0.1/"),
        },
    ];
    for case in &cases {
        let env = app_env(case);
        check_uri(case.name, application_uri(&env), case.want, |key| {
            env.get(key).unwrap_or_default().to_owned()
        });
    }
}

/// (case, variables given, variables removed after the defaults, expected URI)
type CheckAppUriRow = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
    &'static str,
);

#[test]
fn application_uri_after_setup_testing_defaults() {
    // test_wsgiref's checkAppURI: setup_testing_defaults(kw), then application_uri(kw).
    let cases: &[CheckAppUriRow] = &[
        ("no keys", &[], &[], "http://127.0.0.1/"),
        (
            "SN /spam",
            &[("SCRIPT_NAME", "/spam")],
            &[],
            "http://127.0.0.1/spam",
        ),
        (
            "SN /sp\\xe4m",
            &[("SCRIPT_NAME", "/sp\u{e4}m")],
            &[],
            "http://127.0.0.1/sp%E4m",
        ),
        (
            "HTTP_HOST spam.example.com:2071, port 2071",
            &[
                ("HTTP_HOST", "spam.example.com:2071"),
                ("SERVER_PORT", "2071"),
            ],
            &[],
            "http://spam.example.com:2071/",
        ),
        (
            "SERVER_NAME spam.example.com",
            &[("SERVER_NAME", "spam.example.com")],
            &[],
            "http://spam.example.com/",
        ),
        (
            "HTTP_HOST 127.0.0.1, SERVER_NAME spam.example.com",
            &[
                ("HTTP_HOST", "127.0.0.1"),
                ("SERVER_NAME", "spam.example.com"),
            ],
            &[],
            "http://127.0.0.1/",
        ),
        ("HTTPS on", &[("HTTPS", "on")], &[], "https://127.0.0.1/"),
        // Deviation: Python's `HTTP_HOST=None` (present, so kept, but "no host") cannot exist.
        // Its two Rust equivalents: an empty HTTP_HOST (present, so kept; empty, so ignored) ...
        (
            "SERVER_PORT 8000, HTTP_HOST '' (for None)",
            &[("SERVER_PORT", "8000"), ("HTTP_HOST", "")],
            &[],
            "http://127.0.0.1:8000/",
        ),
        // ... and an HTTP_HOST removed after the defaults filled it in.
        (
            "SERVER_PORT 8000, HTTP_HOST removed (for None)",
            &[("SERVER_PORT", "8000")],
            &["HTTP_HOST"],
            "http://127.0.0.1:8000/",
        ),
    ];
    for &(case, given, removed, expected) in cases {
        let mut env = environ(None, given);
        setup_testing_defaults(&mut env);
        for key in removed {
            env.remove(key);
        }
        assert_eq!(
            application_uri(&env).as_deref(),
            Ok(expected),
            "checkAppURI, case {case}"
        );
    }
}

struct ReqUriCase {
    /// SCRIPT_NAME; `None` = absent.
    sn: Option<&'static str>,
    /// PATH_INFO; `None` = absent.
    pi: Option<&'static str>,
    /// QUERY_STRING; `None` = absent.
    qs: Option<&'static str>,
    include_query: bool,
    want: Want,
}

const fn req(
    sn: Option<&'static str>,
    pi: Option<&'static str>,
    qs: Option<&'static str>,
    include_query: bool,
    want: Want,
) -> ReqUriCase {
    ReqUriCase {
        sn,
        pi,
        qs,
        include_query,
        want,
    }
}

#[test]
fn request_uri_table() {
    use Want::*;
    let e = Some("");
    let cases = [
        // The reference's table (base env: scheme http, SERVER_NAME 127.0.0.1, SERVER_PORT 80).
        req(e, Some("/"), None, true, Uri("http://127.0.0.1/")),
        req(e, None, None, true, Uri("http://127.0.0.1/")),
        req(e, e, None, true, Uri("http://127.0.0.1/")),
        req(e, Some("/x"), None, true, Uri("http://127.0.0.1/x")),
        // Quirk kept: with an empty SCRIPT_NAME the first character of PATH_INFO is eaten.
        req(e, Some("x"), None, true, Uri("http://127.0.0.1/")),
        req(e, Some("//x"), None, true, Uri("http://127.0.0.1//x")),
        req(
            Some("/spam"),
            None,
            None,
            true,
            Uri("http://127.0.0.1/spam"),
        ),
        req(
            Some("/sp\u{e4}m"),
            None,
            None,
            true,
            Uri("http://127.0.0.1/sp%E4m"),
        ),
        req(Some("/s"), e, None, true, Uri("http://127.0.0.1/s")),
        req(
            Some("/s"),
            Some("/"),
            None,
            true,
            Uri("http://127.0.0.1/s/"),
        ),
        req(
            Some("/s"),
            Some("x"),
            None,
            true,
            Uri("http://127.0.0.1/sx"),
        ),
        req(
            Some("/"),
            Some("/x"),
            None,
            true,
            Uri("http://127.0.0.1//x"),
        ),
        req(
            Some("/spammity"),
            Some("/spam"),
            None,
            true,
            Uri("http://127.0.0.1/spammity/spam"),
        ),
        req(
            Some("/spammity"),
            Some("/sp\u{e4}m"),
            None,
            true,
            Uri("http://127.0.0.1/spammity/sp%E4m"),
        ),
        req(
            Some("/spammity"),
            Some("/spam;ham"),
            None,
            true,
            Uri("http://127.0.0.1/spammity/spam;ham"),
        ),
        req(
            Some("/spammity"),
            Some("/spam;cookie=1234,5678"),
            None,
            true,
            Uri("http://127.0.0.1/spammity/spam;cookie=1234,5678"),
        ),
        req(
            Some("/s"),
            Some("/a b;c=d,e/f?g#h%i"),
            None,
            true,
            Uri("http://127.0.0.1/s/a%20b;c=d,e/f%3Fg%23h%25i"),
        ),
        req(
            Some("/spammity"),
            Some("/spam"),
            Some("say=ni"),
            true,
            Uri("http://127.0.0.1/spammity/spam?say=ni"),
        ),
        req(
            Some("/spammity"),
            Some("/spam"),
            Some("s%E4y=ni"),
            true,
            Uri("http://127.0.0.1/spammity/spam?s%E4y=ni"),
        ),
        req(
            Some("/spammity"),
            Some("/spam"),
            Some("say=ni"),
            false,
            Uri("http://127.0.0.1/spammity/spam"),
        ),
        req(e, Some("/p"), e, true, Uri("http://127.0.0.1/p")),
        req(
            e,
            Some("/p"),
            Some("a=1&b=%20 c"),
            true,
            Uri("http://127.0.0.1/p?a=1&b=%20 c"),
        ),
        req(
            e,
            Some("/\u{20ac}"),
            None,
            true,
            NotLatin1("PATH_INFO", '\u{20ac}'),
        ),
        // Statements of the algorithm text.
        req(
            e,
            Some("/!*'()@:$&+"),
            None,
            true,
            Uri("http://127.0.0.1/%21%2A%27%28%29%40%3A%24%26%2B"),
        ),
        req(
            e,
            Some("/-_.~az09AZ"),
            None,
            true,
            Uri("http://127.0.0.1/-_.~az09AZ"),
        ),
        req(e, Some("/\u{ff}"), None, true, Uri("http://127.0.0.1/%FF")),
        req(e, Some("/p"), None, true, Uri("http://127.0.0.1/p")),
        req(e, Some("/p"), Some("q"), false, Uri("http://127.0.0.1/p")),
        req(
            e,
            Some("/p"),
            Some("a b#c"),
            true,
            Uri("http://127.0.0.1/p?a b#c"),
        ),
        req(
            Some("/\u{100}"),
            Some("/p"),
            None,
            true,
            NotLatin1("SCRIPT_NAME", '\u{100}'),
        ),
    ];
    for (row, case) in cases.iter().enumerate() {
        // The reference joins on "SCRIPT_NAME falsy", i.e. missing or '': every row with an empty
        // SCRIPT_NAME is also checked with no SCRIPT_NAME at all.
        let variants: &[Option<&str>] = if case.sn == Some("") {
            &[Some(""), None]
        } else {
            &[case.sn]
        };
        for &sn in variants {
            let mut env = environ(Some("http"), BASE);
            for (key, value) in [
                ("SCRIPT_NAME", sn),
                ("PATH_INFO", case.pi),
                ("QUERY_STRING", case.qs),
            ] {
                if let Some(value) = value {
                    env.insert(key, value);
                }
            }
            let name = format!(
                "row {row}: SN {sn:?} PI {:?} QS {:?} include_query={}",
                case.pi, case.qs, case.include_query
            );
            check_uri(
                &name,
                request_uri(&env, case.include_query),
                case.want,
                |key| env.get(key).unwrap_or_default().to_owned(),
            );
        }
    }
}

#[test]
fn request_uri_propagates_application_uri_errors() {
    // Step 1 is application_uri, so its KeyError comes through.
    let env = environ(Some("http"), &[("SERVER_NAME", "n"), ("PATH_INFO", "/p")]);
    check_uri(
        "no SERVER_PORT",
        request_uri(&env, true),
        Want::MissingKey("SERVER_PORT"),
        |_| String::new(),
    );
}

// ---------------------------------------------------------------------------------------------
// 1.4 shift_path_info
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Shift {
    /// Returns `Some(name)`.
    Name(&'static str),
    /// Returns `None`.
    Nothing,
    /// `IndexError`: `ShiftPathError::NoSlash`, environ unchanged.
    NoSlash,
}

/// (SN in, PI in, returns, SN out, PI out); `None` = key absent.
type ShiftRow = (
    Option<&'static str>,
    Option<&'static str>,
    Shift,
    Option<&'static str>,
    Option<&'static str>,
);

#[test]
fn shift_path_info_table() {
    use Shift::*;
    let s = Some;
    let rows: &[ShiftRow] = &[
        // test_wsgiref cases.
        (s(""), s("/"), Name(""), s("/"), s("")),
        (s(""), s("/x"), Name("x"), s("/x"), s("")),
        (s("/"), s(""), Nothing, s("/"), s("")),
        (s("/a"), s("/x/y"), Name("x"), s("/a/x"), s("/y")),
        (s("/a"), s("/x/"), Name("x"), s("/a/x"), s("/")),
        (s("/a/b"), s("/../y"), Name(".."), s("/a"), s("/y")),
        (s(""), s("/../y"), Name(".."), s(""), s("/y")),
        (s("/a/b"), s("//y"), Name("y"), s("/a/b/y"), s("")),
        (s("/a/b"), s("//y/"), Name("y"), s("/a/b/y"), s("/")),
        (s("/a/b"), s("/./y"), Name("y"), s("/a/b/y"), s("")),
        (s("/a/b"), s("/./y/"), Name("y"), s("/a/b/y"), s("/")),
        (
            s("/a/b"),
            s("///./..//y/.//"),
            Name(".."),
            s("/a"),
            s("/y/"),
        ),
        (s("/a/b"), s("///"), Name(""), s("/a/b/"), s("")),
        (s("/a/b"), s("/.//"), Name(""), s("/a/b/"), s("")),
        (s("/a/b"), s("/x//"), Name("x"), s("/a/b/x"), s("/")),
        (s("/a/b"), s("/."), Nothing, s("/a/b"), s("")),
        // Extra cases (confirmed by running CPython).
        (s(""), s(""), Nothing, s(""), s("")),
        (s(""), s("//"), Name(""), s("/"), s("")),
        (s(""), s("/./"), Name(""), s("/"), s("")),
        (s(""), s("/."), Nothing, s(""), s("")),
        (s(""), s("/a/./b"), Name("a"), s("/a"), s("/b")),
        (s(""), s("/a/../b"), Name("a"), s("/a"), s("/../b")),
        (s(""), s("/x/./"), Name("x"), s("/x"), s("/")),
        (s(""), s("/x/."), Name("x"), s("/x"), s("/.")),
        (s(""), s("/x/.."), Name("x"), s("/x"), s("/..")),
        (s(""), s("/x/y/z"), Name("x"), s("/x"), s("/y/z")),
        (s(""), s("///x"), Name("x"), s("/x"), s("")),
        (s(""), s("/.."), Name(".."), s(""), s("")),
        (s("/a"), s("/.."), Name(".."), s(""), s("")),
        (s("/a/b"), s("/.."), Name(".."), s("/a"), s("")),
        (s("/a/b"), s("/../"), Name(".."), s("/a"), s("/")),
        (s("/a/b"), s("/../.."), Name(".."), s("/a"), s("/..")),
        (s("/a"), s("/../../.."), Name(".."), s(""), s("/../..")),
        (s("/a"), s("/"), Name(""), s("/a/"), s("")),
        (s("/a/"), s("/"), Name(""), s("/a/"), s("")),
        (s("/a"), s("//"), Name(""), s("/a/"), s("")),
        (s("/a"), s("/./"), Name(""), s("/a/"), s("")),
        (s("/a"), s("/."), Nothing, s("/a"), s("")),
        (s("/a/b"), s("/./"), Name(""), s("/a/b/"), s("")),
        (s("/a/b"), s("/././"), Name(""), s("/a/b/"), s("")),
        (s("/a"), s("/x/../y"), Name("x"), s("/a/x"), s("/../y")),
        (s("/a"), s("/x/./y"), Name("x"), s("/a/x"), s("/y")),
        (s("/a"), s("/x//y"), Name("x"), s("/a/x"), s("/y")),
        (s("/a"), s("/x///"), Name("x"), s("/a/x"), s("/")),
        (s("/a"), s("/x/y/"), Name("x"), s("/a/x"), s("/y/")),
        (s("/"), s("/"), Name(""), s("/"), s("")),
        // normpath keeps exactly two leading slashes.
        (s("/"), s("/x"), Name("x"), s("//x"), s("")),
        (s("//"), s("/x"), Name("x"), s("/x"), s("")),
        (s("/a/"), s("/x"), Name("x"), s("/a/x"), s("")),
        (s("/a//b"), s("/x"), Name("x"), s("/a/b/x"), s("")),
        (s("/a/./b"), s("/x"), Name("x"), s("/a/b/x"), s("")),
        (s("/a/../b"), s("/x"), Name("x"), s("/b/x"), s("")),
        (s("."), s("/x"), Name("x"), s("x"), s("")),
        (s("a"), s("/x"), Name("x"), s("a/x"), s("")),
        // No percent-decoding.
        (s("/s"), s("/%2F"), Name("%2F"), s("/s/%2F"), s("")),
        (s(""), s("/a b"), Name("a b"), s("/a b"), s("")),
        (s(""), s("/.x"), Name(".x"), s("/.x"), s("")),
        (s(""), s("/..."), Name("..."), s("/..."), s("")),
        (s(""), s("x/y"), Name("y"), s("/y"), s("x")),
        (s(""), s("x"), NoSlash, s(""), s("x")),
        // Missing keys.
        (None, None, Nothing, None, None),
        (None, s("/x"), Name("x"), s("/x"), s("")),
        (s("/a"), None, Nothing, s("/a"), None),
        // A PATH_INFO without '/' fails the same way when SCRIPT_NAME is absent: nothing created.
        (None, s("x"), NoSlash, None, s("x")),
    ];
    for &(sn, pi, want, sn_out, pi_out) in rows {
        let case = format!("SN {sn:?} PI {pi:?}");
        let mut env = Environ::new();
        if let Some(sn) = sn {
            env.insert("SCRIPT_NAME", sn);
        }
        if let Some(pi) = pi {
            env.insert("PATH_INFO", pi);
        }
        let got = shift_path_info(&mut env);
        match want {
            Name(name) => assert_eq!(got, Ok(Some(name.to_owned())), "case {case}"),
            Nothing => assert_eq!(got, Ok(None), "case {case}"),
            NoSlash => {
                let err = got.expect_err(&case);
                let path = pi.unwrap_or_default();
                assert!(
                    matches!(&err, ShiftPathError::NoSlash { path_info } if path_info == path),
                    "case {case}: expected NoSlash, got {err:?}"
                );
                assert!(
                    err.to_string().contains(&format!("{path:?}")),
                    "case {case}: the message should name PATH_INFO {path:?}: {err}"
                );
            }
        }
        assert_eq!(
            env.get("SCRIPT_NAME"),
            sn_out,
            "case {case}: SCRIPT_NAME after"
        );
        assert_eq!(env.get("PATH_INFO"), pi_out, "case {case}: PATH_INFO after");
        let keys = usize::from(sn_out.is_some()) + usize::from(pi_out.is_some());
        assert_eq!(
            env.len(),
            keys,
            "case {case}: no other keys are created: {env:?}"
        );
    }
}

#[test]
fn shift_path_info_repeatedly() {
    // SN '', PI '/a/b/c/': 'a', 'b', 'c', '', then None forever with SN staying '/a/b/c/'.
    let mut env: Environ = [("SCRIPT_NAME", ""), ("PATH_INFO", "/a/b/c/")]
        .into_iter()
        .collect();
    let steps: &[(Option<&str>, &str, &str)] = &[
        (Some("a"), "/a", "/b/c/"),
        (Some("b"), "/a/b", "/c/"),
        (Some("c"), "/a/b/c", "/"),
        (Some(""), "/a/b/c/", ""),
        (None, "/a/b/c/", ""),
        (None, "/a/b/c/", ""),
        (None, "/a/b/c/", ""),
    ];
    for (step, &(name, sn, pi)) in steps.iter().enumerate() {
        let got = shift_path_info(&mut env);
        assert_eq!(got, Ok(name.map(str::to_owned)), "shift #{step}");
        assert_eq!(
            (env.get("SCRIPT_NAME"), env.get("PATH_INFO")),
            (Some(sn), Some(pi)),
            "environ after shift #{step}"
        );
    }
}

#[test]
fn shift_path_info_leaves_other_entries_alone() {
    let mut env = environ(
        Some("https"),
        &[("PATH_INFO", "/x/y"), ("QUERY_STRING", "q=1")],
    );
    assert_eq!(shift_path_info(&mut env), Ok(Some("x".to_owned())));
    assert_eq!(
        vars_of(&env),
        sorted(&[
            ("PATH_INFO", "/y"),
            ("QUERY_STRING", "q=1"),
            ("SCRIPT_NAME", "/x")
        ])
    );
    assert_eq!(env.url_scheme(), "https");
}

// ---------------------------------------------------------------------------------------------
// 1.5 setup_testing_defaults
// ---------------------------------------------------------------------------------------------

struct SetupCase {
    name: &'static str,
    given_scheme: Option<&'static str>,
    given: &'static [(&'static str, &'static str)],
    /// Every string variable afterwards.
    want: &'static [(&'static str, &'static str)],
    want_scheme: &'static str,
}

#[test]
fn setup_testing_defaults_table() {
    const ALL_DEFAULTS: &[(&str, &str)] = &[
        ("SERVER_NAME", "127.0.0.1"),
        ("SERVER_PROTOCOL", "HTTP/1.0"),
        ("HTTP_HOST", "127.0.0.1"),
        ("REQUEST_METHOD", "GET"),
        ("SCRIPT_NAME", ""),
        ("PATH_INFO", "/"),
        ("SERVER_PORT", "80"),
    ];
    let cases = [
        // {} -> all 14 keys: these 7 variables, plus wsgi.url_scheme and the 6 typed wsgi.*
        // fields checked for every case below.
        SetupCase {
            name: "{}",
            given_scheme: None,
            given: &[],
            want: ALL_DEFAULTS,
            want_scheme: "http",
        },
        SetupCase {
            name: "HTTPS on",
            given_scheme: None,
            given: &[("HTTPS", "on")],
            want: &[
                ("HTTPS", "on"),
                ("SERVER_NAME", "127.0.0.1"),
                ("SERVER_PROTOCOL", "HTTP/1.0"),
                ("HTTP_HOST", "127.0.0.1"),
                ("REQUEST_METHOD", "GET"),
                ("SCRIPT_NAME", ""),
                ("PATH_INFO", "/"),
                ("SERVER_PORT", "443"),
            ],
            want_scheme: "https",
        },
        SetupCase {
            name: "HTTPS ON (case-sensitive)",
            given_scheme: None,
            given: &[("HTTPS", "ON")],
            want: &[
                ("HTTPS", "ON"),
                ("SERVER_NAME", "127.0.0.1"),
                ("SERVER_PROTOCOL", "HTTP/1.0"),
                ("HTTP_HOST", "127.0.0.1"),
                ("REQUEST_METHOD", "GET"),
                ("SCRIPT_NAME", ""),
                ("PATH_INFO", "/"),
                ("SERVER_PORT", "80"),
            ],
            want_scheme: "http",
        },
        SetupCase {
            name: "HTTPS foo",
            given_scheme: None,
            given: &[("HTTPS", "foo")],
            want: &[
                ("HTTPS", "foo"),
                ("SERVER_NAME", "127.0.0.1"),
                ("SERVER_PROTOCOL", "HTTP/1.0"),
                ("HTTP_HOST", "127.0.0.1"),
                ("REQUEST_METHOD", "GET"),
                ("SCRIPT_NAME", ""),
                ("PATH_INFO", "/"),
                ("SERVER_PORT", "80"),
            ],
            want_scheme: "http",
        },
        SetupCase {
            name: "url scheme https",
            given_scheme: Some("https"),
            given: &[],
            want: &[
                ("SERVER_NAME", "127.0.0.1"),
                ("SERVER_PROTOCOL", "HTTP/1.0"),
                ("HTTP_HOST", "127.0.0.1"),
                ("REQUEST_METHOD", "GET"),
                ("SCRIPT_NAME", ""),
                ("PATH_INFO", "/"),
                ("SERVER_PORT", "443"),
            ],
            want_scheme: "https",
        },
        SetupCase {
            name: "url scheme ftp: no SERVER_PORT",
            given_scheme: Some("ftp"),
            given: &[],
            want: &[
                ("SERVER_NAME", "127.0.0.1"),
                ("SERVER_PROTOCOL", "HTTP/1.0"),
                ("HTTP_HOST", "127.0.0.1"),
                ("REQUEST_METHOD", "GET"),
                ("SCRIPT_NAME", ""),
                ("PATH_INFO", "/"),
            ],
            want_scheme: "ftp",
        },
        SetupCase {
            name: "SERVER_NAME foo.bar is copied to HTTP_HOST",
            given_scheme: None,
            given: &[("SERVER_NAME", "foo.bar")],
            want: &[
                ("SERVER_NAME", "foo.bar"),
                ("SERVER_PROTOCOL", "HTTP/1.0"),
                ("HTTP_HOST", "foo.bar"),
                ("REQUEST_METHOD", "GET"),
                ("SCRIPT_NAME", ""),
                ("PATH_INFO", "/"),
                ("SERVER_PORT", "80"),
            ],
            want_scheme: "http",
        },
        SetupCase {
            name: "SCRIPT_NAME /x: no PATH_INFO added",
            given_scheme: None,
            given: &[("SCRIPT_NAME", "/x")],
            want: &[
                ("SERVER_NAME", "127.0.0.1"),
                ("SERVER_PROTOCOL", "HTTP/1.0"),
                ("HTTP_HOST", "127.0.0.1"),
                ("REQUEST_METHOD", "GET"),
                ("SCRIPT_NAME", "/x"),
                ("SERVER_PORT", "80"),
            ],
            want_scheme: "http",
        },
        // Deviation: Python's `{'HTTP_HOST': None}` stays None; a Rust value cannot be None,
        // so the nearest case is a present-but-empty HTTP_HOST, which must stay empty.
        SetupCase {
            name: "HTTP_HOST '' (for None) stays",
            given_scheme: None,
            given: &[("HTTP_HOST", "")],
            want: &[
                ("SERVER_NAME", "127.0.0.1"),
                ("SERVER_PROTOCOL", "HTTP/1.0"),
                ("HTTP_HOST", ""),
                ("REQUEST_METHOD", "GET"),
                ("SCRIPT_NAME", ""),
                ("PATH_INFO", "/"),
                ("SERVER_PORT", "80"),
            ],
            want_scheme: "http",
        },
        // Statements of the text: "present", not "truthy"; order of the steps.
        SetupCase {
            name: "PATH_INFO only: no SCRIPT_NAME added",
            given_scheme: None,
            given: &[("PATH_INFO", "/p")],
            want: &[
                ("SERVER_NAME", "127.0.0.1"),
                ("SERVER_PROTOCOL", "HTTP/1.0"),
                ("HTTP_HOST", "127.0.0.1"),
                ("REQUEST_METHOD", "GET"),
                ("PATH_INFO", "/p"),
                ("SERVER_PORT", "80"),
            ],
            want_scheme: "http",
        },
        SetupCase {
            name: "SCRIPT_NAME '' and PATH_INFO '' are kept",
            given_scheme: None,
            given: &[("SCRIPT_NAME", ""), ("PATH_INFO", "")],
            want: &[
                ("SERVER_NAME", "127.0.0.1"),
                ("SERVER_PROTOCOL", "HTTP/1.0"),
                ("HTTP_HOST", "127.0.0.1"),
                ("REQUEST_METHOD", "GET"),
                ("SCRIPT_NAME", ""),
                ("PATH_INFO", ""),
                ("SERVER_PORT", "80"),
            ],
            want_scheme: "http",
        },
        SetupCase {
            name: "SERVER_NAME '' is kept and copied to HTTP_HOST",
            given_scheme: None,
            given: &[("SERVER_NAME", "")],
            want: &[
                ("SERVER_NAME", ""),
                ("SERVER_PROTOCOL", "HTTP/1.0"),
                ("HTTP_HOST", ""),
                ("REQUEST_METHOD", "GET"),
                ("SCRIPT_NAME", ""),
                ("PATH_INFO", "/"),
                ("SERVER_PORT", "80"),
            ],
            want_scheme: "http",
        },
        SetupCase {
            name: "present values are never replaced",
            given_scheme: None,
            given: &[
                ("SERVER_NAME", "s.example"),
                ("SERVER_PROTOCOL", "HTTP/1.1"),
                ("HTTP_HOST", "h.example"),
                ("REQUEST_METHOD", "POST"),
                ("SCRIPT_NAME", "/app"),
                ("PATH_INFO", "/p"),
                ("SERVER_PORT", "8000"),
            ],
            want: &[
                ("SERVER_NAME", "s.example"),
                ("SERVER_PROTOCOL", "HTTP/1.1"),
                ("HTTP_HOST", "h.example"),
                ("REQUEST_METHOD", "POST"),
                ("SCRIPT_NAME", "/app"),
                ("PATH_INFO", "/p"),
                ("SERVER_PORT", "8000"),
            ],
            want_scheme: "http",
        },
        SetupCase {
            name: "HTTPS on, SERVER_PORT '' kept",
            given_scheme: None,
            given: &[("HTTPS", "on"), ("SERVER_PORT", "")],
            want: &[
                ("HTTPS", "on"),
                ("SERVER_NAME", "127.0.0.1"),
                ("SERVER_PROTOCOL", "HTTP/1.0"),
                ("HTTP_HOST", "127.0.0.1"),
                ("REQUEST_METHOD", "GET"),
                ("SCRIPT_NAME", ""),
                ("PATH_INFO", "/"),
                ("SERVER_PORT", ""),
            ],
            want_scheme: "https",
        },
        SetupCase {
            name: "a present url scheme wins over HTTPS",
            given_scheme: Some("http"),
            given: &[("HTTPS", "on")],
            want: &[
                ("HTTPS", "on"),
                ("SERVER_NAME", "127.0.0.1"),
                ("SERVER_PROTOCOL", "HTTP/1.0"),
                ("HTTP_HOST", "127.0.0.1"),
                ("REQUEST_METHOD", "GET"),
                ("SCRIPT_NAME", ""),
                ("PATH_INFO", "/"),
                ("SERVER_PORT", "80"),
            ],
            want_scheme: "http",
        },
        SetupCase {
            name: "HTTPS 1, port from the final scheme",
            given_scheme: None,
            given: &[("HTTPS", "1")],
            want: &[
                ("HTTPS", "1"),
                ("SERVER_NAME", "127.0.0.1"),
                ("SERVER_PROTOCOL", "HTTP/1.0"),
                ("HTTP_HOST", "127.0.0.1"),
                ("REQUEST_METHOD", "GET"),
                ("SCRIPT_NAME", ""),
                ("PATH_INFO", "/"),
                ("SERVER_PORT", "443"),
            ],
            want_scheme: "https",
        },
        SetupCase {
            name: "url scheme HTTPS (not exactly https): no SERVER_PORT",
            given_scheme: Some("HTTPS"),
            given: &[],
            want: &[
                ("SERVER_NAME", "127.0.0.1"),
                ("SERVER_PROTOCOL", "HTTP/1.0"),
                ("HTTP_HOST", "127.0.0.1"),
                ("REQUEST_METHOD", "GET"),
                ("SCRIPT_NAME", ""),
                ("PATH_INFO", "/"),
            ],
            want_scheme: "HTTPS",
        },
    ];
    for case in &cases {
        let name = case.name;
        let mut env = environ(case.given_scheme, case.given);
        setup_testing_defaults(&mut env);
        assert_eq!(vars_of(&env), sorted(case.want), "case {name}: variables");
        assert_eq!(
            env.url_scheme(),
            case.want_scheme,
            "case {name}: wsgi.url_scheme"
        );
        assert!(env.has_url_scheme(), "case {name}: wsgi.url_scheme is set");
        // Deviation: wsgi.version/run_once/multithread/multiprocess/input/errors are typed
        // fields that exist in every Environ; check they hold the reference's defaults.
        assert_eq!(env.version(), (1, 0), "case {name}: wsgi.version");
        assert!(!env.run_once(), "case {name}: wsgi.run_once");
        assert!(!env.multithread(), "case {name}: wsgi.multithread");
        assert!(!env.multiprocess(), "case {name}: wsgi.multiprocess");
        let mut input = Vec::new();
        env.input()
            .read_to_end(&mut input)
            .expect("wsgi.input reads");
        assert!(input.is_empty(), "case {name}: wsgi.input is empty");
        env.errors()
            .write_all(b"diagnostic")
            .expect("wsgi.errors writes");
        // Setting up twice changes nothing: every key is now present.
        let before = vars_of(&env);
        setup_testing_defaults(&mut env);
        assert_eq!(
            vars_of(&env),
            before,
            "case {name}: a second call changes nothing"
        );
        assert_eq!(
            env.url_scheme(),
            case.want_scheme,
            "case {name}: second call, scheme"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 1.6 is_hop_by_hop
// ---------------------------------------------------------------------------------------------

#[test]
fn is_hop_by_hop_table() {
    let cases: &[(&str, bool)] = &[
        // The 8 names, as listed and in other cases.
        ("connection", true),
        ("keep-alive", true),
        ("proxy-authenticate", true),
        ("proxy-authorization", true),
        ("te", true),
        ("trailers", true),
        ("transfer-encoding", true),
        ("upgrade", true),
        ("Connection", true),
        ("CONNECTION", true),
        ("Keep-Alive", true),
        ("Proxy-Authenticate", true),
        ("Proxy-Authorization", true),
        ("TE", true),
        ("Te", true),
        ("Trailers", true),
        ("Transfer-Encoding", true),
        ("TRANSFER-ENCODING", true),
        ("Upgrade", true),
        ("uPgRaDe", true),
        // Python's str.lower() is Unicode-aware: KELVIN SIGN (U+212A) lowercases to 'k'.
        ("\u{212a}eep-Alive", true),
        // ... while U+0130 lowercases to "i\u{307}", which matches nothing.
        ("proxy-author\u{130}zation", false),
        // No trimming.
        (" connection", false),
        ("connection ", false),
        ("connection\t", false),
        // `trailers` (plural) only.
        ("Trailer", false),
        ("trailer", false),
        ("proxy-connection", false),
        ("Proxy-Connection", false),
        ("host", false),
        ("Host", false),
        ("content-length", false),
        ("Content-Length", false),
        ("Accept", false),
        ("Cache-Control", false),
        ("Date", false),
        ("Pragma", false),
        ("Via", false),
        ("Warning", false),
        ("", false),
        ("keep_alive", false),
        ("transfer-encodings", false),
        ("t", false),
    ];
    for &(name, expected) in cases {
        assert_eq!(is_hop_by_hop(name), expected, "is_hop_by_hop({name:?})");
    }
}

// ---------------------------------------------------------------------------------------------
// 1.7 FileWrapper
//
// Not expressible in Rust (so not tested): the wrapper exposing `filelike` as an attribute and
// a `close` attribute only when the file-like object has one (a FileWrapper always has
// `close()`, which drops the reader); blocks of `str` (Rust blocks are bytes); the 3.9/3.10
// `__getitem__` (removed in the 3.11 reference; a FileWrapper cannot be indexed at all).
// ---------------------------------------------------------------------------------------------

/// (case, data, blksize, expected blocks)
type BlockRow = (&'static str, Vec<u8>, usize, Vec<Vec<u8>>);

fn block_rows() -> Vec<BlockRow> {
    let xyz = |n: usize| b"xyz".repeat(n);
    vec![
        (
            "150-char text, blksize 120",
            xyz(50),
            120,
            vec![xyz(40), xyz(10)],
        ),
        (
            "b'abcdefghij', blksize 4",
            b"abcdefghij".to_vec(),
            4,
            vec![b"abcd".to_vec(), b"efgh".to_vec(), b"ij".to_vec()],
        ),
        ("empty source, no blocks", Vec::new(), 4, Vec::new()),
        (
            "exact multiple of blksize",
            b"abcdefgh".to_vec(),
            4,
            vec![b"abcd".to_vec(), b"efgh".to_vec()],
        ),
        (
            "blksize 1",
            b"abc".to_vec(),
            1,
            vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()],
        ),
        (
            "default blksize 8192",
            vec![7; 20_000],
            DEFAULT_BLKSIZE,
            vec![vec![7; 8192], vec![7; 8192], vec![7; 20_000 - 2 * 8192]],
        ),
    ]
}

#[test]
fn file_wrapper_blocks_table() {
    for (case, data, blksize, expected) in block_rows() {
        let mut wrapper = FileWrapper::new(io::Cursor::new(data), blksize);
        assert_eq!(wrapper.blksize(), blksize, "case {case}: blksize attribute");
        let blocks: Vec<Vec<u8>> = wrapper
            .by_ref()
            .collect::<io::Result<_>>()
            .unwrap_or_else(|e| panic!("case {case}: {e}"));
        assert_eq!(blocks, expected, "case {case}: blocks");
        assert!(
            !wrapper.is_closed(),
            "case {case}: iterating to the end does not close"
        );
    }
}

#[test]
fn file_wrapper_read_block_table() {
    for (case, data, blksize, expected) in block_rows() {
        let mut wrapper = FileWrapper::new(io::Cursor::new(data), blksize);
        for (i, block) in expected.iter().enumerate() {
            let got = wrapper
                .read_block()
                .unwrap_or_else(|e| panic!("case {case}: {e}"));
            assert_eq!(got.as_ref(), Some(block), "case {case}: block #{i}");
        }
        assert_eq!(wrapper.read_block().ok(), Some(None), "case {case}: end");
    }
}

#[test]
fn body_file_iterates_the_same_blocks() {
    for (case, data, blksize, expected) in block_rows() {
        let mut body = Body::file(FileWrapper::new(io::Cursor::new(data), blksize));
        assert!(
            body.is_file_wrapper(),
            "case {case}: is a file wrapper body"
        );
        let blocks: Vec<Vec<u8>> = body
            .by_ref()
            .map(|chunk| {
                chunk
                    .unwrap_or_else(|e| panic!("case {case}: {e}"))
                    .into_owned()
            })
            .collect();
        assert_eq!(blocks, expected, "case {case}: body chunks");
        let wrapper = body.file_wrapper_mut().expect("the wrapper is still there");
        assert!(
            !wrapper.is_closed(),
            "case {case}: reaching the end does not close"
        );
        body.close();
        let wrapper = body.file_wrapper_mut().expect("the wrapper is still there");
        assert!(
            wrapper.is_closed(),
            "case {case}: closing the body closes the file"
        );
    }
}

#[test]
fn file_wrapper_default_blksize_is_8192() {
    assert_eq!(DEFAULT_BLKSIZE, 8192);
    let wrapper = FileWrapper::with_default_blksize(io::empty());
    assert_eq!(wrapper.blksize(), 8192);
}

#[test]
fn file_wrapper_is_its_own_iterator() {
    // `iter(w) is w`: FileWrapper is itself the Iterator (its `into_iter()` is the identity).
    fn own_iterator<I: Iterator<Item = io::Result<Vec<u8>>>>(iter: I) -> I {
        iter
    }
    let mut wrapper = own_iterator(FileWrapper::new(&b"abc"[..], 2));
    assert_eq!(
        wrapper.next().transpose().ok().flatten().as_deref(),
        Some(&b"ab"[..])
    );
    assert_eq!(wrapper.blksize(), 2, "still the same wrapper");
}

/// A reader that returns scripted chunks (an empty one is a `read` returning 0, as is the end
/// of the script), counts its reads and records being dropped.
struct Scripted {
    chunks: VecDeque<&'static [u8]>,
    reads: Arc<AtomicUsize>,
    dropped: Arc<AtomicBool>,
}

impl Scripted {
    fn new(chunks: &[&'static [u8]]) -> (Self, Arc<AtomicUsize>, Arc<AtomicBool>) {
        let reads = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicBool::new(false));
        let reader = Scripted {
            chunks: chunks.iter().copied().collect(),
            reads: Arc::clone(&reads),
            dropped: Arc::clone(&dropped),
        };
        (reader, reads, dropped)
    }
}

impl Read for Scripted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let chunk = self.chunks.pop_front().unwrap_or_default();
        assert!(
            chunk.len() <= buf.len(),
            "the scripted chunk fits the block"
        );
        buf[..chunk.len()].copy_from_slice(chunk);
        Ok(chunk.len())
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

#[test]
fn file_wrapper_stops_at_the_first_empty_read() {
    // `read` returning b'ab', b'', b'cd' -> iterating yields only b'ab'.
    let (reader, reads, _) = Scripted::new(&[b"ab", b"", b"cd"]);
    let wrapper = FileWrapper::new(reader, 8192);
    let blocks: Vec<Vec<u8>> = wrapper.map(Result::unwrap).collect();
    assert_eq!(blocks, [b"ab".to_vec()]);
    assert_eq!(
        reads.load(Ordering::SeqCst),
        2,
        "one read per block plus the empty one"
    );
}

#[test]
fn file_wrapper_has_no_exhausted_flag() {
    // Each next() calls read again, so a source that yields after an empty read continues.
    let (reader, reads, _) = Scripted::new(&[b"ab", b"", b"cd"]);
    let mut wrapper = FileWrapper::new(reader, 8192);
    let steps: &[Option<&[u8]>] = &[Some(b"ab"), None, Some(b"cd"), None, None];
    for (i, &want) in steps.iter().enumerate() {
        let got = wrapper.next().transpose().expect("reads succeed");
        assert_eq!(got.as_deref(), want, "next() #{i}");
        assert_eq!(
            reads.load(Ordering::SeqCst),
            i + 1,
            "next() #{i} reads once"
        );
    }
}

#[test]
fn file_wrapper_closes_only_on_close() {
    let (reader, reads, dropped) = Scripted::new(&[b"ab"]);
    let mut wrapper = FileWrapper::new(reader, 8192);
    assert_eq!(
        wrapper.by_ref().map(Result::unwrap).collect::<Vec<_>>(),
        [b"ab".to_vec()]
    );
    assert!(!wrapper.is_closed(), "iterating to the end does not close");
    assert!(!dropped.load(Ordering::SeqCst), "the reader is still open");
    wrapper.close();
    assert!(wrapper.is_closed(), "close() closes");
    assert!(
        dropped.load(Ordering::SeqCst),
        "close() closes (drops) the reader"
    );
    let reads_at_close = reads.load(Ordering::SeqCst);
    assert_eq!(
        wrapper.read_block().ok(),
        Some(None),
        "a closed wrapper yields nothing"
    );
    assert!(wrapper.next().is_none(), "a closed wrapper yields nothing");
    assert_eq!(
        reads.load(Ordering::SeqCst),
        reads_at_close,
        "a closed wrapper reads nothing"
    );
    wrapper.close();
    assert!(wrapper.is_closed(), "closing twice is harmless");
}

/// A file under the temp directory, removed when dropped (even if the test fails).
struct TempFile(PathBuf);

impl TempFile {
    fn with_contents(contents: &[u8]) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "gateway-util-reference-{}-{nanos}.bin",
            std::process::id()
        ));
        fs::write(&path, contents).expect("write the temp file");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

#[test]
fn file_wrapper_recognises_a_real_file() {
    let temp = TempFile::with_contents(b"abcdefghij");
    let file = fs::File::open(&temp.0).expect("open the temp file");
    let mut wrapper = FileWrapper::new(file, 4);
    assert!(wrapper.as_file().is_some(), "a std::fs::File is recognised");
    let blocks: Vec<Vec<u8>> = wrapper.by_ref().map(Result::unwrap).collect();
    assert_eq!(blocks, [b"abcd".to_vec(), b"efgh".to_vec(), b"ij".to_vec()]);
    assert!(
        !wrapper.is_closed(),
        "iterating to the end does not close the file"
    );
    assert!(
        wrapper.as_file().is_some(),
        "still the open file after iterating"
    );
    wrapper.close();
    assert!(wrapper.is_closed());
    assert!(wrapper.as_file().is_none(), "a closed wrapper has no file");

    // Any other reader is not a file.
    let mut wrapper = FileWrapper::new(io::Cursor::new(b"abc".to_vec()), 4);
    assert!(wrapper.as_file().is_none(), "a Cursor is not a file");

    // Body::file over the real file gives the same blocks.
    let file = fs::File::open(&temp.0).expect("reopen the temp file");
    let mut body = Body::file(FileWrapper::new(file, 4));
    assert!(
        body.file_wrapper_mut()
            .and_then(FileWrapper::as_file)
            .is_some()
    );
    let chunks: Vec<Vec<u8>> = body.by_ref().map(|c| c.unwrap().into_owned()).collect();
    assert_eq!(chunks, [b"abcd".to_vec(), b"efgh".to_vec(), b"ij".to_vec()]);
    body.close();
}

/// Issue 8's audit of places that cut request text at byte offsets: each util function given
/// latin-1 "bytes in unicode" text (characters two bytes wide in UTF-8) where it cuts, as
/// the server's environ carries for raw non-ASCII targets. The results are CPython's.
#[test]
fn util_functions_take_latin1_text() {
    let env = environ(
        None,
        &[
            ("HTTP_HOST", "h\u{e9}.test"),
            ("SCRIPT_NAME", "/\u{e9}"),
            ("PATH_INFO", "/caf\u{c3}\u{a9}/\u{e9}\u{e9}"),
            ("QUERY_STRING", "q=\u{e9}"),
        ],
    );
    assert_eq!(application_uri(&env).unwrap(), "http://h\u{e9}.test/%E9");
    assert_eq!(
        request_uri(&env, true).unwrap(),
        "http://h\u{e9}.test/%E9/caf%C3%A9/%E9%E9?q=\u{e9}"
    );
    let mut env = env;
    assert_eq!(
        shift_path_info(&mut env).unwrap().as_deref(),
        Some("caf\u{c3}\u{a9}")
    );
    assert_eq!(env.get("SCRIPT_NAME"), Some("/\u{e9}/caf\u{c3}\u{a9}"));
    assert_eq!(env.get("PATH_INFO"), Some("/\u{e9}\u{e9}"));
    let mut env: Environ = [("SCRIPT_NAME", "/\u{e9}"), ("PATH_INFO", "/\u{e9}/x\u{e9}")]
        .into_iter()
        .collect();
    gateway::handlers::iis_path_info_fix(&mut env);
    assert_eq!(env.get("PATH_INFO"), Some("/x\u{e9}"));
}
