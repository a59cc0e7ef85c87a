//! The reactor and the workers.
//!
//! Every connection that is idle (between keep-alive requests), still sending its head, or
//! lingering before close is *parked*: it sits in an epoll set and costs a descriptor and a
//! buffer, never a thread. The pool's workers wait on that epoll set themselves ("eat what you
//! kill"): the worker woken for a connection reads it, and once a whole head is buffered
//! serves it on the spot, with no hand-off to another thread. After a response, a worker that
//! finds the next request already buffered (pipelining, tight keep-alive loops) serves it at
//! once; otherwise the connection is parked again, unless the server has fewer connections
//! than worker slots: then the worker waits on the socket itself for the next request, for a
//! scheduler tick or two ([`Shared::may_wait_on`]: one blocking read instead of epoll_wait and
//! a read, as a thread-per-connection server does). The thread that calls `serve_forever` is
//! the acceptor: it accepts, registers new connections, and enforces the deadlines of parked
//! ones.
//!
//! The acceptor does nothing on a timer while nothing needs it: it sleeps until a connection
//! arrives, the earliest deadline of a parked connection comes (a worker that parks a
//! connection with an earlier deadline than the acceptor sleeps to wakes it), or every worker
//! holding a slot is serving (see [`Pollers`]); only then does it tick, to see whether apps
//! are stuck. Workers take their turn fairly: after [`FAIR_SHARE`] events in a row a worker
//! yields its core, so a worker that never runs out of ready connections does not keep the
//! clients on the same machine, or the other workers, waiting for a whole time slice.

use std::io;
use std::mem::MaybeUninit;
use std::net::Shutdown;

use super::socket::Listener;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use rustix::event::epoll::{self, EventData, EventFlags};
use rustix::event::{EventfdFlags, PollFlags, eventfd};

use super::Settings;
use super::conn::{
    CachedApp, Conn, ConnState, Filled, fill_blocking, fill_waiting, wait_ready, write_all,
};
use super::handler::error_response;
use super::pollers::{Pollers, Watch};
use super::request::{self, Arrival, HttpError};
use super::serve::{Served, serve_request};
use super::table::{Park, Parked, Parking, Tables};
use crate::App;

/// The epoll key of the shutdown eventfd.
const WAKE: u64 = u64::MAX;
/// The epoll key of the eventfd that wakes one waiting worker for queued events.
const KICK: u64 = u64::MAX - 2;
/// Events taken per `epoll_wait`. The first is served at once, the rest go to the shared
/// ready queue, where every worker looks before it waits: under load most requests are
/// found there, and a worker stuck in a slow app holds none of them back.
const EVENTS_PER_WAIT: usize = 16;
/// Once woken to watch, the acceptor watches at least this long before it may stop (so a
/// busy server does not wake it again at every turn of its workers).
const WATCH_AT_LEAST: Duration = Duration::from_millis(50);
/// Events a worker serves in a row before it yields its core to any other thread that is
/// ready to run (when no backlog is queued): on a machine shared with the clients (or with
/// other workers), a worker that always finds more work would otherwise run until the
/// scheduler preempts it, and whatever waits behind it waits a whole time slice (the tail of
/// the latency: 4 ms p99 at c=16 instead of 0.3 ms). At 32 the p99 was 2.5-4 ms in three runs
/// of four (and yielding even with a backlog, every 64 events, made it worse: queued events
/// wait out the yield); see BENCHMARKS.md.
///
/// A yield forfeits the rest of the worker's scheduler slice. With the kernel's default slice
/// that cost 10-15 % of the c=16 throughput: the worker came back behind the client it had
/// let run, and each response it sent then woke the client straight onto its core (one
/// request per pair of context switches). The workers therefore ask for the shortest slice
/// (see `slice.rs` and [`ServerBuilder::worker_slice`](super::ServerBuilder::worker_slice)):
/// the yields then cost 3-7 % of c=16 throughput on a quiet machine (level with a server that
/// never yields in busy periods), for a p99 of 0.2-0.3 ms instead of 3-4 ms.
const FAIR_SHARE: u32 = 16;
/// An `epoll_wait` that took this long slept: the worker rested, and its count of events in
/// a row starts again (a worker that sleeps between requests has nothing to yield).
const SLEPT: Duration = Duration::from_micros(20);
/// The longest a wait for the workers to finish sleeps between looks.
const IDLE_POLL: Duration = Duration::from_millis(100);
/// After an `accept` error such as EMFILE, wait this long before accepting again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// How long a connection closed after an error keeps being read (so the client sees the
/// response instead of a reset).
const LINGER: Duration = Duration::from_secs(2);
/// How long a worker waits on the connection it just answered for the next request (see
/// [`Shared::may_wait_on`]). The kernel counts it in scheduler ticks and waits one to two of
/// them (4-8 ms at `HZ=250`, measured): a client that pauses longer is parked, and waited on
/// less often afterwards.
const WAIT_FOR_NEXT: Duration = Duration::from_millis(1);

