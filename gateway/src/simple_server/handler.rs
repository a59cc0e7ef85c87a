//! `ServerHandler`: the protocol engine with HTTP/1.1 response framing on top.

use std::io::{self, Seek};
use std::net::IpAddr;

use super::socket::Stream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rustix::event::PollFlags;

use super::Settings;
use super::body::{BodyFault, BodyProgress};
use super::conn::{wait_ready, write_all};
use crate::handlers::{BaseHandler, HandlerState, format_date_time};
use crate::util::FileWrapper;
use crate::{Environ, ErrorStream, Input};

/// Write straight through (no copy into the output buffer) for chunks at least this big.
const DIRECT_WRITE: usize = 16 * 1024;
/// Largest single sendfile(2) call.
const SENDFILE_STEP: usize = 1 << 30;

/// How the response body is delimited, decided when the headers go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// Not decided yet.
    Pending,
    /// No body at all (1xx, 204, 304).
    None,
    /// `Content-Length`: this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked` (HTTP/1.1, length unknown).
    Chunked,
    /// The end of the body is the end of the connection (HTTP/1.0, length unknown).
    Close,
}

/// What the server knows of the request when it answers it.
#[derive(Debug)]
pub(crate) struct Exchange<'s> {
    pub(crate) minor: u8,
    pub(crate) head: bool,
    pub(crate) keep_alive: bool,
    pub(crate) request_line: String,
    /// The client's address (`None` on a Unix domain socket: `-` in the log).
    pub(crate) peer: Option<IpAddr>,
    /// Set by `wsgi.input` when the request body turned out bad.
    pub(crate) fault: &'s BodyProgress,
}

/// One request's handler: the [`BaseHandler`] engine in origin-server mode, writing to the
/// socket through one buffer so that a head and a small body leave in one write.
pub(crate) struct ServerHandler<'s> {
    state: HandlerState,
    stream: &'s Stream,
    out: Vec<u8>,
    /// `wsgi.errors` and the error log of this request.
    stderr: ErrorStream,
    settings: &'s Settings,
    /// The server's shutdown flag: once set, responses say `Connection: close`.
    shutdown: &'s AtomicBool,
    exchange: Exchange<'s>,
    framing: Framing,
    body_written: u64,
}

impl<'s> ServerHandler<'s> {
    pub(crate) fn new(
        stream: &'s Stream,
        stderr: ErrorStream,
        settings: &'s Settings,
        shutdown: &'s AtomicBool,
        exchange: Exchange<'s>,
        out: Vec<u8>,
    ) -> Self {
        ServerHandler {
            state: HandlerState::default(),
            stream,
            out,
            stderr,
            settings,
            shutdown,
            exchange,
            framing: Framing::Pending,
            body_written: 0,
        }
    }

    /// Adds the `wsgi.*` entries to the environ the server built from the request (what
    /// `setup_environ` adds to the CGI variables; the server runs the engine on its environ
    /// in place, see [`run_on`](crate::handlers::run_on)).
    pub(crate) fn prepare(&self, environ: &mut Environ) {
        environ.set_errors(self.stderr.clone());
        environ.set_url_scheme_static(crate::util::guess_scheme(environ));
        environ.set_multithread(true);
        environ.set_multiprocess(false);
        environ.set_run_once(false);
        environ.set_file_wrapper(self.settings.sendfile);
    }

    /// True when the connection can carry another request after this response.
    pub(crate) fn keep_alive(&self) -> bool {
        self.exchange.keep_alive
    }

    /// The output buffer (emptied), for the next request on the connection.
    pub(crate) fn into_buffer(mut self) -> Vec<u8> {
        self.out.clear();
        std::mem::take(&mut self.out)
    }

    fn send(&mut self, data: &[u8]) -> io::Result<()> {
        if self.out.len() + data.len() >= DIRECT_WRITE {
            self.flush_out()?;
            if data.len() >= DIRECT_WRITE {
                return write_all(self.stream, data, self.settings.limits.write_timeout);
            }
        }
        self.out.extend_from_slice(data);
        Ok(())
    }

