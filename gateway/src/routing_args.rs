//! [`RoutingArgs`]: the route parameters of a request, in the wsgiorg `routing_args` shape.

use std::str::FromStr;

use crate::{Environ, HttpError};

/// The parameters the routers matched for a request, as the wsgiorg `routing_args`
/// convention has them: positional values (in the order the routes captured them) and named
/// ones. It is a typed field of the [`Environ`] ([`Environ::routing_args`], the
/// `wsgiorg.routing_args` entry of a Python environ); nested routers add to it, so an app
/// under `/users/{user}` mounted in a router that matched `/{org}` sees both.
///
/// ```
/// use gateway::{Environ, RoutingArgs};
///
/// let mut env = Environ::new();
/// assert!(RoutingArgs::of(&env).is_empty());
/// env.routing_args_mut().push("org", "acme");
/// env.routing_args_mut().push("id", "7");
/// let args = RoutingArgs::of(&env);
/// assert_eq!(args.get("org"), Some("acme"));
/// assert_eq!(args.parse::<u32>("id")?, 7);
/// assert_eq!(args.positional().collect::<Vec<_>>(), ["acme", "7"]);
/// # Ok::<(), gateway::HttpError>(())
/// ```
#[derive(Clone, Default)]
pub struct RoutingArgs {
    /// Every name and value, one after the other.
    text: String,
    /// How many parameters there are.
    len: usize,
    /// The first parameters' (name start, name end = value start, value end) in `text`:
    /// routes rarely have more, so most requests allocate only `text`.
    inline: [Span; INLINE],
    /// The spans of the parameters after the first [`INLINE`].
    spill: Vec<Span>,
}

type Span = [u32; 3];

/// How many parameters' spans are kept without an allocation.
const INLINE: usize = 4;

impl std::fmt::Debug for RoutingArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.named()).finish()
    }
}

impl PartialEq for RoutingArgs {
    fn eq(&self, other: &Self) -> bool {
        self.named().eq(other.named())
    }
}

impl Eq for RoutingArgs {}

impl RoutingArgs {
    /// The request's parameters (empty when no router matched any); the same as
    /// [`Environ::routing_args`].
    ///
    /// ```
    /// use gateway::{Environ, RoutingArgs};
    ///
    /// let mut env = Environ::new();
    /// env.routing_args_mut().push("id", "7");
    /// assert_eq!(RoutingArgs::of(&env).get("id"), Some("7"));
    /// ```
    pub fn of(environ: &Environ) -> &RoutingArgs {
        environ.routing_args()
    }

    /// Adds a parameter after those already there (what a router does for each one it
    /// matches; a later one of the same name shadows an earlier one in [`get`](Self::get)).
    ///
    /// ```
    /// let mut args = gateway::RoutingArgs::default();
    /// args.push("id", "1");
    /// args.push("id", "2");
    /// assert_eq!((args.len(), args.get("id")), (2, Some("2")));
    /// for i in 3..10 {
    ///     args.push(&format!("p{i}"), &i.to_string());
    /// }
    /// assert_eq!(args.positional().collect::<Vec<_>>(), ["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    /// ```
    ///
    /// # Panics
    ///
    /// When the names and values together pass 4 GiB.
    pub fn push(&mut self, name: &str, value: &str) {
        if self.text.capacity() == 0 {
            self.text.reserve(48);
        }
        let offset = |len: usize| u32::try_from(len).expect("routing arguments under 4 GiB");
        let start = offset(self.text.len());
        self.text.push_str(name);
        let middle = offset(self.text.len());
        self.text.push_str(value);
        let span = [start, middle, offset(self.text.len())];
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = span,
            None => self.spill.push(span),
        }
        self.len += 1;
    }

    /// The spans in order.
    fn spans(&self) -> impl Iterator<Item = &Span> + '_ {
        self.inline[..self.len.min(INLINE)]
            .iter()
            .chain(self.spill.iter())
    }

    /// The (name, value) pairs in capture order (wsgiorg's named arguments).
    ///
    /// ```
    /// let mut args = gateway::RoutingArgs::default();
    /// args.push("a", "x");
    /// args.push("b", "y");
    /// assert_eq!(args.named().collect::<Vec<_>>(), [("a", "x"), ("b", "y")]);
    /// ```
    pub fn named(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.spans().map(|&[a, b, c]| {
            let (a, b, c) = (a as usize, b as usize, c as usize);
            (&self.text[a..b], &self.text[b..c])
        })
    }

    /// The values in capture order (wsgiorg's positional arguments).
    ///
    /// ```
    /// let mut args = gateway::RoutingArgs::default();
    /// args.push("a", "x");
    /// args.push("b", "y");
    /// assert_eq!(args.positional().collect::<Vec<_>>(), ["x", "y"]);
    /// ```
    pub fn positional(&self) -> impl Iterator<Item = &str> + '_ {
        self.named().map(|(_, value)| value)
    }

    /// How many parameters there are.
    ///
    /// ```
    /// let mut args = gateway::RoutingArgs::default();
    /// assert_eq!(args.len(), 0);
    /// args.push("id", "7");
    /// assert_eq!(args.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no router matched a parameter.
    ///
    /// ```
    /// assert!(gateway::RoutingArgs::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value of the parameter `name` (the innermost router's, when names repeat).
    ///
    /// ```
    /// let mut args = gateway::RoutingArgs::default();
    /// args.push("name", "ada");
    /// assert_eq!(args.get("name"), Some("ada"));
    /// assert_eq!(args.get("other"), None);
    /// ```
    pub fn get(&self, name: &str) -> Option<&str> {
        self.named()
            .filter(|(key, _)| *key == name)
            .last()
            .map(|(_, value)| value)
    }

    /// The parameter `name` parsed with `FromStr`: missing is a 500 (a route and its app
    /// disagree), unparsable a 400 naming it.
    ///
    /// ```
    /// let mut args = gateway::RoutingArgs::default();
    /// args.push("id", "x");
    /// assert_eq!(args.parse::<u32>("id").unwrap_err().to_string(),
    ///            "400 Bad Request: route parameter 'id': invalid digit found in string");
    /// assert_eq!(args.parse::<u32>("page").unwrap_err().status().as_u16(), 500);
    /// ```
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

    /// The memory it holds, in bytes (for a server that recycles it).
    pub(crate) fn capacity(&self) -> usize {
        self.text.capacity() + self.spill.capacity() * std::mem::size_of::<Span>()
    }

    /// Removes every parameter (keeping the storage).
    ///
    /// ```
    /// let mut args = gateway::RoutingArgs::default();
    /// args.push("id", "7");
    /// args.clear();
    /// assert!(args.is_empty());
    /// ```
    pub fn clear(&mut self) {
        self.text.clear();
        self.len = 0;
        self.spill.clear();
    }
}
