//! The PEP 3333 environ: CGI variables as strings, `wsgi.*` entries as typed fields.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::fmt;
use std::io::{self, BufRead, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::RoutingArgs;
use crate::latin1;

/// The CGI variables: a small vector searched linearly, which for the 20 to 40 variables of a
/// request is faster to build and to read than a tree or a hash map, and keeps insertion order.
/// Room reserved on the first insert: a server's request environ holds 20 to 40 variables.
const TYPICAL_VARS: usize = 32;

/// The variables: one string holding every name and value, and a small table of spans into
/// it, searched linearly (for the 20 to 40 variables of a request that is faster to build and
/// to read than a tree or a hash map, and it keeps insertion order). A server copies a
/// request's head into the string once and makes every variable taken from it a span: no
/// allocation and no reference count per variable, and entries are plain offsets.
#[derive(Debug, Default, Clone)]
struct Vars {
    entries: Vec<Entry>,
    text: String,
    /// Bytes of `text` that no entry uses any more (replaced or removed values).
    garbage: usize,
    /// One bit per key length present (see [`length_bit`]; a removed key's bit stays): a
    /// lookup of a name no key is as long as, such as `HTTPS` in a plain HTTP request's
    /// environ, answers without a scan.
    lengths: u64,
}

/// The bit of [`Vars::lengths`] for keys of `len` bytes (every length from 63 up shares one).
fn length_bit(len: usize) -> u64 {
    1 << len.min(63)
}

/// A variable: its name is `text[key.0..key.1]`, its value `text[value.0..value.1]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    key: (usize, usize),
    value: (usize, usize),
}

impl Vars {
    fn key(&self, entry: &Entry) -> &str {
        self.text.get(entry.key.0..entry.key.1).unwrap_or_default()
    }

    fn value(&self, entry: &Entry) -> &str {
        self.text
            .get(entry.value.0..entry.value.1)
            .unwrap_or_default()
    }

    fn position(&self, key: &str) -> Option<usize> {
        // Lengths first: most names differ in length, and comparing two numbers is cheaper
        // than slicing the text.
        if self.lengths & length_bit(key.len()) == 0 {
            return None;
        }
        let text = self.text.as_bytes();
        self.entries.iter().position(|e| {
            e.key.1 - e.key.0 == key.len() && text.get(e.key.0..e.key.1) == Some(key.as_bytes())
        })
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.position(key).map(|i| self.value(&self.entries[i]))
    }

    /// Appends `text` and returns its span.
    #[inline]
    fn append(&mut self, text: &str) -> (usize, usize) {
        let start = self.text.len();
        self.text.push_str(text);
        (start, self.text.len())
    }

    fn insert(&mut self, key: &str, value: &str) -> Option<String> {
        match self.position(key) {
            Some(i) => {
                let old = self.value(&self.entries[i]).to_owned();
                let span = self.append(value);
                self.entries[i].value = span;
                self.discard(old.len());
                Some(old)
            }
            None => {
                self.push(key, value);
                None
            }
        }
    }

    /// Appends without looking for the key: the caller knows it is not there.
    #[inline]
    fn push(&mut self, key: &str, value: &str) {
        let key = self.append(key);
        let value = self.append(value);
        self.push_entry(Entry { key, value });
    }

    #[inline]
    fn push_entry(&mut self, entry: Entry) {
        self.lengths |= length_bit(entry.key.1 - entry.key.0);
        if self.entries.capacity() == 0 {
            self.entries.reserve(TYPICAL_VARS);
        }
        self.entries.push(entry);
    }

    fn remove(&mut self, key: &str) -> Option<String> {
        let i = self.position(key)?;
        let entry = self.entries.remove(i);
        let old = self.value(&entry).to_owned();
        self.discard(entry.key.1 - entry.key.0 + old.len());
        Some(old)
    }

    /// Notes `bytes` of unused text, and compacts the text once they outweigh the rest.
    fn discard(&mut self, bytes: usize) {
        self.garbage += bytes;
        if self.garbage > 4096 && self.garbage > self.text.len() / 2 {
            // Spans may overlap (a server's REQUEST_URI holds its QUERY_STRING), so the count
            // of unused bytes is an estimate: it only decides when to compact.
            let mut text = String::with_capacity(self.text.len().saturating_sub(self.garbage));
            for entry in &mut self.entries {
                let key = (text.len(), text.len() + entry.key.1 - entry.key.0);
                text.push_str(&self.text[entry.key.0..entry.key.1]);
                let value = (text.len(), text.len() + entry.value.1 - entry.value.0);
                text.push_str(&self.text[entry.value.0..entry.value.1]);
                *entry = Entry { key, value };
            }
            self.text = text;
            self.garbage = 0;
        }
    }
}

/// Variables every request of a server starts with, laid out once (see
/// [`Environ::push_prefix`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct VarsPrefix(Vars);

impl VarsPrefix {
    pub(crate) fn new(vars: &[(&str, &str)]) -> Self {
        let mut prefix = Vars::default();
        for (key, value) in vars {
            prefix.push(key, value);
        }
        VarsPrefix(prefix)
    }
}

/// The allocations behind an environ's variables and routing arguments, recycled between
/// requests.
#[derive(Debug, Default)]
pub(crate) struct VarStorage(Vec<Entry>, String, RoutingArgs);

