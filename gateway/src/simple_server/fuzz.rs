//! Property checks the fuzz targets (`fuzz/`) and the corpus test drive through the server's
//! own code: the head parser with the environ builder, and the chunked decoder. Each check
//! panics when a property fails. Not part of the public API (feature `fuzzing`).

use std::collections::HashSet;

use super::Limits;
use super::chunked::{ChunkError, ChunkedDecoder, Step};
use super::environ::{CGI_NAMES, Peer, build_environ};
use super::request::{self, Arrival, Fields, TargetForm};
use crate::environ::VarsPrefix;

/// The limits a case is checked with: the defaults, or (chosen by the input's length) small
/// ones, so that the fuzzer reaches the limits' edges with short inputs too.
/// What a parse decided, without the address `Fields` keeps of the bytes it copied (a head
/// with a non-ASCII target is parsed from a fresh copy, at a new address each time).
fn verdict(parsed: &request::ParseResult) -> String {
    match parsed {
        Ok(Some(h)) => format!(
            "{} {} {} {:?} {:?} {:?} {:?} {:?} {} {} {}",
            h.method,
            h.minor,
            h.sent_minor,
            h.form,
            h.headers.text(),
            h.headers.target(),
            h.headers.iter().collect::<Vec<_>>(),
            h.framing,
            h.keep_alive,
            h.expect_continue,
            h.len
        ),
        other => format!("{other:?}"),
    }
}

fn limits_for(data: &[u8]) -> Limits {
    let mut limits = Limits::default();
    if data.len() % 2 == 1 {
        limits.max_request_line = 64;
        limits.max_header_bytes = 256;
        limits.max_headers = 8;
        limits.max_body = 1000;
    }
    limits
}

/// The request head at the start of `data`, through `arrival`, `parse_into` and
/// `build_environ`:
/// - a request judged ready is always given a verdict (a head or an error), never "more to
///   come", so the server's loop always consumes input or ends the connection; a head takes
///   between one byte and all of `data`; a body awaited is longer than what is buffered;
/// - a head that parses gives an environ whose `REQUEST_URI`, `PATH_INFO`, `QUERY_STRING`
///   and `HTTP_*` variables are exactly what the reference's rules make of the head.
pub fn request_head(data: &[u8]) {
    let limits = limits_for(data);
    let arrival = request::arrival(data, &limits);
    let parsed = request::parse_into(data, &limits, Fields::default(), None);
    match arrival {
        Arrival::Ready { head_end } => {
            assert!(
                !matches!(parsed, Ok(None)),
                "a request judged ready got no verdict"
            );
            // The end it found is the one parsing finds, and parsing from it agrees.
            let again = request::parse_into(data, &limits, Fields::default(), head_end);
            assert_eq!(
                verdict(&again),
                verdict(&parsed),
                "parsing from the head end arrival found"
            );
        }
        Arrival::Body(total) => assert!(total > data.len(), "awaiting a body already here"),
        Arrival::Partial => {}
    }
    let Ok(Some(head)) = parsed else { return };
    assert!(
        head.len > 0 && head.len <= data.len(),
        "head length {}",
        head.len
    );
    let base = VarsPrefix::new(&[("SERVER_NAME", "fuzz"), ("SCRIPT_NAME", "")]);
    let peer = Peer::new(Some("127.0.0.1:1".parse().expect("address")));
    let environ = build_environ(&head, &base, &peer, false, Default::default());

    // The target, as bytes, from the head itself.
    let start = request::leading_empty_lines(data);
    let line = &data[start..];
    let line = &line[..line.iter().position(|&b| b == b'\n').unwrap_or(line.len())];
    let first = line.iter().position(|&b| b == b' ').expect("a space");
    let last = line.iter().rposition(|&b| b == b' ').expect("a space");
    let target = &line[first + 1..last];
    assert_eq!(environ.get("REQUEST_URI"), Some(&*latin1(target)));

    let rest = match head.form {
        TargetForm::Absolute { start, len } => &target[start + len..],
        TargetForm::Origin | TargetForm::Asterisk => target,
    };
    let (path, query) = match rest.iter().position(|&b| b == b'?') {
        Some(q) => (&rest[..q], &rest[q + 1..]),
        None => (rest, &b""[..]),
    };
    let path = if path.starts_with(b"//") {
        &path[path.iter().position(|&b| b != b'/').unwrap_or(path.len()) - 1..]
    } else {
        path
    };
    let path = if path.is_empty() { &b"/"[..] } else { path };
    assert_eq!(
        environ.get("PATH_INFO"),
        Some(&*latin1(&percent_decode(path)))
    );
    assert_eq!(environ.get("QUERY_STRING"), Some(&*latin1(query)));

    // HTTP_* by the reference's rule: a header is skipped when its key is already in the
    // environ (the CGI variables, or an earlier header's), else added or joined with ','.
    let mut expected: Vec<(String, String)> = Vec::new();
    let mut present: HashSet<String> = CGI_NAMES.into_iter().map(str::to_owned).collect();
    let absolute = matches!(head.form, TargetForm::Absolute { .. });
    if let TargetForm::Absolute { start, len } = head.form {
        expected.push(("HTTP_HOST".into(), latin1(&target[start..start + len])));
        present.insert("HTTP_HOST".into());
    }
    for (name, value) in head.headers.iter() {
        if name.contains('_') || absolute && name.eq_ignore_ascii_case("host") {
            continue;
        }
        let key = crate::environ::header_key(name);
        if present.contains(&key) {
            continue;
        }
        let key = format!("HTTP_{key}");
        match expected.iter_mut().find(|(k, _)| *k == key) {
            Some((_, joined)) => {
                joined.push(',');
                joined.push_str(value);
            }
            None => {
                present.insert(key.clone());
                expected.push((key, value.to_owned()));
            }
        }
    }
    let actual: Vec<(String, String)> = environ
        .iter()
        .filter(|(k, _)| k.starts_with("HTTP_"))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(actual, expected, "HTTP_* variables");
}

