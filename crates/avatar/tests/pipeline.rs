//! The photo pipeline end to end on real encoded files of every accepted format,
//! including hostile and broken ones.

use agent_desk_avatar::fixtures::{
    jpeg, jpeg_claiming, png_claiming, quadrants, with_exif, BLUE, GREEN, RED, WHITE,
};
use agent_desk_avatar::{preview, probe, render, AvatarError, Format, Limits};
use agent_desk_core::AvatarCrop;
use image::codecs::gif::GifEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ExtendedColorType, Frame, ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};

fn png(image: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    image.write_with_encoder(PngEncoder::new(&mut out)).unwrap();
    out
}

fn decode(bytes: &[u8]) -> RgbImage {
    image::load_from_memory(bytes).unwrap().into_rgb8()
}

fn close(actual: Rgb<u8>, expected: Rgb<u8>) -> bool {
    actual
        .0
        .iter()
        .zip(expected.0)
        .all(|(&a, e)| a.abs_diff(e) <= 24)
}

/// The colours at the centres of the four quadrants: TL, TR, BL, BR.
fn corners(image: &RgbImage) -> [Rgb<u8>; 4] {
    let (w, h) = image.dimensions();
    [
        *image.get_pixel(w / 4, h / 4),
        *image.get_pixel(3 * w / 4, h / 4),
        *image.get_pixel(w / 4, 3 * h / 4),
        *image.get_pixel(3 * w / 4, 3 * h / 4),
    ]
}

fn assert_corners(image: &RgbImage, expected: [Rgb<u8>; 4], context: &str) {
    let actual = corners(image);
    for (a, e) in actual.iter().zip(expected) {
        assert!(
            close(*a, e),
            "{context}: corners {actual:?}, expected {expected:?}"
        );
    }
}

fn crop(x: u32, y: u32, size: u32, quarter_turns: u8) -> AvatarCrop {
    AvatarCrop {
        x,
        y,
        size,
        quarter_turns,
    }
}

#[test]
fn every_exif_orientation_is_applied() {
    let displayed = quadrants(120, 80);
    // The stored pixels are the displayed ones with the inverse transform applied.
    for (exif, inverse) in [
        (1, Orientation::NoTransforms),
        (2, Orientation::FlipHorizontal),
        (3, Orientation::Rotate180),
        (4, Orientation::FlipVertical),
        (5, Orientation::Rotate90FlipH),
        (6, Orientation::Rotate270),
        (7, Orientation::Rotate270FlipH),
        (8, Orientation::Rotate90),
    ] {
        let mut stored = DynamicImage::ImageRgb8(displayed.clone());
        stored.apply_orientation(inverse);
        let file = with_exif(&jpeg(&stored.into_rgb8()), exif);

        let info = probe(&file, &Limits::default()).unwrap();
        assert_eq!(
            (info.width, info.height),
            (120, 80),
            "orientation {exif}: displayed size"
        );
        let shown = preview(&file, &Limits::default(), 1024).unwrap();
        assert_eq!((shown.width, shown.height), (120, 80), "orientation {exif}");
        assert_corners(
            &decode(&shown.jpeg),
            [RED, GREEN, BLUE, WHITE],
            &format!("orientation {exif}"),
        );
    }
}

#[test]
fn crops_then_turns_clockwise() {
    let file = jpeg(&quadrants(400, 300));
    // A square around the centre holds all four quadrants.
    let expected = [
        [RED, GREEN, BLUE, WHITE],
        [BLUE, RED, WHITE, GREEN],
        [WHITE, BLUE, GREEN, RED],
        [GREEN, WHITE, RED, BLUE],
    ];
    for (turns, colours) in expected.into_iter().enumerate() {
        let out = render(
            &file,
            &Limits::default(),
            Some(crop(100, 50, 200, turns as u8)),
            &[512, 128],
        )
        .unwrap();
        assert_eq!(out.len(), 2);
        let large = decode(&out[0]);
        assert_eq!(large.dimensions(), (512, 512));
        assert_eq!(decode(&out[1]).dimensions(), (128, 128));
        assert_corners(&large, colours, &format!("{turns} quarter turns"));
    }
    // A crop inside one quadrant is that colour only.
    let green = decode(
        &render(
            &file,
            &Limits::default(),
            Some(crop(250, 10, 120, 0)),
            &[512],
        )
        .unwrap()[0],
    );
    assert_corners(&green, [GREEN; 4], "crop inside the green quadrant");
}

