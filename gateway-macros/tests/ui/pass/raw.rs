use gateway::{AppError, Body, Environ, StartResponse, wsgi_app};

#[wsgi_app]
fn raw(environ: &mut Environ, start_response: &mut StartResponse<'_>) -> Result<Body, AppError> {
    let path = environ.get("PATH_INFO").unwrap_or("/").to_owned();
    start_response.start("200 OK", [("Content-Type", "text/plain")])?;
    Ok(Body::from(path))
}

#[wsgi_app(POST, "/hook")]
fn routed_raw(_environ: &mut Environ, start_response: &mut StartResponse<'_>) -> Result<Body, AppError> {
    start_response.start("204 No Content", Vec::<(String, String)>::new())?;
    Ok(Body::empty())
}

fn main() {
    let response = gateway::test::run_app(&raw, gateway::test::EnvironBuilder::new().path("/x").build());
    assert_eq!(response.text(), "/x");
    let _ = routed_raw;
}
