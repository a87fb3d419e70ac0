//! The desktop app's updates from the team's own server: `publish-release` stores a
//! bundle with its signature, the update check offers the newest release newer than the
//! app's for its system, processor and kind of install (204 otherwise), and the bundle is
//! served byte for byte. Bad input is refused by name and stores nothing.

mod support;

use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use support::{expect_error, expect_json, run, Server};

/// A bundle as the bundler names it, with its `.sig` beside it.
fn bundle(dir: &Path, name: &str, bytes: &[u8], signature: &str) -> (PathBuf, PathBuf) {
    let file = dir.join(name);
    std::fs::write(&file, bytes).expect("bundle");
    let sig = dir.join(format!("{name}.sig"));
    std::fs::write(&sig, format!("{signature}\n")).expect("signature");
    (file, sig)
}

fn publish(
    data_dir: &Path,
    version: &str,
    target: &str,
    arch: &str,
    files: &(PathBuf, PathBuf),
) -> std::process::Output {
    let file = files.0.to_str().expect("UTF-8");
    let sig = files.1.to_str().expect("UTF-8");
    run(
        data_dir,
        &[
            "publish-release",
            "--version",
            version,
            "--target",
            target,
            "--arch",
            arch,
            "--file",
            file,
            "--signature",
            sig,
            "--notes",
            &format!("What is new in {version}"),
        ],
    )
}

/// `withdraw-release` of `version` for Linux on x86_64, with `more` arguments.
fn withdraw(data_dir: &Path, version: &str, more: &[&str]) -> std::process::Output {
    let mut args = vec![
        "withdraw-release",
        "--version",
        version,
        "--target",
        "linux",
        "--arch",
        "x86_64",
    ];
    args.extend_from_slice(more);
    run(data_dir, &args)
}

