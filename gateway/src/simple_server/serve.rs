//! One request on a connection: parse, build the environ, run the app through the engine,
//! recover the connection from `wsgi.input`, drain what the app left unread.

use std::io;
use std::net::Shutdown;

use super::socket::Stream;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::body::{BodyProgress, BodyState, RequestInput};
use super::chunked::{ChunkError, ChunkedDecoder};
use super::conn::{CachedApp, Conn, write_all};
use super::environ::fill_environ;
use super::handler::{Exchange, ServerHandler, error_response, escape_log, log_date};
use super::reactor::Shared;
use super::request::{self, Framing, HttpError};
use super::{Request, Settings, WsgiRequestHandler};
use crate::handlers::{Outcome, run_on};
use crate::{App, AppError, Body, Environ, Input, StartResponse};

/// What became of the connection after one request.
#[derive(Debug)]
pub(crate) enum Served {
    /// It may carry another request.
    KeepAlive(Conn),
    /// Its write side is shut (after a last response or an error response): read and discard
    /// for a while, then close.
    Linger(Conn),
    /// The app kept `wsgi.input` (and so the connection) alive; only the table slot is left.
    Lost(u64),
}

/// Parses the head at the start of the buffer and answers it. `single` is `handle_request`:
/// the connection closes after this one request. `head_end` is where the head ends when
/// [`request::arrival`] just found it in the buffer (see [`request::parse_into`]).
pub(crate) fn serve_request(
    shared: &Shared,
    mut conn: Conn,
    single: bool,
    head_end: Option<usize>,
) -> Served {
    let settings = &shared.settings;
    // Before anything can fail: a panic guard reads whether this request's response started.
    conn.fault.reset();
    let fields = scratch::fields();
    let head = match request::parse_into(conn.buf.bytes(), &settings.limits, fields, head_end) {
        Ok(Some(head)) => head,
        // A head that is not complete here overflowed the buffer: the limits reject it.
        Ok(None) => {
            let head = request::is_head_request(conn.buf.bytes());
            let error = HttpError::BadRequest("incomplete request head");
            return reject(settings, conn, &error, head);
        }
        Err(error) => {
            let head = request::is_head_request(conn.buf.bytes());
            return reject(settings, conn, &error, head);
        }
    };
    conn.buf.consume(head.len);
    if head.framing == Framing::Chunked {
        // A chunked body that arrived whole while the connection was parked is checked
        // before the app runs; one still arriving is checked as the app reads it.
        let decoder = ChunkedDecoder::new(settings.limits.max_body);
        let verdict = match decoder.check(conn.buf.bytes()) {
            Err(ChunkError::Malformed(why)) => Some(HttpError::BadRequest(why)),
            Err(ChunkError::TooLarge) => Some(HttpError::PayloadTooLarge),
            Ok(_) => None,
        };
        if let Some(error) = verdict {
            let is_head = head.is_head();
            scratch::put_fields(head.headers);
            return reject(settings, conn, &error, is_head);
        }
    }
    let mut environ = Environ::with_storage(scratch::storage());
    fill_environ(
        &mut environ,
        &head,
        &settings.request_base,
        &conn.peer_vars,
        settings.keep_underscore_headers,
    );
    let hooks = &settings.request_handler;
    if hooks.custom {
        let request = Request {
            method: &head.method,
            target: head.target(),
            version: if head.minor == 0 {
                "HTTP/1.0"
            } else {
                "HTTP/1.1"
            },
            fields: &head.headers,
            peer: conn.peer,
        };
        environ = hooks.handler.get_environ(&request, environ);
    }
    let stderr = hooks.handler.get_stderr(&settings.stderr);
    let request_line = if settings.access_log {
        head.request_line()
    } else {
        String::new()
    };
    let (minor, is_head, peer) = (head.minor, head.is_head(), conn.peer.map(|p| p.ip()));
    let keep_alive = head.keep_alive && !single && !shared.shutdown.load(Ordering::Acquire);
    let app = shared.app_for(&mut conn.app);
    let out = scratch::out();
    let fields = head.headers;
    // Runs the engine on the environ in place and on `stream`, gives the scratch buffers back
    // (the environ's storage too: the caller drops what is left of it, and with it
    // `wsgi.input`), and says whether the connection may carry another request.
    let run = |environ: &mut Environ, stream: &Stream, fault: &BodyProgress| {
        let mut handler = ServerHandler::new(
            stream,
            stderr,
            settings,
            &shared.shutdown,
            Exchange {
                minor,
                head: is_head,
                keep_alive,
                request_line,
                peer,
                fault,
            },
            out,
        );
        handler.prepare(environ);
        // The engine runs on the environ in place; the app behind the hooks only when a
        // request handler was installed (the default's `handle` just calls the app).
        let outcome = if hooks.custom {
            let handled = Handled {
                hooks: &*hooks.handler,
                app: &*app.1,
            };
            run_on(&mut handler, &handled, environ)
        } else {
            run_on(&mut handler, &*app.1, environ)
        };
        let keep_alive = handler.keep_alive() && outcome == Outcome::Complete;
        let out = handler.into_buffer();
        scratch::put_storage(environ.take_storage());
        scratch::put_fields(fields);
        scratch::put_out(out);
        keep_alive
    };
    if head.framing == Framing::Length(0) && !head.expect_continue {
        // No body (most requests): `wsgi.input` is empty and the connection stays here, so
        // the handler borrows it and nothing is shared or handed back.
        let keep_alive = run(&mut environ, &conn.stream, &conn.fault);
        drop(environ);
        return finish(shared, conn, keep_alive, app);
    }
    let (chunked, length) = match head.framing {
        Framing::Chunked => (true, 0),
        Framing::Length(n) => (false, n),
    };
    // A body: `wsgi.input` owns the connection while the app runs, and hands it back through
    // `slot` when the environ is dropped.
    let stream = Arc::clone(&conn.stream);
    let fault = conn.fault.clone();
    let key = conn.key;
    let slot = conn.slot.take().unwrap_or_default();
    let body = BodyState::new(
        conn,
        chunked,
        length,
        head.expect_continue,
        &settings.limits,
        fault.clone(),
    );
    environ.set_input(Input::new(RequestInput::new(body, Arc::clone(&slot))));
    let keep_alive = run(&mut environ, &stream, &fault);
    // Dropping the environ drops `wsgi.input`, which hands the connection back to `slot`.
    drop(environ);
    let body = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
    let Some(mut body) = body else {
        // The app kept wsgi.input alive somewhere: the connection cannot be reused.
        let _ = stream.shutdown(Shutdown::Both);
        return Served::Lost(key);
    };
    if keep_alive
        && !shared.shutdown.load(Ordering::Acquire)
        && !body.drain(settings.limits.max_drain)
    {
        // More unread body than the server drains: close (see `finish`).
        let _ = body.conn.stream.shutdown(Shutdown::Write);
        return Served::Linger(body.conn);
    }
    let mut conn = body.conn;
    conn.slot = Some(slot);
    finish(shared, conn, keep_alive, app)
}

