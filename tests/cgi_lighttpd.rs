//! The `cgi` example behind a real web server: lighttpd runs it through `mod_cgi`, and the
//! tests talk HTTP to lighttpd (over a raw `TcpStream`, and with `curl`). Every request is
//! also run "in memory": the same binary started directly with a CGI environment the test
//! sets itself, whose status, content type and body must agree with what lighttpd returned.
//!
//! Setup: the example binary is copied into a fresh document root as `app.cgi`, with
//! `cgi.assign = (".cgi" => "")`. For `/app.cgi/echo-environ/sub?x=1` lighttpd passes
//! `SCRIPT_NAME=/app.cgi`, `PATH_INFO=/echo-environ/sub` (percent-decoded, raw bytes),
//! `QUERY_STRING=x=1` (as sent) and `CONTENT_LENGTH=0` even for a GET. The CGI's stderr goes
//! to `server.breakagelog`. lighttpd runs in the foreground (`-D`) as whoever runs the test,
//! root included (no `server.username` needed).
//!
//! Needs the example built (`cargo test` builds it; otherwise `cargo build --example cgi`) and
//! lighttpd installed (`.ci/install-test-deps`). Without lighttpd the tests are skipped,
//! unless `CI` is set, where they fail.

#![cfg(unix)]

use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use gateway::handlers::{BaseHandler, SimpleHandler};
use gateway::{ErrorStream, Input, SharedBuffer};

/// The example's app itself, to run it in memory through `SimpleHandler` as well.
#[allow(dead_code)]
#[path = "../examples/cgi.rs"]
mod cgi_example;

/// Where lighttpd serves the app: the binary sits in the document root under this name.
const SCRIPT_NAME: &str = "/app.cgi";
/// The handler's error page body.
const ERROR_BODY: &[u8] = b"A server error occurred.  Please contact the administrator.";
const TIMEOUT: Duration = Duration::from_secs(10);

// ---- finding things --------------------------------------------------------------------------

/// `target/debug/examples/cgi`, found from this test binary (`target/debug/deps/...`).
fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in <target>/<profile>/deps");
    let binary = profile_dir.join("examples").join("cgi");
    assert!(
        binary.is_file(),
        "{} is missing: run `cargo build --example cgi` first",
        binary.display()
    );
    binary
}

/// The lighttpd executable, or `None` (after saying so) when it is not installed and `CI` is
/// not set. On CI a missing lighttpd is a failure.
fn lighttpd_or_skip() -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path_dirs)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|dir| dir.join("lighttpd"))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "lighttpd is not installed, and CI must run these tests: run .ci/install-test-deps"
        );
        eprintln!("skipping: lighttpd not installed (apt-get install lighttpd)");
    }
    found
}

/// True when `curl` can be run. On CI a missing curl is a failure.
fn curl_available() -> bool {
    let ok = Command::new("curl")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "curl is not installed, and CI must run these tests: run .ci/install-test-deps"
        );
        eprintln!("skipping the curl checks: curl not installed (apt-get install curl)");
    }
    ok
}

/// A new empty directory under the system temp dir.
fn fresh_temp_dir() -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    loop {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("gateway-cgi-lighttpd-{}-{n}-{nanos}", std::process::id());
        let dir = std::env::temp_dir().join(name);
        match fs::create_dir(&dir) {
            Ok(()) => return dir,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => panic!("creating {}: {e}", dir.display()),
        }
    }
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind port 0");
    listener.local_addr().expect("local_addr").port()
}

// ---- the server ------------------------------------------------------------------------------

