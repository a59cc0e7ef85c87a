//! Hot paths of the foundation: header formatting and lookup, URI rebuilding, path shifting,
//! building a 20-header environ, and a whole hello-world request through `SimpleHandler`.
//!
//! `cargo bench --bench foundation` (figures in BENCHMARKS.md).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use gateway::handlers::{BaseHandler, SimpleHandler};
use gateway::util::{request_uri, shift_path_info};
use gateway::{AppError, Body, Environ, ErrorStream, Headers, Input, StartResponse};

/// Twenty request headers of a typical browser request, as (name, value).
const REQUEST_HEADERS: [(&str, &str); 20] = [
    ("Host", "example.com:8080"),
    (
        "User-Agent",
        "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    ),
    (
        "Accept",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    ),
    ("Accept-Language", "en-US,en;q=0.5"),
    ("Accept-Encoding", "gzip, deflate, br"),
    ("Connection", "keep-alive"),
    ("Cookie", "session=abcdef0123456789; theme=dark; lang=en"),
    ("Upgrade-Insecure-Requests", "1"),
    ("Sec-Fetch-Dest", "document"),
    ("Sec-Fetch-Mode", "navigate"),
    ("Sec-Fetch-Site", "none"),
    ("Sec-Fetch-User", "?1"),
    ("Cache-Control", "max-age=0"),
    ("Referer", "https://example.com/previous/page"),
    ("DNT", "1"),
    ("Pragma", "no-cache"),
    ("X-Request-Id", "4f1c2b6e-8d3a-4e0f-9a7b-2c5d8e1f0a3b"),
    ("X-Forwarded-For", "203.0.113.7"),
    ("Content-Type", "application/x-www-form-urlencoded"),
    ("Content-Length", "0"),
];

/// Builds the environ a server would for a request carrying [`REQUEST_HEADERS`].
fn build_environ() -> Environ {
    let mut env = Environ::new();
    env.insert("REQUEST_METHOD", "GET");
    env.insert("SCRIPT_NAME", "");
    env.insert("PATH_INFO", "/articles/2026/11/hello-world");
    env.insert("QUERY_STRING", "page=2&sort=date");
    env.insert("SERVER_NAME", "example.com");
    env.insert("SERVER_PORT", "8080");
    env.insert("SERVER_PROTOCOL", "HTTP/1.1");
    env.insert("REMOTE_ADDR", "127.0.0.1");
    for (name, value) in REQUEST_HEADERS {
        let key = name.replace('-', "_").to_ascii_uppercase();
        let key = match key.as_str() {
            "CONTENT_TYPE" | "CONTENT_LENGTH" => key,
            _ => format!("HTTP_{key}"),
        };
        env.insert(key, value);
    }
    env
}

fn response_headers() -> Headers {
    Headers::from_pairs([
        ("Content-Type", "text/html; charset=utf-8"),
        ("Cache-Control", "no-store"),
        ("Set-Cookie", "session=abcdef0123456789; Path=/; HttpOnly"),
        ("X-Frame-Options", "DENY"),
        ("Content-Length", "1234"),
    ])
    .expect("valid headers")
}

fn headers(c: &mut Criterion) {
    let h = response_headers();
    c.bench_function("headers/to_bytes (5 headers)", |b| {
        b.iter(|| black_box(&h).to_bytes())
    });
    c.bench_function("headers/get (last of 5, other case)", |b| {
        b.iter(|| black_box(&h).get(black_box("content-length")).map(str::len))
    });
    c.bench_function("headers/from_pairs (5 headers, validated)", |b| {
        b.iter(|| {
            Headers::from_pairs(black_box([
                ("Content-Type", "text/html; charset=utf-8"),
                ("Cache-Control", "no-store"),
                ("Set-Cookie", "session=abcdef0123456789; Path=/; HttpOnly"),
                ("X-Frame-Options", "DENY"),
                ("Content-Length", "1234"),
            ]))
        })
    });
}

fn util(c: &mut Criterion) {
    let mut env = build_environ();
    env.insert("SCRIPT_NAME", "/app");
    c.bench_function("util/request_uri", |b| {
        b.iter(|| request_uri(black_box(&env), true))
    });
    c.bench_function("util/shift_path_info (4 segments)", |b| {
        b.iter(|| {
            let mut env = Environ::new();
            env.insert("SCRIPT_NAME", "/app");
            env.insert("PATH_INFO", "/articles/2026/11/hello-world");
            while shift_path_info(&mut env).ok().flatten().is_some() {}
            env
        })
    });
}

fn environ(c: &mut Criterion) {
    c.bench_function("environ/build (20 headers)", |b| b.iter(build_environ));
}

fn hello(_env: &mut Environ, sr: &mut StartResponse<'_>) -> Result<Body, AppError> {
    sr.start("200 OK", [("Content-Type", "text/plain")])?;
    Ok(Body::from("Hello World"))
}

/// The hello app in the request/response vocabulary: the view reads the method and the
/// decoded path, the builder makes the response.
fn hello_vocabulary(env: &mut Environ, sr: &mut StartResponse<'_>) -> Result<Body, AppError> {
    let request = gateway::Request::new(env);
    black_box((request.method(), request.path()?));
    gateway::Response::bytes("text/plain", "Hello World")?.send(sr)
}

fn request(c: &mut Criterion) {
    let base: Vec<(String, String)> = build_environ()
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    type Hello = fn(&mut Environ, &mut StartResponse<'_>) -> Result<Body, AppError>;
    let apps: [(&str, Hello); 2] = [
        (
            "handler/hello request through SimpleHandler (20 headers)",
            hello,
        ),
        (
            "handler/hello with Request + Response through SimpleHandler (20 headers)",
            hello_vocabulary,
        ),
    ];
    for (name, app) in apps {
        c.bench_function(name, |b| {
            let mut out = Vec::with_capacity(512);
            b.iter(|| {
                out.clear();
                let mut handler = SimpleHandler::new(
                    Input::empty(),
                    &mut out,
                    ErrorStream::sink(),
                    base.iter().cloned(),
                );
                handler.run(&app);
            });
            black_box(out.len());
        });
    }
}

/// The bench groups, run by criterion's generated `main`.
mod group {
    #![allow(missing_docs)]
    use super::*;
    criterion_group!(benches, headers, util, environ, request);
}
use group::benches;
criterion_main!(benches);
