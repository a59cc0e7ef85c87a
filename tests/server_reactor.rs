//! The reactor's scheduling (issue 15): the acceptor does no periodic work while nothing
//! needs it, and what it used to do on a timer still happens when it is needed.
//!
//! In a binary of its own, so the acceptor thread found by name is this file's server's.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use gateway::simple_server::{ServerBuilder, WsgiServer};
use gateway::{ErrorStream, SharedBuffer};

mod common;
use common::*;

/// The name of the thread that runs `serve_forever` (the acceptor).
const ACCEPTOR: &str = "acceptor-test";

/// Voluntary context switches of the thread named [`ACCEPTOR`]: each is one return from a
/// wait, so with nothing to do the count stands still.
fn acceptor_wakeups() -> u64 {
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let path = task.expect("task entry").path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if name.trim_end() != ACCEPTOR {
            continue;
        }
        let status = std::fs::read_to_string(path.join("status")).expect("status");
        let line = status
            .lines()
            .find(|l| l.starts_with("voluntary_ctxt_switches:"))
            .expect("voluntary_ctxt_switches");
        return line
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .expect("a count");
    }
    panic!("no thread named {ACCEPTOR}");
}

/// A server whose `serve_forever` runs on a thread named [`ACCEPTOR`].
fn serve(builder: ServerBuilder) -> (Arc<WsgiServer>, thread::JoinHandle<()>) {
    let server = Arc::new(
        builder
            .access_log(false)
            .stderr(ErrorStream::new(SharedBuffer::new()))
            .bind("127.0.0.1", 0, router())
            .expect("bind"),
    );
    let runner = Arc::clone(&server);
    let thread = thread::Builder::new()
        .name(ACCEPTOR.into())
        .spawn(move || runner.serve_forever().expect("serve_forever"))
        .expect("spawn");
    (server, thread)
}

fn stop(server: Arc<WsgiServer>, thread: thread::JoinHandle<()>) {
    server.shutdown();
    assert!(
        join_within(thread, Duration::from_secs(5)).is_some(),
        "the server did not stop"
    );
}

/// How many times the acceptor woke during `wait`.
fn wakeups_during(wait: Duration) -> u64 {
    let before = acceptor_wakeups();
    thread::sleep(wait);
    acceptor_wakeups() - before
}

/// One test, so the phases run in order on one server and nothing else shares the process.
#[test]
fn the_acceptor_sleeps_until_something_needs_it() {
    let (server, thread) = serve(ServerBuilder::new().threads(8).limits(limits(|l| {
        l.keep_alive_timeout = Duration::from_millis(400)
    })));
    let addr = server.server_address();
    // Let the startup watch (tens of milliseconds) end.
    thread::sleep(Duration::from_millis(300));

    // 1. No connection at all: the acceptor sleeps without a timeout. (The old acceptor
    //    woke every 100 ms: 10 times here.)
    let idle = wakeups_during(Duration::from_secs(1));
    assert!(idle <= 1, "the idle acceptor woke {idle} times in 1 s");

    // 2. A deadline that appears while it sleeps (a kept-alive connection's first park) is
    //    still kept: the worker that parks it wakes the acceptor, which sweeps on time.
    let mut client = Client::connect(addr);
    client.send(get("/p/kept"));
    assert_eq!(client.response().text(), "/p/kept");
    let parked = Instant::now();
    assert!(client.closed_within(Duration::from_secs(5)));
    let open = parked.elapsed();
    assert!(
        open >= Duration::from_millis(350) && open < Duration::from_millis(1500),
        "the idle connection was closed after {open:?} (keep-alive timeout 400 ms)"
    );

    // 3. Sequential keep-alive requests: the acceptor wakes far less than once per request
    //    (at 2 ms per tick the old acceptor woke about once per request in a debug build).
    let mut client = Client::connect(addr);
    let before = acceptor_wakeups();
    let requests = 500;
    for i in 0..requests {
        let path = format!("/p/{i}");
        client.send(get(&path));
        assert_eq!(client.response().text(), path);
    }
    let woke = acceptor_wakeups() - before;
    assert!(
        woke < requests / 10,
        "the acceptor woke {woke} times for {requests} sequential requests"
    );
    drop(client);

    // 4. Every slot holder stuck in a blocking app while the acceptor sleeps: the last one to
    //    leave epoll wakes it, and it opens a slot, so another request is answered while the
    //    sleepers still sleep.
    thread::sleep(Duration::from_millis(300));
    assert_served_while_apps_block(addr);

    // 5. Under sustained load every holder is serving, so the acceptor watches for stuck
    //    apps; while the workers keep finishing requests its pairs of looks back off to
    //    16 ms apart, instead of a look every 2 ms (about 400 wake-ups in 800 ms).
    let stop_load = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let loaders: Vec<_> = (0..6)
        .map(|_| {
            let stop_load = Arc::clone(&stop_load);
            thread::spawn(move || {
                let mut client = Client::connect(addr);
                while !stop_load.load(std::sync::atomic::Ordering::Relaxed) {
                    client.send(get("/p/load"));
                    assert_eq!(client.response().text(), "/p/load");
                }
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(200));
    let woke = wakeups_during(Duration::from_millis(800));
    stop_load.store(true, std::sync::atomic::Ordering::Relaxed);
    for loader in loaders {
        loader.join().expect("a load client failed");
    }
    assert!(
        woke < 200,
        "the acceptor woke {woke} times in 800 ms of load (a 2 ms tick would be about 400)"
    );
    stop(server, thread);
}
