//! The response body: the iterable of byte chunks an app returns, with `close()`.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;

use crate::AppError;
use crate::util::FileWrapper;

/// One piece of a response body. Static bytes are borrowed, owned bytes moved: no copy either way.
///
/// ```
/// use std::borrow::Cow;
/// use gateway::{Body, Chunk};
///
/// let chunks: Vec<Chunk> = vec![Cow::Borrowed(b"static, "), Cow::Owned(b"owned".to_vec())];
/// let mut body = Body::from_chunks(chunks);
/// assert!(matches!(body.next().unwrap()?, Cow::Borrowed(b"static, ")));
/// assert_eq!(body.next().unwrap()?, &b"owned"[..]);
/// # Ok::<(), gateway::AppError>(())
/// ```
pub type Chunk = Cow<'static, [u8]>;

/// Anything that can be a body [`Chunk`] without copying: byte slices and strings, borrowed
/// for `'static` or owned.
///
/// ```
/// use gateway::{Body, IntoChunk};
///
/// /// Wraps any text or bytes in a page, without copying them.
/// fn page(content: impl IntoChunk) -> Body {
///     Body::from_chunks([b"<p>".into_chunk(), content.into_chunk(), b"</p>".into_chunk()])
/// }
/// assert_eq!(page("hi").content_length(), Some(9));
/// assert_eq!(page(format!("{}", 42)).content_length(), Some(9));
/// ```
pub trait IntoChunk {
    /// Converts into a chunk.
    ///
    /// ```
    /// use std::borrow::Cow;
    /// use gateway::IntoChunk;
    ///
    /// assert!(matches!("static text".into_chunk(), Cow::Borrowed(b"static text")));
    /// assert!(matches!(b"static bytes".into_chunk(), Cow::Borrowed(_)));
    /// assert!(matches!(String::from("owned").into_chunk(), Cow::Owned(_)));
    /// assert_eq!(vec![1, 2].into_chunk(), &[1, 2][..]);
    /// ```
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
    /// Exactly one chunk (until it is taken): the common case, without a list to allocate.
    Once(Option<Chunk>),
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
    /// Runs when the body is dropped without `close()` (the validator reports it).
    unclosed_drop: Option<Box<dyn FnOnce() + Send>>,
    closed: bool,
}

impl Body {
    fn with_source(source: Source) -> Self {
        Body {
            source,
            on_close: Vec::new(),
            unclosed_drop: None,
            closed: false,
        }
    }

    /// No chunks at all (Python's `[]`).
    ///
    /// ```
    /// use gateway::Body;
    ///
    /// let mut body = Body::empty();
    /// assert_eq!((body.chunk_count(), body.content_length()), (Some(0), Some(0)));
    /// assert!(body.next().is_none());
    /// ```
    pub fn empty() -> Self {
        Body::with_source(Source::List(VecDeque::new()))
    }

    /// Exactly one chunk (Python's `[data]`): a handler can compute its `Content-Length`.
    ///
    /// ```
    /// use gateway::{app_fn, Body};
    /// use gateway::test::{run_app, EnvironBuilder};
    ///
    /// assert_eq!(Body::once("hello").chunk_count(), Some(1));
    /// let app = app_fn(|_env, sr| {
    ///     sr.start("200 OK", [("Content-Type", "text/plain")])?;
    ///     Ok(Body::once("hello"))
    /// });
    /// assert_eq!(run_app(&app, EnvironBuilder::new().build()).header("Content-Length"), Some("5"));
    /// ```
    pub fn once(chunk: impl IntoChunk) -> Self {
        Body::with_source(Source::Once(Some(chunk.into_chunk())))
    }

    /// A known list of chunks.
    ///
    /// ```
    /// use gateway::Body;
    ///
    /// let body = Body::from_chunks(vec![b"ab".to_vec(), b"cde".to_vec()]);
    /// assert_eq!((body.chunk_count(), body.content_length()), (Some(2), Some(5)));
    /// let chunks: Vec<_> = body.map(|c| c.unwrap().into_owned()).collect();
    /// assert_eq!(chunks, [b"ab".to_vec(), b"cde".to_vec()]);
    /// ```
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
    ///
    /// ```
    /// use gateway::{AppError, Body};
    ///
    /// let rows: Vec<Result<&str, AppError>> = vec![Ok("row 1\n"), Err("lost the database".into())];
    /// let mut body = Body::try_from_iter(rows);
    /// assert_eq!(&body.next().unwrap()?[..], b"row 1\n");
    /// assert_eq!(body.next().unwrap().unwrap_err().to_string(), "lost the database");
    /// # Ok::<(), AppError>(())
    /// ```
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
    ///
    /// ```
    /// use gateway::Body;
    /// use gateway::util::FileWrapper;
    ///
    /// let body = Body::file(FileWrapper::new(&b"0123456789"[..], 4));
    /// assert!(body.is_file_wrapper());
    /// assert_eq!(body.chunk_count(), None); // not known without reading
    /// let blocks: Vec<_> = body.map(|c| c.unwrap().len()).collect();
    /// assert_eq!(blocks, [4, 4, 2]);
    /// ```
    pub fn file(wrapper: FileWrapper) -> Self {
        Body::with_source(Source::File(wrapper))
    }

