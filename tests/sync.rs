//! The event stream against the real server binary, killed and started again in the
//! middle of a 500-event burst: every stored seq arrives exactly once, in order. And a
//! session that ends, however it ends, ends its stream at once, with no reconnecting.

use std::time::{Duration, Instant};

use agent_desk_client::stream::{follow, StreamNews};
use agent_desk_client::ApiClient;
use agent_desk_e2e::*;
use anyhow::{Context, Result};
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
                        idle: false,
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

/// Two sessions of the demo agent on a server of their own; A's stream is followed.
struct TwoSessions {
    a: ApiClient,
    b: ApiClient,
    a_id: String,
    url: String,
    outbox: std::path::PathBuf,
}

/// A session ending reaches the stream it follows with: the server closes the stream at
/// once with `STREAM_CLOSE_SIGNED_OUT` (the server's part), and the follower reports the
/// session ended without trying to reconnect (the client's).
async fn assert_the_stream_ends_when<F, Fut>(end_session_a: F) -> Result<()>
where
    F: FnOnce(TwoSessions) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let server = TeamServer::start()?;
    let session = || server.token(DEMO_EMAIL, DEMO_PASSWORD);
    let a = ApiClient::new(&server.url)?.with_token(session().await?);
    let b = ApiClient::new(&server.url)?.with_token(session().await?);
    let a_id = a
        .sessions()
        .await?
        .sessions
        .into_iter()
        .find(|session| session.current)
        .context("session A is listed")?
        .id;
    let (news, mut incoming) = mpsc::channel(64);
    let follower = tokio::spawn(follow(a.clone(), Some(0), news));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout(Duration::from_millis(200), incoming.recv()).await {
            Ok(Some(StreamNews::Connected)) => break,
            Ok(Some(StreamNews::SessionEnded)) => anyhow::bail!("ended before it began"),
            Ok(Some(_)) | Err(_) => {}
            Ok(None) => anyhow::bail!("the follower stopped"),
        }
        anyhow::ensure!(Instant::now() < deadline, "the stream did not connect");
    }

    let ended_at = Instant::now();
    end_session_a(TwoSessions {
        a,
        b,
        a_id,
        url: server.url.clone(),
        outbox: server.data_dir.join("outbox"),
    })
    .await?;
    let mut after = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(3), incoming.recv()).await {
            Ok(Some(StreamNews::SessionEnded)) => break,
            Ok(Some(news)) => after.push(news),
            Ok(None) => anyhow::bail!("the follower stopped without a word: {after:?}"),
            Err(_) => anyhow::bail!("the session's end did not reach its stream: {after:?}"),
        }
    }
    assert!(
        ended_at.elapsed() < Duration::from_secs(3),
        "{:?}",
        ended_at.elapsed()
    );
    // No reconnect was tried: the close itself said why.
    assert!(
        !after.iter().any(|news| matches!(
            news,
            StreamNews::Disconnected { .. } | StreamNews::Connected
        )),
        "{after:?}"
    );
    tokio::time::timeout(Duration::from_secs(1), follower)
        .await
        .context("the follower stopped")??;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_ended_from_another_session_ends_its_stream() -> Result<()> {
    assert_the_stream_ends_when(|two| async move {
        two.b.end_session(&two.a_id).await?;
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_out_other_sessions_ends_their_streams() -> Result<()> {
    assert_the_stream_ends_when(|two| async move {
        let ended = two.b.sign_out_other_sessions().await?;
        anyhow::ensure!(ended.signed_out_sessions >= 1, "{ended:?}");
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_change_ends_the_other_sessions_streams() -> Result<()> {
    assert_the_stream_ends_when(|two| async move {
        two.b
            .change_password(&agent_desk_core::account::ChangePasswordRequest {
                current_password: DEMO_PASSWORD.into(),
                new_password: "Another-agent-2026!".into(),
                keep_other_sessions: false,
            })
            .await?;
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_out_ends_the_sessions_own_stream() -> Result<()> {
    assert_the_stream_ends_when(|two| async move {
        two.a.logout().await?;
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_reset_ends_the_sessions_streams() -> Result<()> {
    assert_the_stream_ends_when(|two| async move {
        let mails = std::fs::read_dir(&two.outbox)
            .into_iter()
            .flatten()
            .flatten();
        let before = mails
            .filter(|mail| mail.path().extension().is_some_and(|ext| ext == "eml"))
            .count();
        two.b.request_password_reset(DEMO_EMAIL).await?;
        let link = wait_for_reset_link(&two.outbox, before).await?;
        let token = link.split("token=").nth(1).context("a token")?.to_owned();
        let new_password = "Reset-agent-2026!";
        let answer = reqwest::Client::new()
            .post(format!("{}/reset", two.url))
            .form(&[
                ("token", token.as_str()),
                ("new_password", new_password),
                ("confirm_password", new_password),
            ])
            .send()
            .await?;
        anyhow::ensure!(
            answer.status() == 200,
            "resetting answered {}",
            answer.status()
        );
        Ok(())
    })
    .await
}
