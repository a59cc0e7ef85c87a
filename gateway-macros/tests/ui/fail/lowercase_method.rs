use gateway::wsgi_app;

#[wsgi_app(get, "/")]
fn home() -> &'static str {
    "home"
}

fn main() {}
