use gateway::wsgi_app;

struct Pages;

#[wsgi_app]
impl Pages {
    fn home(&self) -> &'static str {
        "home"
    }
}

fn main() {}
