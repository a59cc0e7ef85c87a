//! Model-based tests for gateway's two ordered string containers.
//!
//! [`Headers`] is checked against a plain `Vec<(String, String)>` with `wsgiref.headers`
//! semantics (names compared as `name.lower() == key.lower()`, full Unicode lower-casing), and
//! the CGI variables of [`Environ`] against a `Vec<(String, String)>` kept in insertion order.
//!
//! Each test drives thousands of random operations from a tiny xorshift generator with fixed
//! seeds, so every run is the same. Every operation is applied to the real container and to
//! the model, its result compared, and then the whole observable state compared. Values are
//! sometimes long so that both containers' internal text compaction runs many times; invalid
//! header names and values are mixed in to check that a refused call changes nothing. A failure
//! names the seed, the step and the operation.

use std::fmt;

use gateway::{Environ, HeaderError, Headers, latin1};

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/// xorshift64: small, fast and deterministic (no dependency needed).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        for _ in 0..8 {
            rng.next();
        }
        rng
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// An ASCII character in `lo..=hi`.
    fn ascii(&mut self, lo: u8, hi: u8) -> char {
        char::from(self.range(usize::from(lo), usize::from(hi)) as u8)
    }

    /// `s` with `c` inserted at a random character position.
    fn insert_char(&mut self, s: &str, c: char) -> String {
        let mut chars: Vec<char> = s.chars().collect();
        let at = self.below(chars.len() + 1);
        chars.insert(at, c);
        chars.into_iter().collect()
    }
}

/// Where a failure happened: printed by every assertion, formatted only on failure.
struct Ctx<'a, Op> {
    test: &'static str,
    seed: u64,
    step: usize,
    op: &'a Op,
}

/// Names the step on stderr if it panics, so a panic inside gateway itself (not only a failed
/// assertion here) is reproducible too.
struct PanicNote<'a>(&'a dyn fmt::Display);

impl Drop for PanicNote<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("panicked at {}", self.0);
        }
    }
}

impl<Op: fmt::Debug> fmt::Display for Ctx<'_, Op> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: seed {:#x}, step {}, op {:?}",
            self.test, self.seed, self.step, self.op
        )
    }
}

/// Latin-1 characters with interesting case behaviour (and a few C1 controls, which are not
/// ASCII controls and so are allowed in headers).
const LATIN1: &[char] = &[
    'é', 'É', 'ß', 'ÿ', 'µ', 'Þ', 'þ', 'À', 'à', '×', '\u{a0}', '\u{85}', '\u{80}',
];

/// Characters above U+00FF: never valid in a header.
const NOT_LATIN1: &[char] = &[
    '\u{100}',
    '\u{178}',   // LATIN CAPITAL LETTER Y WITH DIAERESIS, upper case of ÿ
    '\u{212a}',  // KELVIN SIGN, lower-cases to "k"
    '\u{2615}',  // HOT BEVERAGE
    '\u{20ac}',  // EURO SIGN
    '\u{1e9e}',  // LATIN CAPITAL LETTER SHARP S, lower-cases to "ß"
    '\u{1f600}', // an emoji (four UTF-8 bytes)
    '中',
];

/// Control characters a header never accepts (TAB is accepted in values only).
const CONTROLS: &[char] = &['\r', '\n', '\0', '\x7f', '\x1b', '\x0b'];

// ---------------------------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------------------------

/// Names set and appended: case variants of a few names, latin-1 ones included.
const HEADER_NAMES: &[&str] = &[
    "Content-Type",
    "content-type",
    "CONTENT-TYPE",
    "Set-Cookie",
    "SET-COOKIE",
    "X-A",
    "x-a",
    "Vary",
    "k",
    "K",
    "X-Caf\u{e9}",
    "x-CAF\u{c9}",
    "X-\u{ff}",
    "Stra\u{df}e",
    "STRASSE",
    "\u{b5}",
    "X-Empty",
    "",
];

/// Names only looked up (never valid to store, or simply absent): KELVIN SIGN matches "k",
/// U+0178 matches "x-ÿ", U+1E9E matches "straße", GREEK CAPITAL MU does not match µ.
const QUERY_ONLY: &[&str] = &[
    "\u{212a}",
    "X-\u{178}",
    "\u{39c}",
    "stra\u{1e9e}e",
    "\u{130}",
    "x-a\n",
    "Content-Type ",
];

