//! The HTTP/1.1 server (`gateway::simple_server`) over loopback, with raw bytes.
//!
//! Every test starts a real server on an ephemeral port, talks to it through
//! `std::net::TcpStream` with read and write timeouts, and parses what comes back by hand.
//! Test names follow hyper's `tests/server.rs` checklist where one fits. Everything is
//! bounded in time: no read waits longer than [`IO_TIMEOUT`], and every server is shut down
//! and joined (bounded) when its [`TestServer`] drops.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use gateway::simple_server::{Limits, ServerBuilder, demo_app};
use gateway::util::FileWrapper;
use gateway::{App, Body, ErrorStream, SharedBuffer, app_fn};

mod common;
use common::*;

// ---- 1. response framing ----------------------------------------------------------------------

#[test]
fn get_fixed_response() {
    let server = start(router(), |b| b);
    let mut client = Client::connect(server.addr);
    client.send(get("/x"));
    let response = client.response();
    assert_eq!(response.version, "HTTP/1.1");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("Content-Length"), Some("11"));
    assert_eq!(response.header("Transfer-Encoding"), None);
    assert_eq!(response.text(), "hello world");
    let date = response.header("Date").expect("Date header");
    assert!(date.ends_with(" GMT"), "{date}");
    let software = response.header("Server").expect("Server header");
    assert!(software.starts_with("gateway/"), "{software}");
}

