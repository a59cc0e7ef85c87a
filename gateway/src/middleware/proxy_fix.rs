//! [`ProxyFix`]: trusted reverse-proxy headers into the environ, in the spirit of werkzeug's.

use std::net::IpAddr;

use crate::{App, AppError, Body, Environ, StartResponse};

/// What [`ProxyFix`] changed, as the server set it: in the environ's
/// [`extensions`](Environ::extensions) after a request passed through it (werkzeug keeps the
/// same under `werkzeug.proxy_fix.orig`). `None` for a variable that was not set.
///
/// ```
/// use gateway::{app_fn, Response};
/// use gateway::middleware::{ProxyFix, ProxyOriginal};
/// use gateway::test::{run_app, EnvironBuilder};
///
/// let app = ProxyFix::new(app_fn(|env, sr| {
///     let original = env.extensions().get::<ProxyOriginal>().unwrap();
///     Response::text(format!("{} via {}", env.get("REMOTE_ADDR").unwrap(), original.remote_addr.as_deref().unwrap())).send(sr)
/// }));
/// let env = EnvironBuilder::new().var("REMOTE_ADDR", "10.0.0.2").header("X-Forwarded-For", "203.0.113.9").build();
/// assert_eq!(run_app(&app, env).text(), "203.0.113.9 via 10.0.0.2");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyOriginal {
    /// `REMOTE_ADDR`.
    pub remote_addr: Option<String>,
    /// `wsgi.url_scheme`.
    pub url_scheme: String,
    /// `HTTP_HOST`.
    pub http_host: Option<String>,
    /// `SERVER_NAME`.
    pub server_name: Option<String>,
    /// `SERVER_PORT`.
    pub server_port: Option<String>,
    /// `SCRIPT_NAME`.
    pub script_name: Option<String>,
}

/// Trusts the headers a known number of reverse proxies add, and rewrites the environ to
/// describe the client's request instead of the proxy's: `REMOTE_ADDR` from
/// `X-Forwarded-For`, `wsgi.url_scheme` from `X-Forwarded-Proto`, `HTTP_HOST`,
/// `SERVER_NAME` and `SERVER_PORT` from `X-Forwarded-Host` and `X-Forwarded-Port`,
/// `SCRIPT_NAME` from `X-Forwarded-Prefix`, or all of these from RFC 7239 `Forwarded`.
///
/// Every header is trusted for a number of hops (0 = ignored). Each proxy appends to a
/// header, so with `n` trusted proxies the value that counts is the `n`-th from the right;
/// anything to its left came from the client and may be forged. A header with fewer values
/// than trusted hops, or a value that does not parse (an address that is not an IP, a scheme
/// other than `http`/`https`, a host that is not a host, a port that is not a port, a prefix
/// that is not a path), changes nothing. The values replaced are kept in [`ProxyOriginal`].
///
/// The default trusts one proxy for `X-Forwarded-For` and `X-Forwarded-Proto` (werkzeug's
/// default); put `ProxyFix` only in front of apps that are reachable through the proxies
/// only, since a client that reaches the app directly can send these headers itself.
///
/// ```
/// use gateway::{app_fn, Response};
/// use gateway::middleware::ProxyFix;
/// use gateway::test::{run_app, EnvironBuilder};
/// use gateway::util::request_uri;
///
/// let app = ProxyFix::new(app_fn(|env, sr| Response::text(request_uri(env, true)?).send(sr)))
///     .x_host(1)
///     .x_prefix(1);
/// let env = EnvironBuilder::new()
///     .path("/users")
///     .header("X-Forwarded-Proto", "https")
///     .header("X-Forwarded-Host", "example.org")
///     .header("X-Forwarded-Prefix", "/app")
///     .build();
/// assert_eq!(run_app(&app, env).text(), "https://example.org/app/users");
/// ```
#[derive(Debug, Clone)]
pub struct ProxyFix<A> {
    app: A,
    x_for: usize,
    x_proto: usize,
    x_host: usize,
    x_port: usize,
    x_prefix: usize,
    forwarded: usize,
}

impl<A> ProxyFix<A> {
    /// `app` behind one trusted proxy for `X-Forwarded-For` and `X-Forwarded-Proto`.
    pub fn new(app: A) -> Self {
        ProxyFix {
            app,
            x_for: 1,
            x_proto: 1,
            x_host: 0,
            x_port: 0,
            x_prefix: 0,
            forwarded: 0,
        }
    }

