//! Section 3 of the reference (`wsgiref.handlers`, rows 3.1 to 3.14), checked against
//! `gateway::handlers`: byte-exact output in origin mode (`SimpleHandler`) and CGI mode
//! (`BaseCgiHandler`), the Content-Length rules, exc_info, error pages, disconnects, sendfile,
//! partial writes, HTTP/0.9, `format_date_time`, the IIS fix and `read_environ` transcoding.
//!
//! Where gateway deliberately differs from the reference, the test checks gateway's behaviour
//! and a comment says what the reference does.

use std::ffi::OsString;
use std::io::{self, Cursor, Read, Write};
use std::os::unix::ffi::OsStringExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use gateway::handlers::{
    BaseCgiHandler, BaseHandler, CgiHandler, ERROR_BODY, ERROR_STATUS, HandlerState, IisCgiHandler,
    Outcome, SimpleHandler, format_date_time, iis_path_info_fix, read_environ_from,
};
use gateway::util::FileWrapper;
use gateway::{App, AppError, Body, Environ, ErrorStream, Input, SharedBuffer, app_fn};

// ---- helpers ----------------------------------------------------------------------------------

const ERROR_PAGE_ORIGIN: &[u8] = b"HTTP/1.0 500 Internal Server Error\r\nDate: <DATE>\r\n\
Content-Type: text/plain\r\nContent-Length: 59\r\n\r\n\
A server error occurred.  Please contact the administrator.";

const ERROR_PAGE_CGI: &[u8] = b"Status: 500 Internal Server Error\r\n\
Content-Type: text/plain\r\nContent-Length: 59\r\n\r\n\
A server error occurred.  Please contact the administrator.";

