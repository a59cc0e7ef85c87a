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
//!   never a thread. While the server has fewer connections than cores, the worker that
//!   answered a connection waits on it for the next request itself, for a scheduler tick or
//!   two, so a lone client costs a read and a write per request, as with a thread per
//!   connection;
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
//! # Deliberate differences from the reference
//!
//! The environ follows `WSGIRequestHandler.get_environ` (PEP 3333; the target split at the
//! first `?`, `PATH_INFO` percent-decoded to latin-1 "bytes in unicode", raw bytes above
//! 0x7F taken one byte to one character, a leading `//` collapsed, `HTTP_*` keys with
//! repeated fields joined by `,`, a field whose key is already in the environ skipped).
//! Where gateway differs, on purpose:
//!
//! - **Protocol**: HTTP/1.1 with keep-alive and pipelining (the reference answers HTTP/1.0
//!   and closes after each request); `Expect: 100-continue` is answered.
//! - **RFC strictness** (the reference is lenient, as `email` parsing is): a request line or
//!   field that breaks RFC 9112 is a 400 where the reference drops the field or everything
//!   after it (whitespace before a colon, a line without a colon, obs-fold, a bare CR);
//!   `Content-Length` must be one decimal number (the reference passes any first value
//!   through); `Transfer-Encoding` framing is enforced; two `Host` fields, an invalid one,
//!   or none on HTTP/1.1 is a 400 (the reference joins them as `a,b`). The table in the
//!   `request` module's source lists every requirement with its test.
//! - **Versions**: `HTTP/1.2` to `HTTP/1.9` are processed as 1.1 (RFC 9110 §2.5) and
//!   answered `HTTP/1.1`; `SERVER_PROTOCOL` says what the client sent, as in the reference.
//!   A version of two digits or more (`HTTP/01.01`, which the reference takes) is a 400,
//!   and HTTP/0.9 two-word request lines are not served.
//! - **Whitespace**: field values are trimmed of spaces and tabs on both sides, as the
//!   reference strips them; the request line must use single spaces (the reference splits on
//!   runs of whitespace).
//! - **Absolute-form targets** (`GET http://host/path`): the scheme and authority are
//!   removed from `PATH_INFO` and `HTTP_HOST` is the target's authority (RFC 9112 §3.2.2);
//!   the reference puts the whole URL in `PATH_INFO`. Other target forms but `/…` and
//!   `OPTIONS *` are a 400 (`CONNECT`: 501).
//! - **Underscore headers**: header names containing `_` are dropped (see
//!   [`ServerBuilder::keep_underscore_headers`]), so `X_Forwarded_For` cannot pose as
//!   `X-Forwarded-For`; the reference keeps both and joins them.
//! - **Environ extras**: the process environment is not copied in; `REQUEST_URI` keeps the
//!   raw target and `REMOTE_PORT` the peer's port; `wsgi.multithread` is true;
//!   `wsgi.input` ends at the end of the body (`wsgi.input_terminated`).
//! - **Errors**: error pages are short `text/plain` (no body for `HEAD`), and the access
//!   log's time is UTC.
//!
//! ```no_run
//! use gateway::simple_server::{demo_app, make_server};
//!
//! let server = make_server("127.0.0.1", 8000, demo_app)?;
//! println!("serving on {}", server.server_address());
//! server.serve_forever()?;
//! # Ok::<(), std::io::Error>(())
//! ```

mod activation;
mod body;
mod chunked;
mod conn;
mod demo;
mod environ;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzz;
mod handler;
mod pollers;
mod reactor;
mod request;
pub(crate) use request::valid_host;
mod run;
mod serve;
mod slice;
mod socket;
mod table;

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use crate::{App, AppError, Body, Environ, ErrorStream, StartResponse};

pub use activation::activated_listener;
pub use demo::demo_app;

/// The `Server` header and `SERVER_SOFTWARE` of responses.
///
/// ```
/// use gateway::simple_server::{demo_app, ServerBuilder, SERVER_SOFTWARE};
///
/// assert!(SERVER_SOFTWARE.starts_with("gateway/"));
/// let server = ServerBuilder::new().threads(1).bind("127.0.0.1", 0, demo_app)?;
/// assert!(server.base_environ().contains(&("SERVER_SOFTWARE", SERVER_SOFTWARE)));
/// # Ok::<(), std::io::Error>(())
/// ```
pub const SERVER_SOFTWARE: &str = concat!("gateway/", env!("CARGO_PKG_VERSION"));

/// How long a worker polls a connection it waits on before it sleeps, unless
/// [`ServerBuilder::busy_poll`] says otherwise.
const DEFAULT_BUSY_POLL: Duration = Duration::from_micros(50);

/// The limits that protect the server from bad or slow clients. Each has a documented
/// default; timeouts are durations so tests can use milliseconds.
///
/// ```
/// # use std::io::{Read, Write};
/// # use gateway::simple_server::WsgiServer;
/// # /// Runs `server` until `request` got its whole response (the server closes after it).
/// # fn exchange(server: &WsgiServer, request: &str) -> std::io::Result<String> {
/// #     std::thread::scope(|scope| {
/// #         let serving = scope.spawn(|| server.serve_forever());
/// #         let response = (|| {
/// #             let mut stream = std::net::TcpStream::connect(server.server_address())?;
/// #             stream.write_all(request.as_bytes())?;
/// #             let mut response = String::new();
/// #             stream.read_to_string(&mut response)?;
/// #             Ok(response)
/// #         })();
/// #         server.shutdown();
/// #         serving.join().unwrap()?;
/// #         response
/// #     })
/// # }
/// use std::time::Duration;
/// use gateway::simple_server::{demo_app, Limits, ServerBuilder};
///
/// let mut limits = Limits::default();
/// assert_eq!((limits.max_request_line, limits.max_headers), (8 * 1024, 100));
/// assert_eq!(limits.keep_alive_timeout, Duration::from_secs(5));
/// limits.max_request_line = 64;
/// let server = ServerBuilder::new().threads(1).access_log(false).limits(limits);
/// let server = server.bind("127.0.0.1", 0, demo_app)?;
/// let long_line = format!("GET /{} HTTP/1.0\r\n\r\n", "a".repeat(100));
/// assert!(exchange(&server, &long_line)?.starts_with("HTTP/1.1 414 "));
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// The connection deadlines (`header_read_timeout`, `keep_alive_timeout`,
/// `body_read_timeout`) are enforced by the acceptor, which sleeps until the earliest of them
/// (rounded up to the millisecond) and then sweeps: a connection is never closed early, and
/// late only by the time the acceptor takes to wake.
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
    /// Longest wait for more request-body bytes while the app reads (default 30 s). A body
    /// of up to 64 KiB announced by `Content-Length` (without `Expect: 100-continue`) is
    /// awaited before the app runs, without holding a worker, and must arrive whole within
    /// this time (else 408).
    pub body_read_timeout: Duration,
    /// Longest time to receive a whole request body once the app starts reading it (default
    /// 5 min), however steadily it trickles in: a client sending a byte just within each
    /// `body_read_timeout` cannot hold a worker longer than this. Slower: 408 (if the response
    /// has not started) and close.
    pub body_total_timeout: Duration,
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
            body_total_timeout: Duration::from_secs(300),
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
    pub(crate) base_environ: Vec<(&'static str, String)>,
    /// `base_environ` but `CONTENT_LENGTH`: what every request's environ starts with.
    pub(crate) request_base: crate::environ::VarsPrefix,
    pub(crate) request_handler: Hooks,
    /// The scheduler slice each worker asks for (`None`: the kernel's default).
    pub(crate) worker_slice: Option<Duration>,
    /// How long a worker polls a connection it waits on before it sleeps (`None`: never).
    pub(crate) busy_poll: Option<Duration>,
    /// The server bound its listener (and so shuts it when it stops), rather than being given
    /// one whose owner keeps it listening across restarts.
    pub(crate) owns_listener: bool,
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
    worker_slice: Option<Duration>,
    busy_poll: Option<Duration>,
}

