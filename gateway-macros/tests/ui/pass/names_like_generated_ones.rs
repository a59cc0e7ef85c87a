//! Handlers named like the expansion's own variables still compile, beside other handlers.
use gateway::wsgi_app;

#[wsgi_app]
fn environ(env: &gateway::Environ) -> String {
    format!("{:?}", env.get("PATH_INFO"))
}

#[wsgi_app]
fn start_response() -> &'static str {
    "start"
}

#[wsgi_app]
fn other(method: gateway::Method) -> String {
    method.to_string()
}

fn main() {
    let _ = (environ, start_response, other);
}
