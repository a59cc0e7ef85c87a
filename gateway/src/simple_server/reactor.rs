//! The reactor and the workers.
//!
//! Every connection that is idle (between keep-alive requests), still sending its head, or
//! lingering before close is *parked*: it sits in an epoll set and costs a descriptor and a
//! buffer, never a thread. The pool's workers wait on that epoll set themselves ("eat what you
//! kill"): the worker woken for a connection reads it, and once a whole head is buffered
//! serves it on the spot, with no hand-off to another thread. After a response, a worker that
//! finds the next request already buffered (pipelining, tight keep-alive loops) serves it at
//! once; otherwise the connection is parked again. The thread that calls `serve_forever` is
//! the acceptor: it accepts, registers new connections, and enforces the deadlines of parked
//! ones.

use std::io;
use std::mem::MaybeUninit;
use std::net::{Shutdown, TcpListener};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use rustix::event::epoll::{self, EventData, EventFlags};
use rustix::event::{EventfdFlags, PollFlags, eventfd};

use super::body::{BodyState, FaultFlag, RequestInput};
use super::conn::{Conn, Filled, fill_blocking, wait_ready, write_all};
use super::environ::build_environ;
use super::handler::{Exchange, ServerHandler, error_response};
use super::pollers::Pollers;
use super::request::{self, Framing, HttpError};
use super::{Request, Settings, WsgiRequestHandler};
use crate::handlers::{BaseHandler, Outcome};
use crate::{App, AppError, Body, Environ, Input, StartResponse};

/// The epoll key of the shutdown eventfd.
const WAKE: u64 = u64::MAX;
/// How often the acceptor checks for workers stuck in apps while some are serving.
const POLLER_TICK: Duration = Duration::from_millis(2);
/// How often parked connections are checked against their deadlines.
const SWEEP_EVERY: Duration = Duration::from_millis(100);
/// After an `accept` error such as EMFILE, wait this long before accepting again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// How long a connection closed after an error keeps being read (so the client sees the
/// response instead of a reset).
const LINGER: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Park {
    /// Between requests on a kept-alive connection (or just accepted).
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

#[derive(Debug, Default)]
struct Entry {
    generation: u32,
    parked: Option<Parked>,
}

/// Parked connections. A key is the slot index and the slot's generation, so an epoll event
/// for a connection that was closed and whose slot was reused is recognised as stale.
#[derive(Debug, Default)]
struct Slab {
    entries: Vec<Entry>,
    free: Vec<u32>,
    len: usize,
}

impl Slab {
    fn insert(&mut self, parked: Parked) -> u64 {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.entries.push(Entry::default());
                (self.entries.len() - 1) as u32
            }
        };
        let entry = &mut self.entries[index as usize];
        entry.generation = entry.generation.wrapping_add(1);
        entry.parked = Some(parked);
        self.len += 1;
        u64::from(entry.generation) << 32 | u64::from(index)
    }

    fn remove(&mut self, key: u64) -> Option<Parked> {
        let index = (key & u64::from(u32::MAX)) as u32;
        let entry = self.entries.get_mut(index as usize)?;
        if u64::from(entry.generation) != key >> 32 {
            return None;
        }
        let parked = entry.parked.take()?;
        self.free.push(index);
        self.len -= 1;
        Some(parked)
    }

    fn keys(&self) -> Vec<u64> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.parked.is_some())
            .map(|(i, e)| u64::from(e.generation) << 32 | i as u64)
            .collect()
    }

    fn expired(&self, now: Instant) -> Vec<u64> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.parked.as_ref().is_some_and(|p| p.deadline <= now))
            .map(|(i, e)| u64::from(e.generation) << 32 | i as u64)
            .collect()
    }
}

