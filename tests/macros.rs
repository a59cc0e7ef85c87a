//! `#[wsgi_app]` handlers through the test client (tables) and over the real server.

use std::collections::HashMap;
use std::sync::Mutex;

use gateway::test::{EnvironBuilder, TestResponse, run_app};
use gateway::util::{FileWrapper, request_uri};
use gateway::{
    App, AppError, Body, Bytes, Environ, Form, Headers, Html, HttpError, Json, Method, Query,
    Response, RoutingArgs, StartResponse, StatusCode, Text, wsgi_app,
};
use router::Router;

mod common;
use common::*;

#[derive(serde::Deserialize, serde::Serialize)]
struct Entry {
    name: String,
    age: u8,
}

#[derive(serde::Deserialize)]
struct Paging {
    page: u32,
    per: Option<u32>,
}

// ---- handlers ---------------------------------------------------------------------------------

/// The raw WSGI signature, called as it is.
#[wsgi_app]
fn raw(environ: &mut Environ, start_response: &mut StartResponse<'_>) -> Result<Body, AppError> {
    let path = environ.get("PATH_INFO").unwrap_or("").to_owned();
    start_response.start("200 OK", [("Content-Type", "text/plain")])?;
    Ok(Body::from(format!("raw {path}")))
}

#[wsgi_app]
fn no_params() -> &'static str {
    "plain"
}

/// Every kind of part extractor in one signature, borrowed and owned together.
#[wsgi_app]
fn parts(
    environ: &Environ,
    method: Method,
    Query(paging): Query<Paging>,
    Query(all): Query<HashMap<String, String>>,
    args: &RoutingArgs,
    #[header] user_agent: Option<String>,
    #[header("X-Count")] count: u32,
) -> String {
    format!(
        "{method} {} page={} per={:?} keys={} args={} ua={user_agent:?} count={count}",
        environ.get("PATH_INFO").unwrap_or(""),
        paging.page,
        paging.per,
        all.len(),
        args.len(),
    )
}

#[wsgi_app(GET, "/users/{id}")]
fn show_user(id: u32) -> String {
    format!("user {id}")
}

#[wsgi_app(GET, POST, "/orgs/{org}/repos/{repo}")]
fn show_repo(method: Method, repo: String, org: String, environ: &Environ) -> String {
    format!(
        "{method} {org}/{repo} at {}",
        request_uri(environ, false).unwrap_or_default()
    )
}

#[wsgi_app(ANY, "/files/{*rest}")]
fn files(rest: String, environ: &Environ) -> String {
    format!(
        "{rest}|{}|{}",
        environ.get("SCRIPT_NAME").unwrap_or(""),
        environ.get("PATH_INFO").unwrap_or("")
    )
}

/// Route parameters in an unrouted handler, by `#[param]`.
#[wsgi_app]
fn by_mark(#[param] slug: String) -> String {
    format!("slug {slug}")
}

#[wsgi_app(POST, "/sign")]
fn sign(Form(entry): Form<Entry>) -> (StatusCode, [(&'static str, &'static str); 1], String) {
    (
        StatusCode::CREATED,
        [("Location", "/entries/1")],
        format!("{} ({})", entry.name, entry.age),
    )
}

#[wsgi_app(POST, "/json")]
fn json_echo(Json(entry): Json<Entry>) -> Json<Entry> {
    Json(Entry {
        name: entry.name.to_uppercase(),
        age: entry.age,
    })
}

#[wsgi_app(POST, "/text")]
fn reverse_text(Text(body): Text) -> String {
    body.chars().rev().collect()
}

#[wsgi_app(POST, "/bytes/{n}")]
fn first_bytes(n: usize, Bytes(body): Bytes) -> Vec<u8> {
    body.into_iter().take(n).collect()
}

/// Two body extractors: the second finds the body gone, which is the handler's mistake.
#[wsgi_app]
fn two_bodies(Bytes(_a): Bytes, Text(_b): Text) -> &'static str {
    "unreachable"
}

// ---- return values ----------------------------------------------------------------------------

#[wsgi_app]
fn ret_static() -> &'static str {
    "static"
}

