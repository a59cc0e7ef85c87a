//! `#[wsgi_app]` handlers beside the hand-written apps they replace, one whole request each
//! through `SimpleHandler` into memory (`cargo bench --bench handlers`): a plain hello, and a
//! routed handler with one parameter behind the same `Router`; and the hand-written hello
//! under `gateway::validate::validator`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use gateway::handlers::{BaseHandler, SimpleHandler};
use gateway::wsgi_app;
use gateway::{App, AppError, Body, Environ, ErrorStream, Input, RoutingArgs, StartResponse};
use router::Router;

/// By hand: the answer `#[wsgi_app] fn macro_hello() -> &'static str` gives.
struct HandHello;

impl App for HandHello {
    fn call(&self, _env: &mut Environ, sr: &mut StartResponse<'_>) -> Result<Body, AppError> {
        sr.start("200 OK", [("Content-Type", "text/plain; charset=utf-8")])?;
        Ok(Body::from("Hello World"))
    }
}

#[wsgi_app]
fn macro_hello() -> &'static str {
    "Hello World"
}

/// By hand: the route parameter read, parsed and answered as `macro_user` does.
struct HandUser;

impl App for HandUser {
    fn call(&self, env: &mut Environ, sr: &mut StartResponse<'_>) -> Result<Body, AppError> {
        let id: u32 = RoutingArgs::of(env).parse("id")?;
        sr.start("200 OK", [("Content-Type", "text/plain; charset=utf-8")])?;
        Ok(Body::from(format!("user {id}")))
    }
}

#[wsgi_app(GET, "/users/{id}")]
fn macro_user(id: u32) -> String {
    format!("user {id}")
}

fn run(app: &impl App, environ: [(&str, &str); 7], out: &mut Vec<u8>) {
    out.clear();
    let mut handler = SimpleHandler::new(Input::empty(), &mut *out, ErrorStream::sink(), environ);
    handler.run(app);
    black_box(out.len());
}

fn handlers(c: &mut Criterion) {
    let environ = |path| {
        [
            ("QUERY_STRING", ""),
            ("REQUEST_METHOD", "GET"),
            ("PATH_INFO", path),
            ("SERVER_NAME", "localhost"),
            ("SERVER_PORT", "80"),
            ("SERVER_PROTOCOL", "HTTP/1.1"),
            ("SCRIPT_NAME", ""),
        ]
    };
    let mut out = Vec::with_capacity(512);
    let hello = environ("/");
    c.bench_function("handlers/hello, hand-written App", |b| {
        b.iter(|| run(&HandHello, hello, &mut out))
    });
    c.bench_function("handlers/hello, #[wsgi_app]", |b| {
        b.iter(|| run(&macro_hello, hello, &mut out))
    });
    let validated = gateway::validate::validator(HandHello);
    c.bench_function(
        "handlers/hello, hand-written App under the validator",
        |b| b.iter(|| run(&validated, hello, &mut out)),
    );
    let hand = Router::builder()
        .get("/users/{id}", HandUser)
        .build()
        .unwrap();
    let generated = Router::builder().handle(macro_user).build().unwrap();
    let user = environ("/users/4711");
    c.bench_function("handlers/routed, one parameter, hand-written App", |b| {
        b.iter(|| run(&hand, user, &mut out))
    });
    c.bench_function("handlers/routed, one parameter, #[wsgi_app]", |b| {
        b.iter(|| run(&generated, user, &mut out))
    });
}

/// The bench groups, run by criterion's generated `main`.
mod group {
    #![allow(missing_docs)]
    use super::*;
    criterion_group!(benches, handlers);
}
criterion_main!(group::benches);
