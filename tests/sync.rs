//! The event stream against the real server binary, killed and started again in the
//! middle of a 500-event burst: every stored seq arrives exactly once, in order.

use std::time::{Duration, Instant};

use agent_desk_client::stream::{follow, StreamNews};
use agent_desk_client::ApiClient;
use agent_desk_e2e::*;
use anyhow::Result;
use tokio::sync::mpsc;

const BURST: usize = 500;

#[tokio::test(flavor = "multi_thread")]
async fn a_server_crash_mid_burst_loses_and_repeats_nothing() -> Result<()> {
    let mut server = TeamServer::start()?;
    let admin = server.token(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD).await?;
    let agent = server.token(DEMO_EMAIL, DEMO_PASSWORD).await?;
    let api = ApiClient::new(&server.url)?.with_token(agent);
    let (news, mut incoming) = mpsc::channel(64);
    let follower = tokio::spawn(follow(api, Some(0), news));

    // The admin posts the burst from another task, retrying each event until the
    // server takes it, whatever happens to the server meanwhile.
    let url = server.url.clone();
    let poster = tokio::spawn(async move {
        let http = reqwest::Client::new();
        let mut posted = 0;
        while posted < BURST {
            let answer = http
                .post(format!("{url}/api/v1/admin/events"))
                .bearer_auth(&admin)
                .json(&ticket_event(&format!("Burst {posted}"), "normal"))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            match answer {
                Ok(answer) if answer.status().is_success() => posted += 1,
                _ => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    });

    let mut seqs: Vec<i64> = Vec::new();
    let mut disconnections = 0;
    let mut crashed = false;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match tokio::time::timeout(Duration::from_millis(500), incoming.recv()).await {
            Ok(Some(StreamNews::Events(events))) => {
                seqs.extend(events.iter().map(|event| event.seq))
            }
            Ok(Some(StreamNews::Disconnected { .. })) => disconnections += 1,
            Ok(Some(StreamNews::SessionEnded)) => anyhow::bail!("the session ended"),
            Ok(Some(_)) | Err(_) => {}
            Ok(None) => anyhow::bail!("the follower stopped"),
        }
        if !crashed && seqs.len() >= 200 {
            server.kill();
            tokio::time::sleep(Duration::from_millis(300)).await;
            server.restart()?;
            crashed = true;
        }
        if poster.is_finished() && crashed {
            let newest = newest_seq(&server).await?;
            if seqs.last().copied() == Some(newest) {
                break;
            }
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {} events arrived",
            seqs.len()
        );
    }
    follower.abort();
    assert!(disconnections >= 1, "the crash was noticed");
    let stored = stored_seqs(&server).await?;
    assert!(stored.len() >= BURST, "{} stored", stored.len());
    assert_eq!(seqs, stored, "every stored seq exactly once, in order");
    Ok(())
}

/// Every seq the server holds for the demo agent, oldest first.
async fn stored_seqs(server: &TeamServer) -> Result<Vec<i64>> {
    let agent = server.token(DEMO_EMAIL, DEMO_PASSWORD).await?;
    let api = ApiClient::new(&server.url)?.with_token(agent);
    let mut seqs = Vec::new();
    loop {
        let page = api.events(seqs.last().copied().unwrap_or(0), 1000).await?;
        if page.events.is_empty() {
            return Ok(seqs);
        }
        seqs.extend(page.events.iter().map(|event| event.seq));
    }
}

async fn newest_seq(server: &TeamServer) -> Result<i64> {
    let agent = server.token(DEMO_EMAIL, DEMO_PASSWORD).await?;
    let page = ApiClient::new(&server.url)?
        .with_token(agent)
        .events(0, 0)
        .await?;
    Ok(page.newest)
}

/// A colleague's status change reaches a following client as presence, between events
/// and without a seq of its own.
#[tokio::test(flavor = "multi_thread")]
async fn a_colleagues_status_reaches_the_follower_as_presence() -> Result<()> {
    let server = TeamServer::start()?;
    let agent = server.token(DEMO_EMAIL, DEMO_PASSWORD).await?;
    let colleague = ApiClient::new(&server.url)?.with_token(
        server
            .token("sam@agentdesk.example", "Demo-colleague-2026!")
            .await?,
    );
    let sam_id = colleague.me().await?.profile.id;
    let (news, mut incoming) = mpsc::channel(64);
    let follower = tokio::spawn(follow(
        ApiClient::new(&server.url)?.with_token(agent),
        Some(0),
        news,
    ));
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut changed = false;
    let presence = loop {
        match tokio::time::timeout(Duration::from_millis(200), incoming.recv()).await {
            Ok(Some(StreamNews::Connected)) if !changed => {
                changed = true;
                colleague
                    .set_status(&agent_desk_core::StatusUpdate {
                        status: agent_desk_core::Status::Busy,
                        until: None,
                    })
                    .await?;
            }
            Ok(Some(StreamNews::Presence(change))) if change.agent_id == sam_id => break change,
            Ok(Some(_)) | Err(_) => {}
            Ok(None) => anyhow::bail!("the follower stopped"),
        }
        anyhow::ensure!(Instant::now() < deadline, "no presence arrived");
    };
    follower.abort();
    // Sam's profile is public in the demo, with the status shown.
    assert_eq!(presence.status, Some(agent_desk_core::Status::Busy));
    Ok(())
}