impl VarStorage {
    /// The memory it holds, in bytes.
    pub(crate) fn bytes(&self) -> usize {
        self.0.capacity() * std::mem::size_of::<Entry>() + self.1.capacity() + self.2.capacity()
    }
}

/// The request environment handed to every [`App`](crate::App).
///
/// CGI and HTTP variables (`REQUEST_METHOD`, `PATH_INFO`, `HTTP_HOST`, ...) are strings with
/// map-like access, iterated in insertion order. Their values are PEP 3333 "bytes in unicode":
/// a server decodes request bytes as latin-1, so every character stands for one byte;
/// [`get_bytes`](Environ::get_bytes) and [`get_utf8`](Environ::get_utf8) get the bytes or the
/// UTF-8 text back.
///
/// The `wsgi.*` entries are typed fields: [`version`](Environ::version),
/// [`url_scheme`](Environ::url_scheme), [`input`](Environ::input),
/// [`errors`](Environ::errors), [`multithread`](Environ::multithread),
/// [`multiprocess`](Environ::multiprocess), [`run_once`](Environ::run_once),
/// [`file_wrapper`](Environ::file_wrapper) and
/// [`input_terminated`](Environ::input_terminated). Server- or middleware-specific values
/// travel by type in [`extensions`](Environ::extensions).
///
/// ```
/// use gateway::Environ;
///
/// let mut env = Environ::new();
/// env.insert("REQUEST_METHOD", "GET");
/// env.insert("PATH_INFO", "/caf\u{c3}\u{a9}"); // the bytes b"/caf\xc3\xa9", as latin-1
/// assert_eq!(env.get("REQUEST_METHOD"), Some("GET"));
/// assert_eq!(env.get_utf8("PATH_INFO").unwrap().unwrap(), "/café");
/// assert_eq!(env.url_scheme(), "http");
/// assert_eq!(env.keys().collect::<Vec<_>>(), ["REQUEST_METHOD", "PATH_INFO"]);
/// ```
///
/// The typed `wsgi.*` entries and the extension slot:
///
/// ```
/// use gateway::{Environ, Input};
/// use std::io::Read;
///
/// let mut env = Environ::new();
/// assert_eq!(env.version(), (1, 0));
/// assert!(!env.has_url_scheme());
/// env.set_url_scheme("https");
/// env.set_multithread(true);
/// env.set_input(Input::from_bytes(b"a=1".to_vec()));
/// let mut body = String::new();
/// env.input().read_to_string(&mut body).unwrap();
/// assert_eq!((env.url_scheme(), env.multithread(), body.as_str()), ("https", true, "a=1"));
///
/// struct RequestId(u64);
/// env.extensions_mut().insert(RequestId(7));
/// assert_eq!(env.extensions().get::<RequestId>().map(|r| r.0), Some(7));
///
/// assert_eq!(env.set_default("SCRIPT_NAME", "/app"), "/app");
/// assert_eq!(env.set_default("SCRIPT_NAME", "/other"), "/app"); // present: kept
/// assert_eq!(env.remove("SCRIPT_NAME").as_deref(), Some("/app"));
/// assert!(!env.contains("SCRIPT_NAME"));
/// ```
pub struct Environ {
    vars: Vars,
    url_scheme: Option<Cow<'static, str>>,
    input: Input,
    errors: ErrorStream,
    multithread: bool,
    multiprocess: bool,
    run_once: bool,
    file_wrapper: bool,
    input_terminated: bool,
    routing_args: RoutingArgs,
    extensions: Extensions,
}

impl Environ {
    /// The `wsgi.version` every environ carries.
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// assert_eq!(Environ::VERSION, (1, 0));
    /// assert_eq!(Environ::new().version(), Environ::VERSION);
    /// ```
    pub const VERSION: (u32, u32) = (1, 0);

    /// An empty environ: no CGI variables, no url scheme set (it reads as `"http"`), an empty
    /// input, errors discarded, every flag false.
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// let env = Environ::new();
    /// assert!(env.is_empty());
    /// assert_eq!((env.url_scheme(), env.has_url_scheme()), ("http", false));
    /// assert!(!env.multithread() && !env.multiprocess() && !env.run_once());
    /// ```
    pub fn new() -> Self {
        Environ {
            vars: Vars::default(),
            url_scheme: None,
            input: Input::empty(),
            errors: ErrorStream::sink(),
            multithread: false,
            multiprocess: false,
            run_once: false,
            file_wrapper: false,
            input_terminated: false,
            routing_args: RoutingArgs::default(),
            extensions: Extensions::new(),
        }
    }