/// A base environ for an HTTP/1.0 GET.
fn env10() -> Vec<(String, String)> {
    pairs(&[("SERVER_PROTOCOL", "HTTP/1.0"), ("REQUEST_METHOD", "GET")])
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Printable form of bytes, so a failed comparison shows a readable diff.
fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

#[track_caller]
fn assert_bytes(actual: &[u8], expected: &[u8]) {
    assert_eq!(show(actual), show(expected));
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Checks the shape of an HTTP date: `Sun, 06 Nov 1994 08:49:37 GMT` (the reference's regex
/// `\w{3}, [ 0123]\d \w{3} \d{4} \d\d:\d\d:\d\d GMT`).
#[track_caller]
fn assert_date_shape(date: &str) {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let b = date.as_bytes();
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    assert_eq!(b.len(), 29, "date {date:?} is not 29 characters");
    assert!(date.ends_with(" GMT"), "{date:?}");
    assert!(DAYS.contains(&&date[..3]), "{date:?}");
    assert_eq!(&date[3..5], ", ", "{date:?}");
    assert!(b" 0123".contains(&b[5]) && digits(6..7), "{date:?}");
    assert_eq!(b[7], b' ', "{date:?}");
    assert!(MONTHS.contains(&&date[8..11]), "{date:?}");
    assert_eq!(b[11], b' ', "{date:?}");
    assert!(digits(12..16), "{date:?}");
    assert_eq!(b[16], b' ', "{date:?}");
    assert!(
        digits(17..19) && digits(20..22) && digits(23..25),
        "{date:?}"
    );
    assert_eq!((b[19], b[22]), (b':', b':'), "{date:?}");
}

/// Replaces the first `Date: ...\r\n` line's value by `<DATE>`, after checking its shape.
#[track_caller]
fn mask_date(out: &[u8]) -> Vec<u8> {
    let Some(start) = find(out, b"Date: ") else {
        return out.to_vec();
    };
    let value = start + b"Date: ".len();
    let end = value
        + find(&out[value..], b"\r\n")
            .unwrap_or_else(|| panic!("unterminated Date in {}", show(out)));
    let date = std::str::from_utf8(&out[value..end]).expect("an ASCII date");
    assert_date_shape(date);
    let mut masked = out[..value].to_vec();
    masked.extend_from_slice(b"<DATE>");
    masked.extend_from_slice(&out[end..]);
    masked
}

/// What a run produced.
struct Ran {
    out: Vec<u8>,
    err: String,
    outcome: Outcome,
    environ: Environ,
}

fn origin(env: Vec<(String, String)>, err: &SharedBuffer) -> SimpleHandler<Vec<u8>> {
    SimpleHandler::new(
        Input::empty(),
        Vec::new(),
        ErrorStream::new(err.clone()),
        env,
    )
}

fn cgi(env: Vec<(String, String)>, err: &SharedBuffer) -> BaseCgiHandler<Vec<u8>> {
    BaseCgiHandler::new(
        Input::empty(),
        Vec::new(),
        ErrorStream::new(err.clone()),
        env,
    )
}

fn run_simple(mut handler: SimpleHandler<Vec<u8>>, err: &SharedBuffer, app: &dyn App) -> Ran {
    let ran = handler.run(app);
    Ran {
        out: handler.into_stdout(),
        err: err.to_string_lossy(),
        outcome: ran.outcome,
        environ: ran.environ,
    }
}

/// Runs `app` in origin mode (SimpleHandler, HTTP/1.0 request).
fn run_origin(app: &dyn App) -> Ran {
    let err = SharedBuffer::new();
    run_simple(origin(env10(), &err), &err, app)
}

/// Runs `app` in CGI mode (BaseCgiHandler).
fn run_cgi(app: &dyn App) -> Ran {
    let err = SharedBuffer::new();
    let mut handler = cgi(env10(), &err);
    let ran = handler.run(app);
    Ran {
        out: handler.into_stdout(),
        err: err.to_string_lossy(),
        outcome: ran.outcome,
        environ: ran.environ,
    }
}

/// Adds a close action counting into `counter`.
fn counted(body: Body, counter: &Arc<AtomicUsize>) -> Body {
    let counter = counter.clone();
    body.on_close(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    })
}

fn closes(counter: &Arc<AtomicUsize>) -> usize {
    counter.load(Ordering::SeqCst)
}

fn no_headers() -> [(&'static str, &'static str); 0] {
    []
}

/// The `start_response('200 OK', [('Content-Type','text/plain')]); return [b'hi']` app of 3.7.
fn hi_app() -> impl App {
    app_fn(|_env, sr| {
        sr.start("200 OK", [("Content-Type", "text/plain")])?;
        Ok(Body::from("hi"))
    })
}

/// Forwards the required I/O hooks and the configuration of a wrapped `SimpleHandler`.
macro_rules! forward_to_simple {
    ($($field:ident).+) => {
        fn state(&self) -> &HandlerState {
            self.$($field).+.state()
        }
        fn state_mut(&mut self) -> &mut HandlerState {
            self.$($field).+.state_mut()
        }
        fn write_raw(&mut self, data: &[u8]) -> io::Result<()> {
            self.$($field).+.write_raw(data)
        }
        fn flush_raw(&mut self) -> io::Result<()> {
            self.$($field).+.flush_raw()
        }
        fn get_stdin(&mut self) -> Input {
            self.$($field).+.get_stdin()
        }
        fn get_stderr(&mut self) -> ErrorStream {
            self.$($field).+.get_stderr()
        }
        fn add_cgi_vars(&mut self, environ: &mut Environ) {
            self.$($field).+.add_cgi_vars(environ)
        }
        fn wsgi_multithread(&self) -> bool {
            self.$($field).+.wsgi_multithread()
        }
        fn wsgi_multiprocess(&self) -> bool {
            self.$($field).+.wsgi_multiprocess()
        }
        fn server_software(&self) -> Option<&str> {
            self.$($field).+.server_software()
        }
        fn traceback_limit(&self) -> Option<usize> {
            self.$($field).+.traceback_limit()
        }
    };
}

/// A handler type overriding `error_status`, `error_headers`, `error_body`, `origin_server`,
/// `wsgi_file_wrapper` and `sendfile`, as a Python subclass would set class attributes.
struct Custom {
    inner: SimpleHandler<Vec<u8>>,
    origin: bool,
    error_status: Option<String>,
    error_headers: Option<Vec<(String, String)>>,
    error_body: Option<Vec<u8>>,
    file_wrapper: bool,
    /// Whether `sendfile` sends the file itself (`<SENDFILE:data>`) and returns true.
    sendfile: bool,
    sendfile_calls: usize,
}

impl Custom {
    fn new(inner: SimpleHandler<Vec<u8>>) -> Self {
        Custom {
            inner,
            origin: true,
            error_status: None,
            error_headers: None,
            error_body: None,
            file_wrapper: true,
            sendfile: false,
            sendfile_calls: 0,
        }
    }
}

impl BaseHandler for Custom {
    forward_to_simple!(inner);

    fn origin_server(&self) -> bool {
        self.origin
    }
    fn error_status(&self) -> &str {
        self.error_status.as_deref().unwrap_or(ERROR_STATUS)
    }
    fn error_headers(&self) -> Vec<(String, String)> {
        self.error_headers
            .clone()
            .unwrap_or_else(|| pairs(&[("Content-Type", "text/plain")]))
    }
    fn error_body(&self) -> &[u8] {
        self.error_body.as_deref().unwrap_or(ERROR_BODY)
    }
    fn wsgi_file_wrapper(&self) -> bool {
        self.file_wrapper
    }
    fn sendfile(&mut self, wrapper: &mut FileWrapper) -> io::Result<bool> {
        self.sendfile_calls += 1;
        if !self.sendfile {
            return Ok(false);
        }
        // The override must send the headers itself (finish_content does not run).
        if !self.state().headers_sent {
            self.send_headers()?;
        }
        let mut data = Vec::new();
        while let Some(block) = wrapper.read_block()? {
            data.extend_from_slice(&block);
        }
        self.write_raw(b"<SENDFILE:")?;
        self.write_raw(&data)?;
        self.write_raw(b">")?;
        Ok(true)
    }
}

/// A handler whose `error_output` itself fails (the reference's "handle_error raises").
struct BrokenErrorPage {
    inner: SimpleHandler<Vec<u8>>,
}

impl BaseHandler for BrokenErrorPage {
    forward_to_simple!(inner);

    fn error_output(&mut self, _environ: &mut Environ) -> Result<Body, AppError> {
        Err("the error page broke".into())
    }
}

/// A handler implementing only the required hooks: every setting is the trait's default.
struct Bare {
    state: HandlerState,
    out: Vec<u8>,
}

impl BaseHandler for Bare {
    fn state(&self) -> &HandlerState {
        &self.state
    }
    fn state_mut(&mut self) -> &mut HandlerState {
        &mut self.state
    }
    fn write_raw(&mut self, data: &[u8]) -> io::Result<()> {
        self.out.extend_from_slice(data);
        Ok(())
    }
    fn flush_raw(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn get_stdin(&mut self) -> Input {
        Input::empty()
    }
    fn get_stderr(&mut self) -> ErrorStream {
        ErrorStream::sink()
    }
    fn add_cgi_vars(&mut self, environ: &mut Environ) {
        environ.insert("SERVER_PROTOCOL", "HTTP/1.0");
    }
}

/// A client connection: the first `ok_writes` write calls succeed, then every write fails
/// with `kind` (BrokenPipe: the client went away).
struct Flaky {
    written: Vec<u8>,
    ok_writes: usize,
    kind: io::ErrorKind,
}

impl Flaky {
    fn new(ok_writes: usize, kind: io::ErrorKind) -> Self {
        Flaky {
            written: Vec::new(),
            ok_writes,
            kind,
        }
    }
}

impl Write for Flaky {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.ok_writes == 0 {
            return Err(io::Error::new(self.kind, "simulated stdout failure"));
        }
        self.ok_writes -= 1;
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A stdout that accepts at most 7 bytes per `write` call (testPartialWrite).
#[derive(Default)]
struct SevenBytes {
    written: Vec<u8>,
    calls: usize,
}

impl Write for SevenBytes {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.calls += 1;
        let n = buf.len().min(7);
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A stdout recording the sequence of writes and flushes.
#[derive(Default)]
struct Recorder {
    events: Vec<String>,
}

impl Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.events.push(format!("write {}", show(buf)));
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.events.push("flush".to_owned());
        Ok(())
    }
}

// ---- 3.1 classes and flags --------------------------------------------------------------------

#[test]
fn t3_1_simple_handler_defaults() {
    let ran = run_origin(&hi_app());
    let env = &ran.environ;
    assert!(env.multithread());
    assert!(!env.multiprocess());
    assert!(!env.run_once());
    assert!(
        env.file_wrapper(),
        "wsgi.file_wrapper is offered by default"
    );
    assert_eq!(env.version(), (1, 0));
    // origin_server: a status line, not a Status: header.
    assert!(ran.out.starts_with(b"HTTP/1.0 200 OK\r\n"));
}

#[test]
fn t3_1_simple_handler_ctor_flags() {
    let err = SharedBuffer::new();
    let handler = origin(env10(), &err).with_flags(false, true);
    assert!(!handler.wsgi_multithread());
    assert!(handler.wsgi_multiprocess());
    let ran = run_simple(handler, &err, &hi_app());
    assert!(!ran.environ.multithread());
    assert!(ran.environ.multiprocess());
}

#[test]
fn t3_1_base_cgi_handler_defaults() {
    let err = SharedBuffer::new();
    let handler = cgi(env10(), &err);
    assert!(!handler.origin_server());
    assert!(handler.wsgi_multithread());
    assert!(!handler.wsgi_multiprocess());
    assert!(!handler.wsgi_run_once());
    let ran = run_cgi(&hi_app());
    assert!(ran.environ.multithread() && !ran.environ.multiprocess() && !ran.environ.run_once());
    assert!(ran.out.starts_with(b"Status: 200 OK\r\n"));
}

#[test]
fn t3_1_base_handler_trait_defaults() {
    let bare = Bare {
        state: HandlerState::default(),
        out: Vec::new(),
    };
    assert!(bare.origin_server());
    assert!(bare.wsgi_multithread());
    assert!(bare.wsgi_multiprocess());
    assert!(!bare.wsgi_run_once());
    assert!(bare.wsgi_file_wrapper());
    assert_eq!(bare.http_version(), "1.0");
    assert_eq!(bare.server_software(), None);
    assert_eq!(bare.traceback_limit(), None);
    assert_eq!(bare.error_status(), "500 Internal Server Error");
    assert_eq!(
        bare.error_headers(),
        pairs(&[("Content-Type", "text/plain")])
    );
    assert_eq!(
        bare.error_body(),
        b"A server error occurred.  Please contact the administrator."
    );
    assert_eq!(bare.error_body().len(), 59);
    // Deviation: the reference's os_environ is a snapshot of the process environment.
    assert!(bare.os_environ().is_empty());
    // Fresh state: status = headers = None, headers_sent False, bytes_sent 0.
    let state = bare.state();
    assert!(state.status.is_none() && state.headers.is_none());
    assert!(!state.headers_sent);
    assert_eq!(state.bytes_sent, 0);
}

#[test]
fn t3_1_bare_handler_runs() {
    let mut bare = Bare {
        state: HandlerState::default(),
        out: Vec::new(),
    };
    let ran = bare.run(&hi_app());
    assert_eq!(ran.outcome, Outcome::Complete);
    assert!(ran.environ.multithread() && ran.environ.multiprocess() && !ran.environ.run_once());
    assert_bytes(
        &mask_date(&bare.out),
        b"HTTP/1.0 200 OK\r\nDate: <DATE>\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi",
    );
}

#[test]
fn t3_1_cgi_handler_flags() {
    // CGIHandler: multithread False, multiprocess True, run_once True, not an origin server,
    // os_environ {}. Only constructed here: running it would use the process's stdio.
    let handler = CgiHandler::new();
    assert!(!handler.origin_server());
    assert!(!handler.wsgi_multithread());
    assert!(handler.wsgi_multiprocess());
    assert!(handler.wsgi_run_once());
    assert!(handler.os_environ().is_empty());

    let handler = IisCgiHandler::new();
    assert!(!handler.origin_server());
    assert!(!handler.wsgi_multithread());
    assert!(handler.wsgi_multiprocess());
    assert!(handler.wsgi_run_once());
    assert!(handler.os_environ().is_empty());
}

// ---- 3.2 run() and 3.3 setup_environ() --------------------------------------------------------

#[test]
fn t3_3_environ_from_base_env_and_wsgi_entries() {
    let err = SharedBuffer::new();
    let mut env = env10();
    env.extend(pairs(&[("HTTPS", "on"), ("PATH_INFO", "/x")]));
    let handler = SimpleHandler::new(
        Input::from_bytes(b"body!".to_vec()),
        Vec::new(),
        ErrorStream::new(err.clone()),
        env,
    );
    let seen = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = seen.clone();
    let app = app_fn(move |env, sr| {
        let mut input = Vec::new();
        env.input().read_to_end(&mut input)?;
        writeln!(env.errors(), "app diagnostics")?;
        *sink.lock().unwrap() = input;
        sr.start("200 OK", no_headers())?;
        Ok(Body::empty())
    });
    let ran = run_simple(handler, &err, &app);
    assert_eq!(*seen.lock().unwrap(), b"body!", "wsgi.input is get_stdin()");
    assert_eq!(ran.err, "app diagnostics\n", "wsgi.errors is get_stderr()");
    assert_eq!(ran.environ.url_scheme(), "https", "guess_scheme from HTTPS");
    assert_eq!(ran.environ.get("PATH_INFO"), Some("/x"));
    assert_eq!(ran.environ.version(), (1, 0));
    // Deviation: the reference copies the whole process environment (PATH, HOME, ...) into
    // every SimpleHandler environ; gateway's os_environ is empty, so only the base env is there.
    let mut keys: Vec<&str> = ran.environ.keys().collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["HTTPS", "PATH_INFO", "REQUEST_METHOD", "SERVER_PROTOCOL"]
    );
}

#[test]
fn t3_3_url_scheme_http_without_https() {
    let ran = run_origin(&hi_app());
    assert_eq!(ran.environ.url_scheme(), "http");
    assert!(ran.environ.has_url_scheme(), "set by setup_environ");
}

#[test]
fn t3_3_server_software_only_if_absent() {
    let err = SharedBuffer::new();
    let ran = run_simple(
        origin(env10(), &err).with_server_software("Foo/1").unwrap(),
        &err,
        &hi_app(),
    );
    assert_eq!(ran.environ.get("SERVER_SOFTWARE"), Some("Foo/1"));

    let mut env = env10();
    env.push(("SERVER_SOFTWARE".into(), "Given/2".into()));
    let ran = run_simple(
        origin(env, &err).with_server_software("Foo/1").unwrap(),
        &err,
        &hi_app(),
    );
    assert_eq!(ran.environ.get("SERVER_SOFTWARE"), Some("Given/2"));
    // The Server header still comes from server_software (the app did not set one).
    assert!(
        find(&ran.out, b"\r\nServer: Foo/1\r\n").is_some(),
        "{}",
        show(&ran.out)
    );

    // Not an origin server: SERVER_SOFTWARE is not set, and no Server header is sent.
    let err = SharedBuffer::new();
    let mut custom = Custom::new(origin(env10(), &err).with_server_software("Foo/1").unwrap());
    custom.origin = false;
    let ran = custom.run(&hi_app());
    assert_eq!(ran.environ.get("SERVER_SOFTWARE"), None);
    assert_bytes(
        &custom.inner.into_stdout(),
        b"Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi",
    );
}

#[test]
fn t3_3_file_wrapper_disabled() {
    // wsgi_file_wrapper = None: no wsgi.file_wrapper, and sendfile is never tried.
    let err = SharedBuffer::new();
    let mut custom = Custom::new(origin(env10(), &err));
    custom.file_wrapper = false;
    custom.sendfile = true;
    let app = app_fn(|_env, sr| {
        sr.start("200 OK", no_headers())?;
        Ok(Body::file(FileWrapper::new(
            Cursor::new(b"data".to_vec()),
            3,
        )))
    });
    let ran = custom.run(&app);
    assert!(!ran.environ.file_wrapper());
    assert_eq!(custom.sendfile_calls, 0);
    assert_bytes(
        &mask_date(&custom.inner.into_stdout()),
        b"HTTP/1.0 200 OK\r\nDate: <DATE>\r\n\r\ndata",
    );
}

// ---- 3.4 start_response and exc_info ----------------------------------------------------------

#[test]
fn t3_4_exc_info_before_headers_sent_replaces_status_and_headers() {
    let app = app_fn(|_env, sr| {
        sr.start("200 OK", [("Content-Type", "text/html"), ("X-Old", "1")])?;
        let failure: AppError = "database down".into();
        sr.start_response("503 Busy", [("Content-Type", "text/plain")], Some(failure))?;
        Ok(Body::from("later"))
    });
    let ran = run_origin(&app);
    assert_eq!(ran.outcome, Outcome::Complete);
    assert_eq!(ran.err, "", "nothing logged: the app handled its error");
    assert_bytes(
        &mask_date(&ran.out),
        b"HTTP/1.0 503 Busy\r\nDate: <DATE>\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nlater",
    );
}

#[test]
fn t3_4_exc_info_as_first_call_is_accepted() {
    let app = app_fn(|_env, sr| {
        sr.start_response("500 Oops", no_headers(), Some("x".into()))?;
        Ok(Body::from("e"))
    });
    let ran = run_cgi(&app);
    assert_bytes(&ran.out, b"Status: 500 Oops\r\nContent-Length: 1\r\n\r\ne");
}

#[test]
fn t3_4_exc_info_after_headers_sent_reraises_the_given_error() {
    // Reference (3.11+): a bare `raise` of the exception being handled. Rust has no "current
    // exception": start_response hands the given error back as Err, for the app to propagate.
    #[derive(Debug)]
    struct Original;
    impl std::fmt::Display for Original {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("original failure")
        }
    }
    impl std::error::Error for Original {}

    let returned = Arc::new(Mutex::new(String::new()));
    let record = returned.clone();
    let app = app_fn(move |_env, sr| {
        sr.start("200 OK", no_headers())?.write(b"MSG")?;
        match sr.start_response("500 Error", no_headers(), Some(Box::new(Original))) {
            Ok(_) => Ok(Body::from("unexpected")),
            Err(error) => {
                let same = error.downcast_ref::<Original>().is_some();
                *record.lock().unwrap() = format!("{same} {error}");
                Err(error)
            }
        }
    });
    let ran = run_cgi(&app);
    assert_eq!(*returned.lock().unwrap(), "true original failure");
    assert_eq!(ran.outcome, Outcome::Truncated);
    assert_bytes(&ran.out, b"Status: 200 OK\r\n\r\nMSG");
    assert!(
        ran.err.ends_with("Error: original failure\n"),
        "{}",
        ran.err
    );
}

#[test]
fn t3_4_not_checked_reason_phrase_and_codes() {
    // The reason phrase is free, even empty or doubled; codes outside 100-599 pass.
    for status in ["200 ", "200  OK", "999 X", "000 X"] {
        let app = app_fn(move |_env, sr| {
            sr.start(status, no_headers())?;
            Ok(Body::empty())
        });
        let ran = run_cgi(&app);
        assert_eq!(ran.err, "", "{status:?}");
        let expected = format!("Status: {status}\r\nContent-Length: 0\r\n\r\n");
        assert_bytes(&ran.out, expected.as_bytes());
    }
}

#[test]
fn t3_4_not_checked_header_name_syntax_and_status_header() {
    // 'A:' is accepted as a name (line `A:: b`), and so is a `Status` response header.
    let app = app_fn(|_env, sr| {
        sr.start("200 OK", [("A:", "b"), ("Status", "404 Lies")])?;
        Ok(Body::empty())
    });
    let ran = run_cgi(&app);
    assert_eq!(ran.err, "");
    assert_bytes(
        &ran.out,
        b"Status: 200 OK\r\nA:: b\r\nStatus: 404 Lies\r\nContent-Length: 0\r\n\r\n",
    );
}

// Not expressible in Rust (3.4 steps 4, 5 and 10): a non-list headers argument, a header given
// as a 2-element list, bytes or other non-str names/values, a non-str status. The types of
// `start_response` only accept string pairs and a `&str` status.

// ---- misuse: every §3.4/§3.5 validation failure gives the 500 page and a log line -------------

fn misuse_cases() -> Vec<(&'static str, Box<dyn App>, &'static str)> {
    fn case<A: App + 'static>(
        what: &'static str,
        app: A,
        logged: &'static str,
    ) -> (&'static str, Box<dyn App>, &'static str) {
        (what, Box::new(app), logged)
    }
    fn bad_status(status: &'static str) -> impl App {
        app_fn(move |_env, sr| {
            sr.start(status, no_headers())?;
            Ok(Body::from("never sent"))
        })
    }
    fn bad_header(name: &'static str, value: &'static str) -> impl App {
        app_fn(move |_env, sr| {
            sr.start("200 OK", [("Content-Type", "text/plain"), (name, value)])?;
            Ok(Body::from("never sent"))
        })
    }
    vec![
        case(
            "start_response twice without exc_info",
            app_fn(|_env, sr| {
                sr.start("200 OK", no_headers())?;
                sr.start("201 Created", no_headers())?;
                Ok(Body::from("never sent"))
            }),
            "headers already set",
        ),
        case(
            "write() before start_response",
            app_fn(|_env, sr| {
                sr.write(b"early")?;
                Ok(Body::empty())
            }),
            "write() before start_response()",
        ),
        case(
            "empty write() before start_response",
            app_fn(|_env, sr| {
                sr.write(b"")?;
                Ok(Body::empty())
            }),
            "write() before start_response()",
        ),
        case(
            "body chunk before start_response",
            app_fn(|_env, _sr| Ok(Body::from("no start_response"))),
            "never called start_response",
        ),
        case(
            "empty chunk before start_response",
            app_fn(|_env, _sr| Ok(Body::from_chunks([""]))),
            "never called start_response",
        ),
        case(
            // The reference's "returning None": no chunk at all and no start_response.
            "empty body without start_response",
            app_fn(|_env, _sr| Ok(Body::empty())),
            "never called start_response",
        ),
        case(
            "lazy chunk before start_response",
            app_fn(|_env, _sr| Ok(Body::from_iter(["lazy"]))),
            "never called start_response",
        ),
        case(
            "file body before start_response",
            app_fn(|_env, _sr| Ok(Body::file(FileWrapper::new(Cursor::new(b"f".to_vec()), 8)))),
            "never called start_response",
        ),
        case("status '200'", bad_status("200"), "at least 4 characters"),
        case("status ''", bad_status(""), "at least 4 characters"),
        case(
            "status '2000 OK'",
            bad_status("2000 OK"),
            "space after the code",
        ),
        case("status ' 200 OK'", bad_status(" 200 OK"), "3-digit code"),
        case("status 'OK 200'", bad_status("OK 200"), "3-digit code"),
        // Reference (new versions): ValueError "Control characters are not allowed in status"
        // (step 6 comes before the space check of step 9).
        case(
            "status '200\\tOK'",
            bad_status("200\tOK"),
            "control characters",
        ),
        case(
            "status with CRLF",
            bad_status("200 OK\r\nX-Injected: 1"),
            "control characters",
        ),
        case(
            "status with NUL",
            bad_status("200 OK\0"),
            "control characters",
        ),
        case(
            "status with DEL",
            bad_status("200 OK\x7f"),
            "control characters",
        ),
        // Deviation: the reference's str.isdigit accepts Arabic-Indic digits here and then fails
        // while encoding the status line (after headers_sent, so no error page). gateway rejects
        // the status up front.
        case("status '١٢٣ OK'", bad_status("١٢٣ OK"), "invalid status"),
        // Reference: a non-latin-1 status fails while the status line is encoded, leaving
        // partial output. gateway validates it in start_response, so the error page is sent.
        case("status '200 €'", bad_status("200 €"), "latin-1"),
        case(
            "header value with CRLF",
            bad_header("X-A", "b\r\nInjected: 1"),
            "control character '\\r' not allowed in the value of header \"X-A\"",
        ),
        case(
            "header value with LF",
            bad_header("X-A", "b\nInjected: 1"),
            "control character '\\n'",
        ),
        case(
            "header name with LF",
            bad_header("X\nY", "1"),
            "control character '\\n' not allowed in header name",
        ),
        case(
            "header value not latin-1",
            bad_header("X-A", "€"),
            "latin-1",
        ),
        // Hop-by-hop names are rejected in every build (reference: only without python -O).
        case(
            "hop-by-hop Connection",
            bad_header("Connection", "close"),
            "hop-by-hop header \"Connection\" (value \"close\")",
        ),
        case(
            "hop-by-hop Transfer-Encoding",
            bad_header("Transfer-Encoding", "chunked"),
            "hop-by-hop header \"Transfer-Encoding\"",
        ),
        case(
            "hop-by-hop KEEP-ALIVE",
            bad_header("KEEP-ALIVE", "5"),
            "hop-by-hop header \"KEEP-ALIVE\"",
        ),
        case(
            "hop-by-hop upgrade",
            bad_header("upgrade", "h2c"),
            "hop-by-hop header \"upgrade\"",
        ),
    ]
}

