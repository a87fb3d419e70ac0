//! The team server's HTTP API, driven over real HTTP against the real binary.
//!
//! Every test gets its own data folder and its own `agent-desk-server serve` on a free
//! port, creates its agents with the binary's own `add-agent` subcommand, and kills the
//! server when it ends.

use std::collections::HashSet;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, ETAG, IF_MATCH};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_agent-desk-server");
const STARTUP_LIMIT: Duration = Duration::from_secs(10);

const EMAIL: &str = "ada@example.com";
const NAME: &str = "Ada Lovelace";
const PASSWORD: &str = "Analytical-Engine-1843";

// ---------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------

/// The binary with a clean environment: no database or data folder from the caller's
/// shell, quiet logs.
fn command(data_dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("AGENT_DESK_DATABASE")
        .env_remove("AGENT_DESK_DATA_DIR")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    command
}

fn run(data_dir: &Path, args: &[&str]) -> Output {
    command(data_dir, args).output().expect("run agent-desk-server")
}

fn add_agent(data_dir: &Path, email: &str, name: &str, password: &str) -> Output {
    run(data_dir, &["add-agent", "--email", email, "--name", name, "--password", password])
}

fn add_agent_ok(data_dir: &Path, email: &str, name: &str, password: &str) {
    let output = add_agent(data_dir, email, name, password);
    assert!(
        output.status.success(),
        "add-agent {email} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A port nobody in this process has been handed yet, free at the time of asking.
fn free_port() -> u16 {
    static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let mut handed_out = HANDED_OUT.lock().expect("port registry");
    let handed_out = handed_out.get_or_insert_with(HashSet::new);
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("bind a free port")
            .port();
        if handed_out.insert(port) {
            return port;
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// A child process, killed and reaped when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running `agent-desk-server serve` on its own data folder.
struct Server {
    // Field order is drop order: the server goes before its data folder.
    child: Killed,
    base: String,
    http: reqwest::Client,
    log: PathBuf,
    dir: TempDir,
}

impl Server {
    /// A fresh data folder with one agent (`EMAIL` / `PASSWORD`) and a server on it.
    async fn with_agent() -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
        Server::start(dir).await
    }

    /// Serves `dir` on a free port; waits (at most ~10 s) until `/health` answers 200.
    /// Should the port be taken between choosing and binding it, tries another one.
    async fn start(dir: TempDir) -> Server {
        let http = client();
        let log = dir.path().join("server.log");
        let log_text = || std::fs::read_to_string(&log).unwrap_or_default();
        for _attempt in 0..3 {
            let port = free_port();
            let listen = format!("127.0.0.1:{port}");
            let stderr = File::create(&log).expect("server log file");
            let mut child = Killed(
                command(dir.path(), &["serve", "--listen", &listen])
                    .stdout(Stdio::null())
                    .stderr(stderr)
                    .spawn()
                    .expect("spawn agent-desk-server serve"),
            );
            let base = format!("http://{listen}");
            let deadline = Instant::now() + STARTUP_LIMIT;
            let ready = loop {
                if let Some(status) = child.0.try_wait().expect("poll the server") {
                    eprintln!("the server exited at start-up ({status}): {}", log_text());
                    break false;
                }
                let health = http.get(format!("{base}/health")).send().await;
                if health.is_ok_and(|response| response.status() == StatusCode::OK) {
                    // Only ours counts: a server that failed to bind has exited by now.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    break child.0.try_wait().expect("poll the server").is_none();
                }
                assert!(
                    Instant::now() < deadline,
                    "the server was not ready within {STARTUP_LIMIT:?}: {}",
                    log_text()
                );
                tokio::time::sleep(Duration::from_millis(25)).await;
            };
            if ready {
                return Server { child, base, http, log, dir };
            }
        }
        panic!("the server did not start on any of 3 ports: {}", log_text());
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let request = self.http.request(method, self.url(path));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn login_response(&self, email: &str, password: &str) -> Response {
        self.request(Method::POST, "/api/v1/auth/login", None)
            .json(&json!({ "email": email, "password": password, "client_name": "api tests" }))
            .send()
            .await
            .expect("POST /api/v1/auth/login")
    }

    async fn login(&self, email: &str, password: &str) -> String {
        let response = self.login_response(email, password).await;
        let body = expect_json(response, StatusCode::OK).await;
        body["token"].as_str().expect("a token in the login response").to_owned()
    }

    /// `GET /api/v1/me`: the profile and its ETag.
    async fn me(&self, token: &str) -> (Value, String) {
        let response = self
            .request(Method::GET, "/api/v1/me", Some(token))
            .send()
            .await
            .expect("GET /api/v1/me");
        let etag = etag_of(response.headers());
        (expect_json(response, StatusCode::OK).await, etag)
    }

    /// `PATCH /api/v1/me` with a JSON body and, when given, `If-Match`.
    async fn patch(&self, token: &str, if_match: Option<&str>, body: &Value) -> Response {
        let mut request = self.request(Method::PATCH, "/api/v1/me", Some(token)).json(body);
        if let Some(etag) = if_match {
            request = request.header(IF_MATCH, etag);
        }
        request.send().await.expect("PATCH /api/v1/me")
    }

    /// A successful PATCH: the new profile and ETag.
    async fn patch_ok(&self, token: &str, if_match: &str, body: &Value) -> (Value, String) {
        let response = self.patch(token, Some(if_match), body).await;
        let etag = etag_of(response.headers());
        (expect_json(response, StatusCode::OK).await, etag)
    }

    /// The profile and ETag are exactly what they were before a refused request.
    async fn assert_unchanged(&self, token: &str, before: &(Value, String), after_what: &str) {
        let now = self.me(token).await;
        assert_eq!(now.1, before.1, "the ETag changed after {after_what}");
        assert_eq!(now.0, before.0, "the profile changed after {after_what}");
    }
}

fn etag_of(headers: &HeaderMap) -> String {
    headers
        .get(ETAG)
        .and_then(|value| value.to_str().ok())
        .expect("an ETag header")
        .to_owned()
}

/// Asserts the status and that the body is JSON, and returns it.
async fn expect_json(response: Response, status: StatusCode) -> Value {
    let got = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("read the response body");
    assert_eq!(got, status, "unexpected status; body: {text}");
    assert!(
        content_type.starts_with("application/json"),
        "expected a JSON response, got Content-Type {content_type:?}; body: {text}"
    );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("the body is not JSON ({e}): {text}"))
}

/// Asserts an error answer: status, `error.code`, `error.field`, a non-empty message and
/// nothing but `error` at the top. Returns the whole body.
async fn expect_error(response: Response, status: StatusCode, code: &str, field: Option<&str>) -> Value {
    let body = expect_json(response, status).await;
    let object = body.as_object().expect("the error body is an object");
    assert_eq!(object.keys().collect::<Vec<_>>(), ["error"], "body: {body}");
    let error = &body["error"];
    assert_eq!(error["code"], code, "error code; body: {body}");
    assert_eq!(error["field"], field.map_or(Value::Null, Value::from), "error field; body: {body}");
    assert!(
        error["message"].as_str().is_some_and(|message| !message.is_empty()),
        "the error has a message; body: {body}"
    );
    body
}