/// The chunked body at the start of `data` through the decoder:
/// - every piece of framing it takes is at least one byte (no loop without consumption);
/// - fed in two pieces (split where the input's first byte says) it reaches the same
///   verdict, the same data and the same end as fed whole;
/// - a body it accepts, re-encoded with the sizes it found, decodes to the same data.
pub fn chunked_body(data: &[u8]) {
    let split = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let whole = decode(data, data.len());
    let pieces = decode(data, split);
    assert_eq!(whole, pieces, "split at {split}");
    if let Ok(Some((body, chunks, end))) = whole {
        assert!(end <= data.len());
        let mut encoded = Vec::new();
        let mut at = 0;
        for size in &chunks {
            encoded.extend_from_slice(format!("{size:x}\r\n").as_bytes());
            encoded.extend_from_slice(&body[at..at + size]);
            encoded.extend_from_slice(b"\r\n");
            at += size;
        }
        encoded.extend_from_slice(b"0\r\n\r\n");
        let again = decode(&encoded, encoded.len());
        assert_eq!(again, Ok(Some((body, chunks, encoded.len()))), "round trip");
    }
}

/// The data of the chunked body in `data` (its chunk sizes, and the bytes it took), as a
/// reader would get it with `available` bytes buffered first and the rest later. `None` when
/// it does not end within `data`.
#[allow(clippy::type_complexity)]
fn decode(
    data: &[u8],
    available: usize,
) -> Result<Option<(Vec<u8>, Vec<usize>, usize)>, ChunkError> {
    let mut decoder = ChunkedDecoder::new(1 << 20);
    let (mut at, mut buffered) = (0, available);
    let (mut body, mut chunks) = (Vec::new(), Vec::new());
    let mut in_chunk = false;
    loop {
        match decoder.step(&data[at..buffered])? {
            Step::Framing(n) => {
                assert!(n >= 1, "framing that takes no byte");
                at += n;
                in_chunk = false;
            }
            Step::Data(left) => {
                let n = (buffered - at).min(usize::try_from(left).unwrap_or(usize::MAX));
                if n == 0 {
                    if buffered == data.len() {
                        return Ok(None);
                    }
                    buffered = data.len();
                    continue;
                }
                if !in_chunk {
                    chunks.push(0);
                    in_chunk = true;
                }
                *chunks.last_mut().expect("a chunk") += n;
                body.extend_from_slice(&data[at..at + n]);
                at += n;
                decoder.consumed_data(n as u64);
            }
            Step::NeedMore if buffered < data.len() => buffered = data.len(),
            Step::NeedMore => return Ok(None),
            Step::Done => return Ok(Some((body, chunks, at))),
        }
    }
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// `%XX` to the byte XX, everything else as is (the reference's `unquote` to latin-1).
fn percent_decode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(text) = std::str::from_utf8(hex)
            && let Ok(byte) = u8::from_str_radix(text, 16)
            && hex.iter().all(u8::is_ascii_hexdigit)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{chunked_body, request_head};

    /// Every case of the fuzz corpus (kept in the repository) still holds every property.
    #[test]
    fn fuzz_corpus_holds_its_properties() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
        type Check = fn(&[u8]);
        let targets: [(&str, Check); 2] = [
            ("request_head", request_head),
            ("chunked_body", chunked_body),
        ];
        for (target, check) in targets {
            let Ok(entries) = std::fs::read_dir(root.join(target)) else {
                continue;
            };
            for entry in entries {
                let path = entry.expect("corpus entry").path();
                let data = std::fs::read(&path).expect("corpus file");
                check(&data);
            }
        }
    }

    #[test]
    fn properties_hold_for_hand_written_cases() {
        let heads: &[&[u8]] = &[
            b"GET /a%20b?x=%41 HTTP/1.1\r\nHost: h\r\nX: 1\r\nx: 2\r\nHttp-X: 3\r\n\r\n",
            b"GET http://a.test//p?q HTTP/1.1\r\nHost: b\r\nHttp-Host: c\r\n\r\n",
            b"\r\nGET //\xc3\xa9?\xe9 HTTP/1.2\r\nHost: a\r\nX_Y: 1\r\n\r\n",
            b"OPTIONS * HTTP/1.0\r\n\r\n",
            // Found by the fuzzer: a non-ASCII target (parsed from a copy) and a bare-LF end.
            b"G /\xd1\x8c HTTP/1.0\n\nG",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab",
        ];
        for head in heads {
            request_head(head);
        }
        let bodies: &[&[u8]] = &[
            b"\x05\r\nhello\r\n0\r\n\r\n",
            b"3;a=\"b\"\r\nabc\r\n0\r\nT: v\r\n\r\n",
            b"3\r\nab",
            b"zz\r\n",
        ];
        for body in bodies {
            chunked_body(body);
        }
    }
}
