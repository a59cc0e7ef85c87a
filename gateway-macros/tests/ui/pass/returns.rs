use gateway::{wsgi_app, Body, Headers, Html, HttpError, Response, StatusCode};

#[wsgi_app]
fn a() -> &'static str { "a" }
#[wsgi_app]
fn b() -> String { String::new() }
#[wsgi_app]
fn c() -> Vec<u8> { Vec::new() }
#[wsgi_app]
fn d() -> (StatusCode, Html<String>) { (StatusCode::OK, Html(String::new())) }
#[wsgi_app]
fn e() -> (StatusCode, Headers, &'static str) { (StatusCode::OK, Headers::new(), "") }
#[wsgi_app]
fn f() -> Option<Result<Response, HttpError>> { None }
#[wsgi_app]
fn g() -> Result<Body, gateway::AppError> { Ok(Body::empty()) }
#[wsgi_app]
fn h() {}
#[wsgi_app]
fn i() -> impl gateway::IntoResponse { "opaque" }

fn main() {
    let _ = (a, b, c, d, e, f, g, h, i);
}