#[test]
fn t3_9_misuse_gives_error_page_and_log_origin() {
    for (what, app, logged) in misuse_cases() {
        let ran = run_origin(&*app);
        assert_eq!(ran.outcome, Outcome::Complete, "{what}");
        assert_eq!(
            show(&mask_date(&ran.out)),
            show(ERROR_PAGE_ORIGIN),
            "{what}"
        );
        assert!(
            ran.err.contains(logged),
            "{what}: log should mention {logged:?}:\n{}",
            ran.err
        );
        assert!(ran.err.starts_with("Traceback"), "{what}: {}", ran.err);
    }
}

#[test]
fn t3_9_misuse_gives_error_page_and_log_cgi() {
    for (what, app, logged) in misuse_cases() {
        let ran = run_cgi(&*app);
        assert_eq!(ran.outcome, Outcome::Complete, "{what}");
        assert_eq!(show(&ran.out), show(ERROR_PAGE_CGI), "{what}");
        assert!(ran.err.contains(logged), "{what}: {}", ran.err);
    }
}

#[test]
fn t3_5_misused_write_returns_the_error_to_the_app() {
    let seen = Arc::new(Mutex::new(String::new()));
    let record = seen.clone();
    let app = app_fn(move |_env, sr| {
        let error = sr.write(b"x").unwrap_err();
        *record.lock().unwrap() = error.to_string();
        // The app recovers and answers properly.
        sr.start("200 OK", no_headers())?;
        Ok(Body::from("fine"))
    });
    let ran = run_cgi(&app);
    assert!(seen.lock().unwrap().contains("before start_response"));
    assert_bytes(&ran.out, b"Status: 200 OK\r\nContent-Length: 4\r\n\r\nfine");
    assert_eq!(ran.err, "");
}

