//! The server against RFC 9112's requirements on requests and the reference's environ for raw
//! non-ASCII targets, over loopback with raw bytes (issue 8). Each test is named after the
//! requirement it shows; the table in `simple_server::request`'s docs points here.

use std::collections::HashMap;

use gateway::{App, Body, app_fn};

mod common;
use common::*;

/// Answers one `KEY=<debug of the value>` line per variable the tests look at.
fn vars_app() -> impl App {
    keys_app(&[
        "PATH_INFO",
        "QUERY_STRING",
        "REQUEST_URI",
        "REQUEST_METHOD",
        "SERVER_PROTOCOL",
        "HTTP_HOST",
        "HTTP_X",
        "HTTP_HTTP_X",
        "HTTP_X_VALUE",
    ])
}

/// The environ the app saw for `request` (sent on its own connection, which must close).
fn vars(addr: std::net::SocketAddr, request: &[u8]) -> HashMap<String, String> {
    let response = one_response(addr, request);
    assert_eq!(response.status, 200, "{}", response.text());
    environ_lines(&response)
}

fn some(value: &str) -> String {
    format!("{:?}", Some(value))
}

/// `GET <target> HTTP/1.1` with a Host and `Connection: close`, the target as raw bytes.
fn raw_get(target: &[u8]) -> Vec<u8> {
    [
        &b"GET "[..],
        target,
        b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    ]
    .concat()
}

// ---- raw bytes above 0x7F in the target (PEP 3333 "bytes in unicode") ----------------------

/// Sends each raw target and checks the environ: (target, PATH_INFO, QUERY_STRING), and
/// REQUEST_URI the target as latin-1.
fn assert_targets(server: &TestServer, cases: &[(&[u8], &str, &str)]) {
    for (target, path, query) in cases {
        let env = vars(server.addr, &raw_get(target));
        let latin1: String = target.iter().map(|&b| char::from(b)).collect();
        assert_eq!(env["PATH_INFO"], some(path), "{latin1:?}");
        assert_eq!(env["QUERY_STRING"], some(query), "{latin1:?}");
        assert_eq!(env["REQUEST_URI"], some(&latin1), "{latin1:?}");
    }
}

#[test]
fn raw_utf8_target_gives_latin1_environ() {
    let server = start(vars_app(), |b| b);
    // (raw target, PATH_INFO, QUERY_STRING) as CPython's WSGIRequestHandler gives them.
    let cases: &[(&[u8], &str, &str)] = &[
        (b"/caf\xc3\xa9", "/caf\u{c3}\u{a9}", ""),
        (b"/x?q=\xc3\xa9", "/x", "q=\u{c3}\u{a9}"),
        (b"//\xc3\xa9\xc3\xa9", "/\u{c3}\u{a9}\u{c3}\u{a9}", ""),
        (b"/\xc3\xa9%C3%A9", "/\u{c3}\u{a9}\u{c3}\u{a9}", ""),
        (
            b"/\xe2\x82\xac?\xe2\x82\xac",
            "/\u{e2}\u{82}\u{ac}",
            "\u{e2}\u{82}\u{ac}",
        ),
    ];
    assert_targets(&server, cases);
}

#[test]
fn raw_latin1_target_gives_latin1_environ() {
    let server = start(vars_app(), |b| b);
    let cases: &[(&[u8], &str, &str)] = &[
        (b"/caf\xe9", "/caf\u{e9}", ""),
        (b"/\x80\x80", "/\u{80}\u{80}", ""),
        (b"/\x80%80", "/\u{80}\u{80}", ""),
        (b"/x?q=\xe9&r=\xff", "/x", "q=\u{e9}&r=\u{ff}"),
        (b"/\xff?\xfe", "/\u{ff}", "\u{fe}"),
    ];
    assert_targets(&server, cases);
}

