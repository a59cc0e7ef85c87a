//! Run with: cargo run --example json_api (then `curl -d '{"name":"pen"}' -H 'Content-Type: application/json' localhost:8000/items`)
//!
//! A small JSON API on plain WSGI: `GET /items`, `POST /items` (201 with `Location`),
//! `GET /items/ID`. Errors are `HttpError`s returned with `?`: 400 for malformed JSON or a
//! bad id, 404, 405 with `Allow`, 413 over 1 KiB, 415 for another content type, 422 for an
//! empty name.

use std::sync::Mutex;

use gateway::{
    App, AppError, Body, Environ, HttpError, Request, Response, StartResponse, StatusCode,
};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Clone, Debug)]
struct Item {
    id: usize,
    name: String,
}

#[derive(Deserialize)]
struct NewItem {
    name: String,
}

/// The API: its items in memory, behind a lock.
#[derive(Default, Debug)]
pub(crate) struct Items(Mutex<Vec<Item>>);

impl App for Items {
    fn call(&self, env: &mut Environ, sr: &mut StartResponse<'_>) -> Result<Body, AppError> {
        let mut request = Request::new(env).with_limit(1024);
        let path = request.path()?.into_owned();
        let response = match (request.method(), path.as_str()) {
            ("GET", "/items") => Response::json(&*self.0.lock().unwrap())?,
            ("POST", "/items") => {
                let new: NewItem = request.json()?;
                if new.name.trim().is_empty() {
                    return Err(HttpError::unprocessable("name: must not be empty").into());
                }
                let mut items = self.0.lock().unwrap();
                let item = Item {
                    id: items.len() + 1,
                    name: new.name,
                };
                items.push(item.clone());
                Response::json(&item)?
                    .with_status(StatusCode::CREATED)
                    .header("Location", format!("/items/{}", item.id))?
            }
            (_, "/items") => return Err(HttpError::method_not_allowed(["GET", "POST"]).into()),
            ("GET", path) => {
                let id = path
                    .strip_prefix("/items/")
                    .ok_or_else(HttpError::not_found)?;
                let id: usize = id
                    .parse()
                    .map_err(|e| HttpError::bad_request(format!("item id {id:?}: {e}")))?;
                let items = self.0.lock().unwrap();
                Response::json(
                    items
                        .get(id.wrapping_sub(1))
                        .ok_or_else(HttpError::not_found)?,
                )?
            }
            _ => return Err(HttpError::not_found().into()),
        };
        response.send(sr)
    }
}

#[allow(dead_code)]
fn main() -> std::io::Result<()> {
    gateway::serve("127.0.0.1:8000", Items::default())
}
