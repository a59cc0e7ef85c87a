//! [`Route`] and [`Routes`]: the route metadata `#[wsgi_app(METHOD, "/path")]` attaches,
//! for a router to consume (the core knows no router).

use std::fmt;
use std::sync::Arc;

use crate::App;

/// One route: the methods it answers, its matchit pattern and its app.
///
/// ```
/// use gateway::{app_fn, Response, Route};
///
/// let route = Route::new(&["GET"], "/users/{id}", app_fn(|_env, sr| Response::text("hi").send(sr)));
/// assert_eq!((route.methods(), route.pattern()), (&["GET"][..], "/users/{id}"));
/// ```
#[derive(Clone)]
pub struct Route {
    methods: &'static [&'static str],
    pattern: &'static str,
    app: Arc<dyn App>,
}

impl Route {
    /// `app` at `pattern` for `methods` (upper case; empty for every method).
    pub fn new(
        methods: &'static [&'static str],
        pattern: &'static str,
        app: impl App + 'static,
    ) -> Self {
        Route {
            methods,
            pattern,
            app: Arc::new(app),
        }
    }

    /// The methods (empty: every method).
    pub fn methods(&self) -> &'static [&'static str] {
        self.methods
    }

    /// The matchit pattern (`/users/{id}`).
    pub fn pattern(&self) -> &'static str {
        self.pattern
    }

    /// The app.
    ///
    /// ```
    /// use gateway::{wsgi_app, Routes};
    /// use gateway::test::{run_app, EnvironBuilder};
    ///
    /// #[wsgi_app(GET, "/")]
    /// fn home() -> &'static str {
    ///     "home"
    /// }
    ///
    /// let route = home.into_routes().remove(0);
    /// assert_eq!(run_app(route.app(), EnvironBuilder::new().build()).text(), "home");
    /// ```
    pub fn app(&self) -> &Arc<dyn App> {
        &self.app
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("methods", &self.methods)
            .field("pattern", &self.pattern)
            .finish_non_exhaustive()
    }
}

/// Something that knows where it is served: a `#[wsgi_app(GET, "/path")]` function (one
/// route) or a `#[wsgi_app]` impl block (one route per annotated method, sharing the
/// struct). A router takes it whole (`router::RouterBuilder::handle`).
///
/// ```
/// use gateway::{wsgi_app, Routes};
///
/// #[wsgi_app(GET, POST, "/items/{id}")]
/// fn item(id: u32) -> String {
///     format!("item {id}")
/// }
///
/// let routes = item.into_routes();
/// assert_eq!(routes[0].methods(), ["GET", "POST"]);
/// assert_eq!(routes[0].pattern(), "/items/{id}");
/// ```
pub trait Routes {
    /// The routes, in declaration order.
    fn into_routes(self) -> Vec<Route>;
}

impl Routes for Route {
    fn into_routes(self) -> Vec<Route> {
        vec![self]
    }
}

impl Routes for Vec<Route> {
    fn into_routes(self) -> Vec<Route> {
        self
    }
}
