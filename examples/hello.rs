//! The hello-world app, run once through the in-process test client.
//!
//! `cargo run --example hello` prints the status line, headers and body it produced. (Once the
//! HTTP server lands, this example serves the same app on a port.)

use gateway::test::{EnvironBuilder, run_app};
use gateway::{AppError, Body, Environ, StartResponse};

/// Answers every request with `200 OK`, `text/plain` and `Hello World`.
fn hello(_environ: &mut Environ, start_response: &mut StartResponse<'_>) -> Result<Body, AppError> {
    start_response.start("200 OK", [("Content-Type", "text/plain")])?;
    Ok(Body::from("Hello World"))
}

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "/".to_owned());
    let response = run_app(&hello, EnvironBuilder::new().path(&path).build());
    println!("{}", response.status);
    print!("{}", response.headers);
    println!("{}", response.text());
}
