use heck::{ToKebabCase, ToLowerCamelCase};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::ext::IdentExt;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Attribute, Error, Expr, ExprLit, FnArg, GenericArgument, ItemFn, Lit, Pat, PathArguments,
    ReturnType, Token, Type,
};

use crate::docs::doc_text;

/// Arguments Tauri fills in itself; the UI never passes them.
const INJECTED: &[&str] = &["State", "AppHandle", "Window", "Webview", "WebviewWindow"];

/// Names a wrapper's parameter cannot have: words JavaScript reserves, and the names the
/// generated wrappers use themselves.
const UNUSABLE: &[&str] = &[
    "arguments",
    "await",
    "break",
    "call",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "eval",
    "event",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "handler",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "listen",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Argument,
    Header,
    Body,
}

pub fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    if !attr.is_empty() {
        return Err(Error::new_spanned(attr, "#[command] takes no arguments"));
    }
    let mut function: ItemFn = syn::parse2(item)?;
    let name = function.sig.ident.clone();
    let docs = doc_text(&function.attrs);

    let mut params = Vec::new();
    let mut roles = Vec::new();
    let mut raw_reads = Vec::new();
    let mut inputs: Punctuated<FnArg, Token![,]> = Punctuated::new();
    for input in std::mem::take(&mut function.sig.inputs) {
        let FnArg::Typed(mut typed) = input else {
            return Err(Error::new_spanned(input, "a command takes no `self`"));
        };
        let role = take_role(&mut typed.attrs)?;
        let ts_override = take_ts_type(&mut typed.attrs)?;
        if role == Role::Argument && injected(&typed.ty) {
            inputs.push(FnArg::Typed(typed));
            continue;
        }
        if role == Role::Argument && last_segment(&typed.ty).as_deref() == Some("Request") {
            return Err(Error::new_spanned(
                &typed.ty,
                "take the raw body and headers as `#[ipc(body)]` and `#[ipc(header)]` arguments, \
                 so the UI's wrapper is generated with them",
            ));
        }
        let Pat::Ident(pattern) = typed.pat.as_ref() else {
            return Err(Error::new_spanned(&typed.pat, "name each argument"));
        };
        let ident = pattern.ident.clone();
        let rust_name = ident.unraw().to_string();
        let key = rust_name.to_lower_camel_case();
        if UNUSABLE.contains(&key.as_str()) {
            return Err(Error::new_spanned(
                &pattern.ident,
                format!("`{key}` cannot name a parameter of the TypeScript wrapper; choose another name"),
            ));
        }
        roles.push((role, pattern.ident.clone()));
        let ty = typed.ty.clone();
        let ts = match (&ts_override, role) {
            (Some(written), _) => quote!(::agent_desk_ipc::TsType::written(#written)),
            (None, Role::Body) => quote!(::agent_desk_ipc::TsType::written("Uint8Array")),
            (None, _) => quote!(::agent_desk_ipc::TsType::of::<#ty>()),
        };
        let kind = match role {
            Role::Argument => quote!(::agent_desk_ipc::ParamKind::Argument),
            Role::Header => {
                let header = rust_name.to_kebab_case();
                quote!(::agent_desk_ipc::ParamKind::Header(#header))
            }
            Role::Body => quote!(::agent_desk_ipc::ParamKind::Body),
        };
        params.push(quote!(::agent_desk_ipc::Param { name: #key, kind: #kind, ts: #ts }));
        match role {
            Role::Argument => inputs.push(FnArg::Typed(typed)),
            Role::Header => {
                let header = rust_name.to_kebab_case();
                raw_reads.push(quote! {
                    let #ident: #ty = ::agent_desk_ipc::raw::header(&__ipc_request, #header)?;
                });
            }
            Role::Body => raw_reads.push(quote! {
                let #ident: #ty = ::agent_desk_ipc::raw::body(&__ipc_request, #rust_name)?;
            }),
        }
    }
    check_raw(&roles)?;
    if !raw_reads.is_empty() {
        inputs.push(syn::parse_quote!(__ipc_request: ::tauri::ipc::Request<'_>));
        let mut statements = Vec::new();
        for read in raw_reads {
            statements.push(syn::parse2(read)?);
        }
        statements.append(&mut function.block.stmts);
        function.block.stmts = statements;
    }
    function.sig.inputs = inputs;

    let returns = match &function.sig.output {
        ReturnType::Default => quote!(::core::option::Option::None),
        ReturnType::Type(_, ty) => {
            let ok = ok_type(ty);
            if matches!(ok, Type::Tuple(tuple) if tuple.elems.is_empty()) {
                quote!(::core::option::Option::None)
            } else {
                quote!(::core::option::Option::Some(::agent_desk_ipc::TsType::of::<#ok>()))
            }
        }
    };
    let spec = format_ident!("__ipc_spec_{}", name);
    let visibility = &function.vis;
    let wire_name = name.unraw().to_string();
    // Named as Tauri names the arguments: heck's camelCase.
    let method = wire_name.to_lower_camel_case();
    Ok(quote! {
        #[::tauri::command]
        #function

        #[doc(hidden)]
        #visibility fn #spec() -> ::agent_desk_ipc::CommandSpec {
            ::agent_desk_ipc::CommandSpec {
                name: #wire_name,
                method: #method,
                docs: #docs,
                params: ::std::vec![#(#params),*],
                returns: #returns,
            }
        }
    })
}

/// A raw call carries one body, its bytes, and everything else in headers: Tauri reads
/// no JSON arguments from it.
fn check_raw(roles: &[(Role, syn::Ident)]) -> syn::Result<()> {
    let bodies = roles.iter().filter(|(role, _)| *role == Role::Body).count();
    let raw = roles.iter().any(|(role, _)| *role != Role::Argument);
    if !raw {
        return Ok(());
    }
    if bodies != 1 {
        let (_, first) = &roles[0];
        return Err(Error::new_spanned(
            first,
            "a command with `#[ipc(header)]` or `#[ipc(body)]` arguments takes exactly one `#[ipc(body)]`",
        ));
    }
    if let Some((_, plain)) = roles.iter().find(|(role, _)| *role == Role::Argument) {
        return Err(Error::new_spanned(
            plain,
            "a command with a raw body takes its other arguments as `#[ipc(header)]`",
        ));
    }
    Ok(())
}

fn last_segment(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        Type::Reference(reference) => last_segment(&reference.elem),
        _ => None,
    }
}

fn injected(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|name| INJECTED.contains(&name.as_str()))
}

/// What the UI receives: `T` of a `Result<T, E>`, else the type itself.
fn ok_type(ty: &Type) -> &Type {
    if let Type::Path(path) = ty {
        if let Some(segment) = path.path.segments.last() {
            if segment.ident == "Result" {
                if let PathArguments::AngleBracketed(arguments) = &segment.arguments {
                    if let Some(GenericArgument::Type(ok)) = arguments.args.first() {
                        return ok;
                    }
                }
            }
        }
    }
    ty
}

/// Takes the `#[name(…)]` attributes off an argument, each item read by `read`.
fn take_attribute(
    attrs: &mut Vec<Attribute>,
    name: &str,
    mut read: impl FnMut(syn::meta::ParseNestedMeta) -> syn::Result<()>,
) -> syn::Result<()> {
    let mut result = Ok(());
    attrs.retain(|attr| {
        if !attr.path().is_ident(name) {
            return true;
        }
        if let Err(error) = attr.parse_nested_meta(&mut read) {
            result = Err(error);
        }
        false
    });
    result
}

/// Takes `#[ipc(body)]` or `#[ipc(header)]` off an argument.
fn take_role(attrs: &mut Vec<Attribute>) -> syn::Result<Role> {
    let mut role = Role::Argument;
    take_attribute(attrs, "ipc", |meta| {
        if meta.path.is_ident("body") {
            role = Role::Body;
        } else if meta.path.is_ident("header") {
            role = Role::Header;
        } else {
            return Err(meta.error("expected `body` or `header`"));
        }
        Ok(())
    })?;
    Ok(role)
}

/// Takes `#[ts(type = "…")]` off an argument.
fn take_ts_type(attrs: &mut Vec<Attribute>) -> syn::Result<Option<String>> {
    let mut written = None;
    take_attribute(attrs, "ts", |meta| {
        if !meta.path.is_ident("type") {
            return Err(meta.error("expected `type = \"…\"`"));
        }
        match meta.value()?.parse::<Expr>()? {
            Expr::Lit(ExprLit {
                lit: Lit::Str(text),
                ..
            }) => {
                written = Some(text.value());
                Ok(())
            }
            other => Err(Error::new(other.span(), "expected a string")),
        }
    })?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use quote::quote;

    fn refusal(item: proc_macro2::TokenStream) -> String {
        match super::expand(quote!(), item) {
            Ok(_) => panic!("accepted"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn a_name_the_wrapper_cannot_have_is_refused() {
        let message = refusal(quote! {
            pub async fn create_user(new: NewCustomer) -> Result<Person, CommandError> { todo!() }
        });
        assert!(
            message.contains("`new` cannot name a parameter"),
            "{message}"
        );
        let message = refusal(quote! { pub fn open(call: String) {} });
        assert!(message.contains("`call`"), "{message}");
    }

    #[test]
    fn a_raw_call_has_one_body_and_only_headers_beside_it() {
        let message = refusal(quote! {
            pub fn upload(#[ipc(header)] name: String, id: String) {}
        });
        assert!(message.contains("exactly one `#[ipc(body)]`"), "{message}");
        let message = refusal(quote! {
            pub fn upload(#[ipc(body)] file: Vec<u8>, id: String) {}
        });
        assert!(message.contains("as `#[ipc(header)]`"), "{message}");
        let message = refusal(quote! {
            pub fn upload(request: tauri::ipc::Request<'_>) {}
        });
        assert!(
            message.contains("`#[ipc(body)]` and `#[ipc(header)]`"),
            "{message}"
        );
    }

    #[test]
    fn a_raw_call_reads_its_headers_and_body_before_the_command_runs() {
        let expanded = super::expand(
            quote!(),
            quote! {
                pub async fn upload_file(
                    #[ipc(header)] person_id: String,
                    #[ipc(body)] file: Vec<u8>,
                    state: State<'_, DeskState>,
                ) -> Result<PersonFile, CommandError> { todo!() }
            },
        )
        .expect("expands")
        .to_string();
        assert!(
            expanded.contains("__ipc_request : :: tauri :: ipc :: Request < '_ >"),
            "{expanded}"
        );
        assert!(
            expanded
                .contains(":: agent_desk_ipc :: raw :: header (& __ipc_request , \"person-id\") ?"),
            "{expanded}"
        );
        assert!(
            expanded.contains("ParamKind :: Header (\"person-id\")"),
            "{expanded}"
        );
        assert!(expanded.contains("name : \"personId\""), "{expanded}");
    }
}
