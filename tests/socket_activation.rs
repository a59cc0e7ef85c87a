//! Socket activation as systemd does it: a supervisor (here a small Python script) binds the
//! listening socket, passes it to `examples/hello` as descriptor 3 with `LISTEN_PID` and
//! `LISTEN_FDS`, and keeps it open while the server restarts. A connection attempted while no
//! server runs waits in the socket's backlog and is answered by the next server. A passed
//! Unix domain socket is served the same way.

use std::path::PathBuf;
use std::process::Command;

/// `target/<profile>/examples/hello`, built by `cargo test --workspace`.
fn hello_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let binary = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("examples/hello");
    assert!(
        binary.is_file(),
        "{} is missing: run `cargo build --example hello` first",
        binary.display()
    );
    // `cargo test --workspace` rebuilds it; a lone `cargo test --test socket_activation`
    // does not, and must not test an older server than the sources.
    let built = std::fs::metadata(&binary)
        .and_then(|m| m.modified())
        .unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for source in [
        "gateway/src/simple_server/activation.rs",
        "gateway/src/simple_server/run.rs",
        "gateway/src/simple_server/socket.rs",
    ] {
        let changed = std::fs::metadata(root.join(source))
            .and_then(|m| m.modified())
            .unwrap();
        assert!(
            changed <= built,
            "{} is older than {source}: run `cargo build --example hello` first",
            binary.display()
        );
    }
    binary
}

const SUPERVISOR: &str = r#"
import os, signal, socket, subprocess, sys, threading, time, urllib.request

hello = sys.argv[1]
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.bind(("127.0.0.1", 0))
listener.listen(128)
port = listener.getsockname()[1]
os.dup2(listener.fileno(), 3)
os.set_inheritable(3, True)

def start():
    # LISTEN_PID must be the server's own pid: the shell execs it, keeping its pid.
    return subprocess.Popen(
        ["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" --quiet --port 1', hello],
        pass_fds=(3,))

def get(path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.status, r.read().decode()

first = start()
for _ in range(100):
    try:
        print("first", *get("/one")); break
    except OSError:
        time.sleep(0.05)
first.send_signal(signal.SIGTERM)
first.wait(timeout=10)

# No server now: this request waits in the backlog of the socket the supervisor holds.
answer = {}
waiting = threading.Thread(target=lambda: answer.update(r=get("/during-restart")))
waiting.start()
time.sleep(0.3)
second = start()
waiting.join(timeout=10)
print("queued", *answer["r"])
print("second", *get("/two"))
second.send_signal(signal.SIGTERM)
second.wait(timeout=10)

# A Unix domain socket passed the same way (ListenStream=/run/app.sock).
path = f"/tmp/gateway-activation-{os.getpid()}.sock"
unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
unix.bind(path)
unix.listen(16)
os.dup2(unix.fileno(), 3)
third = start()
reply = b""
for _ in range(100):
    try:
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(path)
        client.sendall(b"GET /unix HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n")
        while chunk := client.recv(4096):
            reply += chunk
        if reply:
            break
    except OSError:
        time.sleep(0.05)
print("unix", reply.split(b"\r\n")[0].decode(), reply.rsplit(b"\r\n", 1)[-1].decode())
third.send_signal(signal.SIGTERM)
third.wait(timeout=10)
os.unlink(path)
"#;

#[test]
fn a_restart_loses_no_connection_attempt() {
    let output = Command::new("python3")
        .arg("-c")
        .arg(SUPERVISOR)
        .arg(hello_binary())
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "supervisor failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout,
        "first 200 Hello World\nqueued 200 Hello World\nsecond 200 Hello World\nunix HTTP/1.1 200 OK Hello World\n"
    );
}
