use gateway::wsgi_app;

#[wsgi_app(GET, "/users/{id}/posts/{post}")]
fn show_post(id: u32) -> String {
    id.to_string()
}

fn main() {}
