//! How many workers wait on the epoll set at once.
//!
//! epoll hands each new event to a sleeping waiter, first come first served, so with many
//! idle workers every request would wake a different cold thread. Instead only `base`
//! workers (one per core) hold a *slot*: they wait on epoll, and keep their slot while they
//! serve what they woke for. The rest stand by on a condition variable.
//!
//! Apps may block (on a database, a file, a sleep). The acceptor watches for that, but only
//! while it can matter: when the last slot holder leaves epoll (every holder is serving) and
//! workers stand by, [`Pollers::leave_epoll`] asks for the acceptor to be woken, and it
//! then looks at the holders (see [`Watch`]). When every holder is busy and none of them
//! finished anything in [`STUCK_AFTER`], one more slot opens and a standby worker takes it;
//! when more than one holder sits idle in epoll, the extra slot closes again. Once a holder is
//! back in epoll and no extra slot is open, the acceptor stops looking. A fixed pool thus
//! keeps a hot set of threads under CPU-bound load, still serves other connections while apps
//! block, and costs no periodic wake-up while it does neither.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Slot holders that all serve and finish nothing in this long count as stuck.
pub(crate) const STUCK_AFTER: Duration = Duration::from_millis(2);

/// The longest gap between two pairs of looks while the holders keep finishing requests.
const WATCH_GAP_MAX: Duration = Duration::from_millis(16);

/// The acceptor watching the slot holders: since when, and when it looks next.
///
/// A decision takes two looks [`STUCK_AFTER`] apart: a sample of how many requests the
/// holders have finished, then a [`monitor`](Pollers::monitor) that compares with it. While
/// the holders keep finishing requests, the pairs back off (double their gap up to
/// [`WATCH_GAP_MAX`]), so a server busy for good wakes its acceptor about a hundred times a
/// second rather than five hundred; a decision that finds no progress makes the next one
/// [`STUCK_AFTER`] later. "Stuck" always means nothing finished in [`STUCK_AFTER`]; an app that
/// starts blocking while the server is busy is noticed within about 18 ms.
#[derive(Debug)]
pub(crate) struct Watch {
    /// When watching began.
    pub(crate) since: Instant,
    /// When the next look is due.
    pub(crate) next: Instant,
    /// The gap before the next sample after progress.
    gap: Duration,
    /// The next look decides (a sample was taken [`STUCK_AFTER`] before it).
    deciding: bool,
}

impl Watch {
    /// Starts watching at `now` with a first look (a sample).
    pub(crate) fn start(now: Instant, pollers: &Pollers) -> Self {
        let mut watch = Watch {
            since: now,
            next: now,
            gap: STUCK_AFTER,
            deciding: false,
        };
        watch.look(now, pollers);
        watch
    }

    /// Looks at the holders at `now`, and plans the next look.
    pub(crate) fn look(&mut self, now: Instant, pollers: &Pollers) {
        let wait = if !self.deciding {
            pollers.sample();
            self.deciding = true;
            STUCK_AFTER
        } else if pollers.monitor() {
            self.gap = (self.gap * 2).min(WATCH_GAP_MAX);
            self.deciding = false;
            self.gap
        } else {
            self.gap = STUCK_AFTER;
            STUCK_AFTER
        };
        self.next = now + wait;
    }
}

#[derive(Debug)]
struct State {
    /// Slots currently allowed.
    allowed: usize,
    /// Workers holding a slot (in epoll or serving).
    holders: usize,
    /// Workers waiting for a slot.
    standby: usize,
    /// `handled` at the previous tick, to see whether holders made progress.
    last_handled: u64,
}

/// One worker's counters, on a cache line of its own: each is written by its worker only and
/// read by the acceptor's tick, so the hot path never shares a written line between cores.
#[derive(Debug, Default)]
#[repr(align(128))]
struct WorkerSlot {
    handled: AtomicU64,
    active: AtomicBool,
}

/// A counter on a cache line of its own.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded<T>(T);

#[derive(Debug)]
pub(crate) struct Pollers {
    base: usize,
    state: Mutex<State>,
    wake: Condvar,
    /// Per-worker counters (the last slot is for any thread outside the pool).
    workers: Vec<WorkerSlot>,
    /// Set when slots were closed and some holder should give its slot back: the fast path
    /// of [`handled_one`](Pollers::handled_one) reads only this.
    shrinking: AtomicBool,
    /// Workers waiting in epoll (or about to).
    in_epoll: Padded<AtomicUsize>,
    /// Set by the acceptor when it stops ticking; the worker that leaves epoll last clears it
    /// and wakes the acceptor (see [`leave_epoll`](Pollers::leave_epoll)).
    unwatched: Padded<AtomicBool>,
}

