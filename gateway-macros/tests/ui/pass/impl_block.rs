use std::sync::atomic::{AtomicUsize, Ordering};

use gateway::{wsgi_app, Routes, StatusCode};

#[derive(Default)]
struct Counter {
    hits: AtomicUsize,
}

#[wsgi_app]
impl Counter {
    #[wsgi_app(GET, "/")]
    fn show(&self) -> String {
        self.hits.load(Ordering::Relaxed).to_string()
    }

    #[wsgi_app(POST, "/")]
    fn hit(&self) -> StatusCode {
        self.hits.fetch_add(1, Ordering::Relaxed);
        StatusCode::NO_CONTENT
    }

    #[wsgi_app(GET, "/by/{step}")]
    fn step(&self, step: usize, method: <Self as Output>::Method) -> String {
        format!("{method} {}", self.hits.load(Ordering::Relaxed) + step)
    }

    #[wsgi_app(GET, "/static")]
    fn stateless() -> &'static str {
        "no self"
    }

    fn helper(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }
}

/// `Self` in a parameter's type names the impl's type in the generated code too.
trait Output {
    type Method;
}

impl Output for Counter {
    type Method = gateway::Method;
}

fn main() {
    let routes = Counter::default().into_routes();
    assert_eq!(routes.len(), 4);
    let _ = Counter::default().helper();
}
