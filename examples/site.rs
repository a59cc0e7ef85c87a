//! Run with: cargo run --example site
//!
//! The whole stack in one small site: `#[wsgi_app]` handlers with route parameters and query
//! strings, a guestbook (a form POST with validation, shared state in an impl-block app
//! mounted at `/guestbook`, post/redirect/get, and a JSON view), static files through
//! `router::Static` (one of 4 MiB, sent with sendfile), the reference's `demo_app` mounted at
//! `/demo`, and a page that rebuilds the request's URL with `util::request_uri`. It serves on
//! `127.0.0.1:8000` (`--port N` or `PORT`, `--host H`), logs requests and stops gracefully on
//! Ctrl-C. `--validate` wraps the whole site in `gateway::validate::validator`; `--cgi` runs
//! one request as a CGI program, so the same site can go under a web server's cgi-bin.
//! For benchmarks: `--plain-root` answers `GET /` as `/plain` does (the benchmark's
//! `Hello World`, for `compare.sh`, which requests `/`), `--quiet` turns the access log off.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use gateway::handlers::{BaseHandler, CgiHandler};
use gateway::simple_server::demo_app;
use gateway::util::{application_uri, request_uri};
use gateway::validate::validator;
use gateway::{App, AppError, Body, Environ, Form, Html, HttpError, Json, Query, Response};
use gateway::{StartResponse, StatusCode, app_fn, wsgi_app};
use router::{Router, RouterError, Static};

const LAYOUT: &str = include_str!("site/templates/layout.html");
const HOME: &str = include_str!("site/templates/home.html");
const GUESTBOOK: &str = include_str!("site/templates/guestbook.html");

/// The size of the generated file that shows sendfile at work.
pub(crate) const BIG_FILE_BYTES: usize = 4 * 1024 * 1024;

/// Text made safe for HTML: `&`, `<`, `>`, `"` and `'` escaped.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Where the site itself is mounted (`SCRIPT_NAME` before any of its routers moved it):
/// empty at a server's root, `/cgi-bin/site` under CGI. Links are built on it.
#[derive(Clone)]
struct SiteRoot(String);

fn root(environ: &Environ) -> &str {
    environ
        .extensions()
        .get::<SiteRoot>()
        .map_or("", |r| r.0.as_str())
}

/// A page in the site's layout. `content` is HTML already escaped.
fn page(environ: &Environ, title: &str, content: &str) -> Html<String> {
    let root = escape(root(environ));
    Html(
        LAYOUT
            .replace("{title}", &escape(title))
            .replace("{root}", &root)
            .replace("{content}", content),
    )
}

#[wsgi_app(GET, "/")]
fn home(environ: &Environ) -> Html<String> {
    let content = HOME.replace("{root}", &escape(root(environ)));
    page(environ, "Home", &content)
}

#[wsgi_app(GET, "/hello/{name}")]
fn hello(name: String, Query(query): Query<Greeting>, environ: &Environ) -> Html<String> {
    let greeting = query.greeting.as_deref().unwrap_or("Hello");
    let content = format!(
        "<h1>{}, {}!</h1><p>The name came from the route (<code>/hello/{{name}}</code>), the greeting from the query string (<code>?greeting=...</code>).</p><p><a href=\"?greeting=Bonjour\">Say it in French</a></p>",
        escape(greeting),
        escape(&name)
    );
    page(environ, &format!("Hello {name}"), &content)
}

/// The query of `/hello/{name}`.
#[derive(serde::Deserialize)]
struct Greeting {
    greeting: Option<String>,
}

/// The benchmark's answer (`compare.sh` runs the site against this route).
#[wsgi_app(GET, "/plain")]
fn plain() -> Response {
    let mut response = Response::text("Hello World");
    response.headers.set("Content-Type", "text/plain").ok();
    response
}

