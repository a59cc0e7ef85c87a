//! `wsgiref.validate`: [`validator`] wraps an app and checks both sides of every
//! conversation, what the server hands the app and what the app hands back.
//!
//! A broken rule is a [`ValidationError`] with the reference's message (`Status codes must
//! be three characters: '2000'`) and its number in the list below; the handlers engine turns
//! it into a 500 and logs it like any app error. The reference's three warnings are written
//! to `wsgi.errors` (`WSGIWarning: ...`), or are errors too with
//! [`Validator::strict`]. The validator never changes a status, a header or a byte of the
//! body.
//!
//! ```
//! use gateway::{app_fn, Body};
//! use gateway::test::{run_app, EnvironBuilder};
//! use gateway::validate::validator;
//!
//! // Forgets the Content-Type.
//! let app = validator(app_fn(|_env, sr| {
//!     sr.start("200 OK", Vec::<(String, String)>::new())?;
//!     Ok(Body::from("hi"))
//! }));
//! let response = run_app(&app, EnvironBuilder::new().build());
//! assert_eq!(response.status_code, 500);
//! assert!(response.errors.contains("No Content-Type header found in headers ([])"), "{}", response.errors);
//! ```
//!
//! `cargo run --example validator` serves the seed's example under `make_server`: an app
//! that hands back its body without calling `start_response` (Python's version returns a bare
//! string, which Rust's types rule out). `curl -i http://127.0.0.1:8000/` gets the server's
//! 500 page, and the server prints:
//!
//! ```text
//! Listening on port 8000....
//! Traceback (most recent call last):
//! Error: The application returns and we started iterating over its body, but start_response has not yet been called (wsgiref.validate rule 49)
//! 127.0.0.1 - - [02/Dec/2026 01:29:29] "GET / HTTP/1.1" 500 59
//! ```
//!
//! # Every rule of the reference
//!
//! The numbers are those of the reference's list (`wsgiref-behaviour.md`, section 5). Where
//! Rust's types make a mistake impossible, the line says which type.
//!
//! | # | rule | here |
//! |---|---|---|
//! | 1, 2 | exactly two positional arguments, no keywords | [`App::call`] takes exactly an environ and a `start_response` |
//! | 3 | the environ is exactly a dict | it is an [`Environ`] |
//! | 4 | `REQUEST_METHOD`, `SERVER_NAME`, `SERVER_PORT` present (`wsgi.*` too) | checked: `Environment missing required key: 'SERVER_PORT'`; the `wsgi.*` entries are typed fields, always present |
//! | 5 | no `HTTP_CONTENT_TYPE` / `HTTP_CONTENT_LENGTH` | checked |
//! | 6 | `QUERY_STRING` present | a warning |
//! | 7 | CGI values are strings | [`Environ`] values are `str` |
//! | 8 | `wsgi.version` is a tuple | a typed `(u32, u32)` |
//! | 9 | `wsgi.url_scheme` is `http` or `https` | checked (`wsgi.url_scheme unknown: 'ftp'`); never set is the reference's `KeyError`, reported as a missing key |
//! | 10 | `wsgi.input` has `read`, `readline`, `readlines`, `__iter__` | [`Input`](crate::Input) is `Read + BufRead` |
//! | 11 | `wsgi.errors` has `flush`, `write`, `writelines` | [`ErrorStream`] is `Write` |
//! | 12 | a known `REQUEST_METHOD` | a warning: `Unknown REQUEST_METHOD: 'FOO'` |
//! | 13, 14 | `SCRIPT_NAME`, `PATH_INFO` empty or starting with `/` | checked; missing is the reference's `KeyError`, reported as a missing key |
//! | 15 | `CONTENT_LENGTH`, when not empty, a non-negative integer (Python's `int()` syntax) | checked: `Invalid CONTENT_LENGTH: '-1'`; not a number is the reference's `ValueError` message |
//! | 16 | `SCRIPT_NAME` or `PATH_INFO` present | checked (after 13 and 14, as there, so never reached) |
//! | 17 | `SCRIPT_NAME` is not `/` | checked |
//! | 18–21 | `wsgi.input`'s `read` takes one size, every read returns bytes, iteration by lines | `Read`/`BufRead` fill byte buffers; there is no size-less `read` |
//! | 22 | `wsgi.input.close()` forbidden | [`Input`](crate::Input) has no `close` |
//! | 23–25 | `wsgi.errors` takes `str`, `writelines` each, `flush` | `Write` takes bytes; `write_all` and `flush` are the whole interface |
//! | 26 | `wsgi.errors.close()` forbidden | [`ErrorStream`] has no `close` |
//! | 27, 28 | `start_response` takes 2 or 3 positional arguments | [`StartResponse`] methods take status, headers and `exc_info` |
//! | 29 | the status is a `str` | `&str` |
//! | 30 | the status code has three characters | checked: `Status codes must be three characters: '2000'` (an empty status is the reference's `IndexError`, reported here as this rule) |
//! | 31 | the code is an integer | checked, with the reference's `ValueError` message: `invalid literal for int() with base 10: '20X'` |
//! | 32 | the code is at least 100 | checked: `Status code is invalid: 99` |
//! | 33 | a space and a reason after the code | a warning |
//! | 34–37 | headers are a list of `(str, str)` tuples | pairs of `str` (a pair that cannot be a header at all is refused by [`Headers`] and reported as is) |
//! | 38 | no `Status` header | checked |
//! | 39 | no `:` or `\n` in a name | checked |
//! | 40 | a name is `^[a-zA-Z][a-zA-Z0-9\-_]*$` | checked: `Bad header name: '1X'` |
//! | 41 | a name does not end in `-` or `_` | checked |
//! | 42 | a value has no character below U+0020 (TAB included) | checked: `Bad header value: 'a\tb' (bad char: '\t')` |
//! | 43 | a `Content-Type` except on 204 and 304, where it is forbidden | checked |
//! | 44 | `exc_info` is a tuple | `Option<AppError>` |
//! | 45 | `write` takes bytes | `&[u8]` |
//! | 46 | the app returns an iterable | it returns a [`Body`] |
//! | 47 | not a bare `str`/`bytes` | a [`Body`] is chunks; `Body::from("text")` is one chunk, the single-item list the rule asks for |
//! | 48 | the result is iterable | [`Body`] is an iterator |
//! | 49 | no chunk read after close; chunks are bytes; `start_response` called before the first chunk | checked (`Iterator read after closed`; `The application returns and we started iterating over its body, but start_response has not yet been called`); chunks are bytes by type |
//! | 50 | `close()` reaches the app's body; twice is fine | checked by forwarding: the body's `close` runs once |
//! | 51 | a body dropped without `close()` is reported | checked: `Iterator garbage collected without being closed` on `wsgi.errors` |
//! | (length) | the wrapper hides `len()`, so the server cannot add `Content-Length` | the same: a list body is passed on as a lazy one |
//!
//! A [`FileWrapper`](crate::util::FileWrapper) body stays one when `start_response` has been
//! called by the time the app returns (it must be, for the body to be valid), so the server
//! still sends it with sendfile; otherwise it is read through the checks like any body.