// ---- 3.5 write() ------------------------------------------------------------------------------

#[test]
fn t3_5_write_callable_streams_without_content_length() {
    let app = app_fn(|_env, sr| {
        let mut write = sr.start("200 OK", [("A", "1")])?;
        write.write(b"abc")?;
        write.write(b"de")?;
        Ok(Body::from("f"))
    });
    let ran = run_origin(&app);
    assert_bytes(
        &mask_date(&ran.out),
        b"HTTP/1.0 200 OK\r\nDate: <DATE>\r\nA: 1\r\n\r\nabcdef",
    );
    let ran = run_cgi(&app);
    assert_bytes(&ran.out, b"Status: 200 OK\r\nA: 1\r\n\r\nabcdef");
}

#[test]
fn t3_5_write_is_an_io_write() {
    let app = app_fn(|_env, sr| {
        let mut write = sr.start("200 OK", no_headers())?;
        write!(write, "n={}", 42)?;
        Ok(Body::empty())
    });
    let ran = run_cgi(&app);
    assert_bytes(&ran.out, b"Status: 200 OK\r\n\r\nn=42");
}

#[test]
fn t3_5_empty_first_write_does_not_send_headers() {
    // Deviation: the reference sends the headers on an empty write() (bytes_sent 0, result
    // unknown, so no Content-Length). gateway waits for the first non-empty chunk (PEP 3333),
    // so finish_content later adds Content-Length: 0.
    let app = app_fn(|_env, sr| {
        sr.start("200 OK", no_headers())?.write(b"")?;
        Ok(Body::empty())
    });
    let ran = run_cgi(&app);
    assert_bytes(&ran.out, b"Status: 200 OK\r\nContent-Length: 0\r\n\r\n");
}

#[test]
fn t3_5_every_chunk_is_flushed() {
    let err = SharedBuffer::new();
    let mut handler = BaseCgiHandler::new(
        Input::empty(),
        Recorder::default(),
        ErrorStream::new(err.clone()),
        env10(),
    );
    let app = app_fn(|_env, sr| {
        sr.start("200 OK", no_headers())?;
        Ok(Body::from_chunks(["a", "b"]))
    });
    handler.run(&app);
    let events = &handler.stdout().events;
    let a = events.iter().position(|e| e == "write a").unwrap();
    let b = events.iter().position(|e| e == "write b").unwrap();
    assert_eq!(events[0], "write Status: 200 OK\\r\\n\\r\\n", "{events:?}");
    assert_eq!(events[a + 1], "flush", "{events:?}");
    assert_eq!(events[b + 1], "flush", "{events:?}");
    assert!(a < b);
}

// ---- 3.6 finish_content() and close() ---------------------------------------------------------

#[test]
fn t3_6_state_reset_after_success_and_handler_reusable() {
    let err = SharedBuffer::new();
    let mut handler = origin(env10(), &err);
    let app = hi_app();
    assert_eq!(handler.run(&app).outcome, Outcome::Complete);
    {
        let state = handler.state();
        assert!(state.status.is_none() && state.headers.is_none());
        assert!(!state.headers_sent);
        assert_eq!(state.bytes_sent, 0);
    }
    handler.set_stdin(Input::empty());
    assert_eq!(handler.run(&app).outcome, Outcome::Complete);
    // The output simply concatenates.
    let out = handler.into_stdout();
    let one: &[u8] =
        b"HTTP/1.0 200 OK\r\nDate: <DATE>\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi";
    let split = find(&out[1..], b"HTTP/1.0").unwrap() + 1;
    assert_bytes(&mask_date(&out[..split]), one);
    assert_bytes(&mask_date(&out[split..]), one);
}

// ---- 3.7 header transmission ------------------------------------------------------------------

#[test]
fn t3_7_layout_origin() {
    let ran = run_origin(&hi_app());
    assert_eq!(ran.outcome, Outcome::Complete);
    assert_eq!(ran.err, "");
    assert_bytes(
        &mask_date(&ran.out),
        b"HTTP/1.0 200 OK\r\nDate: <DATE>\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi",
    );
}

#[test]
fn t3_7_layout_origin_with_server_software() {
    let err = SharedBuffer::new();
    let ran = run_simple(
        origin(env10(), &err).with_server_software("Foo/1").unwrap(),
        &err,
        &hi_app(),
    );
    assert_bytes(
        &mask_date(&ran.out),
        b"HTTP/1.0 200 OK\r\nDate: <DATE>\r\nServer: Foo/1\r\nContent-Type: text/plain\r\n\
Content-Length: 2\r\n\r\nhi",
    );
}

#[test]
fn t3_7_http_version_regardless_of_request() {
    let err = SharedBuffer::new();
    let ran = run_simple(
        origin(env10(), &err).with_http_version("1.1").unwrap(),
        &err,
        &hi_app(),
    );
    assert_bytes(
        &mask_date(&ran.out),
        b"HTTP/1.1 200 OK\r\nDate: <DATE>\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi",
    );
}

#[test]
fn t3_7_app_date_and_server_are_kept() {
    let err = SharedBuffer::new();
    let app = app_fn(|_env, sr| {
        sr.start(
            "200 OK",
            [
                ("server", "App/9"),
                ("Content-Type", "text/plain"),
                ("DATE", "Mon, 05 Jun 2006 18:49:54 GMT"),
            ],
        )?;
        Ok(Body::from("hi"))
    });
    let ran = run_simple(
        origin(env10(), &err).with_server_software("Foo/1").unwrap(),
        &err,
        &app,
    );
    assert_bytes(
        &ran.out,
        b"HTTP/1.0 200 OK\r\nserver: App/9\r\nContent-Type: text/plain\r\n\
DATE: Mon, 05 Jun 2006 18:49:54 GMT\r\nContent-Length: 2\r\n\r\nhi",
    );
}

#[test]
fn t3_7_layout_cgi() {
    let ran = run_cgi(&hi_app());
    assert_eq!(ran.outcome, Outcome::Complete);
    assert_bytes(
        &ran.out,
        b"Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi",
    );
}

#[test]
fn t3_7_http09_origin_sends_body_only() {
    for protocol in ["HTTP/0.9", "http/0.9"] {
        let err = SharedBuffer::new();
        let env = pairs(&[("SERVER_PROTOCOL", protocol), ("REQUEST_METHOD", "GET")]);
        let ran = run_simple(origin(env, &err), &err, &hi_app());
        assert_eq!(ran.outcome, Outcome::Complete);
        assert_bytes(&ran.out, b"hi");
    }
}

#[test]
fn t3_7_http09_cgi_gets_full_headers() {
    let err = SharedBuffer::new();
    let env = pairs(&[("SERVER_PROTOCOL", "HTTP/0.9")]);
    let mut handler = cgi(env, &err);
    handler.run(&hi_app());
    assert_bytes(
        &handler.into_stdout(),
        b"Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi",
    );
}

#[test]
fn t3_7_http09_error_page_is_body_only() {
    let err = SharedBuffer::new();
    let env = pairs(&[("SERVER_PROTOCOL", "HTTP/0.9")]);
    let app = app_fn(|_env, _sr| Err("early".into()));
    let ran = run_simple(origin(env, &err), &err, &app);
    assert_bytes(&ran.out, ERROR_BODY);
    assert!(ran.err.ends_with("Error: early\n"));
}

#[test]
fn t3_7_missing_server_protocol_counts_as_modern() {
    // Reference: KeyError in client_is_modern() (origin mode). gateway treats it as modern.
    let err = SharedBuffer::new();
    let ran = run_simple(origin(Vec::new(), &err), &err, &hi_app());
    assert_eq!(ran.err, "");
    assert!(ran.out.starts_with(b"HTTP/1.0 200 OK\r\nDate: "));
}