#[test]
fn head_response_doesnt_send_body() {
    let server = start(router(), |b| b);
    let mut client = Client::connect(server.addr);
    client.send("HEAD /x HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let response = client.response_to(true);
    assert_eq!(response.status, 200);
    // The same Content-Length a GET gets, and no body bytes: the next response follows at once.
    assert_eq!(response.header("Content-Length"), Some("11"));
    client.send(get("/p/after-head"));
    let next = client.response();
    assert_eq!(next.text(), "/p/after-head");
    assert!(client.buf.is_empty());
}

#[test]
fn get_chunked_response() {
    let server = start(router(), |b| b);
    let mut client = Client::connect(server.addr);
    client.send(get("/lazy"));
    let response = client.response();
    assert_eq!(response.status, 200);
    assert_eq!(response.header("Transfer-Encoding"), Some("chunked"));
    assert_eq!(response.header("Content-Length"), None);
    assert_eq!(
        response.raw_body,
        b"3\r\none\r\n3\r\ntwo\r\n5\r\nthree\r\n0\r\n\r\n"
    );
    assert_eq!(response.text(), "onetwothree");
    // The connection stays usable.
    client.send(get("/p/next"));
    assert_eq!(client.response().text(), "/p/next");
}

#[test]
fn http_10_request_receives_close_delimited_body() {
    let server = start(router(), |b| b);
    let raw = exchange(server.addr, "GET /lazy HTTP/1.0\r\n\r\n");
    assert!(
        raw.closed,
        "an HTTP/1.0 response of unknown length ends with the connection"
    );
    let text = String::from_utf8_lossy(&raw.bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a head");
    assert!(head.starts_with("HTTP/1.0 200 OK\r\n"), "{head}");
    let response = parse_all(&raw.bytes).remove(0);
    assert_eq!(response.header("Content-Length"), None);
    assert_eq!(response.header("Transfer-Encoding"), None);
    assert_eq!(response.header("Connection"), Some("close"));
    assert_eq!(body, "onetwothree");
}

#[test]
fn response_does_not_set_chunked_if_body_not_allowed() {
    let server = start(router(), |b| b);
    let mut client = Client::connect(server.addr);
    // All three requests in one write: if a bodiless response carried a stray byte, the
    // responses after it would not parse.
    client.send(format!("{}{}{}", get("/204"), get("/304"), get("/p/after")));
    for (expected, extra) in [(204, ("X-Empty", "yes")), (304, ("ETag", "\"v1\""))] {
        let response = client.response();
        assert_eq!(response.status, expected);
        assert_eq!(response.header(extra.0), Some(extra.1));
        assert_eq!(response.header("Content-Length"), None, "{expected}");
        assert_eq!(response.header("Transfer-Encoding"), None, "{expected}");
        assert!(response.raw_body.is_empty());
    }
    assert_eq!(client.response().text(), "/p/after");
    assert!(client.buf.is_empty());
}

// ---- 2. keep-alive ----------------------------------------------------------------------------

#[test]
fn keep_alive() {
    let server = start(router(), |b| b);
    let mut client = Client::connect(server.addr);
    for path in ["/p/first", "/p/second"] {
        client.send(get(path));
        let response = client.response();
        assert_eq!(response.text(), path);
        assert_eq!(response.header("Connection"), None);
    }
    assert!(
        !client.closed_within(Duration::from_millis(200)),
        "kept alive"
    );
}

#[test]
fn http_10_close_on_no_ka() {
    let server = start(router(), |b| b);
    let mut client = Client::connect(server.addr);
    client.send("GET /x HTTP/1.0\r\n\r\n");
    let response = client.response();
    assert_eq!(response.version, "HTTP/1.0");
    assert_eq!(response.header("Connection"), Some("close"));
    assert_eq!(response.text(), "hello world");
    assert!(client.closed_within(IO_TIMEOUT));
}

#[test]
fn http_10_keep_alive() {
    let server = start(router(), |b| b);
    let mut client = Client::connect(server.addr);
    for path in ["/p/one", "/p/two"] {
        client.send(format!(
            "GET {path} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
        ));
        let response = client.response();
        assert_eq!(response.version, "HTTP/1.0");
        assert_eq!(response.header("Connection"), Some("keep-alive"));
        assert_eq!(
            response.header("Content-Length"),
            Some(path.len().to_string().as_str())
        );
        assert_eq!(response.text(), path);
    }
    assert!(!client.closed_within(Duration::from_millis(200)));
}

#[test]
fn disable_keep_alive_with_connection_close() {
    let server = start(router(), |b| b);
    let mut client = Client::connect(server.addr);
    client.send(get_close("/x"));
    let response = client.response();
    assert_eq!(response.header("Connection"), Some("close"));
    assert!(client.closed_within(IO_TIMEOUT));
}

// ---- 3. pipelining ----------------------------------------------------------------------------

#[test]
fn pipelined_requests_answered_in_order() {
    let server = start(router(), |b| b);
    let mut client = Client::connect(server.addr);
    client.send(format!(
        "{}{}{}",
        get("/p/1"),
        get("/sleep"),
        get_close("/p/3")
    ));
    assert_eq!(client.response().text(), "/p/1");
    assert_eq!(client.response().text(), "slept");
    let last = client.response();
    assert_eq!(last.text(), "/p/3");
    assert_eq!(last.header("Connection"), Some("close"));
    assert!(client.closed_within(IO_TIMEOUT));
}

// ---- 4. request bodies ------------------------------------------------------------------------

#[test]
fn post_with_content_length_body() {
    let server = start(router(), |b| b);
    let mut client = Client::connect(server.addr);
    client.send("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 11\r\n\r\nhello there");
    let response = client.response();
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "cl=11;hello there");
}

#[test]
fn post_with_chunked_body() {
    let server = start(router(), |b| b);
    let mut client = Client::connect(server.addr);
    client.send(
        "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n\
         5;name=value\r\nhello\r\n6 ; flag\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n",
    );
    let response = client.response();
    assert_eq!(response.status, 200);
    // A chunked body has an empty CONTENT_LENGTH.
    assert_eq!(response.text(), "cl=;hello world");
    client.send(get("/p/after-chunked"));
    assert_eq!(client.response().text(), "/p/after-chunked");
}

#[test]
fn post_body_cannot_be_read_past_its_end() {
    let server = start(router(), |b| b);
    let mut client = Client::connect(server.addr);
    // The app reads to EOF and tries once more: the pipelined requests must stay intact.
    client.send(format!(
        "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello{}\
         POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n{}",
        get("/p/second"),
        get("/p/fourth")
    ));
    assert_eq!(client.response().text(), "cl=5;hello");
    assert_eq!(client.response().text(), "/p/second");
    assert_eq!(client.response().text(), "cl=;abc");
    assert_eq!(client.response().text(), "/p/fourth");
}

#[test]
fn get_should_ignore_body() {
    let server = start(router(), |b| b);
    let mut client = Client::connect(server.addr);
    // The app never reads the body: the server drains it and the next request is intact.
    client.send(format!(
        "GET /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n{}{}",
        "b".repeat(1000),
        get("/p/next")
    ));
    assert_eq!(client.response().text(), "hello world");
    assert_eq!(client.response().text(), "/p/next");
    // And a chunked body left unread.
    client.send(format!(
        "POST /x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nskip\r\n0\r\n\r\n{}",
        get("/p/last")
    ));
    assert_eq!(client.response().text(), "hello world");
    assert_eq!(client.response().text(), "/p/last");
}

#[test]
fn unread_body_beyond_max_drain_closes_connection() {
    let server = start(router(), |b| b.limits(limits(|l| l.max_drain = 1024)));
    let mut client = Client::connect(server.addr);
    let mut request =
        b"POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n".to_vec();
    request.extend(std::iter::repeat_n(b'z', 100_000));
    client.send(&request);
    let response = client.response();
    assert_eq!(response.text(), "hello world");
    assert_eq!(
        response.header("Connection"),
        Some("close"),
        "the response says the connection will close (RFC 9112 §9.6)"
    );
    assert!(
        client.closed_within(IO_TIMEOUT),
        "a long unread body closes the connection"
    );
}

// ---- 5. Expect: 100-continue ------------------------------------------------------------------

#[test]
fn expect_continue_sends_100() {
    let app = app_fn(|env, sr| {
        // Not before the app reads: the 100 must wait for this.
        thread::sleep(Duration::from_millis(300));
        let mut body = Vec::new();
        env.input().read_to_end(&mut body)?;
        sr.start("200 OK", [("Content-Type", "text/plain")])?;
        Ok(Body::from(body))
    });
    let server = start(app, |b| b);
    let mut client = Client::connect(server.addr);
    client.send("POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    let early = client.bytes_within(Duration::from_millis(150));
    assert!(
        early.is_empty(),
        "100 Continue before the app read: {:?}",
        String::from_utf8_lossy(&early)
    );
    let interim = client.response();
    assert_eq!(
        (interim.version.as_str(), interim.status),
        ("HTTP/1.1", 100)
    );
    client.send("hello");
    let response = client.response();
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "hello");
}

#[test]
fn expect_continue_chunked_body() {
    let server = start(router(), |b| b);
    let mut client = Client::connect(server.addr);
    client.send("POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
    assert_eq!(client.response().status, 100);
    client.send("4\r\nbody\r\n0\r\n\r\n");
    assert_eq!(client.response().text(), "cl=;body");
    // A client that sends the body without waiting gets no 100 (nothing to wait for).
    client.send("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nok");
    let response = client.response();
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "cl=2;ok");
}

#[test]
fn expect_continue_body_sent_early_keeps_connection() {
    let server = start(router(), |b| b);
    let mut client = Client::connect(server.addr);
    // Clients may send the body without waiting for the 100; once the body is read in full,
    // the connection is as reusable as any other.
    client.send(
        "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nok\
         POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n0\r\n\r\n",
    );
    let first = client.response();
    assert_eq!((first.status, first.text().as_str()), (200, "cl=2;ok"));
    let second = client.response();
    assert_eq!((second.status, second.text().as_str()), (200, "cl=;"));
    client.send(get("/p/third"));
    assert_eq!(client.response().text(), "/p/third");
}

#[test]
fn expect_continue_not_sent_when_app_does_not_read() {
    let server = start(router(), |b| b);
    let mut client = Client::connect(server.addr);
    client.send(
        "POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
    );
    let response = client.response();
    assert_eq!(
        response.status, 200,
        "the final response, with no 100 before it"
    );
    assert_eq!(response.text(), "hello world");
    // The body never came, so the connection cannot be reused.
    assert!(client.closed_within(IO_TIMEOUT));
}

// ---- 6. bad input -----------------------------------------------------------------------------

/// Sends `request` to a server with `limits`; expects `status`, `Connection: close`, the
/// connection closed, and the server still serving a new connection.
fn assert_rejected(limits: Limits, request: impl AsRef<[u8]>, status: u16) -> TestServer {
    let server = start(router(), |b| b.limits(limits));
    let response = one_response(server.addr, request);
    assert_eq!(response.status, status, "{}", response.text());
    assert_eq!(response.header("Connection"), Some("close"));
    assert_serves(server.addr);
    server
}

#[test]
fn http_11_uri_too_long() {
    let request = format!(
        "GET /{} HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "a".repeat(9000)
    );
    assert_rejected(Limits::default(), request, 414);
}

#[test]
fn header_section_too_large_431() {
    let limits = limits(|l| l.max_header_bytes = 4096);
    let request = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: {}\r\n\r\n",
        "v".repeat(8000)
    );
    assert_rejected(limits, request, 431);
}