impl Default for ServerBuilder {
    fn default() -> Self {
        ServerBuilder::new()
    }
}

impl ServerBuilder {
    /// The defaults: 4 workers per core (at least 4), [`Limits::default`], access log on.
    ///
    /// ```
    /// # use std::io::{Read, Write};
    /// # use gateway::simple_server::WsgiServer;
    /// # /// Runs `server` until `request` got its whole response (the server closes after it).
    /// # fn exchange(server: &WsgiServer, request: &str) -> std::io::Result<String> {
    /// #     std::thread::scope(|scope| {
    /// #         let serving = scope.spawn(|| server.serve_forever());
    /// #         let response = (|| {
    /// #             let mut stream = std::net::TcpStream::connect(server.server_address())?;
    /// #             stream.write_all(request.as_bytes())?;
    /// #             let mut response = String::new();
    /// #             stream.read_to_string(&mut response)?;
    /// #             Ok(response)
    /// #         })();
    /// #         server.shutdown();
    /// #         serving.join().unwrap()?;
    /// #         response
    /// #     })
    /// # }
    /// use gateway::simple_server::{demo_app, ServerBuilder};
    /// use gateway::{ErrorStream, SharedBuffer};
    ///
    /// let log = SharedBuffer::new(); // instead of the process's stderr
    /// let builder = ServerBuilder::new().stderr(ErrorStream::new(log.clone()));
    /// let server = builder.bind("127.0.0.1", 0, demo_app)?;
    /// exchange(&server, "GET /status HTTP/1.0\r\n\r\n")?;
    /// assert!(log.to_string_lossy().contains("] \"GET /status HTTP/1.0\" 200 "));
    /// # Ok::<(), std::io::Error>(())
    /// ```
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
            request_handler: Hooks {
                handler: Arc::new(DefaultRequestHandler),
                custom: false,
            },
            worker_slice: Some(slice::DEFAULT),
            busy_poll: Some(DEFAULT_BUSY_POLL),
        }
    }

    /// Worker threads in the pool (default: 4 per core, at least 4).
    ///
    /// ```
    /// # use std::io::{Read, Write};
    /// # use gateway::simple_server::WsgiServer;
    /// # /// Runs `server` until `request` got its whole response (the server closes after it).
    /// # fn exchange(server: &WsgiServer, request: &str) -> std::io::Result<String> {
    /// #     std::thread::scope(|scope| {
    /// #         let serving = scope.spawn(|| server.serve_forever());
    /// #         let response = (|| {
    /// #             let mut stream = std::net::TcpStream::connect(server.server_address())?;
    /// #             stream.write_all(request.as_bytes())?;
    /// #             let mut response = String::new();
    /// #             stream.read_to_string(&mut response)?;
    /// #             Ok(response)
    /// #         })();
    /// #         server.shutdown();
    /// #         serving.join().unwrap()?;
    /// #         response
    /// #     })
    /// # }
    /// use gateway::simple_server::{demo_app, ServerBuilder};
    ///
    /// let server = ServerBuilder::new().threads(1).access_log(false).bind("127.0.0.1", 0, demo_app)?;
    /// assert!(exchange(&server, "GET / HTTP/1.0\r\n\r\n")?.starts_with("HTTP/1.0 200 OK\r\n"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The scheduler slice each worker thread asks the kernel for (default 0.1 ms, the
    /// shortest Linux grants; `None` asks nothing, so the workers keep the slice they
    /// inherit, normally the kernel's default of about 1-3 ms).
    ///
    /// On Linux 6.12 and later a thread may choose how long it runs before another thread
    /// waiting for its core may take it. A short slice matters only when the workers share
    /// cores with other busy processes (clients on the same machine, a proxy, a database):
    /// then the threads a worker wakes no longer take its core at once (in our runs it went
    /// on to send the other responses it had), and it gets its core back soon after it lets
    /// them run. On two cores shared with `wrk` at 16
    /// connections this was worth 10-20 % more requests per second at the same
    /// sub-millisecond p99 (BENCHMARKS.md). The policy, nice value and reset-on-fork flag
    /// are kept; real-time, deadline and idle threads are left alone; older kernels and
    /// other systems ignore it; threads an app starts from a worker inherit it. The kernel
    /// clamps the value to 0.1-100 ms (zero means its default). If the call is refused (a
    /// seccomp sandbox), the server says so once on its error stream and serves on.
    ///
    /// ```
    /// use std::time::Duration;
    /// use gateway::simple_server::{demo_app, ServerBuilder};
    ///
    /// // The kernel's own slice for the workers:
    /// let server = ServerBuilder::new().worker_slice(None).bind("127.0.0.1", 0, demo_app)?;
    /// // A longer one for CPU-heavy apps that share cores with batch jobs:
    /// let server = ServerBuilder::new()
    ///     .worker_slice(Some(Duration::from_millis(3)))
    ///     .bind("127.0.0.1", 0, demo_app)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn worker_slice(mut self, slice: Option<Duration>) -> Self {
        self.worker_slice = slice;
        self
    }

    /// How long a worker that waits on a connection for its next request polls the socket
    /// before it sleeps in a blocking read (default 50 µs; `None` or zero: it never polls).
    ///
    /// While the server has fewer connections than worker slots, the worker that answered a
    /// request may wait on its connection for the next one (the keep-alive fast path). A
    /// worker asleep in a read is woken by an interrupt from another core when the bytes
    /// come, and finds its caches cold; one that polls for them is not. For a lone client
    /// that sends its next request at once this gives about 30 % more requests per second
    /// and a lower tail (BENCHMARKS.md), for the core's time while it polls: up to this
    /// budget per response, which counts against a CPU quota (a container's limit) and slows
    /// a hyperthread sibling. Polls that keep missing (a client that pauses between requests)
    /// are tried less and less often on that connection, down to one wait in 65. A poll is
    /// called off as soon as events are queued for a worker, no other worker is left waiting
    /// for new ones, or the server shuts down. Between tries the worker yields its core to
    /// any other thread ready to run there.
    ///
    /// ```
    /// use std::time::Duration;
    /// use gateway::simple_server::{demo_app, ServerBuilder};
    ///
    /// // Sleep at once, as a thread-per-connection server does (least CPU):
    /// let server = ServerBuilder::new().busy_poll(None).bind("127.0.0.1", 0, demo_app)?;
    /// // Poll longer, for clients further away:
    /// let server = ServerBuilder::new()
    ///     .busy_poll(Some(Duration::from_micros(200)))
    ///     .bind("127.0.0.1", 0, demo_app)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn busy_poll(mut self, budget: Option<Duration>) -> Self {
        self.busy_poll = budget.filter(|b| !b.is_zero());
        self
    }

    /// The limits (see [`Limits`]).
    ///
    /// ```
    /// # use std::io::{Read, Write};
    /// # use gateway::simple_server::WsgiServer;
    /// # /// Runs `server` until `request` got its whole response (the server closes after it).
    /// # fn exchange(server: &WsgiServer, request: &str) -> std::io::Result<String> {
    /// #     std::thread::scope(|scope| {
    /// #         let serving = scope.spawn(|| server.serve_forever());
    /// #         let response = (|| {
    /// #             let mut stream = std::net::TcpStream::connect(server.server_address())?;
    /// #             stream.write_all(request.as_bytes())?;
    /// #             let mut response = String::new();
    /// #             stream.read_to_string(&mut response)?;
    /// #             Ok(response)
    /// #         })();
    /// #         server.shutdown();
    /// #         serving.join().unwrap()?;
    /// #         response
    /// #     })
    /// # }
    /// use gateway::simple_server::{demo_app, Limits, ServerBuilder};
    ///
    /// let mut limits = Limits::default();
    /// limits.max_headers = 2;
    /// let server = ServerBuilder::new().threads(1).access_log(false).limits(limits);
    /// let server = server.bind("127.0.0.1", 0, demo_app)?;
    /// let request = "GET / HTTP/1.0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    /// assert!(exchange(&server, request)?.starts_with("HTTP/1.1 431 "));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// How long [`serve_forever`](WsgiServer::serve_forever) waits for in-flight requests
    /// after [`shutdown`](WsgiServer::shutdown) (default 10 s).
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::sync::{mpsc, Mutex};
    /// use std::time::Duration;
    /// use gateway::simple_server::ServerBuilder;
    /// use gateway::{app_fn, Body};
    ///
    /// let (started_tx, started) = mpsc::channel();
    /// let (release, release_rx) = mpsc::channel::<()>();
    /// let (started_tx, release_rx) = (Mutex::new(started_tx), Mutex::new(release_rx));
    /// let slow = app_fn(move |_env, sr| {
    ///     started_tx.lock().unwrap().send(()).unwrap();
    ///     release_rx.lock().unwrap().recv().unwrap(); // blocks until released
    ///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    ///     Ok(Body::from("late"))
    /// });
    /// let server = ServerBuilder::new().threads(1).access_log(false)
    ///     .shutdown_timeout(Duration::from_millis(50))
    ///     .bind("127.0.0.1", 0, slow)?;
    /// std::thread::scope(|scope| {
    ///     let serving = scope.spawn(|| server.serve_forever());
    ///     let mut client = std::net::TcpStream::connect(server.server_address())?;
    ///     client.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
    ///     started.recv().unwrap(); // the request is in flight
    ///     server.shutdown();
    ///     serving.join().unwrap()?; // returned after 50 ms, the app still running
    ///     release.send(()).unwrap();
    ///     let mut response = String::new();
    ///     client.read_to_string(&mut response)?;
    ///     assert!(response.ends_with("\r\n\r\nlate")); // the request still finished
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Writes one common-log line per request to the error stream (default on).
    ///
    /// ```
    /// # use std::io::{Read, Write};
    /// # use gateway::simple_server::WsgiServer;
    /// # /// Runs `server` until `request` got its whole response (the server closes after it).
    /// # fn exchange(server: &WsgiServer, request: &str) -> std::io::Result<String> {
    /// #     std::thread::scope(|scope| {
    /// #         let serving = scope.spawn(|| server.serve_forever());
    /// #         let response = (|| {
    /// #             let mut stream = std::net::TcpStream::connect(server.server_address())?;
    /// #             stream.write_all(request.as_bytes())?;
    /// #             let mut response = String::new();
    /// #             stream.read_to_string(&mut response)?;
    /// #             Ok(response)
    /// #         })();
    /// #         server.shutdown();
    /// #         serving.join().unwrap()?;
    /// #         response
    /// #     })
    /// # }
    /// use gateway::simple_server::{demo_app, ServerBuilder};
    /// use gateway::{ErrorStream, SharedBuffer};
    ///
    /// let log = SharedBuffer::new();
    /// let server = ServerBuilder::new().threads(1).stderr(ErrorStream::new(log.clone()))
    ///     .access_log(false)
    ///     .bind("127.0.0.1", 0, demo_app)?;
    /// assert!(exchange(&server, "GET / HTTP/1.0\r\n\r\n")?.starts_with("HTTP/1.0 200 OK"));
    /// assert_eq!(log.to_string_lossy(), ""); // no access line
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn access_log(mut self, on: bool) -> Self {
        self.access_log = on;
        self
    }

    /// Sends file bodies with sendfile(2) (default on); off, they are read and written.
    ///
    /// ```
    /// # use std::io::{Read, Write};
    /// # use gateway::simple_server::WsgiServer;
    /// # /// Runs `server` until `request` got its whole response (the server closes after it).
    /// # fn exchange(server: &WsgiServer, request: &str) -> std::io::Result<String> {
    /// #     std::thread::scope(|scope| {
    /// #         let serving = scope.spawn(|| server.serve_forever());
    /// #         let response = (|| {
    /// #             let mut stream = std::net::TcpStream::connect(server.server_address())?;
    /// #             stream.write_all(request.as_bytes())?;
    /// #             let mut response = String::new();
    /// #             stream.read_to_string(&mut response)?;
    /// #             Ok(response)
    /// #         })();
    /// #         server.shutdown();
    /// #         serving.join().unwrap()?;
    /// #         response
    /// #     })
    /// # }
    /// use std::fs::File;
    /// use gateway::simple_server::ServerBuilder;
    /// use gateway::util::FileWrapper;
    /// use gateway::{app_fn, Body};
    ///
    /// let path = std::env::temp_dir().join(format!("gateway-doc-sendfile-{}.txt", std::process::id()));
    /// std::fs::write(&path, "file contents")?;
    /// let file_path = path.clone();
    /// let app = app_fn(move |_env, sr| {
    ///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    ///     Ok(Body::file(FileWrapper::new(File::open(&file_path)?, 0)))
    /// });
    /// let server = ServerBuilder::new().threads(1).access_log(false)
    ///     .sendfile(false)
    ///     .bind("127.0.0.1", 0, app)?;
    /// assert!(exchange(&server, "GET / HTTP/1.0\r\n\r\n")?.ends_with("\r\n\r\nfile contents"));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn sendfile(mut self, on: bool) -> Self {
        self.sendfile = on;
        self
    }

    /// Keeps request headers whose names contain `_` (default off: they are dropped, since
    /// `X_Forwarded_For` would otherwise land on the same `HTTP_X_FORWARDED_FOR` as a proxy's
    /// `X-Forwarded-For`).
    ///
    /// ```
    /// # use std::io::{Read, Write};
    /// # use gateway::simple_server::WsgiServer;
    /// # /// Runs `server` until `request` got its whole response (the server closes after it).
    /// # fn exchange(server: &WsgiServer, request: &str) -> std::io::Result<String> {
    /// #     std::thread::scope(|scope| {
    /// #         let serving = scope.spawn(|| server.serve_forever());
    /// #         let response = (|| {
    /// #             let mut stream = std::net::TcpStream::connect(server.server_address())?;
    /// #             stream.write_all(request.as_bytes())?;
    /// #             let mut response = String::new();
    /// #             stream.read_to_string(&mut response)?;
    /// #             Ok(response)
    /// #         })();
    /// #         server.shutdown();
    /// #         serving.join().unwrap()?;
    /// #         response
    /// #     })
    /// # }
    /// use gateway::simple_server::{demo_app, ServerBuilder};
    ///
    /// let request = "GET / HTTP/1.0\r\nX_Token: abc\r\n\r\n";
    /// let strict = ServerBuilder::new().threads(1).access_log(false).bind("127.0.0.1", 0, demo_app)?;
    /// assert!(!exchange(&strict, request)?.contains("HTTP_X_TOKEN"));
    /// let lenient = ServerBuilder::new().threads(1).access_log(false)
    ///     .keep_underscore_headers(true)
    ///     .bind("127.0.0.1", 0, demo_app)?;
    /// assert!(exchange(&lenient, request)?.contains("HTTP_X_TOKEN = 'abc'"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn keep_underscore_headers(mut self, keep: bool) -> Self {
        self.keep_underscore_headers = keep;
        self
    }

    /// The `Server` header and `SERVER_SOFTWARE` (default [`SERVER_SOFTWARE`]).
    ///
    /// ```
    /// # use std::io::{Read, Write};
    /// # use gateway::simple_server::WsgiServer;
    /// # /// Runs `server` until `request` got its whole response (the server closes after it).
    /// # fn exchange(server: &WsgiServer, request: &str) -> std::io::Result<String> {
    /// #     std::thread::scope(|scope| {
    /// #         let serving = scope.spawn(|| server.serve_forever());
    /// #         let response = (|| {
    /// #             let mut stream = std::net::TcpStream::connect(server.server_address())?;
    /// #             stream.write_all(request.as_bytes())?;
    /// #             let mut response = String::new();
    /// #             stream.read_to_string(&mut response)?;
    /// #             Ok(response)
    /// #         })();
    /// #         server.shutdown();
    /// #         serving.join().unwrap()?;
    /// #         response
    /// #     })
    /// # }
    /// use gateway::simple_server::{demo_app, ServerBuilder};
    ///
    /// let server = ServerBuilder::new().threads(1).access_log(false)
    ///     .server_software("shop/2.1")
    ///     .bind("127.0.0.1", 0, demo_app)?;
    /// assert!(server.base_environ().contains(&("SERVER_SOFTWARE", "shop/2.1")));
    /// assert!(exchange(&server, "GET / HTTP/1.0\r\n\r\n")?.contains("\r\nServer: shop/2.1\r\n"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn server_software(mut self, software: impl Into<String>) -> Self {
        self.server_software = software.into();
        self
    }

    /// Where tracebacks, the access log and server messages go (and `wsgi.errors`); default
    /// the process's stderr.
    ///
    /// ```
    /// # use std::io::{Read, Write};
    /// # use gateway::simple_server::WsgiServer;
    /// # /// Runs `server` until `request` got its whole response (the server closes after it).
    /// # fn exchange(server: &WsgiServer, request: &str) -> std::io::Result<String> {
    /// #     std::thread::scope(|scope| {
    /// #         let serving = scope.spawn(|| server.serve_forever());
    /// #         let response = (|| {
    /// #             let mut stream = std::net::TcpStream::connect(server.server_address())?;
    /// #             stream.write_all(request.as_bytes())?;
    /// #             let mut response = String::new();
    /// #             stream.read_to_string(&mut response)?;
    /// #             Ok(response)
    /// #         })();
    /// #         server.shutdown();
    /// #         serving.join().unwrap()?;
    /// #         response
    /// #     })
    /// # }
    /// use gateway::simple_server::ServerBuilder;
    /// use gateway::{app_fn, Body, ErrorStream, SharedBuffer};
    ///
    /// let app = app_fn(|env, sr| {
    ///     writeln!(env.errors(), "cache miss")?; // wsgi.errors
    ///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    ///     Ok(Body::from("ok"))
    /// });
    /// let log = SharedBuffer::new();
    /// let server = ServerBuilder::new().threads(1).access_log(false)
    ///     .stderr(ErrorStream::new(log.clone()))
    ///     .bind("127.0.0.1", 0, app)?;
    /// exchange(&server, "GET / HTTP/1.0\r\n\r\n")?;
    /// assert_eq!(log.to_string_lossy(), "cache miss\n");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stderr(mut self, stderr: ErrorStream) -> Self {
        self.stderr = Some(stderr);
        self
    }

    /// The per-request hooks (`WSGIRequestHandler`'s override points); default
    /// [`DefaultRequestHandler`].
    ///
    /// ```
    /// # use std::io::{Read, Write};
    /// # use gateway::simple_server::WsgiServer;
    /// # /// Runs `server` until `request` got its whole response (the server closes after it).
    /// # fn exchange(server: &WsgiServer, request: &str) -> std::io::Result<String> {
    /// #     std::thread::scope(|scope| {
    /// #         let serving = scope.spawn(|| server.serve_forever());
    /// #         let response = (|| {
    /// #             let mut stream = std::net::TcpStream::connect(server.server_address())?;
    /// #             stream.write_all(request.as_bytes())?;
    /// #             let mut response = String::new();
    /// #             stream.read_to_string(&mut response)?;
    /// #             Ok(response)
    /// #         })();
    /// #         server.shutdown();
    /// #         serving.join().unwrap()?;
    /// #         response
    /// #     })
    /// # }
    /// use gateway::simple_server::{demo_app, Request, ServerBuilder, WsgiRequestHandler};
    /// use gateway::Environ;
    ///
    /// /// Answers as `www.example.com`, whatever the client asked for.
    /// struct Canonical;
    ///
    /// impl WsgiRequestHandler for Canonical {
    ///     fn get_environ(&self, _request: &Request<'_>, mut environ: Environ) -> Environ {
    ///         environ.insert("HTTP_HOST", "www.example.com");
    ///         environ
    ///     }
    /// }
    ///
    /// let server = ServerBuilder::new().threads(1).access_log(false)
    ///     .request_handler(Canonical)
    ///     .bind("127.0.0.1", 0, demo_app)?;
    /// let response = exchange(&server, "GET / HTTP/1.0\r\nHost: example.com\r\n\r\n")?;
    /// assert!(response.contains("HTTP_HOST = 'www.example.com'"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn request_handler(mut self, handler: impl WsgiRequestHandler) -> Self {
        self.request_handler = Hooks {
            handler: Arc::new(handler),
            custom: true,
        };
        self
    }

    /// Binds `host:port` (port 0: an ephemeral port) and builds the server.
    ///
    /// ```
    /// use gateway::simple_server::{demo_app, ServerBuilder};
    ///
    /// let server = ServerBuilder::new().threads(1).bind("localhost", 0, demo_app)?;
    /// let address = server.server_address();
    /// assert!(address.ip().is_loopback());
    /// assert_ne!(address.port(), 0); // the port the system picked
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind(self, host: &str, port: u16, app: impl App + 'static) -> io::Result<WsgiServer> {
        let addr = (host, port).to_socket_addrs()?.next().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{host:?} resolves to no address"),
            )
        })?;
        self.build(socket::Listener::Tcp(TcpListener::bind(addr)?), app, true)
    }

    /// Builds the server on an already bound listener (inherited from a supervisor, say).
    /// The server does not own it: when it stops it stops accepting but leaves the socket
    /// listening, so connection attempts wait in its backlog for the owner's next server
    /// (a server that [`bind`](ServerBuilder::bind)s refuses them from then on).
    ///
    /// ```
    /// use std::net::TcpListener;
    /// use gateway::simple_server::{demo_app, ServerBuilder};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0")?; // e.g. inherited from a supervisor
    /// let address = listener.local_addr()?;
    /// let server = ServerBuilder::new().threads(1).from_listener(listener, demo_app)?;
    /// assert_eq!(server.server_address(), address);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_listener(
        self,
        listener: TcpListener,
        app: impl App + 'static,
    ) -> io::Result<WsgiServer> {
        self.build(socket::Listener::Tcp(listener), app, false)
    }

    /// Binds a Unix domain socket at `path` (what nginx's `proxy_pass http://unix:PATH:`
    /// talks to) and builds the server on it; the socket file is removed when the server is
    /// dropped. A stale socket file left by a server that died is replaced; a live one
    /// (something accepts on it) is an `AddrInUse` error.
    ///
    /// A Unix socket has no addresses: `REMOTE_ADDR` and `REMOTE_PORT` are empty (a proxy in
    /// front says who the client is, see [`ProxyFix`](crate::middleware::ProxyFix)),
    /// `SERVER_NAME` is `localhost` and `SERVER_PORT` `80`, as gunicorn sets them;
    /// [`server_address`](WsgiServer::server_address) is `0.0.0.0:0` and
    /// [`unix_path`](WsgiServer::unix_path) the path.
    ///
    /// ```
    /// use gateway::simple_server::{demo_app, ServerBuilder};
    ///
    /// let path = std::env::temp_dir().join(format!("gateway-doc-{}.sock", std::process::id()));
    /// let server = ServerBuilder::new().threads(1).bind_unix(&path, demo_app)?;
    /// assert_eq!(server.unix_path(), Some(path.as_path()));
    /// assert!(std::fs::metadata(&path)?.file_type().is_socket_like());
    /// drop(server);
    /// assert!(!path.exists());
    /// # trait SocketLike { fn is_socket_like(&self) -> bool; }
    /// # impl SocketLike for std::fs::FileType { fn is_socket_like(&self) -> bool { std::os::unix::fs::FileTypeExt::is_socket(self) } }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind_unix(
        self,
        path: impl AsRef<std::path::Path>,
        app: impl App + 'static,
    ) -> io::Result<WsgiServer> {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let path = path.as_ref();
        if let Ok(metadata) = std::fs::symlink_metadata(path)
            && metadata.file_type().is_socket()
        {
            if socket_in_use(path)? {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("{} is in use by a running server", path.display()),
                ));
            }
            std::fs::remove_file(path)?;
        }
        let listener = std::os::unix::net::UnixListener::bind(path).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot bind {}: {e}", path.display()))
        })?;
        // The file this server made: removed on drop only while it is still this one (a
        // successor may have replaced it after this server stopped).
        let made = std::fs::symlink_metadata(path)?;
        let guard = UnixPath {
            path: path.to_owned(),
            id: (made.dev(), made.ino()),
        };
        self.build(socket::Listener::Unix(listener, Some(guard)), app, true)
    }

    pub(crate) fn build(
        self,
        listener: socket::Listener,
        app: impl App + 'static,
        owns_listener: bool,
    ) -> io::Result<WsgiServer> {
        let (address, server_name, unix_path) = match &listener {
            socket::Listener::Tcp(tcp) => {
                let address = tcp.local_addr()?;
                let name = match address.ip() {
                    ip if ip.is_loopback() => "localhost".to_owned(),
                    ip => ip.to_string(),
                };
                (address, name, None)
            }
            socket::Listener::Unix(_, guard) => (
                SocketAddr::from(([0, 0, 0, 0], 80)),
                "localhost".to_owned(),
                guard.clone(),
            ),
        };
        // WSGIServer.setup_environ's base environ.
        let base_environ: Vec<(&'static str, String)> = vec![
            ("SERVER_NAME", server_name),
            ("GATEWAY_INTERFACE", "CGI/1.1".to_owned()),
            ("SERVER_PORT", address.port().to_string()),
            ("REMOTE_HOST", String::new()),
            ("CONTENT_LENGTH", String::new()),
            ("SCRIPT_NAME", String::new()),
            ("SERVER_SOFTWARE", self.server_software.clone()),
        ];
        let settings = Settings {
            limits: self.limits,
            threads: self.threads,
            worker_slice: self.worker_slice,
            busy_poll: self.busy_poll,
            shutdown_timeout: self.shutdown_timeout,
            access_log: self.access_log,
            sendfile: self.sendfile,
            keep_underscore_headers: self.keep_underscore_headers,
            server_software: self.server_software,
            stderr: self.stderr.unwrap_or_else(ErrorStream::stderr),
            read_buffer: 4096,
            request_base: crate::environ::VarsPrefix::new(
                &base_environ
                    .iter()
                    .filter(|(key, _)| *key != "CONTENT_LENGTH")
                    .map(|(key, value)| (*key, value.as_str()))
                    .collect::<Vec<_>>(),
            ),
            base_environ,
            request_handler: self.request_handler,
            owns_listener,
        };
        let shared = reactor::Shared::new(settings, Arc::new(app), listener)?;
        Ok(WsgiServer {
            shared: Arc::new(shared),
            address: if unix_path.is_some() {
                SocketAddr::from(([0, 0, 0, 0], 0))
            } else {
                address
            },
            unix_path,
        })
    }
}

