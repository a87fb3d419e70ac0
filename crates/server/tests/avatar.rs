//! Profile photos over real HTTP against the real binary: upload, serve, replace and
//! remove; every refusal with its status, code and limit; nothing stored from a
//! refused upload; no metadata in what is served.

mod support;

use agent_desk_avatar::fixtures::{jpeg, jpeg_claiming, png_claiming, with_exif};
use image::{ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;
use support::*;

/// Red left half, blue right half.
fn halves(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            Rgb([220, 30, 30])
        } else {
            Rgb([30, 60, 220])
        }
    })
}

async fn get_avatar(server: &Server, token: Option<&str>, url: &str) -> Response {
    server
        .request(Method::GET, url, token)
        .send()
        .await
        .expect("GET avatar")
}

fn decode(bytes: &[u8]) -> RgbImage {
    image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg)
        .expect("a JPEG")
        .into_rgb8()
}

fn stored_files(server: &Server) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(server.data_dir().join("avatars"))
        .map(|dir| {
            dir.map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

async fn avatar_changes(server: &Server, agent_id: &str) -> Vec<(Option<String>, Option<String>)> {
    let db = open_database(server.data_dir()).await;
    let log = agent_desk_server::agents::change_log(&db, agent_id)
        .await
        .expect("change log");
    db.close().await;
    log.into_iter()
        .filter(|entry| entry.field == "avatar_url")
        .map(|entry| (entry.old_value, entry.new_value))
        .collect()
}

#[tokio::test]
async fn the_policy_states_the_photo_limits() {
    let server = Server::with_agent().await;
    let policy = expect_json(
        server
            .request(Method::GET, "/api/v1/policy", None)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let avatar = &policy["avatar"];
    assert_eq!(avatar["max_bytes"], 5_000_000);
    assert_eq!(
        avatar["accepted_types"],
        serde_json::json!(["image/jpeg", "image/png", "image/gif", "image/webp"])
    );
    assert_eq!(avatar["min_side"], 200);
    assert!(
        avatar["max_side"].as_u64().unwrap() >= 4000
            && avatar["max_pixels"].as_u64().unwrap() >= 24_000_000
    );
}

#[tokio::test]
async fn an_uploaded_photo_is_re_encoded_square_and_served_with_caching() {
    let server = Server::with_agent().await;
    let token = server.login(EMAIL, PASSWORD).await;
    let (before, etag_before) = server.me(&token).await;
    assert_eq!(before["avatar_url"], Value::Null);

    // A 600 × 400 photo with EXIF and a GPS note: the centred square is kept.
    let upload = with_exif(&jpeg(&halves(600, 400)), 1);
    let response = put_avatar(&server, &token, "image/jpeg", upload.clone()).await;
    let etag = etag_of(response.headers());
    let profile = expect_json(response, StatusCode::OK).await;
    assert_ne!(etag, etag_before, "the version moved");
    assert_eq!(
        server.me(&token).await,
        (profile.clone(), etag.clone()),
        "GET /me agrees"
    );
    let url = profile["avatar_url"]
        .as_str()
        .expect("an avatar_url")
        .to_owned();
    assert!(url.starts_with("/api/v1/avatars/"), "{url}");

    let response = get_avatar(&server, Some(&token), &url).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers[CONTENT_TYPE], "image/jpeg");
    assert!(headers[CACHE_CONTROL]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let image_etag = headers[ETAG].to_str().unwrap().to_owned();
    let bytes = response.bytes().await.unwrap();
    assert_ne!(
        bytes.as_ref(),
        upload.as_slice(),
        "the upload itself is never served"
    );
    assert!(
        !bytes.windows(4).any(|w| w == b"Exif") && !bytes.windows(3).any(|w| w == b"GPS"),
        "metadata stripped"
    );
    let large = decode(&bytes);
    assert_eq!(large.dimensions(), (512, 512));
    // The centred square of red|blue halves is still red on the left, blue on the right.
    assert!(large.get_pixel(100, 256)[0] > 180 && large.get_pixel(400, 256)[2] > 180);

    let small = get_avatar(&server, Some(&token), &format!("{url}?size=128")).await;
    assert_eq!(
        decode(&small.bytes().await.unwrap()).dimensions(),
        (128, 128)
    );

    let revalidated = server
        .request(Method::GET, &url, Some(&token))
        .header(IF_NONE_MATCH, &image_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);

    expect_error(
        get_avatar(&server, Some(&token), &format!("{url}?size=300")).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("size"),
    )
    .await;
    expect_error(
        get_avatar(&server, None, &url).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        None,
    )
    .await;
    expect_error(
        get_avatar(
            &server,
            Some(&token),
            "/api/v1/avatars/0123456789abcdef0123456789abcdef",
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    expect_error(
        get_avatar(
            &server,
            Some(&token),
            "/api/v1/avatars/..%2F..%2Fagent-desk.db",
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;

    let agent_id = profile["id"].as_str().unwrap();
    assert_eq!(avatar_changes(&server, agent_id).await, [(None, Some(url))]);
}

#[tokio::test]
async fn replacing_and_removing_leave_only_the_current_photo() {
    let server = Server::with_agent().await;
    let token = server.login(EMAIL, PASSWORD).await;
    let first = expect_json(
        put_avatar(&server, &token, "image/jpeg", jpeg(&halves(300, 300))).await,
        StatusCode::OK,
    )
    .await;
    let first_url = first["avatar_url"].as_str().unwrap().to_owned();
    let png = {
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(
                halves(256, 256).as_raw(),
                256,
                256,
                image::ExtendedColorType::Rgb8,
            )
            .unwrap();
        out
    };
    let second = expect_json(
        put_avatar(&server, &token, "image/png", png).await,
        StatusCode::OK,
    )
    .await;
    let second_url = second["avatar_url"].as_str().unwrap().to_owned();
    assert_ne!(first_url, second_url, "a new photo has a new URL");
    expect_error(
        get_avatar(&server, Some(&token), &first_url).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;
    assert_eq!(
        stored_files(&server).len(),
        2,
        "512 and 128 of the current photo only: {:?}",
        stored_files(&server)
    );

    // Any signed-in agent may see a colleague's photo.
    add_agent_ok(
        server.data_dir(),
        "grace@example.com",
        "Grace Hopper",
        "Cobol-Compiler-1959",
    );
    let grace = server
        .login("grace@example.com", "Cobol-Compiler-1959")
        .await;
    assert_eq!(
        get_avatar(&server, Some(&grace), &second_url)
            .await
            .status(),
        StatusCode::OK
    );

    let response = server
        .request(Method::DELETE, "/api/v1/me/avatar", Some(&token))
        .send()
        .await
        .unwrap();
    let etag = etag_of(response.headers());
    let removed = expect_json(response, StatusCode::OK).await;
    assert_eq!(removed["avatar_url"], Value::Null);
    assert!(
        stored_files(&server).is_empty(),
        "{:?}",
        stored_files(&server)
    );
    expect_error(
        get_avatar(&server, Some(&token), &second_url).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await;

    // Removing again changes nothing.
    let again = server
        .request(Method::DELETE, "/api/v1/me/avatar", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(etag_of(again.headers()), etag);

    let agent_id = removed["id"].as_str().unwrap();
    assert_eq!(
        avatar_changes(&server, agent_id).await,
        [
            (None, Some(first_url.clone())),
            (Some(first_url), Some(second_url.clone())),
            (Some(second_url), None)
        ]
    );
}

#[tokio::test]
async fn transparency_is_flattened_onto_white() {
    let server = Server::with_agent().await;
    let token = server.login(EMAIL, PASSWORD).await;
    let image = RgbaImage::from_fn(200, 200, |x, _| {
        if x < 100 {
            Rgba([0, 0, 0, 0])
        } else {
            Rgba([30, 60, 220, 255])
        }
    });
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(image.as_raw(), 200, 200, image::ExtendedColorType::Rgba8)
        .unwrap();
    let profile = expect_json(
        put_avatar(&server, &token, "image/png", png).await,
        StatusCode::OK,
    )
    .await;
    let bytes = get_avatar(
        &server,
        Some(&token),
        profile["avatar_url"].as_str().unwrap(),
    )
    .await
    .bytes()
    .await
    .unwrap();
    let stored = decode(&bytes);
    assert!(
        stored.get_pixel(50, 256).0.iter().all(|&c| c > 245),
        "{:?}",
        stored.get_pixel(50, 256)
    );
}

#[tokio::test]
async fn refused_uploads_say_why_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
    let server = Server::start_with(
        dir,
        ServerOptions::default()
            .arg("--avatar-max-bytes")
            .arg("100000"),
    )
    .await;
    let token = server.login(EMAIL, PASSWORD).await;
    let before = server.me(&token).await;

    // 413, before decoding: the message states the limit.
    let big = jpeg(&RgbImage::from_fn(900, 900, |x, y| {
        Rgb([
            (x * 7 % 256) as u8,
            (y * 13 % 256) as u8,
            ((x ^ y) % 256) as u8,
        ])
    }));
    assert!(big.len() > 100_000, "{} bytes", big.len());
    let response = send_oversized(
        || {
            server
                .request(Method::PUT, "/api/v1/me/avatar", Some(&token))
                .header(CONTENT_TYPE, "image/jpeg")
                .body(big.clone())
        },
        "oversized photo",
    )
    .await;
    let body = expect_error(
        response,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        None,
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("100 KB"),
        "{body}"
    );

    let cases: Vec<(&str, &str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "JSON",
            "application/json",
            b"{\"photo\": 1}".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_image",
        ),
        (
            "no content type",
            "",
            jpeg(&halves(50, 50)),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_image",
        ),
        (
            "text called PNG",
            "image/png",
            b"not really an image".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_image",
        ),
        (
            "BMP",
            "image/bmp",
            b"BM\0\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_image",
        ),
        (
            "empty",
            "image/jpeg",
            Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_image",
        ),
        (
            "truncated JPEG",
            "image/jpeg",
            jpeg(&halves(300, 300))[..400].to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_image",
        ),
        (
            "PNG bomb 30000²",
            "image/png",
            png_claiming(30_000, 30_000),
            StatusCode::UNPROCESSABLE_ENTITY,
            "image_too_large",
        ),
        (
            "JPEG bomb 60000²",
            "image/jpeg",
            jpeg_claiming(60_000, 60_000),
            StatusCode::UNPROCESSABLE_ENTITY,
            "image_too_large",
        ),
    ];
    for (what, content_type, body, status, code) in cases {
        let mut request = server
            .request(Method::PUT, "/api/v1/me/avatar", Some(&token))
            .body(body);
        if !content_type.is_empty() {
            request = request.header(CONTENT_TYPE, content_type);
        }
        let response = request.send().await.unwrap();
        let error = expect_error(response, status, code, None).await;
        let message = error["error"]["message"].as_str().unwrap();
        if code == "unsupported_image" {
            assert!(
                message.contains("JPEG, PNG, GIF or WebP"),
                "{what}: {message}"
            );
        }
        if code == "image_too_large" {
            assert!(message.contains("megapixels"), "{what}: {message}");
        }
        server.assert_unchanged(&token, &before, what).await;
    }
    assert!(
        stored_files(&server).is_empty(),
        "nothing stored: {:?}",
        stored_files(&server)
    );

    expect_error(
        put_avatar(&server, "not-a-token", "image/jpeg", jpeg(&halves(50, 50))).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        None,
    )
    .await;
    // The server is still well after all of that.
    assert_eq!(
        put_avatar(&server, &token, "image/jpeg", jpeg(&halves(300, 300)))
            .await
            .status(),
        StatusCode::OK
    );
}
