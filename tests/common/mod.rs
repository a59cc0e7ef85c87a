//! The loopback harness the server tests share: a real server on an ephemeral port, raw
//! clients over `TcpStream`, a response parser, and the apps the tests serve.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use gateway::simple_server::{Limits, ServerBuilder, WsgiServer};
use gateway::{App, Body, ErrorStream, SharedBuffer, app_fn};

// ---- harness ----------------------------------------------------------------------------------

/// The longest any single wait in these tests may take.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A server running `serve_forever` on its own thread; shut down and joined on drop.
pub struct TestServer {
    pub server: Arc<WsgiServer>,
    pub addr: SocketAddr,
    pub log: SharedBuffer,
    pub thread: Option<JoinHandle<io::Result<()>>>,
}

/// Binds port 0 with test defaults (4 workers, captured stderr, 3 s shutdown timeout), lets
/// `tweak` adjust the builder, and starts serving.
pub fn start(
    app: impl App + 'static,
    tweak: impl FnOnce(ServerBuilder) -> ServerBuilder,
) -> TestServer {
    let log = SharedBuffer::new();
    let builder = ServerBuilder::new()
        .threads(4)
        .shutdown_timeout(Duration::from_secs(3))
        .stderr(ErrorStream::new(log.clone()));
    let server = Arc::new(
        tweak(builder)
            .bind("127.0.0.1", 0, app)
            .expect("bind 127.0.0.1:0"),
    );
    let addr = server.server_address();
    let runner = Arc::clone(&server);
    let thread = thread::spawn(move || runner.serve_forever());
    TestServer {
        server,
        addr,
        log,
        thread: Some(thread),
    }
}

impl TestServer {
    /// The captured stderr (access log, tracebacks, server messages).
    pub fn log(&self) -> String {
        self.log.to_string_lossy()
    }

    /// Calls `shutdown` and waits (bounded) for `serve_forever` to return. `None` when it did
    /// not return in time (the thread is then left behind).
    pub fn stop(&mut self) -> Option<io::Result<()>> {
        self.server.shutdown();
        let thread = self.thread.take()?;
        join_within(thread, Duration::from_secs(10))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Joins `thread` if it finishes within `limit`.
pub fn join_within<T>(thread: JoinHandle<T>, limit: Duration) -> Option<T> {
    let deadline = Instant::now() + limit;
    while !thread.is_finished() {
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(5));
    }
    Some(thread.join().expect("thread panicked"))
}

/// Polls `condition` until it holds or `limit` passes.
pub fn wait_for(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

// ---- worker threads, as /proc sees them -------------------------------------------------------

/// The `recvfrom` system call's number (what `/proc/*/task/*/syscall` shows first).
#[cfg(target_arch = "x86_64")]
pub const RECVFROM: &str = "45";
#[cfg(target_arch = "aarch64")]
pub const RECVFROM: &str = "207";

/// How many of this process's worker threads are blocked in one of `calls` (system call
/// numbers) right now. Meaningful in a test binary that runs one server at a time.
pub fn workers_in(calls: &[&str]) -> usize {
    let mut count = 0;
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let path = task.expect("task entry").path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if !name.starts_with("gateway-worker") {
            continue;
        }
        let syscall = std::fs::read_to_string(path.join("syscall")).unwrap_or_default();
        if syscall
            .split_whitespace()
            .next()
            .is_some_and(|call| calls.contains(&call))
        {
            count += 1;
        }
    }
    count
}

/// How many worker threads are blocked in `recvfrom` right now (waiting on a connection).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub fn workers_in_recvfrom() -> usize {
    workers_in(&[RECVFROM])
}

/// Whether this machine can show the keep-alive fast path: it needs two worker slots (two
/// cores) and a readable `/proc/thread-self/syscall`. Says why on stderr when it cannot.
pub fn fast_path_observable() -> bool {
    if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        // One worker slot: a lone connection already fills it, and nothing is waited on.
        eprintln!("skipped: the fast path needs at least two worker slots (two cores)");
        return false;
    }
    let readable = std::fs::read_to_string("/proc/thread-self/syscall")
        .is_ok_and(|s| s.starts_with(|c: char| c.is_ascii_digit()));
    if !readable {
        eprintln!("skipped: /proc/thread-self/syscall is not readable here");
    }
    readable
}

