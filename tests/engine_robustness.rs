//! Regression tests for the protocol engine's promises: `run` never panics because of the
//! app, and every close action runs.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use gateway::handlers::Outcome;
use gateway::test::{EnvironBuilder, run_app};
use gateway::{AppError, Body, app_fn};

/// An error whose `Display` panics: logging it must not take the handler down.
#[derive(Debug)]
struct PanickyDisplay;

impl fmt::Display for PanickyDisplay {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Display of an app error panicked")
    }
}

impl std::error::Error for PanickyDisplay {}

#[test]
fn error_whose_display_panics_still_gets_a_500() {
    let app = app_fn(|_env, _sr| -> Result<Body, AppError> { Err(Box::new(PanickyDisplay)) });
    let response = run_app(&app, EnvironBuilder::new().build());
    assert_eq!(response.status, "500 Internal Server Error");
    assert!(
        response.errors.contains("logging an app failure panicked"),
        "{}",
        response.errors
    );
}

#[test]
fn a_panicking_close_action_does_not_skip_the_others() {
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&ran);
    let app = app_fn(move |_env, sr| {
        let counter = Arc::clone(&counter);
        sr.start("200 OK", [("Content-Type", "text/plain")])?;
        Ok(Body::from("x")
            .on_close(|| panic!("first close action fails"))
            .on_close(move || {
                counter.fetch_add(1, Ordering::SeqCst);
            }))
    });
    let response = run_app(&app, EnvironBuilder::new().build());
    assert_eq!(ran.load(Ordering::SeqCst), 1, "the second close action ran");
    assert_eq!(response.body, b"x");
    assert!(response.errors.contains("first close action fails"));
    assert_ne!(response.outcome, Outcome::ClientGone);
}
