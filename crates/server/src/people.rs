//! The directory of people in the database: agents, each as the viewer may see them,
//! and users (customers), in one listing by name.
//!
//! A search matches only what the viewer sees: an agent whose emails or phone are
//! hidden from the viewer cannot be found by them either, so a search never tells what
//! a profile hides.

use std::collections::HashMap;

use agent_desk_core::people::{Colleague, PeoplePage, Person, Viewer};
use agent_desk_core::EmailAddress;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;

use crate::agents::{AgentRow, PROFILE_COLUMNS};
use crate::customers::digits;
use crate::db::Db;

pub const PAGE_DEFAULT: usize = 50;
pub const PAGE_MAX: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    #[error("no such person")]
    NotFound,
    #[error("the cursor is not one this server gave out")]
    InvalidCursor,
    #[error(transparent)]
    Customer(#[from] crate::customers::CustomerError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The order of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    NameAscending,
    NameDescending,
}

#[derive(Debug, Clone, Default)]
pub struct PeopleQuery {
    pub agents: bool,
    pub users: bool,
    /// Only members of this team (agents).
    pub team: Option<String>,
    /// Only people of this organization (users).
    pub organization: Option<String>,
    /// Words that must each appear in the name, an email or a phone number.
    pub q: Option<String>,
    pub sort: Sort,
    pub cursor: Option<String>,
    pub limit: usize,
}

/// Who is looking, as stored.
pub struct ViewerRow {
    pub id: String,
    pub is_admin: bool,
    pub department: Option<String>,
}

impl ViewerRow {
    pub async fn load(db: &Db, agent_id: &str) -> Result<Self, PeopleError> {
        let (is_admin, department) = crate::storage::query_as::<(bool, Option<String>)>(
            "SELECT is_admin, department FROM agents WHERE id = $1",
        )
        .bind(agent_id)
        .fetch_optional(db)
        .await?
        .ok_or(PeopleError::NotFound)?;
        Ok(Self {
            id: agent_id.to_owned(),
            is_admin,
            department,
        })
    }

    pub fn viewer(&self) -> Viewer<'_> {
        Viewer {
            id: &self.id,
            is_admin: self.is_admin,
            department: self.department.as_deref(),
        }
    }
}

/// One person by id.
pub async fn find(db: &Db, viewer: &ViewerRow, id: &str) -> Result<Person, PeopleError> {
    let rows = crate::storage::query_as::<AgentRow>(&format!(
        "SELECT {PROFILE_COLUMNS} FROM agents WHERE id = $1"
    ))
    .bind(id)
    .fetch_all(db)
    .await?;
    if let Some(colleague) = colleagues(db, viewer, rows).await?.pop() {
        return Ok(Person::Agent(colleague));
    }
    match crate::customers::find(db, id).await {
        Ok(customer) => Ok(Person::User(customer)),
        Err(crate::customers::CustomerError::NotFound) => Err(PeopleError::NotFound),
        Err(other) => Err(other.into()),
    }
}

/// A page of the people matching `query`, agents and users together in name order.
pub async fn list(
    db: &Db,
    viewer: &ViewerRow,
    query: &PeopleQuery,
) -> Result<PeoplePage, PeopleError> {
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let limit = query.limit.clamp(1, PAGE_MAX);
    let descending = query.sort == Sort::NameDescending;
    let mut found: Vec<(String, String, Person)> = Vec::new();
    if query.agents && query.organization.is_none() {
        for (key, colleague) in agents_after(db, viewer, query, after.as_ref()).await? {
            found.push((key, colleague.id.clone(), Person::Agent(colleague)));
        }
    }
    if query.users && query.team.is_none() {
        let users = crate::customers::search(
            db,
            query.q.as_deref(),
            query.organization.as_deref(),
            descending,
            after.as_ref(),
            limit + 1,
        )
        .await?;
        for (key, customer) in users {
            found.push((key, customer.id.clone(), Person::User(customer)));
        }
    }
    found.sort_by(|(a_key, a_id, _), (b_key, b_id, _)| (a_key, a_id).cmp(&(b_key, b_id)));
    if descending {
        found.reverse();
    }
    let more = found.len() > limit;
    found.truncate(limit);
    let next_cursor = more
        .then(|| found.last().map(|(key, id, _)| encode_cursor(key, id)))
        .flatten();
    Ok(PeoplePage {
        people: found.into_iter().map(|(_, _, person)| person).collect(),
        next_cursor,
    })
}