#[wsgi_app]
fn ret_html() -> Html<String> {
    Html("<b>x</b>".to_owned())
}

#[wsgi_app]
fn ret_bytes() -> &'static [u8] {
    b"\x00\x01"
}

#[wsgi_app]
fn ret_status() -> StatusCode {
    StatusCode::IM_A_TEAPOT
}

#[wsgi_app]
fn ret_unit() {}

#[wsgi_app]
fn ret_tuple() -> (StatusCode, &'static str) {
    (StatusCode::ACCEPTED, "later")
}

#[wsgi_app]
fn ret_headers() -> (StatusCode, Headers, Html<&'static str>) {
    let mut headers = Headers::new();
    headers.append("Set-Cookie", "a=1").unwrap();
    headers.append("Set-Cookie", "b=2").unwrap();
    headers
        .append("Content-Type", "text/html; charset=latin-1")
        .unwrap();
    (StatusCode::OK, headers, Html("<p>"))
}

#[wsgi_app]
fn ret_none() -> Option<String> {
    None
}

#[wsgi_app]
fn ret_some() -> Option<&'static str> {
    Some("some")
}

#[wsgi_app]
fn ret_err() -> Result<String, HttpError> {
    Err(HttpError::new(StatusCode::CONFLICT, "taken"))
}

#[wsgi_app]
fn ret_app_error() -> Result<String, AppError> {
    Err("disk on fire".into())
}

#[wsgi_app]
fn ret_response() -> Response {
    Response::text("resp").with_status(StatusCode::CREATED)
}

#[wsgi_app]
fn ret_body() -> Body {
    Body::from("body")
}

#[wsgi_app]
fn ret_file() -> std::io::Result<FileWrapper> {
    let file = std::fs::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))?;
    Ok(FileWrapper::new(file, 8192))
}

#[wsgi_app]
fn ret_io_error() -> std::io::Result<String> {
    std::fs::read_to_string("/no/such/file")
}

// ---- an impl block: shared state -------------------------------------------------------------

#[derive(Default)]
struct Guestbook {
    entries: Mutex<Vec<String>>,
}

#[wsgi_app]
impl Guestbook {
    #[wsgi_app(GET, "/")]
    fn list(&self) -> String {
        self.entries.lock().unwrap().join(",")
    }

    #[wsgi_app(POST, "/")]
    fn add(&self, Form(entry): Form<Entry>) -> Result<Response, HttpError> {
        self.entries.lock().unwrap().push(entry.name);
        Ok(Response::see_other("./")?)
    }

    #[wsgi_app(GET, "/{index}")]
    fn one(&self, index: usize) -> Option<String> {
        self.entries.lock().unwrap().get(index).cloned()
    }

    #[wsgi_app(GET, "/count/json")]
    fn count(&self, _environ: &Environ) -> Json<HashMap<&'static str, usize>> {
        Json(HashMap::from([("count", self.len())]))
    }

    #[wsgi_app(DELETE, "/")]
    fn clear(&self) -> StatusCode {
        self.entries.lock().unwrap().clear();
        StatusCode::NO_CONTENT
    }

    #[wsgi_app(GET, "/about/version")]
    fn version() -> &'static str {
        "v1"
    }

    /// Not a handler: left as it is.
    fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }
}

// ---- the tests --------------------------------------------------------------------------------

fn call(app: &impl App, method: &str, path: &str, query: &str) -> TestResponse {
    run_app(
        app,
        EnvironBuilder::new()
            .method(method)
            .path(path)
            .query(query)
            .build(),
    )
}

fn post(app: &impl App, path: &str, content_type: &str, body: &str) -> TestResponse {
    run_app(
        app,
        EnvironBuilder::new()
            .method("POST")
            .path(path)
            .header("Content-Type", content_type)
            .body(body)
            .build(),
    )
}