    /// The value of a CGI/HTTP variable.
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// let env: Environ = [("REQUEST_METHOD", "POST"), ("QUERY_STRING", "")].into_iter().collect();
    /// assert_eq!(env.get("REQUEST_METHOD"), Some("POST"));
    /// assert_eq!(env.get("QUERY_STRING"), Some(""));
    /// assert_eq!(env.get("request_method"), None); // names are case-sensitive
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key)
    }

    /// Sets a CGI/HTTP variable, returning the previous value.
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// let mut env = Environ::new();
    /// assert_eq!(env.insert("PATH_INFO", "/a"), None);
    /// assert_eq!(env.insert("PATH_INFO", "/b").as_deref(), Some("/a"));
    /// assert_eq!(env.get("PATH_INFO"), Some("/b"));
    /// ```
    pub fn insert(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> Option<String> {
        self.vars.insert(key.as_ref(), value.as_ref())
    }

    /// Sets a variable whose name is a `'static` string (the same as
    /// [`insert`](Environ::insert), kept for code written against earlier versions).
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// let mut env = Environ::new();
    /// env.insert_static("SERVER_PROTOCOL", "HTTP/1.1");
    /// assert_eq!(env.insert_static("SERVER_PROTOCOL", "HTTP/1.0").as_deref(), Some("HTTP/1.1"));
    /// assert_eq!(env.get("SERVER_PROTOCOL"), Some("HTTP/1.0"));
    /// ```
    pub fn insert_static(&mut self, key: &'static str, value: impl AsRef<str>) -> Option<String> {
        self.vars.insert(key, value.as_ref())
    }

    /// An empty environ that reuses `storage` (from [`take_storage`](Environ::take_storage)) for
    /// its variables: a server recycles it from one request to the next on a worker thread.
    pub(crate) fn with_storage(mut storage: VarStorage) -> Self {
        storage.0.clear();
        storage.1.clear();
        storage.2.clear();
        let mut environ = Environ::new();
        environ.routing_args = storage.2;
        environ.vars = Vars {
            entries: storage.0,
            text: storage.1,
            garbage: 0,
            lengths: 0,
        };
        environ
    }

    /// Takes the variables' storage (emptied) for [`with_storage`](Environ::with_storage),
    /// leaving this environ without variables (it is dropped next: taking the storage in
    /// place spares moving the whole environ).
    pub(crate) fn take_storage(&mut self) -> VarStorage {
        let mut vars = std::mem::take(&mut self.vars);
        vars.entries.clear();
        vars.text.clear();
        let mut args = std::mem::take(&mut self.routing_args);
        args.clear();
        VarStorage(vars.entries, vars.text, args)
    }

    /// Appends a server's fixed variables, without looking for existing ones: two copies.
    pub(crate) fn push_prefix(&mut self, prefix: &VarsPrefix) {
        let at = self.vars.text.len();
        self.vars.text.push_str(&prefix.0.text);
        self.vars.entries.reserve(TYPICAL_VARS);
        self.vars.lengths |= prefix.0.lengths;
        self.vars
            .entries
            .extend(prefix.0.entries.iter().map(|e| Entry {
                key: (e.key.0 + at, e.key.1 + at),
                value: (e.value.0 + at, e.value.1 + at),
            }));
    }

    /// Appends a variable without looking for an existing one: for servers building an
    /// environ whose names they know are distinct.
    #[inline]
    pub(crate) fn push_var(&mut self, key: &str, value: &str) {
        self.vars.push(key, value);
    }

    /// Appends a variable whose value is already in the text (see
    /// [`append_text`](Environ::append_text)), without looking for an existing one.
    #[inline]
    pub(crate) fn push_span(&mut self, key: &str, value: std::ops::Range<usize>) {
        let key = self.vars.append(key);
        self.vars.push_entry(Entry {
            key,
            value: (value.start, value.end),
        });
    }

    /// Appends `text` to the variables' text (for [`push_span`](Environ::push_span)) and
    /// returns where it starts.
    pub(crate) fn append_text(&mut self, text: &str) -> usize {
        self.vars.append(text).0
    }

    /// Appends a variable whose name `write_key` writes and whose value is a span of the
    /// text, or, when a variable of that name exists at or after position `from`, appends
    /// `,` and the value to it (as repeated request headers are joined). A server's header
    /// fields come last, so only they are searched, and only when `from` is `Some` (the
    /// caller passes `None` when it knows the name is new).
    pub(crate) fn push_or_join(
        &mut self,
        from: Option<usize>,
        write_key: impl FnOnce(&mut String),
        value: std::ops::Range<usize>,
    ) {
        let vars = &mut self.vars;
        let key_start = vars.text.len();
        write_key(&mut vars.text);
        let key = (key_start, vars.text.len());
        let Some(from) = from else {
            vars.push_entry(Entry {
                key,
                value: (value.start, value.end),
            });
            return;
        };
        let text = vars.text.as_bytes();
        let name = &text[key.0..key.1];
        let found = vars.entries[from.min(vars.entries.len())..]
            .iter()
            .position(|e| {
                e.key.1 - e.key.0 == name.len() && text.get(e.key.0..e.key.1) == Some(name)
            });
        match found {
            Some(i) => {
                // The key is there already: drop the copy just written, join the values.
                vars.text.truncate(key_start);
                let entry = vars.entries[from + i];
                let start = vars.text.len();
                vars.text.extend_from_within(entry.value.0..entry.value.1);
                vars.text.push(',');
                vars.text.extend_from_within(value);
                vars.garbage += entry.value.1 - entry.value.0;
                vars.entries[from + i].value = (start, vars.text.len());
            }
            None => vars.push_entry(Entry {
                key,
                value: (value.start, value.end),
            }),
        }
    }

    /// Removes a CGI/HTTP variable, returning its value.
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// let mut env: Environ = [("HTTP_COOKIE", "a=1")].into_iter().collect();
    /// assert_eq!(env.remove("HTTP_COOKIE").as_deref(), Some("a=1"));
    /// assert_eq!(env.remove("HTTP_COOKIE"), None);
    /// assert!(env.is_empty());
    /// ```
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.vars.remove(key)
    }

    /// True when the variable is present (even with an empty value).
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// let env: Environ = [("QUERY_STRING", "")].into_iter().collect();
    /// assert!(env.contains("QUERY_STRING"));
    /// assert!(!env.contains("CONTENT_TYPE"));
    /// ```
    pub fn contains(&self, key: &str) -> bool {
        self.vars.get(key).is_some()
    }

    /// Sets a variable only if absent (like Python's `dict.setdefault`), returning its value.
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// let mut env: Environ = [("SERVER_PORT", "8080")].into_iter().collect();
    /// assert_eq!(env.set_default("SERVER_PORT", "80"), "8080"); // present: kept
    /// assert_eq!(env.set_default("SERVER_NAME", "localhost"), "localhost"); // absent: set
    /// assert_eq!(env.len(), 2);
    /// ```
    pub fn set_default(&mut self, key: &str, value: impl AsRef<str>) -> &str {
        let index = match self.vars.position(key) {
            Some(index) => index,
            None => {
                self.vars.push(key, value.as_ref());
                self.vars.entries.len() - 1
            }
        };
        self.vars.value(&self.vars.entries[index])
    }

    /// The variables in insertion order.
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// let mut env = Environ::new();
    /// env.insert("REQUEST_METHOD", "GET");
    /// env.insert("PATH_INFO", "/");
    /// let vars: Vec<(&str, &str)> = env.iter().collect();
    /// assert_eq!(vars, [("REQUEST_METHOD", "GET"), ("PATH_INFO", "/")]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.vars
            .entries
            .iter()
            .map(|e| (self.vars.key(e), self.vars.value(e)))
    }

    /// The variable names in insertion order.
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// let env: Environ = [("b", "1"), ("a", "2"), ("b", "3")].into_iter().collect();
    /// assert_eq!(env.keys().collect::<Vec<_>>(), ["b", "a"]); // "b" was replaced in place
    /// ```
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.vars.entries.iter().map(|e| self.vars.key(e))
    }

    /// How many CGI/HTTP variables are set (the typed `wsgi.*` fields are not counted).
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// let mut env = Environ::new();
    /// env.set_url_scheme("https"); // a typed field: not counted
    /// assert!(env.is_empty());
    /// env.insert("PATH_INFO", "/");
    /// assert_eq!((env.len(), env.is_empty()), (1, false));
    /// ```
    pub fn len(&self) -> usize {
        self.vars.entries.len()
    }

    /// True when no CGI/HTTP variable is set (example at [`len`](Environ::len)).
    pub fn is_empty(&self) -> bool {
        self.vars.entries.is_empty()
    }

    /// The bytes a variable stands for (its latin-1 encoding).
    ///
    /// `Some(Err(_))` means the value holds a character above U+00FF, which a server never
    /// produces but an app or middleware might have inserted.
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// let mut env = Environ::new();
    /// env.insert_bytes("PATH_INFO", b"/caf\xc3\xa9");
    /// assert_eq!(env.get_bytes("PATH_INFO").unwrap()?, b"/caf\xc3\xa9");
    /// env.insert("X_NOTE", "\u{20ac}"); // not a "bytes in unicode" string
    /// assert!(env.get_bytes("X_NOTE").unwrap().is_err());
    /// assert!(env.get_bytes("MISSING").is_none());
    /// # Ok::<(), gateway::latin1::NotLatin1>(())
    /// ```
    pub fn get_bytes(&self, key: &str) -> Option<Result<Vec<u8>, latin1::NotLatin1>> {
        self.get(key).map(latin1::encode)
    }

    /// A variable's bytes decoded as UTF-8: the text the client meant.
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// let mut env = Environ::new();
    /// env.insert_bytes("PATH_INFO", "/naïve".as_bytes());
    /// env.insert_bytes("QUERY_STRING", b"q=\xff"); // not UTF-8
    /// assert_eq!(env.get_utf8("PATH_INFO").unwrap()?, "/naïve");
    /// assert!(env.get_utf8("QUERY_STRING").unwrap().is_err());
    /// # Ok::<(), gateway::latin1::Utf8Error>(())
    /// ```
    pub fn get_utf8(&self, key: &str) -> Option<Result<String, latin1::Utf8Error>> {
        self.get(key).map(latin1::to_utf8)
    }

    /// Sets a variable from raw bytes, decoding them as latin-1.
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// let mut env = Environ::new();
    /// env.insert_bytes("PATH_INFO", b"/\xe9t\xe9");
    /// assert_eq!(env.get("PATH_INFO"), Some("/\u{e9}t\u{e9}")); // one character per byte
    /// ```
    pub fn insert_bytes(&mut self, key: impl AsRef<str>, value: &[u8]) -> Option<String> {
        self.insert(key, latin1::decode(value))
    }

    /// `wsgi.version`: always `(1, 0)`.
    ///
    /// ```
    /// let (major, minor) = gateway::Environ::new().version();
    /// assert_eq!(format!("{major}.{minor}"), "1.0");
    /// ```
    pub fn version(&self) -> (u32, u32) {
        Self::VERSION
    }

    /// `wsgi.url_scheme`: `"http"` unless set otherwise.
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// let mut env = Environ::new();
    /// assert_eq!((env.url_scheme(), env.has_url_scheme()), ("http", false));
    /// env.set_url_scheme("https");
    /// assert_eq!((env.url_scheme(), env.has_url_scheme()), ("https", true));
    /// ```
    pub fn url_scheme(&self) -> &str {
        self.url_scheme.as_deref().unwrap_or("http")
    }

    /// True when `wsgi.url_scheme` was set explicitly (rather than defaulting to `"http"`;
    /// example at [`url_scheme`](Environ::url_scheme)).
    pub fn has_url_scheme(&self) -> bool {
        self.url_scheme.is_some()
    }

    /// Sets `wsgi.url_scheme` (example at [`url_scheme`](Environ::url_scheme)).
    pub fn set_url_scheme(&mut self, scheme: impl Into<String>) {
        self.url_scheme = Some(Cow::Owned(scheme.into()));
    }

    /// Sets `wsgi.url_scheme` to a `'static` string (no allocation).
    pub(crate) fn set_url_scheme_static(&mut self, scheme: &'static str) {
        self.url_scheme = Some(Cow::Borrowed(scheme));
    }

    /// `wsgi.input`: the request body stream.
    ///
    /// ```
    /// use std::io::Read;
    /// use gateway::Environ;
    ///
    /// let mut env = Environ::new();
    /// let mut body = String::new();
    /// env.input().read_to_string(&mut body)?;
    /// assert_eq!(body, ""); // a new environ's input is empty
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn input(&mut self) -> &mut Input {
        &mut self.input
    }

    /// Replaces `wsgi.input`, returning the old stream.
    ///
    /// ```
    /// use std::io::Read;
    /// use gateway::{Environ, Input};
    ///
    /// let mut env = Environ::new();
    /// env.set_input(Input::from_bytes("name=value"));
    /// let mut old = env.set_input(Input::empty()); // e.g. a middleware that buffers the body
    /// let mut body = String::new();
    /// old.read_to_string(&mut body)?;
    /// assert_eq!(body, "name=value");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_input(&mut self, input: Input) -> Input {
        std::mem::replace(&mut self.input, input)
    }

    /// `wsgi.errors`: where the app writes diagnostics.
    ///
    /// ```
    /// use std::io::Write;
    /// use gateway::{Environ, ErrorStream, SharedBuffer};
    ///
    /// let mut env = Environ::new();
    /// let log = SharedBuffer::new();
    /// env.set_errors(ErrorStream::new(log.clone()));
    /// writeln!(env.errors(), "cache miss")?;
    /// assert_eq!(log.to_string_lossy(), "cache miss\n");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn errors(&mut self) -> &mut ErrorStream {
        &mut self.errors
    }

    /// Replaces `wsgi.errors`, returning the old stream (example at
    /// [`errors`](Environ::errors)).
    pub fn set_errors(&mut self, errors: ErrorStream) -> ErrorStream {
        std::mem::replace(&mut self.errors, errors)
    }

    /// `wsgi.multithread`: the app may be called concurrently from other threads.
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// let mut env = Environ::new();
    /// assert!(!env.multithread());
    /// env.set_multithread(true);
    /// assert!(env.multithread());
    /// ```
    pub fn multithread(&self) -> bool {
        self.multithread
    }

    /// Sets `wsgi.multithread` (example at [`multithread`](Environ::multithread)).
    pub fn set_multithread(&mut self, value: bool) {
        self.multithread = value;
    }

    /// `wsgi.multiprocess`: other processes may run the same app.
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// let mut env = Environ::new();
    /// assert!(!env.multiprocess());
    /// env.set_multiprocess(true);
    /// assert!(env.multiprocess());
    /// ```
    pub fn multiprocess(&self) -> bool {
        self.multiprocess
    }

    /// Sets `wsgi.multiprocess` (example at [`multiprocess`](Environ::multiprocess)).
    pub fn set_multiprocess(&mut self, value: bool) {
        self.multiprocess = value;
    }

    /// `wsgi.run_once`: the process serves this one request (CGI).
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// let mut env = Environ::new();
    /// assert!(!env.run_once());
    /// env.set_run_once(true);
    /// assert!(env.run_once());
    /// ```
    pub fn run_once(&self) -> bool {
        self.run_once
    }

    /// Sets `wsgi.run_once` (example at [`run_once`](Environ::run_once)).
    pub fn set_run_once(&mut self, value: bool) {
        self.run_once = value;
    }

    /// `wsgi.file_wrapper` support: the server recognises a
    /// [`FileWrapper`](crate::util::FileWrapper) body and may send it with a faster path.
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// let mut env = Environ::new();
    /// assert!(!env.file_wrapper());
    /// env.set_file_wrapper(true);
    /// assert!(env.file_wrapper());
    /// ```
    pub fn file_wrapper(&self) -> bool {
        self.file_wrapper
    }

    /// Sets `wsgi.file_wrapper` support (example at [`file_wrapper`](Environ::file_wrapper)).
    pub fn set_file_wrapper(&mut self, value: bool) {
        self.file_wrapper = value;
    }

    /// `wsgi.input_terminated`: reading `wsgi.input` to the end is safe even without a
    /// `CONTENT_LENGTH` (the server decoded a chunked body or limits the stream).
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// let mut env = Environ::new();
    /// assert!(!env.input_terminated());
    /// env.set_input_terminated(true);
    /// assert!(env.input_terminated());
    /// ```
    pub fn input_terminated(&self) -> bool {
        self.input_terminated
    }

    /// Sets `wsgi.input_terminated` (example at [`input_terminated`](Environ::input_terminated)).
    pub fn set_input_terminated(&mut self, value: bool) {
        self.input_terminated = value;
    }

    /// The parameters routers matched (`wsgiorg.routing_args`): empty until a router adds
    /// some.
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// let mut env = Environ::new();
    /// env.routing_args_mut().push("id", "7");
    /// assert_eq!(env.routing_args().get("id"), Some("7"));
    /// ```
    pub fn routing_args(&self) -> &RoutingArgs {
        &self.routing_args
    }

    /// Mutable access to the [`routing_args`](Environ::routing_args) (example there).
    pub fn routing_args_mut(&mut self) -> &mut RoutingArgs {
        &mut self.routing_args
    }

    /// Values carried by type for servers and middleware (a request id, a session, ...).
    ///
    /// ```
    /// use gateway::Environ;
    ///
    /// struct UserId(u32);
    ///
    /// let mut env = Environ::new();
    /// env.extensions_mut().insert(UserId(42));
    /// assert_eq!(env.extensions().get::<UserId>().map(|u| u.0), Some(42));
    /// ```
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// Mutable access to the [`extensions`](Environ::extensions) (example there).
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        &mut self.extensions
    }
}

