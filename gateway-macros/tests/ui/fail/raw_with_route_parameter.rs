#[gateway::wsgi_app(GET, "/users/{id}")]
fn raw(
    _environ: &mut gateway::Environ,
    _start_response: &mut gateway::StartResponse<'_>,
) -> Result<gateway::Body, gateway::AppError> {
    Ok(gateway::Body::empty())
}

fn main() {}
