use gateway::wsgi_app;

#[wsgi_app(GET, "/users/{id}")]
fn show_user(id: u32, page: u32) -> String {
    format!("{id} {page}")
}

fn main() {}
