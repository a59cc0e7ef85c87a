//! An in-process test client: build an environ, run an app through the real protocol engine,
//! look at status, headers and body. No sockets.
//!
//! ```
//! use gateway::{app_fn, Body};
//! use gateway::test::{run_app, EnvironBuilder};
//!
//! let echo = app_fn(|env, sr| {
//!     let mut body = Vec::new();
//!     std::io::Read::read_to_end(env.input(), &mut body)?;
//!     sr.start("201 Created", [("Content-Type", "application/octet-stream")])?;
//!     Ok(Body::from(body))
//! });
//! let env = EnvironBuilder::new().method("POST").path("/upload").body("payload").build();
//! let response = run_app(&echo, env);
//! assert_eq!(response.status_code, 201);
//! assert_eq!(response.body, b"payload");
//! ```

use std::fmt;
use std::io;

use crate::handlers::{BaseHandler, HandlerState, Outcome};
use crate::util::setup_testing_defaults;
use crate::{App, Environ, ErrorStream, Headers, Input, SharedBuffer, latin1};

/// Builds a request [`Environ`] for tests, on top of
/// [`setup_testing_defaults`].
///
/// ```
/// use gateway::test::EnvironBuilder;
///
/// let env = EnvironBuilder::new()
///     .method("PUT")
///     .path("/café")
///     .query("a=1&b=2")
///     .header("X-Token", "abc")
///     .header("Content-Type", "application/json")
///     .body(r#"{"ok":true}"#)
///     .build();
/// assert_eq!(env.get("REQUEST_METHOD"), Some("PUT"));
/// assert_eq!(env.get_utf8("PATH_INFO").unwrap().unwrap(), "/café");
/// assert_eq!(env.get("HTTP_X_TOKEN"), Some("abc"));
/// assert_eq!(env.get("CONTENT_TYPE"), Some("application/json"));
/// assert_eq!(env.get("CONTENT_LENGTH"), Some("11"));
/// assert_eq!(env.get("SERVER_PORT"), Some("80"));
/// ```
#[derive(Debug, Default)]
pub struct EnvironBuilder {
    vars: Vec<(String, String)>,
    scheme: Option<String>,
    body: Option<Vec<u8>>,
}

impl EnvironBuilder {
    /// A `GET /` request.
    ///
    /// ```
    /// use gateway::test::EnvironBuilder;
    ///
    /// let env = EnvironBuilder::new().build();
    /// assert_eq!((env.get("REQUEST_METHOD"), env.get("PATH_INFO")), (Some("GET"), Some("/")));
    /// assert_eq!(env.get("HTTP_HOST"), Some("127.0.0.1"));
    /// assert_eq!(env.get("QUERY_STRING"), Some(""));
    /// assert!(env.file_wrapper());
    /// ```
    pub fn new() -> Self {
        EnvironBuilder::default()
    }

    /// Sets any CGI variable (`REMOTE_ADDR`, `HTTPS`, ...), as a latin-1 string.
    ///
    /// ```
    /// use gateway::test::EnvironBuilder;
    ///
    /// let env = EnvironBuilder::new().var("REMOTE_ADDR", "10.0.0.7").var("HTTPS", "on").build();
    /// assert_eq!(env.get("REMOTE_ADDR"), Some("10.0.0.7"));
    /// assert_eq!((env.url_scheme(), env.get("SERVER_PORT")), ("https", Some("443")));
    /// ```
    pub fn var(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.push((key.into(), value.into()));
        self
    }

    /// `REQUEST_METHOD`.
    ///
    /// ```
    /// use gateway::test::EnvironBuilder;
    ///
    /// assert_eq!(EnvironBuilder::new().method("DELETE").build().get("REQUEST_METHOD"), Some("DELETE"));
    /// ```
    pub fn method(self, method: &str) -> Self {
        self.var("REQUEST_METHOD", method)
    }

    /// `PATH_INFO`, given as text: it is stored as the latin-1 string of its UTF-8 bytes, the
    /// way a server stores a decoded request path.
    ///
    /// ```
    /// use gateway::test::EnvironBuilder;
    ///
    /// let env = EnvironBuilder::new().path("/ä").build();
    /// assert_eq!(env.get("PATH_INFO"), Some("/\u{c3}\u{a4}")); // the UTF-8 bytes, one character each
    /// assert_eq!(env.get_utf8("PATH_INFO").unwrap().unwrap(), "/ä");
    /// ```
    pub fn path(self, path: &str) -> Self {
        self.var("PATH_INFO", latin1::decode(path.as_bytes()))
    }

