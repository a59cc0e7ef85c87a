//! Deployment as users run it: real nginx (Debian's package, installed by
//! `bash .ci/install-test-deps`) as a reverse proxy in front of two instances of the example
//! site on loopback, with `middleware::ProxyFix` trusting it. Requests spread across both instances,
//! the app rebuilds the public URL (scheme, host, port and nginx's path prefix), nginx keeps
//! its upstream connections alive, and when one instance stops mid-run every idempotent
//! request still succeeds. The same over Unix domain sockets, and the server on an IPv6
//! address.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use gateway::middleware::{AddHeader, ProxyFix};
use gateway::util::request_uri;
use gateway::{App, Response, app_fn};

#[path = "../examples/site.rs"]
#[allow(dead_code)]
mod site;

mod common;
use common::*;

/// The example site behind the proxy: `ProxyFix` trusting nginx's headers, and an
/// `X-Instance` header saying which instance answered.
fn site_instance(name: &'static str) -> impl App {
    let site = ProxyFix::new(site::app().expect("the site builds"))
        .x_host(1)
        .x_port(1)
        .x_prefix(1);
    AddHeader::new(site, "X-Instance", name).expect("a valid header")
}

/// Answers `INSTANCE|request_uri|REMOTE_ADDR|REMOTE_PORT` for the request it sees.
fn instance_app(name: &'static str) -> impl App {
    ProxyFix::new(app_fn(move |env, sr| {
        let text = format!(
            "{name}|{}|{}|{}",
            request_uri(env, true)?,
            env.get("REMOTE_ADDR").unwrap_or(""),
            env.get("REMOTE_PORT").unwrap_or("")
        );
        Response::text(text).send(sr)
    }))
    .x_host(1)
    .x_port(1)
    .x_prefix(1)
}

/// nginx, or a failure saying how to install it.
fn nginx_binary() -> PathBuf {
    for candidate in ["/usr/sbin/nginx", "/usr/bin/nginx"] {
        if Path::new(candidate).is_file() {
            return PathBuf::from(candidate);
        }
    }
    panic!("nginx is not installed: run `bash .ci/install-test-deps` (Debian's nginx-light)");
}

/// nginx running with its own configuration, pid and temporary paths; stopped by PID on drop.
struct Nginx {
    child: Child,
    dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_nginx(upstreams: &[String]) -> (Nginx, u16) {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("gateway-nginx-{}-{port}", std::process::id()));
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    let servers: String = upstreams
        .iter()
        .map(|a| format!("        server {a} max_fails=1 fail_timeout=30s;\n"))
        .collect();
    let d = dir.display();
    let config = format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    upstream gateway {{
{servers}        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{port};
        location /app/ {{
            proxy_pass http://gateway/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-Port $server_port;
            proxy_set_header X-Forwarded-Prefix /app;
            proxy_next_upstream error timeout http_502;
            proxy_connect_timeout 2s;
        }}
    }}
}}
"#
    );
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, config).unwrap();
    let child = Command::new(nginx_binary())
        .arg("-c")
        .arg(&conf)
        .arg("-p")
        .arg(&dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .spawn()
        .expect("nginx starts");
    let nginx = Nginx { child, dir };
    let up = wait_for(IO_TIMEOUT, || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "nginx did not listen on {port}");
    (nginx, port)
}

/// One request through nginx on a fresh connection: (status, body).
fn through(port: u16, path: &str) -> (u16, String) {
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let response = one_response(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"),
    );
    (response.status, response.text())
}

/// One request through nginx on a fresh connection: (status, instance, body).
fn through_site(port: u16, path: &str) -> (u16, String, String) {
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let response = one_response(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"),
    );
    let instance = response.header("X-Instance").unwrap_or("").to_owned();
    (response.status, instance, response.text())
}

#[test]
fn nginx_balances_two_site_instances_and_fails_over() {
    let mut first = start(site_instance("one"), |b| b);
    let mut second = start(site_instance("two"), |b| b);
    let (nginx, port) = start_nginx(&[first.addr.to_string(), second.addr.to_string()]);

    // Spread across both; inside, the site rebuilds its public URL and links under /app.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for i in 0..30 {
        let (status, instance, body) = through_site(port, &format!("/app/url?i={i}"));
        assert_eq!(status, 200, "{body}");
        let public = format!("<dd>http://127.0.0.1:{port}/app/url?i={i}</dd>");
        assert!(body.contains(&public), "the public URL {public} in {body}");
        assert!(
            body.contains("href=\"/app/guestbook/\""),
            "links under the prefix"
        );
        *seen.entry(instance).or_default() += 1;
    }
    assert_eq!(seen.len(), 2, "both instances served: {seen:?}");
    assert!(seen.values().all(|&n| n >= 8), "spread: {seen:?}");

    // Keep-alive to the upstream: demo_app shows the upstream connection's REMOTE_PORT
    // (the real one; ProxyFix only replaces REMOTE_ADDR), and 30 requests use few.
    let mut connections: HashMap<String, usize> = HashMap::new();
    for _ in 0..30 {
        let (status, instance, body) = through_site(port, "/app/demo/");
        assert_eq!(status, 200);
        assert!(body.contains("SCRIPT_NAME = '/app/demo'"), "{body}");
        let remote_port = body
            .lines()
            .find(|l| l.starts_with("REMOTE_PORT = "))
            .unwrap_or("")
            .to_owned();
        *connections
            .entry(format!("{instance} {remote_port}"))
            .or_default() += 1;
    }
    assert!(
        connections.len() <= 12,
        "nginx reused its upstream connections: {} connections for 30 requests",
        connections.len()
    );

    // One instance stops mid-run: every GET still succeeds, served by the other.
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        first.stop();
        first
    });
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut after = HashMap::<String, usize>::new();
    let mut count = 0;
    while Instant::now() < deadline || count < 60 {
        let (status, instance, body) = through_site(port, "/app/plain");
        assert_eq!(
            status, 200,
            "request {count} failed during failover: {body}"
        );
        *after.entry(instance).or_default() += 1;
        count += 1;
    }
    let first = stopper.join().unwrap();
    assert!(after.get("two").copied().unwrap_or(0) > 0, "{after:?}");
    drop(first);
    second.stop();
    drop(nginx);
}