/// What the server parsed of a request, as [`WsgiRequestHandler::get_environ`] sees it.
///
/// ```
/// # use std::io::{Read, Write};
/// # use gateway::simple_server::WsgiServer;
/// # /// Runs `server` until `request` got its whole response (the server closes after it).
/// # fn exchange(server: &WsgiServer, request: &str) -> std::io::Result<String> {
/// #     std::thread::scope(|scope| {
/// #         let serving = scope.spawn(|| server.serve_forever());
/// #         let response = (|| {
/// #             let mut stream = std::net::TcpStream::connect(server.server_address())?;
/// #             stream.write_all(request.as_bytes())?;
/// #             let mut response = String::new();
/// #             stream.read_to_string(&mut response)?;
/// #             Ok(response)
/// #         })();
/// #         server.shutdown();
/// #         serving.join().unwrap()?;
/// #         response
/// #     })
/// # }
/// use gateway::simple_server::{demo_app, Request, ServerBuilder, WsgiRequestHandler};
/// use gateway::Environ;
///
/// /// Records the request line and the peer for the app.
/// struct RequestLine;
///
/// impl WsgiRequestHandler for RequestLine {
///     fn get_environ(&self, request: &Request<'_>, mut environ: Environ) -> Environ {
///         let Request { method, target, version, peer, .. } = *request;
///         let from = peer.map_or("a Unix socket".to_owned(), |p| p.ip().to_string());
///         environ.insert("X_REQUEST_LINE", format!("{method} {target} {version} from {from}"));
///         environ
///     }
/// }
///
/// let server = ServerBuilder::new().threads(1).access_log(false)
///     .request_handler(RequestLine)
///     .bind("127.0.0.1", 0, demo_app)?;
/// let response = exchange(&server, "GET /a?b=1 HTTP/1.0\r\n\r\n")?;
/// assert!(response.contains("X_REQUEST_LINE = 'GET /a?b=1 HTTP/1.0 from 127.0.0.1'"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Request<'a> {
    /// The method, as sent.
    pub method: &'a str,
    /// The request target, as sent (latin-1).
    pub target: &'a str,
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: &'a str,
    /// The client's address (`None` on a Unix domain socket).
    pub peer: Option<SocketAddr>,
    fields: &'a request::Fields,
}

