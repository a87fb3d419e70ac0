//! Thousands of damaged files — bytes flipped, cut short, spliced — through every entry
//! point, on stable Rust in every test run. The cargo-fuzz target (`fuzz/`) explores far
//! further; this keeps its basic promise checked: refusals, never a panic.

use agent_desk_avatar::fixtures::{
    self, iccp_data, jpeg, webp_claiming, with_exif, with_png_chunk, zlib,
};
use agent_desk_avatar::{preview, probe, render, Limits};
use image::codecs::gif::GifEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{ExtendedColorType, Frame, ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};

const MUTATIONS_PER_SEED: usize = 400;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let picture = RgbImage::from_fn(48, 32, |x, y| {
        Rgb([(x * 5) as u8, (y * 7) as u8, ((x + y) * 3) as u8])
    });
    let mut png = Vec::new();
    let rgba = RgbaImage::from_fn(40, 30, |x, y| {
        Rgba([(x * 6) as u8, (y * 8) as u8, 90, (x * y % 256) as u8])
    });
    PngEncoder::new(&mut png)
        .write_image(rgba.as_raw(), 40, 30, ExtendedColorType::Rgba8)
        .unwrap();
    let mut gif = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut gif);
        for shade in [40u8, 200] {
            encoder
                .encode_frame(Frame::new(RgbaImage::from_pixel(
                    24,
                    24,
                    Rgba([shade, 90, 160, 255]),
                )))
                .unwrap();
        }
    }
    let mut webp = Vec::new();
    WebPEncoder::new_lossless(&mut webp)
        .write_image(picture.as_raw(), 48, 32, ExtendedColorType::Rgb8)
        .unwrap();
    vec![
        ("JPEG with EXIF", with_exif(&jpeg(&picture), 6)),
        ("PNG with alpha", png),
        ("animated GIF", gif),
        ("WebP", webp),
        (
            "CMYK JPEG",
            include_bytes!("fixtures/cmyk-red.jpg").to_vec(),
        ),
        // Metadata that is vetted before decoding: damaged lengths, streams and claims.
        (
            "PNG with an ICC profile",
            with_png_chunk(
                &fixtures::png(&picture),
                *b"iCCP",
                &iccp_data(&zlib(
                    &moxcms::ColorProfile::new_display_p3().encode().unwrap(),
                )),
            ),
        ),
        ("extended WebP with EXIF", webp_claiming(*b"EXIF", 16)),
    ]
}

fn mutate(seed: &[u8], random: &mut XorShift) -> Vec<u8> {
    let mut file = seed.to_vec();
    match random.below(4) {
        0 => {
            for _ in 0..=random.below(8) {
                let at = random.below(file.len());
                file[at] ^= 1 << random.below(8);
            }
        }
        1 => file.truncate(random.below(file.len())),
        2 => {
            let (from, to) = (random.below(file.len()), random.below(file.len()));
            let length = random.below(64).min(file.len() - from);
            let chunk = file[from..from + length].to_vec();
            file.splice(to..to, chunk);
        }
        _ => {
            // Large values where sizes and lengths live.
            let at = random.below(file.len().saturating_sub(2));
            file[at] = 0xFF;
            file[at + 1] = random.next() as u8;
        }
    }
    file
}

#[test]
fn damaged_files_are_refused_or_read_never_panic() {
    let limits = Limits {
        max_side: 4096,
        max_pixels: 4_000_000,
        max_alloc: 64 * 1024 * 1024,
        ..Limits::default()
    };
    let mut random = XorShift(0x9E37_79B9_7F4A_7C15);
    for (name, seed) in seeds() {
        assert!(
            render(&seed, &limits, None, &[64]).is_ok(),
            "the {name} seed itself is readable"
        );
        let (mut read, mut refused) = (0, 0);
        for _ in 0..MUTATIONS_PER_SEED {
            let file = mutate(&seed, &mut random);
            let _ = probe(&file, &limits);
            let _ = preview(&file, &limits, 128);
            match render(&file, &limits, None, &[64, 32]) {
                Ok(images) => {
                    assert_eq!(images.len(), 2);
                    read += 1;
                }
                Err(_) => refused += 1,
            }
        }
        // Both paths are exercised: some damage is survivable, some is not.
        assert!(
            read > 0 && refused > 0,
            "{name}: {read} read, {refused} refused"
        );
    }
}
