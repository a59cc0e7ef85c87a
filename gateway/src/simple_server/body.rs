//! `wsgi.input` for the HTTP server: the request body, never read past its end.
//!
//! The connection (socket and read buffer) is moved into the input for the request and put
//! back into a shared slot when the input is dropped, so the server gets the pipelined bytes
//! back after the app ran even if a middleware wrapped `wsgi.input`.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::conn::{Conn, Filled, fill_blocking, write_all};

/// Longest chunk-size line (size, extensions and CRLF) accepted (hyper's limit is similar).
pub(crate) const CHUNK_LINE_LIMIT: usize = 4096;
/// Most trailer bytes accepted after the last chunk.
pub(crate) const TRAILER_LIMIT: usize = 16 * 1024;

/// Why a body could not be read to its end. Shared with the response side, so an app that
/// fails because of it gets the right status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum BodyFault {
    None = 0,
    /// Malformed chunked framing: 400.
    Malformed = 1,
    /// The chunked body grew past the body limit: 413.
    TooLarge = 2,
    /// The client stopped sending within the read timeout: 408.
    Timeout = 3,
    /// The client closed before the end of the body.
    Truncated = 4,
}

/// What `wsgi.input` and the response side share about the request body: a fault, how much of
/// a Content-Length body is still unread, whether the client still waits for `100 Continue`,
/// and whether the response head is out (after which no `100 Continue` may be sent).
#[derive(Debug, Default)]
struct Progress {
    fault: AtomicU8,
    unread: AtomicU64,
    waiting_continue: AtomicBool,
    response_started: AtomicBool,
}

/// A handle on the body's [`Progress`], one per connection, reset per request.
#[derive(Debug, Default, Clone)]
pub(crate) struct BodyProgress(Arc<Progress>);

impl BodyProgress {
    /// Clears everything for the next request on the connection.
    pub(crate) fn reset(&self) {
        self.0.fault.store(BodyFault::None as u8, Ordering::Relaxed);
        self.0.unread.store(0, Ordering::Relaxed);
        self.0.waiting_continue.store(false, Ordering::Relaxed);
        self.0.response_started.store(false, Ordering::Relaxed);
    }

