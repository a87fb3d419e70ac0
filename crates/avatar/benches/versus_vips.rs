//! The photo pipeline next to `vipsthumbnail` and ImageMagick's `convert` on the same
//! files, in the same run: a deterministic 12-megapixel JPEG (4000 × 3000) and a
//! 24-megapixel PNG (6000 × 4000), each cropped to its centred square and made 512 px.
//!
//! Every tool runs as its own process, this pipeline included (the bench re-runs itself
//! as a child), so start-up counts alike; the in-process time is printed too. Peak memory
//! is each process's maximum resident set. `cargo bench -p agent-desk-avatar --bench versus_vips`

use std::process::Command;
use std::time::{Duration, Instant};

use agent_desk_avatar::{render, Limits};
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder, RgbImage};

const CHILD: &str = "AVATAR_BENCH_RENDER";
const MEASURE: &str = "AVATAR_BENCH_MEASURE";
const RUNS: usize = 9;

/// Looks like a photo to an encoder: smooth gradients, shapes and mild noise.
fn photo_like(width: u32, height: u32, noise: u32) -> RgbImage {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let jitter = if noise == 0 {
            0
        } else {
            (state % u64::from(noise)) as i32 - noise as i32 / 2
        };
        let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
        let disc = ((fx - 0.5).powi(2) + (fy - 0.45).powi(2)).sqrt() < 0.25;
        let base = if disc {
            [225.0 - 60.0 * fy, 180.0 - 40.0 * fx, 150.0]
        } else {
            [60.0 + 120.0 * fx, 90.0 + 100.0 * fy, 160.0 - 80.0 * fx * fy]
        };
        image::Rgb(base.map(|c| (c as i32 + jitter).clamp(0, 255) as u8))
    })
}

fn limits() -> Limits {
    // The files are larger than an upload may be; the bench times the pipeline.
    Limits {
        max_bytes: u64::MAX,
        ..Limits::default()
    }
}

