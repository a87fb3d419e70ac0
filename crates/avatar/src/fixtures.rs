//! Crafted files for tests of this crate and of its users: photos with EXIF, and
//! decompression bombs whose headers claim far more pixels than their few bytes hold, or
//! whose metadata inflates (or claims to be) far larger than the file.

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
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

/// A lossless PNG of `image`, without metadata.
pub fn png(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            ExtendedColorType::Rgb8,
        )
        .expect("encoding to memory");
    out
}

/// `png` with a chunk of `kind` holding `data` (and a valid checksum) right after IHDR,
/// where metadata chunks go.
pub fn with_png_chunk(png: &[u8], kind: [u8; 4], data: &[u8]) -> Vec<u8> {
    const AFTER_IHDR: usize = 8 + 8 + 13 + 4;
    let mut out = png[..AFTER_IHDR].to_vec();
    out.extend(
        u32::try_from(data.len())
            .expect("a chunk under 4 GB")
            .to_be_bytes(),
    );
    let typed_from = out.len();
    out.extend(kind);
    out.extend(data);
    let crc = crc32(&out[typed_from..]);
    out.extend(crc.to_be_bytes());
    out.extend(&png[AFTER_IHDR..]);
    out
}

/// The data of an iCCP chunk: a profile name, compression method 0 and `zlib`, the
/// profile as a zlib stream.
pub fn iccp_data(zlib: &[u8]) -> Vec<u8> {
    let mut data = b"ICC profile\0\0".to_vec();
    data.extend(zlib);
    data
}

/// `data` as a zlib stream.
pub fn zlib(data: &[u8]) -> Vec<u8> {
    let mut compressor = fdeflate::Compressor::new(Vec::new()).expect("writing to memory");
    compressor.write_data(data).expect("writing to memory");
    compressor.finish().expect("writing to memory")
}

/// `len` zero bytes as a zlib stream of about 1 KB a megabyte — as small as deflate gets:
/// one dynamic Huffman block where a 258-byte copy of the byte before costs two bits.
/// Written bit by bit, without ever holding the zeros.
pub fn zlib_zeros(len: usize) -> Vec<u8> {
    // Huffman codes are sent first bit first: below as (bits, length), already reversed
    // for `push`, which sends the least significant bit first.
    const ZERO_RUN: (u64, u32) = (0b0, 1); // code length code 18: "0"
    const LENGTH_1: (u64, u32) = (0b01, 2); // code length code 1: "10"
    const LENGTH_2: (u64, u32) = (0b11, 2); // code length code 2: "11"
    const COPY_258: (u64, u32) = (0b0, 1); // literal/length code 285: "0"
    const LITERAL_0: (u64, u32) = (0b01, 2); // literal/length code 0: "10"
    const END_OF_BLOCK: (u64, u32) = (0b11, 2); // literal/length code 256: "11"
    const DISTANCE_1: (u64, u32) = (0b0, 1); // distance code 0: "0"

    let mut bits = Bits::default();
    bits.push(1, 1); // the last block
    bits.push(2, 2); // with dynamic Huffman codes:
    bits.push(286 - 257, 5); // 286 literal/length code lengths (up to 285),
    bits.push(2 - 1, 5); // 2 distance code lengths,
    bits.push(18 - 4, 4); // 18 code length code lengths, in the order 16, 17, 18, 0, 8,
    for length in [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2] {
        // 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1: only 18, 2 and 1 are used.
        bits.push(length, 3);
    }
    let zero_run = |bits: &mut Bits, run: u64| {
        bits.push_code(ZERO_RUN);
        bits.push(run - 11, 7);
    };
    bits.push_code(LENGTH_2); // literal 0
    zero_run(&mut bits, 138); // literals 1..=138
    zero_run(&mut bits, 117); // literals 139..=255
    bits.push_code(LENGTH_2); // 256, end of block
    zero_run(&mut bits, 28); // lengths 257..=284
    bits.push_code(LENGTH_1); // 285, a copy of 258 bytes
    bits.push_code(LENGTH_1); // distance 1
    bits.push_code(LENGTH_1); // distance 2 (unused: deflate wants a complete code)

    if len > 0 {
        bits.push_code(LITERAL_0);
        let rest = len - 1;
        for _ in 0..rest / 258 {
            bits.push_code(COPY_258);
            bits.push_code(DISTANCE_1);
        }
        for _ in 0..rest % 258 {
            bits.push_code(LITERAL_0);
        }
    }
    bits.push_code(END_OF_BLOCK);
    let mut zlib = vec![0x78, 0x01];
    zlib.extend(bits.finish());
    // Adler-32 of zeros: the sum stays 1; the sum of sums grows by 1 a byte.
    let adler = ((len % 65_521) as u32) << 16 | 1;
    zlib.extend(adler.to_be_bytes());
    zlib
}

