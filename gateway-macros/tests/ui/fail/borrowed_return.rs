#[gateway::wsgi_app]
fn path(environ: &gateway::Environ) -> &str {
    environ.get("PATH_INFO").unwrap_or("/")
}

fn main() {}
