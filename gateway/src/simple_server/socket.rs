//! The sockets the server listens on and talks through: TCP (IPv4, IPv6) or a Unix domain
//! socket, behind one small type each so the reactor and the handler do not care which.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::Duration;

use rustix::net::{RecvFlags, SendFlags};

/// A listening socket.
#[derive(Debug)]
pub(crate) enum Listener {
    Tcp(TcpListener),
    /// A Unix domain socket, and the file the server made for it (none when it was passed
    /// in by a supervisor).
    Unix(UnixListener, Option<super::UnixPath>),
}

impl Listener {
    /// The next connection and, for TCP, the peer's address (`TCP_NODELAY` set).
    pub(crate) fn accept(&self) -> io::Result<(Stream, Option<SocketAddr>)> {
        match self {
            Listener::Tcp(listener) => {
                let (stream, peer) = listener.accept()?;
                let _ = stream.set_nodelay(true);
                Ok((Stream::Tcp(stream), Some(peer)))
            }
            Listener::Unix(listener, _) => {
                let (stream, _) = listener.accept()?;
                Ok((Stream::Unix(stream), None))
            }
        }
    }

    pub(crate) fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        match self {
            Listener::Tcp(listener) => listener.set_nonblocking(nonblocking),
            Listener::Unix(listener, _) => listener.set_nonblocking(nonblocking),
        }
    }
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Listener::Tcp(listener) => listener.as_fd(),
            Listener::Unix(listener, _) => listener.as_fd(),
        }
    }
}

/// A client connection.
#[derive(Debug)]
pub(crate) enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self {
            Stream::Tcp(stream) => stream.shutdown(how),
            Stream::Unix(stream) => stream.shutdown(how),
        }
    }

    pub(crate) fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        match self {
            Stream::Tcp(stream) => stream.set_nonblocking(nonblocking),
            Stream::Unix(stream) => stream.set_nonblocking(nonblocking),
        }
    }
}

// Every read and write says "don't wait" itself (`MSG_DONTWAIT`), whatever the socket's mode:
// a connection's socket turns blocking when a worker waits on it for its next request (see
// [`Stream::wait_read`]), and every other read and write must still return at once.
impl Read for &Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (n, _) = rustix::net::recv(&**self, buf, RecvFlags::DONTWAIT)?;
        Ok(n)
    }
}

impl Write for &Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(rustix::net::send(
            &**self,
            buf,
            SendFlags::DONTWAIT | SendFlags::NOSIGNAL,
        )?)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Stream {
    /// Makes the socket blocking, with `wait` as the longest a [`wait_read`](Self::wait_read)
    /// waits, and the same as the longest a blocking send (`sendfile`, the one write without
    /// `MSG_DONTWAIT`) waits for room before it returns what it sent: its caller then waits
    /// in `poll`, which keeps the write deadline. The kernel counts both timeouts in
    /// scheduler ticks and waits one to two of them (4-8 ms at `HZ=250`).
    pub(crate) fn set_waiting(&self, wait: Duration) -> io::Result<()> {
        use rustix::net::sockopt::{Timeout, set_socket_timeout};
        set_socket_timeout(self, Timeout::Recv, Some(wait))?;
        set_socket_timeout(self, Timeout::Send, Some(wait))?;
        Ok(rustix::io::ioctl_fionbio(self, false)?)
    }

    /// One read that waits up to the time set by [`set_waiting`](Self::set_waiting) for
    /// bytes (`WouldBlock` when none came; on a non-blocking socket it returns at once).
    pub(crate) fn wait_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let (n, _) = rustix::net::recv(self, buf, RecvFlags::empty())?;
        Ok(n)
    }
}

impl AsFd for Stream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Stream::Tcp(stream) => stream.as_fd(),
            Stream::Unix(stream) => stream.as_fd(),
        }
    }
}