    /// `SCRIPT_NAME`, given as text (like [`path`](EnvironBuilder::path)).
    ///
    /// ```
    /// use gateway::test::EnvironBuilder;
    /// use gateway::util::request_uri;
    ///
    /// let env = EnvironBuilder::new().script_name("/app").path("/users").build();
    /// assert_eq!(request_uri(&env, false).unwrap(), "http://127.0.0.1/app/users");
    /// ```
    pub fn script_name(self, script_name: &str) -> Self {
        self.var("SCRIPT_NAME", latin1::decode(script_name.as_bytes()))
    }

    /// `QUERY_STRING`, raw (as it appears after `?`).
    ///
    /// ```
    /// use gateway::test::EnvironBuilder;
    ///
    /// let env = EnvironBuilder::new().query("q=rust%20wsgi&page=2").build();
    /// assert_eq!(env.get("QUERY_STRING"), Some("q=rust%20wsgi&page=2")); // not decoded
    /// ```
    pub fn query(self, query: &str) -> Self {
        self.var("QUERY_STRING", query)
    }

    /// A request header: `Content-Type` and `Content-Length` become `CONTENT_TYPE` and
    /// `CONTENT_LENGTH`, others `HTTP_NAME` (dashes to underscores, upper case). A repeated
    /// header is joined with a comma, as a server does.
    ///
    /// ```
    /// use gateway::test::EnvironBuilder;
    ///
    /// let env = EnvironBuilder::new()
    ///     .header("Accept-Language", "fr")
    ///     .header("Accept-Language", "en")
    ///     .header("Content-Type", "text/csv")
    ///     .build();
    /// assert_eq!(env.get("HTTP_ACCEPT_LANGUAGE"), Some("fr,en"));
    /// assert_eq!(env.get("CONTENT_TYPE"), Some("text/csv"));
    /// ```
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let key = name.replace('-', "_").to_ascii_uppercase();
        let key = match key.as_str() {
            "CONTENT_TYPE" | "CONTENT_LENGTH" => key,
            _ => format!("HTTP_{key}"),
        };
        let value = latin1::decode(value.as_bytes());
        if let Some((_, existing)) = self.vars.iter_mut().rev().find(|(k, _)| *k == key) {
            existing.push(',');
            existing.push_str(&value);
        } else {
            self.vars.push((key, value));
        }
        self
    }

    /// The request body (`wsgi.input`); sets `CONTENT_LENGTH` unless a header gave one.
    ///
    /// ```
    /// use std::io::Read;
    /// use gateway::test::EnvironBuilder;
    ///
    /// let mut env = EnvironBuilder::new().method("POST").body("a=1&b=2").build();
    /// assert_eq!(env.get("CONTENT_LENGTH"), Some("7"));
    /// let mut body = String::new();
    /// env.input().read_to_string(&mut body)?;
    /// assert_eq!(body, "a=1&b=2");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// `wsgi.url_scheme` (`HTTPS=on` works too).
    ///
    /// ```
    /// use gateway::test::EnvironBuilder;
    ///
    /// let env = EnvironBuilder::new().scheme("https").build();
    /// assert_eq!((env.url_scheme(), env.get("SERVER_PORT")), ("https", Some("443")));
    /// ```
    pub fn scheme(mut self, scheme: &str) -> Self {
        self.scheme = Some(scheme.to_owned());
        self
    }

    /// `SERVER_NAME` and `SERVER_PORT`.
    ///
    /// ```
    /// use gateway::test::EnvironBuilder;
    /// use gateway::util::application_uri;
    ///
    /// let env = EnvironBuilder::new().server("example.com", 8080).build();
    /// assert_eq!(env.get("SERVER_PORT"), Some("8080"));
    /// assert_eq!(application_uri(&env).unwrap(), "http://example.com/"); // HTTP_HOST defaults to it
    /// ```
    pub fn server(self, name: &str, port: u16) -> Self {
        self.var("SERVER_NAME", name)
            .var("SERVER_PORT", port.to_string())
    }

    /// `SERVER_PROTOCOL`, e.g. `HTTP/1.1`.
    ///
    /// ```
    /// use gateway::test::EnvironBuilder;
    ///
    /// let env = EnvironBuilder::new().protocol("HTTP/1.1").build();
    /// assert_eq!(env.get("SERVER_PROTOCOL"), Some("HTTP/1.1"));
    /// assert_eq!(EnvironBuilder::new().build().get("SERVER_PROTOCOL"), Some("HTTP/1.0")); // default
    /// ```
    pub fn protocol(self, protocol: &str) -> Self {
        self.var("SERVER_PROTOCOL", protocol)
    }

    /// The environ: the variables given, then the testing defaults for the rest, with
    /// `wsgi.file_wrapper` support on.
    ///
    /// ```
    /// use gateway::test::EnvironBuilder;
    ///
    /// let env = EnvironBuilder::new().var("SERVER_PORT", "8000").build();
    /// assert_eq!(env.get("SERVER_PORT"), Some("8000")); // given: kept
    /// assert_eq!(env.get("SERVER_NAME"), Some("127.0.0.1")); // missing: a default
    /// assert!(env.file_wrapper());
    /// ```
    pub fn build(self) -> Environ {
        let mut environ = Environ::new();
        environ.extend(self.vars);
        if let Some(scheme) = self.scheme {
            environ.set_url_scheme(scheme);
        }
        if let Some(body) = self.body {
            if !environ.contains("CONTENT_LENGTH") {
                environ.insert("CONTENT_LENGTH", body.len().to_string());
            }
            environ.set_input(Input::from_bytes(body));
        }
        setup_testing_defaults(&mut environ);
        // As every server sets it, empty or not (werkzeug's test client does the same).
        environ.set_default("QUERY_STRING", "");
        environ.set_file_wrapper(true);
        environ
    }
}