/// The reference's name comparison: `a.lower() == b.lower()`.
fn same_name(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// What a header name must be: no control character, nothing above U+00FF. `reported` is the
/// name the error carries.
fn expect_name(name: &str, reported: &str) -> Result<(), HeaderError> {
    for c in name.chars() {
        if u32::from(c) < 0x20 || c == '\x7f' {
            return Err(HeaderError::ControlCharacterInName {
                name: reported.to_owned(),
                character: c,
            });
        }
        if u32::from(c) > 0xff {
            return Err(HeaderError::NotLatin1 {
                name: reported.to_owned(),
                character: c,
            });
        }
    }
    Ok(())
}

/// What a header value must be: no control character but TAB, nothing above U+00FF.
fn expect_value(name: &str, value: &str) -> Result<(), HeaderError> {
    for c in value.chars() {
        if (u32::from(c) < 0x20 && c != '\t') || c == '\x7f' {
            return Err(HeaderError::ControlCharacterInValue {
                name: name.to_owned(),
                value: value.to_owned(),
                character: c,
            });
        }
        if u32::from(c) > 0xff {
            return Err(HeaderError::NotLatin1 {
                name: name.to_owned(),
                character: c,
            });
        }
    }
    Ok(())
}

fn expect_pair(name: &str, value: &str) -> Result<(), HeaderError> {
    expect_name(name, name)?;
    expect_value(name, value)
}

/// The value `add_header(name, value, **params)` appends, or the error it reports.
fn expect_add_header(
    name: &str,
    value: Option<&str>,
    params: &[(String, Option<String>)],
) -> Result<String, HeaderError> {
    let mut parts: Vec<String> = value.into_iter().map(str::to_owned).collect();
    for (key, param) in params {
        expect_name(key, &format!("{name}; {key}"))?;
        let key = key.replace('_', "-");
        match param.as_deref() {
            None | Some("") => parts.push(key),
            Some(param) => {
                expect_value(name, param)?;
                let escaped = param.replace('\\', "\\\\").replace('"', "\\\"");
                parts.push(format!("{key}=\"{escaped}\""));
            }
        }
    }
    let joined = parts.join("; ");
    expect_pair(name, &joined)?;
    Ok(joined)
}

fn push_latin1(s: &str, out: &mut Vec<u8>) {
    out.extend(
        s.chars()
            .map(|c| u8::try_from(u32::from(c)).expect("the model holds latin-1 text only")),
    );
}

/// The model: the pairs; each pair's wire line, encoded once (re-encoding every line after
/// every step would dominate the run time); and an estimate of the real container's text
/// length that mirrors headers.rs's compaction rule, only to confirm the workload makes
/// compaction run.
#[derive(Default)]
struct HeadersModel {
    pairs: Vec<(String, String)>,
    lines: Vec<Vec<u8>>,
    text: usize,
    compactions: usize,
}

impl HeadersModel {
    fn push(&mut self, name: &str, value: &str) {
        self.text += name.len() + value.len() + 4;
        self.pairs.push((name.to_owned(), value.to_owned()));
        let mut line = Vec::new();
        push_latin1(name, &mut line);
        line.extend_from_slice(b": ");
        push_latin1(value, &mut line);
        line.extend_from_slice(b"\r\n");
        self.lines.push(line);
    }

    fn remove(&mut self, name: &str) -> usize {
        let before = self.pairs.len();
        let keep: Vec<bool> = self
            .pairs
            .iter()
            .map(|(n, _)| !same_name(n, name))
            .collect();
        let mut flags = keep.iter();
        self.pairs.retain(|_| *flags.next().unwrap());
        let mut flags = keep.iter();
        self.lines.retain(|_| *flags.next().unwrap());
        let removed = before - self.pairs.len();
        if removed > 0 {
            let live: usize = self.pairs.iter().map(|(n, v)| n.len() + v.len() + 4).sum();
            if self.pairs.is_empty() {
                self.text = 0;
            } else if self.text > 2 * live + 256 {
                self.text = live;
                self.compactions += 1;
            }
        }
        removed
    }

    fn first(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| same_name(n, name))
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(n, _)| same_name(n, name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn borrowed(&self) -> Vec<(&str, &str)> {
        self.pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    fn wire(&self) -> Vec<u8> {
        let mut out = self.lines.concat();
        out.extend_from_slice(b"\r\n");
        out
    }
}

#[derive(Debug, Clone)]
enum HeaderOp {
    Set(String, String),
    Append(String, String),
    Remove(String),
    SetDefault(String, String),
    Get(String),
    GetAll(String),
    Contains(String),
    AddHeader(String, Option<String>, Vec<(String, Option<String>)>),
    /// Build equal (and unequal) Headers other ways and compare them with `==`.
    Rebuild {
        bad_at: usize,
    },
}

/// Random header operations. With `ascii`, nothing non-ASCII is ever stored (non-ASCII text
/// only appears in lookups and in refused calls), which keeps `to_bytes` on its copy path.
struct HeaderGen {
    rng: Rng,
    ascii: bool,
}

impl HeaderGen {
    fn value(&mut self) -> String {
        let rng = &mut self.rng;
        let len = match rng.below(24) {
            0 => rng.range(300, 600),
            1 | 2 => rng.range(40, 120),
            _ => rng.range(0, 12),
        };
        let value: String = (0..len)
            .map(|_| match rng.below(40) {
                0 => '\t',
                1..=4 if !self.ascii => rng.pick(LATIN1),
                5 => '"',
                6 => '\\',
                _ => rng.ascii(0x20, 0x7e),
            })
            .collect();
        if rng.one_in(12) {
            let bad = if rng.one_in(2) {
                rng.pick(CONTROLS)
            } else {
                rng.pick(NOT_LATIN1)
            };
            return rng.insert_char(&value, bad);
        }
        value
    }

    fn pool_name(&mut self) -> &'static str {
        loop {
            let name = self.rng.pick(HEADER_NAMES);
            if !self.ascii || name.is_ascii() {
                return name;
            }
        }
    }

    /// A short random name: collisions between tokens are likely.
    fn token(&mut self) -> String {
        let alphabet: &[char] = if self.ascii {
            &['a', 'A', 'b', '-', 'k', '_']
        } else {
            &['a', 'A', 'b', '-', 'é', 'É', 'k', '_']
        };
        let len = self.rng.range(1, 3);
        (0..len).map(|_| self.rng.pick(alphabet)).collect()
    }

    /// `name` with each character upper-cased, lower-cased, kept, or swapped for a character
    /// above U+00FF that lower-cases to the same text.
    fn case_variant(&mut self, name: &str) -> String {
        let mut out = String::new();
        for c in name.chars() {
            match (self.rng.below(4), c) {
                (0, _) => out.extend(c.to_uppercase()),
                (1, _) => out.extend(c.to_lowercase()),
                (2, 'k' | 'K') => out.push('\u{212a}'),
                (2, 'ß') => out.push('\u{1e9e}'),
                _ => out.push(c),
            }
        }
        out
    }

    /// A stored name in another case.
    fn existing_name(&mut self, model: &HeadersModel) -> String {
        if model.pairs.is_empty() {
            self.pool_name().to_owned()
        } else {
            let i = self.rng.below(model.pairs.len());
            self.case_variant(&model.pairs[i].0)
        }
    }

    /// A name to store: usually valid, sometimes not.
    fn name(&mut self, model: &HeadersModel) -> String {
        match self.rng.below(20) {
            0 => self.existing_name(model),
            1 => self.token(),
            2 => {
                let bad = match self.rng.below(3) {
                    0 => self.rng.pick(CONTROLS),
                    1 => '\t',
                    _ => self.rng.pick(NOT_LATIN1),
                };
                let name = self.pool_name();
                self.rng.insert_char(name, bad)
            }
            _ => self.pool_name().to_owned(),
        }
    }

    /// A name to look up (never validated).
    fn query(&mut self, model: &HeadersModel) -> String {
        match self.rng.below(10) {
            0..=2 => self.existing_name(model),
            3 => self.rng.pick(QUERY_ONLY).to_owned(),
            4 => self.token(),
            _ => self.pool_name().to_owned(),
        }
    }

    fn params(&mut self) -> Vec<(String, Option<String>)> {
        const KEYS: &[&str] = &["filename", "name", "charset", "a_b", "x", "cl\u{e9}"];
        const BAD_KEYS: &[&str] = &["bad\nkey", "k\u{2615}", "tab\tkey", ""];
        (0..self.rng.range(0, 3))
            .map(|_| {
                let key = if self.rng.one_in(15) {
                    self.rng.pick(BAD_KEYS)
                } else {
                    let key = self.rng.pick(KEYS);
                    if self.ascii && !key.is_ascii() {
                        "x"
                    } else {
                        key
                    }
                };
                let value = match self.rng.below(5) {
                    0 => None,
                    1 => Some(String::new()),
                    _ => Some(self.value()),
                };
                (key.to_owned(), value)
            })
            .collect()
    }

    fn op(&mut self, model: &HeadersModel) -> HeaderOp {
        match self.rng.below(100) {
            0..=14 => HeaderOp::Set(self.name(model), self.value()),
            15..=30 => HeaderOp::Append(self.name(model), self.value()),
            31..=49 => HeaderOp::Remove(self.query(model)),
            50..=58 => {
                let name = if self.rng.one_in(2) {
                    self.query(model)
                } else {
                    self.name(model)
                };
                HeaderOp::SetDefault(name, self.value())
            }
            59..=70 => HeaderOp::Get(self.query(model)),
            71..=79 => HeaderOp::GetAll(self.query(model)),
            80..=86 => HeaderOp::Contains(self.query(model)),
            87..=96 => {
                let name = self.name(model);
                let value = (!self.rng.one_in(4)).then(|| self.value());
                HeaderOp::AddHeader(name, value, self.params())
            }
            _ => HeaderOp::Rebuild {
                bad_at: self.rng.below(model.pairs.len() + 1),
            },
        }
    }
}

/// Applies `op` to both and compares what the calls return.
fn apply_header_op(h: &mut Headers, m: &mut HeadersModel, op: &HeaderOp, ctx: &dyn fmt::Display) {
    match op {
        HeaderOp::Set(name, value) => {
            let want = expect_pair(name, value);
            // Both argument forms of `impl AsRef<str>`.
            let got = if name.len() % 2 == 0 {
                h.set(name, value)
            } else {
                h.set(name.clone(), value.as_str())
            };
            assert_eq!(got, want, "set result; {ctx}");
            if want.is_ok() {
                m.remove(name);
                m.push(name, value);
            }
        }
        HeaderOp::Append(name, value) => {
            let want = expect_pair(name, value);
            assert_eq!(h.append(name, value), want, "append result; {ctx}");
            if want.is_ok() {
                m.push(name, value);
            }
        }
        HeaderOp::Remove(name) => {
            let want = m.remove(name);
            assert_eq!(h.remove(name), want, "remove count; {ctx}");
        }
        HeaderOp::SetDefault(name, value) => {
            let want = match m.first(name) {
                Some(first) => Ok(first.to_owned()),
                None => expect_pair(name, value).map(|()| {
                    m.push(name, value);
                    value.clone()
                }),
            };
            let got = h.setdefault(name, value).map(str::to_owned);
            assert_eq!(got, want, "setdefault result; {ctx}");
        }
        HeaderOp::Get(name) => {
            assert_eq!(h.get(name), m.first(name), "get; {ctx}");
        }
        HeaderOp::GetAll(name) => {
            assert_eq!(h.get_all(name), m.all(name), "get_all; {ctx}");
        }
        HeaderOp::Contains(name) => {
            assert_eq!(h.contains(name), m.first(name).is_some(), "contains; {ctx}");
        }
        HeaderOp::AddHeader(name, value, params) => {
            let want = expect_add_header(name, value.as_deref(), params);
            let borrowed: Vec<(&str, Option<&str>)> = params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_deref()))
                .collect();
            let got = h.add_header(name, value.as_deref(), &borrowed);
            assert_eq!(
                got,
                want.as_ref().map(|_| ()).map_err(Clone::clone),
                "add_header; {ctx}"
            );
            if let Ok(joined) = want {
                m.push(name, &joined);
            }
        }
        HeaderOp::Rebuild { bad_at } => rebuild_headers(h, m, *bad_at, ctx),
    }
}