impl Default for Environ {
    fn default() -> Self {
        Environ::new()
    }
}

impl fmt::Debug for Environ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        map.entries(self.iter());
        map.entry(&"wsgi.version", &Self::VERSION)
            .entry(&"wsgi.url_scheme", &self.url_scheme())
            .entry(&"wsgi.multithread", &self.multithread)
            .entry(&"wsgi.multiprocess", &self.multiprocess)
            .entry(&"wsgi.run_once", &self.run_once)
            .entry(&"wsgi.file_wrapper", &self.file_wrapper)
            .entry(&"wsgi.input_terminated", &self.input_terminated);
        if !self.routing_args.is_empty() {
            let named: Vec<_> = self.routing_args.named().collect();
            map.entry(&"wsgiorg.routing_args", &named);
        }
        map.finish()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for Environ {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut env = Environ::new();
        env.extend(iter);
        env
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Extend<(K, V)> for Environ {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

/// `wsgi.input`: the request body as a buffered byte stream.
///
/// It implements [`Read`] and [`BufRead`], which cover PEP 3333's `read(size)`, `readline()`,
/// `readlines()` and iteration. A server hands over a stream that never reads past the body.
///
/// ```
/// use std::io::{BufRead, Read};
/// use gateway::Input;
///
/// let mut input = Input::from_bytes(b"line one\nline two\n".to_vec());
/// let mut first = String::new();
/// input.read_line(&mut first).unwrap();
/// assert_eq!(first, "line one\n");
/// let mut rest = Vec::new();
/// input.read_to_end(&mut rest).unwrap();
/// assert_eq!(rest, b"line two\n");
/// ```
pub struct Input {
    inner: Box<dyn BufRead + Send>,
}

impl Input {
    /// Wraps any buffered reader.
    ///
    /// ```
    /// use std::io::{BufRead, BufReader};
    /// use gateway::Input;
    ///
    /// let input = Input::new(BufReader::new(&b"a\nb\n"[..]));
    /// let lines: Vec<String> = input.lines().map(Result::unwrap).collect();
    /// assert_eq!(lines, ["a", "b"]);
    /// ```
    pub fn new(reader: impl BufRead + Send + 'static) -> Self {
        Input {
            inner: Box::new(reader),
        }
    }

    /// A stream with no bytes.
    ///
    /// ```
    /// use std::io::Read;
    /// use gateway::Input;
    ///
    /// let mut buf = [0; 16];
    /// assert_eq!(Input::empty().read(&mut buf)?, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn empty() -> Self {
        Input::new(io::empty())
    }

    /// A stream over bytes in memory.
    ///
    /// ```
    /// use std::io::Read;
    /// use gateway::Input;
    ///
    /// let mut input = Input::from_bytes("abcdef");
    /// let mut first = [0; 4];
    /// input.read_exact(&mut first)?; // read(size)
    /// assert_eq!(&first, b"abcd");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Input::new(io::Cursor::new(bytes.into()))
    }
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl BufRead for Input {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt)
    }
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Input { .. }")
    }
}

