//! Middleware: apps that wrap apps. Edit what the wrapped app sends without writing a
//! [`ResponseSink`] ([`map_response`], [`AddHeader`], [`Timing`]), serve an app under a
//! path prefix ([`Mount`]), or trust the headers of reverse proxies ([`ProxyFix`]).
//!
//! For the rare middleware that must see the body as it is written, here is the forwarding
//! sink these helpers are built on, in full:
//!
//! ```
//! use gateway::{App, AppError, Body, Environ, HeaderError, Headers, ResponseSink, StartResponse};
//! use gateway::test::{run_app, EnvironBuilder};
//!
//! /// Counts the bytes an app writes through `write()`, then forwards everything.
//! struct Counting<'s, 'a> {
//!     inner: &'s mut StartResponse<'a>,
//!     written: usize,
//! }
//!
//! impl ResponseSink for Counting<'_, '_> {
//!     fn start_response(
//!         &mut self,
//!         status: &str,
//!         headers: Result<Headers, HeaderError>,
//!         exc_info: Option<AppError>,
//!     ) -> Result<(), AppError> {
//!         self.inner.start_with_headers(status, headers?, exc_info)?;
//!         Ok(())
//!     }
//!
//!     fn write(&mut self, data: &[u8]) -> Result<(), AppError> {
//!         self.written += data.len();
//!         self.inner.write(data)
//!     }
//! }
//!
//! struct CountWrites<A>(A);
//!
//! impl<A: App> App for CountWrites<A> {
//!     fn call(&self, env: &mut Environ, sr: &mut StartResponse<'_>) -> Result<Body, AppError> {
//!         let mut counting = Counting { inner: sr, written: 0 };
//!         let body = self.0.call(env, &mut StartResponse::new(&mut counting))?;
//!         let note = format!("wrote {} bytes early\n", counting.written);
//!         std::io::Write::write_all(env.errors(), note.as_bytes())?;
//!         Ok(body)
//!     }
//! }
//!
//! let app = CountWrites(gateway::app_fn(|_env, sr| {
//!     sr.start("200 OK", [("Content-Type", "text/plain")])?.write(b"early ")?;
//!     Ok(Body::from("late"))
//! }));
//! let response = run_app(&app, EnvironBuilder::new().build());
//! assert_eq!(response.text(), "early late");
//! assert_eq!(response.errors, "wrote 6 bytes early\n");
//! ```

use std::fmt;
use std::time::Instant;

mod proxy_fix;

pub use proxy_fix::{ProxyFix, ProxyOriginal};

use crate::util::shift_path_info;
use crate::{
    App, AppError, Body, Environ, HeaderError, Headers, HttpError, ResponseSink, StartResponse,
};

/// Wraps `app` so that `edit` can change the status line and headers it starts its response
/// with (before they reach the server). The body passes through untouched.
///
/// ```
/// use gateway::{app_fn, Response, middleware::map_response};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// let app = map_response(
///     app_fn(|_env, sr| Response::text("hi").send(sr)),
///     |status, headers| {
///         headers.set("X-Frame-Options", "DENY")?;
///         if status.starts_with("200") {
///             headers.set("Cache-Control", "max-age=60")?;
///         }
///         Ok(())
///     },
/// );
/// let response = run_app(&app, EnvironBuilder::new().build());
/// assert_eq!(response.header("X-Frame-Options"), Some("DENY"));
/// assert_eq!(response.header("Cache-Control"), Some("max-age=60"));
/// ```
pub fn map_response<A, F>(app: A, edit: F) -> MapResponse<A, F>
where
    A: App,
    F: Fn(&mut String, &mut Headers) -> Result<(), HeaderError> + Send + Sync,
{
    MapResponse { app, edit }
}

/// The middleware [`map_response`] builds.
pub struct MapResponse<A, F> {
    app: A,
    edit: F,
}

impl<A, F> fmt::Debug for MapResponse<A, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapResponse").finish_non_exhaustive()
    }
}

