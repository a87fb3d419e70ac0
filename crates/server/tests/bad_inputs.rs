//! Bad inputs against the real, running `agent-desk-server`: every operation of its own
//! OpenAPI document gets generated requests — hostile path parameters, every declared
//! query parameter and unknown ones, bodies built from the request schema and then
//! broken, wrong Content-Types, mangled tokens — as nobody, an agent and an admin in
//! turn. The server must answer each with a complete HTTP answer below 500, and its
//! peak resident memory must not grow once it is warm.
//!
//! Generation is proptest with a fixed ChaCha seed (`BAD_INPUTS_SEED` picks another), so
//! a run is reproducible; ids of the run's own records are filled in when a request is
//! sent. Every failure is collected (the first one for each operation and kind in full,
//! with the server's log), shrunk with proptest's value trees after the memory was
//! measured, and the test then fails listing them all.
//!
//! The clients that send the bad inputs connect from 127.0.0.2–5, the suite's own
//! bookkeeping (signing in again after a sign-out, reading ETags) from 127.0.0.1, so
//! the sign-in throttling the bad inputs run into never locks the bookkeeping out.
//! Inputs may sign the agent or the admin out, end their sessions or change their
//! password: 401 and 429 are fine answers, the suite follows the password and signs in
//! again. Real ids (people, notes, files, sessions…) come from the setup and from what
//! inputs create.
//!
//! What is not sent, and why: a bare `..` path segment is resolved by the URL parser
//! before sending (as by any client), so its encoded forms are sent instead; header
//! values never hold bytes HTTP forbids in them (NUL, CR, LF), which no client could
//! send; the event stream gets HTTP requests, WebSocket handshakes among them, but a
//! 101 answer ends the input (the protocol after it is `tests/events.rs`'s). URLs over
//! what the HTTP client holds (64 KiB) go over a plain TCP connection.
//!
//! `BAD_INPUTS_SEED=<text>` runs another seed, `BAD_INPUTS_TRACE="GET /api/v1/people"`
//! (or `*`) prints every request of an operation with its answer.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::{BoxedStrategy, Union, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};
use support::*;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

// ---------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------

/// The default seed; `BAD_INPUTS_SEED=<text>` runs with another (its first 32 bytes).
const SEED: &[u8; 32] = b"agent-desk/bad-inputs/seed-00001";
/// Inputs before the memory baseline is taken.
const WARM_UP: usize = 500;
/// Inputs over which the peak memory may grow at most `GROWTH_LIMIT`.
const MEASURED: usize = 3_000;
const GROWTH_LIMIT: f64 = 1.10;
/// Per request; a request that takes longer counts as a dropped connection.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Bodies beyond this are over the server's JSON limit (64 KiB): it may answer 413 and
/// close before it has read them, so their sending is tried again (see `send`).
const OVERSIZED: usize = 64 * 1024;
/// Shrinking of the collected failures, after the memory was measured.
const SHRINK_STEPS: usize = 48;
const SHRINK_BUDGET: Duration = Duration::from_secs(20);
/// How many clients send bad inputs, from 127.0.0.2 on.
const FUZZ_CLIENTS: u8 = 4;

const GRACE_EMAIL: &str = "grace@example.com";
/// The account whose reset links the inputs use; no input asks for its reset itself,
/// so the reset throttle keeps letting the suite ask for a new link once one is used.
const RESET_EMAIL: &str = "linus@example.com";
const CUSTOMER_EMAILS: [&str; 5] = [
    "carla@example.org",
    "carla.c@example.org",
    "dora@example.org",
    "emil@example.org",
    "fritz@example.org",
];
/// Passwords the policy accepts: a bad input may change an account's password to one.
const STRONG_PASSWORDS: [&str; 3] = [
    "Velvet-Harbour-Kite-4821!",
    "Quartz-Lantern-Mosaic-77?",
    "Copper-Meadow-Falcon-31#",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Nobody,
    Agent,
    Admin,
}

const ROTATION: [Who; 3] = [Who::Nobody, Who::Agent, Who::Admin];

impl fmt::Display for Who {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Who::Nobody => "nobody",
            Who::Agent => "agent",
            Who::Admin => "admin",
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_get_an_answer_below_500_and_memory_stays_flat() {
    let started = Instant::now();
    let seed = seed();
    let mut desk = Desk::setup().await;
    let setup_took = started.elapsed();

    let spec = desk.openapi().await;
    let mut spec_notes = Vec::new();
    let ops = operations(&spec, &mut spec_notes);
    for op in &ops {
        for (name, kind) in &op.path_params {
            assert!(
                !desk.pools[kind].is_empty(),
                "{}: the setup made no {} to name in {{{name}}}",
                op.label,
                kind.name()
            );
        }
    }
    let ctx = Ctx::new(&spec, &desk);
    // Every operation in turn, those with more to vary more often; each round as
    // nobody, then the agent, then the admin.
    let schedule: Vec<usize> = ops
        .iter()
        .enumerate()
        .flat_map(|(at, op)| {
            let body = usize::from(matches!(op.body, BodyKind::Json(_)));
            let weight = 1 + (op.query.len() + op.path_params.len()) / 2 + body;
            std::iter::repeat_n(at, weight)
        })
        .collect();

    let mut runner = TestRunner::new_with_rng(
        Config {
            rng_algorithm: RngAlgorithm::ChaCha,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    );
    let mut report = Report::default();
    let pid = desk.server.pid();
    let before_warm_up = memory(pid);
    let mut last_peak = before_warm_up.hwm;
    let mut warm = None;
    let fuzz_started = Instant::now();
    // `BAD_INPUTS_TRACE="GET /api/v1/people"` prints every request of that operation
    // (its "METHOD /path" in the OpenAPI document) with the answer; `*` of all.
    let trace = std::env::var("BAD_INPUTS_TRACE").ok();
    for index in 0..WARM_UP + MEASURED {
        if index == WARM_UP {
            warm = Some(memory(pid));
        }
        let op = &ops[schedule[index % schedule.len()]];
        let who = ROTATION[(index / schedule.len()) % ROTATION.len()];
        let tree = input_strategy(&ctx, op, who)
            .new_tree(&mut runner)
            .expect("generate an input");
        let input = tree.current();
        let relogins = desk.relogins;
        let outcome = desk
            .execute(op, who, &input, index % FUZZ_CLIENTS as usize)
            .await;
        if trace.as_deref() == Some(op.label.as_str()) || trace.as_deref() == Some("*") {
            print!("#{index} as {who}:\n{}", describe(&outcome.sent, &desk));
            println!(
                "  -> {} {}",
                outcome.label(),
                show(&outcome.body[..outcome.body.len().min(400)])
            );
        }
        report.tally(op, &outcome);
        let peak = memory(pid).hwm;
        if peak > last_peak + 1024 {
            let relogged = if desk.relogins > relogins {
                " (the suite signed in again after it)"
            } else {
                ""
            };
            report.jumps.push((
                index,
                format!("{}{relogged}", op.label),
                outcome.label(),
                last_peak,
                peak,
            ));
        }
        last_peak = peak;
        let log = desk.new_log();
        if let Some(kind) = outcome.failure() {
            if report.failures.is_empty() {
                println!(
                    "FIRST FAILURE: {kind} on {} at input #{index} as {who}:\n{}  answer: {} {}\n  \
                     answer body: {}\n  server log: {}",
                    op.label,
                    describe(&outcome.sent, &desk),
                    outcome.label(),
                    outcome.error.as_deref().unwrap_or_default(),
                    show(&outcome.body),
                    log.trim_end()
                );
            }
            report.fail(index, op, who, tree, outcome, kind, log);
            if !alive(pid) {
                report.died = Some(index);
                break;
            }
        } else if !log.trim().is_empty() {
            report
                .logged
                .push((index, op.label.clone(), outcome.label(), log));
        }
    }
    let fuzz_took = fuzz_started.elapsed();
    let after = memory(pid);
    let warm = warm.unwrap_or(after);

    // Shrink every distinct failure now that the memory is measured.
    let shrink_started = Instant::now();
    if report.died.is_none() {
        for failure in report.failures.values_mut() {
            if shrink_started.elapsed() > SHRINK_BUDGET {
                break;
            }
            let op = ops
                .iter()
                .find(|op| op.label == failure.op)
                .expect("the failing operation");
            failure.shrink(&mut desk, op).await;
        }
    }

    let total = started.elapsed();
    report.print(&ops, &spec_notes, &desk);
    println!(
        "memory (VmHWM, peak resident): {} kB at start, {} kB after the warm-up of {WARM_UP} \
         inputs, {} kB after {MEASURED} more ({:+.1} %; limit {:+.0} %); VmRSS now {} kB",
        before_warm_up.hwm,
        warm.hwm,
        after.hwm,
        (after.hwm as f64 / warm.hwm as f64 - 1.0) * 100.0,
        (GROWTH_LIMIT - 1.0) * 100.0,
        after.rss,
    );
    println!(
        "time: setup {:.1} s, inputs {:.1} s, shrinking {:.1} s, total {:.1} s; seed {:?}",
        setup_took.as_secs_f64(),
        fuzz_took.as_secs_f64(),
        shrink_started.elapsed().as_secs_f64(),
        total.as_secs_f64(),
        String::from_utf8_lossy(&seed),
    );

    let mut problems = Vec::new();
    if let Some(index) = report.died {
        problems.push(format!("the server died at input #{index}"));
    }
    for (key, failure) in &report.failures {
        problems.push(format!(
            "{} {}: {} ({} times)",
            key.0, key.1, failure.first_line, failure.count
        ));
    }
    if report.died.is_none() && after.hwm as f64 > warm.hwm as f64 * GROWTH_LIMIT {
        problems.push(format!(
            "peak memory grew from {} kB to {} kB over {MEASURED} inputs (more than {:.0} %)",
            warm.hwm,
            after.hwm,
            (GROWTH_LIMIT - 1.0) * 100.0
        ));
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) with bad inputs (details above):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

fn seed() -> [u8; 32] {
    let mut seed = *SEED;
    if let Ok(text) = std::env::var("BAD_INPUTS_SEED") {
        seed = [b'.'; 32];
        for (slot, byte) in seed.iter_mut().zip(text.bytes()) {
            *slot = byte;
        }
    }
    seed
}

// ---------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct Memory {
    hwm: u64,
    rss: u64,
}

fn memory(pid: u32) -> Memory {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/status: {e}"));
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status: {status}"))
    };
    Memory {
        hwm: field("VmHWM:"),
        rss: field("VmRSS:"),
    }
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .is_ok_and(|status| !status.lines().any(|line| line.starts_with("State:\tZ")))
}

// ---------------------------------------------------------------------------------------
// The operations, from the server's own OpenAPI document
// ---------------------------------------------------------------------------------------

/// What a path parameter names, so a request can name a real one of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Person,
    /// An agent administrators change: only the colleague nobody signs in as, so a
    /// deactivation or a new address never locks the suite's own agent out.
    Agent,
    Customer,
    Note,
    File,
    Avatar,
    Session,
    Team,
    JoinRequest,
    DepartmentRequest,
    Field,
    Org,
    Email,
    Reset,
    /// A webhook's source: zendesk, freshdesk, generic.
    Hook,
    /// The app's update check: a system, a processor and the running version.
    Target,
    Arch,
    Version,
    /// A published release of the app, and its bundle's name.
    Release,
    BundleName,
    /// A usergroup administrators list.
    Usergroup,
    /// An integration's token administrators made.
    IntegrationToken,
}

impl Kind {
    const ALL: [Kind; 22] = [
        Kind::Person,
        Kind::Agent,
        Kind::Customer,
        Kind::Note,
        Kind::File,
        Kind::Avatar,
        Kind::Session,
        Kind::Team,
        Kind::JoinRequest,
        Kind::DepartmentRequest,
        Kind::Field,
        Kind::Org,
        Kind::Email,
        Kind::Reset,
        Kind::Hook,
        Kind::Target,
        Kind::Arch,
        Kind::Version,
        Kind::Release,
        Kind::BundleName,
        Kind::Usergroup,
        Kind::IntegrationToken,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Person => "person",
            Kind::Agent => "agent",
            Kind::Customer => "customer",
            Kind::Note => "note",
            Kind::File => "file",
            Kind::Avatar => "avatar",
            Kind::Session => "session",
            Kind::Team => "team",
            Kind::JoinRequest => "join-request",
            Kind::DepartmentRequest => "department-request",
            Kind::Field => "field",
            Kind::Org => "org",
            Kind::Email => "email",
            Kind::Reset => "reset",
            Kind::Hook => "hook",
            Kind::Target => "target",
            Kind::Arch => "arch",
            Kind::Version => "version",
            Kind::Release => "release",
            Kind::BundleName => "bundle-name",
            Kind::Usergroup => "usergroup",
            Kind::IntegrationToken => "integration-token",
        }
    }

    fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The kind a path parameter names, from the collection before it. An unknown one
    /// fails the suite: a new route needs its ids here.
    fn of_path_param(template: &str, name: &str) -> Kind {
        let segments: Vec<&str> = template.split('/').collect();
        let at = segments
            .iter()
            .position(|segment| *segment == format!("{{{name}}}"))
            .unwrap_or_else(|| panic!("{template} has no {{{name}}}"));
        // The update check's and a bundle's parameters follow one another.
        match name {
            "target" => return Kind::Target,
            "arch" => return Kind::Arch,
            "current_version" => return Kind::Version,
            "file_name" => return Kind::BundleName,
            _ => {}
        }
        match segments[..at].last().copied().unwrap_or_default() {
            "people" => Kind::Person,
            "agents" | "members" => Kind::Agent,
            "notes" => Kind::Note,
            "files" => Kind::File,
            "avatars" => Kind::Avatar,
            "sessions" => Kind::Session,
            "teams" => Kind::Team,
            "join-requests" => Kind::JoinRequest,
            "department-requests" => Kind::DepartmentRequest,
            "emails" => Kind::Email,
            "hooks" => Kind::Hook,
            "releases" => Kind::Release,
            "organizations" => Kind::Org,
            "usergroups" => Kind::Usergroup,
            "custom-fields" => Kind::Field,
            "tokens" => Kind::IntegrationToken,
            other => panic!(
                "bad_inputs.rs does not know what the path parameter {{{name}}} of {template} \
                 (after /{other}/) names: add its kind so real ids are tried too"
            ),
        }
    }
}

#[derive(Debug, Clone)]
struct Param {
    name: String,
    schema: Value,
}

