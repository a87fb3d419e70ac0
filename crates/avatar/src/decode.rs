//! Reading a photo: sniff the format from its bytes, check what it claims against the
//! limits, then decode — JPEGs at the smallest DCT scale that still serves the output.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, RgbImage};

use crate::metadata::{vet, Vetted};
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
            let vetted = vet(bytes, format);
            let mut decoder = image_decoder(&vetted.bytes, format, limits)?;
            let (width, height) = decoder.dimensions();
            check_dimensions(width, height, limits)?;
            let orientation = orientation_of(&mut decoder, &vetted);
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
    let (width, height, pixel_format) = jpeg_header(&mut decoder, limits)?;
    let progressive = decoder
        .info()
        .is_some_and(|info| info.coding_process == jpeg_decoder::CodingProcess::DctProgressive);
    let frame = frame_components(bytes).ok_or_else(|| undecodable("no frame header"))?;
    // The sharpest scale that serves the output, unless decoding at it would take more
    // memory than allowed; then a smaller one (the crop is upscaled a little).
    let output_bytes = pixel_format.pixel_bytes() as u64;
    let denominator = [1u32, 2, 4, 8]
        .into_iter()
        .skip_while(|&d| d < 8 && 1.0 / f64::from(d * 2) >= min_scale)
        .find(|&d| {
            jpeg_decoding_bytes(width, height, &frame, progressive, output_bytes, d)
                <= limits.max_alloc
        })
        .ok_or_else(|| too_large_to_decode(limits))?;
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

/// Sampling factors (horizontal, vertical) of each component in the frame header.
fn frame_components(bytes: &[u8]) -> Option<Vec<(u32, u32)>> {
    let mut at = 2; // after SOI
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return None;
        }
        let marker = bytes[at + 1];
        if marker == 0xFF {
            at += 1; // fill byte
            continue;
        }
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        let is_frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_frame {
            let header = bytes.get(at + 4..at + 2 + length)?;
            let count = usize::from(*header.get(5)?);
            let components = header.get(6..6 + 3 * count)?;
            return Some(
                components
                    .chunks_exact(3)
                    .map(|c| (u32::from(c[1] >> 4), u32::from(c[1] & 15)))
                    .collect(),
            );
        }
        at += 2 + length;
    }
    None
}

/// What decoding at 1/`denominator` holds at once: the whole image's DCT coefficients
/// when progressive, each component's plane and the output, all at the decoded scale.
fn jpeg_decoding_bytes(
    width: u32,
    height: u32,
    frame: &[(u32, u32)],
    progressive: bool,
    output_bytes_per_pixel: u64,
    denominator: u32,
) -> u64 {
    let h_max = frame.iter().map(|c| c.0).max().unwrap_or(1).max(1);
    let v_max = frame.iter().map(|c| c.1).max().unwrap_or(1).max(1);
    let component_pixels = |(h, v): (u32, u32), d: u32| {
        let w = (u64::from(width) * u64::from(h)).div_ceil(u64::from(h_max));
        let h = (u64::from(height) * u64::from(v)).div_ceil(u64::from(v_max));
        w.div_ceil(u64::from(d)) * h.div_ceil(u64::from(d))
    };
    let coefficients: u64 = if progressive {
        frame
            .iter()
            .map(|&c| component_pixels(c, 1).next_multiple_of(64) * 2)
            .sum()
    } else {
        0
    };
    let planes: u64 = frame
        .iter()
        .map(|&c| component_pixels(c, denominator))
        .sum();
    let output = u64::from(width.div_ceil(denominator))
        * u64::from(height.div_ceil(denominator))
        * output_bytes_per_pixel;
    coefficients + planes + output
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

/// The orientation in the photo's EXIF data, unless reading that data is out of bounds.
fn orientation_of(decoder: &mut impl ImageDecoder, vetted: &Vetted) -> Orientation {
    if !vetted.exif {
        return Orientation::NoTransforms;
    }
    decoder.orientation().unwrap_or(Orientation::NoTransforms)
}

fn decode_other(bytes: &[u8], format: Format, limits: &Limits) -> Result<Decoded, AvatarError> {
    // Metadata the decoder would read outside the budget is kept from it first.
    let vetted = vet(bytes, format);
    let mut decoder = image_decoder(&vetted.bytes, format, limits)?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height, limits)?;
    // Wider than 8-bit RGB(A) is converted into a second buffer of up to 4 bytes a pixel.
    let color = decoder.color_type();
    let conversion = if matches!(color, image::ColorType::Rgb8 | image::ColorType::Rgba8) {
        0
    } else {
        4
    };
    check_memory(
        width,
        height,
        u64::from(color.bytes_per_pixel()) + conversion,
        limits,
    )?;
    let orientation = orientation_of(&mut decoder, &vetted);
    let icc_profile = if vetted.icc_profile {
        decoder.icc_profile().ok().flatten()
    } else {
        None
    };
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
    let mut pixels = rgba.into_raw();
    // In place: pixel i's three bytes go to 3i, never past the 4i its source starts at.
    for i in 0..pixels.len() / 4 {
        let alpha = u32::from(pixels[4 * i + 3]);
        for channel in 0..3 {
            let value = u32::from(pixels[4 * i + channel]);
            pixels[3 * i + channel] = ((value * alpha + 255 * (255 - alpha) + 127) / 255) as u8;
        }
    }
    pixels.truncate(pixels.len() / 4 * 3);
    pixels.shrink_to_fit();
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

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: u64 = 192 * 1024 * 1024;

    #[test]
    fn frame_header_gives_the_sampling_of_each_component() {
        let file = crate::fixtures::jpeg(&RgbImage::new(32, 16));
        let components = frame_components(&file).expect("a frame header");
        assert_eq!(components.len(), 3);
        assert!(components
            .iter()
            .all(|&(h, v)| (1..=4).contains(&h) && (1..=4).contains(&v)));
        assert_eq!(frame_components(b"\xFF\xD8\xFF\xD9"), None);
        assert_eq!(
            frame_components(b"\xFF\xD8\xFF\xC0\x00"),
            None,
            "a cut-off header"
        );
    }

    #[test]
    fn large_progressive_jpegs_decode_at_a_scale_that_fits_the_budget() {
        let yuv420 = [(2, 2), (1, 1), (1, 1)];
        // 40 megapixels, progressive: the coefficients alone are 120 MB.
        let full = jpeg_decoding_bytes(8000, 5000, &yuv420, true, 3, 1);
        let half = jpeg_decoding_bytes(8000, 5000, &yuv420, true, 3, 2);
        assert!(full > BUDGET && half <= BUDGET, "full {full}, half {half}");
        // Baseline keeps no coefficients: the same size fits at full scale.
        assert!(jpeg_decoding_bytes(8000, 5000, &yuv420, false, 3, 1) <= BUDGET);
        // An eighth of a huge baseline frame is small.
        assert!(jpeg_decoding_bytes(12000, 3333, &yuv420, false, 3, 8) < 16 * 1024 * 1024);
    }
}