fn site() -> Router {
    Router::builder()
        .handle(show_user)
        .handle(show_repo)
        .handle(files)
        .handle(sign)
        .handle(json_echo)
        .handle(reverse_text)
        .handle(first_bytes)
        .get("/mark/{slug}", by_mark)
        .get("/raw", raw)
        .mount(
            "/book",
            Router::builder()
                .handle(Guestbook::default())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

#[test]
fn plain_handlers_are_apps() {
    assert_eq!(call(&raw, "GET", "/x", "").text(), "raw /x");
    assert_eq!(call(&no_params, "GET", "/", "").text(), "plain");
    assert_eq!(
        show_user::handler(7),
        "user 7",
        "the function stays callable"
    );
    let env = EnvironBuilder::new()
        .method("PUT")
        .path("/p")
        .query("page=2&x=1")
        .header("X-Count", "3")
        .build();
    assert_eq!(
        run_app(&parts, env).text(),
        "PUT /p page=2 per=None keys=2 args=0 ua=None count=3"
    );
}

#[test]
fn routed_handlers_bind_parameters_by_name() {
    let site = site();
    let cases: &[(&str, &str, u16, &str)] = &[
        ("GET", "/users/42", 200, "user 42"),
        ("HEAD", "/users/42", 200, ""),
        (
            "GET",
            "/users/x",
            400,
            "400 Bad Request: route parameter 'id': invalid digit found in string\n",
        ),
        (
            "GET",
            "/users/99999999999",
            400,
            "400 Bad Request: route parameter 'id': number too large to fit in target type\n",
        ),
        (
            "POST",
            "/orgs/acme/repos/web",
            200,
            "POST acme/web at http://127.0.0.1/orgs/acme/repos/web",
        ),
        ("DELETE", "/orgs/acme/repos/web", 405, ""),
        ("PURGE", "/files/a/b.txt", 200, "a/b.txt|/files|/a/b.txt"),
        ("GET", "/mark/hello", 200, "slug hello"),
        ("GET", "/raw", 200, "raw /raw"),
        ("GET", "/nothing", 404, ""),
    ];
    for &(method, path, status, body) in cases {
        let response = call(&site, method, path, "");
        assert_eq!(response.status_code, status, "{method} {path}");
        if !body.is_empty() || method == "HEAD" {
            assert_eq!(response.text(), body, "{method} {path}");
        }
    }
    let delete = call(&site, "DELETE", "/orgs/acme/repos/web", "");
    assert_eq!(delete.header("Allow"), Some("GET, POST, HEAD, OPTIONS"));
}

#[test]
fn headers_required_optional_and_parsed() {
    let with = |headers: &[(&str, &str)]| {
        let mut builder = EnvironBuilder::new().query("page=1");
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        run_app(&parts, builder.build())
    };
    let missing = with(&[]);
    assert_eq!(
        (missing.status_code, missing.text()),
        (
            400,
            "400 Bad Request: missing header 'X-Count'\n".to_owned()
        )
    );
    let bad = with(&[("X-Count", "many")]);
    assert_eq!(
        bad.text(),
        "400 Bad Request: header 'X-Count': invalid digit found in string\n"
    );
    let full = with(&[("X-Count", "1"), ("User-Agent", "curl/8")]);
    assert!(
        full.text().ends_with("ua=Some(\"curl/8\") count=1"),
        "{}",
        full.text()
    );
}

#[test]
fn every_rejection_has_its_status_and_names_the_problem() {
    let site = site();
    let form = "application/x-www-form-urlencoded";
    let cases: Vec<(TestResponse, u16, &str)> = vec![
        (
            post(&site, "/sign", form, "name=Ada&age=old"),
            422,
            "422 Unprocessable Content: form body: age: invalid digit found in string\n",
        ),
        (
            post(&site, "/sign", form, "name=Ada"),
            422,
            "422 Unprocessable Content: form body: missing field `age`\n",
        ),
        (
            post(&site, "/sign", "text/plain", "name=Ada&age=3"),
            415,
            "415 Unsupported Media Type: expected a Content-Type of application/x-www-form-urlencoded\n",
        ),
        (
            post(&site, "/json", "application/json", r#"{"name":"a""#),
            400,
            "400 Bad Request: JSON body: EOF while parsing an object at line 1 column 11\n",
        ),
        (
            post(
                &site,
                "/json",
                "application/json",
                r#"{"name":"a","age":-1}"#,
            ),
            422,
            "422 Unprocessable Content: JSON body: invalid value: integer `-1`, expected u8 at line 1 column 20\n",
        ),
        (
            post(&site, "/text", "text/plain; charset=latin-1", "abc"),
            415,
            "415 Unsupported Media Type: charset latin-1 is not supported; send UTF-8\n",
        ),
        (
            post(&site, "/bytes/x", "text/plain", "abc"),
            400,
            "400 Bad Request: route parameter 'n': invalid digit found in string\n",
        ),
    ];
    for (i, (response, status, text)) in cases.into_iter().enumerate() {
        assert_eq!(
            response.status_code,
            status,
            "case {i}: {}",
            response.text()
        );
        assert_eq!(response.text(), text, "case {i}");
    }
    // 413: over the default 1 MiB, refused before reading.
    let big = "x".repeat(1024 * 1024 + 1);
    let too_large = post(&site, "/bytes/1", "text/plain", &big);
    assert_eq!(too_large.status_code, 413);
    // 411: a body announced without a length on a server that does not end the input.
    let chunked = run_app(
        &site,
        EnvironBuilder::new()
            .method("POST")
            .path("/text")
            .header("Transfer-Encoding", "chunked")
            .build(),
    );
    assert_eq!(chunked.status_code, 411);
    // A handler with two body extractors is a 500 naming the mistake, not a 400.
    let twice = post(&two_bodies, "/", "text/plain", "hello");
    assert_eq!(twice.status_code, 500);
    assert!(
        twice
            .errors
            .contains("the request body was already read by another parameter"),
        "{}",
        twice.errors
    );
    // The first argument's rejection answers: the route parameter before the body.
    let both = post(&site, "/bytes/x", "text/plain", &big);
    assert_eq!(both.status_code, 400);
}

#[test]
fn accepted_bodies() {
    let site = site();
    let form = post(
        &site,
        "/sign",
        "application/x-www-form-urlencoded",
        "name=Ada+L&age=36",
    );
    assert_eq!(
        (form.status_code, form.header("Location"), form.text()),
        (201, Some("/entries/1"), "Ada L (36)".to_owned())
    );
    let json = post(
        &site,
        "/json",
        "application/vnd.api+json",
        r#"{"name":"ada","age":36}"#,
    );
    assert_eq!(json.text(), r#"{"name":"ADA","age":36}"#);
    assert_eq!(json.header("Content-Type"), Some("application/json"));
    assert_eq!(post(&site, "/text", "text/plain", "abc").text(), "cba");
    let bytes = post(&site, "/bytes/2", "application/octet-stream", "abc");
    assert_eq!(
        (bytes.body.as_slice(), bytes.header("Content-Type")),
        (&b"ab"[..], Some("application/octet-stream"))
    );
}

#[test]
fn return_values_convert() {
    struct Case {
        app: Box<dyn App>,
        status: u16,
        content_type: Option<&'static str>,
        body: &'static [u8],
    }
    let case = |app: Box<dyn App>, status, content_type, body| Case {
        app,
        status,
        content_type,
        body,
    };
    let text = Some("text/plain; charset=utf-8");
    let cases = [
        case(Box::new(ret_static), 200, text, b"static"),
        case(
            Box::new(ret_html),
            200,
            Some("text/html; charset=utf-8"),
            b"<b>x</b>",
        ),
        case(
            Box::new(ret_bytes),
            200,
            Some("application/octet-stream"),
            b"\x00\x01",
        ),
        case(Box::new(ret_status), 418, text, b"418 I'm a teapot\n"),
        case(Box::new(ret_unit), 204, None, b""),
        case(Box::new(ret_tuple), 202, text, b"later"),
        case(Box::new(ret_none), 404, text, b"404 Not Found\n"),
        case(Box::new(ret_some), 200, text, b"some"),
        case(Box::new(ret_err), 409, text, b"409 Conflict: taken\n"),
        case(
            Box::new(ret_app_error),
            500,
            text,
            b"500 Internal Server Error\n",
        ),
        case(Box::new(ret_response), 201, text, b"resp"),
        case(
            Box::new(ret_body),
            200,
            Some("application/octet-stream"),
            b"body",
        ),
        case(
            Box::new(ret_io_error),
            500,
            text,
            b"500 Internal Server Error\n",
        ),
    ];
    for (i, case) in cases.iter().enumerate() {
        let response = call(&case.app, "GET", "/", "");
        assert_eq!(response.status_code, case.status, "case {i}");
        assert_eq!(
            response.header("Content-Type"),
            case.content_type,
            "case {i}"
        );
        if !case.body.is_empty() {
            assert_eq!(response.body, case.body, "case {i}");
        }
    }
    // Headers given with the value replace its own and keep repeats.
    let headers = call(&ret_headers, "GET", "/", "");
    assert_eq!(headers.headers.get_all("Set-Cookie"), ["a=1", "b=2"]);
    assert_eq!(
        headers.header("Content-Type"),
        Some("text/html; charset=latin-1")
    );
    assert_eq!(headers.headers.get_all("Content-Type").len(), 1);
    // A file is streamed, whole.
    let file = call(&ret_file, "GET", "/", "");
    let expected = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    assert_eq!(file.body, expected);
}

#[test]
fn impl_block_shares_its_state_and_mounts() {
    let site = site();
    assert_eq!(call(&site, "GET", "/book/", "").text(), "");
    let form = "application/x-www-form-urlencoded";
    for name in ["ada", "bob"] {
        let added = post(&site, "/book/", form, &format!("name={name}&age=30"));
        assert_eq!(added.status_code, 303);
        assert_eq!(added.header("Location"), Some("./"));
    }
    assert_eq!(call(&site, "GET", "/book/", "").text(), "ada,bob");
    assert_eq!(call(&site, "GET", "/book/1", "").text(), "bob");
    assert_eq!(call(&site, "GET", "/book/5", "").status_code, 404);
    assert_eq!(
        call(&site, "GET", "/book/count/json", "").text(),
        r#"{"count":2}"#
    );
    assert_eq!(call(&site, "GET", "/book/about/version", "").text(), "v1");
    assert_eq!(call(&site, "DELETE", "/book/", "").status_code, 204);
    assert_eq!(call(&site, "GET", "/book/", "").text(), "");
    let allow = call(&site, "PUT", "/book/", "");
    assert_eq!(
        (allow.status_code, allow.header("Allow")),
        (405, Some("GET, POST, DELETE, HEAD, OPTIONS"))
    );
    // Served alone, at the root.
    let alone = Router::builder()
        .handle(Guestbook::default())
        .build()
        .unwrap();
    assert_eq!(call(&alone, "GET", "/about/version", "").text(), "v1");
}

#[test]
fn handlers_over_the_real_server() {
    let mut server = start(site(), |b| b);
    let addr = server.addr;
    let mut client = Client::connect(addr);
    client.send("GET /users/7 HTTP/1.1\r\nHost: t\r\n\r\n");
    let user = client.response();
    assert_eq!((user.status, user.text()), (200, "user 7".to_owned()));
    client.send(
        "POST /book/ HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 15\r\n\r\nname=eve&age=9&",
    );
    let added = client.response();
    assert_eq!(added.status, 303);
    client.send("GET /book/ HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(client.response().text(), "eve");
    client.send("GET /users/x HTTP/1.1\r\nHost: t\r\nAccept: application/json\r\n\r\n");
    let bad = client.response();
    assert_eq!(bad.status, 400);
    assert_eq!(
        bad.text(),
        r#"{"status":400,"error":"Bad Request","message":"route parameter 'id': invalid digit found in string"}"#
    );
    // The raw handler served directly, no router.
    let mut raw_server = start(raw, |b| b);
    let response = one_response(raw_server.addr, get_close("/direct"));
    assert_eq!(response.text(), "raw /direct");
    raw_server.stop();
    server.stop();
    assert!(
        server.log().contains("\"GET /users/x HTTP/1.1\" 400"),
        "{}",
        server.log()
    );
}
