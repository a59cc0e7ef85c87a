//! `wsgiref.headers`: an ordered list of response headers with case-insensitive lookup.

use std::fmt;

/// Response headers: an ordered list of `(name, value)` pairs, duplicates allowed, looked up
/// case-insensitively (`wsgiref.headers.Headers`).
///
/// Names and values are validated on the way in, in every build: a control character
/// (U+0000..=U+001F or U+007F; TAB is allowed in values only) or a character above U+00FF
/// is an error naming the header, so the wire form can never carry an injected line.
///
/// ```
/// use gateway::Headers;
///
/// let mut h = Headers::new();
/// h.set("Content-Type", "text/html")?;
/// h.add_header("Content-Disposition", Some("attachment"), &[("filename", Some("bud.gif"))])?;
/// h.append("Set-Cookie", "a=1")?;
/// h.append("set-cookie", "b=2")?;
/// assert_eq!(h.get("content-type"), Some("text/html"));
/// assert_eq!(h.get_all("SET-COOKIE"), ["a=1", "b=2"]);
/// assert_eq!(
///     h.to_string(),
///     "Content-Type: text/html\r\n\
///      Content-Disposition: attachment; filename=\"bud.gif\"\r\n\
///      Set-Cookie: a=1\r\nset-cookie: b=2\r\n\r\n"
/// );
/// assert!(h.set("X-Evil", "a\r\nInjected: 1").is_err());
/// assert!(h.contains("SET-COOKIE"));
/// assert_eq!(h.remove("set-cookie"), 2);
/// assert_eq!(h.remove("set-cookie"), 0); // removing a missing name is not an error
/// assert_eq!(h.len(), 2);
/// # Ok::<(), gateway::HeaderError>(())
/// ```
#[derive(Clone, Default)]
pub struct Headers {
    /// Every pair as its wire line, `name: value\r\n`, back to back (a removed pair leaves
    /// its line behind until the next compaction): one allocation for all the strings instead
    /// of two per pair, and an ASCII block goes on the wire in one copy.
    text: String,
    /// The live pairs, in order.
    spans: Vec<Span>,
    /// Some text is not ASCII (so the wire form needs latin-1 encoding, not a copy).
    non_ascii: bool,
}

/// One pair: the name is `text[start..mid]`, the value `text[mid + 2..end]` (after `": "`),
/// the whole line `text[start..end + 2]` (with its CRLF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: usize,
    mid: usize,
    end: usize,
}

impl Span {
    fn name(self, text: &str) -> &str {
        &text[self.start..self.mid]
    }

    fn value(self, text: &str) -> &str {
        &text[self.mid + 2..self.end]
    }

    fn pair(self, text: &str) -> (&str, &str) {
        (self.name(text), self.value(text))
    }
}

impl PartialEq for Headers {
    fn eq(&self, other: &Headers) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Headers {}

impl Headers {
    /// No headers.
    ///
    /// ```
    /// use gateway::Headers;
    ///
    /// let headers = Headers::new();
    /// assert!(headers.is_empty());
    /// assert_eq!(headers.to_string(), "\r\n"); // just the blank line that ends a head
    /// ```
    pub fn new() -> Self {
        Headers::default()
    }

    fn name_at(&self, span: Span) -> &str {
        span.name(&self.text)
    }

    fn value_at(&self, span: Span) -> &str {
        span.value(&self.text)
    }

    /// Headers holding one pair known to be valid (a constant `Content-Type`), with room
    /// for a few more: no validation, one allocation for the text and one for the spans.
    pub(crate) fn with_trusted(name: &'static str, value: &'static str) -> Headers {
        debug_assert!(check_pair(name, value).is_ok(), "{name}: {value}");
        let mut headers = Headers {
            text: String::with_capacity(name.len() + value.len() + 68),
            spans: Vec::with_capacity(4),
            ..Headers::default()
        };
        headers.push(name, value);
        headers
    }

