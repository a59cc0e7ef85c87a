//! Run with: cargo run --example serve_dir -- [DIRECTORY] [PORT]
//!
//! The seed's last example: serve a directory (default the current one) over HTTP on a port
//! (default 8000), every file with its type, ETag and ranges, directories by their
//! `index.html`. `router::Static` does the work; the server sends files with sendfile(2).

use router::Static;

fn main() {
    if let Err(error) = run() {
        eprintln!("serve_dir: {error}");
        std::process::exit(1);
    }
}

fn run() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| ".".into());
    let port: u16 = match args.next() {
        Some(port) => port.parse().map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("port {port:?}: {e}"),
            )
        })?,
        None => 8000,
    };
    let files = Static::new(&dir)
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot serve {dir:?}: {e}")))?;
    println!("Serving {dir} on port {port}, control-C to stop");
    gateway::serve(&format!("127.0.0.1:{port}"), files)
}