/// Controls, DEL and spaces in the target stay errors, raw high bytes or not.
#[test]
fn control_bytes_in_a_non_ascii_target_400() {
    let server = start(vars_app(), |b| b);
    for target in [&b"/\xe9\x01"[..], b"/\xe9\x7f", b"/\xe9\x00", b"/\xe9\t"] {
        let raw = exchange(server.addr, raw_get(target));
        assert!(
            raw.bytes.starts_with(b"HTTP/1.1 400 "),
            "{target:?}: {:?}",
            String::from_utf8_lossy(&raw.bytes)
        );
    }
    assert_eq!(
        vars(server.addr, &raw_get(b"/ok"))["PATH_INFO"],
        some("/ok")
    );
}

/// The places that cut request text at byte offsets, each with text whose characters are
/// wider than a byte at the cut: the absolute-form prefix test (a short target), the leading
/// `//` collapse, the access log, the header spans.
#[test]
fn slicing_sites_take_non_ascii_text() {
    let server = start(vars_app(), |b| b);
    // Targets shorter than `https://` with multi-byte characters across its length.
    for target in [
        &b"/\xc3\xa9"[..],
        b"/\xc3\xa9\xc3\xa9\xc3",
        b"//\xe9",
        b"/h\xc3\xa9",
    ] {
        let env = vars(server.addr, &raw_get(target));
        assert!(env["PATH_INFO"].starts_with("Some(\"/"), "{target:?}");
    }
    // Raw non-ASCII bytes in an absolute-form authority are not a host (RFC 3986 §3.2.2).
    let raw = exchange(
        server.addr,
        b"GET http://h\xc3\xa9/ HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    assert!(raw.bytes.starts_with(b"HTTP/1.1 400 "));
    // An absolute-form target with non-ASCII bytes after the authority.
    let env = vars(
        server.addr,
        b"GET http://a.test/\xc3\xa9?\xe9 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(env["PATH_INFO"], some("/\u{c3}\u{a9}"));
    assert_eq!(env["QUERY_STRING"], some("\u{e9}"));
    assert_eq!(env["HTTP_HOST"], some("a.test"));
    // Header values with raw UTF-8 and latin-1 bytes, next to a non-ASCII target.
    let env = vars(
        server.addr,
        b"GET /\xe9 HTTP/1.1\r\nHost: a\r\nX-Value: caf\xc3\xa9 \xe9\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(env["HTTP_X_VALUE"], some("caf\u{c3}\u{a9} \u{e9}"));
    // The access log escapes as the reference does and keeps the rest.
    let log = server.log();
    assert!(log.contains("\"GET /\u{e9} HTTP/1.1\" 200 "), "{log}");
    let logged = one_response(server.addr, raw_get(b"/\x80%80"));
    assert_eq!(logged.status, 200);
    assert!(wait_for(IO_TIMEOUT, || server
        .log()
        .contains("\"GET /\\x80%80 HTTP/1.1\" 200 ")));
}

// ---- RFC 9112 §3: request line and target forms ----------------------------------------------

#[test]
fn http_12_is_processed_as_http_11() {
    let server = start(vars_app(), |b| b);
    let response = one_response(
        server.addr,
        "GET /v HTTP/1.2\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(response.status, 200);
    assert_eq!(response.version, "HTTP/1.1");
    let env = environ_lines(&response);
    assert_eq!(env["SERVER_PROTOCOL"], some("HTTP/1.2"));
    // Processed as 1.1: keep-alive by default, and Host is required.
    let mut client = Client::connect(server.addr);
    client.send("GET /1 HTTP/1.9\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(client.response().status, 200);
    assert_eq!(client.response().status, 200);
    let raw = exchange(server.addr, "GET / HTTP/1.3\r\n\r\n");
    assert!(raw.bytes.starts_with(b"HTTP/1.1 400 "));
    // Not a version: two digits, or a missing one.
    for version in ["HTTP/1.10", "HTTP/1.", "HTTP/1.x"] {
        let raw = exchange(server.addr, format!("GET / {version}\r\nHost: a\r\n\r\n"));
        assert!(raw.bytes.starts_with(b"HTTP/1.1 400 "), "{version}");
    }
}

#[test]
fn asterisk_form_only_for_options() {
    let server = start(vars_app(), |b| b);
    let env = vars(
        server.addr,
        b"OPTIONS * HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(env["PATH_INFO"], some("*"));
    for method in ["GET", "POST", "HEAD", "DELETE"] {
        let raw = exchange(
            server.addr,
            format!("{method} * HTTP/1.1\r\nHost: a\r\n\r\n"),
        );
        assert!(raw.bytes.starts_with(b"HTTP/1.1 400 "), "{method}");
    }
}

#[test]
fn invalid_target_forms_400() {
    let server = start(vars_app(), |b| b);
    for target in [
        "foo",
        "a.test:80",
        "http://",
        "http:///x",
        "http://:80/",
        "http://user@a.test/",
        "ftp://a.test/",
        "http://a b/",
    ] {
        let raw = exchange(
            server.addr,
            format!("GET {target} HTTP/1.1\r\nHost: a\r\n\r\n"),
        );
        assert!(
            raw.bytes.starts_with(b"HTTP/1.1 400 "),
            "{target}: {:?}",
            String::from_utf8_lossy(&raw.bytes)
        );
    }
    let raw = exchange(
        server.addr,
        "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n",
    );
    assert!(raw.bytes.starts_with(b"HTTP/1.1 501 "));
    assert_serves_vars(&server);
}

/// RFC 9112 §3.2.2: with an absolute-form target the Host field is ignored.
#[test]
fn absolute_form_authority_replaces_host() {
    let server = start(vars_app(), |b| b);
    let env = vars(
        server.addr,
        b"GET HTTPS://b.test:8443/p?q HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(env["HTTP_HOST"], some("b.test:8443"));
    assert_eq!(env["PATH_INFO"], some("/p"));
    assert_eq!(env["QUERY_STRING"], some("q"));
}

// ---- RFC 9112 §3.2 / RFC 9110 §7.2: Host --------------------------------------------------------

#[test]
fn invalid_host_400() {
    let server = start(vars_app(), |b| b);
    for host in [
        "a b", "a/b", "#", "a@b", "a:b", "a:80:80", "[::1", "[zz]", "a\u{e9}", "a?b", "[::1]x",
    ] {
        let raw = exchange(
            server.addr,
            [b"GET / HTTP/1.1\r\nHost: ", &latin1(host)[..], b"\r\n\r\n"].concat(),
        );
        assert!(
            raw.bytes.starts_with(b"HTTP/1.1 400 "),
            "Host {host:?}: {:?}",
            String::from_utf8_lossy(&raw.bytes)
        );
    }
    for host in [
        "",
        "a",
        "a.test:8080",
        "a:",
        "127.0.0.1",
        "[::1]:80",
        "[v1.x]",
        "a%41",
        "a_b-c~!$&'()*+,;=",
    ] {
        let request = format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        let env = vars(server.addr, request.as_bytes());
        assert_eq!(env["HTTP_HOST"], some(host));
    }
}

fn latin1(text: &str) -> Vec<u8> {
    text.chars().map(|c| c as u8).collect()
}

#[test]
fn host_repeated_400_on_any_version() {
    let server = start(vars_app(), |b| b);
    for version in ["1.0", "1.1"] {
        let raw = exchange(
            server.addr,
            format!("GET / HTTP/{version}\r\nHost: a\r\nHost: a\r\n\r\n"),
        );
        assert!(raw.bytes.starts_with(b"HTTP/1.1 400 "), "HTTP/{version}");
    }
    // HTTP/1.0 may omit it.
    let env = vars(server.addr, b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(env["HTTP_HOST"], "None");
}

// ---- RFC 9112 §2.2, §5: message and field syntax -------------------------------------------------

#[test]
fn field_syntax_errors_400() {
    let server = start(vars_app(), |b| b);
    let cases: &[&[u8]] = &[
        // Whitespace between the request line and the first field (§2.2).
        b"GET / HTTP/1.1\r\n Host: a\r\n\r\n",
        // A bare CR (§2.2).
        b"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",
        // Whitespace before the colon (§5.1).
        b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        // obs-fold (§5.2).
        b"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n",
        // A line without a colon.
        b"GET / HTTP/1.1\r\nHost: a\r\nX\r\n\r\n",
        // NUL in a value (RFC 9110 §5.5).
        b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n",
        // Two spaces in the request line (§3).
        b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
    ];
    for request in cases {
        let raw = exchange(server.addr, request);
        assert!(
            raw.bytes.starts_with(b"HTTP/1.1 400 "),
            "{:?}: {:?}",
            String::from_utf8_lossy(request),
            String::from_utf8_lossy(&raw.bytes)
        );
    }
    assert_serves_vars(&server);
}

/// RFC 9110 §9.3.2: no content in a response to HEAD, error responses included.
#[test]
fn head_error_responses_have_no_body() {
    let mut lim = gateway::simple_server::Limits::default();
    lim.max_request_line = 64;
    let server = start(vars_app(), move |b| b.limits(lim));
    let long = "a".repeat(100);
    let cases = [
        ("HEAD / HTTP/1.1\r\n\r\n".to_owned(), 400),
        (format!("HEAD /{long} HTTP/1.1\r\nHost: a\r\n\r\n"), 414),
        (
            "HEAD / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n".to_owned(),
            501,
        ),
        ("HEAD / HTTP/2.0\r\nHost: a\r\n\r\n".to_owned(), 505),
        (
            format!(
                "HEAD / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n",
                "v".repeat(70_000)
            ),
            431,
        ),
    ];
    for (request, status) in cases {
        let raw = exchange(server.addr, &request);
        assert!(raw.closed);
        let text = String::from_utf8_lossy(&raw.bytes).into_owned();
        let (response, used) = parse_response(&raw.bytes, true, true).expect(&text);
        assert_eq!(response.status, status, "{text}");
        assert!(response.header("Content-Length").is_some());
        assert_eq!(used, raw.bytes.len(), "no body after the head: {text:?}");
    }
    // A GET gets the body.
    let raw = exchange(server.addr, "GET / HTTP/1.1\r\n\r\n");
    let (response, used) = parse_response(&raw.bytes, false, true).expect("response");
    assert_eq!(response.status, 400);
    assert!(!response.body.is_empty());
    assert_eq!(used, raw.bytes.len());
}

// ---- the reference's environ rules ------------------------------------------------------------

/// A header whose key is already in the environ is skipped, as the reference does: `Http-X`
/// after `X` (its key `HTTP_X` exists), while `Http-X` before `X` gives `HTTP_HTTP_X`.
#[test]
fn header_colliding_with_an_environ_key_is_dropped() {
    let server = start(vars_app(), |b| b);
    let env = vars(
        server.addr,
        b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\nHttp-X: 2\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(env["HTTP_X"], some("1"));
    assert_eq!(env["HTTP_HTTP_X"], "None");
    let env = vars(
        server.addr,
        b"GET / HTTP/1.1\r\nHost: a\r\nHttp-X: 2\r\nX: 1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(env["HTTP_X"], some("1"));
    assert_eq!(env["HTTP_HTTP_X"], some("2"));
}

fn assert_serves_vars(server: &TestServer) {
    let env = vars(server.addr, &raw_get(b"/still"));
    assert_eq!(env["PATH_INFO"], some("/still"));
}

// ---- RFC 9112 §7.1: chunked framing ------------------------------------------------------------

/// An app that counts its calls and answers 200 without reading the body: a malformed
/// chunked body must be a 400 before it runs.
fn counting_app() -> (impl App, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&calls);
    let app = app_fn(move |_env, sr| {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        sr.start("200 OK", [("Content-Type", "text/plain")])?;
        Ok(Body::from("ran"))
    });
    (app, calls)
}

const CHUNKED_POST: &str = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";

#[test]
fn malformed_chunked_framing_400_before_the_app() {
    let (app, calls) = counting_app();
    let server = start(app, |b| b);
    let cases: &[&[u8]] = &[
        b"x\r\nabc\r\n0\r\n\r\n",
        b"-3\r\nabc\r\n0\r\n\r\n",
        b"+3\r\nabc\r\n0\r\n\r\n",
        b"0x3\r\nabc\r\n0\r\n\r\n",
        b"10000000000000000\r\n",
        b"3\r\nabcdef\r\n0\r\n\r\n",
        b"3;a\nb\r\nabc\r\n0\r\n\r\n",
        b"3\nabc\r\n0\r\n\r\n",
        b"0;a=\"b\r\n\r\n",
        b"0;a=\r\n\r\n",
        b"0;\r\n\r\n",
        b"0\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
        b"0\r\nX: a\r\n folded\r\n\r\n",
        b"0\r\nX : a\r\n\r\n",
        b"0\r\nX: a\x01\r\n\r\n",
    ];
    for body in cases {
        let raw = exchange(server.addr, [CHUNKED_POST.as_bytes(), body].concat());
        let text = String::from_utf8_lossy(&raw.bytes);
        assert!(
            text.starts_with("HTTP/1.1 400 "),
            "{:?}: {text:?}",
            String::from_utf8_lossy(body)
        );
        assert!(raw.closed, "{:?}", String::from_utf8_lossy(body));
        assert!(!text.contains("/smuggled"));
    }
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the app never ran"
    );
    // Valid extensions and trailers are accepted, and the connection is kept.
    let mut client = Client::connect(server.addr);
    client.send(format!(
        "{CHUNKED_POST}3;name=\"v\\\"q\";flag\r\nabc\r\n0\r\nExpires: never\r\n\r\n{}",
        get("/after")
    ));
    assert_eq!(client.response().text(), "ran");
    assert_eq!(client.response().text(), "ran");
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
}

/// A chunked body over the window is streamed to the app; a framing error found as the app
/// reads is a 400 when the response has not started.
#[test]
fn malformed_chunked_framing_mid_stream_400() {
    let server = start(router(), |b| b);
    let mut client = Client::connect(server.addr);
    let big = "a".repeat(100_000);
    client.send(format!(
        "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{big}\r\nzz\r\n",
        big.len()
    ));
    let response = client.response();
    assert_eq!(response.status, 400, "{}", response.text());
    assert!(client.closed_within(IO_TIMEOUT));
    assert_serves(server.addr);
}

/// A small chunked body sent slowly holds no worker: with one worker, others are served
/// while it trickles in, and it is delivered whole.
#[test]
fn slow_small_chunked_bodies_take_no_worker() {
    let server = start(router(), |b| b.threads(1));
    let mut slow: Vec<Client> = (0..3)
        .map(|_| {
            let mut client = Client::connect(server.addr);
            client.send(
                "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
            );
            client
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let started = std::time::Instant::now();
    assert_eq!(
        one_response(server.addr, get_close("/p/meanwhile")).text(),
        "/p/meanwhile"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    for client in &mut slow {
        client.send("lo\r\n0\r\n\r\n");
        let response = client.response();
        assert_eq!(response.status, 200);
        assert_eq!(response.text(), "cl=;hello");
    }
}

/// `Limits::body_total_timeout` bounds the whole body, however steadily it trickles.
#[test]
fn body_total_timeout_408() {
    let server = start(router(), |b| {
        b.limits(limits(|l| {
            l.body_total_timeout = std::time::Duration::from_millis(400);
            l.body_read_timeout = std::time::Duration::from_secs(5);
        }))
    });
    let mut client = Client::connect(server.addr);
    // Over the awaited window, so the app reads it as it comes.
    client.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n");
    let started = std::time::Instant::now();
    let mut sent = 0;
    while started.elapsed() < std::time::Duration::from_secs(3) {
        if std::io::Write::write_all(&mut client.stream, b"x").is_err() {
            break;
        }
        sent += 1;
        std::thread::sleep(std::time::Duration::from_millis(50));
        if !client
            .bytes_within(std::time::Duration::from_millis(1))
            .is_empty()
        {
            break;
        }
    }
    let response = client.response();
    assert_eq!(response.status, 408, "after {sent} bytes");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert_serves(server.addr);
}

// ---- the server's own code panicking ------------------------------------------------------------

/// A request-handler hook that panics for `/hook-panic` (server code, outside the app).
struct PanickingHook;

impl gateway::simple_server::WsgiRequestHandler for PanickingHook {
    fn get_environ(
        &self,
        request: &gateway::simple_server::Request<'_>,
        environ: gateway::Environ,
    ) -> gateway::Environ {
        if request.target.starts_with("/hook-panic") {
            panic!("deliberate panic in get_environ");
        }
        environ
    }
}

#[test]
fn worker_code_panic_answers_500() {
    let server = start(router(), |b| b.threads(1).request_handler(PanickingHook));
    for method in ["GET", "HEAD"] {
        let raw = exchange(
            server.addr,
            format!("{method} /hook-panic HTTP/1.1\r\nHost: a\r\n\r\n"),
        );
        assert!(raw.closed);
        let (response, used) =
            parse_response(&raw.bytes, method == "HEAD", true).expect("a whole response");
        assert_eq!(response.status, 500, "{method}");
        assert_eq!(
            used,
            raw.bytes.len(),
            "{method}: nothing after the response"
        );
    }
    // On a kept-alive connection, after a first response.
    let mut client = Client::connect(server.addr);
    client.send(get("/p/first"));
    assert_eq!(client.response().status, 200);
    client.send(get("/hook-panic"));
    assert_eq!(client.response().status, 500);
    assert!(client.closed_within(IO_TIMEOUT));
    assert!(
        server.log().contains("deliberate panic in get_environ"),
        "{}",
        server.log()
    );
    assert_serves(server.addr);
}

// ---- property: random targets of arbitrary bytes ---------------------------------------------

/// A small seeded generator (xorshift64*), so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the reference makes of a path: `%XX` decoded to a byte, a leading `//` collapsed.
fn expected_path(path: &[u8]) -> String {
    let path = if path.starts_with(b"//") {
        &path[path.iter().position(|&b| b != b'/').unwrap_or(path.len()) - 1..]
    } else {
        path
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < path.len() {
        let hex = path
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
        match (path[i], hex) {
            (b'%', Some(hex)) => {
                out.push(u8::from_str_radix(std::str::from_utf8(hex).unwrap(), 16).unwrap());
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// Every request with a random target gets an answer (never a dropped connection): a target
/// of visible ASCII and bytes above 0x7F gets 200 with the reference's PATH_INFO and
/// QUERY_STRING; one with a control byte, a space or DEL gets 400.
#[test]
fn random_targets_always_answered() {
    let server = start(vars_app(), |b| b);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut valid, mut invalid) = (0, 0);
    for case in 0..600 {
        let len = 1 + rng.below(24) as usize;
        let mut target = vec![b'/'];
        for _ in 0..len {
            let byte = match rng.below(10) {
                0 => rng.below(0x21) as u8, // controls and space
                1 => b'%',
                2 => b'?',
                3 => b'/',
                4..=6 => 0x80 + rng.below(0x80) as u8, // above 0x7F
                _ => 0x21 + rng.below(0x5f) as u8,     // visible ASCII and DEL
            };
            target.push(byte);
        }
        let ok = target
            .iter()
            .all(|&b| (0x21..=0x7e).contains(&b) || b >= 0x80);
        let raw = exchange(server.addr, raw_get(&target));
        let shown = String::from_utf8_lossy(&target).into_owned();
        assert!(
            raw.closed,
            "case {case} {shown:?}: the connection was not closed"
        );
        let (response, _) = parse_response(&raw.bytes, false, true)
            .unwrap_or_else(|| panic!("case {case} {shown:?}: no response"));
        if ok {
            valid += 1;
            assert_eq!(response.status, 200, "case {case} {shown:?}");
            let env = environ_lines(&response);
            let (path, query) = match target.iter().position(|&b| b == b'?') {
                Some(q) => (&target[..q], &target[q + 1..]),
                None => (&target[..], &b""[..]),
            };
            let query: String = query.iter().map(|&b| char::from(b)).collect();
            assert_eq!(env["PATH_INFO"], some(&expected_path(path)), "case {case}");
            assert_eq!(env["QUERY_STRING"], some(&query), "case {case}");
        } else {
            invalid += 1;
            assert_eq!(response.status, 400, "case {case} {shown:?}");
        }
    }
    assert!(
        valid > 100 && invalid > 100,
        "{valid} valid, {invalid} invalid"
    );
}
