//! # gateway
//!
//! Python's WSGI reference stack (`wsgiref`, PEP 3333) rebuilt in Rust, and a small framework
//! on top of it. Write handlers as plain functions:
//!
//! ```
//! use gateway::{wsgi_app, Html, Query};
//! use gateway::test::{run_app, EnvironBuilder};
//! use std::collections::HashMap;
//!
//! #[wsgi_app]
//! fn greet(Query(query): Query<HashMap<String, String>>) -> Html<String> {
//!     let name = query.get("name").map_or("world", String::as_str);
//!     Html(format!("<p>Hello, {name}!</p>"))
//! }
//!
//! let response = run_app(&greet, EnvironBuilder::new().query("name=Ada").build());
//! assert_eq!(response.status, "200 OK");
//! assert_eq!(response.header("Content-Type"), Some("text/html; charset=utf-8"));
//! assert_eq!(response.text(), "<p>Hello, Ada!</p>");
//! ```
//!
//! `greet` is now an [`App`], like every handler, router and middleware here: anything that
//! takes an [`Environ`] and a [`StartResponse`] and returns a [`Body`] of byte chunks. The
//! server ([`serve`], [`simple_server`]), CGI ([`handlers`]) and the test client ([`test`](mod@test))
//! run it unchanged. [`wsgi_app`] explains the forms a handler can take; the `router` crate
//! routes them. Around the one idea this crate ships the pieces of `wsgiref`:
//!
//! | wsgiref | gateway |
//! |---|---|
//! | `util` | [`util`]: `guess_scheme`, `request_uri`, `application_uri`, `shift_path_info`, `setup_testing_defaults`, `is_hop_by_hop`, [`FileWrapper`](util::FileWrapper) |
//! | `headers.Headers` | [`Headers`] |
//! | `handlers` | [`handlers`]: [`BaseHandler`](handlers::BaseHandler), [`SimpleHandler`](handlers::SimpleHandler), [`BaseCgiHandler`](handlers::BaseCgiHandler), [`CgiHandler`](handlers::CgiHandler), [`IisCgiHandler`](handlers::IisCgiHandler), [`read_environ`](handlers::read_environ) |
//! | `simple_server` | [`simple_server`]: [`make_server`](simple_server::make_server), [`WsgiServer`](simple_server::WsgiServer), [`demo_app`](simple_server::demo_app) |
//! | (werkzeug's test client) | [`test`](mod@test): [`EnvironBuilder`](test::EnvironBuilder), [`run_app`](test::run_app) |
//!
//! The same kind of app written by hand, at the WSGI level:
//!
//! ```
//! use gateway::{app_fn, Body};
//! use gateway::test::{run_app, EnvironBuilder};
//!
//! let hello = app_fn(|environ, start_response| {
//!     let name = environ.get("QUERY_STRING").unwrap_or("").to_owned();
//!     start_response.start("200 OK", [("Content-Type", "text/plain")])?;
//!     Ok(Body::from(format!("Hello {name}")))
//! });
//!
//! let response = run_app(&hello, EnvironBuilder::new().query("world").build());
//! assert_eq!(response.status, "200 OK");
//! assert_eq!(response.headers.get("content-length"), Some("11"));
//! assert_eq!(response.body, b"Hello world");
//! ```

// The macros' expansions name `::gateway`, in this crate's own tests and doctests too.
extern crate self as gateway;

mod app;
mod body;
mod environ;
mod error;
mod extract;
mod file_wrapper;
mod headers;
mod into_response;
mod request;
mod response;
mod route;
mod routing_args;
mod spare;
mod status;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub mod handlers;
pub mod latin1;
pub mod middleware;
pub mod simple_server;
pub mod test;
pub mod util;
pub mod validate;

pub use app::{
    App, AppError, ResponseSink, StartResponse, StartResponseError, Write, app_fn, validate_status,
};
pub use body::{Body, Chunk, IntoChunk};
pub use environ::{Environ, ErrorStream, Extensions, Input, SharedBuffer};
pub use error::HttpError;
#[cfg(feature = "serde")]
pub use extract::Form;
#[cfg(feature = "json")]
pub use extract::Json;
pub use extract::{BodyLimit, Bytes, FromEnviron, Method, Query, Text};
#[doc = include_str!("wsgi_app.md")]
pub use gateway_macros::wsgi_app;
pub use headers::{HeaderError, Headers};
pub use into_response::{Html, IntoResponse};
pub use request::{DEFAULT_BODY_LIMIT, Request};
pub use response::Response;
pub use route::{Route, Routes};
pub use routing_args::RoutingArgs;
pub use simple_server::serve;
pub use status::{InvalidStatusCode, StatusCode};

/// The `cookie` crate, for [`Request::cookies`] and [`Response::set_cookie`].
#[cfg(feature = "cookies")]
pub use cookie;
