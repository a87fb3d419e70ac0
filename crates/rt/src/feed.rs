//! What RT's changes mean for agents, decided without RT: a pure function of a
//! transaction, the ticket it is on, and who the connector itself signs in as.

use crate::{Ticket, Transaction, UserRef};

/// RT's user for "no owner".
pub const NOBODY: &str = "Nobody";
/// RT's own user, which makes automatic changes (a new ticket opened by a reply).
pub const RT_SYSTEM: &str = "RT_System";

/// The fields whose change is news to the people on a ticket.
const NEWS_FIELDS: &[&str] = &["Status", "Priority", "Due", "Subject", "Queue"];

/// A change worth telling agents about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The ticket was given to `owner`: created with them as owner, or its owner changed.
    Assigned { owner: UserRef },
    /// A requestor wrote on the ticket; its owner hears of it.
    RequestorReplied { requestor: UserRef, owner: UserRef },
    /// Anything else someone did: the owner and the watchers hear of it, except the one
    /// who did it.
    Updated { what: Update, to: Vec<UserRef> },
    /// A new ticket in a queue, for the team that works the queue.
    Created { queue: String },
    /// The connector gave the ticket back to its queue (its owner was away): the queue's
    /// team hears of it. Read from the feed like any change, so it is told exactly once.
    Released { queue: String },
}

/// What an update was, for its title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    Replied {
        by: UserRef,
    },
    Commented {
        by: UserRef,
    },
    /// A field set: `Status`, `Priority`, `Due`, `Subject`, `Queue`…
    Set {
        field: String,
        value: String,
    },
    /// Someone added or removed as Cc, AdminCc or requestor.
    Watchers,
}

/// What one transaction means. `new_owner` is the owner the transaction gave the
/// ticket: for an owner change, the user it names (RT gives the id); for a creation
/// followed by an owner change in the same read, the owner it was created with (the
/// change's old value); `None` reads the ticket's current owner. `connector` is the RT
/// user the connector signs in as: its own changes are not news.
pub fn changes(
    transaction: &Transaction,
    ticket: &Ticket,
    new_owner: Option<&UserRef>,
    connector: &str,
) -> Vec<Change> {
    let by = &transaction.creator;
    let to_nobody = new_owner.is_some_and(|owner| owner.name == NOBODY);
    if by.name == connector
        && transaction.kind == "Set"
        && transaction.field == "Owner"
        && to_nobody
    {
        return vec![Change::Released {
            queue: ticket.queue.clone(),
        }];
    }
    if by.name == connector || by.name == RT_SYSTEM {
        return Vec::new();
    }
    let owned = |owner: &UserRef| owner.name != NOBODY && !owner.email.is_empty();
    match (transaction.kind.as_str(), transaction.field.as_str()) {
        ("Create", _) => {
            let mut changes = vec![Change::Created {
                queue: ticket.queue.clone(),
            }];
            let owner = new_owner.unwrap_or(&ticket.owner);
            if owned(owner) && owner.name != by.name {
                changes.push(Change::Assigned {
                    owner: owner.clone(),
                });
            }
            changes
        }
        ("Set", "Owner") => match new_owner {
            Some(owner) if owned(owner) && owner.name != by.name => vec![Change::Assigned {
                owner: owner.clone(),
            }],
            _ => Vec::new(),
        },
        // RT's second record of an owner change.
        ("SetWatcher", "Owner") => Vec::new(),
        ("Correspond", _) if is_requestor(by, ticket) => {
            if owned(&ticket.owner) {
                vec![Change::RequestorReplied {
                    requestor: by.clone(),
                    owner: ticket.owner.clone(),
                }]
            } else {
                Vec::new()
            }
        }
        (kind, field) => {
            let what = match kind {
                "Correspond" => Update::Replied { by: by.clone() },
                "Comment" => Update::Commented { by: by.clone() },
                "AddWatcher" | "DelWatcher" => Update::Watchers,
                "Status" | "Set" if NEWS_FIELDS.contains(&field) => Update::Set {
                    field: field.to_owned(),
                    value: transaction.new_value.clone(),
                },
                // Links, custom fields, time worked, attachments: not news.
                _ => return Vec::new(),
            };
            let to = watchers(ticket, by);
            if to.is_empty() {
                Vec::new()
            } else {
                vec![Change::Updated { what, to }]
            }
        }
    }
}

/// Whether RT's user is one of the ticket's requestors, by email.
fn is_requestor(user: &UserRef, ticket: &Ticket) -> bool {
    !user.email.is_empty()
        && ticket
            .requestors
            .iter()
            .any(|requestor| requestor.email == user.email)
}

