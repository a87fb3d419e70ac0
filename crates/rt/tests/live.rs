//! The client against a private Request Tracker: what the connector reads and writes,
//! and how each way of failing reads.

use agent_desk_rt::testing::PrivateRt;
use agent_desk_rt::{Credentials, RtClient, RtError};
use serde_json::json;

#[tokio::test]
async fn the_feed_tickets_and_giving_back_read_as_rt_has_them() {
    let rt = PrivateRt::start().expect("a private RT");
    let client = rt.client();
    assert!(client
        .version()
        .await
        .expect("RT answers")
        .starts_with("5."));
    let start = client.newest_transaction().await.expect("the newest id");

    rt.add_agent("dana", "Dana@AgentDesk.example", "Dana Demo")
        .await;
    let ticket = rt
        .create_ticket(json!({
            "Subject": "VPN down\u{7} since 9:00",
            "Owner": "dana",
            "Requestor": ["Mia Hoffmann <mia.hoffmann@example.com>"],
            "AdminCc": "dana@agentdesk.example",
            "Priority": 80,
            "Due": "2026-12-24 12:00:00",
        }))
        .await;
    rt.mail_reply(
        "Mia Hoffmann <mia.hoffmann@example.com>",
        ticket,
        "VPN down",
        "Still down.",
    );

    let feed = client
        .transactions_after(start, false)
        .await
        .expect("the feed")
        .transactions;
    let kinds: Vec<&str> = feed
        .iter()
        .filter(|transaction| transaction.ticket_id == ticket)
        .map(|transaction| transaction.kind.as_str())
        .collect();
    assert_eq!(kinds.first(), Some(&"Create"), "{feed:?}");
    assert!(!kinds.contains(&"EmailRecord"), "{kinds:?}");
    let reply = feed
        .iter()
        .find(|transaction| transaction.kind == "Correspond")
        .expect("the requestor's reply");
    assert_eq!(reply.creator.email, "mia.hoffmann@example.com");
    assert!(feed.windows(2).all(|pair| pair[0].id < pair[1].id));
    // Read again by id, as ids skipped over earlier are: the same changes, and only
    // tickets' (an id that is not a ticket's transaction, or none, is absent).
    let ids: Vec<i64> = feed.iter().map(|transaction| transaction.id).collect();
    let mut asked = ids.clone();
    asked.push(999_999);
    let again = client.transactions_by_id(&asked).await.expect("by id");
    assert_eq!(
        again.transactions.iter().map(|t| t.id).collect::<Vec<_>>(),
        ids
    );
    // Read from after the last one: nothing is read twice.
    let last = feed
        .last()
        .map(|transaction| transaction.id)
        .unwrap_or(start);
    let nothing = client
        .transactions_after(last, false)
        .await
        .expect("the feed");
    assert!(nothing.transactions.is_empty() && !nothing.more);

    let tickets = client.tickets(&[ticket]).await.expect("the ticket");
    let read = &tickets[0];
    assert_eq!(
        (read.owner.email.as_str(), read.priority),
        ("dana@agentdesk.example", 80)
    );
    assert_eq!(read.queue, "General");
    assert_eq!(read.requestors[0].real_name, "Mia Hoffmann");
    assert_eq!(read.admin_cc[0].email, "dana@agentdesk.example");
    assert_eq!(
        read.due.map(|due| due.to_rfc3339()),
        Some("2026-12-24T12:00:00+00:00".to_owned())
    );
    assert_eq!(
        client.open_tickets_of("dana").await.expect("dana's").len(),
        1
    );
    let soon = (chrono::Utc::now() + chrono::Duration::minutes(10))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let due_soon = rt
        .create_ticket(json!({"Subject": "Due soon", "Owner": "dana", "Due": soon}))
        .await;
    let within = |minutes| client.tickets_due_within(60, minutes);
    let ids =
        |tickets: Vec<agent_desk_rt::Ticket>| tickets.iter().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(ids(within(30).await.expect("due soon")), vec![due_soon]);
    assert!(within(5).await.expect("not yet").is_empty());

    client.release(ticket).await.expect("given back");
    client
        .comment(
            ticket,
            "Given back to the queue: Dana has been Away for 10 minutes.",
        )
        .await
        .expect("commented");
    let after = client.tickets(&[ticket]).await.expect("the ticket");
    assert_eq!(after[0].owner.name, "Nobody");
    // Only the ticket created later is still Dana's.
    assert_eq!(
        ids(client.open_tickets_of("dana").await.expect("dana's")),
        vec![due_soon]
    );
    // Giving back what is back already is done: a release tried again is no failure.
    client.release(ticket).await.expect("still back");
    let owner_change = client
        .transactions_after(last, false)
        .await
        .expect("the feed")
        .transactions
        .into_iter()
        .find(|transaction| transaction.kind == "Set" && transaction.field == "Owner")
        .expect("the owner change");
    assert_eq!(owner_change.new_value, "6", "Nobody's id");
    assert_eq!(
        client
            .user(owner_change.creator.id)
            .await
            .expect("root")
            .name,
        "root"
    );
}

