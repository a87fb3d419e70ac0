//! Events, status and notification preferences over real HTTP and WebSocket against the
//! real binary: each recipient's rising seqs, targets, the stream's catch-up and live delivery,
//! status expiry and Offline after the last stream, and every refusal.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::IF_MATCH;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;
use tokio_tungstenite::tungstenite::Message;

const OTHER_EMAIL: &str = "grace@example.com";

/// A server with Ada (agent), Grace (agent) and an admin; their tokens.
async fn team_server(options: ServerOptions) -> (Server, String, String, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
    add_agent_ok(dir.path(), OTHER_EMAIL, "Grace Hopper", PASSWORD);
    add_admin_ok(dir.path());
    let server = Server::start_with(dir, options).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let grace = server.login(OTHER_EMAIL, PASSWORD).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    (server, ada, grace, admin)
}

fn event_body(to: Value, title: &str) -> Value {
    json!({
        "type": "ticket.assigned",
        "to": to,
        "priority": "high",
        "title": title,
        "body": "Printer on fire",
        "ticket_id": "4711",
        "url": "https://desk.example/tickets/4711",
    })
}

async fn post_ok(server: &Server, admin: &str, body: &Value) -> Value {
    expect_json(post_event(server, admin, body).await, StatusCode::CREATED).await
}

async fn events_after(server: &Server, token: &str, after: i64) -> Value {
    let response = server
        .request(
            Method::GET,
            &format!("/api/v1/events?after={after}"),
            Some(token),
        )
        .send()
        .await
        .expect("list events");
    expect_json(response, StatusCode::OK).await
}

fn seqs(page: &Value) -> Vec<i64> {
    page["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| event["seq"].as_i64().expect("seq"))
        .collect()
}

async fn open_stream(server: &Server, token: &str, after: i64) -> Socket {
    open_stream_with(server, token, &format!("after={after}")).await
}

/// The deliveries of a posted event, sorted by email.
fn deliveries(posted: &Value) -> Vec<(String, i64)> {
    let mut deliveries: Vec<(String, i64)> = posted["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|d| {
            (
                d["agent"].as_str().expect("agent").to_owned(),
                d["seq"].as_i64().expect("seq"),
            )
        })
        .collect();
    deliveries.sort();
    deliveries
}

