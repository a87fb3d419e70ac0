//! Files kept on a customer's record: what the API says about one, and the rules for
//! the name and size an upload may have.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::customers::RecordError;

/// The largest file a record takes, unless the server is started with another limit.
pub const FILE_DEFAULT_MAX_BYTES: u64 = 10_000_000;
pub const FILE_NAME_MAX: usize = 255;
/// How many files one record holds.
pub const FILES_MAX: usize = 200;

/// A file on a record. `content_type` is what the server found in the bytes, never
/// what the uploader claimed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct PersonFile {
    pub id: String,
    pub person_id: String,
    pub name: String,
    pub content_type: String,
    #[ts(type = "number")]
    pub size: u64,
    pub uploaded_by: Option<String>,
    /// `null` once the uploader's account is gone.
    pub uploaded_by_name: Option<String>,
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub uploaded_at: DateTime<Utc>,
}

/// `GET /api/v1/people/{id}/files`: newest first, with the limits an upload must keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct FileList {
    pub files: Vec<PersonFile>,
    #[ts(type = "number")]
    pub max_bytes: u64,
}

/// The name a file is kept under: trimmed, without any folder part, no control
/// characters, 1 to [`FILE_NAME_MAX`] characters.
pub fn file_name(name: &str) -> Result<String, RecordError> {
    // A browser or a script may send a whole path; only its last part is the name.
    let name = name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if name.is_empty() || name == "." || name == ".." {
        return Err(RecordError::new("name", "name must not be empty"));
    }
    // `invoice<U+202E>fdp.exe` would show as a PDF.
    if crate::text::has_hidden_controls(name, false) {
        return Err(RecordError::new(
            "name",
            "name must not contain control or text-direction characters",
        ));
    }
    if name.chars().count() > FILE_NAME_MAX {
        return Err(RecordError::new(
            "name",
            format!("name must be at most {FILE_NAME_MAX} characters"),
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_keeps_only_its_last_path_part() {
        assert_eq!(
            file_name(" C:\\Users\\ada\\invoice 1842.pdf ").unwrap(),
            "invoice 1842.pdf"
        );
        assert_eq!(file_name("../../etc/passwd").unwrap(), "passwd");
    }

    #[test]
    fn empty_dotted_control_and_long_names_are_refused() {
        for bad in [
            "",
            "  ",
            "dir/",
            "..",
            "a\u{0}b",
            "tab\there",
            "invoice\u{202E}fdp.exe",
            "a\u{2066}b",
        ] {
            let refused = file_name(bad).unwrap_err();
            assert_eq!(refused.field, "name", "{bad:?}");
        }
        assert!(file_name(&"x".repeat(FILE_NAME_MAX)).is_ok());
        assert!(file_name("می\u{200C}خواهم.pdf").is_ok());
        assert!(file_name(&"x".repeat(FILE_NAME_MAX + 1)).is_err());
    }
}
