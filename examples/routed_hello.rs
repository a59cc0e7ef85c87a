//! Run with: cargo run --example routed_hello -- --port 8000 (add --release to benchmark it)
//!
//! The benchmark app of `hello` behind a `router::Router` of 50 routes (`GET /` among them),
//! to measure what routing costs a real server: `compare.sh` runs it beside `hello`.
//! `--port N` (`PORT` works too), `--threads N`, `--quiet` (no access log).

use gateway::simple_server::ServerBuilder;
use gateway::{AppError, Body, Environ, StartResponse};
use router::Router;

fn hello(_environ: &mut Environ, start_response: &mut StartResponse<'_>) -> Result<Body, AppError> {
    start_response.start("200 OK", [("Content-Type", "text/plain")])?;
    Ok(Body::from("Hello World"))
}

fn main() -> std::io::Result<()> {
    let mut port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8000);
    let mut quiet = false;
    let mut threads = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or(port),
            "--quiet" => quiet = true,
            "--threads" => threads = args.next().and_then(|n| n.parse().ok()),
            other => {
                eprintln!(
                    "routed_hello: unknown argument {other:?} (try --port N --threads N --quiet)"
                );
                std::process::exit(2);
            }
        }
    }
    let mut builder = Router::builder().get("/", hello);
    for section in ["users", "orgs", "repos", "issues", "pulls", "teams", "tags"] {
        for shape in [
            "",
            "/new",
            "/{id}",
            "/{id}/edit",
            "/{id}/comments",
            "/{id}/history",
            "/{id}/settings",
        ] {
            builder = builder.get(&format!("/{section}{shape}"), hello);
        }
    }
    let router = builder.build().map_err(std::io::Error::other)?;
    let mut server = ServerBuilder::new().access_log(!quiet);
    if let Some(threads) = threads {
        server = server.threads(threads);
    }
    server.serve(&format!("127.0.0.1:{port}"), router)
}
