//! `wsgiref.handlers`: the one PEP 3333 protocol engine, shared by CGI and the HTTP server.
//!
//! [`BaseHandler`] drives an [`App`] through a request: it builds the environ, calls the app
//! with `start_response`, sends the status and headers with the first non-empty body chunk
//! (or at the end), adds `Content-Length` to a single-chunk body, turns an error or a panic
//! into a logged traceback and a 500 page (if nothing was sent yet), and closes the body on
//! every path. Transports implement a handful of I/O hooks ([`SimpleHandler`] over any
//! streams, [`BaseCgiHandler`], [`CgiHandler`], [`IisCgiHandler`]; the HTTP server adds its
//! HTTP/1.1 framing through the same hooks).
//!
//! Deliberate differences from the reference:
//! - the process environment is **not** copied into request environs ([`BaseHandler::os_environ`]
//!   is empty by default; the CGI handlers never used it);
//! - headers go out with the first *non-empty* chunk, as PEP 3333 asks (the reference also
//!   sends them on an empty one);
//! - response headers are validated in every build, including hop-by-hop names;
//! - a status must start with three ASCII digits (the reference accepts any Unicode digit).
//!
//! ```
//! use gateway::handlers::{BaseHandler, SimpleHandler};
//! use gateway::{app_fn, Body, ErrorStream, Input};
//!
//! let app = app_fn(|_env, sr| {
//!     sr.start("200 OK", [("Content-Type", "text/plain")])?;
//!     Ok(Body::from("hi"))
//! });
//! let mut handler = SimpleHandler::new(
//!     Input::empty(),
//!     Vec::new(),
//!     ErrorStream::sink(),
//!     [("SERVER_PROTOCOL", "HTTP/1.0"), ("REQUEST_METHOD", "GET")],
//! );
//! handler.run(&app);
//! let out = String::from_utf8(handler.into_stdout()).unwrap();
//! assert!(out.starts_with("HTTP/1.0 200 OK\r\nDate: "));
//! assert!(out.ends_with("\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"));
//! ```

mod cgi;
mod date;
mod failure;
mod simple;

use std::io;

use crate::util::{FileWrapper, guess_scheme, is_hop_by_hop};
use crate::{
    App, AppError, Body, Environ, ErrorStream, HeaderError, Headers, Input, ResponseSink,
    StartResponse, StartResponseError, validate_status,
};

pub use cgi::{CgiHandler, IisCgiHandler, iis_path_info_fix, read_environ, read_environ_from};
pub use date::format_date_time;
pub use failure::Failure;
pub use simple::{BaseCgiHandler, InvalidHttpVersion, SimpleHandler};

pub(crate) use date::{http_date_now, with_http_date_now};
pub(crate) use failure::{catch, is_disconnect_kind};

/// The default `error_status`.
///
/// ```
/// use gateway::{app_fn, AppError, Body};
/// use gateway::handlers::ERROR_STATUS;
/// use gateway::test::{run_app, EnvironBuilder};
///
/// let failing = app_fn(|_env, _sr| -> Result<Body, AppError> { Err("oops".into()) });
/// assert_eq!(run_app(&failing, EnvironBuilder::new().build()).status, ERROR_STATUS);
/// ```
pub const ERROR_STATUS: &str = "500 Internal Server Error";
/// The default `error_body` (59 bytes, two spaces after the first period, as in the reference).
///
/// ```
/// use gateway::{app_fn, AppError, Body};
/// use gateway::handlers::ERROR_BODY;
/// use gateway::test::{run_app, EnvironBuilder};
///
/// let failing = app_fn(|_env, _sr| -> Result<Body, AppError> { Err("oops".into()) });
/// let response = run_app(&failing, EnvironBuilder::new().build());
/// assert_eq!((response.body.as_slice(), ERROR_BODY.len()), (ERROR_BODY, 59));
/// ```
pub const ERROR_BODY: &[u8] = b"A server error occurred.  Please contact the administrator.";

/// The per-request state of a [`BaseHandler`] (the reference's `status`, `headers`,
/// `headers_sent`, `bytes_sent` and the length of `result`).
///
/// ```
/// use gateway::handlers::{BaseHandler, SimpleHandler};
/// use gateway::{ErrorStream, Headers, Input};
///
/// let mut handler = SimpleHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")]);
/// handler.handle_start_response("201 Created", Headers::from_pairs([("X", "y")]), None)?;
/// let state = handler.state();
/// assert_eq!((state.status.as_deref(), state.status_code), (Some("201 Created"), 201));
/// assert_eq!((state.headers_sent, state.bytes_sent), (false, 0));
/// # Ok::<(), gateway::AppError>(())
/// ```
#[derive(Debug, Default)]
pub struct HandlerState {
    /// The status given to `start_response`.
    pub status: Option<String>,
    /// Its three-digit code (0 until `start_response`).
    pub status_code: u16,
    /// The headers given to `start_response` (the handler adds to them).
    pub headers: Option<Headers>,
    /// True once the status and headers were written.
    pub headers_sent: bool,
    /// Body bytes sent so far.
    pub bytes_sent: u64,
    /// `len(result)`: the body's chunk count while it is being sent, when known.
    pub result_len: Option<usize>,
    /// False for an HTTP/0.9 client (no status line or headers in origin mode).
    pub client_is_modern: bool,
    /// True once a write failed because the client went away.
    pub client_gone: bool,
}

impl HandlerState {
    /// Clears everything for the next request (the reference's `close()` reset).
    ///
    /// ```
    /// use gateway::handlers::HandlerState;
    ///
    /// let mut state = HandlerState { status_code: 200, headers_sent: true, ..HandlerState::default() };
    /// state.reset();
    /// assert_eq!((state.status_code, state.headers_sent, state.status), (0, false, None));
    /// ```
    pub fn reset(&mut self) {
        // The status text and headers go on to this thread's next response (see `spare`).
        crate::spare::give_back(self.status.take(), self.headers.take());
        *self = HandlerState::default();
    }
}

/// How a [`BaseHandler::run`] ended.
///
/// ```
/// use std::io;
/// use gateway::handlers::{BaseHandler, Outcome, SimpleHandler};
/// use gateway::{app_fn, Body, ErrorStream, Input};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// /// A client that hung up.
/// struct HungUp;
/// impl io::Write for HungUp {
///     fn write(&mut self, _: &[u8]) -> io::Result<usize> { Err(io::ErrorKind::BrokenPipe.into()) }
///     fn flush(&mut self) -> io::Result<()> { Ok(()) }
/// }
///
/// let app = app_fn(|_env, sr| {
///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
///     Ok(Body::try_from_iter([Ok("first chunk"), Err("then a failure".into())]))
/// });
/// assert_eq!(run_app(&app, EnvironBuilder::new().build()).outcome, Outcome::Truncated);
/// let mut handler = SimpleHandler::new(Input::empty(), HungUp, ErrorStream::sink(), [("A", "b")]);
/// assert_eq!(handler.run(&app).outcome, Outcome::ClientGone);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// A whole response was sent (the app's, or the error page after a logged failure).
    Complete,
    /// The app failed after output had started: the failure was logged and the response is
    /// cut short, so the transport must close the connection.
    Truncated,
    /// The client went away; nothing was logged.
    ClientGone,
}

