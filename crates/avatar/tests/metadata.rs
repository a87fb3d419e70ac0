//! Metadata that would cost far more memory than the photo: a PNG whose ICC profile
//! inflates to 150 MB, WebPs whose ICC or EXIF chunk claims gigabytes. Every allocation
//! of this test binary is counted, so each test sees the peak its photo cost.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use agent_desk_avatar::fixtures::{
    iccp_data, png, png_with_icc_bomb, quadrants, webp_claiming, with_png_chunk, zlib, BLUE, GREEN,
    RED, WHITE,
};
use agent_desk_avatar::{preview, probe, render, Limits};
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder, Rgb, RgbImage};

/// Counts the bytes held and the most ever held at once.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn held(more: usize) {
    let now = HELD.fetch_add(more, Ordering::SeqCst) + more;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

fn released(less: usize) {
    HELD.fetch_sub(less, Ordering::SeqCst);
}

// SAFETY: every call is passed on to the system allocator unchanged; only counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            held(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            held(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        released(layout.size());
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            held(new_size);
            released(layout.size());
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One measurement at a time: the tests of this binary run on parallel threads.
static MEASURING: Mutex<()> = Mutex::new(());

fn measuring() -> MutexGuard<'static, ()> {
    MEASURING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `work` and answers its result and the most it held at once beyond what was held
/// before it started.
fn peak_of<T>(work: impl FnOnce() -> T) -> (T, usize) {
    let before = HELD.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let result = work();
    (result, PEAK.load(Ordering::SeqCst).saturating_sub(before))
}

const MB: usize = 1_000_000;
/// What a 64 × 64 photo costs through the whole pipeline, with room to spare; the bombs
/// below would cost 150 MB and more.
const SMALL_PHOTO_BUDGET: usize = 24 * MB;

fn decode_jpeg(bytes: &[u8]) -> RgbImage {
    image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg)
        .expect("a JPEG")
        .into_rgb8()
}

fn assert_quadrants(jpeg: &[u8], context: &str) {
    let image = decode_jpeg(jpeg);
    let (w, h) = image.dimensions();
    let corners = [
        *image.get_pixel(w / 4, h / 4),
        *image.get_pixel(3 * w / 4, h / 4),
        *image.get_pixel(w / 4, 3 * h / 4),
        *image.get_pixel(3 * w / 4, 3 * h / 4),
    ];
    for (actual, expected) in corners.iter().zip([RED, GREEN, BLUE, WHITE]) {
        assert!(
            actual
                .0
                .iter()
                .zip(expected.0)
                .all(|(&a, e)| a.abs_diff(e) <= 24),
            "{context}: corners {corners:?}"
        );
    }
}

#[test]
fn a_png_whose_icc_profile_inflates_to_150_mb_is_read_without_it() {
    let _one_at_a_time = measuring();
    let file = png_with_icc_bomb(150 * MB);
    assert!(file.len() < 200_000, "a small file: {} bytes", file.len());
    let limits = Limits::default();

    let (info, peak) = peak_of(|| probe(&file, &limits));
    let info = info.expect("the header reads");
    assert_eq!((info.width, info.height), (64, 64));
    assert!(
        peak < SMALL_PHOTO_BUDGET,
        "probing held {peak} bytes at once"
    );

    let (rendered, peak) = peak_of(|| render(&file, &limits, None, &[128, 64]));
    let rendered = rendered.expect("the photo is taken, without its profile");
    assert!(
        peak < SMALL_PHOTO_BUDGET,
        "rendering held {peak} bytes at once"
    );
    // Without a profile the pixels are taken as sRGB: the colours come out as they went in.
    assert_quadrants(&rendered[0], "rendered");

    let (shown, peak) = peak_of(|| preview(&file, &limits, 1024));
    let shown = shown.expect("the preview is made");
    assert!(
        peak < SMALL_PHOTO_BUDGET,
        "the preview held {peak} bytes at once"
    );
    assert_quadrants(&shown.jpeg, "preview");
}

