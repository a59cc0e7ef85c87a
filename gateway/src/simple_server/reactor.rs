//! The reactor (accepting, idle and slow connections) and the worker loop (requests).
//!
//! A connection belongs either to the reactor (parked: idle keep-alive, still sending its
//! head, or lingering before close), which costs a descriptor and a buffer, or to one pool
//! worker, from the moment a whole head is buffered until it has answered and found no
//! further request already waiting.

use std::io;
use std::net::{Shutdown, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use polling::{Event, Events, Poller};
use rustix::event::PollFlags;

use super::Settings;
use super::body::{BodyState, FaultFlag, RequestInput};
use super::conn::{Conn, Filled, wait_ready, write_all};
use super::environ::build_environ;
use super::handler::{Exchange, ServerHandler, error_response, escape_log};
use super::request::{self, Framing, HttpError};
use crate::handlers::{BaseHandler, Outcome};
use crate::{App, Input};

const LISTENER: usize = usize::MAX - 1;
/// How often parked connections are checked against their deadlines.
const SWEEP_EVERY: Duration = Duration::from_millis(100);
/// After an `accept` error such as EMFILE, wait this long before accepting again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// How long a connection closed after an error keeps being read (so the client sees the
/// response instead of a reset).
const LINGER: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Park {
    /// Between requests on a kept-alive connection.
    Idle,
    /// Part of a head has arrived; the header-read deadline runs.
    Head,
    /// Closing after an error: read and discard until EOF or the deadline.
    Linger,
}

#[derive(Debug)]
struct Parked {
    conn: Conn,
    park: Park,
    deadline: Instant,
}

/// Parked connections by key (a slab: a vector with a free list).
#[derive(Debug, Default)]
struct Slab {
    entries: Vec<Option<Parked>>,
    free: Vec<usize>,
}

impl Slab {
    fn insert(&mut self, parked: Parked) -> usize {
        match self.free.pop() {
            Some(key) => {
                self.entries[key] = Some(parked);
                key
            }
            None => {
                self.entries.push(Some(parked));
                self.entries.len() - 1
            }
        }
    }

    fn remove(&mut self, key: usize) -> Option<Parked> {
        let parked = self.entries.get_mut(key)?.take()?;
        self.free.push(key);
        Some(parked)
    }

    fn len(&self) -> usize {
        self.entries.len() - self.free.len()
    }
}

/// What the reactor, the workers and the server's handle share.
pub(crate) struct Shared {
    pub(crate) settings: Settings,
    pub(crate) app: RwLock<Arc<dyn App>>,
    pub(crate) poller: Poller,
    pub(crate) listener: TcpListener,
    pub(crate) pool: rayon::ThreadPool,
    parked: Mutex<Slab>,
    /// Jobs handed to the pool and not started yet.
    queued: AtomicUsize,
    /// Connections owned by workers.
    active: Mutex<usize>,
    idle: Condvar,
    pub(crate) shutdown: AtomicBool,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("listener", &self.listener)
            .field("queued", &self.queued)
            .field("shutdown", &self.shutdown)
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub(crate) fn new(
        settings: Settings,
        app: Arc<dyn App>,
        listener: TcpListener,
    ) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        let poller = Poller::new()?;
        let threads = settings.threads;
        let stderr = settings.stderr.clone();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("gateway-worker-{i}"))
            .panic_handler(move |_| {
                let mut stderr = stderr.clone();
                let _ = io::Write::write_all(
                    &mut stderr,
                    b"gateway: a worker job panicked outside the app; the connection was dropped\n",
                );
            })
            .build()
            .map_err(io::Error::other)?;
        Ok(Shared {
            settings,
            app: RwLock::new(app),
            poller,
            listener,
            pool,
            parked: Mutex::new(Slab::default()),
            queued: AtomicUsize::new(0),
            active: Mutex::new(0),
            idle: Condvar::new(),
            shutdown: AtomicBool::new(false),
        })
    }

    fn log(&self, message: &str) {
        let mut stderr = self.settings.stderr.clone();
        let _ = io::Write::write_all(&mut stderr, format!("gateway: {message}\n").as_bytes());
    }

    fn app(&self) -> Arc<dyn App> {
        Arc::clone(&self.app.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Hands a connection to the reactor.
    fn park(&self, conn: Conn, park: Park) {
        let timeout = match park {
            Park::Idle => self.settings.limits.keep_alive_timeout,
            Park::Head => self.settings.limits.header_read_timeout,
            Park::Linger => LINGER,
        };
        let stream = Arc::clone(&conn.stream);
        let key = {
            let mut slab = self.parked.lock().unwrap_or_else(|e| e.into_inner());
            slab.insert(Parked {
                conn,
                park,
                deadline: Instant::now() + timeout,
            })
        };
        if self.poller.modify(&*stream, Event::readable(key)).is_err() {
            // Not registered (or gone): forget it.
            self.forget(key);
        }
    }

    fn forget(&self, key: usize) {
        let parked = self
            .parked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        if let Some(parked) = parked {
            self.close(parked.conn);
        }
    }

    /// Closes a connection for good.
    fn close(&self, conn: Conn) {
        let _ = self.poller.delete(&*conn.stream);
        let _ = conn.stream.shutdown(Shutdown::Both);
    }

    /// Sends an error response and lingers before closing.
    fn reject(&self, conn: Conn, error: &HttpError) {
        let response = error_response(
            error.status(),
            &error.to_string(),
            &self.settings.server_software,
        );
        let _ = write_all(&conn.stream, &response, self.settings.limits.write_timeout);
        if self.settings.access_log {
            self.log_line(&conn, error.status());
        }
        let _ = conn.stream.shutdown(Shutdown::Write);
        self.park(conn, Park::Linger);
    }

    fn log_line(&self, conn: &Conn, status: &str) {
        let line = format!(
            "{} - - \"{}\" {} -",
            conn.peer.ip(),
            escape_log("-"),
            &status[..3]
        );
        self.log(&line);
    }

    fn dispatch(self: &Arc<Self>, conn: Conn) {
        self.queued.fetch_add(1, Ordering::Relaxed);
        *self.active.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        let shared = Arc::clone(self);
        self.pool.spawn(move || {
            shared.queued.fetch_sub(1, Ordering::Relaxed);
            serve(&shared, conn);
            let mut active = shared.active.lock().unwrap_or_else(|e| e.into_inner());
            *active -= 1;
            if *active == 0 {
                shared.idle.notify_all();
            }
        });
    }

    /// Accepts every pending connection.
    fn accept_all(self: &Arc<Self>) -> Option<Instant> {
        loop {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let conn = Conn::new(stream, peer, self.settings.read_buffer);
                    let stream = Arc::clone(&conn.stream);
                    let key = self
                        .parked
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(Parked {
                            deadline: Instant::now() + self.settings.limits.header_read_timeout,
                            conn,
                            park: Park::Idle,
                        });
                    if let Err(e) = add_source(&self.poller, &*stream, key) {
                        self.log(&format!("cannot watch a new connection: {e}"));
                        self.forget(key);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
                Err(e) => {
                    // EMFILE, ENFILE, ENOBUFS...: say so, and back off instead of spinning.
                    self.log(&format!(
                        "accept failed: {e}; pausing accepts for {ACCEPT_BACKOFF:?}"
                    ));
                    return Some(Instant::now() + ACCEPT_BACKOFF);
                }
            }
        }
    }

    /// Reads what a parked connection has; dispatches it once a head is complete.
    fn on_readable(self: &Arc<Self>, key: usize) {
        let Some(mut parked) = self
            .parked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key)
        else {
            return;
        };
        let limits = &self.settings.limits;
        let limit = limits.max_header_bytes + limits.max_request_line + 2;
        loop {
            match parked.conn.fill(limit) {
                Ok(Filled::Bytes(_)) if parked.park == Park::Linger => {
                    parked.conn.buf.consume(parked.conn.buf.len());
                }
                Ok(Filled::Bytes(_)) => {
                    if parked.park == Park::Idle {
                        parked.park = Park::Head;
                        parked.deadline = Instant::now() + limits.header_read_timeout;
                    }
                    if request::head_ready(parked.conn.buf.bytes(), limits) {
                        self.dispatch(parked.conn);
                        return;
                    }
                }
                Ok(Filled::WouldBlock) => break,
                Ok(Filled::Full) => {
                    self.dispatch(parked.conn);
                    return;
                }
                Ok(Filled::Eof) | Err(_) => {
                    self.close(parked.conn);
                    return;
                }
            }
        }
        let stream = Arc::clone(&parked.conn.stream);
        let key = self
            .parked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(parked);
        if self.poller.modify(&*stream, Event::readable(key)).is_err() {
            self.forget(key);
        }
    }

    /// Closes parked connections whose deadline passed: idle ones quietly, half-sent heads
    /// with 408.
    fn sweep(&self, now: Instant) {
        let expired: Vec<Parked> = {
            let mut slab = self.parked.lock().unwrap_or_else(|e| e.into_inner());
            let keys: Vec<usize> = slab
                .entries
                .iter()
                .enumerate()
                .filter_map(|(k, p)| p.as_ref().filter(|p| p.deadline <= now).map(|_| k))
                .collect();
            keys.into_iter().filter_map(|k| slab.remove(k)).collect()
        };
        for parked in expired {
            if parked.park == Park::Head {
                let response = error_response(
                    "408 Request Timeout",
                    "the request head did not arrive in time",
                    &self.settings.server_software,
                );
                // Best effort: one non-blocking write.
                let _ = io::Write::write(&mut &*parked.conn.stream, &response);
            }
            self.close(parked.conn);
        }
    }

    /// Closes every parked connection (shutdown).
    fn close_parked(self: &Arc<Self>) {
        let all: Vec<Parked> = {
            let mut slab = self.parked.lock().unwrap_or_else(|e| e.into_inner());
            let keys: Vec<usize> = (0..slab.entries.len()).collect();
            keys.into_iter().filter_map(|k| slab.remove(k)).collect()
        };
        for parked in all {
            if parked.park == Park::Head
                && request::head_ready(parked.conn.buf.bytes(), &self.settings.limits)
            {
                // A late request that already arrived whole: answer it (with Connection: close).
                self.dispatch(parked.conn);
            } else {
                self.close(parked.conn);
            }
        }
    }

    /// How many connections are parked.
    pub(crate) fn parked_count(&self) -> usize {
        self.parked.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Runs the reactor until shutdown, then waits for in-flight requests.
    pub(crate) fn run_reactor(self: &Arc<Self>) -> io::Result<()> {
        add_listener(&self.poller, &self.listener)?;
        let mut events = Events::new();
        let mut last_sweep = Instant::now();
        let mut paused_until: Option<Instant> = None;
        while !self.shutdown.load(Ordering::Acquire) {
            events.clear();
            let timeout = match paused_until {
                Some(until) => until
                    .saturating_duration_since(Instant::now())
                    .min(SWEEP_EVERY),
                None => SWEEP_EVERY,
            };
            match self.poller.wait(&mut events, Some(timeout)) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
            for event in events.iter() {
                if event.key == LISTENER {
                    paused_until = self.accept_all();
                    if paused_until.is_none() {
                        self.poller
                            .modify(&self.listener, Event::readable(LISTENER))?;
                    }
                } else {
                    self.on_readable(event.key);
                }
            }
            let now = Instant::now();
            if paused_until.is_some_and(|until| until <= now) {
                paused_until = None;
                self.poller
                    .modify(&self.listener, Event::readable(LISTENER))?;
            }
            if now.duration_since(last_sweep) >= SWEEP_EVERY {
                last_sweep = now;
                self.sweep(now);
            }
        }
        let _ = self.poller.delete(&self.listener);
        self.close_parked();
        self.wait_idle(self.settings.shutdown_timeout);
        Ok(())
    }

    /// Waits until no worker holds a connection, or `timeout` passes.
    pub(crate) fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        while *active > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            active = self
                .idle
                .wait_timeout(active, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Serves one connection with exactly one request, blocking (`handle_request`).
    pub(crate) fn serve_one(self: &Arc<Self>, timeout: Option<Duration>) -> io::Result<bool> {
        let wait = timeout.unwrap_or(Duration::from_secs(u64::from(u32::MAX)));
        if !wait_ready(&self.listener, PollFlags::IN, wait)? {
            return Ok(false);
        }
        let (stream, peer) = match self.listener.accept() {
            Ok(pair) => pair,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) => return Err(e),
        };
        stream.set_nonblocking(true)?;
        let _ = stream.set_nodelay(true);
        let mut conn = Conn::new(stream, peer, self.settings.read_buffer);
        let limits = &self.settings.limits;
        let deadline = Instant::now() + limits.header_read_timeout;
        while !request::head_ready(conn.buf.bytes(), limits) {
            let left = deadline.saturating_duration_since(Instant::now());
            match super::conn::fill_blocking(
                &conn.stream,
                &mut conn.buf,
                limits.max_header_bytes + limits.max_request_line + 2,
                left,
            ) {
                Ok(Filled::Bytes(_)) => {}
                Ok(Filled::Full) => break,
                Ok(_) => return Ok(true),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    self.reject_unregistered(conn, &HttpError::Timeout);
                    return Ok(true);
                }
                Err(_) => return Ok(true),
            }
        }
        serve_request(self, conn, true);
        Ok(true)
    }

    fn reject_unregistered(&self, conn: Conn, error: &HttpError) {
        let response = error_response(
            error.status(),
            &error.to_string(),
            &self.settings.server_software,
        );
        let _ = write_all(&conn.stream, &response, self.settings.limits.write_timeout);
        let _ = conn.stream.shutdown(Shutdown::Both);
    }
}

