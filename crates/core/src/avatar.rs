//! Profile photo: the limits a server enforces, the crop an app asks for, and what the
//! app shows while the agent crops.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Default for `--avatar-max-bytes`.
pub const AVATAR_DEFAULT_MAX_BYTES: u64 = 5_000_000;

/// Side of the smallest photo worth saving; a smaller crop is allowed, with a warning.
pub const AVATAR_MIN_SIDE: u32 = 200;

/// Sides of the square images a server stores for each photo, largest first.
pub const AVATAR_SIZES: [u32; 2] = [512, 128];

/// The photo part of `GET /api/v1/policy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct AvatarPolicy {
    /// Largest upload, in bytes.
    #[ts(type = "number")]
    pub max_bytes: u64,
    /// MIME types of the accepted formats.
    pub accepted_types: Vec<String>,
    /// Largest width or height, in pixels.
    pub max_side: u32,
    /// Largest width × height.
    #[ts(type = "number")]
    pub max_pixels: u64,
    /// Crops smaller than this (in source pixels) are upscaled; the app warns.
    pub min_side: u32,
}

/// A square crop of the photo, in pixels of the photo as it is displayed (its EXIF
/// orientation applied), then turned clockwise by `quarter_turns` × 90°.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AvatarCrop {
    pub x: u32,
    pub y: u32,
    pub size: u32,
    /// 0–3.
    pub quarter_turns: u8,
}

/// A photo the agent picked, checked and ready to crop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AvatarSource {
    /// Names this photo when saving the crop.
    pub source_id: String,
    /// MIME type of the file.
    pub format: String,
    /// Size as displayed (EXIF orientation applied), in pixels.
    pub width: u32,
    pub height: u32,
    /// A downscaled, re-encoded copy to crop on, as a `data:` URL with the same aspect.
    pub preview: String,
}

/// The stand-in for a missing photo: initials on a colour derived from the agent's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct InitialsAvatar {
    /// One or two letters; empty when the name has none (show a generic figure).
    pub text: String,
    /// `#rrggbb`, at least 4.5:1 against `foreground`.
    pub background: String,
    pub foreground: String,
}
