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
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::instances::{two_instances, two_instances_with};
use support::*;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_status_set_on_one_instance_reaches_viewers_on_the_other() {
    let (a, b, _url) = two_instances().await;
    let viewer = b.login(EMAIL, PASSWORD).await;
    let mut following = open_stream_with(&b, &viewer, "after=0&presence=true").await;
    registered_for(&a, &mut following, EMAIL).await;

    let admin = a.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    set_status(&a, &admin, "busy").await;
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
    registered_for(&a, &mut on_b, EMAIL).await;

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

/// Reads events up to the first titled "hello" (a status set before is one too).
async fn until_hello(socket: &mut Socket) {
    for _ in 0..10 {
        if next_event(socket).await["title"] == "hello" {
            return;
        }
    }
    panic!("no hello among the first 10 events");
}

/// Options with an Offline grace period of `seconds`.
fn grace(seconds: u32) -> ServerOptions {
    ServerOptions::default()
        .arg("--offline-grace-seconds")
        .arg(seconds.to_string())
}

async fn set_status(server: &Server, token: &str, status: &str) {
    let set = server
        .request(Method::PUT, "/api/v1/me/status", Some(token))
        .json(&json!({ "status": status }))
        .send()
        .await
        .expect("set a status");
    assert_eq!(set.status(), StatusCode::OK);
}

async fn status_of(server: &Server, token: &str) -> String {
    let (profile, _) = server.me(token).await;
    profile["status"].as_str().expect("a status").to_owned()
}

/// Waits (at most `within`) for the status of `token`'s agent to be `status`.
async fn wait_for_status(server: &Server, token: &str, status: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let now = status_of(server, token).await;
        if now == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still {now}, not {status}, after {within:?}: {}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The first event on `socket`, which `email` receives, once its stream is registered.
async fn registered_for(server: &Server, socket: &mut Socket, email: &str) {
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let body = json!({"type": "ticket.assigned", "to": {"agent": email}, "priority": "normal", "title": "hello"});
    assert_eq!(
        post_event(server, &admin, &body).await.status(),
        StatusCode::CREATED
    );
    until_hello(socket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_agent_goes_offline_only_once_their_streams_on_every_instance_have_closed() {
    let (a, b, _url) = two_instances_with(grace(1)).await;
    let token = a.login(EMAIL, PASSWORD).await;
    set_status(&a, &token, "available").await;
    let mut on_a = open_stream_with(&a, &token, "after=0").await;
    let mut on_b = open_stream_with(&b, &token, "after=0").await;
    registered_for(&a, &mut on_a, EMAIL).await;
    until_hello(&mut on_b).await;

    drop(on_a);
    // Well past the grace period: the stream on the other instance still counts.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(status_of(&a, &token).await, "available", "{}", a.log());
    drop(on_b);
    wait_for_status(&a, &token, "offline", Duration::from_secs(15)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_agents_of_a_killed_instance_go_offline_unless_they_reconnect_to_another() {
    let (mut a, b, _url) = two_instances_with(grace(1)).await;
    let ada = a.login(EMAIL, PASSWORD).await;
    let boss = a.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for token in [&ada, &boss] {
        set_status(&a, token, "available").await;
    }
    let mut ada_on_a = open_stream_with(&a, &ada, "after=0").await;
    registered_for(&a, &mut ada_on_a, EMAIL).await;
    let mut boss_on_a = open_stream_with(&a, &boss, "after=0").await;
    registered_for(&a, &mut boss_on_a, ADMIN_EMAIL).await;

    a.stop();
    // The administrator's app reconnects, through the load balancer, to the other.
    let mut boss_on_b = open_stream_with(&b, &boss, "after=0").await;
    registered_for(&b, &mut boss_on_b, ADMIN_EMAIL).await;
    // Found gone within three heartbeats and a few seconds.
    wait_for_status(&b, &ada, "offline", Duration::from_secs(45)).await;
    assert_eq!(status_of(&b, &boss).await, "available", "{}", b.log());
    assert!(b.log().contains("an instance is gone"), "{}", b.log());
    drop((ada_on_a, boss_on_a));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_passwords_count_on_every_instance() {
    let (a, b, _url) = two_instances().await;
    // Eight at once, half to each: the account allows five failures before it must
    // wait, counted together. Counted apart, each instance would let its four through.
    let attempts = (0..8).map(|n| {
        let server = if n % 2 == 0 { &a } else { &b };
        async move {
            server
                .login_response(EMAIL, "not the password")
                .await
                .status()
        }
    });
    let mut answers: Vec<u16> = join_all(attempts)
        .await
        .into_iter()
        .map(|status| status.as_u16())
        .collect();
    answers.sort_unstable();
    assert_eq!(answers, [401, 401, 401, 401, 401, 429, 429, 429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_photo_uploaded_to_one_instance_is_served_by_the_other() {
    let (a, b, _url) = two_instances().await;
    let token = a.login(EMAIL, PASSWORD).await;
    let image = image::RgbImage::from_pixel(64, 64, image::Rgb([200, 80, 40]));
    let mut png = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("encode");
    let put = put_avatar(&a, &token, "image/png", png.into_inner()).await;
    assert_eq!(put.status(), StatusCode::OK);
    let (profile, _) = b.me(&token).await;
    let url = profile["avatar_url"].as_str().expect("an avatar_url");
    let mut served = Vec::new();
    for server in [&a, &b] {
        let response = server
            .request(Method::GET, url, Some(&token))
            .send()
            .await
            .expect("GET the photo");
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{url} from {}",
            server.base
        );
        served.push(response.bytes().await.expect("the photo"));
    }
    assert!(!served[0].is_empty());
    assert_eq!(served[0], served[1]);
}

/// Waits (at most 90 s) for `count` alerts, then a few polls more; each ticket's once.
async fn exactly_once(server: &Server, token: &str, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while assigned_ticket_ids(server, token).await.len() < count && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let tickets = assigned_ticket_ids(server, token).await;
    assert_exactly_once(tickets, count, &server.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_instance_that_follows_request_tracker_moves_it_to_the_other() {
    use agent_desk_rt::testing::PrivateRt;
    let rt = PrivateRt::shared().expect("a private RT");
    rt.add_agent("ada", EMAIL, NAME).await;
    let agent_desk_rt::Credentials::Password { user, password } = rt.add_connector_user().await
    else {
        unreachable!("a password")
    };
    let options = ServerOptions::default()
        .arg("--rt-url")
        .arg(rt.url())
        .arg("--rt-poll-seconds")
        .arg("1")
        .env("AGENT_DESK_RT_USER", user)
        .env("AGENT_DESK_RT_PASSWORD", password);
    let (a, b, url) = two_instances_with(options).await;

    // Whichever instance took the connector's lease follows RT.
    let holder = lease_holder(&url, agent_desk_server::helpdesk::LEASE)
        .await
        .expect("an instance follows RT");
    let (mut following, other) = holder_first(&holder, a, b);
    let token = other.login(EMAIL, PASSWORD).await;

    let create = |from: usize, count: usize| {
        let rt = &rt;
        async move {
            for n in from..from + count {
                rt.create_ticket(
                    json!({"Subject": format!("Take-over ticket {n}"), "Owner": "ada"}),
                )
                .await;
            }
        }
    };
    create(0, 10).await;
    exactly_once(&other, &token, 10).await;
    // Killed while tickets keep coming: those it read stay read, the rest are the other's.
    let burst = create(10, 20);
    let kill = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        following.stop();
    };
    tokio::join!(burst, kill);
    create(30, 10).await;
    exactly_once(&other, &token, 40).await;
    assert!(
        other.log().contains("took over work"),
        "no take-over logged: {}",
        other.log()
    );
}

/// Records the deliveries of the status webhook: their ids and bodies, in arrival order.
async fn status_receiver() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>,
) {
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::HeaderMap;
    type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>;

    async fn record(
        State(received): State<Received>,
        headers: HeaderMap,
        body: Bytes,
    ) -> axum::http::StatusCode {
        let delivery = headers
            .get("x-agent-desk-delivery")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
        received.lock().expect("received").push((delivery, body));
        axum::http::StatusCode::NO_CONTENT
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the receiver");
    let url = format!("http://{}/status", listener.local_addr().expect("address"));
    let received = Received::default();
    let app = axum::Router::new()
        .route("/status", axum::routing::post(record))
        .with_state(std::sync::Arc::clone(&received));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn status_changes_made_on_either_instance_are_posted_once_each_in_order() {
    let (url, received) = status_receiver().await;
    let options = ServerOptions::default()
        .arg("--status-webhook")
        .arg(&url)
        .env("AGENT_DESK_STATUS_WEBHOOK_SECRET", "two-instances-secret");
    let (a, b, _url) = two_instances_with(options).await;
    let token = a.login(EMAIL, PASSWORD).await;
    let statuses = ["busy", "away", "available", "dnd", "busy", "available"];
    for (n, status) in statuses.iter().enumerate() {
        let server = if n % 2 == 0 { &a } else { &b };
        set_status(server, &token, status).await;
    }

    let deadline = Instant::now() + Duration::from_secs(30);
    while received.lock().expect("received").len() < statuses.len() {
        assert!(
            Instant::now() < deadline,
            "{:?}: {}",
            received.lock().expect("received"),
            b.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A moment for any second delivery to show.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received = received.lock().expect("received").clone();
    let ids: BTreeSet<&str> = received.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), received.len(), "a delivery twice: {received:?}");
    let posted: Vec<&str> = received
        .iter()
        .map(|(_, body)| body["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(posted, statuses, "{received:?}");
}

/// The address an instance listens at, as its name in the instances table ends.
fn address(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// The two instances, the one named `holder` first.
fn holder_first(holder: &str, a: Server, b: Server) -> (Server, Server) {
    let (holding, other) = if holder.ends_with(&address(&a)) {
        (a, b)
    } else {
        (b, a)
    };
    assert!(holder.ends_with(&address(&holding)), "{holder}");
    (holding, other)
}

/// The name of the instance holding `job`'s lease now, if any.
async fn holder_now(db: &agent_desk_server::Db, job: &str) -> Option<String> {
    agent_desk_server::storage::query_scalar(
        "SELECT i.name FROM leases l JOIN instances i ON i.id = l.holder WHERE l.job = $1",
    )
    .bind(job)
    .fetch_optional(db)
    .await
    .expect("the lease")
}

/// The name of the instance holding `job`'s lease, once one does (at most 20 s).
async fn lease_holder(url: &str, job: &str) -> Option<String> {
    let db = open_database_at(url).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let holder = holder_now(&db, job).await;
        if holder.is_some() || Instant::now() > deadline {
            return holder;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_stopped_by_its_service_manager_gives_its_work_up_at_once() {
    let (url, received) = status_receiver().await;
    let options = ServerOptions::default()
        .arg("--status-webhook")
        .arg(&url)
        .env("AGENT_DESK_STATUS_WEBHOOK_SECRET", "two-instances-secret");
    let (a, b, database) = two_instances_with(options).await;
    let job = agent_desk_server::status::WEBHOOK_LEASE;
    let holder = lease_holder(&database, job).await.expect("a holder");
    let (mut holding, other) = holder_first(&holder, a, b);

    assert!(holding.terminate().is_some_and(|status| status.success()));
    // Given up as it stopped, not left to expire.
    let left = holder_now(&open_database_at(&database).await, job).await;
    assert!(
        left.as_deref()
            .is_none_or(|name| name.ends_with(&address(&other))),
        "still held by the stopped instance: {left:?}"
    );
    // The other takes it and posts.
    let token = other.login(EMAIL, PASSWORD).await;
    set_status(&other, &token, "busy").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.lock().expect("received").is_empty() {
        assert!(Instant::now() < deadline, "nothing posted: {}", other.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(received.lock().expect("received")[0].1["status"], "busy");
}
