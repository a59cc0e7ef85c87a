//! Routing one request through `router::Router` beside a raw `matchit` lookup on the same
//! table of 50 routes (`cargo bench --bench routing`).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use gateway::handlers::{BaseHandler, SimpleHandler};
use gateway::{AppError, Body, Environ, StartResponse};
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
    let base = [
        ("REQUEST_METHOD", "GET"),
        ("PATH_INFO", PATH),
        ("SERVER_NAME", "localhost"),
        ("SERVER_PORT", "80"),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("SCRIPT_NAME", ""),
    ];
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