/// Bits packed the way deflate reads them: from the least significant bit of each byte.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    pending: u64,
    count: u32,
}

impl Bits {
    /// The `count` low bits of `value`, least significant first (header fields, extras).
    fn push(&mut self, value: u64, count: u32) {
        self.pending |= value << self.count;
        self.count += count;
        while self.count >= 8 {
            self.bytes.push(self.pending as u8);
            self.pending >>= 8;
            self.count -= 8;
        }
    }

    /// A Huffman code given already reversed, as (bits, length).
    fn push_code(&mut self, (bits, length): (u64, u32)) {
        self.push(bits, length);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.count > 0 {
            self.bytes.push(self.pending as u8);
        }
        self.bytes
    }
}

/// A 64 × 64 PNG of `quadrants` whose iCCP chunk inflates to `inflated` zero bytes: a
/// metadata bomb (150 MB of profile is a file of about 150 KB).
pub fn png_with_icc_bomb(inflated: usize) -> Vec<u8> {
    with_png_chunk(
        &png(&quadrants(64, 64)),
        *b"iCCP",
        &iccp_data(&zlib_zeros(inflated)),
    )
}

/// A 64 × 64 extended WebP of `quadrants` ending with a chunk of `kind` (`ICCP`, `EXIF`
/// or `XMP `, flagged in its VP8X header) whose header claims `claimed` bytes though the
/// file ends 16 bytes later.
pub fn webp_claiming(kind: [u8; 4], claimed: u32) -> Vec<u8> {
    let (width, height) = (64u32, 64u32);
    let image = quadrants(width, height);
    let mut simple = Vec::new();
    WebPEncoder::new_lossless(&mut simple)
        .write_image(image.as_raw(), width, height, ExtendedColorType::Rgb8)
        .expect("encoding to memory");
    let flag = match &kind {
        b"ICCP" => 0x20,
        b"EXIF" => 0x08,
        b"XMP " => 0x04,
        _ => 0,
    };
    let mut body = b"WEBP".to_vec();
    body.extend(b"VP8X");
    body.extend(10u32.to_le_bytes());
    body.extend([flag, 0, 0, 0]);
    body.extend(&(width - 1).to_le_bytes()[..3]);
    body.extend(&(height - 1).to_le_bytes()[..3]);
    body.extend(&simple[12..]); // the VP8L chunk
    body.extend(kind);
    body.extend(claimed.to_le_bytes());
    body.extend([0x42; 16]);
    let mut file = b"RIFF".to_vec();
    file.extend(
        u32::try_from(body.len())
            .expect("a small file")
            .to_le_bytes(),
    );
    file.extend(body);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zlib_zeros_inflate_to_exactly_that_many_zeros() {
        for len in [0, 1, 2, 3, 258, 259, 260, 517, 65_521, 1_000_000] {
            let zlib = zlib_zeros(len);
            let inflated = fdeflate::decompress_to_vec(&zlib)
                .unwrap_or_else(|error| panic!("{len}: {error:?}"));
            assert_eq!(inflated.len(), len);
            assert!(inflated.iter().all(|&byte| byte == 0));
        }
        // Two bits for 258 bytes.
        assert!(zlib_zeros(150_000_000).len() < 150_000);
    }

    #[test]
    fn the_crc_is_the_standard_one() {
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }
}
