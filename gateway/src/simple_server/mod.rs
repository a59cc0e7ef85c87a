//! `wsgiref.simple_server`, grown up: a threaded HTTP/1.1 server with the reference's API.
//!
//! [`make_server`] binds and returns a [`WsgiServer`]; [`serve_forever`](WsgiServer::serve_forever)
//! runs it until [`shutdown`](WsgiServer::shutdown) (callable from any thread, through a
//! [`ShutdownHandle`]). Underneath:
//!
//! - the thread that calls `serve_forever` is the acceptor: it accepts connections, registers
//!   them once with an edge-triggered epoll set, and enforces the deadlines of connections
//!   that wait (idle keep-alive, a head still arriving, a close lingering);
//! - a dedicated `rayon` pool runs requests. Its workers wait on the epoll set themselves, one
//!   per core at a time (more when apps block): the worker woken for a connection reads it and,
//!   once a whole head is buffered, serves it on the spot; otherwise the connection goes back
//!   to waiting. Slow clients and idle keep-alive connections cost a descriptor and a buffer,
//!   never a thread;
//! - each request runs through the same [`BaseHandler`](crate::handlers::BaseHandler) engine
//!   as CGI, with HTTP/1.1 framing added by the server's handler (Content-Length when known,
//!   chunked otherwise on HTTP/1.1, close-delimited on HTTP/1.0; nothing for HEAD, 1xx, 204,
//!   304); a [`FileWrapper`](crate::util::FileWrapper) over a file goes out with sendfile(2).
//!
//! Linux only (epoll, eventfd, sendfile).
//!
//! Every limit is a field of [`Limits`] with a documented default. Malformed or ambiguous
//! requests get the right 4xx and the connection is closed; the server keeps serving.
//!
//! Deliberate differences from the reference: HTTP/1.1 with keep-alive and pipelining,
//! header names containing `_` are dropped (see [`ServerBuilder::keep_underscore_headers`]),
//! the process environment is not copied into environs, `REQUEST_URI` keeps the raw target
//! and `REMOTE_PORT` the peer's port, `wsgi.multithread` is true, `wsgi.input` ends at the end
//! of the body, and the access log's time is UTC.
//!
//! ```no_run
//! use gateway::simple_server::{demo_app, make_server};
//!
//! let server = make_server("127.0.0.1", 8000, demo_app)?;
//! println!("serving on {}", server.server_address());
//! server.serve_forever()?;
//! # Ok::<(), std::io::Error>(())
//! ```

mod body;
mod conn;
mod demo;
mod environ;
mod handler;
mod pollers;
mod reactor;
mod request;
mod serve;
mod table;

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use crate::{App, AppError, Body, Environ, ErrorStream, StartResponse};

pub use demo::demo_app;

/// The `Server` header and `SERVER_SOFTWARE` of responses.
pub const SERVER_SOFTWARE: &str = concat!("gateway/", env!("CARGO_PKG_VERSION"));

/// The limits that protect the server from bad or slow clients. Each has a documented
/// default; timeouts are durations so tests can use milliseconds.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Limits {
    /// Longest request line, in bytes (default 8 KiB). Longer: 414.
    pub max_request_line: usize,
    /// Largest header section, in bytes (default 64 KiB). Larger: 431.
    pub max_header_bytes: usize,
    /// Most header fields (default 100). More: 431.
    pub max_headers: usize,
    /// Largest request body, in bytes (default 1 GiB). A larger Content-Length: 413; a chunked
    /// body that grows past it is cut with 413 and the connection closed.
    pub max_body: u64,
    /// Most bytes of an unread body drained so the connection can be reused (default
    /// 64 KiB); a longer unread body closes the connection instead.
    pub max_drain: u64,
    /// Time to receive a whole request head once it has started (default 10 s). Slower: 408
    /// and close. This is what defeats slowloris.
    pub header_read_timeout: Duration,
    /// How long an idle keep-alive connection is kept (default 5 s).
    pub keep_alive_timeout: Duration,
    /// Longest wait for more request-body bytes while the app reads (default 30 s).
    pub body_read_timeout: Duration,
    /// Longest wait for the client to accept response bytes (default 30 s).
    pub write_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_line: 8 * 1024,
            max_header_bytes: 64 * 1024,
            max_headers: 100,
            max_body: 1 << 30,
            max_drain: 64 * 1024,
            header_read_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(5),
            body_read_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
        }
    }
}

