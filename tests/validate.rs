//! `gateway::validate`: each rule of the reference with a passing and a failing case
//! (through the test client), a broken app over the real server, and a server author's
//! broken environ through `SimpleHandler`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use gateway::handlers::{BaseHandler, SimpleHandler};
use gateway::test::{EnvironBuilder, TestResponse, run_app};
use gateway::util::FileWrapper;
use gateway::validate::validator;
use gateway::{
    App, AppError, Body, Environ, ErrorStream, HeaderError, Headers, Input, ResponseSink,
    SharedBuffer, StartResponse, app_fn,
};

mod common;
use common::*;

/// What a case expects of the validator.
#[derive(Debug)]
enum Expect {
    /// No message at all, and the app's answer.
    Pass,
    /// A 500 whose log has this message and rule number.
    Error(u8, &'static str),
    /// This warning on `wsgi.errors`.
    Warning(&'static str),
}

fn check(case: &str, response: &TestResponse, expect: &Expect) {
    match expect {
        Expect::Pass => {
            assert!(
                response.errors.is_empty(),
                "{case}: unexpected output {:?}",
                response.errors
            );
            assert_eq!(response.status_code, 200, "{case}");
        }
        Expect::Error(rule, message) => {
            assert_eq!(response.status_code, 500, "{case}: {}", response.errors);
            let named = format!("{message} (wsgiref.validate rule {rule})");
            assert!(
                response.errors.contains(&named),
                "{case}: expected {named:?} in {:?}",
                response.errors
            );
        }
        Expect::Warning(message) => {
            let line = format!("WSGIWarning: {message}\n");
            assert!(
                response.errors.contains(&line),
                "{case}: expected {line:?} in {:?}",
                response.errors
            );
        }
    }
}

fn ok_app() -> impl App {
    app_fn(|_env, sr| {
        sr.start("200 OK", [("Content-Type", "text/plain")])?;
        Ok(Body::from("ok"))
    })
}

#[test]
fn environ_rules() {
    type Mutate = fn(&mut Environ);
    let cases: &[(&str, Mutate, Expect)] = &[
        ("4 pass", |_| {}, Expect::Pass),
        (
            "4 REQUEST_METHOD",
            |e| drop(e.remove("REQUEST_METHOD")),
            Expect::Error(4, "Environment missing required key: 'REQUEST_METHOD'"),
        ),
        (
            "4 SERVER_NAME",
            |e| drop(e.remove("SERVER_NAME")),
            Expect::Error(4, "Environment missing required key: 'SERVER_NAME'"),
        ),
        (
            "4 SERVER_PORT",
            |e| drop(e.remove("SERVER_PORT")),
            Expect::Error(4, "Environment missing required key: 'SERVER_PORT'"),
        ),
        (
            "5 HTTP_CONTENT_TYPE",
            |e| drop(e.insert("HTTP_CONTENT_TYPE", "text/plain")),
            Expect::Error(
                5,
                "Environment should not have the key: HTTP_CONTENT_TYPE (use CONTENT_TYPE instead)",
            ),
        ),
        (
            "5 HTTP_CONTENT_LENGTH",
            |e| drop(e.insert("HTTP_CONTENT_LENGTH", "0")),
            Expect::Error(
                5,
                "Environment should not have the key: HTTP_CONTENT_LENGTH (use CONTENT_LENGTH instead)",
            ),
        ),
        (
            "6 QUERY_STRING",
            |e| drop(e.remove("QUERY_STRING")),
            Expect::Warning(
                "QUERY_STRING is not in the WSGI environment; the cgi module will use sys.argv when this variable is missing, so application errors are more likely",
            ),
        ),
        ("9 pass https", |e| e.set_url_scheme("https"), Expect::Pass),
        (
            "9 ftp",
            |e| e.set_url_scheme("ftp"),
            Expect::Error(9, "wsgi.url_scheme unknown: 'ftp'"),
        ),
        (
            "12 PURGE",
            |e| drop(e.insert("REQUEST_METHOD", "PURGE")),
            Expect::Warning("Unknown REQUEST_METHOD: 'PURGE'"),
        ),
        (
            "12 lower case",
            |e| drop(e.insert("REQUEST_METHOD", "get")),
            Expect::Warning("Unknown REQUEST_METHOD: 'get'"),
        ),
        (
            "12 pass TRACE",
            |e| drop(e.insert("REQUEST_METHOD", "TRACE")),
            Expect::Pass,
        ),
        (
            "13 pass",
            |e| drop(e.insert("SCRIPT_NAME", "/app")),
            Expect::Pass,
        ),
        (
            "13 relative",
            |e| drop(e.insert("SCRIPT_NAME", "app")),
            Expect::Error(13, "SCRIPT_NAME doesn't start with /: 'app'"),
        ),
        (
            "13 missing",
            |e| drop(e.remove("SCRIPT_NAME")),
            Expect::Error(13, "Environment missing required key: 'SCRIPT_NAME'"),
        ),
        (
            "14 pass empty",
            |e| drop(e.insert("PATH_INFO", "")),
            Expect::Pass,
        ),
        (
            "14 relative",
            |e| drop(e.insert("PATH_INFO", "x")),
            Expect::Error(14, "PATH_INFO doesn't start with /: 'x'"),
        ),
        (
            "14 missing",
            |e| drop(e.remove("PATH_INFO")),
            Expect::Error(14, "Environment missing required key: 'PATH_INFO'"),
        ),
        (
            "15 pass Python int syntax",
            |e| drop(e.insert("CONTENT_LENGTH", " 1_0 ")),
            Expect::Pass,
        ),
        (
            "15 pass empty",
            |e| drop(e.insert("CONTENT_LENGTH", "")),
            Expect::Pass,
        ),
        (
            "15 negative",
            |e| drop(e.insert("CONTENT_LENGTH", "-1")),
            Expect::Error(15, "Invalid CONTENT_LENGTH: '-1'"),
        ),
        (
            "15 not a number",
            |e| drop(e.insert("CONTENT_LENGTH", "abc")),
            Expect::Error(15, "invalid literal for int() with base 10: 'abc'"),
        ),
        (
            "17 slash",
            |e| drop(e.insert("SCRIPT_NAME", "/")),
            Expect::Error(
                17,
                "SCRIPT_NAME cannot be '/'; it should instead be '', and PATH_INFO should be '/'",
            ),
        ),
    ];
    let app = validator(ok_app());
    for (case, mutate, expect) in cases {
        let mut environ = EnvironBuilder::new().build();
        mutate(&mut environ);
        check(case, &run_app(&app, environ), expect);
    }
    // 9: a scheme never set is the reference's KeyError.
    let mut bare: Environ = [
        ("REQUEST_METHOD", "GET"),
        ("SERVER_NAME", "h"),
        ("SERVER_PORT", "80"),
        ("SCRIPT_NAME", ""),
        ("PATH_INFO", "/"),
        ("QUERY_STRING", ""),
    ]
    .into_iter()
    .collect();
    let errors = SharedBuffer::new();
    bare.set_errors(ErrorStream::new(errors.clone()));
    let error = app
        .call(&mut bare, &mut StartResponse::new(&mut Recorder::default()))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "Environment missing required key: 'wsgi.url_scheme' (wsgiref.validate rule 9)"
    );
}

#[test]
fn start_response_rules() {
    /// A case's name, the status and headers the app sends, and what the validator says.
    type Case = (
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
        Expect,
    );
    let cases: &[Case] = &[
        (
            "30 pass",
            "200 OK",
            &[("Content-Type", "text/plain")],
            Expect::Pass,
        ),
        (
            "30 four digits",
            "2000 OK",
            &[("Content-Type", "text/plain")],
            Expect::Error(30, "Status codes must be three characters: '2000'"),
        ),
        (
            "30 two digits",
            "20 OK",
            &[("Content-Type", "text/plain")],
            Expect::Error(30, "Status codes must be three characters: '20'"),
        ),
        (
            "30 empty",
            "",
            &[("Content-Type", "text/plain")],
            Expect::Error(30, "Status codes must be three characters: ''"),
        ),
        (
            "31 not a number",
            "20X OK",
            &[("Content-Type", "text/plain")],
            Expect::Error(31, "invalid literal for int() with base 10: '20X'"),
        ),
        (
            "32 below 100",
            "099 Low",
            &[("Content-Type", "text/plain")],
            Expect::Error(32, "Status code is invalid: 99"),
        ),
        (
            "33 tab",
            "200\tOK",
            &[("Content-Type", "text/plain")],
            Expect::Warning(
                "The status string ('200\\tOK') should be a three-digit integer followed by a single space and a status explanation",
            ),
        ),
        (
            "38 Status header",
            "200 OK",
            &[("Content-Type", "text/plain"), ("status", "200")],
            Expect::Error(
                38,
                "The Status header cannot be used; it conflicts with CGI script, and HTTP status is not given through headers (value: '200').",
            ),
        ),
        (
            "39 colon",
            "200 OK",
            &[("Content-Type", "text/plain"), ("X:Y", "1")],
            Expect::Error(39, "Header names may not contain ':' or '\\n': 'X:Y'"),
        ),
        (
            "39 newline",
            "200 OK",
            &[("Content-Type", "text/plain"), ("X\nY", "1")],
            Expect::Error(39, "Header names may not contain ':' or '\\n': 'X\\nY'"),
        ),
        (
            "40 digit first",
            "200 OK",
            &[("Content-Type", "text/plain"), ("1X", "1")],
            Expect::Error(40, "Bad header name: '1X'"),
        ),
        (
            "40 space",
            "200 OK",
            &[("Content-Type", "text/plain"), ("X Y", "1")],
            Expect::Error(40, "Bad header name: 'X Y'"),
        ),
        (
            "40 dot",
            "200 OK",
            &[("Content-Type", "text/plain"), ("X.Y", "1")],
            Expect::Error(40, "Bad header name: 'X.Y'"),
        ),
        (
            "40 pass underscore",
            "200 OK",
            &[("Content-Type", "text/plain"), ("X_Y-z9", "1")],
            Expect::Pass,
        ),
        (
            "41 dash",
            "200 OK",
            &[("Content-Type", "text/plain"), ("X-", "1")],
            Expect::Error(41, "Names may not end in '-' or '_': 'X-'"),
        ),
        (
            "41 underscore",
            "200 OK",
            &[("Content-Type", "text/plain"), ("X_", "1")],
            Expect::Error(41, "Names may not end in '-' or '_': 'X_'"),
        ),
        (
            "42 tab",
            "200 OK",
            &[("Content-Type", "text/plain"), ("X", "a\tb")],
            Expect::Error(42, "Bad header value: 'a\\tb' (bad char: '\\t')"),
        ),
        (
            "42 newline",
            "200 OK",
            &[("Content-Type", "text/plain"), ("X", "a\nb")],
            Expect::Error(42, "Bad header value: 'a\\nb' (bad char: '\\n')"),
        ),
        (
            "42 pass latin-1",
            "200 OK",
            &[("Content-Type", "text/plain"), ("X", "caf\u{e9}")],
            Expect::Pass,
        ),
        // A pair the Headers type refuses is reported by the reference's first broken rule,
        // the name's (38 to 41) before the value's (42).
        (
            "40 before 42",
            "200 OK",
            &[("Content-Type", "text/plain"), ("1X", "a\rb")],
            Expect::Error(40, "Bad header name: '1X'"),
        ),
        (
            "41 before 42",
            "200 OK",
            &[("Content-Type", "text/plain"), ("X-", "a\u{0}")],
            Expect::Error(41, "Names may not end in '-' or '_': 'X-'"),
        ),
        (
            "39 before 40",
            "200 OK",
            &[("Content-Type", "text/plain"), ("X:Y\u{1}", "v")],
            Expect::Error(39, "Header names may not contain ':' or '\\n': 'X:Y\\x01'"),
        ),
        (
            "40 not latin-1",
            "200 OK",
            &[("Content-Type", "text/plain"), ("X\u{20ac}", "v")],
            Expect::Error(40, "Bad header name: 'X\u{20ac}'"),
        ),
        (
            "43 no-break space in the repr",
            "200 OK",
            &[("X", "a\u{a0}b")],
            Expect::Error(
                43,
                "No Content-Type header found in headers ([('X', 'a\\xa0b')])",
            ),
        ),
        (
            "43 missing",
            "200 OK",
            &[("X-A", "1")],
            Expect::Error(
                43,
                "No Content-Type header found in headers ([('X-A', '1')])",
            ),
        ),
        (
            "43 missing on 404",
            "404 Not Found",
            &[],
            Expect::Error(43, "No Content-Type header found in headers ([])"),
        ),
        (
            "43 forbidden on 204",
            "204 No Content",
            &[("content-type", "text/plain")],
            Expect::Error(
                43,
                "Content-Type header found in a 204 response, which must not return content.",
            ),
        ),
        (
            "43 forbidden on 304",
            "304 Not Modified",
            &[("Content-Type", "text/plain")],
            Expect::Error(
                43,
                "Content-Type header found in a 304 response, which must not return content.",
            ),
        ),
    ];
    for (case, status, headers, expect) in cases {
        let status = status.to_string();
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let app = validator(app_fn(move |_env, sr| {
            sr.start(&status, headers.clone())?;
            Ok(Body::from("x"))
        }));
        check(case, &run_app(&app, EnvironBuilder::new().build()), expect);
    }
    // 204 and 304 pass without a Content-Type.
    for status in ["204 No Content", "304 Not Modified"] {
        let app = validator(app_fn(move |_env, sr| {
            sr.start(status, Vec::<(String, String)>::new())?;
            Ok(Body::empty())
        }));
        let response = run_app(&app, EnvironBuilder::new().build());
        assert_eq!(response.errors, "", "{status}");
    }
}

#[test]
fn body_rules() {
    // 49: a chunk before start_response.
    let unstarted = validator(app_fn(|_env, _sr| Ok(Body::from("early"))));
    check(
        "49",
        &run_app(&unstarted, EnvironBuilder::new().build()),
        &Expect::Error(
            49,
            "The application returns and we started iterating over its body, but start_response has not yet been called",
        ),
    );
    // ... but an app that never starts and yields nothing is not the validator's to flag.
    let silent = validator(app_fn(|_env, _sr| Ok(Body::empty())));
    let response = run_app(&silent, EnvironBuilder::new().build());
    assert!(!response.errors.contains("rule 49"), "{}", response.errors);

    // 50: the app's close() runs exactly once.
    let closes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&closes);
    let closing = validator(app_fn(move |_env, sr| {
        sr.start("200 OK", [("Content-Type", "text/plain")])?;
        let counter = Arc::clone(&counter);
        Ok(Body::from_chunks(["a", "b"]).on_close(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        }))
    }));
    let response = run_app(&closing, EnvironBuilder::new().build());
    assert_eq!(
        (response.text(), closes.load(Ordering::SeqCst)),
        ("ab".into(), 1)
    );

    // 51: a body dropped without close() is reported on wsgi.errors; a closed one is not.
    for close_first in [false, true] {
        let errors = SharedBuffer::new();
        let mut environ = EnvironBuilder::new().build();
        environ.set_errors(ErrorStream::new(errors.clone()));
        let mut body = validator(ok_app())
            .call(
                &mut environ,
                &mut StartResponse::new(&mut Recorder::default()),
            )
            .unwrap();
        if close_first {
            body.close();
        }
        drop(body);
        let reported = errors
            .to_string_lossy()
            .contains("Iterator garbage collected without being closed");
        assert_eq!(reported, !close_first, "closed first: {close_first}");
    }

    // The length is hidden, as the reference hides __len__: no Content-Length added.
    let plain = run_app(&ok_app(), EnvironBuilder::new().build());
    let checked = run_app(&validator(ok_app()), EnvironBuilder::new().build());
    assert_eq!(plain.header("Content-Length"), Some("2"));
    assert_eq!(
        (checked.header("Content-Length"), checked.text()),
        (None, "ok".into())
    );
}

