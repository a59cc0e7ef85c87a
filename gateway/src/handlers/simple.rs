//! `SimpleHandler` and `BaseCGIHandler`: the engine over explicitly given streams.

use std::fmt;
use std::io::{self, Write};

use super::{BaseHandler, HandlerState};
use crate::{Environ, ErrorStream, HeaderError, Input};

/// Runs an app over given streams, as an HTTP origin server would answer
/// (`wsgiref.handlers.SimpleHandler(stdin, stdout, stderr, environ, multithread, multiprocess)`).
///
/// `environ` holds the base CGI variables copied into every request; `wsgi.multithread`
/// defaults to true and `wsgi.multiprocess` to false, as in the reference. The output is
/// written to `stdout` in full ([`Write::write_all`]), so partial writes never lose bytes.
///
/// ```
/// use gateway::handlers::{BaseHandler, SimpleHandler};
/// use gateway::{app_fn, Body, ErrorStream, Input};
///
/// let app = app_fn(|_env, sr| {
///     sr.start("200 OK", [("Content-Type", "text/plain"), ("Date", "Mon, 05 Jun 2006 18:49:54 GMT")])?;
///     Ok(Body::from("Hello, world!"))
/// });
/// let mut handler = SimpleHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("SERVER_PROTOCOL", "HTTP/1.0")])
///     .with_server_software("WSGIServer/0.2")?;
/// handler.run(&app);
/// assert_eq!(
///     handler.into_stdout(),
///     b"HTTP/1.0 200 OK\r\nServer: WSGIServer/0.2\r\nContent-Type: text/plain\r\n\
///       Date: Mon, 05 Jun 2006 18:49:54 GMT\r\nContent-Length: 13\r\n\r\nHello, world!"
/// );
/// # Ok::<(), gateway::HeaderError>(())
/// ```
pub struct SimpleHandler<W: Write> {
    state: HandlerState,
    stdin: Option<Input>,
    stdout: W,
    stderr: ErrorStream,
    base_env: Vec<(String, String)>,
    multithread: bool,
    multiprocess: bool,
    run_once: bool,
    origin_server: bool,
    server_software: Option<String>,
    http_version: String,
    traceback_limit: Option<usize>,
}

impl<W: Write> SimpleHandler<W> {
    /// A handler reading the body from `stdin`, writing the response to `stdout` and errors to
    /// `stderr`, with `environ` as the base CGI variables. Multithread true, multiprocess false.
    ///
    /// ```
    /// use gateway::handlers::{BaseHandler, SimpleHandler};
    /// use gateway::{ErrorStream, Input};
    ///
    /// let base = [("SERVER_PROTOCOL", "HTTP/1.0"), ("PATH_INFO", "/docs")];
    /// let mut handler = SimpleHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), base);
    /// let environ = handler.setup_environ();
    /// assert_eq!(environ.get("PATH_INFO"), Some("/docs"));
    /// assert!(environ.multithread() && !environ.multiprocess());
    /// ```
    pub fn new<I, K, V>(stdin: Input, stdout: W, stderr: ErrorStream, environ: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        SimpleHandler {
            state: HandlerState::default(),
            stdin: Some(stdin),
            stdout,
            stderr,
            base_env: environ
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            multithread: true,
            multiprocess: false,
            run_once: false,
            origin_server: true,
            server_software: None,
            http_version: "1.0".to_owned(),
            traceback_limit: None,
        }
    }

    /// Sets `wsgi.multithread` and `wsgi.multiprocess` (the reference's constructor arguments).
    ///
    /// ```
    /// use gateway::handlers::{BaseHandler, SimpleHandler};
    /// use gateway::{ErrorStream, Input};
    ///
    /// let mut handler = SimpleHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")])
    ///     .with_flags(false, true);
    /// let environ = handler.setup_environ();
    /// assert_eq!((environ.multithread(), environ.multiprocess()), (false, true));
    /// ```
    pub fn with_flags(mut self, multithread: bool, multiprocess: bool) -> Self {
        self.multithread = multithread;
        self.multiprocess = multiprocess;
        self
    }

