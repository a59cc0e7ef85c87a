use gateway::wsgi_app;

#[wsgi_app(GET, "/users/{user-id}")]
fn show_user() -> &'static str {
    "user"
}

fn main() {}
