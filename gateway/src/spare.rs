//! One spare buffer per thread for what every response allocates: the status text and the
//! response [`Headers`].
//!
//! A handler's [`reset`](crate::handlers::HandlerState::reset) hands them back here, and the
//! next `start_response` on the same thread refills them instead of allocating (a server
//! worker answers request after request on one thread, so the pair is reused for good).
//! Buffers grown past [`KEEP_BYTES`] are dropped rather than kept.

use std::cell::Cell;

use crate::Headers;

/// The most bytes a spare buffer keeps between responses.
const KEEP_BYTES: usize = 4 * 1024;

thread_local! {
    static STATUS: Cell<String> = const { Cell::new(String::new()) };
    static HEADERS: Cell<Option<Headers>> = const { Cell::new(None) };
}

// `try_with` throughout: a handler reset from a thread-local's destructor at thread exit must
// not panic when these are gone already (it allocates, or drops, instead).

/// `text` in this thread's spare string (a new one when there is none).
pub(crate) fn status(text: &str) -> String {
    let mut status = STATUS.try_with(Cell::take).unwrap_or_default();
    status.clear();
    status.push_str(text);
    status
}

/// This thread's spare headers, empty (new ones when there are none).
pub(crate) fn headers() -> Headers {
    HEADERS
        .try_with(Cell::take)
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Keeps a status string and headers that are done with for the next response.
pub(crate) fn give_back(status: Option<String>, headers: Option<Headers>) {
    if let Some(status) = status.filter(|s| s.capacity() <= KEEP_BYTES) {
        let _ = STATUS.try_with(|spare| spare.set(status));
    }
    if let Some(mut headers) = headers.filter(|h| h.capacity_bytes() <= KEEP_BYTES) {
        headers.clear();
        let _ = HEADERS.try_with(|spare| spare.set(Some(headers)));
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