    /// Sets `wsgi.run_once`.
    ///
    /// ```
    /// use gateway::handlers::{BaseHandler, SimpleHandler};
    /// use gateway::{ErrorStream, Input};
    ///
    /// let mut handler = SimpleHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")])
    ///     .with_run_once(true);
    /// assert!(handler.setup_environ().run_once());
    /// ```
    pub fn with_run_once(mut self, run_once: bool) -> Self {
        self.run_once = run_once;
        self
    }

    /// Sets `server_software` (the `Server` header and `SERVER_SOFTWARE` in origin mode).
    /// It goes on the wire, so it must be a valid header value.
    ///
    /// ```
    /// use gateway::handlers::SimpleHandler;
    /// use gateway::{ErrorStream, Input};
    ///
    /// let handler = SimpleHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")]);
    /// assert!(handler.with_server_software("Srv\r\nSet-Cookie: evil=1").is_err());
    /// ```
    pub fn with_server_software(
        mut self,
        software: impl Into<String>,
    ) -> Result<Self, HeaderError> {
        let software = software.into();
        crate::headers::check_value("Server", &software)?;
        self.server_software = Some(software);
        Ok(self)
    }

    /// Sets the HTTP version written in the status line (default `"1.0"`): `"1.0"` or `"1.1"`.
    ///
    /// ```
    /// use gateway::handlers::{BaseHandler, SimpleHandler};
    /// use gateway::{ErrorStream, Input};
    /// # use gateway::{app_fn, Body};
    /// # let app = app_fn(|_env, sr| {
    /// #     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    /// #     Ok(Body::from("hi"))
    /// # });
    ///
    /// let handler = SimpleHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")]);
    /// let mut handler = handler.with_http_version("1.1")?;
    /// handler.run(&app);
    /// assert!(handler.into_stdout().starts_with(b"HTTP/1.1 200 OK\r\n"));
    /// let handler = SimpleHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")]);
    /// assert_eq!(handler.with_http_version("2").unwrap_err().version, "2");
    /// # Ok::<(), gateway::handlers::InvalidHttpVersion>(())
    /// ```
    pub fn with_http_version(
        mut self,
        version: impl Into<String>,
    ) -> Result<Self, InvalidHttpVersion> {
        let version = version.into();
        if !matches!(version.as_str(), "1.0" | "1.1") {
            return Err(InvalidHttpVersion { version });
        }
        self.http_version = version;
        Ok(self)
    }

    /// Sets `traceback_limit`.
    ///
    /// ```
    /// use gateway::handlers::{BaseHandler, SimpleHandler};
    /// use gateway::{app_fn, AppError, Body, ErrorStream, Input, SharedBuffer};
    ///
    /// let failing = app_fn(|_env, _sr| -> Result<Body, AppError> { Err("no database".into()) });
    /// let log = SharedBuffer::new();
    /// let stderr = ErrorStream::new(log.clone());
    /// let mut handler = SimpleHandler::new(Input::empty(), Vec::new(), stderr, [("A", "b")])
    ///     .with_traceback_limit(Some(0));
    /// handler.run(&failing);
    /// assert_eq!(log.to_string_lossy(), "Error: no database\n"); // no traceback lines
    /// ```
    pub fn with_traceback_limit(mut self, limit: Option<usize>) -> Self {
        self.traceback_limit = limit;
        self
    }

    /// Gives a fresh request body for the next [`run`](BaseHandler::run).
    ///
    /// ```
    /// use std::io::Read;
    /// use gateway::handlers::{BaseHandler, SimpleHandler};
    /// use gateway::{app_fn, Body, ErrorStream, Input};
    ///
    /// let echo = app_fn(|env, sr| {
    ///     let mut body = Vec::new();
    ///     env.input().read_to_end(&mut body)?;
    ///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    ///     Ok(Body::from(body))
    /// });
    /// let stdin = Input::from_bytes("one");
    /// let mut handler = SimpleHandler::new(stdin, Vec::new(), ErrorStream::sink(), [("A", "b")]);
    /// handler.run(&echo);
    /// assert!(handler.stdout().ends_with(b"\r\n\r\none"));
    /// handler.set_stdin(Input::from_bytes("two"));
    /// handler.run(&echo);
    /// assert!(handler.stdout().ends_with(b"\r\n\r\ntwo"));
    /// ```
    pub fn set_stdin(&mut self, stdin: Input) {
        self.stdin = Some(stdin);
    }