#[derive(Debug, Clone)]
enum BodyKind {
    None,
    Json(Value),
    Binary(&'static str),
    Form,
}

#[derive(Debug, Clone)]
struct Op {
    method: Method,
    template: String,
    label: String,
    path_params: Vec<(String, Kind)>,
    query: Vec<Param>,
    if_match: bool,
    headers: Vec<Param>,
    body: BodyKind,
}

/// Every operation of the document. Parameters declared `in: path` that the path does
/// not have are sent in the query (where the handlers read them) and noted.
fn operations(spec: &Value, notes: &mut Vec<String>) -> Vec<Op> {
    let paths = spec["paths"]
        .as_object()
        .expect("paths in the OpenAPI document");
    let mut ops = Vec::new();
    for (template, item) in paths {
        for method in [
            "get", "put", "post", "delete", "patch", "head", "options", "trace",
        ] {
            let Some(operation) = item.get(method).filter(|op| op.is_object()) else {
                continue;
            };
            let label = format!("{} {template}", method.to_uppercase());
            let mut op = Op {
                method: Method::from_bytes(method.to_uppercase().as_bytes()).expect("method"),
                template: template.clone(),
                label: label.clone(),
                path_params: Vec::new(),
                query: Vec::new(),
                if_match: false,
                headers: Vec::new(),
                body: BodyKind::None,
            };
            let parameters = item
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .chain(operation.get("parameters").and_then(Value::as_array))
                .flatten();
            for parameter in parameters {
                let parameter = resolve_refs(spec, parameter);
                let name = parameter["name"]
                    .as_str()
                    .expect("a parameter name")
                    .to_owned();
                let schema = parameter.get("schema").cloned().unwrap_or(json!({}));
                match parameter["in"].as_str().unwrap_or_default() {
                    "path" if template.contains(&format!("{{{name}}}")) => {
                        let kind = Kind::of_path_param(template, &name);
                        op.path_params.push((name, kind));
                    }
                    "path" => {
                        notes.push(format!(
                            "{label}: `{name}` is declared `in: path` but the path has no \
                             {{{name}}}; sent in the query"
                        ));
                        op.query.push(Param { name, schema });
                    }
                    "query" => op.query.push(Param { name, schema }),
                    "header" if name.eq_ignore_ascii_case("if-match") => op.if_match = true,
                    "header" => op.headers.push(Param { name, schema }),
                    other => panic!("{label}: parameter {name} is in {other:?}, which bad_inputs.rs cannot send"),
                }
            }
            for segment in template.split('/') {
                if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    if !op.path_params.iter().any(|(declared, _)| declared == name) {
                        notes.push(format!(
                            "{label}: path parameter {{{name}}} is not declared"
                        ));
                        op.path_params
                            .push((name.to_owned(), Kind::of_path_param(template, name)));
                    }
                }
            }
            if let Some(content) = operation
                .get("requestBody")
                .and_then(|body| body.get("content"))
                .and_then(Value::as_object)
            {
                let (content_type, media) = content.iter().next().expect("a request body type");
                op.body = match content_type.as_str() {
                    "application/json" => BodyKind::Json(
                        media
                            .get("schema")
                            .cloned()
                            .unwrap_or_else(|| panic!("{label}: a JSON body without a schema")),
                    ),
                    "image/*" => BodyKind::Binary("image/png"),
                    "application/octet-stream" => BodyKind::Binary("application/octet-stream"),
                    "application/x-www-form-urlencoded" => BodyKind::Form,
                    other => panic!("{label}: bad_inputs.rs cannot build a {other} body"),
                };
            }
            ops.push(op);
        }
    }
    assert!(!ops.is_empty(), "the OpenAPI document has no operations");
    ops
}

/// A parameter or schema with a `$ref` replaced by what it names (one level).
fn resolve_refs(spec: &Value, value: &Value) -> Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => lookup(spec, reference).clone(),
        None => value.clone(),
    }
}

fn lookup<'a>(spec: &'a Value, reference: &str) -> &'a Value {
    let pointer = reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("an external $ref: {reference}"));
    spec.pointer(pointer)
        .unwrap_or_else(|| panic!("$ref {reference} names nothing in the document"))
}

// ---------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------

/// A path segment: a real id of the run (by index into its pool, taken when sent), or
/// text, percent-encoded or sent as it is.
#[derive(Debug, Clone)]
enum Seg {
    Real(Kind, usize),
    RealWith(Kind, usize, &'static str),
    Text(String),
    Raw(&'static str),
}

/// A query key or value, a form field: percent-encoded text, or sent as it is.
#[derive(Debug, Clone)]
enum Text {
    Plain(String),
    Raw(&'static str),
}

#[derive(Debug, Clone)]
enum IfMatch {
    /// The resource's ETag as it is when the request is sent.
    Current,
    Literal(String),
}

#[derive(Debug, Clone, Copy)]
enum Mangle {
    Lowercase,
    NoScheme,
    Basic,
    Empty,
    Suffixed,
    Truncated,
    Spaces,
    Long,
    ObsText,
    Twice,
}

#[derive(Debug, Clone)]
enum Auth {
    As(Who),
    Mangled(Who, Mangle),
}

#[derive(Debug, Clone)]
enum ContentType {
    /// What the operation takes (none without a body).
    Default,
    Missing,
    Other(&'static [u8]),
}

#[derive(Debug, Clone, Copy)]
enum Shape {
    Plain,
    /// Cut after this many thousandths of the text.
    Truncated(usize),
    Trailing(&'static str),
    Bom,
    /// A 0xFF byte at this many thousandths of the text.
    InvalidUtf8(usize),
    TrailingComma,
    SingleQuotes,
    DuplicateKey,
    Comment,
    /// Padded with whitespace to this many bytes (over the limit).
    Padded(usize),
}

#[derive(Debug, Clone)]
enum Payload {
    None,
    Json(Value, Shape),
    Bytes(Vec<u8>),
    Form(Vec<(Text, Text)>),
}

#[derive(Debug, Clone)]
struct Input {
    method: Option<&'static str>,
    auth: Auth,
    segs: Vec<Seg>,
    query: Vec<(Text, Text)>,
    raw_query: Option<&'static str>,
    if_match: Option<IfMatch>,
    headers: Vec<(String, Vec<u8>)>,
    content_type: ContentType,
    payload: Payload,
}

// ---------------------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------------------

/// What generation needs beyond the operation: the schemas, valid bodies to start from
/// and a photo. Run-specific values (ids, passwords, tokens) are `§…§` placeholders,
/// filled in when sent.
struct Ctx {
    spec: Value,
    samples: BTreeMap<String, Vec<Value>>,
    png: Vec<u8>,
}

impl Ctx {
    fn new(spec: &Value, desk: &Desk) -> Ctx {
        let mut samples: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut add = |label: &str, body: Value| {
            samples.entry(label.to_owned()).or_default().push(body);
        };
        add(
            "POST /api/v1/admin/custom-fields",
            json!({"name": "Tier", "kind": "choice", "choices": ["Gold", "Silver"]}),
        );
        add(
            "POST /api/v1/admin/custom-fields",
            json!({"name": "Renewal", "kind": "date"}),
        );
        add(
            "POST /api/v1/admin/events",
            json!({"type": "ticket.created", "to": {"agent": EMAIL}, "title": "Printer on fire",
                   "ticket_id": "2a", "requester": CUSTOMER_EMAILS[0], "priority": "high",
                   "url": "https://helpdesk.example/tickets/2a", "body": "It smokes."}),
        );
        add(
            "POST /api/v1/admin/events",
            json!({"type": "system.maintenance", "to": "all", "title": "Down at noon"}),
        );
        add(
            "POST /api/v1/admin/events",
            json!({"type": "ticket.team_assigned", "to": {"team": "Billing"}, "title": "Refund"}),
        );
        add(
            "POST /api/v1/admin/agents",
            json!({"email": "linus@example.org", "display_name": "Linus", "department": "Kernel"}),
        );
        add(
            "PATCH /api/v1/admin/agents/{id}",
            json!({"department": "Billing", "job_title": "Lead", "is_admin": false, "active": true}),
        );
        add(
            "POST /api/v1/admin/teams",
            json!({"name": "Escalations", "leads": [ADMIN_EMAIL], "members": [EMAIL]}),
        );
        add(
            "POST /api/v1/auth/login",
            json!({"email": EMAIL, "password": "§pw:agent§", "client_name": "bad inputs"}),
        );
        add(
            "POST /api/v1/auth/password",
            json!({"current_password": "§pw:self§", "new_password": STRONG_PASSWORDS[0]}),
        );
        add(
            "POST /api/v1/auth/password/strength",
            json!({"password": STRONG_PASSWORDS[0]}),
        );
        add(
            "POST /api/v1/auth/password-reset",
            json!({"email": GRACE_EMAIL}),
        );
        add(
            "POST /api/v1/auth/password-reset/confirm",
            json!({"token": "§id:reset:0§", "new_password": STRONG_PASSWORDS[1]}),
        );
        add(
            "POST /api/v1/join-requests/{id}/decision",
            json!({"approve": true, "note": "Welcome"}),
        );
        add(
            "POST /api/v1/admin/department-requests/{id}/decision",
            json!({"approve": false, "note": "Not this quarter"}),
        );
        add(
            "PATCH /api/v1/me",
            json!({"display_name": "Ada L.", "job_title": "Agent", "timezone": "Europe/Berlin",
                   "language": "de", "phone": "+49 30 901820", "visibility": "department",
                   "contact_prefs": {"allow_direct_messages": true, "show_phone": false,
                                     "show_online_status": true, "calendar_integration": false}}),
        );
        add(
            "PUT /api/v1/me/notification-prefs",
            desk.prefs_sample.clone(),
        );
        add(
            "PUT /api/v1/me/status",
            json!({"status": "busy", "until": "2099-01-01T00:00:00Z"}),
        );
        add("PUT /api/v1/me/status", json!({"status": "away"}));
        add("PATCH /api/v1/notes/{id}", json!({"body": "Edited."}));
        add(
            "POST /api/v1/people",
            json!({"name": "Nora New", "emails": ["nora@example.org"], "organization": "Acme",
                   "phone": "+1 212 555 0100"}),
        );
        add(
            "PATCH /api/v1/people/{id}",
            json!({"name": "Carla C.", "website": "example.com", "twitter": "@carla",
                   "usergroups": ["VIP"], "custom_fields": {"§id:field:0§": "Gold"}}),
        );
        add(
            "POST /api/v1/people/{id}/emails",
            json!({"address": "extra@example.org", "primary": false}),
        );
        add(
            "POST /api/v1/people/{id}/merge",
            json!({"source": "§id:customer:1§"}),
        );
        add(
            "POST /api/v1/people/{id}/notes",
            json!({"body": "Called back."}),
        );
        add(
            "POST /api/v1/teams/{id}/join-requests",
            json!({"note": "May I?"}),
        );
        Ctx {
            spec: spec.clone(),
            samples,
            png: png(96, 96),
        }
    }
}

fn pick<T: Clone + fmt::Debug + 'static>(items: &[T]) -> BoxedStrategy<T> {
    select(items.to_vec()).boxed()
}

fn pick_string(items: &[&'static str]) -> BoxedStrategy<String> {
    select(items.to_vec()).prop_map(str::to_owned).boxed()
}

fn one_of<T: fmt::Debug + 'static>(arms: Vec<(u32, BoxedStrategy<T>)>) -> BoxedStrategy<T> {
    Union::new_weighted(arms).boxed()
}

/// An index into a pool of real ids, mostly among the first (made at the setup, with
/// the most behind them: notes, files, tickets).
fn real_index() -> BoxedStrategy<usize> {
    one_of(vec![(60, (0..4usize).boxed()), (40, (0..24usize).boxed())])
}

fn placeholder(kind: Kind) -> BoxedStrategy<String> {
    real_index()
        .prop_map(move |index| format!("§id:{}:{index}§", kind.name()))
        .boxed()
}

const NASTY: &[&str] = &[
    "",
    " ",
    "   ",
    "a",
    "null",
    "true",
    "0",
    "-1",
    "1e308",
    "NaN",
    "Infinity",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "\0",
    "a\0b",
    "\u{1}\u{2}\u{7f}",
    "\r\n\r\nX-Injected: 1",
    "\t",
    "line\nbreak",
    "\u{202E}gnp.exe",
    "abc\u{202E}def\u{202C}",
    "\u{200B}",
    "\u{FEFF}",
    "Zoë Ångström",
    "東京都",
    "🦀🚀👩‍👩‍👧",
    "e\u{0301}\u{0301}\u{0301}\u{0301}",
    "ﷺ",
    "\u{10FFFF}",
    "\u{FFFD}",
    "\"",
    "'",
    "*",
    "NEAR(",
    "NEAR(a b, 3)",
    "OR",
    "a OR b",
    "AND",
    "NOT a",
    "\"unterminated",
    "a*",
    "*a",
    "^a",
    "-a",
    "+a",
    "name:carla",
    "{a b}",
    "(",
    ")",
    "( ) \" * : ^ -",
    "\"\" OR \"\"",
    "%",
    "_",
    "%_%",
    "\\",
    "' OR '1'='1",
    "'; DROP TABLE agents; --",
    "../../../../etc/passwd",
    "..",
    ".",
    "/",
    "//",
    "%00",
    "%2e%2e%2f",
    "<script>alert(1)</script>",
    "${jndi:ldap://x}",
    "{{7*7}}",
    "%s%s%s%n",
    "\\u0000",
    "a@b",
    "@",
    "javascript:alert(1)",
    "data:text/html,<b>x</b>",
    "http://",
    "carla@example.org",
    "ada@example.com",
    "7183 8750",
    "+44 20 7183 8750",
];

/// Long strings: 300, 1 000 and 10 000 repetitions of a piece.
fn long_string() -> BoxedStrategy<String> {
    (
        pick(&[
            "x", "é", "\u{202E}", "🦀", "\0", "a b ", "\"", "NEAR(", "%", "\u{301}",
        ]),
        pick(&[300usize, 1_000, 10_000]),
    )
        .prop_map(|(piece, times)| piece.repeat(times))
        .boxed()
}

const INT_STRINGS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "50",
    "100",
    "101",
    "1000",
    "1001",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "99999999999999999999999999999999",
    "1e3",
    "1.5",
    "-0",
    "+1",
    " 1",
    "1 ",
    "0x10",
    "01",
    "١٢",
    "NaN",
    "inf",
    "",
    "abc",
    "1e308",
];

const BOOL_STRINGS: &[&str] = &[
    "true", "false", "TRUE", "True", "1", "0", "yes", "", "null", "truee",
];

const DATES: &[&str] = &[
    "10000-01-01T00:00:00Z",
    "+10000-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59.999999999Z",
    "2262-04-12T00:00:00Z",
    "2099-01-01T00:00:00Z",
    "2030-06-01T12:00:00+02:00",
    "2000-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "1969-12-31T23:59:59Z",
    "0000-01-01T00:00:00Z",
    "-0001-01-01T00:00:00Z",
    "1677-09-21T00:12:43Z",
    "2026-02-30T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-01-01T24:00:00Z",
    "2026-01-01T23:59:60Z",
    "2026-01-01",
    "2026-01-01T00:00:00",
    "2026-01-01T00:00:00+25:00",
    "2026-01-01 00:00:00Z",
    "2026-01-01T00:00:00.0000000000000000000001Z",
    "now",
    "tomorrow",
    "1e10",
    "",
];

fn nasty_string() -> BoxedStrategy<String> {
    one_of(vec![
        (45, pick_string(NASTY)),
        (12, "\\PC{0,24}".boxed()),
        (
            10,
            "[\\x00-\\x1f\\x7f\\u{202e}\\u{feff}\\u{200b}a-zA-Z0-9\"*()%:^{}]{0,16}".boxed(),
        ),
        (10, long_string()),
        (8, pick_string(INT_STRINGS)),
        (5, pick_string(DATES)),
        (10, "[a-zA-Z ]{1,12}".boxed()),
    ])
}

/// Plausible values of a field by its name, so requests get past the first checks.
fn hint(name: &str) -> Option<BoxedStrategy<String>> {
    let emails = || {
        pick_string(&[
            EMAIL,
            ADMIN_EMAIL,
            GRACE_EMAIL,
            CUSTOMER_EMAILS[0],
            CUSTOMER_EMAILS[1],
            CUSTOMER_EMAILS[2],
            "new.person+tag@example.org",
            "UPPER@EXAMPLE.ORG",
            " carla@example.org ",
            "a@b",
            "no-at-sign",
            "\"quoted\"@example.org",
            "ünïcode@exämple.org",
            "a@[127.0.0.1]",
            "a@b@c",
            "nobody@nowhere.invalid",
        ])
    };
    Some(match name {
        "email" | "agent" | "requester" | "address" | "leads" | "members" | "emails" => {
            one_of(vec![
                (80, emails()),
                (20, "[a-z]{1,70}@[a-z]{1,200}\\.org".boxed()),
            ])
        }
        "password" => pick_string(&["§pw:agent§", "§pw:admin§", PASSWORD, "wrong-password", ""]),
        "current_password" => pick_string(&["§pw:self§", "§pw:self§", "wrong-password", ""]),
        "new_password" | "confirm_password" => pick_string(&[
            STRONG_PASSWORDS[0],
            STRONG_PASSWORDS[1],
            STRONG_PASSWORDS[2],
            "short",
            "Password1!",
            "§pw:self§",
            "Ada-Lovelace-ada@example.com-1",
        ]),
        "token" => one_of(vec![
            (60, placeholder(Kind::Reset)),
            (40, "[A-Za-z0-9_-]{43}".boxed()),
        ]),
        "source" => one_of(vec![
            (60, placeholder(Kind::Customer)),
            (40, placeholder(Kind::Person)),
        ]),
        "team" => pick_string(&["Billing", "Care", "billing ", "Nobody's team"]),
        "name" => pick_string(&["Billing", "Care", "Carla Customer", "Tier", "New Team", "x"]),
        "timezone" => pick_string(&[
            "Europe/Berlin",
            "UTC",
            "America/Argentina/ComodRivadavia",
            "Mars/Olympus",
            "Etc/GMT+14",
            "europe/berlin",
            "../../etc/localtime",
        ]),
        "language" => pick_string(&["de", "en-GB", "pt-BR", "xx", "EN", "de-DE-x-private"]),
        "phone" | "mobile" => pick_string(&[
            "+49 30 901820",
            "0049 30 901820",
            "+1 212 555 0100",
            "+999999999999999999999",
            "12345",
            "+",
            "tel:+49301234",
            "+44 20 7183 8750 ext. 12",
        ]),
        "website" | "url" => pick_string(&[
            "example.com",
            "https://example.com/path?q=1",
            "javascript:alert(1)",
            "ftp://example.com",
            "http://",
            "https://exa mple.com",
            "http://[::1]:99999",
            "https://例え.jp",
        ]),
        "linkedin" => pick_string(&[
            "https://www.linkedin.com/in/carla",
            "https://evil.example/in/carla",
            "linkedin.com/in/",
        ]),
        "facebook" => pick_string(&[
            "https://facebook.com/carla",
            "facebook.com",
            "https://facebook.com.evil.example/x",
        ]),
        "twitter" => pick_string(&[
            "@carla",
            "carla_c",
            "https://twitter.com/carla",
            "https://x.com/carla",
            "a_very_long_handle_indeed",
        ]),
        "start" | "end" => pick_string(&[
            "22:00", "07:00", "00:00", "23:59", "24:00", "7:5", "25:61", "-1:00", "12:00:00",
        ]),
        "until" => pick_string(DATES),
        "ticket_id" => pick_string(&[
            "42",
            "2a",
            "10",
            "3",
            "007",
            "-1",
            "18446744073709551616",
            "1e3",
            "abc",
        ]),
        "organization" => pick_string(&["Acme", "acme", "Byron & Co", "ACME "]),
        "operator_id" => pick_string(&[
            "op-1",
            "a.b_c",
            "bad id!",
            "abcdefghijklmnopqrstuvwxyz0123456",
        ]),
        "display_name" => pick_string(&["Ada", "   ", "Line\nbreak", "Tab\there"]),
        "usergroups" | "choices" => pick_string(&["Gold", "VIP", "Silver", "gold "]),
        "im" => pick_string(&["skype:carla", "xmpp:carla@example.org"]),
        _ => return None,
    })
}

fn string_value(name: &str, format: Option<&str>) -> BoxedStrategy<Value> {
    let plausible = match (hint(name), format) {
        (Some(hint), _) => Some(hint),
        (None, Some("date-time")) => Some(pick_string(DATES)),
        _ => None,
    };
    let text = match plausible {
        Some(plausible) => one_of(vec![(55, plausible), (45, nasty_string())]),
        None => nasty_string(),
    };
    text.prop_map(Value::String).boxed()
}

/// Numbers JSON cannot hold in a `Value` are written as raw text when the body is
/// serialised: `§raw:NAME§` (see `raw_fragment`).
const RAW_NUMBERS: &[&str] = &["1e400", "neg0", "nan", "inf", "hex", "lead0", "bigint"];

fn number_value(integer: bool) -> BoxedStrategy<Value> {
    let edges = vec![
        json!(0),
        json!(1),
        json!(-1),
        json!(2),
        json!(100),
        json!(101),
        json!(1000),
        json!(1001),
        json!(i32::MAX),
        json!(i64::from(i32::MAX) + 1),
        json!(u32::MAX),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(9_007_199_254_740_993u64),
        json!(0.5),
        json!(-0.5),
        json!(1e308),
        json!(-1e308),
        json!(5e-324),
    ];
    one_of(vec![
        (50, select(edges).boxed()),
        (
            if integer { 30 } else { 10 },
            any::<i64>().prop_map(Value::from).boxed(),
        ),
        (
            if integer { 5 } else { 25 },
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number))
                .boxed(),
        ),
        (
            15,
            pick(RAW_NUMBERS)
                .prop_map(|name| Value::String(format!("§raw:{name}§")))
                .boxed(),
        ),
    ])
}

/// Raw JSON text for a `§raw:NAME§` marker.
fn raw_fragment(name: &str) -> Option<String> {
    Some(match name {
        "1e400" => "1e400".into(),
        "neg0" => "-0".into(),
        "nan" => "NaN".into(),
        "inf" => "Infinity".into(),
        "hex" => "0x10".into(),
        "lead0" => "01".into(),
        "bigint" => "9".repeat(400),
        "surrogate" => "\"\\ud800\"".into(),
        "badescape" => "\"\\x41\"".into(),
        "deeparr100" => format!("{}{}", "[".repeat(100), "]".repeat(100)),
        "deeparr129" => format!("{}{}", "[".repeat(129), "]".repeat(129)),
        "deeparr5000" => format!("{}{}", "[".repeat(5000), "]".repeat(5000)),
        "deepobj2000" => format!("{}1{}", "{\"a\":".repeat(2000), "}".repeat(2000)),
        _ => return None,
    })
}

const RAW_VALUES: &[&str] = &[
    "surrogate",
    "badescape",
    "deeparr100",
    "deeparr129",
    "deeparr5000",
    "deepobj2000",
];

fn any_scalar() -> BoxedStrategy<Value> {
    one_of(vec![
        (1, Just(Value::Null).boxed()),
        (1, any::<bool>().prop_map(Value::Bool).boxed()),
        (2, number_value(false)),
        (3, nasty_string().prop_map(Value::String).boxed()),
    ])
}

/// A value for a JSON schema, valid-ish: the right shape with plausible or hostile
/// leaves. Mutations break the shape afterwards.
fn schema_value(ctx: &Ctx, schema: &Value, name: &str, depth: usize) -> BoxedStrategy<Value> {
    if depth > 8 {
        return Just(Value::Null).boxed();
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return schema_value(ctx, lookup(&ctx.spec, reference), name, depth + 1);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let arms = options
                .iter()
                .map(|option| (1, schema_value(ctx, option, name, depth + 1)))
                .collect();
            return one_of(arms);
        }
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        let parts: Vec<BoxedStrategy<Value>> = parts
            .iter()
            .map(|part| schema_value(ctx, part, name, depth + 1))
            .collect();
        return parts
            .prop_map(|parts| {
                let mut merged = Map::new();
                let mut other = None;
                for part in parts {
                    match part {
                        Value::Object(fields) => merged.extend(fields),
                        value => other = Some(value),
                    }
                }
                match other {
                    Some(value) if merged.is_empty() => value,
                    _ => Value::Object(merged),
                }
            })
            .boxed();
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        return one_of(vec![
            (90, select(options.clone()).boxed()),
            (
                10,
                pick_string(&["", "AVAILABLE", "unknown", "ticket.*", " busy"])
                    .prop_map(Value::String)
                    .boxed(),
            ),
        ]);
    }
    let types: Vec<String> = match schema.get("type") {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(several)) => several
            .iter()
            .map(|t| t.as_str().expect("a type name").to_owned())
            .collect(),
        _ if schema.get("properties").is_some() => vec!["object".into()],
        _ if schema.get("items").is_some() => vec!["array".into()],
        _ => return any_scalar(),
    };
    let arms = types
        .iter()
        .map(|kind| {
            let weight = if kind == "null" { 1 } else { 6 };
            (weight, typed_value(ctx, schema, kind, name, depth))
        })
        .collect();
    one_of(arms)
}

