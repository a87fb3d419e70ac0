//! The harness both test binaries share: the real `agent-desk-server` binary on its own
//! data folder and free port, and helpers to drive and check its HTTP API.
//!
//! Each test binary uses part of it only, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod instances;
pub mod mail;
pub mod postgres;

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, CONNECTION, CONTENT_TYPE, ETAG, IF_MATCH};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_agent-desk-server");

/// The server binary the tests run: the one built with them, or another named by
/// `AGENT_DESK_TEST_SERVER_BIN` (to check that a test fails on an older build).
pub fn server_bin() -> OsString {
    std::env::var_os("AGENT_DESK_TEST_SERVER_BIN").unwrap_or_else(|| BIN.into())
}
pub const STARTUP_LIMIT: Duration = Duration::from_secs(10);

pub const EMAIL: &str = "ada@example.com";
pub const NAME: &str = "Ada Lovelace";
pub const PASSWORD: &str = "Analytical-Engine-1843";

// ---------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------

/// The binary with a clean environment: no database, data folder or mail settings from
/// the caller's shell, quiet logs.
pub fn command(data_dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(server_bin());
    command
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("AGENT_DESK_DATABASE")
        .env_remove("AGENT_DESK_DATA_DIR")
        .env_remove("AGENT_DESK_PUBLIC_URL")
        .env_remove("AGENT_DESK_SMTP_URL")
        .env_remove("AGENT_DESK_MAIL_FROM")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    if on_postgres() {
        command.env("AGENT_DESK_DATABASE", database_url(data_dir));
    }
    command
}

/// Whether this run's servers keep their data in PostgreSQL
/// (`AGENT_DESK_TEST_DATABASE=postgres`) rather than in SQLite.
pub fn on_postgres() -> bool {
    std::env::var("AGENT_DESK_TEST_DATABASE").is_ok_and(|kind| kind == "postgres")
}

/// The database of the server on `data_dir`: SQLite in the folder, or on PostgreSQL a
/// database of its own in the run's private cluster, made when the folder is first used.
pub fn database_url(data_dir: &Path) -> String {
    if !on_postgres() {
        return format!("sqlite://{}", data_dir.join("agent-desk.db").display());
    }
    let marker = data_dir.join("postgres-url");
    if let Ok(url) = std::fs::read_to_string(&marker) {
        return url;
    }
    let url = postgres::PrivatePostgres::shared().server_database_now();
    std::fs::write(&marker, &url).expect("note the folder's database");
    url
}

pub fn run(data_dir: &Path, args: &[&str]) -> Output {
    command(data_dir, args)
        .output()
        .expect("run agent-desk-server")
}

/// `add-agent`'s arguments for an agent, or an administrator.
pub fn add_agent_args<'a>(
    email: &'a str,
    name: &'a str,
    password: &'a str,
    admin: bool,
) -> Vec<&'a str> {
    let mut args = vec![
        "add-agent",
        "--email",
        email,
        "--name",
        name,
        "--password",
        password,
    ];
    if admin {
        args.push("--admin");
    }
    args
}

pub fn add_agent(data_dir: &Path, email: &str, name: &str, password: &str) -> Output {
    run(data_dir, &add_agent_args(email, name, password, false))
}

