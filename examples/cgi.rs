//! Run with: cargo run --example cgi (a CGI program: run it under a web server, or with REQUEST_METHOD=GET PATH_INFO=/echo-environ set)
//!
//! A CGI program: a small diagnostic app run through [`CgiHandler`], one request per process.
//!
//! Build it with `cargo build --example cgi` and point a web server's CGI support at
//! `target/debug/examples/cgi`. With lighttpd, for example (`mod_cgi`):
//!
//! ```text
//! server.modules += ("mod_cgi")
//! # the binary copied or symlinked into the document root as app.cgi
//! cgi.assign = (".cgi" => "")
//! ```
//!
//! Then `curl http://localhost/app.cgi/echo-environ/x?a=1` shows the CGI variables the
//! server passed. It can also be run by hand, with the CGI variables in the environment:
//!
//! ```text
//! REQUEST_METHOD=GET PATH_INFO=/status/418 target/debug/examples/cgi
//! ```
//!
//! Routes (on `PATH_INFO`):
//! - `/echo-environ` (and below): the main CGI variables and `wsgi.*` flags, one per line;
//! - `/echo-body`: the request body, byte for byte;
//! - `/status/NNN`: a response with that status;
//! - `/boom` and `/boom/panic`: an app that fails (returns an error, or panics), to see the
//!   handler's 500 page and its log on stderr;
//! - anything else: 404.

use std::io::Read;

use gateway::handlers::{BaseHandler, CgiHandler};
use gateway::{AppError, Body, Environ, StartResponse, latin1};

/// The CGI variables `/echo-environ` reports, in order.
const ECHOED: [&str; 5] = [
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "CONTENT_LENGTH",
];

/// Routes on `PATH_INFO`: `/echo-environ[/...]`, `/echo-body`, `/status/NNN`, `/boom`,
/// `/boom/panic`; anything else is a 404. See the module documentation.
pub(crate) fn app(
    environ: &mut Environ,
    start_response: &mut StartResponse<'_>,
) -> Result<Body, AppError> {
    let path = environ.get("PATH_INFO").unwrap_or("").to_owned();
    if path == "/echo-environ" || path.starts_with("/echo-environ/") {
        echo_environ(environ, start_response)
    } else if path == "/echo-body" {
        echo_body(environ, start_response)
    } else if let Some(code) = path.strip_prefix("/status/") {
        status(code, start_response)
    } else if path == "/boom" {
        Err("the app failed on purpose (secret-boom-detail)".into())
    } else if path == "/boom/panic" {
        panic!("the app panicked on purpose (secret-boom-detail)");
    } else {
        text(start_response, "404 Not Found", "not found\n")
    }
}

/// A `text/plain` response.
fn text(
    start_response: &mut StartResponse<'_>,
    status: &str,
    body: impl Into<String>,
) -> Result<Body, AppError> {
    start_response.start(status, [("Content-Type", "text/plain")])?;
    Ok(Body::from(body.into()))
}

/// `KEY=VALUE` lines: the string values as the bytes they stand for, booleans as Python prints them.
fn echo_environ(
    environ: &mut Environ,
    start_response: &mut StartResponse<'_>,
) -> Result<Body, AppError> {
    let python_bool = |b: bool| if b { "True" } else { "False" };
    let mut out = Vec::new();
    for key in ECHOED {
        out.extend_from_slice(key.as_bytes());
        out.push(b'=');
        out.extend_from_slice(&latin1::encode(environ.get(key).unwrap_or(""))?);
        out.push(b'\n');
    }
    let flags = [
        ("wsgi.url_scheme", environ.url_scheme()),
        ("wsgi.run_once", python_bool(environ.run_once())),
        ("wsgi.multithread", python_bool(environ.multithread())),
        ("wsgi.multiprocess", python_bool(environ.multiprocess())),
    ];
    for (key, value) in flags {
        out.extend_from_slice(format!("{key}={value}\n").as_bytes());
    }
    start_response.start("200 OK", [("Content-Type", "text/plain")])?;
    Ok(Body::from(out))
}

/// The request body back: exactly `CONTENT_LENGTH` bytes of `wsgi.input`.
fn echo_body(
    environ: &mut Environ,
    start_response: &mut StartResponse<'_>,
) -> Result<Body, AppError> {
    let length = environ.get("CONTENT_LENGTH").unwrap_or("").trim();
    let length = if length.is_empty() {
        0
    } else {
        match length.parse::<u64>() {
            Ok(n) => n,
            Err(_) => {
                let message = format!("bad CONTENT_LENGTH {length:?}\n");
                return text(start_response, "400 Bad Request", message);
            }
        }
    };
    let mut body = Vec::new();
    environ.input().take(length).read_to_end(&mut body)?;
    if body.len() as u64 != length {
        let message = format!("body ended after {} of {length} bytes\n", body.len());
        return text(start_response, "400 Bad Request", message);
    }
    start_response.start("200 OK", [("Content-Type", "application/octet-stream")])?;
    Ok(Body::from(body))
}

/// `/status/NNN`: that status, with a body naming it (none for 1xx, 204 and 304, which have none).
fn status(code: &str, start_response: &mut StartResponse<'_>) -> Result<Body, AppError> {
    let number = match code.parse::<u16>() {
        Ok(n) if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) && n >= 100 => n,
        _ => return text(start_response, "404 Not Found", "not found\n"),
    };
    let status = format!("{number} {}", reason(number));
    start_response.start(&status, [("Content-Type", "text/plain")])?;
    if number < 200 || number == 204 || number == 304 {
        Ok(Body::empty())
    } else {
        Ok(Body::from(format!("status {status}\n")))
    }
}

/// A reason phrase for a status code.
fn reason(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn main() {
    CgiHandler::new().run(&app);
}
