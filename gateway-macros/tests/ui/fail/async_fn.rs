use gateway::wsgi_app;

#[wsgi_app]
async fn hello() -> &'static str {
    "hello"
}

fn main() {}
