//! The connection table: who owns each connection, the epoll set or a worker.
//!
//! Connections are registered with epoll once, edge-triggered, under a fixed key (slot index
//! and generation, so an event for a closed connection whose slot was reused is recognised).
//! A slot is `Parked` (the connection waits in the table, owned by no thread) or `Busy` (a
//! worker holds it). An event for a busy connection only sets `pending`; the worker sees it
//! when it tries to park and keeps going instead, so no readiness edge is ever lost and no
//! `epoll_ctl` is needed per request.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use super::conn::Conn;

/// Why a connection is parked, which decides its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Park {
    /// Between requests on a kept-alive connection.
    Idle,
    /// Just accepted, or part of a head has arrived: the header-read deadline runs.
    Head,
    /// A whole head has arrived, its small body not yet (see `request::Arrival::Body`): the
    /// body-read deadline runs.
    Body,
    /// Closing after an error or a last response: read and discard until EOF or the deadline.
    Linger,
}

/// A connection waiting in the table.
#[derive(Debug)]
pub(crate) struct Parked {
    pub(crate) conn: Conn,
    pub(crate) park: Park,
    pub(crate) deadline: Instant,
}

// A parked connection is stored inline: boxing it would cost an allocation per park, and a
// slot per connection (about 200 bytes) is small next to its read buffer.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Slot {
    Free,
    Parked(Parked),
    /// A worker holds the connection; `pending` records events that came meanwhile.
    Busy {
        pending: bool,
    },
}

#[derive(Debug)]
struct Entry {
    generation: u32,
    slot: Slot,
}

/// What became of a connection handed to [`Table::park`].
#[derive(Debug)]
pub(crate) enum Parking {
    /// It waits in the table for its next event.
    Parked,
    /// An event came while the worker held it: read it again.
    Pending(Parked),
    /// The server is closing (or the slot is gone): close it.
    Refused(Parked),
}

/// The table. Every method is a short critical section under the caller's lock.
#[derive(Debug, Default)]
pub(crate) struct Table {
    entries: Vec<Entry>,
    free: Vec<u32>,
    parked: usize,
    closing: bool,
}

fn split(key: u64) -> (usize, u32) {
    ((key & u64::from(u32::MAX)) as usize, (key >> 32) as u32)
}