#[tokio::test]
async fn wrong_credentials_a_stopped_rt_and_a_web_page_each_say_what_is_wrong() {
    let mut rt = PrivateRt::start().expect("a private RT");
    let wrong = RtClient::new(
        &rt.url(),
        Credentials::Password {
            user: "root".into(),
            password: "not-it".into(),
        },
    )
    .expect("a client");
    assert!(matches!(wrong.version().await, Err(RtError::Unauthorized)));
    let token =
        RtClient::new(&rt.url(), Credentials::Token("1-14-nonsense".into())).expect("a client");
    assert!(matches!(token.version().await, Err(RtError::Unauthorized)));

    // RT's web interface under a wrong base address answers a login page.
    let web = RtClient::new(&format!("{}Ticket/", rt.url()), rt_root()).expect("a client");
    let error = web.version().await.expect_err("not REST 2.0");
    assert!(matches!(error, RtError::NotRestApi { .. }), "{error}");
    assert!(error.is_transient());

    rt.stop();
    let error = rt.client().version().await.expect_err("stopped");
    assert!(matches!(error, RtError::Unreachable { .. }), "{error}");
    assert!(error.to_string().contains(&rt.url()), "{error}");
    rt.start_server().expect("started again");
    assert!(rt.client().version().await.is_ok());

    assert!(matches!(
        RtClient::new("ftp://rt.example/", rt_root()),
        Err(RtError::Unreachable { .. })
    ));
}

#[tokio::test]
async fn tickets_the_connector_may_not_see_fill_no_page_and_a_release_rt_refuses_is_an_error() {
    let rt = PrivateRt::start().expect("a private RT");
    rt.add_agent("dana", "dana@agentdesk.example", "Dana Demo")
        .await;
    let credentials = rt.add_connector_user().await;
    // Pages of three, so that a few changes root alone may see would fill one.
    let connector = RtClient::new(&rt.url(), credentials)
        .expect("a client")
        .with_page_size(3);
    let start = connector.newest_transaction().await.expect("the newest id");
    for n in 0..3 {
        let hidden = rt
            .create_ticket(json!({"Queue": "Restricted", "Subject": format!("Hidden {n}")}))
            .await;
        rt.call(
            "PUT",
            &format!("ticket/{hidden}"),
            json!({"Priority": 90, "Status": "open", "Subject": format!("Still hidden {n}")}),
        )
        .await;
    }
    let seen = rt
        .create_ticket(json!({"Subject": "Seen", "Owner": "dana"}))
        .await;
    let page = connector
        .transactions_after(start, false)
        .await
        .expect("the feed");
    assert_eq!(
        page.transactions
            .iter()
            .map(|change| (change.ticket_id, change.kind.as_str()))
            .collect::<Vec<_>>(),
        vec![(seen, "Create")],
        "{page:?}"
    );
    assert!(!page.more);
    assert_eq!(
        connector.newest_transaction().await.expect("the newest id"),
        page.transactions[0].id
    );

    // Paged: a full page says there may be more, and the next page goes on from it.
    for subject in ["One", "Two", "Three", "Four"] {
        rt.create_ticket(json!({"Subject": subject})).await;
    }
    let first = connector
        .transactions_after(page.transactions[0].id, false)
        .await
        .expect("a page");
    assert_eq!(first.transactions.len(), 3);
    assert!(first.more);
    let second = connector
        .transactions_after(first.newest().expect("an id"), false)
        .await
        .expect("the next page");
    assert_eq!(second.transactions.len(), 1, "{second:?}");
    assert!(!second.more);

    // On Billing, agents own tickets and the connector may not give them away.
    let before = connector.newest_transaction().await.expect("the newest id");
    let billing = rt
        .create_ticket(json!({"Queue": "Billing", "Subject": "Invoice", "Owner": "dana"}))
        .await;
    let created = connector
        .transactions_after(before, false)
        .await
        .expect("the feed");
    assert_eq!(
        created
            .transactions
            .iter()
            .map(|change| (change.ticket_id, change.kind.as_str()))
            .collect::<Vec<_>>(),
        vec![(billing, "Create")],
        "{created:?}"
    );
    let refused = connector.release(billing).await.expect_err("not allowed");
    assert!(matches!(refused, RtError::NotChanged(_)), "{refused}");
    let kept = connector.tickets(&[billing]).await.expect("the ticket");
    assert_eq!(kept[0].owner.name, "dana");

    // Comments on Billing are hidden from the connector (no ShowTicketComments), and RT
    // leaves them out after it paged: a page of them comes back empty, and is looked
    // past only when asked.
    let from = rt
        .client()
        .newest_transaction()
        .await
        .expect("the newest id");
    for n in 0..4 {
        rt.call(
            "POST",
            &format!("ticket/{billing}/comment"),
            json!({"Content": format!("Internal note {n}"), "ContentType": "text/plain"}),
        )
        .await;
    }
    let after = rt
        .create_ticket(json!({"Subject": "After the notes"}))
        .await;
    let stuck = connector
        .transactions_after(from, false)
        .await
        .expect("a page");
    assert_eq!(stuck.newest(), None, "{stuck:?}");
    let mut cursor = from;
    let mut read = Vec::new();
    for _ in 0..4 {
        let page = connector
            .transactions_after(cursor, true)
            .await
            .expect("a page");
        read.extend(page.transactions.iter().map(|change| change.ticket_id));
        cursor = page.newest().unwrap_or(cursor);
        if !page.more {
            break;
        }
    }
    assert_eq!(read, vec![after], "read to {cursor} from {from}");
}

fn rt_root() -> Credentials {
    Credentials::Password {
        user: "root".into(),
        password: "password".into(),
    }
}
