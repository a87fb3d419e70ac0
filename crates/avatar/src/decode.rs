//! Reading a photo: sniff the format from its bytes, check what it claims against the
//! limits, then decode — JPEGs at the smallest DCT scale that still serves the output.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, RgbImage};

use crate::{AvatarError, Limits};

/// The formats a photo may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Gif,
    Webp,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Jpeg, Format::Png, Format::Gif, Format::Webp];

    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::Webp => "image/webp",
        }
    }

    /// From the file's magic bytes; its name and declared type are not trusted.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        match image::guess_format(bytes).ok()? {
            image::ImageFormat::Jpeg => Some(Format::Jpeg),
            image::ImageFormat::Png => Some(Format::Png),
            image::ImageFormat::Gif => Some(Format::Gif),
            image::ImageFormat::WebP => Some(Format::Webp),
            _ => None,
        }
    }

    fn image_format(self) -> image::ImageFormat {
        match self {
            Format::Jpeg => image::ImageFormat::Jpeg,
            Format::Png => image::ImageFormat::Png,
            Format::Gif => image::ImageFormat::Gif,
            Format::Webp => image::ImageFormat::WebP,
        }
    }
}

/// What a photo's header says, read without decoding any pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceInfo {
    pub format: Format,
    /// Width and height as displayed: with the EXIF orientation applied.
    pub width: u32,
    pub height: u32,
    pub orientation: Orientation,
}

/// A decoded photo: oriented, opaque, 8-bit RGB, possibly at a reduced scale.
pub(crate) struct Decoded {
    pub info: SourceInfo,
    pub image: RgbImage,
    /// An embedded ICC profile, applied after resizing (where it is cheap).
    pub icc_profile: Option<Vec<u8>>,
}

/// Checks a photo's size, format and header against `limits`.
pub fn probe(bytes: &[u8], limits: &Limits) -> Result<SourceInfo, AvatarError> {
    let format = check_file(bytes, limits)?;
    match format {
        Format::Jpeg => {
            let mut decoder = jpeg_decoder(bytes, limits);
            let (width, height, _) = jpeg_header(&mut decoder, limits)?;
            let orientation = jpeg_orientation(&decoder);
            Ok(oriented_info(format, width, height, orientation))
        }
        _ => {
            let mut decoder = image_decoder(bytes, format, limits)?;
            let (width, height) = decoder.dimensions();
            check_dimensions(width, height, limits)?;
            let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
            Ok(oriented_info(format, width, height, orientation))
        }
    }
}

/// Decodes a photo whose pixels are needed at no less than `min_scale` of their size;
/// JPEGs are decoded straight at 1/2, 1/4 or 1/8 when that is enough.
pub(crate) fn decode(
    bytes: &[u8],
    limits: &Limits,
    min_scale: f64,
) -> Result<Decoded, AvatarError> {
    let format = check_file(bytes, limits)?;
    match format {
        Format::Jpeg => decode_jpeg(bytes, limits, min_scale),
        _ => decode_other(bytes, format, limits),
    }
}

fn check_file(bytes: &[u8], limits: &Limits) -> Result<Format, AvatarError> {
    if bytes.is_empty() {
        return Err(AvatarError::Empty);
    }
    let size = bytes.len() as u64;
    if size > limits.max_bytes {
        return Err(AvatarError::TooManyBytes {
            size: Some(size),
            limit: limits.max_bytes,
        });
    }
    Format::sniff(bytes).ok_or(AvatarError::UnsupportedFormat)
}

fn check_dimensions(width: u32, height: u32, limits: &Limits) -> Result<(), AvatarError> {
    let too_large = || AvatarError::TooLarge {
        width,
        height,
        max_side: limits.max_side,
        max_pixels: limits.max_pixels,
    };
    if width == 0 || height == 0 {
        return Err(AvatarError::Undecodable(
            "it claims to have no pixels".into(),
        ));
    }
    if width > limits.max_side || height > limits.max_side {
        return Err(too_large());
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(too_large());
    }
    Ok(())
}

fn check_memory(
    width: u32,
    height: u32,
    bytes_per_pixel: u64,
    limits: &Limits,
) -> Result<(), AvatarError> {
    let needed = u64::from(width) * u64::from(height) * bytes_per_pixel;
    if needed > limits.max_alloc {
        return Err(too_large_to_decode(limits));
    }
    Ok(())
}

fn too_large_to_decode(limits: &Limits) -> AvatarError {
    AvatarError::TooLargeToDecode {
        max_side: limits.max_side,
        max_pixels: limits.max_pixels,
    }
}

fn oriented_info(format: Format, width: u32, height: u32, orientation: Orientation) -> SourceInfo {
    let (width, height) = if swaps_axes(orientation) {
        (height, width)
    } else {
        (width, height)
    };
    SourceInfo {
        format,
        width,
        height,
        orientation,
    }
}

fn swaps_axes(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

fn undecodable(error: impl std::fmt::Display) -> AvatarError {
    AvatarError::Undecodable(error.to_string())
}

// ── JPEG ──────────────────────────────────────────────────────────────────────────────

fn jpeg_decoder<'a>(bytes: &'a [u8], limits: &Limits) -> jpeg_decoder::Decoder<&'a [u8]> {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size(usize::try_from(limits.max_alloc).unwrap_or(usize::MAX));
    decoder
}