#[test]
fn too_many_header_fields_431() {
    let limits = limits(|l| l.max_headers = 10);
    let fields: String = (0..12).map(|i| format!("X-Field-{i}: {i}\r\n")).collect();
    let request = format!("GET / HTTP/1.1\r\nHost: localhost\r\n{fields}\r\n");
    assert_rejected(limits, request, 431);
}

#[test]
fn content_length_over_max_body_413() {
    let limits = limits(|l| l.max_body = 1000);
    assert_rejected(
        limits,
        "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000\r\n\r\n",
        413,
    );
}

#[test]
fn post_with_chunked_overflow() {
    let limits = limits(|l| l.max_body = 1000);
    let request = format!(
        "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n\
         200\r\n{a}\r\n200\r\n{a}\r\n200\r\n{a}\r\n0\r\n\r\n",
        a = "a".repeat(0x200)
    );
    assert_rejected(limits, request, 413);
}

#[test]
fn header_read_timeout_slow_writes() {
    let server = start(router(), |b| {
        b.limits(limits(|l| {
            l.header_read_timeout = Duration::from_millis(300)
        }))
    });
    let mut client = Client::connect(server.addr);
    let started = Instant::now();
    client.send("GET / HTTP/1.1\r\nHost: loc");
    let response = client.response();
    assert_eq!(response.status, 408);
    assert_eq!(response.header("Connection"), Some("close"));
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "408 too early: {:?}",
        started.elapsed()
    );
    assert!(client.closed_within(IO_TIMEOUT));
    assert_serves(server.addr);
}

#[test]
fn body_read_timeout_408() {
    let server = start(router(), |b| {
        b.limits(limits(|l| l.body_read_timeout = Duration::from_millis(300)))
    });
    let mut client = Client::connect(server.addr);
    client.send("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc");
    let response = client.response();
    assert_eq!(response.status, 408);
    assert_eq!(response.header("Connection"), Some("close"));
    assert!(client.closed_within(IO_TIMEOUT));
    assert_serves(server.addr);
}

/// Small bodies are awaited while the connection is parked: clients sending them slowly hold
/// no worker, so others are still served, and each body is delivered whole once it is in.
#[test]
fn slow_small_bodies_take_no_worker() {
    let server = start(router(), |b| b.threads(2));
    let mut slow: Vec<Client> = (0..6)
        .map(|_| {
            let mut client = Client::connect(server.addr);
            client.send(
                "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 20\r\n\r\n0123456789",
            );
            client
        })
        .collect();
    thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let response = one_response(server.addr, get_close("/p/meanwhile"));
    assert_eq!(response.text(), "/p/meanwhile");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "a normal request waited {:?} behind slow bodies",
        started.elapsed()
    );
    for client in &mut slow {
        client.send("abcdefghij");
        let response = client.response();
        assert_eq!(response.status, 200);
        assert_eq!(response.text(), "cl=20;0123456789abcdefghij");
    }
}

/// A body that does not arrive in time gets 408 even while it is awaited by the reactor.
#[test]
fn awaited_body_timeout_408() {
    let server = start(router(), |b| {
        b.limits(limits(|l| l.body_read_timeout = Duration::from_millis(300)))
    });
    let mut client = Client::connect(server.addr);
    client.send("PUT /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nabc");
    let response = client.response();
    assert_eq!(response.status, 408);
    assert!(response.text().contains("body"), "{}", response.text());
    assert!(client.closed_within(IO_TIMEOUT));
    assert_serves(server.addr);
}