fn typed_value(
    ctx: &Ctx,
    schema: &Value,
    kind: &str,
    name: &str,
    depth: usize,
) -> BoxedStrategy<Value> {
    match kind {
        "null" => Just(Value::Null).boxed(),
        "boolean" => any::<bool>().prop_map(Value::Bool).boxed(),
        "integer" => number_value(true),
        "number" => number_value(false),
        "string" => string_value(name, schema.get("format").and_then(Value::as_str)),
        "array" => {
            let items = match schema.get("items") {
                Some(items) => schema_value(ctx, items, name, depth + 1),
                None => any_scalar(),
            };
            vec(items, 0..4).prop_map(Value::Array).boxed()
        }
        "object" => {
            let required: BTreeSet<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let mut fields: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
            for (key, property) in schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let owned = key.clone();
                let value = schema_value(ctx, property, key, depth + 1)
                    .prop_map(move |value| (owned.clone(), value));
                fields.push(if required.contains(key.as_str()) {
                    value.prop_map(Some).boxed()
                } else {
                    option::weighted(0.5, value).boxed()
                });
            }
            let extra = match schema.get("additionalProperties") {
                Some(values) if values.is_object() => {
                    let keys = if name == "custom_fields" {
                        one_of(vec![(70, placeholder(Kind::Field)), (30, nasty_string())])
                    } else {
                        nasty_string()
                    };
                    vec((keys, schema_value(ctx, values, name, depth + 1)), 0..3).boxed()
                }
                _ => Just(Vec::new()).boxed(),
            };
            (fields, extra)
                .prop_map(|(fields, extra)| {
                    let mut object = Map::new();
                    object.extend(fields.into_iter().flatten());
                    object.extend(extra);
                    Value::Object(object)
                })
                .boxed()
        }
        other => panic!("bad_inputs.rs cannot generate a value of type {other:?} ({name})"),
    }
}

/// A change that breaks a valid-ish value. `at` picks a node when applied.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, Value),
    Remove(usize),
    Add(usize, String, Value),
    Wrap(usize),
}

fn wrong_value() -> BoxedStrategy<Value> {
    one_of(vec![
        (10, Just(Value::Null).boxed()),
        (8, any::<bool>().prop_map(Value::Bool).boxed()),
        (15, number_value(false)),
        (20, nasty_string().prop_map(Value::String).boxed()),
        (
            12,
            pick(&[
                json!([]),
                json!({}),
                json!([1, "a", null, {}]),
                json!({"a": {"b": []}}),
                json!([[[[[[[[[[1]]]]]]]]]]),
                json!({"": ""}),
            ]),
        ),
        (
            8,
            pick(RAW_VALUES)
                .prop_map(|name| Value::String(format!("§raw:{name}§")))
                .boxed(),
        ),
        (
            8,
            (pick(&Kind::ALL), 0..16usize)
                .prop_map(|(kind, index)| Value::String(format!("§id:{}:{index}§", kind.name())))
                .boxed(),
        ),
        (6, pick_string(DATES).prop_map(Value::String).boxed()),
    ])
}

