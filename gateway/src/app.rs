//! The application side of PEP 3333: the [`App`] trait and `start_response`.

use std::fmt;
use std::io;

use crate::{Body, Environ, HeaderError, Headers};

/// What an app (or a body chunk) fails with: any error, as Python apps raise any exception.
///
/// The handler logs it to `wsgi.errors` and answers 500 if nothing was sent yet.
///
/// ```
/// use gateway::AppError;
///
/// fn port(text: &str) -> Result<u16, AppError> {
///     Ok(text.parse::<u16>()?) // any error converts with `?`
/// }
/// assert_eq!(port("8080").unwrap(), 8080);
/// assert_eq!(port("http").unwrap_err().to_string(), "invalid digit found in string");
/// let custom: AppError = "no database".into();
/// assert_eq!(custom.to_string(), "no database");
/// ```
pub type AppError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A WSGI application: called with the environ and `start_response`, it returns the body.
///
/// Every `Fn(&mut Environ, &mut StartResponse) -> Result<Body, AppError>` that is
/// `Send + Sync` is an app; [`app_fn`] helps the compiler infer a closure's signature.
///
/// ```
/// use gateway::{App, AppError, Body, Environ, StartResponse};
///
/// struct Hello;
///
/// impl App for Hello {
///     fn call(&self, _env: &mut Environ, sr: &mut StartResponse<'_>) -> Result<Body, AppError> {
///         sr.start("200 OK", [("Content-Type", "text/plain")])?;
///         Ok(Body::from("Hello World"))
///     }
/// }
///
/// let response = gateway::test::run_app(&Hello, gateway::test::EnvironBuilder::new().build());
/// assert_eq!(response.body, b"Hello World");
/// ```
pub trait App: Send + Sync {
    /// Handles one request.
    ///
    /// Middleware is an app that calls another one:
    ///
    /// ```
    /// use gateway::{app_fn, App, AppError, Body, Environ, StartResponse};
    /// use gateway::test::{run_app, EnvironBuilder};
    ///
    /// /// Serves the wrapped app one segment down (`/api/users` reaches it as `/users`).
    /// struct Mount<A>(A);
    ///
    /// impl<A: App> App for Mount<A> {
    ///     fn call(&self, env: &mut Environ, sr: &mut StartResponse<'_>) -> Result<Body, AppError> {
    ///         gateway::util::shift_path_info(env)?;
    ///         self.0.call(env, sr)
    ///     }
    /// }
    ///
    /// let users = app_fn(|env, sr| {
    ///     let path = env.get("PATH_INFO").unwrap_or("").to_owned();
    ///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    ///     Ok(Body::from(path))
    /// });
    /// let response = run_app(&Mount(users), EnvironBuilder::new().path("/api/users").build());
    /// assert_eq!(response.body, b"/users");
    /// ```
    fn call(
        &self,
        environ: &mut Environ,
        start_response: &mut StartResponse<'_>,
    ) -> Result<Body, AppError>;
}