/// How [`Shared::poll_for`] ended.
enum Polled {
    /// Bytes, the end of the stream, or a full buffer.
    Came(Filled),
    /// Nothing came within the budget.
    Expired,
    /// The worker is needed elsewhere.
    CalledOff,
}

/// The origin of the acceptor's sweep plan ([`Shared::sweep_at`] counts milliseconds
/// from it).
#[derive(Debug)]
struct Epoch {
    start: Instant,
}

impl Epoch {
    fn new() -> Self {
        Epoch {
            start: Instant::now(),
        }
    }

    /// An instant as whole milliseconds since `start`, rounded up.
    fn millis(&self, at: Instant) -> u64 {
        let since = at.saturating_duration_since(self.start);
        let ms = since.as_millis() + u128::from(!since.subsec_nanos().is_multiple_of(1_000_000));
        u64::try_from(ms).unwrap_or(u64::MAX)
    }

    /// The instant `millis` milliseconds after `start` (`None` for "never").
    fn instant(&self, millis: u64) -> Option<Instant> {
        (millis != u64::MAX).then(|| self.start + Duration::from_millis(millis))
    }
}

/// A connection's epoll registration while it is parked: edge-triggered bytes and hang-ups.
const ARMED: EventFlags = EventFlags::IN
    .union(EventFlags::RDHUP)
    .union(EventFlags::ET);
/// Its registration while its worker waits on it ([`Shared::wait_on`]): hang-ups and errors
/// still raise events (epoll always reports them); bytes do not.
const DISARMED: EventFlags = EventFlags::ET;

/// An epoll event as a worker handles it.
#[derive(Debug, Clone, Copy)]
struct Event {
    key: u64,
    /// The peer closed its side (or the socket failed): after the bytes already buffered
    /// comes the end, with no further edge to announce it, so the worker reads until then.
    hangup: bool,
}

impl Event {
    fn from_epoll(event: &epoll::Event) -> Self {
        Event {
            key: event.data.u64(),
            hangup: { event.flags }
                .intersects(EventFlags::RDHUP | EventFlags::HUP | EventFlags::ERR),
        }
    }
}

