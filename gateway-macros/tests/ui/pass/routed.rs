use gateway::{wsgi_app, Routes};

#[wsgi_app(GET, HEAD, "/orgs/{org}/repos/{repo}")]
fn show_repo(org: String, repo: String) -> String {
    format!("{org}/{repo}")
}

#[wsgi_app(ANY, "/files/{*rest}")]
fn files(rest: String) -> String {
    rest
}

#[wsgi_app(GET, "/{{literal}}/{id}")]
fn escaped(id: u8) -> String {
    id.to_string()
}

fn main() {
    assert_eq!(show_repo.into_routes()[0].methods(), ["GET", "HEAD"]);
    assert!(files.into_routes()[0].methods().is_empty());
    assert_eq!(escaped.into_routes()[0].pattern(), "/{{literal}}/{id}");
    assert_eq!(show_repo::handler("a".into(), "b".into()), "a/b");
}