    fn flush_out(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            let result = write_all(self.stream, &self.out, self.settings.limits.write_timeout);
            self.out.clear();
            result?;
        }
        Ok(())
    }

    fn body_allowed(&self) -> bool {
        !self.exchange.head && self.framing != Framing::None
    }

    fn fault_status(&self) -> Option<(&'static str, &'static [u8])> {
        match self.exchange.fault.get() {
            BodyFault::None | BodyFault::Truncated => None,
            BodyFault::Malformed => {
                Some(("400 Bad Request", b"Bad Request: malformed request body\n"))
            }
            BodyFault::TooLarge => Some((
                "413 Content Too Large",
                b"Content Too Large: the request body exceeds the server's limit\n",
            )),
            BodyFault::Timeout => Some((
                "408 Request Timeout",
                b"Request Timeout: the request body did not arrive in time\n",
            )),
        }
    }

    fn access_log(&mut self) {
        if !self.settings.access_log {
            return;
        }
        let code = self
            .state
            .status
            .as_deref()
            .and_then(|s| s.get(..3))
            .unwrap_or("-")
            .to_owned();
        let line = format!(
            "{} - - [{}] \"{}\" {} {}\n",
            LogPeer(self.exchange.peer),
            log_date(),
            escape_log(&self.exchange.request_line),
            code,
            self.state.bytes_sent
        );
        let mut stderr = self.settings.stderr.clone();
        let _ = io::Write::write_all(&mut stderr, line.as_bytes());
    }

    /// sendfile(2) from the file's current offset, at most `limit` bytes.
    fn send_file(&mut self, wrapper: &mut FileWrapper, limit: u64) -> io::Result<u64> {
        let timeout = self.settings.limits.write_timeout;
        let stream = self.stream;
        let Some(file) = wrapper.as_file() else {
            return Ok(0);
        };
        let mut offset = file.stream_position()?;
        let mut sent = 0u64;
        while sent < limit {
            let step = usize::try_from(limit - sent)
                .unwrap_or(SENDFILE_STEP)
                .min(SENDFILE_STEP);
            match rustix::fs::sendfile(stream, &*file, Some(&mut offset), step) {
                Ok(0) => break,
                Ok(n) => sent += n as u64,
                Err(rustix::io::Errno::AGAIN) => {
                    if !wait_ready(stream, PollFlags::OUT, timeout)? {
                        return Err(io::Error::new(io::ErrorKind::TimedOut, "write timed out"));
                    }
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        file.seek(io::SeekFrom::Start(offset))?;
        Ok(sent)
    }
}

impl BaseHandler for ServerHandler<'_> {
    fn state(&self) -> &HandlerState {
        &self.state
    }
    fn state_mut(&mut self) -> &mut HandlerState {
        &mut self.state
    }
    fn write_raw(&mut self, data: &[u8]) -> io::Result<()> {
        self.send(data)
    }
    fn flush_raw(&mut self) -> io::Result<()> {
        self.flush_out()
    }
    fn get_stdin(&mut self) -> Input {
        Input::empty()
    }
    fn get_stderr(&mut self) -> ErrorStream {
        self.stderr.clone()
    }
    fn add_cgi_vars(&mut self, _environ: &mut Environ) {}
    /// Not on the server's path: the server builds the environ from the request and calls
    /// [`prepare`](ServerHandler::prepare) and [`run_on`](crate::handlers::run_on) itself.
    /// Here for the trait, it holds what `prepare` adds and no request variables.
    fn setup_environ(&mut self) -> Environ {
        let mut environ = Environ::new();
        self.prepare(&mut environ);
        environ
    }
    fn wsgi_multithread(&self) -> bool {
        true
    }
    fn wsgi_multiprocess(&self) -> bool {
        false
    }
    fn server_software(&self) -> Option<&str> {
        Some(&self.settings.server_software)
    }
    fn http_version(&self) -> &str {
        if self.exchange.minor == 0 {
            "1.0"
        } else {
            "1.1"
        }
    }

    fn error_status(&self) -> &str {
        self.fault_status()
            .map_or(crate::handlers::ERROR_STATUS, |(status, _)| status)
    }

    fn error_body(&self) -> &[u8] {
        self.fault_status()
            .map_or(crate::handlers::ERROR_BODY, |(_, body)| body)
    }

    /// The reference's Content-Length rule, then HTTP/1.1 framing (RFC 9112 §6.3):
    /// 1xx/204/304 carry no body and no Content-Length; a known length is sent as is; an
    /// unknown one is chunked on HTTP/1.1 and close-delimited on HTTP/1.0. `Connection`
    /// says whether the connection stays open.
    fn cleanup_headers(&mut self) {
        let body = &self.exchange.fault;
        // Known now to end in a close (RFC 9112 §9.6: say so): a bad body, shutdown, a client
        // still waiting for 100 Continue, or more unread body than the server will drain.
        let unread = body.unread();
        if body.get() != BodyFault::None
            || self.shutdown.load(Ordering::Acquire)
            || body.waiting_continue()
            || (unread != u64::MAX && unread > self.settings.limits.max_drain)
        {
            self.exchange.keep_alive = false;
        }
        body.response_started();
        let code = self.state.status_code;
        let minor = self.exchange.minor;
        // `set_content_length`'s rule (the reference's): one chunk, so its length is the body's.
        let known_length = (self.state.result_len == Some(1)).then_some(self.state.bytes_sent);
        let Some(headers) = self.state.headers.as_mut() else {
            return;
        };
        // One lookup decides the framing; the names added below are hop-by-hop or
        // Content-Length, which the app cannot have set when they are added.
        let declared = headers
            .get("Content-Length")
            .map(|v| v.trim().parse::<u64>());
        self.framing = if code < 200 || code == 204 || code == 304 {
            if declared.is_some() {
                headers.remove("Content-Length");
            }
            Framing::None
        } else {
            match (declared, known_length) {
                (Some(Ok(length)), _) => Framing::Length(length),
                (Some(Err(_)), _) => {
                    // An unparsable length cannot frame anything: drop it, delimit otherwise.
                    headers.remove("Content-Length");
                    Framing::Pending
                }
                (None, Some(length)) => {
                    let mut digits = [0; 20];
                    headers.append_trusted("Content-Length", decimal(length, &mut digits));
                    Framing::Length(length)
                }
                (None, None) => Framing::Pending,
            }
        };
        if self.framing == Framing::Pending {
            if minor >= 1 {
                headers.append_trusted("Transfer-Encoding", "chunked");
                self.framing = Framing::Chunked;
            } else {
                self.framing = Framing::Close;
                self.exchange.keep_alive = false;
            }
        }
        if !self.exchange.keep_alive {
            headers.append_trusted("Connection", "close");
        } else if minor == 0 {
            headers.append_trusted("Connection", "keep-alive");
        }
    }

    /// The status line, `Date`, `Server` and the header block go straight into the output
    /// buffer, to leave with the first body bytes in one write.
    fn send_headers(&mut self) -> io::Result<()> {
        self.cleanup_headers();
        self.state.headers_sent = true;
        let mut out = std::mem::take(&mut self.out);
        self.send_preamble(&mut out);
        match self.state.headers.as_ref() {
            Some(headers) => headers.write_to(&mut out),
            None => out.extend_from_slice(b"\r\n"),
        }
        self.out = out;
        if self.out.len() >= DIRECT_WRITE {
            self.flush_out()?;
        }
        Ok(())
    }

    fn write_body(&mut self, data: &[u8]) -> io::Result<()> {
        if !self.body_allowed() {
            return Ok(());
        }
        match self.framing {
            Framing::Length(length) => {
                let room = length.saturating_sub(self.body_written);
                let take = usize::try_from(room).unwrap_or(usize::MAX).min(data.len());
                if take < data.len() {
                    // More than Content-Length announced: the excess cannot be framed.
                    self.exchange.keep_alive = false;
                }
                self.body_written += take as u64;
                self.send(&data[..take])
            }
            Framing::Chunked => {
                self.body_written += data.len() as u64;
                let mut size = [0; 18];
                self.send(chunk_size_line(data.len(), &mut size))?;
                self.send(data)?;
                self.send(b"\r\n")
            }
            _ => {
                self.body_written += data.len() as u64;
                self.send(data)
            }
        }
    }

    fn finish_body(&mut self) -> io::Result<()> {
        if !self.body_allowed() {
            return Ok(());
        }
        match self.framing {
            Framing::Chunked => self.send(b"0\r\n\r\n"),
            Framing::Length(length) if self.body_written < length => {
                // The app sent less than it announced: the client cannot find the next response.
                self.exchange.keep_alive = false;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// A [`FileWrapper`] over a regular file goes out with sendfile(2): `Content-Length` is
    /// the rest of the file when the app did not set one, and an app's Content-Length limits
    /// what is sent.
    fn sendfile(&mut self, wrapper: &mut FileWrapper) -> io::Result<bool> {
        if !self.settings.sendfile {
            return Ok(false);
        }
        let Some(file) = wrapper.as_file() else {
            return Ok(false);
        };
        let metadata = file.metadata()?;
        if !metadata.is_file() {
            return Ok(false);
        }
        let rest = metadata.len().saturating_sub(file.stream_position()?);
        if self.state.headers_sent {
            if self.framing == Framing::Chunked {
                return Ok(false);
            }
        } else {
            if let Some(headers) = self.state.headers.as_mut()
                && !headers.contains("Content-Length")
            {
                let _ = headers.set("Content-Length", rest.to_string());
            }
            self.send_headers()?;
        }
        self.flush_out()?;
        if !self.body_allowed() {
            return Ok(true);
        }
        let limit = match self.framing {
            Framing::Length(length) => length.saturating_sub(self.body_written).min(rest),
            _ => rest,
        };
        let sent = self.send_file(wrapper, limit)?;
        self.body_written += sent;
        self.state.bytes_sent += sent;
        Ok(true)
    }

    fn close(&mut self) {
        self.access_log();
        self.state.reset();
    }
}

impl std::fmt::Debug for ServerHandler<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandler")
            .field("state", &self.state)
            .field("exchange", &self.exchange)
            .finish_non_exhaustive()
    }
}

/// `n` in decimal, written into `digits` without allocating.
pub(crate) fn decimal(mut n: u64, digits: &mut [u8; 20]) -> &str {
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&digits[i..]).unwrap_or("0")
}

/// A chunk's size line, `<hex>\r\n`, written into `buf` without allocating.
fn chunk_size_line(n: usize, buf: &mut [u8; 18]) -> &[u8] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut i = buf.len() - 2;
    buf[i..].copy_from_slice(b"\r\n");
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = HEX[n % 16];
        n /= 16;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// `26/Nov/2026 12:48:59` (UTC; the reference uses local time).
pub(crate) fn log_date() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    // "Thu, 26 Nov 2026 12:48:59 GMT" → "26/Nov/2026 12:48:59"
    let http = format_date_time(now);
    let parts: Vec<&str> = http.split(' ').collect();
    match parts.as_slice() {
        [_, day, month, year, time, _] => format!("{day}/{month}/{year} {time}"),
        _ => http,
    }
}

