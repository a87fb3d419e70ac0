//! From a signed webhook to the desktop notification call, through the release server,
//! the client's event stream, the alert desk and notify-rust on a private D-Bus; the same
//! event posted by an administrator is the reference. Then from an agent's status change
//! to the status webhook's request at a receiver, next to the change's own answer.

mod desk;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agent_desk_e2e::*;
use anyhow::{bail, Context, Result};
use desk::{p50_p99, wait_for_title, ListeningDesk};
use hmac::{Hmac, Mac};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const EVENTS: usize = 200;
const STATUS_CHANGES: usize = 200;

/// Signs as a helpdesk's automation does: HMAC-SHA256 of "<timestamp>.<delivery>.<body>".
fn sign(secret: &str, timestamp: &str, delivery: &str, body: &str) -> Result<String> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())?;
    mac.update(format!("{timestamp}.{delivery}.{body}").as_bytes());
    Ok(format!(
        "sha256={}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

/// A receiver that notes when each request's head arrived and answers 204.
async fn receiver(arrivals: Arc<Mutex<Vec<Instant>>>) -> Result<u16> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((mut connection, _)) = listener.accept().await {
            let arrivals = Arc::clone(&arrivals);
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 16 * 1024];
                let mut seen = Vec::new();
                loop {
                    let Ok(read) = connection.read(&mut buffer).await else {
                        return;
                    };
                    if read == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buffer[..read]);
                    // One request a connection at a time: its head, then its body.
                    while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
                        let length: usize = head
                            .lines()
                            .find_map(|line| line.strip_prefix("content-length:"))
                            .and_then(|value| value.trim().parse().ok())
                            .unwrap_or(0);
                        if seen.len() < end + 4 + length {
                            break;
                        }
                        arrivals.lock().map(|mut a| a.push(Instant::now())).ok();
                        seen.drain(..end + 4 + length);
                        let answer = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n";
                        if connection.write_all(answer).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    Ok(port)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let root = tempfile::tempdir()?;
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let port = receiver(Arc::clone(&arrivals)).await?;
    let server = TeamServer::start_with(
        &[
            "--status-webhook".into(),
            format!("http://127.0.0.1:{port}/status"),
        ],
        &[(
            "AGENT_DESK_STATUS_WEBHOOK_SECRET".into(),
            "bench-status-secret".into(),
        )],
    )?;
    let printed = server.command(&["add-hook", "--source", "generic"])?;
    let secret = printed
        .lines()
        .last()
        .context("the secret")?
        .trim()
        .to_owned();
    let admin = server.token(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD).await?;
    let desk = ListeningDesk::open(root.path(), &server).await?;
    let http = reqwest::Client::new();

    let mut from_hook = Vec::with_capacity(EVENTS);
    let mut from_post = Vec::with_capacity(EVENTS);
    for n in 0..EVENTS {
        let title = format!("Hooked {n}");
        let body = ticket_event(&title, "critical").to_string();
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs()
            .to_string();
        let delivery = format!("bench-{n}");
        let signature = sign(&secret, &timestamp, &delivery, &body)?;
        let sent = Instant::now();
        http.post(format!("{}/api/v1/hooks/generic", server.url))
            .header("content-type", "application/json")
            .header("x-agent-desk-delivery", &delivery)
            .header("x-agent-desk-timestamp", &timestamp)
            .header("x-agent-desk-signature", signature)
            .body(body)
            .send()
            .await?
            .error_for_status()?;
        let call = wait_for_title(&desk.daemon, &title).await?;
        from_hook.push(call.duration_since(sent).as_secs_f64() * 1000.0);

        let posted = format!("Posted {n}");
        let sent = Instant::now();
        http.post(format!("{}/api/v1/admin/events", server.url))
            .bearer_auth(&admin)
            .json(&ticket_event(&posted, "critical"))
            .send()
            .await?
            .error_for_status()?;
        let call = wait_for_title(&desk.daemon, &posted).await?;
        from_post.push(call.duration_since(sent).as_secs_f64() * 1000.0);
    }
    drop(desk);

    // The administrator's status: the desk above listened as the demo agent.
    let mut to_webhook = Vec::with_capacity(STATUS_CHANGES);
    let mut answered = Vec::with_capacity(STATUS_CHANGES);
    for n in 0..STATUS_CHANGES {
        let status = if n % 2 == 0 { "busy" } else { "available" };
        let before = arrivals.lock().map(|a| a.len()).unwrap_or_default();
        let sent = Instant::now();
        http.put(format!("{}/api/v1/me/status", server.url))
            .bearer_auth(&admin)
            .json(&json!({ "status": status }))
            .send()
            .await?
            .error_for_status()?;
        answered.push(sent.elapsed().as_secs_f64() * 1000.0);
        let deadline = Instant::now() + Duration::from_secs(10);
        let arrived = loop {
            if let Some(at) = arrivals.lock().ok().and_then(|a| a.get(before).copied()) {
                break at;
            }
            if Instant::now() > deadline {
                bail!("the status webhook did not post change {n}");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        to_webhook.push(arrived.duration_since(sent).as_secs_f64() * 1000.0);
    }

    let (hook_p50, hook_p99) = p50_p99(from_hook);
    let (post_p50, post_p99) = p50_p99(from_post);
    let (webhook_p50, webhook_p99) = p50_p99(to_webhook);
    let (answer_p50, answer_p99) = p50_p99(answered);
    println!(
        "{EVENTS} events: signed webhook → notification call, next to an administrator's post"
    );
    println!("  generic hook → notify call   p50 {hook_p50:6.1} ms   p99 {hook_p99:6.1} ms");
    println!("  admin post → notify (ref)    p50 {post_p50:6.1} ms   p99 {post_p99:6.1} ms");
    println!(
        "  ratio hook / post: p50 {:.2}, p99 {:.2}",
        hook_p50 / post_p50,
        hook_p99 / post_p99
    );
    println!(
        "{STATUS_CHANGES} status changes: PUT /api/v1/me/status → the status webhook's request"
    );
    println!("  change → webhook request     p50 {webhook_p50:6.1} ms   p99 {webhook_p99:6.1} ms");
    println!("  change's own answer (ref)    p50 {answer_p50:6.1} ms   p99 {answer_p99:6.1} ms");
    Ok(())
}