fn mutation() -> BoxedStrategy<Mutation> {
    let unknown_key = one_of(vec![
        (
            60,
            pick_string(&[
                "extra",
                "__proto__",
                "constructor",
                "id",
                "is_admin",
                "version",
                "EMAIL",
                "",
                " ",
                "display_name ",
                "\0",
                "émoji🦀",
                "$where",
                "a.b",
                "contact_prefs.show_phone",
            ]),
        ),
        (40, "[a-z_]{1,12}".boxed()),
    ]);
    one_of(vec![
        (
            40,
            (any::<usize>(), wrong_value())
                .prop_map(|(at, value)| Mutation::Replace(at, value))
                .boxed(),
        ),
        (25, any::<usize>().prop_map(Mutation::Remove).boxed()),
        (
            25,
            (any::<usize>(), unknown_key, wrong_value())
                .prop_map(|(at, key, value)| Mutation::Add(at, key, value))
                .boxed(),
        ),
        (10, any::<usize>().prop_map(Mutation::Wrap).boxed()),
    ])
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn node_paths(value: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(prefix.clone());
    if prefix.len() > 10 {
        return;
    }
    match value {
        Value::Object(fields) => {
            for (key, child) in fields {
                prefix.push(Step::Key(key.clone()));
                node_paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                prefix.push(Step::Index(index));
                node_paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn node_mut<'a>(value: &'a mut Value, path: &[Step]) -> &'a mut Value {
    path.iter().fold(value, |node, step| match step {
        Step::Key(key) => &mut node[key.as_str()],
        Step::Index(index) => &mut node[*index],
    })
}

fn node_ref<'a>(value: &'a Value, path: &[Step]) -> &'a Value {
    path.iter().fold(value, |node, step| match step {
        Step::Key(key) => &node[key.as_str()],
        Step::Index(index) => &node[*index],
    })
}

fn apply(value: &mut Value, mutation: &Mutation) {
    let mut paths = Vec::new();
    node_paths(value, &mut Vec::new(), &mut paths);
    match mutation {
        Mutation::Replace(at, with) => {
            let path = &paths[at % paths.len()];
            *node_mut(value, path) = with.clone();
        }
        Mutation::Remove(at) => {
            let children: Vec<&Vec<Step>> = paths.iter().filter(|path| !path.is_empty()).collect();
            if children.is_empty() {
                return;
            }
            let path = children[at % children.len()];
            let (last, parent) = path.split_last().expect("a child path");
            match (node_mut(value, parent), last) {
                (Value::Object(fields), Step::Key(key)) => {
                    fields.remove(key);
                }
                (Value::Array(items), Step::Index(index)) => {
                    items.remove(*index);
                }
                _ => {}
            }
        }
        Mutation::Add(at, key, with) => {
            let objects: Vec<&Vec<Step>> = paths
                .iter()
                .filter(|path| node_ref(value, path).is_object())
                .collect();
            if let Some(path) = objects.get(at % objects.len().max(1)) {
                if let Value::Object(fields) = node_mut(value, path) {
                    fields.insert(key.clone(), with.clone());
                }
            }
        }
        Mutation::Wrap(at) => {
            let path = &paths[at % paths.len()];
            let node = node_mut(value, path);
            let old = node.take();
            *node = if at % 2 == 0 {
                json!([old])
            } else {
                json!({ "value": old })
            };
        }
    }
}

fn shape() -> BoxedStrategy<Shape> {
    one_of(vec![
        (70, Just(Shape::Plain).boxed()),
        (5, (0..1000usize).prop_map(Shape::Truncated).boxed()),
        (
            4,
            pick(&["x", "}", ",", "\0", " // c", "\n\n{}", "]", "\u{FEFF}"])
                .prop_map(Shape::Trailing)
                .boxed(),
        ),
        (3, Just(Shape::Bom).boxed()),
        (3, (0..1000usize).prop_map(Shape::InvalidUtf8).boxed()),
        (3, Just(Shape::TrailingComma).boxed()),
        (3, Just(Shape::SingleQuotes).boxed()),
        (3, Just(Shape::DuplicateKey).boxed()),
        (2, Just(Shape::Comment).boxed()),
        (4, Just(Shape::Padded(OVERSIZED + 6 * 1024)).boxed()),
    ])
}

const NON_OBJECTS: &[&str] = &[
    "[]",
    "[{}]",
    "\"string\"",
    "1",
    "null",
    "true",
    "1e308",
    "[null]",
    "{}",
];

const BROKEN_JSON: &[&str] = &[
    "{",
    "}",
    "{\"a\":}",
    "",
    " ",
    "nul",
    "{'a':1}",
    "{\"a\":1}{\"b\":2}",
    "[1,2",
    "{\"a\" 1}",
    "{\"a\":1,,}",
    "\"\\u12\"",
    "{\"a\":\"\u{0}\"}",
    "\u{FEFF}",
    "<xml/>",
    "a=1&b=2",
];

fn json_payload(ctx: &Ctx, label: &str, schema: &Value) -> BoxedStrategy<Payload> {
    let generated = schema_value(ctx, schema, "", 0);
    let base = match ctx.samples.get(label) {
        Some(samples) => one_of(vec![(50, generated), (50, select(samples.clone()).boxed())]),
        None => generated,
    };
    let mutations = one_of(vec![
        (40, Just(Vec::new()).boxed()),
        (40, mutation().prop_map(|one| vec![one]).boxed()),
        (20, vec(mutation(), 2..5).boxed()),
    ]);
    let mutated = (base, mutations, shape())
        .prop_map(|(mut value, mutations, shape)| {
            for mutation in &mutations {
                apply(&mut value, mutation);
            }
            Payload::Json(value, shape)
        })
        .boxed();
    one_of(vec![
        (82, mutated),
        (
            7,
            pick(NON_OBJECTS)
                .prop_map(|text| {
                    Payload::Json(serde_json::from_str(text).expect("JSON"), Shape::Plain)
                })
                .boxed(),
        ),
        (
            7,
            pick(BROKEN_JSON)
                .prop_map(|text| Payload::Bytes(text.as_bytes().to_vec()))
                .boxed(),
        ),
        (4, Just(Payload::None).boxed()),
    ])
}

/// Files that are not what they claim, or claim too much.
fn binary_payload(ctx: &Ctx) -> BoxedStrategy<Payload> {
    let png = ctx.png.clone();
    let truncated = png.clone();
    let flipped = png.clone();
    let len = png.len();
    one_of(vec![
        (
            25,
            vec(any::<u8>(), 0..2048).prop_map(Payload::Bytes).boxed(),
        ),
        (20, Just(Payload::Bytes(png)).boxed()),
        (
            10,
            (0..len)
                .prop_map(move |cut| Payload::Bytes(truncated[..cut].to_vec()))
                .boxed(),
        ),
        (
            10,
            vec((0..len, any::<u8>()), 1..8)
                .prop_map(move |flips| {
                    let mut bytes = flipped.clone();
                    for (at, byte) in flips {
                        bytes[at] = byte;
                    }
                    Payload::Bytes(bytes)
                })
                .boxed(),
        ),
        (15, pick(&magic_files()).prop_map(Payload::Bytes).boxed()),
        (5, Just(Payload::Bytes(Vec::new())).boxed()),
        (
            10,
            nasty_string()
                .prop_map(|text| Payload::Bytes(text.into_bytes()))
                .boxed(),
        ),
    ])
}

fn form_payload() -> BoxedStrategy<Payload> {
    let value = |name: &'static str| {
        one_of(vec![
            (
                70,
                hint(name).expect("a hint").prop_map(Text::Plain).boxed(),
            ),
            (20, nasty_string().prop_map(Text::Plain).boxed()),
            (10, pick(RAW_QUERY_VALUES).prop_map(Text::Raw).boxed()),
        ])
    };
    let field = |name: &'static str| {
        option::weighted(
            0.8,
            value(name).prop_map(move |value| (Text::Plain(name.into()), value)),
        )
    };
    let fields = (
        field("token"),
        field("new_password"),
        // The confirmation mostly repeats the new password, so the rest is checked.
        option::weighted(0.3, field("confirm_password")),
        vec((query_key(&[]), query_value_text()), 0..2),
    )
        .prop_map(|(token, new, confirm, extra)| {
            let confirm = match confirm {
                Some(confirm) => confirm,
                None => new
                    .as_ref()
                    .map(|(_, value)| (Text::Plain("confirm_password".into()), value.clone())),
            };
            let mut fields: Vec<(Text, Text)> =
                [token, new, confirm].into_iter().flatten().collect();
            fields.extend(extra);
            Payload::Form(fields)
        })
        .boxed();
    one_of(vec![
        (80, fields),
        (
            10,
            pick(&[
                "%",
                "token=%zz",
                "&&&",
                "=",
                "token=a&token=b",
                "\u{FF}",
                "{\"token\":\"x\"}",
            ])
            .prop_map(|text| Payload::Bytes(text.as_bytes().to_vec()))
            .boxed(),
        ),
        (
            10,
            vec(any::<u8>(), 0..256).prop_map(Payload::Bytes).boxed(),
        ),
    ])
}

fn payload_strategy(ctx: &Ctx, op: &Op) -> BoxedStrategy<Payload> {
    match &op.body {
        BodyKind::Json(schema) => json_payload(ctx, &op.label, schema),
        BodyKind::Binary(_) => one_of(vec![
            (90, binary_payload(ctx)),
            (5, Just(Payload::None).boxed()),
            (
                5,
                any_scalar()
                    .prop_map(|value| Payload::Json(value, Shape::Plain))
                    .boxed(),
            ),
        ]),
        BodyKind::Form => form_payload(),
        // A body where none is expected: it must be ignored or refused, never a crash.
        BodyKind::None => one_of(vec![
            (88, Just(Payload::None).boxed()),
            (
                6,
                (any_scalar(), shape())
                    .prop_map(|(value, shape)| Payload::Json(json!({ "x": value }), shape))
                    .boxed(),
            ),
            (6, vec(any::<u8>(), 0..512).prop_map(Payload::Bytes).boxed()),
        ]),
    }
}

const SUFFIXES: &[&str] = &[
    "%00",
    "%20",
    "%2F",
    "/..",
    ".json",
    "~",
    ";a=b",
    "%E2%80%AE",
    "%FF",
    "x",
    "%0A",
];

/// Path segments sent as they are; the URL parser resolves a bare `..` (as any client
/// would), so the encoded forms matter most.
const RAW_SEGMENTS: &[&str] = &[
    "..",
    ".",
    "%2e%2e",
    "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "..%2F..%2F",
    "..%5C..%5C",
    "%00",
    "a%00b",
    "%",
    "%zz",
    "%FF%FE",
    "%C0%AF",
    "%C0%80",
    "%E2%80%AE",
    "%ED%A0%80",
    "",
    "%20",
    "+",
    "a;b",
    "%2F",
    "~",
    "-1",
    "0",
    "00000000-0000-0000-0000-000000000000",
    "9223372036854775808",
    "NaN",
    "%25",
    "%u0000",
    "%0D%0ASet-Cookie:%20x=1",
];

fn seg_strategy(kind: Kind) -> BoxedStrategy<Seg> {
    one_of(vec![
        (
            50,
            real_index()
                .prop_map(move |index| Seg::Real(kind, index))
                .boxed(),
        ),
        (
            5,
            (real_index(), pick(SUFFIXES))
                .prop_map(move |(index, suffix)| Seg::RealWith(kind, index, suffix))
                .boxed(),
        ),
        (30, nasty_string().prop_map(Seg::Text).boxed()),
        (15, pick(RAW_SEGMENTS).prop_map(Seg::Raw).boxed()),
    ])
}

const RAW_QUERY_VALUES: &[&str] = &[
    "%00",
    "%",
    "%zz",
    "%FF",
    "%C0%80",
    "%ED%A0%80",
    "a%00b",
    "%E2%80%AE",
    "+",
    "%2B",
    "a+b",
    "%26",
    "=",
    "a=b",
    "%0d%0aX:1",
    "%%",
    "[]",
    "%5B%5D",
    "%22",
    "%2A",
];

const RAW_QUERIES: &[&str] = &[
    "&",
    "&&&",
    "=",
    "==",
    "a",
    "a=1&a=2",
    "%",
    "%00=%00",
    "q",
    "q=",
    "limit",
    "limit=1&limit=2",
    "sort=-ticket&sort=ticket",
    "?",
    ";",
    "a=%zz",
    "%ZZ=1",
    "q=%00",
    "q=%22",
    "q=NEAR(",
    "after=-1",
    "size=0",
];

fn query_value_text() -> BoxedStrategy<Text> {
    one_of(vec![
        (80, nasty_string().prop_map(Text::Plain).boxed()),
        (20, pick(RAW_QUERY_VALUES).prop_map(Text::Raw).boxed()),
    ])
}

/// A query key: one the operation declares (so it repeats) or an unknown one.
fn query_key(declared: &[String]) -> BoxedStrategy<Text> {
    let unknown = one_of(vec![
        (
            70,
            pick_string(&[
                "x",
                "",
                "q[]",
                "limit[]",
                "LIMIT",
                "sort ",
                "%00",
                "a.b",
                "__proto__",
                "🦀",
                "\u{202E}",
                "callback",
            ])
            .prop_map(Text::Plain)
            .boxed(),
        ),
        (
            30,
            pick(&["%00", "%", "%zz", "a%00", "%26"])
                .prop_map(Text::Raw)
                .boxed(),
        ),
    ]);
    if declared.is_empty() {
        unknown
    } else {
        one_of(vec![
            (50, unknown),
            (50, pick(declared).prop_map(Text::Plain).boxed()),
        ])
    }
}

fn query_param_value(param: &Param) -> BoxedStrategy<Text> {
    let types: Vec<&str> = match param.schema.get("type") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(several)) => several.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let plausible: BoxedStrategy<String> = match param.name.as_str() {
        "q" => pick_string(&[
            "ada",
            "carla",
            "carla customer",
            "7183 8750",
            "acme",
            "\"",
            "*",
            "NEAR(",
            "OR",
            "a OR b",
            "\"carla",
            "car*",
            "-carla",
            "^carla",
            "carla:",
            "NOT",
            "{name}: x",
            "( ",
            "\u{202E}",
            "\0",
            "%",
        ]),
        "kind" => pick_string(&["agent", "user", "", "AGENT", "users", "both"]),
        "sort" => pick_string(&[
            "name",
            "-name",
            "updated",
            "-updated",
            "opened",
            "-opened",
            "ticket",
            "-ticket",
            "--name",
            "+name",
            "",
            "-",
            "ticket,-ticket",
        ]),
        "cursor" => one_of(vec![
            (
                50,
                (0..4usize)
                    .prop_map(|index| format!("§cursor:{index}§"))
                    .boxed(),
            ),
            (50, "[A-Za-z0-9_=+/-]{0,40}".boxed()),
        ]),
        "team" => placeholder(Kind::Team),
        "org" => one_of(vec![
            (60, placeholder(Kind::Org)),
            (40, pick_string(&["Acme", "acme", ""])),
        ]),
        "token" => placeholder(Kind::Reset),
        "size" => pick_string(&[
            "512",
            "128",
            "0",
            "-1",
            "64",
            "513",
            "99999999999",
            "abc",
            "",
        ]),
        "name" => pick_string(&[
            "report.pdf",
            "../../etc/passwd",
            "a/b/c.txt",
            "C:\\Windows\\win.ini",
            "",
            "CON",
            ".htaccess",
            "\u{202E}gpj.exe",
            "nul\0.txt",
            "名前.txt",
            "line\nbreak.txt",
        ]),
        _ if types.contains(&"integer") => pick_string(INT_STRINGS),
        _ if types.contains(&"boolean") => pick_string(BOOL_STRINGS),
        _ => nasty_string(),
    };
    let typed: BoxedStrategy<String> = if types.contains(&"integer") {
        pick_string(INT_STRINGS)
    } else if types.contains(&"boolean") {
        pick_string(BOOL_STRINGS)
    } else {
        nasty_string()
    };
    one_of(vec![
        (65, plausible.prop_map(Text::Plain).boxed()),
        (15, typed.prop_map(Text::Plain).boxed()),
        (10, long_string().prop_map(Text::Plain).boxed()),
        (10, pick(RAW_QUERY_VALUES).prop_map(Text::Raw).boxed()),
    ])
}

/// A value the operation should accept, so a request gets to the code behind the checks.
fn valid_query_value(op: &Op, param: &Param) -> BoxedStrategy<String> {
    match param.name.as_str() {
        "q" => pick_string(&[
            "ada",
            "carla",
            "acme",
            "7183 8750",
            "carla customer",
            "grace",
        ]),
        "kind" => pick_string(&["agent", "user"]),
        "sort" if op.template.ends_with("/tickets") => pick_string(&[
            "updated", "-updated", "opened", "-opened", "ticket", "-ticket",
        ]),
        "sort" => pick_string(&["name", "-name"]),
        "cursor" => (0..4usize)
            .prop_map(|index| format!("§cursor:{index}§"))
            .boxed(),
        "team" => placeholder(Kind::Team),
        "org" => placeholder(Kind::Org),
        "token" => placeholder(Kind::Reset),
        "size" => pick_string(&["128", "512"]),
        "name" => pick_string(&["report.pdf", "notes.txt", "photo.jpg"]),
        "limit" => pick_string(&["1", "2", "10", "100"]),
        "after" => pick_string(&["0", "1", "5"]),
        _ => match param.schema.get("type").and_then(Value::as_str) {
            Some("integer") => pick_string(&["0", "1", "10"]),
            Some("boolean") => pick_string(&["true", "false"]),
            _ => "[a-z]{1,8}".boxed(),
        },
    }
}