#[test]
fn serves_on_an_ipv6_address() {
    let server = gateway::simple_server::ServerBuilder::new()
        .threads(2)
        .stderr(gateway::ErrorStream::sink())
        .bind("::1", 0, environ_app())
        .expect("bind [::1]:0");
    let addr = server.server_address();
    assert!(addr.is_ipv6(), "{addr}");
    let server = std::sync::Arc::new(server);
    let runner = std::sync::Arc::clone(&server);
    let thread = std::thread::spawn(move || runner.serve_forever());
    let response = one_response(addr, get_close("/v6"));
    assert_eq!(response.status, 200);
    let text = response.text();
    assert!(text.contains("REMOTE_ADDR=Some(\"::1\")"), "{text}");
    server.shutdown();
    thread.join().unwrap().unwrap();
}

/// A server on a Unix domain socket, serving on its own thread; stopped and joined on drop.
struct UnixServer {
    server: std::sync::Arc<gateway::simple_server::WsgiServer>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
    path: PathBuf,
}

impl Drop for UnixServer {
    fn drop(&mut self) {
        self.server.shutdown();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn start_unix(app: impl App + 'static, name: &str) -> UnixServer {
    let path = std::env::temp_dir().join(format!("gateway-{}-{name}.sock", std::process::id()));
    let server = gateway::simple_server::ServerBuilder::new()
        .threads(2)
        .stderr(gateway::ErrorStream::sink())
        .bind_unix(&path, app)
        .expect("bind a Unix socket");
    let server = std::sync::Arc::new(server);
    let runner = std::sync::Arc::clone(&server);
    let thread = Some(std::thread::spawn(move || runner.serve_forever()));
    UnixServer {
        server,
        thread,
        path,
    }
}

#[test]
fn a_unix_socket_directly_and_behind_nginx() {
    // Directly: no client address on a Unix socket; the server's name and port as gunicorn's.
    let direct = start_unix(environ_app(), "direct");
    let mut client = std::os::unix::net::UnixStream::connect(&direct.path).unwrap();
    std::io::Write::write_all(
        &mut client,
        b"GET /unix HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut client, &mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
    assert!(text.contains("REMOTE_ADDR=Some(\"\")"), "{text}");
    assert!(text.contains("SERVER_PORT=Some(\"80\")"), "{text}");
    let socket_path = direct.path.clone();
    drop(direct);
    assert!(
        !socket_path.exists(),
        "the socket file is removed with the server"
    );

    // Behind nginx (`proxy_pass http://unix:...`), two instances, ProxyFix trusting it.
    let first = start_unix(instance_app("one"), "one");
    let second = start_unix(instance_app("two"), "two");
    let upstreams = [
        format!("unix:{}", first.path.display()),
        format!("unix:{}", second.path.display()),
    ];
    let (nginx, port) = start_nginx(&upstreams);
    let mut seen: HashMap<String, usize> = HashMap::new();
    for i in 0..20 {
        let (status, body) = through(port, &format!("/app/u/{i}"));
        assert_eq!(status, 200, "{body}");
        let parts: Vec<&str> = body.split('|').collect();
        assert_eq!(parts[1], format!("http://127.0.0.1:{port}/app/u/{i}"));
        assert_eq!(parts[2], "127.0.0.1", "the client's address, from nginx");
        *seen.entry(parts[0].to_owned()).or_default() += 1;
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
    // One instance stops mid-run: every GET still succeeds, served by the other.
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        drop(first);
    });
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut after = HashMap::<String, usize>::new();
    let mut count = 0;
    while Instant::now() < deadline || count < 60 {
        let (status, body) = through(port, "/app/health");
        assert_eq!(
            status, 200,
            "request {count} failed during failover: {body}"
        );
        *after
            .entry(body.split('|').next().unwrap().to_owned())
            .or_default() += 1;
        count += 1;
    }
    stopper.join().unwrap();
    assert!(after.get("two").copied().unwrap_or(0) > 0, "{after:?}");
    drop(second);
    drop(nginx);
}

#[test]
fn a_stopped_server_leaves_its_successors_socket_alone() {
    let mut first = start_unix(environ_app(), "successor");
    let path = first.path.clone();
    // Stopped (its socket refuses connections) but not dropped yet: a new server takes over.
    first.server.shutdown();
    let _ = first.thread.take().expect("serving").join();
    let second = gateway::simple_server::ServerBuilder::new()
        .threads(1)
        .stderr(gateway::ErrorStream::sink())
        .bind_unix(&path, environ_app())
        .expect("a stopped server's socket is stale");
    // Another live server at the path is refused, not replaced.
    let refused = gateway::simple_server::ServerBuilder::new()
        .threads(1)
        .bind_unix(&path, environ_app())
        .unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::AddrInUse);
    drop(first);
    assert!(
        path.exists(),
        "dropping the old server must not remove the new socket"
    );
    drop(second);
    assert!(!path.exists(), "the new server removes its own socket");
}