impl Table {
    /// Reserves a slot for a new connection, held busy by the caller; returns its key.
    pub(crate) fn reserve(&mut self) -> u64 {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.entries.push(Entry {
                    generation: 0,
                    slot: Slot::Free,
                });
                (self.entries.len() - 1) as u32
            }
        };
        let entry = &mut self.entries[index as usize];
        entry.generation = entry.generation.wrapping_add(1);
        entry.slot = Slot::Busy { pending: false };
        u64::from(entry.generation) << 32 | u64::from(index)
    }

    fn entry(&mut self, key: u64) -> Option<&mut Entry> {
        let (index, generation) = split(key);
        self.entries
            .get_mut(index)
            .filter(|entry| entry.generation == generation)
    }

    /// An epoll event for `key`: takes the parked connection (the slot turns busy), or notes
    /// the event for the worker that holds it.
    pub(crate) fn take(&mut self, key: u64) -> Option<Parked> {
        let entry = self.entry(key)?;
        match std::mem::replace(&mut entry.slot, Slot::Busy { pending: false }) {
            Slot::Parked(parked) => {
                self.parked -= 1;
                Some(parked)
            }
            Slot::Busy { .. } => {
                entry.slot = Slot::Busy { pending: true };
                None
            }
            Slot::Free => {
                entry.slot = Slot::Free;
                None
            }
        }
    }

    /// Parks a connection its worker is done with, unless an event came while the worker held
    /// it (it comes back, to be read again) or the server is closing (it comes back, to be
    /// closed: nothing would ever take it out of the table again).
    #[must_use]
    pub(crate) fn park(&mut self, key: u64, parked: Parked) -> Parking {
        if self.closing {
            return Parking::Refused(parked);
        }
        let Some(entry) = self.entry(key) else {
            return Parking::Refused(parked);
        };
        match entry.slot {
            Slot::Busy { pending: true } => {
                entry.slot = Slot::Busy { pending: false };
                Parking::Pending(parked)
            }
            _ => {
                entry.slot = Slot::Parked(parked);
                self.parked += 1;
                Parking::Parked
            }
        }
    }

    /// Shutdown: from now on nothing is parked; returns everything parked so far.
    pub(crate) fn close_all(&mut self) -> Vec<(u64, Parked)> {
        self.closing = true;
        self.drain_parked(|_| true)
    }

    /// Frees the slot of a connection being closed by its worker; false when it was free
    /// already.
    pub(crate) fn release(&mut self, key: u64) -> bool {
        let (index, _) = split(key);
        let Some(entry) = self.entry(key) else {
            return false;
        };
        match std::mem::replace(&mut entry.slot, Slot::Free) {
            Slot::Free => return false, // already released
            Slot::Parked(_) => self.parked -= 1,
            Slot::Busy { .. } => {}
        }
        self.free.push(index as u32);
        true
    }

    /// Removes and returns the parked connections `select` picks (deadlines, shutdown).
    pub(crate) fn drain_parked(
        &mut self,
        mut select: impl FnMut(&Parked) -> bool,
    ) -> Vec<(u64, Parked)> {
        let mut out = Vec::new();
        for (index, entry) in self.entries.iter_mut().enumerate() {
            if !matches!(&entry.slot, Slot::Parked(p) if select(p)) {
                continue;
            }
            if let Slot::Parked(parked) =
                std::mem::replace(&mut entry.slot, Slot::Busy { pending: false })
            {
                out.push((u64::from(entry.generation) << 32 | index as u64, parked));
            }
        }
        self.parked -= out.len();
        out
    }

    /// How many connections are parked.
    pub(crate) fn parked(&self) -> usize {
        self.parked
    }
}

/// How many independently locked tables the connections are spread over: the workers and the
/// acceptor each lock one for a moment per event, and with one lock for all of them its cache
/// line would bounce between cores on every request.
const SHARDS: usize = 16;

/// One shard's lock, on a cache line of its own.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard(Mutex<Table>);

/// The connection tables: a key's slot index picks its shard (index modulo [`SHARDS`]), so
/// every method locks one shard only, briefly.
#[derive(Debug)]
pub(crate) struct Tables {
    shards: Vec<Shard>,
    /// The shard the next new connection goes to (only the acceptor reserves).
    next: AtomicUsize,
    /// Connections reserved and not yet released (parked or held by a worker).
    open: AtomicUsize,
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            next: AtomicUsize::new(0),
            open: AtomicUsize::new(0),
        }
    }
}

/// A shard's key: the same generation, the slot index within the shard.
fn local(key: u64) -> (usize, u64) {
    let (index, generation) = split(key);
    (
        index % SHARDS,
        u64::from(generation) << 32 | (index / SHARDS) as u64,
    )
}

/// The global key of a shard's key.
fn global(shard: usize, key: u64) -> u64 {
    let (index, generation) = split(key);
    u64::from(generation) << 32 | (index * SHARDS + shard) as u64
}

impl Tables {
    fn lock(&self, shard: usize) -> MutexGuard<'_, Table> {
        self.shards[shard]
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// See [`Table::reserve`].
    pub(crate) fn reserve(&self) -> u64 {
        let shard = self.next.fetch_add(1, Ordering::Relaxed) % SHARDS;
        self.open.fetch_add(1, Ordering::Relaxed);
        global(shard, self.lock(shard).reserve())
    }

    /// See [`Table::take`].
    pub(crate) fn take(&self, key: u64) -> Option<Parked> {
        let (shard, key) = local(key);
        self.lock(shard).take(key)
    }

    /// See [`Table::park`].
    pub(crate) fn park(&self, key: u64, parked: Parked) -> Parking {
        let (shard, key) = local(key);
        self.lock(shard).park(key, parked)
    }

