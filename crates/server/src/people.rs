//! The directory of people in the database: agents, each as the viewer may see them.
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
    /// Only members of this team.
    pub team: Option<String>,
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
        let (is_admin, department) = sqlx::query_as::<_, (bool, Option<String>)>(
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

    fn viewer(&self) -> Viewer<'_> {
        Viewer {
            id: &self.id,
            is_admin: self.is_admin,
            department: self.department.as_deref(),
        }
    }
}

/// One person by id.
pub async fn find(db: &Db, viewer: &ViewerRow, id: &str) -> Result<Person, PeopleError> {
    let rows = sqlx::query_as::<_, AgentRow>(&format!(
        "SELECT {PROFILE_COLUMNS} FROM agents WHERE id = $1"
    ))
    .bind(id)
    .fetch_all(db)
    .await?;
    colleagues(db, viewer, rows)
        .await?
        .pop()
        .map(Person::Agent)
        .ok_or(PeopleError::NotFound)
}

/// A page of agents matching `query`, in its order.
pub async fn list(
    db: &Db,
    viewer: &ViewerRow,
    query: &PeopleQuery,
) -> Result<PeoplePage, PeopleError> {
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let rows = match &query.team {
        Some(team) => {
            sqlx::query_as::<_, AgentRow>(&format!(
                "SELECT {PROFILE_COLUMNS} FROM agents
                 WHERE id IN (SELECT agent_id FROM team_members WHERE team_id = $1)"
            ))
            .bind(team)
            .fetch_all(db)
            .await?
        }
        None => {
            sqlx::query_as::<_, AgentRow>(&format!("SELECT {PROFILE_COLUMNS} FROM agents"))
                .fetch_all(db)
                .await?
        }
    };
    let words = query.q.as_deref().map(search_words).unwrap_or_default();
    let mut found: Vec<(String, Colleague)> = colleagues(db, viewer, rows)
        .await?
        .into_iter()
        .filter(|colleague| words.iter().all(|word| matches(colleague, word)))
        .map(|colleague| (sort_key(&colleague), colleague))
        .collect();
    found.sort_by(|(a_key, a), (b_key, b)| (a_key, &a.id).cmp(&(b_key, &b.id)));
    if query.sort == Sort::NameDescending {
        found.reverse();
    }
    let start = match &after {
        None => 0,
        Some((key, id)) => found
            .iter()
            .position(|(other_key, other)| match query.sort {
                Sort::NameAscending => (other_key, &other.id) > (key, id),
                Sort::NameDescending => (other_key, &other.id) < (key, id),
            })
            .unwrap_or(found.len()),
    };
    let limit = query.limit.clamp(1, PAGE_MAX);
    let page: Vec<(String, Colleague)> = found.into_iter().skip(start).take(limit + 1).collect();
    let more = page.len() > limit;
    let page: Vec<(String, Colleague)> = page.into_iter().take(limit).collect();
    let next_cursor = more
        .then(|| page.last().map(|(key, last)| encode_cursor(key, &last.id)))
        .flatten();
    Ok(PeoplePage {
        people: page
            .into_iter()
            .map(|(_, colleague)| Person::Agent(colleague))
            .collect(),
        next_cursor,
    })
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
    let single = (rows.len() == 1).then(|| rows[0].id.clone());
    let mut emails: HashMap<String, Vec<EmailAddress>> = HashMap::new();
    let email_rows = match &single {
        Some(id) => sqlx::query_as::<_, (String, String, bool)>(
            "SELECT agent_id, address, is_primary FROM agent_emails WHERE agent_id = $1
             ORDER BY is_primary DESC, address",
        )
        .bind(id)
        .fetch_all(db)
        .await?,
        None => sqlx::query_as::<_, (String, String, bool)>(
            "SELECT agent_id, address, is_primary FROM agent_emails ORDER BY is_primary DESC, address",
        )
        .fetch_all(db)
        .await?,
    };
    for (agent_id, address, primary) in email_rows {
        emails
            .entry(agent_id)
            .or_default()
            .push(EmailAddress { address, primary });
    }
    let mut teams: HashMap<String, Vec<String>> = HashMap::new();
    let team_rows = match &single {
        Some(id) => {
            sqlx::query_as::<_, (String, String)>(
                "SELECT m.agent_id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id
             WHERE m.agent_id = $1 ORDER BY t.name",
            )
            .bind(id)
            .fetch_all(db)
            .await?
        }
        None => {
            sqlx::query_as::<_, (String, String)>(
                "SELECT m.agent_id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id
             ORDER BY t.name",
            )
            .fetch_all(db)
            .await?
        }
    };
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
            let (profile, _) = row.into_profile(agent_emails, now);
            Colleague::seen_by(&viewer, &profile, agent_teams)
        })
        .collect())
}

fn search_words(q: &str) -> Vec<String> {
    q.split_whitespace().map(str::to_lowercase).collect()
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
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

fn encode_cursor(key: &str, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{key}\u{0}{id}"))
}

fn decode_cursor(cursor: &str) -> Result<(String, String), PeopleError> {
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
