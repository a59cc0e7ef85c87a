//! `wsgi.input` for the HTTP server: the request body, never read past its end.
//!
//! The connection (socket and read buffer) is moved into the input for the request and put
//! back into a shared slot when the input is dropped, so the server gets the pipelined bytes
//! back after the app ran even if a middleware wrapped `wsgi.input`.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::chunked::{CHUNK_LINE_LIMIT, ChunkError, ChunkedDecoder, Step};
use super::conn::{Conn, Filled, fill_blocking, write_all};

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

    pub(crate) fn has_response_started(&self) -> bool {
        self.0.response_started.load(Ordering::Relaxed)
    }
}

#[derive(Debug, Clone)]
enum Remaining {
    Length(u64),
    Chunked(ChunkedDecoder),
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
    max_buffer: usize,
    /// When the whole body must have arrived.
    deadline: Instant,
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
            Remaining::Chunked(ChunkedDecoder::new(limits.max_body))
        } else if length == 0 {
            Remaining::Done
        } else {
            Remaining::Length(length)
        };
        let continue_pending = continue_pending && !matches!(remaining, Remaining::Done);
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
            max_buffer: limits.max_header_bytes.max(CHUNK_LINE_LIMIT * 2),
            deadline: Instant::now() + limits.body_total_timeout,
            fault,
        }
    }

    /// True once the whole body has been read.
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.remaining, Remaining::Done)
    }

    fn fail(&self, fault: BodyFault, message: &'static str) -> io::Error {
        self.fault.set(fault);
        let kind = match fault {
            BodyFault::Timeout => io::ErrorKind::TimedOut,
            BodyFault::Truncated => io::ErrorKind::UnexpectedEof,
            BodyFault::TooLarge => io::ErrorKind::FileTooLarge,
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
        self.read_more()
    }

    /// Reads more of the body into the buffer, waiting up to the read timeout, and never
    /// past the body's deadline ([`Limits::body_total_timeout`](super::Limits)).
    fn read_more(&mut self) -> io::Result<()> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.fail(
                BodyFault::Timeout,
                "the request body took longer than the server allows",
            ));
        }
        match fill_blocking(
            &self.conn.stream,
            &mut self.conn.buf,
            self.max_buffer,
            self.read_timeout.min(left),
        ) {
            Ok(Filled::Bytes(_)) => Ok(()),
            Ok(Filled::Eof) => Err(self.fail(
                BodyFault::Truncated,
                "client closed before the end of the body",
            )),
            Ok(_) => Err(self.fail(BodyFault::Malformed, "chunk framing too long")),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                Err(self.fail(BodyFault::Timeout, "timed out reading the request body"))
            }
            Err(e) => Err(e),
        }
    }

    /// Advances chunked framing until data is available or the body ends.
    fn advance_chunked(&mut self) -> io::Result<()> {
        loop {
            let Remaining::Chunked(decoder) = &mut self.remaining else {
                return Ok(());
            };
            let step = decoder.step(self.conn.buf.bytes());
            match step {
                Ok(Step::Data(_)) => return Ok(()),
                Ok(Step::Framing(n)) => self.conn.buf.consume(n),
                Ok(Step::Done) => {
                    self.remaining = Remaining::Done;
                    self.sync_unread();
                    return Ok(());
                }
                Ok(Step::NeedMore) => {
                    if self.continue_pending && self.conn.buf.is_empty() {
                        self.need_bytes()?;
                    } else {
                        self.read_more()?;
                    }
                }
                Err(ChunkError::TooLarge) => {
                    return Err(self.fail(BodyFault::TooLarge, "request body too large"));
                }
                Err(ChunkError::Malformed(why)) => {
                    return Err(self.fail(BodyFault::Malformed, why));
                }
            }
        }
    }

    fn fill_body(&mut self) -> io::Result<&[u8]> {
        if matches!(self.remaining, Remaining::Chunked(_)) {
            self.advance_chunked()?;
        }
        let left = match &mut self.remaining {
            Remaining::Done => return Ok(&[]),
            Remaining::Length(left) => *left,
            Remaining::Chunked(decoder) => match decoder.step(self.conn.buf.bytes()) {
                Ok(Step::Data(left)) => left,
                _ => return Ok(&[]),
            },
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
        match &mut self.remaining {
            Remaining::Length(left) if *left <= n => self.remaining = Remaining::Done,
            Remaining::Length(left) => *left -= n,
            Remaining::Chunked(decoder) => decoder.consumed_data(n),
            Remaining::Done => {}
        }
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