    /// The output stream.
    ///
    /// ```
    /// use gateway::handlers::{BaseHandler, SimpleHandler};
    /// use gateway::{ErrorStream, Input};
    /// # use gateway::{app_fn, Body};
    /// # let app = app_fn(|_env, sr| {
    /// #     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    /// #     Ok(Body::from("hi"))
    /// # });
    ///
    /// let mut handler = SimpleHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")]);
    /// handler.run(&app);
    /// assert!(handler.stdout().ends_with(b"Content-Length: 2\r\n\r\nhi"));
    /// ```
    pub fn stdout(&self) -> &W {
        &self.stdout
    }

    /// The output stream, mutable.
    ///
    /// ```
    /// use gateway::handlers::{BaseHandler, SimpleHandler};
    /// use gateway::{ErrorStream, Input};
    /// # use gateway::{app_fn, Body};
    /// # let app = app_fn(|_env, sr| {
    /// #     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    /// #     Ok(Body::from("hi"))
    /// # });
    ///
    /// let mut handler = SimpleHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")]);
    /// handler.run(&app);
    /// let first = std::mem::take(handler.stdout_mut()); // one response out, the handler kept
    /// assert!(first.ends_with(b"\r\n\r\nhi"));
    /// assert!(handler.stdout().is_empty());
    /// ```
    pub fn stdout_mut(&mut self) -> &mut W {
        &mut self.stdout
    }

    /// Consumes the handler, returning the output stream.
    ///
    /// ```
    /// use gateway::handlers::{BaseHandler, SimpleHandler};
    /// use gateway::{ErrorStream, Input};
    /// # use gateway::{app_fn, Body};
    /// # let app = app_fn(|_env, sr| {
    /// #     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    /// #     Ok(Body::from("hi"))
    /// # });
    ///
    /// let mut handler = SimpleHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")]);
    /// handler.run(&app);
    /// let out: Vec<u8> = handler.into_stdout();
    /// assert!(out.ends_with(b"\r\n\r\nhi"));
    /// ```
    pub fn into_stdout(self) -> W {
        self.stdout
    }

    pub(crate) fn set_origin_server(&mut self, origin: bool) {
        self.origin_server = origin;
    }
}

impl<W: Write> BaseHandler for SimpleHandler<W> {
    fn state(&self) -> &HandlerState {
        &self.state
    }
    fn state_mut(&mut self) -> &mut HandlerState {
        &mut self.state
    }
    fn write_raw(&mut self, data: &[u8]) -> io::Result<()> {
        self.stdout.write_all(data)
    }
    fn flush_raw(&mut self) -> io::Result<()> {
        self.stdout.flush()
    }
    fn get_stdin(&mut self) -> Input {
        self.stdin.take().unwrap_or_else(Input::empty)
    }
    fn get_stderr(&mut self) -> ErrorStream {
        self.stderr.clone()
    }
    fn add_cgi_vars(&mut self, environ: &mut Environ) {
        environ.extend(self.base_env.iter().cloned());
    }
    fn wsgi_multithread(&self) -> bool {
        self.multithread
    }
    fn wsgi_multiprocess(&self) -> bool {
        self.multiprocess
    }
    fn wsgi_run_once(&self) -> bool {
        self.run_once
    }
    fn origin_server(&self) -> bool {
        self.origin_server
    }
    fn server_software(&self) -> Option<&str> {
        self.server_software.as_deref()
    }
    fn http_version(&self) -> &str {
        &self.http_version
    }
    fn traceback_limit(&self) -> Option<usize> {
        self.traceback_limit
    }
}