fn query_strategy(op: &Op) -> BoxedStrategy<Vec<(Text, Text)>> {
    let valid: Vec<BoxedStrategy<Option<(Text, Text)>>> = op
        .query
        .iter()
        .map(|param| {
            let name = param.name.clone();
            option::weighted(
                0.7,
                valid_query_value(op, param)
                    .prop_map(move |value| (Text::Plain(name.clone()), Text::Plain(value))),
            )
            .boxed()
        })
        .collect();
    let declared: Vec<BoxedStrategy<Option<(Text, Text)>>> = op
        .query
        .iter()
        .map(|param| {
            let name = param.name.clone();
            option::weighted(
                0.6,
                query_param_value(param).prop_map(move |value| (Text::Plain(name.clone()), value)),
            )
            .boxed()
        })
        .collect();
    let names: Vec<String> = op.query.iter().map(|param| param.name.clone()).collect();
    let keys = query_key(&names);
    let extra = one_of(vec![
        (65, Just(Vec::new()).boxed()),
        (35, vec((keys, query_value_text()), 1..3).boxed()),
    ]);
    let chaos = (declared, extra)
        .prop_map(|(declared, extra)| {
            let mut query: Vec<(Text, Text)> = declared.into_iter().flatten().collect();
            query.extend(extra);
            query
        })
        .boxed();
    let gentle = valid
        .clone()
        .prop_map(|valid| valid.into_iter().flatten().collect())
        .boxed();
    if op.query.is_empty() {
        return one_of(vec![(40, gentle), (60, chaos)]);
    }
    // Every parameter valid but one: what is wrong gets past the others' checks.
    let bad: Vec<BoxedStrategy<Text>> = op.query.iter().map(hostile_query_value).collect();
    let one_bad = (valid, bad, 0..op.query.len())
        .prop_map(move |(mut valid, bad, which)| {
            let name = Text::Plain(names[which].clone());
            valid[which] = Some((name, bad[which].clone()));
            valid.into_iter().flatten().collect()
        })
        .boxed();
    one_of(vec![(35, gentle), (40, one_bad), (25, chaos)])
}

/// A value meant to be refused (or to break something).
fn hostile_query_value(param: &Param) -> BoxedStrategy<Text> {
    one_of(vec![
        (40, nasty_string().prop_map(Text::Plain).boxed()),
        (15, query_param_value(param)),
        (10, long_string().prop_map(Text::Plain).boxed()),
        (20, pick(RAW_QUERY_VALUES).prop_map(Text::Raw).boxed()),
        (
            15,
            pick_string(&[
                "\0", "\"", "*", "NEAR(", "OR", "a\0b", "\"\"", "(", "^", "-",
            ])
            .prop_map(Text::Plain)
            .boxed(),
        ),
    ])
}

const IF_MATCH_LITERALS: &[&str] = &[
    "*",
    "\"0\"",
    "\"-1\"",
    "\"1\"",
    "\"99999999999999999999999\"",
    "W/\"1\"",
    "garbage",
    "",
    "\"\"",
    "\"1\", \"2\"",
    "\"",
    "\"1",
    "\"NaN\"",
];

fn if_match_strategy() -> BoxedStrategy<IfMatch> {
    one_of(vec![
        (70, Just(IfMatch::Current).boxed()),
        (
            25,
            pick_string(IF_MATCH_LITERALS)
                .prop_map(IfMatch::Literal)
                .boxed(),
        ),
        (5, Just(IfMatch::Literal("x".repeat(8000))).boxed()),
    ])
}

type Header = (&'static str, &'static [u8]);
/// A header as an input holds it: name and raw value.
type HeaderField = (String, Vec<u8>);

const EXTRA_HEADERS: &[Header] = &[
    ("accept", b"text/html"),
    ("accept", b"application/xml"),
    ("accept-encoding", b"gzip, br"),
    ("if-none-match", b"*"),
    ("if-none-match", b"\"x\""),
    ("range", b"bytes=0-0"),
    ("range", b"bytes=-1"),
    ("range", b"bytes=99999999-"),
    ("x-forwarded-for", b"203.0.113.9"),
    ("origin", b"https://evil.example"),
    ("content-encoding", b"gzip"),
    ("expect", b"100-continue"),
    ("cookie", b"session=x"),
    ("accept-language", b"de-DE;q=abc"),
    ("user-agent", b"\xff\xfe\x80"),
    ("if-modified-since", b"garbage"),
    ("x-http-method-override", b"DELETE"),
];

/// The WebSocket handshake, in part or whole. A whole one is answered 101 when the
/// request is otherwise good; the suite then drops the connection.
const UPGRADE_HEADERS: &[&[Header]] = &[
    &[("upgrade", b"websocket")],
    &[("connection", b"upgrade"), ("upgrade", b"websocket")],
    &[
        ("connection", b"upgrade"),
        ("upgrade", b"websocket"),
        ("sec-websocket-version", b"13"),
    ],
    &[
        ("connection", b"upgrade"),
        ("upgrade", b"websocket"),
        ("sec-websocket-version", b"99"),
        ("sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
    ],
    &[
        ("connection", b"upgrade"),
        ("upgrade", b"websocket"),
        ("sec-websocket-version", b"13"),
        ("sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
    ],
];

fn headers_strategy(op: &Op) -> BoxedStrategy<Vec<(String, Vec<u8>)>> {
    let owned = |headers: &[Header]| {
        headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.to_vec()))
            .collect::<Vec<_>>()
    };
    let extra = one_of(vec![
        (80, Just(Vec::new()).boxed()),
        (
            20,
            vec(pick(EXTRA_HEADERS), 1..3)
                .prop_map(move |headers| owned(&headers))
                .boxed(),
        ),
    ]);
    let upgrade_weight = if op.template.ends_with("/stream") {
        70
    } else {
        5
    };
    let upgrade = one_of(vec![
        (100 - upgrade_weight, Just(Vec::new()).boxed()),
        (
            upgrade_weight,
            one_of(vec![
                (1, pick(&UPGRADE_HEADERS[..UPGRADE_HEADERS.len() - 1])),
                (1, Just(UPGRADE_HEADERS[UPGRADE_HEADERS.len() - 1]).boxed()),
            ])
            .prop_map(owned)
            .boxed(),
        ),
    ]);
    let declared: Vec<BoxedStrategy<Option<HeaderField>>> = op
        .headers
        .iter()
        .map(|param| {
            let name = param.name.to_ascii_lowercase();
            option::weighted(
                0.7,
                "[ -~\\x80-\\xff]{0,40}".prop_map(move |value: String| {
                    (
                        name.clone(),
                        value.chars().map(|c| c as u32 as u8).collect(),
                    )
                }),
            )
            .boxed()
        })
        .collect();
    (extra, upgrade, declared)
        .prop_map(|(mut extra, upgrade, declared)| {
            extra.extend(upgrade);
            extra.extend(declared.into_iter().flatten());
            extra
        })
        .boxed()
}

const CONTENT_TYPES: &[&[u8]] = &[
    b"text/plain",
    b"application/json; charset=utf-8",
    b"application/json; charset=iso-8859-1",
    b"APPLICATION/JSON",
    b"application/jsonx",
    b"application/problem+json",
    b"application/x-www-form-urlencoded",
    b"multipart/form-data; boundary=xyz",
    b"image/png",
    b"image/svg+xml",
    b"image/",
    b"image/*",
    b"application/octet-stream",
    b"",
    b"*/*",
    b"application/json, text/plain",
    b"text/html; charset=utf-8",
    b"application/json;;;",
    b"application/json; boundary=\"",
    b"\xff\xfe",
];

fn content_type_strategy() -> BoxedStrategy<ContentType> {
    one_of(vec![
        (85, Just(ContentType::Default).boxed()),
        (5, Just(ContentType::Missing).boxed()),
        (10, pick(CONTENT_TYPES).prop_map(ContentType::Other).boxed()),
    ])
}

const MANGLES: &[Mangle] = &[
    Mangle::Lowercase,
    Mangle::NoScheme,
    Mangle::Basic,
    Mangle::Empty,
    Mangle::Suffixed,
    Mangle::Truncated,
    Mangle::Spaces,
    Mangle::Long,
    Mangle::ObsText,
    Mangle::Twice,
];

const OTHER_METHODS: &[&str] = &[
    "HEAD", "OPTIONS", "TRACE", "PUT", "PATCH", "DELETE", "PROPFIND",
];

fn input_strategy(ctx: &Ctx, op: &Op, who: Who) -> BoxedStrategy<Input> {
    let auth = one_of(vec![
        (90, Just(Auth::As(who)).boxed()),
        (
            10,
            pick(MANGLES)
                .prop_map(move |mangle| Auth::Mangled(who, mangle))
                .boxed(),
        ),
    ]);
    let segs: Vec<BoxedStrategy<Seg>> = op
        .path_params
        .iter()
        .map(|(_, kind)| seg_strategy(*kind))
        .collect();
    let if_match = option::weighted(if op.if_match { 0.9 } else { 0.03 }, if_match_strategy());
    (
        option::weighted(0.04, pick(OTHER_METHODS)),
        auth,
        segs,
        query_strategy(op),
        option::weighted(0.05, pick(RAW_QUERIES)),
        if_match,
        headers_strategy(op),
        content_type_strategy(),
        payload_strategy(ctx, op),
    )
        .prop_map(
            |(method, auth, segs, query, raw_query, if_match, headers, content_type, payload)| {
                Input {
                    method,
                    auth,
                    segs,
                    query,
                    raw_query,
                    if_match,
                    headers,
                    content_type,
                    payload,
                }
            },
        )
        .boxed()
}

// ---------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 2) as u8, (y * 2) as u8, 128])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, image::ImageFormat::Png)
        .expect("encode a PNG");
    bytes.into_inner()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = b"IHDR".to_vec();
    chunk.extend(width.to_be_bytes());
    chunk.extend(height.to_be_bytes());
    chunk.extend([8, 2, 0, 0, 0]);
    bytes.extend(13u32.to_be_bytes());
    bytes.extend(&chunk);
    bytes.extend(crc32(&chunk).to_be_bytes());
    bytes.extend(0u32.to_be_bytes());
    bytes.extend(b"IEND");
    bytes.extend(crc32(b"IEND").to_be_bytes());
    bytes
}

fn magic_files() -> Vec<Vec<u8>> {
    vec![
        png_claiming(30_000, 30_000),
        png_claiming(0, 0),
        png_claiming(1, u32::MAX),
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(),
        b"GIF89a\xff\xff\xff\xff\x80\x00\x00".to_vec(),
        b"RIFF\x00\x00\x00\x00WEBPVP8 ".to_vec(),
        b"\xff\xd8\xff\xc0\x00\x11\x08\xea\x60\xea\x60\x03\x01\x22\x00".to_vec(),
        b"\xff\xd8\xff".to_vec(),
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec(),
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3".to_vec(),
        b"PK\x03\x04\x14\x00\x00\x00".to_vec(),
        b"\x7fELF\x02\x01\x01".to_vec(),
    ]
}

// ---------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------

const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(text: &str) -> String {
    utf8_percent_encode(text, PATH_SEGMENT).to_string()
}

/// A request as sent, for the report.
#[derive(Debug, Clone)]
struct Prepared {
    method: Method,
    url: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Option<Vec<u8>>,
}

#[derive(Debug)]
struct Outcome {
    sent: Prepared,
    status: Option<StatusCode>,
    body: Vec<u8>,
    error: Option<String>,
    /// Attempts of an oversized body the server cut off before its answer was read.
    cut_off: usize,
}

impl Outcome {
    /// What is wrong with the answer, if anything: a 5xx or no complete answer.
    fn failure(&self) -> Option<String> {
        if let Some(error) = &self.error {
            return Some(if error.starts_with("timeout") {
                "timeout".into()
            } else {
                "dropped connection".into()
            });
        }
        self.status
            .filter(|status| status.is_server_error())
            .map(|status| status.as_u16().to_string())
    }

    fn label(&self) -> String {
        match (&self.error, self.status) {
            (Some(_), _) => self.failure().unwrap_or_default(),
            (None, Some(status)) => status.as_u16().to_string(),
            (None, None) => "?".into(),
        }
    }
}

struct Desk {
    server: Server,
    fuzz: Vec<reqwest::Client>,
    tokens: BTreeMap<Who, String>,
    /// Every token the agent and the admin had, for the report.
    tokens_seen: Vec<(Who, String)>,
    passwords: BTreeMap<Who, String>,
    pools: BTreeMap<Kind, Vec<String>>,
    /// Customers' addresses by record, as answers last showed them.
    emails_of: BTreeMap<String, Vec<String>>,
    cursors: Vec<String>,
    prefs_sample: Value,
    relogins: usize,
    password_changes: usize,
    cut_offs: usize,
    log_offset: usize,
}

fn email_of(who: Who) -> &'static str {
    match who {
        Who::Agent => EMAIL,
        Who::Admin => ADMIN_EMAIL,
        Who::Nobody => unreachable!("nobody has no email"),
    }
}

