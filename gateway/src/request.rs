//! [`Request`]: a typed view over a request's [`Environ`]: method, decoded path, query,
//! headers, cookies and bounded body readers that are right for every framing.

use std::borrow::Cow;
use std::io::Read;

use crate::{Environ, HttpError, StatusCode, latin1};

/// The most request-body bytes [`Request`]'s readers take unless told otherwise (1 MiB):
/// a larger body is a 413, found before reading past the limit.
pub const DEFAULT_BODY_LIMIT: u64 = 1024 * 1024;

/// A view over `&mut Environ` with what apps reach for. Nothing is copied or parsed until a
/// method asks for it, and every failure is an [`HttpError`] with the right status and a
/// message naming what was wrong, ready for `?`.
///
/// ```
/// use gateway::{app_fn, Request, Response};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// let app = app_fn(|env, sr| {
///     let mut request = Request::new(env);
///     let name = request.query("name").unwrap_or_else(|| "world".into());
///     let body = request.text()?;
///     Response::text(format!("{} {} {name}: {body}", request.method(), request.path()?))
///         .send(sr)
/// });
/// let env = EnvironBuilder::new().method("POST").path("/café").query("name=%C3%A9").body("hi").build();
/// assert_eq!(run_app(&app, env).text(), "POST /café é: hi");
/// ```
#[derive(Debug)]
pub struct Request<'e> {
    environ: &'e mut Environ,
    limit: u64,
}

impl<'e> Request<'e> {
    /// The view; body readers take at most [`DEFAULT_BODY_LIMIT`] bytes.
    pub fn new(environ: &'e mut Environ) -> Self {
        Request {
            environ,
            limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// The same view with another body limit for [`bytes`](Request::bytes) and the readers
    /// built on it.
    pub fn with_limit(mut self, limit: u64) -> Self {
        self.limit = limit;
        self
    }

    /// The environ underneath.
    pub fn environ(&mut self) -> &mut Environ {
        self.environ
    }

    /// `REQUEST_METHOD` (`GET` when absent, as CGI implies).
    pub fn method(&self) -> &str {
        self.environ.get("REQUEST_METHOD").unwrap_or("GET")
    }

    /// `PATH_INFO` decoded as UTF-8 (PEP 3333 carries it as latin-1 "bytes in unicode"); a
    /// path that is not UTF-8 is a 400. [`path_latin1`](Request::path_latin1) has the bytes.
    ///
    /// ```
    /// use gateway::{Request, StatusCode};
    /// use gateway::test::EnvironBuilder;
    ///
    /// let mut env = EnvironBuilder::new().path("/café").build();
    /// assert_eq!(Request::new(&mut env).path().unwrap(), "/café");
    /// let mut env = EnvironBuilder::new().var("PATH_INFO", "/caf\u{e9}").build();
    /// let error = Request::new(&mut env).path().unwrap_err();
    /// assert_eq!(error.status(), StatusCode::BAD_REQUEST);
    /// assert_eq!(Request::new(&mut env).path_latin1(), "/caf\u{e9}");
    /// ```
    pub fn path(&self) -> Result<Cow<'_, str>, HttpError> {
        let raw = self.path_latin1();
        if raw.is_ascii() {
            return Ok(Cow::Borrowed(raw));
        }
        self.environ
            .get_utf8("PATH_INFO")
            .unwrap_or(Ok(String::new()))
            .map(Cow::Owned)
            .map_err(|e| HttpError::bad_request(format!("the path is not UTF-8: {e}")))
    }

    /// `PATH_INFO` exactly as the environ has it (latin-1).
    pub fn path_latin1(&self) -> &str {
        self.environ.get("PATH_INFO").unwrap_or("")
    }

    /// The query string parsed into (name, value) pairs, `+` and `%XX` decoded as UTF-8
    /// (invalid sequences become U+FFFD), in order, repeats kept.
    ///
    /// ```
    /// use gateway::Request;
    /// use gateway::test::EnvironBuilder;
    ///
    /// let mut env = EnvironBuilder::new().query("a=1&b=x+y&a=%C3%A9&flag").build();
    /// let pairs = Request::new(&mut env).query_pairs();
    /// assert_eq!(pairs, [("a", "1"), ("b", "x y"), ("a", "é"), ("flag", "")].map(|(k, v)| (k.to_owned(), v.to_owned())));
    /// ```
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let query = self.query_bytes();
        form_urlencoded::parse(&query).into_owned().collect()
    }

