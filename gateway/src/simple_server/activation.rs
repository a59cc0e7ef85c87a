//! [`activated_listener`]: the listening socket a supervisor passed in (systemd socket
//! activation, `LISTEN_FDS`), so a restart loses no connection attempt.

use std::io;
use std::net::TcpListener;
use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicBool, Ordering};

use super::socket::Listener;

/// The first descriptor the protocol passes (`SD_LISTEN_FDS_START`).
const FIRST_FD: i32 = 3;

/// Whether this process has taken its passed socket already.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The listening TCP socket passed to this process by systemd's socket-activation protocol
/// (or any supervisor that speaks it: `LISTEN_PID` is this process's id and `LISTEN_FDS` is at
/// least 1, the socket being descriptor 3), or `None` when nothing was passed. The
/// supervisor keeps the socket open while the server restarts, so connection attempts in
/// between wait in its backlog instead of being refused. Taken once per process; a
/// descriptor 3 that is not an open, listening stream socket is an error (and is left
/// alone). A passed Unix domain socket is served by [`ServerBuilder::serve`](super::ServerBuilder::serve);
/// this function, which returns TCP listeners, reports it as an error.
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
    match activated()? {
        None => Ok(None),
        Some(Listener::Tcp(listener)) => Ok(Some(listener)),
        Some(Listener::Unix(..)) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "LISTEN_FDS passed a Unix domain socket: ServerBuilder::serve serves it",
        )),
    }
}

/// The passed socket, TCP or Unix (see [`activated_listener`]).
pub(crate) fn activated() -> io::Result<Option<Listener>> {
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
    let refuse =
        |why: String| io::Error::new(io::ErrorKind::InvalidInput, format!("LISTEN_FDS: {why}"));
    // Checked through a borrow first, so that a descriptor that is not what the protocol
    // promises is neither owned nor closed.
    // SAFETY: the borrow lives only in this block; `fcntl(F_GETFD)` fails harmlessly with
    // EBADF on a descriptor that is not open, and no other call is made before it succeeds.
    #[allow(unsafe_code)]
    let borrowed = unsafe { BorrowedFd::borrow_raw(FIRST_FD) };
    rustix::io::fcntl_getfd(borrowed)
        .map_err(|e| refuse(format!("descriptor 3 is not open ({e})")))?;
    let kind = rustix::net::sockopt::socket_type(borrowed)
        .map_err(|e| refuse(format!("descriptor 3 is not a socket ({e})")))?;
    let listening = rustix::net::sockopt::socket_acceptconn(borrowed).unwrap_or(false);
    if kind != rustix::net::SocketType::STREAM || !listening {
        return Err(refuse(
            "descriptor 3 is not a listening stream socket".into(),
        ));
    }
    let domain = rustix::net::sockopt::socket_domain(borrowed)
        .map_err(|e| refuse(format!("descriptor 3's address family: {e}")))?;
    // SAFETY: LISTEN_PID names this process and LISTEN_FDS >= 1, so by the protocol
    // descriptor 3 is handed to this process to own; it was just checked to be an open,
    // listening stream socket, and TAKEN makes sure it is owned only once.
    #[allow(unsafe_code)]
    let fd = unsafe { OwnedFd::from_raw_fd(FIRST_FD) };
    // Not passed on to the app's child processes.
    rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::CLOEXEC)?;
    Ok(Some(if domain == rustix::net::AddressFamily::UNIX {
        Listener::Unix(UnixListener::from(fd), None)
    } else {
        Listener::Tcp(TcpListener::from(fd))
    }))
}
