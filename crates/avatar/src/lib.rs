//! Profile photos: everything between the bytes an agent picked and the square images a
//! server stores, plus the initials shown when there is no photo.
//!
//! Every decode checks the file's claimed size against [`Limits`] before any pixel
//! buffer is allocated, so a small file claiming to be enormous costs nothing; metadata a
//! decoder would read in full first (a PNG's compressed ICC profile, a WebP chunk's
//! claimed size) is vetted before the decoder sees it (`metadata.rs`). Output is always
//! re-encoded from pixels: no metadata of the source survives.

mod decode;
#[doc(hidden)]
pub mod fixtures;
mod initials;
mod metadata;
mod pipeline;

pub use decode::{probe, Format, SourceInfo};
pub use initials::{initials, initials_avatar, render_png, render_svg};
pub use metadata::MAX_ICC_PROFILE_BYTES;
pub use pipeline::{preview, render, Preview};

use agent_desk_core::{ErrorCode, AVATAR_DEFAULT_MAX_BYTES};

/// What a photo may cost to accept. Checked before decoding allocates anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file, in bytes.
    pub max_bytes: u64,
    /// Largest width or height, in pixels.
    pub max_side: u32,
    /// Largest width × height.
    pub max_pixels: u64,
    /// Largest decoded buffer, in bytes.
    pub max_alloc: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: AVATAR_DEFAULT_MAX_BYTES,
            max_side: 12_000,
            max_pixels: 40_000_000,
            max_alloc: 192 * 1024 * 1024,
        }
    }
}

/// Why a photo was refused. Messages say what is wrong and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AvatarError {
    #[error("the file is empty; choose a JPEG, PNG, GIF or WebP image")]
    Empty,
    /// `size` is unknown when an upload was cut off at the limit.
    #[error("{}", too_many_bytes(*size, *limit))]
    TooManyBytes { size: Option<u64>, limit: u64 },
    #[error("this file is not a JPEG, PNG, GIF or WebP image")]
    UnsupportedFormat,
    #[error(
        "the image is {width} × {height} pixels; at most {max_side} pixels on a side and {} megapixels are accepted",
        max_pixels / 1_000_000
    )]
    TooLarge {
        width: u32,
        height: u32,
        max_side: u32,
        max_pixels: u64,
    },
    /// The decoded pixels would take more memory than allowed (wide colour, many channels).
    #[error(
        "the image is too large to open; at most {max_side} pixels on a side and {} megapixels are accepted",
        max_pixels / 1_000_000
    )]
    TooLargeToDecode { max_side: u32, max_pixels: u64 },
    #[error("the image cannot be read ({0}); it may be truncated or corrupt")]
    Undecodable(String),
    #[error("the crop {0}")]
    InvalidCrop(String),
    #[error("the photo could not be encoded: {0}")]
    Encode(String),
}

impl AvatarError {
    /// The API's code for this refusal.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::TooManyBytes { .. } => ErrorCode::PayloadTooLarge,
            Self::UnsupportedFormat => ErrorCode::UnsupportedImage,
            Self::TooLarge { .. } | Self::TooLargeToDecode { .. } => ErrorCode::ImageTooLarge,
            Self::Empty | Self::Undecodable(_) => ErrorCode::InvalidImage,
            Self::InvalidCrop(_) => ErrorCode::InvalidCrop,
            Self::Encode(_) => ErrorCode::Internal,
        }
    }
}

fn too_many_bytes(size: Option<u64>, limit: u64) -> String {
    match size {
        Some(size) => format!(
            "the file is {}; photos can be at most {}",
            format_bytes(size),
            format_bytes(limit)
        ),
        None => format!(
            "the file is larger than {}, the most a photo can be",
            format_bytes(limit)
        ),
    }
}

/// "5 MB", "1.5 MB", "800 KB": decimal units, as file managers show sizes.
pub fn format_bytes(bytes: u64) -> String {
    if bytes >= 1_000_000 {
        let mb = bytes as f64 / 1_000_000.0;
        if bytes % 1_000_000 == 0 {
            format!("{mb:.0} MB")
        } else {
            format!("{mb:.1} MB")
        }
    } else if bytes >= 1_000 {
        format!("{} KB", bytes.div_ceil(1_000))
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(format_bytes(5_000_000), "5 MB");
        assert_eq!(format_bytes(1_500_000), "1.5 MB");
        assert_eq!(format_bytes(800_000), "800 KB");
        assert_eq!(format_bytes(12), "12 bytes");
    }

    #[test]
    fn refusals_map_to_the_api_codes() {
        assert_eq!(AvatarError::Empty.code(), ErrorCode::InvalidImage);
        assert_eq!(
            AvatarError::UnsupportedFormat.code(),
            ErrorCode::UnsupportedImage
        );
        let big = AvatarError::TooManyBytes {
            size: Some(6_000_000),
            limit: 5_000_000,
        };
        assert_eq!(big.code(), ErrorCode::PayloadTooLarge);
        assert_eq!(
            big.to_string(),
            "the file is 6 MB; photos can be at most 5 MB"
        );
    }
}
