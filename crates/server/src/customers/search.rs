//! Finding customers: the terms each is found by, the search index's upkeep and the
//! search itself.

use agent_desk_core::customers::Customer;

use super::{related, CustomerError, PersonRow, PERSON_SELECT};
use crate::db::Db;

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
    crate::storage::query("INSERT INTO people_search (rowid, terms) VALUES ($1, $2)")
        .bind(search_id)
        .bind(terms)
        .execute(&mut *tx)
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
    let order = if descending { "DESC" } else { "ASC" };
    let beyond = if descending { "<" } else { ">" };
    let dialect = db.dialect();
    let match_expression = q
        .and_then(search_words)
        .map(|words| dialect.text_search(&words));
    let mut sql = format!("{PERSON_SELECT} WHERE 1 = 1");
    if match_expression.is_some() {
        sql.push_str(&format!(
            " AND p.search_id IN ({})",
            dialect.people_matching("$1")
        ));
    }
    if organization_id.is_some() {
        sql.push_str(" AND p.organization_id = $2");
    }
    if after.is_some() {
        sql.push_str(&format!(" AND (p.sort_name, p.id) {beyond} ($3, $4)"));
    }
    sql.push_str(&format!(
        " ORDER BY p.sort_name {order}, p.id {order} LIMIT $5"
    ));
    let (after_key, after_id) = after.cloned().unwrap_or_default();
    let mut conn = db.acquire().await?;
    let rows = crate::storage::query_as::<PersonRow>(&sql)
        .bind(match_expression.unwrap_or_default())
        .bind(organization_id.unwrap_or_default())
        .bind(&after_key)
        .bind(&after_id)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut *conn)
        .await?;
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
    fn searches_are_prefixes_of_every_word_with_syntax_kept_out() {
        use crate::storage::Dialect;
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