impl<W: Write> fmt::Debug for SimpleHandler<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimpleHandler")
            .field("state", &self.state)
            .field("base_env", &self.base_env)
            .field("origin_server", &self.origin_server)
            .finish_non_exhaustive()
    }
}

/// A CGI-style gateway over given streams: the response starts with a `Status:` header
/// instead of a status line (`wsgiref.handlers.BaseCGIHandler`).
///
/// ```
/// use gateway::handlers::{BaseCgiHandler, BaseHandler};
/// use gateway::{app_fn, Body, ErrorStream, Input};
///
/// let app = app_fn(|_env, sr| {
///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
///     Ok(Body::from("hi"))
/// });
/// let mut handler = BaseCgiHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), Vec::<(String, String)>::new());
/// handler.run(&app);
/// assert_eq!(handler.into_stdout(), b"Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi");
/// ```
pub struct BaseCgiHandler<W: Write> {
    inner: SimpleHandler<W>,
}

impl<W: Write> BaseCgiHandler<W> {
    /// A CGI-style handler over the given streams and base environ (multithread true,
    /// multiprocess false, as in the reference).
    ///
    /// ```
    /// use gateway::handlers::{BaseCgiHandler, BaseHandler};
    /// use gateway::{ErrorStream, Input};
    ///
    /// let base = [("PATH_INFO", "/x")];
    /// let mut handler = BaseCgiHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), base);
    /// assert!(!handler.origin_server()); // a `Status:` header, not a status line
    /// let environ = handler.setup_environ();
    /// assert_eq!(environ.get("PATH_INFO"), Some("/x"));
    /// assert!(environ.multithread() && !environ.multiprocess());
    /// ```
    pub fn new<I, K, V>(stdin: Input, stdout: W, stderr: ErrorStream, environ: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut inner = SimpleHandler::new(stdin, stdout, stderr, environ);
        inner.set_origin_server(false);
        BaseCgiHandler { inner }
    }

    /// Sets `wsgi.multithread` and `wsgi.multiprocess`.
    ///
    /// ```
    /// use gateway::handlers::{BaseCgiHandler, BaseHandler};
    /// use gateway::{ErrorStream, Input};
    ///
    /// let handler = BaseCgiHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")])
    ///     .with_flags(false, true);
    /// assert_eq!((handler.wsgi_multithread(), handler.wsgi_multiprocess()), (false, true));
    /// ```
    pub fn with_flags(mut self, multithread: bool, multiprocess: bool) -> Self {
        self.inner = self.inner.with_flags(multithread, multiprocess);
        self
    }

    /// Sets `wsgi.run_once`.
    ///
    /// ```
    /// use gateway::handlers::{BaseCgiHandler, BaseHandler};
    /// use gateway::{ErrorStream, Input};
    ///
    /// let handler = BaseCgiHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")])
    ///     .with_run_once(true);
    /// assert!(handler.wsgi_run_once());
    /// ```
    pub fn with_run_once(mut self, run_once: bool) -> Self {
        self.inner = self.inner.with_run_once(run_once);
        self
    }

    /// Sets `traceback_limit`.
    ///
    /// ```
    /// use gateway::handlers::{BaseCgiHandler, BaseHandler};
    /// use gateway::{ErrorStream, Input};
    ///
    /// let handler = BaseCgiHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")])
    ///     .with_traceback_limit(Some(5));
    /// assert_eq!(handler.traceback_limit(), Some(5));
    /// ```
    pub fn with_traceback_limit(mut self, limit: Option<usize>) -> Self {
        self.inner = self.inner.with_traceback_limit(limit);
        self
    }

    /// The output stream.
    ///
    /// ```
    /// use gateway::handlers::{BaseCgiHandler, BaseHandler};
    /// use gateway::{ErrorStream, Input};
    /// # use gateway::{app_fn, Body};
    /// # let app = app_fn(|_env, sr| {
    /// #     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    /// #     Ok(Body::from("hi"))
    /// # });
    ///
    /// let mut handler = BaseCgiHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")]);
    /// handler.run(&app);
    /// assert!(handler.stdout().starts_with(b"Status: 200 OK\r\n"));
    /// ```
    pub fn stdout(&self) -> &W {
        self.inner.stdout()
    }

