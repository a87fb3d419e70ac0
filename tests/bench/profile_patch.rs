//! Profile saves under load: 200 `PATCH /api/v1/me` a second for 15 seconds, spread over
//! 100 agents, on the release server on SQLite and then on PostgreSQL (a private
//! cluster), in one run. The load is open: each save is due at its own moment whatever
//! the others are doing, and its latency is taken from that moment, so a stall shows
//! in the figures rather than slowing the load down. An agent's next save waits for
//! their last one's answer, since it needs that version's `If-Match`.
//!
//! Prints p50, p99 and max per database next to the goal (docs/PERFORMANCE.md).

#[path = "../../crates/server/tests/support/postgres.rs"]
#[allow(dead_code)]
mod postgres;

use std::sync::Arc;
use std::time::{Duration, Instant};

use agent_desk_e2e::TeamServer;
use anyhow::{bail, Context, Result};
use reqwest::header::{ETAG, IF_MATCH};
use tokio::sync::Mutex;

const RATE: u32 = 200;
const SECONDS: u32 = 15;
const AGENTS: u32 = 100;
/// The goal for a save's p99 at this rate.
const GOAL_P99_MS: f64 = 50.0;

/// One agent's session and the version of their profile the next save is made on.
struct Agent {
    token: String,
    etag: Mutex<String>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    println!(
        "profile saves: {RATE} a second for {SECONDS} s over {AGENTS} agents, latency from each save's due moment"
    );
    println!(
        "{:>10}  {:>6}  {:>9}  {:>9}  {:>9}",
        "database", "saves", "p50", "p99", "max"
    );
    for database in ["sqlite", "postgres"] {
        let url =
            (database == "postgres").then(|| postgres::PrivatePostgres::shared().database_now());
        let mut latencies = run(url).await?;
        latencies.sort_by(f64::total_cmp);
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
        let verdict = if at(0.99) <= GOAL_P99_MS {
            "met"
        } else {
            "MISSED"
        };
        println!(
            "{database:>10}  {:>6}  {:>7.2}ms  {:>7.2}ms  {:>7.2}ms  (goal p99 ≤ {GOAL_P99_MS:.0} ms: {verdict})",
            latencies.len(),
            at(0.5),
            at(0.99),
            at(1.0)
        );
    }
    Ok(())
}

/// Every save's latency in milliseconds, on the database at `url` (SQLite when None).
async fn run(url: Option<String>) -> Result<Vec<f64>> {
    let server = TeamServer::start_on(url, &[], &[])?;
    let http = reqwest::Client::new();
    let mut agents = Vec::new();
    for token in server.seed_load(AGENTS)? {
        let me = http
            .get(format!("{}/api/v1/me", server.url))
            .bearer_auth(&token)
            .send()
            .await?
            .error_for_status()?;
        let etag = me
            .headers()
            .get(ETAG)
            .and_then(|value| value.to_str().ok())
            .context("GET /api/v1/me has an ETag")?
            .to_owned();
        agents.push(Arc::new(Agent {
            token,
            etag: Mutex::new(etag),
        }));
    }

    let spacing = Duration::from_secs(1) / RATE;
    let start = Instant::now() + Duration::from_millis(200);
    let mut saves = Vec::new();
    for n in 0..RATE * SECONDS {
        let due = start + spacing * n;
        let agent = Arc::clone(&agents[(n % AGENTS) as usize]);
        let http = http.clone();
        let url = format!("{}/api/v1/me", server.url);
        tokio::time::sleep_until(due.into()).await;
        saves.push(tokio::spawn(async move {
            let mut etag = agent.etag.lock().await;
            let answer = http
                .patch(&url)
                .bearer_auth(&agent.token)
                .header(IF_MATCH, etag.as_str())
                .json(&serde_json::json!({"job_title": format!("Shift lead {n}")}))
                .send()
                .await?;
            let status = answer.status();
            if !status.is_success() {
                bail!("save {n} answered {status}: {}", answer.text().await?);
            }
            *etag = answer
                .headers()
                .get(ETAG)
                .and_then(|value| value.to_str().ok())
                .context("a save answers the new ETag")?
                .to_owned();
            Ok(due.elapsed().as_secs_f64() * 1000.0)
        }));
    }
    let mut latencies = Vec::with_capacity(saves.len());
    for save in saves {
        latencies.push(save.await??);
    }
    Ok(latencies)
}
