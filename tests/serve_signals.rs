//! `gateway::serve` in a real process with real signals: it prints its URL, and on SIGTERM
//! (or SIGINT) says it is shutting down, finishes the request in flight, says "stopped" and
//! exits 0. The child process is this test binary re-run with `GATEWAY_SERVE_CHILD` set.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use gateway::{Response, app_fn};

/// In the child: serve until a signal, with a route that takes 600 ms.
fn child_main() {
    let app = app_fn(|env, sr| {
        if env.get("PATH_INFO") == Some("/slow") {
            std::thread::sleep(Duration::from_millis(600));
        }
        Response::text("done").send(sr)
    });
    gateway::serve("127.0.0.1:0", app).expect("serve");
}

fn signal_drains_and_stops(signal: &str, test_name: &str) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test_name, "--nocapture", "--test-threads", "1"])
        .env("GATEWAY_SERVE_CHILD", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child server");
    let (lines_tx, lines) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut log = Vec::new();
    let port: u16 = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(10))
            .expect("the server printed its URL");
        log.push(line.clone());
        if let Some(rest) = line.split("serving on http://127.0.0.1:").nth(1) {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            break digits.parse().unwrap();
        }
    };
    assert!(log.last().unwrap().contains("(Ctrl-C to stop)"), "{log:?}");

    let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    slow.write_all(b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(150));
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());

    let mut response = String::new();
    slow.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.contains("\r\nConnection: close\r\n"), "{response}");
    assert!(response.ends_with("done"), "{response}");

    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    log.extend(lines.try_iter());
    assert!(status.success(), "{status:?} {log:?}");
    let text = log.join("\n");
    assert!(
        text.contains(&format!("gateway: {signal}: shutting down")),
        "{text}"
    );
    assert!(text.contains("gateway: stopped"), "{text}");
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "still accepting"
    );
}

#[test]
fn sigterm_drains_and_stops() {
    if std::env::var_os("GATEWAY_SERVE_CHILD").is_some() {
        return child_main();
    }
    signal_drains_and_stops("SIGTERM", "sigterm_drains_and_stops");
}

#[test]
fn sigint_drains_and_stops() {
    if std::env::var_os("GATEWAY_SERVE_CHILD").is_some() {
        return child_main();
    }
    signal_drains_and_stops("SIGINT", "sigint_drains_and_stops");
}