    /// Appends a pair the server makes itself (`Content-Length` with its digits, `Connection:
    /// close`): valid by construction, so not checked again on every response.
    pub(crate) fn append_trusted(&mut self, name: &'static str, value: &str) {
        debug_assert!(check_pair(name, value).is_ok(), "{name}: {value}");
        self.push(name, value);
    }

    /// Appends a pair that was already validated.
    fn push(&mut self, name: &str, value: &str) {
        self.non_ascii |= !name.is_ascii() || !value.is_ascii();
        if self.spans.capacity() == 0 {
            // A response's few headers in one allocation each, instead of growing through
            // 8, 16, 32, ... bytes as they are appended one by one.
            self.text.reserve(64 + name.len() + value.len());
            self.spans.reserve(4);
        }
        let start = self.text.len();
        self.text.push_str(name);
        let mid = self.text.len();
        self.text.push_str(": ");
        self.text.push_str(value);
        let end = self.text.len();
        self.text.push_str("\r\n");
        self.spans.push(Span { start, mid, end });
    }

    fn position(&self, name: &str) -> Option<usize> {
        let query = Query::new(name);
        self.spans
            .iter()
            .position(|&span| query.matches(self.name_at(span)))
    }

    /// Headers from `(name, value)` pairs, each validated.
    ///
    /// ```
    /// use gateway::Headers;
    ///
    /// let h = Headers::from_pairs([("Content-Type", "text/plain"), ("X-A", "1")]).unwrap();
    /// assert_eq!(h.len(), 2);
    /// let err = Headers::from_pairs([("a", "b\r\nc")]).unwrap_err();
    /// assert!(err.to_string().contains("\"a\""));
    /// ```
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Self, HeaderError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        Headers::from_pairs_in(Headers::new(), pairs)
    }

