//! The request/response vocabulary (issue 9) through the test client: every `Response`
//! constructor and every `HttpError` status, good and bad input.

use gateway::cookie::Cookie;
use gateway::test::{EnvironBuilder, run_app};
use gateway::{App, AppError, Body, HttpError, Response, StatusCode, app_fn};

fn respond(make: impl Fn() -> Result<Response, AppError> + Send + Sync) -> impl App {
    app_fn(move |_env, sr| make()?.send(sr))
}

#[test]
fn response_constructors() {
    /// (app, status, Content-Type, body)
    type Case = (Box<dyn App>, u16, Option<&'static str>, &'static str);
    let cases: Vec<Case> = vec![
        (
            Box::new(respond(|| Ok(Response::text("t")))),
            200,
            Some("text/plain; charset=utf-8"),
            "t",
        ),
        (
            Box::new(respond(|| Ok(Response::html("<p>h</p>")))),
            200,
            Some("text/html; charset=utf-8"),
            "<p>h</p>",
        ),
        (
            Box::new(respond(|| Ok(Response::json(&[1, 2])?))),
            200,
            Some("application/json"),
            "[1,2]",
        ),
        (
            Box::new(respond(|| Ok(Response::bytes("image/gif", "GIF89a")?))),
            200,
            Some("image/gif"),
            "GIF89a",
        ),
        (
            Box::new(respond(|| Ok(Response::empty(StatusCode::NO_CONTENT)))),
            204,
            None,
            "",
        ),
        (
            Box::new(respond(|| Ok(Response::see_other("/a")?))),
            303,
            None,
            "",
        ),
        (
            Box::new(respond(|| Ok(Response::temporary_redirect("/b")?))),
            307,
            None,
            "",
        ),
        (
            Box::new(respond(|| Ok(Response::permanent_redirect("/c")?))),
            308,
            None,
            "",
        ),
        (
            Box::new(respond(|| {
                Ok(Response::text("gone").with_status(StatusCode::GONE))
            })),
            410,
            Some("text/plain; charset=utf-8"),
            "gone",
        ),
    ];
    for (app, status, content_type, body) in cases {
        let response = run_app(&app, EnvironBuilder::new().build());
        assert_eq!(response.status_code, status, "{body}");
        assert_eq!(response.header("Content-Type"), content_type, "{status}");
        assert_eq!(response.text(), body, "{status}");
    }
    let redirect = run_app(
        &respond(|| Ok(Response::see_other("/next?x=1")?)),
        EnvironBuilder::new().build(),
    );
    assert_eq!(redirect.header("Location"), Some("/next?x=1"));
    // Bad input is an error naming it, never a response with a broken header.
    assert!(Response::bytes("a\nb", "x").is_err());
    assert!(Response::temporary_redirect("/\r\nX: y").is_err());
    assert!(Response::text("x").header("X-Bad", "a\rb").is_err());
    // A value that cannot be JSON: a 500 with the reason kept private.
    let map: std::collections::HashMap<(u8, u8), u8> = [((1, 2), 3)].into();
    let error = Response::json(&map).unwrap_err();
    assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(error.cause().is_some());
    let cookie = Cookie::build(("theme", "dark"))
        .max_age(gateway::cookie::time::Duration::hours(1))
        .build();
    let with_cookie = Response::text("x").set_cookie(&cookie).unwrap();
    assert_eq!(
        with_cookie.headers.get("set-cookie"),
        Some("theme=dark; Max-Age=3600")
    );
}

#[test]
fn http_error_statuses() {
    let cases: Vec<(HttpError, u16, &str)> = vec![
        (
            HttpError::bad_request("field x: missing"),
            400,
            "400 Bad Request: field x: missing\n",
        ),
        (HttpError::not_found(), 404, "404 Not Found\n"),
        (
            HttpError::method_not_allowed(["GET"]),
            405,
            "405 Method Not Allowed\n",
        ),
        (
            HttpError::length_required(),
            411,
            "411 Length Required: the request body needs a Content-Length\n",
        ),
        (
            HttpError::content_too_large(10),
            413,
            "413 Content Too Large: the request body is larger than 10 bytes\n",
        ),
        (
            HttpError::unsupported_media_type("application/json"),
            415,
            "415 Unsupported Media Type: expected a Content-Type of application/json\n",
        ),
        (
            HttpError::unprocessable("age: too young"),
            422,
            "422 Unprocessable Content: age: too young\n",
        ),
        (
            HttpError::from(StatusCode::TOO_MANY_REQUESTS).with_header("Retry-After", "5"),
            429,
            "429 Too Many Requests\n",
        ),
        (
            HttpError::internal("database down"),
            500,
            "500 Internal Server Error\n",
        ),
    ];
    for (error, status, text) in cases {
        let headers = error.headers().to_vec();
        let shared = std::sync::Mutex::new(Some(error));
        let app = app_fn(move |_env, _sr| -> Result<Body, AppError> {
            Err(shared.lock().unwrap().take().expect("called once").into())
        });
        let response = run_app(&app, EnvironBuilder::new().build());
        assert_eq!(response.status_code, status);
        assert_eq!(response.text(), text);
        for (name, value) in &headers {
            assert_eq!(response.header(name), Some(value.as_str()), "{status}");
        }
        if status >= 500 {
            // Logged like any failure (with the private cause), never shown.
            assert!(
                response.errors.contains("database down"),
                "{}",
                response.errors
            );
        } else {
            assert_eq!(response.errors.lines().count(), 1, "{}", response.errors);
        }
    }
    // After the response started, an HttpError cannot change it: the response is cut short.
    let late = app_fn(|_env, sr| -> Result<Body, AppError> {
        sr.start("200 OK", [("Content-Type", "text/plain")])?
            .write(b"partial")?;
        Err(HttpError::bad_request("too late").into())
    });
    let response = run_app(&late, EnvironBuilder::new().build());
    assert_eq!(response.status_code, 200);
    assert_eq!(response.outcome, gateway::handlers::Outcome::Truncated);
    // Errors that are not HttpErrors stay a bare 500.
    let plain = app_fn(|_env, _sr| -> Result<Body, AppError> { Err("secret".into()) });
    let response = run_app(&plain, EnvironBuilder::new().build());
    assert_eq!(response.status_code, 500);
    assert!(!response.text().contains("secret"));
}