    /// How many proxies set `X-Forwarded-For` (`REMOTE_ADDR`).
    pub fn x_for(mut self, hops: usize) -> Self {
        self.x_for = hops;
        self
    }

    /// How many proxies set `X-Forwarded-Proto` (`wsgi.url_scheme`).
    pub fn x_proto(mut self, hops: usize) -> Self {
        self.x_proto = hops;
        self
    }

    /// How many proxies set `X-Forwarded-Host` (`HTTP_HOST`, `SERVER_NAME`, and
    /// `SERVER_PORT` when the host has a port).
    pub fn x_host(mut self, hops: usize) -> Self {
        self.x_host = hops;
        self
    }

    /// How many proxies set `X-Forwarded-Port` (`SERVER_PORT`, and the port of
    /// `HTTP_HOST`).
    pub fn x_port(mut self, hops: usize) -> Self {
        self.x_port = hops;
        self
    }

    /// How many proxies set `X-Forwarded-Prefix` (`SCRIPT_NAME`: the app is served under
    /// that path).
    pub fn x_prefix(mut self, hops: usize) -> Self {
        self.x_prefix = hops;
        self
    }

    /// How many proxies set RFC 7239 `Forwarded` (its `for`, `proto` and `host`, applied
    /// after the `X-Forwarded-*` headers, so they win where both are trusted).
    ///
    /// ```
    /// use gateway::{app_fn, Response};
    /// use gateway::middleware::ProxyFix;
    /// use gateway::test::{run_app, EnvironBuilder};
    ///
    /// let app = ProxyFix::new(app_fn(|env, sr| {
    ///     Response::text(format!("{} {} {}", env.get("REMOTE_ADDR").unwrap(), env.url_scheme(), env.get("HTTP_HOST").unwrap())).send(sr)
    /// }))
    /// .x_for(0)
    /// .x_proto(0)
    /// .forwarded(1);
    /// let env = EnvironBuilder::new()
    ///     .header("Forwarded", r#"for=1.2.3.4, for="[2001:db8::1]:4711";proto=https;host=example.org"#)
    ///     .build();
    /// assert_eq!(run_app(&app, env).text(), "2001:db8::1 https example.org");
    /// ```
    pub fn forwarded(mut self, hops: usize) -> Self {
        self.forwarded = hops;
        self
    }
}

/// The value `hops` from the right of a comma-separated header, when there are that many.
fn trusted(value: Option<&str>, hops: usize) -> Option<&str> {
    if hops == 0 {
        return None;
    }
    let values: Vec<&str> = value?.split(',').map(str::trim).collect();
    values
        .len()
        .checked_sub(hops)
        .map(|i| values[i])
        .filter(|v| !v.is_empty())
}

/// An IP address, bare, in brackets, or with a port (`1.2.3.4:80`, `[::1]:80`).
fn client_address(value: &str) -> Option<String> {
    let value = value.trim();
    if let Ok(ip) = value.parse::<IpAddr>() {
        return Some(ip.to_string());
    }
    if let Some(rest) = value.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let ip: std::net::Ipv6Addr = inside.parse().ok()?;
        if !after.is_empty() && port(after.strip_prefix(':')?).is_none() {
            return None;
        }
        return Some(ip.to_string());
    }
    let (ip, port_text) = value.rsplit_once(':')?;
    let ip: std::net::Ipv4Addr = ip.parse().ok()?;
    port(port_text)?;
    Some(ip.to_string())
}

fn port(value: &str) -> Option<u16> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().filter(|&p| p > 0)
}

fn scheme(value: &str) -> Option<&'static str> {
    match value.trim().to_ascii_lowercase().as_str() {
        "http" => Some("http"),
        "https" => Some("https"),
        _ => None,
    }
}

/// A host and its `:port`, if it has one (the colons of an IPv6 literal in brackets are not
/// a port's).
fn split_port(value: &str) -> (&str, Option<&str>) {
    match value.rfind(':') {
        Some(i) if !value[i..].contains(']') => (&value[..i], Some(&value[i + 1..])),
        _ => (value, None),
    }
}