impl Desk {
    /// A server with an agent (who leads "Care" and is in "Billing"), a colleague, an
    /// admin (who leads "Billing"), customers with notes, a file, tickets of mixed ids
    /// and a custom field, an avatar, join requests and a reset link.
    async fn setup() -> Desk {
        let dir = tempfile::tempdir().expect("temp dir");
        add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
        add_agent_ok(dir.path(), GRACE_EMAIL, "Grace Hopper", PASSWORD);
        add_agent_ok(dir.path(), RESET_EMAIL, "Linus Reset", PASSWORD);
        add_admin_ok(dir.path());
        for args in [
            [
                "add-team",
                "--name",
                "Billing",
                "--lead",
                ADMIN_EMAIL,
                "--member",
                EMAIL,
            ],
            [
                "add-team",
                "--name",
                "Care",
                "--lead",
                EMAIL,
                "--member",
                ADMIN_EMAIL,
            ],
        ] {
            let output = run(dir.path(), &args);
            assert!(output.status.success(), "{args:?}: {output:?}");
        }
        // A published release of the app, for the update check and the download.
        let bundles = tempfile::tempdir().expect("bundles");
        let bundle = bundles.path().join("agent-desk_0.2.0_amd64.deb");
        std::fs::write(&bundle, b"a bundle").expect("bundle");
        let signature = bundles.path().join("agent-desk_0.2.0_amd64.deb.sig");
        std::fs::write(&signature, "c2lnbmF0dXJl\n").expect("signature");
        let published = run(
            dir.path(),
            &[
                "publish-release",
                "--version",
                "0.2.0",
                "--target",
                "linux",
                "--arch",
                "x86_64",
                "--file",
                bundle.to_str().expect("UTF-8"),
                "--signature",
                signature.to_str().expect("UTF-8"),
            ],
        );
        assert!(published.status.success(), "publish-release: {published:?}");
        let server = Server::start(dir).await;
        let fuzz: Vec<reqwest::Client> = (0..FUZZ_CLIENTS)
            .map(|k| {
                reqwest::Client::builder()
                    .no_proxy()
                    .timeout(REQUEST_TIMEOUT)
                    .pool_max_idle_per_host(0)
                    .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + k)))
                    .build()
                    .expect("HTTP client")
            })
            .collect();
        for client in &fuzz {
            let health = client.get(server.url("/health")).send().await;
            assert!(
                health.is_ok_and(|response| response.status() == StatusCode::OK),
                "the fuzzing clients connect from 127.0.0.2–{}: this needs a loopback that \
                 answers the whole of 127.0.0.0/8 (Linux)",
                1 + FUZZ_CLIENTS
            );
        }
        let mut desk = Desk {
            tokens: BTreeMap::new(),
            tokens_seen: Vec::new(),
            passwords: BTreeMap::from([
                (Who::Agent, PASSWORD.to_owned()),
                (Who::Admin, ADMIN_PASSWORD.to_owned()),
            ]),
            pools: Kind::ALL
                .into_iter()
                .map(|kind| (kind, Vec::new()))
                .collect(),
            emails_of: BTreeMap::new(),
            cursors: Vec::new(),
            prefs_sample: Value::Null,
            relogins: 0,
            password_changes: 0,
            cut_offs: 0,
            log_offset: 0,
            fuzz,
            server,
        };
        let agent = desk.server.login(EMAIL, PASSWORD).await;
        let admin = desk.server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let grace = desk.server.login(GRACE_EMAIL, PASSWORD).await;
        desk.tokens.insert(Who::Agent, agent.clone());
        desk.tokens.insert(Who::Admin, admin.clone());
        desk.tokens_seen.push((Who::Agent, agent.clone()));
        desk.tokens_seen.push((Who::Admin, admin.clone()));

        let customers = [
            json!({"name": "Carla Customer", "emails": [CUSTOMER_EMAILS[0], CUSTOMER_EMAILS[1]],
                   "organization": "Acme", "phone": "+44 20 7183 8750"}),
            json!({"name": "Dora Duplicate", "emails": [CUSTOMER_EMAILS[2]], "organization": "Acme"}),
            json!({"name": "Emil Example", "emails": [CUSTOMER_EMAILS[3]], "organization": "Byron & Co"}),
            json!({"name": "Fritz Fourth", "emails": [CUSTOMER_EMAILS[4]]}),
        ];
        for customer in customers {
            let created = desk
                .call(Method::POST, "/api/v1/people", &agent, Some(customer), 201)
                .await;
            desk.harvest_customer(&created);
        }
        // Customers first: the people with notes, files and tickets come first.
        for token in [&agent, &admin, &grace] {
            let me = desk.call(Method::GET, "/api/v1/me", token, None, 200).await;
            desk.add(Kind::Person, &me["id"]);
            if token == &grace {
                desk.add(Kind::Agent, &me["id"]);
            }
        }
        let carla = desk.pools[&Kind::Customer][0].clone();
        for body in ["Called about the invoice.", "Prefers mail."] {
            let note = desk
                .call(
                    Method::POST,
                    &format!("/api/v1/people/{carla}/notes"),
                    &agent,
                    Some(json!({ "body": body })),
                    201,
                )
                .await;
            desk.add(Kind::Note, &note["id"]);
        }
        let file = desk
            .server
            .request(
                Method::POST,
                &format!("/api/v1/people/{carla}/files?name=hello.txt"),
                Some(&agent),
            )
            .header("content-type", "text/plain")
            .body("hello")
            .send()
            .await
            .expect("upload a file");
        let file = expect_json(file, StatusCode::CREATED).await;
        desk.add(Kind::File, &file["id"]);
        let photo = desk
            .server
            .request(Method::PUT, "/api/v1/me/avatar", Some(&agent))
            .header("content-type", "image/png")
            .body(png(96, 96))
            .send()
            .await
            .expect("upload a photo");
        let profile = expect_json(photo, StatusCode::OK).await;
        desk.harvest_avatar(&profile);
        for field in [
            json!({"name": "Plan", "kind": "choice", "choices": ["Gold", "Silver"]}),
            json!({"name": "Seats", "kind": "number"}),
        ] {
            let created = desk
                .call(
                    Method::POST,
                    "/api/v1/admin/custom-fields",
                    &admin,
                    Some(field),
                    201,
                )
                .await;
            desk.add(Kind::Field, &created["id"]);
        }
        for name in ["VIP", "Partners"] {
            let listed = desk
                .call(
                    Method::POST,
                    "/api/v1/admin/usergroups",
                    &admin,
                    Some(json!({"name": name})),
                    201,
                )
                .await;
            desk.add(Kind::Usergroup, &listed["id"]);
        }
        for name in ["Router", "Zendesk automation"] {
            let issued = desk
                .call(
                    Method::POST,
                    "/api/v1/admin/integrations/tokens",
                    &admin,
                    Some(json!({"name": name, "scopes": ["routing:read"]})),
                    201,
                )
                .await;
            desk.add(Kind::IntegrationToken, &issued["integration"]["id"]);
        }
        // Tickets whose ids mix numbers and text, as helpdesks have them.
        for (n, ticket) in [
            "1",
            "2",
            "3",
            "10",
            "2a",
            "10a",
            "3b",
            "21",
            "22",
            "2b",
            "3a",
            "1b",
            "30",
            "abc",
            "007",
            "99",
            "100",
            "1000",
            "20",
            "4698",
            "4702",
            "x-1",
            "B12",
            "b12",
            "18446744073709551616",
            "-4",
            "9",
            "19",
            "0",
            "5",
            "55",
            "5a",
            "a5",
            "11",
            "12",
            "13",
        ]
        .iter()
        .enumerate()
        {
            let event = json!({
                "type": if n % 3 == 0 { "ticket.created" } else { "ticket.updated" },
                "to": {"agent": EMAIL},
                "title": format!("Ticket {ticket}"),
                "ticket_id": ticket,
                "requester": CUSTOMER_EMAILS[n % 2],
            });
            desk.call(
                Method::POST,
                "/api/v1/admin/events",
                &admin,
                Some(event),
                201,
            )
            .await;
        }
        let teams = desk
            .call(Method::GET, "/api/v1/teams", &agent, None, 200)
            .await;
        for team in teams.as_array().expect("teams") {
            desk.add(Kind::Team, &team["id"]);
        }
        for team in desk.pools[&Kind::Team].clone() {
            let request = desk
                .call(
                    Method::POST,
                    &format!("/api/v1/teams/{team}/join-requests"),
                    &grace,
                    Some(json!({"note": "Let me in"})),
                    201,
                )
                .await;
            desk.add(Kind::JoinRequest, &request["id"]);
        }
        let orgs = desk
            .call(Method::GET, "/api/v1/organizations", &agent, None, 200)
            .await;
        for org in orgs["organizations"].as_array().expect("organizations") {
            desk.add(Kind::Org, &org["id"]);
        }
        for path in [
            "/api/v1/people?limit=1".to_owned(),
            "/api/v1/people?limit=2&kind=user&sort=-name".to_owned(),
            format!("/api/v1/people/{carla}/notes?limit=1"),
        ] {
            let page = desk.call(Method::GET, &path, &agent, None, 200).await;
            let cursor = page["next_cursor"]
                .as_str()
                .unwrap_or_else(|| panic!("a next cursor from {path}: {page}"));
            desk.cursors.push(cursor.to_owned());
        }
        // An agent's wish to change department waits for an administrator.
        let (_, etag) = desk.server.me(&grace).await;
        let asked = desk
            .server
            .patch(&grace, Some(&etag), &json!({"department": "Research"}))
            .await;
        assert_eq!(asked.status(), StatusCode::OK, "a department request");
        desk.refresh_department_requests().await;
        desk.prefs_sample = desk
            .call(
                Method::GET,
                "/api/v1/me/notification-prefs",
                &agent,
                None,
                200,
            )
            .await;
        desk.refresh_sessions().await;
        let token = desk
            .reset_token(RESET_EMAIL)
            .await
            .expect("a reset link at the setup");
        desk.pools.get_mut(&Kind::Reset).expect("pool").push(token);
        desk.pools
            .get_mut(&Kind::Hook)
            .expect("pool")
            .extend(["zendesk", "freshdesk", "generic"].map(String::from));
        for (kind, values) in [
            (Kind::Target, ["linux", "windows"]),
            (Kind::Arch, ["x86_64", "aarch64"]),
            (Kind::Version, ["0.1.0", "0.2.0"]),
        ] {
            desk.pools
                .get_mut(&kind)
                .expect("pool")
                .extend(values.map(String::from));
        }
        let offer: Value = desk
            .server
            .http
            .get(
                desk.server
                    .url("/api/v1/app/update/linux/x86_64/0.1.0?bundle_type=deb"),
            )
            .send()
            .await
            .expect("update check")
            .json()
            .await
            .expect("an offer");
        let url = offer["url"].as_str().expect("the bundle's address");
        let mut parts = url.rsplit('/');
        let (name, release) = (parts.next(), parts.next());
        desk.pools
            .get_mut(&Kind::BundleName)
            .expect("pool")
            .push(name.expect("a name").to_owned());
        desk.pools
            .get_mut(&Kind::Release)
            .expect("pool")
            .push(release.expect("an id").to_owned());
        desk.log_offset = desk.server.log().len();
        desk
    }

    /// A bookkeeping request that must answer `status`; its JSON (or null).
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let request = self.server.request(method.clone(), path, Some(token));
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("setup: {method} {path}: {e:?}"));
        let got = response.status();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(
            got.as_u16(),
            status,
            "setup: {method} {path} answered {got}: {text}\nserver log:\n{}",
            self.server.log()
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn openapi(&self) -> Value {
        let response = self
            .server
            .http
            .get(self.server.url("/api/openapi.json"))
            .send()
            .await
            .expect("GET /api/openapi.json");
        expect_json(response, StatusCode::OK).await
    }

    fn add(&mut self, kind: Kind, id: &Value) {
        let id = id
            .as_str()
            .unwrap_or_else(|| panic!("a {} id, got {id}", kind.name()))
            .to_owned();
        let pool = self.pools.get_mut(&kind).expect("a pool");
        if !pool.contains(&id) {
            pool.push(id);
        }
        // Bounded: the first (set-up) one stays, the oldest later one goes.
        if pool.len() > 24 {
            pool.remove(1);
        }
    }

    fn harvest_customer(&mut self, customer: &Value) {
        self.add(Kind::Customer, &customer["id"]);
        self.add(Kind::Person, &customer["id"]);
        for email in customer["emails"].as_array().into_iter().flatten() {
            self.add(Kind::Email, &email["address"]);
        }
        self.note_emails(customer);
    }

    /// A customer's record as an answer showed it: its addresses, for `{address}`.
    fn note_emails(&mut self, record: &Value) {
        let (Some(id), Some(emails)) = (record["id"].as_str(), record["emails"].as_array()) else {
            return;
        };
        if record["kind"] != "user" && record.get("kind").is_some() {
            return;
        }
        let addresses: Vec<String> = emails
            .iter()
            .filter_map(|email| email["address"].as_str().map(str::to_owned))
            .collect();
        self.emails_of.insert(id.to_owned(), addresses);
    }

    fn harvest_avatar(&mut self, profile: &Value) {
        let id = profile["avatar_url"]
            .as_str()
            .and_then(|url| url.strip_prefix("/api/v1/avatars/"))
            .map(|rest| rest.split('?').next().unwrap_or_default().to_owned());
        if let Some(id) = id {
            self.add(Kind::Avatar, &Value::String(id));
        }
    }

    /// The ids of the agent's and the admin's sessions.
    async fn refresh_sessions(&mut self) {
        let mut ids = Vec::new();
        for who in [Who::Agent, Who::Admin] {
            let response = self
                .server
                .request(
                    Method::GET,
                    "/api/v1/auth/sessions",
                    Some(&self.tokens[&who]),
                )
                .send()
                .await
                .expect("GET /api/v1/auth/sessions");
            if response.status() != StatusCode::OK {
                continue;
            }
            let list: Value = response.json().await.unwrap_or(Value::Null);
            for session in list["sessions"].as_array().into_iter().flatten() {
                if let Some(id) = session["id"].as_str() {
                    ids.push(id.to_owned());
                }
            }
        }
        if !ids.is_empty() {
            ids.truncate(24);
            self.pools.insert(Kind::Session, ids);
        }
    }

    /// The open requests to change department, as the admin sees them.
    async fn refresh_department_requests(&mut self) {
        let response = self
            .server
            .request(
                Method::GET,
                "/api/v1/admin/department-requests",
                Some(&self.tokens[&Who::Admin]),
            )
            .send()
            .await
            .expect("GET /api/v1/admin/department-requests");
        if response.status() != StatusCode::OK {
            return;
        }
        let list: Value = response.json().await.unwrap_or(Value::Null);
        for request in list["requests"].as_array().into_iter().flatten() {
            self.add(Kind::DepartmentRequest, &request["id"]);
        }
    }

    /// Asks for a reset link for `email` and reads its token from the outbox.
    async fn reset_token(&self, email: &str) -> Option<String> {
        let outbox = self.server.data_dir().join("outbox");
        let before = mails(&outbox);
        let response = self
            .server
            .http
            .post(self.server.url("/api/v1/auth/password-reset"))
            .json(&json!({ "email": email }))
            .send()
            .await
            .expect("POST /api/v1/auth/password-reset");
        // Throttled when asked too often: the link in use stays.
        if response.status() != StatusCode::ACCEPTED {
            return None;
        }
        let to = format!("to: {email}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            for path in mails(&outbox).iter().filter(|path| !before.contains(*path)) {
                let Ok(mail) = std::fs::read_to_string(path) else {
                    continue;
                };
                if mail.to_ascii_lowercase().contains(&to) {
                    return Some(
                        token_in(&mail).unwrap_or_else(|| {
                            panic!("no reset link in {}: {mail}", path.display())
                        }),
                    );
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no reset mail to {email} within 10 s: {}",
            self.server.log()
        );
    }

    /// The server's log since the last call.
    fn new_log(&mut self) -> String {
        let log = self.server.log();
        let new = log.get(self.log_offset..).unwrap_or_default().to_owned();
        self.log_offset = log.len();
        new
    }

    /// The value a `§…§` placeholder stands for now; None for any other text (random
    /// text that merely looks like one included).
    fn resolve(&self, text: &str, who: Who) -> Option<String> {
        let inner = text.strip_prefix('§')?.strip_suffix('§')?;
        let mut parts = inner.split(':');
        Some(match (parts.next()?, parts.next(), parts.next()) {
            ("id", Some(kind), Some(index)) => {
                let pool = &self.pools[&Kind::parse(kind)?];
                let index: usize = index.parse().ok()?;
                pool.get(index % pool.len().max(1))
                    .cloned()
                    .unwrap_or_else(|| format!("no-{kind}-left"))
            }
            ("pw", Some("agent"), None) => self.passwords[&Who::Agent].clone(),
            ("pw", Some("admin"), None) => self.passwords[&Who::Admin].clone(),
            ("pw", Some("self"), None) => match who {
                Who::Admin => self.passwords[&Who::Admin].clone(),
                _ => self.passwords[&Who::Agent].clone(),
            },
            ("cursor", Some(index), None) => {
                let index: usize = index.parse().ok()?;
                self.cursors[index % self.cursors.len()].clone()
            }
            _ => return None,
        })
    }

    fn resolve_text(&self, text: &str, who: Who) -> String {
        self.resolve(text, who).unwrap_or_else(|| text.to_owned())
    }

    fn resolve_value(&self, value: &Value, who: Who) -> Value {
        match value {
            Value::String(text) => Value::String(self.resolve_text(text, who)),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.resolve_value(item, who))
                    .collect(),
            ),
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(key, value)| {
                        (self.resolve_text(key, who), self.resolve_value(value, who))
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn text(&self, text: &Text, who: Who) -> String {
        match text {
            Text::Plain(text) => encode(&self.resolve_text(text, who)),
            Text::Raw(raw) => (*raw).to_owned(),
        }
    }

    fn real(&self, kind: Kind, index: usize) -> String {
        let pool = &self.pools[&kind];
        encode(&pool[index % pool.len()])
    }

    /// The ETag of what `path` names, as `who` reads it now.
    async fn current_etag(&self, path: &str, who: Who) -> String {
        let token = &self.tokens[if who == Who::Admin {
            &Who::Admin
        } else {
            &Who::Agent
        }];
        let url = match self.server.url(path).parse::<reqwest::Url>() {
            Ok(url) => url,
            Err(_) => return "\"0\"".into(),
        };
        let Ok(response) = self.server.http.get(url).bearer_auth(token).send().await else {
            return "\"0\"".into();
        };
        if let Some(etag) = response
            .headers()
            .get("etag")
            .and_then(|value| value.to_str().ok())
        {
            return etag.to_owned();
        }
        let body: Value = response.json().await.unwrap_or(Value::Null);
        match body.get("version") {
            Some(version) => format!("\"{version}\""),
            None => "\"0\"".into(),
        }
    }

    async fn prepare(&self, op: &Op, who: Who, input: &Input) -> Prepared {
        let mut path = op.template.clone();
        // An `{address}` names one of the addresses of the person the path names, when
        // the suite knows them.
        let mut person: Option<String> = None;
        for ((name, _), seg) in op.path_params.iter().zip(&input.segs) {
            let text = match seg {
                Seg::Real(Kind::Email, index) => match person
                    .as_ref()
                    .and_then(|id| self.emails_of.get(id))
                    .filter(|emails| !emails.is_empty())
                {
                    Some(emails) => encode(&emails[index % emails.len()]),
                    None => self.real(Kind::Email, *index),
                },
                Seg::Real(Kind::Person, index) => {
                    let pool = &self.pools[&Kind::Person];
                    let id = pool[index % pool.len()].clone();
                    let text = encode(&id);
                    person = Some(id);
                    text
                }
                Seg::Real(kind, index) => self.real(*kind, *index),
                Seg::RealWith(kind, index, suffix) => {
                    format!("{}{suffix}", self.real(*kind, *index))
                }
                Seg::Text(text) => encode(&self.resolve_text(text, who)),
                Seg::Raw(raw) => (*raw).to_owned(),
            };
            path = path.replace(&format!("{{{name}}}"), &text);
        }
        let query = match input.raw_query {
            Some(raw) => Some(raw.to_owned()),
            None if input.query.is_empty() => None,
            None => Some(
                input
                    .query
                    .iter()
                    .map(|(key, value)| {
                        format!("{}={}", self.text(key, who), self.text(value, who))
                    })
                    .collect::<Vec<_>>()
                    .join("&"),
            ),
        };
        let url = match &query {
            Some(query) => format!("{}{path}?{query}", self.server.base),
            None => format!("{}{path}", self.server.base),
        };
        let url = reqwest::Url::parse(&url)
            .unwrap_or_else(|e| panic!("bad_inputs.rs built an unparsable URL {url:?}: {e}"))
            .to_string();

        let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
        let mut push = |name: &str, value: &[u8]| {
            let name = HeaderName::from_bytes(name.as_bytes()).expect("a header name");
            let value = HeaderValue::from_bytes(value).unwrap_or_else(|e| {
                panic!("bad_inputs.rs built a bad {name} header {value:?}: {e}")
            });
            headers.push((name, value));
        };
        let token_of = |who: Who| match who {
            Who::Nobody => "0123456789abcdef".to_owned(),
            who => self.tokens[&who].clone(),
        };
        match &input.auth {
            Auth::As(Who::Nobody) => {}
            Auth::As(who) => push(
                "authorization",
                format!("Bearer {}", token_of(*who)).as_bytes(),
            ),
            Auth::Mangled(who, mangle) => {
                let token = token_of(*who);
                let value: Vec<u8> = match mangle {
                    Mangle::Lowercase => format!("bearer {token}").into_bytes(),
                    Mangle::NoScheme => token.into_bytes(),
                    Mangle::Basic => b"Basic YWRhOnB3".to_vec(),
                    Mangle::Empty => b"Bearer ".to_vec(),
                    Mangle::Suffixed => format!("Bearer {token}x").into_bytes(),
                    Mangle::Truncated => {
                        format!("Bearer {}", &token[..token.len() / 2]).into_bytes()
                    }
                    Mangle::Spaces => format!("Bearer    {token}   ").into_bytes(),
                    Mangle::Long => format!("Bearer {}", "A".repeat(8000)).into_bytes(),
                    Mangle::ObsText => b"Bearer \xff\xfe\x80".to_vec(),
                    Mangle::Twice => format!("Bearer {token}, Bearer {token}").into_bytes(),
                };
                push("authorization", &value);
            }
        }
        if let Some(if_match) = &input.if_match {
            let value = match if_match {
                IfMatch::Current => {
                    let path = reqwest::Url::parse(&url).map(|url| url.path().to_owned());
                    self.current_etag(&path.unwrap_or_default(), who).await
                }
                IfMatch::Literal(text) => text.clone(),
            };
            push("if-match", value.as_bytes());
        }
        for (name, value) in &input.headers {
            push(name, value);
        }

        let body = match &input.payload {
            Payload::None => None,
            Payload::Json(value, shape) => Some(json_text(&self.resolve_value(value, who), *shape)),
            Payload::Bytes(bytes) => Some(bytes.clone()),
            Payload::Form(fields) => Some(
                fields
                    .iter()
                    .map(|(key, value)| {
                        format!("{}={}", self.text(key, who), self.text(value, who))
                    })
                    .collect::<Vec<_>>()
                    .join("&")
                    .into_bytes(),
            ),
        };
        let default_type: Option<&str> = match (&input.payload, &op.body) {
            (Payload::None, _) => None,
            (_, BodyKind::Json(_)) => Some("application/json"),
            (_, BodyKind::Binary(content_type)) => Some(content_type),
            (_, BodyKind::Form) => Some("application/x-www-form-urlencoded"),
            (Payload::Json(..), BodyKind::None) => Some("application/json"),
            (_, BodyKind::None) => Some("application/octet-stream"),
        };
        match (&input.content_type, default_type) {
            (ContentType::Default, Some(content_type)) => {
                push("content-type", content_type.as_bytes())
            }
            (ContentType::Default | ContentType::Missing, _) => {}
            (ContentType::Other(content_type), _) => push("content-type", content_type),
        }
        if body.as_ref().is_some_and(|body| body.len() > OVERSIZED) {
            push("connection", b"close");
        }
        let method = match input.method {
            Some(method) => Method::from_bytes(method.as_bytes()).expect("a method"),
            None => op.method.clone(),
        };
        Prepared {
            method,
            url,
            headers,
            body,
        }
    }

    /// Sends one input and keeps the suite's own state right: ids of what it made, the
    /// passwords it changed, tokens it ended.
    async fn execute(&mut self, op: &Op, who: Who, input: &Input, client: usize) -> Outcome {
        let sent = self.prepare(op, who, input).await;
        let outcome = self.send(sent, client).await;
        self.cut_offs += outcome.cut_off;
        if let Some(status) = outcome.status.filter(|status| status.is_success()) {
            if input.method.is_none() {
                self.bookkeep(op, who, input, &outcome, status);
                if op.method == Method::PATCH && op.template == "/api/v1/me" {
                    self.refresh_department_requests().await;
                }
                // A reset link works once: ask for a new one when one was used.
                if op.method == Method::POST
                    && (op.template == "/reset" || op.template.ends_with("/password-reset/confirm"))
                {
                    if let Some(token) = self.reset_token(RESET_EMAIL).await {
                        self.pools.insert(Kind::Reset, vec![token]);
                    }
                }
            }
        }
        let token_sent = match &input.auth {
            Auth::As(who) | Auth::Mangled(who, _) => *who,
        };
        if token_sent != Who::Nobody
            && (outcome.status == Some(StatusCode::UNAUTHORIZED) || ends_sessions(op))
        {
            self.keep_signed_in().await;
        }
        outcome
    }

    async fn send(&self, sent: Prepared, client: usize) -> Outcome {
        let oversized = sent
            .body
            .as_ref()
            .is_some_and(|body| body.len() > OVERSIZED);
        let mut cut_off = 0;
        loop {
            let mut request = self.fuzz[client].request(sent.method.clone(), sent.url.as_str());
            for (name, value) in &sent.headers {
                request = request.header(name.clone(), value.clone());
            }
            if let Some(body) = &sent.body {
                request = request.body(body.clone());
            }
            let result = request.send().await;
            let response = match result {
                Ok(response) => response,
                // Beyond what an `http::Uri` holds (64 KiB): written by hand instead.
                Err(error) if error.is_builder() => return self.send_raw(sent, client).await,
                // The server answers 413 once it has the headers and closes without
                // reading the rest: the client may fail writing before it reads the
                // answer. Such a send is tried again (as `send_oversized` does).
                Err(error) if oversized && !error.is_timeout() && cut_off < 8 => {
                    cut_off += 1;
                    continue;
                }
                Err(error) => {
                    return Outcome {
                        status: None,
                        body: Vec::new(),
                        error: Some(describe_error(&error)),
                        sent,
                        cut_off,
                    }
                }
            };
            let status = response.status();
            if status == StatusCode::SWITCHING_PROTOCOLS {
                // A WebSocket: the answer is complete; dropping it closes the stream.
                return Outcome {
                    status: Some(status),
                    body: Vec::new(),
                    error: None,
                    sent,
                    cut_off,
                };
            }
            return match response.bytes().await {
                Ok(body) => Outcome {
                    status: Some(status),
                    body: body.to_vec(),
                    error: None,
                    sent,
                    cut_off,
                },
                Err(error) => Outcome {
                    status: Some(status),
                    body: Vec::new(),
                    error: Some(format!(
                        "body cut off after {status}: {}",
                        describe_error(&error)
                    )),
                    sent,
                    cut_off,
                },
            };
        }
    }

    /// Sends a request over a plain TCP connection (`Connection: close`) and reads the
    /// answer to the end: for what the HTTP client refuses to build.
    async fn send_raw(&self, sent: Prepared, client: usize) -> Outcome {
        let url = reqwest::Url::parse(&sent.url).expect("a URL");
        let origin = url.origin().ascii_serialization();
        let target = sent.url[origin.len()..].to_owned();
        let host = origin.trim_start_matches("http://").to_owned();
        let mut request = format!(
            "{} {target} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n",
            sent.method
        )
        .into_bytes();
        for (name, value) in &sent.headers {
            request.extend_from_slice(name.as_str().as_bytes());
            request.extend_from_slice(b": ");
            request.extend_from_slice(value.as_bytes());
            request.extend_from_slice(b"\r\n");
        }
        if let Some(body) = &sent.body {
            request.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
        }
        request.extend_from_slice(b"\r\n");
        request.extend_from_slice(sent.body.as_deref().unwrap_or_default());
        let exchange = async {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.bind((Ipv4Addr::new(127, 0, 0, 2 + client as u8), 0).into())?;
            let mut stream = socket.connect(host.parse().expect("host:port")).await?;
            // The server may answer and close before it has read everything.
            let written = stream.write_all(&request).await;
            let mut answer = Vec::new();
            let read = stream.read_to_end(&mut answer).await;
            match (written, read) {
                (_, Ok(_)) if !answer.is_empty() => Ok(answer),
                (Err(error), _) | (_, Err(error)) => Err(error),
                (Ok(()), Ok(_)) => Ok(answer),
            }
        };
        let (status, body, error) = match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
            Err(_) => (
                None,
                Vec::new(),
                Some(format!("timeout after {REQUEST_TIMEOUT:?} (raw)")),
            ),
            Ok(Err(error)) => (None, Vec::new(), Some(format!("raw request: {error}"))),
            Ok(Ok(answer)) => {
                let status = answer
                    .strip_prefix(b"HTTP/1.1 ")
                    .and_then(|rest| std::str::from_utf8(rest.get(..3)?).ok())
                    .and_then(|code| code.parse::<u16>().ok())
                    .and_then(|code| StatusCode::from_u16(code).ok());
                let body = answer
                    .windows(4)
                    .position(|window| window == b"\r\n\r\n")
                    .map(|at| answer[at + 4..].to_vec())
                    .unwrap_or_default();
                match status {
                    Some(status) => (Some(status), body, None),
                    None => (
                        None,
                        Vec::new(),
                        Some(format!(
                            "raw request: no status line in {:?}",
                            show(&answer)
                        )),
                    ),
                }
            }
        };
        Outcome {
            sent,
            status,
            body,
            error,
            cut_off: 0,
        }
    }

    fn bookkeep(
        &mut self,
        op: &Op,
        who: Who,
        input: &Input,
        outcome: &Outcome,
        status: StatusCode,
    ) {
        let body: Value = serde_json::from_slice(&outcome.body).unwrap_or(Value::Null);
        self.note_emails(&body);
        let sent: Value = outcome
            .sent
            .body
            .as_deref()
            .and_then(|body| serde_json::from_slice(body).ok())
            .unwrap_or(Value::Null);
        let template = op.template.as_str();
        match (op.method.as_str(), template) {
            ("POST", "/api/v1/auth/password") if who != Who::Nobody => {
                let token_who = match &input.auth {
                    Auth::As(who) | Auth::Mangled(who, _) => *who,
                };
                if let Some(new) = sent["new_password"].as_str() {
                    self.passwords.insert(token_who, new.to_owned());
                    self.password_changes += 1;
                }
            }
            ("POST", "/api/v1/people") if status == StatusCode::CREATED => {
                self.harvest_customer(&body);
            }
            ("PUT", "/api/v1/me/avatar") => self.harvest_avatar(&body),
            ("POST", _) if status == StatusCode::CREATED && body["id"].is_string() => {
                let kind = if template.ends_with("/notes") {
                    Some(Kind::Note)
                } else if template.ends_with("/files") {
                    Some(Kind::File)
                } else if template == "/api/v1/admin/teams" {
                    Some(Kind::Team)
                } else if template.ends_with("/join-requests") {
                    Some(Kind::JoinRequest)
                } else if template == "/api/v1/admin/custom-fields" {
                    Some(Kind::Field)
                } else {
                    None
                };
                if let Some(kind) = kind {
                    self.add(kind, &body["id"]);
                }
            }
            _ => {}
        }
    }

    /// Signs the agent and the admin in again when their token stopped working (a bad
    /// input signed them out, ended their session or changed their password).
    async fn keep_signed_in(&mut self) {
        let mut changed = false;
        for who in [Who::Agent, Who::Admin] {
            let response = self
                .server
                .request(
                    Method::GET,
                    "/api/v1/auth/sessions",
                    Some(&self.tokens[&who]),
                )
                .send()
                .await;
            // A server that does not answer is the inputs' failure, reported as such.
            let Ok(response) = response else {
                return;
            };
            if response.status() != StatusCode::UNAUTHORIZED {
                continue;
            }
            let mut tried = vec![self.passwords[&who].clone()];
            tried.extend(STRONG_PASSWORDS.iter().map(|p| (*p).to_owned()));
            tried.push(
                if who == Who::Admin {
                    ADMIN_PASSWORD
                } else {
                    PASSWORD
                }
                .to_owned(),
            );
            tried.dedup();
            let mut signed_in = false;
            for password in &tried {
                let response = self.server.login_response(email_of(who), password).await;
                if response.status() == StatusCode::OK {
                    let body: Value = response.json().await.expect("a login answer");
                    let token = body["token"].as_str().expect("a token").to_owned();
                    self.tokens_seen.push((who, token.clone()));
                    self.tokens.insert(who, token);
                    self.passwords.insert(who, password.clone());
                    self.relogins += 1;
                    signed_in = true;
                    changed = true;
                    break;
                }
                assert_eq!(
                    response.status(),
                    StatusCode::UNAUTHORIZED,
                    "bookkeeping: signing the {who} in again: {}\nserver log:\n{}",
                    response.text().await.unwrap_or_default(),
                    self.server.log()
                );
            }
            assert!(
                signed_in,
                "bookkeeping: the {who} cannot sign in again with any password a bad input \
                 may have set"
            );
        }
        if changed {
            self.refresh_sessions().await;
        }
    }
}

fn ends_sessions(op: &Op) -> bool {
    op.template.starts_with("/api/v1/auth/") && op.method != Method::GET
}

fn describe_error(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        format!("timeout after {REQUEST_TIMEOUT:?}")
    } else {
        // The URL is in the report already.
        let text = error.to_string();
        match error.url() {
            Some(url) => text.replace(url.as_str(), "<the URL>"),
            None => text,
        }
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = std::error::Error::source(cause);
    }
    text
}