impl<'a> Request<'a> {
    /// The header fields in arrival order (names as sent, values trimmed, latin-1).
    ///
    /// ```
    /// # use std::io::{Read, Write};
    /// # use gateway::simple_server::WsgiServer;
    /// # /// Runs `server` until `request` got its whole response (the server closes after it).
    /// # fn exchange(server: &WsgiServer, request: &str) -> std::io::Result<String> {
    /// #     std::thread::scope(|scope| {
    /// #         let serving = scope.spawn(|| server.serve_forever());
    /// #         let response = (|| {
    /// #             let mut stream = std::net::TcpStream::connect(server.server_address())?;
    /// #             stream.write_all(request.as_bytes())?;
    /// #             let mut response = String::new();
    /// #             stream.read_to_string(&mut response)?;
    /// #             Ok(response)
    /// #         })();
    /// #         server.shutdown();
    /// #         serving.join().unwrap()?;
    /// #         response
    /// #     })
    /// # }
    /// use gateway::simple_server::{demo_app, Request, ServerBuilder, WsgiRequestHandler};
    /// use gateway::Environ;
    ///
    /// /// Keeps the header names exactly as the client spelled them.
    /// struct RawNames;
    ///
    /// impl WsgiRequestHandler for RawNames {
    ///     fn get_environ(&self, request: &Request<'_>, mut environ: Environ) -> Environ {
    ///         let names: Vec<&str> = request.headers().map(|(name, _)| name).collect();
    ///         environ.insert("X_HEADER_NAMES", names.join(","));
    ///         environ
    ///     }
    /// }
    ///
    /// let server = ServerBuilder::new().threads(1).access_log(false)
    ///     .request_handler(RawNames)
    ///     .bind("127.0.0.1", 0, demo_app)?;
    /// let response = exchange(&server, "GET / HTTP/1.0\r\nhost: a\r\nX-TOKEN:  b \r\n\r\n")?;
    /// assert!(response.contains("X_HEADER_NAMES = 'host,X-TOKEN'"));
    /// assert!(response.contains("HTTP_X_TOKEN = 'b'")); // values are trimmed
    /// # Ok::<(), std::io::Error>(())
    /// ```
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
/// # use std::io::{Read, Write};
/// # use gateway::simple_server::WsgiServer;
/// # /// Runs `server` until `request` got its whole response (the server closes after it).
/// # fn exchange(server: &WsgiServer, request: &str) -> std::io::Result<String> {
/// #     std::thread::scope(|scope| {
/// #         let serving = scope.spawn(|| server.serve_forever());
/// #         let response = (|| {
/// #             let mut stream = std::net::TcpStream::connect(server.server_address())?;
/// #             stream.write_all(request.as_bytes())?;
/// #             let mut response = String::new();
/// #             stream.read_to_string(&mut response)?;
/// #             Ok(response)
/// #         })();
/// #         server.shutdown();
/// #         serving.join().unwrap()?;
/// #         response
/// #     })
/// # }
/// use gateway::simple_server::{demo_app, ServerBuilder};
///
/// let server = ServerBuilder::new().threads(1).access_log(false)
///     .request_handler(BehindProxy)
///     .bind("127.0.0.1", 0, demo_app)?;
/// let response = exchange(&server, "GET / HTTP/1.0\r\nX-Forwarded-Proto: https\r\n\r\n")?;
/// assert!(response.contains("HTTPS = 'on'"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait WsgiRequestHandler: Send + Sync + 'static {
    /// `get_environ()`: the environ of a request. `environ` is the one the server built
    /// (see the module docs); return it, changed or not.
    ///
    /// ```
    /// # use std::io::{Read, Write};
    /// # use gateway::simple_server::WsgiServer;
    /// # /// Runs `server` until `request` got its whole response (the server closes after it).
    /// # fn exchange(server: &WsgiServer, request: &str) -> std::io::Result<String> {
    /// #     std::thread::scope(|scope| {
    /// #         let serving = scope.spawn(|| server.serve_forever());
    /// #         let response = (|| {
    /// #             let mut stream = std::net::TcpStream::connect(server.server_address())?;
    /// #             stream.write_all(request.as_bytes())?;
    /// #             let mut response = String::new();
    /// #             stream.read_to_string(&mut response)?;
    /// #             Ok(response)
    /// #         })();
    /// #         server.shutdown();
    /// #         serving.join().unwrap()?;
    /// #         response
    /// #     })
    /// # }
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use gateway::simple_server::{demo_app, Request, ServerBuilder, WsgiRequestHandler};
    /// use gateway::Environ;
    ///
    /// /// Numbers the requests that come without an `X-Request-Id`.
    /// #[derive(Default)]
    /// struct RequestIds(AtomicU64);
    ///
    /// impl WsgiRequestHandler for RequestIds {
    ///     fn get_environ(&self, _request: &Request<'_>, mut environ: Environ) -> Environ {
    ///         let next = self.0.fetch_add(1, Ordering::Relaxed) + 1;
    ///         environ.set_default("HTTP_X_REQUEST_ID", next.to_string());
    ///         environ
    ///     }
    /// }
    ///
    /// let server = ServerBuilder::new().threads(1).access_log(false)
    ///     .request_handler(RequestIds::default())
    ///     .bind("127.0.0.1", 0, demo_app)?;
    /// assert!(exchange(&server, "GET / HTTP/1.0\r\n\r\n")?.contains("HTTP_X_REQUEST_ID = '1'"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn get_environ(&self, request: &Request<'_>, environ: Environ) -> Environ {
        let _ = request;
        environ
    }

    /// `get_stderr()`: where this request's `wsgi.errors` and tracebacks go; `server` is the
    /// server's stream, which keeps the access log and the server's own messages.
    ///
    /// ```
    /// # use std::io::{Read, Write};
    /// # use gateway::simple_server::WsgiServer;
    /// # /// Runs `server` until `request` got its whole response (the server closes after it).
    /// # fn exchange(server: &WsgiServer, request: &str) -> std::io::Result<String> {
    /// #     std::thread::scope(|scope| {
    /// #         let serving = scope.spawn(|| server.serve_forever());
    /// #         let response = (|| {
    /// #             let mut stream = std::net::TcpStream::connect(server.server_address())?;
    /// #             stream.write_all(request.as_bytes())?;
    /// #             let mut response = String::new();
    /// #             stream.read_to_string(&mut response)?;
    /// #             Ok(response)
    /// #         })();
    /// #         server.shutdown();
    /// #         serving.join().unwrap()?;
    /// #         response
    /// #     })
    /// # }
    /// use gateway::simple_server::{ServerBuilder, WsgiRequestHandler};
    /// use gateway::{app_fn, Body, ErrorStream, SharedBuffer};
    ///
    /// /// Keeps the apps' diagnostics apart from the server's log.
    /// struct SeparateLog(SharedBuffer);
    ///
    /// impl WsgiRequestHandler for SeparateLog {
    ///     fn get_stderr(&self, _server: &ErrorStream) -> ErrorStream {
    ///         ErrorStream::new(self.0.clone())
    ///     }
    /// }
    ///
    /// let app = app_fn(|env, sr| {
    ///     writeln!(env.errors(), "slow query")?; // wsgi.errors
    ///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    ///     Ok(Body::from("ok"))
    /// });
    /// let (server_log, app_log) = (SharedBuffer::new(), SharedBuffer::new());
    /// let server = ServerBuilder::new().threads(1)
    ///     .stderr(ErrorStream::new(server_log.clone()))
    ///     .request_handler(SeparateLog(app_log.clone()))
    ///     .bind("127.0.0.1", 0, app)?;
    /// exchange(&server, "GET / HTTP/1.0\r\n\r\n")?;
    /// assert_eq!(app_log.to_string_lossy(), "slow query\n");
    /// let server_log = server_log.to_string_lossy();
    /// assert!(server_log.contains("\"GET / HTTP/1.0\" 200") && !server_log.contains("slow query"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn get_stderr(&self, server: &ErrorStream) -> ErrorStream {
        server.clone()
    }

    /// `handle()`: runs the app for one request. Wrap it to time, authenticate or trace
    /// requests; the default just calls the app.
    ///
    /// ```
    /// use gateway::simple_server::{demo_app, WsgiRequestHandler};
    /// use gateway::test::{run_app, EnvironBuilder};
    /// use gateway::{app_fn, App, AppError, Body, Environ, StartResponse};
    ///
    /// /// Turns away requests without the right token, for every app on the server.
    /// struct RequireToken;
    ///
    /// impl WsgiRequestHandler for RequireToken {
    ///     fn handle(
    ///         &self,
    ///         app: &dyn App,
    ///         environ: &mut Environ,
    ///         sr: &mut StartResponse<'_>,
    ///     ) -> Result<Body, AppError> {
    ///         if environ.get("HTTP_AUTHORIZATION") != Some("Bearer secret") {
    ///             sr.start("401 Unauthorized", [("Content-Type", "text/plain")])?;
    ///             return Ok(Body::from("token required"));
    ///         }
    ///         app.call(environ, sr)
    ///     }
    /// }
    ///
    /// // What the server does for each request, without the server:
    /// let guarded = app_fn(|env, sr| RequireToken.handle(&demo_app, env, sr));
    /// assert_eq!(run_app(&guarded, EnvironBuilder::new().build()).status_code, 401);
    /// let with_token = EnvironBuilder::new().header("Authorization", "Bearer secret").build();
    /// assert_eq!(run_app(&guarded, with_token).status_code, 200);
    /// ```
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
pub(crate) struct Hooks {
    pub(crate) handler: Arc<dyn WsgiRequestHandler>,
    /// Installed by [`ServerBuilder::request_handler`]: without one, the default
    /// `get_environ` and `handle` (which change nothing) are not called; `get_stderr` is.
    pub(crate) custom: bool,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WsgiRequestHandler { .. }")
    }
}