    /// Consumes the handler, returning the output stream.
    ///
    /// ```
    /// use gateway::handlers::{BaseCgiHandler, BaseHandler};
    /// use gateway::{ErrorStream, Input};
    /// # use gateway::{app_fn, Body};
    /// # let app = app_fn(|_env, sr| {
    /// #     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    /// #     Ok(Body::from("hi"))
    /// # });
    ///
    /// let mut handler = BaseCgiHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")]);
    /// handler.run(&app);
    /// assert!(handler.into_stdout().ends_with(b"\r\n\r\nhi"));
    /// ```
    pub fn into_stdout(self) -> W {
        self.inner.into_stdout()
    }
}

impl<W: Write> fmt::Debug for BaseCgiHandler<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BaseCgiHandler")
            .field("inner", &self.inner)
            .finish()
    }
}

/// Implements [`BaseHandler`] for a wrapper by forwarding every hook it configures to `$field`.
macro_rules! delegate_base_handler {
    (impl<$($gen:ident: $bound:path),*> for $ty:ty, $($field:tt).+) => {
        impl<$($gen: $bound),*> $crate::handlers::BaseHandler for $ty {
            fn state(&self) -> &$crate::handlers::HandlerState {
                self.$($field).+.state()
            }
            fn state_mut(&mut self) -> &mut $crate::handlers::HandlerState {
                self.$($field).+.state_mut()
            }
            fn write_raw(&mut self, data: &[u8]) -> std::io::Result<()> {
                self.$($field).+.write_raw(data)
            }
            fn flush_raw(&mut self) -> std::io::Result<()> {
                self.$($field).+.flush_raw()
            }
            fn get_stdin(&mut self) -> $crate::Input {
                self.$($field).+.get_stdin()
            }
            fn get_stderr(&mut self) -> $crate::ErrorStream {
                self.$($field).+.get_stderr()
            }
            fn add_cgi_vars(&mut self, environ: &mut $crate::Environ) {
                self.$($field).+.add_cgi_vars(environ)
            }
            fn wsgi_multithread(&self) -> bool {
                self.$($field).+.wsgi_multithread()
            }
            fn wsgi_multiprocess(&self) -> bool {
                self.$($field).+.wsgi_multiprocess()
            }
            fn wsgi_run_once(&self) -> bool {
                self.$($field).+.wsgi_run_once()
            }
            fn origin_server(&self) -> bool {
                self.$($field).+.origin_server()
            }
            fn server_software(&self) -> Option<&str> {
                self.$($field).+.server_software()
            }
            fn http_version(&self) -> &str {
                self.$($field).+.http_version()
            }
            fn traceback_limit(&self) -> Option<usize> {
                self.$($field).+.traceback_limit()
            }
        }
    };
}

pub(crate) use delegate_base_handler;

delegate_base_handler!(impl<W: Write> for BaseCgiHandler<W>, inner);

/// [`SimpleHandler::with_http_version`] was given something other than `"1.0"` or `"1.1"`.
///
/// ```
/// use gateway::handlers::{InvalidHttpVersion, SimpleHandler};
/// use gateway::{ErrorStream, Input};
///
/// let handler = SimpleHandler::new(Input::empty(), Vec::new(), ErrorStream::sink(), [("A", "b")]);
/// let err: InvalidHttpVersion = handler.with_http_version("HTTP/2").unwrap_err();
/// assert_eq!(err.version, "HTTP/2");
/// assert!(err.to_string().contains("use \"1.0\" or \"1.1\""));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvalidHttpVersion {
    /// The rejected version.
    pub version: String,
}

impl fmt::Display for InvalidHttpVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "HTTP version {:?} cannot go in a status line: use \"1.0\" or \"1.1\"",
            self.version
        )
    }
}

impl std::error::Error for InvalidHttpVersion {}