use std::fmt;
use std::io::Write as _;

use crate::{
    App, AppError, Body, Chunk, Environ, ErrorStream, HeaderError, Headers, ResponseSink,
    StartResponse,
};

/// A broken WSGI rule: the reference's message and its number in the reference's list.
///
/// ```
/// use gateway::{app_fn, Body};
/// use gateway::test::{run_app, EnvironBuilder};
/// use gateway::validate::validator;
///
/// let app = validator(app_fn(|_env, sr| {
///     sr.start("2000 OK", [("Content-Type", "text/plain")])?;
///     Ok(Body::empty())
/// }));
/// let response = run_app(&app, EnvironBuilder::new().build());
/// assert!(response.errors.contains("Status codes must be three characters: '2000' (wsgiref.validate rule 30)"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    rule: u8,
    message: String,
}

impl ValidationError {
    fn new(rule: u8, message: impl Into<String>) -> Self {
        ValidationError {
            rule,
            message: message.into(),
        }
    }

    /// The rule's number in the reference's list (section 5 of `wsgiref-behaviour.md`).
    ///
    /// ```
    /// # use gateway::{app_fn, AppError, Body, Environ};
    /// # use gateway::validate::{validator, ValidationError};
    /// # use gateway::test::{run_app, EnvironBuilder};
    /// let mut env = EnvironBuilder::new().build();
    /// env.insert("SCRIPT_NAME", "/");
    /// let error = gateway::validate::check_environ(&env).unwrap_err();
    /// assert_eq!((error.rule(), error.message()), (17, "SCRIPT_NAME cannot be '/'; it should instead be '', and PATH_INFO should be '/'"));
    /// ```
    pub fn rule(&self) -> u8 {
        self.rule
    }