/// The default [`WsgiRequestHandler`]: every hook as documented there.
///
/// ```
/// use std::io::Write;
/// use gateway::simple_server::{demo_app, DefaultRequestHandler, WsgiRequestHandler};
/// use gateway::test::{run_app, EnvironBuilder};
/// use gateway::{app_fn, ErrorStream, SharedBuffer};
///
/// let app = app_fn(|env, sr| DefaultRequestHandler.handle(&demo_app, env, sr)); // calls the app
/// assert!(run_app(&app, EnvironBuilder::new().build()).text().starts_with("Hello world!"));
///
/// let log = SharedBuffer::new();
/// writeln!(DefaultRequestHandler.get_stderr(&ErrorStream::new(log.clone())), "same stream")?;
/// assert_eq!(log.to_string_lossy(), "same stream\n");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultRequestHandler;

impl WsgiRequestHandler for DefaultRequestHandler {}

/// Serves `app` on `address` (`"127.0.0.1:8000"`, `"[::1]:8000"`) with the default
/// settings until SIGINT (Ctrl-C) or SIGTERM, then finishes the requests in flight and
/// returns: what a `main` needs ([`ServerBuilder::serve`] to configure it). Prints the URL
/// on start and "shutting down" / "stopped" on the way out.
///
/// ```no_run
/// use gateway::{app_fn, Response};
///
/// fn main() -> std::io::Result<()> {
///     gateway::serve("127.0.0.1:8000", app_fn(|_env, sr| Response::text("hello").send(sr)))
/// }
/// ```
pub fn serve(address: &str, app: impl App + 'static) -> io::Result<()> {
    ServerBuilder::new().serve(address, app)
}

