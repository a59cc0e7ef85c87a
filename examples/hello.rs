//! The benchmark app: answers every method and path with `200 OK`, `Content-Type: text/plain`
//! and `Hello World`, never reading the request body.
//!
//! ```sh
//! cargo run --release --example hello -- --port 8000 --threads 8
//! ```
//!
//! `--port N` (0 = ephemeral; `PORT` in the environment works too), `--threads N` (worker
//! pool size), `--keep-alive SECONDS` (idle keep-alive timeout), `--quiet` (no access log). SIGINT/SIGTERM shut the server down gracefully.

use std::time::Duration;

use gateway::simple_server::{Limits, ServerBuilder};
use gateway::{AppError, Body, Environ, StartResponse};

/// Answers every request with `200 OK`, `text/plain` and `Hello World`.
fn hello(_environ: &mut Environ, start_response: &mut StartResponse<'_>) -> Result<Body, AppError> {
    start_response.start("200 OK", [("Content-Type", "text/plain")])?;
    Ok(Body::from("Hello World"))
}

/// Command-line options.
struct Options {
    port: u16,
    threads: Option<usize>,
    keep_alive: Option<u64>,
    quiet: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        port: std::env::var("PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(8000),
        threads: None,
        keep_alive: None,
        quiet: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => {
                options.port = value("--port")?
                    .parse()
                    .map_err(|e| format!("--port: {e}"))?
            }
            "--threads" => {
                options.threads = Some(
                    value("--threads")?
                        .parse()
                        .map_err(|e| format!("--threads: {e}"))?,
                )
            }
            "--keep-alive" => {
                options.keep_alive = Some(
                    value("--keep-alive")?
                        .parse()
                        .map_err(|e| format!("--keep-alive: {e}"))?,
                )
            }
            "--quiet" => options.quiet = true,
            other => {
                return Err(format!(
                    "unknown argument {other:?} (try --port N --threads N --keep-alive SECONDS --quiet)"
                ));
            }
        }
    }
    Ok(options)
}

fn main() -> std::io::Result<()> {
    let options = parse_args().unwrap_or_else(|e| {
        eprintln!("hello: {e}");
        std::process::exit(2)
    });
    let mut builder = ServerBuilder::new().access_log(!options.quiet);
    if let Some(threads) = options.threads {
        builder = builder.threads(threads);
    }
    if let Some(seconds) = options.keep_alive {
        let mut limits = Limits::default();
        limits.keep_alive_timeout = Duration::from_secs(seconds);
        builder = builder.limits(limits);
    }
    // Binds, prints the URL, and stops gracefully on SIGINT/SIGTERM.
    builder.serve(&format!("127.0.0.1:{}", options.port), hello)
}
