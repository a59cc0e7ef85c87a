//! The three everyday apps of issue 9 (examples `json_api`, `static_file`, `middleware`),
//! each through the in-process test client and over the real server.

#[path = "../examples/json_api.rs"]
mod json_api;
#[path = "../examples/middleware.rs"]
mod middleware;
#[path = "../examples/static_file.rs"]
mod static_file;

use gateway::test::{EnvironBuilder, TestResponse, run_app};

mod common;
use common::*;

fn post_json(body: &str) -> EnvironBuilder {
    EnvironBuilder::new()
        .method("POST")
        .path("/items")
        .header("Content-Type", "application/json")
        .body(body)
}

#[test]
fn json_api_statuses() {
    let api = json_api::Items::default();
    let run = |builder: EnvironBuilder| -> TestResponse { run_app(&api, builder.build()) };
    let created = run(post_json(r#"{"name":"pen"}"#));
    assert_eq!(created.status, "201 Created");
    assert_eq!(created.header("Location"), Some("/items/1"));
    assert_eq!(created.text(), r#"{"id":1,"name":"pen"}"#);
    let listed = run(EnvironBuilder::new().path("/items"));
    assert_eq!(listed.text(), r#"[{"id":1,"name":"pen"}]"#);
    assert_eq!(run(EnvironBuilder::new().path("/items/1")).status_code, 200);
    assert_eq!(run(EnvironBuilder::new().path("/items/9")).status_code, 404);
    let bad_id = run(EnvironBuilder::new().path("/items/x"));
    assert_eq!(bad_id.status_code, 400);
    assert_eq!(
        bad_id.text(),
        "400 Bad Request: item id \"x\": invalid digit found in string\n"
    );
    let malformed = run(post_json(r#"{"name":"#));
    assert_eq!(malformed.status_code, 400);
    assert!(
        malformed.text().contains("JSON body: EOF while parsing"),
        "{}",
        malformed.text()
    );
    let wrong_type = run(post_json("name=pen").header("Content-Type", "text/plain"));
    assert_eq!(wrong_type.status_code, 415);
    let big = format!(r#"{{"name":"{}"}}"#, "x".repeat(2000));
    assert_eq!(run(post_json(&big)).status_code, 413);
    assert_eq!(run(post_json(r#"{"name":" "}"#)).status_code, 422);
    let wrong_method = run(EnvironBuilder::new().method("DELETE").path("/items"));
    assert_eq!(wrong_method.status_code, 405);
    assert_eq!(wrong_method.header("Allow"), Some("GET, POST"));
    let json_error = run(EnvironBuilder::new()
        .path("/nope")
        .header("Accept", "application/json"));
    assert_eq!(
        json_error.text(),
        r#"{"status":404,"error":"Not Found","message":""}"#
    );
}

#[test]
fn json_api_over_the_server() {
    let server = start(json_api::Items::default(), |b| b);
    let post = |body: &str, content_type: &str| {
        one_response(
            server.addr,
            format!(
                "POST /items HTTP/1.1\r\nHost: a\r\nContent-Type: {content_type}\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        )
    };
    let created = post(r#"{"name":"pen"}"#, "application/json");
    assert_eq!(created.status, 201);
    assert_eq!(created.header("Location"), Some("/items/1"));
    assert_eq!(post("{", "application/json").status, 400);
    assert_eq!(post("{}", "text/plain").status, 415);
    assert_eq!(post(&"x".repeat(2000), "application/json").status, 413);
    // A chunked upload (no Content-Length) is read to its end through wsgi.input.
    let chunked = one_response(
        server.addr,
        "POST /items HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n6\r\n{\"name\r\n8\r\n\":\"cup\"}\r\n0\r\n\r\n",
    );
    assert_eq!(chunked.status, 201, "{}", chunked.text());
    assert_eq!(chunked.text(), r#"{"id":2,"name":"cup"}"#);
    let chunked_big = one_response(
        server.addr,
        format!(
            "POST /items HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n",
            3000,
            "x".repeat(3000)
        ),
    );
    assert_eq!(chunked_big.status, 413);
    let listed = one_response(server.addr, get_close("/items"));
    assert_eq!(
        listed.text(),
        r#"[{"id":1,"name":"pen"},{"id":2,"name":"cup"}]"#
    );
    let method = one_response(
        server.addr,
        "PUT /items HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(
        (method.status, method.header("Allow")),
        (405, Some("GET, POST"))
    );
}

#[test]
fn static_file_types_and_lengths() {
    let dir = std::env::temp_dir().join(format!("gateway-static-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("css")).unwrap();
    std::fs::write(dir.join("index.html"), "<h1>hi</h1>").unwrap();
    std::fs::write(dir.join("css/site.css"), "body{}").unwrap();
    std::fs::write(dir.join(".secret"), "no").unwrap();
    let files = static_file::Files(dir.clone());
    let page = run_app(&files, EnvironBuilder::new().path("/index.html").build());
    assert_eq!(
        page.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("Content-Length"), Some("11"));
    assert_eq!(page.text(), "<h1>hi</h1>");
    let css = run_app(&files, EnvironBuilder::new().path("/css/site.css").build());
    assert_eq!(css.header("Content-Type"), Some("text/css; charset=utf-8"));
    for path in ["/.secret", "/../etc/passwd", "/css", "/missing"] {
        assert_eq!(
            run_app(&files, EnvironBuilder::new().path(path).build()).status_code,
            404,
            "{path}"
        );
    }
    let server = start(static_file::Files(dir.clone()), |b| b);
    let page = one_response(server.addr, get_close("/index.html"));
    assert_eq!(
        page.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("Content-Length"), Some("11"));
    assert_eq!(page.text(), "<h1>hi</h1>");
    let escape = one_response(server.addr, get_close("/css/../../etc/passwd"));
    assert_eq!(escape.status, 404);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn timing_header_and_mount() {
    let site = middleware::site();
    let response = run_app(&site, EnvironBuilder::new().path("/api/hello").build());
    assert_eq!(
        response.text(),
        "SCRIPT_NAME=/api PATH_INFO=/hello url=http://127.0.0.1/api/hello"
    );
    assert!(
        response
            .header("Server-Timing")
            .unwrap()
            .starts_with("app;dur=")
    );
    assert_eq!(response.header("X-Content-Type-Options"), Some("nosniff"));
    assert!(
        response.errors.starts_with("GET /hello 200 in "),
        "{}",
        response.errors
    );
    assert_eq!(
        run_app(&site, EnvironBuilder::new().path("/apiary").build()).status_code,
        404
    );

    let server = start(middleware::site(), |b| b);
    let response = one_response(server.addr, get_close("/api/hello?x=1"));
    assert_eq!(
        response.text(),
        "SCRIPT_NAME=/api PATH_INFO=/hello url=http://localhost/api/hello?x=1"
    );
    assert!(
        response
            .header("Server-Timing")
            .unwrap()
            .starts_with("app;dur=")
    );
    let missing = one_response(server.addr, get_close("/apiary"));
    assert_eq!(missing.status, 404);
    assert!(
        server.log().contains("GET /hello 200 in "),
        "{}",
        server.log()
    );
}

/// A streamed chunked upload over the server's own `max_body` is a 413 through `Request`'s
/// reader too (the server's limit stops it before the reader's).
#[test]
fn server_body_limit_through_the_reader_413() {
    let app = gateway::app_fn(|env, sr| {
        let body = gateway::Request::new(env).with_limit(10_000_000).bytes()?;
        gateway::Response::text(body.len().to_string()).send(sr)
    });
    let server = start(app, |b| b.limits(limits(|l| l.max_body = 90_000)));
    // Twenty chunks of 5,000 bytes: more than the parked window, so the app streams them, and
    // the nineteenth passes the server's limit while the reader reads.
    let chunks: String = (0..20)
        .map(|_| format!("1388\r\n{}\r\n", "x".repeat(5000)))
        .collect();
    let response = one_response(
        server.addr,
        format!(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
             {chunks}0\r\n\r\n"
        ),
    );
    assert_eq!(response.status, 413, "{}", response.text());
    assert!(
        !response.text().contains("Content Too Large\n413"),
        "answered by the reader's 413, not before the app"
    );
}