/// Everything a running server reads (built by [`ServerBuilder`]).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) limits: Limits,
    pub(crate) threads: usize,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) access_log: bool,
    pub(crate) sendfile: bool,
    pub(crate) keep_underscore_headers: bool,
    pub(crate) server_software: String,
    pub(crate) stderr: ErrorStream,
    pub(crate) read_buffer: usize,
    pub(crate) base_environ: Vec<(&'static str, Arc<str>)>,
    pub(crate) request_handler: Hooks,
}

/// Configures a [`WsgiServer`]; [`make_server`] is `ServerBuilder::new().bind(host, port, app)`.
///
/// ```no_run
/// use std::time::Duration;
/// use gateway::simple_server::{demo_app, Limits, ServerBuilder};
///
/// let mut limits = Limits::default();
/// limits.header_read_timeout = Duration::from_secs(5);
/// let server = ServerBuilder::new()
///     .threads(16)
///     .limits(limits)
///     .access_log(false)
///     .bind("127.0.0.1", 0, demo_app)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ServerBuilder {
    limits: Limits,
    threads: usize,
    shutdown_timeout: Duration,
    access_log: bool,
    sendfile: bool,
    keep_underscore_headers: bool,
    server_software: String,
    stderr: Option<ErrorStream>,
    request_handler: Hooks,
}

impl Default for ServerBuilder {
    fn default() -> Self {
        ServerBuilder::new()
    }
}