impl<F> App for F
where
    F: Fn(&mut Environ, &mut StartResponse<'_>) -> Result<Body, AppError> + Send + Sync,
{
    fn call(
        &self,
        environ: &mut Environ,
        start_response: &mut StartResponse<'_>,
    ) -> Result<Body, AppError> {
        self(environ, start_response)
    }
}

/// A shared app is an app: what [`WsgiServer::get_app`](crate::simple_server::WsgiServer::get_app)
/// returns goes back into `set_app`, `make_server` or a router as it is.
///
/// ```
/// use std::sync::Arc;
/// use gateway::simple_server::{demo_app, make_server};
/// use gateway::{App, Response, app_fn};
///
/// let shared: Arc<dyn App> = Arc::new(app_fn(|_env, sr| Response::text("hi").send(sr)));
/// let server = make_server("127.0.0.1", 0, Arc::clone(&shared))?;
/// server.set_app(demo_app);
/// let app = server.get_app();
/// server.set_app(app); // round-trips
/// # Ok::<(), std::io::Error>(())
/// ```
impl<A: App + ?Sized> App for std::sync::Arc<A> {
    fn call(
        &self,
        environ: &mut Environ,
        start_response: &mut StartResponse<'_>,
    ) -> Result<Body, AppError> {
        (**self).call(environ, start_response)
    }
}

/// A boxed app is an app.
///
/// Only the `dyn` forms (`Box<dyn App>`, `&dyn App`) get these impls: a box or a reference
/// to a closure is already an app through the closure impl (`Box<F>` and `&F` are `Fn`
/// too), and Rust allows one impl per type. Box or borrow a named app type as
/// `Box<dyn App>` / `&dyn App`, or share it in an `Arc`.
///
/// ```
/// use gateway::{App, Response, app_fn};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// let apps: Vec<Box<dyn App>> = vec![
///     Box::new(app_fn(|_env, sr| Response::text("one").send(sr))),
///     Box::new(gateway::simple_server::demo_app),
/// ];
/// let first: &Box<dyn App> = &apps[0];
/// assert_eq!(run_app(first, EnvironBuilder::new().build()).text(), "one");
/// let borrowed: &dyn App = &*apps[1];
/// assert!(run_app(&borrowed, EnvironBuilder::new().build()).text().starts_with("Hello world!"));
/// ```
impl App for Box<dyn App> {
    fn call(
        &self,
        environ: &mut Environ,
        start_response: &mut StartResponse<'_>,
    ) -> Result<Body, AppError> {
        (**self).call(environ, start_response)
    }
}

/// A borrowed app is an app (see the `Box<dyn App>` impl for why only the `dyn` form).
impl App for &dyn App {
    fn call(
        &self,
        environ: &mut Environ,
        start_response: &mut StartResponse<'_>,
    ) -> Result<Body, AppError> {
        (**self).call(environ, start_response)
    }
}

/// Gives a closure the exact signature of an [`App`], so its argument types need no annotation.
///
/// ```
/// use gateway::{app_fn, Body};
///
/// let app = app_fn(|env, sr| {
///     let method = env.get("REQUEST_METHOD").unwrap_or("GET").to_owned();
///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
///     Ok(Body::from(method))
/// });
/// let response = gateway::test::run_app(&app, gateway::test::EnvironBuilder::new().build());
/// assert_eq!(response.body, b"GET");
/// ```
pub fn app_fn<F>(f: F) -> F
where
    F: Fn(&mut Environ, &mut StartResponse<'_>) -> Result<Body, AppError> + Send + Sync,
{
    f
}

/// The server side of `start_response` and `write()`: implemented by the protocol engine
/// ([`handlers::BaseHandler`](crate::handlers::BaseHandler)) and by middleware that wants to
/// see or change what an app sends.
///
/// A sink that records the response, driven through a [`StartResponse`]:
///
/// ```
/// use gateway::{AppError, HeaderError, Headers, ResponseSink, StartResponse};
///
/// #[derive(Default)]
/// struct Recorder {
///     status: String,
///     headers: Headers,
///     body: Vec<u8>,
/// }
///
/// impl ResponseSink for Recorder {
///     fn start_response(
///         &mut self,
///         status: &str,
///         headers: Result<Headers, HeaderError>,
///         _exc_info: Option<AppError>,
///     ) -> Result<(), AppError> {
///         self.headers = headers?;
///         self.status = status.to_owned();
///         Ok(())
///     }
///
///     fn write(&mut self, data: &[u8]) -> Result<(), AppError> {
///         self.body.extend_from_slice(data);
///         Ok(())
///     }
/// }
///
/// let mut recorder = Recorder::default();
/// let mut start_response = StartResponse::new(&mut recorder);
/// start_response.start("201 Created", [("Location", "/items/1")])?.write(b"made")?;
/// assert_eq!(recorder.status, "201 Created");
/// assert_eq!(recorder.headers.get("location"), Some("/items/1"));
/// assert_eq!(recorder.body, b"made");
/// # Ok::<(), AppError>(())
/// ```
pub trait ResponseSink {
    /// PEP 3333 `start_response(status, headers, exc_info)`.
    ///
    /// `headers` arrives already converted; a conversion error is reported in the order the
    /// reference checks things (after the "headers already set" and exc_info rules).
    ///
    /// ```
    /// # use gateway::{AppError, HeaderError, Headers, ResponseSink, StartResponse};
    /// # #[derive(Default)]
    /// # struct Recorder { headers: Option<Result<Headers, HeaderError>>, body: Vec<u8> }
    /// # impl ResponseSink for Recorder {
    /// #     fn start_response(&mut self, _: &str, headers: Result<Headers, HeaderError>, _: Option<AppError>) -> Result<(), AppError> {
    /// #         self.headers = Some(headers);
    /// #         Ok(())
    /// #     }
    /// #     fn write(&mut self, data: &[u8]) -> Result<(), AppError> {
    /// #         self.body.extend_from_slice(data);
    /// #         Ok(())
    /// #     }
    /// # }
    /// let mut recorder = Recorder::default(); // a sink that keeps what it is given
    /// let _ = StartResponse::new(&mut recorder).start("200 OK", [("X-Evil", "a\r\nb")]);
    /// // The sink decides what a bad header means; the engine answers 500.
    /// assert!(matches!(
    ///     recorder.headers,
    ///     Some(Err(HeaderError::ControlCharacterInValue { character: '\r', .. }))
    /// ));
    /// ```
    fn start_response(
        &mut self,
        status: &str,
        headers: Result<Headers, HeaderError>,
        exc_info: Option<AppError>,
    ) -> Result<(), AppError>;

    /// PEP 3333 `write(data)`: sends the headers if they are not out yet, then `data`.
    ///
    /// Every way an app writes ends here: [`StartResponse::write`], [`Write::write`] and
    /// `write!` on a [`Write`].
    ///
    /// ```
    /// # use gateway::{AppError, HeaderError, Headers, ResponseSink, StartResponse};
    /// # #[derive(Default)]
    /// # struct Recorder { headers: Option<Result<Headers, HeaderError>>, body: Vec<u8> }
    /// # impl ResponseSink for Recorder {
    /// #     fn start_response(&mut self, _: &str, headers: Result<Headers, HeaderError>, _: Option<AppError>) -> Result<(), AppError> {
    /// #         self.headers = Some(headers);
    /// #         Ok(())
    /// #     }
    /// #     fn write(&mut self, data: &[u8]) -> Result<(), AppError> {
    /// #         self.body.extend_from_slice(data);
    /// #         Ok(())
    /// #     }
    /// # }
    /// use std::io::Write as _;
    ///
    /// let mut recorder = Recorder::default(); // a sink that keeps what it is given
    /// let mut start_response = StartResponse::new(&mut recorder);
    /// write!(start_response.start("200 OK", [("A", "b")])?, "{} + {}", 1, 2)?;
    /// start_response.write(b" = 3")?;
    /// assert_eq!(recorder.body, b"1 + 2 = 3");
    /// # Ok::<(), AppError>(())
    /// ```
    fn write(&mut self, data: &[u8]) -> Result<(), AppError>;
}

/// The `start_response` callable an [`App`] receives.
///
/// ```
/// use gateway::{app_fn, Body};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// // The write() callable: output before (or instead of) a returned body.
/// let app = app_fn(|_env, sr| {
///     let mut write = sr.start("200 OK", [("Content-Type", "text/plain")])?;
///     write.write(b"streamed ")?;
///     Ok(Body::from("then returned"))
/// });
/// let response = run_app(&app, EnvironBuilder::new().build());
/// assert_eq!(response.body, b"streamed then returned");
///
/// // exc_info: an error page can replace headers that were not sent yet.
/// let app = app_fn(|_env, sr| {
///     sr.start("200 OK", [("Content-Type", "text/html")])?;
///     let failure: gateway::AppError = "database down".into();
///     sr.start_response("503 Service Unavailable", [("Content-Type", "text/plain")], Some(failure))?;
///     Ok(Body::from("try later"))
/// });
/// let response = run_app(&app, EnvironBuilder::new().build());
/// assert_eq!(response.status, "503 Service Unavailable");
/// ```
pub struct StartResponse<'a> {
    sink: &'a mut dyn ResponseSink,
}

impl<'a> StartResponse<'a> {
    /// Wraps the server side of the conversation.
    ///
    /// Servers do this for every request; a test or a middleware can do it with its own
    /// [`ResponseSink`] (see there for a complete one).
    ///
    /// ```
    /// # use gateway::{AppError, HeaderError, Headers, ResponseSink, StartResponse};
    /// # #[derive(Default)]
    /// # struct Recorder { headers: Option<Result<Headers, HeaderError>>, body: Vec<u8> }
    /// # impl ResponseSink for Recorder {
    /// #     fn start_response(&mut self, _: &str, headers: Result<Headers, HeaderError>, _: Option<AppError>) -> Result<(), AppError> {
    /// #         self.headers = Some(headers);
    /// #         Ok(())
    /// #     }
    /// #     fn write(&mut self, data: &[u8]) -> Result<(), AppError> {
    /// #         self.body.extend_from_slice(data);
    /// #         Ok(())
    /// #     }
    /// # }
    /// let mut recorder = Recorder::default(); // a sink that keeps what it is given
    /// let mut start_response = StartResponse::new(&mut recorder);
    /// start_response.start("200 OK", [("Content-Type", "text/plain")])?;
    /// let headers = recorder.headers.unwrap()?;
    /// assert_eq!(headers.get("content-type"), Some("text/plain"));
    /// # Ok::<(), AppError>(())
    /// ```
    pub fn new(sink: &'a mut dyn ResponseSink) -> Self {
        StartResponse { sink }
    }

    /// `start_response(status, headers, exc_info)`, with PEP 3333 semantics:
    ///
    /// - without `exc_info`, a second call is an error ("headers already set");
    /// - with `exc_info` before the headers were sent, the new status and headers replace the
    ///   old ones; after they were sent, the error comes straight back (`Err(exc_info)`) for the
    ///   app to propagate with `?`, as Python re-raises it;
    /// - the status must be three digits, a space and a reason, without control characters;
    ///   header names and values must not hold control characters; hop-by-hop headers
    ///   (`Connection`, `Transfer-Encoding`, ...) belong to the server and are refused.
    ///
    /// Returns the `write()` callable.
    ///
    /// Once output has started it is too late for an error page: the error comes straight
    /// back, and the response is cut short.
    ///
    /// ```
    /// use gateway::{app_fn, Body};
    /// use gateway::handlers::Outcome;
    /// use gateway::test::{run_app, EnvironBuilder};
    ///
    /// let app = app_fn(|_env, sr| {
    ///     sr.start("200 OK", [("Content-Type", "text/plain")])?.write(b"partial")?;
    ///     let failure: gateway::AppError = "disk full".into();
    ///     sr.start_response("500 Internal Server Error", [("A", "b")], Some(failure))?;
    ///     Ok(Body::from("never sent"))
    /// });
    /// let response = run_app(&app, EnvironBuilder::new().build());
    /// assert_eq!((response.status.as_str(), response.body.as_slice()), ("200 OK", &b"partial"[..]));
    /// assert_eq!(response.outcome, Outcome::Truncated);
    /// assert!(response.errors.contains("disk full"));
    /// ```
    pub fn start_response<I, K, V>(
        &mut self,
        status: &str,
        headers: I,
        exc_info: Option<AppError>,
    ) -> Result<Write<'_, 'a>, AppError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let headers = Headers::from_pairs_in(crate::spare::headers(), headers);
        self.sink.start_response(status, headers, exc_info)?;
        Ok(Write {
            start_response: self,
        })
    }

    /// `start_response(status, headers)` without `exc_info`.
    ///
    /// ```
    /// use gateway::{app_fn, Body};
    /// use gateway::test::{run_app, EnvironBuilder};
    ///
    /// let app = app_fn(|_env, sr| {
    ///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    ///     let again = sr.start("404 Not Found", [("Content-Type", "text/plain")]);
    ///     Ok(Body::from(again.unwrap_err().to_string()))
    /// });
    /// let response = run_app(&app, EnvironBuilder::new().build());
    /// assert_eq!(response.status, "200 OK"); // the first call wins
    /// assert!(response.text().starts_with("headers already set (status \"200 OK\")"));
    /// ```
    pub fn start<I, K, V>(&mut self, status: &str, headers: I) -> Result<Write<'_, 'a>, AppError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        self.start_response(status, headers, None)
    }

    /// `start_response` with a ready-made [`Headers`].
    ///
    /// ```
    /// use gateway::{app_fn, Body, Headers};
    /// use gateway::test::{run_app, EnvironBuilder};
    ///
    /// let app = app_fn(|_env, sr| {
    ///     let mut headers = Headers::new();
    ///     headers.add_header("Content-Disposition", Some("attachment"), &[("filename", Some("a.txt"))])?;
    ///     sr.start_with_headers("200 OK", headers, None)?;
    ///     Ok(Body::from("text"))
    /// });
    /// let response = run_app(&app, EnvironBuilder::new().build());
    /// assert_eq!(response.header("content-disposition"), Some("attachment; filename=\"a.txt\""));
    /// ```
    pub fn start_with_headers(
        &mut self,
        status: &str,
        headers: Headers,
        exc_info: Option<AppError>,
    ) -> Result<Write<'_, 'a>, AppError> {
        self.sink.start_response(status, Ok(headers), exc_info)?;
        Ok(Write {
            start_response: self,
        })
    }

    /// The `write()` callable: sends `data` at once (headers first if they are not out yet).
    /// An error if `start_response` has not been called.
    ///
    /// ```
    /// use gateway::{app_fn, Body};
    /// use gateway::test::{run_app, EnvironBuilder};
    ///
    /// let app = app_fn(|_env, sr| {
    ///     let early = sr.write(b"too soon").unwrap_err();
    ///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    ///     sr.write(b"then: ")?;
    ///     Ok(Body::from(early.to_string()))
    /// });
    /// let response = run_app(&app, EnvironBuilder::new().build());
    /// assert!(response.text().starts_with("then: write() before start_response()"));
    /// ```
    pub fn write(&mut self, data: &[u8]) -> Result<(), AppError> {
        self.sink.write(data)
    }
}

