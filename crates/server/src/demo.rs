//! The demo: its agents and their profiles, then its teams, customers and tickets.

use chrono::{DateTime, Utc};

use crate::agents::{create, AgentError, NewAgent};
use crate::db::Db;

/// The demo accounts `seed-demo` creates: (email, display name, password, admin).
pub const DEMO_ACCOUNTS: &[(&str, &str, &str, bool)] = &[
    (
        "demo@agentdesk.example",
        "Dana Demo",
        "Demo-agent-2026!",
        false,
    ),
    (
        "admin@agentdesk.example",
        "Alex Admin",
        "Demo-admin-2026!",
        true,
    ),
    (
        "sam@agentdesk.example",
        "Sam Senior",
        "Demo-colleague-2026!",
        false,
    ),
    (
        "robin@agentdesk.example",
        "Robin Rookie",
        "Demo-colleague-2026!",
        false,
    ),
];

/// What the demo agents' profiles say, by email: (column, value).
const DEMO_DETAILS: &[(&str, &[(&str, &str)])] = &[
    (
        "demo@agentdesk.example",
        &[
            ("job_title", "Support Specialist"),
            ("department", "Customer Care"),
            ("timezone", "Europe/Berlin"),
            ("office_location", "Berlin, Floor 3"),
        ],
    ),
    (
        "sam@agentdesk.example",
        &[
            ("job_title", "Team Lead"),
            ("department", "Customer Care"),
            ("timezone", "Europe/London"),
            ("office_location", "London"),
            ("phone", "+442071838750"),
            ("status", "available"),
        ],
    ),
    (
        "robin@agentdesk.example",
        &[
            ("job_title", "Billing Agent"),
            ("department", "Billing"),
            ("timezone", "America/New_York"),
            ("phone", "+12125550199"),
            ("visibility", "department"),
        ],
    ),
];

/// Creates the demo accounts that do not exist yet; returns the ones it created.
pub async fn seed_demo(
    db: &Db,
    now: DateTime<Utc>,
) -> Result<Vec<&'static (&'static str, &'static str, &'static str, bool)>, AgentError> {
    let mut created = Vec::new();
    for account in DEMO_ACCOUNTS {
        let (email, display_name, password, is_admin) = *account;
        match create(
            db,
            NewAgent {
                email,
                display_name,
                password,
                is_admin,
            },
            now,
        )
        .await
        {
            Ok(profile) => {
                let details = DEMO_DETAILS
                    .iter()
                    .filter(|(demo_email, _)| *demo_email == email)
                    .flat_map(|(_, details)| details.iter());
                for (column, value) in details {
                    // Column names come from the fixed list above, never from input.
                    crate::storage::query(format!("UPDATE agents SET {column} = $1 WHERE id = $2"))
                        .bind(value)
                        .bind(&profile.id)
                        .execute(db)
                        .await?;
                }
                created.push(account);
            }
            Err(AgentError::EmailTaken(_)) => {}
            Err(other) => return Err(other),
        }
    }
    crate::teams::seed_demo(db, now).await?;
    let demo_agent =
        crate::storage::query_scalar::<String>("SELECT id FROM agents WHERE email = $1")
            .bind(DEMO_ACCOUNTS[0].0)
            .fetch_one(db)
            .await?;
    crate::customers::seed_demo(db, &demo_agent, now).await?;
    crate::tickets::seed_demo(db, now).await?;
    Ok(created)
}

#[cfg(test)]
mod tests {
    use agent_desk_checks::check_password;

    use super::*;

    #[test]
    fn demo_passwords_meet_the_policy() {
        for (email, name, password, _) in DEMO_ACCOUNTS {
            let check = check_password(password, None, &[email, name]);
            assert!(check.is_acceptable(), "{email}: {check:?}");
        }
    }
}