/// `wsgi.errors`: a byte stream for diagnostics (the process's stderr, a log, a test buffer).
///
/// Cloning is cheap and every clone writes to the same destination, so a handler can give the
/// app one and keep one for its own error log.
///
/// ```
/// use std::io::Write;
/// use gateway::{ErrorStream, SharedBuffer};
///
/// let buffer = SharedBuffer::new();
/// let errors = ErrorStream::new(buffer.clone());
/// writeln!(errors.clone(), "something odd").unwrap();
/// assert_eq!(buffer.to_string_lossy(), "something odd\n");
/// ```
#[derive(Clone)]
pub struct ErrorStream {
    inner: Sink,
}

/// Where an [`ErrorStream`] writes. The process's stderr and the discarding sink need no shared
/// state, so cloning them (once per request in a server) touches no shared counter.
#[derive(Clone)]
enum Sink {
    Stderr,
    Discard,
    Writer(Arc<Mutex<dyn Write + Send>>),
}

impl ErrorStream {
    /// Wraps any writer.
    ///
    /// ```
    /// use std::io::Write;
    /// use gateway::ErrorStream;
    ///
    /// let path = std::env::temp_dir().join(format!("gateway-doc-{}.log", std::process::id()));
    /// let mut errors = ErrorStream::new(std::fs::File::create(&path)?);
    /// writeln!(errors, "written to the file")?;
    /// assert_eq!(std::fs::read_to_string(&path)?, "written to the file\n");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(writer: impl Write + Send + 'static) -> Self {
        ErrorStream {
            inner: Sink::Writer(Arc::new(Mutex::new(writer))),
        }
    }

    /// The process's standard error.
    ///
    /// ```
    /// use std::io::Write;
    /// use gateway::ErrorStream;
    ///
    /// let mut errors = ErrorStream::stderr();
    /// assert_eq!(errors.write(b"app: starting\n")?, 14);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stderr() -> Self {
        ErrorStream {
            inner: Sink::Stderr,
        }
    }

    /// A stream that discards everything.
    ///
    /// ```
    /// use std::io::Write;
    /// use gateway::ErrorStream;
    ///
    /// let mut errors = ErrorStream::sink();
    /// assert_eq!(errors.write(b"nobody reads this")?, 17); // accepted, then dropped
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn sink() -> Self {
        ErrorStream {
            inner: Sink::Discard,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut dyn Write) -> T) -> T {
        match &self.inner {
            Sink::Stderr => f(&mut io::stderr().lock()),
            Sink::Discard => f(&mut io::sink()),
            // A writer poisoned by a panic elsewhere is still a fine place for diagnostics.
            Sink::Writer(writer) => f(&mut *writer.lock().unwrap_or_else(|e| e.into_inner())),
        }
    }
}

