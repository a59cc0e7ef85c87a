//! PEP 3333's "bytes in unicode": request bytes travel as strings whose every character is
//! one byte (U+0000..=U+00FF), the way a server decodes them as ISO-8859-1.
//!
//! ```
//! use gateway::latin1;
//!
//! let s = latin1::decode(b"/caf\xc3\xa9");
//! assert_eq!(s, "/caf\u{c3}\u{a9}");
//! assert_eq!(latin1::encode(&s).unwrap(), b"/caf\xc3\xa9");
//! assert_eq!(latin1::to_utf8(&s).unwrap(), "/café");
//! assert!(latin1::encode("\u{20ac}").is_err());
//! ```

use std::fmt;

/// Decodes bytes as ISO-8859-1: each byte becomes the character with the same code point.
///
/// ```
/// use gateway::latin1;
///
/// assert_eq!(latin1::decode(b"plain"), "plain");
/// assert_eq!(latin1::decode(b"\xe9\xff"), "\u{e9}\u{ff}");
/// assert_eq!(latin1::decode("é".as_bytes()).chars().count(), 2); // two UTF-8 bytes, two characters
/// ```
pub fn decode(bytes: &[u8]) -> String {
    if bytes.is_ascii() {
        // ASCII is valid UTF-8 with the same meaning.
        return String::from_utf8(bytes.to_vec()).unwrap_or_default();
    }
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Encodes a string as ISO-8859-1, failing on the first character above U+00FF.
///
/// ```
/// use gateway::latin1;
///
/// assert_eq!(latin1::encode("caf\u{e9}")?, b"caf\xe9");
/// let err = latin1::encode("5 \u{20ac}").unwrap_err();
/// assert_eq!((err.character, err.index), ('\u{20ac}', 2));
/// # Ok::<(), latin1::NotLatin1>(())
/// ```
pub fn encode(s: &str) -> Result<Vec<u8>, NotLatin1> {
    if s.is_ascii() {
        return Ok(s.as_bytes().to_vec());
    }
    let mut out = Vec::with_capacity(s.len());
    for (index, c) in s.chars().enumerate() {
        match u8::try_from(u32::from(c)) {
            Ok(b) => out.push(b),
            Err(_) => {
                return Err(NotLatin1 {
                    value: s.to_owned(),
                    character: c,
                    index,
                });
            }
        }
    }
    Ok(out)
}

/// Appends the ISO-8859-1 encoding of `s` to `out`, failing (and appending nothing) on a
/// character above U+00FF.
///
/// ```
/// use gateway::latin1;
///
/// let mut out = b"path=".to_vec();
/// latin1::encode_into("/\u{e9}", &mut out)?;
/// assert_eq!(out, b"path=/\xe9");
/// assert!(latin1::encode_into("/\u{3b1}", &mut out).is_err());
/// assert_eq!(out, b"path=/\xe9"); // unchanged on error
/// # Ok::<(), latin1::NotLatin1>(())
/// ```
pub fn encode_into(s: &str, out: &mut Vec<u8>) -> Result<(), NotLatin1> {
    if s.is_ascii() {
        out.extend_from_slice(s.as_bytes());
        return Ok(());
    }
    out.extend_from_slice(&encode(s)?);
    Ok(())
}

/// Appends `s` as latin-1 for text that was validated on the way in; a character above
/// U+00FF (a bug upstream) becomes `?` rather than a wrong or partial byte sequence.
pub(crate) fn push_validated(s: &str, out: &mut Vec<u8>) {
    if encode_into(s, out).is_err() {
        out.push(b'?');
    }
}

/// True when every character of `s` is at most U+00FF, i.e. [`encode`] would succeed.
///
/// ```
/// use gateway::latin1;
///
/// assert!(latin1::is_latin1("na\u{ef}ve"));
/// assert!(!latin1::is_latin1("\u{3a9}"));
/// assert!(latin1::is_latin1(""));
/// ```
pub fn is_latin1(s: &str) -> bool {
    s.is_ascii() || s.chars().all(|c| u32::from(c) <= 0xFF)
}

/// Recovers the bytes a "bytes in unicode" string stands for and decodes them as UTF-8.
///
/// This is how an app reads a non-ASCII `PATH_INFO`: the server decoded the request bytes as
/// latin-1, the app wants the UTF-8 text the client meant.
///
/// ```
/// use gateway::latin1::{self, Utf8Error};
///
/// assert_eq!(latin1::to_utf8("/caf\u{c3}\u{a9}")?, "/café");
/// assert!(matches!(latin1::to_utf8("/\u{e9}"), Err(Utf8Error::InvalidUtf8 { valid_up_to: 1, .. })));
/// assert!(matches!(latin1::to_utf8("\u{20ac}"), Err(Utf8Error::NotLatin1(_))));
/// # Ok::<(), Utf8Error>(())
/// ```
pub fn to_utf8(s: &str) -> Result<String, Utf8Error> {
    let bytes = encode(s).map_err(Utf8Error::NotLatin1)?;
    String::from_utf8(bytes).map_err(|e| Utf8Error::InvalidUtf8 {
        value: s.to_owned(),
        valid_up_to: e.utf8_error().valid_up_to(),
    })
}

/// A string holds a character that ISO-8859-1 cannot encode.
///
/// ```
/// use gateway::latin1;
///
/// let err = latin1::encode("ab\u{100}c").unwrap_err();
/// assert_eq!((err.value.as_str(), err.character, err.index), ("ab\u{100}c", '\u{100}', 2));
/// assert!(err.to_string().contains("U+0100"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NotLatin1 {
    /// The whole string that failed to encode.
    pub value: String,
    /// The first character above U+00FF.
    pub character: char,
    /// Its position, counted in characters.
    pub index: usize,
}