pub fn add_agent_ok(data_dir: &Path, email: &str, name: &str, password: &str) {
    let output = add_agent(data_dir, email, name, password);
    assert!(
        output.status.success(),
        "add-agent {email} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The administrator the event and team tests post as.
pub const ADMIN_EMAIL: &str = "boss@example.com";
pub const ADMIN_PASSWORD: &str = "Supervisor-Console-77";
pub const ADMIN_NAME: &str = "Barbara Boss";

/// Adds the tests' administrator.
#[allow(dead_code)] // Not every test binary has an administrator.
pub fn add_admin_ok(data_dir: &Path) {
    let output = run(
        data_dir,
        &add_agent_args(ADMIN_EMAIL, ADMIN_NAME, ADMIN_PASSWORD, true),
    );
    assert!(
        output.status.success(),
        "add-agent --admin failed: {output:?}"
    );
}

/// `add-integration` with these scopes (comma-separated): the token it prints last.
pub fn add_integration(dir: &Path, name: &str, scopes: &str) -> String {
    let output = run(dir, &["add-integration", "--name", name, "--scope", scopes]);
    assert!(
        output.status.success(),
        "add-integration failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let token = stdout.lines().last().unwrap_or_default().trim().to_owned();
    assert!(token.starts_with("adi_"), "a token: {stdout:?}");
    token
}

/// A port nobody in this process has been handed yet, free at the time of asking.
pub fn free_port() -> u16 {
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

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        // Before the server's 10 s for the next request's head, as the app does.
        .pool_idle_timeout(Duration::from_secs(5))
        .build()
        .expect("HTTP client")
}

/// A child process, killed and reaped when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What `serve` is started with beyond `--listen` and `--data-dir`.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Environment variables set for the server, after the harness's own (so
    /// `RUST_LOG` here wins over the default `warn`).
    pub env: Vec<(OsString, OsString)>,
    /// Extra arguments after `serve --listen ADDRESS`.
    pub args: Vec<OsString>,
}

impl ServerOptions {
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }
}

/// A running `agent-desk-server serve` on its own data folder. Its stderr (the log)
/// goes to `<data_dir>/server.log`.
pub struct Server {
    // Field order is drop order: the server goes before its data folder.
    child: Killed,
    pub base: String,
    pub http: reqwest::Client,
    dir: TempDir,
}

impl Server {
    /// A fresh data folder with one agent (`EMAIL` / `PASSWORD`) and a server on it.
    pub async fn with_agent() -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
        Server::start(dir).await
    }

    /// Serves `dir` with the harness's defaults.
    pub async fn start(dir: TempDir) -> Server {
        Server::start_with(dir, ServerOptions::default()).await
    }

    /// Serves `dir` on a free port; waits (at most ~10 s) until `/health` answers 200.
    /// Should the port be taken between choosing and binding it, tries another one.
    pub async fn start_with(dir: TempDir, options: ServerOptions) -> Server {
        let http = client();
        let log = dir.path().join("server.log");
        let log_text = || std::fs::read_to_string(&log).unwrap_or_default();
        for _attempt in 0..3 {
            let port = free_port();
            let listen = format!("127.0.0.1:{port}");
            let stderr = File::create(&log).expect("server log file");
            let mut command = command(dir.path(), &["serve", "--listen", &listen]);
            command
                .args(&options.args)
                .envs(options.env.iter().map(|(key, value)| (key, value)));
            let mut child = Killed(
                command
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
                    // Should our server have failed to bind (and someone else answered),
                    // it exits right away: give it a moment to show that.
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
                return Server {
                    child,
                    base,
                    http,
                    dir,
                };
            }
        }
        panic!("the server did not start on any of 3 ports: {}", log_text());
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server process's id (for `/proc/<pid>/status`).
    pub fn pid(&self) -> u32 {
        self.child.0.id()
    }

    /// Where the server's stderr goes.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).expect("read the server log")
    }

    /// Kills the server now (it is killed on drop anyway), keeping its data folder, so
    /// everything it was going to write is written.
    pub fn stop(&mut self) {
        let _ = self.child.0.kill();
        let _ = self.child.0.wait();
    }

    /// Serves the same data folder again (after `stop`), on a port of its own.
    pub async fn restart(self, options: ServerOptions) -> Server {
        let Server { child, dir, .. } = self;
        drop(child);
        Server::start_with(dir, options).await
    }

    /// Asks the server to shut down, as a service manager would (SIGTERM), and waits at
    /// most 10 s for it to exit; None if it did not.
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let signalled = Command::new("kill")
            .args(["-TERM", &self.child.0.id().to_string()])
            .status()
            .expect("run kill");
        assert!(signalled.success(), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = self.child.0.try_wait().expect("poll the server") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        None
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let request = self.http.request(method, self.url(path));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// A request as `token`, with a JSON body when given, sent.
    pub async fn call(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        let request = self.request(method, path, Some(token));
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        request.send().await.expect("request")
    }

    pub async fn login_response(&self, email: &str, password: &str) -> Response {
        self.request(Method::POST, "/api/v1/auth/login", None)
            .json(&json!({ "email": email, "password": password, "client_name": "api tests" }))
            .send()
            .await
            .expect("POST /api/v1/auth/login")
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let response = self.login_response(email, password).await;
        let body = expect_json(response, StatusCode::OK).await;
        body["token"]
            .as_str()
            .expect("a token in the login response")
            .to_owned()
    }

    /// `GET /api/v1/me`: the profile and its ETag.
    pub async fn me(&self, token: &str) -> (Value, String) {
        let response = self
            .request(Method::GET, "/api/v1/me", Some(token))
            .send()
            .await
            .expect("GET /api/v1/me");
        let etag = etag_of(response.headers());
        (expect_json(response, StatusCode::OK).await, etag)
    }

    /// `PATCH /api/v1/me` with a JSON body and, when given, `If-Match`.
    pub async fn patch(&self, token: &str, if_match: Option<&str>, body: &Value) -> Response {
        let mut request = self
            .request(Method::PATCH, "/api/v1/me", Some(token))
            .json(body);
        if let Some(etag) = if_match {
            request = request.header(IF_MATCH, etag);
        }
        request.send().await.expect("PATCH /api/v1/me")
    }

    /// A successful PATCH: the new profile and ETag.
    pub async fn patch_ok(&self, token: &str, if_match: &str, body: &Value) -> (Value, String) {
        let response = self.patch(token, Some(if_match), body).await;
        let etag = etag_of(response.headers());
        (expect_json(response, StatusCode::OK).await, etag)
    }

    /// The profile and ETag are exactly what they were before a refused request.
    pub async fn assert_unchanged(&self, token: &str, before: &(Value, String), after_what: &str) {
        let now = self.me(token).await;
        assert_eq!(now.1, before.1, "the ETag changed after {after_what}");
        assert_eq!(now.0, before.0, "the profile changed after {after_what}");
    }

    /// `GET /health` answers 200 `{"status": "ok"}`.
    pub async fn assert_healthy(&self) {
        let response = self
            .request(Method::GET, "/health", None)
            .send()
            .await
            .expect("GET /health");
        let body = expect_json(response, StatusCode::OK).await;
        assert_eq!(body["status"], "ok", "body: {body}");
    }
}

/// `PUT /api/v1/me/avatar` with `body` as the image.
pub async fn put_avatar(
    server: &Server,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Response {
    server
        .request(Method::PUT, "/api/v1/me/avatar", Some(token))
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .expect("PUT /api/v1/me/avatar")
}

pub fn etag_of(headers: &HeaderMap) -> String {
    headers
        .get(ETAG)
        .and_then(|value| value.to_str().ok())
        .expect("an ETag header")
        .to_owned()
}

/// `GET path` as `token`, answered 200 with JSON.
pub async fn get_json(server: &Server, token: &str, path: &str) -> Value {
    let response = server.call(token, Method::GET, path, None).await;
    expect_json(response, StatusCode::OK).await
}

/// Asserts the status and that the body is JSON, and returns it.
pub async fn expect_json(response: Response, status: StatusCode) -> Value {
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
pub async fn expect_error(
    response: Response,
    status: StatusCode,
    code: &str,
    field: Option<&str>,
) -> Value {
    let body = expect_json(response, status).await;
    let object = body.as_object().expect("the error body is an object");
    assert_eq!(object.keys().collect::<Vec<_>>(), ["error"], "body: {body}");
    let error = &body["error"];
    assert_eq!(error["code"], code, "error code; body: {body}");
    assert_eq!(
        error["field"],
        field.map_or(Value::Null, Value::from),
        "error field; body: {body}"
    );
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|message| !message.is_empty()),
        "the error has a message; body: {body}"
    );
    body
}

/// Sends a request whose body is over the server's limit. The server answers 413 as soon
/// as it has the headers and closes the connection without reading the rest, so the
/// client may fail writing the body (broken pipe, reset) before it reads the answer: such
/// a send is tried again, a few times, until the answer itself is read. The request asks
/// for its connection to be closed, so no later request of the test is sent on a
/// connection the server is about to drop.
pub async fn send_oversized(make: impl Fn() -> RequestBuilder, what: &str) -> Response {
    let mut failures = Vec::new();
    for _attempt in 0..8 {
        match make().header(CONNECTION, "close").send().await {
            Ok(response) => return response,
            Err(error) if error.is_request() || error.is_body() => failures.push(error),
            Err(error) => panic!("{what}: {error:?}"),
        }
    }
    panic!("{what}: the answer was never read: {failures:#?}");
}

/// A PATCH /api/v1/me with raw bytes and a chosen (or no) Content-Type.
pub async fn patch_raw(
    server: &Server,
    token: &str,
    if_match: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Response {
    let mut request = server
        .request(Method::PATCH, "/api/v1/me", Some(token))
        .header(IF_MATCH, if_match);
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    request.body(body).send().await.expect("PATCH /api/v1/me")
}

/// Every file SQLite keeps for the database: the main file, its WAL and shared memory.
/// On PostgreSQL, what the database holds, as `pg_dump` writes it out.
pub fn database_files(data_dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    if on_postgres() {
        let url = database_url(data_dir);
        let dump = postgres::PrivatePostgres::shared().dump(&url);
        return vec![(PathBuf::from(url), dump)];
    }
    let files: Vec<_> = std::fs::read_dir(data_dir)
        .expect("list the data folder")
        .map(|entry| entry.expect("data folder entry").path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("agent-desk.db"))
        })
        .map(|path| {
            let bytes = std::fs::read(&path).expect("read a database file");
            (path, bytes)
        })
        .collect();
    assert!(
        !files.is_empty(),
        "no agent-desk.db* in {}",
        data_dir.display()
    );
    files
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

pub fn found_in(files: &[(PathBuf, Vec<u8>)], needle: &str) -> Vec<PathBuf> {
    files
        .iter()
        .filter(|(_, bytes)| contains(bytes, needle.as_bytes()))
        .map(|(path, _)| path.clone())
        .collect()
}

pub async fn open_database(data_dir: &Path) -> agent_desk_server::Db {
    let url = database_url(data_dir);
    agent_desk_server::db::connect(&url)
        .await
        .expect("open the server's database")
}

// ---------------------------------------------------------------------------------------
// The event stream
// ---------------------------------------------------------------------------------------

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `GET /api/v1/events/stream?{query}` as `token`.
pub async fn open_stream_with(server: &Server, token: &str, query: &str) -> Socket {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::header::AUTHORIZATION;
    let url = format!(
        "{}/api/v1/events/stream?{query}",
        server.base.replace("http://", "ws://")
    );
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert(
        AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header"),
    );
    let (socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("open the event stream");
    socket
}

/// The next message on a stream other than a ping or pong, within 5 s.
pub async fn next_message(socket: &mut Socket) -> tokio_tungstenite::tungstenite::Message {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a message within 5 s")
            .expect("the stream is open")
            .expect("a message");
        if !matches!(message, Message::Ping(_) | Message::Pong(_)) {
            return message;
        }
    }
}

/// The next event (or presence message) on a stream, skipping pings.
pub async fn next_event(socket: &mut Socket) -> Value {
    use tokio_tungstenite::tungstenite::Message;
    match next_message(socket).await {
        Message::Text(text) => serde_json::from_str(&text).expect("event JSON"),
        other => panic!("unexpected message {other:?}"),
    }
}

/// Approves every open request to change department, as the administrator `admin`: a
/// department named with `PATCH /api/v1/me` is only a request until then.
pub async fn approve_departments(server: &Server, admin: &str) {
    let response = server
        .request(
            Method::GET,
            "/api/v1/admin/department-requests",
            Some(admin),
        )
        .send()
        .await
        .expect("list department requests");
    let pending = expect_json(response, StatusCode::OK).await;
    for request in pending["requests"].as_array().expect("requests") {
        let id = request["id"].as_str().expect("id");
        let response = server
            .request(
                Method::POST,
                &format!("/api/v1/admin/department-requests/{id}/decision"),
                Some(admin),
            )
            .json(&json!({"approve": true}))
            .send()
            .await
            .expect("decide");
        expect_json(response, StatusCode::OK).await;
    }
}

/// The `field` of each object in the array `value[list]`, where it is text.
pub fn texts<'a>(value: &'a Value, list: &str, field: &str) -> Vec<&'a str> {
    value[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {value}"))
        .iter()
        .filter_map(|item| item[field].as_str())
        .collect()
}