    /// [`from_pairs`](Headers::from_pairs) into `spare`, an empty set whose allocations are
    /// reused (see `crate::spare`).
    pub(crate) fn from_pairs_in<I, K, V>(mut spare: Headers, pairs: I) -> Result<Self, HeaderError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        debug_assert!(spare.text.is_empty() && spare.spans.is_empty() && !spare.non_ascii);
        let iter = pairs.into_iter();
        // Room for the pairs the engine adds (Content-Length, Date, ...) too.
        spare.text.reserve(128);
        spare.spans.reserve(iter.size_hint().0 + 4);
        for (name, value) in iter {
            let (name, value) = (name.as_ref(), value.as_ref());
            check_pair(name, value)?;
            spare.push(name, value);
        }
        Ok(spare)
    }

    /// Removes every pair, keeping the allocations.
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.spans.clear();
        self.non_ascii = false;
    }

    /// The bytes this set's allocations hold.
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.text.capacity() + self.spans.capacity() * std::mem::size_of::<Span>()
    }

    /// Number of pairs, duplicates included.
    ///
    /// ```
    /// use gateway::Headers;
    ///
    /// let mut h = Headers::new();
    /// assert_eq!((h.len(), h.is_empty()), (0, true));
    /// h.append("Set-Cookie", "a=1")?;
    /// h.append("Set-Cookie", "b=2")?;
    /// assert_eq!((h.len(), h.is_empty()), (2, false));
    /// # Ok::<(), gateway::HeaderError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when there are no headers (example at [`len`](Headers::len)).
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The value of the first header called `name` (any case).
    ///
    /// ```
    /// use gateway::Headers;
    ///
    /// let h = Headers::from_pairs([("Vary", "Accept"), ("vary", "Cookie")])?;
    /// assert_eq!(h.get("VARY"), Some("Accept"));
    /// assert_eq!(h.get("Content-Type"), None);
    /// # Ok::<(), gateway::HeaderError>(())
    /// ```
    pub fn get(&self, name: &str) -> Option<&str> {
        self.position(name).map(|i| self.value_at(self.spans[i]))
    }

    /// True when a header called `name` exists (an empty value counts).
    ///
    /// ```
    /// use gateway::Headers;
    ///
    /// let h = Headers::from_pairs([("X-Empty", "")])?;
    /// assert!(h.contains("x-empty"));
    /// assert!(!h.contains("X-Other"));
    /// # Ok::<(), gateway::HeaderError>(())
    /// ```
    pub fn contains(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// Every value of headers called `name`, in order; empty when there are none.
    ///
    /// ```
    /// use gateway::Headers;
    ///
    /// let h = Headers::from_pairs([("Set-Cookie", "a=1"), ("X", "y"), ("set-cookie", "b=2")])?;
    /// assert_eq!(h.get_all("Set-Cookie"), ["a=1", "b=2"]);
    /// assert!(h.get_all("Warning").is_empty());
    /// # Ok::<(), gateway::HeaderError>(())
    /// ```
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        let query = Query::new(name);
        self.iter()
            .filter(|(n, _)| query.matches(n))
            .map(|(_, v)| v)
            .collect()
    }

    /// Replaces every header called `name` by one `name: value` pair at the end.
    ///
    /// The new pair is validated first: on error nothing changes (the reference deletes the old
    /// values before it validates; gateway does not).
    ///
    /// ```
    /// use gateway::Headers;
    ///
    /// let mut h = Headers::from_pairs([("X-A", "1"), ("B", "2"), ("x-a", "3")]).unwrap();
    /// h.set("x-A", "4").unwrap();
    /// assert_eq!(h.items(), [("B".into(), "2".into()), ("x-A".into(), "4".into())]);
    /// ```
    pub fn set(
        &mut self,
        name: impl AsRef<str>,
        value: impl AsRef<str>,
    ) -> Result<(), HeaderError> {
        let (name, value) = (name.as_ref(), value.as_ref());
        check_pair(name, value)?;
        self.remove(name);
        self.push(name, value);
        Ok(())
    }

    /// Appends one `name: value` pair, keeping any existing headers of that name.
    ///
    /// ```
    /// use gateway::{HeaderError, Headers};
    ///
    /// let mut h = Headers::new();
    /// h.append("Link", "</a.css>; rel=preload")?;
    /// h.append("Link", "</b.js>; rel=preload")?;
    /// assert_eq!(h.get_all("link").len(), 2);
    /// // Latin-1 is the wire's character set: anything above U+00FF is refused.
    /// let err = h.append("X-Price", "5\u{20ac}").unwrap_err();
    /// assert!(matches!(err, HeaderError::NotLatin1 { character: '\u{20ac}', .. }));
    /// assert_eq!(h.len(), 2); // nothing appended
    /// # Ok::<(), HeaderError>(())
    /// ```
    pub fn append(
        &mut self,
        name: impl AsRef<str>,
        value: impl AsRef<str>,
    ) -> Result<(), HeaderError> {
        let (name, value) = (name.as_ref(), value.as_ref());
        check_pair(name, value)?;
        self.push(name, value);
        Ok(())
    }

    /// Removes every header called `name`; returns how many were removed (0 is not an error).
    ///
    /// ```
    /// use gateway::Headers;
    ///
    /// let mut h = Headers::from_pairs([("Via", "a"), ("Server", "x"), ("VIA", "b")])?;
    /// assert_eq!(h.remove("via"), 2);
    /// assert_eq!(h.remove("via"), 0);
    /// assert_eq!(h.keys(), ["Server"]);
    /// # Ok::<(), gateway::HeaderError>(())
    /// ```
    pub fn remove(&mut self, name: &str) -> usize {
        let query = Query::new(name);
        let before = self.spans.len();
        let text = &self.text;
        self.spans.retain(|span| !query.matches(span.name(text)));
        let removed = before - self.spans.len();
        if removed > 0 {
            self.compact();
        }
        removed
    }

    /// Drops the text of removed pairs once it outweighs the live text.
    fn compact(&mut self) {
        let live: usize = self
            .spans
            .iter()
            .map(|span| span.end + 2 - span.start)
            .sum();
        if self.spans.is_empty() {
            self.text.clear();
        } else if self.text.len() > 2 * live + 256 {
            let mut text = String::with_capacity(live);
            for span in &mut self.spans {
                let start = text.len();
                text.push_str(&self.text[span.start..span.end + 2]);
                *span = Span {
                    start,
                    mid: start + (span.mid - span.start),
                    end: text.len() - 2,
                };
            }
            self.text = text;
        }
    }

    /// Returns the first value of `name`, or appends `name: value` and returns `value`.
    ///
    /// ```
    /// use gateway::Headers;
    ///
    /// let mut h = Headers::from_pairs([("Content-Type", "text/html")]).unwrap();
    /// assert_eq!(h.setdefault("CONTENT-type", "zzz").unwrap(), "text/html");
    /// assert_eq!(h.setdefault("New", "v").unwrap(), "v");
    /// assert_eq!(h.keys(), ["Content-Type", "New"]);
    /// ```
    pub fn setdefault(&mut self, name: &str, value: impl AsRef<str>) -> Result<&str, HeaderError> {
        let index = match self.position(name) {
            Some(index) => index,
            None => {
                self.append(name, value)?;
                self.spans.len() - 1
            }
        };
        Ok(self.value_at(self.spans[index]))
    }

    /// Appends a header whose value carries MIME parameters (`add_header(name, value, **params)`).
    ///
    /// Parameter names have `_` replaced by `-`; a parameter whose value is `None` or empty is
    /// written as its bare name; every other value is quoted, with `\` and `"` escaped. With
    /// `value` `None` only the parameters are written.
    ///
    /// ```
    /// use gateway::Headers;
    ///
    /// let mut h = Headers::new();
    /// h.add_header("X", Some("v"), &[("a", Some("1")), ("b", None), ("c_d", Some("e f"))]).unwrap();
    /// assert_eq!(h.get("x"), Some(r#"v; a="1"; b; c-d="e f""#));
    /// ```
    pub fn add_header(
        &mut self,
        name: impl AsRef<str>,
        value: Option<&str>,
        params: &[(&str, Option<&str>)],
    ) -> Result<(), HeaderError> {
        let name = name.as_ref();
        let mut parts: Vec<String> = Vec::with_capacity(params.len() + 1);
        if let Some(value) = value {
            parts.push(value.to_owned());
        }
        for &(key, param) in params {
            check_name(key).map_err(|e| e.in_parameter_of(name))?;
            let key = key.replace('_', "-");
            match param {
                None | Some("") => parts.push(key),
                Some(param) => {
                    check_value(name, param)?;
                    let escaped = param.replace('\\', "\\\\").replace('"', "\\\"");
                    parts.push(format!("{key}=\"{escaped}\""));
                }
            }
        }
        self.append(name, parts.join("; "))
    }

    /// The header names in order, duplicates and original case kept.
    ///
    /// ```
    /// use gateway::Headers;
    ///
    /// let h = Headers::from_pairs([("Content-Type", "text/plain"), ("x-a", "1"), ("X-A", "2")])?;
    /// assert_eq!(h.keys(), ["Content-Type", "x-a", "X-A"]);
    /// assert_eq!(h.values(), ["text/plain", "1", "2"]);
    /// # Ok::<(), gateway::HeaderError>(())
    /// ```
    pub fn keys(&self) -> Vec<&str> {
        self.iter().map(|(n, _)| n).collect()
    }

    /// The header values in order (example at [`keys`](Headers::keys)).
    pub fn values(&self) -> Vec<&str> {
        self.iter().map(|(_, v)| v).collect()
    }

    /// A copy of the `(name, value)` pairs.
    ///
    /// ```
    /// use gateway::Headers;
    ///
    /// let h = Headers::from_pairs([("A", "1"), ("B", "2")])?;
    /// let pairs = vec![("A".to_owned(), "1".to_owned()), ("B".to_owned(), "2".to_owned())];
    /// assert_eq!(h.items(), pairs);
    /// assert_eq!(h.into_items(), pairs); // the same, without a copy
    /// # Ok::<(), gateway::HeaderError>(())
    /// ```
    pub fn items(&self) -> Vec<(String, String)> {
        self.iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    }

    /// The `(name, value)` pairs, borrowed.
    ///
    /// ```
    /// use gateway::Headers;
    ///
    /// let h = Headers::from_pairs([("A", "1"), ("B", "2")])?;
    /// let lines: Vec<String> = h.iter().map(|(name, value)| format!("{name}={value}")).collect();
    /// assert_eq!(lines, ["A=1", "B=2"]);
    /// assert_eq!(h.iter().len(), 2);
    /// # Ok::<(), gateway::HeaderError>(())
    /// ```
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            text: &self.text,
            spans: self.spans.iter(),
        }
    }

    /// The pairs, by value (example at [`items`](Headers::items)).
    pub fn into_items(self) -> Vec<(String, String)> {
        self.items()
    }

    /// The wire form as latin-1 bytes: `name: value\r\n` per pair, then `\r\n`.
    ///
    /// ```
    /// use gateway::Headers;
    ///
    /// let h = Headers::from_pairs([("X", "caf\u{e9}")]).unwrap();
    /// assert_eq!(h.to_bytes(), b"X: caf\xe9\r\n\r\n");
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.wire_len());
        self.write_to(&mut out);
        out
    }

    /// Appends the wire form to `out`.
    ///
    /// ```
    /// use gateway::Headers;
    ///
    /// let h = Headers::from_pairs([("Content-Length", "2")])?;
    /// let mut out = b"HTTP/1.1 200 OK\r\n".to_vec();
    /// h.write_to(&mut out);
    /// assert_eq!(out, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
    /// # Ok::<(), gateway::HeaderError>(())
    /// ```
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let lines = self.wire_len() - 2;
        if !self.non_ascii && lines == self.text.len() {
            // Every line is live and ASCII: the text is the wire form.
            out.reserve(lines + 2);
            out.extend_from_slice(self.text.as_bytes());
            out.extend_from_slice(b"\r\n");
            return;
        }
        out.reserve(lines + 2);
        for (name, value) in self {
            if self.non_ascii {
                // Validated on the way in, so both are latin-1.
                crate::latin1::push_validated(name, out);
                out.extend_from_slice(b": ");
                crate::latin1::push_validated(value, out);
            } else {
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(b": ");
                out.extend_from_slice(value.as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }

    /// The wire form's length in bytes (an upper bound for non-ASCII text, whose latin-1
    /// form is shorter).
    fn wire_len(&self) -> usize {
        self.spans
            .iter()
            .map(|span| span.end + 2 - span.start)
            .sum::<usize>()
            + 2
    }
}

/// A name looked up among stored (validated) names, compared as the reference does:
/// `name.lower() == key.lower()` (full Unicode lower-casing, so `"X-CAF\u{c9}"` matches
/// `"x-caf\u{e9}"` and KELVIN SIGN matches `"k"`).
struct Query<'q> {
    name: &'q str,
    /// An ASCII query (the usual case) needs no Unicode tables: no stored name, all latin-1,
    /// has a non-ASCII character that lower-cases to ASCII.
    ascii: bool,
}