#[tokio::test]
async fn each_recipients_seqs_rise_and_each_reads_only_their_own_events() {
    let (server, ada, grace, admin) = team_server(ServerOptions::default()).await;

    let first = post_ok(&server, &admin, &event_body(json!({"agent": EMAIL}), "One")).await;
    assert_eq!(
        first,
        json!({"seq": 1, "recipients": 1, "deliveries": [{"agent": EMAIL, "seq": 1}]})
    );
    let second = post_ok(
        &server,
        &admin,
        &event_body(json!({"agent": "  ADA@example.com "}), "Two"),
    )
    .await;
    assert_eq!(second["seq"], 2);
    assert_eq!(second["deliveries"][0]["seq"], 2);
    // One clock for everyone: Grace's event takes 3, which Ada's seqs then skip.
    let to_grace = post_ok(
        &server,
        &admin,
        &event_body(json!({"agent": OTHER_EMAIL}), "Grace's"),
    )
    .await;
    assert_eq!(deliveries(&to_grace), [(OTHER_EMAIL.to_owned(), 3)]);
    let everyone = post_ok(&server, &admin, &event_body(json!("all"), "Four")).await;
    // Everyone is not listed, only counted.
    assert_eq!(
        everyone,
        json!({"seq": 4, "recipients": 3, "deliveries": []})
    );

    let page = events_after(&server, &ada, 0).await;
    assert_eq!(seqs(&page), [1, 2, 4]);
    assert_eq!(page["next"], 4);
    assert_eq!(page["newest"], 4);
    let event = &page["events"][0];
    assert_eq!(event["type"], "ticket.assigned");
    assert_eq!(event["priority"], "high");
    assert_eq!(event["title"], "One");
    assert_eq!(event["body"], "Printer on fire");
    assert_eq!(event["ticket_id"], "4711");
    assert_eq!(event["url"], "https://desk.example/tickets/4711");
    assert!(event["created_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    let to_all = &page["events"][2];
    assert_eq!(to_all["title"], "Four");
    assert_eq!(to_all["body"], "Printer on fire");
    assert_eq!(to_all["url"], "https://desk.example/tickets/4711");

    // A cursor between two of Ada's seqs, on the one she skipped.
    let later = events_after(&server, &ada, 3).await;
    assert_eq!(seqs(&later), [4]);
    let nothing_new = events_after(&server, &ada, 4).await;
    assert_eq!(seqs(&nothing_new), Vec::<i64>::new());
    assert_eq!(nothing_new["next"], 4, "next stays where the caller is");

    let graces = events_after(&server, &grace, 0).await;
    assert_eq!(seqs(&graces), [3, 4]);
    assert_eq!(graces["events"][0]["title"], "Grace's");
    assert_eq!(graces["events"][1]["title"], "Four");

    let limited = server
        .request(Method::GET, "/api/v1/events?after=0&limit=2", Some(&ada))
        .send()
        .await
        .expect("page");
    let limited = expect_json(limited, StatusCode::OK).await;
    assert_eq!(seqs(&limited), [1, 2]);
    assert_eq!(limited["next"], 2);

    // An agent who joins later gets events to everyone from then on, not before.
    add_agent_ok(server.data_dir(), "lin@example.com", "Lin", PASSWORD);
    let lin = server.login("lin@example.com", PASSWORD).await;
    let lins = events_after(&server, &lin, 0).await;
    assert_eq!(seqs(&lins), Vec::<i64>::new());
    assert_eq!(lins["newest"], 0);
    let welcome = post_ok(&server, &admin, &event_body(json!("all"), "Five")).await;
    assert_eq!(welcome["seq"], 5);
    assert_eq!(welcome["recipients"], 4);
    assert_eq!(seqs(&events_after(&server, &lin, 0).await), [5]);
    assert_eq!(seqs(&events_after(&server, &ada, 0).await), [1, 2, 4, 5]);
}

#[tokio::test]
async fn shutting_down_closes_open_streams_and_the_server_exits() {
    let (mut server, ada, _, admin) = team_server(ServerOptions::default()).await;
    post_ok(&server, &admin, &event_body(json!("all"), "Before")).await;
    let mut stream = open_stream(&server, &ada, 0).await;
    assert_eq!(next_event(&mut stream).await["title"], "Before");

    let exit = server.terminate();
    assert!(
        exit.is_some_and(|status| status.success()),
        "the server did not exit cleanly with a stream open: {exit:?}\n{}",
        server.log()
    );
    // The stream was told, not cut off.
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(5), stream.next()).await {
            Ok(Some(Ok(Message::Close(_)))) => break true,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            other => {
                eprintln!("instead of a close frame: {other:?}");
                break false;
            }
        }
    };
    assert!(closed, "no close frame before the server exited");
}

#[tokio::test]
async fn a_stream_whose_client_stops_answering_pings_is_closed() {
    let (server, ada, _, admin) = team_server(
        ServerOptions::default()
            .arg("--stream-ping-seconds")
            .arg("1"),
    )
    .await;
    // Not read, so its pings go unanswered; closed after 2.5 s of silence.
    let mut silent = open_stream(&server, &ada, 0).await;
    // Read all along, so it answers each ping and stays open.
    let mut answering = open_stream(&server, &ada, 0).await;
    let (heard, mut events) = tokio::sync::mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        while let Some(Ok(message)) = answering.next().await {
            if let Message::Text(text) = message {
                let _ = heard.send(text.to_string());
            }
        }
    });
    tokio::time::sleep(Duration::from_secs(4)).await;

    // Its buffered pings, then the end: a close frame, or the pong that reading a ping
    // sends failing on the connection the server has closed.
    let mut pings = 0;
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(5), silent.next()).await {
            // Pinged on and on: never closed.
            Ok(Some(Ok(Message::Ping(_)))) if pings == 10 => break false,
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            Ok(Some(Ok(Message::Close(_))) | Some(Err(_)) | None) => break true,
            Ok(Some(Ok(other))) => panic!("unexpected message {other:?}"),
            Err(_) => break false,
        }
    };
    assert!(closed, "the silent stream is still open");
    assert!(pings >= 2, "pinged {pings} times before giving up");

    post_ok(
        &server,
        &admin,
        &event_body(json!({"agent": EMAIL}), "Still here"),
    )
    .await;
    let text = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("an event within 5 s")
        .expect("the answering stream is open");
    assert!(text.contains("Still here"), "{text}");
    reader.abort();
}

