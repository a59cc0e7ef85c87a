//! `wsgiref.util.FileWrapper`: a file-like object turned into an iterable of blocks.

use std::any::Any;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};

/// The default block size, as in the reference.
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
    pub fn with_default_blksize<R: Read + Send + 'static>(reader: R) -> Self {
        FileWrapper::new(reader, DEFAULT_BLKSIZE)
    }

    /// The block size.
    pub fn blksize(&self) -> usize {
        self.blksize
    }

    /// The wrapped file, when the source is a real file (and not yet closed).
    pub fn as_file(&mut self) -> Option<&mut File> {
        match &mut self.source {
            Source::File(file) => Some(file),
            _ => None,
        }
    }

    /// Reads the next block: `Ok(None)` at the end (an empty read) or after `close`.
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
    pub fn close(&mut self) {
        self.source = Source::Closed;
    }

    /// True once closed.
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