    /// The message, worded as the reference words it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (wsgiref.validate rule {})", self.message, self.rule)
    }
}

impl std::error::Error for ValidationError {}

/// A value as Python's `repr` shows a `str`: single quotes unless the text has one and no
/// double quote, backslash escapes for quotes, backslashes and control characters.
fn repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            // Python's repr escapes what is not printable: in latin-1, C1 controls, the
            // no-break space and the soft hyphen.
            c if (0x80..=0xa0).contains(&(c as u32)) || c as u32 == 0xad => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// The reference's warnings: written to `wsgi.errors`, or errors when strict.
struct Warnings<'e> {
    errors: &'e mut ErrorStream,
    strict: bool,
}

impl Warnings<'_> {
    fn warn(&mut self, rule: u8, message: String) -> Result<(), ValidationError> {
        if self.strict {
            return Err(ValidationError::new(rule, message));
        }
        // A failing error stream loses the warning, as a failing stderr would.
        let _ = writeln!(self.errors, "WSGIWarning: {message}");
        Ok(())
    }
}

/// The request methods the reference knows (rule 12).
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "OPTIONS", "PATCH", "PUT", "DELETE", "TRACE",
];

/// Rules 4–17 on `environ`, errors only (the warnings, rules 6 and 12, are not checked):
/// what a server author runs on the environ they build.
///
/// ```
/// use gateway::test::EnvironBuilder;
/// use gateway::validate::check_environ;
///
/// let mut env = EnvironBuilder::new().build();
/// assert_eq!(check_environ(&env), Ok(()));
/// env.remove("SERVER_PORT");
/// assert_eq!(check_environ(&env).unwrap_err().message(), "Environment missing required key: 'SERVER_PORT'");
/// ```
pub fn check_environ(environ: &Environ) -> Result<(), ValidationError> {
    environ_rules(environ, None)
}

fn environ_rules(
    environ: &Environ,
    mut warnings: Option<&mut Warnings<'_>>,
) -> Result<(), ValidationError> {
    let missing = |rule, key: &str| {
        ValidationError::new(
            rule,
            format!("Environment missing required key: {}", repr(key)),
        )
    };
    for key in ["REQUEST_METHOD", "SERVER_NAME", "SERVER_PORT"] {
        if !environ.contains(key) {
            return Err(missing(4, key));
        }
    }
    for (key, instead) in [
        ("HTTP_CONTENT_TYPE", "CONTENT_TYPE"),
        ("HTTP_CONTENT_LENGTH", "CONTENT_LENGTH"),
    ] {
        if environ.contains(key) {
            return Err(ValidationError::new(
                5,
                format!("Environment should not have the key: {key} (use {instead} instead)"),
            ));
        }
    }
    if !environ.contains("QUERY_STRING")
        && let Some(warnings) = warnings.as_deref_mut()
    {
        warnings.warn(
            6,
            "QUERY_STRING is not in the WSGI environment; the cgi module will use sys.argv when this variable is missing, so application errors are more likely".into(),
        )?;
    }
    if !environ.has_url_scheme() {
        return Err(missing(9, "wsgi.url_scheme"));
    }
    let scheme = environ.url_scheme();
    if scheme != "http" && scheme != "https" {
        return Err(ValidationError::new(
            9,
            format!("wsgi.url_scheme unknown: {}", repr(scheme)),
        ));
    }
    let method = environ.get("REQUEST_METHOD").unwrap_or("");
    if !METHODS.contains(&method)
        && let Some(warnings) = warnings
    {
        warnings.warn(12, format!("Unknown REQUEST_METHOD: {}", repr(method)))?;
    }
    for (rule, key) in [(13, "SCRIPT_NAME"), (14, "PATH_INFO")] {
        let Some(value) = environ.get(key) else {
            return Err(missing(rule, key));
        };
        if !value.is_empty() && !value.starts_with('/') {
            return Err(ValidationError::new(
                rule,
                format!("{key} doesn't start with /: {}", repr(value)),
            ));
        }
    }
    if let Some(length) = environ.get("CONTENT_LENGTH").filter(|l| !l.is_empty()) {
        match python_int(length) {
            Some(n) if n >= 0 => {}
            Some(_) => {
                return Err(ValidationError::new(
                    15,
                    format!("Invalid CONTENT_LENGTH: {}", repr(length)),
                ));
            }
            None => {
                return Err(ValidationError::new(
                    15,
                    format!("invalid literal for int() with base 10: {}", repr(length)),
                ));
            }
        }
    }
    let script_name = environ.get("SCRIPT_NAME").unwrap_or("");
    if script_name.is_empty() && !environ.contains("PATH_INFO") {
        return Err(ValidationError::new(
            16,
            "One of SCRIPT_NAME or PATH_INFO are required (PATH_INFO should at least be '/' if SCRIPT_NAME is empty)",
        ));
    }
    if script_name == "/" {
        return Err(ValidationError::new(
            17,
            "SCRIPT_NAME cannot be '/'; it should instead be '', and PATH_INFO should be '/'",
        ));
    }
    Ok(())
}