/// Headers built other ways from the same pairs compare equal; changed ones do not.
fn rebuild_headers(h: &Headers, m: &HeadersModel, bad_at: usize, ctx: &dyn fmt::Display) {
    let want = m.borrowed();

    let from_pairs = Headers::from_pairs(want.iter().copied()).expect("model pairs are valid");
    assert!(from_pairs == *h, "from_pairs == original; {ctx}");
    assert_eq!(
        from_pairs.to_bytes(),
        h.to_bytes(),
        "from_pairs wire; {ctx}"
    );

    let try_from = Headers::try_from(m.pairs.clone()).expect("model pairs are valid");
    assert_eq!(try_from, *h, "try_from == original; {ctx}");

    // Appends interleaved with junk that is removed again: different internal text.
    let mut appended = Headers::new();
    for (i, &(name, value)) in want.iter().enumerate() {
        if i % 3 == 0 {
            appended.append("Junk-\u{e9}", "x".repeat(100)).unwrap();
        }
        appended.append(name, value).unwrap();
    }
    appended.remove("JUNK-\u{c9}");
    assert_eq!(appended, *h, "appended == original; {ctx}");
    assert_eq!(appended.to_bytes(), m.wire(), "appended wire; {ctx}");

    let clone = h.clone();
    assert_eq!(clone, *h, "clone == original; {ctx}");
    assert_eq!(clone.into_items(), m.pairs, "into_items; {ctx}");

    let mut longer = h.clone();
    longer.append("X-Extra", "1").unwrap();
    assert_ne!(longer, *h, "one more pair; {ctx}");
    if let Some((name, value)) = want.first() {
        // `==` compares names exactly, not case-insensitively.
        let renamed = format!("{name}-");
        let mut changed = want.clone();
        changed[0] = (&renamed, value);
        assert_ne!(
            Headers::from_pairs(changed).unwrap(),
            *h,
            "renamed pair; {ctx}"
        );
        let upper = name.to_ascii_uppercase();
        if upper != *name {
            let mut changed = want.clone();
            changed[0] = (&upper, value);
            assert_ne!(Headers::from_pairs(changed).unwrap(), *h, "recased; {ctx}");
        }
    }

    // An invalid pair anywhere makes from_pairs fail with that pair's error.
    let mut with_bad = want.clone();
    with_bad.insert(bad_at.min(want.len()), ("X-Bad", "a\r\nInjected: 1"));
    assert_eq!(
        Headers::from_pairs(with_bad).unwrap_err(),
        HeaderError::ControlCharacterInValue {
            name: "X-Bad".into(),
            value: "a\r\nInjected: 1".into(),
            character: '\r',
        },
        "from_pairs with an invalid pair; {ctx}"
    );
}

