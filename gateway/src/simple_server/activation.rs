//! [`activated_listener`]: the listening socket a supervisor passed in (systemd socket
//! activation, `LISTEN_FDS`), so a restart loses no connection attempt.

use std::io;
use std::net::TcpListener;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

/// The first descriptor the protocol passes (`SD_LISTEN_FDS_START`).
const FIRST_FD: i32 = 3;

/// Whether this process has taken its passed socket already.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The listening TCP socket passed to this process by systemd's socket-activation protocol
/// (or any supervisor that speaks it: `LISTEN_PID` is this process's id and `LISTEN_FDS` is at
/// least 1, the socket being descriptor 3), or `None` when nothing was passed. The
/// supervisor keeps the socket open while the server restarts, so connection attempts in
/// between wait in its backlog instead of being refused. Taken once per process; a
/// descriptor 3 that is not a listening stream socket is an error.
///
/// [`ServerBuilder::serve`](super::ServerBuilder::serve) (and so [`serve`](crate::serve))
/// uses it when present, instead of binding its address.
///
/// ```
/// // Not started by a supervisor: nothing was passed.
/// assert!(gateway::simple_server::activated_listener()?.is_none());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn activated_listener() -> io::Result<Option<TcpListener>> {
    let ours = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|pid| pid.trim().parse::<u32>().ok())
        == Some(std::process::id());
    let count = match std::env::var("LISTEN_FDS") {
        Ok(count) if ours => count.trim().parse::<u32>().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("LISTEN_FDS={count:?} is not a number of descriptors"),
            )
        })?,
        _ => return Ok(None),
    };
    if count == 0 || TAKEN.swap(true, Ordering::SeqCst) {
        return Ok(None);
    }
    // SAFETY: LISTEN_PID names this process and LISTEN_FDS >= 1, so by the protocol
    // descriptor 3 is open and handed to this process to own; TAKEN makes sure it is wrapped
    // in an OwnedFd only once.
    #[allow(unsafe_code)]
    let fd = unsafe { OwnedFd::from_raw_fd(FIRST_FD) };
    let kind = rustix::net::sockopt::socket_type(&fd).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("LISTEN_FDS: descriptor 3 is not a socket ({e})"),
        )
    })?;
    let listening = rustix::net::sockopt::socket_acceptconn(&fd).unwrap_or(false);
    if kind != rustix::net::SocketType::STREAM || !listening {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "LISTEN_FDS: descriptor 3 is not a listening stream socket",
        ));
    }
    // Not passed on to the app's child processes.
    rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::CLOEXEC)?;
    Ok(Some(TcpListener::from(fd)))
}
