//! What the outbox costs and how fast it catches up, against the real server (in this
//! process, on SQLite in a temporary folder):
//!
//! - a profile save's latency online, sent straight (`PATCH /me`) and through the outbox
//!   (kept on disk first, then sent under its key), interleaved so that both meet the
//!   same machine;
//! - keeping a change (the write that must reach the disk before "Saved");
//! - sending 1 000 changes kept while the server was away, once it is back.
//!
//! Prints the figures docs/PERFORMANCE.md records.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use agent_desk_core::ProfilePatch;
use agent_desk_outbox::{LocalChange, Outbox, Sent};
use serde_json::json;
use support::{customer, signed_in, Server};

const SAVES: usize = 300;
const REPLAYED: usize = 1000;
fn percentile(sorted: &[Duration], q: f64) -> f64 {
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

fn summary(label: &str, mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let (p50, p99) = (percentile(&samples, 0.5), percentile(&samples, 0.99));
    println!(
        "{label:>28}  p50 {p50:>7.2} ms  p99 {p99:>7.2} ms  max {:>7.2} ms",
        percentile(&samples, 1.0)
    );
    (p50, p99)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut server = Server::start().await;
    let api = signed_in(&server.url()).await;
    let dir = tempfile::tempdir().expect("outbox dir");
    let outbox = Outbox::open(dir.path()).expect("outbox");

    // Saves online: straight and through the outbox, one after the other.
    let mut straight = Vec::with_capacity(SAVES);
    let mut kept_first = Vec::with_capacity(SAVES);
    let mut etag = api.me().await.expect("profile").etag;
    for n in 0..SAVES {
        let started = Instant::now();
        let saved = api
            .update_me(
                &ProfilePatch {
                    job_title: Some(format!("Straight {n}")),
                    ..ProfilePatch::default()
                },
                &etag,
            )
            .await
            .expect("saved");
        straight.push(started.elapsed());
        let version: i64 = saved.etag.trim_matches('"').parse().expect("version");

        let started = Instant::now();
        let sent = outbox
            .save(
                &api,
                LocalChange::Profile {
                    patch: json!({"job_title": format!("Kept first {n}")}),
                    version,
                },
                None,
            )
            .await
            .expect("kept")
            .expect("accepted");
        kept_first.push(started.elapsed());
        let Sent::Applied(accepted) = sent else {
            panic!("not applied: {sent:?}");
        };
        etag = accepted.etag.expect("etag");
    }
    println!("profile saves online, {SAVES} each, the same server and connection:");
    let (_, straight_p99) = summary("PATCH /me", straight);
    let (_, kept_p99) = summary("through the outbox", kept_first);
    println!(
        "{:>28}  {:+.2} ms at p99",
        "the outbox adds",
        kept_p99 - straight_p99
    );

    // Catching up: 1 000 notes kept while the server is away, sent once it is back.
    let customer_id = customer(&api, "Grace Hopper", "grace@example.com").await;
    server.stop().await;
    let mut keeping = Vec::with_capacity(REPLAYED);
    for n in 0..REPLAYED {
        let started = Instant::now();
        outbox
            .enqueue(
                LocalChange::NoteAdded {
                    person_id: customer_id.clone(),
                    body: format!("Kept while the server was away, {n}"),
                },
                None,
            )
            .await
            .expect("kept");
        keeping.push(started.elapsed());
    }
    println!("keeping a change (one transaction, synchronous=FULL):");
    summary("enqueue", keeping);
    server.restart().await;
    let started = Instant::now();
    let outcomes = outbox.send_waiting(&api, true).await.expect("sent");
    let took = started.elapsed();
    assert_eq!(outcomes.len(), REPLAYED, "every change sent");
    assert_eq!(outbox.state().waiting(), 0);
    let notes = api.notes(&customer_id, None).await.expect("notes");
    assert_eq!(notes.total as usize, REPLAYED, "each once");
    println!(
        "sending {REPLAYED} kept changes once the server is back: {:.2} s ({:.2} ms a change)",
        took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / REPLAYED as f64
    );
}
