//! What went wrong inside an app: an error it returned, or a panic, with a backtrace.

use std::any::Any;
use std::backtrace::Backtrace;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use crate::AppError;

/// An app's failure, as the handler logs it: Python's exception with its traceback.
///
/// ```
/// use gateway::handlers::Failure;
/// use gateway::AppError;
///
/// let failure = Failure::from(AppError::from("no database"));
/// assert!(matches!(failure, Failure::Error(_)));
/// assert_eq!(failure.to_string(), "no database");
/// let panic = Failure::Panic { message: "index out of bounds".into(), location: None, backtrace: None };
/// assert_eq!(panic.to_string(), "panic: index out of bounds");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Failure {
    /// The app (or its body, or `start_response`) returned an error.
    Error(AppError),
    /// The app panicked.
    Panic {
        /// The panic message.
        message: String,
        /// Where it panicked (`file:line:column`), when known.
        location: Option<String>,
        /// The backtrace captured at the panic, when one could be taken.
        backtrace: Option<String>,
    },
}

impl Failure {
    /// True when the failure is the client going away (broken pipe, reset, aborted): such a
    /// request ends quietly.
    ///
    /// ```
    /// use std::io;
    /// use gateway::handlers::Failure;
    /// use gateway::AppError;
    ///
    /// let gone = Failure::from(AppError::from(io::Error::from(io::ErrorKind::BrokenPipe)));
    /// assert!(gone.is_disconnect());
    /// let full = Failure::from(AppError::from(io::Error::from(io::ErrorKind::StorageFull)));
    /// assert!(!full.is_disconnect());
    /// ```
    pub fn is_disconnect(&self) -> bool {
        match self {
            Failure::Error(e) => is_disconnect(e.as_ref()),
            Failure::Panic { .. } => false,
        }
    }

    /// Writes the failure the way `log_exception` does: a traceback-like report, with at most
    /// `limit` backtrace frames (or cause lines); `Some(0)` writes only the final message line.
    ///
    /// ```
    /// use gateway::handlers::Failure;
    ///
    /// let failure = Failure::Panic {
    ///     message: "attempt to divide by zero".into(),
    ///     location: Some("src/app.rs:10:5".into()),
    ///     backtrace: Some("0: app::handler\n1: gateway::handlers::run\n".into()),
    /// };
    /// let mut report = Vec::new();
    /// failure.write_report(&mut report, Some(1))?;
    /// assert_eq!(
    ///     String::from_utf8(report).unwrap(),
    ///     "Traceback (most recent call last):\n  panicked at src/app.rs:10:5\n  0: app::handler\n\
    ///      Panic: attempt to divide by zero\n"
    /// );
    /// let mut short = Vec::new();
    /// failure.write_report(&mut short, Some(0))?;
    /// assert_eq!(short, b"Panic: attempt to divide by zero\n");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn write_report(&self, out: &mut dyn io::Write, limit: Option<usize>) -> io::Result<()> {
        match self {
            Failure::Error(error) => {
                let mut causes = Vec::new();
                let mut source = error.source();
                while let Some(cause) = source {
                    causes.push(cause.to_string());
                    source = cause.source();
                }
                if limit != Some(0) {
                    writeln!(out, "Traceback (most recent call last):")?;
                    let shown = limit.unwrap_or(usize::MAX).min(causes.len());
                    for cause in causes.iter().rev().take(shown) {
                        writeln!(out, "  caused by: {cause}")?;
                    }
                }
                writeln!(out, "Error: {error}")
            }
            Failure::Panic {
                message,
                location,
                backtrace,
            } => {
                if limit != Some(0) {
                    writeln!(out, "Traceback (most recent call last):")?;
                    if let Some(location) = location {
                        writeln!(out, "  panicked at {location}")?;
                    }
                    if let Some(backtrace) = backtrace {
                        let frames = backtrace.lines().filter(|l| !l.trim().is_empty());
                        for line in frames.take(limit.unwrap_or(usize::MAX)) {
                            writeln!(out, "  {}", line.trim_end())?;
                        }
                    }
                }
                writeln!(out, "Panic: {message}")
            }
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Error(e) => write!(f, "{e}"),
            Failure::Panic { message, .. } => write!(f, "panic: {message}"),
        }
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Failure::Error(e)
    }
}

/// True for the I/O errors that mean the peer went away.
pub(crate) fn is_disconnect_kind(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
    )
}

fn is_disconnect(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<io::Error>()
            && is_disconnect_kind(io.kind())
        {
            return true;
        }
        current = e.source();
    }
    false
}

thread_local! {
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<(Option<String>, String)>> = const { RefCell::new(None) };
}

/// Installs (once per process) a panic hook that, inside [`catch`], records the location and a
/// backtrace for the handler's log instead of printing them; elsewhere it defers to the hook
/// that was there before.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CATCHING.with(Cell::get) {
                let location = info.location().map(|l| l.to_string());
                let backtrace = Backtrace::force_capture().to_string();
                LAST_PANIC.with(|p| *p.borrow_mut() = Some((location, backtrace)));
            } else {
                previous(info);
            }
        }));
    });
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}

/// Runs `f`, turning a panic into a [`Failure::Panic`] with its location and backtrace.
pub(crate) fn catch<T>(f: impl FnOnce() -> T) -> Result<T, Failure> {
    install_hook();
    let was = CATCHING.with(|c| c.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(was));
    result.map_err(|payload| {
        let (location, backtrace) = LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .map_or((None, None), |(l, b)| (l, Some(b)));
        Failure::Panic {
            message: panic_message(payload.as_ref()),
            location,
            backtrace,
        }
    })
}