fn published(output: &std::process::Output) {
    assert!(
        output.status.success(),
        "publish-release failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn refused(output: &std::process::Output, says: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "published what it should refuse");
    assert!(stderr.contains(says), "{stderr:?} does not say {says:?}");
}

#[tokio::test]
async fn the_newest_published_release_is_offered_and_served_byte_for_byte() {
    let dir = tempfile::tempdir().expect("data");
    let bundles = tempfile::tempdir().expect("bundles");
    let deb_020 = b"deb 0.2.0 bytes".repeat(1000);
    let deb_030 = b"deb 0.3.0 bytes".repeat(3000);
    published(&publish(
        dir.path(),
        "0.2.0",
        "linux",
        "x86_64",
        &bundle(
            bundles.path(),
            "agent-desk_0.2.0_amd64.deb",
            &deb_020,
            "c2lnbmF0dXJlIDAuMi4w",
        ),
    ));
    published(&publish(
        dir.path(),
        "0.3.0",
        "linux",
        "x86_64",
        &bundle(
            bundles.path(),
            "agent-desk_0.3.0_amd64.deb",
            &deb_030,
            "c2lnbmF0dXJlIDAuMy4w",
        ),
    ));
    published(&publish(
        dir.path(),
        "0.4.0",
        "linux",
        "x86_64",
        &bundle(
            bundles.path(),
            "agent-desk-0.4.0-1.x86_64.rpm",
            b"rpm",
            "cnBt",
        ),
    ));
    published(&publish(
        dir.path(),
        "0.9.0",
        "windows",
        "x86_64",
        &bundle(
            bundles.path(),
            "Agent Desk_0.9.0_x64-setup.exe",
            b"exe",
            "ZXhl",
        ),
    ));
    // The same again is refused: a published release does not change under the agents.
    refused(
        &publish(
            dir.path(),
            "0.3.0",
            "linux",
            "x86_64",
            &bundle(
                bundles.path(),
                "agent-desk_0.3.0_amd64.deb",
                b"other",
                "b3RoZXI=",
            ),
        ),
        "is published already",
    );

    let server = Server::start(dir).await;
    let check = |path: &str| server.http.get(server.url(path)).send();

    // A deb install at 0.1.0: 0.3.0, the newest deb (the rpm is another kind of install).
    let offer = expect_json(
        check("/api/v1/app/update/linux/x86_64/0.1.0?bundle_type=deb")
            .await
            .expect("check"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(offer["version"], "0.3.0");
    assert_eq!(offer["notes"], "What is new in 0.3.0");
    assert_eq!(offer["signature"], "c2lnbmF0dXJlIDAuMy4w");
    assert!(
        chrono::DateTime::parse_from_rfc3339(offer["pub_date"].as_str().expect("date")).is_ok()
    );
    let url = offer["url"].as_str().expect("url");
    assert!(url.starts_with(&server.base), "{url}");
    assert!(url.ends_with("/agent-desk_0.3.0_amd64.deb"), "{url}");

    // The bundle, byte for byte.
    let download = server.http.get(url).send().await.expect("download");
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(
        download.headers()["content-type"],
        "application/octet-stream"
    );
    let bytes = download.bytes().await.expect("bytes");
    assert_eq!(Sha256::digest(&bytes), Sha256::digest(&deb_030));

    // Nothing newer: 204, for the newest, a newer one and another processor.
    for path in [
        "/api/v1/app/update/linux/x86_64/0.3.0?bundle_type=deb",
        "/api/v1/app/update/linux/x86_64/v1.0.0?bundle_type=deb",
        "/api/v1/app/update/linux/aarch64/0.1.0?bundle_type=deb",
        "/api/v1/app/update/darwin/aarch64/0.1.0",
    ] {
        let answer = check(path).await.expect("check");
        assert_eq!(answer.status(), StatusCode::NO_CONTENT, "{path}");
        assert!(answer.bytes().await.expect("body").is_empty(), "{path}");
    }
    // An rpm install gets the rpm; Windows without a kind gets what was published for it.
    let rpm = expect_json(
        check("/api/v1/app/update/linux/x86_64/0.1.0?bundle_type=rpm")
            .await
            .expect("check"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(rpm["version"], "0.4.0");
    let exe = expect_json(
        check("/api/v1/app/update/windows/x86_64/0.8.1")
            .await
            .expect("check"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(exe["version"], "0.9.0");
    assert!(
        exe["url"]
            .as_str()
            .is_some_and(|url| url.ends_with("/Agent%20Desk_0.9.0_x64-setup.exe")),
        "{exe}"
    );
}

#[tokio::test]
async fn bad_checks_are_refused_by_name_and_unknown_bundles_are_not_found() {
    let server = Server::with_agent().await;
    let check = |path: &str| server.http.get(server.url(path)).send();
    for (path, field) in [
        ("/api/v1/app/update/plan9/x86_64/0.1.0", "target"),
        ("/api/v1/app/update/linux/sparc/0.1.0", "arch"),
        ("/api/v1/app/update/linux/x86_64/latest", "current_version"),
        (
            "/api/v1/app/update/linux/x86_64/0.1.0?bundle_type=zip",
            "bundle_type",
        ),
    ] {
        expect_error(
            check(path).await.expect("check"),
            StatusCode::BAD_REQUEST,
            "validation_failed",
            Some(field),
        )
        .await;
    }
    let unknown = check("/api/v1/app/update/linux/x86_64/0.1.0?format=json")
        .await
        .expect("check");
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    for path in [
        "/api/v1/app/releases/0123456789abcdef0123456789abcdef/agent-desk.deb",
        "/api/v1/app/releases/..%2F..%2Fagent-desk.db/x",
        "/api/v1/app/releases/nothing/x",
    ] {
        expect_error(
            check(path).await.expect("get"),
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        )
        .await;
    }
}

#[tokio::test]
async fn publish_release_refuses_bad_input_by_name_and_stores_nothing() {
    let dir = tempfile::tempdir().expect("data");
    let bundles = tempfile::tempdir().expect("bundles");
    let good = bundle(bundles.path(), "agent-desk_0.2.0_amd64.deb", b"deb", "c2ln");
    refused(
        &publish(dir.path(), "two", "linux", "x86_64", &good),
        "--version",
    );
    refused(
        &publish(dir.path(), "0.2.0", "beos", "x86_64", &good),
        "--target",
    );
    refused(
        &publish(dir.path(), "0.2.0", "linux", "pdp11", &good),
        "--arch",
    );
    let dmg = bundle(bundles.path(), "Agent Desk.dmg", b"dmg", "c2ln");
    refused(
        &publish(dir.path(), "0.2.0", "darwin", "aarch64", &dmg),
        "--file",
    );
    let unsigned = bundle(
        bundles.path(),
        "agent-desk_0.2.1_amd64.deb",
        b"deb",
        "-----BEGIN not a signature",
    );
    refused(
        &publish(dir.path(), "0.2.1", "linux", "x86_64", &unsigned),
        "--signature",
    );
    let missing = (bundles.path().join("gone.deb"), good.1.clone());
    refused(
        &publish(dir.path(), "0.2.2", "linux", "x86_64", &missing),
        "--file",
    );

    let stored = dir.path().join("releases");
    let files = std::fs::read_dir(&stored)
        .map(|entries| entries.count())
        .unwrap_or(0);
    assert_eq!(files, 0, "bytes stored for a refused release");
    let server = Server::start(dir).await;
    let answer = server
        .http
        .get(server.url("/api/v1/app/update/linux/x86_64/0.0.1?bundle_type=deb"))
        .send()
        .await
        .expect("check");
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_withdrawn_release_is_no_longer_offered_and_its_bytes_are_gone() {
    let dir = tempfile::tempdir().expect("data");
    let bundles = tempfile::tempdir().expect("bundles");
    let deb = bundle(bundles.path(), "agent-desk_0.2.0_amd64.deb", b"deb", "ZGVi");
    let rpm = bundle(
        bundles.path(),
        "agent-desk-0.2.0-1.x86_64.rpm",
        b"rpm",
        "cnBt",
    );
    published(&publish(dir.path(), "0.2.0", "linux", "x86_64", &deb));
    published(&publish(dir.path(), "0.2.0", "linux", "x86_64", &rpm));
    let stored = || {
        std::fs::read_dir(dir.path().join("releases"))
            .expect("releases folder")
            .count()
    };
    assert_eq!(stored(), 2);

    refused(
        &withdraw(dir.path(), "0.2.0", &["--bundle-type", "zip"]),
        "--bundle-type",
    );
    let deb_only = withdraw(dir.path(), "0.2.0", &["--bundle-type", "deb"]);
    assert!(
        deb_only.status.success(),
        "{}",
        String::from_utf8_lossy(&deb_only.stderr)
    );
    assert!(
        String::from_utf8_lossy(&deb_only.stdout).contains("withdrew agent-desk_0.2.0_amd64.deb")
    );
    assert_eq!(stored(), 1, "the deb's bytes are removed, the rpm's kept");
    // Nothing left of that kind: refused, and said so.
    refused(
        &withdraw(dir.path(), "0.2.0", &["--bundle-type", "deb"]),
        "no release 0.2.0",
    );
    // The same version may be published again once withdrawn, such as with the right signature.
    published(&publish(dir.path(), "0.2.0", "linux", "x86_64", &deb));

    let server = Server::start(dir).await;
    let offer = expect_json(
        server
            .http
            .get(server.url("/api/v1/app/update/linux/x86_64/0.1.0?bundle_type=rpm"))
            .send()
            .await
            .expect("check"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(offer["version"], "0.2.0");
}

#[tokio::test]
async fn withdrawing_every_kind_leaves_nothing_to_offer() {
    let dir = tempfile::tempdir().expect("data");
    let bundles = tempfile::tempdir().expect("bundles");
    let deb = bundle(bundles.path(), "agent-desk_0.2.0_amd64.deb", b"deb", "ZGVi");
    published(&publish(dir.path(), "0.2.0", "linux", "x86_64", &deb));
    let output = withdraw(dir.path(), "v0.2.0", &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let server = Server::start(dir).await;
    let answer = server
        .http
        .get(server.url("/api/v1/app/update/linux/x86_64/0.1.0?bundle_type=deb"))
        .send()
        .await
        .expect("check");
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
}