impl fmt::Debug for StartResponse<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StartResponse { .. }")
    }
}

/// The `write()` callable returned by [`StartResponse::start_response`]. It is also an
/// [`io::Write`], so `write!` works.
///
/// ```
/// use std::io::Write as _;
/// use gateway::{app_fn, Body};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// let app = app_fn(|_env, sr| {
///     let mut out = sr.start("200 OK", [("Content-Type", "text/plain")])?;
///     for i in 1..=3 {
///         write!(out, "{i} ")?;
///     }
///     Ok(Body::empty())
/// });
/// assert_eq!(run_app(&app, EnvironBuilder::new().build()).body, b"1 2 3 ");
/// ```
pub struct Write<'s, 'a> {
    start_response: &'s mut StartResponse<'a>,
}

impl Write<'_, '_> {
    /// Sends `data` to the client now.
    ///
    /// ```
    /// use gateway::{app_fn, Body};
    /// use gateway::test::{run_app, EnvironBuilder};
    ///
    /// let app = app_fn(|_env, sr| {
    ///     let mut write = sr.start("200 OK", [("Content-Type", "text/plain")])?;
    ///     write.write(b"sent now, ")?;
    ///     Ok(Body::from("sent after"))
    /// });
    /// assert_eq!(run_app(&app, EnvironBuilder::new().build()).body, b"sent now, sent after");
    /// ```
    pub fn write(&mut self, data: &[u8]) -> Result<(), AppError> {
        self.start_response.write(data)
    }
}

