//! # router
//!
//! Routing for `gateway` apps: [`Router`] dispatches on matchit routes (`/users/{id}`,
//! `/files/{*rest}`) and mounts sub-apps traversal style, moving each prefix from `PATH_INFO`
//! into `SCRIPT_NAME` with [`shift_path_info`](gateway::util::shift_path_info), so a mounted
//! app sees itself at the root and still rebuilds its public URL. A router is a plain
//! [`App`](gateway::App): routers nest, and go to the server, CGI and the test client as they
//! are. Route parameters reach apps as [`RoutingArgs`] (the wsgiorg `routing_args` shape).
//!
//! ```
//! use gateway::{app_fn, Response};
//! use gateway::test::{run_app, EnvironBuilder};
//! use router::{Router, RoutingArgs};
//!
//! let user = app_fn(|env, sr| {
//!     let id: u64 = RoutingArgs::of(env).parse("id")?;
//!     Response::text(format!("user {id}")).send(sr)
//! });
//! let api = Router::builder().get("/users/{id}", user).build()?;
//! let site = Router::builder().mount("/api", api).build()?;
//! assert_eq!(run_app(&site, EnvironBuilder::new().path("/api/users/7").build()).text(), "user 7");
//! # Ok::<(), router::RouterError>(())
//! ```
//!
//! Nested routers add to the parameters of the routers around them:
//!
//! ```
//! use gateway::{app_fn, Response};
//! use gateway::test::{run_app, EnvironBuilder};
//! use router::{Router, RoutingArgs};
//!
//! let show = app_fn(|env, sr| {
//!     let args = RoutingArgs::of(env);
//!     let id: u32 = args.parse("id")?;
//!     Response::text(format!("user {id} of {}", args.get("org").unwrap_or("?"))).send(sr)
//! });
//! let users = Router::builder().get("/users/{id}", show).build()?;
//! let orgs = Router::builder().route_any("/{org}/{*rest}", users).build()?;
//! let response = run_app(&orgs, EnvironBuilder::new().path("/acme/users/7").build());
//! assert_eq!(response.text(), "user 7 of acme");
//! let bad = run_app(&orgs, EnvironBuilder::new().path("/acme/users/x").build());
//! assert_eq!(bad.status_code, 400);
//! assert_eq!(bad.text(), "400 Bad Request: route parameter 'id': invalid digit found in string\n");
//! # Ok::<(), router::RouterError>(())
//! ```

mod error;
mod router;
mod static_files;

pub use error::RouterError;
pub use gateway::RoutingArgs;
pub use router::{Router, RouterBuilder};
pub use static_files::Static;

// The README's examples use the router, so they are tested here.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