impl Write for ErrorStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.with(|w| w.write(buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.with(|w| w.write_all(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.with(|w| w.flush())
    }
}

impl fmt::Debug for ErrorStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ErrorStream { .. }")
    }
}

/// A cloneable in-memory byte buffer: every clone writes to, and reads from, the same bytes.
///
/// Useful as `wsgi.errors` or a handler's output in tests.
///
/// ```
/// use std::io::Write;
/// use gateway::SharedBuffer;
///
/// let buffer = SharedBuffer::new();
/// let mut writer = buffer.clone();
/// writer.write_all(b"hi").unwrap();
/// assert_eq!(buffer.contents(), b"hi");
/// ```
#[derive(Clone, Default)]
pub struct SharedBuffer {
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl SharedBuffer {
    /// An empty buffer.
    ///
    /// ```
    /// use gateway::SharedBuffer;
    ///
    /// assert!(SharedBuffer::new().contents().is_empty());
    /// ```
    pub fn new() -> Self {
        SharedBuffer::default()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        // A writer that panicked mid-write leaves bytes that are still worth reading.
        self.bytes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the bytes written so far.
    ///
    /// ```
    /// use std::io::Write;
    /// use gateway::SharedBuffer;
    ///
    /// let buffer = SharedBuffer::new();
    /// buffer.clone().write_all(b"abc")?;
    /// assert_eq!(buffer.contents(), b"abc");
    /// assert_eq!(buffer.contents(), b"abc"); // a copy: the bytes stay
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn contents(&self) -> Vec<u8> {
        self.lock().clone()
    }

    /// The bytes written so far, as UTF-8 with invalid sequences replaced.
    ///
    /// ```
    /// use std::io::Write;
    /// use gateway::SharedBuffer;
    ///
    /// let buffer = SharedBuffer::new();
    /// buffer.clone().write_all(b"caf\xe9")?; // latin-1, not UTF-8
    /// assert_eq!(buffer.to_string_lossy(), "caf\u{fffd}");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn to_string_lossy(&self) -> String {
        String::from_utf8_lossy(&self.lock()).into_owned()
    }

    /// Takes the bytes out, leaving the buffer empty.
    ///
    /// ```
    /// use std::io::Write;
    /// use gateway::SharedBuffer;
    ///
    /// let buffer = SharedBuffer::new();
    /// buffer.clone().write_all(b"first")?;
    /// assert_eq!(buffer.take(), b"first");
    /// assert!(buffer.contents().is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.lock())
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl fmt::Debug for SharedBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedBuffer")
            .field("len", &self.lock().len())
            .finish()
    }
}