/// The Content-Length table of 3.7. Each expected output follows `<P>` =
/// `HTTP/1.0 200 OK\r\nDate: <DATE>\r\n` (origin) or `Status: 200 OK\r\n` (CGI).
fn content_length_cases() -> Vec<(&'static str, Box<dyn App>, &'static [u8])> {
    fn case<A: App + 'static>(
        what: &'static str,
        app: A,
        after_preamble: &'static [u8],
    ) -> (&'static str, Box<dyn App>, &'static [u8]) {
        (what, Box::new(app), after_preamble)
    }
    fn returning(body: fn() -> Body) -> impl App {
        app_fn(move |_env, sr| {
            sr.start("200 OK", no_headers())?;
            Ok(body())
        })
    }
    vec![
        case(
            "[b'a', b'b']",
            returning(|| Body::from_chunks(["a", "b"])),
            b"\r\nab",
        ),
        case("[]", returning(Body::empty), b"Content-Length: 0\r\n\r\n"),
        case(
            "[b'']",
            returning(|| Body::from_chunks([""])),
            b"Content-Length: 0\r\n\r\n",
        ),
        case(
            "Body::once(b'')",
            returning(|| Body::once("")),
            b"Content-Length: 0\r\n\r\n",
        ),
        // Same output in both: the reference sends the headers on the empty chunk with
        // bytes_sent 0 and len(result) 2 (no Content-Length); gateway sends them with b'abc'.
        case(
            "[b'', b'abc']",
            returning(|| Body::from_chunks(["", "abc"])),
            b"\r\nabc",
        ),
        case(
            "generator yielding b'abc'",
            returning(|| Body::from_iter(["abc"])),
            b"\r\nabc",
        ),
        case(
            "fallible generator yielding b'abc'",
            returning(|| Body::try_from_iter([Ok::<_, AppError>("abc")])),
            b"\r\nabc",
        ),
        case(
            "empty generator",
            returning(|| Body::from_iter(Vec::<&'static str>::new())),
            b"Content-Length: 0\r\n\r\n",
        ),
        case(
            "1-tuple (b'xy',)",
            returning(|| Body::from("xy")),
            b"Content-Length: 2\r\n\r\nxy",
        ),
        case(
            "owned single chunk",
            returning(|| Body::from(vec![b'x'; 3])),
            b"Content-Length: 3\r\n\r\nxxx",
        ),
        case(
            "FileWrapper(BytesIO(b'data'), 3)",
            returning(|| Body::file(FileWrapper::new(Cursor::new(b"data".to_vec()), 3))),
            b"\r\ndata",
        ),
        case(
            "Content-Length 5 kept with [b'a']",
            app_fn(|_env, sr| {
                sr.start("200 OK", [("Content-Length", "5")])?;
                Ok(Body::from("a"))
            }),
            b"Content-Length: 5\r\n\r\na",
        ),
        case(
            "content-length 5 kept with []",
            app_fn(|_env, sr| {
                sr.start("200 OK", [("content-length", "5")])?;
                Ok(Body::empty())
            }),
            b"content-length: 5\r\n\r\n",
        ),
        case(
            "write(b'abc'); write(b'de'); return [b'f']",
            app_fn(|_env, sr| {
                let mut write = sr.start("200 OK", [("A", "1")])?;
                write.write(b"abc")?;
                write.write(b"de")?;
                Ok(Body::from("f"))
            }),
            b"A: 1\r\n\r\nabcdef",
        ),
        case(
            "Content-Length is the last header",
            app_fn(|_env, sr| {
                sr.start("200 OK", [("A", "1"), ("B", "2")])?;
                Ok(Body::from("xyz"))
            }),
            b"A: 1\r\nB: 2\r\nContent-Length: 3\r\n\r\nxyz",
        ),
    ]
}

#[test]
fn t3_7_content_length_table_origin() {
    for (what, app, after) in content_length_cases() {
        let ran = run_origin(&*app);
        assert_eq!(ran.err, "", "{what}");
        assert_eq!(ran.outcome, Outcome::Complete, "{what}");
        let mut expected = b"HTTP/1.0 200 OK\r\nDate: <DATE>\r\n".to_vec();
        expected.extend_from_slice(after);
        assert_eq!(show(&mask_date(&ran.out)), show(&expected), "{what}");
    }
}

#[test]
fn t3_7_content_length_table_cgi() {
    for (what, app, after) in content_length_cases() {
        let ran = run_cgi(&*app);
        assert_eq!(ran.err, "", "{what}");
        let mut expected = b"Status: 200 OK\r\n".to_vec();
        expected.extend_from_slice(after);
        assert_eq!(show(&ran.out), show(&expected), "{what}");
    }
}

#[test]
fn t3_7_no_special_case_for_204() {
    let app = app_fn(|_env, sr| {
        sr.start("204 No Content", no_headers())?;
        Ok(Body::empty())
    });
    let ran = run_origin(&app);
    assert_bytes(
        &mask_date(&ran.out),
        b"HTTP/1.0 204 No Content\r\nDate: <DATE>\r\nContent-Length: 0\r\n\r\n",
    );
}

// ---- 3.8 format_date_time ---------------------------------------------------------------------

#[test]
fn t3_8_format_date_time() {
    let cases: [(i64, &str); 5] = [
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (784111777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (1149533394, "Mon, 05 Jun 2006 18:49:54 GMT"),
        (253402300799, "Fri, 31 Dec 9999 23:59:59 GMT"),
        // Year 1 is space-padded ('%4d').
        (
            -62_135_596_800 + 3 * 86_400,
            "Thu, 04 Jan    1 00:00:00 GMT",
        ),
    ];
    for (timestamp, expected) in cases {
        assert_eq!(format_date_time(timestamp), expected, "{timestamp}");
    }
    for timestamp in [0, 784111777, 1149533394, 951_782_400, 1_709_208_000] {
        assert_date_shape(&format_date_time(timestamp));
    }
    // Leap days.
    assert_eq!(
        format_date_time(951_782_400),
        "Tue, 29 Feb 2000 00:00:00 GMT"
    );
    assert_eq!(
        format_date_time(1_709_208_000),
        "Thu, 29 Feb 2024 12:00:00 GMT"
    );
}

// ---- 3.9 error handling -----------------------------------------------------------------------

#[test]
fn t3_9_app_error_before_output_origin() {
    for before_start in [true, false] {
        let app = app_fn(move |_env, sr| {
            if !before_start {
                sr.start(
                    "200 OK",
                    [("Content-Type", "text/html"), ("Content-Length", "3")],
                )?;
            }
            Err("early".into())
        });
        let ran = run_origin(&app);
        assert_eq!(ran.outcome, Outcome::Complete);
        // The error page replaces the app's headers (error_output passes exc_info).
        assert_bytes(&mask_date(&ran.out), ERROR_PAGE_ORIGIN);
        assert!(
            ran.err.starts_with("Traceback (most recent call last):\n"),
            "{}",
            ran.err
        );
        assert!(ran.err.ends_with("Error: early\n"), "{}", ran.err);
    }
}

#[test]
fn t3_9_app_error_with_server_software() {
    let err = SharedBuffer::new();
    let app = app_fn(|_env, _sr| Err("early".into()));
    let ran = run_simple(
        origin(env10(), &err).with_server_software("Foo/1").unwrap(),
        &err,
        &app,
    );
    assert_bytes(
        &mask_date(&ran.out),
        b"HTTP/1.0 500 Internal Server Error\r\nDate: <DATE>\r\nServer: Foo/1\r\n\
Content-Type: text/plain\r\nContent-Length: 59\r\n\r\n\
A server error occurred.  Please contact the administrator.",
    );
}

#[test]
fn t3_9_app_error_before_output_cgi() {
    let app = app_fn(|_env, _sr| Err("early".into()));
    let ran = run_cgi(&app);
    assert_eq!(ran.outcome, Outcome::Complete);
    assert_bytes(&ran.out, ERROR_PAGE_CGI);
    assert!(ran.err.ends_with("Error: early\n"), "{}", ran.err);
}

#[test]
fn t3_9_error_log_lists_the_cause_chain() {
    let app = app_fn(|_env, _sr| {
        let cause = io::Error::new(io::ErrorKind::NotFound, "config.toml missing");
        Err(Box::new(io::Error::other(cause)))
    });
    let ran = run_cgi(&app);
    assert_bytes(&ran.out, ERROR_PAGE_CGI);
    assert!(ran.err.contains("config.toml missing"), "{}", ran.err);
}

#[test]
fn t3_9_traceback_limit_zero_logs_only_the_message() {
    let err = SharedBuffer::new();
    let app = app_fn(|_env, _sr| Err("early".into()));
    let ran = run_simple(
        origin(env10(), &err).with_traceback_limit(Some(0)),
        &err,
        &app,
    );
    assert_eq!(ran.err, "Error: early\n");
    let err = SharedBuffer::new();
    let ran = run_simple(
        origin(env10(), &err).with_traceback_limit(Some(0)),
        &err,
        &app_fn(|_env, _sr| panic!("limited")),
    );
    assert_eq!(ran.err, "Panic: limited\n");
}

#[test]
fn t3_9_write_then_fail_truncates_cgi() {
    let app = app_fn(|_env, sr| {
        sr.start("200 OK", no_headers())?.write(b"MSG")?;
        Err("after output".into())
    });
    let ran = run_cgi(&app);
    assert_eq!(ran.outcome, Outcome::Truncated);
    assert_bytes(&ran.out, b"Status: 200 OK\r\n\r\nMSG");
    assert!(ran.err.starts_with("Traceback"), "{}", ran.err);
    assert!(ran.err.ends_with("Error: after output\n"), "{}", ran.err);
}

#[test]
fn t3_9_write_then_fail_truncates_origin() {
    let app = app_fn(|_env, sr| {
        sr.start("200 OK", no_headers())?.write(b"MSG")?;
        Err("after output".into())
    });
    let ran = run_origin(&app);
    assert_eq!(ran.outcome, Outcome::Truncated);
    assert_bytes(
        &mask_date(&ran.out),
        b"HTTP/1.0 200 OK\r\nDate: <DATE>\r\n\r\nMSG",
    );
    assert!(ran.err.ends_with("Error: after output\n"));
}

#[test]
fn t3_9_generator_yields_then_fails() {
    let counter = Arc::new(AtomicUsize::new(0));
    let c = counter.clone();
    let app = app_fn(move |_env, sr| {
        sr.start("200 OK", no_headers())?;
        let chunks: Vec<Result<&'static str, AppError>> =
            vec![Ok("one"), Err("generator failed".into()), Ok("never")];
        Ok(counted(Body::try_from_iter(chunks), &c))
    });
    let ran = run_origin(&app);
    assert_eq!(ran.outcome, Outcome::Truncated);
    assert_bytes(
        &mask_date(&ran.out),
        b"HTTP/1.0 200 OK\r\nDate: <DATE>\r\n\r\none",
    );
    assert!(
        ran.err.ends_with("Error: generator failed\n"),
        "{}",
        ran.err
    );
    assert_eq!(closes(&counter), 1);

    let ran = run_cgi(&app);
    assert_bytes(&ran.out, b"Status: 200 OK\r\n\r\none");
    assert_eq!(closes(&counter), 2);
}

#[test]
fn t3_9_generator_fails_before_any_chunk() {
    let app = app_fn(|_env, sr| {
        sr.start("200 OK", [("Content-Type", "text/html")])?;
        Ok(Body::try_from_iter([Err::<&'static str, AppError>(
            "first chunk failed".into(),
        )]))
    });
    let ran = run_origin(&app);
    assert_eq!(ran.outcome, Outcome::Complete);
    assert_bytes(&mask_date(&ran.out), ERROR_PAGE_ORIGIN);
    assert!(ran.err.ends_with("Error: first chunk failed\n"));
}

#[test]
fn t3_9_generator_yields_empty_then_fails() {
    // Deviation: the reference sends the headers on the empty chunk, so the failure leaves
    // `HTTP/1.0 200 OK\r\nDate: ...\r\n\r\n` and no error page. gateway has sent nothing yet
    // (headers wait for a non-empty chunk), so the 500 page still replaces the response.
    let app = app_fn(|_env, sr| {
        sr.start("200 OK", no_headers())?;
        let chunks: Vec<Result<&'static str, AppError>> = vec![Ok(""), Err("late".into())];
        Ok(Body::try_from_iter(chunks))
    });
    let ran = run_origin(&app);
    assert_eq!(ran.outcome, Outcome::Complete);
    assert_bytes(&mask_date(&ran.out), ERROR_PAGE_ORIGIN);
    assert!(ran.err.ends_with("Error: late\n"));
}

#[test]
fn t3_9_custom_error_status_headers_body() {
    let err = SharedBuffer::new();
    let mut custom = Custom::new(origin(env10(), &err));
    custom.error_status = Some("503 Busy".to_owned());
    custom.error_headers = Some(pairs(&[
        ("Content-Type", "text/html"),
        ("Retry-After", "5"),
    ]));
    custom.error_body = Some(b"<b>busy</b>".to_vec());
    let app = app_fn(|_env, _sr| Err("overloaded".into()));
    let ran = custom.run(&app);
    assert_eq!(ran.outcome, Outcome::Complete);
    assert_bytes(
        &mask_date(&custom.inner.into_stdout()),
        b"HTTP/1.0 503 Busy\r\nDate: <DATE>\r\nContent-Type: text/html\r\nRetry-After: 5\r\n\
Content-Length: 11\r\n\r\n<b>busy</b>",
    );
    assert!(err.to_string_lossy().ends_with("Error: overloaded\n"));

    // The same handler type in CGI mode.
    let err = SharedBuffer::new();
    let mut custom = Custom::new(origin(env10(), &err));
    custom.origin = false;
    custom.error_status = Some("503 Busy".to_owned());
    custom.error_headers = Some(pairs(&[("Retry-After", "5")]));
    custom.error_body = Some(Vec::new());
    custom.run(&app);
    assert_bytes(
        &custom.inner.into_stdout(),
        b"Status: 503 Busy\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n",
    );
}

#[test]
fn t3_9_error_page_failing_is_logged_and_run_returns() {
    // Reference: if handle_error raises, close() runs and the second exception propagates out
    // of run(). gateway logs both failures, closes, and returns Truncated.
    let err = SharedBuffer::new();
    let mut handler = BrokenErrorPage {
        inner: origin(env10(), &err),
    };
    let app = app_fn(|_env, _sr| Err("first failure".into()));
    let ran = handler.run(&app);
    assert_eq!(ran.outcome, Outcome::Truncated);
    let log = err.to_string_lossy();
    assert!(log.contains("Error: first failure\n"), "{log}");
    assert!(log.ends_with("Error: the error page broke\n"), "{log}");
    assert!(handler.state().status.is_none(), "close() ran");
    assert_bytes(&handler.inner.into_stdout(), b"");
}

#[test]
fn t3_9_app_panic_gives_500_and_logs_the_message() {
    let app = app_fn(|_env, sr| {
        sr.start("200 OK", no_headers())?;
        panic!("secret internal state 1234");
    });
    let ran = run_origin(&app);
    assert_eq!(ran.outcome, Outcome::Complete);
    assert_bytes(&mask_date(&ran.out), ERROR_PAGE_ORIGIN);
    assert!(find(&ran.out, b"secret").is_none());
    assert!(
        ran.err.contains("Panic: secret internal state 1234"),
        "{}",
        ran.err
    );
    assert!(
        ran.err.contains("handlers_reference.rs"),
        "location logged: {}",
        ran.err
    );

    let ran = run_cgi(&app);
    assert_bytes(&ran.out, ERROR_PAGE_CGI);
    assert!(ran.err.contains("secret internal state 1234"));
}

#[test]
fn t3_9_panic_while_iterating() {
    let counter = Arc::new(AtomicUsize::new(0));
    let c = counter.clone();
    // Panics on the first chunk: nothing sent, so the error page.
    let first = app_fn(move |_env, sr| {
        sr.start("200 OK", no_headers())?;
        let chunks = (0..1).map(|_| -> &'static str { panic!("body exploded") });
        Ok(counted(Body::from_iter(chunks), &c))
    });
    let ran = run_origin(&first);
    assert_eq!(ran.outcome, Outcome::Complete);
    assert_bytes(&mask_date(&ran.out), ERROR_PAGE_ORIGIN);
    assert!(ran.err.contains("Panic: body exploded"), "{}", ran.err);
    assert_eq!(closes(&counter), 1);

    // Panics on the second chunk: truncated.
    let c = counter.clone();
    let second = app_fn(move |_env, sr| {
        sr.start("200 OK", no_headers())?;
        let chunks = (0..2).map(|i| {
            if i == 0 {
                "one"
            } else {
                panic!("body exploded later")
            }
        });
        Ok(counted(Body::from_iter(chunks), &c))
    });
    let ran = run_cgi(&second);
    assert_eq!(ran.outcome, Outcome::Truncated);
    assert_bytes(&ran.out, b"Status: 200 OK\r\n\r\none");
    assert!(
        ran.err.contains("Panic: body exploded later"),
        "{}",
        ran.err
    );
    assert_eq!(closes(&counter), 2);
}

#[test]
fn t3_9_panic_in_on_close_is_caught_and_logged() {
    // Reference: result.close() raising on the success path appends a second 500 response (CGI)
    // or propagates out of run() (origin). A Rust close cannot fail, but a panicking close action
    // is caught: run() returns, the response already sent stays whole, the panic is logged.
    let app = app_fn(|_env, sr| {
        sr.start("200 OK", no_headers())?;
        Ok(Body::from("ok").on_close(|| panic!("close action exploded")))
    });
    let ran = run_cgi(&app);
    assert_bytes(&ran.out, b"Status: 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assert_eq!(ran.outcome, Outcome::Truncated);
    assert!(ran.err.contains("close action exploded"), "{}", ran.err);

    let ran = run_origin(&app);
    assert_bytes(
        &mask_date(&ran.out),
        b"HTTP/1.0 200 OK\r\nDate: <DATE>\r\nContent-Length: 2\r\n\r\nok",
    );
    assert!(ran.err.contains("close action exploded"), "{}", ran.err);
}

#[test]
fn t3_9_stdout_failure_is_logged_and_state_kept() {
    // testDontResetInternalStateOnException: a non-connection write error is logged, run
    // returns normally, and the handler state is left as it was.
    for kind in [io::ErrorKind::Other, io::ErrorKind::TimedOut] {
        let err = SharedBuffer::new();
        let mut handler = SimpleHandler::new(
            Input::empty(),
            Flaky::new(0, kind),
            ErrorStream::new(err.clone()),
            env10(),
        );
        let ran = handler.run(&hi_app());
        assert_eq!(ran.outcome, Outcome::Truncated, "{kind:?}");
        let log = err.to_string_lossy();
        assert!(log.contains("simulated stdout failure"), "{kind:?}: {log}");
        let state = handler.state();
        assert_eq!(state.status.as_deref(), Some("200 OK"));
        assert!(state.headers.is_some());
        assert!(state.headers_sent);
        assert!(handler.stdout().written.is_empty(), "nothing more written");
    }
}

#[test]
fn t3_9_stdout_failure_mid_body_writes_nothing_more() {
    let err = SharedBuffer::new();
    // Header block and first chunk succeed, the second chunk fails.
    let mut handler = BaseCgiHandler::new(
        Input::empty(),
        Flaky::new(2, io::ErrorKind::Other),
        ErrorStream::new(err.clone()),
        env10(),
    );
    let app = app_fn(|_env, sr| {
        sr.start("200 OK", no_headers())?;
        Ok(Body::from_chunks(["one", "two", "three"]))
    });
    assert_eq!(handler.run(&app).outcome, Outcome::Truncated);
    assert_bytes(&handler.stdout().written, b"Status: 200 OK\r\n\r\none");
    assert!(err.to_string_lossy().contains("simulated stdout failure"));
}

// ---- 3.10 client disconnect -------------------------------------------------------------------

#[test]
fn t3_10_disconnect_is_quiet_and_closes_the_body() {
    for kind in [
        io::ErrorKind::BrokenPipe,
        io::ErrorKind::ConnectionReset,
        io::ErrorKind::ConnectionAborted,
    ] {
        for ok_writes in [0, 1, 2] {
            let counter = Arc::new(AtomicUsize::new(0));
            let c = counter.clone();
            let app = app_fn(move |_env, sr| {
                sr.start("200 OK", [("Content-Type", "text/plain")])?;
                Ok(counted(Body::from_chunks(["one", "two", "three"]), &c))
            });
            let err = SharedBuffer::new();
            let mut handler = SimpleHandler::new(
                Input::empty(),
                Flaky::new(ok_writes, kind),
                ErrorStream::new(err.clone()),
                env10(),
            );
            let ran = handler.run(&app);
            assert_eq!(
                ran.outcome,
                Outcome::ClientGone,
                "{kind:?} after {ok_writes}"
            );
            assert_eq!(err.to_string_lossy(), "", "nothing logged");
            assert_eq!(closes(&counter), 1, "{kind:?} after {ok_writes}");
            // Handler state is left as is (close() not called).
            assert_eq!(handler.state().status.as_deref(), Some("200 OK"));
            assert!(handler.state().client_gone);
            // No error page followed what was written.
            let written = &handler.stdout().written;
            assert!(find(written, b"500").is_none(), "{}", show(written));
        }
    }
}

#[test]
fn t3_10_disconnect_during_write_callable() {
    let err = SharedBuffer::new();
    let mut handler = BaseCgiHandler::new(
        Input::empty(),
        Flaky::new(0, io::ErrorKind::BrokenPipe),
        ErrorStream::new(err.clone()),
        env10(),
    );
    let app = app_fn(|_env, sr| {
        sr.start("200 OK", no_headers())?.write(b"data")?;
        Ok(Body::empty())
    });
    assert_eq!(handler.run(&app).outcome, Outcome::ClientGone);
    assert_eq!(err.to_string_lossy(), "");
}

#[test]
fn t3_10_disconnect_error_raised_by_the_app_is_quiet() {
    // A BrokenPipeError raised anywhere (here: by the app itself) is swallowed silently.
    let counter = Arc::new(AtomicUsize::new(0));
    let c = counter.clone();
    let app = app_fn(move |_env, sr| {
        sr.start("200 OK", no_headers())?;
        let chunks: Vec<Result<&'static str, AppError>> = vec![Err(Box::new(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "peer reset",
        )))];
        Ok(counted(Body::try_from_iter(chunks), &c))
    });
    let ran = run_origin(&app);
    assert_eq!(ran.outcome, Outcome::ClientGone);
    assert_eq!(ran.err, "");
    assert_bytes(&ran.out, b"");
    assert_eq!(closes(&counter), 1);

    let app = app_fn(|_env, _sr| Err(Box::new(io::Error::from(io::ErrorKind::BrokenPipe))));
    let ran = run_cgi(&app);
    assert_eq!(ran.outcome, Outcome::ClientGone);
    assert_eq!(ran.err, "");
    assert_bytes(&ran.out, b"");
}

