//! A connection: a non-blocking socket, its read buffer, and blocking-with-deadline I/O.

use std::io::{self, Read, Write};
use std::net::SocketAddr;

use super::socket::Stream;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};

/// Waits until `fd` is ready for `flags` or `timeout` passes; `Ok(false)` on timeout.
pub(crate) fn wait_ready(fd: &impl AsFd, flags: PollFlags, timeout: Duration) -> io::Result<bool> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let spec = Timespec::try_from(left).unwrap_or(Timespec {
            tv_sec: i64::MAX,
            tv_nsec: 0,
        });
        let mut fds = [PollFd::new(fd, flags)];
        match rustix::event::poll(&mut fds, Some(&spec)) {
            Ok(0) if Instant::now() >= deadline => return Ok(false),
            Ok(0) => continue,
            // Readiness, an error or a hang-up: the next read or write says which.
            Ok(_) => return Ok(true),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// The bytes read from a connection and not yet consumed: `data[start..end]`.
#[derive(Debug)]
pub(crate) struct ReadBuf {
    data: Vec<u8>,
    start: usize,
    end: usize,
    /// The last read emptied the socket (it returned less than asked, would block, or hit
    /// EOF). With edge-triggered epoll, anything arriving later raises a new event, so a
    /// worker need not read again before parking.
    pub(crate) drained: bool,
}

impl ReadBuf {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        ReadBuf {
            data: vec![0; capacity],
            start: 0,
            end: 0,
            drained: false,
        }
    }

    /// The unconsumed bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Room to read into: moves the unconsumed bytes to the front, and grows the buffer (up to
    /// `limit` bytes in all) when it is full. Empty when the buffer is at `limit`.
    pub(crate) fn spare(&mut self, limit: usize) -> &mut [u8] {
        if self.start > 0 && self.end == self.data.len() {
            self.data.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.data.len() && self.data.len() < limit {
            let grown = (self.data.len() * 2).clamp(1024, limit);
            self.data.resize(grown, 0);
        }
        &mut self.data[self.end..]
    }

    pub(crate) fn filled(&mut self, n: usize) {
        self.end += n;
    }

    /// Shrinks a buffer that grew for a big head back to `capacity` when it is empty.
    pub(crate) fn shrink(&mut self, capacity: usize) {
        if self.is_empty() && self.data.len() > capacity {
            self.data.truncate(capacity);
            self.data.shrink_to_fit();
        }
    }
}

/// One client connection, boxed once when it is accepted: it moves between the table, the
/// request body reader and the workers many times per request, and a pointer moves cheaply.
pub(crate) type Conn = Box<ConnState>;

/// A connection's state. Its reads and writes never block (the socket is non-blocking, or
/// each call says `MSG_DONTWAIT`); workers wait with deadlines, in `poll` or, between
/// requests, in epoll or one blocking read (see [`Waiting`]).
#[derive(Debug)]
pub(crate) struct ConnState {
    pub(crate) stream: Arc<Stream>,
    /// The client's address (`None` on a Unix domain socket).
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) buf: ReadBuf,
    /// Its key in the connection table ([`NO_KEY`] when not registered).
    pub(crate) key: u64,
    /// The app (and the server's app generation it was taken at), kept between requests.
    pub(crate) app: Option<CachedApp>,
    /// The peer's address as environ values.
    pub(crate) peer_vars: super::environ::Peer,
    /// The slot `wsgi.input` hands the connection back through (empty between requests).
    pub(crate) slot: Option<super::body::Slot>,
    /// Set by `wsgi.input` when a request body turns out bad; reset per request.
    pub(crate) fault: super::body::BodyProgress,
    /// How its worker waits for its next request (see [`Waiting`]).
    pub(crate) waiting: Waiting,
}

/// How a connection is waited on between requests. Normally it is parked in the shared epoll
/// set; while the server has fewer connections than worker slots, the worker that answered
/// it may instead wait on the socket itself for the next request (one blocking read, as a
/// thread-per-connection server does), for a scheduler tick or two, after polling it for a
/// few microseconds (see [`ServerBuilder::busy_poll`](super::ServerBuilder::busy_poll)).
#[derive(Debug, Default)]
pub(crate) struct Waiting {
    /// The socket is blocking, with the read and write timeouts set (once per connection).
    pub(crate) blocking: bool,
    /// Making it so failed: never waited on.
    pub(crate) unable: bool,
    /// Its epoll registration is disarmed: its bytes wake no other worker while its own
    /// worker waits on it. Armed again before it is parked.
    pub(crate) disarmed: bool,
    /// Whether to wait on it after a response: backs off after its next request did not
    /// come within the wait.
    pub(crate) wait: Backoff,
    /// Whether to poll it before the blocking wait: backs off after its next request did not
    /// come within the poll.
    pub(crate) poll: Backoff,
}

/// The most responses after which a connection whose client pauses is not waited on (or not
/// polled) before it is tried again.
pub(crate) const MAX_SKIP: u8 = 64;

impl Waiting {
    /// Whether the connection may be waited on after this response; counts down the skips.
    pub(crate) fn wanted(&mut self) -> bool {
        !self.unable && self.wait.wanted()
    }
}

/// A try that is skipped for a while after it failed: for 1, 2, 4, ... up to [`MAX_SKIP`]
/// turns after failures in a row, and tried every turn again after it worked.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    /// Turns to skip before trying again.
    skip: u8,
    /// How many to skip after the next failure.
    next: u8,
}