/// What the acceptor, the workers and the server's handles share.
pub(crate) struct Shared {
    pub(crate) settings: Settings,
    pub(crate) app: RwLock<Arc<dyn App>>,
    /// Bumped by `set_app`, so connections know their cached app is stale.
    pub(crate) app_generation: std::sync::atomic::AtomicU64,
    epoll: OwnedFd,
    wake: OwnedFd,
    /// Written to wake one worker waiting in epoll when events were queued (see `queue`).
    kick: OwnedFd,
    /// Written to wake the acceptor: a deadline earlier than it sleeps to, or every slot
    /// holder serving (see `Pollers::leave_epoll`).
    alarm: OwnedFd,
    /// When the acceptor next sweeps deadlines, in [`Epoch::millis`] (`u64::MAX`:
    /// nothing is parked). Never later than the earliest deadline of a parked connection.
    sweep_at: AtomicU64,
    /// Events a worker took from epoll but has not served.
    ready: crossbeam_deque::Injector<Event>,
    pub(crate) listener: Listener,
    pool: rayon::ThreadPool,
    pollers: Pollers,
    table: Tables,
    /// Late requests answered at shutdown (see `close_parked`).
    late: AtomicUsize,
    /// Worker loops still running.
    workers: AtomicUsize,
    idle: (Mutex<()>, Condvar),
    pub(crate) shutdown: AtomicBool,
    epoch: Epoch,
    /// A worker could not set its scheduler slice and said so (the others then stay quiet).
    slice_refused: AtomicBool,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("listener", &self.listener)
            .field("late", &self.late)
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
        listener: Listener,
    ) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        let settings_threads = settings.threads;
        let wake = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        // Level-triggered: once written, every worker's wait returns it, so all of them stop.
        epoll::add(&epoll, &wake, EventData::new_u64(WAKE), EventFlags::IN)?;
        // Edge-triggered: each write wakes one waiter.
        let kick = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        epoll::add(
            &epoll,
            &kick,
            EventData::new_u64(KICK),
            EventFlags::IN | EventFlags::ET,
        )?;
        let alarm = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
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
            app_generation: std::sync::atomic::AtomicU64::new(0),
            epoll,
            wake,
            kick,
            alarm,
            sweep_at: AtomicU64::new(u64::MAX),
            ready: crossbeam_deque::Injector::new(),
            listener,
            pool,
            pollers: Pollers::new(
                std::thread::available_parallelism().map_or(1, |n| n.get()),
                settings_threads,
            ),
            table: Tables::default(),
            late: AtomicUsize::new(0),
            workers: AtomicUsize::new(0),
            idle: (Mutex::new(()), Condvar::new()),
            shutdown: AtomicBool::new(false),
            epoch: Epoch::new(),
            slice_refused: AtomicBool::new(false),
        })
    }

    fn log(&self, message: &str) {
        let mut stderr = self.settings.stderr.clone();
        let _ = io::Write::write_all(&mut stderr, format!("gateway: {message}\n").as_bytes());
    }

    pub(crate) fn app(&self) -> Arc<dyn App> {
        Arc::clone(&self.app.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// The app for a connection's next request: its cached copy unless `set_app` replaced the
    /// app since (reading one shared counter, instead of locking and cloning per request).
    pub(crate) fn app_for(&self, cached: &mut Option<CachedApp>) -> CachedApp {
        let generation = self.app_generation.load(Ordering::Acquire);
        match cached.take() {
            Some(entry) if entry.0 == generation => entry,
            _ => CachedApp(generation, self.app()),
        }
    }

    /// Wakes every worker (and `serve_forever`'s wait) for shutdown.
    pub(crate) fn wake_all(&self) {
        let _ = rustix::io::write(&self.wake, &1u64.to_ne_bytes());
        self.pollers.wake_all();
        let _guard = lock(&self.idle.0);
        self.idle.1.notify_all();
    }

    /// Closes a connection for good and frees its table slot.
    #[allow(
        clippy::boxed_local,
        reason = "connections stay boxed from accept to close; unboxing here would copy one"
    )]
    pub(crate) fn close(&self, conn: Conn) {
        self.table.release(conn.key);
        let _ = epoll::delete(&self.epoll, &*conn.stream);
        let _ = conn.stream.shutdown(Shutdown::Both);
    }

    /// Accepts every pending connection and registers it (edge-triggered, once for its life).
    fn accept_all(&self) -> Option<Instant> {
        loop {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let mut conn = ConnState::new(stream, peer, self.settings.read_buffer);
                    let stream = Arc::clone(&conn.stream);
                    let key = self.table.reserve();
                    conn.key = key;
                    let deadline = Instant::now() + self.settings.limits.header_read_timeout;
                    let parked = Parked {
                        conn,
                        park: Park::Head,
                        deadline,
                    };
                    // Parked before it is registered, so its first event finds it.
                    match self.table.park(key, parked) {
                        // The acceptor reads `sweep_at` before it sleeps: no alarm needed.
                        Parking::Parked => _ = self.sweep_before(deadline),
                        // Shutting down (a fresh slot has no pending event).
                        Parking::Pending(parked) | Parking::Refused(parked) => {
                            self.close(parked.conn);
                            continue;
                        }
                    }
                    if let Err(e) =
                        epoll::add(&self.epoll, &*stream, EventData::new_u64(key), ARMED)
                    {
                        self.log(&format!("cannot watch a new connection: {e}"));
                        if let Some(parked) = self.table.take(key) {
                            self.close(parked.conn);
                        }
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

    /// An epoll event: take the connection if it is parked, and drive it. Returns the
    /// instant the connection was parked again, when the clock was read for it.
    fn on_event(&self, event: Event) -> Option<Instant> {
        let key = event.key;
        let parked = self.table.take(key);
        let mut parked_at = None;
        if let Some(parked) = parked {
            self.pollers.set_active(true);
            // Apps' panics are caught by the engine; this guards the server's own code, so a
            // bug costs one connection, never a worker.
            let driven = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.drive(parked, event.hangup)
            }));
            match driven {
                Ok(at) => parked_at = at,
                Err(_) => {
                    self.table.release(key);
                    self.log("a connection's worker code panicked; the connection was dropped");
                }
            }
            self.pollers.set_active(false);
            if self.shutdown.load(Ordering::Acquire) {
                let _guard = lock(&self.idle.0);
                self.idle.1.notify_all();
            }
        }
        parked_at
    }

    /// Works a connection until it must wait for the client again: reads until the socket
    /// would block (the registration is edge-triggered), serves every complete head
    /// (pipelined ones at once), and parks it, unless an event arrived meanwhile. After a
    /// `hangup` it reads until the end of the stream, which no later event would announce.
    fn drive(&self, mut parked: Parked, mut hangup: bool) -> Option<Instant> {
        let limits = &self.settings.limits;
        let limit = head_buffer_limit(limits);
        // An event means bytes (or a close) arrived: read at least once.
        let mut must_read = true;
        // A deadline that starts now: set when the connection is parked (one clock read per
        // park, and none when the request is served before it parks).
        let mut starts: Option<Duration> = None;
        loop {
            // Where the head ends, when `arrival` found it (parsing then need not look again).
            let mut found_end = None;
            let ready = loop {
                let mut room = limit;
                if parked.park == Park::Linger {
                    // Nothing read while lingering is ever parsed: drop it, so the buffer
                    // always has room and the read below consumes the socket.
                    let n = parked.conn.buf.len();
                    parked.conn.buf.consume(n);
                } else {
                    // Empty lines before a request line are ignored (RFC 9112 §2.2): drop
                    // them as they come, so a stream of them never fills the buffer.
                    let blank = request::leading_empty_lines(parked.conn.buf.bytes());
                    parked.conn.buf.consume(blank);
                    match request::arrival(parked.conn.buf.bytes(), limits) {
                        Arrival::Ready { head_end } => {
                            found_end = head_end;
                            break true;
                        }
                        Arrival::Partial => {}
                        // A small body is awaited here too, so that no worker waits for it.
                        Arrival::Body(total) => {
                            room = room.max(total);
                            if parked.park != Park::Body {
                                parked.park = Park::Body;
                                starts = Some(limits.body_read_timeout);
                            }
                        }
                    }
                }
                if !must_read {
                    // The socket was emptied by the last read; what comes later raises a new
                    // edge, so park without another read.
                    break false;
                }
                match parked.conn.fill(room) {
                    Ok(Filled::Bytes(_)) => {
                        must_read = !parked.conn.buf.drained || hangup;
                        if parked.park == Park::Linger {
                            // A client that keeps sending never lets the socket run dry:
                            // the linger deadline holds here too, not only in the sweep.
                            if Instant::now() >= parked.deadline {
                                self.close(parked.conn);
                                return None;
                            }
                        } else if parked.park == Park::Idle {
                            parked.park = Park::Head;
                            starts = Some(limits.header_read_timeout);
                        }
                    }
                    Ok(Filled::WouldBlock) => break false,
                    // Over the limits: parsing answers 414 or 431, and the rejection empties
                    // the buffer (a lingering buffer is emptied before every read, so it is
                    // never full).
                    Ok(Filled::Full) => break true,
                    Ok(Filled::Eof) | Err(_) => {
                        self.close(parked.conn);
                        return None;
                    }
                }
            };
            if ready {
                // `None`: the connection is gone.
                let served = self.serve_guarded(parked.conn, found_end)?;
                parked = match served {
                    Served::KeepAlive(mut conn) => {
                        must_read = !conn.buf.drained || hangup;
                        if !must_read && conn.buf.is_empty() && self.may_wait_on(&mut conn) {
                            match self.wait_on(&mut conn, limit) {
                                Ok(Some(Filled::Bytes(_) | Filled::Full)) => {
                                    conn.waiting.wait.hit();
                                    self.pollers.progressed();
                                    must_read = !conn.buf.drained;
                                }
                                Ok(Some(Filled::WouldBlock)) => conn.waiting.wait.missed(),
                                // Called off for other work: no verdict on this client.
                                Ok(None) => {}
                                Ok(Some(Filled::Eof)) | Err(_) => {
                                    self.close(conn);
                                    return None;
                                }
                            }
                        }
                        let idle = conn.buf.is_empty();
                        starts = Some(if idle {
                            limits.keep_alive_timeout
                        } else {
                            limits.header_read_timeout
                        });
                        Parked {
                            conn,
                            park: if idle { Park::Idle } else { Park::Head },
                            // Replaced from `starts` if it parks (not read before then).
                            deadline: self.epoch.start,
                        }
                    }
                    Served::Linger(conn) => {
                        must_read = true;
                        // Set at once: the reads below check it.
                        starts = None;
                        Parked {
                            conn,
                            park: Park::Linger,
                            deadline: Instant::now() + LINGER,
                        }
                    }
                    Served::Lost(key) => {
                        self.table.release(key);
                        return None;
                    }
                };
                continue;
            }
            if parked.park == Park::Idle {
                parked.conn.buf.shrink(self.settings.read_buffer);
            }
            let mut read_at = None;
            if let Some(timeout) = starts.take() {
                let now = Instant::now();
                parked.deadline = now + timeout;
                read_at = Some(now);
            }
            let key = parked.conn.key;
            if parked.conn.waiting.disarmed {
                // Its bytes must wake a worker again. Armed before it is parked: an event
                // that comes in between finds it held, and it is read again below.
                if let Err(e) = epoll::modify(
                    &self.epoll,
                    &*parked.conn.stream,
                    EventData::new_u64(key),
                    ARMED,
                ) {
                    self.log(&format!("cannot watch a connection again: {e}"));
                    self.close(parked.conn);
                    return None;
                }
                parked.conn.waiting.disarmed = false;
            }
            let deadline = parked.deadline;
            let parking = self.table.park(key, parked);
            match parking {
                Parking::Parked => {
                    if self.sweep_before(deadline) {
                        self.wake_acceptor();
                    }
                    return read_at;
                }
                // An event came while we held it: read again.
                Parking::Pending(back) => {
                    parked = back;
                    must_read = true;
                    // The new event's flags are unknown: look for an end of stream too.
                    hangup = true;
                }
                // Shutting down: close what would otherwise wait forever.
                Parking::Refused(back) => {
                    self.close(back.conn);
                    return None;
                }
            }
        }
    }

    /// Whether the worker that just answered `conn` (and found nothing more buffered) should
    /// wait on it for its next request instead of parking it: only while the server has
    /// fewer open connections than worker slots, nothing is queued, another worker waits in
    /// epoll for everything else, and the connection's client has not been pausing between
    /// requests (see [`Waiting`](super::conn::Waiting)).
    fn may_wait_on(&self, conn: &mut Conn) -> bool {
        conn.waiting.wanted()
            && self.table.open() < self.pollers.base()
            && self.ready.is_empty()
            && self.pollers.any_in_epoll()
            && !self.shutdown.load(Ordering::Relaxed)
    }

    /// Waits on `conn` for its next request, with its epoll registration disarmed so that its
    /// bytes wake no other worker: first it polls the socket for up to the server's
    /// `busy_poll` budget (unless polls on this connection have been missing: see
    /// [`Backoff`](super::conn::Backoff)), then one blocking read of [`WAIT_FOR_NEXT`] at
    /// most. The first time, the socket is made blocking (its reads and writes elsewhere
    /// still never block). `None`: the wait was called off because other work needs the
    /// worker (see [`poll_for`](Self::poll_for)); the connection is parked as after a miss,
    /// but the client is not counted as pausing.
    fn wait_on(&self, conn: &mut Conn, limit: usize) -> io::Result<Option<Filled>> {
        if !conn.waiting.blocking {
            conn.waiting.blocking = true;
            if conn.stream.set_waiting(WAIT_FOR_NEXT).is_err() {
                // Never waited on (the socket may be half set up): as if every wait missed.
                conn.waiting.unable = true;
                return Ok(Some(Filled::WouldBlock));
            }
        }
        if !conn.waiting.disarmed {
            epoll::modify(
                &self.epoll,
                &*conn.stream,
                EventData::new_u64(conn.key),
                DISARMED,
            )?;
            conn.waiting.disarmed = true;
        }
        if let Some(budget) = self.settings.busy_poll
            && conn.waiting.poll.wanted()
        {
            match self.poll_for(conn, limit, budget)? {
                Polled::Came(filled) => {
                    conn.waiting.poll.hit();
                    return Ok(Some(filled));
                }
                Polled::Expired => conn.waiting.poll.missed(),
                Polled::CalledOff => return Ok(None),
            }
        }
        fill_waiting(&conn.stream, &mut conn.buf, limit).map(Some)
    }

    /// Polls `conn` for its next request for up to `budget`: non-blocking reads, with the
    /// core offered to any other thread ready to run on it between them (a client on the same
    /// core gets to send). Called off when the worker is needed elsewhere: the server is
    /// shutting down, events are queued for a worker, or no other worker is left waiting in
    /// epoll (new events would find nobody).
    ///
    /// A worker that sleeps in a blocking read is woken by an interrupt from the core the
    /// client's bytes arrived on, and finds its caches cold; one that is still polling when
    /// they come pays for neither (see BENCHMARKS.md).
    fn poll_for(&self, conn: &mut Conn, limit: usize, budget: Duration) -> io::Result<Polled> {
        let start = Instant::now();
        loop {
            match conn.fill(limit)? {
                Filled::WouldBlock => {}
                filled => return Ok(Polled::Came(filled)),
            }
            if !self.ready.is_empty()
                || !self.pollers.any_in_epoll()
                || self.shutdown.load(Ordering::Relaxed)
            {
                return Ok(Polled::CalledOff);
            }
            if start.elapsed() >= budget {
                return Ok(Polled::Expired);
            }
            std::thread::yield_now();
        }
    }

    /// [`serve_request`], with the server's own code guarded: when it panics (a bug, or a
    /// [`WsgiRequestHandler`](super::WsgiRequestHandler) hook outside the app), the client
    /// gets a 500 if no response has started, the panic is logged, and the connection is
    /// closed. `None` then: the connection is gone.
    fn serve_guarded(&self, conn: Conn, head_end: Option<usize>) -> Option<Served> {
        // What answering needs after `conn` was moved and lost in the unwinding.
        let stream = Arc::clone(&conn.stream);
        let progress = conn.fault.clone();
        let (key, head) = (conn.key, request::is_head_request(conn.buf.bytes()));
        let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            serve_request(self, conn, false, head_end)
        }));
        match served {
            Ok(served) => Some(served),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                    .unwrap_or("(no message)");
                self.log(&format!(
                    "a connection's worker code panicked: {message}; the connection was closed"
                ));
                if !progress.has_response_started() {
                    let response = error_response(
                        "500 Internal Server Error",
                        "the server failed while handling the request",
                        &self.settings.server_software,
                        head,
                    );
                    let _ = write_all(&stream, &response, self.settings.limits.write_timeout);
                }
                self.table.release(key);
                let _ = epoll::delete(&self.epoll, &*stream);
                let _ = stream.shutdown(Shutdown::Both);
                None
            }
        }
    }

    /// Makes the acceptor sweep no later than `deadline`; true when that is earlier than it
    /// planned (a sleeping acceptor must then be woken). Cheap when it is not: one load.
    fn sweep_before(&self, deadline: Instant) -> bool {
        let at = self.epoch.millis(deadline);
        at < self.sweep_at.load(Ordering::Acquire)
            && self.sweep_at.fetch_min(at, Ordering::AcqRel) > at
    }

    /// Wakes the acceptor (see [`alarm`](Shared::alarm)).
    fn wake_acceptor(&self) {
        let _ = rustix::io::write(&self.alarm, &1u64.to_ne_bytes());
    }

    /// A queued event, if any. The caller then calls [`kick_if_queued`](Self::kick_if_queued)
    /// (once it is not waiting in epoll itself), so each kicked worker passes the kick on and
    /// queued events never wait behind a slow app while workers sleep.
    fn take_ready(&self) -> Option<Event> {
        loop {
            match self.ready.steal() {
                crossbeam_deque::Steal::Success(event) => return Some(event),
                crossbeam_deque::Steal::Empty => return None,
                crossbeam_deque::Steal::Retry => {}
            }
        }
    }

    /// Wakes one worker waiting in epoll when events are queued.
    fn kick_if_queued(&self) {
        std::sync::atomic::fence(Ordering::SeqCst);
        if !self.ready.is_empty() && self.pollers.any_in_epoll() {
            let _ = rustix::io::write(&self.kick, &1u64.to_ne_bytes());
        }
    }

    /// The next event for this worker: a queued one, else one from epoll (queueing the rest
    /// of what epoll returned, and waking a waiting worker for them).
    ///
    /// Sets `rested` when this worker slept in `epoll_wait` (the events it serves after that
    /// are no longer "in a row", see [`FAIR_SHARE`]), and `full` when the wait filled its
    /// whole batch.
    ///
    /// `last_read` is when this worker last read the clock, as it parked a connection: the
    /// sleep is timed from then, so a wait costs one clock read, not two. The few locks and
    /// writes between that read and the wait count too: a worker held up there for longer
    /// than [`SLEPT`] counts as rested, and only yields later.
    fn next_event(
        &self,
        events: &mut [MaybeUninit<epoll::Event>],
        last_read: Option<Instant>,
        rested: &mut bool,
        full: &mut bool,
    ) -> io::Result<Option<Event>> {
        if let Some(event) = self.take_ready() {
            self.kick_if_queued();
            return Ok(Some(event));
        }
        self.pollers.enter_epoll();
        // Announced as waiting before looking again: a worker that queues events from now on
        // sees this one waiting and kicks it (see `kick_if_queued`).
        std::sync::atomic::fence(Ordering::SeqCst);
        if let Some(event) = self.take_ready() {
            if self.pollers.leave_epoll() {
                self.wake_acceptor();
            }
            self.kick_if_queued();
            return Ok(Some(event));
        }
        // A connection parked just before: its clock read stands for this one.
        let entered = last_read.unwrap_or_else(Instant::now);
        let room = events.len();
        let waited = epoll::wait(&self.epoll, events, None);
        // Events already waiting come back in a microsecond or two; longer means it slept.
        *rested = entered.elapsed() >= SLEPT;
        if self.pollers.leave_epoll() {
            self.wake_acceptor();
        }
        let ready = match waited {
            Ok((ready, _)) => ready,
            Err(rustix::io::Errno::INTR) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        *full = ready.len() == room;
        let Some((first, rest)) = ready.split_first() else {
            return Ok(None);
        };
        if !rest.is_empty() {
            for event in rest {
                self.ready.push(Event::from_epoll(event));
            }
            self.kick_if_queued();
        }
        Ok(Some(Event::from_epoll(first)))
    }

    /// A worker: waits on the epoll set and serves what it wakes for, until shutdown.
    fn worker_loop(self: &Arc<Self>) {
        if let Some(slice) = self.settings.worker_slice
            && let Err(e) = super::slice::set_for_current_thread(slice)
            && !self.slice_refused.swap(true, Ordering::Relaxed)
        {
            self.log(&format!(
                "cannot set the workers' scheduler slice to {slice:?} ({e}); \
                 they run with the kernel's default"
            ));
        }
        let mut events = [MaybeUninit::<epoll::Event>::uninit(); EVENTS_PER_WAIT];
        let mut in_a_row = 0;
        // The last epoll_wait filled its whole batch: a backlog waits in the kernel.
        let mut full = false;
        // When the last event's connection was parked, if the clock was read for it.
        let mut last_read: Option<Instant> = None;
        'slot: while self.pollers.acquire(&self.shutdown) {
            loop {
                let mut rested = false;
                let next = self.next_event(&mut events, last_read.take(), &mut rested, &mut full);
                let event = match next {
                    Ok(Some(event)) => event,
                    Ok(None) => continue,
                    Err(e) => {
                        self.log(&format!("epoll_wait failed: {e}; worker stopping"));
                        self.pollers.release();
                        break 'slot;
                    }
                };
                if event.key == KICK {
                    // Keep the counter small; the queued events are taken on the next turn.
                    let mut count = [0u8; 8];
                    let _ = rustix::io::read(&self.kick, &mut count);
                } else if event.key != WAKE {
                    if rested {
                        in_a_row = 0;
                    }
                    last_read = self.on_event(event);
                    in_a_row += 1;
                    // With a backlog (queued, or a full batch from epoll), the queue is what
                    // keeps connections fair, and yielding would only cost switches: yield
                    // when this worker keeps finding new events a few at a time (a few busy
                    // connections served in a loop).
                    if in_a_row >= FAIR_SHARE && self.ready.is_empty() && !full {
                        // sched_yield: returns at once when no other thread waits for the core.
                        in_a_row = 0;
                        last_read = None;
                        std::thread::yield_now();
                    }
                } else if self.shutdown.load(Ordering::Acquire) {
                    // epoll wakes one waiter per new event: poke the eventfd again so the
                    // next waiting worker wakes up and stops too.
                    let _ = rustix::io::write(&self.wake, &1u64.to_ne_bytes());
                    self.pollers.release();
                    break 'slot;
                }
                if self.pollers.handled_one() {
                    // Giving the slot back: pass on any kick this worker would have acted on.
                    // (It may stand by for long: its last clock read is stale by then.)
                    last_read = None;
                    self.pollers.release();
                    self.kick_if_queued();
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
    /// and bodies with 408. Plans the next sweep for the earliest deadline left.
    fn sweep(&self, now: Instant) {
        // From here on, a worker that parks a connection lowers `sweep_at` itself (and wakes
        // this thread, which then looks again): no deadline is missed while the table is read.
        self.sweep_at.store(u64::MAX, Ordering::SeqCst);
        let mut earliest: Option<Instant> = None;
        let expired = self.table.drain_parked(|p| {
            if p.deadline <= now {
                return true;
            }
            earliest = Some(earliest.map_or(p.deadline, |e| e.min(p.deadline)));
            false
        });
        if let Some(earliest) = earliest {
            self.sweep_before(earliest);
        }
        for (_, parked) in expired {
            let late = match parked.park {
                Park::Head if !parked.conn.buf.is_empty() => {
                    Some("the request head did not arrive in time")
                }
                Park::Body => Some("the request body did not arrive in time"),
                _ => None,
            };
            if let Some(detail) = late {
                let response = error_response(
                    "408 Request Timeout",
                    detail,
                    &self.settings.server_software,
                    request::is_head_request(parked.conn.buf.bytes()),
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
        let all = self.table.close_all();
        let limit = head_buffer_limit(&self.settings.limits);
        for (_, mut parked) in all {
            if parked.park != Park::Linger {
                while let Ok(Filled::Bytes(_)) = parked.conn.fill(limit) {}
            }
            if parked.park != Park::Linger
                && request::head_ready(parked.conn.buf.bytes(), &self.settings.limits)
            {
                let shared = Arc::clone(self);
                self.late.fetch_add(1, Ordering::AcqRel);
                self.pool.spawn(move || {
                    match serve_request(&shared, parked.conn, false, None) {
                        Served::KeepAlive(conn) | Served::Linger(conn) => shared.close(conn),
                        Served::Lost(key) => shared.table.release(key),
                    }
                    shared.late.fetch_sub(1, Ordering::AcqRel);
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
        self.table.parked()
    }

    /// `serve_forever`: starts the workers, then accepts and sweeps until shutdown; then
    /// closes idle connections and waits (up to the shutdown timeout) for requests in flight.
    pub(crate) fn run_reactor(self: &Arc<Self>) -> io::Result<()> {
        for _ in 0..self.settings.threads {
            let shared = Arc::clone(self);
            self.workers.fetch_add(1, Ordering::AcqRel);
            self.pool.spawn(move || shared.worker_loop());
        }
        let mut paused_until: Option<Instant> = None;
        // Watching the slot holders for stuck apps (see `Watch`), or not.
        let mut watching = Some(Watch::start(Instant::now(), &self.pollers));
        // After a false alarm (a holder was back in epoll by the time this thread woke), the
        // alarm is re-armed only at this instant, so a busy server cannot ring it at every
        // turn of its workers.
        let mut rearm_at: Option<Instant> = None;
        while !self.shutdown.load(Ordering::Acquire) {
            let now = Instant::now();
            let mut wake_at = self.epoch.instant(self.sweep_at.load(Ordering::Acquire));
            if let Some(next) = watching.as_ref().map(|w| w.next) {
                wake_at = Some(wake_at.map_or(next, |at| at.min(next)));
            }
            if let Some(rearm) = rearm_at {
                wake_at = Some(wake_at.map_or(rearm, |at| at.min(rearm)));
            }
            let woke = match paused_until {
                Some(until) if until > now => {
                    let wait = wake_at.map_or(until, |at| at.min(until));
                    std::thread::sleep(wait.saturating_duration_since(now));
                    Woke::NOTHING
                }
                _ => {
                    paused_until = None;
                    let timeout = wake_at.map(|at| at.saturating_duration_since(now));
                    wait_acceptor(&self.listener, &self.wake, &self.alarm, timeout)?
                }
            };
            if self.shutdown.load(Ordering::Acquire) {
                break;
            }
            if woke.connection {
                paused_until = self.accept_all();
            }
            let now = Instant::now();
            if woke.alarm
                && watching.is_none()
                && rearm_at.is_none()
                && self.pollers.watch_requested()
            {
                // Every slot holder was serving (the alarm may also be an earlier deadline).
                // Often one is back in epoll already: then look again a little later.
                if self.pollers.any_in_epoll() {
                    rearm_at = Some(now + WATCH_AT_LEAST);
                } else {
                    watching = Some(Watch::start(now, &self.pollers));
                }
            }
            if rearm_at.is_some_and(|at| at <= now) {
                rearm_at = None;
                if !self.pollers.stop_watching() {
                    watching = Some(Watch::start(now, &self.pollers));
                }
            }
            if let Some(watch) = watching.as_mut().filter(|w| now >= w.next) {
                watch.look(now, &self.pollers);
                if now.duration_since(watch.since) >= WATCH_AT_LEAST && self.pollers.stop_watching()
                {
                    watching = None;
                }
            }
            if self
                .epoch
                .instant(self.sweep_at.load(Ordering::Acquire))
                .is_some_and(|at| at <= now)
            {
                self.sweep(now);
            }
        }
        // Refuse new connections from now on (a listening socket shut for reading stops
        // completing handshakes on Linux), then settle the parked ones. A listener the
        // server was given stays listening: its owner's next server takes the backlog.
        if self.settings.owns_listener {
            let _ = rustix::net::shutdown(&self.listener, rustix::net::Shutdown::Read);
        }
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
            if self.pollers.active() == 0
                && self.late.load(Ordering::Acquire) == 0
                && self.workers.load(Ordering::Acquire) == 0
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
                .wait_timeout(guard, left.min(IDLE_POLL))
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
        let mut conn = ConnState::new(stream, peer, self.settings.read_buffer);
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
                        request::is_head_request(conn.buf.bytes()),
                    );
                    let _ = write_all(&conn.stream, &response, limits.write_timeout);
                    let _ = conn.stream.shutdown(Shutdown::Both);
                    return Ok(true);
                }
                Err(_) => return Ok(true),
            }
        }
        match serve_request(self, conn, true, None) {
            Served::KeepAlive(conn) | Served::Linger(conn) => self.close(conn),
            Served::Lost(_) => {}
        }
        Ok(true)
    }
}

/// The most bytes buffered while waiting for a head: enough to see that a limit was passed.
fn head_buffer_limit(limits: &super::Limits) -> usize {
    limits.max_header_bytes + limits.max_request_line + 2
}

/// What woke the acceptor.
#[derive(Debug, Clone, Copy)]
struct Woke {
    /// The listener is readable.
    connection: bool,
    /// Its alarm eventfd fired (and was reset).
    alarm: bool,
}

impl Woke {
    const NOTHING: Woke = Woke {
        connection: false,
        alarm: false,
    };
}

/// Waits until the listener is readable, the alarm or the wake eventfd fired, or `timeout`
/// (`None`: no timeout) passed.
fn wait_acceptor(
    listener: &Listener,
    wake: &OwnedFd,
    alarm: &OwnedFd,
    timeout: Option<Duration>,
) -> io::Result<Woke> {
    use rustix::event::{PollFd, Timespec};
    let spec = timeout.map(|t| {
        Timespec::try_from(t).unwrap_or(Timespec {
            tv_sec: i64::MAX,
            tv_nsec: 0,
        })
    });
    let mut fds = [
        PollFd::from_borrowed_fd(listener.as_fd(), PollFlags::IN),
        PollFd::from_borrowed_fd(wake.as_fd(), PollFlags::IN),
        PollFd::from_borrowed_fd(alarm.as_fd(), PollFlags::IN),
    ];
    match rustix::event::poll(&mut fds, spec.as_ref()) {
        Ok(_) => {
            let alarm_fired = !fds[2].revents().is_empty();
            if alarm_fired {
                let mut count = [0u8; 8];
                let _ = rustix::io::read(alarm, &mut count);
            }
            Ok(Woke {
                connection: !fds[0].revents().is_empty(),
                alarm: alarm_fired,
            })
        }
        Err(rustix::io::Errno::INTR) => Ok(Woke::NOTHING),
        Err(e) => Err(e.into()),
    }
}
