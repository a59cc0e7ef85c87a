//! [`RouterError`]: a route table that cannot work, found when it is built.

use std::fmt;

/// Why a [`Router`](crate::Router) could not be built. Each names both parties of a clash.
///
/// ```
/// use gateway::simple_server::demo_app;
/// use router::{Router, RouterError};
///
/// let error = Router::builder().get("/files/{*rest}/x", demo_app).build().unwrap_err();
/// assert!(matches!(error, RouterError::InvalidRoute { ref route, .. } if route == "/files/{*rest}/x"));
/// let error = Router::builder().mount("/api/", demo_app).build().unwrap_err();
/// assert!(error.to_string().starts_with("cannot mount at \"/api/\""), "{error}");
/// let error = Router::builder().route("/a", ["GET", "GET"], demo_app).build().unwrap_err();
/// assert_eq!(error, RouterError::DuplicateMethod { method: "GET".into(), route: "/a".into() });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RouterError {
    /// Two routes would match the same paths (`/users/{id}` and `/users/{name}`).
    Conflict {
        /// The route being added.
        route: String,
        /// The route already there.
        with: String,
    },
    /// The route is not valid matchit syntax (an empty `{}`, two parameters in a segment,
    /// a catch-all not at the end, or a route not starting with `/`).
    InvalidRoute {
        /// The route.
        route: String,
        /// What matchit said.
        reason: String,
    },
    /// The same method is given twice for one route.
    DuplicateMethod {
        /// The method.
        method: String,
        /// The route.
        route: String,
    },
    /// A route lies under a mount, so the mount would always win and the route never answer.
    MountOverlap {
        /// The mount's prefix.
        mount: String,
        /// The route.
        route: String,
    },
    /// A mount prefix that is not `/segment[/segment...]`, or one mounted twice.
    InvalidMount {
        /// The prefix.
        prefix: String,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for RouterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouterError::Conflict { route, with } => {
                write!(
                    f,
                    "route {route:?} conflicts with route {with:?}: both would match the same paths"
                )
            }
            RouterError::InvalidRoute { route, reason } => {
                write!(f, "route {route:?} is invalid: {reason}")
            }
            RouterError::DuplicateMethod { method, route } => {
                write!(f, "{method} {route} is routed twice")
            }
            RouterError::MountOverlap { mount, route } => write!(
                f,
                "route {route:?} lies under the mount at {mount:?}, which would always answer first"
            ),
            RouterError::InvalidMount { prefix, reason } => {
                write!(f, "cannot mount at {prefix:?}: {reason}")
            }
        }
    }
}

impl std::error::Error for RouterError {}