impl io::Write for Write<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.start_response
            .write(buf)
            .map(|()| buf.len())
            .map_err(io::Error::other)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl fmt::Debug for Write<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Write { .. }")
    }
}

/// Checks a status line as `start_response` does, in release builds too: no control
/// characters, at least 4 characters, three ASCII digits, then a space (the reason phrase is
/// free, even empty). Returns the status code.
///
/// ```
/// use gateway::validate_status;
///
/// assert_eq!(validate_status("404 Not Found"), Ok(404));
/// assert!(validate_status("200").is_err());
/// assert!(validate_status("2000 OK").is_err());
/// assert!(validate_status("200 OK\r\nX: y").is_err());
/// ```
pub fn validate_status(status: &str) -> Result<u16, StartResponseError> {
    let invalid = |reason| StartResponseError::InvalidStatus {
        status: status.to_owned(),
        reason,
    };
    // Control characters are single bytes in UTF-8, so a byte scan finds them.
    let bytes = status.as_bytes();
    if bytes.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return Err(invalid("control characters are not allowed in a status"));
    }
    let ascii = status.is_ascii();
    if bytes.len() < 4 || (!ascii && status.chars().count() < 4) {
        return Err(invalid("a status must be at least 4 characters"));
    }
    if !bytes[..3].iter().all(u8::is_ascii_digit) {
        return Err(invalid("a status must begin with a 3-digit code"));
    }
    if bytes[3] != b' ' {
        return Err(invalid("a status must have a space after the code"));
    }
    if !ascii && status.chars().any(|c| u32::from(c) > 0xFF) {
        return Err(invalid("a status must be latin-1 text"));
    }
    Ok(u16::from(bytes[0] - b'0') * 100
        + u16::from(bytes[1] - b'0') * 10
        + u16::from(bytes[2] - b'0'))
}

