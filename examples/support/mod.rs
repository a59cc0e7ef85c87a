//! Shared by the examples: a graceful shutdown on SIGINT or SIGTERM.

use std::io;

use gateway::simple_server::ShutdownHandle;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Calls [`ShutdownHandle::shutdown`] on the first SIGINT or SIGTERM, from a thread that waits
/// for signals (a signal handler itself only records the signal).
pub(crate) fn shutdown_on_signals(handle: ShutdownHandle) -> io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            handle.shutdown();
        }
    });
    Ok(())
}
