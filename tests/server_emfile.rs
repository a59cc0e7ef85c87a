//! The server survives running out of file descriptors: `accept()` fails with EMFILE, the
//! failure is logged, accepting pauses and resumes, and requests are answered again once
//! descriptors are free. Runs the `hello` example under `prlimit` (a real process limit, so
//! the test process itself is not affected).

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// `target/<profile>/examples/hello`, built by `cargo test` before the tests run.
fn hello_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in <target>/<profile>/deps");
    let binary = profile_dir.join("examples").join("hello");
    assert!(
        binary.is_file(),
        "{} is missing: run `cargo build --example hello` first",
        binary.display()
    );
    binary
}

/// Kills the server when the test ends, however it ends.
struct Server {
    child: Child,
    stderr: Arc<Mutex<String>>,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_limited(max_fds: u32) -> Option<Server> {
    if Command::new("prlimit").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "prlimit (util-linux) is required in CI"
        );
        eprintln!("skipping: prlimit not installed");
        return None;
    }
    let mut child = Command::new("prlimit")
        .arg(format!("--nofile={max_fds}:{max_fds}"))
        .arg(hello_binary())
        .args(["--quiet", "--port", "0", "--threads", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hello under prlimit");
    let stderr = Arc::new(Mutex::new(String::new()));
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    let pipe = child.stderr.take().expect("stderr piped");
    let sink = Arc::clone(&stderr);
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("http://127.0.0.1:").nth(1) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let port: u16 = digits.parse().unwrap_or(0);
                let _ = port_tx.send(port);
            }
            sink.lock().unwrap().push_str(&line);
            sink.lock().unwrap().push('\n');
        }
    });
    let port = port_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("hello printed its address");
    Some(Server {
        child,
        stderr,
        port,
    })
}

fn get(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

#[test]
fn accept_survives_emfile_and_recovers() {
    let Some(server) = start_limited(64) else {
        return;
    };
    assert!(get(server.port).is_some_and(|r| r.ends_with("Hello World")));

    // Hold more connections than the server has descriptors for.
    let held: Vec<TcpStream> = (0..120)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", server.port)).ok())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.stderr.lock().unwrap().contains("accept failed") && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    let log = server.stderr.lock().unwrap().clone();
    assert!(
        log.contains("accept failed") && log.contains("pausing accepts"),
        "EMFILE was not logged; stderr:\n{log}"
    );

    // Free the descriptors: the server closes its ends when it reads EOF, then accepts again.
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut answered = false;
    while !answered && Instant::now() < deadline {
        answered = get(server.port).is_some_and(|r| r.ends_with("Hello World"));
        if !answered {
            thread::sleep(Duration::from_millis(50));
        }
    }
    assert!(answered, "the server did not recover after EMFILE");
}
