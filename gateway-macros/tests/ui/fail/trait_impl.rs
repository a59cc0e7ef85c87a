use gateway::wsgi_app;

struct Pages;

#[wsgi_app]
impl Default for Pages {
    fn default() -> Self {
        Pages
    }
}

fn main() {}
