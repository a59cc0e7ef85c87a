use gateway::wsgi_app;

struct Pages;

#[wsgi_app]
impl Pages {
    #[wsgi_app(GET, POST, "/")]
    fn home(&self) -> &'static str {
        "home"
    }

    #[wsgi_app(POST, "/")]
    fn submit(&self) -> &'static str {
        "submitted"
    }
}

fn main() {}
