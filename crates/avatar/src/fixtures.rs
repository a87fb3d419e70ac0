//! Crafted files for tests of this crate and of its users: photos with EXIF, and
//! decompression bombs whose headers claim far more pixels than their few bytes hold.

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder, Rgb, RgbImage};

pub const RED: Rgb<u8> = Rgb([220, 30, 30]);
pub const GREEN: Rgb<u8> = Rgb([30, 200, 60]);
pub const BLUE: Rgb<u8> = Rgb([30, 60, 220]);
pub const WHITE: Rgb<u8> = Rgb([250, 250, 250]);

/// Quadrants: red top-left, green top-right, blue bottom-left, white bottom-right; where
/// each ends up shows how a photo was oriented, cropped and turned.
pub fn quadrants(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        match (x < width / 2, y < height / 2) {
            (true, true) => RED,
            (false, true) => GREEN,
            (true, false) => BLUE,
            (false, false) => WHITE,
        }
    })
}

/// A baseline JPEG of `image` at quality 95.
pub fn jpeg(image: &RgbImage) -> Vec<u8> {
    jpeg_with_quality(image, 95)
}

pub fn jpeg_with_quality(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode(
            image.as_raw(),
            image.width(),
            image.height(),
            ExtendedColorType::Rgb8,
        )
        .expect("encoding to memory");
    out
}

/// `jpeg` with an EXIF APP1 segment right after SOI, holding the `orientation` tag and
/// GPS-looking text, so tests can check both are applied and stripped.
pub fn with_exif(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes());
    tiff.extend(1u16.to_le_bytes()); // one entry
    tiff.extend(0x0112u16.to_le_bytes()); // Orientation
    tiff.extend(3u16.to_le_bytes()); // SHORT
    tiff.extend(1u32.to_le_bytes());
    tiff.extend(orientation.to_le_bytes());
    tiff.extend([0, 0]);
    tiff.extend(0u32.to_le_bytes()); // no next IFD
    tiff.extend(b"GPS 52.2297N 21.0122E");
    let mut segment = b"Exif\0\0".to_vec();
    segment.extend(tiff);
    let mut out = jpeg[..2].to_vec(); // SOI
    out.extend([0xFF, 0xE1]);
    out.extend(
        u16::try_from(segment.len() + 2)
            .expect("a short segment")
            .to_be_bytes(),
    );
    out.extend(segment);
    out.extend(&jpeg[2..]);
    out
}

/// A one-pixel PNG whose header (with a valid checksum) claims `width` × `height`.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut file = Vec::new();
    PngEncoder::new(&mut file)
        .write_image(&[0, 0, 0], 1, 1, ExtendedColorType::Rgb8)
        .expect("encoding to memory");
    file[16..20].copy_from_slice(&width.to_be_bytes());
    file[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&file[12..29]);
    file[29..33].copy_from_slice(&crc.to_be_bytes());
    file
}

/// A 16 × 16 JPEG whose frame header claims `width` × `height`.
pub fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut file = jpeg(&RgbImage::from_pixel(16, 16, Rgb([90, 120, 150])));
    let sof = file
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline frame header");
    file[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    file[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    file
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