impl<A, F> App for MapResponse<A, F>
where
    A: App,
    F: Fn(&mut String, &mut Headers) -> Result<(), HeaderError> + Send + Sync,
{
    fn call(
        &self,
        environ: &mut Environ,
        start_response: &mut StartResponse<'_>,
    ) -> Result<Body, AppError> {
        let mut sink = Edit {
            inner: start_response,
            edit: &self.edit,
        };
        self.app.call(environ, &mut StartResponse::new(&mut sink))
    }
}

/// A sink that edits the head and forwards everything to the outer `start_response`.
struct Edit<'s, 'a, F> {
    inner: &'s mut StartResponse<'a>,
    edit: &'s F,
}

impl<F> ResponseSink for Edit<'_, '_, F>
where
    F: Fn(&mut String, &mut Headers) -> Result<(), HeaderError>,
{
    fn start_response(
        &mut self,
        status: &str,
        headers: Result<Headers, HeaderError>,
        exc_info: Option<AppError>,
    ) -> Result<(), AppError> {
        let mut headers = headers?;
        let mut status = status.to_owned();
        (self.edit)(&mut status, &mut headers)?;
        self.inner.start_with_headers(&status, headers, exc_info)?;
        Ok(())
    }

    fn write(&mut self, data: &[u8]) -> Result<(), AppError> {
        self.inner.write(data)
    }
}

/// Adds one header to every response of the wrapped app (replacing one of the same name).
///
/// ```
/// use gateway::{app_fn, Response, middleware::AddHeader};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// let app = AddHeader::new(app_fn(|_env, sr| Response::text("hi").send(sr)), "X-Served-By", "gateway")?;
/// assert_eq!(run_app(&app, EnvironBuilder::new().build()).header("x-served-by"), Some("gateway"));
/// assert!(AddHeader::new(app_fn(|_env, sr| Response::text("hi").send(sr)), "Bad\nName", "x").is_err());
/// # Ok::<(), gateway::HeaderError>(())
/// ```
#[derive(Debug)]
pub struct AddHeader<A> {
    app: A,
    name: String,
    value: String,
}

impl<A: App> AddHeader<A> {
    /// The middleware; an invalid name or value is an error now, not at the first request.
    pub fn new(app: A, name: &str, value: &str) -> Result<Self, HeaderError> {
        // Validated once through a scratch collection.
        Headers::new().append(name, value)?;
        Ok(AddHeader {
            app,
            name: name.to_owned(),
            value: value.to_owned(),
        })
    }
}

impl<A: App> App for AddHeader<A> {
    fn call(
        &self,
        environ: &mut Environ,
        start_response: &mut StartResponse<'_>,
    ) -> Result<Body, AppError> {
        let edit = |_: &mut String, headers: &mut Headers| headers.set(&self.name, &self.value);
        let mut sink = Edit {
            inner: start_response,
            edit: &edit,
        };
        self.app.call(environ, &mut StartResponse::new(&mut sink))
    }
}

/// Times the wrapped app: a `Server-Timing: app;dur=<ms>` header (the time until the app
/// started its response), and a line on `wsgi.errors` when the body is closed (the whole
/// request: `GET /path 200 in 1.234 ms`).
///
/// ```
/// use gateway::{app_fn, Response, middleware::Timing};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// let app = Timing::new(app_fn(|_env, sr| Response::text("hi").send(sr)));
/// let response = run_app(&app, EnvironBuilder::new().path("/x").build());
/// assert!(response.header("Server-Timing").unwrap().starts_with("app;dur="));
/// assert!(response.errors.starts_with("GET /x 200 in "), "{}", response.errors);
/// ```
#[derive(Debug)]
pub struct Timing<A> {
    app: A,
}

impl<A: App> Timing<A> {
    /// The middleware.
    pub fn new(app: A) -> Self {
        Timing { app }
    }
}

impl<A: App> App for Timing<A> {
    fn call(
        &self,
        environ: &mut Environ,
        start_response: &mut StartResponse<'_>,
    ) -> Result<Body, AppError> {
        let started = Instant::now();
        // The status code, seen as the response starts (during the call below).
        let code = std::cell::Cell::new(0u16);
        let edit = |line: &mut String, headers: &mut Headers| {
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            code.set(line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0));
            headers.set("Server-Timing", format!("app;dur={ms:.3}"))
        };
        let mut sink = Edit {
            inner: start_response,
            edit: &edit,
        };
        let body = self.app.call(environ, &mut StartResponse::new(&mut sink))?;
        let what = format!(
            "{} {}",
            environ.get("REQUEST_METHOD").unwrap_or("GET"),
            environ.get("PATH_INFO").unwrap_or("")
        );
        let mut errors = environ.errors().clone();
        let code = code.get();
        Ok(body.on_close(move || {
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            let line = format!("{what} {code} in {ms:.3} ms\n");
            let _ = std::io::Write::write_all(&mut errors, line.as_bytes());
        }))
    }
}

