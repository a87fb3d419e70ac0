//! The packages as an IT team installs them: the app's `.deb` and `.rpm` and the server's
//! `.deb`, built by `make test-packages` (from the debug profile) into the folder named by
//! `AGENT_DESK_PACKAGES`. The app's `.deb` is installed with `dpkg`, its `/usr/bin/agent-desk`
//! driven by WebDriver to a signed-in Profile screen, then removed and shown gone; the
//! server's `.deb` is installed, its unit's command run as the unit would run it, answers
//! `/health`, and is purged. Installing needs root (`make test` runs as root): every
//! package is purged before and after, also when a check fails.
//!
//! Not part of `cargo test --workspace`: it needs the packages built first.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agent_desk_e2e::{
    binary_dir, free_port, save_screenshot, sign_in, value_of, wait_for, wait_for_text, Desktop,
    DEMO_EMAIL, DEMO_PASSWORD,
};
use anyhow::{bail, ensure, Context, Result};
use fantoccini::Locator;

/// The bundler's folder holding the packages, in `deb/` and `rpm/`.
fn packages() -> Result<PathBuf> {
    let dir = std::env::var_os("AGENT_DESK_PACKAGES").context(
        "AGENT_DESK_PACKAGES names the folder `make test-packages` built the packages in",
    )?;
    Ok(PathBuf::from(dir))
}

/// The one file in `dir`'s `deb` or `rpm` folder whose name starts with `prefix` and ends
/// with `suffix`.
fn package(dir: &Path, prefix: &str, suffix: &str) -> Result<PathBuf> {
    let kind = if suffix.ends_with(".rpm") {
        "rpm"
    } else {
        "deb"
    };
    let dir = dir.join(kind);
    let found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("read {}", dir.display()))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with(prefix) && name.ends_with(suffix))
        })
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        other => bail!("{prefix}*{suffix} in {}: {other:?}", dir.display()),
    }
}

/// Runs a command, failing with its output when it fails; answers its stdout.
fn run(program: &str, args: &[&str]) -> Result<String> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("run {program}"))?;
    ensure!(
        output.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Whether dpkg has `name` installed.
fn installed(name: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", name])
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).contains("ok installed"))
}