/// How an app misused `start_response`, `write()` or its body.
///
/// The app usually passes it on with `?`; the handler then logs it and answers 500.
///
/// ```
/// use gateway::{app_fn, validate_status, Body, StartResponseError};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// assert!(matches!(validate_status("OK 200"), Err(StartResponseError::InvalidStatus { .. })));
///
/// let app = app_fn(|_env, sr| {
///     sr.start("200 OK", [("Connection", "close")])?; // the server's business
///     Ok(Body::empty())
/// });
/// let response = run_app(&app, EnvironBuilder::new().build());
/// assert_eq!(response.status_code, 500);
/// assert!(response.errors.contains("hop-by-hop header \"Connection\""));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartResponseError {
    /// `start_response` was called a second time without `exc_info`.
    HeadersAlreadySet {
        /// The status set by the first call.
        status: String,
    },
    /// The status string is malformed.
    InvalidStatus {
        /// The offending status.
        status: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A header name or value cannot go on the wire.
    InvalidHeader(HeaderError),
    /// The app set a hop-by-hop header, which only the server may set.
    HopByHop {
        /// The header name.
        name: String,
        /// Its value.
        value: String,
    },
    /// `write()` was called before `start_response`.
    WriteBeforeStartResponse,
    /// The body yielded a chunk before `start_response` was called.
    BodyBeforeStartResponse,
}

