//! The app's commands and events as data. Each is defined once in the shell, with
//! [`command`], [`commands!`] and [`events!`]; from those definitions this crate writes
//! the UI's typed client and `Backend` interface ([`typescript`]) and the list of
//! commands the window may call ([`capability`]). `make check-generated` fails when what
//! is committed differs from what the definitions give.

pub mod capability;
pub mod raw;
pub mod typescript;

use std::path::Path;

pub use agent_desk_ipc_macros::{command, commands, events};
use serde::Serialize;
use ts_rs::TS;

/// A TypeScript type, and the generated files it needs imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsType {
    pub name: String,
    /// Type names, each exported from its own `./<Name>.ts`.
    pub imports: Vec<String>,
}

impl TsType {
    /// The type ts-rs gives `T`, with the exported types its name mentions.
    pub fn of<T: TS + ?Sized + 'static>() -> Self {
        /// Collects the exported types a type is built of, its type arguments among them.
        struct Exported(Vec<String>);
        impl ts_rs::TypeVisitor for Exported {
            fn visit<T: TS + 'static + ?Sized>(&mut self) {
                if let Some(dependency) = ts_rs::Dependency::from_ty::<T>() {
                    self.0.push(dependency.ts_name);
                }
            }
        }
        let name = T::name();
        let mut exported = Exported(Vec::new());
        ts_rs::TypeVisitor::visit::<T>(&mut exported);
        T::visit_dependencies(&mut exported);
        T::visit_generics(&mut exported);
        let mut imports: Vec<String> = exported
            .0
            .into_iter()
            .filter(|candidate| mentions(&name, candidate))
            .collect();
        imports.sort();
        imports.dedup();
        Self { name, imports }
    }

    /// A type written out, as `#[ts(type = "…")]` gives it; it needs no import.
    pub fn written(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            imports: Vec::new(),
        }
    }
}

/// Whether `name` names `ident` as a whole word (`Array<Team>` names `Team`, not `Tea`).
fn mentions(name: &str, ident: &str) -> bool {
    name.match_indices(ident).any(|(at, _)| {
        let word = |c: char| c.is_alphanumeric() || c == '_';
        let before = name[..at].chars().next_back().is_none_or(|c| !word(c));
        let after = name[at + ident.len()..]
            .chars()
            .next()
            .is_none_or(|c| !word(c));
        before && after
    })
}

/// How an argument travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A key of the call's JSON arguments.
    Argument,
    /// A percent-encoded header of a raw call, under this name.
    Header(&'static str),
    /// The raw body of the call: bytes.
    Body,
}

/// An argument as the UI passes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The name on the wire and in the wrapper: Tauri's camelCase of the Rust name.
    pub name: &'static str,
    pub kind: ParamKind,
    pub ts: TsType,
}

/// A command as the UI calls it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    /// The Rust function's name, which is the command's.
    pub name: &'static str,
    /// The wrapper's name in `Backend`: the command's in camelCase.
    pub method: &'static str,
    pub docs: &'static str,
    pub params: Vec<Param>,
    /// What a successful call answers; `None` for nothing.
    pub returns: Option<TsType>,
}

impl CommandSpec {
    /// Whether the call carries raw bytes rather than JSON arguments.
    pub fn is_raw(&self) -> bool {
        self.params
            .iter()
            .any(|param| param.kind == ParamKind::Body)
    }
}

/// An event as the UI hears it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSpec {
    /// The name it is emitted under: the struct's name in kebab-case.
    pub name: &'static str,
    /// The `Backend` method that subscribes to it: `on` and the struct's name.
    pub listener: &'static str,
    pub docs: &'static str,
    /// `None` for an event that carries nothing.
    pub payload: Option<TsType>,
}

/// A value of `crates/core` the UI needs before any call, written out as a constant.
#[derive(Debug, Clone, PartialEq)]
pub struct ConstantSpec {
    pub name: &'static str,
    pub docs: &'static str,
    pub ts: TsType,
    pub value: serde_json::Value,
}

impl ConstantSpec {
    pub fn new<T: TS + Serialize + ?Sized + 'static>(
        name: &'static str,
        docs: &'static str,
        value: &T,
    ) -> serde_json::Result<Self> {
        Ok(Self {
            name,
            docs,
            ts: TsType::of::<T>(),
            value: serde_json::to_value(value)?,
        })
    }
}

/// An event the shell sends to the web view; defined with [`events!`].
pub trait Event {
    /// The name it is emitted and heard under.
    const NAME: &'static str;
    type Payload: Serialize;