/// Python's `int(text)` for base 10: surrounding whitespace, a sign, and single `_`
/// between digits; `None` where Python raises `ValueError`. Large values saturate. (Python
/// also takes non-ASCII decimal digits; these are refused here.)
fn python_int(text: &str) -> Option<i128> {
    let text = text.trim();
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let mut value: i128 = 0;
    for c in digits.chars() {
        if c == '_' {
            continue;
        }
        let digit = c.to_digit(10)?;
        value = value.saturating_mul(10).saturating_add(i128::from(digit));
    }
    Some(if negative { -value } else { value })
}

/// Rules 30–33 on a status line; returns the code.
fn check_status(status: &str, warnings: &mut Warnings<'_>) -> Result<u16, ValidationError> {
    // Python's `str.split()` also splits on the separators U+001C to U+001F.
    let code = status
        .split(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
        .find(|part| !part.is_empty())
        .unwrap_or("");
    if code.chars().count() != 3 {
        return Err(ValidationError::new(
            30,
            format!("Status codes must be three characters: {}", repr(code)),
        ));
    }
    let Some(value) = python_int(code) else {
        return Err(ValidationError::new(
            31,
            format!("invalid literal for int() with base 10: {}", repr(code)),
        ));
    };
    if value < 100 {
        return Err(ValidationError::new(
            32,
            format!("Status code is invalid: {value}"),
        ));
    }
    if status.chars().count() < 4 || status.chars().nth(3) != Some(' ') {
        warnings.warn(
            33,
            format!(
                "The status string ({}) should be a three-digit integer followed by a single space and a status explanation",
                repr(status)
            ),
        )?;
    }
    Ok(u16::try_from(value).unwrap_or(u16::MAX))
}

/// Rules 38–43 on the headers of a response with status `code`.
fn check_headers(headers: &Headers, code: u16) -> Result<(), ValidationError> {
    let mut content_type = false;
    for (name, value) in headers.iter() {
        name_rules(name, value)?;
        if let Some(bad) = value.chars().find(|&c| (c as u32) < 0x20) {
            return Err(ValidationError::new(
                42,
                format!(
                    "Bad header value: {} (bad char: {})",
                    repr(value),
                    repr(&bad.to_string())
                ),
            ));
        }
        content_type |= name.eq_ignore_ascii_case("content-type");
    }
    if content_type && (code == 204 || code == 304) {
        return Err(ValidationError::new(
            43,
            format!(
                "Content-Type header found in a {code} response, which must not return content."
            ),
        ));
    }
    if !content_type && code != 204 && code != 304 {
        let list: Vec<String> = headers
            .iter()
            .map(|(n, v)| format!("({}, {})", repr(n), repr(v)))
            .collect();
        return Err(ValidationError::new(
            43,
            format!(
                "No Content-Type header found in headers ([{}])",
                list.join(", ")
            ),
        ));
    }
    Ok(())
}

/// A pair [`Headers`] refused, as the rule the reference would have broken. A DEL or a
/// character above U+00FF in a value breaks none of its rules (the reference's `Headers`
/// refuses DEL since 2026, as ours does) and stays the header error.
fn header_rule(error: HeaderError) -> AppError {
    let (HeaderError::ControlCharacterInName { name, .. }
    | HeaderError::ControlCharacterInValue { name, .. }
    | HeaderError::NotLatin1 { name, .. }) = &error;
    let name = name.clone();
    // The reference checks a pair's name (rules 38 to 41) before its value (42).
    if let Err(broken) = name_rules(&name, "") {
        return broken.into();
    }
    match error {
        HeaderError::ControlCharacterInValue {
            value, character, ..
        } if u32::from(character) < 0x20 => ValidationError::new(
            42,
            format!(
                "Bad header value: {} (bad char: {})",
                repr(&value),
                repr(&character.to_string())
            ),
        )
        .into(),
        other => other.into(),
    }
}

/// Rules 38–41 on one header name (`value` for rule 38's message).
fn name_rules(name: &str, value: &str) -> Result<(), ValidationError> {
    if name.eq_ignore_ascii_case("status") {
        return Err(ValidationError::new(
            38,
            format!(
                "The Status header cannot be used; it conflicts with CGI script, and HTTP status is not given through headers (value: {}).",
                repr(value)
            ),
        ));
    }
    if name.contains(':') || name.contains('\n') {
        return Err(ValidationError::new(
            39,
            format!("Header names may not contain ':' or '\\n': {}", repr(name)),
        ));
    }
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(ValidationError::new(
            40,
            format!("Bad header name: {}", repr(name)),
        ));
    }
    if name.ends_with('-') || name.ends_with('_') {
        return Err(ValidationError::new(
            41,
            format!("Names may not end in '-' or '_': {}", repr(name)),
        ));
    }
    Ok(())
}

