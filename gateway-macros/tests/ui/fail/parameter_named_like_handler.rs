use gateway::wsgi_app;

#[wsgi_app(GET, "/repos/{repo}")]
fn repo(repo: String) -> String {
    repo
}

fn main() {}
