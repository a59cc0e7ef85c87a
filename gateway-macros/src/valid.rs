//! Checking: everything a user can get wrong becomes a `syn::Error` on the offending token,
//! saying how to fix it. What passes is a plan `expand` turns into code without further
//! questions.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{GenericArgument, LitStr, PathArguments, Signature, Type};

use crate::ast::{Args, Param, Params};

/// The methods a route may name (`ANY`: every method).
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "ANY",
];

/// A checked route: its methods (empty for any) and its matchit pattern.
pub(crate) struct Route {
    pub(crate) methods: Vec<String>,
    pub(crate) pattern: String,
    pub(crate) lit: LitStr,
    /// The parameters the pattern declares, in order (catch-alls without their `*`).
    pub(crate) names: Vec<String>,
}

/// How one handler argument is produced.
pub(crate) enum Binding {
    /// `FromEnviron` for the type.
    Extract(Type),
    /// The route parameter `name`, parsed as the type.
    Param { name: String, ty: Type },
    /// A header: its environ key, its name as written, the type to parse (inside `Option`
    /// when `optional`).
    Header {
        key: String,
        name: String,
        ty: Type,
        optional: bool,
    },
}

/// A checked handler.
pub(crate) struct Handler {
    /// `fn(&mut Environ, &mut StartResponse) -> Result<Body, AppError>`: called as it is.
    pub(crate) raw: bool,
    pub(crate) bindings: Vec<Binding>,
    pub(crate) route: Option<Route>,
}

/// The route of `args` (none when the attribute names none), checked with matchit.
pub(crate) fn route(args: &Args) -> syn::Result<Option<Route>> {
    let Some(lit) = &args.route else {
        if let Some(last) = args.methods.last() {
            return Err(syn::Error::new(
                last.span(),
                format!("a route must follow the methods: #[wsgi_app({last}, \"/path\")]"),
            ));
        }
        return Ok(None);
    };
    if args.methods.is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "name the methods before the route: #[wsgi_app(GET, {:?})] (ANY for every method)",
                lit.value()
            ),
        ));
    }
    let mut methods: Vec<String> = Vec::new();
    let mut any = false;
    for method in &args.methods {
        let name = method.to_string();
        if !METHODS.contains(&name.as_str()) {
            let hint = if METHODS.contains(&name.to_ascii_uppercase().as_str()) {
                format!("methods are upper case: `{}`", name.to_ascii_uppercase())
            } else {
                "use GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS or ANY".to_owned()
            };
            return Err(syn::Error::new(
                method.span(),
                format!("unknown method `{name}`: {hint}"),
            ));
        }
        if methods.contains(&name) || (any && name == "ANY") {
            return Err(syn::Error::new(
                method.span(),
                format!("`{name}` is named twice"),
            ));
        }
        if name == "ANY" {
            any = true;
        } else {
            methods.push(name);
        }
    }
    if any && !methods.is_empty() {
        return Err(syn::Error::new(
            args.methods[0].span(),
            "ANY already answers every method: name either ANY or the methods",
        ));
    }
    let pattern = lit.value();
    let mut table = matchit::Router::new();
    if let Err(error) = table.insert(pattern.as_str(), ()) {
        return Err(syn::Error::new(
            lit.span(),
            format!("invalid route {pattern:?}: {error}"),
        ));
    }
    let names = route_names(&pattern);
    if let Some(bad) = names
        .iter()
        .find(|n| syn::parse_str::<syn::Ident>(n).is_err())
    {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "route parameter `{bad}` cannot bind to a handler parameter: name it like a Rust variable (`{}`)",
                bad.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            ),
        ));
    }
    Ok(Some(Route {
        methods,
        names,
        pattern,
        lit: lit.clone(),
    }))
}

/// The parameter names of a matchit pattern already known to be valid (`{{` and `}}` are
/// escaped braces).
fn route_names(pattern: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        if rest[open + 1..].starts_with('{') {
            rest = &rest[open + 2..];
            continue;
        }
        let after = &rest[open + 1..];
        let close = after.find('}').unwrap_or(after.len());
        names.push(after[..close].trim_start_matches('*').to_owned());
        rest = &after[close.min(after.len())..];
    }
    names
}

