use gateway::wsgi_app;

struct Users;

#[wsgi_app]
impl Users {
    #[wsgi_app(GET, "/users/{id}")]
    fn by_id(&self, id: u32) -> String {
        id.to_string()
    }

    #[wsgi_app(GET, "/users/{name}")]
    fn by_name(&self, name: String) -> String {
        name
    }
}

fn main() {}