impl Backoff {
    /// Whether to try this turn; counts down the skips.
    pub(crate) fn wanted(&mut self) -> bool {
        if self.skip > 0 {
            self.skip -= 1;
            return false;
        }
        true
    }

    /// The try worked.
    pub(crate) fn hit(&mut self) {
        self.next = 0;
    }

    /// It did not: skip the next few turns (more after each failure in a row).
    pub(crate) fn missed(&mut self) {
        self.skip = self.next.clamp(1, MAX_SKIP);
        self.next = self.skip.saturating_mul(2).min(MAX_SKIP);
    }
}

/// A connection's copy of the server's app, with the app generation it was taken at.
pub(crate) struct CachedApp(pub(crate) u64, pub(crate) Arc<dyn crate::App>);

impl std::fmt::Debug for CachedApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CachedApp(generation {})", self.0)
    }
}

/// The key of a connection that is not in the table (`handle_request`).
pub(crate) const NO_KEY: u64 = u64::MAX - 1;

/// What a non-blocking read found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Filled {
    /// This many new bytes.
    Bytes(usize),
    /// Nothing yet.
    WouldBlock,
    /// The peer closed its side.
    Eof,
    /// The buffer is at its limit.
    Full,
}

impl ConnState {
    pub(crate) fn new(stream: Stream, peer: Option<SocketAddr>, capacity: usize) -> Conn {
        Box::new(ConnState {
            stream: Arc::new(stream),
            peer,
            buf: ReadBuf::with_capacity(capacity),
            key: NO_KEY,
            slot: None,
            fault: Default::default(),
            peer_vars: super::environ::Peer::new(peer),
            app: None,
            waiting: Waiting::default(),
        })
    }

    /// One non-blocking read into the buffer (which may grow up to `limit`).
    pub(crate) fn fill(&mut self, limit: usize) -> io::Result<Filled> {
        fill(&self.stream, &mut self.buf, limit)
    }
}

pub(crate) fn fill(stream: &Stream, buf: &mut ReadBuf, limit: usize) -> io::Result<Filled> {
    read_into(stream, buf, limit, false)
}

/// One read that waits for bytes as long as the socket's read timeout, on a socket made
/// blocking by [`Stream::set_waiting`] (`WouldBlock`: none came, or a signal came first).
pub(crate) fn fill_waiting(stream: &Stream, buf: &mut ReadBuf, limit: usize) -> io::Result<Filled> {
    read_into(stream, buf, limit, true)
}

fn read_into(stream: &Stream, buf: &mut ReadBuf, limit: usize, wait: bool) -> io::Result<Filled> {
    let spare = buf.spare(limit);
    if spare.is_empty() {
        return Ok(Filled::Full);
    }
    let asked = spare.len();
    loop {
        let read = if wait {
            stream.wait_read(spare)
        } else {
            (&*stream).read(spare)
        };
        match read {
            Ok(0) => {
                buf.drained = true;
                return Ok(Filled::Eof);
            }
            Ok(n) => {
                buf.filled(n);
                buf.drained = n < asked;
                return Ok(Filled::Bytes(n));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                buf.drained = true;
                return Ok(Filled::WouldBlock);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted && !wait => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(Filled::WouldBlock),
            Err(e) => return Err(e),
        }
    }
}

/// Reads into `buf`, waiting up to `timeout` for data; `TimedOut` when none came.
pub(crate) fn fill_blocking(
    stream: &Stream,
    buf: &mut ReadBuf,
    limit: usize,
    timeout: Duration,
) -> io::Result<Filled> {
    loop {
        match fill(stream, buf, limit)? {
            Filled::WouldBlock => {
                if !wait_ready(stream, PollFlags::IN, timeout)? {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "read timed out"));
                }
            }
            other => return Ok(other),
        }
    }
}

/// Writes all of `data` to a non-blocking socket, waiting up to `timeout` whenever it is full.
pub(crate) fn write_all(stream: &Stream, mut data: &[u8], timeout: Duration) -> io::Result<()> {
    while !data.is_empty() {
        match (&*stream).write(data) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if !wait_ready(stream, PollFlags::OUT, timeout)? {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "write timed out"));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{MAX_SKIP, Waiting};

    /// The requests, out of `n`, after which the connection would be waited on.
    fn waited(waiting: &mut Waiting, n: usize) -> usize {
        (0..n).filter(|_| waiting.wanted()).count()
    }

    #[test]
    fn misses_in_a_row_space_the_waits_out_and_a_hit_resets_them() {
        let mut waiting = Waiting::default();
        assert!(waiting.wanted(), "a new connection is waited on");
        // Each miss skips twice as many requests as the one before, up to MAX_SKIP.
        let mut skips = Vec::new();
        for _ in 0..10 {
            waiting.wait.missed();
            let mut skipped = 0;
            while !waiting.wanted() {
                skipped += 1;
            }
            skips.push(skipped);
        }
        assert_eq!(skips, [1, 2, 4, 8, 16, 32, 64, 64, 64, 64]);
        assert!(skips.iter().all(|&s| s <= usize::from(MAX_SKIP)));
        waiting.wait.hit();
        waiting.wait.missed();
        assert!(
            !waiting.wanted(),
            "one request is skipped after a fresh miss"
        );
        assert!(waiting.wanted());
    }

    #[test]
    fn a_connection_that_cannot_block_is_never_waited_on() {
        let mut waiting = Waiting {
            unable: true,
            ..Waiting::default()
        };
        waiting.wait.missed();
        assert_eq!(waited(&mut waiting, 1000), 0);
    }
}
