//! Expansion: checked handlers into plain `App` impls. Generated code names only absolute
//! paths into `::gateway::__private` (which re-exports what it needs) and `::std`, so it
//! compiles whatever the user imported or named alike.

use proc_macro2::{Group, Ident, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, ReturnType, Type};

use crate::valid::{Binding, Handler, Route};

/// How the generated `call` reaches the handler.
pub(crate) enum Callee<'a> {
    /// `Self::handler(...)` on the generated unit struct.
    Function,
    /// `self.0.name(...)` (a `&self` method) or `<Ty>::name(...)` on the impl's type.
    Method {
        name: &'a Ident,
        receiver: bool,
        self_ty: &'a Type,
    },
}

/// The body of `App::call` for `handler`.
pub(crate) fn call_body(
    handler: &Handler,
    callee: &Callee<'_>,
    output: &ReturnType,
    self_ty: Option<&Type>,
) -> TokenStream {
    let function = match callee {
        Callee::Function => quote!(Self::handler),
        Callee::Method {
            name,
            receiver: true,
            ..
        } => quote!(self.0.#name),
        Callee::Method {
            name,
            receiver: false,
            self_ty,
        } => quote!(<#self_ty>::#name),
    };
    if handler.raw {
        return quote! { #function(__wsgi_environ, __wsgi_start_response) };
    }
    let mut takes = Vec::new();
    let mut finishes = Vec::new();
    let mut args = Vec::new();
    for (i, binding) in handler.bindings.iter().enumerate() {
        let arg = format_ident!("__wsgi_arg_{}", i);
        match binding {
            Binding::Extract(ty) => {
                let ty = replace_self(ty, self_ty);
                let span = ty.span();
                // The type's span, so that an error about what was taken points at the type
                // (once), not at the attribute.
                let taken = Ident::new(&format!("__wsgi_taken_{i}"), span);
                takes.push(quote_spanned! {span=>
                    let #taken = <#ty as ::gateway::__private::FromEnviron<'_>>::take(__wsgi_environ)?;
                });
                finishes.push(quote_spanned! {span=>
                    let #arg = <#ty as ::gateway::__private::FromEnviron<'_>>::finish(#taken, __wsgi_environ);
                });
            }
            Binding::Param { name, ty } => {
                let ty = replace_self(ty, self_ty);
                let span = ty.span();
                takes.push(quote_spanned! {span=>
                    let #arg: #ty = ::gateway::__private::route_param::<#ty>(__wsgi_environ, #name)?;
                });
            }
            Binding::Header {
                key,
                name,
                ty,
                optional,
            } => {
                let ty = replace_self(ty, self_ty);
                let span = ty.span();
                let value = quote_spanned! {span=>
                    ::gateway::__private::header::<#ty>(__wsgi_environ, #key, #name)?
                };
                takes.push(if *optional {
                    quote_spanned! {span=> let #arg: ::std::option::Option<#ty> = #value; }
                } else {
                    quote_spanned! {span=>
                        let #arg: #ty = ::gateway::__private::required(#value, #name)?;
                    }
                });
            }
        }
        args.push(arg);
    }
    let respond_span = match output {
        ReturnType::Default => Span::call_site(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    let respond = quote_spanned! {respond_span=>
        ::gateway::__private::respond(__wsgi_value, __wsgi_start_response)
    };
    quote! {
        #(#takes)*
        let __wsgi_environ: &::gateway::__private::Environ = __wsgi_environ;
        #(#finishes)*
        let __wsgi_value = #function(#(#args),*);
        #respond
    }
}

/// `fn call(...)` of an `App` impl around `body`.
fn app_call(body: TokenStream) -> TokenStream {
    quote! {
        // What a borrowed extractor takes is `()`; the handler's value may be `()`.
        #[allow(clippy::let_unit_value, clippy::unit_arg)]
        fn call(
            &self,
            __wsgi_environ: &mut ::gateway::__private::Environ,
            __wsgi_start_response: &mut ::gateway::__private::StartResponse<'_>,
        ) -> ::std::result::Result<::gateway::__private::Body, ::gateway::__private::AppError> {
            #body
        }
    }
}

/// `Route::new(&[methods], "pattern", app)`.
fn route_new(route: &Route, app: TokenStream) -> TokenStream {
    let methods = &route.methods;
    let pattern = &route.pattern;
    quote! { ::gateway::__private::Route::new(&[#(#methods),*], #pattern, #app) }
}

/// A function: a unit struct of its name that is an `App` (and, with a route, `Routes`),
/// the function itself kept as its associated `handler`.
pub(crate) fn function(item: ItemFn, handler: &Handler) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = item;
    let name = sig.ident.clone();
    sig.ident = Ident::new("handler", sig.ident.span());
    let (docs, other): (Vec<_>, Vec<_>) = attrs.into_iter().partition(|a| a.path().is_ident("doc"));
    let body = call_body(handler, &Callee::Function, &sig.output, None);
    let call = app_call(body);
    let routes = handler.route.as_ref().map(|route| {
        let new = route_new(route, quote!(self));
        quote! {
            impl ::gateway::__private::Routes for #name {
                fn into_routes(self) -> ::std::vec::Vec<::gateway::__private::Route> {
                    ::std::vec![#new]
                }
            }
        }
    });
    // A unit struct of the function's name: a value `serve(name)` takes and a type
    // `name::handler(...)` names (the way actix-web's route macros do it).
    quote! {
        #(#docs)*
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, Default)]
        #vis struct #name;

        impl #name {
            /// The handler as written, callable directly (in unit tests, for example).
            #(#other)*
            #[allow(clippy::too_many_arguments)]
            #vis #sig #block
        }

        impl ::gateway::__private::App for #name {
            #call
        }

        #routes
    }
}

/// One routed method of an impl block.
pub(crate) struct RoutedMethod {
    pub(crate) name: Ident,
    pub(crate) receiver: bool,
    pub(crate) output: ReturnType,
    pub(crate) handler: Handler,
}

/// An impl block: the block as written (its marks removed), then in an anonymous scope one
/// `App` per routed method over an `Arc` of the value, and `Routes` for the type.
pub(crate) fn impl_block(
    item: &syn::ItemImpl,
    self_ty: &Type,
    methods: &[RoutedMethod],
) -> TokenStream {
    let mut apps = Vec::new();
    let mut routes = Vec::new();
    for method in methods {
        let app = format_ident!("__WsgiApp_{}", method.name);
        let callee = Callee::Method {
            name: &method.name,
            receiver: method.receiver,
            self_ty,
        };
        let call = app_call(call_body(
            &method.handler,
            &callee,
            &method.output,
            Some(self_ty),
        ));
        apps.push(quote! {
            #[allow(non_camel_case_types)]
            struct #app(::std::sync::Arc<#self_ty>);

            impl ::gateway::__private::App for #app {
                #call
            }
        });
        if let Some(route) = &method.handler.route {
            routes.push(route_new(
                route,
                quote!(#app(::std::sync::Arc::clone(&__wsgi_this))),
            ));
        }
    }
    quote! {
        #item

        const _: () = {
            #(#apps)*

            impl ::gateway::__private::Routes for #self_ty {
                fn into_routes(self) -> ::std::vec::Vec<::gateway::__private::Route> {
                    let __wsgi_this = ::std::sync::Arc::new(self);
                    ::std::vec![#(#routes),*]
                }
            }
        };
    }
}

/// `ty` with every `Self` replaced by `self_ty` (a method's types, used outside its impl).
fn replace_self(ty: &Type, self_ty: Option<&Type>) -> TokenStream {
    let tokens = ty.to_token_stream();
    match self_ty {
        Some(self_ty) => replace(tokens, &self_ty.to_token_stream()),
        None => tokens,
    }
}

fn replace(tokens: TokenStream, with: &TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .flat_map(|tree| -> Vec<TokenTree> {
            match tree {
                TokenTree::Ident(ident) if ident == "Self" => with.clone().into_iter().collect(),
                TokenTree::Group(group) => {
                    let mut new = Group::new(group.delimiter(), replace(group.stream(), with));
                    new.set_span(group.span());
                    vec![TokenTree::Group(new)]
                }
                other => vec![other],
            }
        })
        .collect()
}
