use heck::ToKebabCase;
use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Error, Fields, ItemStruct};

use crate::docs::doc_text;

struct Events(Vec<ItemStruct>);

impl Parse for Events {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut events = Vec::new();
        while !input.is_empty() {
            events.push(input.parse()?);
        }
        Ok(Self(events))
    }
}

pub fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let Events(events) = syn::parse2(input)?;
    let mut items = Vec::with_capacity(events.len());
    let mut specs = Vec::with_capacity(events.len());
    for event in events {
        let ident = &event.ident;
        let name = ident.to_string().to_kebab_case();
        let listener = format!("on{ident}");
        let docs = doc_text(&event.attrs);
        let (payload, access, ts) = match &event.fields {
            Fields::Unit => (
                quote!(()),
                quote!(&()),
                quote!(::core::option::Option::None),
            ),
            Fields::Unnamed(fields) if fields.unnamed.len() == 1 => {
                let ty = &fields.unnamed[0].ty;
                (
                    quote!(#ty),
                    quote!(&self.0),
                    quote!(::core::option::Option::Some(::agent_desk_ipc::TsType::of::<#ty>())),
                )
            }
            _ => {
                return Err(Error::new_spanned(
                    &event,
                    "an event is a unit struct or a tuple struct of its one payload",
                ))
            }
        };
        items.push(quote! {
            #event

            impl ::agent_desk_ipc::Event for #ident {
                const NAME: &'static str = #name;
                type Payload = #payload;
                fn payload(&self) -> &Self::Payload {
                    #access
                }
            }
        });
        specs.push(quote! {
            ::agent_desk_ipc::EventSpec {
                name: #name,
                listener: #listener,
                docs: #docs,
                payload: #ts,
            }
        });
    }
    Ok(quote! {
        #(#items)*

        /// Every event, in the order defined, as the generator writes them out.
        pub fn event_specs() -> ::std::vec::Vec<::agent_desk_ipc::EventSpec> {
            ::std::vec![#(#specs),*]
        }
    })
}