    /// The first value of the query parameter `name`.
    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.query_bytes();
        form_urlencoded::parse(&query)
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }

    /// The query string into a `serde` type; a mismatch is a 400 naming it.
    ///
    /// ```
    /// use gateway::Request;
    /// use gateway::test::EnvironBuilder;
    ///
    /// #[derive(Debug, serde::Deserialize)]
    /// struct Page { page: u32, tag: Option<String> }
    ///
    /// let mut env = EnvironBuilder::new().query("page=2").build();
    /// let page: Page = Request::new(&mut env).query_as().unwrap();
    /// assert_eq!((page.page, page.tag), (2, None));
    /// let mut env = EnvironBuilder::new().query("page=two").build();
    /// let error = Request::new(&mut env).query_as::<Page>().unwrap_err();
    /// assert_eq!(error.message(), "query string: page: invalid digit found in string");
    /// ```
    #[cfg(feature = "serde")]
    pub fn query_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, HttpError> {
        urlencoded(&self.query_bytes(), "query string", StatusCode::BAD_REQUEST)
    }

    fn query_bytes(&self) -> Cow<'_, [u8]> {
        let query = self.environ.get("QUERY_STRING").unwrap_or("");
        if query.is_ascii() {
            Cow::Borrowed(query.as_bytes())
        } else {
            Cow::Owned(latin1::encode(query).unwrap_or_else(|_| query.as_bytes().to_vec()))
        }
    }

    /// A request header by name (any case): `Content-Type` and `Content-Length` from their
    /// CGI variables, others from `HTTP_*`.
    ///
    /// ```
    /// use gateway::Request;
    /// use gateway::test::EnvironBuilder;
    ///
    /// let mut env = EnvironBuilder::new().header("X-Token", "abc").header("Content-Type", "text/csv").build();
    /// let request = Request::new(&mut env);
    /// assert_eq!(request.header("x-token"), Some("abc"));
    /// assert_eq!(request.header("Content-Type"), Some("text/csv"));
    /// assert_eq!(request.header("X-Missing"), None);
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        let key: String = name
            .chars()
            .map(|c| {
                if c == '-' {
                    '_'
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect();
        match key.as_str() {
            "CONTENT_TYPE" | "CONTENT_LENGTH" => self.environ.get(&key).filter(|v| !v.is_empty()),
            _ => self.environ.get(&format!("HTTP_{key}")),
        }
    }

    /// The request's cookies (the `Cookie` header, parsed by the `cookie` crate; malformed
    /// pairs are skipped).
    ///
    /// ```
    /// use gateway::Request;
    /// use gateway::test::EnvironBuilder;
    ///
    /// let mut env = EnvironBuilder::new().header("Cookie", "a=1; theme=dark").build();
    /// let request = Request::new(&mut env);
    /// assert_eq!(request.cookie("theme").as_deref(), Some("dark"));
    /// assert_eq!(request.cookies().len(), 2);
    /// ```
    #[cfg(feature = "cookies")]
    pub fn cookies(&self) -> Vec<cookie::Cookie<'static>> {
        let header = self.environ.get("HTTP_COOKIE").unwrap_or("");
        cookie::Cookie::split_parse(header.to_owned())
            .filter_map(Result::ok)
            .collect()
    }

    /// The value of the cookie `name`.
    #[cfg(feature = "cookies")]
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies()
            .into_iter()
            .find(|c| c.name() == name)
            .map(|c| c.value().to_owned())
    }

    /// The whole body, at most the limit ([`DEFAULT_BODY_LIMIT`] unless
    /// [`with_limit`](Request::with_limit)), right for every framing:
    /// - with a `CONTENT_LENGTH`, exactly that many bytes (413 before reading when it is over
    ///   the limit, 400 when it is not a number or the body ends early);
    /// - without one, when the server marks `wsgi.input_terminated` (a chunked upload), up to
    ///   the end of the input (413 as soon as it passes the limit, never reading further);
    /// - without one on a server that does not, no body, unless the request announced one
    ///   (`Transfer-Encoding`), which is a 411.
    ///
    /// ```
    /// use gateway::{Request, StatusCode};
    /// use gateway::test::EnvironBuilder;
    ///
    /// let mut env = EnvironBuilder::new().method("POST").body("0123456789").build();
    /// assert_eq!(Request::new(&mut env).bytes().unwrap(), b"0123456789");
    /// let mut env = EnvironBuilder::new().method("POST").body("0123456789").build();
    /// let error = Request::new(&mut env).with_limit(4).bytes().unwrap_err();
    /// assert_eq!(error.status(), StatusCode::CONTENT_TOO_LARGE);
    /// ```
    pub fn bytes(&mut self) -> Result<Vec<u8>, HttpError> {
        let limit = self.limit;
        let declared = self.environ.get("CONTENT_LENGTH").unwrap_or("").trim();
        if !declared.is_empty() {
            let length: u64 = declared.parse().map_err(|_| {
                HttpError::bad_request(format!("invalid Content-Length {declared:?}"))
            })?;
            if length > limit {
                return Err(HttpError::content_too_large(limit));
            }
            let mut body = Vec::with_capacity(usize::try_from(length).unwrap_or(0).min(1 << 16));
            let read = self
                .environ
                .input()
                .take(length)
                .read_to_end(&mut body)
                .map_err(read_failed)?;
            if (read as u64) < length {
                return Err(HttpError::bad_request(format!(
                    "the body ended after {read} of {length} bytes"
                )));
            }
            return Ok(body);
        }
        if self.environ.input_terminated() {
            let mut body = Vec::new();
            self.environ
                .input()
                .take(limit.saturating_add(1))
                .read_to_end(&mut body)
                .map_err(read_failed)?;
            if body.len() as u64 > limit {
                return Err(HttpError::content_too_large(limit));
            }
            return Ok(body);
        }
        if self.environ.contains("HTTP_TRANSFER_ENCODING") {
            return Err(HttpError::length_required());
        }
        Ok(Vec::new())
    }

    /// The body as UTF-8 text (see [`bytes`](Request::bytes)); not UTF-8, or a `charset`
    /// other than UTF-8 in `Content-Type`: 400 / 415.
    pub fn text(&mut self) -> Result<String, HttpError> {
        if let Some(charset) = self.content_type_param("charset")
            && !charset.eq_ignore_ascii_case("utf-8")
            && !charset.eq_ignore_ascii_case("utf8")
        {
            return Err(HttpError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("charset {charset} is not supported; send UTF-8"),
            ));
        }
        String::from_utf8(self.bytes()?)
            .map_err(|e| HttpError::bad_request(format!("the body is not UTF-8: {e}")))
    }

    /// An `application/x-www-form-urlencoded` body into a `serde` type: another
    /// `Content-Type` is a 415, a body that does not fit the type a 422 naming the field.
    ///
    /// ```
    /// use gateway::{Request, StatusCode};
    /// use gateway::test::EnvironBuilder;
    ///
    /// #[derive(Debug, serde::Deserialize)]
    /// struct Entry { name: String, age: u8 }
    ///
    /// let form = |body: &str, content_type: &str| {
    ///     EnvironBuilder::new().method("POST").header("Content-Type", content_type).body(body).build()
    /// };
    /// let mut env = form("name=Ada+L&age=36", "application/x-www-form-urlencoded");
    /// let entry: Entry = Request::new(&mut env).form().unwrap();
    /// assert_eq!((entry.name.as_str(), entry.age), ("Ada L", 36));
    ///
    /// let mut env = form("name=Ada&age=old", "application/x-www-form-urlencoded");
    /// let error = Request::new(&mut env).form::<Entry>().unwrap_err();
    /// assert_eq!((error.status(), error.message()), (StatusCode::UNPROCESSABLE_CONTENT, "form body: age: invalid digit found in string"));
    /// let mut env = form("{}", "application/json");
    /// assert_eq!(Request::new(&mut env).form::<Entry>().unwrap_err().status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    /// ```
    #[cfg(feature = "serde")]
    pub fn form<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, HttpError> {
        self.expect_type("application/x-www-form-urlencoded", |essence| {
            essence == "application/x-www-form-urlencoded"
        })?;
        urlencoded(
            &self.bytes()?,
            "form body",
            StatusCode::UNPROCESSABLE_CONTENT,
        )
    }

    /// A JSON body into a `serde` type: a `Content-Type` other than `application/json` (or
    /// `application/*+json`) is a 415, malformed JSON a 400 saying where, well-formed JSON
    /// that does not fit the type a 422.
    ///
    /// ```
    /// use gateway::{Request, StatusCode};
    /// use gateway::test::EnvironBuilder;
    ///
    /// #[derive(Debug, serde::Deserialize)]
    /// struct Item { name: String }
    ///
    /// let json = |body: &str| {
    ///     EnvironBuilder::new().method("POST").header("Content-Type", "application/json").body(body).build()
    /// };
    /// let item: Item = Request::new(&mut json(r#"{"name":"pen"}"#)).json().unwrap();
    /// assert_eq!(item.name, "pen");
    /// let error = Request::new(&mut json(r#"{"name":"pen""#)).json::<Item>().unwrap_err();
    /// assert_eq!(error.message(), "JSON body: EOF while parsing an object at line 1 column 13");
    /// let error = Request::new(&mut json(r#"{"name":7}"#)).json::<Item>().unwrap_err();
    /// assert_eq!((error.status().as_u16(), error.message()), (422, "JSON body: invalid type: integer `7`, expected a string at line 1 column 9"));
    /// ```
    #[cfg(feature = "json")]
    pub fn json<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, HttpError> {
        self.expect_type("application/json", |essence| {
            essence == "application/json"
                || essence.starts_with("application/") && essence.ends_with("+json")
        })?;
        let body = self.bytes()?;
        serde_json::from_slice(&body).map_err(|e| {
            let status = match e.classify() {
                serde_json::error::Category::Data => StatusCode::UNPROCESSABLE_CONTENT,
                _ => StatusCode::BAD_REQUEST,
            };
            HttpError::new(status, format!("JSON body: {e}"))
        })
    }

    /// 415 unless the `Content-Type`'s essence (lower case, no parameters) passes `accept`.
    #[cfg(feature = "serde")]
    fn expect_type(&self, expected: &str, accept: impl Fn(&str) -> bool) -> Result<(), HttpError> {
        let content_type = self.environ.get("CONTENT_TYPE").unwrap_or("");
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if accept(&essence) {
            Ok(())
        } else {
            Err(HttpError::unsupported_media_type(expected))
        }
    }

    /// A parameter of the `Content-Type` header (`charset`), unquoted.
    fn content_type_param(&self, name: &str) -> Option<String> {
        let content_type = self.environ.get("CONTENT_TYPE")?;
        content_type.split(';').skip(1).find_map(|param| {
            let (key, value) = param.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().trim_matches('"').to_owned())
        })
    }
}

