//! [`Router`]: matchit routes and traversal mounts, itself an [`App`].

use std::sync::Arc;

use gateway::middleware::Mount;
use gateway::util::request_uri;
use gateway::{
    App, AppError, Body, Environ, HttpError, Response, RoutingArgs, StartResponse, StatusCode,
};

use crate::RouterError;

/// The methods a route answers: some, or any.
#[derive(Clone)]
enum Methods {
    Some(Vec<String>),
    Any,
}

/// Routes and mounts, collected until [`build`](RouterBuilder::build) checks them.
///
/// ```
/// use gateway::{app_fn, Response};
/// use router::{Router, RouterError};
///
/// let hello = || app_fn(|_env, sr| Response::text("hi").send(sr));
/// let error = Router::builder()
///     .get("/users/{id}", hello())
///     .get("/users/{name}", hello())
///     .build()
///     .unwrap_err();
/// assert_eq!(
///     error,
///     RouterError::Conflict { route: "/users/{name}".into(), with: "/users/{id}".into() }
/// );
/// let error = Router::builder().get("/api/users", hello()).mount("/api", hello()).build().unwrap_err();
/// assert_eq!(error.to_string(), "route \"/api/users\" lies under the mount at \"/api\", which would always answer first");
/// ```
#[derive(Default)]
pub struct RouterBuilder {
    routes: Vec<(String, Methods, Arc<dyn App>)>,
    mounts: Vec<(String, Arc<dyn App>)>,
    fallback: Option<Arc<dyn App>>,
    error_page: Option<Arc<ErrorPage>>,
}

/// Renders the router's own error responses (see [`RouterBuilder::error_page`]).
type ErrorPage = dyn Fn(&HttpError, &Environ) -> Response + Send + Sync;