/// What [`run_app`] saw the app send.
///
/// ```
/// use gateway::{app_fn, Body};
/// use gateway::handlers::Outcome;
/// use gateway::test::{run_app, EnvironBuilder};
///
/// let app = app_fn(|_env, sr| {
///     sr.start("404 Not Found", [("Content-Type", "text/plain")])?;
///     Ok(Body::from("no such page"))
/// });
/// let response = run_app(&app, EnvironBuilder::new().build());
/// assert_eq!((response.status.as_str(), response.status_code), ("404 Not Found", 404));
/// assert_eq!(response.headers.get("content-length"), Some("12"));
/// assert_eq!((response.body.as_slice(), response.errors.as_str()), (&b"no such page"[..], ""));
/// assert_eq!(response.outcome, Outcome::Complete);
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct TestResponse {
    /// The status line's text, e.g. `"200 OK"` (empty if nothing was sent).
    pub status: String,
    /// Its code.
    pub status_code: u16,
    /// The headers as sent, including what the handler added (`Content-Length`).
    pub headers: Headers,
    /// The body bytes.
    pub body: Vec<u8>,
    /// Everything written to `wsgi.errors` (by the app, and the handler's error log).
    pub errors: String,
    /// How the request ended.
    pub outcome: Outcome,
}

