use gateway::wsgi_app;

#[wsgi_app(GTE, "/")]
fn home() -> &'static str {
    "home"
}

fn main() {}