impl std::fmt::Debug for RouterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterBuilder")
            .field(
                "routes",
                &self.routes.iter().map(|r| &r.0).collect::<Vec<_>>(),
            )
            .field(
                "mounts",
                &self.mounts.iter().map(|m| &m.0).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl RouterBuilder {
    /// `app` answers `pattern` (matchit syntax: `/users/{id}`, `/files/{*rest}`) for the
    /// given methods (`HEAD` is answered by `GET` unless routed itself; `OPTIONS` is answered
    /// with `Allow` unless routed).
    ///
    /// ```
    /// use gateway::{app_fn, Response};
    /// use gateway::test::{run_app, EnvironBuilder};
    /// use router::Router;
    ///
    /// let app = app_fn(|env, sr| Response::text(env.get("REQUEST_METHOD").unwrap_or("").to_owned()).send(sr));
    /// let router = Router::builder().route("/doc", ["GET", "put"], app).build()?;
    /// let put = run_app(&router, EnvironBuilder::new().method("PUT").path("/doc").build());
    /// assert_eq!(put.text(), "PUT"); // methods are upper-cased
    /// # Ok::<(), router::RouterError>(())
    /// ```
    pub fn route<'m>(
        mut self,
        pattern: &str,
        methods: impl IntoIterator<Item = &'m str>,
        app: impl App + 'static,
    ) -> Self {
        let methods = methods.into_iter().map(str::to_ascii_uppercase).collect();
        self.routes
            .push((pattern.to_owned(), Methods::Some(methods), Arc::new(app)));
        self
    }

    /// Adds routes that know where they go: a `#[wsgi_app(GET, "/path")]` function, a
    /// `#[wsgi_app]` impl block (all its routes, sharing the value), or any
    /// [`Routes`](gateway::Routes).
    ///
    /// ```
    /// use gateway::wsgi_app;
    /// use gateway::test::{run_app, EnvironBuilder};
    /// use router::Router;
    ///
    /// #[wsgi_app(GET, "/users/{id}")]
    /// fn show_user(id: u32) -> String {
    ///     format!("user {id}")
    /// }
    ///
    /// let router = Router::builder().handle(show_user).build()?;
    /// assert_eq!(run_app(&router, EnvironBuilder::new().path("/users/7").build()).text(), "user 7");
    /// assert_eq!(run_app(&router, EnvironBuilder::new().path("/users/x").build()).status_code, 400);
    /// # Ok::<(), router::RouterError>(())
    /// ```
    pub fn handle(mut self, routes: impl gateway::Routes) -> Self {
        for route in routes.into_routes() {
            let methods = if route.methods().is_empty() {
                Methods::Any
            } else {
                Methods::Some(route.methods().iter().map(|m| (*m).to_owned()).collect())
            };
            self.routes
                .push((route.pattern().to_owned(), methods, Arc::clone(route.app())));
        }
        self
    }

    /// `app` answers `pattern` for every method.
    ///
    /// ```
    /// use gateway::{app_fn, Response};
    /// use gateway::test::{run_app, EnvironBuilder};
    /// use router::Router;
    ///
    /// let router = Router::builder().route_any("/hook", app_fn(|_env, sr| Response::text("ok").send(sr))).build()?;
    /// let purge = run_app(&router, EnvironBuilder::new().method("PURGE").path("/hook").build());
    /// assert_eq!(purge.status_code, 200);
    /// # Ok::<(), router::RouterError>(())
    /// ```
    pub fn route_any(mut self, pattern: &str, app: impl App + 'static) -> Self {
        self.routes
            .push((pattern.to_owned(), Methods::Any, Arc::new(app)));
        self
    }

    /// `GET` (and so `HEAD`) on `pattern`.
    ///
    /// ```
    /// use gateway::{app_fn, Response};
    /// use gateway::test::{run_app, EnvironBuilder};
    /// use router::Router;
    ///
    /// let router = Router::builder().get("/", app_fn(|_env, sr| Response::text("home").send(sr))).build()?;
    /// let head = run_app(&router, EnvironBuilder::new().method("HEAD").build());
    /// assert_eq!((head.status_code, head.header("Content-Length")), (200, Some("4")));
    /// # Ok::<(), router::RouterError>(())
    /// ```
    pub fn get(self, pattern: &str, app: impl App + 'static) -> Self {
        self.route(pattern, ["GET"], app)
    }

    /// `POST` on `pattern` (see [`route`](RouterBuilder::route); likewise `put`, `patch`,
    /// `delete`).
    ///
    /// ```
    /// use gateway::{app_fn, Response, StatusCode};
    /// use gateway::test::{run_app, EnvironBuilder};
    /// use router::Router;
    ///
    /// let created = || app_fn(|_env, sr| Response::empty(StatusCode::CREATED).send(sr));
    /// let router = Router::builder()
    ///     .post("/items", created())
    ///     .put("/items/{id}", created())
    ///     .patch("/items/{id}", created())
    ///     .delete("/items/{id}", created())
    ///     .build()?;
    /// for (method, path) in [("POST", "/items"), ("PUT", "/items/1"), ("PATCH", "/items/1"), ("DELETE", "/items/1")] {
    ///     let response = run_app(&router, EnvironBuilder::new().method(method).path(path).build());
    ///     assert_eq!(response.status_code, 201, "{method}");
    /// }
    /// # Ok::<(), router::RouterError>(())
    /// ```
    pub fn post(self, pattern: &str, app: impl App + 'static) -> Self {
        self.route(pattern, ["POST"], app)
    }

    /// `PUT` on `pattern`.
    ///
    /// ```
    /// use gateway::{app_fn, Response};
    /// use gateway::test::{run_app, EnvironBuilder};
    /// use router::Router;
    ///
    /// let router = Router::builder().put("/doc", app_fn(|_env, sr| Response::text("done").send(sr))).build()?;
    /// assert_eq!(run_app(&router, EnvironBuilder::new().method("PUT").path("/doc").build()).text(), "done");
    /// assert_eq!(run_app(&router, EnvironBuilder::new().path("/doc").build()).status_code, 405);
    /// # Ok::<(), router::RouterError>(())
    /// ```
    pub fn put(self, pattern: &str, app: impl App + 'static) -> Self {
        self.route(pattern, ["PUT"], app)
    }

    /// `PATCH` on `pattern`.
    ///
    /// ```
    /// use gateway::{app_fn, Response};
    /// use gateway::test::{run_app, EnvironBuilder};
    /// use router::Router;
    ///
    /// let router = Router::builder().patch("/doc", app_fn(|_env, sr| Response::text("done").send(sr))).build()?;
    /// assert_eq!(run_app(&router, EnvironBuilder::new().method("PATCH").path("/doc").build()).text(), "done");
    /// assert_eq!(run_app(&router, EnvironBuilder::new().path("/doc").build()).status_code, 405);
    /// # Ok::<(), router::RouterError>(())
    /// ```
    pub fn patch(self, pattern: &str, app: impl App + 'static) -> Self {
        self.route(pattern, ["PATCH"], app)
    }

    /// `DELETE` on `pattern`.
    ///
    /// ```
    /// use gateway::{app_fn, Response};
    /// use gateway::test::{run_app, EnvironBuilder};
    /// use router::Router;
    ///
    /// let router = Router::builder().delete("/doc", app_fn(|_env, sr| Response::text("done").send(sr))).build()?;
    /// assert_eq!(run_app(&router, EnvironBuilder::new().method("DELETE").path("/doc").build()).text(), "done");
    /// assert_eq!(run_app(&router, EnvironBuilder::new().path("/doc").build()).status_code, 405);
    /// # Ok::<(), router::RouterError>(())
    /// ```
    pub fn delete(self, pattern: &str, app: impl App + 'static) -> Self {
        self.route(pattern, ["DELETE"], app)
    }

    /// Serves `app` under `prefix` (`/api`, `/static/v2`), traversal style: the prefix moves
    /// from `PATH_INFO` to `SCRIPT_NAME` one segment at a time
    /// ([`shift_path_info`](gateway::util::shift_path_info)). Prefixes match on segment
    /// boundaries only, the longest wins, and the prefix itself without its slash redirects
    /// (308) to it with the slash.
    ///
    /// ```
    /// use gateway::simple_server::demo_app;
    /// use gateway::test::{run_app, EnvironBuilder};
    /// use router::Router;
    ///
    /// let router = Router::builder().mount("/demo", demo_app).mount("/demo/v2", demo_app).build()?;
    /// let v2 = run_app(&router, EnvironBuilder::new().path("/demo/v2/x").build()).text();
    /// assert!(v2.contains("SCRIPT_NAME = '/demo/v2'"), "the longest prefix wins");
    /// let other = run_app(&router, EnvironBuilder::new().path("/demo/v20").build()).text();
    /// assert!(other.contains("PATH_INFO = '/v20'"), "segment boundaries only");
    /// # Ok::<(), router::RouterError>(())
    /// ```
    pub fn mount(mut self, prefix: &str, app: impl App + 'static) -> Self {
        self.mounts.push((prefix.to_owned(), Arc::new(app)));
        self
    }

    /// The app for requests nothing matched (default: a 404 page).
    ///
    /// ```
    /// use gateway::{app_fn, Response, StatusCode};
    /// use gateway::test::{run_app, EnvironBuilder};
    /// use router::Router;
    ///
    /// let page = app_fn(|_env, sr| Response::html("<h1>Lost?</h1>").with_status(StatusCode::NOT_FOUND).send(sr));
    /// let router = Router::builder().fallback(page).build()?;
    /// assert_eq!(run_app(&router, EnvironBuilder::new().path("/x").build()).text(), "<h1>Lost?</h1>");
    /// # Ok::<(), router::RouterError>(())
    /// ```
    pub fn fallback(mut self, app: impl App + 'static) -> Self {
        self.fallback = Some(Arc::new(app));
        self
    }

    /// Renders the errors the router itself answers (404 when nothing matched and there is no
    /// fallback, 405 for a method the route does not answer, 400 for a `..` segment) with
    /// `page` instead of the default small text or JSON page. The router keeps the error's
    /// status and adds its headers (`Allow` on a 405) whatever `page` returns. Errors raised
    /// by the routed apps are theirs to answer.
    ///
    /// ```
    /// use gateway::{app_fn, Response};
    /// use gateway::test::{run_app, EnvironBuilder};
    /// use router::Router;
    ///
    /// let router = Router::builder()
    ///     .get("/", app_fn(|_env, sr| Response::text("home").send(sr)))
    ///     .error_page(|error, environ| {
    ///         let path = environ.get("PATH_INFO").unwrap_or("");
    ///         Response::html(format!("<h1>{}</h1><p>{path}</p>", error.status()))
    ///     })
    ///     .build()?;
    /// let missing = run_app(&router, EnvironBuilder::new().path("/nope").build());
    /// assert_eq!((missing.status_code, missing.text()), (404, "<h1>404 Not Found</h1><p>/nope</p>".into()));
    /// let post = run_app(&router, EnvironBuilder::new().method("POST").build());
    /// assert_eq!((post.status_code, post.header("Allow")), (405, Some("GET, HEAD, OPTIONS")));
    /// assert_eq!(post.header("Content-Type"), Some("text/html; charset=utf-8"));
    /// # Ok::<(), router::RouterError>(())
    /// ```
    pub fn error_page(
        mut self,
        page: impl Fn(&HttpError, &Environ) -> Response + Send + Sync + 'static,
    ) -> Self {
        self.error_page = Some(Arc::new(page));
        self
    }

    /// Checks the table and builds the router: a conflict, a malformed pattern, a method
    /// routed twice, an invalid or repeated mount, or a route hidden under a mount is an
    /// error naming both parties.
    ///
    /// ```
    /// use gateway::simple_server::demo_app;
    /// use router::Router;
    ///
    /// assert!(Router::builder().get("/a/{id}", demo_app).mount("/b", demo_app).build().is_ok());
    /// let error = Router::builder().get("/a", demo_app).get("/a", demo_app).build().unwrap_err();
    /// assert_eq!(error.to_string(), "GET /a is routed twice");
    /// ```
    pub fn build(self) -> Result<Router, RouterError> {
        let mut table = matchit::Router::new();
        let mut endpoints: Vec<Endpoint> = Vec::new();
        for (pattern, methods, app) in self.routes {
            if let Some(endpoint) = endpoints.iter_mut().find(|e| e.pattern == pattern) {
                endpoint.add(methods, app)?;
                continue;
            }
            table
                .insert(pattern.as_str(), endpoints.len())
                .map_err(|error| match error {
                    matchit::InsertError::Conflict { with } => RouterError::Conflict {
                        route: pattern.clone(),
                        with,
                    },
                    other => RouterError::InvalidRoute {
                        route: pattern.clone(),
                        reason: other.to_string(),
                    },
                })?;
            let catch_all = pattern
                .rsplit_once("/{*")
                .and_then(|(_, name)| name.strip_suffix('}'))
                .map(str::to_owned);
            let mut endpoint = Endpoint {
                pattern,
                methods: Vec::new(),
                any: None,
                catch_all,
            };
            endpoint.add(methods, app)?;
            endpoints.push(endpoint);
        }
        let mut mounts: Vec<Mount<Arc<dyn App>>> = Vec::new();
        for (prefix, app) in self.mounts {
            if mounts.iter().any(|m| m.prefix() == prefix) {
                return Err(RouterError::InvalidMount {
                    prefix,
                    reason: "mounted twice".into(),
                });
            }
            let mount = Mount::new(&prefix, app).map_err(|e| RouterError::InvalidMount {
                prefix: prefix.clone(),
                reason: e.to_string(),
            })?;
            if let Some(endpoint) = endpoints
                .iter()
                .find(|e| e.pattern == prefix || e.pattern.starts_with(&format!("{prefix}/")))
            {
                return Err(RouterError::MountOverlap {
                    mount: prefix,
                    route: endpoint.pattern.clone(),
                });
            }
            mounts.push(mount);
        }
        // The longest prefix first.
        mounts.sort_by_key(|m| std::cmp::Reverse(m.prefix().len()));
        Ok(Router {
            table,
            endpoints,
            mounts,
            fallback: self.fallback,
            error_page: self.error_page,
        })
    }
}

