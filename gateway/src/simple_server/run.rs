//! [`serve`](super::serve): bind, say where, serve until SIGINT or SIGTERM, drain, say so.

use std::io::{self, Write as _};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use super::{ServerBuilder, WsgiServer};
use crate::App;

/// Splits `host:port` (`[::1]:8000` for IPv6) into its parts.
fn split_address(address: &str) -> io::Result<(&str, u16)> {
    let invalid = || {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "cannot serve on {address:?}: expected HOST:PORT, like \"127.0.0.1:8000\" or \"[::1]:8000\""
            ),
        )
    };
    let (host, port) = address.rsplit_once(':').ok_or_else(invalid)?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let port = port.parse().map_err(|_| invalid())?;
    Ok((host, port))
}

impl ServerBuilder {
    /// Binds `address` (`HOST:PORT`), prints the URL, and serves `app` until SIGINT (Ctrl-C)
    /// or SIGTERM; then stops accepting, finishes the requests in flight (up to the
    /// [shutdown timeout](ServerBuilder::shutdown_timeout)) and returns. "shutting down" and
    /// "stopped" go to the server's stderr. A second signal exits the process at once.
    ///
    /// Started by systemd socket activation (`LISTEN_FDS`), it serves the socket it was
    /// passed instead of binding `address` ([`activated_listener`](super::activated_listener)).
    pub fn serve(self, address: &str, app: impl App + 'static) -> io::Result<()> {
        let (host, port) = split_address(address)?;
        let timeout = self.shutdown_timeout;
        let server = match super::activation::activated()? {
            Some(listener) => self.build(listener, app, false)?,
            None => self.bind(host, port, app)?,
        };
        serve_until_signalled(&server, timeout)
    }
}

fn serve_until_signalled(server: &WsgiServer, timeout: std::time::Duration) -> io::Result<()> {
    let mut log = server.shared.settings.stderr.clone();
    let url = format!("http://{}/", server.server_address());
    let _ = writeln!(log, "gateway: serving on {url} (Ctrl-C to stop)");
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    let signals_handle = signals.handle();
    let handle = server.shutdown_handle();
    let mut watcher_log = log.clone();
    let watcher = std::thread::Builder::new()
        .name("gateway-signals".into())
        .spawn(move || {
            let mut forever = signals.forever();
            let Some(signal) = forever.next() else { return };
            let name = if signal == SIGINT {
                "SIGINT"
            } else {
                "SIGTERM"
            };
            let _ = writeln!(
                watcher_log,
                "gateway: {name}: shutting down (finishing requests in flight, up to {timeout:?}; \
                 another signal stops at once)"
            );
            handle.shutdown();
            if forever.next().is_some() {
                let _ = writeln!(watcher_log, "gateway: second signal: stopping now");
                std::process::exit(130);
            }
        })?;
    let served = server.serve_forever();
    signals_handle.close();
    let _ = watcher.join();
    let _ = writeln!(log, "gateway: stopped");
    served
}

#[cfg(test)]
mod tests {
    use super::split_address;

    #[test]
    fn addresses() {
        assert_eq!(
            split_address("127.0.0.1:8000").unwrap(),
            ("127.0.0.1", 8000)
        );
        assert_eq!(split_address("[::1]:80").unwrap(), ("::1", 80));
        assert_eq!(split_address("localhost:0").unwrap(), ("localhost", 0));
        let error = split_address("8000").unwrap_err().to_string();
        assert!(error.contains("expected HOST:PORT"), "{error}");
        assert!(split_address("a:port").is_err());
    }
}
