//! Run with: cargo run --example validator (then `curl -i http://127.0.0.1:8000/`)
//!
//! The seed's `wsgiref.validate` example in Rust: an app that is deliberately not compliant,
//! wrapped in the validator and served by `make_server`. Python's version returns a bare
//! string where a list belongs, which Rust's types rule out; the nearest mistake Rust allows
//! is a body handed back without `start_response` having been called. The client gets a
//! 500 and the server's log names the rule (`--port N` or `PORT` to move it).

use gateway::simple_server::make_server;
use gateway::validate::validator;
use gateway::{AppError, Body, Environ, StartResponse};

/// Not compliant on purpose: the status and headers are made, but never sent.
fn simple_app(
    _environ: &mut Environ,
    _start_response: &mut StartResponse<'_>,
) -> Result<Body, AppError> {
    let _status = "200 OK";
    let _headers = [("Content-type", "text/plain")];
    // This is going to break because start_response was never called, and the validator is
    // going to tell us.
    Ok(Body::from("Hello World"))
}

fn main() -> std::io::Result<()> {
    let port = std::env::args()
        .skip_while(|a| a != "--port")
        .nth(1)
        .or_else(|| std::env::var("PORT").ok())
        .and_then(|p| p.parse().ok())
        .unwrap_or(8000);
    let server = make_server("127.0.0.1", port, validator(simple_app))?;
    println!("Listening on port {}....", server.server_address().port());
    server.serve_forever()
}
