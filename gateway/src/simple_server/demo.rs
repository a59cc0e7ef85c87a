//! `demo_app`: "Hello world!" and the sorted environ.

use crate::{AppError, Body, Environ, StartResponse};

/// Python's `repr` of a string: single quotes unless it contains `'` and no `"`, backslash
/// escapes for `\`, the quote, TAB, LF, CR and other non-printable characters.
pub(crate) fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..=0xa0).contains(&(c as u32)) || c == '\u{ad}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// The reference's demo app: `Hello world!`, a blank line, then one `KEY = repr(value)` line
/// per environ entry, sorted by key (so CGI names come before `wsgi.*`).
///
/// ```
/// use gateway::simple_server::demo_app;
/// use gateway::test::{run_app, EnvironBuilder};
///
/// let response = run_app(&demo_app, EnvironBuilder::new().path("/x").build());
/// let text = response.text();
/// assert!(text.starts_with("Hello world!\n\n"));
/// assert!(text.contains("PATH_INFO = '/x'\n"));
/// assert!(text.contains("wsgi.version = (1, 0)\n"));
/// assert_eq!(response.header("Content-Type"), Some("text/plain; charset=utf-8"));
/// ```
pub fn demo_app(
    environ: &mut Environ,
    start_response: &mut StartResponse<'_>,
) -> Result<Body, AppError> {
    let (major, minor) = environ.version();
    let mut lines: Vec<(String, String)> = environ
        .iter()
        .map(|(k, v)| (k.to_owned(), py_repr(v)))
        .collect();
    lines.extend([
        (
            "wsgi.errors".to_owned(),
            "<gateway::ErrorStream>".to_owned(),
        ),
        (
            "wsgi.file_wrapper".to_owned(),
            if environ.file_wrapper() {
                "<class 'gateway::util::FileWrapper'>".to_owned()
            } else {
                "None".to_owned()
            },
        ),
        ("wsgi.input".to_owned(), "<gateway::Input>".to_owned()),
        (
            "wsgi.input_terminated".to_owned(),
            py_bool(environ.input_terminated()).to_owned(),
        ),
        (
            "wsgi.multiprocess".to_owned(),
            py_bool(environ.multiprocess()).to_owned(),
        ),
        (
            "wsgi.multithread".to_owned(),
            py_bool(environ.multithread()).to_owned(),
        ),
        (
            "wsgi.run_once".to_owned(),
            py_bool(environ.run_once()).to_owned(),
        ),
        ("wsgi.url_scheme".to_owned(), py_repr(environ.url_scheme())),
        ("wsgi.version".to_owned(), format!("({major}, {minor})")),
    ]);
    lines.sort();
    let mut text = String::from("Hello world!\n\n");
    for (key, value) in lines {
        text.push_str(&key);
        text.push_str(" = ");
        text.push_str(&value);
        text.push('\n');
    }
    start_response.start("200 OK", [("Content-Type", "text/plain; charset=utf-8")])?;
    Ok(Body::from(text))
}

#[cfg(test)]
mod tests {
    use super::py_repr;

    #[test]
    fn repr_table() {
        for (input, expected) in [
            ("café", "'café'"),
            ("it's", "\"it's\""),
            ("q\"", "'q\"'"),
            ("a'b\"c", "'a\\'b\"c'"),
            ("tab\there", "'tab\\there'"),
            ("back\\slash", "'back\\\\slash'"),
            ("\u{1}", "'\\x01'"),
            ("\u{85}", "'\\x85'"),
        ] {
            assert_eq!(py_repr(input), expected, "{input:?}");
        }
    }
}