/// The reference's log escaping: C0 controls, DEL and U+0080..=U+009F as `\xHH`, `\` as `\\`.
pub(crate) fn escape_log(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let code = u32::from(c);
        if c == '\\' {
            out.push_str("\\\\");
        } else if code < 0x20 || (0x7f..=0x9f).contains(&code) {
            out.push_str(&format!("\\x{code:02x}"));
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes a complete error response for a request that could not be parsed or timed out,
/// and asks for the connection to close. The response to a `HEAD` request (`head`) has the
/// same headers and no body (RFC 9110 §9.3.2).
pub(crate) fn error_response(status: &str, detail: &str, software: &str, head: bool) -> Vec<u8> {
    let body = format!("{}\n{detail}\n", &status[4..]);
    let date = crate::handlers::http_date_now();
    let mut response = format!(
        "HTTP/1.1 {status}\r\nDate: {date}\r\nServer: {software}\r\nConnection: close\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    if !head {
        response.push_str(&body);
    }
    response.into_bytes()
}

/// A client's address as the access log shows it: the IP, or `-` when there is none.
pub(crate) struct LogPeer(pub(crate) Option<IpAddr>);

impl std::fmt::Display for LogPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(ip) => ip.fmt(f),
            None => f.write_str("-"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn chunk_size_lines_are_lower_case_hex() {
        let mut buf = [0; 18];
        assert_eq!(super::chunk_size_line(0, &mut buf), b"0\r\n");
        assert_eq!(super::chunk_size_line(255, &mut buf), b"ff\r\n");
        assert_eq!(super::chunk_size_line(0x1000, &mut buf), b"1000\r\n");
        assert_eq!(
            super::chunk_size_line(usize::MAX, &mut buf),
            format!("{:x}\r\n", usize::MAX).as_bytes()
        );
    }
}