impl<'q> Query<'q> {
    fn new(name: &'q str) -> Self {
        Query {
            name,
            ascii: name.is_ascii(),
        }
    }

    fn matches(&self, stored: &str) -> bool {
        stored.eq_ignore_ascii_case(self.name)
            || (!self.ascii
                && stored
                    .chars()
                    .flat_map(char::to_lowercase)
                    .eq(self.name.chars().flat_map(char::to_lowercase)))
    }
}

impl fmt::Display for Headers {
    /// The wire form as text: `name: value\r\n` per pair, then a blank `\r\n` line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in self {
            write!(f, "{name}: {value}\r\n")?;
        }
        f.write_str("\r\n")
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Headers(")?;
        f.debug_list().entries(self.iter()).finish()?;
        write!(f, ")")
    }
}

impl TryFrom<Vec<(String, String)>> for Headers {
    type Error = HeaderError;

    fn try_from(list: Vec<(String, String)>) -> Result<Self, HeaderError> {
        Headers::from_pairs(list)
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = (&'a str, &'a str);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The `(name, value)` pairs of a [`Headers`], in order (from [`Headers::iter`]).
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    text: &'a str,
    spans: std::slice::Iter<'a, Span>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        Some(self.spans.next()?.pair(self.text))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.spans.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> DoubleEndedIterator for Iter<'a> {
    fn next_back(&mut self) -> Option<(&'a str, &'a str)> {
        Some(self.spans.next_back()?.pair(self.text))
    }
}

fn check_pair(name: &str, value: &str) -> Result<(), HeaderError> {
    check_name(name)?;
    check_value(name, value)
}

/// True when `text` may hold a control character (`tab_ok`: TAB aside) or a character above
/// U+00FF: a byte scan, so the usual clean text never decodes a `char`. In UTF-8, a byte from
/// 0xC4 up starts a character above U+00FF, and every control character is one byte.
fn needs_char_check(text: &str, tab_ok: bool) -> bool {
    let suspect = |b: u8| (b < 0x20 && !(tab_ok && b == b'\t')) || b == 0x7f || b >= 0xc4;
    // Eight bytes at a time: a word with no byte below 0x20, at 0x7F or from 0x80 up is
    // clean; any other word is looked at byte by byte.
    let mut words = text.as_bytes().chunks_exact(8);
    for word in &mut words {
        let w = u64::from_ne_bytes(word.try_into().expect("chunks of 8"));
        if !plain_ascii_word(w) && word.iter().any(|&b| suspect(b)) {
            return true;
        }
    }
    words.remainder().iter().any(|&b| suspect(b))
}

/// True when no byte of `w` is below 0x20, equal to 0x7F, or from 0x80 up (the classic
/// "has a byte less than n" and "has a zero byte" word tricks, exact about whether one exists).
fn plain_ascii_word(w: u64) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    let del = w ^ (ONES * 0x7f);
    let is_del = del.wrapping_sub(ONES) & !del & HIGH;
    (below_space | is_del | (w & HIGH)) == 0
}

/// Checks a header name: no control character (U+0000..=U+001F, U+007F), nothing above U+00FF.
pub(crate) fn check_name(name: &str) -> Result<(), HeaderError> {
    if !needs_char_check(name, false) {
        return Ok(());
    }
    for c in name.chars() {
        if c.is_ascii_control() {
            return Err(HeaderError::ControlCharacterInName {
                name: name.to_owned(),
                character: c,
            });
        }
        if u32::from(c) > 0xFF {
            return Err(HeaderError::NotLatin1 {
                name: name.to_owned(),
                character: c,
            });
        }
    }
    Ok(())
}

/// Checks a header value: no control character but TAB, nothing above U+00FF.
pub(crate) fn check_value(name: &str, value: &str) -> Result<(), HeaderError> {
    if !needs_char_check(value, true) {
        return Ok(());
    }
    for c in value.chars() {
        if c.is_ascii_control() && c != '\t' {
            return Err(HeaderError::ControlCharacterInValue {
                name: name.to_owned(),
                value: value.to_owned(),
                character: c,
            });
        }
        if u32::from(c) > 0xFF {
            return Err(HeaderError::NotLatin1 {
                name: name.to_owned(),
                character: c,
            });
        }
    }
    Ok(())
}

/// A header name or value that cannot go on the wire.
///
/// ```
/// use gateway::{HeaderError, Headers};
///
/// let mut h = Headers::new();
/// let err = h.set("Title", "caf\u{e9} \u{2615}").unwrap_err(); // é is latin-1, ☕ is not
/// assert_eq!(err, HeaderError::NotLatin1 { name: "Title".into(), character: '\u{2615}' });
/// assert!(err.to_string().contains("U+2615"));
/// assert!(matches!(
///     h.set("X-Split", "a\nInjected: 1"),
///     Err(HeaderError::ControlCharacterInValue { character: '\n', .. })
/// ));
/// assert!(matches!(h.set("Bad\0Name", "v"), Err(HeaderError::ControlCharacterInName { .. })));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderError {
    /// A control character (U+0000..=U+001F or U+007F) in a header name.
    ControlCharacterInName {
        /// The offending name.
        name: String,
        /// The first control character found.
        character: char,
    },
    /// A control character other than TAB in a header value (CR or LF would inject a line).
    ControlCharacterInValue {
        /// The header the value belongs to.
        name: String,
        /// The offending value.
        value: String,
        /// The first control character found.
        character: char,
    },
    /// A character above U+00FF, which the latin-1 wire form cannot carry.
    NotLatin1 {
        /// The header concerned.
        name: String,
        /// The character.
        character: char,
    },
}

