//! The workers' scheduler slice: how long the kernel lets a worker run before another thread
//! that wants its core may take it.
//!
//! Linux's fair scheduler (EEVDF, 6.6 and later) gives each thread a *slice*; since 6.12 a
//! thread may ask for its own, from 0.1 ms to 100 ms, through `sched_setattr`'s
//! `sched_runtime` (the kernel asks no privilege for it; a sandbox such as seccomp may still
//! refuse the call, which the server logs once). A short slice keeps a thread's virtual
//! deadline close, so on a core shared with other processes (clients on the same machine, a
//! proxy, a database) two things change for a worker:
//! - a thread woken by the worker's response (the client, reading it) no longer takes the
//!   core at once: in our runs the worker went on to send the other responses it had before
//!   it gave the core up;
//! - a worker that yields its core (see the reactor's `FAIR_SHARE`) forfeits one short slice,
//!   not one long one, and so gets the core back soon after the threads it let run.
//!
//! Measured on two cores shared with wrk (16 connections): with the kernel's default slice
//! (1.4 ms there) the worker and wrk fell into a ping-pong of one request per context switch
//! whenever the workers yielded; with 0.1 ms they serve batches, for 10-20 % more requests
//! per second at the same sub-millisecond p99 (BENCHMARKS.md). On a machine where the workers
//! have their cores to themselves, the slice never comes into play.
//!
//! Threads and processes an app starts from a worker inherit its slice (as they inherit its
//! nice value). Older kernels accept the call and ignore the field; other systems have no
//! such call, and [`set_for_current_thread`] does nothing there.

use std::io;
use std::time::Duration;

/// The slice the server asks for by default: the shortest Linux grants.
pub(crate) const DEFAULT: Duration = Duration::from_micros(100);

/// Asks for `slice` for the calling thread, keeping its scheduling policy, nice value and
/// reset-on-fork flag. Threads under a real-time, deadline or idle policy are left as they
/// are. A zero `slice` asks for the kernel's default.
#[cfg(target_os = "linux")]
pub(crate) fn set_for_current_thread(slice: Duration) -> io::Result<()> {
    let mut attr = SchedAttr::of_this_thread()?;
    if attr.sched_policy != libc::SCHED_OTHER as u32
        && attr.sched_policy != libc::SCHED_BATCH as u32
    {
        return Ok(());
    }
    // Only reset-on-fork may stay (clearing it would need privilege); the other flags ask
    // for things this call does not set.
    attr.sched_flags &= RESET_ON_FORK;
    attr.sched_runtime = u64::try_from(slice.as_nanos()).unwrap_or(u64::MAX);
    attr.set_for_this_thread()
}

/// Other systems have no per-thread slice: nothing to do.
#[cfg(not(target_os = "linux"))]
pub(crate) fn set_for_current_thread(_slice: Duration) -> io::Result<()> {
    Ok(())
}

/// `struct sched_attr` as of Linux 3.14 (`SCHED_ATTR_SIZE_VER0`); the utilization-clamp fields
/// added later are optional.
#[cfg(target_os = "linux")]
#[repr(C)]
#[derive(Debug, Default)]
struct SchedAttr {
    size: u32,
    sched_policy: u32,
    sched_flags: u64,
    sched_nice: i32,
    sched_priority: u32,
    sched_runtime: u64,
    sched_deadline: u64,
    sched_period: u64,
}

/// `SCHED_FLAG_RESET_ON_FORK`.
#[cfg(target_os = "linux")]
const RESET_ON_FORK: u64 = 0x01;

#[cfg(target_os = "linux")]
impl SchedAttr {
    const SIZE: u32 = 48;

    /// The calling thread's attributes (`sched_getattr`).
    fn of_this_thread() -> io::Result<Self> {
        let mut attr = SchedAttr::default();
        // SAFETY: `attr` is a valid, writable `struct sched_attr` of the size passed (the
        // original 48-byte layout, which every kernel with the call accepts; the kernel
        // writes at most that much); pid 0 is the calling thread; flags must be 0.
        #[allow(unsafe_code)]
        let got = unsafe {
            libc::syscall(
                libc::SYS_sched_getattr,
                0,
                &raw mut attr,
                SchedAttr::SIZE,
                0,
            )
        };
        if got != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(attr)
    }

