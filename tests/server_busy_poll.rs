//! `ServerBuilder::busy_poll` (issue 15): a worker that waits on a lone keep-alive connection
//! for its next request first polls the socket for up to the budget, then sleeps in a
//! blocking read. A poll is seen as CPU time: the workers' own, read from
//! `/proc/self/task/*/stat` (a poll runs, a blocking read sleeps). In a binary of its own, so
//! every worker thread found by name belongs to this file's servers.

use std::thread;
use std::time::Duration;

mod common;
use common::*;

/// CPU time (user and system, in clock ticks) used so far by every worker thread.
fn worker_ticks() -> u64 {
    let mut ticks = 0;
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let stat = std::fs::read_to_string(task.expect("task entry").path().join("stat"))
            .unwrap_or_default();
        // `pid (comm) state ...`: fields after the name; utime and stime are the 14th and
        // 15th of the line, the 12th and 13th after the name.
        let Some((name, rest)) = stat.split_once(") ") else {
            continue;
        };
        if !name.contains("(gateway-worker") {
            continue;
        }
        let fields: Vec<&str> = rest.split_whitespace().collect();
        ticks += fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0);
    }
    ticks
}

/// The workers' CPU ticks during `pause`.
fn ticks_during(pause: Duration) -> u64 {
    let before = worker_ticks();
    thread::sleep(pause);
    worker_ticks() - before
}

fn ask(client: &mut Client, path: &str) {
    client.send(get(path));
    assert_eq!(client.response().text(), path);
}

/// One test, so the servers run one after the other and nothing else shares the process.
#[test]
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn a_worker_polls_a_lone_connection_within_its_budget_then_sleeps() {
    if !fast_path_observable() {
        return;
    }
    let ticks_per_second = 100; // USER_HZ, what /proc reports in on Linux
    let pause = Duration::from_millis(300);
    let pause_ticks = ticks_per_second * 300 / 1000;

    // 1. A budget longer than the client's pause: the worker polls through it (it runs the
    //    whole time), and the request that ends the pause is read by the poll and answered.
    let mut polling = start(router(), |b| {
        b.busy_poll(Some(Duration::from_secs(5))).access_log(false)
    });
    // The workers take their places in epoll first (the fast path needs one there).
    thread::sleep(Duration::from_millis(100));
    let mut client = Client::connect(polling.addr);
    for i in 0..20 {
        ask(&mut client, &format!("/p/warm-{i}"));
    }
    let used = ticks_during(pause);
    // A sixth of a core at least, even on a busy machine (it yields between tries).
    assert!(
        used >= pause_ticks / 6,
        "the workers used {used} ticks in a {pause:?} pause while one should have polled \
         (at least {} expected)",
        pause_ticks / 6
    );
    ask(&mut client, "/p/after-poll");
    // Many in a row, on the connection its worker polls.
    for i in 0..200 {
        ask(&mut client, &format!("/p/{i}"));
    }
    // A head that comes in two writes, the first caught by the poll: the half head is
    // parked (re-armed in epoll) and the rest completes it.
    client.send("GET /p/split HTTP/1.1\r\nHost: x\r\n");
    thread::sleep(Duration::from_millis(30));
    client.send("\r\n");
    assert_eq!(client.response().text(), "/p/split");
    ask(&mut client, "/p/after-split");

    // 2. The client closes while its worker polls: the poll ends with the connection, no
    //    worker keeps running, and the server keeps serving.
    drop(client);
    thread::sleep(Duration::from_millis(50));
    let used = ticks_during(pause);
    assert!(
        used <= pause_ticks / 6,
        "the workers used {used} ticks in the {pause:?} after the client closed"
    );
    assert!(
        wait_for(Duration::from_secs(2), || polling
            .server
            .parked_connections()
            == 0),
        "the closed connection still holds a table slot"
    );
    assert_serves(polling.addr);

    // 3. Shutdown while a worker polls: the poll is called off at once, not at its budget.
    let mut client = Client::connect(polling.addr);
    for i in 0..5 {
        ask(&mut client, &format!("/p/before-stop-{i}"));
    }
    thread::sleep(Duration::from_millis(50));
    let stopping = std::time::Instant::now();
    assert!(polling.stop().is_some(), "serve_forever did not return");
    assert!(
        stopping.elapsed() < Duration::from_secs(2),
        "shutdown took {:?} with a worker polling (budget 5 s)",
        stopping.elapsed()
    );
    drop(client);

    // 4. A budget shorter than the pause: the poll gives up at its budget (the workers run
    //    for about 20 ms of the 300), the worker sleeps, and the request after the pause is
    //    answered.
    let mut short = start(router(), |b| {
        b.busy_poll(Some(Duration::from_millis(20)))
            .access_log(false)
    });
    thread::sleep(Duration::from_millis(100));
    let mut client = Client::connect(short.addr);
    ask(&mut client, "/p/first");
    let used = ticks_during(pause);
    assert!(
        used <= pause_ticks / 6,
        "the workers used {used} ticks in a {pause:?} pause with a 20 ms poll budget"
    );
    ask(&mut client, "/p/after-pause");
    for i in 0..20 {
        ask(&mut client, &format!("/p/short-{i}"));
    }
    drop(client);
    short.stop();

    // 5. No polling: the worker that waits on the connection sleeps in its read at once.
    let mut sleeping = start(router(), |b| b.busy_poll(None).access_log(false));
    thread::sleep(Duration::from_millis(100));
    let mut client = Client::connect(sleeping.addr);
    let mut seen = false;
    for i in 0..50 {
        ask(&mut client, &format!("/p/no-poll-{i}"));
        let look_until = std::time::Instant::now() + Duration::from_millis(2);
        while !seen && std::time::Instant::now() < look_until {
            seen = workers_in_recvfrom() > 0;
        }
        if seen {
            break;
        }
    }
    assert!(seen, "no worker waited on the lone connection");
    let used = ticks_during(pause);
    assert!(
        used <= pause_ticks / 6,
        "the workers used {used} ticks in a {pause:?} pause with polling off"
    );
    ask(&mut client, "/p/after-pause");
    drop(client);
    sleeping.stop();
}