pub fn limits(adjust: impl FnOnce(&mut Limits)) -> Limits {
    let mut limits = Limits::default();
    adjust(&mut limits);
    limits
}

/// `GET path HTTP/1.1` with a Host.
pub fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n")
}

/// `GET path HTTP/1.1` with a Host and `Connection: close`.
pub fn get_close(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
}

// ---- responses --------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct Response {
    pub version: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as it was on the wire (chunk framing included).
    pub raw_body: Vec<u8>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Parses one response from the start of `buf`: `None` while it is incomplete. `head`: the
/// response to a HEAD request; `eof`: the connection has ended (a close-delimited body is
/// then complete). Returns the response and the bytes it took.
pub fn parse_response(buf: &[u8], head: bool, eof: bool) -> Option<(Response, usize)> {
    let end = find(buf, b"\r\n\r\n")? + 4;
    let text: String = buf[..end - 4].iter().map(|&b| char::from(b)).collect();
    let mut lines = text.split("\r\n");
    let status_line = lines.next().expect("status line");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default().to_owned();
    let status = parts
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers = lines
        .map(|line| {
            let (name, value) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("bad header line {line:?}"));
            (name.to_owned(), value.trim().to_owned())
        })
        .collect();
    let mut response = Response {
        version,
        status,
        headers,
        raw_body: Vec::new(),
        body: Vec::new(),
    };
    let rest = &buf[end..];
    if head || status < 200 || status == 204 || status == 304 {
        return Some((response, end));
    }
    if response
        .header("Transfer-Encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
    {
        let (body, used) = decode_chunked(rest)?;
        response.raw_body = rest[..used].to_vec();
        response.body = body;
        return Some((response, end + used));
    }
    if let Some(length) = response.header("Content-Length") {
        let length: usize = length.parse().expect("numeric Content-Length");
        if rest.len() < length {
            return None;
        }
        response.raw_body = rest[..length].to_vec();
        response.body = response.raw_body.clone();
        return Some((response, end + length));
    }
    if !eof {
        return None;
    }
    response.raw_body = rest.to_vec();
    response.body = rest.to_vec();
    Some((response, buf.len()))
}

/// Decodes a chunked body at the start of `buf`: the data and the bytes the framing took.
pub fn decode_chunked(buf: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut pos = 0;
    let mut body = Vec::new();
    loop {
        let line_end = pos + find(&buf[pos..], b"\r\n")?;
        let line = std::str::from_utf8(&buf[pos..line_end]).expect("ASCII chunk-size line");
        let digits = line.split(';').next().unwrap_or_default().trim();
        let size =
            usize::from_str_radix(digits, 16).unwrap_or_else(|_| panic!("bad chunk size {line:?}"));
        pos = line_end + 2;
        if size == 0 {
            // Trailer lines until an empty one.
            loop {
                let end = pos + find(&buf[pos..], b"\r\n")?;
                let empty = end == pos;
                pos = end + 2;
                if empty {
                    return Some((body, pos));
                }
            }
        }
        if buf.len() < pos + size + 2 {
            return None;
        }
        body.extend_from_slice(&buf[pos..pos + size]);
        assert_eq!(
            &buf[pos + size..pos + size + 2],
            b"\r\n",
            "CRLF after chunk data"
        );
        pos += size + 2;
    }
}

/// Every response in `buf`, read up to EOF (none of them to HEAD).
pub fn parse_all(buf: &[u8]) -> Vec<Response> {
    let mut responses = Vec::new();
    let mut rest = buf;
    while !rest.is_empty() {
        let (response, used) = parse_response(rest, false, true).unwrap_or_else(|| {
            panic!("incomplete response in {:?}", String::from_utf8_lossy(rest))
        });
        responses.push(response);
        rest = &rest[used..];
    }
    responses
}

// ---- clients ----------------------------------------------------------------------------------

/// What one read brought.
pub enum Got {
    Data,
    /// EOF or a reset: the server closed the connection.
    Closed,
    Timeout,
}

