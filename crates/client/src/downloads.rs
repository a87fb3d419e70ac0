//! Saving a downloaded file into a folder without overwriting anything there.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::ClientError;

/// A name every desktop's file system takes: characters Windows refuses become `_`,
/// and a name left empty or all dots becomes `download`.
pub fn portable_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    // Windows also drops trailing dots and spaces.
    let cleaned = cleaned.trim().trim_end_matches(['.', ' ']).to_owned();
    if cleaned.is_empty() {
        "download".to_owned()
    } else {
        cleaned
    }
}

/// Writes `bytes` to `folder/name`, or `name (2)`, `name (3)`… when that is taken, and
/// answers the path. A file is created only where none was, so nothing is overwritten.
pub fn save_new_file(folder: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, ClientError> {
    let failed = |error: std::io::Error| {
        ClientError::LocalFile(format!(
            "The file could not be saved in {}: {error}",
            folder.display()
        ))
    };
    std::fs::create_dir_all(folder).map_err(failed)?;
    let name = portable_name(name);
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => (stem, Some(extension)),
        _ => (name.as_str(), None),
    };
    for copy in 1..=999 {
        let candidate = match (copy, extension) {
            (1, _) => name.clone(),
            (_, Some(extension)) => format!("{stem} ({copy}).{extension}"),
            (_, None) => format!("{stem} ({copy})"),
        };
        let path = folder.join(candidate);
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                let written = file.write_all(bytes).and_then(|()| file.sync_all());
                if let Err(error) = written {
                    let _ = std::fs::remove_file(&path);
                    return Err(failed(error));
                }
                return Ok(path);
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(failed(error)),
        }
    }
    Err(ClientError::LocalFile(format!(
        "{} has 999 files called {name} already",
        folder.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_what_a_file_system_refuses() {
        assert_eq!(portable_name("Rechnung: März?.pdf"), "Rechnung_ März_.pdf");
        assert_eq!(portable_name("notes. . "), "notes");
        assert_eq!(portable_name("..."), "download");
        assert_eq!(portable_name("a\u{7}b"), "a_b");
    }

    #[test]
    fn a_taken_name_gets_a_number_and_nothing_is_overwritten() {
        let folder = tempfile::tempdir().expect("temp dir");
        let first = save_new_file(folder.path(), "invoice.pdf", b"one").expect("first");
        let second = save_new_file(folder.path(), "invoice.pdf", b"two").expect("second");
        let third = save_new_file(folder.path(), "README", b"three").expect("third");
        let fourth = save_new_file(folder.path(), "README", b"four").expect("fourth");
        assert_eq!(first, folder.path().join("invoice.pdf"));
        assert_eq!(second, folder.path().join("invoice (2).pdf"));
        assert_eq!(fourth, folder.path().join("README (2)"));
        assert_eq!(std::fs::read(&first).expect("read"), b"one");
        assert_eq!(std::fs::read(&second).expect("read"), b"two");
        assert_eq!(std::fs::read(&third).expect("read"), b"three");
    }
}