/// The buffers one request needs (its fields, its environ's storage, the response buffer),
/// kept per worker thread rather than per connection (see `crate::spare`): an idle connection
/// holds none of them, and no request allocates them anew. Each waits in a slot of its own,
/// so taking one moves only that buffer.
mod scratch {
    use std::cell::Cell;

    use super::request::Fields;
    use crate::environ::VarStorage;
    use crate::spare::{keep, take};

    /// The most bytes a scratch buffer keeps between requests.
    pub(super) const KEEP_BYTES: usize = 64 * 1024;

    thread_local! {
        static FIELDS: Cell<Option<Fields>> = const { Cell::new(None) };
        static STORAGE: Cell<Option<VarStorage>> = const { Cell::new(None) };
        static OUT: Cell<Option<Vec<u8>>> = const { Cell::new(None) };
    }

    /// This thread's buffer (a new one the first time, or while a request holds it).
    pub(super) fn fields() -> Fields {
        take(&FIELDS)
    }

    pub(super) fn storage() -> VarStorage {
        take(&STORAGE)
    }

    pub(super) fn out() -> Vec<u8> {
        take(&OUT)
    }

    /// Gives a buffer back for the next request on this thread, unless a big request grew it
    /// past what is worth keeping.
    pub(super) fn put_fields(fields: Fields) {
        let bytes = fields.bytes();
        keep(&FIELDS, fields, bytes, KEEP_BYTES);
    }

    pub(super) fn put_storage(storage: VarStorage) {
        let bytes = storage.bytes();
        keep(&STORAGE, storage, bytes, KEEP_BYTES);
    }

    pub(super) fn put_out(out: Vec<u8>) {
        let bytes = out.capacity();
        keep(&OUT, out, bytes, KEEP_BYTES);
    }
}

/// After a response: the connection stays for the next request, or closes.
fn finish(shared: &Shared, mut conn: Conn, keep_alive: bool, app: CachedApp) -> Served {
    if !keep_alive || shared.shutdown.load(Ordering::Acquire) {
        // RFC 9112 §9.6: shut the write side, keep reading for a while, so unread request
        // bytes do not turn the close into a reset that destroys the response.
        let _ = conn.stream.shutdown(Shutdown::Write);
        // Pipelined requests after the last response are not answered: a lingering
        // connection's buffer is dropped before every read.
        return Served::Linger(conn);
    }
    conn.app = Some(app);
    Served::KeepAlive(conn)
}

/// Answers a request that cannot be served with its error status (no body for a `HEAD`),
/// then lingers (what is still buffered is dropped there, never parsed).
fn reject(settings: &Settings, conn: Conn, error: &HttpError, head: bool) -> Served {
    let response = error_response(
        error.status(),
        &error.to_string(),
        &settings.server_software,
        head,
    );
    let _ = write_all(&conn.stream, &response, settings.limits.write_timeout);
    if settings.access_log {
        // Two lines, as the reference logs the errors http.server answers: the reason, then
        // the access line.
        let peer = super::handler::LogPeer(conn.peer.map(|p| p.ip()));
        let (date, code) = (log_date(), &error.status()[..3]);
        let line = format!(
            "{peer} - - [{date}] code {code}, message {}\n{peer} - - [{date}] \"-\" {code} -\n",
            escape_log(&error.to_string()),
        );
        let _ = io::Write::write_all(&mut settings.stderr.clone(), line.as_bytes());
    }
    let _ = conn.stream.shutdown(Shutdown::Write);
    Served::Linger(conn)
}

/// The app as the request handler's [`handle`](WsgiRequestHandler::handle) runs it.
struct Handled<'a> {
    hooks: &'a dyn WsgiRequestHandler,
    app: &'a dyn App,
}

impl App for Handled<'_> {
    fn call(
        &self,
        environ: &mut Environ,
        start_response: &mut StartResponse<'_>,
    ) -> Result<Body, AppError> {
        self.hooks.handle(self.app, environ, start_response)
    }
}

#[cfg(test)]
mod tests {
    use super::scratch::{self, KEEP_BYTES};

    #[test]
    fn scratch_keeps_ordinary_buffers_and_drops_big_ones() {
        scratch::put_out(Vec::with_capacity(1024));
        assert_eq!(scratch::out().capacity(), 1024);
        scratch::put_out(Vec::with_capacity(KEEP_BYTES + 1));
        assert_eq!(scratch::out().capacity(), 0, "a big buffer is not kept");
    }
}