impl fmt::Display for StartResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartResponseError::HeadersAlreadySet { status } => write!(
                f,
                "headers already set (status {status:?}): call start_response once, or pass \
                 exc_info to replace the headers from an error handler"
            ),
            StartResponseError::InvalidStatus { status, reason } => write!(
                f,
                "invalid status {status:?}: {reason}; write it like \"200 OK\""
            ),
            StartResponseError::InvalidHeader(e) => e.fmt(f),
            StartResponseError::HopByHop { name, value } => write!(
                f,
                "hop-by-hop header {name:?} (value {value:?}) not allowed: connection \
                 management belongs to the server, remove it from the app's headers"
            ),
            StartResponseError::WriteBeforeStartResponse => f.write_str(
                "write() before start_response(): call start_response first, it returns write()",
            ),
            StartResponseError::BodyBeforeStartResponse => f.write_str(
                "the app returned a body but never called start_response: call it before \
                 returning (or before the first chunk is produced)",
            ),
        }
    }
}

impl std::error::Error for StartResponseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartResponseError::InvalidHeader(e) => Some(e),
            _ => None,
        }
    }
}

impl From<HeaderError> for StartResponseError {
    fn from(e: HeaderError) -> Self {
        StartResponseError::InvalidHeader(e)
    }
}
