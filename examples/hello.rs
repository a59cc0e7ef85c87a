//! Run with: cargo run --example hello -- --port 8000 (add --release to benchmark it)
//!
//! The benchmark app: answers every method and path with `200 OK`, `Content-Type: text/plain`
//! and `Hello World`, never reading the request body.
//!
//! ```sh
//! cargo run --release --example hello -- --port 8000 --threads 8
//! ```
//!
//! `--port N` (0 = ephemeral; `PORT` in the environment works too), `--threads N` (worker
//! pool size), `--keep-alive SECONDS` (idle keep-alive timeout), `--quiet` (no access log),
//! `--macro` (serve the same answer from a `#[wsgi_app]` handler returning `&'static str`,
//! to measure what the macro costs; its Content-Type says `charset=utf-8` too),
//! `--worker-slice MICROS` (the workers' scheduler slice; 0 keeps the kernel's default, see
//! `ServerBuilder::worker_slice`), `--busy-poll MICROS` (how long a worker polls a lone
//! keep-alive connection before it sleeps; 0 never polls, see `ServerBuilder::busy_poll`).
//! SIGINT/SIGTERM shut the server down gracefully.

use std::time::Duration;

use gateway::simple_server::{Limits, ServerBuilder};
use gateway::{AppError, Body, Environ, StartResponse, wsgi_app};

/// Answers every request with `200 OK`, `text/plain` and `Hello World`.
fn hello(_environ: &mut Environ, start_response: &mut StartResponse<'_>) -> Result<Body, AppError> {
    start_response.start("200 OK", [("Content-Type", "text/plain")])?;
    Ok(Body::from("Hello World"))
}

/// The same answer from a `#[wsgi_app]` handler (`--macro`).
#[wsgi_app]
fn hello_macro() -> &'static str {
    "Hello World"
}

/// Command-line options.
struct Options {
    port: u16,
    threads: Option<usize>,
    keep_alive: Option<u64>,
    quiet: bool,
    macro_handler: bool,
    worker_slice: Option<u64>,
    busy_poll: Option<u64>,
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
        macro_handler: false,
        worker_slice: None,
        busy_poll: None,
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
            "--busy-poll" => {
                options.busy_poll = Some(
                    value("--busy-poll")?
                        .parse()
                        .map_err(|e| format!("--busy-poll: {e}"))?,
                )
            }
            "--worker-slice" => {
                options.worker_slice = Some(
                    value("--worker-slice")?
                        .parse()
                        .map_err(|e| format!("--worker-slice: {e}"))?,
                )
            }
            "--quiet" => options.quiet = true,
            "--macro" => options.macro_handler = true,
            other => {
                return Err(format!(
                    "unknown argument {other:?} (try --port N --threads N --keep-alive SECONDS --worker-slice MICROS --busy-poll MICROS --quiet --macro)"
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
    if let Some(micros) = options.busy_poll {
        builder = builder.busy_poll(Some(Duration::from_micros(micros)));
    }
    if let Some(micros) = options.worker_slice {
        builder = builder.worker_slice((micros > 0).then(|| Duration::from_micros(micros)));
    }
    if let Some(seconds) = options.keep_alive {
        let mut limits = Limits::default();
        limits.keep_alive_timeout = Duration::from_secs(seconds);
        builder = builder.limits(limits);
    }
    // Binds, prints the URL, and stops gracefully on SIGINT/SIGTERM.
    let address = format!("127.0.0.1:{}", options.port);
    if options.macro_handler {
        builder.serve(&address, hello_macro)
    } else {
        builder.serve(&address, hello)
    }
}
