//! The generated code names only absolute paths: nothing is imported here.

#[gateway::wsgi_app]
fn hello() -> &'static str {
    "hello"
}

#[gateway::wsgi_app(GET, "/users/{id}")]
fn show_user(id: u32, query: gateway::Query<std::collections::HashMap<String, String>>) -> String {
    format!("{id} {}", query.len())
}

fn main() {
    fn is_app(_: impl gateway::App) {}
    is_app(hello);
    is_app(show_user);
    let routes = gateway::Routes::into_routes(show_user);
    assert_eq!(routes[0].pattern(), "/users/{id}");
}
