//! `wsgiref.util.FileWrapper`: a file-like object turned into an iterable of blocks.

use std::any::Any;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};

/// The default block size, as in the reference.
///
/// ```
/// use gateway::util::{FileWrapper, DEFAULT_BLKSIZE};
///
/// assert_eq!(DEFAULT_BLKSIZE, 8192);
/// assert_eq!(FileWrapper::new(std::io::empty(), 0).blksize(), DEFAULT_BLKSIZE);
/// ```
pub const DEFAULT_BLKSIZE: usize = 8192;

enum Source {
    File(File),
    Reader(Box<dyn Read + Send>),
    Closed,
}

/// Iterates over a reader in blocks of `blksize` bytes (`wsgi.file_wrapper`).
///
/// Each block is one `read` of up to `blksize` bytes; an empty read ends the iteration. As in
/// the reference there is no "exhausted" flag (a source that has more after an empty read is
/// read again) and reaching the end does not close the source; [`close`](FileWrapper::close)
/// does (dropping it). Over a real [`File`] a server may send the rest of the file with
/// sendfile(2) instead of iterating: [`as_file`](FileWrapper::as_file) tells it the file.
///
/// ```
/// use gateway::util::FileWrapper;
///
/// let mut wrapper = FileWrapper::new(&b"abcdefghij"[..], 4);
/// let blocks: Vec<Vec<u8>> = wrapper.by_ref().map(Result::unwrap).collect();
/// assert_eq!(blocks, [b"abcd".to_vec(), b"efgh".to_vec(), b"ij".to_vec()]);
/// wrapper.close();
/// ```
pub struct FileWrapper {
    source: Source,
    blksize: usize,
}

impl FileWrapper {
    /// Wraps a reader. A [`File`] given here is recognised as a file, so it can be sendfiled.
    /// A `blksize` of 0 is taken as [`DEFAULT_BLKSIZE`].
    ///
    /// ```
    /// use std::io::Cursor;
    /// use gateway::util::FileWrapper;
    ///
    /// let mut wrapper = FileWrapper::new(Cursor::new(vec![7; 10]), 6);
    /// assert_eq!(wrapper.read_block()?.map(|b| b.len()), Some(6));
    /// assert_eq!(wrapper.read_block()?.map(|b| b.len()), Some(4));
    /// assert!(wrapper.as_file().is_none()); // a reader, not a file
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new<R: Read + Send + 'static>(reader: R, blksize: usize) -> Self {
        let mut slot = Some(reader);
        let source = match (&mut slot as &mut dyn Any).downcast_mut::<Option<File>>() {
            Some(file) => file.take().map_or(Source::Closed, Source::File),
            None => slot.map_or(Source::Closed, |r| Source::Reader(Box::new(r))),
        };
        let blksize = if blksize == 0 {
            DEFAULT_BLKSIZE
        } else {
            blksize
        };
        FileWrapper { source, blksize }
    }

    /// Wraps a reader with the default block size of 8192.
    ///
    /// ```
    /// use gateway::util::FileWrapper;
    ///
    /// let wrapper = FileWrapper::with_default_blksize(&[0_u8; 10_000][..]);
    /// assert_eq!(wrapper.blksize(), 8192);
    /// assert_eq!(wrapper.map(|b| b.unwrap().len()).collect::<Vec<_>>(), [8192, 1808]);
    /// ```
    pub fn with_default_blksize<R: Read + Send + 'static>(reader: R) -> Self {
        FileWrapper::new(reader, DEFAULT_BLKSIZE)
    }

    /// The block size.
    ///
    /// ```
    /// use gateway::util::FileWrapper;
    ///
    /// assert_eq!(FileWrapper::new(std::io::empty(), 512).blksize(), 512);
    /// ```
    pub fn blksize(&self) -> usize {
        self.blksize
    }

    /// The wrapped file, when the source is a real file (and not yet closed).
    ///
    /// ```
    /// use std::fs::File;
    /// use gateway::util::FileWrapper;
    ///
    /// let path = std::env::temp_dir().join(format!("gateway-doc-{}.txt", std::process::id()));
    /// std::fs::write(&path, b"file contents")?;
    /// let mut wrapper = FileWrapper::new(File::open(&path)?, 0);
    /// assert_eq!(wrapper.as_file().unwrap().metadata()?.len(), 13); // what sendfile needs
    /// wrapper.close();
    /// assert!(wrapper.as_file().is_none());
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn as_file(&mut self) -> Option<&mut File> {
        match &mut self.source {
            Source::File(file) => Some(file),
            _ => None,
        }
    }

    /// Reads the next block: `Ok(None)` at the end (an empty read) or after `close`.
    ///
    /// ```
    /// use gateway::util::FileWrapper;
    ///
    /// let mut wrapper = FileWrapper::new(&b"abc"[..], 2);
    /// assert_eq!(wrapper.read_block()?, Some(b"ab".to_vec()));
    /// assert_eq!(wrapper.read_block()?, Some(b"c".to_vec()));
    /// assert_eq!(wrapper.read_block()?, None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn read_block(&mut self) -> io::Result<Option<Vec<u8>>> {
        let reader: &mut dyn Read = match &mut self.source {
            Source::File(file) => file,
            Source::Reader(reader) => reader,
            Source::Closed => return Ok(None),
        };
        let mut block = vec![0; self.blksize];
        let n = loop {
            match reader.read(&mut block) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            return Ok(None);
        }
        block.truncate(n);
        Ok(Some(block))
    }

    /// Closes the source (drops the reader). Later reads yield nothing.
    ///
    /// ```
    /// use gateway::util::FileWrapper;
    ///
    /// let mut wrapper = FileWrapper::new(&b"never read"[..], 4);
    /// assert!(!wrapper.is_closed());
    /// wrapper.close();
    /// assert!(wrapper.is_closed());
    /// assert_eq!(wrapper.read_block()?, None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn close(&mut self) {
        self.source = Source::Closed;
    }

    /// True once closed (example at [`close`](FileWrapper::close)).
    pub fn is_closed(&self) -> bool {
        matches!(self.source, Source::Closed)
    }
}

impl Iterator for FileWrapper {
    type Item = io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.read_block().transpose()
    }
}

impl fmt::Debug for FileWrapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match self.source {
            Source::File(_) => "file",
            Source::Reader(_) => "reader",
            Source::Closed => "closed",
        };
        f.debug_struct("FileWrapper")
            .field("source", &source)
            .field("blksize", &self.blksize)
            .finish()
    }
}