    fn payload(&self) -> &Self::Payload;

    /// Sends it to every window and listener.
    fn emit<R: tauri::Runtime>(&self, to: &impl tauri::Emitter<R>) -> tauri::Result<()> {
        to.emit(Self::NAME, self.payload())
    }
}

/// Everything the UI and the capability are generated from.
#[derive(Debug, Clone, PartialEq)]
pub struct Ipc {
    pub commands: Vec<CommandSpec>,
    pub events: Vec<EventSpec>,
    pub constants: Vec<ConstantSpec>,
}

impl Ipc {
    /// Writes `backend.ts` and `constants.ts` into `ui_dir` (the generated types' folder),
    /// and `commands.json` and `capabilities/main.json` into `shell_dir`, each only when
    /// its content changed.
    pub fn write(&self, ui_dir: &Path, shell_dir: &Path) -> std::io::Result<()> {
        self.check().map_err(std::io::Error::other)?;
        write_if_changed(&ui_dir.join("backend.ts"), &typescript::backend(self))?;
        write_if_changed(&ui_dir.join("constants.ts"), &typescript::constants(self))?;
        write_if_changed(
            &shell_dir.join("commands.json"),
            &capability::command_list(&self.commands),
        )?;
        write_if_changed(
            &shell_dir.join("capabilities").join("main.json"),
            &capability::main_window(&self.commands),
        )
    }

    /// The types commands and events carry, each with where: the arguments, the
    /// results and the payloads.
    pub fn backend_types(&self) -> Vec<(String, &TsType)> {
        let mut types: Vec<(String, &TsType)> = Vec::new();
        for command in &self.commands {
            for param in &command.params {
                types.push((format!("{}({})", command.name, param.name), &param.ts));
            }
            if let Some(returns) = &command.returns {
                types.push((format!("{}'s result", command.name), returns));
            }
        }
        for event in &self.events {
            if let Some(payload) = &event.payload {
                types.push((format!("{}'s payload", event.name), payload));
            }
        }
        types
    }

    /// Refuses what would give the UI a type it cannot use: a 64-bit integer is a
    /// `bigint` to ts-rs, which JSON does not carry; say `#[ts(type = "number")]`.
    pub fn check(&self) -> Result<(), String> {
        let mut types = self.backend_types();
        for constant in &self.constants {
            types.push((constant.name.to_owned(), &constant.ts));
        }
        match types.iter().find(|(_, ts)| mentions(&ts.name, "bigint")) {
            Some((place, ts)) => Err(format!(
                "{place} is `{}` in TypeScript, which JSON does not carry: give it #[ts(type = \"number\")]",
                ts.name
            )),
            None => Ok(()),
        }
    }
}

fn write_if_changed(path: &Path, content: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)?;
    }
    std::fs::write(path, content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_imports_the_exported_types_its_name_mentions() {
        #[derive(TS)]
        #[ts(export_to = "Team.ts")]
        #[allow(dead_code)]
        struct Team {
            id: String,
        }
        assert_eq!(
            TsType::of::<Vec<Team>>(),
            TsType {
                name: "Array<Team>".into(),
                imports: vec!["Team".into()]
            }
        );
        assert_eq!(TsType::of::<Option<String>>().name, "string | null");
        assert!(TsType::of::<Option<String>>().imports.is_empty());
        assert_eq!(TsType::of::<Team>().imports, vec!["Team".to_owned()]);
    }

    #[test]
    fn a_64_bit_integer_is_refused_where_it_would_be_a_bigint() {
        let ipc = Ipc {
            commands: vec![],
            events: vec![],
            constants: vec![ConstantSpec::new("LIMIT", "", &5_i64).expect("json")],
        };
        assert_eq!(
            ipc.check(),
            Err("LIMIT is `bigint` in TypeScript, which JSON does not carry: give it #[ts(type = \"number\")]".to_owned())
        );
        let fine = Ipc {
            constants: vec![ConstantSpec::new("LIMIT", "", &5_u32).expect("json")],
            ..ipc
        };
        assert_eq!(fine.check(), Ok(()));
    }

    #[test]
    fn mentions_whole_words_only() {
        assert!(mentions("Array<Team>", "Team"));
        assert!(mentions("Team | null", "Team"));
        assert!(!mentions("Array<Teams>", "Team"));
        assert!(!mentions("MyTeam", "Team"));
    }
}