/// The agents matching `query` after the cursor, in its order, each with its sort key.
async fn agents_after(
    db: &Db,
    viewer: &ViewerRow,
    query: &PeopleQuery,
    after: Option<&(String, String)>,
) -> Result<Vec<(String, Colleague)>, PeopleError> {
    let rows = match &query.team {
        Some(team) => {
            crate::storage::query_as::<AgentRow>(&format!(
                "SELECT {PROFILE_COLUMNS} FROM agents
                 WHERE id IN (SELECT agent_id FROM team_members WHERE team_id = $1)"
            ))
            .bind(team)
            .fetch_all(db)
            .await?
        }
        None => {
            crate::storage::query_as::<AgentRow>(&format!("SELECT {PROFILE_COLUMNS} FROM agents"))
                .fetch_all(db)
                .await?
        }
    };
    let words = query.q.as_deref().map(search_words).unwrap_or_default();
    let descending = query.sort == Sort::NameDescending;
    // Filtering by a team says who is in it: only those whose teams the viewer may see.
    let by_team = query.team.is_some();
    Ok(colleagues(db, viewer, rows)
        .await?
        .into_iter()
        .filter(|colleague| !by_team || colleague.teams.is_some())
        .filter(|colleague| words.iter().all(|word| matches(colleague, word)))
        .map(|colleague| (sort_key(&colleague), colleague))
        .filter(|(key, colleague)| match after {
            None => true,
            Some((after_key, after_id)) if descending => {
                (key, &colleague.id) < (after_key, after_id)
            }
            Some((after_key, after_id)) => (key, &colleague.id) > (after_key, after_id),
        })
        .collect())
}

/// The agents of `rows` as the viewer sees them, with their emails and teams.
async fn colleagues(
    db: &Db,
    viewer: &ViewerRow,
    rows: Vec<AgentRow>,
) -> Result<Vec<Colleague>, PeopleError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // One person's rows, or everyone's when there are several (cheaper than binding a
    // list): `$1` is NULL for everyone.
    let single = (rows.len() == 1).then(|| rows[0].id.clone());
    let mut emails: HashMap<String, Vec<EmailAddress>> = HashMap::new();
    let email_rows = crate::storage::query_as::<(String, String, bool)>(
        "SELECT agent_id, address, is_primary FROM agent_emails
         WHERE $1 IS NULL OR agent_id = $1 ORDER BY is_primary DESC, address",
    )
    .bind(&single)
    .fetch_all(db)
    .await?;
    for (agent_id, address, primary) in email_rows {
        emails
            .entry(agent_id)
            .or_default()
            .push(EmailAddress { address, primary });
    }
    let mut teams: HashMap<String, Vec<String>> = HashMap::new();
    let team_rows = crate::storage::query_as::<(String, String)>(
        "SELECT m.agent_id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id
         WHERE $1 IS NULL OR m.agent_id = $1 ORDER BY t.name",
    )
    .bind(&single)
    .fetch_all(db)
    .await?;
    for (agent_id, team) in team_rows {
        teams.entry(agent_id).or_default().push(team);
    }
    let now = Utc::now();
    let viewer = viewer.viewer();
    Ok(rows
        .into_iter()
        .map(|row| {
            let agent_emails = emails.remove(&row.id).unwrap_or_default();
            let agent_teams = teams.remove(&row.id).unwrap_or_default();
            let active = row.is_active();
            let (profile, _) = row.into_profile(agent_emails, now);
            Colleague {
                deactivated: !active,
                ..Colleague::seen_by(&viewer, &profile, agent_teams)
            }
        })
        .collect())
}

fn search_words(q: &str) -> Vec<String> {
    q.split_whitespace().map(str::to_lowercase).collect()
}

/// Whether one search word is in what the viewer sees of a colleague: the name, an
/// email, or (three digits or more) a phone number whatever its formatting.
fn matches(colleague: &Colleague, word: &str) -> bool {
    if colleague.display_name.to_lowercase().contains(word) {
        return true;
    }
    let in_emails = colleague
        .emails
        .iter()
        .flatten()
        .any(|email| email.address.to_lowercase().contains(word));
    if in_emails {
        return true;
    }
    let wanted = digits(word);
    wanted.len() >= 3
        && wanted.len() * 2 >= word.chars().filter(|c| !c.is_whitespace()).count()
        && [&colleague.phone, &colleague.mobile]
            .into_iter()
            .filter_map(|phone| phone.as_ref().and_then(Option::as_deref))
            .any(|phone| digits(phone).contains(&wanted))
}

fn sort_key(colleague: &Colleague) -> String {
    colleague.display_name.to_lowercase()
}

/// A listing's position: the sort key and id of the last one shown.
pub(crate) fn encode_cursor(key: &str, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{key}\u{0}{id}"))
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<(String, String), PeopleError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| PeopleError::InvalidCursor)?;
    let text = String::from_utf8(bytes).map_err(|_| PeopleError::InvalidCursor)?;
    let (key, id) = text.split_once('\u{0}').ok_or(PeopleError::InvalidCursor)?;
    Ok((key.to_owned(), id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_others_are_refused() {
        let cursor = encode_cursor("dana demo", "agent-1");
        assert_eq!(
            decode_cursor(&cursor).expect("ours"),
            ("dana demo".to_owned(), "agent-1".to_owned())
        );
        assert!(matches!(
            decode_cursor("not base64!"),
            Err(PeopleError::InvalidCursor)
        ));
        assert!(matches!(
            decode_cursor(&URL_SAFE_NO_PAD.encode("no separator")),
            Err(PeopleError::InvalidCursor)
        ));
    }
}
