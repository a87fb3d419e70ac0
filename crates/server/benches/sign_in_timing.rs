//! Whether response times tell which accounts exist: a wrong password for an existing
//! account next to an unknown address, and a reset request for each, against an in-process
//! server over real HTTP. Prints medians and their ratio; 1.00× means no difference.
//!
//! `cargo bench -p agent-desk-server --bench sign_in_timing`

use std::sync::Arc;
use std::time::{Duration, Instant};

use agent_desk_server::throttle::{ThrottleRule, Throttles};
use agent_desk_server::{AppState, NewAgent, ServerConfig};
use anyhow::Result;
use serde_json::json;

const ROUNDS: usize = 41;

#[tokio::main]
async fn main() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut state = AppState::open(ServerConfig::new(dir.path())).await?;
    let agent = NewAgent {
        email: "ada@example.com",
        display_name: "Ada Lovelace",
        password: "Analytical-Engine-1843",
        is_admin: false,
    };
    agent_desk_server::agents::create(&state.db, agent, chrono::Utc::now()).await?;
    // Throttling would answer most of these rounds with 429 before any lookup; it is the
    // path behind it that is measured here.
    let unlimited = ThrottleRule {
        free_failures: u32::MAX,
        ..ThrottleRule::ACCOUNT
    };
    state.throttles = Arc::new(Throttles::with_rules(
        state.db.clone(),
        unlimited,
        unlimited,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(agent_desk_server::serve(
        listener,
        state,
        std::future::pending(),
    ));

    let http = reqwest::Client::new();
    let time = |path: &'static str, body: serde_json::Value| {
        let (http, url) = (http.clone(), format!("{base}{path}"));
        async move {
            let start = Instant::now();
            let status = http.post(url).json(&body).send().await?.status();
            anyhow::Ok((start.elapsed(), status.as_u16()))
        }
    };

    println!("{ROUNDS} rounds each, alternating; median response time");
    for (what, path, existing, unknown) in [
        (
            "sign-in, wrong password",
            "/api/v1/auth/login",
            json!({"email": "ada@example.com", "password": "Wrong-password-1"}),
            json!({"email": "nobody@example.com", "password": "Wrong-password-1"}),
        ),
        (
            "password-reset request",
            "/api/v1/auth/password-reset",
            json!({"email": "ada@example.com"}),
            json!({"email": "nobody@example.com"}),
        ),
    ] {
        let (mut known_times, mut unknown_times) = (Vec::new(), Vec::new());
        let (mut known_status, mut unknown_status) = (0, 0);
        for _ in 0..ROUNDS {
            let (elapsed, status) = time(path, existing.clone()).await?;
            known_times.push(elapsed);
            known_status = status;
            let (elapsed, status) = time(path, unknown.clone()).await?;
            unknown_times.push(elapsed);
            unknown_status = status;
        }
        let (known, unknown) = (median(&mut known_times), median(&mut unknown_times));
        println!(
            "{what:<26} existing {:>8.2} ms ({known_status})   unknown {:>8.2} ms ({unknown_status})   ratio {:.2}×",
            known.as_secs_f64() * 1000.0,
            unknown.as_secs_f64() * 1000.0,
            known.as_secs_f64() / unknown.as_secs_f64()
        );
    }
    Ok(())
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}