fn main() {
    if std::env::var_os(MEASURE).is_some() {
        measure_child();
        return;
    }
    if let Ok(input) = std::env::var(CHILD) {
        let bytes = std::fs::read(&input).expect("read the input");
        let out = render(&bytes, &limits(), None, &[512]).expect("render");
        std::fs::write(format!("{input}.ours.jpg"), &out[0]).expect("write the output");
        return;
    }
    if std::env::args().any(|arg| arg == "--list" || arg.starts_with("--format")) {
        return; // `cargo test --benches` lists benches; there are no tests here.
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let jpeg_path = dir.path().join("photo-12mp.jpg");
    let png_path = dir.path().join("photo-24mp.png");
    std::fs::write(
        &jpeg_path,
        agent_desk_avatar::fixtures::jpeg_with_quality(&photo_like(4000, 3000, 24), 90),
    )
    .expect("write the JPEG");
    let mut png = Vec::new();
    let big = photo_like(6000, 4000, 0);
    PngEncoder::new_with_quality(&mut png, CompressionType::Fast, FilterType::Adaptive)
        .write_image(big.as_raw(), 6000, 4000, ExtendedColorType::Rgb8)
        .expect("encode the PNG");
    std::fs::write(&png_path, png).expect("write the PNG");

    let have = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let (vips, magick) = (have("vipsthumbnail"), have("convert"));
    if !vips || !magick {
        eprintln!("vipsthumbnail ({vips}) or convert ({magick}) is missing: apt install libvips-tools imagemagick");
    }
    for (name, path) in [
        ("12 MP JPEG (4000 × 3000)", &jpeg_path),
        ("24 MP PNG (6000 × 4000)", &png_path),
    ] {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        println!(
            "\n{name}, {:.1} MB, centred square → 512 px JPEG, median of {RUNS}:",
            size as f64 / 1e6
        );
        let bytes = std::fs::read(path).expect("read");
        let in_process = median((0..RUNS).map(|_| {
            let start = Instant::now();
            render(&bytes, &limits(), None, &[512]).expect("render");
            (start.elapsed(), 0)
        }))
        .0;
        let ours = run(Command::new(std::env::current_exe().expect("this bench")).env(CHILD, path));
        println!(
            "  agent-desk-avatar   {:>8.1} ms   peak {:>6.1} MiB   (in process {:.1} ms)",
            ms(ours.0),
            mib(ours.1),
            ms(in_process)
        );
        if vips {
            let out = format!("{}.vips.jpg[Q=86,strip]", path.display());
            let theirs = run(Command::new("vipsthumbnail").arg(path).args([
                "--size",
                "512x512",
                "--smartcrop",
                "centre",
                "-o",
                &out,
            ]));
            report("vipsthumbnail", ours, theirs);
        }
        if magick {
            let out = format!("{}.magick.jpg", path.display());
            let theirs = run(Command::new("convert").arg(path).args([
                "-resize", "512x512^", "-gravity", "center", "-extent", "512x512", "-strip",
                "-quality", "86", &out,
            ]));
            report("convert", ours, theirs);
            let hinted = run(Command::new("convert")
                .args(["-define", "jpeg:size=1024x1024"])
                .arg(path)
                .args([
                    "-resize", "512x512^", "-gravity", "center", "-extent", "512x512", "-strip",
                    "-quality", "86", &out,
                ]));
            report("convert (jpeg:size)", ours, hinted);
        }
    }
}

fn report(tool: &str, ours: (Duration, u64), theirs: (Duration, u64)) {
    println!(
        "  {tool:<19} {:>8.1} ms   peak {:>6.1} MiB   ours/theirs: time {:.2}×, memory {:.2}×",
        ms(theirs.0),
        mib(theirs.1),
        ours.0.as_secs_f64() / theirs.0.as_secs_f64(),
        ours.1 as f64 / theirs.1.max(1) as f64,
    );
}

/// Median wall time and the largest peak resident set of `RUNS` runs of a command.
///
/// Each run is started from a fresh, small copy of this bench: Linux counts a child's
/// peak from its parent's size at fork, and this process holds the test images.
fn run(command: &mut Command) -> (Duration, u64) {
    median((0..RUNS).map(|_| {
        let mut measure = Command::new(std::env::current_exe().expect("this bench"));
        measure
            .env(MEASURE, "1")
            .arg(command.get_program())
            .args(command.get_args());
        for (key, value) in command.get_envs() {
            if let Some(value) = value {
                measure.env(key, value);
            }
        }
        let output = measure.output().expect("run the measured command");
        assert!(
            output.status.success(),
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8_lossy(&output.stdout);
        let mut fields = text
            .split_whitespace()
            .map(|f| f.parse::<u64>().expect("a number"));
        let (nanos, peak) = (fields.next().expect("time"), fields.next().expect("peak"));
        (Duration::from_nanos(nanos), peak)
    }))
}

/// Runs the command in this process's arguments; prints its wall time (ns) and peak
/// resident set (bytes).
fn measure_child() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let start = Instant::now();
    // Reaped by wait4 below, which also answers the peak that `wait` cannot.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(&args[0])
        .args(&args[1..])
        .env_remove(MEASURE)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start the command");
    let (status, peak) = wait_with_peak(child.id());
    let elapsed = start.elapsed();
    if status != 0 {
        std::process::exit(1);
    }
    println!("{} {peak}", elapsed.as_nanos());
}

/// Waits for a child and answers its exit status and peak resident set in bytes.
fn wait_with_peak(pid: u32) -> (i32, u64) {
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid, and wait4 only writes into the two locals.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    assert!(waited == pid as libc::pid_t, "wait4 failed");
    (status, usage.ru_maxrss as u64 * 1024)
}

fn median(samples: impl Iterator<Item = (Duration, u64)>) -> (Duration, u64) {
    let mut samples: Vec<_> = samples.collect();
    let peak = samples.iter().map(|s| s.1).max().unwrap_or(0);
    samples.sort();
    (samples[samples.len() / 2].0, peak)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