impl TestResponse {
    /// The first value of a response header.
    ///
    /// ```
    /// use gateway::{app_fn, Body};
    /// use gateway::test::{run_app, EnvironBuilder};
    ///
    /// let app = app_fn(|_env, sr| {
    ///     sr.start("200 OK", [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])?;
    ///     Ok(Body::empty())
    /// });
    /// let response = run_app(&app, EnvironBuilder::new().build());
    /// assert_eq!(response.header("set-cookie"), Some("a=1"));
    /// assert_eq!(response.headers.get_all("set-cookie"), ["a=1", "b=2"]);
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// The body as UTF-8 text (invalid sequences replaced).
    ///
    /// ```
    /// use gateway::{app_fn, Body};
    /// use gateway::test::{run_app, EnvironBuilder};
    ///
    /// let app = app_fn(|_env, sr| {
    ///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    ///     Ok(Body::from(&b"caf\xc3\xa9 \xff"[..]))
    /// });
    /// assert_eq!(run_app(&app, EnvironBuilder::new().build()).text(), "café \u{fffd}");
    /// ```
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Runs `app` with `environ` through the protocol engine (the same [`BaseHandler`] code the
/// servers use, in gateway mode) and returns what it sent. The body is always closed.
/// `wsgi.errors` is replaced by a buffer whose contents end up in
/// [`TestResponse::errors`].
///
/// ```
/// use gateway::{app_fn, Body};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// let broken = app_fn(|_env, _sr| -> Result<Body, gateway::AppError> { panic!("secret detail") });
/// let response = run_app(&broken, EnvironBuilder::new().build());
/// assert_eq!(response.status, "500 Internal Server Error");
/// assert!(!response.text().contains("secret"));
/// assert!(response.errors.contains("secret detail"));
/// ```
pub fn run_app(app: &dyn App, mut environ: Environ) -> TestResponse {
    let errors = SharedBuffer::new();
    environ.set_errors(ErrorStream::new(errors.clone()));
    let head = environ.get("REQUEST_METHOD") == Some("HEAD");
    let mut handler = TestHandler {
        head,
        state: HandlerState::default(),
        environ: Some(environ),
        stderr: ErrorStream::new(errors.clone()),
        status: String::new(),
        headers: Headers::new(),
        body: Vec::new(),
    };
    let outcome = handler.run(app).outcome;
    TestResponse {
        status_code: crate::validate_status(&handler.status).unwrap_or(0),
        status: handler.status,
        headers: handler.headers,
        body: handler.body,
        errors: errors.to_string_lossy(),
        outcome,
    }
}

/// The engine in gateway mode, capturing the head instead of formatting it, with the
/// server's framing decisions: no body for HEAD, 1xx, 204 and 304 (and no Content-Length for
/// the last three), a file body's Content-Length from the file, and no byte past a declared
/// Content-Length.
struct TestHandler {
    /// The request is a HEAD.
    head: bool,
    state: HandlerState,
    environ: Option<Environ>,
    stderr: ErrorStream,
    status: String,
    headers: Headers,
    body: Vec<u8>,
}

impl BaseHandler for TestHandler {
    fn state(&self) -> &HandlerState {
        &self.state
    }
    fn state_mut(&mut self) -> &mut HandlerState {
        &mut self.state
    }
    fn write_raw(&mut self, data: &[u8]) -> io::Result<()> {
        if self.head || bodiless(self.state.status_code) {
            return Ok(());
        }
        // As the server frames it: never more than a declared Content-Length.
        let declared = self
            .headers
            .get("Content-Length")
            .and_then(|v| v.trim().parse::<usize>().ok());
        let room = declared.map_or(data.len(), |length| length.saturating_sub(self.body.len()));
        self.body.extend_from_slice(&data[..data.len().min(room)]);
        Ok(())
    }
    fn flush_raw(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn get_stdin(&mut self) -> Input {
        Input::empty()
    }
    fn get_stderr(&mut self) -> ErrorStream {
        self.stderr.clone()
    }
    fn add_cgi_vars(&mut self, _environ: &mut Environ) {}
    fn origin_server(&self) -> bool {
        false
    }
    /// The environ is the caller's, as built: nothing is added or replaced.
    fn setup_environ(&mut self) -> Environ {
        self.environ.take().unwrap_or_default()
    }
    /// The server's file framing: `Content-Length` from the file when the app set none; the
    /// blocks are then read and captured as any body.
    fn sendfile(&mut self, wrapper: &mut crate::util::FileWrapper) -> io::Result<bool> {
        if !self.state.headers_sent
            && let Some(length) = TestHandler::file_length(wrapper)?
            && let Some(headers) = self.state.headers.as_mut()
            && !headers.contains("Content-Length")
        {
            let _ = headers.set("Content-Length", length.to_string());
        }
        Ok(false)
    }

    fn send_headers(&mut self) -> io::Result<()> {
        self.cleanup_headers();
        if bodiless(self.state.status_code)
            && let Some(headers) = self.state.headers.as_mut()
        {
            headers.remove("Content-Length");
        }
        self.state.headers_sent = true;
        self.status = self.state.status.clone().unwrap_or_default();
        self.headers = self.state.headers.clone().unwrap_or_default();
        Ok(())
    }
}

impl TestHandler {
    /// A file body's Content-Length, as the server sends it: the bytes left in the file.
    fn file_length(wrapper: &mut crate::util::FileWrapper) -> io::Result<Option<u64>> {
        use std::io::Seek;
        let Some(file) = wrapper.as_file() else {
            return Ok(None);
        };
        let metadata = file.metadata()?;
        if !metadata.is_file() {
            return Ok(None);
        }
        Ok(Some(metadata.len().saturating_sub(file.stream_position()?)))
    }
}

/// A status whose response has no body (RFC 9110 §6.4.1).
fn bodiless(code: u16) -> bool {
    code < 200 || code == 204 || code == 304
}

impl fmt::Debug for TestHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestHandler")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}
