//! Run with: cargo run --example middleware (then `curl -i localhost:8000/api/hello`)
//!
//! Middleware without writing a `ResponseSink`: an app mounted under `/api` (it sees
//! `SCRIPT_NAME=/api` and the rest in `PATH_INFO`, and rebuilds its public URL with
//! `request_uri`), wrapped so every response gets a `Server-Timing` header, a log line and a
//! security header.

use gateway::middleware::{AddHeader, Mount, Timing};
use gateway::{App, Response, app_fn, util::request_uri};

/// The site: `Timing(AddHeader(Mount("/api", hello)))`.
pub(crate) fn site() -> impl App {
    let hello = app_fn(|env, sr| {
        let inner = format!(
            "SCRIPT_NAME={} PATH_INFO={} url={}",
            env.get("SCRIPT_NAME").unwrap_or(""),
            env.get("PATH_INFO").unwrap_or(""),
            request_uri(env, true)?
        );
        Response::text(inner).send(sr)
    });
    let api = Mount::new("/api", hello).expect("a valid prefix");
    Timing::new(AddHeader::new(api, "X-Content-Type-Options", "nosniff").expect("a valid header"))
}

#[allow(dead_code)]
fn main() -> std::io::Result<()> {
    gateway::serve("127.0.0.1:8000", site())
}
