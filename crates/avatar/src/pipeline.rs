//! From a decoded photo to the images that are stored and shown: crop, resize with a
//! Lanczos filter, turn, convert to sRGB, encode as baseline JPEG without metadata.

use agent_desk_core::AvatarCrop;
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::jpeg::JpegEncoder;
use image::{imageops, ExtendedColorType, RgbImage};

use crate::decode::{decode, probe, Decoded, SourceInfo};
use crate::{AvatarError, Limits};

/// JPEG quality of stored photos: no visible artefacts on faces at 512 px.
const QUALITY: u8 = 86;
/// Previews are only looked at while cropping.
const PREVIEW_QUALITY: u8 = 80;

/// Crops, resizes and encodes a photo to one JPEG per side in `sides` (largest first).
/// Without a crop, the largest centred square is used.
pub fn render(
    bytes: &[u8],
    limits: &Limits,
    crop: Option<AvatarCrop>,
    sides: &[u32],
) -> Result<Vec<Vec<u8>>, AvatarError> {
    let info = probe(bytes, limits)?;
    let crop = match crop {
        Some(crop) => checked(crop, &info)?,
        None => centred(&info),
    };
    let largest = sides.iter().copied().max().unwrap_or(1);
    let decoded = decode(bytes, limits, f64::from(largest) / f64::from(crop.size))?;
    let scale = f64::from(decoded.image.width()) / f64::from(decoded.info.width);
    let region = (
        f64::from(crop.x) * scale,
        f64::from(crop.y) * scale,
        f64::from(crop.size) * scale,
    );
    let mut resizer = Resizer::new();
    let mut outputs = Vec::with_capacity(sides.len());
    let mut previous: Option<RgbImage> = None;
    for &side in sides {
        // Each smaller size comes from the one before: cheaper, and just as sharp.
        let resized = match &previous {
            Some(larger) => resize(&mut resizer, larger, None, side, side)?,
            None => resize(&mut resizer, &decoded.image, Some(region), side, side)?,
        };
        let turned = turn(&resized, crop.quarter_turns);
        outputs.push(encode(
            &to_srgb(turned, decoded.icc_profile.as_deref()),
            QUALITY,
        )?);
        previous = Some(resized);
    }
    Ok(outputs)
}

/// A photo ready to crop: its checked header and a downscaled copy no larger than
/// `max_side` on either side.
pub struct Preview {
    pub info: SourceInfo,
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Decodes a photo fully (so a broken one is refused now, not at save) and makes its
/// preview.
pub fn preview(bytes: &[u8], limits: &Limits, max_side: u32) -> Result<Preview, AvatarError> {
    let info = probe(bytes, limits)?;
    let longest = info.width.max(info.height);
    let Decoded {
        image, icc_profile, ..
    } = decode(bytes, limits, f64::from(max_side) / f64::from(longest))?;
    let fit = f64::from(max_side) / f64::from(image.width().max(image.height()));
    let image = if fit < 1.0 {
        let width = ((f64::from(image.width()) * fit).round() as u32).max(1);
        let height = ((f64::from(image.height()) * fit).round() as u32).max(1);
        resize(&mut Resizer::new(), &image, None, width, height)?
    } else {
        image
    };
    let (width, height) = image.dimensions();
    let jpeg = encode(&to_srgb(image, icc_profile.as_deref()), PREVIEW_QUALITY)?;
    Ok(Preview {
        info,
        jpeg,
        width,
        height,
    })
}

fn centred(info: &SourceInfo) -> AvatarCrop {
    let size = info.width.min(info.height);
    AvatarCrop {
        x: (info.width - size) / 2,
        y: (info.height - size) / 2,
        size,
        quarter_turns: 0,
    }
}

fn checked(crop: AvatarCrop, info: &SourceInfo) -> Result<AvatarCrop, AvatarError> {
    if crop.size == 0 {
        return Err(AvatarError::InvalidCrop("is empty".into()));
    }
    if crop.quarter_turns > 3 {
        return Err(AvatarError::InvalidCrop(
            "turns more than three quarters".into(),
        ));
    }
    let fits = |start: u32, side: u32| start.checked_add(crop.size).is_some_and(|end| end <= side);
    if !fits(crop.x, info.width) || !fits(crop.y, info.height) {
        return Err(AvatarError::InvalidCrop(format!(
            "({} px at {}, {}) reaches outside the {} × {} photo",
            crop.size, crop.x, crop.y, info.width, info.height
        )));
    }
    Ok(crop)
}

fn resize(
    resizer: &mut Resizer,
    source: &RgbImage,
    region: Option<(f64, f64, f64)>,
    width: u32,
    height: u32,
) -> Result<RgbImage, AvatarError> {
    let internal = |error: &dyn std::fmt::Display| AvatarError::Encode(error.to_string());
    let source_view = ImageRef::new(
        source.width(),
        source.height(),
        source.as_raw(),
        PixelType::U8x3,
    )
    .map_err(|e| internal(&e))?;
    let mut target = Image::new(width, height, PixelType::U8x3);
    let mut options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    if let Some((left, top, side)) = region {
        options = options.crop(left, top, side, side);
    }
    resizer
        .resize(&source_view, &mut target, &options)
        .map_err(|e| internal(&e))?;
    RgbImage::from_raw(width, height, target.into_vec())
        .ok_or_else(|| internal(&"resized buffer size"))
}

fn turn(image: &RgbImage, quarter_turns: u8) -> RgbImage {
    match quarter_turns % 4 {
        1 => imageops::rotate90(image),
        2 => imageops::rotate180(image),
        3 => imageops::rotate270(image),
        _ => image.clone(),
    }
}

/// Applies an embedded RGB ICC profile so the output is plain sRGB. Profiles that
/// cannot be read, or are not RGB, are ignored: the pixels are taken as sRGB.
fn to_srgb(mut image: RgbImage, icc_profile: Option<&[u8]>) -> RgbImage {
    use moxcms::{ColorProfile, DataColorSpace, Layout, TransformOptions};
    let Some(profile) = icc_profile.and_then(|icc| ColorProfile::new_from_slice(icc).ok()) else {
        return image;
    };
    if profile.color_space != DataColorSpace::Rgb {
        return image;
    }
    let srgb = ColorProfile::new_srgb();
    let Ok(transform) =
        profile.create_transform_8bit(Layout::Rgb, &srgb, Layout::Rgb, TransformOptions::default())
    else {
        return image;
    };
    let source = image.as_raw().clone();
    if transform.transform(&source, &mut image).is_err() {
        return RgbImage::from_raw(image.width(), image.height(), source).unwrap_or(image);
    }
    image
}

fn encode(image: &RgbImage, quality: u8) -> Result<Vec<u8>, AvatarError> {
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, quality)
        .encode(
            image.as_raw(),
            image.width(),
            image.height(),
            ExtendedColorType::Rgb8,
        )
        .map_err(|error| AvatarError::Encode(error.to_string()))?;
    Ok(jpeg)
}
