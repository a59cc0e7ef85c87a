//! Spare buffers per thread, so what every request or response allocates is allocated once
//! per worker thread rather than once per request.
//!
//! A slot is a thread-local `Cell<Option<T>>`: [`take`] empties it (or makes a new value),
//! [`keep`] fills it again unless the buffer grew past what is worth holding for good. The
//! server's per-request scratch buffers (`simple_server::serve`) live in such slots, and so do
//! the status text and response [`Headers`] here: a handler's
//! [`reset`](crate::handlers::HandlerState::reset) hands them back, and the next
//! `start_response` on the same thread refills them.
//!
//! `try_with` throughout: a handler reset from a thread-local's destructor at thread exit must
//! not panic when the slots are gone already (it allocates, or drops, instead).

use std::cell::Cell;
use std::thread::LocalKey;

use crate::Headers;

/// A thread-local slot for one spare buffer.
pub(crate) type Slot<T> = LocalKey<Cell<Option<T>>>;

/// The buffer waiting in `slot` on this thread, or a new one.
pub(crate) fn take<T: Default>(slot: &'static Slot<T>) -> T {
    slot.try_with(Cell::take).ok().flatten().unwrap_or_default()
}

/// Keeps `buffer` in `slot` for the next [`take`] on this thread, unless it holds more than
/// `limit` bytes (`bytes`), which a thread would otherwise hold for good.
pub(crate) fn keep<T>(slot: &'static Slot<T>, buffer: T, bytes: usize, limit: usize) {
    if bytes <= limit {
        let _ = slot.try_with(|cell| cell.set(Some(buffer)));
    }
}

/// The most bytes a spare status or header set keeps between responses.
const KEEP_BYTES: usize = 4 * 1024;

thread_local! {
    static STATUS: Cell<Option<String>> = const { Cell::new(None) };
    static HEADERS: Cell<Option<Headers>> = const { Cell::new(None) };
}

/// `text` in this thread's spare string (a new one when there is none).
pub(crate) fn status(text: &str) -> String {
    let mut status = take(&STATUS);
    status.clear();
    status.push_str(text);
    status
}

/// This thread's spare headers, empty (new ones when there are none).
pub(crate) fn headers() -> Headers {
    take(&HEADERS)
}

/// Keeps a status string and headers that are done with for the next response.
pub(crate) fn give_back(status: Option<String>, headers: Option<Headers>) {
    if let Some(status) = status {
        let bytes = status.capacity();
        keep(&STATUS, status, bytes, KEEP_BYTES);
    }
    if let Some(mut headers) = headers {
        headers.clear();
        let bytes = headers.capacity_bytes();
        keep(&HEADERS, headers, bytes, KEEP_BYTES);
    }
}

#[cfg(test)]
mod tests {
    use super::{KEEP_BYTES, give_back, headers, status};
    use crate::Headers;

    #[test]
    fn buffers_given_back_are_reused_empty() {
        let mut h = Headers::from_pairs([("A", "b")]).unwrap();
        h.set("C", "d").unwrap();
        let text = status("200 OK");
        let text_at = text.as_ptr();
        give_back(Some(text), Some(h));
        let again = status("404 Not Found");
        assert_eq!(again, "404 Not Found");
        assert_eq!(again.as_ptr(), text_at, "the same allocation, refilled");
        let spare = headers();
        assert!(spare.is_empty());
        assert!(spare.capacity_bytes() > 0, "the allocation was kept");
        assert_eq!(headers().capacity_bytes(), 0, "one spare only");
    }

    #[test]
    fn big_buffers_are_not_kept() {
        let big = "x".repeat(KEEP_BYTES + 1);
        give_back(
            Some(big.clone()),
            Some(Headers::from_pairs([("X", &big)]).unwrap()),
        );
        assert_eq!(status("").capacity(), 0);
        assert_eq!(headers().capacity_bytes(), 0);
    }
}
