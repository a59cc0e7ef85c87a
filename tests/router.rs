//! The router through the test client (tables) and over the real server.

use gateway::test::{EnvironBuilder, TestResponse, run_app};
use gateway::util::{application_uri, request_uri};
use gateway::{App, Response, app_fn};
use router::{Router, RouterError, RoutingArgs};

mod common;
use common::*;

/// Answers `METHOD SCRIPT_NAME|PATH_INFO|request_uri|application_uri|named params`.
fn echo() -> impl App {
    app_fn(|env, sr| {
        let args = RoutingArgs::of(env);
        let named: Vec<String> = args.named().map(|(k, v)| format!("{k}={v}")).collect();
        let text = format!(
            "{} {}|{}|{}|{}|{}",
            env.get("REQUEST_METHOD").unwrap_or(""),
            env.get("SCRIPT_NAME").unwrap_or(""),
            env.get("PATH_INFO").unwrap_or(""),
            request_uri(env, true)?,
            application_uri(env)?,
            named.join(",")
        );
        Response::text(text).send(sr)
    })
}

fn site() -> Router {
    let level3 = Router::builder().get("/leaf/{id}", echo()).build().unwrap();
    let level2 = Router::builder()
        .mount("/c", level3)
        .get("/b-page", echo())
        .build()
        .unwrap();
    let level1 = Router::builder().mount("/b", level2).build().unwrap();
    let users = Router::builder()
        .get("/", echo())
        .get("/{id}", echo())
        .route("/{id}/posts/{post}", ["GET", "DELETE"], echo())
        .build()
        .unwrap();
    Router::builder()
        .get("/", echo())
        .route("/items", ["GET", "POST"], echo())
        .route("/options", ["OPTIONS"], echo())
        .route_any("/any", echo())
        .get("/files/{*rest}", echo())
        .route_any("/users/{*rest}", users)
        .mount("/a", level1)
        .mount("/api", echo())
        .mount("/api/v2", echo())
        .build()
        .unwrap()
}

fn request(app: &impl App, method: &str, path: &str) -> TestResponse {
    run_app(
        app,
        EnvironBuilder::new()
            .method(method)
            .path(path)
            .query("q=1")
            .build(),
    )
}

#[test]
fn routing_table() {
    let site = site();
    // (method, path, status, body or "")
    let cases: &[(&str, &str, u16, &str)] = &[
        (
            "GET",
            "/",
            200,
            "GET |/|http://127.0.0.1/?q=1|http://127.0.0.1/|",
        ),
        (
            "GET",
            "/items",
            200,
            "GET |/items|http://127.0.0.1/items?q=1|http://127.0.0.1/|",
        ),
        (
            "POST",
            "/items",
            200,
            "POST |/items|http://127.0.0.1/items?q=1|http://127.0.0.1/|",
        ),
        ("HEAD", "/items", 200, ""),
        ("DELETE", "/items", 405, "405 Method Not Allowed\n"),
        (
            "PATCH",
            "/any",
            200,
            "PATCH |/any|http://127.0.0.1/any?q=1|http://127.0.0.1/|",
        ),
        ("GET", "/items/", 404, "404 Not Found\n"),
        ("GET", "/nope", 404, "404 Not Found\n"),
        (
            "GET",
            "/files/a/b.txt",
            200,
            "GET /files|/a/b.txt|http://127.0.0.1/files/a/b.txt?q=1|http://127.0.0.1/files|rest=a/b.txt",
        ),
        // Nested routers through a catch-all: parameters accumulate.
        (
            "GET",
            "/users/7",
            200,
            "GET /users|/7|http://127.0.0.1/users/7?q=1|http://127.0.0.1/users|rest=7,id=7",
        ),
        (
            "DELETE",
            "/users/7/posts/9",
            200,
            "DELETE /users|/7/posts/9|http://127.0.0.1/users/7/posts/9?q=1|http://127.0.0.1/users|rest=7/posts/9,id=7,post=9",
        ),
        ("PUT", "/users/7/posts/9", 405, "405 Method Not Allowed\n"),
        // Mounts at three depths: SCRIPT_NAME grows, the URLs are rebuilt inside.
        (
            "GET",
            "/a/b/c/leaf/5",
            200,
            "GET /a/b/c|/leaf/5|http://127.0.0.1/a/b/c/leaf/5?q=1|http://127.0.0.1/a/b/c|id=5",
        ),
        (
            "GET",
            "/a/b/b-page",
            200,
            "GET /a/b|/b-page|http://127.0.0.1/a/b/b-page?q=1|http://127.0.0.1/a/b|",
        ),
        ("GET", "/a/b/x", 404, "404 Not Found\n"),
        // Longest prefix wins; segment boundaries only.
        (
            "GET",
            "/api/v2/x",
            200,
            "GET /api/v2|/x|http://127.0.0.1/api/v2/x?q=1|http://127.0.0.1/api/v2|",
        ),
        (
            "GET",
            "/api/v1/x",
            200,
            "GET /api|/v1/x|http://127.0.0.1/api/v1/x?q=1|http://127.0.0.1/api|",
        ),
        ("GET", "/apiary", 404, "404 Not Found\n"),
        (
            "GET",
            "/api/v20",
            200,
            "GET /api|/v20|http://127.0.0.1/api/v20?q=1|http://127.0.0.1/api|",
        ),
        // Repeated slashes inside a mount stay inside; '..' never climbs out.
        (
            "GET",
            "/api//x",
            200,
            "GET /api|/x|http://127.0.0.1/api/x?q=1|http://127.0.0.1/api|",
        ),
        (
            "GET",
            "/api/../items",
            400,
            "400 Bad Request: the path has a '..' segment\n",
        ),
        (
            "GET",
            "/a/b/c/../../../items",
            400,
            "400 Bad Request: the path has a '..' segment\n",
        ),
    ];
    for (method, path, status, body) in cases {
        let response = request(&site, method, path);
        assert_eq!(
            response.status_code,
            *status,
            "{method} {path}: {}",
            response.text()
        );
        assert_eq!(response.text(), *body, "{method} {path}");
    }
}

