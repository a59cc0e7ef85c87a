//! [`Static`]: a directory served as files, with validators, ranges and no way out.

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};
use std::time::UNIX_EPOCH;

use gateway::util::FileWrapper;
use gateway::{
    App, AppError, Body, Environ, Headers, HttpError, Response, StartResponse, StatusCode,
};

/// Serves the files under a directory, for `GET` and `HEAD`:
/// - bodies are [`FileWrapper`]s over the file, so the server sends them with sendfile(2);
/// - `Content-Type` from the extension (`mime_guess`), `Content-Length`, `ETag` (size and
///   modification time) and `Last-Modified`; `If-None-Match` / `If-Modified-Since` answer 304;
/// - one `Range` (`bytes=a-b`, `a-`, `-n`) answers 206 with `Content-Range`, an unsatisfiable
///   one 416; several ranges get the whole file (200);
/// - a directory serves its `index.html`, and a directory requested without its slash
///   redirects (308) to it with the slash;
/// - nothing outside the root: `..` and `.` segments (encoded ones are decoded in `PATH_INFO`
///   already), backslashes, NUL bytes, hidden files (`.name`) and symbolic links that lead
///   out of the root are all 404 (a NUL byte, 400).
///
/// ```
/// use gateway::test::{run_app, EnvironBuilder};
/// use router::{Router, Static};
///
/// let dir = std::env::temp_dir().join(format!("router-static-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("hello.txt"), "hello")?;
/// let site = Router::builder().mount("/static", Static::new(&dir)?).build().unwrap();
/// let response = run_app(&site, EnvironBuilder::new().path("/static/hello.txt").build());
/// assert_eq!(response.text(), "hello");
/// assert_eq!(response.header("Content-Type"), Some("text/plain; charset=utf-8"));
/// let etag = response.header("ETag").unwrap().to_owned();
/// let again = EnvironBuilder::new().path("/static/hello.txt").header("If-None-Match", &etag).build();
/// assert_eq!(run_app(&site, again).status_code, 304);
/// let part = EnvironBuilder::new().path("/static/hello.txt").header("Range", "bytes=1-3").build();
/// let part = run_app(&site, part);
/// assert_eq!((part.status_code, part.text().as_str()), (206, "ell"));
/// assert_eq!(part.header("Content-Range"), Some("bytes 1-3/5"));
/// assert_eq!(run_app(&site, EnvironBuilder::new().path("/static/../secret").build()).status_code, 400);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Static {
    root: PathBuf,
}

impl Static {
    /// Serves `root` (resolved now: it must exist and be a directory).
    ///
    /// ```
    /// let here = router::Static::new(".")?;
    /// let missing = router::Static::new("/no/such/dir").unwrap_err();
    /// assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    /// let file = router::Static::new("Cargo.toml").unwrap_err();
    /// assert!(file.to_string().ends_with("is not a directory"), "{file}");
    /// # drop(here);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(root: impl AsRef<Path>) -> std::io::Result<Self> {
        let root = root.as_ref().canonicalize()?;
        if !root.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} is not a directory", root.display()),
            ));
        }
        Ok(Static { root })
    }

    /// The file `PATH_INFO` names under the root, or why not.
    fn resolve(&self, path: &str) -> Result<PathBuf, HttpError> {
        if path.contains('\0') {
            return Err(HttpError::bad_request("NUL byte in the path"));
        }
        if path.contains('\\') {
            return Err(HttpError::not_found());
        }
        let relative = Path::new(path.trim_start_matches('/'));
        for component in relative.components() {
            match component {
                Component::Normal(name) if !name.to_string_lossy().starts_with('.') => {}
                _ => return Err(HttpError::not_found()),
            }
        }
        let full = self.root.join(relative);
        // Symbolic links may point anywhere: what they resolve to must still be inside.
        let resolved = full.canonicalize().map_err(|_| HttpError::not_found())?;
        if !resolved.starts_with(&self.root) {
            return Err(HttpError::not_found());
        }
        Ok(resolved)
    }
}