/// Held by a test while it installs and removes: dpkg takes one at a time.
static DPKG: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Purges a package when made and when dropped, whatever happened in between.
struct Purged(&'static str);

impl Purged {
    fn new(name: &'static str) -> Result<Self> {
        purge(name)?;
        Ok(Self(name))
    }
}

impl Drop for Purged {
    fn drop(&mut self) {
        if let Err(error) = purge(self.0) {
            eprintln!("could not purge {}: {error:#}", self.0);
        }
    }
}

fn purge(name: &str) -> Result<()> {
    run("dpkg", &["--purge", name]).map(drop)
}

#[test]
fn the_apps_packages_carry_what_a_desktop_needs() -> Result<()> {
    let dir = packages()?;
    let deb = package(&dir, "agent-desk_", "_amd64.deb")?;
    let deb = deb.to_str().context("a path in UTF-8")?;
    let field = |name: &str| run("dpkg-deb", &["-f", deb, name]);
    ensure!(field("Package")?.trim() == "agent-desk");
    let depends = field("Depends")?;
    for needed in ["libasound2", "libwebkit2gtk-4.1-0", "libgtk-3-0"] {
        ensure!(
            depends.contains(needed),
            "Depends lacks {needed}: {depends}"
        );
    }
    let contents = run("dpkg-deb", &["-c", deb])?;
    for file in [
        "usr/bin/agent-desk",
        "usr/share/applications/agent-desk.desktop",
        "usr/share/icons/hicolor/32x32/apps/agent-desk.png",
        "usr/share/icons/hicolor/64x64/apps/agent-desk.png",
        "usr/share/icons/hicolor/128x128/apps/agent-desk.png",
        "usr/share/icons/hicolor/256x256/apps/agent-desk.png",
        "usr/share/icons/hicolor/512x512/apps/agent-desk.png",
    ] {
        ensure!(
            contents
                .lines()
                .any(|line| line.ends_with(&format!(" {file}"))
                    || line.ends_with(&format!(" ./{file}"))),
            "{file} missing: {contents}"
        );
    }
    // Icons only in folders desktops read.
    ensure!(
        !contents.contains("@2"),
        "an icon in a @2 folder: {contents}"
    );

    // The desktop entry as desktops read it.
    let unpacked = tempfile::tempdir()?;
    let root = unpacked.path().to_str().context("a path in UTF-8")?;
    run("dpkg-deb", &["-x", deb, root])?;
    let entry = unpacked
        .path()
        .join("usr/share/applications/agent-desk.desktop");
    run("desktop-file-validate", &[entry.to_str().context("UTF-8")?])?;
    let text = std::fs::read_to_string(&entry)?;
    for line in [
        "Name=Agent Desk",
        // The link the desktop hands over (%u) and the scheme it hands over.
        "Exec=agent-desk %u",
        "MimeType=x-scheme-handler/agentdesk;",
        "Icon=agent-desk",
        "Categories=Office;",
    ] {
        ensure!(text.lines().any(|l| l == line), "no {line:?} in {text}");
    }

    let rpm = package(&dir, "agent-desk-", ".x86_64.rpm")?;
    let rpm = rpm.to_str().context("a path in UTF-8")?;
    let requires = run("rpm", &["-qp", "--requires", rpm])?;
    for needed in ["libasound.so.2()(64bit)", "libwebkit2gtk-4.1.so.0()(64bit)"] {
        ensure!(
            requires.contains(needed),
            "Requires lacks {needed}: {requires}"
        );
    }
    let files = run("rpm", &["-qpl", rpm])?;
    for file in [
        "/usr/bin/agent-desk",
        "/usr/share/applications/agent-desk.desktop",
    ] {
        ensure!(files.contains(file), "{file} missing from the rpm: {files}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_installed_app_signs_in_and_uninstalls_cleanly() -> Result<()> {
    let deb = package(&packages()?, "agent-desk_", "_amd64.deb")?;
    let _dpkg = DPKG.lock().await;
    let _purged = Purged::new("agent-desk")?;
    run("dpkg", &["-i", deb.to_str().context("UTF-8")?])?;
    let binary = Path::new("/usr/bin/agent-desk");
    ensure!(
        binary.exists(),
        "dpkg -i did not install {}",
        binary.display()
    );

    let desktop = Desktop::start()?;
    let app = desktop.launch(binary).await?;
    sign_in(&app, &desktop.server_url, DEMO_EMAIL, DEMO_PASSWORD).await?;
    ensure!(value_of(&app, "#display-name").await? == "Dana Demo");
    // An installed app starts with the session after its first sign-in, from the
    // login entry it writes, hidden in the tray.
    let entry = desktop.home().join(".config/autostart/agent-desk.desktop");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !entry.exists() {
        ensure!(
            std::time::Instant::now() < deadline,
            "no login entry after the first sign-in"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let written = std::fs::read_to_string(&entry)?;
    ensure!(
        written
            .lines()
            .any(|line| line.trim() == "Exec=/usr/bin/agent-desk --autostart"),
        "{written}"
    );
    app.close().await?;
    drop(desktop);

    let listed = run("dpkg", &["-L", "agent-desk"])?;
    run("dpkg", &["-r", "agent-desk"])?;
    for file in listed.lines().filter(|line| line.starts_with("/usr/")) {
        let path = Path::new(file);
        // Folders the system shares (/usr/bin, icon themes) stay.
        ensure!(
            path.is_dir() || !path.exists(),
            "{file} is still there after dpkg -r"
        );
    }
    ensure!(!binary.exists());
    ensure!(!installed("agent-desk"));
    Ok(())
}

/// The two versions `make test-packages` built for the updater test, signed with a key
/// made for that run, in the folder named by `AGENT_DESK_UPDATES`.
fn update_bundle(version: &str) -> Result<(PathBuf, PathBuf)> {
    let dir = std::env::var_os("AGENT_DESK_UPDATES").context(
        "AGENT_DESK_UPDATES names the folder `make test-packages` built the updater's bundles in",
    )?;
    let deb = PathBuf::from(dir)
        .join(version)
        .join(format!("agent-desk_{version}_amd64.deb"));
    let mut sig = deb.clone().into_os_string();
    sig.push(".sig");
    ensure!(deb.is_file(), "{} is missing", deb.display());
    Ok((deb, PathBuf::from(sig)))
}

/// The version dpkg has installed of `name`.
fn installed_version(name: &str) -> Result<String> {
    Ok(run("dpkg-query", &["-W", "-f=${Version}", name])?
        .trim()
        .to_owned())
}

/// The running processes of `binary`, with whether each still runs the file now there
/// (a process whose file was replaced shows it as deleted).
fn processes_of(binary: &Path) -> Vec<(u32, bool)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let exe = std::fs::read_link(entry.path().join("exe")).ok()?;
            let exe = exe.to_str()?;
            let current = exe == binary.to_str()?;
            (current || exe.strip_suffix(" (deleted)") == binary.to_str()).then_some((pid, current))
        })
        .collect()
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !done() {
        ensure!(Instant::now() < deadline, "{what}: not within 90 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_installed_app_updates_from_the_teams_server_and_refuses_a_wrong_signature(
) -> Result<()> {
    let (old_deb, old_sig) = update_bundle("0.1.0")?;
    let (new_deb, new_sig) = update_bundle("0.2.0")?;
    let _dpkg = DPKG.lock().await;
    let _purged = Purged::new("agent-desk")?;
    run("dpkg", &["-i", old_deb.to_str().context("UTF-8")?])?;
    ensure!(installed_version("agent-desk")? == "0.1.0");
    let binary = Path::new("/usr/bin/agent-desk");

    let desktop = Desktop::start()?;
    let server = binary_dir()?.join("agent-desk-server");
    let data_dir = desktop.root.path().join("server");
    let releases = |args: &[&str]| -> Result<String> {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--data-dir", data_dir.to_str().context("UTF-8")?]);
        run(server.to_str().context("UTF-8")?, &all)
    };
    let publish = |sig: &Path| -> Result<String> {
        releases(&[
            "publish-release",
            "--version",
            "0.2.0",
            "--target",
            "linux",
            "--arch",
            "x86_64",
            "--file",
            new_deb.to_str().context("UTF-8")?,
            "--signature",
            sig.to_str().context("UTF-8")?,
            "--notes",
            "Quiet hours per team.",
        ])
    };
    // A real signature by the right key, but of other bytes (0.1.0's): it must not install.
    publish(&old_sig)?;

    let app = desktop.launch(binary).await.context("launch 0.1.0")?;
    sign_in(&app, &desktop.server_url, DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .context("sign in")?;
    // A sign-in asks the server it signed in to at once.
    let refused = wait_for_text(
        &app,
        "[data-testid=update-failed]",
        "0.2.0 was not installed",
    )
    .await?;
    ensure!(
        refused.contains("signature does not match") && refused.contains("You keep using 0.1.0"),
        "{refused}"
    );
    save_screenshot(&app, "update-refused")
        .await
        .context("screenshot")?;
    ensure!(
        installed_version("agent-desk")? == "0.1.0",
        "a wrongly signed release was installed"
    );

    // The administrator takes it back and publishes it with its own signature.
    releases(&[
        "withdraw-release",
        "--version",
        "0.2.0",
        "--target",
        "linux",
        "--arch",
        "x86_64",
    ])?;
    publish(&new_sig)?;
    app.find(Locator::Css("#nav-devices"))
        .await?
        .click()
        .await?;
    wait_for_text(&app, "[data-testid=app-version]", "Agent Desk 0.1.0").await?;
    wait_for(&app, "#check-for-updates").await?.click().await?;
    let offer = wait_for_text(
        &app,
        "[data-testid=update-ready]",
        "Update available — restart to update",
    )
    .await?;
    ensure!(offer.contains("Agent Desk 0.2.0 is downloaded"), "{offer}");
    // Nothing is installed before the agent asks.
    ensure!(installed_version("agent-desk")? == "0.1.0");
    save_screenshot(&app, "update-ready").await?;
    let before: Vec<u32> = processes_of(binary)
        .into_iter()
        .map(|(pid, _)| pid)
        .collect();
    ensure!(!before.is_empty(), "the app's process is not found");
    // The banner heads the page, above the section scrolled to.
    app.execute("window.scrollTo(0, 0)", vec![]).await?;
    // The click's answer may be lost: the process it went to is being replaced.
    let clicked = wait_for(&app, "#restart-to-update").await?.click().await;

    // Installed (through sudo, as root runs no pkexec here), then the new version starts.
    wait_until("0.2.0 installed", || {
        installed_version("agent-desk").is_ok_and(|version| version == "0.2.0")
    })
    .await
    .with_context(|| format!("after the click ({clicked:?})"))?;
    wait_until("the old process ended and the new version started", || {
        let now = processes_of(binary);
        now.iter().all(|(pid, _)| !before.contains(pid)) && now.iter().any(|(_, current)| *current)
    })
    .await?;
    // The restarted app is not the WebDriver session's: it is ended, and the installed
    // version is driven again, signed in from the credential store.
    let _ = app.close().await;
    for (pid, _) in processes_of(binary) {
        let _ = run("kill", &[&pid.to_string()]);
    }
    wait_until("the restarted app quit", || processes_of(binary).is_empty()).await?;
    let app = desktop.launch(binary).await?;
    wait_for(&app, "#nav-devices").await?.click().await?;
    wait_for_text(&app, "[data-testid=app-version]", "Agent Desk 0.2.0").await?;
    wait_for(&app, "#check-for-updates").await?.click().await?;
    wait_for_text(
        &app,
        "[data-testid=update-status]",
        "You have the latest version.",
    )
    .await?;
    app.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_installed_server_runs_as_its_unit_says_and_purges_cleanly() -> Result<()> {
    let deb = package(&packages()?, "agent-desk-server_", ".deb")?;
    let _dpkg = DPKG.lock().await;
    // What the package makes and keeps (its user, its data) goes after the test, unless
    // it was there before.
    let _made = Made {
        data: !Path::new(DATA).exists(),
        user: run("id", &["agent-desk"]).is_err(),
    };
    let _purged = Purged::new("agent-desk-server")?;
    run("dpkg", &["-i", deb.to_str().context("UTF-8")?])?;
    run("id", &["agent-desk"]).context("the package's user")?;
    let unit = std::fs::read_to_string("/lib/systemd/system/agent-desk-server.service")?;
    let setting = |key: &str| {
        unit.lines()
            .find_map(|line| line.strip_prefix(key).map(str::to_owned))
            .with_context(|| format!("no {key} in the unit"))
    };
    let user = setting("User=")?;
    let exec = setting("ExecStart=")?;
    let env_file = setting("EnvironmentFile=")?;
    ensure!(user == "agent-desk");
    // Readable by the service's group only: it may hold passwords.
    let mode = run("stat", &["-c", "%a %U %G", &env_file])?;
    ensure!(mode.trim() == "640 root agent-desk", "{env_file}: {mode}");

    // systemd is not running here: the unit's command, as its user, with its settings
    // (and a port of the test's own).
    let mut environment: Vec<(String, String)> = std::fs::read_to_string(&env_file)?
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .filter(|(key, _)| *key != "AGENT_DESK_LISTEN")
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect();
    let port = free_port()?;
    environment.push(("AGENT_DESK_LISTEN".into(), format!("127.0.0.1:{port}")));
    let id = |flag: &str| -> Result<u32> { Ok(run("id", &[flag, &user])?.trim().parse()?) };
    let mut words = exec.split_whitespace();
    let program = words.next().context("an ExecStart")?;
    let log = tempfile::NamedTempFile::new()?;
    let mut server = {
        use std::os::unix::process::CommandExt;
        Command::new(program)
            .args(words)
            .env_clear()
            .envs(environment)
            .uid(id("-u")?)
            .gid(id("-g")?)
            .current_dir("/")
            .stdout(Stdio::null())
            .stderr(log.reopen()?)
            .spawn()?
    };
    let health = format!("http://127.0.0.1:{port}/health");
    let deadline = Instant::now() + Duration::from_secs(30);
    let answered = loop {
        if let Ok(response) = reqwest::get(&health).await {
            break response.status().as_u16();
        }
        if Instant::now() > deadline || server.try_wait()?.is_some() {
            break 0;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = server.kill();
    let _ = server.wait();
    ensure!(
        answered == 200,
        "/health answered {answered}: {}",
        std::fs::read_to_string(log.path()).unwrap_or_default()
    );
    let database = Path::new(DATA).join("agent-desk.db");
    ensure!(
        database.exists(),
        "the database is not in the package's data folder"
    );

    run("dpkg", &["--purge", "agent-desk-server"])?;
    for gone in [
        "/usr/bin/agent-desk-server",
        "/lib/systemd/system/agent-desk-server.service",
        "/etc/agent-desk",
    ] {
        ensure!(
            !Path::new(gone).exists(),
            "{gone} is still there after purging"
        );
    }
    // The data stays, as removing a package leaves what its users made.
    ensure!(database.exists());
    Ok(())
}

/// The server package's data folder.
const DATA: &str = "/var/lib/agent-desk";

/// Removes, when dropped, the server package's data folder and user if the test made them.
struct Made {
    data: bool,
    user: bool,
}

impl Drop for Made {
    fn drop(&mut self) {
        if self.data {
            let _ = std::fs::remove_dir_all(DATA);
        }
        if self.user {
            let _ = run("deluser", &["--quiet", "agent-desk"]);
        }
    }
}