/// The body text of a JSON payload: raw markers written out, then shaped.
fn json_text(value: &Value, shape: Shape) -> Vec<u8> {
    let mut text = serde_json::to_string(value).expect("serialise JSON");
    for name in RAW_NUMBERS.iter().chain(RAW_VALUES) {
        let marker = format!("\"§raw:{name}§\"");
        if text.contains(&marker) {
            let fragment = raw_fragment(name).expect("a raw fragment for every marker");
            text = text.replace(&marker, &fragment);
        }
    }
    let cut = |text: &str, thousandths: usize| {
        let mut at = text.len() * thousandths / 1000;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    match shape {
        Shape::Plain => text.into_bytes(),
        Shape::Truncated(thousandths) => text.as_bytes()[..cut(&text, thousandths)].to_vec(),
        Shape::Trailing(garbage) => format!("{text}{garbage}").into_bytes(),
        Shape::Bom => format!("\u{FEFF}{text}").into_bytes(),
        Shape::InvalidUtf8(thousandths) => {
            let at = cut(&text, thousandths);
            let mut bytes = text.into_bytes();
            bytes.insert(at, 0xFF);
            bytes
        }
        Shape::TrailingComma => match text.strip_suffix('}') {
            Some(open) if open.len() > 1 => format!("{open},}}").into_bytes(),
            _ => format!("{text},").into_bytes(),
        },
        Shape::SingleQuotes => text.replace('"', "'").into_bytes(),
        Shape::DuplicateKey => match value.as_object().and_then(|fields| fields.keys().next()) {
            Some(key) => format!("{{{}:null,{}", json!(key), &text[1..]).into_bytes(),
            None => format!("{text}{text}").into_bytes(),
        },
        Shape::Comment => format!("/* a comment */{text}").into_bytes(),
        Shape::Padded(size) => {
            let padding = size.saturating_sub(text.len());
            format!("{text}{}", " ".repeat(padding)).into_bytes()
        }
    }
}

fn mails(outbox: &std::path::Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(outbox) else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.ends_with(".eml") && !name.starts_with('.'))
        })
        .collect()
}