/// `POST /api/v1/admin/events` with `body`, as `token`.
pub async fn post_event(server: &Server, token: &str, body: &Value) -> Response {
    server
        .request(Method::POST, "/api/v1/admin/events", Some(token))
        .json(body)
        .send()
        .await
        .expect("post an event")
}

/// The ticket.assigned alerts `token`'s agent has so far, by ticket id, every page read.
pub async fn assigned_ticket_ids(server: &Server, token: &str) -> Vec<String> {
    let mut tickets = Vec::new();
    let mut after = 0;
    loop {
        let path = format!("/api/v1/events?after={after}&limit=1000");
        let page = expect_json(
            server.call(token, Method::GET, &path, None).await,
            StatusCode::OK,
        )
        .await;
        let events = page["events"].as_array().cloned().unwrap_or_default();
        if events.is_empty() {
            return tickets;
        }
        tickets.extend(
            events
                .iter()
                .filter(|event| event["type"] == "ticket.assigned")
                .filter_map(|event| event["ticket_id"].as_str().map(str::to_owned)),
        );
        after = page["next"].as_i64().unwrap_or_default();
    }
}

/// Asserts that `tickets` are `count` tickets, each once.
pub fn assert_exactly_once(mut tickets: Vec<String>, count: usize, log: &str) {
    let read = tickets.len();
    tickets.sort();
    tickets.dedup();
    assert_eq!(
        (read, tickets.len()),
        (count, count),
        "alerts read, distinct tickets: {log}"
    );
}