/// What [`BaseHandler::run`] hands back: how it ended, and the environ (with `wsgi.input`,
/// so a transport can drain what the app left unread).
///
/// ```
/// use std::io::Read;
/// use gateway::handlers::{BaseHandler, Outcome, SimpleHandler};
/// use gateway::{app_fn, Body, ErrorStream, Input};
///
/// let app = app_fn(|_env, sr| {
///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
///     Ok(Body::from("ignored your upload"))
/// });
/// let stdin = Input::from_bytes("unread body");
/// let base = [("REQUEST_METHOD", "POST")];
/// let mut handler = SimpleHandler::new(stdin, Vec::new(), ErrorStream::sink(), base);
/// let mut finished = handler.run(&app);
/// assert_eq!(finished.outcome, Outcome::Complete);
/// let mut rest = String::new();
/// finished.environ.input().read_to_string(&mut rest)?;
/// assert_eq!(rest, "unread body");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct RunOutcome {
    /// How the request ended.
    pub outcome: Outcome,
    /// The request's environ after the app ran.
    pub environ: Environ,
}

/// [`BaseHandler::run`] after its `reset` and `setup_environ`: runs the app on an environ the
/// caller owns and prepared, with the handler's state fresh or reset (this does not reset it).
/// The server builds each request's environ in place and runs it through here, so the environ
/// (a few hundred bytes) is not moved from builder to engine.
pub(crate) fn run_on<H: BaseHandler>(
    handler: &mut H,
    app: &dyn App,
    environ: &mut Environ,
) -> Outcome {
    handler.state_mut().client_is_modern = !environ
        .get("SERVER_PROTOCOL")
        .is_some_and(|p| p.eq_ignore_ascii_case("HTTP/0.9"));
    let called = catch(|| {
        let mut sink = Sink(&mut *handler);
        let mut start_response = StartResponse::new(&mut sink);
        app.call(environ, &mut start_response)
    });
    let finished = match called {
        Ok(Ok(body)) => handler.finish_response(body),
        Ok(Err(error)) => Err(Failure::Error(error)),
        Err(panic) => Err(panic),
    };
    match finished {
        Ok(()) => Outcome::Complete,
        Err(failure) => handler.handle_error(failure, environ),
    }
}

/// The PEP 3333 protocol engine (`wsgiref.handlers.BaseHandler`).
///
/// Implement the required I/O hooks and keep a [`HandlerState`]; every other hook has the
/// reference's default and can be overridden. [`run`](BaseHandler::run) is the one method a
/// transport calls.
///
/// | reference | here |
/// |---|---|
/// | `_write`, `_flush` | [`write_raw`](BaseHandler::write_raw), [`flush_raw`](BaseHandler::flush_raw) |
/// | `get_stdin`, `get_stderr`, `add_cgi_vars` | same names |
/// | `wsgi_multithread`, `wsgi_multiprocess`, `wsgi_run_once` | same names |
/// | `os_environ`, `server_software`, `get_scheme`, `setup_environ` | same names |
/// | `log_exception`, `traceback_limit`, `error_output` | same names |
/// | `error_status`, `error_headers`, `error_body` | same names |
/// | `wsgi_file_wrapper`, `sendfile`, `origin_server`, `http_version` | same names |
/// | `cleanup_headers`, `send_preamble`, `send_headers`, `finish_content`, `close` | same names |
///
/// A transport of your own: a gateway that collects the response in memory, with its own
/// error page.
///
/// ```
/// use std::io;
/// use gateway::handlers::{BaseHandler, HandlerState, Outcome};
/// use gateway::{app_fn, AppError, Body, Environ, ErrorStream, Input, SharedBuffer};
///
/// #[derive(Default)]
/// struct Memory {
///     state: HandlerState,
///     out: Vec<u8>,
///     log: SharedBuffer,
/// }
///
/// impl BaseHandler for Memory {
///     fn state(&self) -> &HandlerState { &self.state }
///     fn state_mut(&mut self) -> &mut HandlerState { &mut self.state }
///     fn write_raw(&mut self, data: &[u8]) -> io::Result<()> {
///         self.out.extend_from_slice(data);
///         Ok(())
///     }
///     fn flush_raw(&mut self) -> io::Result<()> { Ok(()) }
///     fn get_stdin(&mut self) -> Input { Input::empty() }
///     fn get_stderr(&mut self) -> ErrorStream { ErrorStream::new(self.log.clone()) }
///     fn add_cgi_vars(&mut self, environ: &mut Environ) {
///         environ.insert("REQUEST_METHOD", "GET");
///     }
///     fn origin_server(&self) -> bool { false } // a `Status:` line, as CGI does
///     fn error_body(&self) -> &[u8] { b"sorry" }
/// }
///
/// let failing = app_fn(|_env, _sr| -> Result<Body, AppError> { Err("no database".into()) });
/// let mut handler = Memory::default();
/// let finished = handler.run(&failing);
/// assert_eq!(finished.outcome, Outcome::Complete); // the error page was sent
/// assert!(handler.out.starts_with(b"Status: 500 Internal Server Error\r\n"));
/// assert!(handler.out.ends_with(b"\r\n\r\nsorry"));
/// assert!(handler.log.to_string_lossy().contains("no database"));
/// ```
pub trait BaseHandler {
    // ---- state -------------------------------------------------------------------------

    /// The per-request state.
    ///
    /// ```
    /// use gateway::handlers::{BaseHandler, SimpleHandler};
    /// use gateway::{ErrorStream, Headers, Input};
    ///
    /// let mut handler = SimpleHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")]);
    /// handler.handle_start_response("204 No Content", Ok(Headers::new()), None)?;
    /// assert_eq!(handler.state().status_code, 204);
    /// handler.state_mut().reset();
    /// assert_eq!(handler.state().status, None);
    /// # Ok::<(), gateway::AppError>(())
    /// ```
    fn state(&self) -> &HandlerState;
    /// The per-request state, mutable (example at [`state`](BaseHandler::state)).
    fn state_mut(&mut self) -> &mut HandlerState;

    // ---- required I/O hooks ---------------------------------------------------------------

