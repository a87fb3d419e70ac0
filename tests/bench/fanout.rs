//! Fan-out of live events on loopback: 1 000 and then 10 000 open event streams (one
//! agent each) on the release server on SQLite, then 10 000 on PostgreSQL (a private
//! cluster); an event to everyone is posted 20 times and each stream's delivery latency
//! is taken from the moment the post was sent. Prints p50, p99 and the server's memory
//! next to the goals (docs/PERFORMANCE.md).

use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "../../crates/server/tests/support/postgres.rs"]
#[allow(dead_code)]
mod postgres;

use agent_desk_e2e::{TeamServer, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD};
use anyhow::{Context, Result};
use futures_util::StreamExt;
use tokio::sync::{mpsc, Semaphore};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::AUTHORIZATION;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

const EVENTS: usize = 20;
const SPACING: Duration = Duration::from_millis(750);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    println!("fan-out: {EVENTS} events to everyone, each stream's delivery latency");
    println!(
        "{:>10}  {:>8}  {:>11}  {:>11}  {:>9}  {:>9}  {:>9}  {:>12}  {:>12}",
        "database", "streams", "post p50", "first p50", "p50", "p99", "max", "RSS idle", "RSS peak"
    );
    for (database, streams) in [("sqlite", 1_000), ("sqlite", 10_000), ("postgres", 10_000)] {
        let url =
            (database == "postgres").then(|| postgres::PrivatePostgres::shared().database_now());
        let row = run(streams, url).await?;
        println!(
            "{database:>10}  {streams:>8}  {:>9.1}ms  {:>9.1}ms  {:>7.1}ms  {:>7.1}ms  {:>7.1}ms  {:>8.1} MiB  {:>8.1} MiB",
            row.post_p50, row.first_p50, row.p50, row.p99, row.max, row.rss_idle, row.rss_peak
        );
    }
    println!("goals: 10 000 streams in ≤ 300 MB with ≤ 100 ms p99");
    Ok(())
}

struct Row {
    /// The post's round trip, which ends after the event is handed out.
    post_p50: f64,
    /// The first delivery of each event.
    first_p50: f64,
    p50: f64,
    p99: f64,
    max: f64,
    rss_idle: f64,
    rss_peak: f64,
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

async fn run(streams: usize, database: Option<String>) -> Result<Row> {
    let server = TeamServer::start_on(database, &[], &[])?;
    let pid = server.pid().context("server pid")?;
    let tokens = server.seed_load(streams as u32)?;
    let admin = server.token(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD).await?;
    let (arrivals, mut arrived) = mpsc::unbounded_channel::<(i64, Instant)>();
    // Connections opened a few hundred at a time, as clients coming back after a
    // restart would be spread out by their backoff.
    let opening = Arc::new(Semaphore::new(200));
    let (ready, mut all_ready) = mpsc::channel::<()>(streams);
    let ws = server.url.replace("http://", "ws://");
    for token in tokens {
        let arrivals = arrivals.clone();
        let opening = Arc::clone(&opening);
        let ready = ready.clone();
        let url = format!("{ws}/api/v1/events/stream?after=0");
        tokio::spawn(async move {
            let permit = opening.acquire_owned().await;
            let Ok(mut request) = url.into_client_request() else {
                return;
            };
            let Ok(value) = format!("Bearer {token}").parse() else {
                return;
            };
            request.headers_mut().insert(AUTHORIZATION, value);
            // As the app's client reads: a small buffer, which tungstenite zeroes before
            // each read (its default 128 KiB made the clients' memset most of the bench).
            let config = WebSocketConfig::default().read_buffer_size(8 * 1024);
            let connecting =
                tokio_tungstenite::connect_async_with_config(request, Some(config), false);
            let Ok((mut socket, _)) = connecting.await else {
                eprintln!("a stream did not open");
                return;
            };
            drop(permit);
            let _ = ready.send(()).await;
            while let Some(Ok(message)) = socket.next().await {
                if let Message::Text(text) = message {
                    let at = Instant::now();
                    // Only the title's number: the measuring side should cost little.
                    let n = text
                        .split_once("\"title\":\"Fan-out ")
                        .and_then(|(_, rest)| rest.split_once('"'))
                        .and_then(|(n, _)| n.parse().ok());
                    if let Some(n) = n {
                        let _ = arrivals.send((n, at));
                    }
                }
            }
        });
    }
    drop(ready);
    for _ in 0..streams {
        all_ready.recv().await.context("streams failed to open")?;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = rss_mib(pid);
    let mut rss_peak = rss_idle;

    let http = reqwest::Client::new();
    let mut sent_at = Vec::with_capacity(EVENTS);
    let mut stored = Vec::with_capacity(EVENTS);
    for n in 0..EVENTS {
        let at = Instant::now();
        http.post(format!("{}/api/v1/admin/events", server.url))
            .bearer_auth(&admin)
            .json(&serde_json::json!({
                // Mailed weekly by default: this measures live delivery, not the outbox.
                "type": "kb.article_published",
                "to": "all",
                "priority": "normal",
                "title": format!("Fan-out {n}"),
            }))
            .send()
            .await?
            .error_for_status()?;
        stored.push(ms(at.elapsed()));
        sent_at.push(at);
        tokio::time::sleep(SPACING).await;
        rss_peak = rss_peak.max(rss_mib(pid));
    }
    drop(arrivals);
    let mut latencies = Vec::with_capacity(EVENTS * streams);
    let mut arrivals_by_event: Vec<Vec<Instant>> = vec![Vec::new(); EVENTS];
    let deadline = Instant::now() + Duration::from_secs(30);
    while latencies.len() < EVENTS * streams && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(5), arrived.recv()).await {
            Ok(Some((n, at))) if (0..EVENTS as i64).contains(&n) => {
                arrivals_by_event[n as usize].push(at);
                latencies.push(ms(at.duration_since(sent_at[n as usize])))
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    anyhow::ensure!(
        latencies.len() == EVENTS * streams,
        "{} of {} deliveries arrived",
        latencies.len(),
        EVENTS * streams
    );
    // When each event's first stream had it: the time to store it and start handing it
    // out, before the thousands of sends.
    let mut firsts: Vec<f64> = arrivals_by_event
        .iter()
        .zip(&sent_at)
        .filter_map(|(arrivals, sent)| arrivals.iter().min().map(|first| ms(*first - *sent)))
        .collect();
    firsts.sort_by(f64::total_cmp);
    latencies.sort_by(f64::total_cmp);
    stored.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    Ok(Row {
        post_p50: stored[stored.len() / 2],
        first_p50: firsts[firsts.len() / 2],
        p50: at(0.5),
        p99: at(0.99),
        max: at(1.0),
        rss_idle,
        rss_peak,
    })
}
