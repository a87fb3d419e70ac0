//! Saving a downloaded file into a folder without overwriting anything there.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::ClientError;

/// At most this many bytes of name, leaving room for a " (999)" within the 255 bytes
/// file systems allow.
const NAME_MAX_BYTES: usize = 240;

/// A name every desktop's file system takes: characters Windows refuses become `_`, a
/// name Windows reserves for a device (`CON`, `NUL`, `COM1`…) gets a `_` in front, a long
/// one is shortened (keeping its extension), and one left empty or all dots becomes
/// `download`.
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
    let cleaned = cleaned.trim().trim_end_matches(['.', ' ']);
    if cleaned.is_empty() {
        return "download".to_owned();
    }
    let (stem, extension) = split_extension(cleaned);
    let device = stem
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let reserved = matches!(device.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (device.len() == 4
            && (device.starts_with("COM") || device.starts_with("LPT"))
            && device.as_bytes()[3].is_ascii_digit());
    let stem = if reserved {
        format!("_{stem}")
    } else {
        stem.to_owned()
    };
    let extension = extension
        .map(|extension| format!(".{extension}"))
        .unwrap_or_default();
    let room = NAME_MAX_BYTES.saturating_sub(extension.len());
    let mut end = stem.len().min(room);
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{extension}", &stem[..end])
}

/// `report.final.pdf` → (`report.final`, `pdf`); a short extension only, so a name
/// whose last dot is far from its end is all stem.
fn split_extension(name: &str) -> (&str, Option<&str>) {
    match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() && extension.len() <= 16 => {
            (stem, Some(extension))
        }
        _ => (name, None),
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
    let (stem, extension) = split_extension(&name);
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
    fn device_names_and_long_names_are_made_safe() {
        assert_eq!(portable_name("CON"), "_CON");
        assert_eq!(portable_name("nul.txt"), "_nul.txt");
        assert_eq!(portable_name("com1.tar.gz"), "_com1.tar.gz");
        assert_eq!(portable_name("console.log"), "console.log");
        let long = format!("{}.pdf", "ä".repeat(200));
        let short = portable_name(&long);
        assert!(short.len() <= NAME_MAX_BYTES, "{}", short.len());
        assert!(short.ends_with("ä.pdf"), "{short}");
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