/// A `Host` value: its name and its port, if any.
fn host(value: &str) -> Option<(String, Option<u16>)> {
    let value = value.trim();
    if value.is_empty() || !crate::simple_server::valid_host(value.as_bytes()) {
        return None;
    }
    let (name, port_text) = split_port(value);
    if name.is_empty() {
        return None;
    }
    let port = match port_text {
        Some(text) => Some(port(text)?),
        None => None,
    };
    Some((name.to_owned(), port))
}

/// A path prefix: absolute, no control characters, no `.`/`..` segments.
fn prefix(value: &str) -> Option<String> {
    let value = value.trim().trim_end_matches('/');
    if value.is_empty() {
        return Some(String::new());
    }
    let ok = value.starts_with('/')
        && !value.chars().any(|c| c.is_control())
        && !value.split('/').any(|s| s == "." || s == "..");
    ok.then(|| value.to_owned())
}

/// A `Forwarded` header (RFC 7239 §4) as its elements, each a list of (name lower-cased,
/// value unquoted) pairs; `None` when any of it does not parse. A quoted string may only
/// start a value, `\` escapes inside it, and its commas and semicolons are data: a stray
/// quote anywhere makes the whole header untrusted, so no client can hide a proxy's comma.
fn forwarded_elements(value: &str) -> Option<Vec<Vec<(String, String)>>> {
    let mut elements = vec![Vec::new()];
    let mut chars = value.chars().peekable();
    loop {
        // One pair: token "=" ( token / quoted-string ), whitespace around it ignored.
        while chars.next_if(|c| c.is_ascii_whitespace()).is_some() {}
        let mut name = String::new();
        while let Some(c) = chars.next_if(|&c| c != '=' && c != ';' && c != ',') {
            name.push(c);
        }
        let name = name.trim().to_ascii_lowercase();
        let mut value = String::new();
        if chars.next_if_eq(&'=').is_some() {
            let quoted = chars.next_if_eq(&'"').is_some();
            if quoted {
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => value.push(chars.next()?),
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(c) = chars.next_if(|&c| c != ';' && c != ',') {
                    value.push(c);
                }
                value = value.trim().to_owned();
            }
            let token = |t: &str| {
                !t.is_empty()
                    && t.bytes()
                        .all(|b| b.is_ascii_graphic() && !b"\"(),/:;<=>?@[\\]{}".contains(&b))
            };
            if !token(&name) || (!quoted && value.contains('"')) {
                return None;
            }
            elements.last_mut()?.push((name, value));
        } else if !name.is_empty() {
            return None;
        }
        while chars.next_if(|c| c.is_ascii_whitespace()).is_some() {}
        match chars.next() {
            None => break,
            Some(';') => {}
            Some(',') => elements.push(Vec::new()),
            Some(_) => return None,
        }
    }
    Some(elements)
}

/// The `Forwarded` element `hops` from the right.
fn forwarded(value: Option<&str>, hops: usize) -> Option<Vec<(String, String)>> {
    if hops == 0 {
        return None;
    }
    let mut elements = forwarded_elements(value?)?;
    let i = elements.len().checked_sub(hops)?;
    Some(elements.swap_remove(i))
}

