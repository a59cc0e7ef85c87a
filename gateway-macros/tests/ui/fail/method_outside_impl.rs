use gateway::wsgi_app;

struct Pages;

impl Pages {
    #[wsgi_app(GET, "/")]
    fn home(&self) -> &'static str {
        "home"
    }
}

fn main() {}