#[tokio::test]
async fn team_events_reach_the_members_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
    add_agent_ok(dir.path(), OTHER_EMAIL, "Grace Hopper", PASSWORD);
    add_admin_ok(dir.path());
    let team = run(
        dir.path(),
        &[
            "add-team",
            "--name",
            "Billing",
            "--lead",
            ADMIN_EMAIL,
            "--member",
            EMAIL,
        ],
    );
    assert!(team.status.success(), "{team:?}");
    let again = run(dir.path(), &["add-team", "--name", "Billing"]);
    assert!(!again.status.success(), "a second team of one name");
    let server = Server::start(dir).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let grace = server.login(OTHER_EMAIL, PASSWORD).await;

    let posted = post_ok(
        &server,
        &admin,
        &event_body(json!({"team": "Billing"}), "Team"),
    )
    .await;
    let mut agents: Vec<&str> = posted["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|d| d["agent"].as_str().expect("agent"))
        .collect();
    agents.sort();
    assert_eq!(agents, [EMAIL, ADMIN_EMAIL]);
    assert_eq!(
        seqs(&events_after(&server, &grace, 0).await),
        Vec::<i64>::new()
    );
}

#[tokio::test]
async fn bad_events_and_cursors_are_refused_by_name_and_store_nothing() {
    let (server, ada, _, admin) = team_server(ServerOptions::default()).await;
    let good = event_body(json!({"agent": EMAIL}), "Fine");

    let forbidden = post_event(&server, &ada, &good).await;
    expect_error(forbidden, StatusCode::FORBIDDEN, "forbidden", None).await;
    let anonymous = server
        .request(Method::POST, "/api/v1/admin/events", None)
        .json(&good)
        .send()
        .await
        .expect("post");
    expect_error(anonymous, StatusCode::UNAUTHORIZED, "unauthorized", None).await;

    let mut cases: Vec<(Value, &str, Option<&str>)> = Vec::new();
    let mut with = |key: &str, value: Value, code, field| {
        let mut body = good.clone();
        body[key] = value;
        cases.push((body, code, field));
    };
    with("type", json!("ticket.exploded"), "wrong_type", Some("type"));
    with("priority", json!("meh"), "wrong_type", Some("priority"));
    with("to", json!("everyone"), "wrong_type", Some("to"));
    with(
        "to",
        json!({"agent": "nobody@example.com"}),
        "validation_failed",
        Some("to"),
    );
    with(
        "to",
        json!({"team": "Nobody"}),
        "validation_failed",
        Some("to"),
    );
    with("title", json!("   "), "validation_failed", Some("title"));
    with(
        "url",
        json!("file:///etc/passwd"),
        "validation_failed",
        Some("url"),
    );
    with("title", json!(42), "wrong_type", Some("title"));
    with("colour", json!("red"), "unknown_field", Some("colour"));
    let mut no_title = good.clone();
    no_title.as_object_mut().expect("object").remove("title");
    cases.push((no_title, "missing_field", Some("title")));
    for (body, code, field) in cases {
        let response = post_event(&server, &admin, &body).await;
        expect_error(response, StatusCode::BAD_REQUEST, code, field).await;
    }
    let malformed = server
        .request(Method::POST, "/api/v1/admin/events", Some(&admin))
        .header("content-type", "application/json")
        .body("{\"type\": ")
        .send()
        .await
        .expect("post");
    expect_error(malformed, StatusCode::BAD_REQUEST, "malformed_json", None).await;

    for (query, code, field) in [
        ("after=-1", "validation_failed", "after"),
        ("after=1", "validation_failed", "after"),
        ("after=abc", "wrong_type", "after"),
        ("after=0&limit=5000", "validation_failed", "limit"),
        ("after=0&since=3", "unknown_field", "since"),
    ] {
        let response = server
            .request(Method::GET, &format!("/api/v1/events?{query}"), Some(&ada))
            .send()
            .await
            .expect("list");
        expect_error(response, StatusCode::BAD_REQUEST, code, Some(field)).await;
    }
    assert_eq!(
        seqs(&events_after(&server, &ada, 0).await),
        Vec::<i64>::new(),
        "nothing was stored"
    );

    // A stream without a token is refused before the upgrade.
    let url = format!(
        "{}/api/v1/events/stream",
        server.base.replace("http://", "ws://")
    );
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!("a stream without a token was not refused: {other:?}"),
    }
    let future = server
        .request(Method::GET, "/api/v1/events/stream?after=99", Some(&ada))
        .send()
        .await
        .expect("stream");
    expect_error(
        future,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("after"),
    )
    .await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn the_stream_sends_the_backlog_then_live_events_in_seq_order() {
    let (server, ada, _, admin) = team_server(ServerOptions::default()).await;
    for n in 1..=3 {
        post_ok(
            &server,
            &admin,
            &event_body(json!({"agent": EMAIL}), &format!("Backlog {n}")),
        )
        .await;
    }
    let mut stream = open_stream(&server, &ada, 1).await;
    assert_eq!(next_event(&mut stream).await["seq"], 2);
    assert_eq!(next_event(&mut stream).await["seq"], 3);

    // Live events to Ada, Grace and everyone, posted from several tasks at once: Ada's
    // stream gets exactly hers and everyone's, in seq order, skipping Grace's seqs.
    let posts = (4..=60).map(|n| {
        let to = match n % 3 {
            0 => json!({"agent": EMAIL}),
            1 => json!({"agent": OTHER_EMAIL}),
            _ => json!("all"),
        };
        let for_ada = n % 3 != 1;
        let body = event_body(to.clone(), &format!("Live {n}"));
        let (server, admin) = (&server, &admin);
        async move {
            let posted = post_ok(server, admin, &body).await;
            // Everyone is counted (Ada, Grace and the admin); an agent is listed.
            match to.get("agent") {
                Some(agent) => assert_eq!(posted["deliveries"][0]["agent"], *agent),
                None => assert_eq!(
                    (&posted["recipients"], &posted["deliveries"]),
                    (&json!(3), &json!([]))
                ),
            }
            (for_ada, posted["seq"].as_i64().expect("seq"))
        }
    });
    let posted = futures_util::future::join_all(posts).await;
    let mut adas: Vec<i64> = posted
        .iter()
        .filter(|(for_ada, _)| *for_ada)
        .map(|(_, seq)| *seq)
        .collect();
    adas.sort_unstable();
    for expected in &adas {
        let event = next_event(&mut stream).await;
        assert_eq!(&event["seq"], expected);
    }
    let newest = *adas.last().expect("seqs");
    // A second stream of the same agent gets the same events.
    let mut second = open_stream(&server, &ada, adas[adas.len() - 2]).await;
    assert_eq!(next_event(&mut second).await["seq"], newest);
    stream.close(None).await.expect("close");
}