#[wsgi_app(GET, "/url")]
fn url(environ: &Environ) -> Result<Html<String>, AppError> {
    let rows = [
        ("request_uri(environ)", request_uri(environ, true)?),
        (
            "request_uri without the query",
            request_uri(environ, false)?,
        ),
        ("application_uri(environ)", application_uri(environ)?),
        (
            "SCRIPT_NAME",
            environ.get("SCRIPT_NAME").unwrap_or("").to_owned(),
        ),
        (
            "PATH_INFO",
            environ.get("PATH_INFO").unwrap_or("").to_owned(),
        ),
        (
            "QUERY_STRING",
            environ.get("QUERY_STRING").unwrap_or("").to_owned(),
        ),
    ];
    let rows: String = rows
        .iter()
        .map(|(name, value)| format!("<dt>{name}</dt><dd>{}</dd>", escape(value)))
        .collect();
    let content = format!(
        "<h1>This request's URL</h1><p>Rebuilt from the environ with <code>gateway::util</code>, as <code>wsgiref.util</code> does.</p><dl class=\"url\">{rows}</dl>"
    );
    Ok(page(environ, "URL", &content))
}

/// One guestbook entry.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Entry {
    /// Who signed.
    pub(crate) name: String,
    /// What they wrote.
    pub(crate) message: String,
}

/// The form as posted: missing fields are empty, so that validation (not the extractor)
/// explains what is wrong, on the page.
#[derive(Default, serde::Deserialize)]
struct EntryForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    message: String,
}

/// The guestbook: its entries, shared by every request (behind a `Mutex`), served as one
/// impl-block app and mounted at `/guestbook`.
#[derive(Debug, Default)]
pub(crate) struct Guestbook {
    entries: Mutex<Vec<Entry>>,
}

#[wsgi_app]
impl Guestbook {
    #[wsgi_app(GET, "/")]
    fn show(&self, environ: &Environ) -> Html<String> {
        self.render(environ, &EntryForm::default(), &[])
    }

    #[wsgi_app(POST, "/")]
    fn sign(&self, environ: &Environ, Form(form): Form<EntryForm>) -> Result<Response, HttpError> {
        let name = form.name.trim();
        let message = form.message.trim();
        let mut errors = Vec::new();
        if name.is_empty() {
            errors.push("Please give your name.");
        } else if name.chars().count() > 40 {
            errors.push("Your name is longer than 40 characters.");
        }
        if message.is_empty() {
            errors.push("Please write a message.");
        } else if message.chars().count() > 500 {
            errors.push("Your message is longer than 500 characters.");
        }
        if !errors.is_empty() {
            let Html(html) = self.render(environ, &form, &errors);
            return Ok(Response::html(html).with_status(StatusCode::UNPROCESSABLE_CONTENT));
        }
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Entry {
                name: name.to_owned(),
                message: message.to_owned(),
            });
        // Post/redirect/get: a reload of the page that follows does not post again.
        Ok(Response::see_other("./")?)
    }

    #[wsgi_app(GET, "/entries.json")]
    fn json(&self) -> Json<Vec<Entry>> {
        Json(
            self.entries
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }

    fn render(&self, environ: &Environ, form: &EntryForm, errors: &[&str]) -> Html<String> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let list: String = entries
            .iter()
            .rev()
            .map(|e| {
                format!(
                    "<li><span class=\"who\">{}</span>: {}</li>\n",
                    escape(&e.name),
                    escape(&e.message)
                )
            })
            .collect();
        let errors = if errors.is_empty() {
            String::new()
        } else {
            let items: String = errors.iter().map(|e| format!("<li>{e}</li>")).collect();
            format!("<ul class=\"errors\">{items}</ul>")
        };
        let count = match entries.len() {
            0 => "No entries yet: be the first".to_owned(),
            1 => "1 entry".to_owned(),
            n => format!("{n} entries"),
        };
        let content = GUESTBOOK
            .replace("{errors}", &errors)
            .replace("{name}", &escape(&form.name))
            .replace("{message}", &escape(&form.message))
            .replace("{count}", &count)
            .replace("{entries}", &list);
        page(environ, "Guestbook", &content)
    }
}

/// The directory of the site's own static files (`examples/site/static`).
pub(crate) fn static_dir() -> PathBuf {
    // The examples' package is `examples/`; the tests that include this file are the root's.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let own = manifest.join("site/static");
    if own.is_dir() {
        own
    } else {
        manifest.join("examples/site/static")
    }
}