impl ServerBuilder {
    /// The defaults: 4 workers per core (at least 4), [`Limits::default`], access log on.
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        ServerBuilder {
            limits: Limits::default(),
            threads: (cores * 4).max(4),
            shutdown_timeout: Duration::from_secs(10),
            access_log: true,
            sendfile: true,
            keep_underscore_headers: false,
            server_software: SERVER_SOFTWARE.to_owned(),
            stderr: None,
            request_handler: Hooks(Arc::new(DefaultRequestHandler)),
        }
    }

    /// Worker threads in the pool (default: 4 per core, at least 4).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The limits (see [`Limits`]).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// How long [`serve_forever`](WsgiServer::serve_forever) waits for in-flight requests
    /// after [`shutdown`](WsgiServer::shutdown) (default 10 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Writes one common-log line per request to the error stream (default on).
    pub fn access_log(mut self, on: bool) -> Self {
        self.access_log = on;
        self
    }

    /// Sends file bodies with sendfile(2) (default on); off, they are read and written.
    pub fn sendfile(mut self, on: bool) -> Self {
        self.sendfile = on;
        self
    }

    /// Keeps request headers whose names contain `_` (default off: they are dropped, since
    /// `X_Forwarded_For` would otherwise land on the same `HTTP_X_FORWARDED_FOR` as a proxy's
    /// `X-Forwarded-For`).
    pub fn keep_underscore_headers(mut self, keep: bool) -> Self {
        self.keep_underscore_headers = keep;
        self
    }

    /// The `Server` header and `SERVER_SOFTWARE` (default [`SERVER_SOFTWARE`]).
    pub fn server_software(mut self, software: impl Into<String>) -> Self {
        self.server_software = software.into();
        self
    }

    /// Where tracebacks, the access log and server messages go (and `wsgi.errors`); default
    /// the process's stderr.
    pub fn stderr(mut self, stderr: ErrorStream) -> Self {
        self.stderr = Some(stderr);
        self
    }

    /// The per-request hooks (`WSGIRequestHandler`'s override points); default
    /// [`DefaultRequestHandler`].
    pub fn request_handler(mut self, handler: impl WsgiRequestHandler) -> Self {
        self.request_handler = Hooks(Arc::new(handler));
        self
    }

    /// Binds `host:port` (port 0: an ephemeral port) and builds the server.
    pub fn bind(self, host: &str, port: u16, app: impl App + 'static) -> io::Result<WsgiServer> {
        let addr = (host, port).to_socket_addrs()?.next().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{host:?} resolves to no address"),
            )
        })?;
        self.from_listener(TcpListener::bind(addr)?, app)
    }

    /// Builds the server on an already bound listener.
    pub fn from_listener(
        self,
        listener: TcpListener,
        app: impl App + 'static,
    ) -> io::Result<WsgiServer> {
        let address = listener.local_addr()?;
        let server_name = match address.ip() {
            ip if ip.is_loopback() => "localhost".to_owned(),
            ip => ip.to_string(),
        };
        // WSGIServer.setup_environ's base environ.
        let base_environ: Vec<(&'static str, Arc<str>)> = vec![
            ("SERVER_NAME", Arc::from(server_name)),
            ("GATEWAY_INTERFACE", Arc::from("CGI/1.1")),
            ("SERVER_PORT", Arc::from(address.port().to_string())),
            ("REMOTE_HOST", Arc::from("")),
            ("CONTENT_LENGTH", Arc::from("")),
            ("SCRIPT_NAME", Arc::from("")),
            ("SERVER_SOFTWARE", Arc::from(self.server_software.as_str())),
        ];
        let settings = Settings {
            limits: self.limits,
            threads: self.threads,
            shutdown_timeout: self.shutdown_timeout,
            access_log: self.access_log,
            sendfile: self.sendfile,
            keep_underscore_headers: self.keep_underscore_headers,
            server_software: self.server_software,
            stderr: self.stderr.unwrap_or_else(ErrorStream::stderr),
            read_buffer: 4096,
            base_environ,
            request_handler: self.request_handler,
        };
        let shared = reactor::Shared::new(settings, Arc::new(app), listener)?;
        Ok(WsgiServer {
            shared: Arc::new(shared),
            address,
        })
    }
}

/// What the server parsed of a request, as [`WsgiRequestHandler::get_environ`] sees it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Request<'a> {
    /// The method, as sent.
    pub method: &'a str,
    /// The request target, as sent (latin-1).
    pub target: &'a str,
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: &'a str,
    /// The client's address.
    pub peer: SocketAddr,
    fields: &'a request::Fields,
}

impl<'a> Request<'a> {
    /// The header fields in arrival order (names as sent, values trimmed, latin-1).
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.fields.iter()
    }
}

/// The server's per-request override points (`wsgiref.simple_server.WSGIRequestHandler`).
///
/// Every method has the default behaviour; override what you need and install the handler
/// with [`ServerBuilder::request_handler`].
///
/// ```
/// use gateway::simple_server::{Request, WsgiRequestHandler};
/// use gateway::Environ;
///
/// /// Trusts `X-Forwarded-Proto` from the proxy in front.
/// struct BehindProxy;
///
/// impl WsgiRequestHandler for BehindProxy {
///     fn get_environ(&self, _request: &Request<'_>, mut environ: Environ) -> Environ {
///         if environ.get("HTTP_X_FORWARDED_PROTO") == Some("https") {
///             environ.insert("HTTPS", "on");
///         }
///         environ
///     }
/// }
/// ```
pub trait WsgiRequestHandler: Send + Sync + 'static {
    /// `get_environ()`: the environ of a request. `environ` is the one the server built
    /// (see the module docs); return it, changed or not.
    fn get_environ(&self, request: &Request<'_>, environ: Environ) -> Environ {
        let _ = request;
        environ
    }

    /// `get_stderr()`: where this request's `wsgi.errors`, tracebacks and access-log line go;
    /// `server` is the server's stream.
    fn get_stderr(&self, server: &ErrorStream) -> ErrorStream {
        server.clone()
    }

    /// `handle()`: runs the app for one request. Wrap it to time, authenticate or trace
    /// requests; the default just calls the app.
    fn handle(
        &self,
        app: &dyn App,
        environ: &mut Environ,
        start_response: &mut StartResponse<'_>,
    ) -> Result<Body, AppError> {
        app.call(environ, start_response)
    }
}

