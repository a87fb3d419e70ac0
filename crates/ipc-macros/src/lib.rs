//! Defines each command and event of the app once, in Rust. The attribute and macros here
//! expand to what Tauri needs (its own `#[tauri::command]`, the invoke handler) and to a
//! description of each (`agent_desk_ipc::CommandSpec`, `EventSpec`) from which the
//! TypeScript client, the UI's `Backend` interface and the capability file are written.

mod command;
mod docs;
mod events;
mod list;

use proc_macro::TokenStream;

/// A Tauri command described for the UI. Arguments the shell injects (`State`,
/// `AppHandle`, `Window`, `Webview`, `WebviewWindow`) are left out of the description; the
/// others become the TypeScript wrapper's arguments, in order and under Tauri's own
/// camelCase names. `#[ipc(body)] name: Vec<u8>` is the call's raw body and
/// `#[ipc(header)] name: String` a percent-encoded header named in kebab-case: a file's
/// bytes travel as bytes, not as a JSON array of numbers. `#[ts(type = "…")]` on an
/// argument overrides its TypeScript type, as on a field of a wire type.
#[proc_macro_attribute]
pub fn command(attr: TokenStream, item: TokenStream) -> TokenStream {
    command::expand(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// The app's commands, listed once: expands to `invoke_handler()` for the Tauri builder
/// and `command_specs()` for the generator.
#[proc_macro]
pub fn commands(input: TokenStream) -> TokenStream {
    list::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// The app's events, each a struct whose one field is the payload (none for a bare
/// signal). The event's name is the struct's in kebab-case, and the UI subscribes with
/// `on` and the struct's name; expands to the structs, their `agent_desk_ipc::Event`
/// impls and `event_specs()`.
#[proc_macro]
pub fn events(input: TokenStream) -> TokenStream {
    events::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
