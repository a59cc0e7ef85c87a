use gateway::wsgi_app;

#[wsgi_app(GET, "/users/{}")]
fn show_user() -> &'static str {
    "user"
}

fn main() {}