#[test]
fn without_a_crop_the_centred_square_is_used() {
    let wide = quadrants(300, 100);
    let out = render(&jpeg(&wide), &Limits::default(), None, &[128]).unwrap();
    // The centre 100 × 100 has red/green at the top and blue/white at the bottom.
    assert_corners(
        &decode(&out[0]),
        [RED, GREEN, BLUE, WHITE],
        "centred square",
    );
}

#[test]
fn crops_outside_the_photo_are_refused() {
    let file = jpeg(&quadrants(100, 80));
    for bad in [
        crop(0, 0, 0, 0),
        crop(0, 0, 81, 0),
        crop(30, 0, 80, 0),
        crop(0, 0, 10, 4),
        crop(u32::MAX, 0, 10, 0),
    ] {
        let error = render(&file, &Limits::default(), Some(bad), &[128]).unwrap_err();
        assert!(
            matches!(error, AvatarError::InvalidCrop(_)),
            "{bad:?}: {error}"
        );
    }
}

#[test]
fn orientation_and_crop_compose() {
    // Stored turned 90° anticlockwise with EXIF 6: the crop is in displayed pixels.
    let displayed = quadrants(400, 300);
    let mut stored = DynamicImage::ImageRgb8(displayed);
    stored.apply_orientation(Orientation::Rotate270);
    let file = with_exif(&jpeg(&stored.into_rgb8()), 6);
    let out = render(
        &file,
        &Limits::default(),
        Some(crop(250, 10, 120, 0)),
        &[128],
    )
    .unwrap();
    assert_corners(&decode(&out[0]), [GREEN; 4], "EXIF 6 then crop");
}

#[test]
fn shrink_on_load_keeps_a_large_jpeg_sharp_and_correct() {
    let file = jpeg(&quadrants(4000, 3000));
    let out = render(
        &file,
        &Limits::default(),
        Some(crop(1000, 500, 2000, 0)),
        &[512],
    )
    .unwrap();
    let image = decode(&out[0]);
    assert_corners(&image, [RED, GREEN, BLUE, WHITE], "large JPEG");
    // The edge between quadrants stays within a few pixels of the middle.
    let row: Vec<_> = (0..512).map(|x| *image.get_pixel(x, 100)).collect();
    let edge = row.iter().position(|p| close(*p, GREEN)).unwrap();
    assert!((254..=262).contains(&edge), "edge at {edge}");
}

#[test]
fn output_carries_no_metadata() {
    let file = with_exif(&jpeg(&quadrants(200, 200)), 6);
    assert!(file.windows(4).any(|w| w == b"Exif"));
    for out in render(&file, &Limits::default(), None, &[512, 128]).unwrap() {
        assert!(!out.windows(4).any(|w| w == b"Exif"), "EXIF survived");
        assert!(!out.windows(3).any(|w| w == b"GPS"), "GPS survived");
        // Only these markers appear before the scan: APP0 (JFIF), DQT, SOF0, DHT, SOS.
        let mut at = 2;
        while out[at] == 0xFF && out[at + 1] != 0xDA {
            let marker = out[at + 1];
            assert!(
                [0xE0, 0xDB, 0xC0, 0xC4].contains(&marker),
                "marker {marker:#x}"
            );
            at += 2 + usize::from(u16::from_be_bytes([out[at + 2], out[at + 3]]));
        }
    }
}

