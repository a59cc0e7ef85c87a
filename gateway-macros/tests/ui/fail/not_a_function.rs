use gateway::wsgi_app;

#[wsgi_app]
struct Hello;

fn main() {}
