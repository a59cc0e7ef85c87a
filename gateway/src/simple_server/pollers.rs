//! How many workers wait on the epoll set at once.
//!
//! epoll hands each new event to a sleeping waiter, first come first served, so with many
//! idle workers every request would wake a different cold thread. Instead only `base`
//! workers (one per core) hold a *slot*: they wait on epoll, and keep their slot while they
//! serve what they woke for. The rest stand by on a condition variable. The acceptor ticks
//! [`Pollers::monitor`]: when every slot holder is busy and none of them finished anything
//! since the last tick (apps blocked on I/O), one more slot opens and a standby worker takes
//! it; when more than one holder sits idle in epoll, the extra slot closes again. A fixed pool
//! thus keeps a hot set of threads under CPU-bound load and still serves other connections
//! while apps block.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

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
    in_epoll: AtomicBool,
    handled: AtomicU64,
    active: AtomicBool,
}

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

    /// After an event: true when this holder should give its slot back (slots were closed).
    pub(crate) fn handled_one(&self) -> bool {
        // Only this worker writes its counter: a plain load and store, no locked instruction.
        let handled = &self.slot().handled;
        handled.store(
            handled.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
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

    /// Marks entering and leaving epoll_wait.
    pub(crate) fn enter_epoll(&self) {
        self.slot().in_epoll.store(true, Ordering::Release);
    }

    /// See [`enter_epoll`](Pollers::enter_epoll).
    pub(crate) fn leave_epoll(&self) {
        self.slot().in_epoll.store(false, Ordering::Release);
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
        self.workers
            .iter()
            .any(|w| w.in_epoll.load(Ordering::Acquire))
    }

    fn idle(&self) -> usize {
        self.workers
            .iter()
            .filter(|w| w.in_epoll.load(Ordering::Acquire))
            .count()
    }

    fn handled(&self) -> u64 {
        self.workers
            .iter()
            .map(|w| w.handled.load(Ordering::Relaxed))
            .sum()
    }

    /// True while some slot holder is serving (the acceptor then ticks faster).
    pub(crate) fn serving(&self) -> bool {
        let idle = self.idle();
        idle < self.lock().holders
    }

    /// The acceptor's tick: opens a slot when every holder is stuck, closes one when more
    /// than one holder is idle.
    pub(crate) fn monitor(&self) {
        let handled = self.handled();
        let idle = self.idle();
        let mut state = self.lock();
        let stuck = idle == 0 && handled == state.last_handled && state.holders >= state.allowed;
        state.last_handled = handled;
        if stuck && state.standby > 0 {
            state.allowed += 1;
            self.wake.notify_one();
        } else if idle > 1 && state.allowed > self.base {
            state.allowed -= 1;
            self.shrinking.store(true, Ordering::Relaxed);
        }
    }

    /// Wakes every standby worker (shutdown).
    pub(crate) fn wake_all(&self) {
        let _state = self.lock();
        self.wake.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::Pollers;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn opens_a_slot_only_when_holders_are_stuck() {
        let pollers = Pollers::new(1, 2);
        let stop = AtomicBool::new(false);
        assert!(pollers.acquire(&stop));
        // The one holder is serving and making progress: no new slot.
        pollers.lock().standby = 1;
        pollers.handled_one();
        pollers.monitor();
        assert_eq!(pollers.lock().allowed, 1);
        // No progress since the last tick: a slot opens.
        pollers.monitor();
        assert_eq!(pollers.lock().allowed, 2);
        // Two holders idle in epoll: the extra slot closes.
        pollers.workers[0]
            .in_epoll
            .store(true, std::sync::atomic::Ordering::Release);
        pollers.workers[1]
            .in_epoll
            .store(true, std::sync::atomic::Ordering::Release);
        pollers.monitor();
        assert_eq!(pollers.lock().allowed, 1);
    }
}
