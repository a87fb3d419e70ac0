//! The real app and server: pick a photo through the file input, crop and turn it in
//! the editor, save, see it in the app and on the server; an oversized file refused in
//! the app; remove the photo and see the initials again.

use agent_desk_avatar::fixtures::{jpeg, quadrants, BLUE, GREEN, RED, WHITE};
use agent_desk_e2e::{
    api_login, save_screenshot, sign_in, wait_for, wait_for_text, Desktop, DEMO_EMAIL,
    DEMO_PASSWORD,
};
use anyhow::{ensure, Context, Result};
use fantoccini::{Client, Locator};
use image::{Rgb, RgbImage};

/// The remove-photo confirmation's confirm button.
const CONFIRM_REMOVE: &str = "#remove-photo-dialog [data-action=confirm]";

fn close(actual: Rgb<u8>, expected: Rgb<u8>) -> bool {
    actual
        .0
        .iter()
        .zip(expected.0)
        .all(|(&a, e)| a.abs_diff(e) <= 30)
}

/// The demo agent's `avatar_url` and, when set, the stored 512 px photo.
async fn stored_photo(server_url: &str) -> Result<Option<RgbImage>> {
    let (_, token) = api_login(server_url, DEMO_EMAIL, DEMO_PASSWORD).await?;
    let http = reqwest::Client::new();
    let me: serde_json::Value = http
        .get(format!("{server_url}/api/v1/me"))
        .bearer_auth(token.as_deref().context("a token")?)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let Some(url) = me["avatar_url"].as_str() else {
        return Ok(None);
    };
    let bytes = http
        .get(format!("{server_url}{url}"))
        .bearer_auth(token.as_deref().context("a token")?)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    Ok(Some(image::load_from_memory(&bytes)?.into_rgb8()))
}

async fn choose_file(app: &Client, path: &std::path::Path) -> Result<()> {
    let input = wait_for(app, "#photo-file").await?;
    input.send_keys(&path.display().to_string()).await?;
    Ok(())
}

async fn src_of(app: &Client, css: &str) -> Result<String> {
    Ok(wait_for(app, css)
        .await?
        .attr("src")
        .await?
        .unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_uploads_crops_and_removes_a_photo() -> Result<()> {
    let desktop = Desktop::start()?;
    let app = desktop.launch_app().await?;
    sign_in(&app, &desktop.server_url, DEMO_EMAIL, DEMO_PASSWORD).await?;

    // No photo yet: initials (Dana Demo), in the Photo section and the header; the
    // limits are stated before a file is picked.
    wait_for_text(&app, "[data-testid=avatar-initials]", "DD").await?;
    wait_for(&app, "[data-testid=header-avatar]").await?;
    wait_for_text(&app, "[data-testid=photo-limits]", "5 MB").await?;

    // An oversized file is refused in the app, with the limit, before any upload.
    let oversized = desktop.root.path().join("holiday-raw.jpg");
    let mut bytes = jpeg(&quadrants(64, 64));
    bytes.resize(6_000_000, 0);
    std::fs::write(&oversized, &bytes)?;
    choose_file(&app, &oversized).await?;
    wait_for_text(&app, "[data-testid=photo-error]", "5 MB").await?;
    ensure!(
        stored_photo(&desktop.server_url).await?.is_none(),
        "an oversized file reached the server"
    );

    // A 1200 × 800 photo: the editor opens on the centred square; turn it clockwise once.
    let photo = desktop.root.path().join("portrait.jpg");
    std::fs::write(&photo, jpeg(&quadrants(1200, 800)))?;
    choose_file(&app, &photo).await?;
    wait_for(&app, "[data-testid=crop-dialog]").await?;
    save_screenshot(&app, "photo-crop.png").await?;
    wait_for(&app, "#crop-rotate-right").await?.click().await?;
    wait_for(&app, "#crop-save").await?.click().await?;

    // The new photo shows in the Photo section and the header.
    let shown = src_of(&app, "[data-testid=avatar-image]").await?;
    ensure!(
        shown.starts_with("data:image/jpeg;base64,"),
        "the photo shows as {shown:.40}"
    );
    let header = app
        .find(Locator::Css("img[data-testid=header-avatar]"))
        .await?;
    ensure!(
        header.attr("src").await?.is_some_and(|src| src == shown),
        "the header shows another image"
    );
    save_screenshot(&app, "photo.png").await?;

    // On the server: the centred 800 × 800 square turned clockwise, so blue (bottom-left)
    // is now top-left, red top-right, white bottom-left and green bottom-right.
    let stored = stored_photo(&desktop.server_url)
        .await?
        .context("no photo on the server")?;
    ensure!(
        stored.dimensions() == (512, 512),
        "stored {:?}",
        stored.dimensions()
    );
    for ((x, y), expected) in [
        ((128, 128), BLUE),
        ((384, 128), RED),
        ((128, 384), WHITE),
        ((384, 384), GREEN),
    ] {
        let actual = *stored.get_pixel(x, y);
        ensure!(
            close(actual, expected),
            "at ({x}, {y}) the stored photo is {actual:?}, expected {expected:?}"
        );
    }

    // Remove it, confirming: initials again, here and on the server.
    wait_for(&app, "#remove-photo").await?.click().await?;
    wait_for(&app, CONFIRM_REMOVE).await?.click().await?;
    wait_for_text(&app, "[data-testid=avatar-initials]", "DD").await?;
    ensure!(
        stored_photo(&desktop.server_url).await?.is_none(),
        "the photo is still on the server"
    );
    Ok(())
}
