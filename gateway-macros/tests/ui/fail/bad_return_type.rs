use gateway::wsgi_app;

#[wsgi_app]
fn count() -> u32 {
    7
}

fn main() {}