/// Binds `host:port` and returns a server for `app` (`wsgiref.simple_server.make_server`).
/// Port 0 binds an ephemeral port; [`WsgiServer::server_address`] reports it.
///
/// ```
/// use gateway::simple_server::{demo_app, make_server};
///
/// let server = make_server("127.0.0.1", 0, demo_app)?;
/// let port = server.server_address().port().to_string();
/// assert!(server.base_environ().contains(&("SERVER_PORT", port.as_str())));
/// assert!(server.base_environ().contains(&("SERVER_NAME", "localhost")));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn make_server(host: &str, port: u16, app: impl App + 'static) -> io::Result<WsgiServer> {
    ServerBuilder::new().bind(host, port, app)
}

/// A bound server (`wsgiref.simple_server.WSGIServer`).
///
/// ```
/// use std::io::{Read, Write};
/// use std::time::Duration;
/// use gateway::simple_server::{demo_app, ServerBuilder};
///
/// let server = ServerBuilder::new().threads(1).access_log(false).bind("127.0.0.1", 0, demo_app)?;
/// let address = server.server_address();
/// let client = std::thread::spawn(move || -> std::io::Result<String> {
///     let mut stream = std::net::TcpStream::connect(address)?;
///     stream.write_all(b"GET /hello HTTP/1.0\r\n\r\n")?;
///     let mut response = String::new();
///     stream.read_to_string(&mut response)?;
///     Ok(response)
/// });
/// assert!(server.handle_request(Some(Duration::from_secs(10)))?);
/// let response = client.join().unwrap()?;
/// assert!(response.starts_with("HTTP/1.0 200 OK\r\n"));
/// assert!(response.contains("PATH_INFO = '/hello'"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct WsgiServer {
    shared: Arc<reactor::Shared>,
    address: SocketAddr,
    unix_path: Option<UnixPath>,
}

