//! Procedural macros for `gateway`: `#[wsgi_app]`. Use them through `gateway` (it
//! re-exports them); the generated code names `::gateway` paths only.
//!
//! The macro is organised in three steps: `ast` parses the attribute and the item,
//! `valid` checks them (every mistake a `syn::Error` on the offending token), and
//! `expand` writes the `App` impls.

use proc_macro::TokenStream;
use syn::{ImplItem, Item, ItemFn, ItemImpl, parse_macro_input};

mod ast;
mod expand;
mod valid;

/// Turns a function, or the methods of an impl block, into WSGI apps.
///
/// See the `gateway` crate's documentation of `wsgi_app` for the forms and examples.
#[proc_macro_attribute]
pub fn wsgi_app(attr: TokenStream, item: TokenStream) -> TokenStream {
    let args = parse_macro_input!(attr as ast::Args);
    let item = parse_macro_input!(item as Item);
    let expanded = match item {
        Item::Fn(function) => expand_function(&args, function),
        Item::Impl(block) => expand_impl(&args, block),
        other => Err(syn::Error::new_spanned(
            item_head(&other),
            "#[wsgi_app] goes on a function (`fn hello() -> &'static str`) or on an impl block whose methods have #[wsgi_app(METHOD, \"/path\")]",
        )),
    };
    expanded
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// The tokens of an item up to its body, for an error that does not cover the whole item.
fn item_head(item: &Item) -> proc_macro2::TokenStream {
    use quote::ToTokens;
    match item {
        Item::Struct(s) => {
            let (s_token, ident) = (&s.struct_token, &s.ident);
            quote::quote!(#s_token #ident)
        }
        Item::Enum(e) => {
            let (e_token, ident) = (&e.enum_token, &e.ident);
            quote::quote!(#e_token #ident)
        }
        other => other.to_token_stream(),
    }
}

fn expand_function(
    args: &ast::Args,
    mut function: ItemFn,
) -> syn::Result<proc_macro2::TokenStream> {
    let params = ast::params(&mut function.sig.inputs)?;
    valid::signature(&function.sig)?;
    valid::owned_return(&function.sig.output)?;
    valid::no_receiver(&params)?;
    valid::not_named_like(&params, &function.sig.ident)?;
    let route = valid::route(args)?;
    let handler = valid::handler(&params, route)?;
    Ok(expand::function(function, &handler))
}

fn expand_impl(args: &ast::Args, mut block: ItemImpl) -> syn::Result<proc_macro2::TokenStream> {
    if let Some(span) = args.span {
        return Err(syn::Error::new(
            span,
            "on an impl block #[wsgi_app] takes no arguments: put #[wsgi_app(METHOD, \"/path\")] on its methods",
        ));
    }
    if let Some((_, path, _)) = &block.trait_ {
        return Err(syn::Error::new_spanned(
            path,
            "#[wsgi_app] goes on an inherent impl block (`impl Guestbook`), not a trait impl",
        ));
    }
    if !block.generics.params.is_empty() || block.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &block.generics,
            "a generic impl block cannot be an app: implement it for one concrete type",
        ));
    }
    let self_ty = (*block.self_ty).clone();
    // Parse and check every method first; the checked plans borrow nothing from the block,
    // which is then emitted with the marks removed.
    let mut plans = Vec::new();
    let mut table: Vec<(String, Vec<String>, String)> = Vec::new();
    let mut checker = matchit::Router::new();
    for item in &mut block.items {
        let ImplItem::Fn(method) = item else { continue };
        let mut marks = ast::take_route_attrs(&mut method.attrs)?;
        if marks.is_empty() {
            continue;
        }
        if marks.len() > 1 {
            return Err(syn::Error::new(
                marks[1].1,
                "one route per handler: write another method for another route",
            ));
        }
        let (mark, mark_span) = marks.remove(0);
        let params = ast::params(&mut method.sig.inputs)?;
        valid::signature(&method.sig)?;
        valid::owned_return(&method.sig.output)?;
        valid::shared_receiver(&params)?;
        let Some(route) = valid::route(&mark)? else {
            return Err(syn::Error::new(
                mark_span,
                "a method needs its route: #[wsgi_app(GET, \"/path\")]",
            ));
        };
        let name = method.sig.ident.to_string();
        // The routes of one block are one table: conflicts and repeated methods are found
        // here, with the method they clash with named.
        if let Some((_, methods, other)) = table.iter_mut().find(|(p, _, _)| *p == route.pattern) {
            let clash = route
                .methods
                .iter()
                .find(|m| methods.contains(m) || methods.is_empty())
                .or((route.methods.is_empty()).then_some(&route.pattern));
            if clash.is_some() {
                return Err(syn::Error::new(
                    route.lit.span(),
                    format!(
                        "{} {} is already routed to `{other}`",
                        if route.methods.is_empty() {
                            "ANY".to_owned()
                        } else {
                            route.methods.join(", ")
                        },
                        route.pattern
                    ),
                ));
            }
            methods.extend(route.methods.iter().cloned());
        } else {
            if let Err(error) = checker.insert(route.pattern.as_str(), name.clone()) {
                let message = match error {
                    matchit::InsertError::Conflict { with } => {
                        let owner = table
                            .iter()
                            .find(|(p, _, _)| *p == with)
                            .map_or(String::new(), |(_, _, o)| format!(" of `{o}`"));
                        format!(
                            "route {:?} conflicts with route {with:?}{owner}: both would match the same paths",
                            route.pattern
                        )
                    }
                    other => format!("invalid route {:?}: {other}", route.pattern),
                };
                return Err(syn::Error::new(route.lit.span(), message));
            }
            table.push((route.pattern.clone(), route.methods.clone(), name));
        }
        let receiver = params.receiver.is_some();
        let handler = valid::handler(&params, Some(route))?;
        plans.push(expand::RoutedMethod {
            name: method.sig.ident.clone(),
            receiver,
            output: method.sig.output.clone(),
            handler,
        });
    }
    if plans.is_empty() {
        return Err(syn::Error::new_spanned(
            &block.self_ty,
            "no method of this impl block has #[wsgi_app(METHOD, \"/path\")]: mark the handlers",
        ));
    }
    Ok(expand::impl_block(&block, &self_ty, &plans))
}