impl App for Static {
    fn call(&self, environ: &mut Environ, sr: &mut StartResponse<'_>) -> Result<Body, AppError> {
        let method = environ.get("REQUEST_METHOD").unwrap_or("GET");
        if method != "GET" && method != "HEAD" {
            return Err(HttpError::method_not_allowed(["GET", "HEAD"]).into());
        }
        let path = gateway::Request::new(environ).path()?.into_owned();
        let mut file_path = self.resolve(&path)?;
        if file_path.is_dir() {
            if !path.ends_with('/') && !path.is_empty() {
                return crate::router::slash_redirect(environ, sr);
            }
            file_path = file_path.join("index.html");
        }
        let mut file = File::open(&file_path).map_err(|_| HttpError::not_found())?;
        let metadata = file.metadata().map_err(|_| HttpError::not_found())?;
        if !metadata.is_file() {
            return Err(HttpError::not_found().into());
        }
        let size = metadata.len();
        let modified = metadata.modified().unwrap_or(UNIX_EPOCH);
        let seconds = modified
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let nanos = modified
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let etag = format!("\"{size:x}-{nanos:x}\"");
        let mut headers = Headers::new();
        headers.append("ETag", &etag)?;
        headers.append(
            "Last-Modified",
            gateway::handlers::format_date_time(i64::try_from(seconds).unwrap_or(i64::MAX)),
        )?;
        headers.append("Accept-Ranges", "bytes")?;

        if not_modified(environ, &etag, seconds) {
            return Response {
                status: StatusCode::NOT_MODIFIED,
                headers,
                body: Body::empty(),
            }
            .send(sr);
        }
        let guess = mime_guess::from_path(&file_path).first_or_octet_stream();
        let content_type = if guess.type_() == mime_guess::mime::TEXT {
            format!("{guess}; charset=utf-8")
        } else {
            guess.to_string()
        };
        headers.append("Content-Type", content_type)?;

        let range = environ
            .get("HTTP_RANGE")
            .filter(|_| if_range_holds(environ, &etag))
            .map(|value| parse_range(value, size));
        let (status, start, length) = match range {
            None | Some(Range::Ignore) => (StatusCode::OK, 0, size),
            Some(Range::Unsatisfiable) => {
                let mut error = HttpError::new(StatusCode::RANGE_NOT_SATISFIABLE, "");
                error = error.with_header("Content-Range", format!("bytes */{size}"));
                return Err(error.into());
            }
            Some(Range::Bytes(start, end)) => {
                headers.append("Content-Range", format!("bytes {start}-{end}/{size}"))?;
                (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
            }
        };
        headers.append("Content-Length", length.to_string())?;
        if start > 0 {
            file.seek(SeekFrom::Start(start))?;
        }
        Response {
            status,
            headers,
            body: Body::file(FileWrapper::with_default_blksize(file)),
        }
        .send(sr)
    }
}

/// `If-None-Match` (strong or weak comparison of the tags, or `*`) takes precedence over
/// `If-Modified-Since` (RFC 9110 §13.2.2).
fn not_modified(environ: &Environ, etag: &str, modified: u64) -> bool {
    if let Some(tags) = environ.get("HTTP_IF_NONE_MATCH") {
        return tags
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag);
    }
    environ
        .get("HTTP_IF_MODIFIED_SINCE")
        .and_then(|date| httpdate::parse_http_date(date).ok())
        .and_then(|since| since.duration_since(UNIX_EPOCH).ok())
        .is_some_and(|since| modified <= since.as_secs())
}

/// `If-Range`: the range applies only while the file is the one the client has (same ETag,
/// or not modified since the date).
fn if_range_holds(environ: &Environ, etag: &str) -> bool {
    match environ.get("HTTP_IF_RANGE") {
        None => true,
        Some(value) if value.starts_with('"') || value.starts_with("W/") => value == etag,
        Some(_) => false,
    }
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Range {
    /// Not a single byte range this server honours (other units, several ranges, bad
    /// syntax): the whole file.
    Ignore,
    /// First and last byte, inclusive.
    Bytes(u64, u64),
    /// A byte range outside the file: 416.
    Unsatisfiable,
}

fn parse_range(value: &str, size: u64) -> Range {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Range::Ignore;
    };
    if spec.contains(',') {
        return Range::Ignore;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Range::Ignore;
    };
    let number = |text: &str| -> Option<u64> {
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse().ok())
            .flatten()
    };
    match (number(first), number(last)) {
        (Some(start), _) if start >= size => Range::Unsatisfiable,
        (Some(start), Some(end)) if end >= start => Range::Bytes(start, end.min(size - 1)),
        (Some(_), Some(_)) => Range::Ignore,
        (Some(start), None) if last.is_empty() => Range::Bytes(start, size - 1),
        (None, Some(0)) if first.is_empty() => Range::Unsatisfiable,
        (None, Some(suffix)) if first.is_empty() && size > 0 => {
            Range::Bytes(size - suffix.min(size), size - 1)
        }
        (None, Some(_)) if first.is_empty() => Range::Unsatisfiable,
        _ => Range::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::{Range, parse_range};

    #[test]
    fn ranges() {
        let cases = [
            ("bytes=0-4", Range::Bytes(0, 4)),
            ("bytes=5-", Range::Bytes(5, 9)),
            ("bytes=-3", Range::Bytes(7, 9)),
            ("bytes=-30", Range::Bytes(0, 9)),
            ("bytes=2-100", Range::Bytes(2, 9)),
            ("bytes=10-", Range::Unsatisfiable),
            ("bytes=10-12", Range::Unsatisfiable),
            ("bytes=-0", Range::Unsatisfiable),
            ("bytes=4-2", Range::Ignore),
            ("bytes=0-1,3-4", Range::Ignore),
            ("items=0-1", Range::Ignore),
            ("bytes=a-b", Range::Ignore),
            ("bytes=-", Range::Ignore),
            ("bytes=+1-2", Range::Ignore),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_range(value, 10), expected, "{value}");
        }
    }
}
