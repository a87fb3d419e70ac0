//! Several instances of the server on one database in the run's private PostgreSQL
//! cluster, for the suites that need them.

use std::path::Path;

use super::postgres::PrivatePostgres;
use super::*;

/// The server's command on `data_dir`, with its data in the database at `url`.
pub fn run_on(data_dir: &Path, url: &str, args: &[&str]) {
    let output = command(data_dir, args)
        .env("AGENT_DESK_DATABASE", url)
        .output()
        .expect("run the server's command");
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Two instances on one new database holding Ada and the administrator.
pub async fn two_instances() -> (Server, Server, String) {
    two_instances_with(ServerOptions::default()).await
}

/// Two instances started with `options` on one new database holding Ada and the
/// administrator. They share their photos and files, as docs/DEPLOY.md says to: the
/// second's folders for them are links to the first's.
pub async fn two_instances_with(options: ServerOptions) -> (Server, Server, String) {
    let url = PrivatePostgres::shared().server_database_now();
    let first = tempfile::tempdir().expect("temp dir");
    for (email, name, password, admin) in [
        (EMAIL, NAME, PASSWORD, false),
        (ADMIN_EMAIL, ADMIN_NAME, ADMIN_PASSWORD, true),
    ] {
        run_on(
            first.path(),
            &url,
            &add_agent_args(email, name, password, admin),
        );
    }
    let second = tempfile::tempdir().expect("temp dir");
    for shared in ["avatars", "files"] {
        let target = first.path().join(shared);
        std::fs::create_dir_all(&target).expect("a shared folder");
        std::os::unix::fs::symlink(&target, second.path().join(shared)).expect("link it");
    }
    let on = |dir| Server::start_with(dir, options.clone().env("AGENT_DESK_DATABASE", &url));
    let a = on(first).await;
    let b = on(second).await;
    (a, b, url)
}
