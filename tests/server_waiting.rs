//! The keep-alive fast path (issue 15): while the server has fewer connections than worker
//! slots, the worker that answered a connection waits on its socket for the next request
//! (one blocking read, as a thread-per-connection server does) instead of parking it in
//! epoll, for a scheduler tick or two; a client that pauses longer is parked again.
//!
//! What each worker is doing is read from `/proc/self/task/*/syscall` (the system call it is
//! blocked in, and its first argument), so the tests see the mechanism itself, not a timing.
//! In a binary of its own, so every worker thread found by name is this file's server's.

use std::fs::File;
use std::io::Write;
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use gateway::simple_server::{ServerBuilder, WsgiServer};
use gateway::util::FileWrapper;
use gateway::{App, Body, ErrorStream, SharedBuffer, app_fn};

mod common;
use common::*;

#[cfg(target_arch = "x86_64")]
const SENDFILE_AND_POLL: [&str; 3] = ["40", "7", "271"];
#[cfg(target_arch = "aarch64")]
const SENDFILE_AND_POLL: [&str; 2] = ["71", "73"];

/// Sends requests on `client` until, after a response, a worker is seen waiting on it: the
/// caller's next step then happens during that wait.
fn until_waited_on(client: &mut Client) {
    for i in 0..50 {
        let path = format!("/p/until-{i}");
        client.send(get(&path));
        assert_eq!(client.response().text(), path);
        if a_worker_waits_within(Duration::from_millis(2)) {
            return;
        }
    }
    panic!("no worker waited on the lone connection after 50 responses");
}

/// True when within `limit` some worker is seen blocked in `recvfrom`.
fn a_worker_waits_within(limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if workers_in_recvfrom() > 0 {
            return true;
        }
        thread::yield_now();
    }
    false
}

/// The test routes, `/file`: a 4 MiB file, and `/huge`: a 64 MiB sparse file, both sent
/// with sendfile(2).
fn app(file: std::path::PathBuf, huge: std::path::PathBuf) -> impl App {
    let routes = router();
    app_fn(move |env, sr| {
        let path = match env.get("PATH_INFO") {
            Some("/file") => &file,
            Some("/huge") => &huge,
            _ => return routes.call(env, sr),
        };
        sr.start("200 OK", [("Content-Type", "application/octet-stream")])?;
        Ok(Body::file(FileWrapper::new(File::open(path)?, 1 << 16)))
    })
}

/// The server's write timeout in this test.
const WRITE_TIMEOUT: Duration = Duration::from_millis(500);

fn serve(
    file: std::path::PathBuf,
    huge: std::path::PathBuf,
) -> (Arc<WsgiServer>, thread::JoinHandle<()>, SocketAddr) {
    let server = Arc::new(
        ServerBuilder::new()
            .threads(4)
            .limits(limits(|l| l.write_timeout = WRITE_TIMEOUT))
            .access_log(false)
            .stderr(ErrorStream::new(SharedBuffer::new()))
            .bind("127.0.0.1", 0, app(file, huge))
            .expect("bind"),
    );
    let runner = Arc::clone(&server);
    let thread = thread::spawn(move || runner.serve_forever().expect("serve_forever"));
    let addr = server.server_address();
    (server, thread, addr)
}

fn big_file() -> (std::path::PathBuf, Vec<u8>) {
    let path = std::env::temp_dir().join(format!("gateway-waiting-{}.bin", std::process::id()));
    let data: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
    File::create(&path)
        .and_then(|mut f| f.write_all(&data))
        .expect("write the test file");
    (path, data)
}

fn huge_file() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("gateway-waiting-{}.huge", std::process::id()));
    File::create(&path)
        .and_then(|f| f.set_len(64 << 20))
        .expect("make the sparse test file");
    path
}