#[tokio::test]
async fn profile_and_status_changes_reach_the_agents_other_sessions() {
    let (server, ada, _, _) = team_server(ServerOptions::default()).await;
    let laptop = server.login(EMAIL, PASSWORD).await;
    let mut stream = open_stream(&server, &laptop, 0).await;

    let (_, etag) = server.me(&ada).await;
    server
        .patch_ok(&ada, &etag, &json!({"job_title": "Team Lead"}))
        .await;
    let event = next_event(&mut stream).await;
    assert_eq!(event["type"], "profile.updated");
    assert_eq!(event["seq"], 1);

    let response = server
        .request(Method::PUT, "/api/v1/me/status", Some(&ada))
        .json(&json!({"status": "dnd"}))
        .send()
        .await
        .expect("status");
    let status = expect_json(response, StatusCode::OK).await;
    assert_eq!(status, json!({"status": "dnd", "until": null}));
    let event = next_event(&mut stream).await;
    assert_eq!(event["type"], "profile.updated");
    assert_eq!(event["seq"], 2);
    let (profile, etag_after) = server.me(&laptop).await;
    assert_eq!(profile["status"], "dnd");
    assert_eq!(profile["job_title"], "Team Lead");
    let (_, etag_before_status) = server.me(&ada).await;
    assert_eq!(
        etag_after, etag_before_status,
        "a status switch is not a profile edit: open profile forms stay current"
    );
}