/// A `start_response` that records what it gets.
#[derive(Default)]
struct Recorder {
    status: Option<String>,
}

impl ResponseSink for Recorder {
    fn start_response(
        &mut self,
        status: &str,
        headers: Result<Headers, HeaderError>,
        _exc_info: Option<AppError>,
    ) -> Result<(), AppError> {
        headers?;
        self.status = Some(status.to_owned());
        Ok(())
    }

    fn write(&mut self, _data: &[u8]) -> Result<(), AppError> {
        Ok(())
    }
}

#[test]
fn file_bodies_stay_files_for_sendfile() {
    let path = std::env::temp_dir().join(format!("gateway-validate-{}", std::process::id()));
    std::fs::write(&path, vec![b'x'; 100_000]).unwrap();
    let file_path = path.clone();
    let app = validator(app_fn(move |_env, sr| {
        sr.start("200 OK", [("Content-Type", "application/octet-stream")])?;
        let file = std::fs::File::open(&file_path)?;
        Ok(Body::file(FileWrapper::new(file, 8192)))
    }));
    let mut environ = EnvironBuilder::new().build();
    let mut recorder = Recorder::default();
    let mut body = app
        .call(&mut environ, &mut StartResponse::new(&mut recorder))
        .unwrap();
    assert!(
        body.file_wrapper_mut().is_some(),
        "a started file body stays a FileWrapper body"
    );
    body.close();
    // Over the real server it arrives whole.
    let mut server = start(app, |b| b);
    let response = one_response(server.addr, get_close("/file"));
    assert_eq!((response.status, response.body.len()), (200, 100_000));
    server.stop();
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn broken_app_over_the_real_server() {
    let broken = validator(app_fn(|_env, sr| {
        sr.start(
            "200 OK",
            [("Content-Type", "text/plain"), ("X-Trailing-", "1")],
        )?;
        Ok(Body::from("never sent"))
    }));
    let mut server = start(broken, |b| b);
    let response = one_response(server.addr, get_close("/"));
    assert_eq!(response.status, 500);
    assert!(!response.text().contains("never sent"));
    assert_serves_500(server.addr);
    server.stop();
    let log = server.log();
    assert!(
        log.contains("Names may not end in '-' or '_': 'X-Trailing-' (wsgiref.validate rule 41)"),
        "{log}"
    );
}

/// The server keeps answering (with the same 500) after a violation.
fn assert_serves_500(addr: std::net::SocketAddr) {
    let again = one_response(addr, get_close("/again"));
    assert_eq!(again.status, 500);
}

#[test]
fn a_server_authors_broken_environ_through_simple_handler() {
    let run = |pairs: &[(&str, &str)]| {
        let errors = SharedBuffer::new();
        let mut out = Vec::new();
        let mut handler = SimpleHandler::new(
            Input::empty(),
            &mut out,
            ErrorStream::new(errors.clone()),
            pairs.iter().copied(),
        );
        handler.run(&validator(ok_app()));
        drop(handler);
        (
            String::from_utf8_lossy(&out).into_owned(),
            errors.to_string_lossy(),
        )
    };
    let good = [
        ("REQUEST_METHOD", "GET"),
        ("SERVER_NAME", "example.org"),
        ("SERVER_PORT", "8080"),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("SCRIPT_NAME", ""),
        ("PATH_INFO", "/"),
        ("QUERY_STRING", ""),
    ];
    let (out, errors) = run(&good);
    assert!(out.starts_with("HTTP/1.0 200 OK\r\n"), "{out}");
    assert_eq!(errors, "");

    let no_port: Vec<_> = good
        .iter()
        .copied()
        .filter(|(k, _)| *k != "SERVER_PORT")
        .collect();
    let (out, errors) = run(&no_port);
    assert!(out.contains("500 Internal Server Error"), "{out}");
    assert!(
        errors
            .contains("Environment missing required key: 'SERVER_PORT' (wsgiref.validate rule 4)"),
        "{errors}"
    );

    let slash: Vec<_> = good
        .iter()
        .map(|&(k, v)| if k == "SCRIPT_NAME" { (k, "/") } else { (k, v) })
        .collect();
    let (out, errors) = run(&slash);
    assert!(out.contains("500 Internal Server Error"), "{out}");
    assert!(
        errors.contains("SCRIPT_NAME cannot be '/'; it should instead be '', and PATH_INFO should be '/' (wsgiref.validate rule 17)"),
        "{errors}"
    );
}