impl<A> ProxyFix<A> {
    /// Rewrites `environ` from the trusted headers; records what it replaced.
    fn fix(&self, environ: &mut Environ) {
        let original = ProxyOriginal {
            remote_addr: environ.get("REMOTE_ADDR").map(str::to_owned),
            url_scheme: environ.url_scheme().to_owned(),
            http_host: environ.get("HTTP_HOST").map(str::to_owned),
            server_name: environ.get("SERVER_NAME").map(str::to_owned),
            server_port: environ.get("SERVER_PORT").map(str::to_owned),
            script_name: environ.get("SCRIPT_NAME").map(str::to_owned),
        };
        // Parsed straight from the environ into owned values, before it is changed.
        let get = |key: &str| environ.get(key);
        let mut client = trusted(get("HTTP_X_FORWARDED_FOR"), self.x_for).and_then(client_address);
        let mut proto = trusted(get("HTTP_X_FORWARDED_PROTO"), self.x_proto).and_then(scheme);
        let mut host_port = trusted(get("HTTP_X_FORWARDED_HOST"), self.x_host).and_then(host);
        let forwarded_port = trusted(get("HTTP_X_FORWARDED_PORT"), self.x_port).and_then(port);
        let script = trusted(get("HTTP_X_FORWARDED_PREFIX"), self.x_prefix).and_then(prefix);
        if let Some(element) = forwarded(get("HTTP_FORWARDED"), self.forwarded) {
            for (name, value) in element {
                match name.as_str() {
                    "for" => client = client_address(&value).or(client),
                    "proto" => proto = scheme(&value).or(proto),
                    "host" => host_port = host(&value).or(host_port),
                    _ => {}
                }
            }
        }
        if let Some(client) = client {
            environ.insert("REMOTE_ADDR", client);
        }
        if let Some(proto) = proto {
            environ.set_url_scheme(proto);
        }
        if let Some((name, port)) = host_port {
            let value = match port {
                Some(port) => format!("{name}:{port}"),
                None => name.clone(),
            };
            environ.insert("HTTP_HOST", value);
            environ.insert(
                "SERVER_NAME",
                name.trim_start_matches('[').trim_end_matches(']'),
            );
            if let Some(port) = port {
                environ.insert("SERVER_PORT", port.to_string());
            }
        }
        if let Some(port) = forwarded_port {
            environ.insert("SERVER_PORT", port.to_string());
            if let Some(host) = environ.get("HTTP_HOST").map(str::to_owned) {
                let (name, _) = split_port(&host);
                // The scheme's default port is left out, as a browser leaves it out.
                let default = matches!((environ.url_scheme(), port), ("http", 80) | ("https", 443));
                let value = if default {
                    name.to_owned()
                } else {
                    format!("{name}:{port}")
                };
                environ.insert("HTTP_HOST", value);
            }
        }
        if let Some(script) = script {
            environ.insert("SCRIPT_NAME", script);
        }
        environ.extensions_mut().insert(original);
    }
}

impl<A: App> App for ProxyFix<A> {
    fn call(&self, environ: &mut Environ, sr: &mut StartResponse<'_>) -> Result<Body, AppError> {
        self.fix(environ);
        self.app.call(environ, sr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces() {
        assert_eq!(trusted(Some("a, b, c"), 1), Some("c"));
        assert_eq!(trusted(Some("a, b, c"), 3), Some("a"));
        assert_eq!(trusted(Some("a, b"), 3), None);
        assert_eq!(trusted(Some("a"), 0), None);
        assert_eq!(client_address("1.2.3.4:80").as_deref(), Some("1.2.3.4"));
        assert_eq!(client_address("[::1]:80").as_deref(), Some("::1"));
        assert_eq!(client_address("::1").as_deref(), Some("::1"));
        assert_eq!(client_address("unknown"), None);
        assert_eq!(client_address("1.2.3.4:x"), None);
        assert_eq!(
            host("example.org:8443"),
            Some(("example.org".into(), Some(8443)))
        );
        assert_eq!(host("[::1]:8080"), Some(("[::1]".into(), Some(8080))));
        assert_eq!(host("bad host"), None);
        assert_eq!(host("example.org:99999"), None);
        assert_eq!(prefix("/app/").as_deref(), Some("/app"));
        assert_eq!(prefix("/a/../b"), None);
        assert_eq!(prefix("app"), None);
        assert_eq!(
            forwarded(Some(r#"for=a, for="x,y";proto=HTTPS"#), 1),
            Some(vec![
                ("for".into(), "x,y".into()),
                ("proto".into(), "HTTPS".into())
            ])
        );
        assert_eq!(forwarded(Some("for"), 1), None);
        // A stray quote from the client cannot hide the proxy's comma.
        assert_eq!(
            forwarded(Some(r#"for=6.6.6.6;proto=https;x=a"b, for=10.0.0.1"#), 1),
            None
        );
        assert_eq!(
            forwarded(Some(r#"for="unterminated, for=10.0.0.1"#), 1),
            None
        );
        assert_eq!(
            forwarded(Some(r#"for="a\"b;c", for=10.0.0.1"#), 2),
            Some(vec![("for".into(), "a\"b;c".into())])
        );
        assert_eq!(
            forwarded(Some("for=1.2.3.4 ; proto=http ,for=5.6.7.8"), 2),
            Some(vec![
                ("for".into(), "1.2.3.4".into()),
                ("proto".into(), "http".into())
            ])
        );
    }
}