/// The `start_response` the wrapped app sees: checks, then forwards.
struct CheckingSink<'s, 'a, 'e> {
    inner: &'s mut StartResponse<'a>,
    warnings: Warnings<'e>,
    started: bool,
}

impl ResponseSink for CheckingSink<'_, '_, '_> {
    fn start_response(
        &mut self,
        status: &str,
        headers: Result<Headers, HeaderError>,
        exc_info: Option<AppError>,
    ) -> Result<(), AppError> {
        let code = check_status(status, &mut self.warnings)?;
        let headers = headers.map_err(header_rule)?;
        check_headers(&headers, code)?;
        self.inner.start_with_headers(status, headers, exc_info)?;
        self.started = true;
        Ok(())
    }

    fn write(&mut self, data: &[u8]) -> Result<(), AppError> {
        self.inner.write(data)
    }
}

/// The app's body as the validator passes it on (rules 49–51).
struct CheckedBody {
    inner: Body,
    /// `start_response` was called by the time the app returned (it cannot be called later:
    /// the app's `start_response` is borrowed for the call only).
    started: bool,
    first: bool,
    errors: ErrorStream,
}

impl Iterator for CheckedBody {
    type Item = Result<Chunk, AppError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.inner.is_closed() {
            return Some(Err(
                ValidationError::new(49, "Iterator read after closed").into()
            ));
        }
        let item = self.inner.next()?;
        if std::mem::take(&mut self.first) && !self.started {
            return Some(Err(ValidationError::new(
                49,
                "The application returns and we started iterating over its body, but start_response has not yet been called",
            )
            .into()));
        }
        Some(item)
    }
}

/// Wraps `body`: a lazy body (no length passed on) that checks its chunks, closes the app's
/// body when closed, and reports being dropped unclosed; a file body the server may still
/// send with sendfile when `start_response` came first.
fn check_body(mut body: Body, started: bool, errors: ErrorStream) -> Body {
    let unclosed = {
        let mut errors = errors.clone();
        move || {
            let _ = errors.write_all(b"Iterator garbage collected without being closed\n");
        }
    };
    if body.is_file_wrapper() && started {
        body.set_unclosed_drop(unclosed);
        return body;
    }
    let checked = CheckedBody {
        inner: body,
        started,
        first: true,
        errors,
    };
    let shared = std::sync::Arc::new(std::sync::Mutex::new(checked));
    let reader = std::sync::Arc::clone(&shared);
    let mut wrapper = Body::try_from_iter(std::iter::from_fn(move || {
        reader.lock().unwrap_or_else(|e| e.into_inner()).next()
    }))
    .on_close(move || {
        let mut checked = shared.lock().unwrap_or_else(|e| e.into_inner());
        checked.inner.close();
        let _ = checked.errors.flush();
    });
    wrapper.set_unclosed_drop(unclosed);
    wrapper
}

