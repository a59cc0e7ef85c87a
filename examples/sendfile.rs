//! Run with: cargo run --example sendfile -- --port 8001 --file PATH [--no-sendfile]
//!
//! Serves one file through `wsgi.file_wrapper`: with sendfile(2) by default, or through the
//! plain read/write path with `--no-sendfile`. Used to measure both (see BENCHMARKS.md).
//!
//! ```sh
//! cargo run --release --example sendfile -- --port 8001 --file /path/to/big.bin [--no-sendfile]
//! ```

use std::fs::File;
use std::path::PathBuf;

use gateway::simple_server::ServerBuilder;
use gateway::util::FileWrapper;
use gateway::{Body, app_fn};

fn main() -> std::io::Result<()> {
    let mut port = 8001;
    let mut path = None;
    let mut sendfile = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or(port),
            "--file" => path = args.next().map(PathBuf::from),
            "--no-sendfile" => sendfile = false,
            other => {
                eprintln!(
                    "sendfile: unknown argument {other:?} (try --port N --file PATH [--no-sendfile])"
                );
                std::process::exit(2);
            }
        }
    }
    let Some(path) = path else {
        eprintln!("sendfile: --file PATH is required");
        std::process::exit(2);
    };
    let app = app_fn(move |_env, sr| {
        let file = File::open(&path)?;
        sr.start("200 OK", [("Content-Type", "application/octet-stream")])?;
        Ok(Body::file(FileWrapper::new(file, 64 * 1024)))
    });
    eprintln!(
        "sendfile: sendfile(2) {}",
        if sendfile { "on" } else { "off" }
    );
    ServerBuilder::new()
        .sendfile(sendfile)
        .access_log(false)
        .serve(&format!("127.0.0.1:{port}"), app)
}