/// A running lighttpd serving the example as `/app.cgi`, killed (and its directory removed,
/// unless the test failed) on drop.
struct Lighttpd {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Lighttpd {
    /// Starts lighttpd on a free port, retrying with another port if it does not come up.
    /// `None` when lighttpd is not installed (see [`lighttpd_or_skip`]).
    fn start() -> Option<Lighttpd> {
        let lighttpd = lighttpd_or_skip()?;
        let binary = example_binary();
        let dir = fresh_temp_dir();
        let docroot = dir.join("docroot");
        fs::create_dir(&docroot).expect("create docroot");
        // A copy, so a concurrent rebuild of the example cannot change it under the test.
        fs::copy(&binary, docroot.join("app.cgi")).expect("copy the example into the docroot");
        let mut failures = Vec::new();
        for _ in 0..5 {
            let port = free_port();
            let conf = dir.join("lighttpd.conf");
            fs::write(&conf, config(&dir, port)).expect("write lighttpd.conf");
            let stderr = fs::File::create(dir.join("lighttpd.stderr")).expect("lighttpd.stderr");
            let child = Command::new(&lighttpd)
                .arg("-D")
                .arg("-f")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .expect("spawn lighttpd");
            let mut server = Lighttpd {
                child,
                dir: dir.clone(),
                port,
            };
            match server.wait_until_ready() {
                Ok(()) => return Some(server),
                Err(why) => {
                    failures.push(format!("port {port}: {why}"));
                    server.stop();
                }
            }
        }
        panic!(
            "lighttpd did not start (logs in {}):\n{}",
            dir.display(),
            failures.join("\n")
        );
    }

