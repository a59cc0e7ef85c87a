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

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
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

#[derive(Debug)]
pub(crate) struct Pollers {
    base: usize,
    state: Mutex<State>,
    wake: Condvar,
    /// Slot holders currently inside epoll_wait.
    in_epoll: AtomicUsize,
    /// Events handled so far (progress).
    handled: AtomicU64,
    /// Set when slots were closed and some holder should give its slot back: the fast path
    /// of [`handled_one`](Pollers::handled_one) reads only this.
    shrinking: AtomicBool,
}

impl Pollers {
    pub(crate) fn new(base: usize) -> Self {
        let base = base.max(1);
        Pollers {
            base,
            state: Mutex::new(State {
                allowed: base,
                holders: 0,
                standby: 0,
                last_handled: 0,
            }),
            wake: Condvar::new(),
            in_epoll: AtomicUsize::new(0),
            handled: AtomicU64::new(0),
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
        self.handled.fetch_add(1, Ordering::Relaxed);
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

    /// Marks entering and leaving epoll_wait.
    pub(crate) fn enter_epoll(&self) {
        self.in_epoll.fetch_add(1, Ordering::AcqRel);
    }

    /// See [`enter_epoll`](Pollers::enter_epoll).
    pub(crate) fn leave_epoll(&self) {
        self.in_epoll.fetch_sub(1, Ordering::AcqRel);
    }

    /// True while some slot holder is serving (the acceptor then ticks faster).
    pub(crate) fn serving(&self) -> bool {
        let state = self.lock();
        self.in_epoll.load(Ordering::Acquire) < state.holders
    }

    /// The acceptor's tick: opens a slot when every holder is stuck, closes one when more
    /// than one holder is idle.
    pub(crate) fn monitor(&self) {
        let handled = self.handled.load(Ordering::Relaxed);
        let idle = self.in_epoll.load(Ordering::Acquire);
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
        let pollers = Pollers::new(1);
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
        pollers.enter_epoll();
        pollers.enter_epoll();
        pollers.monitor();
        assert_eq!(pollers.lock().allowed, 1);
    }
}