/// A directory holding `big.bin` (made on first use, the same bytes every time): large
/// enough that sending it with sendfile(2) matters, and kept out of the repository.
pub(crate) fn files_dir() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join("gateway-site-files");
    let big = dir.join("big.bin");
    if std::fs::metadata(&big).map(|m| m.len()).ok() != Some(BIG_FILE_BYTES as u64) {
        std::fs::create_dir_all(&dir)?;
        let bytes: Vec<u8> = (0..BIG_FILE_BYTES)
            .map(|i| (i % 251) as u8 ^ (i / 4096) as u8)
            .collect();
        let partial = dir.join(format!("big.bin.{}", std::process::id()));
        std::fs::write(&partial, bytes)?;
        std::fs::rename(partial, &big)?;
    }
    Ok(dir)
}

/// A page for the errors the router answers itself (404, 405, 400).
fn error_page(error: &HttpError, environ: &Environ) -> Response {
    let content = format!(
        "<h1>{}</h1><p>{}</p><p><a href=\"{}/\">Back to the home page</a></p>",
        error.status(),
        escape(match error.status().as_u16() {
            404 => "There is no page at this address.",
            405 => "This page does not answer that method.",
            _ => error.message(),
        }),
        escape(root(environ))
    );
    let Html(html) = page(environ, error.status().reason(), &content);
    Response::html(html)
}

/// The whole site as one app.
pub(crate) fn app() -> Result<impl App, Box<dyn std::error::Error>> {
    site(false)
}

/// The site; with `plain_root`, `GET /` answers as `/plain` does (for `compare.sh`, which
/// requests `/`), the rest of the routing table unchanged.
fn site(plain_root: bool) -> Result<impl App, Box<dyn std::error::Error>> {
    let front = if plain_root {
        Router::builder().get("/", plain)
    } else {
        Router::builder().handle(home)
    };
    let site = front
        .handle(hello)
        .handle(plain)
        .handle(url)
        .mount(
            "/guestbook",
            Router::builder()
                .handle(Guestbook::default())
                .error_page(error_page)
                .build()?,
        )
        .mount("/static", Static::new(static_dir())?)
        .mount("/files", Static::new(files_dir()?)?)
        .mount("/demo", demo_app)
        .error_page(error_page)
        .build()
        .map_err(|e: RouterError| Box::new(e) as Box<dyn std::error::Error>)?;
    // Remember where the site is mounted before its routers move SCRIPT_NAME.
    Ok(app_fn(
        move |environ: &mut Environ, sr: &mut StartResponse<'_>| -> Result<Body, AppError> {
            let root = environ.get("SCRIPT_NAME").unwrap_or("").to_owned();
            environ.extensions_mut().insert(SiteRoot(root));
            site.call(environ, sr)
        },
    ))
}

/// Command-line options.
struct Options {
    host: String,
    port: u16,
    validate: bool,
    cgi: bool,
    plain_root: bool,
    quiet: bool,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        host: "127.0.0.1".into(),
        port: match std::env::var("PORT") {
            Ok(port) => port.parse().map_err(|e| format!("PORT={port:?}: {e}"))?,
            Err(_) => 8000,
        },
        validate: false,
        cgi: false,
        plain_root: false,
        quiet: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => {
                options.port = value("--port")?
                    .parse()
                    .map_err(|e| format!("--port: {e}"))?
            }
            "--host" => options.host = value("--host")?,
            "--validate" => options.validate = true,
            "--cgi" => options.cgi = true,
            "--plain-root" => options.plain_root = true,
            "--quiet" => options.quiet = true,
            other => {
                return Err(format!(
                    "unknown argument {other:?} (try --port N, --host H, --validate, --cgi, --plain-root, --quiet)"
                ));
            }
        }
    }
    Ok(options)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = options().unwrap_or_else(|e| {
        eprintln!("site: {e}");
        std::process::exit(2)
    });
    let site: Box<dyn App> = if options.plain_root {
        Box::new(site(true)?)
    } else {
        Box::new(app()?)
    };
    let site: Box<dyn App> = if options.validate {
        Box::new(validator(site))
    } else {
        site
    };
    if options.cgi {
        CgiHandler::new().run(&site);
        return Ok(());
    }
    // Prints the URL, logs each request, and on Ctrl-C finishes the requests in flight.
    gateway::simple_server::ServerBuilder::new()
        .access_log(!options.quiet)
        .serve(&format!("{}:{}", options.host, options.port), site)?;
    Ok(())
}
