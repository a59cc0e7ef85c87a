//! Parsing: the attribute's arguments and the item it is on, into plain structs. Nothing
//! here decides whether the input makes sense; `valid` does.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, FnArg, Ident, LitStr, Pat, Token, Type};

/// `#[wsgi_app]`, `#[wsgi_app(GET, POST, "/path")]`: methods, then an optional route.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) methods: Vec<Ident>,
    pub(crate) route: Option<LitStr>,
    /// The tokens' span, for errors about the whole attribute.
    pub(crate) span: Option<Span>,
}

/// One argument of the attribute.
enum Arg {
    Method(Ident),
    Route(LitStr),
}

impl Parse for Arg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(LitStr) {
            return Ok(Arg::Route(input.parse()?));
        }
        if input.peek(Ident) {
            return Ok(Arg::Method(input.parse()?));
        }
        Err(input.error("expected an HTTP method or a route: #[wsgi_app(GET, \"/users/{id}\")]"))
    }
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args {
            span: (!input.is_empty()).then(|| input.span()),
            ..Args::default()
        };
        let list = Punctuated::<Arg, Token![,]>::parse_terminated(input)?;
        for arg in list {
            match arg {
                Arg::Method(method) => {
                    if let Some(route) = &args.route {
                        return Err(syn::Error::new(
                            method.span(),
                            format!(
                                "the methods come before the route: #[wsgi_app({method}, {:?})]",
                                route.value()
                            ),
                        ));
                    }
                    args.methods.push(method);
                }
                Arg::Route(route) => {
                    if args.route.is_some() {
                        return Err(syn::Error::new(
                            route.span(),
                            "one route per handler: declare another handler for another path",
                        ));
                    }
                    args.route = Some(route);
                }
            }
        }
        Ok(args)
    }
}

/// One parameter of a handler, its attributes parsed and removed.
pub(crate) struct Param {
    pub(crate) ty: Type,
    /// The identifier, when the pattern is one (`id`, `mut id`).
    pub(crate) ident: Option<Ident>,
    /// Set by `#[param]`.
    pub(crate) marked_param: Option<Span>,
    /// Set by `#[header]` / `#[header("X-Name")]`: the name, if given.
    pub(crate) header: Option<(Option<LitStr>, Span)>,
}

/// The parameters of a signature: a receiver (if any) and the rest.
pub(crate) struct Params {
    pub(crate) receiver: Option<syn::Receiver>,
    pub(crate) params: Vec<Param>,
}

/// Splits a signature's inputs, taking `#[param]` and `#[header]` off each one (they are
/// not real attributes and must not reach the compiler).
pub(crate) fn params(inputs: &mut Punctuated<FnArg, Token![,]>) -> syn::Result<Params> {
    let mut receiver = None;
    let mut params = Vec::new();
    for input in inputs.iter_mut() {
        match input {
            FnArg::Receiver(r) => receiver = Some(r.clone()),
            FnArg::Typed(typed) => {
                let (marked_param, header) = take_param_attrs(&mut typed.attrs)?;
                let ident = match &*typed.pat {
                    Pat::Ident(pat) if pat.subpat.is_none() => Some(pat.ident.clone()),
                    _ => None,
                };
                params.push(Param {
                    ty: (*typed.ty).clone(),
                    ident,
                    marked_param,
                    header,
                });
            }
        }
    }
    Ok(Params { receiver, params })
}

/// The `#[param]` / `#[header(...)]` marks among `attrs`, removed from them.
#[allow(clippy::type_complexity)]
fn take_param_attrs(
    attrs: &mut Vec<Attribute>,
) -> syn::Result<(Option<Span>, Option<(Option<LitStr>, Span)>)> {
    let mut marked_param = None;
    let mut header = None;
    let mut kept = Vec::new();
    for attr in attrs.drain(..) {
        let path = attr.path();
        if path.is_ident("param") {
            attr.meta.require_path_only()?;
            marked_param = Some(path_span(&attr));
        } else if path.is_ident("header") {
            let name = match &attr.meta {
                syn::Meta::Path(_) => None,
                syn::Meta::List(_) => Some(attr.parse_args::<LitStr>().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "expected a header name: #[header(\"X-Request-Id\")]",
                    )
                })?),
                syn::Meta::NameValue(nv) => {
                    return Err(syn::Error::new_spanned(
                        nv,
                        "write the header name in parentheses: #[header(\"X-Request-Id\")]",
                    ));
                }
            };
            header = Some((name, path_span(&attr)));
        } else {
            kept.push(attr);
        }
    }
    *attrs = kept;
    Ok((marked_param, header))
}

fn path_span(attr: &Attribute) -> Span {
    attr.path()
        .get_ident()
        .map_or_else(Span::call_site, Ident::span)
}

/// The `#[wsgi_app(...)]` attributes among a method's `attrs`, removed from them.
pub(crate) fn take_route_attrs(attrs: &mut Vec<Attribute>) -> syn::Result<Vec<(Args, Span)>> {
    let mut found = Vec::new();
    let mut kept = Vec::new();
    for attr in attrs.drain(..) {
        if attr.path().is_ident("wsgi_app") {
            let span = path_span(&attr);
            let args = match &attr.meta {
                syn::Meta::Path(_) => Args::default(),
                _ => attr.parse_args::<Args>()?,
            };
            found.push((args, span));
        } else {
            kept.push(attr);
        }
    }
    *attrs = kept;
    Ok(found)
}