impl HeaderError {
    fn in_parameter_of(self, header: &str) -> HeaderError {
        match self {
            HeaderError::ControlCharacterInName { name, character } => {
                HeaderError::ControlCharacterInName {
                    name: format!("{header}; {name}"),
                    character,
                }
            }
            HeaderError::NotLatin1 { name, character } => HeaderError::NotLatin1 {
                name: format!("{header}; {name}"),
                character,
            },
            other => other,
        }
    }
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::ControlCharacterInName { name, character } => write!(
                f,
                "control character {character:?} not allowed in header name {name:?}; header \
                 names are tokens such as \"Content-Type\""
            ),
            HeaderError::ControlCharacterInValue {
                name,
                value,
                character,
            } => write!(
                f,
                "control character {character:?} not allowed in the value of header {name:?} \
                 ({value:?}); send one header per line instead of embedding CR/LF"
            ),
            HeaderError::NotLatin1 { name, character } => write!(
                f,
                "header {name:?} holds {character:?} (U+{:04X}), which latin-1 cannot encode; \
                 encode the text first (for example percent-encode it, or use RFC 8187 \
                 parameters)",
                u32::from(*character)
            ),
        }
    }
}

impl std::error::Error for HeaderError {}

#[cfg(test)]
mod tests {
    use super::needs_char_check;

    /// The byte-by-byte rule the word-at-a-time scan must agree with.
    fn naive(text: &str, tab_ok: bool) -> bool {
        text.bytes()
            .any(|b| (b < 0x20 && !(tab_ok && b == b'\t')) || b == 0x7f || b >= 0xc4)
    }

    #[test]
    fn the_word_scan_agrees_with_the_byte_rule_everywhere() {
        let odd: Vec<String> = (0u8..0x80)
            .map(|b| char::from(b).to_string())
            .chain(["\u{e9}", "\u{ff}", "\u{100}", "\u{2615}", "\u{1f600}"].map(String::from))
            .collect();
        for len in 0..20 {
            for at in 0..len {
                for c in &odd {
                    let text = format!("{}{c}{}", "a".repeat(at), "Z".repeat(len - at - 1));
                    for tab_ok in [false, true] {
                        assert_eq!(
                            needs_char_check(&text, tab_ok),
                            naive(&text, tab_ok),
                            "{text:?} tab_ok={tab_ok}"
                        );
                    }
                }
            }
        }
    }
}