/// A map from type to value: the environ's slot for server- or middleware-specific entries.
///
/// ```
/// use gateway::Extensions;
///
/// #[derive(Debug, PartialEq)]
/// struct RouteArgs(Vec<(String, String)>);
///
/// let mut ext = Extensions::new();
/// ext.insert(RouteArgs(vec![("id".into(), "7".into())]));
/// assert_eq!(ext.get::<RouteArgs>().unwrap().0[0].1, "7");
/// assert!(ext.remove::<RouteArgs>().is_some());
/// assert!(ext.get::<RouteArgs>().is_none());
/// ```
#[derive(Default)]
pub struct Extensions {
    /// An environ carries a handful at most: a vector searched in order costs less than a
    /// hash map's table and hashing (this is on the path of every routed request).
    map: Vec<(TypeId, Box<dyn Any + Send + Sync>)>,
}

impl Extensions {
    /// An empty map.
    ///
    /// ```
    /// use gateway::Extensions;
    ///
    /// let mut ext = Extensions::new();
    /// assert!(ext.is_empty());
    /// ext.insert(7_u32);
    /// ext.insert("label");
    /// assert_eq!((ext.len(), ext.is_empty()), (2, false));
    /// ```
    pub fn new() -> Self {
        Extensions::default()
    }

    /// Stores a value, returning the previous value of the same type.
    ///
    /// ```
    /// use gateway::Extensions;
    ///
    /// let mut ext = Extensions::new();
    /// assert_eq!(ext.insert(1_u8), None);
    /// assert_eq!(ext.insert(2_u8), Some(1)); // same type: replaced
    /// assert_eq!(ext.insert(3_u16), None); // another type: another slot
    /// ```
    pub fn insert<T: Any + Send + Sync>(&mut self, value: T) -> Option<T> {
        let id = TypeId::of::<T>();
        match self.map.iter_mut().find(|(key, _)| *key == id) {
            Some((_, slot)) => std::mem::replace(slot, Box::new(value))
                .downcast()
                .ok()
                .map(|b| *b),
            None => {
                self.map.push((id, Box::new(value)));
                None
            }
        }
    }

