//! `CGIHandler`, `IISCGIHandler` and `read_environ`: running an app as a CGI program.

use std::ffi::OsString;
use std::fmt;
use std::io::{self, BufReader};

use super::simple::{BaseCgiHandler, delegate_base_handler};
use crate::{Environ, ErrorStream, Input, latin1};

/// The CGI variables that carry request bytes and so become latin-1 "bytes in unicode".
const TRANSCODED: [&str; 10] = [
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "REQUEST_METHOD",
    "AUTH_TYPE",
    "CONTENT_TYPE",
    "CONTENT_LENGTH",
    "HTTPS",
    "REMOTE_USER",
    "REMOTE_IDENT",
];

/// True for the variables [`read_environ`] decodes byte-for-byte as latin-1: the request
/// variables above, every `HTTP_*` and `SSL_*`, and `REDIRECT_` + any of these.
fn needs_transcoding(key: &str) -> bool {
    TRANSCODED.contains(&key)
        || key.starts_with("HTTP_")
        || key.starts_with("SSL_")
        || key.strip_prefix("REDIRECT_").is_some_and(needs_transcoding)
}

#[cfg(unix)]
fn os_bytes(value: &OsString) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    value.as_bytes().to_vec()
}

#[cfg(not(unix))]
fn os_bytes(value: &OsString) -> Vec<u8> {
    value.to_string_lossy().into_owned().into_bytes()
}

/// The process environment as a CGI environ (`wsgiref.handlers.read_environ`).
///
/// Variables are read as raw bytes, so nothing is lost: request variables (see
/// [`read_environ_from`]) become latin-1 "bytes in unicode"; the others are decoded as UTF-8,
/// or byte-for-byte when they are not valid UTF-8.
///
/// ```
/// use gateway::handlers::read_environ;
///
/// let environ = read_environ();
/// assert_eq!(environ.len(), std::env::vars_os().count()); // every variable, none lost
/// if let Ok(path) = std::env::var("PATH") {
///     assert_eq!(environ.get("PATH"), Some(path.as_str())); // not a request variable: UTF-8 kept
/// }
/// ```
pub fn read_environ() -> Environ {
    read_environ_from(std::env::vars_os())
}

/// [`read_environ`] over any list of variables.
///
/// `SCRIPT_NAME`, `PATH_INFO`, `QUERY_STRING`, `REQUEST_METHOD`, `AUTH_TYPE`,
/// `CONTENT_TYPE`, `CONTENT_LENGTH`, `HTTPS`, `REMOTE_USER`, `REMOTE_IDENT`, every key
/// starting with `HTTP_` or `SSL_`, and `REDIRECT_` + any of those (recursively) are decoded
/// byte-for-byte as latin-1; `REMOTE_ADDR`, `SERVER_NAME`, `REQUEST_URI` and the rest keep
/// their UTF-8 text.
///
/// ```
/// use std::ffi::OsString;
/// use gateway::handlers::read_environ_from;
///
/// let env = read_environ_from([
///     (OsString::from("PATH_INFO"), OsString::from("/café")),
///     (OsString::from("REMOTE_ADDR"), OsString::from("é")),
/// ]);
/// assert_eq!(env.get("PATH_INFO"), Some("/caf\u{c3}\u{a9}"));
/// assert_eq!(env.get("REMOTE_ADDR"), Some("é"));
/// ```
pub fn read_environ_from<I>(vars: I) -> Environ
where
    I: IntoIterator<Item = (OsString, OsString)>,
{
    let mut environ = Environ::new();
    for (key, value) in vars {
        let key = key.to_string_lossy().into_owned();
        let bytes = os_bytes(&value);
        let value = if needs_transcoding(&key) {
            latin1::decode(&bytes)
        } else {
            String::from_utf8(bytes).unwrap_or_else(|e| latin1::decode(e.as_bytes()))
        };
        environ.insert(key, value);
    }
    environ
}

/// IIS's PATH_INFO repair: when PATH_INFO starts with SCRIPT_NAME on a segment boundary, that
/// prefix is removed; when both are absent, PATH_INFO is created empty.
///
/// ```
/// use gateway::{handlers::iis_path_info_fix, Environ};
///
/// let mut env: Environ = [("SCRIPT_NAME", "/app.py"), ("PATH_INFO", "/app.py/foo/bar")].into_iter().collect();
/// iis_path_info_fix(&mut env);
/// assert_eq!(env.get("PATH_INFO"), Some("/foo/bar"));
/// ```
pub fn iis_path_info_fix(environ: &mut Environ) {
    let path = environ.get("PATH_INFO").unwrap_or("").to_owned();
    let script = environ.get("SCRIPT_NAME").unwrap_or("").to_owned();
    if format!("{path}/").starts_with(&format!("{script}/")) {
        environ.insert("PATH_INFO", &path[script.len()..]);
    }
}