    /// Adds an action to run when the body is closed (after any added earlier).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use gateway::Body;
    ///
    /// let log = Arc::new(Mutex::new(Vec::new()));
    /// let (first, second) = (log.clone(), log.clone());
    /// let body = Body::from("data")
    ///     .on_close(move || first.lock().unwrap().push("release lock"))
    ///     .on_close(move || second.lock().unwrap().push("close cursor"));
    /// drop(body); // an unclosed body is closed when dropped
    /// assert_eq!(*log.lock().unwrap(), ["release lock", "close cursor"]);
    /// ```
    pub fn on_close(mut self, action: impl FnOnce() + Send + 'static) -> Self {
        self.on_close.push(Box::new(action));
        self
    }

    /// Python's `len(result)`: the number of chunks, when the body is a known list.
    ///
    /// ```
    /// use gateway::Body;
    ///
    /// assert_eq!(Body::from_chunks(["a", "b", "c"]).chunk_count(), Some(3));
    /// assert_eq!(Body::from_iter(["a", "b", "c"]).chunk_count(), None);
    /// ```
    pub fn chunk_count(&self) -> Option<usize> {
        match &self.source {
            Source::Once(chunk) => Some(usize::from(chunk.is_some())),
            Source::List(list) => Some(list.len()),
            Source::Iter(_) | Source::File(_) => None,
        }
    }

    /// The total number of bytes still to come, when known without reading.
    ///
    /// ```
    /// use gateway::Body;
    ///
    /// let mut body = Body::from_chunks(["abc", "de"]);
    /// assert_eq!(body.content_length(), Some(5));
    /// body.next();
    /// assert_eq!(body.content_length(), Some(2));
    /// assert_eq!(Body::from_iter(["abc"]).content_length(), None);
    /// ```
    pub fn content_length(&self) -> Option<u64> {
        match &self.source {
            Source::Once(chunk) => Some(chunk.as_ref().map_or(0, |c| c.len() as u64)),
            Source::List(list) => Some(list.iter().map(|c| c.len() as u64).sum()),
            Source::Iter(_) | Source::File(_) => None,
        }
    }

    /// The [`FileWrapper`] this body streams, if it is one.
    ///
    /// This is how a server finds a file to send with sendfile(2).
    ///
    /// ```
    /// use gateway::Body;
    /// use gateway::util::FileWrapper;
    ///
    /// let mut body = Body::from(FileWrapper::new(&b"data"[..], 1024));
    /// assert!(body.is_file_wrapper());
    /// assert_eq!(body.file_wrapper_mut().map(|w| w.blksize()), Some(1024));
    /// assert!(Body::from("text").file_wrapper_mut().is_none());
    /// ```
    pub fn file_wrapper_mut(&mut self) -> Option<&mut FileWrapper> {
        match &mut self.source {
            Source::File(wrapper) => Some(wrapper),
            _ => None,
        }
    }

    /// True when this body is a [`FileWrapper`] (example at
    /// [`file_wrapper_mut`](Body::file_wrapper_mut)).
    pub fn is_file_wrapper(&self) -> bool {
        matches!(self.source, Source::File(_))
    }

    /// Runs the close actions (and closes a wrapped file). Later calls do nothing.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use gateway::Body;
    ///
    /// let closes = Arc::new(AtomicUsize::new(0));
    /// let counter = closes.clone();
    /// let mut body = Body::from("data").on_close(move || { counter.fetch_add(1, Ordering::SeqCst); });
    /// assert!(!body.is_closed());
    /// body.close();
    /// body.close();
    /// drop(body);
    /// assert_eq!(closes.load(Ordering::SeqCst), 1);
    /// ```
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

    /// True once [`close`](Body::close) has run (example there).
    pub fn is_closed(&self) -> bool {
        self.closed
    }
}

impl Iterator for Body {
    type Item = Result<Chunk, AppError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.source {
            Source::Once(chunk) => chunk.take().map(Ok),
            Source::List(list) => list.pop_front().map(Ok),
            Source::Iter(iter) => iter.next(),
            Source::File(wrapper) => match wrapper.read_block() {
                Ok(block) => block.map(|b| Ok(Cow::Owned(b))),
                Err(e) => Some(Err(AppError::from(e))),
            },
        }
    }
}

impl Body {
    /// `action` runs if the body is dropped without [`close`](Body::close) having been
    /// called (before the drop closes it).
    pub(crate) fn set_unclosed_drop(&mut self, action: impl FnOnce() + Send + 'static) {
        self.unclosed_drop = Some(Box::new(action));
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        if !self.closed
            && let Some(action) = self.unclosed_drop.take()
        {
            action();
        }
        self.close();
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.source {
            Source::Once(_) | Source::List(_) => "list",
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
