//! A private PostgreSQL cluster for a test run: `initdb` and `pg_ctl` from Debian's
//! `postgresql` package on a free port under a temp dir, never the system's cluster.
//! Each test gets a database of its own.
//!
//! `make test` (scripts/server-tests-on-postgres.sh) starts one cluster for the whole
//! run, with a migrated database that each test's is copied from (`CREATE DATABASE …
//! TEMPLATE`), and says so in the environment. A test binary run alone starts its own
//! cluster, which a watchdog stops and removes once the binary has exited, however it
//! exits; its databases start empty, and the server migrates them.
//!
//! `initdb` refuses to run as root, so as root the cluster runs as the `postgres` user
//! (`runuser`), in a folder given to it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// Where Debian's PostgreSQL programs are: the newest version installed.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (make deps installs postgresql)")
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("an initdb under /usr/lib/postgresql/*/bin")
}

fn is_root() -> bool {
    // The effective user of this process; `id -u` needs no crate.
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}

/// Runs one of PostgreSQL's programs, as `postgres` when this process is root.
fn pg(program: &str, args: &[&str]) -> std::process::Output {
    let path = bin_dir().join(program);
    let mut command = if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(path);
        command
    } else {
        Command::new(path)
    };
    command
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("running {program}: {error}"))
}

/// The port of the cluster started for the whole run, when there is one.
const RUN_PORT: &str = "AGENT_DESK_TEST_POSTGRES_PORT";
/// The migrated database of that cluster that servers' databases are copied from.
const RUN_TEMPLATE: &str = "AGENT_DESK_TEST_POSTGRES_TEMPLATE";

pub struct PrivatePostgres {
    pub port: u16,
    /// The database a server's is copied from, when the run made one.
    template: Option<String>,
    databases: Mutex<u32>,
}

impl PrivatePostgres {
    /// The run's cluster, or else this test binary's, started by the first test that
    /// asks.
    pub fn shared() -> &'static Self {
        static SHARED: OnceLock<PrivatePostgres> = OnceLock::new();
        SHARED.get_or_init(|| {
            match std::env::var(RUN_PORT)
                .ok()
                .and_then(|port| port.parse().ok())
            {
                Some(port) => Self {
                    port,
                    template: std::env::var(RUN_TEMPLATE)
                        .ok()
                        .filter(|name| !name.is_empty()),
                    databases: Mutex::new(0),
                },
                None => Self::start(),
            }
        })
    }

    /// Initialises and starts a cluster; it is stopped and removed when dropped.
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("agent-desk-pg-")
            .tempdir()
            .expect("a temp dir");
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown the cluster's folder to postgres");
        }
        let data = data_dir(dir.path());
        let init = pg(
            "initdb",
            &[
                "-D",
                path_str(&data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        assert!(
            init.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let port = free_port();
        // Durability is not what a test run needs from its cluster: no fsync.
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            dir.path().display()
        );
        let log = dir.path().join("log");
        let started = pg(
            "pg_ctl",
            &[
                "-D",
                path_str(&data),
                "-l",
                path_str(&log),
                "-w",
                "-t",
                "60",
                "start",
                "-o",
                &options,
            ],
        );
        assert!(
            started.status.success(),
            "pg_ctl start failed: {}\n{}",
            String::from_utf8_lossy(&started.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        let root = dir.keep();
        watch_over(&root, &data);
        Self {
            port,
            template: None,
            databases: Mutex::new(0),
        }
    }

    /// A new, empty database of its own, made with `createdb` (no runtime needed).
    pub fn database_now(&self) -> String {
        self.create_database(None)
    }

    /// A new database for a server to start on: a copy of the run's migrated one when
    /// there is one (the server then finds nothing to migrate), else empty.
    pub fn server_database_now(&self) -> String {
        self.create_database(self.template.as_deref())
    }

    /// A new database, copied from `template` or empty; its URL.
    fn create_database(&self, template: Option<&str>) -> String {
        let name = self.next_name();
        let port = self.port.to_string();
        let mut args = vec!["-h", "127.0.0.1", "-p", &port, "-U", "postgres"];
        if let Some(template) = template {
            args.extend(["-T", template]);
        }
        args.push(&name);
        let made = pg("createdb", &args);
        assert!(
            made.status.success(),
            "createdb {args:?} failed: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        self.url(&name)
    }

    /// Everything database `url` of this cluster holds, as `pg_dump` writes it.
    pub fn dump(&self, url: &str) -> Vec<u8> {
        let name = url.rsplit('/').next().unwrap_or_default();
        let port = self.port.to_string();
        let dumped = pg(
            "pg_dump",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "--data-only",
                name,
            ],
        );
        assert!(
            dumped.status.success(),
            "pg_dump failed: {}",
            String::from_utf8_lossy(&dumped.stderr)
        );
        dumped.stdout
    }

    fn next_name(&self) -> String {
        let mut count = self.databases.lock().unwrap_or_else(|e| e.into_inner());
        *count += 1;
        format!("test_{}_{}", std::process::id(), *count)
    }

    /// The URL of database `name` in this cluster.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

/// Stops the cluster and removes its folder once this process has gone: a test binary
/// ends without dropping its statics.
fn watch_over(root: &Path, data: &Path) {
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         {runuser}'{pg_ctl}' -D '{data}' -m immediate stop >/dev/null 2>&1; rm -rf '{root}'",
        pid = std::process::id(),
        runuser = if is_root() {
            "runuser -u postgres -- "
        } else {
            ""
        },
        pg_ctl = bin_dir().join("pg_ctl").display(),
        data = data.display(),
        root = root.display(),
    );
    // Left running on purpose: it outlives this process, which is what it waits for.
    #[allow(clippy::zombie_processes)]
    let _watchdog = Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the cluster's watchdog");
}

fn data_dir(root: &Path) -> PathBuf {
    root.join("data")
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}