#[test]
fn t3_10_disconnect_while_sending_error_page() {
    let err = SharedBuffer::new();
    let mut handler = SimpleHandler::new(
        Input::empty(),
        Flaky::new(0, io::ErrorKind::BrokenPipe),
        ErrorStream::new(err.clone()),
        env10(),
    );
    let app = app_fn(|_env, _sr| Err("early".into()));
    assert_eq!(handler.run(&app).outcome, Outcome::ClientGone);
    // The app's failure was logged before the page was attempted; the disconnect was not.
    let log = err.to_string_lossy();
    assert!(log.ends_with("Error: early\n"), "{log}");
    assert!(!log.contains("simulated"), "{log}");
}

// ---- close() runs exactly once on every path --------------------------------------------------

#[test]
fn body_close_runs_exactly_once_on_every_path() {
    fn ok_app(body_factory: fn() -> Body) -> impl Fn(Arc<AtomicUsize>) -> Box<dyn App> {
        move |counter| {
            Box::new(app_fn(move |_env, sr| {
                sr.start("200 OK", no_headers())?;
                Ok(counted(body_factory(), &counter))
            }))
        }
    }
    /// Builds the app of one path around a close counter.
    type MakeApp = Box<dyn Fn(Arc<AtomicUsize>) -> Box<dyn App>>;
    let paths: Vec<(&str, MakeApp)> = vec![
        (
            "success, list",
            Box::new(ok_app(|| Body::from_chunks(["a", "b"]))),
        ),
        ("success, empty", Box::new(ok_app(Body::empty))),
        ("success, lazy", Box::new(ok_app(|| Body::from_iter(["a"])))),
        (
            "success, file",
            Box::new(ok_app(|| {
                Body::file(FileWrapper::new(Cursor::new(b"data".to_vec()), 2))
            })),
        ),
        (
            "body error",
            Box::new(ok_app(|| {
                Body::try_from_iter([Err::<&'static str, AppError>("x".into())])
            })),
        ),
        (
            "body panic",
            Box::new(ok_app(|| {
                Body::from_iter((0..1).map(|_| -> &'static str { panic!("boom") }))
            })),
        ),
        (
            "app error after building the body",
            Box::new(|counter: Arc<AtomicUsize>| -> Box<dyn App> {
                Box::new(app_fn(move |_env, sr| {
                    let body = counted(Body::from("unused"), &counter);
                    sr.start("200 OK", no_headers())?;
                    drop(body);
                    Err("app failed".into())
                }))
            }),
        ),
        (
            "app panic after building the body",
            Box::new(|counter: Arc<AtomicUsize>| -> Box<dyn App> {
                Box::new(app_fn(move |_env, _sr| {
                    let _body = counted(Body::from("unused"), &counter);
                    panic!("app panicked")
                }))
            }),
        ),
        (
            "misuse: body without start_response",
            Box::new(|counter: Arc<AtomicUsize>| -> Box<dyn App> {
                Box::new(app_fn(move |_env, _sr| {
                    Ok(counted(Body::from("x"), &counter))
                }))
            }),
        ),
    ];
    for (what, make) in paths {
        for cgi_mode in [false, true] {
            let counter = Arc::new(AtomicUsize::new(0));
            let app = make(counter.clone());
            if cgi_mode {
                run_cgi(&*app);
            } else {
                run_origin(&*app);
            }
            assert_eq!(closes(&counter), 1, "{what} (cgi: {cgi_mode})");
        }
    }
    // Disconnect.
    let counter = Arc::new(AtomicUsize::new(0));
    let app = ok_app(|| Body::from("x"))(counter.clone());
    let mut handler = SimpleHandler::new(
        Input::empty(),
        Flaky::new(0, io::ErrorKind::BrokenPipe),
        ErrorStream::sink(),
        env10(),
    );
    handler.run(&*app);
    assert_eq!(closes(&counter), 1, "disconnect");
    // HTTP/0.9.
    let counter = Arc::new(AtomicUsize::new(0));
    let app = ok_app(|| Body::from("x"))(counter.clone());
    let mut handler = SimpleHandler::new(
        Input::empty(),
        Vec::new(),
        ErrorStream::sink(),
        [("SERVER_PROTOCOL", "HTTP/0.9")],
    );
    handler.run(&*app);
    assert_eq!(closes(&counter), 1, "HTTP/0.9");
}

// ---- 3.11 file wrapper and sendfile -----------------------------------------------------------

#[test]
fn t3_11_default_file_wrapper_path() {
    let counter = Arc::new(AtomicUsize::new(0));
    let c = counter.clone();
    let app = app_fn(move |env, sr| {
        assert!(env.file_wrapper());
        sr.start("200 OK", no_headers())?;
        Ok(counted(
            Body::file(FileWrapper::new(Cursor::new(b"data".to_vec()), 3)),
            &c,
        ))
    });
    let ran = run_origin(&app);
    assert_eq!(ran.err, "");
    // No Content-Length: a FileWrapper has no length.
    assert_bytes(
        &mask_date(&ran.out),
        b"HTTP/1.0 200 OK\r\nDate: <DATE>\r\n\r\ndata",
    );
    assert_eq!(closes(&counter), 1);
}

#[test]
fn t3_11_sendfile_override() {
    let err = SharedBuffer::new();
    let mut custom = Custom::new(origin(env10(), &err));
    custom.sendfile = true;
    let counter = Arc::new(AtomicUsize::new(0));
    let c = counter.clone();
    let app = app_fn(move |_env, sr| {
        sr.start("200 OK", no_headers())?;
        Ok(counted(
            Body::file(FileWrapper::new(Cursor::new(b"data".to_vec()), 3)),
            &c,
        ))
    });
    let ran = custom.run(&app);
    assert_eq!(ran.outcome, Outcome::Complete);
    assert_eq!(custom.sendfile_calls, 1);
    assert_eq!(closes(&counter), 1, "close() still runs");
    assert!(custom.state().status.is_none(), "handler close() ran");
    assert_eq!(err.to_string_lossy(), "");
    assert_bytes(
        &mask_date(&custom.inner.into_stdout()),
        b"HTTP/1.0 200 OK\r\nDate: <DATE>\r\n\r\n<SENDFILE:data>",
    );
}

#[test]
fn t3_11_sendfile_declining_falls_back_to_iteration() {
    let err = SharedBuffer::new();
    let mut custom = Custom::new(origin(env10(), &err));
    let app = app_fn(|_env, sr| {
        sr.start("200 OK", no_headers())?;
        Ok(Body::file(FileWrapper::new(
            Cursor::new(b"data".to_vec()),
            3,
        )))
    });
    custom.run(&app);
    assert_eq!(custom.sendfile_calls, 1);
    assert_bytes(
        &mask_date(&custom.inner.into_stdout()),
        b"HTTP/1.0 200 OK\r\nDate: <DATE>\r\n\r\ndata",
    );
}

#[test]
fn t3_11_sendfile_not_tried_for_other_bodies() {
    let err = SharedBuffer::new();
    let mut custom = Custom::new(origin(env10(), &err));
    custom.sendfile = true;
    custom.run(&hi_app());
    assert_eq!(custom.sendfile_calls, 0);
    assert!(
        custom
            .inner
            .into_stdout()
            .ends_with(b"Content-Length: 2\r\n\r\nhi")
    );
}

// ---- 3.12 SimpleHandler I/O details -----------------------------------------------------------

#[test]
fn t3_12_partial_writes_still_deliver_everything() {
    let err = SharedBuffer::new();
    let mut handler = SimpleHandler::new(
        Input::empty(),
        SevenBytes::default(),
        ErrorStream::new(err.clone()),
        env10(),
    );
    let app = app_fn(|_env, sr| {
        sr.start("200 OK", [("Content-Type", "text/plain")])?;
        Ok(Body::from_chunks([
            "Hello, world! This chunk is longer than seven bytes.",
            "x",
        ]))
    });
    assert_eq!(handler.run(&app).outcome, Outcome::Complete);
    let stdout = handler.into_stdout();
    assert_bytes(
        &mask_date(&stdout.written),
        b"HTTP/1.0 200 OK\r\nDate: <DATE>\r\nContent-Type: text/plain\r\n\r\n\
Hello, world! This chunk is longer than seven bytes.x",
    );
    assert!(stdout.calls > stdout.written.len() / 7);
    // Reference: a DeprecationWarning per partial _write. gateway simply completes the write.
    assert_eq!(err.to_string_lossy(), "");
}

#[test]
fn t3_12_partial_writes_cgi() {
    let mut handler = BaseCgiHandler::new(
        Input::empty(),
        SevenBytes::default(),
        ErrorStream::sink(),
        env10(),
    );
    handler.run(&hi_app());
    assert_bytes(
        &handler.into_stdout().written,
        b"Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi",
    );
}

// ---- 3.13 CGIHandler, IISCGIHandler, read_environ() -------------------------------------------

fn os(bytes: &[u8]) -> OsString {
    OsString::from_vec(bytes.to_vec())
}

#[test]
fn t3_13_read_environ_transcoding() {
    let vars = [
        ("PATH_INFO", &b"/caf\xc3\xa9"[..]),
        ("SCRIPT_NAME", b"/s\xff"),
        ("HTTP_X", "€".as_bytes()),
        ("HTTP_", b"\xe9"),
        ("SSL_X", "é".as_bytes()),
        ("QUERY_STRING", "q=é".as_bytes()),
        ("REQUEST_METHOD", b"GET"),
        ("AUTH_TYPE", "é".as_bytes()),
        ("CONTENT_TYPE", "é".as_bytes()),
        ("CONTENT_LENGTH", b"5"),
        ("HTTPS", b"on"),
        ("REMOTE_USER", "é".as_bytes()),
        ("REMOTE_IDENT", "é".as_bytes()),
        ("REDIRECT_HTTP_Y", "é".as_bytes()),
        ("REDIRECT_REDIRECT_PATH_INFO", "é".as_bytes()),
        ("REMOTE_ADDR", "é".as_bytes()),
        ("REDIRECT_FOO", "é".as_bytes()),
        ("REDIRECT_URL", "é".as_bytes()),
        ("REDIRECT_STATUS", "é".as_bytes()),
        ("T_FOO", "café".as_bytes()),
        ("http_x", "é".as_bytes()),
        ("SERVER_NAME", "é".as_bytes()),
        ("REQUEST_URI", "/é".as_bytes()),
        ("PATH_TRANSLATED", "é".as_bytes()),
    ];
    let env = read_environ_from(vars.iter().map(|(k, v)| (OsString::from(k), os(v))));
    let expect = [
        ("PATH_INFO", "/caf\u{c3}\u{a9}"),
        ("SCRIPT_NAME", "/s\u{ff}"),
        ("HTTP_X", "\u{e2}\u{82}\u{ac}"),
        ("HTTP_", "\u{e9}"),
        ("SSL_X", "\u{c3}\u{a9}"),
        ("QUERY_STRING", "q=\u{c3}\u{a9}"),
        ("REQUEST_METHOD", "GET"),
        ("AUTH_TYPE", "\u{c3}\u{a9}"),
        ("CONTENT_TYPE", "\u{c3}\u{a9}"),
        ("CONTENT_LENGTH", "5"),
        ("HTTPS", "on"),
        ("REMOTE_USER", "\u{c3}\u{a9}"),
        ("REMOTE_IDENT", "\u{c3}\u{a9}"),
        ("REDIRECT_HTTP_Y", "\u{c3}\u{a9}"),
        ("REDIRECT_REDIRECT_PATH_INFO", "\u{c3}\u{a9}"),
        // Not transcoded: native (UTF-8) decoding.
        ("REMOTE_ADDR", "é"),
        ("REDIRECT_FOO", "é"),
        ("REDIRECT_URL", "é"),
        ("REDIRECT_STATUS", "é"),
        ("T_FOO", "café"),
        ("http_x", "é"),
        ("SERVER_NAME", "é"),
        ("REQUEST_URI", "/é"),
        ("PATH_TRANSLATED", "é"),
    ];
    for (key, value) in expect {
        assert_eq!(env.get(key), Some(value), "{key}");
    }
    assert_eq!(env.len(), expect.len());
    // The original bytes come back through the latin-1 view.
    assert_eq!(env.get_bytes("SCRIPT_NAME").unwrap().unwrap(), b"/s\xff");
    assert_eq!(env.get_utf8("PATH_INFO").unwrap().unwrap(), "/café");
}

#[test]
fn t3_13_read_environ_invalid_utf8_outside_the_transcoded_set() {
    // Reference: Python's surrogateescape gives '\udcff' for such a byte. Rust strings cannot
    // hold lone surrogates: gateway decodes the whole value byte-for-byte as latin-1.
    let env = read_environ_from([(OsString::from("SERVER_NAME"), os(b"h\xffst"))]);
    assert_eq!(env.get("SERVER_NAME"), Some("h\u{ff}st"));
}

#[test]
fn t3_13_cgi_style_run_over_read_environ() {
    // What CGIHandler does, over explicit streams: BaseCgiHandler with read_environ's result,
    // multithread False, multiprocess True, run_once True.
    let env = read_environ_from(
        [
            ("REQUEST_METHOD", "POST"),
            ("CONTENT_LENGTH", "5"),
            ("PATH_INFO", "/x"),
            ("HTTPS", "on"),
        ]
        .map(|(k, v)| (OsString::from(k), OsString::from(v))),
    );
    let vars: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let mut handler = BaseCgiHandler::new(
        Input::from_bytes(b"hello".to_vec()),
        Vec::new(),
        ErrorStream::sink(),
        vars,
    )
    .with_flags(false, true)
    .with_run_once(true);
    let app = app_fn(|env, sr| {
        let mut input = String::new();
        env.input().read_to_string(&mut input)?;
        let text = format!(
            "{} {} {} {} {} {:?} {}",
            env.multithread(),
            env.multiprocess(),
            env.run_once(),
            env.url_scheme(),
            env.get("REQUEST_METHOD").unwrap_or(""),
            env.get("SERVER_SOFTWARE"),
            input
        );
        sr.start("200 OK", [("Content-Type", "text/plain")])?;
        Ok(Body::from(text))
    });
    handler.run(&app);
    assert_bytes(
        &handler.into_stdout(),
        b"Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 37\r\n\r\n\
false true true https POST None hello",
    );
}

#[test]
fn t3_13_iis_path_info_fix_table() {
    let table: [(Option<&str>, Option<&str>, Option<&str>); 11] = [
        (Some("/app.py"), Some("/app.py/foo/bar"), Some("/foo/bar")),
        (Some("/app.py"), Some("/app.py"), Some("")),
        (Some("/app.py"), Some("/app.pyx/foo"), Some("/app.pyx/foo")),
        (Some("/app.py"), Some("/other/foo"), Some("/other/foo")),
        (Some("/a"), Some("/A/b"), Some("/A/b")),
        (Some("/a/"), Some("/a/b"), Some("/a/b")),
        (Some("/a/"), Some("/a//x"), Some("/x")),
        (Some("/a/"), Some("/a/"), Some("")),
        (Some(""), Some("/x/y"), Some("/x/y")),
        (Some("/a"), None, None),
        (None, None, Some("")),
    ];
    for (script, path, expected) in table {
        let mut env = Environ::new();
        if let Some(script) = script {
            env.insert("SCRIPT_NAME", script);
        }
        if let Some(path) = path {
            env.insert("PATH_INFO", path);
        }
        iis_path_info_fix(&mut env);
        assert_eq!(env.get("PATH_INFO"), expected, "{script:?} {path:?}");
        assert_eq!(env.get("SCRIPT_NAME"), script, "SCRIPT_NAME untouched");
    }
    // SCRIPT_NAME absent, PATH_INFO given.
    let mut env: Environ = [("PATH_INFO", "/x/y")].into_iter().collect();
    iis_path_info_fix(&mut env);
    assert_eq!(env.get("PATH_INFO"), Some("/x/y"));
}

// ---- 3.14 HEAD ------------------------------------------------------------------------------

#[test]
fn t3_14_head_body_is_transmitted() {
    let err = SharedBuffer::new();
    let env = pairs(&[("SERVER_PROTOCOL", "HTTP/1.0"), ("REQUEST_METHOD", "HEAD")]);
    let ran = run_simple(origin(env, &err), &err, &hi_app());
    assert_bytes(
        &mask_date(&ran.out),
        b"HTTP/1.0 200 OK\r\nDate: <DATE>\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi",
    );
}

#[test]
fn t3_14_head_content_length_with_empty_body_is_kept() {
    let app = app_fn(|_env, sr| {
        sr.start(
            "200 OK",
            [("Content-Type", "text/plain"), ("Content-Length", "1234")],
        )?;
        Ok(Body::empty())
    });
    let err = SharedBuffer::new();
    let env = pairs(&[("SERVER_PROTOCOL", "HTTP/1.0"), ("REQUEST_METHOD", "HEAD")]);
    let ran = run_simple(origin(env, &err), &err, &app);
    assert_bytes(
        &mask_date(&ran.out),
        b"HTTP/1.0 200 OK\r\nDate: <DATE>\r\nContent-Type: text/plain\r\nContent-Length: 1234\r\n\r\n",
    );
}