/// One route pattern and the apps of its methods.
struct Endpoint {
    pattern: String,
    methods: Vec<(String, Arc<dyn App>)>,
    any: Option<Arc<dyn App>>,
    /// The name of a final `{*name}` segment: its value becomes the app's `PATH_INFO`.
    catch_all: Option<String>,
}

impl Endpoint {
    fn add(&mut self, methods: Methods, app: Arc<dyn App>) -> Result<(), RouterError> {
        let duplicate = |method: &str| RouterError::DuplicateMethod {
            method: method.to_owned(),
            route: self.pattern.clone(),
        };
        match methods {
            Methods::Any if self.any.is_some() => return Err(duplicate("*")),
            Methods::Any => self.any = Some(app),
            Methods::Some(methods) => {
                for method in methods {
                    if self.methods.iter().any(|(m, _)| *m == method) {
                        return Err(duplicate(&method));
                    }
                    self.methods.push((method, Arc::clone(&app)));
                }
            }
        }
        Ok(())
    }

    /// The app for `method`: its own, `GET`'s for `HEAD`, or the any-method one.
    fn app_for(&self, method: &str) -> Option<&Arc<dyn App>> {
        let find = |wanted: &str| {
            self.methods
                .iter()
                .find(|(m, _)| m == wanted)
                .map(|(_, a)| a)
        };
        find(method)
            .or_else(|| (method == "HEAD").then(|| find("GET")).flatten())
            .or(self.any.as_ref())
    }