#[test]
fn keep_alive_timeout_closes_idle_quietly() {
    let server = start(router(), |b| {
        b.limits(limits(|l| {
            l.keep_alive_timeout = Duration::from_millis(300)
        }))
    });
    let mut client = Client::connect(server.addr);
    client.send(get("/p/once"));
    assert_eq!(client.response().text(), "/p/once");
    let started = Instant::now();
    // Closed without a 408: the client had not started another request.
    assert!(
        client.closed_within(IO_TIMEOUT),
        "{:?}",
        String::from_utf8_lossy(&client.buf)
    );
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn content_length_with_transfer_encoding_400() {
    let request = "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\
                   Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    assert_rejected(Limits::default(), request, 400);
}

#[test]
fn illegal_request_length_returns_400_response() {
    let request = "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd";
    assert_rejected(Limits::default(), request, 400);
}

#[test]
fn post_with_invalid_prefix_content_length() {
    assert_rejected(
        Limits::default(),
        "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n",
        400,
    );
}

#[test]
fn transfer_encoding_gzip_chunked_501() {
    let request = "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n";
    assert_rejected(Limits::default(), request, 501);
}

#[test]
fn transfer_encoding_chunked_gzip_400() {
    let request = "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n";
    assert_rejected(Limits::default(), request, 400);
}

#[test]
fn invalid_chunk_size_400() {
    // The body arrived whole with the head: it is checked before the app runs, which answers
    // 400 and closes, and the log says why.
    let request = "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n";
    let server = assert_rejected(Limits::default(), request, 400);
    assert!(
        server
            .log()
            .contains("code 400, message 400 Bad Request: invalid chunk size"),
        "{}",
        server.log()
    );
}

#[test]
fn obs_fold_400() {
    let request = "GET / HTTP/1.1\r\nHost: localhost\r\nX-Folded: one\r\n two\r\n\r\n";
    assert_rejected(Limits::default(), request, 400);
}

#[test]
fn space_before_colon_400() {
    assert_rejected(
        Limits::default(),
        "GET / HTTP/1.1\r\nHost: localhost\r\nX-Space : 1\r\n\r\n",
        400,
    );
}

#[test]
fn control_char_in_target_400() {
    assert_rejected(
        Limits::default(),
        "GET /a\x01b HTTP/1.1\r\nHost: localhost\r\n\r\n",
        400,
    );
}

#[test]
fn http2_request_line_505() {
    assert_rejected(
        Limits::default(),
        "GET / HTTP/2.0\r\nHost: localhost\r\n\r\n",
        505,
    );
}

#[test]
fn http_11_without_host_400() {
    assert_rejected(Limits::default(), "GET / HTTP/1.1\r\n\r\n", 400);
}

// ---- 7. panics --------------------------------------------------------------------------------

#[test]
fn panic_answers_500_and_logs_traceback() {
    let server = start(router(), |b| b);
    let response = one_response(server.addr, get_close("/panic"));
    assert_eq!(response.status, 500);
    assert_eq!(response.body, gateway::handlers::ERROR_BODY);
    assert!(
        wait_for(IO_TIMEOUT, || server
            .log()
            .contains("Panic: deliberate test panic")),
        "{}",
        server.log()
    );
    assert!(server.log().contains("Traceback (most recent call last):"));
    assert_serves(server.addr);
}

#[test]
fn panics_do_not_kill_workers() {
    let server = start(router(), |b| b.threads(2));
    for _ in 0..10 {
        assert_eq!(one_response(server.addr, get_close("/panic")).status, 500);
    }
    // Both workers still answer, at the same time.
    let clients: Vec<JoinHandle<Response>> = (0..2)
        .map(|_| {
            let addr = server.addr;
            thread::spawn(move || one_response(addr, get_close("/sleep")))
        })
        .collect();
    for client in clients {
        let response = join_within(client, IO_TIMEOUT).expect("answered in time");
        assert_eq!(response.text(), "slept");
    }
    assert_serves(server.addr);
}

#[test]
fn slow_reader_write_timeout_frees_worker() {
    let app = app_fn(|env, sr| {
        sr.start("200 OK", [("Content-Type", "application/octet-stream")])?;
        if env.get("PATH_INFO") == Some("/big") {
            // More than loopback socket buffers hold, so the write blocks.
            return Ok(Body::from(vec![b'x'; 64 << 20]));
        }
        Ok(Body::from("small"))
    });
    let server = start(app, |b| {
        b.threads(1)
            .limits(limits(|l| l.write_timeout = Duration::from_millis(300)))
    });
    let mut stuck = Client::connect(server.addr);
    stuck.send(get("/big"));
    // The only worker gives up on the reader that never reads, and serves the next client.
    let started = Instant::now();
    let response = one_response(server.addr, get_close("/small"));
    assert_eq!(response.text(), "small");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(
        wait_for(IO_TIMEOUT, || server.log().contains("timed out")),
        "{}",
        server.log()
    );
}

// ---- 8. environ -------------------------------------------------------------------------------

const ENVIRON_REQUEST: &str = "POST /caf%C3%A9?a=1&b=%20x HTTP/1.1\r\nHost: example.test\r\n\
    X-Multi: a\r\nX-Multi: b\r\nX_Under: 1\r\nContent-Type: application/json\r\n\
    Content-Length: 2\r\nConnection: close\r\n\r\n{}";

#[test]
fn environ_from_request() {
    let server = start(environ_app(), |b| b);
    let response = one_response(server.addr, ENVIRON_REQUEST);
    let env = environ_lines(&response);
    let some = |v: &str| format!("{:?}", Some(v));
    assert_eq!(env["PATH_INFO"], some("/caf\u{c3}\u{a9}"));
    assert_eq!(env["QUERY_STRING"], some("a=1&b=%20x"));
    assert_eq!(env["REQUEST_URI"], some("/caf%C3%A9?a=1&b=%20x"));
    assert_eq!(env["REQUEST_METHOD"], some("POST"));
    assert_eq!(env["SERVER_PROTOCOL"], some("HTTP/1.1"));
    assert_eq!(env["HTTP_X_MULTI"], some("a,b"));
    assert_eq!(
        env["HTTP_X_UNDER"], "None",
        "header names with '_' are dropped"
    );
    assert_eq!(env["CONTENT_TYPE"], some("application/json"));
    assert_eq!(env["CONTENT_LENGTH"], some("2"));
    assert_eq!(env["HTTP_CONTENT_TYPE"], "None");
    assert_eq!(env["HTTP_CONTENT_LENGTH"], "None");
    assert_eq!(env["HTTP_HOST"], some("example.test"));
    assert_eq!(env["SERVER_PORT"], some(&server.addr.port().to_string()));
    assert_eq!(env["REMOTE_ADDR"], some("127.0.0.1"));
    assert_eq!(env["wsgi.multithread"], "true");
    assert_eq!(env["wsgi.multiprocess"], "false");
    assert_eq!(env["wsgi.input_terminated"], "true");
    let base = server.server.base_environ();
    assert!(base.contains(&("SERVER_PORT", &*server.addr.port().to_string())));
}

#[test]
fn environ_absolute_form_target() {
    let server = start(environ_app(), |b| b);
    let request = "GET http://example.test/abs/p%20q?x=%2F HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n";
    let env = environ_lines(&one_response(server.addr, request));
    let some = |v: &str| format!("{:?}", Some(v));
    assert_eq!(env["PATH_INFO"], some("/abs/p q"));
    assert_eq!(env["QUERY_STRING"], some("x=%2F"));
    assert_eq!(
        env["REQUEST_URI"],
        some("http://example.test/abs/p%20q?x=%2F")
    );
    assert_eq!(env["CONTENT_LENGTH"], some(""));
}

#[test]
fn environ_absolute_form_target_without_path() {
    let server = start(environ_app(), |b| b);
    for target in ["http://example.test", "http://example.test?q=1"] {
        let request =
            format!("GET {target} HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n");
        let env = environ_lines(&one_response(server.addr, request));
        let some = |v: &str| format!("{:?}", Some(v));
        assert_eq!(env["PATH_INFO"], some("/"), "{target}");
        assert_eq!(env["REQUEST_URI"], some(target));
    }
}

/// REQUEST_URI, PATH_INFO and QUERY_STRING share the head's text: removing or replacing them
/// (with a target long enough to make the environ compact its text) keeps every other value.
#[test]
fn app_removing_and_replacing_request_variables() {
    let app = app_fn(|env, sr| {
        env.remove("QUERY_STRING");
        env.remove("REQUEST_URI");
        env.insert("PATH_INFO", "/replaced".repeat(600));
        env.remove("PATH_INFO");
        let body = format!(
            "{}|{}|{}",
            env.len(),
            env.get("HTTP_HOST").unwrap_or("-"),
            env.get("REQUEST_METHOD").unwrap_or("-")
        );
        sr.start("200 OK", [("Content-Type", "text/plain")])?;
        Ok(Body::from(body))
    });
    let server = start(app, |b| b);
    let request = format!(
        "GET /p?{} HTTP/1.1\r\nHost: here\r\nConnection: close\r\n\r\n",
        "q".repeat(3000)
    );
    let response = one_response(server.addr, request);
    assert_eq!(response.status, 200, "{}", server.log());
    assert!(
        response.text().ends_with("|here|GET"),
        "{}",
        response.text()
    );
}

/// A client that sends its request and closes its side at once gets the response and then
/// the end of the connection, not a wait for the keep-alive timeout.
#[test]
fn half_closed_client_gets_response_then_close() {
    let server = start(router(), |b| {
        b.limits(limits(|l| l.keep_alive_timeout = Duration::from_secs(30)))
    });
    for _ in 0..20 {
        let mut client = Client::connect(server.addr);
        client.stream.write_all(get("/p/half").as_bytes()).unwrap();
        client.stream.shutdown(std::net::Shutdown::Write).unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        let closed = loop {
            match client.read_some(deadline) {
                Got::Data => {}
                Got::Closed => break true,
                Got::Timeout => break false,
            }
        };
        assert!(
            closed,
            "still open after 2 s: {:?}",
            String::from_utf8_lossy(&client.buf)
        );
        let responses = parse_all(&client.buf);
        assert_eq!(responses.len(), 1);
        assert_eq!(responses[0].text(), "/p/half");
    }
}

/// Slow apps on some connections never hold up requests queued for others, whichever worker
/// took their events from epoll.
#[test]
fn queued_requests_do_not_wait_for_slow_apps() {
    let app = app_fn(|_env, sr| {
        thread::sleep(Duration::from_millis(700));
        sr.start("200 OK", [("Content-Length", "2")])?;
        Ok(Body::from("ok"))
    });
    let server = start(app, |b| b.threads(8));
    let mut conns: Vec<TcpStream> = (0..6)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    thread::sleep(Duration::from_millis(200)); // accepted and parked, workers idle
    let started = Instant::now();
    for conn in &mut conns {
        conn.write_all(get_close("/").as_bytes()).unwrap();
    }
    let readers: Vec<_> = conns
        .into_iter()
        .map(|mut conn| {
            thread::spawn(move || {
                conn.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                let mut out = Vec::new();
                let _ = conn.read_to_end(&mut out);
                (started.elapsed(), out)
            })
        })
        .collect();
    for reader in readers {
        let (took, out) = reader.join().unwrap();
        assert!(out.ends_with(b"ok"), "{:?}", String::from_utf8_lossy(&out));
        // Six 700 ms apps on eight workers run side by side (one after another would be 1.4 s+).
        assert!(
            took < Duration::from_millis(1300),
            "a request waited {took:?}"
        );
    }
}

/// A browser's fields in the casings clients send (the common ones take their keys from a
/// table, the others are built): each key as CGI spells it, repeats joined, a spoofing
/// underscore name dropped, and `Host` still ignored for an absolute-form target.
#[test]
fn environ_keys_of_common_and_other_fields_in_any_case() {
    const KEYS: &[&str] = &[
        "HTTP_HOST",
        "HTTP_USER_AGENT",
        "HTTP_SEC_FETCH_MODE",
        "HTTP_SEC_CH_UA_PLATFORM",
        "HTTP_UPGRADE_INSECURE_REQUESTS",
        "HTTP_X_FORWARDED_FOR",
        "HTTP_ACCEPT_LANGUAGE",
        "HTTP_X_CUSTOM_THING",
        "HTTP_DNT",
    ];
    let server = start(keys_app(KEYS), |b| b);
    let request = "GET /a HTTP/1.1\r\nhOsT: example.test\r\nUSER-AGENT: Mozilla/5.0 (X11)\r\n\
        sec-fetch-MODE: navigate\r\nSec-CH-UA-Platform: \"Linux\"\r\n\
        upgrade-insecure-requests: 1\r\nX-Forwarded-For: 10.0.0.1\r\n\
        X_Forwarded_For: 6.6.6.6\r\nx-forwarded-for: 10.0.0.2\r\nAccept-Language: en\r\n\
        x-custom-THING: yes\r\nDNT: 1\r\nConnection: close\r\n\r\n";
    let env = environ_lines(&one_response(server.addr, request));
    let some = |v: &str| format!("{:?}", Some(v));
    assert_eq!(env["HTTP_HOST"], some("example.test"));
    assert_eq!(env["HTTP_USER_AGENT"], some("Mozilla/5.0 (X11)"));
    assert_eq!(env["HTTP_SEC_FETCH_MODE"], some("navigate"));
    assert_eq!(env["HTTP_SEC_CH_UA_PLATFORM"], some("\"Linux\""));
    assert_eq!(env["HTTP_UPGRADE_INSECURE_REQUESTS"], some("1"));
    assert_eq!(
        env["HTTP_X_FORWARDED_FOR"],
        some("10.0.0.1,10.0.0.2"),
        "repeats joined, the underscore spelling dropped"
    );
    assert_eq!(env["HTTP_ACCEPT_LANGUAGE"], some("en"));
    assert_eq!(env["HTTP_X_CUSTOM_THING"], some("yes"));
    assert_eq!(env["HTTP_DNT"], some("1"));
    let absolute = "GET http://target.test/a HTTP/1.1\r\nHOST: other.test\r\n\
        Connection: close\r\n\r\n";
    let env = environ_lines(&one_response(server.addr, absolute));
    assert_eq!(env["HTTP_HOST"], some("target.test"));
}

#[test]
fn underscore_headers_kept_when_asked() {
    let server = start(environ_app(), |b| b.keep_underscore_headers(true));
    let env = environ_lines(&one_response(server.addr, ENVIRON_REQUEST));
    assert_eq!(env["HTTP_X_UNDER"], format!("{:?}", Some("1")));
}

// ---- 9. FileWrapper ---------------------------------------------------------------------------

const FILE_SIZE: usize = 1 << 20;

/// A temporary file of 1 MiB of pattern bytes, removed on drop.
struct TempFile {
    path: PathBuf,
    data: Vec<u8>,
}

impl TempFile {
    fn new(name: &str) -> TempFile {
        let path =
            std::env::temp_dir().join(format!("gateway-server-http-{}-{name}", std::process::id()));
        let data: Vec<u8> = (0..FILE_SIZE).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).expect("write temp file");
        TempFile { path, data }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Serves the file, seeked to `offset` first, with `headers` from the app.
fn file_app(path: PathBuf, offset: u64, headers: Vec<(String, String)>) -> impl App {
    app_fn(move |_env, sr| {
        let mut file = File::open(&path)?;
        file.seek(SeekFrom::Start(offset))?;
        sr.start("200 OK", headers.clone())?;
        Ok(Body::file(FileWrapper::new(file, 8192)))
    })
}

fn octets() -> Vec<(String, String)> {
    vec![(
        "Content-Type".to_owned(),
        "application/octet-stream".to_owned(),
    )]
}

#[test]
fn file_wrapper_sendfile_exact_bytes() {
    let file = TempFile::new("sendfile");
    let server = start(file_app(file.path.clone(), 0, octets()), |b| b);
    let mut client = Client::connect(server.addr);
    client.send(get("/file"));
    let response = client.response();
    assert_eq!(
        response.header("Content-Length"),
        Some(FILE_SIZE.to_string().as_str())
    );
    assert!(response.body == file.data, "file bytes differ");
    // Framed exactly: the connection carries another request.
    client.send(get("/file"));
    assert!(client.response().body == file.data);
}

#[test]
fn file_wrapper_without_sendfile() {
    let file = TempFile::new("no-sendfile");
    let server = start(file_app(file.path.clone(), 0, octets()), |b| {
        b.sendfile(false)
    });
    let mut client = Client::connect(server.addr);
    client.send(get("/file"));
    let response = client.response();
    assert!(response.body == file.data, "file bytes differ");
    client.send(get("/file"));
    assert!(client.response().body == file.data);
}

#[test]
fn file_wrapper_from_advanced_position() {
    let file = TempFile::new("offset");
    for sendfile in [true, false] {
        let server = start(file_app(file.path.clone(), 1000, octets()), |b| {
            b.sendfile(sendfile)
        });
        let response = one_response(server.addr, get_close("/file"));
        if sendfile {
            assert_eq!(
                response.header("Content-Length"),
                Some((FILE_SIZE - 1000).to_string().as_str())
            );
        }
        assert!(
            response.body == file.data[1000..],
            "sendfile={sendfile}: wrong bytes"
        );
    }
}

#[test]
fn file_wrapper_app_content_length_limits() {
    let file = TempFile::new("limited");
    let mut headers = octets();
    headers.push(("Content-Length".to_owned(), "5000".to_owned()));
    for sendfile in [true, false] {
        let server = start(file_app(file.path.clone(), 0, headers.clone()), |b| {
            b.sendfile(sendfile)
        });
        let raw = exchange(server.addr, get_close("/file"));
        let response = parse_all(&raw.bytes).remove(0);
        assert_eq!(response.header("Content-Length"), Some("5000"));
        assert_eq!(
            raw.bytes.len(),
            find(&raw.bytes, b"\r\n\r\n").unwrap() + 4 + 5000,
            "sendfile={sendfile}"
        );
        assert!(
            response.body == file.data[..5000],
            "sendfile={sendfile}: wrong bytes"
        );
    }
}

// ---- 10. slowloris ----------------------------------------------------------------------------

/// A client that keeps streaming after an error response cannot hold the connection (or the
/// worker reading it) past the linger time: it is closed about 2 s after the response.
#[test]
fn streaming_after_an_error_is_cut_off() {
    let server = start(router(), |b| b.threads(2));
    let mut client = TcpStream::connect(server.addr).unwrap();
    client.write_all(b"BAD REQUEST LINE\r\n\r\n").unwrap();
    let started = Instant::now();
    let chunk = vec![b'x'; 16 * 1024];
    let cut_off = loop {
        if client.write_all(&chunk).is_err() {
            break started.elapsed();
        }
        if started.elapsed() > Duration::from_secs(8) {
            panic!("still accepting bytes after 8 s");
        }
    };
    assert!(
        cut_off < Duration::from_secs(5),
        "closed only after {cut_off:?}"
    );
    assert_serves(server.addr);
}

#[test]
fn slowloris_does_not_starve_normal_clients() {
    const SLOW: usize = 200;
    let server = start(router(), |b| {
        b.threads(4)
            .limits(limits(|l| l.header_read_timeout = Duration::from_secs(1)))
    });
    let addr = server.addr;
    // One byte per connection every 100 ms for 2 s; the head never completes. Each connection
    // sends its first byte as soon as it is open (the header-read deadline runs from there).
    let head = b"GET /slow HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa";
    let slow: Vec<(TcpStream, Instant)> = (0..SLOW)
        .map(|_| {
            let mut conn = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("slow connect");
            conn.write_all(&head[..1]).expect("first slow byte");
            (conn, Instant::now())
        })
        .collect();
    let slow_thread = thread::spawn(move || {
        let mut conns = slow;
        let mut alive = vec![true; conns.len()];
        // The earliest a write failed, measured from that connection's first byte.
        let mut earliest_cut: Option<Duration> = None;
        for tick in 1..20 {
            thread::sleep(Duration::from_millis(100));
            for ((conn, first), alive) in conns.iter_mut().zip(alive.iter_mut()) {
                if *alive && conn.write_all(&head[tick..=tick]).is_err() {
                    *alive = false;
                    let at = first.elapsed();
                    earliest_cut = Some(earliest_cut.map_or(at, |e| e.min(at)));
                }
            }
        }
        let conns: Vec<TcpStream> = conns.into_iter().map(|(c, _)| c).collect();
        (conns, earliest_cut)
    });

    thread::sleep(Duration::from_millis(150));
    let mut slowest = Duration::ZERO;
    for i in 0..20 {
        let started = Instant::now();
        let response = one_response(addr, get_close(&format!("/p/{i}")));
        let took = started.elapsed();
        assert_eq!(response.text(), format!("/p/{i}"));
        assert!(took < Duration::from_secs(1), "request {i} took {took:?}");
        slowest = slowest.max(took);
        thread::sleep(Duration::from_millis(50));
    }

    let (conns, earliest_cut) =
        join_within(slow_thread, Duration::from_secs(10)).expect("slow clients stop");
    if let Some(at) = earliest_cut {
        assert!(
            at >= Duration::from_millis(900),
            "a slow connection was cut after {at:?}"
        );
    }
    // By now (2 s in, deadline 1 s) every slow connection got a 408 or was closed.
    let (mut got_408, mut closed) = (0, 0);
    let mut pending: Vec<(TcpStream, Vec<u8>)> =
        conns.into_iter().map(|c| (c, Vec::new())).collect();
    let deadline = Instant::now() + Duration::from_secs(2);
    while !pending.is_empty() && Instant::now() < deadline {
        pending.retain_mut(|(conn, seen)| {
            conn.set_read_timeout(Some(Duration::from_millis(1)))
                .expect("timeout");
            let mut buf = [0; 1024];
            match conn.read(&mut buf) {
                Ok(0) => {
                    if seen.starts_with(b"HTTP/1.1 408") {
                        got_408 += 1;
                    } else {
                        closed += 1;
                    }
                    false
                }
                Ok(n) => {
                    seen.extend_from_slice(&buf[..n]);
                    true
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    true
                }
                Err(_) => {
                    if seen.starts_with(b"HTTP/1.1 408") {
                        got_408 += 1;
                    } else {
                        closed += 1;
                    }
                    false
                }
            }
        });
    }
    assert!(
        pending.is_empty(),
        "{} slow connections still open",
        pending.len()
    );
    assert_eq!(got_408 + closed, SLOW);
    eprintln!("slowloris: {got_408} got 408, {closed} closed; slowest normal request {slowest:?}");
    assert!(
        wait_for(Duration::from_secs(3), || server
            .server
            .parked_connections()
            == 0),
        "{} connections still parked",
        server.server.parked_connections()
    );
}

// ---- 11. shutdown -----------------------------------------------------------------------------

#[test]
fn shutdown_finishes_in_flight_request() {
    let mut server = start(router(), |b| b);
    let addr = server.addr;
    let mut idle = Client::connect(addr);
    idle.send(get("/p/idle"));
    assert_eq!(idle.response().text(), "/p/idle");

    let mut busy = Client::connect(addr);
    busy.send(get("/sleep"));
    thread::sleep(Duration::from_millis(100));
    let handle = server.server.shutdown_handle();
    let stopper = thread::spawn(move || handle.shutdown());
    join_within(stopper, IO_TIMEOUT).expect("shutdown() returns at once");

    let response = busy.response();
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "slept");
    assert!(
        busy.closed_within(IO_TIMEOUT),
        "closed after the in-flight response"
    );
    assert!(
        idle.closed_within(IO_TIMEOUT),
        "idle keep-alive connection closed by shutdown"
    );

    let result = server.stop().expect("serve_forever returned");
    result.expect("serve_forever returned Ok");
    // Regression: a connection a worker held at shutdown used to be parked afterwards and
    // never closed.
    assert_eq!(
        server.server.parked_connections(),
        0,
        "nothing left parked after shutdown"
    );
    drop(server);
    let refused = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
    assert!(
        refused.is_err(),
        "a stopped and dropped server still accepts connections"
    );
}

#[test]
fn shutdown_response_says_connection_close() {
    let mut server = start(router(), |b| b);
    let mut busy = Client::connect(server.addr);
    busy.send(get("/sleep"));
    thread::sleep(Duration::from_millis(100));
    server.server.shutdown();
    let response = busy.response();
    assert_eq!(response.text(), "slept");
    assert_eq!(response.header("Connection"), Some("close"));
    assert!(server.stop().is_some());
}

#[test]
fn shutdown_refuses_new_connections() {
    let mut server = start(router(), |b| b);
    let addr = server.addr;
    server.stop().expect("serve_forever returned").expect("Ok");
    // The server object is still alive here (as after Python's shutdown() without
    // server_close()); a new connection must not hang forever.
    match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
        Err(_) => {}
        Ok(stream) => {
            let mut client = Client {
                stream,
                buf: Vec::new(),
                closed: false,
            };
            client.send(get("/x"));
            assert!(
                client.closed_within(Duration::from_secs(1)),
                "a connection accepted after shutdown is neither refused nor closed"
            );
        }
    }
}

