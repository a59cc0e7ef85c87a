//! `examples/site.rs` on an ephemeral port, walked with a real HTTP client (raw sockets and
//! curl): every link of the home page, the static files byte-exact, the guestbook round trip,
//! `/demo`, and the 404 page. The browser's walk is in `tests/site_browser.rs`.

use std::process::Command;

#[path = "../examples/site.rs"]
#[allow(dead_code)]
mod site;

mod common;
use common::*;

/// The `href` values of `html`, in order.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|link| link.replace("&amp;", "&"))
        .collect()
}

fn get(addr: std::net::SocketAddr, path: &str) -> Response {
    one_response(addr, get_close(path))
}

fn post_form(addr: std::net::SocketAddr, path: &str, body: &str) -> Response {
    one_response(
        addr,
        format!(
            "POST {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
}

#[test]
fn every_link_of_the_home_page_answers() {
    let mut server = start(site::app().unwrap(), |b| b);
    let home = get(server.addr, "/");
    assert_eq!(home.status, 200);
    assert_eq!(
        home.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    let links = links(&home.text());
    assert!(links.len() >= 10, "{links:?}");
    for link in &links {
        let response = get(server.addr, link);
        assert_eq!(response.status, 200, "{link}: {}", response.text());
        assert!(!response.body.is_empty(), "{link}");
    }
    server.stop();
}

#[test]
fn static_files_arrive_byte_exact() {
    let mut server = start(site::app().unwrap(), |b| b);
    let css = get(server.addr, "/static/style.css");
    let expected = std::fs::read(site::static_dir().join("style.css")).unwrap();
    assert_eq!(css.body, expected);
    assert_eq!(css.header("Content-Type"), Some("text/css; charset=utf-8"));
    // The large one, with curl (sendfile on the server's side).
    let out = std::env::temp_dir().join(format!("site-big-{}", std::process::id()));
    let status = Command::new("curl")
        .args(["-sS", "-o"])
        .arg(&out)
        .arg(format!("http://{}/files/big.bin", server.addr))
        .status()
        .expect("curl runs (install curl: bash .ci/install-test-deps)");
    assert!(status.success());
    let got = std::fs::read(&out).unwrap();
    let expected = std::fs::read(site::files_dir().unwrap().join("big.bin")).unwrap();
    assert_eq!(got.len(), site::BIG_FILE_BYTES);
    assert!(got == expected, "the 4 MiB file differs");
    std::fs::remove_file(out).unwrap();
    // A range of it.
    let range = one_response(
        server.addr,
        "GET /files/big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\nRange: bytes=100-199\r\n\r\n",
    );
    assert_eq!(
        (range.status, range.body.as_slice()),
        (206, &expected[100..200])
    );
    server.stop();
}

#[test]
fn guestbook_round_trip_and_errors() {
    let mut server = start(site::app().unwrap(), |b| b);
    let signed = post_form(
        server.addr,
        "/guestbook/",
        "name=Ada+Lovelace&message=Hello+%3Cb%3Eworld%3C%2Fb%3E",
    );
    assert_eq!(signed.status, 303);
    assert_eq!(signed.header("Location"), Some("./"));
    let page = get(server.addr, "/guestbook/").text();
    assert!(
        page.contains("<span class=\"who\">Ada Lovelace</span>: Hello &lt;b&gt;world&lt;/b&gt;"),
        "{page}"
    );
    assert!(page.contains("1 entry"));
    let json = get(server.addr, "/guestbook/entries.json");
    assert_eq!(
        json.text(),
        r#"[{"name":"Ada Lovelace","message":"Hello <b>world</b>"}]"#
    );
    // A bad POST: the page again, with its errors and what was typed, and nothing stored.
    let bad = post_form(server.addr, "/guestbook/", "name=&message=kept+%26+escaped");
    assert_eq!(bad.status, 422);
    let text = bad.text();
    assert!(text.contains("Please give your name."), "{text}");
    assert!(text.contains(">kept &amp; escaped</textarea>"), "{text}");
    assert!(get(server.addr, "/guestbook/").text().contains("1 entry"));
    server.stop();
}

#[test]
fn demo_url_and_missing_pages() {
    let mut server = start(site::app().unwrap(), |b| b);
    let demo = get(server.addr, "/demo/x").text();
    assert!(demo.contains("SCRIPT_NAME = '/demo'"), "{demo}");
    assert!(demo.contains("PATH_INFO = '/x'"), "{demo}");
    let url = get(server.addr, "/url?x=1").text();
    assert!(url.contains("<dd>http://localhost/url?x=1</dd>"), "{url}");
    let missing = get(server.addr, "/no/such/page");
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert!(missing.text().contains("There is no page at this address."));
    let plain = get(server.addr, "/plain");
    assert_eq!(
        (plain.text(), plain.header("Content-Type")),
        ("Hello World".into(), Some("text/plain"))
    );
    server.stop();
}

#[test]
fn the_site_under_the_validator_and_as_a_cgi_program() {
    // Every page of the home page's walk passes the validator's rules.
    let mut server = start(gateway::validate::validator(site::app().unwrap()), |b| b);
    for link in links(&get(server.addr, "/").text()) {
        let response = get(server.addr, &link);
        assert_eq!(response.status, 200, "{link}");
    }
    server.stop();
    assert!(
        !server.log().contains("wsgiref.validate"),
        "{}",
        server.log()
    );

    // `--cgi`: one request as a CGI program, its links under the script's own path.
    let exe = std::env::current_exe().unwrap();
    let binary = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("examples/site");
    assert!(
        binary.is_file(),
        "{} is missing: run `cargo build --example site` first",
        binary.display()
    );
    let output = Command::new(&binary)
        .arg("--cgi")
        .env_clear()
        .envs([
            ("REQUEST_METHOD", "GET"),
            ("SCRIPT_NAME", "/cgi-bin/site"),
            ("PATH_INFO", "/hello/cgi"),
            ("QUERY_STRING", "greeting=Hi"),
            ("SERVER_NAME", "example.org"),
            ("SERVER_PORT", "80"),
            ("SERVER_PROTOCOL", "HTTP/1.1"),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("Status: 200 OK\r\n"), "{stdout}");
    assert!(stdout.contains("<h1>Hi, cgi!</h1>"), "{stdout}");
    assert!(
        stdout.contains("href=\"/cgi-bin/site/guestbook/\""),
        "{stdout}"
    );
}