/// Reads the header and checks its claims; answers the stored (unoriented) size.
fn jpeg_header(
    decoder: &mut jpeg_decoder::Decoder<&[u8]>,
    limits: &Limits,
) -> Result<(u32, u32, jpeg_decoder::PixelFormat), AvatarError> {
    decoder.read_info().map_err(undecodable)?;
    let info = decoder
        .info()
        .ok_or_else(|| undecodable("no frame header"))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    check_dimensions(width, height, limits)?;
    check_memory(
        width,
        height,
        info.pixel_format.pixel_bytes() as u64,
        limits,
    )?;
    Ok((width, height, info.pixel_format))
}

fn jpeg_orientation(decoder: &jpeg_decoder::Decoder<&[u8]>) -> Orientation {
    decoder
        .exif_data()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms)
}

fn decode_jpeg(bytes: &[u8], limits: &Limits, min_scale: f64) -> Result<Decoded, AvatarError> {
    let mut decoder = jpeg_decoder(bytes, limits);
    let (width, height, _) = jpeg_header(&mut decoder, limits)?;
    let denominator = [8u32, 4, 2]
        .into_iter()
        .find(|&d| 1.0 / f64::from(d) >= min_scale)
        .unwrap_or(1);
    let (mut decoded_width, mut decoded_height) = (width, height);
    if denominator > 1 {
        let requested = |side: u32| u16::try_from(side.div_ceil(denominator)).unwrap_or(u16::MAX);
        let (w, h) = decoder
            .scale(requested(width), requested(height))
            .map_err(undecodable)?;
        (decoded_width, decoded_height) = (u32::from(w), u32::from(h));
    }
    let pixels = decoder.decode().map_err(undecodable)?;
    let pixel_format = decoder
        .info()
        .ok_or_else(|| undecodable("no frame header"))?
        .pixel_format;
    let rgb = jpeg_to_rgb(pixels, pixel_format, decoded_width, decoded_height)?;
    let orientation = jpeg_orientation(&decoder);
    let icc_profile = decoder.icc_profile();
    let info = oriented_info(Format::Jpeg, width, height, orientation);
    Ok(Decoded {
        info,
        image: orient(rgb, orientation),
        icc_profile,
    })
}

fn jpeg_to_rgb(
    pixels: Vec<u8>,
    format: jpeg_decoder::PixelFormat,
    width: u32,
    height: u32,
) -> Result<RgbImage, AvatarError> {
    use jpeg_decoder::PixelFormat;
    let rgb = match format {
        PixelFormat::RGB24 => pixels,
        PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        // Big-endian samples: the high byte is the 8-bit value.
        PixelFormat::L16 => pixels
            .chunks_exact(2)
            .flat_map(|l| [l[0], l[0], l[0]])
            .collect(),
        // The decoder answers ink amounts (0 = none); a naive conversion without an
        // ICC transform, which is what browsers do for CMYK without a profile too.
        PixelFormat::CMYK32 => pixels
            .chunks_exact(4)
            .flat_map(|p| {
                let white = 255 - u32::from(p[3]);
                let channel = |ink: u8| ((255 - u32::from(ink)) * white / 255) as u8;
                [channel(p[0]), channel(p[1]), channel(p[2])]
            })
            .collect(),
    };
    RgbImage::from_raw(width, height, rgb)
        .ok_or_else(|| undecodable("pixel data shorter than the frame"))
}

// ── PNG, GIF, WebP ────────────────────────────────────────────────────────────────────

fn image_decoder<'a>(
    bytes: &'a [u8],
    format: Format,
    limits: &Limits,
) -> Result<impl ImageDecoder + 'a, AvatarError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    // Width and height are checked by the caller, to say what the file claims.
    let mut image_limits = image::Limits::default();
    image_limits.max_alloc = Some(limits.max_alloc);
    reader.limits(image_limits);
    reader
        .into_decoder()
        .map_err(|error| image_error(error, limits))
}

fn decode_other(bytes: &[u8], format: Format, limits: &Limits) -> Result<Decoded, AvatarError> {
    let mut decoder = image_decoder(bytes, format, limits)?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height, limits)?;
    let bytes_per_pixel = u64::from(decoder.color_type().bytes_per_pixel());
    check_memory(width, height, bytes_per_pixel, limits)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let icc_profile = decoder.icc_profile().ok().flatten();
    // GIF and WebP decoders answer the first frame of an animation.
    let image = DynamicImage::from_decoder(decoder).map_err(|error| image_error(error, limits))?;
    let info = oriented_info(format, width, height, orientation);
    Ok(Decoded {
        info,
        image: orient(flatten(image), orientation),
        icc_profile,
    })
}

fn image_error(error: ImageError, limits: &Limits) -> AvatarError {
    match error {
        ImageError::Limits(_) => too_large_to_decode(limits),
        other => undecodable(other),
    }
}

/// Opaque 8-bit RGB. Transparency is flattened onto white: avatars are shown on light
/// and dark backgrounds alike, and a cut-out portrait on white reads well on both.
pub(crate) fn flatten(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    let (width, height) = rgba.dimensions();
    let pixels = rgba
        .into_raw()
        .chunks_exact(4)
        .flat_map(|p| {
            let alpha = u32::from(p[3]);
            let over_white =
                |c: u8| ((u32::from(c) * alpha + 255 * (255 - alpha) + 127) / 255) as u8;
            [over_white(p[0]), over_white(p[1]), over_white(p[2])]
        })
        .collect();
    RgbImage::from_raw(width, height, pixels).expect("three bytes for each pixel of the source")
}

fn orient(image: RgbImage, orientation: Orientation) -> RgbImage {
    if orientation == Orientation::NoTransforms {
        return image;
    }
    let mut image = DynamicImage::ImageRgb8(image);
    image.apply_orientation(orientation);
    image.into_rgb8()
}
