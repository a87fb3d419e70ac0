fn main() {
    // The commands the shell defines, as `make generate` lists them from their
    // definitions: declaring them makes each one a permission, so the capability file
    // grants exactly these to the main window and nothing else.
    println!("cargo:rerun-if-changed=commands.json");
    let list = std::fs::read_to_string("commands.json")
        .unwrap_or_else(|error| panic!("commands.json cannot be read: {error}"));
    let commands: Vec<String> = serde_json::from_str(&list)
        .unwrap_or_else(|error| panic!("commands.json is not a list of names: {error}"));
    // Tauri takes the names for the whole build; a build script ends right after.
    let commands: &'static [&'static str] = commands
        .into_iter()
        .map(|name| &*Box::leak(name.into_boxed_str()))
        .collect::<Vec<_>>()
        .leak();
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(commands));
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {error:#}");
    }
}