/// The signature's shape: synchronous, not generic, a plain Rust function.
pub(crate) fn signature(sig: &Signature) -> syn::Result<()> {
    if let Some(token) = &sig.asyncness {
        return Err(syn::Error::new(
            token.span(),
            "WSGI apps are synchronous: remove `async` (the server runs each request on a worker thread)",
        ));
    }
    if let Some(token) = &sig.constness {
        return Err(syn::Error::new(
            token.span(),
            "a handler cannot be a `const fn`",
        ));
    }
    if let Some(token) = &sig.unsafety {
        return Err(syn::Error::new(
            token.span(),
            "a handler cannot be `unsafe`: the server calls it with no way to uphold a contract",
        ));
    }
    if let Some(abi) = &sig.abi {
        return Err(syn::Error::new(
            abi.span(),
            "a handler cannot have an `extern` ABI",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new(
            variadic.span(),
            "a handler cannot be variadic",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "generic handlers are not supported: the app is one concrete type; name concrete types (`Query<Filter>`) and elided lifetimes (`&Environ`)",
        ));
    }
    for input in &sig.inputs {
        if let syn::FnArg::Typed(typed) = input
            && let Some(span) = impl_trait(&typed.ty)
        {
            return Err(syn::Error::new(
                span,
                "`impl Trait` parameters are generics, which handlers cannot have: name the type",
            ));
        }
    }
    Ok(())
}

/// A return type that borrows from the handler's arguments (`&str`, `&[u8]` without
/// `'static`): the response outlives the call, so it must own its data.
pub(crate) fn owned_return(output: &syn::ReturnType) -> syn::Result<()> {
    if let syn::ReturnType::Type(_, ty) = output
        && let Type::Reference(reference) = &**ty
        && reference
            .lifetime
            .as_ref()
            .is_none_or(|l| l.ident != "static")
    {
        return Err(syn::Error::new(
            ty.span(),
            "a response outlives the handler's borrows: return an owned value (`String`, `Vec<u8>`) or a `&'static` one",
        ));
    }
    Ok(())
}

/// Where `ty` has an `impl Trait` at its top or in a reference.
fn impl_trait(ty: &Type) -> Option<Span> {
    match ty {
        Type::ImplTrait(t) => Some(t.span()),
        Type::Reference(r) => impl_trait(&r.elem),
        Type::Paren(p) => impl_trait(&p.elem),
        _ => None,
    }
}

/// A free function's receiver: there must be none.
pub(crate) fn no_receiver(params: &Params) -> syn::Result<()> {
    match &params.receiver {
        Some(receiver) => Err(syn::Error::new(
            receiver.span(),
            "a method becomes an app through its impl block: put #[wsgi_app] on the `impl` too, and #[wsgi_app(METHOD, \"/path\")] on this method",
        )),
        None => Ok(()),
    }
}

/// No parameter of a function handler has the function's name: that name becomes a unit
/// struct, which a parameter pattern of the same name would be read as.
pub(crate) fn not_named_like(params: &Params, name: &syn::Ident) -> syn::Result<()> {
    match params
        .params
        .iter()
        .filter_map(|p| p.ident.as_ref())
        .find(|ident| *ident == name)
    {
        Some(ident) => Err(syn::Error::new(
            ident.span(),
            format!(
                "a parameter cannot be named like its handler: `{name}` becomes the app's value, so rename the function (`show_{name}`) or the parameter"
            ),
        )),
        None => Ok(()),
    }
}

/// A method's receiver: `&self` or none.
pub(crate) fn shared_receiver(params: &Params) -> syn::Result<()> {
    let Some(receiver) = &params.receiver else {
        return Ok(());
    };
    if receiver.colon_token.is_some() {
        return Err(syn::Error::new(
            receiver.span(),
            "write the receiver as `&self`",
        ));
    }
    if receiver.reference.is_none() {
        return Err(syn::Error::new(
            receiver.span(),
            "take `&self`: one value serves every request, so a handler cannot consume it",
        ));
    }
    if receiver.mutability.is_some() {
        return Err(syn::Error::new(
            receiver.span(),
            "take `&self`: requests run at once on several threads; keep changing state behind a `Mutex` or an atomic",
        ));
    }
    Ok(())
}

/// The handler's bindings: raw WSGI, or one binding per parameter.
pub(crate) fn handler(params: &Params, route: Option<Route>) -> syn::Result<Handler> {
    if is_raw(&params.params) {
        if let Some(route) = &route
            && let Some(name) = route.names.first()
        {
            return Err(syn::Error::new(
                route.lit.span(),
                format!(
                    "a raw WSGI handler takes no route parameters: read `{name}` with `RoutingArgs::of(environ)`, or use extractor parameters"
                ),
            ));
        }
        return Ok(Handler {
            raw: true,
            bindings: Vec::new(),
            route,
        });
    }
    let mut bindings = Vec::new();
    let mut bound: Vec<&str> = Vec::new();
    for param in &params.params {
        let binding = binding(param, route.as_ref())?;
        if let Binding::Param { name, .. } = &binding
            && let Some(route) = &route
            && route.names.contains(name)
        {
            bound.push(
                route
                    .names
                    .iter()
                    .find(|n| *n == name)
                    .map_or("", String::as_str),
            );
        }
        bindings.push(binding);
    }
    if let Some(route) = &route
        && let Some(missing) = route.names.iter().find(|n| !bound.contains(&n.as_str()))
    {
        return Err(syn::Error::new(
            route.lit.span(),
            format!(
                "route parameter `{missing}` has no argument: add a parameter `{missing}: T` (any `T: FromStr`) to the handler"
            ),
        ));
    }
    Ok(Handler {
        raw: false,
        bindings,
        route,
    })
}

/// One parameter's binding.
fn binding(param: &Param, route: Option<&Route>) -> syn::Result<Binding> {
    if let (Some(param_span), Some((_, header_span))) = (param.marked_param, &param.header) {
        let _ = header_span;
        return Err(syn::Error::new(
            param_span,
            "a parameter is either a route parameter (#[param]) or a header (#[header]), not both",
        ));
    }
    if let Some((name, span)) = &param.header {
        let name = match (name, &param.ident) {
            (Some(lit), _) => {
                let name = lit.value();
                if name.is_empty() || !name.bytes().all(is_tchar) {
                    return Err(syn::Error::new(
                        lit.span(),
                        format!(
                            "{name:?} is not a header name (letters, digits and !#$%&'*+-.^_`|~)"
                        ),
                    ));
                }
                name
            }
            (None, Some(ident)) => header_name(&ident.to_string()),
            (None, None) => {
                return Err(syn::Error::new(
                    *span,
                    "name the header: #[header(\"X-Request-Id\")] (this pattern has no name to take it from)",
                ));
            }
        };
        let (ty, optional) = match option_inner(&param.ty) {
            Some(inner) => (inner.clone(), true),
            None => (param.ty.clone(), false),
        };
        return Ok(Binding::Header {
            key: environ_key(&name),
            name,
            ty,
            optional,
        });
    }
    let ident = param.ident.as_ref().map(|i| i.to_string());
    let ident = ident.as_deref().map(|i| i.trim_start_matches("r#"));
    if let Some(span) = param.marked_param {
        let Some(name) = ident else {
            return Err(syn::Error::new(
                span,
                "#[param] needs a plain name (`id: u32`): the name is the route parameter's",
            ));
        };
        if let Some(route) = route
            && !route.names.iter().any(|n| n == name)
        {
            return Err(syn::Error::new(
                param.ident.as_ref().map_or(span, |i| i.span()),
                format!(
                    "route {:?} has no parameter `{name}`: add `{{{name}}}` to the route or rename the argument",
                    route.pattern
                ),
            ));
        }
        return Ok(Binding::Param {
            name: name.to_owned(),
            ty: param.ty.clone(),
        });
    }
    if let (Some(route), Some(name)) = (route, ident)
        && route.names.iter().any(|n| n == name)
    {
        return Ok(Binding::Param {
            name: name.to_owned(),
            ty: param.ty.clone(),
        });
    }
    Ok(Binding::Extract(param.ty.clone()))
}

/// `fn(&mut Environ, &mut StartResponse)`, by the types' last path segments.
fn is_raw(params: &[Param]) -> bool {
    let mut_ref_to = |param: &Param, name: &str| match &param.ty {
        Type::Reference(r) if r.mutability.is_some() => match &*r.elem {
            Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == name),
            _ => false,
        },
        _ => false,
    };
    params.len() == 2
        && params
            .iter()
            .all(|p| p.marked_param.is_none() && p.header.is_none())
        && mut_ref_to(&params[0], "Environ")
        && mut_ref_to(&params[1], "StartResponse")
}

