//! Finding customers: the terms each is found by, the search index's upkeep and the
//! search itself.

use agent_desk_core::customers::Customer;

use super::{related, CustomerError, PersonRow, PERSON_SELECT};
use crate::db::Db;
use crate::storage::Dialect;

/// The shortest ending of a phone number a search finds it by.
const PHONE_SUFFIX_MIN: usize = 7;

/// Digits of a phone number, so a search for "7183 8750" finds "+442071838750".
pub(crate) fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// Rewrites a person's row of the search index from what is stored now.
pub(crate) async fn reindex(
    tx: &mut crate::storage::Conn,
    person_id: &str,
) -> Result<(), sqlx::Error> {
    let row = crate::storage::query_as::<(i64, String, Option<String>, Option<String>)>(
        "SELECT p.search_id, p.name, o.name, p.phone FROM people p
         LEFT JOIN organizations o ON o.id = p.organization_id WHERE p.id = $1",
    )
    .bind(person_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((search_id, name, organization, phone)) = row else {
        return Ok(());
    };
    let emails = crate::storage::query_scalar::<String>(
        "SELECT address FROM person_emails WHERE person_id = $1",
    )
    .bind(person_id)
    .fetch_all(&mut *tx)
    .await?;
    let terms = search_terms(&name, &emails, organization.as_deref(), phone.as_deref());
    crate::storage::query("DELETE FROM people_search WHERE rowid = $1")
        .bind(search_id)
        .execute(&mut *tx)
        .await?;
    index_person(tx, search_id, terms).await
}

/// Adds the person whose `search_id` this is to the search index, found by `terms`.
/// PostgreSQL's index row also carries the person's sort key, id and organization, read
/// from the person's row, so a page of results is chosen within the index (see
/// [`search`]); SQLite's FTS5 index holds the terms alone.
pub(crate) async fn index_person(
    tx: &mut crate::storage::Conn,
    search_id: i64,
    terms: String,
) -> Result<(), sqlx::Error> {
    let insert = match tx.dialect() {
        Dialect::Sqlite => "INSERT INTO people_search (rowid, terms) VALUES ($1, $2)",
        Dialect::Postgres => {
            "INSERT INTO people_search (rowid, terms, person_id, sort_name, organization_id)
             SELECT search_id, $2, id, sort_name, organization_id FROM people
             WHERE search_id = $1"
        }
    };
    crate::storage::query(insert)
        .bind(search_id)
        .bind(terms)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The text a person is found by. Emails go in whole and split at `@` and `.`, so both
/// "ada@example.com" and "example" find them.
pub fn search_terms(
    name: &str,
    emails: &[String],
    organization: Option<&str>,
    phone: Option<&str>,
) -> String {
    let mut terms = vec![name.to_owned()];
    for email in emails {
        terms.push(email.replace(['@', '.', '+', '-', '_'], " "));
    }
    terms.extend(organization.map(str::to_owned));
    if let Some(phone) = phone {
        // The whole number and its endings, so a search by the local part finds it too.
        let number = digits(phone);
        terms.push(number.clone());
        for start in 1..number.len().saturating_sub(PHONE_SUFFIX_MIN - 1) {
            terms.push(number[start..].to_owned());
        }
    }
    terms.join(" ")
}

/// Users matching every word of `q` (as prefixes) in name order after `after` (the
/// sort key and id of the last one shown), at most `limit`, each with its sort key.
pub async fn search(
    db: &Db,
    q: Option<&str>,
    organization_id: Option<&str>,
    descending: bool,
    after: Option<&(String, String)>,
    limit: usize,
) -> Result<Vec<(String, Customer)>, CustomerError> {
    let dialect = db.dialect();
    let page = Page {
        descending,
        by_organization: organization_id.is_some(),
        after: after.is_some(),
    };
    let number = q.and_then(record_number);
    let (after_key, after_id) = after.cloned().unwrap_or_default();
    let mut conn = db.acquire().await?;
    // `#1042` is that record's number and nothing else; `1042` is also found in the text
    // (a phone number, say), with the record of that number among the matches.
    let numbered = match number {
        Some(number) => {
            let sql = format!(
                "{PERSON_SELECT} WHERE p.number = $1{}",
                page.clauses("p.sort_name", "p.id", "p.organization_id")
            );
            crate::storage::query_as::<PersonRow>(&sql)
                .bind(number.value)
                .bind(organization_id.unwrap_or_default())
                .bind(&after_key)
                .bind(&after_id)
                .bind(1_i64)
                .fetch_optional(&mut *conn)
                .await?
        }
        None => None,
    };
    // `#1042` asks for nothing else.
    let mut rows = if number.is_some_and(|number| number.marked) {
        Vec::new()
    } else {
        let words = q.and_then(search_words);
        let sql = match (&words, dialect) {
            (None, _) => format!(
                "{PERSON_SELECT} WHERE 1 = 1{}",
                page.clauses("p.sort_name", "p.id", "p.organization_id")
            ),
            // FTS5 lists the matches from its own prefix indexes, and SQLite joins them to
            // the people in name order.
            (Some(_), Dialect::Sqlite) => format!(
                "{PERSON_SELECT} WHERE p.search_id IN \
                 (SELECT rowid FROM people_search WHERE people_search MATCH $1){}",
                page.clauses("p.sort_name", "p.id", "p.organization_id")
            ),
            // The page is chosen among the matching index rows, which carry the sort key,
            // and only its people are read: whatever the planner estimates, it never walks
            // `people` in name order hoping to meet matches soon (hundreds of milliseconds
            // for a common first name that sorts late).
            (Some(_), Dialect::Postgres) => format!(
                "{PERSON_SELECT} JOIN (SELECT s.person_id FROM people_search s \
                 WHERE s.words @@ to_tsquery('people_search', $1){}) hit ON hit.person_id = p.id \
                 ORDER BY p.sort_name {order}, p.id {order}",
                page.clauses("s.sort_name", "s.person_id", "s.organization_id"),
                order = page.order(),
            ),
        };
        crate::storage::query_as::<PersonRow>(&sql)
            .bind(
                words
                    .map(|words| dialect.text_search(&words))
                    .unwrap_or_default(),
            )
            .bind(organization_id.unwrap_or_default())
            .bind(&after_key)
            .bind(&after_id)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&mut *conn)
            .await?
    };
    if let Some(numbered) = numbered {
        if !rows.iter().any(|row| row.id == numbered.id) {
            rows.push(numbered);
            let key = |row: &PersonRow| (row.name.to_lowercase(), row.id.clone());
            rows.sort_by_key(key);
            if descending {
                rows.reverse();
            }
            rows.truncate(limit);
        }
    }
    let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
    let mut related = related(&mut conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let key = row.name.to_lowercase();
            let related = related.remove(&row.id).unwrap_or_default();
            (key, row.into_customer(related))
        })
        .collect())
}

