//! Requests that once wedged a worker forever (issue 8), with a watchdog on the workers.
//!
//! One test in its own binary, so that the only `gateway-worker-*` threads in the process are
//! this server's: after each hostile request has been answered, the workers must go idle
//! (their CPU time stops growing) and a one-worker server must still answer others.

use std::time::{Duration, Instant};

mod common;
use common::*;

/// CPU time (user + system, in clock ticks) of every worker thread of the process.
fn worker_cpu_ticks() -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let path = task.expect("task entry").path();
        let Ok(stat) = std::fs::read_to_string(path.join("stat")) else {
            continue;
        };
        // "tid (comm) state ..." where comm may hold spaces: split after the last ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        if !head.contains("(gateway-worke") {
            continue;
        }
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // After comm: state is field 3, utime field 14 and stime field 15 (1-based).
        let utime: u64 = fields[11].parse().expect("utime");
        let stime: u64 = fields[12].parse().expect("stime");
        total += utime + stime;
    }
    total
}

/// Fails when the workers keep burning CPU with nothing to do: over one second of quiet,
/// they may use a few ticks (a tick is 10 ms), never most of a core.
fn assert_workers_idle(what: &str) {
    // Let the lingering close and any wake-ups settle first.
    std::thread::sleep(Duration::from_millis(300));
    let before = worker_cpu_ticks();
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    let used = worker_cpu_ticks() - before;
    let elapsed = start.elapsed().as_millis();
    assert!(
        used <= 10,
        "{what}: the workers used {used} ticks of CPU in {elapsed} ms with no request in flight"
    );
}

#[test]
fn hostile_requests_never_wedge_a_worker() {
    let server = start(router(), |b| b.threads(1));

    // 1. A head of exactly the buffer's limit (73,730 bytes with the default limits): 431.
    let mut head = b"GET / HTTP/1.1\r\nHost: a\r\nX: ".to_vec();
    head.resize(73_730, b'a');
    let raw = exchange(server.addr, &head);
    let text = String::from_utf8_lossy(&raw.bytes);
    assert!(text.starts_with("HTTP/1.1 431 "), "{text}");
    assert!(raw.closed, "the connection is closed after the 431");
    assert_serves(server.addr);
    assert_workers_idle("after a 73,730-byte head");

    // 2. A buffered body followed by more than a request line's worth of junk.
    let mut post = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 65536\r\n\r\n".to_vec();
    post.extend(std::iter::repeat_n(b'b', 65_536));
    post.extend(std::iter::repeat_n(b'a', 9_000));
    let raw = exchange(server.addr, &post);
    let responses = String::from_utf8_lossy(&raw.bytes).into_owned();
    assert!(responses.starts_with("HTTP/1.1 200 "), "{responses}");
    assert!(
        responses.contains("HTTP/1.1 414 "),
        "the junk after the body is a request line too long: {responses}"
    );
    assert!(raw.closed);
    assert_serves(server.addr);
    assert_workers_idle("after a body and 9,000 bytes of junk");

    // 3. A buffer's worth of empty lines (ignored before a request line, RFC 9112 §2.2).
    let blank = b"\r\n".repeat(40_000);
    let mut client = Client::connect(server.addr);
    let _ = std::io::Write::write_all(&mut client.stream, &blank);
    client.send(get_close("/p/after-blank-lines"));
    let response = client.response();
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "/p/after-blank-lines");
    assert_serves(server.addr);
    assert_workers_idle("after 80,000 bytes of empty lines");

    // 4. A client that keeps streaming after its request was rejected is cut off.
    let mut client = Client::connect(server.addr);
    client.send(b"GET / HTTP/1.1\r\n\r\n");
    for _ in 0..20 {
        if std::io::Write::write_all(&mut client.stream, &[b'x'; 8192]).is_err() {
            break;
        }
    }
    let bytes = client.bytes_within(Duration::from_millis(500));
    assert!(String::from_utf8_lossy(&bytes).starts_with("HTTP/1.1 400 "));
    assert_serves(server.addr);
    assert_workers_idle("after a client streamed past its rejection");
}