impl Pollers {
    pub(crate) fn new(base: usize, workers: usize) -> Self {
        let base = base.max(1);
        Pollers {
            workers: (0..=workers).map(|_| WorkerSlot::default()).collect(),
            base,
            state: Mutex::new(State {
                allowed: base,
                holders: 0,
                standby: 0,
                last_handled: 0,
            }),
            wake: Condvar::new(),
            shrinking: AtomicBool::new(false),
            in_epoll: Padded(AtomicUsize::new(0)),
            unwatched: Padded(AtomicBool::new(false)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a slot; false once `stop` is set.
    pub(crate) fn acquire(&self, stop: &AtomicBool) -> bool {
        let mut state = self.lock();
        while state.holders >= state.allowed {
            if stop.load(Ordering::Acquire) {
                return false;
            }
            state.standby += 1;
            state = self.wake.wait(state).unwrap_or_else(|e| e.into_inner());
            state.standby -= 1;
        }
        state.holders += 1;
        true
    }

    /// Gives the slot back.
    pub(crate) fn release(&self) {
        let mut state = self.lock();
        state.holders -= 1;
        if state.standby > 0 && state.holders < state.allowed {
            self.wake.notify_one();
        }
    }

    /// The worker slots open while no app blocks.
    pub(crate) fn base(&self) -> usize {
        self.base
    }

    /// Counts one request served by a worker waiting on its connection (between the events
    /// [`handled_one`](Pollers::handled_one) counts): progress, for the stuck-app watch.
    pub(crate) fn progressed(&self) {
        // Only this worker writes its counter: a plain load and store, no locked instruction.
        let handled = &self.slot().handled;
        handled.store(
            handled.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
    }

    /// After an event: true when this holder should give its slot back (slots were closed).
    pub(crate) fn handled_one(&self) -> bool {
        self.progressed();
        if !self.shrinking.load(Ordering::Relaxed) {
            return false;
        }
        let state = self.lock();
        let excess = state.holders > state.allowed;
        if !excess {
            self.shrinking.store(false, Ordering::Relaxed);
        }
        excess
    }

    /// The calling worker's counters.
    fn slot(&self) -> &WorkerSlot {
        let index = rayon::current_thread_index().unwrap_or(usize::MAX);
        self.workers
            .get(index)
            .unwrap_or(&self.workers[self.workers.len() - 1])
    }

    /// Marks entering epoll_wait.
    pub(crate) fn enter_epoll(&self) {
        self.in_epoll.0.fetch_add(1, Ordering::SeqCst);
    }

    /// Marks leaving epoll_wait. True when this was the last holder in epoll while the
    /// acceptor was not watching: the caller then wakes the acceptor, which watches from
    /// now on (every holder is serving, and the apps might block).
    #[must_use]
    pub(crate) fn leave_epoll(&self) -> bool {
        // SeqCst pairs with `stop_watching`: either this worker sees `unwatched` set, or the
        // acceptor sees the count at zero and keeps watching.
        let before = self.in_epoll.0.fetch_sub(1, Ordering::SeqCst);
        before == 1
            && self.unwatched.0.load(Ordering::SeqCst)
            && self.unwatched.0.swap(false, Ordering::SeqCst)
    }

    /// Marks the calling worker as serving a connection (or done with it).
    pub(crate) fn set_active(&self, active: bool) {
        self.slot().active.store(active, Ordering::Release);
    }

    /// How many workers are serving a connection.
    pub(crate) fn active(&self) -> usize {
        self.workers
            .iter()
            .filter(|w| w.active.load(Ordering::Acquire))
            .count()
    }

    /// True when some worker is waiting in epoll (or about to).
    pub(crate) fn any_in_epoll(&self) -> bool {
        self.idle() > 0
    }

    fn idle(&self) -> usize {
        self.in_epoll.0.load(Ordering::SeqCst)
    }

    fn handled(&self) -> u64 {
        self.workers
            .iter()
            .map(|w| w.handled.load(Ordering::Relaxed))
            .sum()
    }

    /// The acceptor, after a tick: true when it may stop ticking, because some holder waits
    /// in epoll (or no worker stands by to take an extra slot) and no extra slot is open.
    /// From then on, the next worker to leave epoll last wakes it (see
    /// [`leave_epoll`](Pollers::leave_epoll)).
    pub(crate) fn stop_watching(&self) -> bool {
        {
            let state = self.lock();
            if state.allowed > self.base {
                return false;
            }
            if state.standby == 0 {
                // No worker to open a slot for: nothing to watch, and no need to be woken.
                // (The acceptor looks again whenever it wakes for a connection or a deadline.)
                return true;
            }
        }
        self.unwatched.0.store(true, Ordering::SeqCst);
        if self.idle() == 0 {
            // Every holder is serving: keep watching (unless a worker already took the flag
            // back, and with it the duty to wake the acceptor, which then watches anyway).
            self.unwatched.0.store(false, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// True when a worker asked the acceptor to watch since [`stop_watching`] last returned
    /// true (the acceptor's alarm may also mean an earlier deadline).
    ///
    /// [`stop_watching`]: Pollers::stop_watching
    pub(crate) fn watch_requested(&self) -> bool {
        !self.unwatched.0.load(Ordering::SeqCst)
    }

    /// Notes how many requests the holders have finished, for the next
    /// [`monitor`](Pollers::monitor) to compare with.
    pub(crate) fn sample(&self) {
        let handled = self.handled();
        self.lock().last_handled = handled;
    }

    /// The acceptor's decision: opens a slot when every holder is stuck (nothing finished
    /// since the last sample or decision), closes one when more than one holder is idle. True
    /// when the holders finished something meanwhile.
    pub(crate) fn monitor(&self) -> bool {
        let handled = self.handled();
        let idle = self.idle();
        let mut state = self.lock();
        let progressed = handled != state.last_handled;
        let stuck = idle == 0 && !progressed && state.holders >= state.allowed;
        state.last_handled = handled;
        if stuck && state.standby > 0 {
            state.allowed += 1;
            self.wake.notify_one();
        } else if idle > 1 && state.allowed > self.base {
            state.allowed -= 1;
            self.shrinking.store(true, Ordering::Relaxed);
        }
        progressed
    }

    /// Wakes every standby worker (shutdown).
    pub(crate) fn wake_all(&self) {
        let _state = self.lock();
        self.wake.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::{Pollers, Watch};
    use std::sync::atomic::AtomicBool;
    use std::time::{Duration, Instant};

    #[test]
    fn opens_a_slot_only_when_holders_are_stuck() {
        let pollers = Pollers::new(1, 2);
        let stop = AtomicBool::new(false);
        assert!(pollers.acquire(&stop));
        // The one holder is serving and making progress: no new slot.
        pollers.lock().standby = 1;
        pollers.handled_one();
        assert!(pollers.monitor(), "progress since the last tick");
        assert_eq!(pollers.lock().allowed, 1);
        // No progress since the last tick: a slot opens.
        assert!(!pollers.monitor());
        assert_eq!(pollers.lock().allowed, 2);
        assert!(!pollers.stop_watching(), "an extra slot is open");
        // Two holders idle in epoll: the extra slot closes.
        pollers.enter_epoll();
        pollers.enter_epoll();
        let _ = pollers.monitor();
        assert_eq!(pollers.lock().allowed, 1);
    }

    #[test]
    fn the_last_holder_to_leave_epoll_wakes_the_acceptor_once() {
        let pollers = Pollers::new(2, 4);
        let stop = AtomicBool::new(false);
        assert!(pollers.acquire(&stop));
        assert!(pollers.acquire(&stop));
        pollers.lock().standby = 2;
        pollers.enter_epoll();
        pollers.enter_epoll();
        // A holder waits in epoll: nothing to watch.
        assert!(pollers.stop_watching());
        assert!(!pollers.leave_epoll(), "another holder is still in epoll");
        assert!(pollers.leave_epoll(), "the last one out wakes the acceptor");
        pollers.enter_epoll();
        assert!(!pollers.leave_epoll(), "the acceptor is already watching");
        // Every holder is serving: the acceptor keeps watching.
        assert!(!pollers.stop_watching());
    }

    /// Runs a watch over simulated time: the one holder finishes a request every `every`;
    /// returns the looks taken in `span`, and when (if ever) a second slot opened.
    fn simulate(every: Duration, span: Duration) -> (usize, Option<Duration>) {
        let pollers = Pollers::new(1, 2);
        assert!(pollers.acquire(&AtomicBool::new(false)));
        pollers.lock().standby = 1;
        // Requests finished before the watch began: no look may take them for progress.
        for _ in 0..3 {
            pollers.handled_one();
        }
        let epoch = Instant::now();
        let mut watch = Watch::start(epoch, &pollers);
        let (mut finished, mut looks, mut opened) = (Duration::ZERO, 1, None);
        while watch.next - epoch < span {
            let now = watch.next;
            while epoch + finished + every <= now {
                finished += every;
                pollers.handled_one();
            }
            watch.look(now, &pollers);
            looks += 1;
            if opened.is_none() && pollers.lock().allowed > 1 {
                opened = Some(now - epoch);
            }
        }
        (looks, opened)
    }

    #[test]
    fn an_app_blocking_a_few_milliseconds_per_request_still_gets_a_slot() {
        // Every request takes 5 ms: some 2 ms window holds no completion, whatever the
        // back-off.
        let (_, opened) = simulate(Duration::from_millis(5), Duration::from_millis(200));
        let opened = opened.expect("a second slot opens");
        assert!(
            opened <= Duration::from_millis(40),
            "opened after {opened:?}"
        );
    }

    #[test]
    fn a_busy_server_is_looked_at_less_and_less_often() {
        // A request finishes every 100 us: the holders are never stuck.
        let (looks, opened) = simulate(Duration::from_micros(100), Duration::from_secs(1));
        assert_eq!(opened, None);
        // Pairs of looks 2 ms apart, every 18 ms once backed off: about 110, not 500.
        assert!(looks < 150, "{looks} looks in 1 s");
    }

    #[test]
    fn no_standby_worker_means_nothing_to_watch() {
        let pollers = Pollers::new(1, 1);
        let stop = AtomicBool::new(false);
        assert!(pollers.acquire(&stop));
        assert!(pollers.stop_watching());
    }
}