/// A raw connection with a buffer of bytes received and not yet parsed.
pub struct Client {
    pub stream: TcpStream,
    pub buf: Vec<u8>,
    pub closed: bool,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect");
        stream
            .set_write_timeout(Some(IO_TIMEOUT))
            .expect("write timeout");
        Client {
            stream,
            buf: Vec::new(),
            closed: false,
        }
    }

    pub fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.stream
            .write_all(bytes.as_ref())
            .expect("send request bytes");
    }

    pub fn read_some(&mut self, deadline: Instant) -> Got {
        if self.closed {
            return Got::Closed;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Got::Timeout;
        }
        self.stream
            .set_read_timeout(Some(left))
            .expect("read timeout");
        let mut chunk = vec![0; 64 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => {
                self.closed = true;
                Got::Closed
            }
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Got::Data
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Got::Timeout
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Got::Data,
            Err(_) => {
                self.closed = true;
                Got::Closed
            }
        }
    }

    /// The next response (to a HEAD request when `head`); panics after [`IO_TIMEOUT`].
    pub fn response_to(&mut self, head: bool) -> Response {
        let deadline = Instant::now() + IO_TIMEOUT;
        loop {
            if let Some((response, used)) = parse_response(&self.buf, head, self.closed) {
                self.buf.drain(..used);
                return response;
            }
            if self.closed {
                panic!(
                    "connection closed before a whole response; got {:?}",
                    String::from_utf8_lossy(&self.buf)
                );
            }
            if let Got::Timeout = self.read_some(deadline) {
                panic!(
                    "no whole response in time; got {:?}",
                    String::from_utf8_lossy(&self.buf)
                );
            }
        }
    }

    pub fn response(&mut self) -> Response {
        self.response_to(false)
    }

    /// True when the server closes the connection within `wait` without sending more.
    pub fn closed_within(&mut self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            match self.read_some(deadline) {
                Got::Data => {}
                Got::Closed => return self.buf.is_empty(),
                Got::Timeout => return false,
            }
        }
    }

    /// Whatever arrives within `wait` (left in the buffer).
    pub fn bytes_within(&mut self, wait: Duration) -> Vec<u8> {
        let deadline = Instant::now() + wait;
        while let Got::Data = self.read_some(deadline) {}
        self.buf.clone()
    }
}

/// What [`exchange`] got back.
pub struct Raw {
    pub bytes: Vec<u8>,
    /// The server closed the connection (rather than the read timing out).
    pub closed: bool,
}

/// Connects, writes `request`, reads until EOF (or [`IO_TIMEOUT`]).
pub fn exchange(addr: SocketAddr, request: impl AsRef<[u8]>) -> Raw {
    let mut client = Client::connect(addr);
    // The server may stop reading early (it rejected the head): keep what it answered.
    let _ = client.stream.write_all(request.as_ref());
    let deadline = Instant::now() + IO_TIMEOUT;
    loop {
        match client.read_some(deadline) {
            Got::Data => {}
            Got::Closed => {
                return Raw {
                    bytes: client.buf,
                    closed: true,
                };
            }
            Got::Timeout => {
                return Raw {
                    bytes: client.buf,
                    closed: false,
                };
            }
        }
    }
}

/// The one response to a request sent on a fresh connection that the server must close.
pub fn one_response(addr: SocketAddr, request: impl AsRef<[u8]>) -> Response {
    let raw = exchange(addr, request);
    assert!(
        raw.closed,
        "connection not closed; got {:?}",
        String::from_utf8_lossy(&raw.bytes)
    );
    let mut responses = parse_all(&raw.bytes);
    assert_eq!(
        responses.len(),
        1,
        "{:?}",
        String::from_utf8_lossy(&raw.bytes)
    );
    responses.remove(0)
}

/// A fresh connection still gets a normal answer.
pub fn assert_serves(addr: SocketAddr) {
    let response = one_response(addr, get_close("/p/still-serving"));
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "/p/still-serving");
}

/// Four requests to `/sleep` (a blocking app) and then one to `/fast`: the fast one must be
/// answered while every sleeper still sleeps (ordering, not timing), then each sleeper gets
/// its answer. Needs a server with more workers than cores.
pub fn assert_served_while_apps_block(addr: SocketAddr) {
    let mut sleepers: Vec<Client> = (0..4).map(|_| Client::connect(addr)).collect();
    for client in &mut sleepers {
        client.send(get("/sleep"));
    }
    thread::sleep(Duration::from_millis(50));
    let fast = one_response(addr, get_close("/fast"));
    assert_eq!(fast.text(), "hello world");
    for client in &mut sleepers {
        assert!(
            client.bytes_within(Duration::from_millis(1)).is_empty(),
            "the fast request was only answered after a blocking one finished"
        );
    }
    for client in &mut sleepers {
        assert_eq!(client.response().text(), "slept");
    }
}