/// What chooses a page of people, beyond matching the search.
struct Page {
    descending: bool,
    by_organization: bool,
    after: bool,
}

impl Page {
    fn order(&self) -> &'static str {
        if self.descending {
            "DESC"
        } else {
            "ASC"
        }
    }

    /// The conditions, order and limit of the page over the columns holding a person's
    /// sort key, id and organization, with the organization bound at `$2`, the last
    /// sort key and id shown at `$3` and `$4`, and the size at `$5`.
    fn clauses(&self, sort_name: &str, id: &str, organization: &str) -> String {
        let mut clauses = String::new();
        if self.by_organization {
            clauses.push_str(&format!(" AND {organization} = $2"));
        }
        if self.after {
            let beyond = if self.descending { "<" } else { ">" };
            clauses.push_str(&format!(" AND ({sort_name}, {id}) {beyond} ($3, $4)"));
        }
        let order = self.order();
        clauses.push_str(&format!(
            " ORDER BY {sort_name} {order}, {id} {order} LIMIT $5"
        ));
        clauses
    }
}

/// A search for a record's number: `#1042` (`marked`: only that record) or `1042`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordNumber {
    pub value: i64,
    pub marked: bool,
}

pub fn record_number(q: &str) -> Option<RecordNumber> {
    let q = q.trim();
    let (digits, marked) = match q.strip_prefix('#') {
        Some(rest) => (rest.trim_start(), true),
        None => (q, false),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits
        .parse()
        .ok()
        .filter(|value| *value > 0)
        .map(|value| RecordNumber { value, marked })
}

/// The words a search must find, each as a word's beginning, all required: `ada lov` →
/// `ada`, `lov`; a phone number however written is its digits, as one word. None when
/// nothing searchable is left. The database's syntax is the [`crate::storage::Dialect`]'s.
pub fn search_words(q: &str) -> Option<Vec<String>> {
    // Control characters (NUL among them) are nothing anyone searches for, and FTS5
    // refuses some of them even quoted.
    let q: String = q.chars().filter(|c| !c.is_control()).collect();
    let q = q.as_str();
    let phone_like = q
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()/.".contains(c));
    let number = digits(q);
    if phone_like && number.len() >= 3 {
        return Some(vec![number]);
    }
    let words: Vec<String> = q
        .split(|c: char| c.is_whitespace() || "@.+-_\"'()*:^&|!<>\\".contains(c))
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect();
    (!words.is_empty()).then_some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_number_is_digits_with_or_without_its_mark() {
        assert_eq!(
            record_number(" #1042 "),
            Some(RecordNumber {
                value: 1042,
                marked: true
            })
        );
        assert_eq!(
            record_number("1042"),
            Some(RecordNumber {
                value: 1042,
                marked: false
            })
        );
        assert_eq!(record_number("# 7").map(|n| n.value), Some(7));
        for not_one in [
            "#",
            "#0",
            "10 42",
            "#12a",
            "ada",
            "",
            "99999999999999999999",
        ] {
            assert_eq!(record_number(not_one), None, "{not_one:?}");
        }
    }

    #[test]
    fn searches_are_prefixes_of_every_word_with_syntax_kept_out() {
        let sqlite = |q: &str| search_words(q).map(|words| Dialect::Sqlite.text_search(&words));
        let postgres = |q: &str| search_words(q).map(|words| Dialect::Postgres.text_search(&words));
        assert_eq!(sqlite("Ada  Lov").as_deref(), Some("\"Ada\"* \"Lov\"*"));
        assert_eq!(postgres("Ada  Lov").as_deref(), Some("'Ada':* & 'Lov':*"));
        assert_eq!(
            sqlite("ada@example.com").as_deref(),
            Some("\"ada\"* \"example\"* \"com\"*")
        );
        assert_eq!(
            sqlite("NEAR(a b) OR \"x").as_deref(),
            Some("\"NEAR\"* \"a\"* \"b\"* \"OR\"* \"x\"*")
        );
        // tsquery's operators and quotes are split off or doubled, never read as syntax.
        assert_eq!(
            postgres("o'brien & !x | y").as_deref(),
            Some("'o':* & 'brien':* & 'x':* & 'y':*")
        );
        assert_eq!(
            Dialect::Postgres.text_search(&["it's".to_owned(), "a\\b".to_owned()]),
            "'it''s':* & 'a\\\\b':*"
        );
        assert_eq!(search_words("  @ . "), None);
        assert_eq!(sqlite("a\0da\u{7}").as_deref(), Some("\"ada\"*"));
        assert_eq!(search_words("\0"), None);
        assert_eq!(sqlite("+44 20 7183").as_deref(), Some("\"44207183\"*"));
        assert_eq!(postgres("7183 8750").as_deref(), Some("'71838750':*"));
    }

    #[test]
    fn terms_hold_emails_in_parts_and_phone_digits() {
        let terms = search_terms(
            "Ada Lovelace",
            &["ada.l@example.com".to_owned()],
            Some("Analytical Engines"),
            Some("+442071838750"),
        );
        assert_eq!(
            terms,
            "Ada Lovelace ada l example com Analytical Engines 442071838750 42071838750 \
             2071838750 071838750 71838750 1838750"
        );
    }
}