    /// Gives the calling thread these attributes (`sched_setattr`).
    fn set_for_this_thread(mut self) -> io::Result<()> {
        self.size = SchedAttr::SIZE;
        // SAFETY: `self` is a valid `struct sched_attr` whose `size` says how much the kernel
        // reads; pid 0 is the calling thread; flags must be 0.
        #[allow(unsafe_code)]
        let set = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &raw const self, 0) };
        if set != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Whether this kernel grants per-thread slices (6.12 and later; 6.6 stable kernels show
    /// `se.slice` too, but ignore what a thread asks for).
    fn custom_slices() -> bool {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        let mut parts = release.split(|c: char| !c.is_ascii_digit());
        let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        (major, minor) >= (6, 12)
    }

    /// The slice this thread runs with, as the kernel shows it (`None` where it grants no
    /// slices of a thread's choosing).
    fn slice_of_this_thread() -> Option<u64> {
        if !custom_slices() {
            return None;
        }
        let sched = std::fs::read_to_string("/proc/thread-self/sched").ok()?;
        let line = sched.lines().find(|l| l.starts_with("se.slice"))?;
        line.split(':').nth(1)?.trim().parse().ok()
    }

    #[test]
    fn reset_on_fork_is_kept() {
        std::thread::spawn(|| {
            let mut attr = SchedAttr::of_this_thread().unwrap();
            // Setting reset-on-fork needs no privilege.
            attr.sched_flags = RESET_ON_FORK;
            attr.set_for_this_thread().unwrap();
            set_for_current_thread(Duration::from_micros(200)).unwrap();
            assert_eq!(
                SchedAttr::of_this_thread().unwrap().sched_flags & RESET_ON_FORK,
                RESET_ON_FORK
            );
        })
        .join()
        .unwrap();
    }

    #[test]
    fn the_layout_is_the_kernels() {
        use std::mem::offset_of;
        assert_eq!(std::mem::size_of::<SchedAttr>(), SchedAttr::SIZE as usize);
        // Offsets from include/uapi/linux/sched/types.h.
        assert_eq!(offset_of!(SchedAttr, sched_policy), 4);
        assert_eq!(offset_of!(SchedAttr, sched_flags), 8);
        assert_eq!(offset_of!(SchedAttr, sched_nice), 16);
        assert_eq!(offset_of!(SchedAttr, sched_priority), 20);
        assert_eq!(offset_of!(SchedAttr, sched_runtime), 24);
        assert_eq!(offset_of!(SchedAttr, sched_deadline), 32);
        assert_eq!(offset_of!(SchedAttr, sched_period), 40);
    }

    /// This thread's nice value, as the kernel shows it (field 19 of its stat line).
    fn nice_of_this_thread() -> i64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        // The command name (field 2) may hold spaces: count from the ')' that ends it.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        after.split(' ').nth(16).unwrap().parse().unwrap()
    }

    #[test]
    fn a_thread_gets_the_slice_it_asks_for_and_keeps_its_nice_value() {
        std::thread::spawn(|| {
            // SAFETY: a plain syscall on the calling thread (who 0); raising one's own nice
            // value needs no privilege.
            #[allow(unsafe_code)]
            let niced = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 3) };
            assert_eq!(niced, 0);
            assert_eq!(nice_of_this_thread(), 3);
            set_for_current_thread(Duration::from_micros(300)).unwrap();
            if let Some(slice) = slice_of_this_thread() {
                assert_eq!(slice, 300_000);
            } else {
                eprintln!("this kernel grants no per-thread slices: only the call was checked");
            }
            assert_eq!(nice_of_this_thread(), 3, "the nice value must be kept");
            // The kernel clamps what it grants to 0.1-100 ms.
            set_for_current_thread(Duration::from_micros(10)).unwrap();
            if let Some(slice) = slice_of_this_thread() {
                assert_eq!(slice, 100_000);
            }
        })
        .join()
        .unwrap();
    }
}