    /// Waits until lighttpd logged "server started" and accepts connections.
    fn wait_until_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!(
                    "lighttpd exited ({status}): {}{}",
                    self.read_log("error.log"),
                    self.read_log("lighttpd.stderr")
                ));
            }
            let started = self.read_log("error.log").contains("server started");
            if started && TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok() {
                return Ok(());
            }
            thread::sleep(Duration::from_millis(20));
        }
        Err("not accepting connections after 10 s".to_owned())
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A log file from the server directory (empty if it does not exist yet).
    fn read_log(&self, name: &str) -> String {
        String::from_utf8_lossy(&fs::read(self.dir.join(name)).unwrap_or_default()).into_owned()
    }

    /// The copy of the example that lighttpd runs.
    fn binary(&self) -> PathBuf {
        self.dir.join("docroot").join("app.cgi")
    }

    /// The request target for `path` (percent-encoded) and `query` under [`SCRIPT_NAME`].
    fn target(path: &str, query: &str) -> String {
        if query.is_empty() {
            format!("{SCRIPT_NAME}{path}")
        } else {
            format!("{SCRIPT_NAME}{path}?{query}")
        }
    }

    /// Sends one HTTP/1.1 request (`Connection: close`) over a raw socket.
    fn http(&self, method: &str, path: &str, query: &str, body: &[u8]) -> Response {
        let mut stream =
            TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).expect("connect to lighttpd");
        stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        stream.set_write_timeout(Some(TIMEOUT)).expect("timeout");
        let mut request = format!(
            "{method} {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n",
            Self::target(path, query),
            self.port
        );
        if !body.is_empty() || method == "POST" {
            request.push_str("Content-Type: application/octet-stream\r\n");
            request.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body);
        stream.write_all(&bytes).expect("send request");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read response");
        Response::parse_http(&raw)
    }

    /// The same request through `curl` (a body is POSTed from a file).
    fn curl(&self, path: &str, query: &str, body: Option<&[u8]>) -> Response {
        let url = format!(
            "http://127.0.0.1:{}{}",
            self.port,
            Self::target(path, query)
        );
        let mut command = Command::new("curl");
        command.args(["--silent", "--show-error", "--include", "--max-time", "10"]);
        if let Some(body) = body {
            let file = self.dir.join("curl-body.bin");
            fs::write(&file, body).expect("write curl body");
            command
                .arg("--data-binary")
                .arg(format!("@{}", file.display()))
                .args(["-H", "Content-Type: application/octet-stream"])
                // No `Expect: 100-continue` round trip (and no interim response to parse).
                .args(["-H", "Expect:"]);
        }
        let output = command.arg(&url).output().expect("run curl");
        assert!(
            output.status.success(),
            "curl {url} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Response::parse_http(&output.stdout)
    }

    /// Runs the example directly, as lighttpd would: CGI variables in a cleared environment,
    /// the body on stdin, the CGI response on stdout. Also returns its stderr.
    fn direct(&self, method: &str, path: &str, query: &str, body: &[u8]) -> (Response, String) {
        let path_info = percent_decode(path);
        let mut child = Command::new(self.binary())
            .env_clear()
            .env("GATEWAY_INTERFACE", "CGI/1.1")
            .env("SERVER_PROTOCOL", "HTTP/1.1")
            .env("SERVER_NAME", "127.0.0.1")
            .env("SERVER_PORT", self.port.to_string())
            .env("REQUEST_METHOD", method)
            .env("SCRIPT_NAME", SCRIPT_NAME)
            .env("PATH_INFO", OsStr::from_bytes(&path_info))
            .env("QUERY_STRING", query)
            // lighttpd passes CONTENT_LENGTH on every request, 0 for a GET.
            .env("CONTENT_LENGTH", body.len().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the example directly");
        let mut stdin = child.stdin.take().expect("stdin");
        let body = body.to_vec();
        let writer = thread::spawn(move || stdin.write_all(&body));
        let output = child.wait_with_output().expect("wait for the example");
        writer.join().expect("stdin writer").expect("write stdin");
        assert!(
            output.status.success(),
            "the example exited {}",
            output.status
        );
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (Response::parse_cgi(&output.stdout), stderr)
    }

    /// Runs the same app in this process through `SimpleHandler` over in-memory streams, with
    /// the CGI variables lighttpd would set. Also returns what it logged.
    fn in_memory(&self, method: &str, path: &str, query: &str, body: &[u8]) -> (Response, String) {
        let path_info = gateway::latin1::decode(&percent_decode(path));
        let errors = SharedBuffer::new();
        let environ = [
            ("GATEWAY_INTERFACE", "CGI/1.1".to_owned()),
            ("SERVER_PROTOCOL", "HTTP/1.1".to_owned()),
            ("SERVER_NAME", "127.0.0.1".to_owned()),
            ("SERVER_PORT", self.port.to_string()),
            ("REQUEST_METHOD", method.to_owned()),
            ("SCRIPT_NAME", SCRIPT_NAME.to_owned()),
            ("PATH_INFO", path_info),
            ("QUERY_STRING", query.to_owned()),
            ("CONTENT_LENGTH", body.len().to_string()),
        ];
        let mut handler = SimpleHandler::new(
            Input::from_bytes(body.to_vec()),
            Vec::new(),
            ErrorStream::new(errors.clone()),
            environ,
        )
        .with_flags(false, true)
        .with_run_once(true);
        handler.run(&cgi_example::app);
        (
            Response::parse_http(&handler.into_stdout()),
            errors.to_string_lossy(),
        )
    }

    /// The request over HTTP, directly as a CGI process, and in memory through
    /// `SimpleHandler`: all three must agree on status, content type and body. Returns the
    /// HTTP response.
    fn check(&self, method: &str, path: &str, query: &str, body: &[u8]) -> Response {
        let served = self.http(method, path, query, body);
        let (direct, _) = self.direct(method, path, query, body);
        assert_agree(&served, &direct, &format!("{method} {path}?{query}"));
        let (memory, _) = self.in_memory(method, path, query, body);
        assert_agree(
            &served,
            &memory,
            &format!("{method} {path}?{query} (in memory)"),
        );
        served
    }
}

impl Drop for Lighttpd {
    fn drop(&mut self) {
        self.stop();
        if thread::panicking() {
            eprintln!("lighttpd files kept in {}", self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// lighttpd's configuration: `dir/docroot/app.cgi` run as a CGI, logs in `dir`.
fn config(dir: &Path, port: u16) -> String {
    let dir = dir.to_str().expect("temp dir path is UTF-8");
    assert!(!dir.contains('"'), "temp dir path holds a quote: {dir}");
    format!(
        r#"server.modules = ("mod_cgi")
server.bind = "127.0.0.1"
server.port = {port}
server.document-root = "{dir}/docroot"
server.errorlog = "{dir}/error.log"
server.breakagelog = "{dir}/cgi-stderr.log"
cgi.assign = (".cgi" => "")
"#
    )
}

/// `%XX` escapes decoded to bytes, as a server does for `PATH_INFO`.
fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(b) if bytes[i] == b'%' => {
                out.push(b);
                i += 3;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

// ---- responses -------------------------------------------------------------------------------

/// A parsed response: status code, headers, body.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    /// An HTTP/1.x response read to the end of the connection.
    fn parse_http(raw: &[u8]) -> Response {
        let (first, headers, body) = split_message(raw);
        let status = first
            .strip_prefix("HTTP/1.")
            .and_then(|rest| rest.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {first:?}"));
        let response = Response {
            status,
            headers,
            body,
        };
        assert!(
            response.header("Transfer-Encoding").is_none(),
            "unexpected chunked response: the app always sends Content-Length"
        );
        if let Some(length) = response.header("Content-Length") {
            assert_eq!(length.parse(), Ok(response.body.len()), "Content-Length");
        }
        response
    }

    /// A CGI program's output: headers (with `Status:`), a blank line, the body.
    fn parse_cgi(raw: &[u8]) -> Response {
        let (first, mut headers, body) = split_message(raw);
        let (name, value) = split_header(&first);
        headers.insert(0, (name, value));
        let mut response = Response {
            status: 200,
            headers,
            body,
        };
        if let Some(status) = response.header("Status") {
            response.status = status
                .get(..3)
                .and_then(|code| code.parse().ok())
                .unwrap_or_else(|| panic!("bad Status header {status:?}"));
        }
        response
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Splits a message at the first blank line: the first line, the other header lines, the body.
fn split_message(raw: &[u8]) -> (String, Vec<(String, String)>, Vec<u8>) {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of headers in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or_default().to_owned();
    let headers = lines.map(split_header).collect();
    (first, headers, raw[end + 4..].to_vec())
}

fn split_header(line: &str) -> (String, String) {
    let (name, value) = line
        .split_once(':')
        .unwrap_or_else(|| panic!("bad header line {line:?}"));
    (name.trim().to_owned(), value.trim().to_owned())
}

/// The server's response and the direct run agree on status, content type and body.
fn assert_agree(served: &Response, direct: &Response, what: &str) {
    assert_eq!(served.status, direct.status, "{what}: status");
    assert_eq!(
        served.header("Content-Type"),
        direct.header("Content-Type"),
        "{what}: Content-Type"
    );
    assert!(
        served.body == direct.body,
        "{what}: bodies differ\nlighttpd: {:?}\ndirect:   {:?}",
        served.text(),
        direct.text()
    );
}

/// The `/echo-environ` body for a request lighttpd serves under [`SCRIPT_NAME`].
fn expected_environ(method: &str, path_info: &[u8], query: &str, length: usize) -> Vec<u8> {
    let mut out =
        format!("REQUEST_METHOD={method}\nSCRIPT_NAME={SCRIPT_NAME}\nPATH_INFO=").into_bytes();
    out.extend_from_slice(path_info);
    out.extend_from_slice(
        format!(
            "\nQUERY_STRING={query}\nCONTENT_LENGTH={length}\nwsgi.url_scheme=http\n\
             wsgi.run_once=True\nwsgi.multithread=False\nwsgi.multiprocess=True\n"
        )
        .as_bytes(),
    );
    out
}

/// 5000 bytes covering every byte value.
fn binary_body() -> Vec<u8> {
    (0..5000u32).map(|i| (i * 7 % 256) as u8).collect()
}

// ---- the tests -------------------------------------------------------------------------------

#[test]
fn echo_environ_sees_cgi_variables_and_wsgi_flags_from_lighttpd() {
    let Some(server) = Lighttpd::start() else {
        return;
    };
    let response = server.check("GET", "/echo-environ/sub", "x=1&y=%20z", b"");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("Content-Type"), Some("text/plain"));
    assert_eq!(
        response.text(),
        String::from_utf8(expected_environ(
            "GET",
            b"/echo-environ/sub",
            "x=1&y=%20z",
            0
        ))
        .unwrap()
    );
}

#[test]
fn echo_body_returns_a_binary_post_body_unchanged() {
    let Some(server) = Lighttpd::start() else {
        return;
    };
    let body = binary_body();
    let response = server.check("POST", "/echo-body", "", &body);
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("Content-Type"),
        Some("application/octet-stream")
    );
    assert_eq!(response.body.len(), 5000);
    assert!(response.body == body, "the body came back changed");
}

#[test]
fn percent_encoded_utf8_path_reaches_the_app_as_raw_bytes() {
    let Some(server) = Lighttpd::start() else {
        return;
    };
    let response = server.check("GET", "/echo-environ/caf%C3%A9", "", b"");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.body,
        expected_environ("GET", b"/echo-environ/caf\xc3\xa9", "", 0)
    );
    let line = b"\nPATH_INFO=/echo-environ/caf\xc3\xa9\n";
    assert!(response.body.windows(line.len()).any(|w| w == line));
}

#[test]
fn app_status_codes_pass_through_lighttpd() {
    let Some(server) = Lighttpd::start() else {
        return;
    };
    let teapot = server.check("GET", "/status/418", "", b"");
    assert_eq!(teapot.status, 418);
    assert_eq!(teapot.text(), "status 418 I'm a teapot\n");
    let no_content = server.check("GET", "/status/204", "", b"");
    assert_eq!(no_content.status, 204);
    assert!(no_content.body.is_empty());
    assert_eq!(server.check("GET", "/status/41x", "", b"").status, 404);
}

#[test]
fn app_errors_and_panics_become_a_generic_500_and_are_logged_not_shown() {
    let Some(server) = Lighttpd::start() else {
        return;
    };
    for path in ["/boom", "/boom/panic"] {
        let response = server.check("GET", path, "", b"");
        assert_eq!(response.status, 500, "{path}");
        assert_eq!(response.body, ERROR_BODY, "{path}");
        let (direct, stderr) = server.direct("GET", path, "", b"");
        assert!(!direct.text().contains("secret-boom-detail"), "{path}");
        assert!(stderr.contains("secret-boom-detail"), "{path}: {stderr}");
        let (memory, logged) = server.in_memory("GET", path, "", b"");
        assert!(!memory.text().contains("secret-boom-detail"), "{path}");
        assert!(logged.contains("secret-boom-detail"), "{path}: {logged}");
    }
    // The CGI's stderr reaches lighttpd's breakage log (written before the response was).
    let log = server.read_log("cgi-stderr.log");
    assert!(log.contains("Error: the app failed on purpose (secret-boom-detail)"));
    assert!(log.contains("Panic: the app panicked on purpose (secret-boom-detail)"));
}

#[test]
fn unknown_path_is_a_404() {
    let Some(server) = Lighttpd::start() else {
        return;
    };
    let response = server.check("GET", "/nope", "", b"");
    assert_eq!(response.status, 404);
    assert_eq!(response.header("Content-Type"), Some("text/plain"));
}

#[test]
fn curl_gets_the_same_responses_as_raw_http() {
    let Some(server) = Lighttpd::start() else {
        return;
    };
    if !curl_available() {
        return;
    }
    let environ = server.curl("/echo-environ/sub", "x=1&y=%20z", None);
    let raw = server.http("GET", "/echo-environ/sub", "x=1&y=%20z", b"");
    assert_agree(&environ, &raw, "curl GET /echo-environ/sub");
    assert_eq!(environ.status, 200);

    let body = binary_body();
    let echoed = server.curl("/echo-body", "", Some(&body));
    assert_eq!(echoed.status, 200);
    assert!(echoed.body == body, "curl: the body came back changed");

    let teapot = server.curl("/status/418", "", None);
    assert_agree(
        &teapot,
        &server.http("GET", "/status/418", "", b""),
        "curl 418",
    );
    assert_eq!(teapot.status, 418);
}