/// Which wire-form checks [`check_headers`] makes (they dominate the run time in debug builds,
/// so they are made after the calls that may change the headers, not after lookups).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    Skip,
    ToBytes,
    /// `write_to` after a prefix instead of `to_bytes` (the same code underneath).
    WriteTo,
}

/// Compares everything observable about `h` with the model.
fn check_headers(h: &Headers, m: &HeadersModel, wire: Wire, ctx: &dyn fmt::Display) {
    let want = m.borrowed();
    assert_eq!(h.len(), want.len(), "len; {ctx}");
    assert_eq!(h.is_empty(), want.is_empty(), "is_empty; {ctx}");
    assert_eq!(h.iter().collect::<Vec<_>>(), want, "iter; {ctx}");
    assert_eq!(h.iter().len(), want.len(), "iter().len(); {ctx}");
    assert!(
        h.iter().rev().eq(want.iter().rev().copied()),
        "iter().rev(); {ctx}"
    );
    let mut looped = Vec::new();
    for pair in h {
        looped.push(pair); // `IntoIterator for &Headers`
    }
    assert_eq!(looped, want, "for pair in &headers; {ctx}");

    // Both ends at once: front, back, front, ...
    let mut iter = h.iter();
    let (mut lo, mut hi) = (0, want.len());
    for turn in 0.. {
        assert_eq!(iter.len(), hi - lo, "len while walking both ends; {ctx}");
        let (got, expected) = if turn % 2 == 0 {
            (iter.next(), (lo < hi).then(|| want[lo]))
        } else {
            (iter.next_back(), (lo < hi).then(|| want[hi - 1]))
        };
        assert_eq!(got, expected, "walk both ends, turn {turn}; {ctx}");
        if got.is_none() {
            break;
        }
        if turn % 2 == 0 {
            lo += 1;
        } else {
            hi -= 1;
        }
    }

    let keys: Vec<&str> = want.iter().map(|&(n, _)| n).collect();
    let values: Vec<&str> = want.iter().map(|&(_, v)| v).collect();
    assert_eq!(h.keys(), keys, "keys; {ctx}");
    assert_eq!(h.values(), values, "values; {ctx}");
    assert_eq!(h.items(), m.pairs, "items; {ctx}");

    if wire == Wire::Skip {
        return;
    }
    let expected = m.wire();
    if wire == Wire::WriteTo {
        let mut out = b"HTTP/1.1 200 OK\r\n".to_vec();
        h.write_to(&mut out);
        assert_eq!(out[17..], expected[..], "write_to; {ctx}");
    } else {
        assert_eq!(h.to_bytes(), expected, "to_bytes; {ctx}");
    }
    let mut text = String::new();
    for (name, value) in &m.pairs {
        text.extend([name.as_str(), ": ", value.as_str(), "\r\n"]);
    }
    text.push_str("\r\n");
    assert_eq!(h.to_string(), text, "to_string; {ctx}");
}

