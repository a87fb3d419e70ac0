//! Event mail on a real database and the real outbox: one mail per event for the types
//! an agent wants at once, and daily and weekly digests at 09:00 in their time zone,
//! with time passed in rather than waited for. On SQLite, or on PostgreSQL with
//! `AGENT_DESK_TEST_DATABASE=postgres`.

mod support;

use agent_desk_core::{
    EmailFrequency, EventTarget, EventType, NewEvent, NotificationPrefs, Priority,
};
use agent_desk_server::agents::{self, NewAgent};
use agent_desk_server::{event_mail, events, notification_prefs, AppState, ServerConfig};
use chrono::{DateTime, TimeZone, Utc};

async fn state() -> (tempfile::TempDir, AppState, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = ServerConfig {
        database_url: Some(support::database_url(dir.path())),
        ..ServerConfig::new(dir.path())
    };
    let state = AppState::open(config).await.expect("open the server state");
    let profile = agents::create(
        &state.db,
        NewAgent {
            email: "ada@example.com",
            display_name: "Ada Lovelace",
            password: "Analytical-Engine-1843",
            is_admin: false,
        },
        Utc::now(),
    )
    .await
    .expect("agent");
    agent_desk_server::storage::query("UPDATE agents SET timezone = 'Europe/Berlin' WHERE id = $1")
        .bind(&profile.id)
        .execute(&state.db)
        .await
        .expect("time zone");
    (dir, state, profile.id)
}

fn event(event_type: EventType, title: &str) -> NewEvent {
    NewEvent {
        event_type,
        to: EventTarget::Agent("ada@example.com".into()),
        priority: Priority::Normal,
        title: title.into(),
        body: Some("Details".into()),
        ticket_id: Some("42".into()),
        url: Some("https://desk.example/tickets/42".into()),
        requester: None,
    }
}

/// The outbox's mails, oldest first, as text.
fn outbox(dir: &std::path::Path) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("outbox"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .map(|path| std::fs::read_to_string(path).expect("read a mail"))
        .collect()
}

async fn publish(state: &AppState, new: &NewEvent, at: DateTime<Utc>) {
    let published = events::publish(&state.db, &state.hub, new, at)
        .await
        .expect("publish");
    event_mail::send_immediate(&state.db, &state.mailer, new, &published).await;
}

#[tokio::test]
async fn immediate_types_are_mailed_one_by_one_and_digest_types_wait() {
    let (dir, state, _) = state().await;
    publish(
        &state,
        &event(EventType::TicketAssigned, "Ticket #42 assigned to you"),
        Utc::now(),
    )
    .await;
    publish(
        &state,
        &event(EventType::TicketUpdated, "Ticket #42 updated"),
        Utc::now(),
    )
    .await;
    let mails = outbox(dir.path());
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert!(mails[0].contains("Subject: Ticket #42 assigned to you"));
    assert!(mails[0].contains("To: ada@example.com"));
    assert!(mails[0].contains("https://desk.example/tickets/42"));
}

#[tokio::test]
async fn events_to_everyone_are_mailed_to_those_who_want_them_at_once() {
    let (dir, state, _) = state().await;
    let grace = agents::create(
        &state.db,
        NewAgent {
            email: "grace@example.com",
            display_name: "Grace Hopper",
            password: "Compiler-A0-1952",
            is_admin: false,
        },
        Utc::now(),
    )
    .await
    .expect("agent");
    let to_everyone = |event_type, title| NewEvent {
        to: EventTarget::All,
        ..event(event_type, title)
    };
    // Mailed at once by default: everyone.
    publish(
        &state,
        &to_everyone(EventType::SystemMaintenance, "Maintenance tonight"),
        Utc::now(),
    )
    .await;
    let mails = outbox(dir.path());
    assert_eq!(mails.len(), 2, "{mails:#?}");
    assert!(mails
        .iter()
        .any(|mail| mail.contains("To: ada@example.com")));
    assert!(mails
        .iter()
        .any(|mail| mail.contains("To: grace@example.com")));
    // Weekly by default: nobody, until Grace asks for it at once.
    let article = to_everyone(EventType::KbArticlePublished, "New article");
    publish(&state, &article, Utc::now()).await;
    assert_eq!(outbox(dir.path()).len(), 2);
    let mut prefs = NotificationPrefs::default();
    for row in &mut prefs.events {
        if row.event_type == EventType::KbArticlePublished {
            row.email = EmailFrequency::Immediate;
        }
    }
    notification_prefs::replace(&state.db, &grace.id, &grace.id, prefs, false, 0, Utc::now())
        .await
        .expect("save preferences");
    publish(&state, &article, Utc::now()).await;
    let mails = outbox(dir.path());
    assert_eq!(mails.len(), 3, "{mails:#?}");
    let newest = mails
        .iter()
        .filter(|mail| mail.contains("Subject: New article"))
        .collect::<Vec<_>>();
    assert_eq!(newest.len(), 1);
    assert!(newest[0].contains("To: grace@example.com"));

    // Locked to immediate mail by an administrator: everyone gets it, whatever their own
    // choice; locked off, nobody does, Grace included.
    for (email, mails_after) in [(EmailFrequency::Immediate, 3 + 2), (EmailFrequency::Off, 5)] {
        let (_, version) = notification_prefs::locks(&state.db).await.expect("locks");
        let locks = agent_desk_core::NotificationLocks {
            locks: vec![agent_desk_core::NotificationLock {
                event_type: EventType::KbArticlePublished,
                desktop: None,
                sound: None,
                email: Some(email),
                reason: "Everyone reads the knowledge base".into(),
            }],
        };
        notification_prefs::save_locks(&state.db, &grace.id, locks, version, Utc::now())
            .await
            .expect("lock");
        publish(&state, &article, Utc::now()).await;
        let mails = outbox(dir.path());
        assert_eq!(mails.len(), mails_after, "{email:?}: {mails:#?}");
    }
}