#[tokio::test]
async fn status_until_expires_back_to_available_and_bad_statuses_are_refused() {
    let (server, ada, _, _) = team_server(ServerOptions::default()).await;
    let put = |body: Value| {
        server
            .request(Method::PUT, "/api/v1/me/status", Some(&ada))
            .json(&body)
            .send()
    };
    let until = (chrono::Utc::now() + chrono::Duration::milliseconds(1500))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let set = expect_json(
        put(json!({"status": "busy", "until": until}))
            .await
            .expect("put"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(set["status"], "busy");
    let (profile, _) = server.me(&ada).await;
    assert_eq!(profile["status"], "busy");
    let parse = |text: &str| chrono::DateTime::parse_from_rfc3339(text).expect("RFC 3339");
    assert_eq!(
        parse(profile["status_until"].as_str().expect("status_until")),
        parse(&until)
    );

    for (body, code, field) in [
        (json!({"status": "sleeping"}), "wrong_type", "status"),
        (
            json!({"status": "away", "until": "tomorrow"}),
            "wrong_type",
            "until",
        ),
        (
            json!({"status": "away", "until": "2001-01-01T00:00:00Z"}),
            "validation_failed",
            "until",
        ),
        (
            json!({"status": "away", "mood": "grumpy"}),
            "unknown_field",
            "mood",
        ),
        (json!({}), "missing_field", "status"),
    ] {
        let response = put(body).await.expect("put");
        expect_error(response, StatusCode::BAD_REQUEST, code, Some(field)).await;
    }
    let (profile, _) = server.me(&ada).await;
    assert_eq!(profile["status"], "busy", "refused updates changed nothing");

    tokio::time::sleep(Duration::from_millis(1700)).await;
    let (profile, _) = server.me(&ada).await;
    assert_eq!(profile["status"], "available", "expired: back to available");
    assert_eq!(profile["status_until"], Value::Null);
}

#[tokio::test]
async fn an_agent_whose_last_stream_closes_goes_offline_after_the_grace_period() {
    let (server, ada, _, _) = team_server(
        ServerOptions::default()
            .arg("--offline-grace-seconds")
            .arg("1"),
    )
    .await;
    let set_available = server
        .request(Method::PUT, "/api/v1/me/status", Some(&ada))
        .json(&json!({"status": "available"}))
        .send()
        .await
        .expect("status");
    expect_json(set_available, StatusCode::OK).await;

    // Closed and reopened within the grace period: nothing changes.
    let first = open_stream(&server, &ada, 0).await;
    drop(first);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut second = open_stream(&server, &ada, 0).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (profile, _) = server.me(&ada).await;
    assert_eq!(profile["status"], "available", "reconnected in time");

    second.close(None).await.expect("close");
    drop(second);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (profile, _) = server.me(&ada).await;
        if profile["status"] == "offline" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still {} 5 s after the last stream closed",
            profile["status"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn notification_prefs_are_versioned_and_admin_only_types_need_an_admin() {
    let (server, ada, _, admin) = team_server(ServerOptions::default()).await;
    let get = |token: &str| {
        server
            .request(Method::GET, "/api/v1/me/notification-prefs", Some(token))
            .send()
    };
    let response = get(&ada).await.expect("get");
    let etag = etag_of(response.headers());
    assert_eq!(etag, "\"0\"");
    let prefs = expect_json(response, StatusCode::OK).await;
    let rows = prefs["events"].as_array().expect("rows");
    assert_eq!(rows.len(), 17);
    assert_eq!(rows[0]["type"], "ticket.assigned");
    assert!(rows.iter().all(|row| row.get("push").is_none()), "{prefs}");
    assert_eq!(prefs["can_configure_admin_only"], false);
    let admin_only: Vec<&str> = rows
        .iter()
        .filter(|row| row["admin_only"] == true)
        .map(|row| row["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        admin_only,
        [
            "ticket.created",
            "ticket.reply_other",
            "ticket.reply_unassigned",
            "rating.other",
            "chat.all_offline",
            "department.change_requested"
        ]
    );

    let put = |token: &str, if_match: Option<&str>, body: &Value| {
        let mut request = server
            .request(Method::PUT, "/api/v1/me/notification-prefs", Some(token))
            .json(body);
        if let Some(if_match) = if_match {
            request = request.header(IF_MATCH, if_match);
        }
        request.send()
    };
    let with_row = |prefs: &Value, kind: &str, key: &str, value: Value| {
        let mut prefs = prefs.clone();
        for row in prefs["events"].as_array_mut().expect("rows") {
            if row["type"] == kind {
                row[key] = value.clone();
            }
        }
        prefs
    };

    let missing = put(&ada, None, &prefs).await.expect("put");
    expect_error(
        missing,
        StatusCode::PRECONDITION_REQUIRED,
        "precondition_required",
        None,
    )
    .await;
    let sneaky = with_row(&prefs, "ticket.created", "desktop", json!(true));
    let refused = put(&ada, Some(&etag), &sneaky).await.expect("put");
    expect_error(
        refused,
        StatusCode::FORBIDDEN,
        "forbidden",
        Some("ticket.created"),
    )
    .await;
    let mut bad_clock = prefs.clone();
    bad_clock["quiet_hours"]["start"] = json!("7pm");
    let refused = put(&ada, Some(&etag), &bad_clock).await.expect("put");
    expect_error(
        refused,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("quiet_hours.start"),
    )
    .await;
    let bad_email = with_row(&prefs, "ticket.assigned", "email", json!("hourly"));
    let refused = put(&ada, Some(&etag), &bad_email).await.expect("put");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);

    // No push channel: a field for one is refused by name.
    let pushed = with_row(&prefs, "kb.article_published", "push", json!(true));
    let refused = put(&ada, Some(&etag), &pushed).await.expect("put");
    expect_error(
        refused,
        StatusCode::BAD_REQUEST,
        "unknown_field",
        Some("events[6].push"),
    )
    .await;

    let mut chosen = with_row(&prefs, "kb.article_published", "sound", json!(true));
    chosen["quiet_hours"] = json!({"enabled": true, "start": "22:00", "end": "06:30"});
    let saved = put(&ada, Some(&etag), &chosen).await.expect("put");
    assert_eq!(etag_of(saved.headers()), "\"1\"");
    let saved = expect_json(saved, StatusCode::OK).await;
    assert_eq!(saved["quiet_hours"]["end"], "06:30");
    let stale = put(&ada, Some(&etag), &chosen).await.expect("put");
    expect_error(stale, StatusCode::CONFLICT, "version_conflict", None).await;
    let reread = expect_json(get(&ada).await.expect("get"), StatusCode::OK).await;
    assert_eq!(reread, saved);
    let kb = reread["events"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|row| row["type"] == "kb.article_published")
        .expect("kb row")
        .clone();
    assert_eq!(kb["sound"], true);

    let admin_response = get(&admin).await.expect("get");
    let admin_etag = etag_of(admin_response.headers());
    let admin_prefs = expect_json(admin_response, StatusCode::OK).await;
    assert_eq!(admin_prefs["can_configure_admin_only"], true);
    let watching = with_row(&admin_prefs, "chat.all_offline", "desktop", json!(true));
    let saved = put(&admin, Some(&admin_etag), &watching)
        .await
        .expect("put");
    let saved = expect_json(saved, StatusCode::OK).await;
    assert!(saved["events"]
        .as_array()
        .expect("rows")
        .iter()
        .any(|row| row["type"] == "chat.all_offline" && row["desktop"] == true));
}

#[tokio::test]
async fn simulate_posts_realistic_events_for_the_demo_agent() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(run(dir.path(), &["seed-demo"]).status.success());
    let server = Server::start(dir).await;
    let output = std::process::Command::new(BIN)
        .args([
            "simulate",
            "--server",
            &server.base,
            "--rate",
            "6000",
            "--count",
            "12",
        ])
        .env_remove("AGENT_DESK_ADMIN_EMAIL")
        .env_remove("AGENT_DESK_ADMIN_PASSWORD")
        .output()
        .expect("run simulate");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let demo = server
        .login("demo@agentdesk.example", "Demo-agent-2026!")
        .await;
    let page = events_after(&server, &demo, 0).await;
    assert_eq!(seqs(&page), (1..=12).collect::<Vec<i64>>());
    assert!(page["events"]
        .as_array()
        .expect("events")
        .iter()
        .all(|event| event["url"]
            .as_str()
            .is_some_and(|url| url.starts_with(&format!("{}/tickets/", server.base)))));
}

async fn set_status(server: &Server, token: &str, status: &str) {
    let response = server
        .request(Method::PUT, "/api/v1/me/status", Some(token))
        .json(&json!({"status": status}))
        .send()
        .await
        .expect("set status");
    assert_eq!(response.status(), StatusCode::OK);
}

/// A stream asked for presence hears colleagues' status changes as their privacy lets
/// the viewer see them; one not asked for it hears events only.
#[tokio::test]
async fn presence_follows_status_changes_within_privacy() {
    let (server, ada, grace, admin) = team_server(ServerOptions::default()).await;
    let (grace_profile, grace_etag) = server.me(&grace).await;
    let grace_id = grace_profile["id"].as_str().expect("id").to_owned();
    let mut following = open_stream_with(&server, &ada, "after=0&presence=true").await;
    let mut plain = open_stream_with(&server, &ada, "after=0").await;
    // Both streams are registered once a first event reaches them.
    post_ok(
        &server,
        &admin,
        &event_body(json!({"agent": EMAIL}), "first"),
    )
    .await;
    assert_eq!(next_event(&mut following).await["title"], "first");
    assert_eq!(next_event(&mut plain).await["title"], "first");

    set_status(&server, &grace, "busy").await;
    assert_eq!(
        next_event(&mut following).await,
        json!({"presence": {"agent_id": grace_id, "status": "busy", "status_until": null}})
    );

    // Grace hides her status: Ada hears it go, once, and then nothing of the changes
    // she may not see, not even when they happen. An admin hears them all.
    let mut admin_stream = open_stream_with(&server, &admin, "after=0&presence=true").await;
    // Registered once an event reaches it, as above: a status change made before would
    // not reach it.
    post_ok(
        &server,
        &admin,
        &event_body(json!({"agent": ADMIN_EMAIL}), "admin's first"),
    )
    .await;
    assert_eq!(
        next_event(&mut admin_stream).await["title"],
        "admin's first"
    );
    let prefs = |show: bool| {
        json!({"contact_prefs": {
            "allow_direct_messages": true,
            "show_phone": true,
            "show_online_status": show,
            "calendar_integration": false,
        }})
    };
    let (_, grace_etag) = server.patch_ok(&grace, &grace_etag, &prefs(false)).await;
    let gone = json!({"presence": {"agent_id": grace_id, "status": null, "status_until": null}});
    assert_eq!(next_event(&mut following).await, gone);
    set_status(&server, &grace, "away").await;
    set_status(&server, &grace, "dnd").await;
    for status in ["away", "dnd"] {
        assert_eq!(
            next_event(&mut admin_stream).await,
            json!({"presence": {"agent_id": grace_id, "status": status, "status_until": null}})
        );
    }
    // Shown again: the next Ada hears of Grace is her status now.
    server.patch_ok(&grace, &grace_etag, &prefs(true)).await;
    assert_eq!(
        next_event(&mut following).await,
        json!({"presence": {"agent_id": grace_id, "status": "dnd", "status_until": null}})
    );
    // A change that leaves the status as it was (the privacy edit, for the admin) is
    // not news: the admin's next message is Ada's status.
    set_status(&server, &ada, "busy").await;
    let ada_id = server.me(&ada).await.0["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        next_event(&mut admin_stream).await,
        json!({"presence": {"agent_id": ada_id, "status": "busy", "status_until": null}})
    );

    // The stream without presence heard none of it, only events: Ada's own status
    // change (profile.updated), then the next one posted.
    post_ok(
        &server,
        &admin,
        &event_body(json!({"agent": EMAIL}), "second"),
    )
    .await;
    let own_change = next_event(&mut plain).await;
    assert_eq!(own_change["type"], "profile.updated", "{own_change}");
    assert_eq!(next_event(&mut plain).await["title"], "second");

    let bad = server
        .request(
            Method::GET,
            "/api/v1/events/stream?after=0&presence=yes",
            Some(&ada),
        )
        .send()
        .await
        .expect("stream");
    expect_error(
        bad,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("presence"),
    )
    .await;
}
