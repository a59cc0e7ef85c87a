//! [`RoutingArgs`]: the route parameters of a request, in the wsgiorg `routing_args` shape.

use std::str::FromStr;

use gateway::{Environ, HttpError};

/// The parameters the routers matched for a request, as the wsgiorg `routing_args`
/// convention has them: positional values (in the order the routes captured them) and named
/// ones. Stored in the environ's [`Extensions`](gateway::Extensions); nested routers add to
/// it, so an app under `/users/{user}` mounted in a router that matched `/{org}` sees both.
///
/// ```
/// use gateway::{app_fn, Response};
/// use gateway::test::{run_app, EnvironBuilder};
/// use router::{Router, RoutingArgs};
///
/// let show = app_fn(|env, sr| {
///     let args = RoutingArgs::of(env);
///     let id: u32 = args.parse("id")?;
///     Response::text(format!("user {id} of {}", args.get("org").unwrap_or("?"))).send(sr)
/// });
/// let users = Router::builder().get("/users/{id}", show).build()?;
/// let orgs = Router::builder().route_any("/{org}/{*rest}", users).build()?;
/// let response = run_app(&orgs, EnvironBuilder::new().path("/acme/users/7").build());
/// assert_eq!(response.text(), "user 7 of acme");
/// let bad = run_app(&orgs, EnvironBuilder::new().path("/acme/users/x").build());
/// assert_eq!(bad.status_code, 400);
/// assert_eq!(bad.text(), "400 Bad Request: route parameter 'id': invalid digit found in string\n");
/// # Ok::<(), router::RouterError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoutingArgs {
    /// Every name and value, one after the other.
    text: String,
    /// (name start, name end, value start, value end) in `text`, in capture order.
    spans: Vec<[usize; 4]>,
}

impl RoutingArgs {
    /// The request's parameters (empty when no router matched any).
    pub fn of(environ: &Environ) -> RoutingArgs {
        environ
            .extensions()
            .get::<RoutingArgs>()
            .cloned()
            .unwrap_or_default()
    }

    /// The (name, value) pairs in capture order (wsgiorg's named arguments).
    ///
    /// ```
    /// use gateway::{app_fn, Response};
    /// use gateway::test::{run_app, EnvironBuilder};
    /// use router::{Router, RoutingArgs};
    ///
    /// let app = app_fn(|env, sr| {
    ///     let args = RoutingArgs::of(env);
    ///     let named: Vec<String> = args.named().map(|(k, v)| format!("{k}={v}")).collect();
    ///     let positional: Vec<&str> = args.positional().collect();
    ///     Response::text(format!("{} {}", named.join("&"), positional.join(","))).send(sr)
    /// });
    /// let router = Router::builder().get("/{a}/{b}", app).build()?;
    /// assert_eq!(run_app(&router, EnvironBuilder::new().path("/x/y").build()).text(), "a=x&b=y x,y");
    /// # Ok::<(), router::RouterError>(())
    /// ```
    pub fn named(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.spans
            .iter()
            .map(|&[a, b, c, d]| (&self.text[a..b], &self.text[c..d]))
    }

    /// The values in capture order (wsgiorg's positional arguments).
    pub fn positional(&self) -> impl Iterator<Item = &str> + '_ {
        self.named().map(|(_, value)| value)
    }

    /// How many parameters there are.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when no router matched a parameter.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The value of the parameter `name` (the innermost router's, when names repeat).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.named()
            .filter(|(key, _)| *key == name)
            .last()
            .map(|(_, value)| value)
    }

    /// The parameter `name` parsed with `FromStr`: missing is a 500 (a route and its app
    /// disagree), unparsable a 400 naming it.
    pub fn parse<T>(&self, name: &str) -> Result<T, HttpError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        let value = self
            .get(name)
            .ok_or_else(|| HttpError::internal(format!("the route has no parameter {name:?}")))?;
        value
            .parse()
            .map_err(|e| HttpError::bad_request(format!("route parameter '{name}': {e}")))
    }

    /// The parameters of one match (`{*rest}` catch-alls included); `None` when there are
    /// none.
    pub(crate) fn collect<'a>(params: impl Iterator<Item = (&'a str, &'a str)>) -> Option<Self> {
        let mut args = RoutingArgs::default();
        for (name, value) in params {
            if args.spans.is_empty() {
                args.text.reserve(64);
                args.spans.reserve(4);
            }
            let start = args.text.len();
            args.text.push_str(name);
            let middle = args.text.len();
            args.text.push_str(value);
            args.spans.push([start, middle, middle, args.text.len()]);
        }
        (!args.is_empty()).then_some(args)
    }

    /// Puts these parameters in the environ, after those an outer router matched.
    pub(crate) fn append_to(self, environ: &mut Environ) {
        let extensions = environ.extensions_mut();
        match extensions.get_mut::<RoutingArgs>() {
            Some(outer) => {
                let base = outer.text.len();
                outer.text.push_str(&self.text);
                outer
                    .spans
                    .extend(self.spans.iter().map(|span| span.map(|i| i + base)));
            }
            None => {
                extensions.insert(self);
            }
        }
    }
}