#[test]
fn set_app_replaces_the_app() {
    let server = start(router(), |b| b);
    assert_eq!(
        one_response(server.addr, get_close("/x")).text(),
        "hello world"
    );
    server.server.set_app(app_fn(|_env, sr| {
        sr.start("200 OK", [("Content-Type", "text/plain")])?;
        Ok(Body::from("replaced"))
    }));
    assert_eq!(
        one_response(server.addr, get_close("/x")).text(),
        "replaced"
    );
    let _app = server.server.get_app();
}

// ---- 12. access log ---------------------------------------------------------------------------

/// `DD/Mon/YYYY HH:MM:SS`.
fn is_log_date(date: &str) -> bool {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let b = date.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    date.len() == 20
        && digits(0..2)
        && b[2] == b'/'
        && MONTHS.contains(&&date[3..6])
        && b[6] == b'/'
        && digits(7..11)
        && b[11] == b' '
        && digits(12..14)
        && b[14] == b':'
        && digits(15..17)
        && b[17] == b':'
        && digits(18..20)
}

#[test]
fn access_log_line_format() {
    let server = start(router(), |b| b);
    assert_eq!(
        one_response(server.addr, get_close("/x")).text(),
        "hello world"
    );
    assert!(
        wait_for(IO_TIMEOUT, || server.log().contains("\"GET /x HTTP/1.1\"")),
        "{}",
        server.log()
    );
    let log = server.log();
    let line = log
        .lines()
        .find(|l| l.contains("\"GET /x HTTP/1.1\""))
        .expect("an access line");
    let rest = line
        .strip_prefix("127.0.0.1 - - [")
        .unwrap_or_else(|| panic!("{line:?}"));
    let (date, rest) = rest.split_once(']').unwrap_or_else(|| panic!("{line:?}"));
    assert!(is_log_date(date), "{date:?}");
    assert_eq!(rest, " \"GET /x HTTP/1.1\" 200 11");
}