/// Runs an app as a CGI program (`wsgiref.handlers.CGIHandler`): the request from the
/// process environment ([`read_environ`]) and stdin, the response to stdout, errors to
/// stderr. `wsgi.run_once` and `wsgi.multiprocess` are true, `wsgi.multithread` false.
///
/// ```no_run
/// use gateway::handlers::{BaseHandler, CgiHandler};
/// use gateway::{app_fn, Body};
///
/// let app = app_fn(|_env, sr| {
///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
///     Ok(Body::from("Hello from CGI"))
/// });
/// CgiHandler::new().run(&app);
/// ```
pub struct CgiHandler {
    inner: BaseCgiHandler<io::Stdout>,
}

impl CgiHandler {
    /// A handler for this process's CGI request.
    ///
    /// ```
    /// use gateway::handlers::{BaseHandler, CgiHandler};
    ///
    /// let handler = CgiHandler::new(); // reads nothing from stdin until the app does
    /// assert!(handler.wsgi_run_once() && handler.wsgi_multiprocess());
    /// assert!(!handler.wsgi_multithread());
    /// assert!(!handler.origin_server()); // a `Status:` header, as CGI wants
    /// ```
    pub fn new() -> Self {
        CgiHandler::from_environ(read_environ())
    }

    fn from_environ(environ: Environ) -> Self {
        let vars: Vec<(String, String)> = environ
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let inner = BaseCgiHandler::new(
            Input::new(BufReader::new(io::stdin())),
            io::stdout(),
            ErrorStream::stderr(),
            vars,
        )
        .with_flags(false, true)
        .with_run_once(true);
        CgiHandler { inner }
    }
}

impl Default for CgiHandler {
    fn default() -> Self {
        CgiHandler::new()
    }
}

impl fmt::Debug for CgiHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CgiHandler")
            .field("inner", &self.inner)
            .finish()
    }
}

delegate_base_handler!(impl<> for CgiHandler, inner);

/// [`CgiHandler`] for IIS without `allowPathInfo`: applies [`iis_path_info_fix`] first
/// (`wsgiref.handlers.IISCGIHandler`).
///
/// ```no_run
/// use gateway::handlers::{BaseHandler, IisCgiHandler};
/// use gateway::{app_fn, Body};
///
/// let app = app_fn(|env, sr| {
///     // IIS sent PATH_INFO=/app.py/foo with SCRIPT_NAME=/app.py; the app sees /foo.
///     let path = env.get("PATH_INFO").unwrap_or("").to_owned();
///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
///     Ok(Body::from(path))
/// });
/// IisCgiHandler::new().run(&app);
/// ```
pub struct IisCgiHandler {
    inner: CgiHandler,
}

impl IisCgiHandler {
    /// A handler for this process's CGI request, with IIS's PATH_INFO repaired.
    ///
    /// ```
    /// use gateway::handlers::{BaseHandler, IisCgiHandler};
    ///
    /// let mut handler = IisCgiHandler::new();
    /// let environ = handler.setup_environ(); // the process environment, repaired
    /// assert!(environ.run_once() && !environ.multithread());
    /// if std::env::var_os("PATH_INFO").is_none() && std::env::var_os("SCRIPT_NAME").is_none() {
    ///     assert_eq!(environ.get("PATH_INFO"), Some("")); // created empty, as IIS expects
    /// }
    /// ```
    pub fn new() -> Self {
        let mut environ = read_environ();
        iis_path_info_fix(&mut environ);
        IisCgiHandler {
            inner: CgiHandler::from_environ(environ),
        }
    }
}

impl Default for IisCgiHandler {
    fn default() -> Self {
        IisCgiHandler::new()
    }
}

impl fmt::Debug for IisCgiHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IisCgiHandler")
            .field("inner", &self.inner)
            .finish()
    }
}

delegate_base_handler!(impl<> for IisCgiHandler, inner);

#[cfg(test)]
mod tests {
    use super::needs_transcoding;

    #[test]
    fn transcoding_rules() {
        for key in [
            "PATH_INFO",
            "HTTP_",
            "HTTP_X",
            "SSL_X",
            "REDIRECT_PATH_INFO",
            "REDIRECT_REDIRECT_PATH_INFO",
            "REDIRECT_HTTP_Y",
        ] {
            assert!(needs_transcoding(key), "{key}");
        }
        for key in [
            "REMOTE_ADDR",
            "SERVER_NAME",
            "REQUEST_URI",
            "REDIRECT_FOO",
            "REDIRECT_URL",
            "REDIRECT_STATUS",
            "http_x",
            "T_FOO",
        ] {
            assert!(!needs_transcoding(key), "{key}");
        }
    }
}