    /// The `Allow` value: the routed methods, `HEAD` with `GET`, and `OPTIONS`.
    fn allow(&self) -> String {
        let mut allow: Vec<&str> = self.methods.iter().map(|(m, _)| m.as_str()).collect();
        if allow.contains(&"GET") && !allow.contains(&"HEAD") {
            allow.push("HEAD");
        }
        if !allow.contains(&"OPTIONS") {
            allow.push("OPTIONS");
        }
        allow.join(", ")
    }
}

/// A 308 to the requested URL with a slash added (the query kept): how a directory asked
/// for without its slash is answered, traversal style.
pub(crate) fn slash_redirect(
    environ: &Environ,
    sr: &mut StartResponse<'_>,
) -> Result<Body, AppError> {
    let mut location = request_uri(environ, false)?;
    location.push('/');
    if let Some(query) = environ.get("QUERY_STRING").filter(|q| !q.is_empty()) {
        location.push('?');
        location.push_str(query);
    }
    Response::permanent_redirect(&location)?.send(sr)
}

/// Moves what a route matched before its catch-all from `PATH_INFO` to `SCRIPT_NAME`: the
/// last `rest_bytes` bytes of the path (one latin-1 character each) stay, behind a `/`.
fn shift_matched(environ: &mut Environ, rest_bytes: usize) {
    let path = environ.get("PATH_INFO").unwrap_or("").to_owned();
    let chars = path.chars().count();
    let Some(cut) = chars.checked_sub(rest_bytes + 1) else {
        return;
    };
    let at = path.char_indices().nth(cut).map_or(path.len(), |(i, _)| i);
    let (matched, rest) = path.split_at(at);
    let script = format!("{}{matched}", environ.get("SCRIPT_NAME").unwrap_or(""));
    environ.insert("SCRIPT_NAME", script);
    environ.insert("PATH_INFO", rest);
}

