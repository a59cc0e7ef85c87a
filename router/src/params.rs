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
    /// The values in capture order.
    pub positional: Vec<String>,
    /// The (name, value) pairs in capture order.
    pub named: Vec<(String, String)>,
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

    /// The value of the parameter `name` (the innermost router's, when names repeat).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.named
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
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

    /// Adds the parameters of one match (`{*rest}` catch-alls included).
    pub(crate) fn extend<'a>(
        environ: &mut Environ,
        params: impl Iterator<Item = (&'a str, &'a str)>,
    ) {
        let mut params = params.peekable();
        if params.peek().is_none() {
            return;
        }
        let extensions = environ.extensions_mut();
        if extensions.get::<RoutingArgs>().is_none() {
            extensions.insert(RoutingArgs::default());
        }
        if let Some(args) = extensions.get_mut::<RoutingArgs>() {
            for (name, value) in params {
                args.positional.push(value.to_owned());
                args.named.push((name.to_owned(), value.to_owned()));
            }
        }
    }
}