#[test]
fn a_png_icc_profile_just_over_the_bound_is_dropped_and_one_under_it_is_read() {
    let _one_at_a_time = measuring();
    let limits = Limits::default();
    // 5 MB of zeros: over the 4 MiB bound, yet well within the decoding budget, which is
    // what the png crate alone would have allowed.
    let (rendered, peak) = peak_of(|| render(&png_with_icc_bomb(5 * MB), &limits, None, &[64]));
    assert_quadrants(&rendered.expect("taken without the profile")[0], "5 MB");
    assert!(peak < 5 * MB, "held {peak} bytes at once");
    // 3 MB is within the bound: inflated (and found not to be a profile, so ignored).
    let (rendered, peak) = peak_of(|| render(&png_with_icc_bomb(3 * MB), &limits, None, &[64]));
    assert_quadrants(&rendered.expect("taken")[0], "3 MB");
    assert!(peak >= 3 * MB, "the profile was read: {peak} bytes at once");
}

#[test]
fn a_corrupt_or_cut_off_png_icc_profile_is_ignored() {
    let _one_at_a_time = measuring();
    let photo = png(&quadrants(64, 64));
    let profile = moxcms::ColorProfile::new_display_p3()
        .encode()
        .expect("a P3 profile");
    let zlib = zlib(&profile);
    for (name, data) in [
        (
            "garbage stream",
            iccp_data(&[0x78, 0x9C, 0xFF, 0xFF, 0xFF, 0x00, 0x13]),
        ),
        ("cut-off stream", iccp_data(&zlib[..zlib.len() / 2])),
        ("empty stream", iccp_data(&[])),
        ("no profile name", b"\0\0\x78\x9C".to_vec()),
        ("unknown compression", {
            let mut data = iccp_data(&zlib);
            data[12] = 7;
            data
        }),
        ("nothing at all", Vec::new()),
    ] {
        let file = with_png_chunk(&photo, *b"iCCP", &data);
        let rendered = render(&file, &Limits::default(), None, &[64])
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_quadrants(&rendered[0], name);
    }
}

#[test]
fn a_small_png_icc_profile_is_still_applied() {
    let _one_at_a_time = measuring();
    let p3 = moxcms::ColorProfile::new_display_p3()
        .encode()
        .expect("a P3 profile");
    let green = RgbImage::from_pixel(32, 32, Rgb([40, 180, 60]));
    let mut tagged = Vec::new();
    let mut encoder = PngEncoder::new(&mut tagged);
    encoder.set_icc_profile(p3).expect("PNG takes a profile");
    encoder
        .write_image(green.as_raw(), 32, 32, ExtendedColorType::Rgb8)
        .expect("encoding to memory");

    let converted =
        decode_jpeg(&render(&tagged, &Limits::default(), None, &[64]).expect("taken")[0]);
    let plain =
        decode_jpeg(&render(&png(&green), &Limits::default(), None, &[64]).expect("taken")[0]);
    let (c, p) = (converted.get_pixel(32, 32), plain.get_pixel(32, 32));
    assert!(
        c[0] + 10 < p[0] && c[2] + 10 < p[2],
        "the P3 profile was applied: {c:?} vs sRGB {p:?}"
    );
}

#[test]
fn webp_metadata_claiming_gigabytes_is_not_read() {
    let _one_at_a_time = measuring();
    let limits = Limits::default();
    for kind in [*b"ICCP", *b"EXIF"] {
        let name = String::from_utf8_lossy(&kind).into_owned();
        let file = webp_claiming(kind, 0xFFFF_FFF0);
        let (rendered, peak) = peak_of(|| render(&file, &limits, None, &[64]));
        let rendered = rendered.unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_quadrants(&rendered[0], &name);
        assert!(
            peak < SMALL_PHOTO_BUDGET,
            "{name}: held {peak} bytes at once"
        );
    }
}
