//! From an event posted to the server to the desktop notification call, for one
//! signed-in client: the release server, the client's event stream, the alert desk and
//! notify-rust on a private D-Bus with a recording notification server. The plain HTTP
//! round trip of the same posts is the reference printed beside it.

mod desk;

use std::time::{Duration, Instant};

use agent_desk_e2e::*;
use anyhow::Result;
use desk::{p50_p99, wait_for_title, ListeningDesk};

const EVENTS: usize = 300;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let root = tempfile::tempdir()?;
    let server = TeamServer::start()?;
    let admin = server.token(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD).await?;
    let desk = ListeningDesk::open(root.path(), &server).await?;
    let daemon = &desk.daemon;

    let http = reqwest::Client::new();
    let mut to_notify = Vec::with_capacity(EVENTS);
    let mut round_trips = Vec::with_capacity(EVENTS);
    for n in 0..EVENTS {
        let title = format!("Latency {n}");
        let sent = Instant::now();
        // Critical: never folded into a burst, so every event is its own notification.
        http.post(format!("{}/api/v1/admin/events", server.url))
            .bearer_auth(&admin)
            .json(&ticket_event(&title, "critical"))
            .send()
            .await?
            .error_for_status()?;
        round_trips.push(sent.elapsed().as_secs_f64() * 1000.0);
        let call = wait_for_title(daemon, &title).await?;
        to_notify.push(call.duration_since(sent).as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(desk);
    let (notify_p50, notify_p99) = p50_p99(to_notify);
    let (http_p50, http_p99) = p50_p99(round_trips);
    println!("{EVENTS} events, one client: server event → notification call");
    println!("  event → notify call   p50 {notify_p50:6.2} ms   p99 {notify_p99:6.2} ms   (goal ≤ 20 ms p99)");
    println!("  POST round trip (ref) p50 {http_p50:6.2} ms   p99 {http_p99:6.2} ms");
    println!(
        "  ratio to the round trip: p50 {:.2}×, p99 {:.2}×",
        notify_p50 / http_p50,
        notify_p99 / http_p99
    );
    Ok(())
}