#[test]
fn access_log_off_writes_nothing() {
    let server = start(router(), |b| b.access_log(false));
    assert_eq!(one_response(server.addr, get_close("/x")).status, 200);
    thread::sleep(Duration::from_millis(100));
    assert!(!server.log().contains("GET /x"), "{}", server.log());
}

// ---- 13. handle_request -----------------------------------------------------------------------

#[test]
fn handle_request_serves_exactly_one() {
    let server = Arc::new(
        ServerBuilder::new()
            .threads(1)
            .stderr(ErrorStream::sink())
            .bind("127.0.0.1", 0, router())
            .expect("bind"),
    );
    let addr = server.server_address();
    let runner = Arc::clone(&server);
    let serving = thread::spawn(move || runner.handle_request(Some(IO_TIMEOUT)));
    let raw = exchange(addr, format!("{}{}", get("/p/one"), get("/p/two")));
    let served = join_within(serving, IO_TIMEOUT).expect("handle_request returned");
    assert!(served.expect("handle_request Ok"));
    assert!(raw.closed);
    let responses = parse_all(&raw.bytes);
    assert_eq!(responses.len(), 1, "exactly one request answered");
    assert_eq!(responses[0].text(), "/p/one");
    assert_eq!(responses[0].header("Connection"), Some("close"));
}