/// The app `validator` returns: forwards to `app`, checking both sides.
///
/// ```
/// use gateway::{app_fn, Response};
/// use gateway::test::{run_app, EnvironBuilder};
/// use gateway::validate::validator;
///
/// let app = validator(app_fn(|_env, sr| Response::text("fine").send(sr)));
/// let response = run_app(&app, EnvironBuilder::new().build());
/// assert_eq!((response.status_code, response.text()), (200, "fine".into()));
/// assert!(response.errors.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct Validator<A> {
    app: A,
    strict: bool,
}

/// Wraps `app` in the validator (`wsgiref.validate.validator`).
///
/// ```
/// use gateway::{app_fn, Body};
/// use gateway::test::{run_app, EnvironBuilder};
/// use gateway::validate::validator;
///
/// let app = validator(app_fn(|_env, sr| {
///     sr.start("200 OK", [("Content-Type", "text/plain"), ("X-Bad-", "1")])?;
///     Ok(Body::from("x"))
/// }));
/// let response = run_app(&app, EnvironBuilder::new().build());
/// assert_eq!(response.status_code, 500);
/// assert!(response.errors.contains("Names may not end in '-' or '_': 'X-Bad-'"));
/// ```
pub fn validator<A: App>(app: A) -> Validator<A> {
    Validator { app, strict: false }
}

impl<A> Validator<A> {
    /// The reference's warnings (a missing `QUERY_STRING`, an unknown method, a status
    /// without a space and a reason) become errors too.
    ///
    /// ```
    /// use gateway::{app_fn, Response};
    /// use gateway::test::{run_app, EnvironBuilder};
    /// use gateway::validate::validator;
    ///
    /// let app = || app_fn(|_env, sr| Response::text("purged").send(sr));
    /// let purge = || EnvironBuilder::new().method("PURGE").build();
    /// let lenient = run_app(&validator(app()), purge());
    /// assert_eq!(lenient.status_code, 200);
    /// assert_eq!(lenient.errors, "WSGIWarning: Unknown REQUEST_METHOD: 'PURGE'\n");
    /// let strict = run_app(&validator(app()).strict(true), purge());
    /// assert_eq!(strict.status_code, 500);
    /// assert!(strict.errors.contains("Unknown REQUEST_METHOD: 'PURGE' (wsgiref.validate rule 12)"));
    /// ```
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }
}

impl<A: App> App for Validator<A> {
    fn call(&self, environ: &mut Environ, sr: &mut StartResponse<'_>) -> Result<Body, AppError> {
        let mut errors = environ.errors().clone();
        let mut warnings = Warnings {
            errors: &mut errors,
            strict: self.strict,
        };
        environ_rules(environ, Some(&mut warnings))?;
        let mut sink = CheckingSink {
            inner: sr,
            warnings,
            started: false,
        };
        let body = self.app.call(environ, &mut StartResponse::new(&mut sink))?;
        let started = sink.started;
        Ok(check_body(body, started, environ.errors().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_ints() {
        for (text, value) in [
            ("0", Some(0)),
            (" 12 ", Some(12)),
            ("+7", Some(7)),
            ("-1", Some(-1)),
            ("1_000", Some(1000)),
            ("1__0", None),
            ("_1", None),
            ("1_", None),
            ("", None),
            ("abc", None),
            ("1.5", None),
        ] {
            assert_eq!(python_int(text), value, "{text:?}");
        }
    }

    #[test]
    fn python_reprs() {
        assert_eq!(repr("abc"), "'abc'");
        assert_eq!(repr("a\tb"), "'a\\tb'");
        assert_eq!(repr("it's"), "\"it's\"");
        assert_eq!(repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(repr("\u{1}"), "'\\x01'");
        assert_eq!(repr("a\u{a0}b\u{ad}\u{e9}"), "'a\\xa0b\\xad\u{e9}'");
    }
}
