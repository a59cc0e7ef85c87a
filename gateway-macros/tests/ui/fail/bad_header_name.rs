use gateway::wsgi_app;

#[wsgi_app]
fn hello(#[header("X Request Id")] id: String) -> String {
    id
}

fn main() {}
