//! What the main window may call: the app's own commands and event listening, nothing
//! else. Tauri's build step reads the command list to make each command a permission.

use serde_json::json;

use crate::CommandSpec;

/// The command names, for `tauri_build`'s app manifest (read by the shell's `build.rs`).
pub fn command_list(commands: &[CommandSpec]) -> String {
    let names: Vec<&str> = commands.iter().map(|command| command.name).collect();
    pretty(&json!(names))
}

/// The main window's capability: each command's `allow-` permission and listening.
pub fn main_window(commands: &[CommandSpec]) -> String {
    let mut permissions = vec![
        "core:event:allow-listen".to_owned(),
        "core:event:allow-unlisten".to_owned(),
    ];
    permissions.extend(
        commands
            .iter()
            .map(|command| format!("allow-{}", command.name.replace('_', "-"))),
    );
    pretty(&json!({
        "$schema": "../gen/schemas/desktop-schema.json",
        "identifier": "main",
        "description": "What the main window's web UI may call: the app's own commands and event \
                        listening. No file system, shell or HTTP access from the web side. \
                        Generated from the commands by `make generate`.",
        "windows": ["main"],
        "permissions": permissions,
    }))
}

fn pretty(value: &serde_json::Value) -> String {
    // A `Value` always serialises: its keys are strings.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}