/// One test, so the phases run in order on one server and nothing else shares the process.
#[test]
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn a_lone_keep_alive_connection_is_waited_on_and_parked_when_it_pauses() {
    if !fast_path_observable() {
        return;
    }
    let (file, data) = big_file();
    let huge = huge_file();
    let (server, thread, addr) = serve(file.clone(), huge.clone());
    thread::sleep(Duration::from_millis(100));
    assert_eq!(
        workers_in_recvfrom(),
        0,
        "a worker reads before any client came"
    );

    // 1. A client that sends its next request at once: after each response its worker
    //    waits on the socket (a blocking read), and the next request is answered from there.
    let mut client = Client::connect(addr);
    let mut seen = 0;
    for i in 0..20 {
        let path = format!("/p/{i}");
        client.send(get(&path));
        assert_eq!(client.response().text(), path);
        if a_worker_waits_within(Duration::from_millis(2)) {
            seen += 1;
        }
    }
    assert!(
        seen > 0,
        "no worker waited on the lone connection after any of 20 responses"
    );

    // 2. A client that pauses longer than the wait: its worker stops waiting (no worker is
    //    held by an idle connection), it is parked in epoll, and every request after a pause
    //    is still answered, whatever the pause.
    for (i, pause) in [0u64, 1, 3, 6, 12, 30, 0, 0, 50, 2].into_iter().enumerate() {
        thread::sleep(Duration::from_millis(pause));
        let path = format!("/p/pause-{i}");
        client.send(get(&path));
        assert_eq!(client.response().text(), path, "after a {pause} ms pause");
    }
    thread::sleep(Duration::from_millis(100));
    assert_eq!(
        workers_in_recvfrom(),
        0,
        "a worker still waits on a connection idle for 100 ms"
    );
    client.send(get("/p/after-idle"));
    assert_eq!(client.response().text(), "/p/after-idle");

    // 3. A request whose head comes in two writes, the first during a wait: the worker
    //    reads the half head, parks it (re-armed), and the rest completes it.
    until_waited_on(&mut client);
    client.send("GET /p/split HTTP/1.1\r\nHost: x\r\n");
    thread::sleep(Duration::from_millis(30));
    client.send("\r\n");
    assert_eq!(client.response().text(), "/p/split");

    // 4. A second client while the first one is waited on: another worker answers it.
    client.send(get("/p/first"));
    assert_eq!(client.response().text(), "/p/first");
    let second = one_response(addr, get_close("/p/second"));
    assert_eq!(second.text(), "/p/second");

    // 5. A big file through sendfile(2) on the connection whose socket now blocks: every
    //    byte arrives, in order, and the connection stays usable.
    for _ in 0..3 {
        client.send(get("/p/warm"));
        assert_eq!(client.response().text(), "/p/warm");
    }
    client.send(get("/file"));
    let response = client.response();
    assert_eq!(response.status, 200);
    assert!(response.body == data, "the file arrived damaged");
    client.send(get("/p/after-file"));
    assert_eq!(client.response().text(), "/p/after-file");

    // 6. A client that stops reading a big file after the connection was waited on (its
    //    socket now blocks): the worker gives up after the write timeout, as on a
    //    non-blocking socket (a blocking sendfile(2) must not stretch it).
    until_waited_on(&mut client);
    client.send(get("/huge"));
    assert!(
        wait_for(Duration::from_secs(2), || workers_in(&SENDFILE_AND_POLL)
            > 0),
        "no worker is sending the file"
    );
    let stalled = Instant::now();
    // Let go: no worker in either call for 100 ms in a row (a single look could fall between
    // two calls of the same write).
    let mut none_since: Option<Instant> = None;
    while none_since.is_none_or(|t| t.elapsed() < Duration::from_millis(100)) {
        assert!(
            stalled.elapsed() < Duration::from_secs(10),
            "a worker is still writing to a client that stopped reading"
        );
        if workers_in(&SENDFILE_AND_POLL) > 0 {
            none_since = None;
        } else {
            none_since.get_or_insert_with(Instant::now);
        }
        thread::sleep(Duration::from_millis(1));
    }
    let held = none_since.map_or(Duration::ZERO, |t| t - stalled);
    assert!(
        held < WRITE_TIMEOUT * 3,
        "a worker was held {held:?} by a client that stopped reading (write timeout {WRITE_TIMEOUT:?})"
    );
    drop(client);

    // 7. The client closes while its worker waits: the connection is closed, no worker
    //    is left reading, and the server keeps serving.
    let mut client = Client::connect(addr);
    until_waited_on(&mut client);
    client.stream.shutdown(Shutdown::Both).expect("shutdown");
    drop(client);
    assert!(
        wait_for(Duration::from_secs(2), || workers_in_recvfrom() == 0
            && server.parked_connections() == 0),
        "a closed connection still holds a worker or a table slot"
    );
    assert_serves(addr);

    // 8. As many connections open as worker slots (one per core): every connection is
    //    parked between requests again, and no worker waits on one.
    let slots = std::thread::available_parallelism().map_or(1, |n| n.get());
    let idle: Vec<Client> = (0..slots)
        .map(|i| {
            let mut idle = Client::connect(addr);
            let path = format!("/p/idle-{i}");
            idle.send(get(&path));
            assert_eq!(idle.response().text(), path);
            idle
        })
        .collect();
    let mut client = Client::connect(addr);
    client.send(get("/p/busy"));
    assert_eq!(client.response().text(), "/p/busy");
    // The waits begun while fewer were open end within a tick or two.
    assert!(
        wait_for(Duration::from_secs(2), || workers_in_recvfrom() == 0),
        "a worker still waits on a connection"
    );
    for i in 0..20 {
        let path = format!("/p/busy-{i}");
        client.send(get(&path));
        assert_eq!(client.response().text(), path);
        assert!(
            !a_worker_waits_within(Duration::from_millis(2)),
            "a worker waited on a connection with {} connections open and {slots} slots",
            slots + 1
        );
    }
    drop(idle);
    drop(client);
    assert!(wait_for(Duration::from_secs(2), || server
        .parked_connections()
        == 0));

    // 9. Shutdown while a worker waits on a connection: the server stops promptly.
    let mut client = Client::connect(addr);
    until_waited_on(&mut client);
    let asked = Instant::now();
    server.shutdown();
    assert!(
        join_within(thread, Duration::from_secs(5)).is_some(),
        "the server did not stop"
    );
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "shutdown waited {:?} for a connection between requests",
        asked.elapsed()
    );
    assert!(client.closed_within(Duration::from_secs(2)));
    let _ = std::fs::remove_file(file);
    let _ = std::fs::remove_file(huge);
}
