//! The response body: the iterable of byte chunks an app returns, with `close()`.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;

use crate::AppError;
use crate::util::FileWrapper;

/// One piece of a response body. Static bytes are borrowed, owned bytes moved: no copy either way.
pub type Chunk = Cow<'static, [u8]>;

/// Anything that can be a body [`Chunk`] without copying: byte slices and strings, borrowed
/// for `'static` or owned.
pub trait IntoChunk {
    /// Converts into a chunk.
    fn into_chunk(self) -> Chunk;
}

impl IntoChunk for Chunk {
    fn into_chunk(self) -> Chunk {
        self
    }
}

impl IntoChunk for &'static [u8] {
    fn into_chunk(self) -> Chunk {
        Cow::Borrowed(self)
    }
}

impl<const N: usize> IntoChunk for &'static [u8; N] {
    fn into_chunk(self) -> Chunk {
        Cow::Borrowed(&self[..])
    }
}

impl IntoChunk for &'static str {
    fn into_chunk(self) -> Chunk {
        Cow::Borrowed(self.as_bytes())
    }
}

impl IntoChunk for Vec<u8> {
    fn into_chunk(self) -> Chunk {
        Cow::Owned(self)
    }
}

impl IntoChunk for String {
    fn into_chunk(self) -> Chunk {
        Cow::Owned(self.into_bytes())
    }
}

type ChunkIter = Box<dyn Iterator<Item = Result<Chunk, AppError>> + Send>;

enum Source {
    /// A list of chunks known up front (Python's list or tuple result): its length is known.
    List(VecDeque<Chunk>),
    /// A lazy source (Python's generator): length unknown.
    Iter(ChunkIter),
    /// `wsgi.file_wrapper(file)`: length unknown, but a server may send the file directly.
    File(FileWrapper),
}

/// The body an [`App`](crate::App) returns: an iterator of byte chunks with a
/// [`close`](Body::close) that runs exactly once.
///
/// A body made from a list of chunks knows its [`chunk_count`](Body::chunk_count) (Python's
/// `len(result)`), which is what lets a handler add `Content-Length` to a single-chunk body.
/// A lazy body ([`Body::from_iter`], [`Body::try_from_iter`]) does not. A
/// [`FileWrapper`] body can be recognised ([`Body::file_wrapper_mut`]) and sent with
/// sendfile(2) by a server that wants to.
///
/// `close` is PEP 3333's `result.close()`: servers call it on every path (end of body, app
/// error, client gone, panic). Dropping an unclosed body closes it as a safety net.
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use gateway::Body;
///
/// let closed = Arc::new(AtomicBool::new(false));
/// let flag = closed.clone();
/// let mut body = Body::from_chunks(["Hello, ", "world"])
///     .on_close(move || flag.store(true, Ordering::SeqCst));
/// assert_eq!(body.chunk_count(), Some(2));
/// assert_eq!(body.content_length(), Some(12));
/// let bytes: Vec<u8> = body.by_ref().flat_map(|c| c.unwrap().into_owned()).collect();
/// assert_eq!(bytes, b"Hello, world");
/// body.close();
/// assert!(closed.load(Ordering::SeqCst));
/// ```
pub struct Body {
    source: Source,
    on_close: Vec<Box<dyn FnOnce() + Send>>,
    closed: bool,
}

impl Body {
    fn with_source(source: Source) -> Self {
        Body {
            source,
            on_close: Vec::new(),
            closed: false,
        }
    }

    /// No chunks at all (Python's `[]`).
    pub fn empty() -> Self {
        Body::with_source(Source::List(VecDeque::new()))
    }

    /// Exactly one chunk (Python's `[data]`): a handler can compute its `Content-Length`.
    pub fn once(chunk: impl IntoChunk) -> Self {
        let mut list = VecDeque::with_capacity(1);
        list.push_back(chunk.into_chunk());
        Body::with_source(Source::List(list))
    }