#[tokio::test]
async fn digests_go_at_nine_in_the_agents_time_zone_and_weekly_ones_on_monday() {
    let (dir, state, _) = state().await;
    // Tuesday 2026-11-24, 10:00 in Berlin: the first look only starts the clocks.
    let start = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
    assert_eq!(
        event_mail::send_due_digests(&state.db, &state.mailer, start)
            .await
            .expect("digests"),
        0
    );

    let later = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
    publish(
        &state,
        &event(EventType::TicketUpdated, "Ticket #42 updated"),
        later,
    )
    .await;
    publish(
        &state,
        &event(EventType::TicketTeamAssigned, "Ticket #43 to Billing"),
        later,
    )
    .await;
    publish(
        &state,
        &event(EventType::KbArticlePublished, "New article: Refunds"),
        later,
    )
    .await;
    assert!(outbox(dir.path()).is_empty(), "nothing mailed at once");

    // Wednesday 08:59 in Berlin: not yet.
    let before_nine = Utc.with_ymd_and_hms(2026, 11, 25, 7, 59, 0).unwrap();
    assert_eq!(
        event_mail::send_due_digests(&state.db, &state.mailer, before_nine)
            .await
            .expect("digests"),
        0
    );
    // Wednesday 09:00 in Berlin (08:00 UTC): the daily digest, with both ticket events.
    let nine = Utc.with_ymd_and_hms(2026, 11, 25, 8, 0, 0).unwrap();
    assert_eq!(
        event_mail::send_due_digests(&state.db, &state.mailer, nine)
            .await
            .expect("digests"),
        1
    );
    let mails = outbox(dir.path());
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains("Subject: Your Agent Desk digest: 2 alerts"),
        "{}",
        mails[0]
    );
    assert!(mails[0].contains("Ticket #42 updated") && mails[0].contains("Ticket #43 to Billing"));
    assert!(
        !mails[0].contains("New article"),
        "the article waits for the weekly mail"
    );
    // A minute later nothing is due again.
    let nine_oh_one = nine + chrono::Duration::minutes(1);
    assert_eq!(
        event_mail::send_due_digests(&state.db, &state.mailer, nine_oh_one)
            .await
            .expect("digests"),
        0
    );

    // Monday 2026-11-30 09:00 in Berlin: the weekly mail with the article; the daily
    // digest has nothing new and sends nothing.
    let monday = Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap();
    assert_eq!(
        event_mail::send_due_digests(&state.db, &state.mailer, monday)
            .await
            .expect("digests"),
        1
    );
    let mails = outbox(dir.path());
    assert_eq!(mails.len(), 2);
    let weekly = mails
        .iter()
        .find(|mail| mail.contains("Your week in Agent Desk"))
        .expect("weekly");
    assert!(weekly.contains("New article: Refunds"));
    assert!(weekly.contains("Subject: Your week in Agent Desk: 1 alert"));
}

/// Two servers finding the same digest due at the same moment (several instances, or
/// a slow run overlapping the next): it is mailed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_digest_found_due_by_several_at_once_is_mailed_once() {
    let (dir, state, _) = state().await;
    let start = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
    event_mail::send_due_digests(&state.db, &state.mailer, start)
        .await
        .expect("start the clocks");
    let later = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
    publish(
        &state,
        &event(EventType::TicketUpdated, "Ticket #42 updated"),
        later,
    )
    .await;

    let nine = Utc.with_ymd_and_hms(2026, 11, 25, 8, 0, 0).unwrap();
    let runs = (0..8).map(|_| {
        let (db, mailer) = (state.db.clone(), std::sync::Arc::clone(&state.mailer));
        tokio::spawn(async move { event_mail::send_due_digests(&db, &mailer, nine).await })
    });
    let mut sent = 0;
    for run in futures_util::future::join_all(runs).await {
        sent += run.expect("the run ends").expect("digests");
    }
    assert_eq!(sent, 1, "one of eight runs sends it");
    assert_eq!(outbox(dir.path()).len(), 1, "one mail");
}