    /// See [`Table::release`].
    pub(crate) fn release(&self, key: u64) {
        let (shard, key) = local(key);
        if self.lock(shard).release(key) {
            self.open.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// How many connections are open (one relaxed load: a hint, not a count under a lock).
    pub(crate) fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// See [`Table::close_all`].
    pub(crate) fn close_all(&self) -> Vec<(u64, Parked)> {
        self.collect(Table::close_all)
    }

    /// See [`Table::drain_parked`].
    pub(crate) fn drain_parked(
        &self,
        mut select: impl FnMut(&Parked) -> bool,
    ) -> Vec<(u64, Parked)> {
        self.collect(|table| table.drain_parked(&mut select))
    }

    fn collect(
        &self,
        mut each: impl FnMut(&mut Table) -> Vec<(u64, Parked)>,
    ) -> Vec<(u64, Parked)> {
        let mut out = Vec::new();
        for shard in 0..SHARDS {
            let taken = each(&mut self.lock(shard));
            out.extend(taken.into_iter().map(|(key, p)| (global(shard, key), p)));
        }
        out
    }

    /// How many connections are parked.
    pub(crate) fn parked(&self) -> usize {
        (0..SHARDS).map(|shard| self.lock(shard).parked()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simple_server::conn::ConnState;

    /// A table entry's life without sockets: the protocol only, with a stand-in connection.
    fn parked_stub() -> Option<Parked> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").ok()?;
        let stream = std::net::TcpStream::connect(listener.local_addr().ok()?).ok()?;
        let peer = stream.peer_addr().ok()?;
        Some(Parked {
            conn: ConnState::new(
                crate::simple_server::socket::Stream::Tcp(stream),
                Some(peer),
                16,
            ),
            park: Park::Idle,
            deadline: Instant::now(),
        })
    }

    #[test]
    fn an_event_while_busy_is_not_lost() {
        let mut table = Table::default();
        let key = table.reserve();
        // An event arrives while the worker still holds the connection...
        assert!(table.take(key).is_none());
        // ...so parking hands the connection back instead of losing the edge.
        let parked = parked_stub().expect("loopback socket");
        let Parking::Pending(parked) = table.park(key, parked) else {
            panic!("parking must fail while an event is pending");
        };
        assert!(matches!(table.park(key, parked), Parking::Parked));
        assert_eq!(table.parked(), 1);
        assert!(table.take(key).is_some());
        assert_eq!(table.parked(), 0);
    }

    #[test]
    fn nothing_is_parked_once_closing() {
        let mut table = Table::default();
        let key = table.reserve();
        assert!(table.close_all().is_empty());
        let parked = parked_stub().expect("loopback socket");
        assert!(matches!(table.park(key, parked), Parking::Refused(_)));
        assert_eq!(table.parked(), 0);
    }

    #[test]
    fn sharded_keys_round_trip() {
        let tables = Tables::default();
        let keys: Vec<u64> = (0..40).map(|_| tables.reserve()).collect();
        let mut distinct = keys.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), keys.len());
        for &key in &keys {
            let (shard, local_key) = local(key);
            assert_eq!(global(shard, local_key), key);
            let parked = parked_stub().expect("loopback socket");
            assert!(matches!(tables.park(key, parked), Parking::Parked));
        }
        assert_eq!(tables.parked(), keys.len());
        assert!(tables.take(keys[7]).is_some());
        let mut drained: Vec<u64> = tables
            .drain_parked(|_| true)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        drained.sort_unstable();
        let mut expected: Vec<u64> = keys.iter().copied().filter(|&k| k != keys[7]).collect();
        expected.sort_unstable();
        assert_eq!(drained, expected);
    }

    #[test]
    fn stale_keys_are_ignored() {
        let mut table = Table::default();
        let old = table.reserve();
        table.release(old);
        let new = table.reserve();
        assert_ne!(old, new, "the reused slot has a new generation");
        assert!(table.take(old).is_none());
        table.release(old); // no effect on the new connection
        let parked = parked_stub().expect("loopback socket");
        assert!(matches!(table.park(new, parked), Parking::Parked));
        assert_eq!(table.drain_parked(|_| true).len(), 1);
    }
}
