//! Several server instances on one PostgreSQL database, each a real `agent-desk-server
//! serve`: an event stored by any of them reaches the streams open on every one, once
//! each and in seq order, even when an instance's listener loses its connection; a
//! presence change on one reaches viewers on the other; a session ended on one closes
//! its streams on the other.
//!
//! Always on PostgreSQL (a private cluster), whichever database the run is on: several
//! instances need one.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::postgres::PrivatePostgres;
use support::*;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

/// The server's command on `data_dir`, with its data in the database at `url`.
fn run_on(data_dir: &Path, url: &str, args: &[&str]) {
    let output = command(data_dir, args)
        .env("AGENT_DESK_DATABASE", url)
        .output()
        .expect("run the server's command");
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Two instances on one new database holding Ada and the administrator.
async fn two_instances() -> (Server, Server, String) {
    let url = PrivatePostgres::shared().server_database_now();
    let first = tempfile::tempdir().expect("temp dir");
    run_on(
        first.path(),
        &url,
        &[
            "add-agent",
            "--email",
            EMAIL,
            "--name",
            NAME,
            "--password",
            PASSWORD,
        ],
    );
    run_on(
        first.path(),
        &url,
        &[
            "add-agent",
            "--email",
            ADMIN_EMAIL,
            "--name",
            "Barbara Boss",
            "--password",
            ADMIN_PASSWORD,
            "--admin",
        ],
    );
    let second = tempfile::tempdir().expect("temp dir");
    let on = |dir| {
        Server::start_with(
            dir,
            ServerOptions::default().env("AGENT_DESK_DATABASE", &url),
        )
    };
    let a = on(first).await;
    let b = on(second).await;
    (a, b, url)
}

/// Posts events titled `Relay {n}` for each n, at once, alternately to `a` and `b`: even
/// ones to Ada alone, odd ones to everyone.
async fn post_alternately(a: &Server, b: &Server, numbers: std::ops::Range<usize>) {
    let admin_a = a.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin_b = b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let posts = numbers.map(|n| {
        let (server, admin) = if n % 2 == 0 {
            (a, &admin_a)
        } else {
            (b, &admin_b)
        };
        let to = if n % 2 == 0 {
            json!({"agent": EMAIL})
        } else {
            json!("all")
        };
        async move {
            let body = json!({
                "type": "ticket.assigned",
                "to": to,
                "priority": "normal",
                "title": format!("Relay {n}"),
            });
            post_event(server, admin, &body).await.status()
        }
    });
    for status in join_all(posts).await {
        assert_eq!(status, StatusCode::CREATED);
    }
}

/// Reads `count` events from a stream: each title once, seqs rising.
async fn read_events(socket: &mut Socket, count: usize, which: &str) -> BTreeSet<String> {
    let mut titles = BTreeSet::new();
    let mut last_seq = 0;
    for _ in 0..count {
        let event: Value = next_event(socket).await;
        let seq = event["seq"].as_i64().expect("a seq");
        assert!(seq > last_seq, "{which}: seq {seq} after {last_seq}");
        last_seq = seq;
        let title = event["title"].as_str().expect("a title").to_owned();
        assert!(titles.insert(title.clone()), "{which}: {title} twice");
    }
    titles
}

fn relay_titles(numbers: std::ops::Range<usize>) -> BTreeSet<String> {
    numbers.map(|n| format!("Relay {n}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_posted_to_either_instance_reach_streams_on_both_once_in_order() {
    let (a, b, _url) = two_instances().await;
    let mut on_a = open_stream_with(&a, &a.login(EMAIL, PASSWORD).await, "after=0").await;
    let mut on_b = open_stream_with(&b, &b.login(EMAIL, PASSWORD).await, "after=0").await;

    post_alternately(&a, &b, 0..40).await;
    assert_eq!(
        read_events(&mut on_a, 40, "on a").await,
        relay_titles(0..40)
    );
    assert_eq!(
        read_events(&mut on_b, 40, "on b").await,
        relay_titles(0..40)
    );
}

/// Every instance's listener is cut off (its connection ended by the database, as a
/// restart or a network drop would): events posted meanwhile still arrive, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_listener_that_loses_its_connection_catches_up_from_the_tables() {
    let (a, b, url) = two_instances().await;
    let mut on_b = open_stream_with(&b, &b.login(EMAIL, PASSWORD).await, "after=0").await;
    post_alternately(&a, &b, 0..10).await;
    assert_eq!(
        read_events(&mut on_b, 10, "before").await,
        relay_titles(0..10)
    );

    let db = open_database_at(&url).await;
    let ended: Vec<bool> = agent_desk_server::storage::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .fetch_all(&db)
    .await
    .expect("end the listeners' connections");
    assert_eq!(ended, [true, true], "one listener an instance");
    post_alternately(&a, &b, 10..30).await;
    assert_eq!(
        read_events(&mut on_b, 20, "after").await,
        relay_titles(10..30)
    );
}

async fn open_database_at(url: &str) -> agent_desk_server::Db {
    agent_desk_server::db::connect(url)
        .await
        .expect("open the database")
}

/// Ada's first event on `socket`, once the stream is registered: posted until it comes.
async fn registered(server: &Server, socket: &mut Socket) {
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let body = json!({"type": "ticket.assigned", "to": {"agent": EMAIL}, "priority": "normal", "title": "hello"});
    assert_eq!(
        post_event(server, &admin, &body).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(next_event(socket).await["title"], "hello");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_status_set_on_one_instance_reaches_viewers_on_the_other() {
    let (a, b, _url) = two_instances().await;
    let viewer = b.login(EMAIL, PASSWORD).await;
    let mut following = open_stream_with(&b, &viewer, "after=0&presence=true").await;
    registered(&a, &mut following).await;

    let admin = a.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let set = a
        .request(Method::PUT, "/api/v1/me/status", Some(&admin))
        .json(&json!({"status": "busy"}))
        .send()
        .await
        .expect("set a status");
    assert_eq!(set.status(), StatusCode::OK);
    let admin_id = a.me(&admin).await.0["id"].as_str().expect("id").to_owned();
    assert_eq!(
        next_event(&mut following).await,
        json!({"presence": {"agent_id": admin_id, "status": "busy", "status_until": null}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sign_out_on_one_instance_closes_the_stream_on_the_other() {
    let (a, b, _url) = two_instances().await;
    let token = a.login(EMAIL, PASSWORD).await;
    let mut on_b = open_stream_with(&b, &token, "after=0").await;
    registered(&a, &mut on_b).await;

    let out = a
        .request(Method::POST, "/api/v1/auth/logout", Some(&token))
        .send()
        .await
        .expect("sign out");
    assert!(out.status().is_success(), "{}", out.status());
    match next_message(&mut on_b).await {
        Message::Close(Some(frame)) => {
            assert_eq!(frame.code, CloseCode::Library(4001));
            assert_eq!(frame.reason.as_str(), "signed out");
        }
        other => panic!("expected the stream to close as signed out, got {other:?}"),
    }
}
