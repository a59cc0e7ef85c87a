//! Extractors: values a handler takes from the request, for `#[wsgi_app]` functions.
//!
//! A `#[wsgi_app]` function names what it needs as parameters; each parameter's type says
//! how to get it from the [`Environ`] through [`FromEnviron`]. Route parameters bind by name
//! instead (a parameter `id` of a route `/users/{id}`, parsed with `FromStr`), and request
//! headers through `#[header]` (see the macro's docs).
//!
//! | parameter type | what it is | rejection |
//! |---|---|---|
//! | `&Environ` | the whole environ, borrowed | — |
//! | [`Method`] | `REQUEST_METHOD` | — |
//! | `&RoutingArgs`, `RoutingArgs` | every route parameter | — |
//! | [`Query<T>`] | the query string as a map, or (feature `serde`) any `Deserialize` type | 400 naming the field |
//! | [`Bytes`] | the body, bounded by [`BodyLimit`] | 400, 411, 413 |
//! | [`Text`] | the body as UTF-8 | 400, 413, 415 (another charset) |
//! | [`Form<T>`] (feature `serde`) | an `application/x-www-form-urlencoded` body | 415, 422 naming the field |
//! | [`Json<T>`] (feature `json`) | a JSON body | 415, 400 (syntax), 422 (shape) |
//!
//! Arguments are extracted in order: the first rejection answers the request, and the
//! handler never runs.

#[cfg(not(feature = "serde"))]
use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;

use crate::{Environ, HttpError, Request, RoutingArgs};

/// A value a `#[wsgi_app]` handler can take as a parameter.
///
/// Extraction runs in two steps so that borrowed and body-reading extractors can sit in one
/// parameter list: [`take`](FromEnviron::take) runs for every parameter in order with the
/// environ mutable (a body is read here, and every rejection happens here), then
/// [`finish`](FromEnviron::finish) turns what was taken into the value with the environ
/// borrowed for the handler's call. An owned extractor takes itself and finishes with it:
///
/// ```
/// use gateway::{Environ, FromEnviron, HttpError};
/// use gateway::test::EnvironBuilder;
///
/// /// The `X-Request-Id` header, required.
/// struct RequestId(String);
///
/// impl FromEnviron<'_> for RequestId {
///     type Taken = RequestId;
///     fn take(environ: &mut Environ) -> Result<RequestId, HttpError> {
///         let id = environ.get("HTTP_X_REQUEST_ID").ok_or_else(|| HttpError::bad_request("missing X-Request-Id"))?;
///         Ok(RequestId(id.to_owned()))
///     }
///     fn finish(taken: RequestId, _environ: &Environ) -> RequestId {
///         taken
///     }
/// }
///
/// let mut env = EnvironBuilder::new().header("X-Request-Id", "r-1").build();
/// let taken = RequestId::take(&mut env)?;
/// assert_eq!(RequestId::finish(taken, &env).0, "r-1");
/// # Ok::<(), HttpError>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be taken from a request",
    label = "no extractor for this type",
    note = "parameters of a #[wsgi_app] function are extractors (`&Environ`, `Method`, `Query<T>`, `Bytes`, `Text`, `Form<T>`, `Json<T>`, `&RoutingArgs`), route parameters named in the route (`/users/{{id}}` binds `id`), or `#[header]` parameters"
)]
pub trait FromEnviron<'a>: Sized {
    /// What [`take`](FromEnviron::take) gets while the environ is mutable.
    type Taken;

    /// Gets the value's parts from the request, or the error that answers it.
    fn take(environ: &mut Environ) -> Result<Self::Taken, HttpError>;

    /// The value, from what was taken and the environ (borrowed for the handler's call).
    fn finish(taken: Self::Taken, environ: &'a Environ) -> Self;
}