    /// The value of type `T`, if any.
    ///
    /// ```
    /// use gateway::Extensions;
    ///
    /// let mut ext = Extensions::new();
    /// ext.insert(String::from("admin"));
    /// assert_eq!(ext.get::<String>().map(String::as_str), Some("admin"));
    /// assert_eq!(ext.get::<u32>(), None);
    /// ```
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        let id = TypeId::of::<T>();
        self.map
            .iter()
            .find(|(key, _)| *key == id)?
            .1
            .downcast_ref()
    }

    /// Mutable access to the value of type `T`, if any.
    ///
    /// ```
    /// use gateway::Extensions;
    ///
    /// struct Hits(u32);
    ///
    /// let mut ext = Extensions::new();
    /// ext.insert(Hits(1));
    /// ext.get_mut::<Hits>().unwrap().0 += 1;
    /// assert_eq!(ext.get::<Hits>().unwrap().0, 2);
    /// ```
    pub fn get_mut<T: Any + Send + Sync>(&mut self) -> Option<&mut T> {
        let id = TypeId::of::<T>();
        self.map
            .iter_mut()
            .find(|(key, _)| *key == id)?
            .1
            .downcast_mut()
    }

    /// Removes and returns the value of type `T`.
    ///
    /// ```
    /// use gateway::Extensions;
    ///
    /// let mut ext = Extensions::new();
    /// ext.insert(vec!["a", "b"]);
    /// assert_eq!(ext.remove::<Vec<&str>>(), Some(vec!["a", "b"]));
    /// assert_eq!(ext.remove::<Vec<&str>>(), None);
    /// ```
    pub fn remove<T: Any + Send + Sync>(&mut self) -> Option<T> {
        let id = TypeId::of::<T>();
        let at = self.map.iter().position(|(key, _)| *key == id)?;
        self.map.swap_remove(at).1.downcast().ok().map(|b| *b)
    }

    /// How many values are stored (example at [`new`](Extensions::new)).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when nothing is stored (example at [`new`](Extensions::new)).
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extensions")
            .field("len", &self.map.len())
            .finish()
    }
}

/// The CGI key of a request header's name, as `WSGIRequestHandler.get_environ` builds it
/// before adding `HTTP_`: dashes to underscores, upper case (`X-Token` → `X_TOKEN`). The
/// server builds the keys of ASCII names on the stack (`simple_server::environ::environ_key`)
/// and comes here for the rest; the fuzzing model uses this one.
pub(crate) fn header_key(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c == '-' {
                '_'
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Environ, VarStorage, VarsPrefix};

    #[test]
    fn lookups_agree_with_the_entries_whatever_the_lengths() {
        let prefix = VarsPrefix::new(&[("SERVER_NAME", "here"), ("K", "1")]);
        let mut env = Environ::with_storage(VarStorage::default());
        env.push_prefix(&prefix);
        env.push_var("PATH_INFO", "/");
        env.push_span("REQUEST_URI", 0..0);
        env.insert(
            "A_KEY_LONGER_THAN_SIXTY_THREE_BYTES_________________________________",
            "x",
        );
        for (key, present) in [
            ("SERVER_NAME", true),
            ("K", true),
            ("PATH_INFO", true),
            ("REQUEST_URI", true),
            (
                "A_KEY_LONGER_THAN_SIXTY_THREE_BYTES_________________________________",
                true,
            ),
            (
                "A_KEY_LONGER_THAN_SIXTY_THREE_BYTES________________________________X",
                false,
            ),
            ("HTTPS", false),
            ("", false),
            ("PATH_INFX", false),
        ] {
            assert_eq!(env.contains(key), present, "{key}");
        }
        env.remove("K");
        assert!(!env.contains("K"));
        env.insert("Q", "2");
        assert_eq!(env.get("Q"), Some("2"));
        // Recycled storage starts with no lengths.
        let storage = env.take_storage();
        let env = Environ::with_storage(storage);
        assert!(!env.contains("PATH_INFO"));
    }
}
