//! The directory at size: 100 000 users and 1 000 000 notes, in SQLite and then in
//! PostgreSQL (a private cluster), each with an in-process server over real HTTP. Times searches of each kind an agent types (a name as it is
//! typed, a full name, an email, an organization, a phone number) and the opening of a
//! record with 1 000 notes (the record and its first page of notes, as the app asks),
//! and prints p50 / p95 / max next to the goals (search ≤ 20 ms p95, record ≤ 50 ms p95).
//!
//! `cargo bench -p agent-desk-server --bench directory` (PEOPLE and NOTES change the size;
//! DATABASES=sqlite or postgres measures one)

use std::time::{Duration, Instant};

#[path = "../tests/support/postgres.rs"]
#[allow(dead_code)]
mod postgres;

use agent_desk_server::{AppState, NewAgent, ServerConfig};
use anyhow::{Context, Result};
use serde_json::{json, Value};

const ROUNDS: usize = 200;

/// A seeded user: name, email, organization, phone.
type Sample = (String, String, String, String);
/// What an agent would type to find a seeded user.
type SearchWord = fn(&Sample) -> String;

fn size(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn report(what: &str, mut times: Vec<Duration>, goal: Option<Duration>) -> Duration {
    times.sort();
    let p95 = percentile(&times, 0.95);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let verdict = match goal {
        Some(goal) if p95 <= goal => format!("(goal ≤ {:.0} ms: met)", ms(goal)),
        Some(goal) => format!("(goal ≤ {:.0} ms: MISSED)", ms(goal)),
        None => String::new(),
    };
    println!(
        "{what:<34} p50 {:>6.2} ms  p95 {:>6.2} ms  max {:>6.2} ms {verdict}",
        ms(percentile(&times, 0.5)),
        ms(p95),
        ms(*times.last().unwrap_or(&Duration::ZERO)),
    );
    p95
}

#[tokio::main]
async fn main() -> Result<()> {
    let databases = std::env::var("DATABASES").unwrap_or_else(|_| "sqlite,postgres".into());
    for database in databases.split(',') {
        let dir = tempfile::tempdir()?;
        let config = match database.trim() {
            "sqlite" => ServerConfig::new(dir.path()),
            "postgres" => ServerConfig {
                database_url: Some(postgres::PrivatePostgres::shared().database_now()),
                ..ServerConfig::new(dir.path())
            },
            other => anyhow::bail!("{other} is not sqlite or postgres"),
        };
        println!("== {database}");
        measure(config).await?;
    }
    Ok(())
}

async fn measure(config: ServerConfig) -> Result<()> {
    let people = size("PEOPLE", 100_000);
    let notes = size("NOTES", 1_000_000);
    let state = AppState::open(config).await?;
    let agent = NewAgent {
        email: "ada@example.com",
        display_name: "Ada Lovelace",
        password: "Analytical-Engine-1843",
        is_admin: false,
    };
    agent_desk_server::agents::create(&state.db, agent, chrono::Utc::now()).await?;
    let started = Instant::now();
    let seeded =
        agent_desk_server::seed_people::seed(&state.db, people, notes, chrono::Utc::now()).await?;
    println!(
        "seeded {} people and {} notes in {:.1} s",
        seeded.people,
        seeded.notes,
        started.elapsed().as_secs_f64()
    );

    // Real search words: names, emails, organizations and phone numbers that are there.
    let sample: Vec<Sample> = agent_desk_server::storage::query_as(
        "SELECT p.name, e.address, o.name, p.phone FROM people p
         JOIN person_emails e ON e.person_id = p.id
         JOIN organizations o ON o.id = p.organization_id
         ORDER BY p.search_id LIMIT 1000",
    )
    .fetch_all(&state.db)
    .await?;
    anyhow::ensure!(!sample.is_empty(), "nothing seeded");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(agent_desk_server::serve(
        listener,
        state,
        std::future::pending(),
    ));
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "ada@example.com", "password": "Analytical-Engine-1843"}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["token"].as_str().context("a token")?.to_owned();

    let get = |path: String| {
        let (http, token, url) = (http.clone(), token.clone(), format!("{base}{path}"));
        async move {
            let start = Instant::now();
            let response = http.get(url).bearer_auth(token).send().await?;
            anyhow::ensure!(response.status().is_success(), "{}", response.status());
            let body: Value = response.json().await?;
            anyhow::Ok((start.elapsed(), body))
        }
    };
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|byte| match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (byte as char).to_string(),
                _ => format!("%{byte:02X}"),
            })
            .collect()
    };

    // Warm up the connection and the page cache as an open app would have.
    for _ in 0..20 {
        get("/api/v1/people?kind=user&q=ada".into()).await?;
    }

    let kinds: [(&str, SearchWord); 6] = [
        ("name as typed, 2 letters", |row| row.0[..2].to_owned()),
        ("name as typed, first name", |row| {
            row.0.split(' ').next().unwrap_or("a").to_owned()
        }),
        ("full name", |row| row.0.clone()),
        ("email", |row| row.1.clone()),
        ("organization", |row| row.2.clone()),
        ("phone, last 7 digits", |row| row.3[5..].to_owned()),
    ];
    let mut all = Vec::new();
    println!("{ROUNDS} searches of each kind, users, first page of 50:");
    for (what, query) in &kinds {
        let mut times = Vec::with_capacity(ROUNDS);
        for round in 0..ROUNDS {
            let q = query(&sample[(round * 7 + 3) % sample.len()]);
            let (took, body) = get(format!("/api/v1/people?kind=user&q={}", encode(&q))).await?;
            anyhow::ensure!(
                body["people"]
                    .as_array()
                    .is_some_and(|people| !people.is_empty()),
                "{what} {q:?} found nobody"
            );
            times.push(took);
        }
        all.extend(times.iter().copied());
        report(&format!("search: {what}"), times, None);
    }
    let search_p95 = report("search: all kinds", all, Some(Duration::from_millis(20)));

    let mut times = Vec::with_capacity(ROUNDS);
    let id = &seeded.heavy_person_id;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let (_, person) = get(format!("/api/v1/people/{id}")).await?;
        let (_, page) = get(format!("/api/v1/people/{id}/notes")).await?;
        times.push(start.elapsed());
        anyhow::ensure!(person["kind"] == "user", "{person}");
        anyhow::ensure!(
            page["total"] == 1000 && page["notes"].as_array().is_some_and(|n| n.len() == 50),
            "{page}"
        );
    }
    let record_p95 = report(
        "open a record with 1000 notes",
        times,
        Some(Duration::from_millis(50)),
    );
    println!(
        "summary: search p95 {:.2} ms, record p95 {:.2} ms",
        search_p95.as_secs_f64() * 1000.0,
        record_p95.as_secs_f64() * 1000.0
    );
    Ok(())
}
