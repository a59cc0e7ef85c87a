//! The in-process test client answers like the server: one table of requests through
//! `gateway::test::run_app` and through the real server over loopback, compared field by
//! field (status, Content-Type, Content-Length, body; nothing for HEAD, 204 and 304).

use std::io::Write as _;

use gateway::test::{EnvironBuilder, run_app};
use gateway::util::FileWrapper;
use gateway::{App, Body, HttpError, Response, StatusCode, app_fn};

mod common;
use common::*;

/// One route per response shape a server frames differently.
fn app(file: std::path::PathBuf) -> impl App {
    app_fn(move |env, sr| {
        let path = env.get("PATH_INFO").unwrap_or("").to_owned();
        match path.as_str() {
            "/text" => Response::text("hello").send(sr),
            "/lazy" => {
                sr.start("200 OK", [("Content-Type", "text/plain")])?;
                Ok(Body::from_iter(["a", "bc", "def"]))
            }
            "/empty" => {
                sr.start("200 OK", [("Content-Type", "text/plain")])?;
                Ok(Body::empty())
            }
            "/204" => {
                sr.start("204 No Content", [("X-A", "1")])?;
                Ok(Body::from("dropped"))
            }
            "/304" => {
                sr.start("304 Not Modified", [("ETag", "\"v\"")])?;
                Ok(Body::from("dropped"))
            }
            "/file" => {
                let file = std::fs::File::open(&file)?;
                sr.start("200 OK", [("Content-Type", "application/octet-stream")])?;
                Ok(Body::file(FileWrapper::with_default_blksize(file)))
            }
            "/response-file" => Response::file(&file)?.send(sr),
            "/json" => Response::json(&serde_json::json!({"a": [1, 2]}))?.send(sr),
            "/see-other" => Response::see_other("/text")?.send(sr),
            "/not-found" => Err(HttpError::not_found().into()),
            "/method" => Err(HttpError::method_not_allowed(["GET", "POST"]).into()),
            "/teapot" => Response::text("short and stout")
                .with_status(StatusCode::IM_A_TEAPOT)
                .send(sr),
            "/fails" => Err("a private failure".into()),
            _ => Err(HttpError::bad_request("unknown route").into()),
        }
    })
}

#[test]
fn test_client_and_server_answer_alike() {
    let dir = std::env::temp_dir().join(format!("gateway-parity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("data.bin");
    std::fs::File::create(&file)
        .unwrap()
        .write_all(&(0..=255u8).cycle().take(10_000).collect::<Vec<u8>>())
        .unwrap();
    let server = start(app(file.clone()), |b| b);
    let paths = [
        "/text",
        "/lazy",
        "/empty",
        "/204",
        "/304",
        "/file",
        "/response-file",
        "/json",
        "/see-other",
        "/not-found",
        "/method",
        "/teapot",
        "/fails",
        "/other",
    ];
    for method in ["GET", "HEAD"] {
        for path in paths {
            let env = EnvironBuilder::new().method(method).path(path).build();
            let memory = run_app(&app(file.clone()), env);
            let request =
                format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            let raw = exchange(server.addr, request);
            let (wire, _) = parse_response(&raw.bytes, method == "HEAD", true)
                .unwrap_or_else(|| panic!("{method} {path}: no response"));
            let what = format!("{method} {path}");
            assert_eq!(memory.status_code, wire.status, "{what}: status");
            assert_eq!(
                memory.header("Content-Type"),
                wire.header("Content-Type"),
                "{what}: type"
            );
            assert_eq!(
                memory.header("Allow"),
                wire.header("Allow"),
                "{what}: Allow"
            );
            assert_eq!(
                memory.header("Location"),
                wire.header("Location"),
                "{what}: Location"
            );
            if wire.header("Transfer-Encoding").is_none() {
                assert_eq!(
                    memory.header("Content-Length"),
                    wire.header("Content-Length"),
                    "{what}: Content-Length"
                );
            }
            assert_eq!(memory.body, wire.body, "{what}: body");
            if method == "HEAD" || matches!(path, "/204" | "/304") {
                assert!(memory.body.is_empty(), "{what}: no body");
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