#[test]
fn png_transparency_is_flattened_onto_white() {
    let image = RgbaImage::from_fn(64, 64, |x, _| {
        if x < 32 {
            Rgba([0, 0, 0, 0])
        } else {
            Rgba([20, 40, 200, 255])
        }
    });
    let out = render(
        &png(&DynamicImage::ImageRgba8(image)),
        &Limits::default(),
        None,
        &[128],
    )
    .unwrap();
    let image = decode(&out[0]);
    assert!(
        close(*image.get_pixel(10, 64), Rgb([255, 255, 255])),
        "{:?}",
        image.get_pixel(10, 64)
    );
    assert!(
        close(*image.get_pixel(118, 64), Rgb([20, 40, 200])),
        "{:?}",
        image.get_pixel(118, 64)
    );
}

#[test]
fn sixteen_bit_png_is_read() {
    let image = image::ImageBuffer::<Rgb<u16>, _>::from_pixel(50, 50, Rgb([65535, 32768, 0]));
    let out = render(
        &png(&DynamicImage::ImageRgb16(image)),
        &Limits::default(),
        None,
        &[128],
    )
    .unwrap();
    assert_corners(&decode(&out[0]), [Rgb([255, 128, 0]); 4], "16-bit PNG");
}

#[test]
fn gif_uses_the_first_frame_of_an_animation() {
    let mut file = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut file);
        for colour in [Rgba([220, 30, 30, 255]), Rgba([30, 60, 220, 255])] {
            encoder
                .encode_frame(Frame::new(RgbaImage::from_pixel(40, 40, colour)))
                .unwrap();
        }
    }
    assert_eq!(
        probe(&file, &Limits::default()).unwrap().format,
        Format::Gif
    );
    let out = render(&file, &Limits::default(), None, &[128]).unwrap();
    assert_corners(&decode(&out[0]), [RED; 4], "first GIF frame");
}

#[test]
fn webp_is_read() {
    let mut file = Vec::new();
    let image = quadrants(80, 80);
    WebPEncoder::new_lossless(&mut file)
        .write_image(image.as_raw(), 80, 80, ExtendedColorType::Rgb8)
        .unwrap();
    assert_eq!(
        probe(&file, &Limits::default()).unwrap().format,
        Format::Webp
    );
    let out = render(&file, &Limits::default(), None, &[128]).unwrap();
    assert_corners(&decode(&out[0]), [RED, GREEN, BLUE, WHITE], "WebP");
}

#[test]
fn cmyk_jpeg_keeps_its_colour() {
    // Written by ImageMagick from #d02020 in CMYK with an Adobe marker.
    let file = include_bytes!("fixtures/cmyk-red.jpg");
    let out = render(file, &Limits::default(), None, &[128]).unwrap();
    assert_corners(&decode(&out[0]), [Rgb([208, 32, 32]); 4], "CMYK");
}

#[test]
fn wide_gamut_icc_profiles_are_converted_to_srgb() {
    let p3 = moxcms_profile();
    let green = RgbImage::from_pixel(32, 32, Rgb([40, 180, 60]));
    let mut tagged = Vec::new();
    let mut encoder = PngEncoder::new(&mut tagged);
    encoder.set_icc_profile(p3).unwrap();
    encoder
        .write_image(green.as_raw(), 32, 32, ExtendedColorType::Rgb8)
        .unwrap();
    let untagged = png(&DynamicImage::ImageRgb8(green));

    let converted = decode(&render(&tagged, &Limits::default(), None, &[128]).unwrap()[0]);
    let plain = decode(&render(&untagged, &Limits::default(), None, &[128]).unwrap()[0]);
    let (c, p) = (converted.get_pixel(64, 64), plain.get_pixel(64, 64));
    assert!(close(*p, Rgb([40, 180, 60])), "untagged stays as is: {p:?}");
    // Display P3 green is more saturated than sRGB's: in sRGB, red and blue drop.
    assert!(
        c[0] + 10 < p[0] && c[2] + 10 < p[2],
        "P3 {c:?} vs sRGB {p:?}"
    );
}

fn moxcms_profile() -> Vec<u8> {
    moxcms::ColorProfile::new_display_p3().encode().unwrap()
}

