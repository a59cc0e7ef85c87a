use gateway::wsgi_app;

struct Counter {
    hits: u64,
}

#[wsgi_app]
impl Counter {
    #[wsgi_app(POST, "/")]
    fn hit(&mut self) -> String {
        self.hits += 1;
        self.hits.to_string()
    }
}

fn main() {}
