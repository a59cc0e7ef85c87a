use gateway::wsgi_app;

#[wsgi_app("/home")]
fn home() -> &'static str {
    "home"
}

fn main() {}