#[test]
fn allow_options_and_trailing_slash() {
    let site = site();
    let delete = request(&site, "DELETE", "/items");
    assert_eq!(delete.header("Allow"), Some("GET, POST, HEAD, OPTIONS"));
    let options = request(&site, "OPTIONS", "/items");
    assert_eq!(
        (options.status_code, options.header("Allow")),
        (204, Some("GET, POST, HEAD, OPTIONS"))
    );
    // A route that claims OPTIONS answers it itself.
    assert_eq!(request(&site, "OPTIONS", "/options").status_code, 200);
    // A mount without its slash redirects, the query kept; at every depth.
    let slash = request(&site, "GET", "/api");
    assert_eq!(
        (slash.status_code, slash.header("Location")),
        (308, Some("http://127.0.0.1/api/?q=1"))
    );
    let deep = request(&site, "GET", "/a/b/c");
    assert_eq!(deep.header("Location"), Some("http://127.0.0.1/a/b/c/?q=1"));
    // A fallback replaces the 404.
    let with_fallback = Router::builder()
        .get("/", echo())
        .fallback(app_fn(|_env, sr| {
            Response::html("<p>custom 404</p>")
                .with_status(gateway::StatusCode::NOT_FOUND)
                .send(sr)
        }))
        .build()
        .unwrap();
    let missing = request(&with_fallback, "GET", "/x");
    assert_eq!(
        (missing.status_code, missing.text().as_str()),
        (404, "<p>custom 404</p>")
    );
    assert_eq!(
        missing.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
}

#[test]
fn error_page_replaces_the_routers_own_errors() {
    // The page answers 200, but the router keeps each error's status and headers.
    let router = Router::builder()
        .get("/item", echo())
        .mount("/sub", Router::builder().build().unwrap())
        .error_page(|error, env| {
            Response::html(format!(
                "<p>{} at {}</p>",
                error.status().as_u16(),
                env.get("PATH_INFO").unwrap_or("")
            ))
        })
        .build()
        .unwrap();
    let cases = [
        ("GET", "/nothing", 404, "<p>404 at /nothing</p>", None),
        (
            "POST",
            "/item",
            405,
            "<p>405 at /item</p>",
            Some("GET, HEAD, OPTIONS"),
        ),
        ("GET", "/x/../item", 400, "<p>400 at /x/../item</p>", None),
    ];
    for (method, path, status, body, allow) in cases {
        let response = request(&router, method, path);
        assert_eq!(response.status_code, status, "{method} {path}");
        assert_eq!(response.text(), body, "{method} {path}");
        assert_eq!(response.header("Allow"), allow, "{method} {path}");
        assert_eq!(
            response.header("Content-Type"),
            Some("text/html; charset=utf-8")
        );
    }
    // The error's own headers win over the page's.
    let stubborn = Router::builder()
        .get("/item", echo())
        .error_page(|_error, _env| {
            Response::html("<p>no</p>")
                .header("Allow", "*")
                .expect("a valid header")
        })
        .build()
        .unwrap();
    let post = request(&stubborn, "POST", "/item");
    assert_eq!(post.header("Allow"), Some("GET, HEAD, OPTIONS"));
    // A mounted router without a page of its own answers with the default page.
    let inner = request(&router, "GET", "/sub/x");
    assert_eq!(inner.status_code, 404);
    assert!(
        inner.text().starts_with("404 Not Found"),
        "{}",
        inner.text()
    );
}

#[test]
fn build_errors_name_both_parties() {
    let cases: Vec<(router::RouterBuilder, RouterError)> = vec![
        (
            Router::builder()
                .get("/u/{id}", echo())
                .get("/u/{name}", echo()),
            RouterError::Conflict {
                route: "/u/{name}".into(),
                with: "/u/{id}".into(),
            },
        ),
        (
            Router::builder()
                .get("/a", echo())
                .route("/a", ["POST", "GET"], echo()),
            RouterError::DuplicateMethod {
                method: "GET".into(),
                route: "/a".into(),
            },
        ),
        (
            Router::builder()
                .get("/static/x", echo())
                .mount("/static", echo()),
            RouterError::MountOverlap {
                mount: "/static".into(),
                route: "/static/x".into(),
            },
        ),
        (
            Router::builder().mount("/s", echo()).mount("/s", echo()),
            RouterError::InvalidMount {
                prefix: "/s".into(),
                reason: "mounted twice".into(),
            },
        ),
    ];
    for (builder, expected) in cases {
        assert_eq!(builder.build().unwrap_err(), expected);
    }
    for pattern in ["/u/{}", "/u/{*rest}/x", "/u/{a}{b}"] {
        let error = Router::builder().get(pattern, echo()).build().unwrap_err();
        assert!(
            matches!(error, RouterError::InvalidRoute { .. }),
            "{pattern}: {error}"
        );
        assert!(error.to_string().contains(pattern), "{error}");
    }
    let error = Router::builder()
        .mount("static", echo())
        .build()
        .unwrap_err();
    assert!(
        error.to_string().starts_with("cannot mount at \"static\""),
        "{error}"
    );
}

/// A seeded generator of paths: no path panics, and nothing reaches a mount it is not under.
#[test]
fn random_paths_never_escape_a_mount() {
    let mounted = app_fn(|env, sr| {
        let script = env.get("SCRIPT_NAME").unwrap_or("").to_owned();
        let path = env.get("PATH_INFO").unwrap_or("").to_owned();
        Response::text(format!("{script}|{path}")).send(sr)
    });
    let site = Router::builder()
        .mount("/m", mounted)
        .get("/r/{x}", echo())
        .build()
        .unwrap();
    let pieces = [
        "/", "m", "r", "..", ".", "//", "%2F", "x", "\u{e9}", "mm", "/m", "?",
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..3000 {
        let mut path = String::new();
        for _ in 0..(state % 7 + 1) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            path.push_str(pieces[(state % pieces.len() as u64) as usize]);
        }
        let response = run_app(
            &site,
            EnvironBuilder::new()
                .var("PATH_INFO", path.as_str())
                .build(),
        );
        let segments: Vec<&str> = path.split('/').collect();
        if response.status_code == 200 && response.text().starts_with("/m|") {
            // Only a path under /m reaches the mount, and it never had a '..' segment.
            assert!(path.starts_with("/m/"), "{path:?}");
            assert!(!segments.contains(&".."), "{path:?}");
        }
        assert!(
            [200, 308, 400, 404, 405].contains(&response.status_code),
            "{path:?}: {}",
            response.status_code
        );
    }
}

#[test]
fn demo_app_mounted_over_the_server() {
    let site = Router::builder()
        .mount("/demo", gateway::simple_server::demo_app)
        .get("/", echo())
        .build()
        .unwrap();
    let server = start(site, |b| b);
    let demo = one_response(server.addr, get_close("/demo/x"));
    assert_eq!(demo.status, 200);
    let text = demo.text();
    assert!(text.contains("SCRIPT_NAME = '/demo'"), "{text}");
    assert!(text.contains("PATH_INFO = '/x'"), "{text}");
    let redirect = one_response(server.addr, get_close("/demo?a=b"));
    assert_eq!(redirect.status, 308);
    assert_eq!(
        redirect.header("Location"),
        Some("http://localhost/demo/?a=b")
    );
    let head = {
        let mut client = Client::connect(server.addr);
        client.send("HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n");
        client.response_to(true)
    };
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}
