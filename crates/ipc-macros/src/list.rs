use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Error, Path, Token};

pub fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let commands = Punctuated::<Path, Token![,]>::parse_terminated.parse2(input)?;
    let mut specs = Vec::with_capacity(commands.len());
    for command in &commands {
        let mut spec = command.clone();
        let Some(last) = spec.segments.last_mut() else {
            return Err(Error::new_spanned(command, "expected a command's path"));
        };
        last.ident = format_ident!("__ipc_spec_{}", last.ident);
        specs.push(spec);
    }
    let commands = commands.iter();
    Ok(quote! {
        /// Hands each call from the web view to its command.
        pub fn invoke_handler<R: ::tauri::Runtime>(
        ) -> impl Fn(::tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
            ::tauri::generate_handler![#(#commands),*]
        }

        /// Every command, in the order listed, as the generator writes them out.
        pub fn command_specs() -> ::std::vec::Vec<::agent_desk_ipc::CommandSpec> {
            ::std::vec![#(#specs()),*]
        }
    })
}