#[test]
fn headers_match_a_vec_model() {
    // (seed, ASCII only)
    const SEEDS: &[(u64, bool)] = &[
        (1, false),
        (2, false),
        (0xdead_beef, false),
        (0x1234_5678_9abc_def0, false),
        (7, true),
        (8, true),
    ];
    const STEPS: usize = 1_000;
    for &(seed, ascii) in SEEDS {
        let mut ops = HeaderGen {
            rng: Rng::new(seed),
            ascii,
        };
        let mut h = Headers::new();
        let mut m = HeadersModel::default();
        let (mut refused, mut max_len, mut no_garbage) = (0, 0, 0);
        for step in 0..STEPS {
            let op = ops.op(&m);
            let ctx = Ctx {
                test: "headers",
                seed,
                step,
                op: &op,
            };
            let _note = PanicNote(&ctx);
            let before = m.pairs.len();
            apply_header_op(&mut h, &mut m, &op, &ctx);
            let wire = match op {
                HeaderOp::Get(_)
                | HeaderOp::GetAll(_)
                | HeaderOp::Contains(_)
                | HeaderOp::Rebuild { .. } => Wire::Skip,
                _ if step % 4 == 0 => Wire::WriteTo,
                _ => Wire::ToBytes,
            };
            check_headers(&h, &m, wire, &ctx);
            if matches!(op, HeaderOp::Set(..) | HeaderOp::Append(..)) && m.pairs.len() == before {
                refused += 1;
            }
            max_len = max_len.max(m.pairs.len());
            let live: usize = m.pairs.iter().map(|(n, v)| n.len() + v.len() + 4).sum();
            if m.text == live && !m.pairs.is_empty() {
                no_garbage += 1;
            }
        }
        if ascii {
            assert!(
                m.pairs.iter().all(|(n, v)| n.is_ascii() && v.is_ascii()),
                "seed {seed:#x}: an ASCII-only run stored non-ASCII text"
            );
        }
        // The workload reaches what it means to: refused calls, compaction, and states where
        // the text holds no removed pairs (with ASCII-only text, to_bytes's copy path).
        assert!(refused > 20, "seed {seed:#x}: only {refused} refused calls");
        assert!(
            m.compactions > 5,
            "seed {seed:#x}: only {} compactions",
            m.compactions
        );
        assert!(
            no_garbage > 50,
            "seed {seed:#x}: only {no_garbage} steps without garbage"
        );
        assert!(
            max_len < 100,
            "seed {seed:#x}: the headers grew to {max_len}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Environ
// ---------------------------------------------------------------------------------------------

/// Variable names: case-sensitive, so the case variants here are all distinct.
const ENV_KEYS: &[&str] = &[
    "REQUEST_METHOD",
    "PATH_INFO",
    "path_info",
    "QUERY_STRING",
    "HTTP_HOST",
    "HTTP_COOKIE",
    "CONTENT_TYPE",
    "SERVER_PORT",
    "X_CL\u{c9}",
    "x_cl\u{e9}",
    "K",
    "k",
    "\u{212a}",
    "\u{2615}",
    "",
];

/// The model: variables in insertion order, plus an estimate of the real container's text
/// and garbage that mirrors environ.rs's compaction rule (more than 4 KiB of unused text, and
/// more than half the text), only to confirm the workload makes compaction run.
#[derive(Default)]
struct EnvModel {
    vars: Vec<(String, String)>,
    text: usize,
    garbage: usize,
    compactions: usize,
}

impl EnvModel {
    fn position(&self, key: &str) -> Option<usize> {
        self.vars.iter().position(|(k, _)| k == key)
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.position(key).map(|i| self.vars[i].1.as_str())
    }

    fn push(&mut self, key: &str, value: &str) {
        self.text += key.len() + value.len();
        self.vars.push((key.to_owned(), value.to_owned()));
    }

    fn insert(&mut self, key: &str, value: &str) -> Option<String> {
        match self.position(key) {
            Some(i) => {
                let old = std::mem::replace(&mut self.vars[i].1, value.to_owned());
                self.text += value.len();
                self.discard(old.len());
                Some(old)
            }
            None => {
                self.push(key, value);
                None
            }
        }
    }

    fn remove(&mut self, key: &str) -> Option<String> {
        let (key, old) = self.vars.remove(self.position(key)?);
        self.discard(key.len() + old.len());
        Some(old)
    }

    fn discard(&mut self, bytes: usize) {
        self.garbage += bytes;
        if self.garbage > 4096 && self.garbage > self.text / 2 {
            self.text = self.vars.iter().map(|(k, v)| k.len() + v.len()).sum();
            self.garbage = 0;
            self.compactions += 1;
        }
    }

    fn borrowed(&self) -> Vec<(&str, &str)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

#[derive(Debug, Clone)]
enum EnvOp {
    Insert {
        key: String,
        value: String,
        owned: bool,
    },
    InsertStatic(&'static str, String),
    InsertBytes(String, Vec<u8>),
    Remove(String),
    SetDefault(String, String),
    Get(String),
    Contains(String),
    GetBytes(String),
    GetUtf8(String),
    /// Build equal environs with `collect` and `extend` and compare their variables.
    Rebuild,
}

fn env_key(rng: &mut Rng) -> String {
    if rng.one_in(10) {
        let len = rng.range(1, 2);
        (0..len)
            .map(|_| rng.pick(&['a', 'A', '\u{e9}', '\u{212a}', '_']))
            .collect()
    } else {
        rng.pick(ENV_KEYS).to_owned()
    }
}

fn env_len(rng: &mut Rng) -> usize {
    match rng.below(20) {
        0 => rng.range(500, 2_800),
        1..=3 => rng.range(30, 200),
        _ => rng.range(0, 16),
    }
}

/// Any text: ASCII (controls included), latin-1, and characters beyond.
fn env_value(rng: &mut Rng) -> String {
    let len = env_len(rng);
    (0..len)
        .map(|_| match rng.below(20) {
            0..=3 => char::from(rng.range(0x80, 0xff) as u8),
            4 => rng.pick(NOT_LATIN1),
            5 => char::from_u32(rng.range(0x100, 0x2_ffff) as u32).unwrap_or('\u{fffd}'),
            _ => rng.ascii(0, 0x7f),
        })
        .collect()
}

fn env_bytes(rng: &mut Rng) -> Vec<u8> {
    if rng.one_in(2) {
        // Valid UTF-8 (so get_utf8 succeeds), perhaps with a stray byte.
        let mut bytes = env_value(rng).into_bytes();
        if rng.one_in(4) {
            let at = rng.below(bytes.len() + 1);
            bytes.insert(at, rng.range(0x80, 0xff) as u8);
        }
        bytes
    } else {
        let len = env_len(rng);
        (0..len).map(|_| rng.below(256) as u8).collect()
    }
}

fn env_op(rng: &mut Rng) -> EnvOp {
    match rng.below(100) {
        0..=29 => EnvOp::Insert {
            key: env_key(rng),
            value: env_value(rng),
            owned: rng.one_in(2),
        },
        30..=34 => EnvOp::InsertStatic(rng.pick(ENV_KEYS), env_value(rng)),
        35..=46 => EnvOp::InsertBytes(env_key(rng), env_bytes(rng)),
        47..=62 => EnvOp::Remove(env_key(rng)),
        63..=71 => EnvOp::SetDefault(env_key(rng), env_value(rng)),
        72..=79 => EnvOp::Get(env_key(rng)),
        80..=84 => EnvOp::Contains(env_key(rng)),
        85..=91 => EnvOp::GetBytes(env_key(rng)),
        92..=97 => EnvOp::GetUtf8(env_key(rng)),
        _ => EnvOp::Rebuild,
    }
}

/// Applies `op` to both and compares what the calls return.
fn apply_env_op(env: &mut Environ, m: &mut EnvModel, op: &EnvOp, ctx: &dyn fmt::Display) {
    match op {
        EnvOp::Insert { key, value, owned } => {
            let want = m.insert(key, value);
            let got = if *owned {
                env.insert(key.clone(), value.clone())
            } else {
                env.insert(key.as_str(), value.as_str())
            };
            assert_eq!(got, want, "insert result; {ctx}");
        }
        EnvOp::InsertStatic(key, value) => {
            let want = m.insert(key, value);
            assert_eq!(env.insert_static(key, value), want, "insert_static; {ctx}");
        }
        EnvOp::InsertBytes(key, bytes) => {
            let decoded: String = bytes.iter().map(|&b| char::from(b)).collect();
            let want = m.insert(key, &decoded);
            assert_eq!(env.insert_bytes(key, bytes), want, "insert_bytes; {ctx}");
            assert_eq!(
                env.get_bytes(key).map(Result::ok),
                Some(Some(bytes.clone())),
                "get_bytes after insert_bytes; {ctx}"
            );
        }
        EnvOp::Remove(key) => {
            let want = m.remove(key);
            assert_eq!(env.remove(key), want, "remove result; {ctx}");
        }
        EnvOp::SetDefault(key, value) => {
            let want = match m.get(key) {
                Some(old) => old.to_owned(),
                None => {
                    m.push(key, value);
                    value.clone()
                }
            };
            assert_eq!(env.set_default(key, value), want, "set_default; {ctx}");
        }
        EnvOp::Get(key) => assert_eq!(env.get(key), m.get(key), "get; {ctx}"),
        EnvOp::Contains(key) => {
            assert_eq!(env.contains(key), m.get(key).is_some(), "contains; {ctx}");
        }
        EnvOp::GetBytes(key) => {
            let want = m.get(key).map(|value| {
                match value
                    .chars()
                    .enumerate()
                    .find(|&(_, c)| u32::from(c) > 0xff)
                {
                    None => Ok(value
                        .chars()
                        .map(|c| u32::from(c) as u8)
                        .collect::<Vec<u8>>()),
                    Some((index, c)) => Err((value.to_owned(), c, index)),
                }
            });
            let got = env
                .get_bytes(key)
                .map(|r| r.map_err(|e| (e.value, e.character, e.index)));
            assert_eq!(got, want, "get_bytes; {ctx}");
        }
        EnvOp::GetUtf8(key) => {
            let got = env.get_utf8(key);
            match (m.get(key), got) {
                (None, None) => {}
                (Some(value), Some(got)) => {
                    let want = if value.chars().all(|c| u32::from(c) <= 0xff) {
                        let bytes: Vec<u8> = value.chars().map(|c| u32::from(c) as u8).collect();
                        Some(String::from_utf8(bytes).map_err(|e| e.utf8_error().valid_up_to()))
                    } else {
                        None
                    };
                    match (want, got) {
                        (None, Err(latin1::Utf8Error::NotLatin1(_))) => {}
                        (Some(Ok(want)), Ok(got)) => assert_eq!(got, want, "get_utf8; {ctx}"),
                        (
                            Some(Err(valid_up_to)),
                            Err(latin1::Utf8Error::InvalidUtf8 {
                                value: got_value,
                                valid_up_to: got_valid,
                            }),
                        ) => {
                            assert_eq!(
                                (got_value.as_str(), got_valid),
                                (value, valid_up_to),
                                "get_utf8 error; {ctx}"
                            );
                        }
                        (want, got) => panic!("get_utf8: want {want:?}, got {got:?}; {ctx}"),
                    }
                }
                (want, got) => panic!("get_utf8: model {want:?}, got {got:?}; {ctx}"),
            }
        }
        EnvOp::Rebuild => {
            let want = m.borrowed();
            let collected: Environ = want.iter().copied().collect();
            assert!(collected.iter().eq(want.iter().copied()), "collect; {ctx}");
            // Placeholders first, in reverse: later inserts replace in place, keeping that order.
            let mut extended = Environ::new();
            extended.extend(want.iter().rev().map(|&(k, _)| (k, "placeholder")));
            extended.extend(want.iter().copied());
            assert!(
                extended.iter().eq(want.iter().rev().copied()),
                "extend; {ctx}"
            );
        }
    }
}

/// Compares everything observable about the variables with the model.
fn check_env(env: &Environ, m: &EnvModel, ctx: &dyn fmt::Display) {
    let want = m.borrowed();
    assert_eq!(env.len(), want.len(), "len; {ctx}");
    assert_eq!(env.is_empty(), want.is_empty(), "is_empty; {ctx}");
    assert_eq!(env.iter().collect::<Vec<_>>(), want, "iter; {ctx}");
    assert!(env.keys().eq(want.iter().map(|&(k, _)| k)), "keys; {ctx}");
    for &(key, value) in &want {
        assert_eq!(env.get(key), Some(value), "get({key:?}); {ctx}");
    }
    assert_eq!(env.get("NOT_SET"), None, "get(absent); {ctx}");
}

#[test]
fn environ_variables_match_a_vec_model() {
    const SEEDS: &[u64] = &[1, 2, 3, 0xdead_beef, 0x1234_5678_9abc_def0];
    const STEPS: usize = 2_000;
    for &seed in SEEDS {
        let mut rng = Rng::new(seed);
        let mut env = Environ::new();
        let mut m = EnvModel::default();
        for step in 0..STEPS {
            let op = env_op(&mut rng);
            let ctx = Ctx {
                test: "environ",
                seed,
                step,
                op: &op,
            };
            let _note = PanicNote(&ctx);
            apply_env_op(&mut env, &mut m, &op, &ctx);
            check_env(&env, &m, &ctx);
        }
        // The workload makes the variables' text compaction run, many times.
        assert!(
            m.compactions > 10,
            "seed {seed:#x}: only {} compactions",
            m.compactions
        );
    }
}