impl fmt::Display for NotLatin1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} cannot be encoded as latin-1: character {:?} (U+{:04X}) at position {} is above \
             U+00FF; WSGI strings carry bytes, so decode the original bytes as latin-1 \
             (gateway::latin1::decode) instead of storing text",
            self.value,
            self.character,
            u32::from(self.character),
            self.index
        )
    }
}

impl std::error::Error for NotLatin1 {}

/// A "bytes in unicode" string could not be read back as UTF-8.
///
/// ```
/// use gateway::latin1::{self, Utf8Error};
///
/// match latin1::to_utf8("caf\u{e9}") {
///     Err(Utf8Error::InvalidUtf8 { value, valid_up_to }) => {
///         assert_eq!((value.as_str(), valid_up_to), ("caf\u{e9}", 3)); // \xe9 starts no UTF-8
///     }
///     other => panic!("expected invalid UTF-8, got {other:?}"),
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Utf8Error {
    /// The string is not a latin-1 "bytes in unicode" string at all.
    NotLatin1(NotLatin1),
    /// The bytes it stands for are not valid UTF-8.
    InvalidUtf8 {
        /// The offending string.
        value: String,
        /// How many leading bytes were valid UTF-8.
        valid_up_to: usize,
    },
}

impl fmt::Display for Utf8Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Utf8Error::NotLatin1(e) => e.fmt(f),
            Utf8Error::InvalidUtf8 { value, valid_up_to } => write!(
                f,
                "{value:?} does not stand for UTF-8 bytes (invalid after byte {valid_up_to}); use \
                 gateway::latin1::encode to get the raw bytes"
            ),
        }
    }
}

impl std::error::Error for Utf8Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(encode(&decode(&all)).unwrap(), all);
    }

    #[test]
    fn names_the_offending_character() {
        let err = encode("a\u{100}").unwrap_err();
        assert_eq!(err.character, '\u{100}');
        assert_eq!(err.index, 1);
        assert!(err.to_string().contains("U+0100"));
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        assert!(matches!(
            to_utf8("/s\u{ff}"),
            Err(Utf8Error::InvalidUtf8 { valid_up_to: 2, .. })
        ));
    }
}
