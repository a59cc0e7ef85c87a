use gateway::wsgi_app;

#[wsgi_app(GET, POST)]
fn home() -> &'static str {
    "home"
}

fn main() {}
