use std::collections::HashMap;

use gateway::{Bytes, Environ, Form, Json, Method, Query, RoutingArgs, Text, wsgi_app};

#[derive(serde::Deserialize, serde::Serialize)]
struct Item {
    name: String,
}

#[wsgi_app]
fn parts(
    _environ: &Environ,
    _method: Method,
    _query: Query<HashMap<String, String>>,
    _args: &RoutingArgs,
    _owned_args: RoutingArgs,
    #[header] _user_agent: Option<String>,
    #[header("X-Count")] _count: u64,
    #[param] _id: u32,
) -> &'static str {
    "parts"
}

#[wsgi_app]
fn text_body(Text(_text): Text) {}

#[wsgi_app]
fn bytes_body(Bytes(_bytes): Bytes) {}

#[wsgi_app]
fn form_body(Form(_item): Form<Item>) {}

#[wsgi_app]
fn json_body(Json(item): Json<Item>) -> Json<Item> {
    Json(item)
}

fn main() {
    let _ = (parts, text_body, bytes_body, form_body, json_body);
}
