use gateway::wsgi_app;

#[wsgi_app]
fn hello(value: impl gateway::FromEnviron<'static>) -> &'static str {
    let _ = value;
    "hello"
}

fn main() {}