    pub(crate) fn set(&self, fault: BodyFault) {
        let _ = self
            .0
            .fault
            .compare_exchange(0, fault as u8, Ordering::Relaxed, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> BodyFault {
        match self.0.fault.load(Ordering::Relaxed) {
            1 => BodyFault::Malformed,
            2 => BodyFault::TooLarge,
            3 => BodyFault::Timeout,
            4 => BodyFault::Truncated,
            _ => BodyFault::None,
        }
    }

    /// Bytes of a Content-Length body not read yet (`u64::MAX`: a chunked body, unknown).
    pub(crate) fn unread(&self) -> u64 {
        self.0.unread.load(Ordering::Relaxed)
    }

    fn set_unread(&self, unread: u64) {
        self.0.unread.store(unread, Ordering::Relaxed);
    }

    /// True while the client waits for `100 Continue` before sending the body.
    pub(crate) fn waiting_continue(&self) -> bool {
        self.0.waiting_continue.load(Ordering::Relaxed)
    }

    fn set_waiting_continue(&self, waiting: bool) {
        self.0.waiting_continue.store(waiting, Ordering::Relaxed);
    }

    /// Marks the response head as sent: from now on no `100 Continue` may go out.
    pub(crate) fn response_started(&self) {
        self.0.response_started.store(true, Ordering::Relaxed);
    }

    fn has_response_started(&self) -> bool {
        self.0.response_started.load(Ordering::Relaxed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunked {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk's data.
    Data(u64),
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// After the last chunk: trailer lines until an empty one.
    Trailers(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Remaining {
    Length(u64),
    Chunked(Chunked),
    Done,
}

/// The request body's reading state, owning the connection while the app runs.
#[derive(Debug)]
pub(crate) struct BodyState {
    pub(crate) conn: Conn,
    remaining: Remaining,
    /// `Expect: 100-continue` not yet answered.
    pub(crate) continue_pending: bool,
    read_timeout: Duration,
    write_timeout: Duration,
    max_body: u64,
    max_buffer: usize,
    received: u64,
    fault: BodyProgress,
}

impl BodyState {
    pub(crate) fn new(
        conn: Conn,
        chunked: bool,
        length: u64,
        continue_pending: bool,
        limits: &super::Limits,
        fault: BodyProgress,
    ) -> Self {
        let remaining = if chunked {
            Remaining::Chunked(Chunked::Size)
        } else if length == 0 {
            Remaining::Done
        } else {
            Remaining::Length(length)
        };
        let continue_pending = continue_pending && remaining != Remaining::Done;
        fault.set_unread(match remaining {
            Remaining::Length(left) => left,
            Remaining::Done => 0,
            Remaining::Chunked(_) => u64::MAX,
        });
        fault.set_waiting_continue(continue_pending);
        BodyState {
            conn,
            remaining,
            continue_pending,
            read_timeout: limits.body_read_timeout,
            write_timeout: limits.write_timeout,
            max_body: limits.max_body,
            max_buffer: limits.max_header_bytes.max(CHUNK_LINE_LIMIT * 2),
            received: 0,
            fault,
        }
    }

    /// True once the whole body has been read.
    pub(crate) fn is_done(&self) -> bool {
        self.remaining == Remaining::Done
    }

    fn fail(&self, fault: BodyFault, message: &'static str) -> io::Error {
        self.fault.set(fault);
        let kind = match fault {
            BodyFault::Timeout => io::ErrorKind::TimedOut,
            BodyFault::Truncated => io::ErrorKind::UnexpectedEof,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, message)
    }

    /// Makes sure the buffer holds at least one byte, reading (and answering
    /// `100-continue`) as needed.
    fn need_bytes(&mut self) -> io::Result<()> {
        if !self.conn.buf.is_empty() {
            // Body bytes already came: the client did not wait, and a server may omit the 100
            // once it has received some of the content (RFC 9110 §10.1.1).
            self.continue_pending = false;
            self.fault.set_waiting_continue(false);
            return Ok(());
        }
        if self.continue_pending {
            self.continue_pending = false;
            self.fault.set_waiting_continue(false);
            // No interim response after the final one has started (RFC 9110 §15.2): the
            // client then sends the body on its own (or the read times out).
            if !self.fault.has_response_started() {
                write_all(
                    &self.conn.stream,
                    b"HTTP/1.1 100 Continue\r\n\r\n",
                    self.write_timeout,
                )?;
            }
        }
        match fill_blocking(
            &self.conn.stream,
            &mut self.conn.buf,
            self.max_buffer,
            self.read_timeout,
        ) {
            Ok(Filled::Bytes(_)) => Ok(()),
            Ok(Filled::Eof) => Err(self.fail(
                BodyFault::Truncated,
                "client closed before the end of the body",
            )),
            Ok(_) => Err(self.fail(BodyFault::Malformed, "request body framing too long")),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                Err(self.fail(BodyFault::Timeout, "timed out reading the request body"))
            }
            Err(e) => Err(e),
        }
    }

    /// Reads a whole line (through LF) from the buffer, at most `limit` bytes; returns its
    /// length including the line end.
    fn line(&mut self, limit: usize) -> io::Result<usize> {
        let mut searched = 0;
        loop {
            let bytes = self.conn.buf.bytes();
            if let Some(pos) = bytes[searched..].iter().position(|&b| b == b'\n') {
                let len = searched + pos + 1;
                if len > limit {
                    return Err(self.fail(BodyFault::Malformed, "chunk line too long"));
                }
                return Ok(len);
            }
            searched = bytes.len();
            if searched > limit {
                return Err(self.fail(BodyFault::Malformed, "chunk line too long"));
            }
            match fill_blocking(
                &self.conn.stream,
                &mut self.conn.buf,
                self.max_buffer,
                self.read_timeout,
            ) {
                Ok(Filled::Bytes(_)) => {}
                Ok(Filled::Eof) => {
                    return Err(
                        self.fail(BodyFault::Truncated, "client closed inside a chunk line")
                    );
                }
                Ok(_) => return Err(self.fail(BodyFault::Malformed, "chunk line too long")),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    return Err(self.fail(BodyFault::Timeout, "timed out reading the request body"));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Advances chunked framing until data is available or the body ends.
    fn advance_chunked(&mut self) -> io::Result<()> {
        loop {
            let Remaining::Chunked(state) = self.remaining else {
                return Ok(());
            };
            match state {
                Chunked::Data(_) => return Ok(()),
                Chunked::Size => {
                    if self.continue_pending && self.conn.buf.is_empty() {
                        self.need_bytes()?;
                    }
                    let len = self.line(CHUNK_LINE_LIMIT)?;
                    let size =
                        parse_chunk_size(&self.conn.buf.bytes()[..len]).ok_or_else(|| {
                            self.fail(BodyFault::Malformed, "invalid chunk size line")
                        })?;
                    self.conn.buf.consume(len);
                    if size == 0 {
                        self.remaining = Remaining::Chunked(Chunked::Trailers(0));
                    } else {
                        self.received = self.received.saturating_add(size);
                        if self.received > self.max_body {
                            return Err(self.fail(BodyFault::TooLarge, "request body too large"));
                        }
                        self.remaining = Remaining::Chunked(Chunked::Data(size));
                    }
                }
                Chunked::DataEnd => {
                    let len = self.line(2)?;
                    if &self.conn.buf.bytes()[..len] != b"\r\n" {
                        return Err(
                            self.fail(BodyFault::Malformed, "missing CRLF after chunk data")
                        );
                    }
                    self.conn.buf.consume(len);
                    self.remaining = Remaining::Chunked(Chunked::Size);
                }
                Chunked::Trailers(seen) => {
                    let len = self.line(TRAILER_LIMIT)?;
                    let line = &self.conn.buf.bytes()[..len];
                    let blank = line == b"\r\n";
                    if !blank
                        && (line.len() < 2
                            || line[len - 2] != b'\r'
                            || line[..len - 2]
                                .iter()
                                .any(|b| b.is_ascii_control() && *b != b'\t'))
                    {
                        return Err(self.fail(BodyFault::Malformed, "invalid trailer line"));
                    }
                    self.conn.buf.consume(len);
                    if blank {
                        self.remaining = Remaining::Done;
                        self.sync_unread();
                        return Ok(());
                    }
                    if seen + len > TRAILER_LIMIT {
                        return Err(self.fail(BodyFault::Malformed, "trailer section too large"));
                    }
                    self.remaining = Remaining::Chunked(Chunked::Trailers(seen + len));
                }
            }
        }
    }

    fn fill_body(&mut self) -> io::Result<&[u8]> {
        if matches!(self.remaining, Remaining::Chunked(_)) {
            self.advance_chunked()?;
        }
        let left = match self.remaining {
            Remaining::Done => return Ok(&[]),
            Remaining::Length(left) | Remaining::Chunked(Chunked::Data(left)) => left,
            Remaining::Chunked(_) => return Ok(&[]),
        };
        self.need_bytes()?;
        let available = self
            .conn
            .buf
            .len()
            .min(usize::try_from(left).unwrap_or(usize::MAX));
        Ok(&self.conn.buf.bytes()[..available])
    }

    fn consume_body(&mut self, n: usize) {
        self.conn.buf.consume(n);
        let n = n as u64;
        self.remaining = match self.remaining {
            Remaining::Length(left) if left <= n => Remaining::Done,
            Remaining::Length(left) => Remaining::Length(left - n),
            Remaining::Chunked(Chunked::Data(left)) if left <= n => {
                Remaining::Chunked(Chunked::DataEnd)
            }
            Remaining::Chunked(Chunked::Data(left)) => Remaining::Chunked(Chunked::Data(left - n)),
            other => other,
        };
        self.sync_unread();
    }

    /// Publishes how much of a Content-Length body is left (for the response's framing); a
    /// body read to its end leaves nothing to wait for.
    fn sync_unread(&mut self) {
        match self.remaining {
            Remaining::Length(left) => self.fault.set_unread(left),
            Remaining::Done => {
                self.fault.set_unread(0);
                self.continue_pending = false;
                self.fault.set_waiting_continue(false);
            }
            Remaining::Chunked(_) => {}
        }
    }

    /// Reads and discards the rest of the body, up to `cap` bytes. True when the body ended
    /// (the connection can carry another request).
    pub(crate) fn drain(&mut self, cap: u64) -> bool {
        if self.continue_pending && !self.is_done() {
            // The client is waiting for our word before sending; it may or may not send now.
            // A body already read to its end (sent without waiting) leaves nothing to decide.
            return false;
        }
        let mut drained = 0u64;
        while !self.is_done() {
            let n = match self.fill_body() {
                Ok(bytes) => bytes.len(),
                Err(_) => return false,
            };
            if n == 0 && !self.is_done() {
                return false;
            }
            drained += n as u64;
            if drained > cap {
                return false;
            }
            self.consume_body(n);
        }
        true
    }
}

/// Parses `1*HEXDIG [ BWS ";" chunk-ext ] CRLF`.
fn parse_chunk_size(line: &[u8]) -> Option<u64> {
    let line = line.strip_suffix(b"\r\n")?;
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > 16 {
        return None;
    }
    let size = u64::from_str_radix(std::str::from_utf8(&line[..digits]).ok()?, 16).ok()?;
    let rest = &line[digits..];
    let rest_trimmed = rest
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .map_or(&rest[rest.len()..], |i| &rest[i..]);
    if rest_trimmed.is_empty() && rest.is_empty() {
        return Some(size);
    }
    // Extensions: `;name[=value]`, no control characters.
    if rest_trimmed.first() != Some(&b';')
        || rest.iter().any(|b| b.is_ascii_control() && *b != b'\t')
    {
        return None;
    }
    Some(size)
}

/// Where `wsgi.input` puts the body state (and so the connection) back when it is dropped.
pub(crate) type Slot = Arc<Mutex<Option<BodyState>>>;

/// `wsgi.input` for one request.
#[derive(Debug)]
pub(crate) struct RequestInput {
    state: Option<BodyState>,
    slot: Arc<Mutex<Option<BodyState>>>,
}

impl RequestInput {
    pub(crate) fn new(state: BodyState, slot: Arc<Mutex<Option<BodyState>>>) -> Self {
        RequestInput {
            state: Some(state),
            slot,
        }
    }

    fn state(&mut self) -> io::Result<&mut BodyState> {
        self.state
            .as_mut()
            .ok_or_else(|| io::Error::other("wsgi.input used after the request ended"))
    }
}

impl Read for RequestInput {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for RequestInput {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.state()?.fill_body()
    }

    fn consume(&mut self, amt: usize) {
        if let Some(state) = self.state.as_mut() {
            state.consume_body(amt);
        }
    }
}

impl Drop for RequestInput {
    fn drop(&mut self) {
        if let Some(state) = self.state.take() {
            *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_chunk_size;

    #[test]
    fn chunk_size_lines() {
        let cases: &[(&[u8], Option<u64>)] = &[
            (b"0\r\n", Some(0)),
            (b"a\r\n", Some(10)),
            (b"FF\r\n", Some(255)),
            (b"10;name=value\r\n", Some(16)),
            (b"10 ; name\r\n", Some(16)),
            (b"\r\n", None),
            (b"g\r\n", None),
            (b"-1\r\n", None),
            (b"10\n", None),
            (b"10 x\r\n", None),
            (b"10;a\x01b\r\n", None),
            (b"11111111111111111\r\n", None),
            (b"0x10\r\n", None),
        ];
        for (line, expected) in cases {
            assert_eq!(
                parse_chunk_size(line),
                *expected,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }
}