/// What the acceptor, the workers and the server's handles share.
pub(crate) struct Shared {
    pub(crate) settings: Settings,
    pub(crate) app: RwLock<Arc<dyn App>>,
    epoll: OwnedFd,
    wake: OwnedFd,
    pub(crate) listener: TcpListener,
    pool: rayon::ThreadPool,
    pollers: Pollers,
    parked: Mutex<Slab>,
    /// Connections being served by a worker.
    active: AtomicUsize,
    /// Worker loops still running.
    workers: AtomicUsize,
    idle: (Mutex<()>, Condvar),
    pub(crate) shutdown: AtomicBool,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("listener", &self.listener)
            .field("active", &self.active)
            .field("shutdown", &self.shutdown)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(crate) fn new(
        settings: Settings,
        app: Arc<dyn App>,
        listener: TcpListener,
    ) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        let wake = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        // Level-triggered: once written, every worker's wait returns it, so all of them stop.
        epoll::add(&epoll, &wake, EventData::new_u64(WAKE), EventFlags::IN)?;
        let stderr = settings.stderr.clone();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(settings.threads)
            .thread_name(|i| format!("gateway-worker-{i}"))
            .panic_handler(move |_| {
                let mut stderr = stderr.clone();
                let _ = io::Write::write_all(
                    &mut stderr,
                    b"gateway: a worker panicked outside the app; its connection was dropped\n",
                );
            })
            .build()
            .map_err(io::Error::other)?;
        Ok(Shared {
            settings,
            app: RwLock::new(app),
            epoll,
            wake,
            listener,
            pool,
            pollers: Pollers::new(std::thread::available_parallelism().map_or(1, |n| n.get())),
            parked: Mutex::new(Slab::default()),
            active: AtomicUsize::new(0),
            workers: AtomicUsize::new(0),
            idle: (Mutex::new(()), Condvar::new()),
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

    /// Wakes every worker (and `serve_forever`'s wait) for shutdown.
    pub(crate) fn wake_all(&self) {
        let _ = rustix::io::write(&self.wake, &1u64.to_ne_bytes());
        self.pollers.wake_all();
        let _guard = lock(&self.idle.0);
        self.idle.1.notify_all();
    }

    /// Parks a connection: it goes into the epoll set, armed for one readable event.
    fn park(&self, conn: Conn, park: Park) {
        let timeout = match park {
            Park::Idle => self.settings.limits.keep_alive_timeout,
            Park::Head => self.settings.limits.header_read_timeout,
            Park::Linger => LINGER,
        };
        let stream = Arc::clone(&conn.stream);
        let key = lock(&self.parked).insert(Parked {
            conn,
            park,
            deadline: Instant::now() + timeout,
        });
        let flags = EventFlags::IN | EventFlags::RDHUP | EventFlags::ONESHOT;
        let armed = epoll::modify(&self.epoll, &*stream, EventData::new_u64(key), flags)
            .or_else(|_| epoll::add(&self.epoll, &*stream, EventData::new_u64(key), flags));
        if armed.is_err() {
            self.forget(key);
        }
    }

    fn forget(&self, key: u64) {
        let parked = lock(&self.parked).remove(key);
        if let Some(parked) = parked {
            self.close(parked.conn);
        }
    }

    /// Closes a connection for good.
    pub(crate) fn close(&self, conn: Conn) {
        let _ = epoll::delete(&self.epoll, &*conn.stream);
        let _ = conn.stream.shutdown(Shutdown::Both);
    }

    /// Sends an error response, then lingers (reading and discarding) before closing, so the
    /// client reads the response rather than a reset.
    fn reject(&self, conn: Conn, error: &HttpError) {
        let response = error_response(
            error.status(),
            &error.to_string(),
            &self.settings.server_software,
        );
        let _ = write_all(&conn.stream, &response, self.settings.limits.write_timeout);
        if self.settings.access_log {
            let line = format!(
                "{} - - [{}] \"-\" {} -\n",
                conn.peer.ip(),
                super::handler::log_date(),
                &error.status()[..3]
            );
            let _ = io::Write::write_all(&mut self.settings.stderr.clone(), line.as_bytes());
        }
        let _ = conn.stream.shutdown(Shutdown::Write);
        self.park(conn, Park::Linger);
    }

    /// Accepts every pending connection and parks it.
    fn accept_all(&self) -> Option<Instant> {
        loop {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let mut conn = Conn::new(stream, peer, self.settings.read_buffer);
                    conn.served = 0;
                    self.park_new(conn);
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

    /// A new connection has no request yet: the header-read deadline runs from accept.
    fn park_new(&self, conn: Conn) {
        self.park(conn, Park::Head);
    }

    /// Handles a readable event on a parked connection.
    fn on_readable(self: &Arc<Self>, key: u64) {
        let Some(mut parked) = lock(&self.parked).remove(key) else {
            return; // Stale: swept or closed meanwhile.
        };
        let limits = &self.settings.limits;
        let limit = head_buffer_limit(limits);
        loop {
            match parked.conn.fill(limit) {
                Ok(Filled::Bytes(_)) if parked.park == Park::Linger => {
                    let n = parked.conn.buf.len();
                    parked.conn.buf.consume(n);
                }
                Ok(Filled::Bytes(_)) => {
                    if parked.park == Park::Idle {
                        parked.park = Park::Head;
                        parked.deadline = Instant::now() + limits.header_read_timeout;
                    }
                    if request::head_ready(parked.conn.buf.bytes(), limits) {
                        self.serve_here(parked.conn);
                        return;
                    }
                }
                Ok(Filled::WouldBlock) => break,
                Ok(Filled::Full) => {
                    self.serve_here(parked.conn);
                    return;
                }
                Ok(Filled::Eof) | Err(_) => {
                    self.close(parked.conn);
                    return;
                }
            }
        }
        let stream = Arc::clone(&parked.conn.stream);
        let key = lock(&self.parked).insert(parked);
        let flags = EventFlags::IN | EventFlags::RDHUP | EventFlags::ONESHOT;
        if epoll::modify(&self.epoll, &*stream, EventData::new_u64(key), flags).is_err() {
            self.forget(key);
        }
    }

    /// Serves a connection whose head is complete, on the calling worker.
    fn serve_here(self: &Arc<Self>, conn: Conn) {
        self.active.fetch_add(1, Ordering::AcqRel);
        serve(self, conn);
        if self.active.fetch_sub(1, Ordering::AcqRel) == 1 && self.shutdown.load(Ordering::Acquire)
        {
            let _guard = lock(&self.idle.0);
            self.idle.1.notify_all();
        }
    }

    /// A worker: waits on the epoll set and serves what it wakes for, until shutdown.
    fn worker_loop(self: &Arc<Self>) {
        let mut events = [MaybeUninit::<epoll::Event>::uninit(); 1];
        'slot: while self.pollers.acquire(&self.shutdown) {
            loop {
                self.pollers.enter_epoll();
                let waited = epoll::wait(&self.epoll, &mut events[..], None);
                self.pollers.leave_epoll();
                let key = match waited {
                    Ok((ready, _)) => match ready.first() {
                        Some(event) => event.data.u64(),
                        None => continue,
                    },
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(e) => {
                        self.log(&format!("epoll_wait failed: {e}; worker stopping"));
                        self.pollers.release();
                        break 'slot;
                    }
                };
                if key != WAKE {
                    self.on_readable(key);
                } else if self.shutdown.load(Ordering::Acquire) {
                    // epoll wakes one waiter per new event: poke the eventfd again so the
                    // next waiting worker wakes up and stops too.
                    let _ = rustix::io::write(&self.wake, &1u64.to_ne_bytes());
                    self.pollers.release();
                    break 'slot;
                }
                if self.pollers.handled_one() {
                    self.pollers.release();
                    continue 'slot;
                }
            }
        }
        self.worker_done();
    }

    fn worker_done(&self) {
        self.workers.fetch_sub(1, Ordering::AcqRel);
        let _guard = lock(&self.idle.0);
        self.idle.1.notify_all();
    }

    /// Closes parked connections whose deadline passed: idle ones quietly, half-sent heads
    /// with 408.
    fn sweep(&self, now: Instant) {
        let expired: Vec<Parked> = {
            let mut slab = lock(&self.parked);
            let keys = slab.expired(now);
            keys.into_iter().filter_map(|k| slab.remove(k)).collect()
        };
        for parked in expired {
            if parked.park == Park::Head && !parked.conn.buf.is_empty() {
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

    /// At shutdown: every parked connection is closed, except one whose next request has
    /// already arrived whole, which is answered (with `Connection: close`).
    fn close_parked(self: &Arc<Self>) {
        let all: Vec<Parked> = {
            let mut slab = lock(&self.parked);
            let keys = slab.keys();
            keys.into_iter().filter_map(|k| slab.remove(k)).collect()
        };
        let limit = head_buffer_limit(&self.settings.limits);
        for mut parked in all {
            if parked.park != Park::Linger {
                while let Ok(Filled::Bytes(_)) = parked.conn.fill(limit) {}
            }
            if parked.park != Park::Linger
                && request::head_ready(parked.conn.buf.bytes(), &self.settings.limits)
            {
                let shared = Arc::clone(self);
                self.active.fetch_add(1, Ordering::AcqRel);
                self.pool.spawn(move || {
                    serve(&shared, parked.conn);
                    shared.active.fetch_sub(1, Ordering::AcqRel);
                    let _guard = lock(&shared.idle.0);
                    shared.idle.1.notify_all();
                });
            } else {
                self.close(parked.conn);
            }
        }
    }

    /// How many connections are parked.
    pub(crate) fn parked_count(&self) -> usize {
        lock(&self.parked).len
    }

    /// `serve_forever`: starts the workers, then accepts and sweeps until shutdown; then
    /// closes idle connections and waits (up to the shutdown timeout) for requests in flight.
    pub(crate) fn run_reactor(self: &Arc<Self>) -> io::Result<()> {
        for _ in 0..self.settings.threads {
            let shared = Arc::clone(self);
            self.workers.fetch_add(1, Ordering::AcqRel);
            self.pool.spawn(move || shared.worker_loop());
        }
        let mut last_sweep = Instant::now();
        let mut last_tick = Instant::now();
        let mut paused_until: Option<Instant> = None;
        while !self.shutdown.load(Ordering::Acquire) {
            let now = Instant::now();
            let tick = if self.pollers.serving() {
                POLLER_TICK
            } else {
                SWEEP_EVERY
            };
            let wait = match paused_until {
                Some(until) if until > now => {
                    std::thread::sleep((until - now).min(SWEEP_EVERY));
                    None
                }
                _ => {
                    paused_until = None;
                    Some(wait_ready_or_wake(&self.listener, &self.wake, tick)?)
                }
            };
            if self.shutdown.load(Ordering::Acquire) {
                break;
            }
            if wait == Some(true) {
                paused_until = self.accept_all();
            }
            let now = Instant::now();
            if now.duration_since(last_tick) >= POLLER_TICK {
                last_tick = now;
                self.pollers.monitor();
            }
            if now.duration_since(last_sweep) >= SWEEP_EVERY {
                last_sweep = now;
                self.sweep(now);
            }
        }
        // Refuse new connections from now on (a listening socket shut for reading stops
        // completing handshakes on Linux), then settle the parked ones.
        let _ = rustix::net::shutdown(&self.listener, rustix::net::Shutdown::Read);
        self.close_parked();
        self.wake_all();
        self.wait_idle(self.settings.shutdown_timeout);
        Ok(())
    }

    /// Waits until no worker loop runs and no connection is being served, or `timeout` passes.
    pub(crate) fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut guard = lock(&self.idle.0);
        loop {
            if self.active.load(Ordering::Acquire) == 0 && self.workers.load(Ordering::Acquire) == 0
            {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            guard = self
                .idle
                .1
                .wait_timeout(guard, left.min(SWEEP_EVERY))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// `handle_request`: waits for one connection and answers one request on it, blocking.
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
            match fill_blocking(&conn.stream, &mut conn.buf, head_buffer_limit(limits), left) {
                Ok(Filled::Bytes(_)) => {}
                Ok(Filled::Full) => break,
                Ok(_) => return Ok(true),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    let error = HttpError::Timeout;
                    let response = error_response(
                        error.status(),
                        &error.to_string(),
                        &self.settings.server_software,
                    );
                    let _ = write_all(&conn.stream, &response, limits.write_timeout);
                    let _ = conn.stream.shutdown(Shutdown::Both);
                    return Ok(true);
                }
                Err(_) => return Ok(true),
            }
        }
        serve_request(self, conn, true);
        Ok(true)
    }
}

/// The most bytes buffered while waiting for a head: enough to see that a limit was passed.
fn head_buffer_limit(limits: &super::Limits) -> usize {
    limits.max_header_bytes + limits.max_request_line + 2
}

/// Waits until the listener is readable or the wake eventfd fired.
fn wait_ready_or_wake(
    listener: &TcpListener,
    wake: &OwnedFd,
    timeout: Duration,
) -> io::Result<bool> {
    use rustix::event::{PollFd, Timespec};
    let spec = Timespec::try_from(timeout).unwrap_or(Timespec {
        tv_sec: 1,
        tv_nsec: 0,
    });
    let mut fds = [
        PollFd::from_borrowed_fd(listener.as_fd(), PollFlags::IN),
        PollFd::from_borrowed_fd(wake.as_fd(), PollFlags::IN),
    ];
    match rustix::event::poll(&mut fds, Some(&spec)) {
        Ok(_) => Ok(!fds[0].revents().is_empty()),
        Err(rustix::io::Errno::INTR) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The worker loop for one connection: requests until it must close or has nothing ready.
fn serve(shared: &Arc<Shared>, conn: Conn) {
    let limits = &shared.settings.limits;
    let mut conn = conn;
    loop {
        match serve_request(shared, conn, false) {
            Some(next) => conn = next,
            None => return,
        }
        // The next request is already here (pipelined, or sent right after the response):
        // serve it at once. Otherwise the connection goes back to the epoll set.
        if !request::head_ready(conn.buf.bytes(), limits) {
            match conn.fill(head_buffer_limit(limits)) {
                Ok(Filled::Bytes(_) | Filled::Full | Filled::WouldBlock) => {}
                Ok(Filled::Eof) | Err(_) => {
                    shared.close(conn);
                    return;
                }
            }
        }
        if request::head_ready(conn.buf.bytes(), limits) {
            continue;
        }
        let park = if conn.buf.is_empty() {
            Park::Idle
        } else {
            Park::Head
        };
        conn.buf.shrink(shared.settings.read_buffer);
        shared.park(conn, park);
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
                let response = error_response(
                    error.status(),
                    &error.to_string(),
                    &settings.server_software,
                );
                let _ = write_all(&conn.stream, &response, settings.limits.write_timeout);
                let _ = conn.stream.shutdown(Shutdown::Both);
            } else {
                shared.reject(conn, &error);
            }
            return None;
        }
    };
    conn.buf.consume(head.len);
    let fault = FaultFlag::default();
    let environ = build_environ(
        &head,
        &settings.base_environ,
        conn.peer,
        settings.keep_underscore_headers,
    );
    let hooks = &*settings.request_handler.0;
    let request = Request {
        method: &head.method,
        target: &head.target,
        version: if head.minor == 0 {
            "HTTP/1.0"
        } else {
            "HTTP/1.1"
        },
        headers: &head.headers,
        peer: conn.peer,
    };
    let mut environ = hooks.get_environ(&request, environ);
    let stderr = hooks.get_stderr(&settings.stderr);
    let (chunked, length) = match head.framing {
        Framing::Chunked => (true, 0),
        Framing::Length(n) => (false, n),
    };
    let exchange = Exchange {
        minor: head.minor,
        head: head.is_head(),
        keep_alive: head.keep_alive && !single && !shared.shutdown.load(Ordering::Acquire),
        request_line: if settings.access_log {
            head.request_line()
        } else {
            String::new()
        },
        peer: conn.peer.ip(),
        fault: fault.clone(),
    };
    let stream = Arc::clone(&conn.stream);
    let out = std::mem::take(&mut conn.out);
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
    let app = Handled { hooks, app: &*app };
    let mut handler = ServerHandler::new(
        environ,
        stream,
        stderr,
        settings,
        &shared.shutdown,
        exchange,
        out,
    );
    let finished = handler.run(&app);
    let keep_alive = handler.keep_alive() && finished.outcome == Outcome::Complete;
    let out = handler.into_buffer();
    drop(finished.environ);
    let body = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
    let Some(mut body) = body else {
        // The app kept wsgi.input alive somewhere: the connection cannot be reused.
        return None;
    };
    if !keep_alive || shared.shutdown.load(Ordering::Acquire) {
        close_after_response(shared, body.conn, single);
        return None;
    }
    if !body.drain(settings.limits.max_drain) {
        close_after_response(shared, body.conn, single);
        return None;
    }
    let mut conn = body.conn;
    conn.served += 1;
    conn.out = out;
    Some(conn)
}

/// Ends a connection after its last response: the write side is shut at once and the read
/// side drained for a while by the reactor, so unread request bytes do not turn the close
/// into a reset that could destroy the response (RFC 9112 §9.6). `handle_request` has no
/// reactor, so it closes outright.
fn close_after_response(shared: &Shared, conn: Conn, single: bool) {
    let _ = conn.stream.shutdown(Shutdown::Write);
    if single {
        shared.close(conn);
    } else {
        shared.park(conn, Park::Linger);
    }
}

/// The app as the request handler's [`handle`](WsgiRequestHandler::handle) runs it.
struct Handled<'a> {
    hooks: &'a dyn WsgiRequestHandler,
    app: &'a dyn App,
}

impl App for Handled<'_> {
    fn call(
        &self,
        environ: &mut Environ,
        start_response: &mut StartResponse<'_>,
    ) -> Result<Body, AppError> {
        self.hooks.handle(self.app, environ, start_response)
    }
}
