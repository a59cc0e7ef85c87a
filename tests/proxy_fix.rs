//! `middleware::ProxyFix` through the test client: trusted hops, spoofed and malformed
//! headers, more hops than trusted, RFC 7239 `Forwarded`, and the URL rebuilt inside.

use gateway::middleware::{ProxyFix, ProxyOriginal};
use gateway::test::{EnvironBuilder, run_app};
use gateway::util::request_uri;
use gateway::{App, Response, app_fn};

/// Answers `REMOTE_ADDR scheme HTTP_HOST SERVER_NAME SERVER_PORT SCRIPT_NAME | request_uri`.
fn report() -> impl App {
    app_fn(|env, sr| {
        let text = format!(
            "{} {} {} {} {} {:?} | {}",
            env.get("REMOTE_ADDR").unwrap_or("-"),
            env.url_scheme(),
            env.get("HTTP_HOST").unwrap_or("-"),
            env.get("SERVER_NAME").unwrap_or("-"),
            env.get("SERVER_PORT").unwrap_or("-"),
            env.get("SCRIPT_NAME").unwrap_or("-"),
            request_uri(env, true)?
        );
        Response::text(text).send(sr)
    })
}

fn run(app: &impl App, headers: &[(&str, &str)]) -> String {
    let mut builder = EnvironBuilder::new()
        .var("REMOTE_ADDR", "10.0.0.2")
        .var("SERVER_PORT", "8000")
        .var("SCRIPT_NAME", "")
        .path("/p");
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    run_app(app, builder.build()).text()
}

const UNTOUCHED: &str = "10.0.0.2 http 127.0.0.1 127.0.0.1 8000 \"\" | http://127.0.0.1/p";

#[test]
fn trusted_hops_spoofing_and_malformed_values() {
    let one = ProxyFix::new(report()).x_host(1).x_port(1).x_prefix(1);
    let two = ProxyFix::new(report()).x_for(2).x_proto(2).x_host(2);
    /// A case's name, the proxy setting, the request's headers, and what the app sees.
    type Case<'a> = (&'a str, &'a dyn App, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case<'_>] = &[
        ("no headers", &one, &[], UNTOUCHED),
        (
            "one proxy, every header",
            &one,
            &[
                ("X-Forwarded-For", "203.0.113.9"),
                ("X-Forwarded-Proto", "https"),
                ("X-Forwarded-Host", "example.org"),
                ("X-Forwarded-Port", "443"),
                ("X-Forwarded-Prefix", "/app/"),
            ],
            "203.0.113.9 https example.org example.org 443 \"/app\" | https://example.org/app/p",
        ),
        (
            "a client's forged entries left of the proxy's are ignored",
            &one,
            &[
                ("X-Forwarded-For", "6.6.6.6, 203.0.113.9"),
                ("X-Forwarded-Proto", "ftp, https"),
            ],
            "203.0.113.9 https 127.0.0.1 127.0.0.1 8000 \"\" | https://127.0.0.1/p",
        ),
        (
            "two trusted proxies take the second from the right",
            &two,
            &[
                ("X-Forwarded-For", "6.6.6.6, 203.0.113.9, 10.0.0.1"),
                ("X-Forwarded-Proto", "http, https, http"),
                ("X-Forwarded-Host", "evil.test, example.org, inner.lan"),
            ],
            "203.0.113.9 https example.org example.org 8000 \"\" | https://example.org/p",
        ),
        (
            "fewer values than trusted hops change nothing",
            &two,
            &[
                ("X-Forwarded-For", "203.0.113.9"),
                ("X-Forwarded-Proto", "https"),
            ],
            UNTOUCHED,
        ),
        (
            "malformed values change nothing",
            &one,
            &[
                ("X-Forwarded-For", "not-an-ip"),
                ("X-Forwarded-Proto", "gopher"),
                ("X-Forwarded-Host", "bad host/x"),
                ("X-Forwarded-Port", "99999"),
                ("X-Forwarded-Prefix", "/a/../admin"),
            ],
            UNTOUCHED,
        ),
        (
            "an IPv6 client with a port, a host with a port",
            &one,
            &[
                ("X-Forwarded-For", "[2001:db8::7]:51000"),
                ("X-Forwarded-Host", "example.org:8443"),
            ],
            "2001:db8::7 http example.org:8443 example.org 8443 \"\" | http://example.org:8443/p",
        ),
    ];
    for (name, app, headers, expected) in cases {
        assert_eq!(run(app, headers), *expected, "{name}");
    }
}

#[test]
fn rfc7239_forwarded() {
    let app = ProxyFix::new(report()).x_for(0).x_proto(0).forwarded(1);
    assert_eq!(
        run(
            &app,
            &[(
                "Forwarded",
                "for=6.6.6.6;proto=http, for=\"203.0.113.9:4711\";proto=https;host=\"example.org\""
            )]
        ),
        "203.0.113.9 https example.org example.org 8000 \"\" | https://example.org/p"
    );
    // Malformed elements and obfuscated identifiers change nothing.
    assert_eq!(
        run(&app, &[("Forwarded", "for=_hidden;proto=spdy")]),
        UNTOUCHED
    );
    assert_eq!(run(&app, &[("Forwarded", "garbage")]), UNTOUCHED);
    // Not trusted at all by default.
    assert_eq!(
        run(
            &ProxyFix::new(report()).x_for(0).x_proto(0),
            &[("Forwarded", "for=1.2.3.4")]
        ),
        UNTOUCHED
    );
}

#[test]
fn originals_are_kept() {
    let app = ProxyFix::new(app_fn(|env, sr| {
        let original = env.extensions().get::<ProxyOriginal>().cloned().unwrap();
        Response::text(format!("{original:?}")).send(sr)
    }))
    .x_host(1);
    let text = run(
        &app,
        &[
            ("X-Forwarded-For", "1.2.3.4"),
            ("X-Forwarded-Host", "example.org"),
        ],
    );
    assert_eq!(
        text,
        "ProxyOriginal { remote_addr: Some(\"10.0.0.2\"), url_scheme: \"http\", http_host: Some(\"127.0.0.1\"), server_name: Some(\"127.0.0.1\"), server_port: Some(\"8000\"), script_name: Some(\"\") }"
    );
}
