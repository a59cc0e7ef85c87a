//! The chunked transfer coding of request bodies (RFC 9112 §7.1), decoded without I/O.
//!
//! [`ChunkedDecoder`] looks at the bytes a caller has buffered and says what the front of
//! them is: framing to skip, chunk data to hand on, or not enough yet. The same decoder
//! checks a small body while its connection is parked (so bad framing is a 400 before the
//! app runs), reads `wsgi.input` while the app runs, and is what the fuzz target drives.
//!
//! Grammar enforced (anything else is [`ChunkError::Malformed`]):
//!
//! ```text
//! chunked-body   = *chunk last-chunk trailer-section CRLF
//! chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//! chunk-size     = 1*HEXDIG                      (a value that fits in 64 bits)
//! last-chunk     = 1*("0") [ chunk-ext ] CRLF
//! chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//! chunk-ext-name = token
//! chunk-ext-val  = token / quoted-string
//! trailer-section = *( field-line CRLF )         (field-name ":" OWS field-value OWS)
//! ```
//!
//! Lines end in CRLF only (a bare LF inside chunk framing is an error: framing is where
//! request smuggling hides). Trailer fields are parsed and checked, never added to the
//! environ, and obs-fold in them is an error.

use std::fmt;

/// Longest chunk-size line (size, extensions and CRLF) accepted.
pub(crate) const CHUNK_LINE_LIMIT: usize = 4096;
/// Most trailer bytes accepted after the last chunk.
pub(crate) const TRAILER_LIMIT: usize = 16 * 1024;

/// Why a chunked body cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChunkError {
    /// The framing breaks the grammar: 400.
    Malformed(&'static str),
    /// The data grew past the body limit: 413.
    TooLarge,
}

impl fmt::Display for ChunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkError::Malformed(why) => f.write_str(why),
            ChunkError::TooLarge => f.write_str("request body too large"),
        }
    }
}

/// What the front of the buffered bytes is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// This many bytes of framing (a size line, a CRLF, a trailer line) were taken: consume
    /// them and step again.
    Framing(usize),
    /// Chunk data: up to this many bytes at the front belong to the body. Report what was
    /// consumed with [`ChunkedDecoder::consumed_data`].
    Data(u64),
    /// The next piece of framing has not fully arrived.
    NeedMore,
    /// The body and its trailers ended; nothing more belongs to it.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
    Done,
}

/// The decoder's state between calls (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct ChunkedDecoder {
    state: State,
    /// Data bytes announced so far.
    received: u64,
    /// Trailer bytes seen so far.
    trailers: usize,
    max_body: u64,
}

impl ChunkedDecoder {
    /// A decoder for a body whose data may total `max_body` bytes.
    pub(crate) fn new(max_body: u64) -> Self {
        ChunkedDecoder {
            state: State::Size,
            received: 0,
            trailers: 0,
            max_body,
        }
    }

    /// Says what the front of `input` is (see [`Step`]). Every [`Step::Framing`] takes at
    /// least one byte, so a caller that consumes what it is told always makes progress.
    pub(crate) fn step(&mut self, input: &[u8]) -> Result<Step, ChunkError> {
        match self.state {
            State::Done => Ok(Step::Done),
            State::Data(left) => Ok(Step::Data(left)),
            State::DataEnd => match input {
                [b'\r', b'\n', ..] => {
                    self.state = State::Size;
                    Ok(Step::Framing(2))
                }
                [] | [b'\r'] => Ok(Step::NeedMore),
                _ => Err(ChunkError::Malformed("chunk data longer than its size")),
            },
            State::Size => {
                let Some(len) = line(input, CHUNK_LINE_LIMIT, "chunk size line too long")? else {
                    return Ok(Step::NeedMore);
                };
                let size = parse_size_line(&input[..len])?;
                if size == 0 {
                    self.state = State::Trailers;
                } else {
                    self.received = self.received.saturating_add(size);
                    if self.received > self.max_body {
                        return Err(ChunkError::TooLarge);
                    }
                    self.state = State::Data(size);
                }
                Ok(Step::Framing(len))
            }
            State::Trailers => {
                let room = TRAILER_LIMIT - self.trailers;
                let Some(len) = line(input, room.max(2), "trailer section too large")? else {
                    return Ok(Step::NeedMore);
                };
                let field = &input[..len];
                if field == b"\r\n" {
                    self.state = State::Done;
                    return Ok(Step::Framing(len));
                }
                if len > room {
                    return Err(ChunkError::Malformed("trailer section too large"));
                }
                check_field_line(field)?;
                self.trailers += len;
                Ok(Step::Framing(len))
            }
        }
    }