fn add_listener(poller: &Poller, listener: &TcpListener) -> io::Result<()> {
    add_source(poller, listener, LISTENER)
}

/// Registers a socket with the poller (oneshot, readable).
#[allow(unsafe_code)]
fn add_source(poller: &Poller, source: &impl std::os::fd::AsRawFd, key: usize) -> io::Result<()> {
    // SAFETY: `polling` requires the source to stay open until it is deleted from the
    // poller. Every connection is deleted in `Shared::close` before its socket is dropped, and
    // the listener is deleted when the reactor stops, before `Shared` (which owns it) drops.
    unsafe { poller.add(source.as_raw_fd(), Event::readable(key)) }
}

/// The worker loop for one connection: requests until it must close or has nothing ready.
fn serve(shared: &Arc<Shared>, conn: Conn) {
    let mut conn = conn;
    loop {
        match serve_request(shared, conn, false) {
            Some(next) => conn = next,
            None => return,
        }
        // Pipelined: the next head is already here.
        if request::head_ready(conn.buf.bytes(), &shared.settings.limits) {
            continue;
        }
        let limits = &shared.settings.limits;
        let limit = limits.max_header_bytes + limits.max_request_line + 2;
        match conn.fill(limit) {
            Ok(Filled::Bytes(_)) | Ok(Filled::Full)
                if request::head_ready(conn.buf.bytes(), limits) =>
            {
                continue;
            }
            Ok(Filled::Bytes(_)) => {
                shared.park(conn, Park::Head);
                return;
            }
            Ok(Filled::WouldBlock) => {}
            Ok(Filled::Full) => continue,
            Ok(Filled::Eof) | Err(_) => {
                shared.close(conn);
                return;
            }
        }
        // Nothing yet: wait a moment for a tight keep-alive loop, unless others are queued.
        let linger = shared.settings.keep_alive_linger;
        if !linger.is_zero()
            && shared.queued.load(Ordering::Relaxed) == 0
            && !shared.shutdown.load(Ordering::Acquire)
            && wait_ready(&*conn.stream, PollFlags::IN, linger).unwrap_or(false)
        {
            match conn.fill(limit) {
                Ok(Filled::Bytes(_)) | Ok(Filled::Full)
                    if request::head_ready(conn.buf.bytes(), limits) =>
                {
                    continue;
                }
                Ok(Filled::Bytes(_)) => {
                    shared.park(conn, Park::Head);
                    return;
                }
                Ok(Filled::WouldBlock) => {}
                Ok(_) | Err(_) => {
                    shared.close(conn);
                    return;
                }
            }
        }
        conn.buf.shrink(shared.settings.read_buffer);
        shared.park(conn, Park::Idle);
        return;
    }
}