/// The owner and the Cc and AdminCc watchers with an email, once each, without `by`.
fn watchers(ticket: &Ticket, by: &UserRef) -> Vec<UserRef> {
    let mut to: Vec<UserRef> = Vec::new();
    let owner = (ticket.owner.name != NOBODY).then_some(&ticket.owner);
    for user in owner.into_iter().chain(&ticket.cc).chain(&ticket.admin_cc) {
        let seen = to.iter().any(|other| other.email == user.email);
        if !user.email.is_empty() && user.email != by.email && !seen {
            to.push(user.clone());
        }
    }
    to
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn user(name: &str, email: &str) -> UserRef {
        UserRef {
            id: 0,
            name: name.into(),
            email: email.into(),
            real_name: String::new(),
            organization: String::new(),
        }
    }

    fn dana() -> UserRef {
        user("dana", "dana@agentdesk.example")
    }

    fn mia() -> UserRef {
        user("mia@example.com", "mia@example.com")
    }

    fn ticket(owner: UserRef) -> Ticket {
        Ticket {
            id: 7,
            subject: "VPN down".into(),
            status: "open".into(),
            priority: 50,
            due: None,
            queue: "General".into(),
            owner,
            requestors: vec![mia()],
            cc: vec![user("sam", "sam@agentdesk.example")],
            admin_cc: vec![dana()],
        }
    }

    fn transaction(kind: &str, field: &str, by: UserRef) -> Transaction {
        Transaction {
            id: 100,
            ticket_id: 7,
            kind: kind.into(),
            field: field.into(),
            old_value: String::new(),
            new_value: String::new(),
            creator: by,
            created: Utc::now(),
        }
    }

    #[test]
    fn a_ticket_created_for_an_agent_is_assigned_to_them_and_new_in_its_queue() {
        let root = user("root", "root@agentdesk.example");
        assert_eq!(
            changes(
                &transaction("Create", "", root.clone()),
                &ticket(dana()),
                None,
                "connector"
            ),
            vec![
                Change::Created {
                    queue: "General".into()
                },
                Change::Assigned { owner: dana() }
            ]
        );
        // Created without an owner: only new in its queue.
        let unowned = ticket(user(NOBODY, ""));
        assert_eq!(
            changes(
                &transaction("Create", "", mia()),
                &unowned,
                None,
                "connector"
            ),
            vec![Change::Created {
                queue: "General".into()
            }]
        );
        // Created for Dana and given to Sam before it was read: Dana is told of the
        // creation (Sam of the change).
        let sam = user("sam", "sam@agentdesk.example");
        assert_eq!(
            changes(
                &transaction("Create", "", root.clone()),
                &ticket(sam),
                Some(&dana()),
                "connector"
            ),
            vec![
                Change::Created {
                    queue: "General".into()
                },
                Change::Assigned { owner: dana() }
            ]
        );
        // An agent who takes their own ticket needs no alert of it.
        let taken = transaction("Set", "Owner", dana());
        assert!(changes(&taken, &ticket(dana()), Some(&dana()), "connector").is_empty());
    }

    #[test]
    fn an_owner_change_alerts_the_new_owner_once_and_giving_back_alerts_nobody() {
        let root = user("root", "root@agentdesk.example");
        let given = transaction("Set", "Owner", root.clone());
        assert_eq!(
            changes(&given, &ticket(dana()), Some(&dana()), "connector"),
            vec![Change::Assigned { owner: dana() }]
        );
        assert!(changes(
            &transaction("SetWatcher", "Owner", root.clone()),
            &ticket(dana()),
            Some(&dana()),
            "connector"
        )
        .is_empty());
        let nobody = user(NOBODY, "");
        assert!(changes(&given, &ticket(nobody.clone()), Some(&nobody), "connector").is_empty());
    }

    #[test]
    fn a_requestors_reply_goes_to_the_owner_and_an_agents_to_the_others() {
        assert_eq!(
            changes(
                &transaction("Correspond", "", mia()),
                &ticket(dana()),
                None,
                "connector"
            ),
            vec![Change::RequestorReplied {
                requestor: mia(),
                owner: dana()
            }]
        );
        let sam = user("sam", "sam@agentdesk.example");
        assert_eq!(
            changes(
                &transaction("Correspond", "", sam.clone()),
                &ticket(dana()),
                None,
                "connector"
            ),
            vec![Change::Updated {
                what: Update::Replied { by: sam.clone() },
                // Dana owns it and watches it as AdminCc: told once.
                to: vec![dana()]
            }]
        );
    }

    #[test]
    fn the_connectors_own_changes_and_rts_automatic_ones_are_not_news() {
        for by in [user("agent-desk", ""), user(RT_SYSTEM, "")] {
            let status = transaction("Status", "Status", by);
            assert!(changes(&status, &ticket(dana()), None, "agent-desk").is_empty());
        }
        // Except giving a ticket back, which its queue's team hears of.
        let nobody = user(NOBODY, "");
        let released = transaction("Set", "Owner", user("agent-desk", ""));
        assert_eq!(
            changes(
                &released,
                &ticket(nobody.clone()),
                Some(&nobody),
                "agent-desk"
            ),
            vec![Change::Released {
                queue: "General".into()
            }]
        );
        // Time worked and links are not news either.
        let worked = transaction("Set", "TimeWorked", mia());
        assert!(changes(&worked, &ticket(dana()), None, "connector").is_empty());
        let due = transaction("Set", "Due", mia());
        assert_eq!(changes(&due, &ticket(dana()), None, "connector").len(), 1);
        let linked = transaction("AddLink", "", dana());
        assert!(changes(&linked, &ticket(dana()), None, "connector").is_empty());
    }
}