    /// `_write(data)`: buffer or send bytes to the client, all of them.
    ///
    /// ```
    /// use gateway::handlers::{BaseHandler, SimpleHandler};
    /// use gateway::{ErrorStream, Input};
    ///
    /// let mut handler = SimpleHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")]);
    /// handler.write_raw(b"raw bytes")?; // SimpleHandler writes to its stdout
    /// handler.flush_raw()?;
    /// assert_eq!(handler.stdout(), b"raw bytes");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn write_raw(&mut self, data: &[u8]) -> io::Result<()>;
    /// `_flush()`: push buffered bytes to the client (example at
    /// [`write_raw`](BaseHandler::write_raw)).
    fn flush_raw(&mut self) -> io::Result<()>;
    /// `get_stdin()`: the request body stream for `wsgi.input`.
    ///
    /// ```
    /// use std::io::Read;
    /// use gateway::handlers::{BaseHandler, SimpleHandler};
    /// use gateway::{ErrorStream, Input};
    ///
    /// let stdin = Input::from_bytes("body");
    /// let mut handler = SimpleHandler::new(stdin, Vec::new(), ErrorStream::sink(), [("A", "b")]);
    /// let mut body = String::new();
    /// handler.get_stdin().read_to_string(&mut body)?;
    /// assert_eq!(body, "body");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn get_stdin(&mut self) -> Input;
    /// `get_stderr()`: the stream for `wsgi.errors` and for the handler's own error log.
    ///
    /// ```
    /// use std::io::Write;
    /// use gateway::handlers::{BaseHandler, SimpleHandler};
    /// use gateway::{ErrorStream, Input, SharedBuffer};
    ///
    /// let log = SharedBuffer::new();
    /// let stderr = ErrorStream::new(log.clone());
    /// let mut handler = SimpleHandler::new(Input::empty(), Vec::new(), stderr, [("A", "b")]);
    /// writeln!(handler.get_stderr(), "one")?;
    /// writeln!(handler.setup_environ().errors(), "two")?; // wsgi.errors is the same stream
    /// assert_eq!(log.to_string_lossy(), "one\ntwo\n");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn get_stderr(&mut self) -> ErrorStream;
    /// `add_cgi_vars()`: put the request's CGI variables into the environ.
    ///
    /// ```
    /// use gateway::handlers::{BaseHandler, SimpleHandler};
    /// use gateway::{Environ, ErrorStream, Input};
    ///
    /// let base = [("REQUEST_METHOD", "GET"), ("PATH_INFO", "/")];
    /// let mut handler = SimpleHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), base);
    /// let mut environ = Environ::new();
    /// handler.add_cgi_vars(&mut environ); // SimpleHandler adds its base environ
    /// assert_eq!(environ.iter().collect::<Vec<_>>(), base);
    /// ```
    fn add_cgi_vars(&mut self, environ: &mut Environ);

    // ---- overridable settings -------------------------------------------------------------