/// The path of a Unix socket the server bound and the file's identity (device, inode).
#[derive(Debug, Clone)]
pub(crate) struct UnixPath {
    pub(crate) path: std::path::PathBuf,
    id: (u64, u64),
}

impl UnixPath {
    /// Removes the socket file if it is still the one this server made.
    fn remove(&self) {
        use std::os::unix::fs::MetadataExt;
        if let Ok(now) = std::fs::symlink_metadata(&self.path)
            && (now.dev(), now.ino()) == self.id
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Drop for WsgiServer {
    fn drop(&mut self) {
        if let Some(path) = &self.unix_path {
            path.remove();
        }
    }
}

/// Whether something listens on the Unix socket at `path`: a non-blocking connect, so a
/// wedged server with a full backlog counts as alive instead of blocking the caller; only a
/// refused connection means a stale file.
fn socket_in_use(path: &std::path::Path) -> io::Result<bool> {
    use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
    let socket = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )?;
    match rustix::net::connect(&socket, &SocketAddrUnix::new(path)?) {
        Err(rustix::io::Errno::CONNREFUSED) | Err(rustix::io::Errno::NOENT) => Ok(false),
        Ok(()) | Err(rustix::io::Errno::AGAIN) | Err(rustix::io::Errno::INPROGRESS) => Ok(true),
        Err(e) => Err(e.into()),
    }
}

impl WsgiServer {
    /// Serves until [`shutdown`](WsgiServer::shutdown), then waits (up to the shutdown
    /// timeout) for requests in flight. Runs the reactor on the calling thread.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use gateway::simple_server::{demo_app, ServerBuilder};
    ///
    /// let server = ServerBuilder::new().threads(2).access_log(false).bind("127.0.0.1", 0, demo_app)?;
    /// std::thread::scope(|scope| {
    ///     let serving = scope.spawn(|| server.serve_forever());
    ///     let mut client = std::net::TcpStream::connect(server.server_address())?;
    ///     client.write_all(b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")?;
    ///     let mut response = String::new();
    ///     client.read_to_string(&mut response)?;
    ///     assert!(response.starts_with("HTTP/1.1 200 OK\r\n"));
    ///     server.shutdown();
    ///     serving.join().unwrap() // serve_forever returns
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn serve_forever(&self) -> io::Result<()> {
        self.shared.run_reactor()
    }

    /// Waits for one connection and answers one request on it (then closes it). `timeout`
    /// bounds the wait for the connection; `Ok(false)` when none came.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::time::Duration;
    /// use gateway::simple_server::{demo_app, ServerBuilder};
    ///
    /// let server = ServerBuilder::new().threads(1).access_log(false).bind("127.0.0.1", 0, demo_app)?;
    /// assert!(!server.handle_request(Some(Duration::from_millis(10)))?); // nobody came
    /// let mut client = std::net::TcpStream::connect(server.server_address())?;
    /// client.write_all(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")?;
    /// assert!(server.handle_request(None)?);
    /// let mut response = String::new();
    /// client.read_to_string(&mut response)?; // closed after one request, even on HTTP/1.1
    /// assert!(response.starts_with("HTTP/1.1 200 OK\r\n"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn handle_request(&self, timeout: Option<Duration>) -> io::Result<bool> {
        self.shared.serve_one(timeout)
    }