/// `T` when `ty` is `Option<T>`.
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first() {
        Some(GenericArgument::Type(inner)) if args.args.len() == 1 => Some(inner),
        _ => None,
    }
}

/// `user_agent` → `User-Agent`.
fn header_name(ident: &str) -> String {
    ident
        .trim_start_matches("r#")
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The environ variable of a header (`User-Agent` → `HTTP_USER_AGENT`; `Content-Type` and
/// `Content-Length` have their CGI names).
fn environ_key(name: &str) -> String {
    let key = name.to_ascii_uppercase().replace('-', "_");
    match key.as_str() {
        "CONTENT_TYPE" | "CONTENT_LENGTH" => key,
        _ => format!("HTTP_{key}"),
    }
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_routes() {
        assert_eq!(route_names("/users/{id}/posts/{post}"), ["id", "post"]);
        assert_eq!(route_names("/files/{*rest}"), ["rest"]);
        assert_eq!(route_names("/{{literal}}/{x}"), ["x"]);
        assert!(route_names("/plain").is_empty());
    }

    #[test]
    fn header_names() {
        assert_eq!(header_name("user_agent"), "User-Agent");
        assert_eq!(header_name("x_request_id"), "X-Request-Id");
        assert_eq!(environ_key("Content-Type"), "CONTENT_TYPE");
        assert_eq!(environ_key("X-Request-Id"), "HTTP_X_REQUEST_ID");
    }
}
