use gateway::wsgi_app;

#[wsgi_app(GET, "/users/{id}")]
fn show_user(id: u32, #[param] name: String) -> String {
    format!("{id} {name}")
}

fn main() {}