#[test]
fn handle_request_times_out() {
    let server = ServerBuilder::new()
        .threads(1)
        .stderr(ErrorStream::sink())
        .bind("127.0.0.1", 0, router())
        .expect("bind");
    let started = Instant::now();
    assert!(
        !server
            .handle_request(Some(Duration::from_millis(200)))
            .expect("Ok")
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(150) && took < Duration::from_secs(2),
        "{took:?}"
    );
}

// ---- 14. demo_app -----------------------------------------------------------------------------

#[test]
fn demo_app_through_server() {
    let server = start(demo_app, |b| b);
    let response = one_response(server.addr, get_close("/demo?x=1"));
    assert_eq!(response.status, 200);
    let text = response.text();
    assert!(text.starts_with("Hello world!\n\n"), "{text}");
    assert!(text.contains("PATH_INFO = '/demo'\n"), "{text}");
    assert_eq!(
        response.header("Content-Length"),
        Some(response.body.len().to_string().as_str())
    );
}

// ---- python's http.client ---------------------------------------------------------------------

const PYTHON_CLIENT: &str = r#"
import http.client, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
ports = set()
def local_port():
    ports.add(conn.sock.getsockname()[1] if conn.sock else None)
for i in range(3):
    conn.request("GET", "/p/ka/%d" % i)
    r = conn.getresponse()
    print("GET", r.status, r.getheader("Content-Length"), r.read().decode())
    local_port()
