//! From a ticket given to an agent in Request Tracker to the desktop notification call,
//! at the default poll interval (5 s), through the release server following a private
//! RT, the client's event stream, the alert desk and notify-rust on a private D-Bus;
//! the same pipeline fed by a post to the server (no RT, no poll) is the reference. Then
//! the requests the connector makes to RT in a minute with nothing changing, counted by
//! a proxy in front of RT.

mod desk;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use agent_desk_e2e::*;
use agent_desk_rt::testing::PrivateRt;
use agent_desk_rt::Credentials;
use anyhow::{bail, Context, Result};
use desk::{p50_p99, wait_for_title, ListeningDesk};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TICKETS: usize = 40;

/// Forwards connections to `target`, counting the HTTP requests that pass.
async fn counting_proxy(target: u16, requests: Arc<AtomicUsize>) -> Result<u16> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let requests = Arc::clone(&requests);
            tokio::spawn(async move {
                let Ok(mut server) = tokio::net::TcpStream::connect(("127.0.0.1", target)).await
                else {
                    return;
                };
                let (mut client_read, mut client_write) = client.split();
                let (mut server_read, mut server_write) = server.split();
                let upstream = async {
                    let mut buffer = vec![0u8; 64 * 1024];
                    while let Ok(read) = client_read.read(&mut buffer).await {
                        if read == 0 {
                            break;
                        }
                        let chunk = &buffer[..read];
                        // Request lines end in the protocol; JSON bodies never hold it.
                        let lines = chunk.windows(10).filter(|w| w == b" HTTP/1.1\r").count();
                        requests.fetch_add(lines, Ordering::SeqCst);
                        if server_write.write_all(chunk).await.is_err() {
                            break;
                        }
                    }
                };
                let downstream = tokio::io::copy(&mut server_read, &mut client_write);
                tokio::select! { _ = upstream => {}, _ = downstream => {} }
            });
        }
    });
    Ok(port)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let root = tempfile::tempdir()?;
    let rt = PrivateRt::start()?;
    rt.add_agent("dana", DEMO_EMAIL, "Dana Demo").await;
    let Credentials::Password { user, password } = rt.add_connector_user().await else {
        bail!("a password");
    };
    let rt_port: u16 = rt
        .url()
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .context("RT's port")?;
    let requests = Arc::new(AtomicUsize::new(0));
    let proxy = counting_proxy(rt_port, Arc::clone(&requests)).await?;

    let server = TeamServer::start_with(
        &["--rt-url".into(), format!("http://127.0.0.1:{proxy}/")],
        &[
            ("AGENT_DESK_RT_USER".into(), user),
            ("AGENT_DESK_RT_PASSWORD".into(), password),
        ],
    )?;
    let admin = server.token(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD).await?;
    let desk = ListeningDesk::open(root.path(), &server).await?;
    let daemon = &desk.daemon;

    // Nothing changing: what the connector asks of RT in a minute.
    let idle_from = requests.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(60)).await;
    let idle_requests = requests.load(Ordering::SeqCst) - idle_from;

    let http = reqwest::Client::new();
    let mut from_rt = Vec::with_capacity(TICKETS);
    let mut from_post = Vec::with_capacity(TICKETS);
    for n in 0..TICKETS {
        // Critical (RT priority 120): never folded into a burst.
        let subject = format!("RT latency {n}");
        rt.create_ticket(json!({"Subject": subject, "Owner": "dana", "Priority": 120}))
            .await;
        let created = Instant::now();
        let title = format!("assigned to you: {subject}");
        let call = wait_for_title(daemon, &title).await?;
        from_rt.push(call.duration_since(created).as_secs_f64() * 1000.0);

        let posted_title = format!("Posted {n}");
        let sent = Instant::now();
        http.post(format!("{}/api/v1/admin/events", server.url))
            .bearer_auth(&admin)
            .json(&ticket_event(&posted_title, "critical"))
            .send()
            .await?
            .error_for_status()?;
        let call = wait_for_title(daemon, &posted_title).await?;
        from_post.push(call.duration_since(sent).as_secs_f64() * 1000.0);
        // Changes come at any moment of the poll's cycle.
        tokio::time::sleep(Duration::from_millis(1_300 + (n as u64 * 733) % 3_000)).await;
    }
    drop(desk);
    let (rt_p50, rt_p99) = p50_p99(from_rt);
    let (post_p50, post_p99) = p50_p99(from_post);
    println!("{TICKETS} tickets given to an agent in RT, default poll (5 s): RT change → notification call");
    println!("  RT change → notify call   p50 {rt_p50:8.1} ms   p99 {rt_p99:8.1} ms");
    println!("  server post → notify (ref) p50 {post_p50:8.1} ms   p99 {post_p99:8.1} ms");
    println!(
        "  difference: p50 {:.1} ms, p99 {:.1} ms (the wait for the next poll, at most 5 s, and RT's answers)",
        rt_p50 - post_p50,
        rt_p99 - post_p99
    );
    println!("  requests to RT in a minute with nothing changing: {idle_requests}");
    Ok(())
}
