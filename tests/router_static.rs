//! `router::Static` through the test client (every behaviour, every traversal attempt) and
//! over the real server (byte-exact files, sendfile for a file over 1 MiB, HEAD, Range).

use std::path::PathBuf;

use gateway::test::{EnvironBuilder, TestResponse, run_app};
use router::{Router, Static};

mod common;
use common::*;

/// A scratch directory tree, removed on drop:
/// root/{index.html, a.txt, big.bin (3 MiB), .hidden, dir/{index.html, b.css}, empty/,
/// link-out -> outside/secret.txt, link-in -> a.txt}, and outside/secret.txt beside root.
struct Tree {
    base: PathBuf,
    root: PathBuf,
    big: Vec<u8>,
}

impl Tree {
    fn new(name: &str) -> Tree {
        let base = std::env::temp_dir().join(format!("gateway-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let root = base.join("root");
        std::fs::create_dir_all(root.join("dir")).unwrap();
        std::fs::create_dir_all(root.join("empty")).unwrap();
        std::fs::create_dir_all(base.join("outside")).unwrap();
        std::fs::write(root.join("index.html"), "<h1>home</h1>").unwrap();
        std::fs::write(root.join("a.txt"), "0123456789").unwrap();
        std::fs::write(root.join(".hidden"), "no").unwrap();
        std::fs::write(root.join("dir/index.html"), "<h1>dir</h1>").unwrap();
        std::fs::write(root.join("dir/b.css"), "body{}").unwrap();
        std::fs::write(base.join("outside/secret.txt"), "secret").unwrap();
        std::os::unix::fs::symlink(base.join("outside/secret.txt"), root.join("link-out")).unwrap();
        std::os::unix::fs::symlink(root.join("a.txt"), root.join("link-in")).unwrap();
        let big: Vec<u8> = (0..3 * 1024 * 1024u32)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        std::fs::write(root.join("big.bin"), &big).unwrap();
        Tree { base, root, big }
    }

    fn site(&self) -> Router {
        Router::builder()
            .mount("/static", Static::new(&self.root).unwrap())
            .build()
            .unwrap()
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

fn fetch(site: &Router, path: &str, headers: &[(&str, &str)]) -> TestResponse {
    let mut builder = EnvironBuilder::new().var("PATH_INFO", path);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    run_app(site, builder.build())
}

#[test]
fn static_files_behave() {
    let tree = Tree::new("static-behave");
    let site = tree.site();
    let a = fetch(&site, "/static/a.txt", &[]);
    assert_eq!((a.status_code, a.text().as_str()), (200, "0123456789"));
    assert_eq!(a.header("Content-Type"), Some("text/plain; charset=utf-8"));
    assert_eq!(a.header("Content-Length"), Some("10"));
    assert_eq!(a.header("Accept-Ranges"), Some("bytes"));
    let etag = a.header("ETag").unwrap().to_owned();
    let modified = a.header("Last-Modified").unwrap().to_owned();
    // Validators.
    assert_eq!(
        fetch(&site, "/static/a.txt", &[("If-None-Match", &etag)]).status_code,
        304
    );
    assert_eq!(
        fetch(
            &site,
            "/static/a.txt",
            &[("If-None-Match", &format!("\"x\", W/{etag}"))]
        )
        .status_code,
        304
    );
    assert_eq!(
        fetch(&site, "/static/a.txt", &[("If-None-Match", "*")]).status_code,
        304
    );
    assert_eq!(
        fetch(&site, "/static/a.txt", &[("If-None-Match", "\"other\"")]).status_code,
        200
    );
    assert_eq!(
        fetch(&site, "/static/a.txt", &[("If-Modified-Since", &modified)]).status_code,
        304
    );
    assert_eq!(
        fetch(
            &site,
            "/static/a.txt",
            &[("If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT")]
        )
        .status_code,
        200
    );
    let not_modified = fetch(&site, "/static/a.txt", &[("If-None-Match", &etag)]);
    assert!(not_modified.body.is_empty());
    assert_eq!(not_modified.header("ETag"), Some(etag.as_str()));
    // Ranges.
    let cases: &[(&str, u16, &str, Option<&str>)] = &[
        ("bytes=2-4", 206, "234", Some("bytes 2-4/10")),
        ("bytes=7-", 206, "789", Some("bytes 7-9/10")),
        ("bytes=-2", 206, "89", Some("bytes 8-9/10")),
        ("bytes=5-99", 206, "56789", Some("bytes 5-9/10")),
        ("bytes=0-1,4-5", 200, "0123456789", None),
        (
            "bytes=10-",
            416,
            "416 Range Not Satisfiable\n",
            Some("bytes */10"),
        ),
    ];
    for (range, status, body, content_range) in cases {
        let response = fetch(&site, "/static/a.txt", &[("Range", range)]);
        assert_eq!(response.status_code, *status, "{range}");
        assert_eq!(response.text(), *body, "{range}");
        assert_eq!(response.header("Content-Range"), *content_range, "{range}");
    }
    // If-Range with another tag: the whole file.
    let stale = fetch(
        &site,
        "/static/a.txt",
        &[("Range", "bytes=0-0"), ("If-Range", "\"old\"")],
    );
    assert_eq!(stale.status_code, 200);
    let fresh = fetch(
        &site,
        "/static/a.txt",
        &[("Range", "bytes=0-0"), ("If-Range", &etag)],
    );
    assert_eq!((fresh.status_code, fresh.text().as_str()), (206, "0"));
    // Directories.
    assert_eq!(fetch(&site, "/static/", &[]).text(), "<h1>home</h1>");
    assert_eq!(fetch(&site, "/static/dir/", &[]).text(), "<h1>dir</h1>");
    let slash = fetch(&site, "/static/dir", &[]);
    assert_eq!(
        (slash.status_code, slash.header("Location")),
        (308, Some("http://127.0.0.1/static/dir/"))
    );
    assert_eq!(fetch(&site, "/static/empty/", &[]).status_code, 404);
    assert_eq!(
        fetch(&site, "/static/dir/b.css", &[]).header("Content-Type"),
        Some("text/css; charset=utf-8")
    );
    // A symbolic link inside the root is followed.
    assert_eq!(fetch(&site, "/static/link-in", &[]).text(), "0123456789");
    // Methods.
    let post = run_app(
        &site,
        EnvironBuilder::new()
            .method("POST")
            .path("/static/a.txt")
            .build(),
    );
    assert_eq!(
        (post.status_code, post.header("Allow")),
        (405, Some("GET, HEAD"))
    );
    let head = run_app(
        &site,
        EnvironBuilder::new()
            .method("HEAD")
            .path("/static/a.txt")
            .build(),
    );
    assert_eq!(
        (head.status_code, head.header("Content-Length")),
        (200, Some("10"))
    );
    assert!(head.body.is_empty());
}

#[test]
fn no_way_out_of_the_root() {
    let tree = Tree::new("static-escape");
    let site = tree.site();
    // (PATH_INFO as the server would give it, after percent-decoding; expected status)
    let attempts: &[(&str, u16)] = &[
        ("/static/../outside/secret.txt", 400),
        ("/static/dir/../../outside/secret.txt", 400),
        ("/static/..", 400),
        // A `.` segment is dropped by the mount's shift_path_info (as the reference does): a.txt.
        ("/static/./a.txt", 200),
        ("/static/dir\\..\\..\\outside\\secret.txt", 404),
        ("/static/a.txt\0.png", 400),
        ("/static/.hidden", 404),
        ("/static/link-out", 404),
        ("/static//etc/passwd", 404),
        ("/static/%2e%2e/outside/secret.txt", 404),
        ("/static/missing.txt", 404),
    ];
    for (path, status) in attempts {
        let response = fetch(&site, path, &[]);
        assert_eq!(
            response.status_code,
            *status,
            "{path:?}: {}",
            response.text()
        );
        assert!(!response.text().contains("secret"), "{path:?}");
    }
    // Percent-encoded dot segments reach PATH_INFO decoded, and are refused there too.
    let server = start(tree.site(), |b| b);
    for target in [
        "/static/%2e%2e/outside/secret.txt",
        "/static/dir/%2E%2E/%2e%2e/outside/secret.txt",
    ] {
        let response = one_response(server.addr, get_close(target));
        assert_eq!(response.status, 400, "{target}");
        assert!(!response.text().contains("secret"));
    }
}

/// A seeded walk of odd paths: nothing outside the root is ever served.
#[test]
fn random_paths_never_leave_the_root() {
    let tree = Tree::new("static-random");
    let site = tree.site();
    let pieces = [
        "/",
        "..",
        ".",
        "a.txt",
        "dir",
        "outside",
        "secret.txt",
        "link-out",
        "\\",
        "%2e",
        "//",
        "\0",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..3000 {
        let mut path = String::from("/static");
        for _ in 0..(state % 6 + 1) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            path.push_str(pieces[(state % pieces.len() as u64) as usize]);
        }
        let response = fetch(&site, &path, &[]);
        assert!(
            !response.text().contains("secret"),
            "{path:?} served the outside file"
        );
        assert!(
            [200, 206, 304, 308, 400, 404].contains(&response.status_code),
            "{path:?}"
        );
    }
}

#[test]
fn static_files_over_the_server() {
    let tree = Tree::new("static-server");
    let server = start(tree.site(), |b| b);
    let big = one_response(server.addr, get_close("/static/big.bin"));
    assert_eq!(big.status, 200);
    assert_eq!(big.header("Content-Length"), Some("3145728"));
    assert_eq!(big.header("Content-Type"), Some("application/octet-stream"));
    assert!(big.body == tree.big, "the 3 MiB file arrives byte-exact");
    let range = one_response(
        server.addr,
        "GET /static/big.bin HTTP/1.1\r\nHost: localhost\r\nRange: bytes=1048576-1048675\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(range.status, 206);
    assert_eq!(
        range.header("Content-Range"),
        Some("bytes 1048576-1048675/3145728")
    );
    assert_eq!(range.body, tree.big[1_048_576..1_048_676]);
    let mut client = Client::connect(server.addr);
    client.send("HEAD /static/a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let head = client.response_to(true);
    assert_eq!(
        (head.status, head.header("Content-Length")),
        (200, Some("10"))
    );
    assert!(head.body.is_empty());
    // The connection is still usable after HEAD (nothing stray was sent).
    client.send(common::get("/static/a.txt"));
    assert_eq!(client.response().text(), "0123456789");
    // The file went out through sendfile: curl sees the same bytes (a real client).
    let out = std::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "-",
            &format!("http://{}/static/big.bin", server.addr),
        ])
        .output();
    if let Ok(out) = out {
        assert!(out.stdout == tree.big, "curl got the file byte-exact");
    }
}
