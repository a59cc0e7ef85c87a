//! Run with: cargo run --example static_file -- DIR (serves the files of DIR, default `.`)
//!
//! A static-file app in a few lines: `Response::file` guesses the `Content-Type`, sets the
//! `Content-Length`, and the server sends the file with sendfile(2). Paths that climb out of
//! the directory, hidden files and directories are 404.

use std::path::{Component, Path, PathBuf};

use gateway::{App, AppError, Body, Environ, HttpError, Request, Response, StartResponse};

/// Serves the files under a directory.
#[derive(Debug)]
pub(crate) struct Files(pub(crate) PathBuf);

impl App for Files {
    fn call(&self, env: &mut Environ, sr: &mut StartResponse<'_>) -> Result<Body, AppError> {
        let request = Request::new(env);
        if !matches!(request.method(), "GET" | "HEAD") {
            return Err(HttpError::method_not_allowed(["GET", "HEAD"]).into());
        }
        let path = request.path()?;
        let relative = Path::new(path.trim_start_matches('/'));
        let plain = relative.components().all(|c| match c {
            Component::Normal(name) => !name.to_string_lossy().starts_with('.'),
            _ => false,
        });
        if !plain {
            return Err(HttpError::not_found().into());
        }
        Response::file(self.0.join(relative))?.send(sr)
    }
}

#[allow(dead_code)]
fn main() -> std::io::Result<()> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    gateway::serve("127.0.0.1:8000", Files(dir.into()))
}
