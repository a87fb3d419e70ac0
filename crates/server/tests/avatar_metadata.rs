//! Photos whose metadata would cost the server far more memory than their size, uploaded
//! over real HTTP to the real binary: a 150 KB PNG whose ICC profile inflates to 150 MB,
//! and a WebP whose last chunk claims to be a 4 GiB ICC profile. Both are taken, without
//! their profile, and the server's memory is read from `/proc/<pid>/status` around them.

mod support;

use agent_desk_avatar::fixtures::{png, png_with_icc_bomb, quadrants, webp_claiming};
use image::RgbImage;
use reqwest::{Method, StatusCode};
use support::*;

const MB: u64 = 1_000_000;

/// A field of `/proc/<pid>/status` in bytes: `VmHWM` (the most ever resident) or
/// `VmPeak` (the most ever mapped).
fn memory(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read the status");
    let kilobytes = status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no {field} in {status}"));
    kilobytes * 1024
}

/// Uploads `body` and answers the stored 512 px photo.
async fn upload_ok(server: &Server, token: &str, content_type: &str, body: Vec<u8>) -> RgbImage {
    let profile = expect_json(
        put_avatar(server, token, content_type, body).await,
        StatusCode::OK,
    )
    .await;
    let url = profile["avatar_url"].as_str().expect("an avatar_url");
    let response = server
        .request(Method::GET, url, Some(token))
        .send()
        .await
        .expect("GET the photo");
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.bytes().await.expect("the photo's bytes");
    image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)
        .expect("a JPEG")
        .into_rgb8()
}

/// Red top-left, green top-right, blue bottom-left, white bottom-right: decoded as sRGB.
fn assert_quadrants(photo: &RgbImage) {
    let (w, h) = photo.dimensions();
    let red = photo.get_pixel(w / 4, h / 4);
    let green = photo.get_pixel(3 * w / 4, h / 4);
    let blue = photo.get_pixel(w / 4, 3 * h / 4);
    let white = photo.get_pixel(3 * w / 4, 3 * h / 4);
    assert!(red[0] > 180 && red[1] < 80, "red: {red:?}");
    assert!(green[1] > 160 && green[0] < 80, "green: {green:?}");
    assert!(blue[2] > 180 && blue[0] < 80, "blue: {blue:?}");
    assert!(white.0.iter().all(|&c| c > 220), "white: {white:?}");
}

#[tokio::test]
async fn a_png_whose_icc_profile_inflates_to_150_mb_is_taken_without_it_and_its_memory() {
    let server = Server::with_agent().await;
    let token = server.login(EMAIL, PASSWORD).await;
    let pid = server.pid();
    // An ordinary photo first, so what any upload costs once (threads, buffers) is paid.
    assert_quadrants(&upload_ok(&server, &token, "image/png", png(&quadrants(64, 64))).await);

    let bomb = png_with_icc_bomb(150 * MB as usize);
    assert!(bomb.len() < 200_000, "a small file: {} bytes", bomb.len());
    let before = memory(pid, "VmHWM");
    let photo = upload_ok(&server, &token, "image/png", bomb).await;
    let after = memory(pid, "VmHWM");
    assert_quadrants(&photo);
    let grown = after.saturating_sub(before);
    eprintln!(
        "peak resident memory: {} MB before the upload, {} MB after",
        before / MB,
        after / MB
    );
    assert!(
        grown < 60 * MB,
        "the server's peak resident memory grew by {} MB ({} → {} MB)",
        grown / MB,
        before / MB,
        after / MB
    );
    server.assert_healthy().await;
}

#[tokio::test]
async fn a_webp_whose_icc_profile_claims_4_gib_is_taken_without_mapping_it() {
    let server = Server::with_agent().await;
    let token = server.login(EMAIL, PASSWORD).await;
    let pid = server.pid();
    assert_quadrants(&upload_ok(&server, &token, "image/png", png(&quadrants(64, 64))).await);

    let before = memory(pid, "VmPeak");
    let photo = upload_ok(
        &server,
        &token,
        "image/webp",
        webp_claiming(*b"ICCP", 0xFFFF_FFF0),
    )
    .await;
    let after = memory(pid, "VmPeak");
    assert_quadrants(&photo);
    eprintln!(
        "peak mapped memory: {} MB before the upload, {} MB after",
        before / MB,
        after / MB
    );
    // Zeroed pages are mapped, not resident: a 4 GiB request shows in the mapping only
    // (and aborts the server where memory is not overcommitted). Without it the mapping
    // still grows by an allocator arena or two (64 MB each) for threads new to uploads.
    assert!(
        after.saturating_sub(before) < 2_000 * MB,
        "the server's peak mapped memory grew by {} MB ({} → {} MB)",
        after.saturating_sub(before) / MB,
        before / MB,
        after / MB
    );
    server.assert_healthy().await;
}