    /// Stops the server: no new connections, idle ones closed, in-flight requests finish
    /// (their responses say `Connection: close`), then `serve_forever` returns.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use gateway::simple_server::ServerBuilder;
    /// use gateway::{app_fn, Body};
    ///
    /// let app = app_fn(|_env, sr| {
    ///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    ///     Ok(Body::from("ok"))
    /// });
    /// let server = ServerBuilder::new().threads(1).access_log(false).bind("127.0.0.1", 0, app)?;
    /// std::thread::scope(|scope| {
    ///     let serving = scope.spawn(|| server.serve_forever());
    ///     let mut client = std::net::TcpStream::connect(server.server_address())?;
    ///     client.write_all(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")?;
    ///     let mut response = Vec::new();
    ///     let mut buf = [0; 1024];
    ///     while !response.ends_with(b"\r\n\r\nok") {
    ///         let n = client.read(&mut buf)?;
    ///         assert_ne!(n, 0, "the response came whole");
    ///         response.extend_from_slice(&buf[..n]);
    ///     }
    ///     // The connection is idle (keep-alive) when the server stops: it is closed.
    ///     server.shutdown();
    ///     serving.join().unwrap()?;
    ///     assert_eq!(client.read(&mut buf)?, 0);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown(&self) {
        self.shutdown_handle().shutdown();
    }

    /// A handle that can stop the server from another thread or a signal-watching thread.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use gateway::simple_server::{demo_app, ServerBuilder};
    ///
    /// let server = ServerBuilder::new().threads(1).access_log(false).bind("127.0.0.1", 0, demo_app)?;
    /// let (handle, address) = (server.shutdown_handle(), server.server_address());
    /// // Say a signal-watching thread: here it stops the server after one request.
    /// let stopper = std::thread::spawn(move || -> std::io::Result<String> {
    ///     let mut client = std::net::TcpStream::connect(address)?;
    ///     client.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
    ///     let mut response = String::new();
    ///     client.read_to_string(&mut response)?;
    ///     handle.shutdown();
    ///     Ok(response)
    /// });
    /// server.serve_forever()?; // returns once the handle was used
    /// assert!(stopper.join().unwrap()?.starts_with("HTTP/1.0 200 OK"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The bound address (with the real port when bound to port 0).
    ///
    /// ```
    /// use gateway::simple_server::{demo_app, ServerBuilder};
    ///
    /// let server = ServerBuilder::new().threads(1).bind("127.0.0.1", 0, demo_app)?;
    /// let address = server.server_address();
    /// assert_eq!(address.ip().to_string(), "127.0.0.1");
    /// assert_ne!(address.port(), 0);
    /// std::net::TcpStream::connect(address)?; // the server's listener is there
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn server_address(&self) -> SocketAddr {
        self.address
    }

    /// The path of the Unix domain socket the server listens on, when it was built by
    /// [`bind_unix`](ServerBuilder::bind_unix) (example there).
    pub fn unix_path(&self) -> Option<&std::path::Path> {
        self.unix_path.as_ref().map(|p| p.path.as_path())
    }

    /// Replaces the app for requests that start from now on.
    ///
    /// ```
    /// use gateway::simple_server::{demo_app, ServerBuilder};
    /// use gateway::test::{run_app, EnvironBuilder};
    /// use gateway::{app_fn, Body};
    ///
    /// let server = ServerBuilder::new().threads(1).bind("127.0.0.1", 0, demo_app)?;
    /// server.set_app(app_fn(|_env, sr| {
    ///     sr.start("503 Service Unavailable", [("Content-Type", "text/plain")])?;
    ///     Ok(Body::from("down for maintenance"))
    /// }));
    /// let response = run_app(&*server.get_app(), EnvironBuilder::new().build());
    /// assert_eq!(response.status_code, 503);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_app(&self, app: impl App + 'static) {
        *self
            .shared
            .app
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(app);
        self.shared.app_generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The app requests run.
    ///
    /// ```
    /// use gateway::simple_server::{demo_app, ServerBuilder};
    /// use gateway::test::{run_app, EnvironBuilder};
    ///
    /// let server = ServerBuilder::new().threads(1).bind("127.0.0.1", 0, demo_app)?;
    /// let app = server.get_app(); // an `Arc<dyn App>`: call it as the server would
    /// assert!(run_app(&*app, EnvironBuilder::new().build()).text().starts_with("Hello world!"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
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
    ///
    /// ```
    /// use gateway::simple_server::{demo_app, ServerBuilder};
    ///
    /// let server = ServerBuilder::new().threads(1).bind("127.0.0.1", 0, demo_app)?;
    /// let names: Vec<&str> = server.base_environ().into_iter().map(|(name, _)| name).collect();
    /// assert_eq!(names, [
    ///     "SERVER_NAME", "GATEWAY_INTERFACE", "SERVER_PORT", "REMOTE_HOST",
    ///     "CONTENT_LENGTH", "SCRIPT_NAME", "SERVER_SOFTWARE",
    /// ]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn base_environ(&self) -> Vec<(&'static str, &str)> {
        self.shared
            .settings
            .base_environ
            .iter()
            .map(|(key, value)| (*key, value.as_str()))
            .collect()
    }

    /// How many connections the reactor holds (idle, reading a head, or closing).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use gateway::simple_server::{demo_app, ServerBuilder};
    ///
    /// let server = ServerBuilder::new().threads(1).access_log(false).bind("127.0.0.1", 0, demo_app)?;
    /// assert_eq!(server.parked_connections(), 0);
    /// std::thread::scope(|scope| {
    ///     let serving = scope.spawn(|| server.serve_forever());
    ///     let _idle = std::net::TcpStream::connect(server.server_address())?; // sends nothing
    ///     let deadline = Instant::now() + Duration::from_secs(10);
    ///     while server.parked_connections() == 0 && Instant::now() < deadline {
    ///         std::thread::sleep(Duration::from_millis(1));
    ///     }
    ///     assert_eq!(server.parked_connections(), 1); // accepted, waiting for a head
    ///     server.shutdown();
    ///     serving.join().unwrap()
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn parked_connections(&self) -> usize {
        self.shared.parked_count()
    }
}

/// Stops a [`WsgiServer`] from anywhere: cloneable, `Send` and `Sync`.
///
/// ```
/// use gateway::simple_server::{demo_app, ServerBuilder};
///
/// let server = ServerBuilder::new().threads(1).bind("127.0.0.1", 0, demo_app)?;
/// let handle = server.shutdown_handle();
/// let for_signals = handle.clone(); // every clone stops the same server
/// std::thread::spawn(move || for_signals.shutdown()).join().unwrap();
/// server.serve_forever()?; // already stopped: returns at once
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    shared: Arc<reactor::Shared>,
}

impl ShutdownHandle {
    /// See [`WsgiServer::shutdown`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use gateway::simple_server::{demo_app, ServerBuilder};
    ///
    /// let server = ServerBuilder::new().threads(1).bind("127.0.0.1", 0, demo_app)?;
    /// let handle = server.shutdown_handle();
    /// std::thread::spawn(move || {
    ///     std::thread::sleep(Duration::from_millis(20)); // serving by now, most likely
    ///     handle.shutdown();
    /// });
    /// server.serve_forever()?; // returns after the handle stopped it
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown(&self) {
        self.shared.shutdown.store(true, Ordering::Release);
        self.shared.wake_all();
    }
}
