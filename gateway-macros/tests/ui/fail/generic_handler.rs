use gateway::wsgi_app;

#[wsgi_app]
fn hello<T: std::fmt::Display>(value: T) -> String {
    value.to_string()
}

fn main() {}