    /// `n` bytes of the current chunk's data were consumed (at most what [`Step::Data`] said).
    pub(crate) fn consumed_data(&mut self, n: u64) {
        if let State::Data(left) = self.state {
            self.state = if n >= left {
                State::DataEnd
            } else {
                State::Data(left - n)
            };
        }
    }

    /// Runs the decoder over everything in `input` without keeping the data: how many bytes
    /// the whole body took when it ended within `input`, `None` when more is to come.
    pub(crate) fn check(mut self, input: &[u8]) -> Result<Option<usize>, ChunkError> {
        let mut at = 0;
        loop {
            match self.step(&input[at..])? {
                Step::Framing(n) => at += n,
                Step::Data(left) => {
                    let n = (input.len() - at).min(usize::try_from(left).unwrap_or(usize::MAX));
                    if n == 0 {
                        return Ok(None);
                    }
                    at += n;
                    self.consumed_data(n as u64);
                }
                Step::NeedMore => return Ok(None),
                Step::Done => return Ok(Some(at)),
            }
        }
    }
}

/// The length of the CRLF-terminated line at the front of `input` (CRLF included); `None`
/// while it is incomplete and still within `limit`.
fn line(input: &[u8], limit: usize, too_long: &'static str) -> Result<Option<usize>, ChunkError> {
    let window = &input[..input.len().min(limit)];
    match window.iter().position(|&b| b == b'\n') {
        Some(lf) if lf > 0 && window[lf - 1] == b'\r' => Ok(Some(lf + 1)),
        Some(_) => Err(ChunkError::Malformed("bare LF in chunk framing")),
        None if input.len() >= limit => Err(ChunkError::Malformed(too_long)),
        None => Ok(None),
    }
}

/// A chunk-size line (CRLF included): its size, after checking the extensions' grammar.
fn parse_size_line(line: &[u8]) -> Result<u64, ChunkError> {
    let line = &line[..line.len() - 2];
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(ChunkError::Malformed("invalid chunk size"));
    }
    let mut size = 0u64;
    for &d in &line[..digits] {
        let value = u64::from((d as char).to_digit(16).unwrap_or(0));
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(value))
            .ok_or(ChunkError::Malformed("chunk size overflows"))?;
    }
    check_extensions(&line[digits..])?;
    Ok(size)
}

/// `*( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )`.
fn check_extensions(mut rest: &[u8]) -> Result<(), ChunkError> {
    const BAD: ChunkError = ChunkError::Malformed("invalid chunk extension");
    loop {
        rest = skip_ows(rest);
        let Some(after) = rest.strip_prefix(b";") else {
            return if rest.is_empty() { Ok(()) } else { Err(BAD) };
        };
        rest = skip_ows(after);
        let name = token_len(rest);
        if name == 0 {
            return Err(BAD);
        }
        rest = &rest[name..];
        let after_ows = skip_ows(rest);
        if let Some(after) = after_ows.strip_prefix(b"=") {
            rest = skip_ows(after);
            let value = if rest.first() == Some(&b'"') {
                quoted_string_len(rest).ok_or(BAD)?
            } else {
                token_len(rest)
            };
            if value == 0 {
                return Err(BAD);
            }
            rest = &rest[value..];
        }
    }
}

fn skip_ows(bytes: &[u8]) -> &[u8] {
    let n = bytes
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    &bytes[n..]
}

/// RFC 9110 §5.6.2 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn token_len(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|&&b| is_tchar(b)).count()
}