    /// A known list of chunks.
    pub fn from_chunks<I, C>(chunks: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: IntoChunk,
    {
        Body::with_source(Source::List(
            chunks.into_iter().map(IntoChunk::into_chunk).collect(),
        ))
    }

    /// A lazy body of infallible chunks (Python's generator).
    ///
    /// ```
    /// use gateway::Body;
    ///
    /// let body = Body::from_iter((1..=3).map(|i| format!("{i}\n").into_bytes()));
    /// assert_eq!(body.chunk_count(), None);
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn from_iter<I, C>(chunks: I) -> Self
    where
        I: IntoIterator<Item = C>,
        I::IntoIter: Send + 'static,
        C: IntoChunk,
    {
        Body::with_source(Source::Iter(Box::new(
            chunks.into_iter().map(|c| Ok(c.into_chunk())),
        )))
    }

    /// A lazy body whose chunks may fail (a generator that raises).
    pub fn try_from_iter<I, C>(chunks: I) -> Self
    where
        I: IntoIterator<Item = Result<C, AppError>>,
        I::IntoIter: Send + 'static,
        C: IntoChunk,
    {
        Body::with_source(Source::Iter(Box::new(
            chunks.into_iter().map(|c| c.map(IntoChunk::into_chunk)),
        )))
    }

    /// A body that streams a file (what `wsgi.file_wrapper(file, blksize)` returns).
    pub fn file(wrapper: FileWrapper) -> Self {
        Body::with_source(Source::File(wrapper))
    }

    /// Adds an action to run when the body is closed (after any added earlier).
    pub fn on_close(mut self, action: impl FnOnce() + Send + 'static) -> Self {
        self.on_close.push(Box::new(action));
        self
    }

    /// Python's `len(result)`: the number of chunks, when the body is a known list.
    pub fn chunk_count(&self) -> Option<usize> {
        match &self.source {
            Source::List(list) => Some(list.len()),
            Source::Iter(_) | Source::File(_) => None,
        }
    }

    /// The total number of bytes still to come, when known without reading.
    pub fn content_length(&self) -> Option<u64> {
        match &self.source {
            Source::List(list) => Some(list.iter().map(|c| c.len() as u64).sum()),
            Source::Iter(_) | Source::File(_) => None,
        }
    }

    /// The [`FileWrapper`] this body streams, if it is one.
    pub fn file_wrapper_mut(&mut self) -> Option<&mut FileWrapper> {
        match &mut self.source {
            Source::File(wrapper) => Some(wrapper),
            _ => None,
        }
    }

    /// True when this body is a [`FileWrapper`].
    pub fn is_file_wrapper(&self) -> bool {
        matches!(self.source, Source::File(_))
    }

    /// Runs the close actions (and closes a wrapped file). Later calls do nothing.
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        if let Source::File(wrapper) = &mut self.source {
            wrapper.close();
        }
        // Every action runs even if an earlier one panics; the first panic is then resumed.
        let mut first_panic = None;
        for action in self.on_close.drain(..) {
            if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(action)) {
                first_panic.get_or_insert(payload);
            }
        }
        if let Some(payload) = first_panic
            && !std::thread::panicking()
        {
            std::panic::resume_unwind(payload);
        }
    }

    /// True once [`close`](Body::close) has run.
    pub fn is_closed(&self) -> bool {
        self.closed
    }
}

impl Iterator for Body {
    type Item = Result<Chunk, AppError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.source {
            Source::List(list) => list.pop_front().map(Ok),
            Source::Iter(iter) => iter.next(),
            Source::File(wrapper) => match wrapper.read_block() {
                Ok(block) => block.map(|b| Ok(Cow::Owned(b))),
                Err(e) => Some(Err(AppError::from(e))),
            },
        }
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        self.close();
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.source {
            Source::List(_) => "list",
            Source::Iter(_) => "iter",
            Source::File(_) => "file",
        };
        f.debug_struct("Body")
            .field("kind", &kind)
            .field("chunk_count", &self.chunk_count())
            .field("closed", &self.closed)
            .finish()
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

macro_rules! body_from_chunk {
    ($($ty:ty),*) => {$(
        impl From<$ty> for Body {
            /// A single-chunk body.
            fn from(chunk: $ty) -> Self {
                Body::once(chunk)
            }
        }
    )*};
}

body_from_chunk!(&'static [u8], &'static str, Vec<u8>, String, Chunk);

impl<const N: usize> From<&'static [u8; N]> for Body {
    /// A single-chunk body.
    fn from(bytes: &'static [u8; N]) -> Self {
        Body::once(bytes)
    }
}

impl From<FileWrapper> for Body {
    fn from(wrapper: FileWrapper) -> Self {
        Body::file(wrapper)
    }
}
