//! Routing one request through `router::Router` beside a raw `matchit` lookup on the same
//! table of 50 routes (`cargo bench --bench routing`).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use gateway::handlers::{BaseHandler, SimpleHandler};
use gateway::{App, AppError, Body, Environ, HeaderError, Headers, ResponseSink, StartResponse};
use gateway::{ErrorStream, Input};
use router::Router;

/// 50 routes of the shapes a site has: static paths, parameters, a catch-all.
fn patterns() -> Vec<String> {
    let mut patterns = Vec::new();
    for section in ["users", "orgs", "repos", "issues", "pulls"] {
        patterns.push(format!("/{section}"));
        patterns.push(format!("/{section}/new"));
        patterns.push(format!("/{section}/{{id}}"));
        patterns.push(format!("/{section}/{{id}}/edit"));
        patterns.push(format!("/{section}/{{id}}/comments"));
        patterns.push(format!("/{section}/{{id}}/comments/{{comment}}"));
        patterns.push(format!("/{section}/{{id}}/history"));
        patterns.push(format!("/{section}/{{id}}/settings"));
        patterns.push(format!("/api/{section}/{{id}}"));
        patterns.push(format!("/files/{section}/{{*rest}}"));
    }
    patterns
}

fn hello(_env: &mut Environ, sr: &mut StartResponse<'_>) -> Result<Body, AppError> {
    sr.start("200 OK", [("Content-Type", "text/plain")])?;
    Ok(Body::from("Hello World"))
}

/// A `start_response` that takes nothing (the no-op app never calls it).
struct NoSink;

impl ResponseSink for NoSink {
    fn start_response(
        &mut self,
        _status: &str,
        _headers: Result<Headers, HeaderError>,
        _exc_info: Option<AppError>,
    ) -> Result<(), AppError> {
        Ok(())
    }

    fn write(&mut self, _data: &[u8]) -> Result<(), AppError> {
        Ok(())
    }
}

const PATH: &str = "/repos/4711/comments/42";

fn routing(c: &mut Criterion) {
    let mut table = matchit::Router::new();
    let mut builder = Router::builder();
    for (i, pattern) in patterns().iter().enumerate() {
        table.insert(pattern.as_str(), i).unwrap();
        builder = builder.get(pattern, hello);
    }
    let router = builder.build().unwrap();
    c.bench_function("routing/matchit lookup (50 routes)", |b| {
        b.iter(|| black_box(table.at(black_box(PATH)).map(|m| *m.value)))
    });
    c.bench_function(
        "routing/matchit lookup and its parameters read (50 routes)",
        |b| {
            b.iter(|| {
                let matched = table.at(black_box(PATH)).unwrap();
                for (name, value) in matched.params.iter() {
                    black_box((name, value));
                }
                black_box(*matched.value)
            })
        },
    );
    let base = [
        ("REQUEST_METHOD", "GET"),
        ("PATH_INFO", PATH),
        ("SERVER_NAME", "localhost"),
        ("SERVER_PORT", "80"),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("SCRIPT_NAME", ""),
    ];
    // The router alone: its dispatch and the parameters it adds, an app that does nothing.
    // The parameters are cleared after each request, keeping their storage, as the server
    // recycles an environ's storage from one request to the next.
    let noop = |_env: &mut Environ, _sr: &mut StartResponse<'_>| -> Result<Body, AppError> {
        Ok(Body::empty())
    };
    let mut noop_builder = Router::builder();
    for pattern in patterns() {
        noop_builder = noop_builder.get(&pattern, noop);
    }
    let noop_router = noop_builder.build().unwrap();
    let mut environ: Environ = base.into_iter().collect();
    let mut sink = NoSink;
    c.bench_function("routing/Router::call alone, no-op app (50 routes)", |b| {
        b.iter(|| {
            let body = noop_router.call(&mut environ, &mut StartResponse::new(&mut sink));
            environ.routing_args_mut().clear();
            black_box(body.is_ok())
        })
    });
    let mut out = Vec::with_capacity(512);
    c.bench_function("routing/hello through SimpleHandler, no router", |b| {
        b.iter(|| {
            out.clear();
            let mut handler =
                SimpleHandler::new(Input::empty(), &mut out, ErrorStream::sink(), base);
            handler.run(&hello);
        })
    });
    c.bench_function(
        "routing/hello through SimpleHandler and Router (50 routes)",
        |b| {
            b.iter(|| {
                out.clear();
                let mut handler =
                    SimpleHandler::new(Input::empty(), &mut out, ErrorStream::sink(), base);
                handler.run(&router);
            })
        },
    );
}

/// The bench groups, run by criterion's generated `main`.
mod group {
    #![allow(missing_docs)]
    use super::*;
    criterion_group!(benches, routing);
}
use group::benches;
criterion_main!(benches);
