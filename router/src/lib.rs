//! Routing for `gateway` apps (matchit routes, mounting by `shift_path_info`).
//!
//! This crate is a placeholder until its own issue lands: it compiles and exports nothing yet.