/// Parses and answers one request. Returns the connection when it may carry another.
fn serve_request(shared: &Arc<Shared>, mut conn: Conn, single: bool) -> Option<Conn> {
    let settings = &shared.settings;
    let head = match request::parse(conn.buf.bytes(), &settings.limits) {
        Ok(Some(head)) => head,
        Ok(None) => {
            // Cannot happen for a ready head; treat as malformed.
            shared.reject(conn, &HttpError::BadRequest("incomplete request head"));
            return None;
        }
        Err(error) => {
            if single {
                shared.reject_unregistered(conn, &error);
            } else {
                shared.reject(conn, &error);
            }
            return None;
        }
    };
    conn.buf.consume(head.len);
    let fault = FaultFlag::default();
    let mut environ = build_environ(
        &head,
        &settings.base_environ,
        conn.peer,
        settings.keep_underscore_headers,
    );
    let (chunked, length) = match head.framing {
        Framing::Chunked => (true, 0),
        Framing::Length(n) => (false, n),
    };
    let exchange = Exchange {
        minor: head.minor,
        head: head.is_head(),
        keep_alive: head.keep_alive && !single && !shared.shutdown.load(Ordering::Acquire),
        request_line: head.request_line(),
        peer: conn.peer.ip(),
    };
    let stream = Arc::clone(&conn.stream);
    let slot = Arc::new(Mutex::new(None));
    let body = BodyState::new(
        conn,
        chunked,
        length,
        head.expect_continue,
        &settings.limits,
        fault.clone(),
    );
    environ.set_input(Input::new(RequestInput::new(body, Arc::clone(&slot))));
    let app = shared.app();
    let mut handler = ServerHandler::new(
        environ,
        stream,
        settings,
        exchange,
        fault.clone(),
        Vec::with_capacity(1024),
    );
    let finished = handler.run(&*app);
    let keep_alive = handler.keep_alive() && finished.outcome == Outcome::Complete;
    drop(finished.environ);
    let body = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
    let Some(mut body) = body else {
        // The app kept wsgi.input alive somewhere: the connection cannot be reused.
        return None;
    };
    if !keep_alive || shared.shutdown.load(Ordering::Acquire) {
        close_after_response(shared, body.conn, &fault);
        return None;
    }
    if !body.drain(settings.limits.max_drain) {
        close_after_response(shared, body.conn, &fault);
        return None;
    }
    let mut conn = body.conn;
    conn.served += 1;
    Some(conn)
}

fn close_after_response(shared: &Shared, conn: Conn, fault: &FaultFlag) {
    let _ = fault;
    let _ = conn.stream.shutdown(Shutdown::Write);
    shared.park(conn, Park::Linger);
}