impl<'a> FromEnviron<'a> for &'a Environ {
    type Taken = ();

    fn take(_environ: &mut Environ) -> Result<(), HttpError> {
        Ok(())
    }

    fn finish(_taken: (), environ: &'a Environ) -> Self {
        environ
    }
}

impl<'a> FromEnviron<'a> for &'a RoutingArgs {
    type Taken = ();

    fn take(_environ: &mut Environ) -> Result<(), HttpError> {
        Ok(())
    }

    fn finish(_taken: (), environ: &'a Environ) -> Self {
        environ.routing_args()
    }
}

impl FromEnviron<'_> for RoutingArgs {
    type Taken = RoutingArgs;

    fn take(environ: &mut Environ) -> Result<RoutingArgs, HttpError> {
        Ok(environ.routing_args().clone())
    }

    fn finish(taken: RoutingArgs, _environ: &Environ) -> Self {
        taken
    }
}

/// Implements [`FromEnviron`] for an owned extractor from a `take` function.
macro_rules! owned_extractor {
    ($(#[$meta:meta])* impl$(<$T:ident: $bound:path>)? for $ty:ty = $take:expr) => {
        $(#[$meta])*
        impl<$($T: $bound)?> FromEnviron<'_> for $ty {
            type Taken = Self;

            fn take(environ: &mut Environ) -> Result<Self, HttpError> {
                let take: fn(&mut Environ) -> Result<Self, HttpError> = $take;
                take(environ)
            }

            fn finish(taken: Self, _environ: &Environ) -> Self {
                taken
            }
        }
    };
}

/// The request method (`REQUEST_METHOD`; `GET` when absent, as CGI implies).
///
/// ```
/// use gateway::{wsgi_app, Method};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// #[wsgi_app]
/// fn which(method: Method) -> String {
///     format!("{method} {}", method == "POST")
/// }
///
/// assert_eq!(run_app(&which, EnvironBuilder::new().method("POST").build()).text(), "POST true");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Method(String);

impl Method {
    /// The method as sent (`GET`, `POST`, ...).
    ///
    /// ```
    /// let mut env = gateway::test::EnvironBuilder::new().method("PUT").build();
    /// let taken = <gateway::Method as gateway::FromEnviron>::take(&mut env)?;
    /// assert_eq!(taken.as_str(), "PUT");
    /// # Ok::<(), gateway::HttpError>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Method {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Method {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Method {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

owned_extractor!(impl for Method = |environ| {
    Ok(Method(environ.get("REQUEST_METHOD").unwrap_or("GET").to_owned()))
});

/// The query string, parsed: into a `HashMap<String, String>` (the last value of a repeated
/// name wins), or with the `serde` feature into any `Deserialize` type (a mismatch is a 400
/// naming the field: `query string: page: invalid digit found in string`).
///
/// ```
/// use std::collections::HashMap;
/// use gateway::{wsgi_app, Query};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// #[wsgi_app]
/// fn search(Query(params): Query<HashMap<String, String>>) -> String {
///     format!("{} of {}", params.get("q").map_or("", String::as_str), params.len())
/// }
///
/// assert_eq!(run_app(&search, EnvironBuilder::new().query("q=rust+web&page=2").build()).text(), "rust web of 2");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query<T>(pub T);

impl<T> Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

#[cfg(not(feature = "serde"))]
owned_extractor!(impl for Query<HashMap<String, String>> = |environ| {
    Ok(Query(Request::new(environ).query_pairs().into_iter().collect()))
});

#[cfg(feature = "serde")]
owned_extractor!(
    impl<T: serde::de::DeserializeOwned> for Query<T> = |environ| {
        Request::new(environ).query_as().map(Query)
    }
);

/// The largest body the body extractors ([`Bytes`], [`Text`], [`Form`], [`Json`]) read:
/// put it in the environ's [`extensions`](Environ::extensions) (a middleware can) to
/// change it for a request; without it, [`DEFAULT_BODY_LIMIT`](crate::DEFAULT_BODY_LIMIT).
/// A longer body is a 413 and is never read past the limit.
///
/// ```
/// use gateway::{app_fn, wsgi_app, App, BodyLimit, Bytes};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// #[wsgi_app]
/// fn upload(Bytes(body): Bytes) -> String {
///     format!("{} bytes", body.len())
/// }
///
/// let small = app_fn(|env, sr| {
///     env.extensions_mut().insert(BodyLimit(4));
///     upload.call(env, sr)
/// });
/// let post = |body: &str| EnvironBuilder::new().method("POST").body(body).build();
/// assert_eq!(run_app(&small, post("1234")).text(), "4 bytes");
/// assert_eq!(run_app(&small, post("12345")).status_code, 413);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit(pub u64);

/// Marks a request whose body an extractor has read.
struct BodyTaken;

/// A [`Request`] over `environ` with the request's [`BodyLimit`], for the one body
/// extractor of a handler: a second one would find the body gone, which is the handler's
/// mistake (a 500 saying so), not the client's.
fn limited(environ: &mut Environ) -> Result<Request<'_>, HttpError> {
    if environ.extensions_mut().insert(BodyTaken).is_some() {
        return Err(HttpError::internal(
            "the request body was already read by another parameter: a handler takes at most one of Bytes, Text, Form and Json",
        ));
    }
    let limit = environ.extensions().get::<BodyLimit>().map(|l| l.0);
    let request = Request::new(environ);
    Ok(match limit {
        Some(limit) => request.with_limit(limit),
        None => request,
    })
}

/// The whole request body, bounded by [`BodyLimit`] (see [`Request::bytes`] for every
/// framing: 413 over the limit, 411 for an announced body of unknown length, 400 for one
/// cut short).
///
/// ```
/// use gateway::{wsgi_app, Bytes};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// #[wsgi_app]
/// fn echo(Bytes(body): Bytes) -> Vec<u8> {
///     body
/// }
///
/// let response = run_app(&echo, EnvironBuilder::new().method("POST").body(&b"\x00\xff"[..]).build());
/// assert_eq!(response.body, b"\x00\xff");
/// assert_eq!(response.header("Content-Type"), Some("application/octet-stream"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

owned_extractor!(impl for Bytes = |environ| limited(environ)?.bytes().map(Bytes));

/// The whole request body as UTF-8 text (see [`Request::text`]: 400 when it is not UTF-8,
/// 415 for another declared charset; bounded like [`Bytes`]).
///
/// ```
/// use gateway::{wsgi_app, Text};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// #[wsgi_app]
/// fn shout(Text(text): Text) -> String {
///     text.to_uppercase()
/// }
///
/// assert_eq!(run_app(&shout, EnvironBuilder::new().method("POST").body("hey").build()).text(), "HEY");
/// let latin1 = EnvironBuilder::new().method("POST").body(&b"caf\xe9"[..]).build();
/// assert_eq!(run_app(&shout, latin1).status_code, 400);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text(pub String);

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

owned_extractor!(impl for Text = |environ| limited(environ)?.text().map(Text));

/// An `application/x-www-form-urlencoded` body into a `Deserialize` type (feature `serde`):
/// another `Content-Type` is a 415, a body that does not fit the type a 422 naming the field.
///
/// ```
/// use gateway::{wsgi_app, Form};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// #[derive(serde::Deserialize)]
/// struct Entry { name: String, age: u8 }
///
/// #[wsgi_app]
/// fn sign(Form(entry): Form<Entry>) -> String {
///     format!("{} ({})", entry.name, entry.age)
/// }
///
/// let post = |body: &str| {
///     EnvironBuilder::new().method("POST").header("Content-Type", "application/x-www-form-urlencoded").body(body).build()
/// };
/// assert_eq!(run_app(&sign, post("name=Ada+L&age=36")).text(), "Ada L (36)");
/// let bad = run_app(&sign, post("name=Ada&age=old"));
/// assert_eq!((bad.status_code, bad.text()), (422, "422 Unprocessable Content: form body: age: invalid digit found in string\n".into()));
/// ```
#[cfg(feature = "serde")]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form<T>(pub T);

#[cfg(feature = "serde")]
impl<T> Deref for Form<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

#[cfg(feature = "serde")]
owned_extractor!(
    impl<T: serde::de::DeserializeOwned> for Form<T> = |environ| limited(environ)?.form().map(Form)
);

/// JSON (feature `json`): as a parameter, a JSON body into a `Deserialize` type (415 for
/// another `Content-Type`, 400 for malformed JSON, 422 for JSON of the wrong shape); as a
/// return value, a `Serialize` value sent as `application/json`.
///
/// ```
/// use gateway::{wsgi_app, Json};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// #[derive(serde::Deserialize, serde::Serialize)]
/// struct Item { name: String, qty: u32 }
///
/// #[wsgi_app]
/// fn double(Json(mut item): Json<Item>) -> Json<Item> {
///     item.qty *= 2;
///     Json(item)
/// }
///
/// let post = |body: &str| {
///     EnvironBuilder::new().method("POST").header("Content-Type", "application/json").body(body).build()
/// };
/// let response = run_app(&double, post(r#"{"name":"pen","qty":2}"#));
/// assert_eq!(response.header("Content-Type"), Some("application/json"));
/// assert_eq!(response.text(), r#"{"name":"pen","qty":4}"#);
/// assert_eq!(run_app(&double, post(r#"{"name":"pen""#)).status_code, 400);
/// assert_eq!(run_app(&double, post(r#"{"name":"pen"}"#)).status_code, 422);
/// ```
#[cfg(feature = "json")]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

#[cfg(feature = "json")]
impl<T> Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

#[cfg(feature = "json")]
owned_extractor!(
    impl<T: serde::de::DeserializeOwned> for Json<T> = |environ| limited(environ)?.json().map(Json)
);

/// One route parameter, by name, parsed with `FromStr` (what a `#[wsgi_app]` route
/// parameter expands to): missing is a 500 (the route and its handler disagree),
/// unparsable a 400 naming it.
pub fn route_param<T>(environ: &Environ, name: &str) -> Result<T, HttpError>
where
    T: std::str::FromStr,
    T::Err: fmt::Display,
{
    environ.routing_args().parse(name)
}

/// One request header (`key` its environ variable, `name` as the client wrote it), parsed
/// with `FromStr`: `None` when absent.
pub fn header<T>(environ: &Environ, key: &str, name: &str) -> Result<Option<T>, HttpError>
where
    T: std::str::FromStr,
    T::Err: fmt::Display,
{
    let Some(value) = environ.get(key) else {
        return Ok(None);
    };
    value
        .parse()
        .map(Some)
        .map_err(|e| HttpError::bad_request(format!("header '{name}': {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test::EnvironBuilder;

    #[test]
    fn headers_and_params_by_name() {
        let mut env = EnvironBuilder::new()
            .header("X-Count", "3")
            .header("X-Bad", "x")
            .build();
        env.routing_args_mut().push("id", "7");
        assert_eq!(
            header::<u32>(&env, "HTTP_X_COUNT", "X-Count").unwrap(),
            Some(3)
        );
        assert_eq!(header::<u32>(&env, "HTTP_X_NONE", "X-None").unwrap(), None);
        let error = header::<u32>(&env, "HTTP_X_BAD", "X-Bad").unwrap_err();
        assert_eq!(
            error.to_string(),
            "400 Bad Request: header 'X-Bad': invalid digit found in string"
        );
        assert_eq!(route_param::<u8>(&env, "id").unwrap(), 7);
        assert_eq!(
            route_param::<u8>(&env, "no").unwrap_err().status().as_u16(),
            500
        );
    }
}