/// `application/x-www-form-urlencoded` bytes into `T`; a mismatch is a 400 naming `what` and
/// the field (`form body: age: invalid digit found in string`).
#[cfg(feature = "serde")]
fn urlencoded<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    what: &str,
    status: StatusCode,
) -> Result<T, HttpError> {
    let pairs = serde_urlencoded::Deserializer::new(form_urlencoded::parse(bytes));
    serde_path_to_error::deserialize(pairs).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        HttpError::new(
            status,
            if path == "." {
                format!("{what}: {inner}")
            } else {
                format!("{what}: {path}: {inner}")
            },
        )
    })
}

/// A failed body read: the client too slow (408), a body over the server's own limit (413),
/// or one malformed or cut short (400).
fn read_failed(error: std::io::Error) -> HttpError {
    let status = match error.kind() {
        std::io::ErrorKind::TimedOut => StatusCode::REQUEST_TIMEOUT,
        std::io::ErrorKind::FileTooLarge => StatusCode::CONTENT_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    HttpError::new(
        status,
        format!("the request body could not be read: {error}"),
    )
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::Request;
    use crate::test::EnvironBuilder;
    use crate::{Input, StatusCode};

    fn post(body: &str) -> EnvironBuilder {
        EnvironBuilder::new().method("POST").body(body)
    }

    /// The rest of `wsgi.input` after a read: what the reader left for someone else.
    fn unread(env: &mut crate::Environ) -> Vec<u8> {
        let mut rest = Vec::new();
        env.input().read_to_end(&mut rest).unwrap();
        rest
    }

    #[test]
    fn over_the_limit_is_413_without_reading_past_it() {
        // Announced by Content-Length: refused before any byte is read.
        let mut env = post("0123456789").build();
        let error = Request::new(&mut env).with_limit(4).bytes().unwrap_err();
        assert_eq!(error.status(), StatusCode::CONTENT_TOO_LARGE);
        assert_eq!(unread(&mut env), b"0123456789");
        // A terminated input without a length (a chunked upload): one byte past the limit.
        let mut env = EnvironBuilder::new().method("POST").build();
        env.remove("CONTENT_LENGTH");
        env.set_input(Input::from_bytes(&b"0123456789"[..]));
        env.set_input_terminated(true);
        let error = Request::new(&mut env).with_limit(4).bytes().unwrap_err();
        assert_eq!(error.status(), StatusCode::CONTENT_TOO_LARGE);
        assert_eq!(unread(&mut env), b"56789");
        // Within the limit: all of it.
        env.set_input(Input::from_bytes(&b"0123"[..]));
        assert_eq!(
            Request::new(&mut env).with_limit(4).bytes().unwrap(),
            b"0123"
        );
    }

    #[test]
    fn body_framing_errors() {
        let mut env = post("abc").var("CONTENT_LENGTH", "x3").build();
        let error = Request::new(&mut env).bytes().unwrap_err();
        assert_eq!(
            (error.status(), error.message()),
            (StatusCode::BAD_REQUEST, "invalid Content-Length \"x3\"")
        );
        let mut env = post("abc").var("CONTENT_LENGTH", "5").build();
        let error = Request::new(&mut env).bytes().unwrap_err();
        assert_eq!(error.message(), "the body ended after 3 of 5 bytes");
        // No length, an input that is not terminated, and a body announced: 411.
        let mut env = EnvironBuilder::new()
            .method("POST")
            .header("Transfer-Encoding", "chunked")
            .build();
        env.remove("CONTENT_LENGTH");
        env.set_input_terminated(false);
        assert_eq!(
            Request::new(&mut env).bytes().unwrap_err().status(),
            StatusCode::LENGTH_REQUIRED
        );
        // No length and nothing announced: no body.
        let mut env = EnvironBuilder::new().build();
        env.remove("CONTENT_LENGTH");
        env.set_input_terminated(false);
        assert_eq!(Request::new(&mut env).bytes().unwrap(), b"");
    }

    #[test]
    fn text_charsets() {
        let mut env = post("caf\u{e9}")
            .header("Content-Type", "text/plain; charset=\"UTF-8\"")
            .build();
        assert_eq!(Request::new(&mut env).text().unwrap(), "caf\u{e9}");
        let mut env = post("x")
            .header("Content-Type", "text/plain; charset=latin-1")
            .build();
        let error = Request::new(&mut env).text().unwrap_err();
        assert_eq!(error.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let mut env = EnvironBuilder::new().method("POST").build();
        env.set_input(Input::from_bytes(&b"\xff"[..]));
        env.insert("CONTENT_LENGTH", "1");
        assert_eq!(
            Request::new(&mut env).text().unwrap_err().status(),
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn headers_and_paths() {
        let mut env = EnvironBuilder::new().header("Content-Length", "").build();
        env.insert("CONTENT_LENGTH", "");
        assert_eq!(Request::new(&mut env).header("content-length"), None);
        let mut env = EnvironBuilder::new().build();
        env.remove("REQUEST_METHOD");
        assert_eq!(Request::new(&mut env).method(), "GET");
    }
}