/// The length of the quoted-string at the front of `bytes` (quotes included).
fn quoted_string_len(bytes: &[u8]) -> Option<usize> {
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return Some(i + 1),
            b'\\' => {
                let next = *bytes.get(i + 1)?;
                if !(next == b'\t' || next == b' ' || next >= 0x21 && next != 0x7f) {
                    return None;
                }
                i += 2;
            }
            b'\t' | b' ' | 0x21 | 0x23..=0x5b | 0x5d..=0x7e | 0x80..=0xff => i += 1,
            _ => return None,
        }
    }
    None
}

/// A trailer field line (CRLF included): `token ":" OWS *( VCHAR / obs-text / SP / HTAB )`.
fn check_field_line(line: &[u8]) -> Result<(), ChunkError> {
    let line = &line[..line.len() - 2];
    let name = token_len(line);
    if name == 0 || line.get(name) != Some(&b':') {
        return Err(ChunkError::Malformed("invalid trailer field"));
    }
    let value = &line[name + 1..];
    if value
        .iter()
        .any(|&b| !(b == b'\t' || b == b' ' || b >= 0x21 && b != 0x7f))
    {
        return Err(ChunkError::Malformed("invalid trailer field value"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &[u8]) -> Result<Option<usize>, ChunkError> {
        ChunkedDecoder::new(1 << 20).check(body)
    }

    #[test]
    fn size_lines() {
        let cases: &[(&[u8], Option<u64>)] = &[
            (b"0\r\n", Some(0)),
            (b"a\r\n", Some(10)),
            (b"FF\r\n", Some(255)),
            (b"0000000000000000000010\r\n", Some(16)),
            (b"10;name=value\r\n", Some(16)),
            (b"10 ; name\r\n", Some(16)),
            (b"10;a=\"b c\\\"d\"\r\n", Some(16)),
            (b"10;a;b=c ; d = e\r\n", Some(16)),
            (b"\r\n", None),
            (b"g\r\n", None),
            (b"-1\r\n", None),
            (b"+1\r\n", None),
            (b"10 x\r\n", None),
            (b"10;a\x01b\r\n", None),
            (b"11111111111111111\r\n", None),
            (b"0x10\r\n", None),
            (b"0;a=\"b\r\n", None),
            (b"0;a=\r\n", None),
            (b"0;\r\n", None),
            (b"0;=b\r\n", None),
            (b"0;a=b c\r\n", None),
            (b"0;a=\"\x7f\"\r\n", None),
        ];
        for (line, expected) in cases {
            assert_eq!(
                parse_size_line(line).ok(),
                *expected,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn whole_bodies() {
        let ok: &[&[u8]] = &[
            b"0\r\n\r\n",
            b"3\r\nabc\r\n0\r\n\r\n",
            b"3;x=y\r\nabc\r\n1\r\nd\r\n0\r\nExpires: never\r\nX:\r\n\r\n",
        ];
        for body in ok {
            assert_eq!(check(body), Ok(Some(body.len())), "{body:?}");
        }
        let bad: &[&[u8]] = &[
            b"3\r\nabcd\r\n0\r\n\r\n",
            b"3\nabc\r\n0\r\n\r\n",
            b"3\r\nabc\r\n0\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
            b"3\r\nabc\r\n0\r\nX: a\r\n folded\r\n\r\n",
            b"3\r\nabc\r\n0\r\nX : a\r\n\r\n",
            b"3\r\nabc\r\n0\r\nX: a\x00\r\n\r\n",
            b"0;a\nb\r\n\r\n",
            b"0\r\n\n",
        ];
        for body in bad {
            assert!(
                matches!(check(body), Err(ChunkError::Malformed(_))),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(
            ChunkedDecoder::new(2).check(b"3\r\nabc\r\n0\r\n\r\n"),
            Err(ChunkError::TooLarge)
        );
    }

    /// Fed a byte at a time, the decoder never errs on a prefix of a valid body and ends
    /// exactly where the body ends.
    #[test]
    fn split_at_every_offset() {
        let body = b"5;e=\"q\"\r\nhello\r\n1\r\n \r\n0\r\nT: v\r\n\r\nNEXT";
        let end = body.len() - 4;
        for cut in 0..end {
            assert_eq!(check(&body[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(check(body), Ok(Some(end)));
    }
}