/// An app served under a path prefix, WSGI's way: the prefix moves from `PATH_INFO` to
/// `SCRIPT_NAME` one segment at a time ([`shift_path_info`]), so inside, the app sees itself
/// at the root and [`request_uri`](crate::util::request_uri) still rebuilds the public URL.
/// The prefix matches on segment boundaries only (`/api` never matches `/apiary`); anything
/// else is a 404 and the environ is left as it was.
///
/// ```
/// use gateway::{app_fn, Response, StatusCode, middleware::Mount};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// let inner = app_fn(|env, sr| {
///     let text = format!("{} | {}", env.get("SCRIPT_NAME").unwrap_or(""), env.get("PATH_INFO").unwrap_or(""));
///     Response::text(text).send(sr)
/// });
/// let api = Mount::new("/api/v1", inner)?;
/// assert_eq!(run_app(&api, EnvironBuilder::new().path("/api/v1/users").build()).text(), "/api/v1 | /users");
/// assert_eq!(run_app(&api, EnvironBuilder::new().path("/api/v1").build()).text(), "/api/v1 | ");
/// assert_eq!(run_app(&api, EnvironBuilder::new().path("/api/v10").build()).status_code, 404);
/// assert!(Mount::new("api", gateway::simple_server::demo_app).is_err());
/// # Ok::<(), gateway::middleware::MountError>(())
/// ```
#[derive(Debug)]
pub struct Mount<A> {
    prefix: String,
    segments: Vec<String>,
    app: A,
}

/// A prefix [`Mount`] cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MountError {
    /// It does not start with `/`, or ends with one, or has an empty, `.` or `..` segment.
    InvalidPrefix {
        /// The prefix given.
        prefix: String,
    },
}

impl fmt::Display for MountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MountError::InvalidPrefix { prefix } => write!(
                f,
                "cannot mount at {prefix:?}: a prefix is '/' followed by segments joined by '/' \
                 (like \"/api/v1\"), with no empty, '.' or '..' segment and no trailing '/'"
            ),
        }
    }
}

impl std::error::Error for MountError {}

impl<A: App> Mount<A> {
    /// Serves `app` under `prefix` (`/api`, `/static/v2`).
    pub fn new(prefix: &str, app: A) -> Result<Self, MountError> {
        let invalid = || MountError::InvalidPrefix {
            prefix: prefix.to_owned(),
        };
        let rest = prefix.strip_prefix('/').ok_or_else(invalid)?;
        let segments: Vec<String> = rest.split('/').map(str::to_owned).collect();
        if segments
            .iter()
            .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(invalid());
        }
        Ok(Mount {
            prefix: prefix.to_owned(),
            segments,
            app,
        })
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

impl<A: App> App for Mount<A> {
    fn call(
        &self,
        environ: &mut Environ,
        start_response: &mut StartResponse<'_>,
    ) -> Result<Body, AppError> {
        let path = environ.get("PATH_INFO").unwrap_or("");
        let under = path
            .strip_prefix(&self.prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if !under {
            return Err(HttpError::not_found().into());
        }
        let script = environ.get("SCRIPT_NAME").map(str::to_owned);
        let saved_path = path.to_owned();
        for segment in &self.segments {
            if shift_path_info(environ)?.as_deref() != Some(segment.as_str()) {
                // `.`/`..` or repeated slashes made the path say something else: not ours.
                match &script {
                    Some(script) => environ.insert("SCRIPT_NAME", script),
                    None => environ.remove("SCRIPT_NAME"),
                };
                environ.insert("PATH_INFO", &saved_path);
                return Err(HttpError::not_found().into());
            }
        }
        self.app.call(environ, start_response)
    }
}
