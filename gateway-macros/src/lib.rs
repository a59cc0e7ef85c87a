//! Procedural macros for `gateway` (`#[wsgi_app]` and friends).
//!
//! This crate is a placeholder until its own issue lands: it compiles and exports nothing yet.