    /// `wsgi.multithread` (reference default: true; example at
    /// [`setup_environ`](BaseHandler::setup_environ)).
    fn wsgi_multithread(&self) -> bool {
        true
    }
    /// `wsgi.multiprocess` (reference default: true; example at
    /// [`setup_environ`](BaseHandler::setup_environ)).
    fn wsgi_multiprocess(&self) -> bool {
        true
    }
    /// `wsgi.run_once` (reference default: false; example at
    /// [`setup_environ`](BaseHandler::setup_environ)).
    fn wsgi_run_once(&self) -> bool {
        false
    }
    /// Variables copied into every environ before [`add_cgi_vars`](BaseHandler::add_cgi_vars).
    /// Empty by default: unlike the reference, gateway never leaks the process environment
    /// into requests (example at [`setup_environ`](BaseHandler::setup_environ)).
    fn os_environ(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    /// `server_software`: in origin mode, the `Server` header and `SERVER_SOFTWARE` (examples
    /// at [`setup_environ`](BaseHandler::setup_environ) and
    /// [`send_preamble`](BaseHandler::send_preamble)).
    fn server_software(&self) -> Option<&str> {
        None
    }
    /// `get_scheme()`: the `wsgi.url_scheme` (from `HTTPS`, by [`guess_scheme`]; example at
    /// [`setup_environ`](BaseHandler::setup_environ)).
    fn get_scheme(&self, environ: &Environ) -> String {
        guess_scheme(environ).to_owned()
    }
    /// `traceback_limit`: how many backtrace frames [`log_exception`](BaseHandler::log_exception)
    /// writes (`None`: all; `Some(0)`: only the final message line; example there).
    fn traceback_limit(&self) -> Option<usize> {
        None
    }
    /// `error_status`: the status of the error page (example at
    /// [`error_output`](BaseHandler::error_output)).
    fn error_status(&self) -> &str {
        ERROR_STATUS
    }
    /// `error_headers`: the headers of the error page (example at
    /// [`error_output`](BaseHandler::error_output)).
    fn error_headers(&self) -> Vec<(String, String)> {
        vec![("Content-Type".to_owned(), "text/plain".to_owned())]
    }
    /// `error_body`: the body of the error page (no internals, ever) (example at
    /// [`error_output`](BaseHandler::error_output)).
    fn error_body(&self) -> &[u8] {
        ERROR_BODY
    }
    /// `wsgi_file_wrapper`: whether `wsgi.file_wrapper` is offered and
    /// [`sendfile`](BaseHandler::sendfile) is tried for [`FileWrapper`] bodies (examples at
    /// [`setup_environ`](BaseHandler::setup_environ) and [`sendfile`](BaseHandler::sendfile)).
    fn wsgi_file_wrapper(&self) -> bool {
        true
    }
    /// `origin_server`: true for an HTTP server (status line, `Date`, `Server`), false for a
    /// CGI-style gateway (`Status:` header; example at
    /// [`send_preamble`](BaseHandler::send_preamble)).
    fn origin_server(&self) -> bool {
        true
    }
    /// `http_version`: the version written in the status line (example at
    /// [`send_preamble`](BaseHandler::send_preamble)).
    fn http_version(&self) -> &str {
        "1.0"
    }

    // ---- overridable steps ------------------------------------------------------------------

    /// `setup_environ()`: `os_environ`, then `add_cgi_vars`, then the `wsgi.*` entries.
    ///
    /// ```
    /// # use std::io;
    /// # use gateway::handlers::{BaseHandler, HandlerState};
    /// # use gateway::{Environ, ErrorStream, Input, SharedBuffer};
    /// /// A CGI-like gateway behind TLS.
    /// #[derive(Default)]
    /// struct Gateway { state: HandlerState, out: Vec<u8>, log: SharedBuffer }
    ///
    /// impl BaseHandler for Gateway {
    ///     fn os_environ(&self) -> Vec<(String, String)> {
    ///         vec![("GATEWAY_INTERFACE".into(), "CGI/1.1".into())]
    ///     }
    ///     fn get_scheme(&self, _environ: &Environ) -> String { "https".into() }
    ///     fn wsgi_multithread(&self) -> bool { false }
    ///     fn wsgi_run_once(&self) -> bool { true }
    ///     fn server_software(&self) -> Option<&str> { Some("gateway-demo/1.0") }
    ///     // (the required hooks, as in the trait's example)
    /// #     fn state(&self) -> &HandlerState { &self.state }
    /// #     fn state_mut(&mut self) -> &mut HandlerState { &mut self.state }
    /// #     fn write_raw(&mut self, data: &[u8]) -> io::Result<()> { self.out.extend_from_slice(data); Ok(()) }
    /// #     fn flush_raw(&mut self) -> io::Result<()> { Ok(()) }
    /// #     fn get_stdin(&mut self) -> Input { Input::empty() }
    /// #     fn get_stderr(&mut self) -> ErrorStream { ErrorStream::new(self.log.clone()) }
    /// #     fn add_cgi_vars(&mut self, _environ: &mut Environ) {}
    /// }
    ///
    /// let environ = Gateway::default().setup_environ();
    /// assert_eq!(environ.get("GATEWAY_INTERFACE"), Some("CGI/1.1"));
    /// assert_eq!(environ.get("SERVER_SOFTWARE"), Some("gateway-demo/1.0"));
    /// assert_eq!(environ.url_scheme(), "https");
    /// assert_eq!((environ.multithread(), environ.run_once()), (false, true));
    /// assert!(environ.multiprocess() && environ.file_wrapper()); // the defaults
    /// ```
    fn setup_environ(&mut self) -> Environ {
        let mut environ = Environ::new();
        environ.extend(self.os_environ());
        self.add_cgi_vars(&mut environ);
        let stdin = self.get_stdin();
        environ.set_input(stdin);
        let stderr = self.get_stderr();
        environ.set_errors(stderr);
        let scheme = self.get_scheme(&environ);
        environ.set_url_scheme(scheme);
        environ.set_run_once(self.wsgi_run_once());
        environ.set_multithread(self.wsgi_multithread());
        environ.set_multiprocess(self.wsgi_multiprocess());
        environ.set_file_wrapper(self.wsgi_file_wrapper());
        if self.origin_server()
            && let Some(software) = self.server_software()
        {
            let software = software.to_owned();
            environ.set_default("SERVER_SOFTWARE", software);
        }
        environ
    }

    /// `log_exception()`: writes the failure and its backtrace (limited by
    /// [`traceback_limit`](BaseHandler::traceback_limit)) to [`get_stderr`](BaseHandler::get_stderr).
    ///
    /// ```
    /// # use std::io;
    /// # use gateway::handlers::{BaseHandler, HandlerState};
    /// # use gateway::{Environ, ErrorStream, Input, SharedBuffer};
    /// use gateway::{app_fn, AppError, Body};
    ///
    /// #[derive(Default)]
    /// struct Quiet { state: HandlerState, out: Vec<u8>, log: SharedBuffer }
    ///
    /// impl BaseHandler for Quiet {
    ///     fn traceback_limit(&self) -> Option<usize> { Some(0) } // the message line only
    ///     // (the required hooks, as in the trait's example)
    /// #     fn state(&self) -> &HandlerState { &self.state }
    /// #     fn state_mut(&mut self) -> &mut HandlerState { &mut self.state }
    /// #     fn write_raw(&mut self, data: &[u8]) -> io::Result<()> { self.out.extend_from_slice(data); Ok(()) }
    /// #     fn flush_raw(&mut self) -> io::Result<()> { Ok(()) }
    /// #     fn get_stdin(&mut self) -> Input { Input::empty() }
    /// #     fn get_stderr(&mut self) -> ErrorStream { ErrorStream::new(self.log.clone()) }
    /// #     fn add_cgi_vars(&mut self, _environ: &mut Environ) {}
    /// }
    ///
    /// let failing = app_fn(|_env, _sr| -> Result<Body, AppError> { Err("no database".into()) });
    /// let mut handler = Quiet::default();
    /// handler.run(&failing); // calls log_exception
    /// assert_eq!(handler.log.to_string_lossy(), "Error: no database\n");
    /// ```
    fn log_exception(&mut self, failure: &Failure) {
        let limit = self.traceback_limit();
        let mut stderr = self.get_stderr();
        let mut report = Vec::new();
        // Writing into a Vec cannot fail.
        let _ = failure.write_report(&mut report, limit);
        let _ = io::Write::write_all(&mut stderr, &report);
        let _ = io::Write::flush(&mut stderr);
    }

    /// `error_output()`: the error page. The default calls `start_response` with exc_info (so
    /// it replaces whatever the app had set) with [`error_status`](BaseHandler::error_status)
    /// and [`error_headers`](BaseHandler::error_headers), and returns
    /// [`error_body`](BaseHandler::error_body).
    ///
    /// ```
    /// # use std::io;
    /// # use gateway::handlers::{BaseHandler, HandlerState};
    /// # use gateway::{Environ, ErrorStream, Input, SharedBuffer};
    /// use gateway::{app_fn, AppError, Body};
    ///
    /// #[derive(Default)]
    /// struct Branded { state: HandlerState, out: Vec<u8>, log: SharedBuffer }
    ///
    /// impl BaseHandler for Branded {
    ///     fn error_status(&self) -> &str { "503 Service Unavailable" }
    ///     fn error_headers(&self) -> Vec<(String, String)> {
    ///         vec![("Content-Type".into(), "text/html".into()), ("Retry-After".into(), "60".into())]
    ///     }
    ///     fn error_body(&self) -> &[u8] { b"<h1>Back soon</h1>" }
    ///     // (the required hooks, as in the trait's example)
    /// #     fn state(&self) -> &HandlerState { &self.state }
    /// #     fn state_mut(&mut self) -> &mut HandlerState { &mut self.state }
    /// #     fn write_raw(&mut self, data: &[u8]) -> io::Result<()> { self.out.extend_from_slice(data); Ok(()) }
    /// #     fn flush_raw(&mut self) -> io::Result<()> { Ok(()) }
    /// #     fn get_stdin(&mut self) -> Input { Input::empty() }
    /// #     fn get_stderr(&mut self) -> ErrorStream { ErrorStream::new(self.log.clone()) }
    /// #     fn add_cgi_vars(&mut self, _environ: &mut Environ) {}
    /// }
    ///
    /// let failing = app_fn(|_env, _sr| -> Result<Body, AppError> { Err("no database".into()) });
    /// let mut handler = Branded::default();
    /// handler.run(&failing);
    /// let out = String::from_utf8(handler.out).unwrap();
    /// assert!(out.starts_with("HTTP/1.0 503 Service Unavailable\r\n"));
    /// assert!(out.contains("\r\nRetry-After: 60\r\n"));
    /// assert!(out.ends_with("\r\n\r\n<h1>Back soon</h1>"));
    /// ```
    fn error_output(&mut self, _environ: &mut Environ) -> Result<Body, AppError> {
        let status = self.error_status().to_owned();
        let headers = Headers::from_pairs(self.error_headers());
        let body = self.error_body().to_vec();
        self.handle_start_response(&status, headers, Some("error page".into()))?;
        Ok(Body::once(body))
    }

    /// `sendfile()`: send a [`FileWrapper`] body directly and return `Ok(true)`, or return
    /// `Ok(false)` to have it iterated. An override must send the headers itself
    /// ([`send_headers`](BaseHandler::send_headers)) if they are not out yet.
    ///
    /// ```
    /// # use std::io;
    /// # use gateway::handlers::{BaseHandler, HandlerState};
    /// # use gateway::{Environ, ErrorStream, Input, SharedBuffer};
    /// use gateway::util::FileWrapper;
    /// use gateway::{app_fn, Body};
    ///
    /// #[derive(Default)]
    /// struct Fast { state: HandlerState, out: Vec<u8>, log: SharedBuffer, sent_directly: bool }
    ///
    /// impl BaseHandler for Fast {
    ///     fn sendfile(&mut self, wrapper: &mut FileWrapper) -> io::Result<bool> {
    ///         if !self.state().headers_sent {
    ///             self.send_headers()?;
    ///         }
    ///         // A server would hand `wrapper.as_file()` to sendfile(2); this one copies.
    ///         while let Some(block) = wrapper.read_block()? {
    ///             self.write_raw(&block)?;
    ///         }
    ///         self.sent_directly = true;
    ///         Ok(true)
    ///     }
    ///     // (the required hooks, as in the trait's example)
    /// #     fn state(&self) -> &HandlerState { &self.state }
    /// #     fn state_mut(&mut self) -> &mut HandlerState { &mut self.state }
    /// #     fn write_raw(&mut self, data: &[u8]) -> io::Result<()> { self.out.extend_from_slice(data); Ok(()) }
    /// #     fn flush_raw(&mut self) -> io::Result<()> { Ok(()) }
    /// #     fn get_stdin(&mut self) -> Input { Input::empty() }
    /// #     fn get_stderr(&mut self) -> ErrorStream { ErrorStream::new(self.log.clone()) }
    /// #     fn add_cgi_vars(&mut self, _environ: &mut Environ) {}
    /// }
    ///
    /// let app = app_fn(|_env, sr| {
    ///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    ///     Ok(Body::file(FileWrapper::new(&b"file data"[..], 4)))
    /// });
    /// let mut handler = Fast::default();
    /// handler.run(&app);
    /// assert!(handler.sent_directly);
    /// assert!(handler.out.ends_with(b"\r\n\r\nfile data"));
    /// ```
    fn sendfile(&mut self, _wrapper: &mut FileWrapper) -> io::Result<bool> {
        Ok(false)
    }

    /// `cleanup_headers()`: adjusts the headers just before they are sent. The default adds
    /// `Content-Length` when the body is a single known chunk
    /// ([`set_content_length`](BaseHandler::set_content_length)).
    ///
    /// ```
    /// # use std::io;
    /// # use gateway::handlers::{BaseHandler, HandlerState};
    /// # use gateway::{Environ, ErrorStream, Input, SharedBuffer};
    /// use gateway::{app_fn, Body};
    ///
    /// #[derive(Default)]
    /// struct Tagged { state: HandlerState, out: Vec<u8>, log: SharedBuffer }
    ///
    /// impl BaseHandler for Tagged {
    ///     fn cleanup_headers(&mut self) {
    ///         self.set_content_length(); // what the default does (it checks for one first)
    ///         if let Some(headers) = self.state_mut().headers.as_mut() {
    ///             headers.set("X-Served-By", "tagged").unwrap();
    ///         }
    ///     }
    ///     // (the required hooks, as in the trait's example)
    /// #     fn state(&self) -> &HandlerState { &self.state }
    /// #     fn state_mut(&mut self) -> &mut HandlerState { &mut self.state }
    /// #     fn write_raw(&mut self, data: &[u8]) -> io::Result<()> { self.out.extend_from_slice(data); Ok(()) }
    /// #     fn flush_raw(&mut self) -> io::Result<()> { Ok(()) }
    /// #     fn get_stdin(&mut self) -> Input { Input::empty() }
    /// #     fn get_stderr(&mut self) -> ErrorStream { ErrorStream::new(self.log.clone()) }
    /// #     fn add_cgi_vars(&mut self, _environ: &mut Environ) {}
    /// }
    ///
    /// let app = app_fn(|_env, sr| {
    ///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    ///     Ok(Body::from("hi"))
    /// });
    /// let mut handler = Tagged::default();
    /// handler.run(&app);
    /// assert!(handler.out.ends_with(b"Content-Length: 2\r\nX-Served-By: tagged\r\n\r\nhi"));
    /// ```
    fn cleanup_headers(&mut self) {
        let has_length = self
            .state()
            .headers
            .as_ref()
            .is_some_and(|h| h.contains("Content-Length"));
        if !has_length {
            self.set_content_length();
        }
    }

    /// `set_content_length()`: when the body has exactly one chunk, its length is the whole
    /// body, so `Content-Length` is set to it.
    ///
    /// ```
    /// use gateway::{app_fn, Body};
    /// use gateway::test::{run_app, EnvironBuilder};
    ///
    /// let app = app_fn(|env, sr| {
    ///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    ///     Ok(match env.get("PATH_INFO") {
    ///         Some("/one") => Body::once("one chunk"),
    ///         _ => Body::from_iter(["two ", "chunks"]), // length unknown until sent
    ///     })
    /// });
    /// let one = run_app(&app, EnvironBuilder::new().path("/one").build());
    /// assert_eq!(one.header("Content-Length"), Some("9"));
    /// let two = run_app(&app, EnvironBuilder::new().path("/two").build());
    /// assert_eq!(two.header("Content-Length"), None);
    /// ```
    fn set_content_length(&mut self) {
        let state = self.state_mut();
        if state.result_len == Some(1) {
            let length = state.bytes_sent.to_string();
            if let Some(headers) = state.headers.as_mut() {
                // A decimal number is always a valid header value.
                let _ = headers.set("Content-Length", length);
            }
        }
    }

    /// `send_preamble()`: in origin mode the status line, then `Date` and `Server` unless the
    /// app set them; in CGI mode a `Status:` line. Appends to `out`.
    ///
    /// ```
    /// use gateway::handlers::{BaseCgiHandler, BaseHandler, SimpleHandler};
    /// use gateway::{ErrorStream, Headers, Input};
    ///
    /// let mut origin = SimpleHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")])
    ///     .with_http_version("1.1")?
    ///     .with_server_software("demo/1.0")?;
    /// let headers = Headers::from_pairs([("Date", "Mon, 05 Jun 2006 18:49:54 GMT")]);
    /// origin.handle_start_response("200 OK", headers, None)?;
    /// let mut out = Vec::new();
    /// origin.send_preamble(&mut out); // Date is the app's, so only Server is added
    /// assert_eq!(out, b"HTTP/1.1 200 OK\r\nServer: demo/1.0\r\n");
    ///
    /// let mut cgi = BaseCgiHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")]);
    /// cgi.handle_start_response("404 Not Found", Ok(Headers::new()), None)?;
    /// let mut out = Vec::new();
    /// cgi.send_preamble(&mut out);
    /// assert_eq!(out, b"Status: 404 Not Found\r\n");
    /// # Ok::<(), gateway::AppError>(())
    /// ```
    fn send_preamble(&mut self, out: &mut Vec<u8>) {
        let origin = self.origin_server();
        let state = self.state();
        let status = state.status.as_deref().unwrap_or(ERROR_STATUS);
        let headers = state.headers.as_ref();
        let has = |name: &str| headers.is_some_and(|h| h.contains(name));
        if origin {
            out.extend_from_slice(b"HTTP/");
            out.extend_from_slice(self.http_version().as_bytes());
            out.push(b' ');
            crate::latin1::push_validated(status, out);
            out.extend_from_slice(b"\r\n");
            if !has("Date") {
                out.extend_from_slice(b"Date: ");
                with_http_date_now(|date| out.extend_from_slice(date.as_bytes()));
                out.extend_from_slice(b"\r\n");
            }
            if let Some(software) = self.server_software()
                && !has("Server")
            {
                out.extend_from_slice(b"Server: ");
                crate::latin1::push_validated(software, out);
                out.extend_from_slice(b"\r\n");
            }
        } else {
            out.extend_from_slice(b"Status: ");
            crate::latin1::push_validated(status, out);
            out.extend_from_slice(b"\r\n");
        }
    }

    /// `send_headers()`: cleans up the headers, marks them sent and writes the preamble and
    /// header block (nothing for an HTTP/0.9 client in origin mode).
    ///
    /// ```
    /// # use gateway::handlers::{BaseCgiHandler, BaseHandler};
    /// # use gateway::{ErrorStream, Headers, Input};
    /// # let mut handler = BaseCgiHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")]);
    /// let headers = Headers::from_pairs([("Content-Type", "text/plain")]);
    /// handler.handle_start_response("200 OK", headers, None)?;
    /// handler.send_headers()?;
    /// assert!(handler.state().headers_sent);
    /// assert_eq!(handler.stdout(), b"Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n");
    /// # Ok::<(), gateway::AppError>(())
    /// ```
    fn send_headers(&mut self) -> io::Result<()> {
        self.cleanup_headers();
        self.state_mut().headers_sent = true;
        if !self.origin_server() || self.state().client_is_modern {
            let mut head = Vec::with_capacity(256);
            self.send_preamble(&mut head);
            if let Some(headers) = self.state().headers.as_ref() {
                headers.write_to(&mut head);
            } else {
                head.extend_from_slice(b"\r\n");
            }
            self.write_raw(&head)?;
        }
        Ok(())
    }

    /// Writes one body chunk after the headers. The default writes it as is; an HTTP/1.1
    /// transport frames it (chunked) or drops it (HEAD).
    ///
    /// ```
    /// # use std::io;
    /// # use gateway::handlers::{BaseHandler, HandlerState};
    /// # use gateway::{Environ, ErrorStream, Input, SharedBuffer};
    /// use gateway::{app_fn, Body};
    ///
    /// #[derive(Default)]
    /// struct Chunked { state: HandlerState, out: Vec<u8>, log: SharedBuffer }
    ///
    /// impl BaseHandler for Chunked {
    ///     fn write_body(&mut self, data: &[u8]) -> io::Result<()> {
    ///         self.write_raw(format!("{:x}\r\n", data.len()).as_bytes())?;
    ///         self.write_raw(data)?;
    ///         self.write_raw(b"\r\n")
    ///     }
    ///     fn finish_body(&mut self) -> io::Result<()> {
    ///         self.write_raw(b"0\r\n\r\n")
    ///     }
    ///     // (the required hooks, as in the trait's example)
    /// #     fn state(&self) -> &HandlerState { &self.state }
    /// #     fn state_mut(&mut self) -> &mut HandlerState { &mut self.state }
    /// #     fn write_raw(&mut self, data: &[u8]) -> io::Result<()> { self.out.extend_from_slice(data); Ok(()) }
    /// #     fn flush_raw(&mut self) -> io::Result<()> { Ok(()) }
    /// #     fn get_stdin(&mut self) -> Input { Input::empty() }
    /// #     fn get_stderr(&mut self) -> ErrorStream { ErrorStream::new(self.log.clone()) }
    /// #     fn add_cgi_vars(&mut self, _environ: &mut Environ) {}
    /// }
    ///
    /// let app = app_fn(|_env, sr| {
    ///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    ///     Ok(Body::from_iter(["ab", "cdefghijklmnop"]))
    /// });
    /// let mut handler = Chunked::default();
    /// handler.run(&app);
    /// assert!(handler.out.ends_with(b"\r\n\r\n2\r\nab\r\ne\r\ncdefghijklmnop\r\n0\r\n\r\n"));
    /// ```
    fn write_body(&mut self, data: &[u8]) -> io::Result<()> {
        self.write_raw(data)
    }

    /// Ends the body after the last chunk (an HTTP/1.1 transport writes the last chunk here;
    /// example at [`write_body`](BaseHandler::write_body)).
    fn finish_body(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// `finish_content()`: if nothing was sent, send the headers with `Content-Length: 0`
    /// (an app-supplied Content-Length, as for HEAD, is kept).
    ///
    /// ```
    /// use gateway::{app_fn, Body};
    /// use gateway::test::{run_app, EnvironBuilder};
    ///
    /// let app = app_fn(|env, sr| {
    ///     if env.get("REQUEST_METHOD") == Some("HEAD") {
    ///         sr.start("200 OK", [("Content-Length", "1234")])?;
    ///     } else {
    ///         sr.start("200 OK", [("Content-Type", "text/plain")])?;
    ///     }
    ///     Ok(Body::empty())
    /// });
    /// assert_eq!(run_app(&app, EnvironBuilder::new().build()).header("Content-Length"), Some("0"));
    /// let head = run_app(&app, EnvironBuilder::new().method("HEAD").build());
    /// assert_eq!(head.header("Content-Length"), Some("1234"));
    /// ```
    fn finish_content(&mut self) -> io::Result<()> {
        if !self.state().headers_sent {
            if let Some(headers) = self.state_mut().headers.as_mut() {
                let _ = headers.setdefault("Content-Length", "0");
            }
            self.send_headers()?;
        }
        self.finish_body()?;
        self.flush_raw()
    }

    /// `close()`: the request is over; resets the state. A server override logs the access
    /// line here first.
    ///
    /// ```
    /// # use std::io;
    /// # use gateway::handlers::{BaseHandler, HandlerState};
    /// # use gateway::{Environ, ErrorStream, Input, SharedBuffer};
    /// use std::io::Write;
    /// use gateway::{app_fn, Body};
    ///
    /// #[derive(Default)]
    /// struct Logged { state: HandlerState, out: Vec<u8>, log: SharedBuffer }
    ///
    /// impl BaseHandler for Logged {
    ///     fn close(&mut self) {
    ///         let state = self.state();
    ///         let line = format!("{} {}\n", state.status_code, state.bytes_sent);
    ///         let _ = self.log.write_all(line.as_bytes());
    ///         self.state_mut().reset(); // what the default does
    ///     }
    ///     // (the required hooks, as in the trait's example)
    /// #     fn state(&self) -> &HandlerState { &self.state }
    /// #     fn state_mut(&mut self) -> &mut HandlerState { &mut self.state }
    /// #     fn write_raw(&mut self, data: &[u8]) -> io::Result<()> { self.out.extend_from_slice(data); Ok(()) }
    /// #     fn flush_raw(&mut self) -> io::Result<()> { Ok(()) }
    /// #     fn get_stdin(&mut self) -> Input { Input::empty() }
    /// #     fn get_stderr(&mut self) -> ErrorStream { ErrorStream::new(self.log.clone()) }
    /// #     fn add_cgi_vars(&mut self, _environ: &mut Environ) {}
    /// }
    ///
    /// let app = app_fn(|_env, sr| {
    ///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    ///     Ok(Body::from("hello"))
    /// });
    /// let mut handler = Logged::default();
    /// handler.run(&app);
    /// assert_eq!(handler.log.to_string_lossy(), "200 5\n");
    /// assert_eq!(handler.state().status, None);
    /// ```
    fn close(&mut self) {
        self.state_mut().reset();
    }

    // ---- the engine -------------------------------------------------------------------------

    /// `run(app)`: runs one request through the app. Never panics because of the app, and never
    /// returns the app's error: failures are logged and answered, disconnects end quietly.
    ///
    /// ```
    /// use gateway::handlers::{BaseCgiHandler, BaseHandler, Outcome};
    /// use gateway::{app_fn, AppError, Body, ErrorStream, Input, SharedBuffer};
    ///
    /// let panicking = app_fn(|_env, _sr| -> Result<Body, AppError> { panic!("bug in the app") });
    /// let log = SharedBuffer::new();
    /// let stderr = ErrorStream::new(log.clone());
    /// let mut handler = BaseCgiHandler::new(Input::empty(), Vec::new(), stderr, [("A", "b")]);
    /// let finished = handler.run(&panicking);
    /// assert_eq!(finished.outcome, Outcome::Complete); // the 500 page went out
    /// assert!(handler.stdout().starts_with(b"Status: 500 Internal Server Error\r\n"));
    /// assert!(log.to_string_lossy().contains("Panic: bug in the app"));
    /// ```
    fn run(&mut self, app: &dyn App) -> RunOutcome
    where
        Self: Sized,
    {
        self.state_mut().reset();
        let mut environ = self.setup_environ();
        let outcome = run_on(self, app, &mut environ);
        RunOutcome { outcome, environ }
    }

    /// `finish_response()`: sends the body (or has [`sendfile`](BaseHandler::sendfile) send it),
    /// then [`finish_content`](BaseHandler::finish_content); closes the body on every path and,
    /// on success, the handler.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// use gateway::Body;
    ///
    /// # use gateway::handlers::{BaseCgiHandler, BaseHandler};
    /// # use gateway::{ErrorStream, Headers, Input};
    /// # let mut handler = BaseCgiHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")]);
    /// let closed = Arc::new(AtomicBool::new(false));
    /// let flag = closed.clone();
    /// handler.handle_start_response("200 OK", Headers::from_pairs([("A", "b")]), None)?;
    /// let body = Body::from("hi").on_close(move || flag.store(true, Ordering::SeqCst));
    /// assert!(handler.finish_response(body).is_ok());
    /// assert_eq!(handler.stdout(), b"Status: 200 OK\r\nA: b\r\nContent-Length: 2\r\n\r\nhi");
    /// assert!(closed.load(Ordering::SeqCst));
    /// assert_eq!(handler.state().status, None); // the handler was closed too
    /// # Ok::<(), gateway::AppError>(())
    /// ```
    fn finish_response(&mut self, mut body: Body) -> Result<(), Failure>
    where
        Self: Sized,
    {
        self.state_mut().result_len = body.chunk_count();
        let sent = catch(|| -> Result<(), AppError> {
            let mut done = false;
            if self.wsgi_file_wrapper()
                && let Some(wrapper) = body.file_wrapper_mut()
            {
                if self.state().status.is_none() {
                    return Err(StartResponseError::BodyBeforeStartResponse.into());
                }
                done = self.sendfile(wrapper).map_err(|e| self.io_failed(e))?;
            }
            if !done {
                for chunk in body.by_ref() {
                    let chunk = chunk?;
                    if self.state().status.is_none() {
                        return Err(StartResponseError::BodyBeforeStartResponse.into());
                    }
                    self.write_chunk(&chunk)?;
                }
            }
            // An empty body without start_response: there is no status to send.
            if self.state().status.is_none() {
                return Err(StartResponseError::BodyBeforeStartResponse.into());
            }
            if done {
                // The reference skips finish_content after a successful sendfile(): the
                // override sent the headers itself. The body still ends and is flushed.
                self.finish_body().map_err(|e| self.io_failed(e))?;
                self.flush_raw().map_err(|e| self.io_failed(e))?;
            } else {
                self.finish_content().map_err(|e| self.io_failed(e))?;
            }
            Ok(())
        });
        let closed = catch(|| body.close());
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(Failure::Error(error)),
            Err(panic) => return Err(panic),
        }
        closed?;
        self.close();
        Ok(())
    }

    /// `write(data)`: the body of the `write()` callable and of body iteration. Headers go out
    /// with the first non-empty chunk; every chunk is flushed, so streamed bodies stream.
    ///
    /// ```
    /// # use gateway::handlers::{BaseCgiHandler, BaseHandler};
    /// # use gateway::{ErrorStream, Headers, Input};
    /// # let mut handler = BaseCgiHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")]);
    /// assert!(handler.write_chunk(b"early").is_err()); // no start_response yet
    /// handler.handle_start_response("200 OK", Headers::from_pairs([("A", "b")]), None)?;
    /// handler.write_chunk(b"")?;
    /// assert!(!handler.state().headers_sent); // an empty chunk sends nothing
    /// handler.write_chunk(b"data")?;
    /// assert_eq!(handler.stdout(), b"Status: 200 OK\r\nA: b\r\n\r\ndata");
    /// # Ok::<(), gateway::AppError>(())
    /// ```
    fn write_chunk(&mut self, data: &[u8]) -> Result<(), AppError> {
        if self.state().status.is_none() {
            return Err(StartResponseError::WriteBeforeStartResponse.into());
        }
        if data.is_empty() {
            return Ok(());
        }
        if !self.state().headers_sent {
            self.state_mut().bytes_sent = data.len() as u64;
            self.send_headers().map_err(|e| self.io_failed(e))?;
        } else {
            self.state_mut().bytes_sent += data.len() as u64;
        }
        self.write_body(data).map_err(|e| self.io_failed(e))?;
        self.flush_raw().map_err(|e| self.io_failed(e))
    }

    /// Records an I/O failure towards the client (marking a disconnect) and converts it.
    ///
    /// ```
    /// # use gateway::handlers::{BaseCgiHandler, BaseHandler};
    /// # use gateway::{ErrorStream, Input};
    /// # let mut handler = BaseCgiHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")]);
    /// use std::io;
    ///
    /// let error = handler.io_failed(io::Error::other("disk trouble"));
    /// assert!(!handler.state().client_gone);
    /// assert_eq!(error.to_string(), "disk trouble");
    /// handler.io_failed(io::ErrorKind::ConnectionReset.into());
    /// assert!(handler.state().client_gone);
    /// ```
    fn io_failed(&mut self, error: io::Error) -> AppError {
        if is_disconnect_kind(error.kind()) {
            self.state_mut().client_gone = true;
        }
        Box::new(error)
    }

    /// `handle_error()`: logs the failure, then sends the error page if no header was sent,
    /// or leaves the response cut short if one was. A disconnect ends quietly.
    ///
    /// ```
    /// use gateway::handlers::{Failure, Outcome};
    /// use gateway::{AppError, Environ};
    ///
    /// # use gateway::handlers::{BaseCgiHandler, BaseHandler};
    /// # use gateway::{ErrorStream, Headers, Input};
    /// # let mut handler = BaseCgiHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")]);
    /// let mut environ = Environ::new();
    /// let outcome = handler.handle_error(Failure::from(AppError::from("boom")), &mut environ);
    /// assert_eq!(outcome, Outcome::Complete); // nothing was sent: the error page went out
    /// assert!(handler.stdout().starts_with(b"Status: 500 Internal Server Error\r\n"));
    ///
    /// handler.handle_start_response("200 OK", Ok(Headers::new()), None).unwrap();
    /// handler.write_chunk(b"partial").unwrap();
    /// let outcome = handler.handle_error(Failure::from(AppError::from("boom")), &mut environ);
    /// assert_eq!(outcome, Outcome::Truncated);
    /// ```
    fn handle_error(&mut self, failure: Failure, environ: &mut Environ) -> Outcome
    where
        Self: Sized,
    {
        if self.state().client_gone || failure.is_disconnect() {
            return Outcome::ClientGone;
        }
        // An HttpError is an answer, not a crash: a 4xx is one log line, and the client gets
        // its status and message instead of the 500 page.
        let http = match &failure {
            Failure::Error(error) => error.downcast_ref::<crate::HttpError>(),
            Failure::Panic { .. } => None,
        };
        match http {
            Some(http) if !http.status().is_server_error() => {
                let line = format!("gateway: answered {http}\n");
                let _ = io::Write::write_all(&mut self.get_stderr(), line.as_bytes());
            }
            _ => self.log_safely(&failure),
        }
        if self.state().headers_sent {
            return Outcome::Truncated;
        }
        // error_output is the handler's own code; a failure here is a bug in an override.
        let page = match http {
            Some(http) => {
                let (status, headers, body) = http.response(environ);
                catch(|| {
                    self.handle_start_response(status.as_str(), Ok(headers), Some("error".into()))
                        .map(|()| body)
                })
            }
            None => catch(|| self.error_output(environ)),
        };
        let page = match page {
            Ok(Ok(body)) => body,
            Ok(Err(error)) => return self.give_up(Failure::Error(error)),
            Err(panic) => return self.give_up(panic),
        };
        match self.finish_response(page) {
            Ok(()) => Outcome::Complete,
            Err(failure) if self.state().client_gone || failure.is_disconnect() => {
                Outcome::ClientGone
            }
            Err(failure) => self.give_up(failure),
        }
    }

    /// [`log_exception`](BaseHandler::log_exception), guarded: an error whose `Display`
    /// panics (or a panicking override) must not take the handler down with it.
    #[doc(hidden)]
    fn log_safely(&mut self, failure: &Failure) {
        if catch(|| self.log_exception(failure)).is_err() {
            let mut stderr = self.get_stderr();
            let _ = io::Write::write_all(
                &mut stderr,
                b"gateway: logging an app failure panicked (its Display implementation?)\n",
            );
        }
    }

    /// The error page itself failed: log that too and close.
    #[doc(hidden)]
    fn give_up(&mut self, failure: Failure) -> Outcome {
        self.log_safely(&failure);
        self.close();
        Outcome::Truncated
    }

    /// `start_response` as the engine implements it (see [`StartResponse::start_response`]).
    ///
    /// ```
    /// # use gateway::handlers::{BaseCgiHandler, BaseHandler};
    /// # use gateway::{ErrorStream, Headers, Input};
    /// # let mut handler = BaseCgiHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")]);
    /// let headers = Headers::from_pairs([("Content-Type", "text/plain")]);
    /// handler.handle_start_response("200 OK", headers, None)?;
    /// assert_eq!(handler.state().status_code, 200);
    /// // A second call needs exc_info; hop-by-hop headers are refused.
    /// assert!(handler.handle_start_response("500 Oops", Ok(Headers::new()), None).is_err());
    /// let hop = Headers::from_pairs([("Upgrade", "h2c")]);
    /// assert!(handler.handle_start_response("200 OK", hop, Some("retry".into())).is_err());
    /// # Ok::<(), gateway::AppError>(())
    /// ```
    fn handle_start_response(
        &mut self,
        status: &str,
        headers: Result<Headers, HeaderError>,
        exc_info: Option<AppError>,
    ) -> Result<(), AppError> {
        match exc_info {
            Some(exc_info) => {
                if self.state().headers_sent {
                    // Re-raise: the app propagates its own error with `?`.
                    return Err(exc_info);
                }
            }
            None => {
                if let Some(previous) = &self.state().status {
                    return Err(StartResponseError::HeadersAlreadySet {
                        status: previous.clone(),
                    }
                    .into());
                }
            }
        }
        let headers = headers.map_err(StartResponseError::InvalidHeader)?;
        let code = validate_status(status)?;
        if let Some((name, value)) = headers.iter().find(|(name, _)| is_hop_by_hop(name)) {
            return Err(StartResponseError::HopByHop {
                name: name.to_owned(),
                value: value.to_owned(),
            }
            .into());
        }
        let state = self.state_mut();
        state.status = Some(crate::spare::status(status));
        state.status_code = code;
        state.headers = Some(headers);
        Ok(())
    }
}

/// The bridge from [`StartResponse`] to the handler.
struct Sink<'h, H: BaseHandler + ?Sized>(&'h mut H);

impl<H: BaseHandler + ?Sized> ResponseSink for Sink<'_, H> {
    fn start_response(
        &mut self,
        status: &str,
        headers: Result<Headers, HeaderError>,
        exc_info: Option<AppError>,
    ) -> Result<(), AppError> {
        self.0.handle_start_response(status, headers, exc_info)
    }

    fn write(&mut self, data: &[u8]) -> Result<(), AppError> {
        self.0.write_chunk(data)
    }
}