/// The token of the reset link in a mail, in whichever transfer encoding it came.
fn token_in(mail: &str) -> Option<String> {
    let (head, body) = mail
        .split_once("\r\n\r\n")
        .or_else(|| mail.split_once("\n\n"))?;
    let head = head.to_ascii_lowercase();
    let body = if head.contains("content-transfer-encoding: base64") {
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .ok()?,
        )
        .ok()?
    } else {
        body.replace("=\r\n", "")
            .replace("=\n", "")
            .replace("=3D", "=")
    };
    let start = body.find("/reset?token=")? + "/reset?token=".len();
    let token: String = body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!token.is_empty()).then_some(token)
}

// ---------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------

/// Text for a report: control characters escaped, repeats folded (see `fold`).
fn show(bytes: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(bytes)
        .chars()
        .flat_map(char::escape_debug)
        .collect();
    let mut out = fold(&text);
    if std::str::from_utf8(bytes).is_err() {
        out.push_str(" (not UTF-8: invalid bytes shown as U+FFFD)");
    }
    out
}

/// Repeats of a piece of up to 16 characters folded as `«'NEAR%28' × 10000»`; nothing
/// is left out.
fn fold(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let mut best: Option<(usize, usize)> = None;
        for period in 1..=16.min(chars.len() - i) {
            let unit = &chars[i..i + period];
            let mut times = 1;
            while chars[i + times * period..].starts_with(unit) {
                times += 1;
            }
            let covered = times * period;
            if times >= 4 && covered > 24 && best.is_none_or(|(p, t)| covered > p * t) {
                best = Some((period, times));
            }
        }
        match best {
            Some((period, times)) => {
                let unit: String = chars[i..i + period].iter().collect();
                let _ = write!(out, "«'{unit}' × {times}»");
                i += period * times;
            }
            None => {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    out
}

fn describe(sent: &Prepared, desk: &Desk) -> String {
    let mut out = format!("    {} {}\n", sent.method, fold(&sent.url));
    for (name, value) in &sent.headers {
        let mut value = show(value.as_bytes());
        for (who, token) in &desk.tokens_seen {
            value = value.replace(token.as_str(), &format!("<{who} token>"));
        }
        let _ = writeln!(out, "    {name}: {value}");
    }
    match &sent.body {
        Some(body) => {
            let _ = writeln!(out, "    body ({} bytes): {}", body.len(), show(body));
        }
        None => out.push_str("    (no body)\n"),
    }
    out
}

struct Failure {
    op: String,
    index: usize,
    who: Who,
    count: usize,
    first_line: String,
    tree: Box<dyn ValueTree<Value = Input>>,
    input: Input,
    outcome: Outcome,
    log: String,
    kind: String,
    shrunk: Option<(Input, Outcome, usize, String)>,
}

impl Failure {
    async fn shrink(&mut self, desk: &mut Desk, op: &Op) {
        let mut steps = 0;
        let mut best = None;
        let started = Instant::now();
        if self.tree.simplify() {
            loop {
                steps += 1;
                if steps > SHRINK_STEPS || started.elapsed() > SHRINK_BUDGET / 2 {
                    break;
                }
                let candidate = self.tree.current();
                let outcome = desk.execute(op, self.who, &candidate, 0).await;
                let log = desk.new_log();
                if outcome.failure().as_deref() == Some(self.kind.as_str()) {
                    best = Some((candidate, outcome, steps, log));
                    if !self.tree.simplify() {
                        break;
                    }
                } else if !self.tree.complicate() {
                    break;
                }
            }
        }
        self.shrunk = best;
    }
}

#[derive(Default)]
struct Report {
    histogram: BTreeMap<String, BTreeMap<String, usize>>,
    inputs: usize,
    failures: BTreeMap<(String, String), Failure>,
    failed_inputs: usize,
    died: Option<usize>,
    /// Log lines of inputs that did not fail: input, operation, status, lines.
    logged: Vec<(usize, String, String, String)>,
    /// 4xx answers of the API without the JSON error envelope, by status and body: how
    /// many, on which operations, the first URL.
    not_envelope: BTreeMap<(u16, String), (usize, BTreeSet<String>, String)>,
    /// Inputs after which the peak memory rose by more than 1 MiB: input, operation,
    /// status, kB before, kB after.
    jumps: Vec<(usize, String, String, u64, u64)>,
}

impl Report {
    fn tally(&mut self, op: &Op, outcome: &Outcome) {
        self.inputs += 1;
        // Not a failure, but worth knowing: refusals of the API that are not its JSON
        // error envelope (docs/API.md: every error is {"error": {...}}).
        if let Some(status) = outcome.status.filter(StatusCode::is_client_error) {
            let envelope = serde_json::from_slice::<Value>(&outcome.body)
                .is_ok_and(|body| body["error"]["code"].is_string());
            if op.template.starts_with("/api/") && outcome.sent.method != Method::HEAD && !envelope
            {
                let body: String = show(&outcome.body).chars().take(80).collect();
                let entry = self
                    .not_envelope
                    .entry((status.as_u16(), body))
                    .or_insert_with(|| (0, BTreeSet::new(), fold(&outcome.sent.url)));
                entry.0 += 1;
                entry.1.insert(op.label.clone());
            }
        }
        *self
            .histogram
            .entry(op.label.clone())
            .or_default()
            .entry(outcome.label())
            .or_default() += 1;
    }

    #[allow(clippy::too_many_arguments)]
    fn fail(
        &mut self,
        index: usize,
        op: &Op,
        who: Who,
        tree: Box<dyn ValueTree<Value = Input>>,
        outcome: Outcome,
        kind: String,
        log: String,
    ) {
        self.failed_inputs += 1;
        let key = (op.label.clone(), kind.clone());
        if let Some(failure) = self.failures.get_mut(&key) {
            failure.count += 1;
            return;
        }
        let first_line = match (&outcome.error, outcome.status) {
            (Some(error), _) => error.clone(),
            (None, Some(status)) => format!(
                "{status}: {}",
                show(&outcome.body[..outcome.body.len().min(300)])
            ),
            (None, None) => "no answer".into(),
        };
        let input = tree.current();
        self.failures.insert(
            key,
            Failure {
                op: op.label.clone(),
                index,
                who,
                count: 1,
                first_line,
                tree,
                input,
                outcome,
                log,
                kind,
                shrunk: None,
            },
        );
    }

    fn print(&self, ops: &[Op], spec_notes: &[String], desk: &Desk) {
        println!("\n=== bad inputs: {} operations covered ===", ops.len());
        for op in ops {
            let histogram = self
                .histogram
                .get(&op.label)
                .map(|counts| {
                    counts
                        .iter()
                        .map(|(status, count)| format!("{status}×{count}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_else(|| "NOT EXERCISED".into());
            println!("  {:<52} {histogram}", op.label);
        }
        let mut overall: BTreeMap<&str, usize> = BTreeMap::new();
        for counts in self.histogram.values() {
            for (status, count) in counts {
                *overall.entry(status.as_str()).or_default() += count;
            }
        }
        println!(
            "inputs tried: {} ({} failed); overall: {}",
            self.inputs,
            self.failed_inputs,
            overall
                .iter()
                .map(|(status, count)| format!("{status}×{count}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        println!(
            "bookkeeping: {} sign-ins again, {} password changes followed, {} oversized sends \
             cut off and tried again",
            desk.relogins, desk.password_changes, desk.cut_offs
        );
        if !self.not_envelope.is_empty() {
            println!("4xx answers without the JSON error envelope (not failures):");
            for ((status, body), (count, ops, url)) in &self.not_envelope {
                let ops: Vec<&str> = ops.iter().map(String::as_str).collect();
                println!(
                    "  {status} {body:?} ×{count} on {} operation(s) ({}), e.g. {}",
                    ops.len(),
                    ops.join(", "),
                    url.chars().take(200).collect::<String>()
                );
            }
        }
        if !self.jumps.is_empty() {
            println!("inputs after which the peak memory (VmHWM) rose by more than 1 MiB:");
            for (index, op, status, before, after) in &self.jumps {
                let phase = if *index < WARM_UP {
                    "warm-up"
                } else {
                    "measured"
                };
                println!(
                    "  #{index} ({phase}) {op} -> {status}: {before} kB -> {after} kB (+{} kB)",
                    after - before
                );
            }
        }
        if !self.logged.is_empty() {
            println!(
                "server log lines of {} inputs that got a good answer (first 30):",
                self.logged.len()
            );
            for (index, op, status, log) in self.logged.iter().take(30) {
                println!(
                    "  #{index} {op} -> {status}: {}",
                    show(log.trim_end().as_bytes())
                );
            }
        }
        if !spec_notes.is_empty() {
            println!("notes on the OpenAPI document:");
            for note in spec_notes {
                println!("  {note}");
            }
        }
        for (number, ((op, kind), failure)) in self.failures.iter().enumerate() {
            println!(
                "\n--- failure {} of {}: {kind} on {op}, first at input #{} as {}, {} time(s) ---",
                number + 1,
                self.failures.len(),
                failure.index,
                failure.who,
                failure.count
            );
            print!("{}", describe(&failure.outcome.sent, desk));
            println!("  answer: {}", failure.first_line);
            if !failure.outcome.body.is_empty() {
                println!("  answer body: {}", show(&failure.outcome.body));
            }
            println!("  server log: {}", failure.log.trim_end());
            println!(
                "  generated input: {}",
                fold(&format!("{:?}", failure.input))
            );
            match &failure.shrunk {
                Some((input, outcome, steps, log)) => {
                    println!("  shrunk in {steps} step(s) to:");
                    print!("{}", describe(&outcome.sent, desk));
                    println!(
                        "  answer: {} {}",
                        outcome.label(),
                        outcome.error.as_deref().unwrap_or_default()
                    );
                    if !outcome.body.is_empty() {
                        println!("  answer body: {}", show(&outcome.body));
                    }
                    println!("  server log: {}", log.trim_end());
                    println!("  generated input: {}", fold(&format!("{input:?}")));
                }
                None => println!("  (no simpler input failed the same way)"),
            }
        }
    }
}