// ---- apps -------------------------------------------------------------------------------------

/// Routes by PATH_INFO:
/// - `/lazy`: a body of unknown length (three chunks);
/// - `/204`, `/304`: bodiless statuses (`/304` returns a body that must not be sent);
/// - `/echo`: reads `wsgi.input` to its end, then once more, and answers
///   `cl=<CONTENT_LENGTH>;<body>`;
/// - `/sleep`: sleeps 300 ms;
/// - `/panic`: panics;
/// - `/p/...`: answers the REQUEST_URI;
/// - anything else: `hello world`, without reading the body.
pub fn router() -> impl App {
    app_fn(|env, sr| {
        let path = env.get("PATH_INFO").unwrap_or_default().to_owned();
        match path.as_str() {
            "/lazy" => {
                sr.start("200 OK", [("Content-Type", "text/plain")])?;
                Ok(Body::from_iter(["one", "two", "three"]))
            }
            "/204" => {
                sr.start("204 No Content", [("X-Empty", "yes")])?;
                Ok(Body::empty())
            }
            "/304" => {
                sr.start("304 Not Modified", [("ETag", "\"v1\"")])?;
                Ok(Body::from("must not be sent"))
            }
            "/echo" => {
                let length = env.get("CONTENT_LENGTH").unwrap_or("-").to_owned();
                let mut body = Vec::new();
                env.input().read_to_end(&mut body)?;
                let mut more = [0; 16];
                if env.input().read(&mut more)? != 0 {
                    return Err("wsgi.input read past the end of the body".into());
                }
                sr.start("200 OK", [("Content-Type", "text/plain")])?;
                Ok(Body::from(
                    [format!("cl={length};").into_bytes(), body].concat(),
                ))
            }
            "/sleep" => {
                thread::sleep(Duration::from_millis(300));
                sr.start("200 OK", [("Content-Type", "text/plain")])?;
                Ok(Body::from("slept"))
            }
            "/panic" => panic!("deliberate test panic"),
            p if p.starts_with("/p/") => {
                let uri = env.get("REQUEST_URI").unwrap_or_default().to_owned();
                sr.start("200 OK", [("Content-Type", "text/plain")])?;
                Ok(Body::from(uri))
            }
            _ => {
                sr.start("200 OK", [("Content-Type", "text/plain")])?;
                Ok(Body::from("hello world"))
            }
        }
    })
}

/// Answers `KEY=<debug of the value>` lines for the variables the tests look at.
pub fn environ_app() -> impl App {
    keys_app(&[
        "PATH_INFO",
        "QUERY_STRING",
        "REQUEST_URI",
        "REQUEST_METHOD",
        "SERVER_PROTOCOL",
        "HTTP_X_MULTI",
        "HTTP_X_UNDER",
        "CONTENT_TYPE",
        "CONTENT_LENGTH",
        "HTTP_CONTENT_TYPE",
        "HTTP_CONTENT_LENGTH",
        "SERVER_PORT",
        "REMOTE_ADDR",
        "HTTP_HOST",
    ])
}

/// Answers `KEY=<debug of the value>` for each of `keys`, then the `wsgi.*` flags the tests
/// look at.
pub fn keys_app(keys: &'static [&'static str]) -> impl App {
    app_fn(move |env, sr| {
        let mut text = String::new();
        for key in keys {
            text.push_str(&format!("{key}={:?}\n", env.get(key)));
        }
        text.push_str(&format!("wsgi.multithread={}\n", env.multithread()));
        text.push_str(&format!("wsgi.multiprocess={}\n", env.multiprocess()));
        text.push_str(&format!(
            "wsgi.input_terminated={}\n",
            env.input_terminated()
        ));
        sr.start("200 OK", [("Content-Type", "text/plain; charset=utf-8")])?;
        Ok(Body::from(text))
    })
}

pub fn environ_lines(response: &Response) -> HashMap<String, String> {
    response
        .text()
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}
