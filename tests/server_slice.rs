//! The workers' scheduler slice (`ServerBuilder::worker_slice`, issue 15): each worker thread
//! of a running server asks the kernel for it, and the kernel shows what it granted in
//! `/proc/self/task/*/sched` (`se.slice`, Linux 6.12 and later).
//!
//! In a binary of its own, so every worker thread found by name is this file's servers'.

use std::collections::HashSet;
use std::time::Duration;

use gateway::Body;
use gateway::app_fn;

mod common;
use common::*;

/// Whether this kernel grants per-thread slices (6.12 and later; 6.6 stable kernels show
/// `se.slice` too, but ignore what a thread asks for).
fn custom_slices() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (major, minor) >= (6, 12)
}

/// The slice `sched` (a `/proc/.../sched` file) shows, in nanoseconds.
fn slice_in(sched: &str) -> Option<u64> {
    let line = sched.lines().find(|l| l.starts_with("se.slice"))?;
    line.split(':').nth(1)?.trim().parse().ok()
}

/// Every worker thread of this process: its id and the slice it runs with.
fn workers() -> Vec<(String, Option<u64>)> {
    let mut found = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let path = task.expect("task entry").path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if name.starts_with("gateway-worker") {
            let sched = std::fs::read_to_string(path.join("sched")).unwrap_or_default();
            let tid = path.file_name().unwrap().to_string_lossy().into_owned();
            found.push((tid, slice_in(&sched)));
        }
    }
    found
}

/// Starts a 4-worker server with `slice`, checks it serves, and waits until its workers (those
/// not in `seen`) all show `expected`; returns their ids. Fails with what the workers show.
fn workers_of_new_server(
    slice: Option<Option<Duration>>,
    expected: u64,
    seen: &HashSet<String>,
    servers: &mut Vec<TestServer>,
) -> HashSet<String> {
    let app = app_fn(|_env, sr| {
        sr.start("200 OK", [("Content-Type", "text/plain")])?;
        Ok(Body::from("ok"))
    });
    let server = start(app, |b| match slice {
        Some(slice) => b.worker_slice(slice),
        None => b,
    });
    assert_eq!(one_response(server.addr, get_close("/")).text(), "ok");
    let mut last = Vec::new();
    let settled = wait_for(Duration::from_secs(5), || {
        last = workers()
            .into_iter()
            .filter(|(tid, _)| !seen.contains(tid))
            .collect();
        last.len() == 4 && last.iter().all(|(_, s)| *s == Some(expected))
    });
    assert!(
        settled,
        "expected 4 new workers with se.slice {expected}, found {last:?}"
    );
    servers.push(server);
    last.into_iter().map(|(tid, _)| tid).collect()
}

#[test]
fn workers_run_with_the_slice_the_builder_names() {
    let sched = std::fs::read_to_string("/proc/thread-self/sched").unwrap_or_default();
    let kernel_default = slice_in(&sched).filter(|&s| custom_slices() && s != 100_000);
    let Some(kernel_default) = kernel_default else {
        // Before Linux 6.12 there are no per-thread slices to look at (and where the
        // default already is 0.1 ms, nothing would tell the settings apart): the setting
        // must still leave the server serving.
        let app = app_fn(|_env, sr| {
            sr.start("200 OK", [("Content-Type", "text/plain")])?;
            Ok(Body::from("ok"))
        });
        let server = start(app, |b| b);
        assert_eq!(one_response(server.addr, get_close("/")).text(), "ok");
        eprintln!("no per-thread slices to tell apart here: only serving was checked");
        return;
    };
    let mut servers = Vec::new();
    let mut seen = HashSet::new();
    // The default: 0.1 ms, the shortest the kernel grants.
    seen.extend(workers_of_new_server(None, 100_000, &seen, &mut servers));
    // A slice of the caller's choosing.
    let chosen = Some(Duration::from_millis(2));
    seen.extend(workers_of_new_server(
        Some(chosen),
        2_000_000,
        &seen,
        &mut servers,
    ));
    // `None`: the kernel's own, as this test thread has.
    workers_of_new_server(Some(None), kernel_default, &seen, &mut servers);
}