/// The installed [`WsgiRequestHandler`].
#[derive(Clone)]
pub(crate) struct Hooks(pub(crate) Arc<dyn WsgiRequestHandler>);

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WsgiRequestHandler { .. }")
    }
}

/// The default [`WsgiRequestHandler`]: every hook as documented there.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultRequestHandler;

impl WsgiRequestHandler for DefaultRequestHandler {}

/// Binds `host:port` and returns a server for `app` (`wsgiref.simple_server.make_server`).
/// Port 0 binds an ephemeral port; [`WsgiServer::server_address`] reports it.
pub fn make_server(host: &str, port: u16, app: impl App + 'static) -> io::Result<WsgiServer> {
    ServerBuilder::new().bind(host, port, app)
}

/// A bound server (`wsgiref.simple_server.WSGIServer`).
#[derive(Debug)]
pub struct WsgiServer {
    shared: Arc<reactor::Shared>,
    address: SocketAddr,
}

impl WsgiServer {
    /// Serves until [`shutdown`](WsgiServer::shutdown), then waits (up to the shutdown
    /// timeout) for requests in flight. Runs the reactor on the calling thread.
    pub fn serve_forever(&self) -> io::Result<()> {
        self.shared.run_reactor()
    }

    /// Waits for one connection and answers one request on it (then closes it). `timeout`
    /// bounds the wait for the connection; `Ok(false)` when none came.
    pub fn handle_request(&self, timeout: Option<Duration>) -> io::Result<bool> {
        self.shared.serve_one(timeout)
    }

    /// Stops the server: no new connections, idle ones closed, in-flight requests finish
    /// (their responses say `Connection: close`), then `serve_forever` returns.
    pub fn shutdown(&self) {
        self.shutdown_handle().shutdown();
    }

    /// A handle that can stop the server from another thread or a signal-watching thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The bound address (with the real port when bound to port 0).
    pub fn server_address(&self) -> SocketAddr {
        self.address
    }

    /// Replaces the app for requests that start from now on.
    pub fn set_app(&self, app: impl App + 'static) {
        *self
            .shared
            .app
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(app);
        self.shared.app_generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The app requests run.
    pub fn get_app(&self) -> Arc<dyn App> {
        Arc::clone(
            &self
                .shared
                .app
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// The variables every request environ starts from (`SERVER_NAME`, `GATEWAY_INTERFACE`,
    /// `SERVER_PORT`, `REMOTE_HOST`, `CONTENT_LENGTH`, `SCRIPT_NAME`, and `SERVER_SOFTWARE`,
    /// which the reference adds per request).
    pub fn base_environ(&self) -> Vec<(&'static str, &str)> {
        self.shared
            .settings
            .base_environ
            .iter()
            .map(|(k, v)| (*k, &**v))
            .collect()
    }

    /// How many connections the reactor holds (idle, reading a head, or closing).
    pub fn parked_connections(&self) -> usize {
        self.shared.parked_count()
    }
}

/// Stops a [`WsgiServer`] from anywhere: cloneable, `Send` and `Sync`.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    shared: Arc<reactor::Shared>,
}

impl ShutdownHandle {
    /// See [`WsgiServer::shutdown`].
    pub fn shutdown(&self) {
        self.shared.shutdown.store(true, Ordering::Release);
        self.shared.wake_all();
    }
}