// ── Broken and hostile files ─────────────────────────────────────────────────────────

#[test]
fn empty_and_non_image_files_are_refused() {
    assert_eq!(probe(&[], &Limits::default()), Err(AvatarError::Empty));
    assert_eq!(
        probe(b"hello, this is text", &Limits::default()),
        Err(AvatarError::UnsupportedFormat)
    );
    // BMP and TIFF are images, but not accepted ones.
    assert_eq!(
        probe(b"BM\0\0\0\0\0\0\0\0\x36\0\0\0", &Limits::default()),
        Err(AvatarError::UnsupportedFormat)
    );
    assert_eq!(
        probe(b"II*\0\x08\0\0\0", &Limits::default()),
        Err(AvatarError::UnsupportedFormat)
    );
}

#[test]
fn files_over_the_byte_limit_are_refused_before_reading() {
    let file = jpeg(&quadrants(200, 200));
    let limits = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    let error = render(&file, &limits, None, &[128]).unwrap_err();
    assert_eq!(
        error,
        AvatarError::TooManyBytes {
            size: Some(file.len() as u64),
            limit: 100
        }
    );
}

#[test]
fn truncated_and_corrupt_files_are_refused() {
    let image = quadrants(300, 200);
    for (name, file) in [
        ("JPEG", jpeg(&image)),
        ("PNG", png(&DynamicImage::ImageRgb8(image.clone()))),
    ] {
        for cut in [file.len() / 2, 40, 12] {
            let error = render(&file[..cut], &Limits::default(), None, &[128]).unwrap_err();
            assert!(
                matches!(error, AvatarError::Undecodable(_)),
                "{name} cut at {cut}: {error:?}"
            );
        }
        let mut corrupt = file.clone();
        for byte in corrupt.iter_mut().skip(20).step_by(7) {
            *byte ^= 0x5A;
        }
        let error = render(&corrupt, &Limits::default(), None, &[128]).unwrap_err();
        assert!(
            matches!(
                error,
                AvatarError::Undecodable(_) | AvatarError::TooLarge { .. }
            ),
            "{name} corrupt: {error:?}"
        );
    }
}

#[test]
fn decompression_bombs_are_refused_from_the_header() {
    for (name, file) in [
        ("PNG 30000²", png_claiming(30_000, 30_000)),
        (
            "PNG 10000² (within the side limit, over the pixel limit)",
            png_claiming(10_000, 10_000),
        ),
        ("JPEG 30000²", jpeg_claiming(30_000, 30_000)),
        ("JPEG 65535 × 1000", jpeg_claiming(65_535, 1_000)),
    ] {
        assert!(file.len() < 1000, "{name} is a small file");
        for result in [
            probe(&file, &Limits::default()).err(),
            render(&file, &Limits::default(), None, &[128]).err(),
        ] {
            assert!(
                matches!(result, Some(AvatarError::TooLarge { .. })),
                "{name}: {result:?}"
            );
        }
    }
}

#[test]
fn memory_limit_applies_to_wide_pixels() {
    // 16-bit RGBA at 2000 × 2000 is 32 MB decoded; a 20 MB allowance refuses it.
    let image = image::ImageBuffer::<Rgba<u16>, _>::from_pixel(2000, 2000, Rgba([1, 2, 3, 65535]));
    let file = png(&DynamicImage::ImageRgba16(image));
    let limits = Limits {
        max_alloc: 20_000_000,
        max_bytes: u64::MAX,
        ..Limits::default()
    };
    let error = render(&file, &limits, None, &[128]).unwrap_err();
    assert!(
        matches!(error, AvatarError::TooLargeToDecode { .. }),
        "{error:?}"
    );
}

#[test]
fn a_zero_sized_frame_is_refused() {
    let file = png_claiming(0, 10);
    let error = probe(&file, &Limits::default()).unwrap_err();
    assert!(matches!(error, AvatarError::Undecodable(_)), "{error:?}");
}
