//! A change the outbox said it kept is there after the process is killed (SIGKILL)
//! while it was writing more.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use agent_desk_outbox::store::Store;
use agent_desk_outbox::{LocalChange, Outbox};

const CHILD_DIR: &str = "AGENT_DESK_OUTBOX_CHILD_DIR";

/// Run in a child process by the test below: keeps changes for ever, printing the
/// number of each once `enqueue` has returned.
#[tokio::test]
async fn keep_changes_until_killed() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        // Only meaningful as the child of the test below.
        return;
    };
    let outbox = Outbox::open(std::path::Path::new(&dir)).expect("outbox");
    let mut out = std::io::stdout();
    for n in 0.. {
        let seq = outbox
            .enqueue(
                LocalChange::NoteAdded {
                    person_id: "p1".into(),
                    body: format!("note {n}"),
                },
                None,
            )
            .await
            .expect("kept");
        writeln!(out, "kept {seq}").expect("stdout");
        out.flush().expect("stdout");
    }
}

#[test]
fn what_was_kept_survives_sigkill() {
    let dir = tempfile::tempdir().expect("dir");
    let mut child = Command::new(std::env::current_exe().expect("this test"))
        .args([
            "--exact",
            "keep_changes_until_killed",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("child");
    let stdout = child.stdout.take().expect("stdout");
    let mut kept = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(seq) = line.strip_prefix("kept ") {
            kept.push(seq.parse::<i64>().expect("seq"));
        }
        if kept.len() == 200 {
            break;
        }
    }
    // SIGKILL mid-write: the child is enqueueing the next change.
    child.kill().expect("killed");
    let _ = child.wait();

    let store = Store::open(&dir.path().join("outbox.sqlite3")).expect("opens again");
    assert!(store.integrity_ok().expect("checked"), "the file is whole");
    let present: std::collections::HashSet<i64> = store
        .changes()
        .expect("changes")
        .into_iter()
        .map(|row| row.seq)
        .collect();
    assert_eq!(kept.len(), 200);
    for seq in kept {
        assert!(present.contains(&seq), "change {seq} was said to be kept");
    }
}