def parts():
    yield b"hello "
    yield b"chunked "
    yield b"world"
conn.request("POST", "/echo", body=parts(), headers={"Content-Type": "text/plain"})
r = conn.getresponse()
print("POST", r.status, r.read().decode())
local_port()
conn.request("GET", "/p/last")
r = conn.getresponse()
print("GET", r.status, r.getheader("Content-Length"), r.read().decode())
local_port()
print("connections", len(ports), None in ports)
conn.close()
"#;

fn python3_available() -> bool {
    Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn python_http_client_keep_alive_and_chunked_post() {
    if !python3_available() {
        eprintln!("python3 not found: skipping");
        return;
    }
    let server = start(router(), |b| b);
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(PYTHON_CLIENT)
        .arg(server.addr.port().to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python3");
    let deadline = Instant::now() + Duration::from_secs(15);
    while child.try_wait().expect("wait python3").is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("python3 client did not finish in time");
        }
        thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("python3 output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "GET 200 7 /p/ka/0",
            "GET 200 7 /p/ka/1",
            "GET 200 7 /p/ka/2",
            "POST 200 cl=;hello chunked world",
            "GET 200 7 /p/last",
            "connections 1 False",
        ]
    );
}

// ---- pool: apps that block -----------------------------------------------------------------

/// Only one worker per core waits on epoll at a time; when those are all stuck in a blocking
/// app, the acceptor opens more slots, so other connections are still answered promptly.
#[test]
fn blocking_apps_do_not_starve_other_connections() {
    let server = start(router(), |b| b.threads(8));
    assert_served_while_apps_block(server.addr);
}

// ---- WSGIRequestHandler override points ---------------------------------------------------

/// Overrides all three hooks: adds a variable, sends errors to its own buffer, and answers
/// `/forbidden` itself without calling the app.
struct Hooked {
    errors: SharedBuffer,
}

impl gateway::simple_server::WsgiRequestHandler for Hooked {
    fn get_environ(
        &self,
        request: &gateway::simple_server::Request<'_>,
        mut environ: gateway::Environ,
    ) -> gateway::Environ {
        environ.insert("HOOKED_METHOD", request.method);
        environ
    }

    fn get_stderr(&self, _server: &ErrorStream) -> ErrorStream {
        ErrorStream::new(self.errors.clone())
    }

    fn handle(
        &self,
        app: &dyn App,
        environ: &mut gateway::Environ,
        start_response: &mut gateway::StartResponse<'_>,
    ) -> Result<Body, gateway::AppError> {
        if environ.get("PATH_INFO") == Some("/forbidden") {
            start_response.start("403 Forbidden", [("Content-Type", "text/plain")])?;
            return Ok(Body::from("no"));
        }
        app.call(environ, start_response)
    }
}

#[test]
fn request_handler_hooks_are_used() {
    let errors = SharedBuffer::new();
    let app = app_fn(|env, sr| {
        if env.get("PATH_INFO") == Some("/panic") {
            panic!("hooked panic");
        }
        let method = env.get("HOOKED_METHOD").unwrap_or("missing").to_owned();
        sr.start("200 OK", [("Content-Type", "text/plain")])?;
        Ok(Body::from(method))
    });
    let hooks = Hooked {
        errors: errors.clone(),
    };
    let server = start(app, |b| b.request_handler(hooks));
    assert_eq!(one_response(server.addr, get_close("/x")).text(), "GET");
    let forbidden = one_response(server.addr, get_close("/forbidden"));
    assert_eq!((forbidden.status, forbidden.text()), (403, "no".to_owned()));
    let failed = one_response(server.addr, get_close("/panic"));
    assert_eq!(failed.status, 500);
    assert!(
        errors.to_string_lossy().contains("hooked panic"),
        "traceback went to get_stderr()"
    );
    assert!(
        !server.log().contains("hooked panic"),
        "traceback leaked to the server's stream"
    );
}

/// Once the final response has started, no `100 Continue` may follow (RFC 9110 §15.2), even if
/// the app reads the body afterwards.
#[test]
fn no_100_continue_after_the_response_started() {
    let app = app_fn(|env, sr| {
        let mut write = sr.start("200 OK", [("Content-Type", "text/plain")])?;
        write.write(b"head first;")?;
        let mut body = Vec::new();
        env.input().read_to_end(&mut body)?;
        Ok(Body::from(body))
    });
    let server = start(app, |b| b);
    let mut client = Client::connect(server.addr);
    client.send(
        "POST /late HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\
         Expect: 100-continue\r\nConnection: close\r\n\r\n",
    );
    // The response head arrives without any body having been sent; then the client sends it.
    let early = client.bytes_within(Duration::from_millis(300));
    assert!(
        early.starts_with(b"HTTP/1.1 200 OK"),
        "{:?}",
        String::from_utf8_lossy(&early)
    );
    client.send("ok");
    let all = client.bytes_within(IO_TIMEOUT);
    let text = String::from_utf8_lossy(&all);
    assert!(!text.contains("100 Continue"), "{text}");
    assert!(text.contains("head first;"), "{text}");
    assert!(text.contains("ok"), "{text}");
}