/// Routes (matchit) and mounts (traversal), an [`App`] like any other: routers nest and go
/// straight into `make_server`, `CgiHandler` or the test client.
///
/// Dispatch, in order:
/// 1. a `PATH_INFO` with a `..` segment is a 400 (no request climbs out of a mount);
/// 2. mounts, longest prefix first: `/prefix/...` goes to the mounted app with the prefix
///    shifted into `SCRIPT_NAME`; `/prefix` alone redirects (308) to `/prefix/`, query kept;
/// 3. routes, on `PATH_INFO` as PEP 3333 gives it (percent-decoded, so an encoded `%2F` is a
///    `/` by then: `REQUEST_URI` still has the raw target), exactly (no trailing-slash
///    folding); parameters go into the environ's [`RoutingArgs`](gateway::RoutingArgs); a route ending in a
///    catch-all (`/files/{*rest}`) hands its app the rest as `PATH_INFO`, the matched part
///    moved to `SCRIPT_NAME`, so routers nest;
/// 4. the method: its app, `GET`'s for `HEAD`, an any-method route; `OPTIONS` otherwise
///    answers 204 with `Allow`; anything else is a 405 with `Allow`;
/// 5. nothing matched: the fallback, or a 404.
///
/// ```
/// use gateway::{app_fn, Response};
/// use gateway::test::{run_app, EnvironBuilder};
/// use router::Router;
///
/// let app = Router::builder()
///     .get("/", app_fn(|_env, sr| Response::text("home").send(sr)))
///     .route("/items", ["GET", "POST"], app_fn(|env, sr| {
///         Response::text(env.get("REQUEST_METHOD").unwrap_or("").to_owned()).send(sr)
///     }))
///     .mount("/demo", gateway::simple_server::demo_app)
///     .build()?;
/// let get = |path: &str| run_app(&app, EnvironBuilder::new().path(path).build());
/// assert_eq!(get("/").text(), "home");
/// assert_eq!(get("/missing").status_code, 404);
/// let delete = run_app(&app, EnvironBuilder::new().method("DELETE").path("/items").build());
/// assert_eq!((delete.status_code, delete.header("Allow")), (405, Some("GET, POST, HEAD, OPTIONS")));
/// assert!(get("/demo/x").text().contains("SCRIPT_NAME = '/demo'"));
/// let slash = run_app(&app, EnvironBuilder::new().path("/demo").query("a=1").build());
/// assert_eq!((slash.status_code, slash.header("Location")), (308, Some("http://127.0.0.1/demo/?a=1")));
/// # Ok::<(), router::RouterError>(())
/// ```
pub struct Router {
    table: matchit::Router<usize>,
    endpoints: Vec<Endpoint>,
    mounts: Vec<Mount<Arc<dyn App>>>,
    fallback: Option<Arc<dyn App>>,
    error_page: Option<Arc<ErrorPage>>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field(
                "routes",
                &self
                    .endpoints
                    .iter()
                    .map(|e| &e.pattern)
                    .collect::<Vec<_>>(),
            )
            .field(
                "mounts",
                &self.mounts.iter().map(|m| m.prefix()).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Router {
    /// A builder for a router (see [`RouterBuilder`]).
    ///
    /// ```
    /// let router = router::Router::builder().build()?;
    /// let response = gateway::test::run_app(&router, gateway::test::EnvironBuilder::new().build());
    /// assert_eq!(response.status_code, 404); // an empty table
    /// # Ok::<(), router::RouterError>(())
    /// ```
    pub fn builder() -> RouterBuilder {
        RouterBuilder::default()
    }

    fn not_found(
        &self,
        environ: &mut Environ,
        sr: &mut StartResponse<'_>,
    ) -> Result<Body, AppError> {
        match &self.fallback {
            Some(app) => app.call(environ, sr),
            None => self.error(HttpError::not_found(), environ, sr),
        }
    }

    /// Answers an error of the router's own: through the error page when there is one,
    /// else as an [`HttpError`] for the engine to render.
    fn error(
        &self,
        error: HttpError,
        environ: &mut Environ,
        sr: &mut StartResponse<'_>,
    ) -> Result<Body, AppError> {
        let Some(page) = &self.error_page else {
            return Err(error.into());
        };
        let mut response = page(&error, environ).with_status(error.status());
        for (name, value) in error.headers() {
            response.headers.set(name, value)?;
        }
        response.send(sr)
    }
}

/// What a request's path leads to, decided before the environ is changed.
enum Target<'r> {
    /// A `..` segment: 400.
    DotDot,
    /// The mount's prefix without its slash: 308 to it with the slash.
    SlashRedirect,
    Mount(&'r Mount<Arc<dyn App>>),
    /// A route, and the length of its catch-all's value when it ends in one.
    Route(&'r Endpoint, Option<usize>),
    NotFound,
}

impl Router {
    /// Where `environ`'s path goes; a route's parameters are pushed onto `args`.
    fn target(&self, environ: &Environ, args: &mut RoutingArgs) -> Target<'_> {
        let path = environ.get("PATH_INFO").unwrap_or("");
        if path.contains("..") && path.split('/').any(|segment| segment == "..") {
            return Target::DotDot;
        }
        for mount in &self.mounts {
            let Some(rest) = path.strip_prefix(mount.prefix()) else {
                continue;
            };
            if rest.is_empty() {
                // Traversal style: `/docs` is the directory `/docs/`.
                return Target::SlashRedirect;
            }
            if rest.starts_with('/') {
                return Target::Mount(mount);
            }
        }
        // Route on the path as UTF-8 (PATH_INFO is latin-1 "bytes in unicode").
        let decoded;
        let path = if path.is_ascii() {
            path
        } else if let Some(Ok(utf8)) = environ.get_utf8("PATH_INFO") {
            decoded = utf8;
            decoded.as_str()
        } else {
            return Target::NotFound;
        };
        let Ok(matched) = self.table.at(path) else {
            return Target::NotFound;
        };
        let endpoint = &self.endpoints[*matched.value];
        let mut rest = None;
        for (name, value) in matched.params.iter() {
            if endpoint.catch_all.as_deref() == Some(name) {
                rest = Some(value.len());
            }
            args.push(name, value);
        }
        Target::Route(endpoint, rest)
    }
}

impl App for Router {
    fn call(&self, environ: &mut Environ, sr: &mut StartResponse<'_>) -> Result<Body, AppError> {
        // The environ's parameters are taken out while the path is borrowed (a move, no
        // allocation) and put back, with this router's added, before anything else.
        let mut args = std::mem::take(environ.routing_args_mut());
        let target = self.target(environ, &mut args);
        *environ.routing_args_mut() = args;
        let (endpoint, rest) = match target {
            Target::DotDot => {
                let error = HttpError::bad_request("the path has a '..' segment");
                return self.error(error, environ, sr);
            }
            Target::SlashRedirect => return slash_redirect(environ, sr),
            Target::Mount(mount) => return mount.call(environ, sr),
            Target::NotFound => return self.not_found(environ, sr),
            Target::Route(endpoint, rest) => (endpoint, rest),
        };
        if let Some(rest) = rest {
            shift_matched(environ, rest);
        }
        let method = environ.get("REQUEST_METHOD").unwrap_or("GET");
        if let Some(app) = endpoint.app_for(method) {
            return app.call(environ, sr);
        }
        let allow = endpoint.allow();
        if method == "OPTIONS" {
            return Response::empty(StatusCode::NO_CONTENT)
                .header("Allow", allow)?
                .send(sr);
        }
        self.error(HttpError::method_not_allowed([allow]), environ, sr)
    }
}
