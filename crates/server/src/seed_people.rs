//! A large directory for measuring: many users in a few thousand organizations, with
//! notes spread over them and one user with exactly [`HEAVY_NOTES`] notes. Names,
//! addresses and numbers come from a fixed sequence, so every run makes the same data.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::clock::timestamp;
use crate::customers::{index_person, reindex, search_terms};
use crate::db::Db;

/// The notes of the one user a record-opening benchmark looks at.
pub const HEAVY_NOTES: u32 = 1000;
const ORGANIZATIONS: u32 = 2000;
/// Rows a transaction: big enough to be fast, small enough to keep the WAL modest.
const BATCH: u32 = 10_000;

const FIRST: &[&str] = &[
    "Ada",
    "Alan",
    "Barbara",
    "Charles",
    "Dana",
    "Edsger",
    "Emile",
    "Frances",
    "Grace",
    "Hedy",
    "Ivan",
    "Joan",
    "Ken",
    "Linus",
    "Margaret",
    "Niklaus",
    "Olga",
    "Peter",
    "Radia",
    "Sophie",
    "Tim",
    "Ursula",
    "Vint",
    "Whitfield",
    "Xiao",
    "Yukihiro",
    "Zoe",
    "Anita",
    "Bjarne",
    "Carol",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Turing",
    "Liskov",
    "Babbage",
    "Demo",
    "Dijkstra",
    "Zola",
    "Allen",
    "Hopper",
    "Lamarr",
    "Sutherland",
    "Clarke",
    "Thompson",
    "Torvalds",
    "Hamilton",
    "Wirth",
    "Ladyzhenskaya",
    "Naur",
    "Perlman",
    "Wilson",
    "Berners-Lee",
    "Franklin",
    "Cerf",
    "Diffie",
    "Wang",
    "Matsumoto",
    "Rivest",
    "Borg",
    "Stroustrup",
    "Shaw",
];
const ORG_WORDS: &[&str] = &[
    "Analytical",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Acme",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Aperture",
];
const ORG_KINDS: &[&str] = &[
    "Engines",
    "Traders",
    "Logistics",
    "Health",
    "Bank",
    "Studios",
    "Foods",
    "Energy",
];

/// What was made, for a benchmark to look things up by.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub people: u32,
    pub notes: u32,
    /// The user with [`HEAVY_NOTES`] notes.
    pub heavy_person_id: String,
}

/// A fixed pseudo-random sequence (xorshift): the same data every run.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: u32) -> u32 {
        u32::try_from(self.next() % u64::from(bound.max(1))).unwrap_or(0)
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        let index = self.below(u32::try_from(words.len()).unwrap_or(u32::MAX));
        words[index as usize]
    }
}

/// Adds `people` users and `notes` notes (at least [`HEAVY_NOTES`], on the first user).
pub async fn seed(db: &Db, people: u32, notes: u32, now: DateTime<Utc>) -> anyhow::Result<Seeded> {
    anyhow::ensure!(people >= 1, "at least one person");
    let mut sequence = Sequence(0x9E37_79B9_7F4A_7C15);
    let created = timestamp(now);
    let author =
        crate::storage::query_scalar::<String>("SELECT id FROM agents ORDER BY created_at LIMIT 1")
            .fetch_optional(db)
            .await?;

    let mut tx = crate::db::begin_write(db).await?;
    let mut organizations = Vec::with_capacity(ORGANIZATIONS as usize);
    for index in 0..ORGANIZATIONS {
        let name = format!(
            "{} {} {index}",
            sequence.pick(ORG_WORDS),
            sequence.pick(ORG_KINDS)
        );
        let id = Uuid::new_v4().to_string();
        crate::storage::query(
            "INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)",
        )
        .bind(&id)
        .bind(&name)
        .bind(&created)
        .execute(&mut *tx)
        .await?;
        organizations.push((id, name));
    }
    tx.commit().await?;

    let mut ids = Vec::with_capacity(people as usize);
    for start in (0..people).step_by(BATCH as usize) {
        let mut tx = crate::db::begin_write(db).await?;
        for index in start..(start + BATCH).min(people) {
            let name = format!("{} {}", sequence.pick(FIRST), sequence.pick(LAST));
            let (organization_id, organization) =
                &organizations[sequence.below(ORGANIZATIONS) as usize];
            let email = format!(
                "{}.{index}@{}.example",
                name.to_lowercase().replace([' ', '-'], "."),
                organization
                    .split(' ')
                    .next()
                    .unwrap_or("org")
                    .to_lowercase()
            );
            let phone = format!("+1212555{:04}", sequence.below(10_000));
            let id = Uuid::new_v4().to_string();
            let number = crate::customers::next_number(&mut tx).await?;
            let search_id = crate::storage::query_scalar::<i64>(
                "INSERT INTO people (id, name, sort_name, organization_id, phone, created_at, updated_at,
                                     number)
                 VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING search_id",
            )
            .bind(&id)
            .bind(&name)
            .bind(name.to_lowercase())
            .bind(organization_id)
            .bind(&phone)
            .bind(&created)
            .bind(number)
            .fetch_one(&mut *tx)
            .await?;
            crate::storage::query(
                "INSERT INTO person_emails (address, person_id, is_primary) VALUES ($1, $2, TRUE)",
            )
            .bind(&email)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            index_person(
                &mut tx,
                search_id,
                search_terms(&name, &[email], Some(organization), Some(&phone)),
            )
            .await?;
            ids.push(id);
        }
        tx.commit().await?;
    }

    let notes = notes.max(HEAVY_NOTES);
    let heavy = ids[0].clone();
    for start in (0..notes).step_by(BATCH as usize) {
        let mut tx = crate::db::begin_write(db).await?;
        for index in start..(start + BATCH).min(notes) {
            // The rest go to anyone but the heavy one, so it has exactly its number.
            let person = if index < HEAVY_NOTES || people == 1 {
                &heavy
            } else {
                &ids[1 + sequence.below(people - 1) as usize]
            };
            let at = timestamp(now - Duration::minutes(i64::from(notes - index)));
            crate::storage::query(
                "INSERT INTO person_notes (id, person_id, author_id, body, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(Uuid::new_v4().to_string())
            .bind(person)
            .bind(&author)
            .bind(format!(
                "Call {index}: asked about invoice {} and the delivery date; replied by email.",
                sequence.below(100_000)
            ))
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    }
    // Keep the index in the shape a write through the API leaves it.
    let mut tx = crate::db::begin_write(db).await?;
    reindex(&mut tx, &heavy).await?;
    tx.commit().await?;
    crate::storage::query(db.dialect().optimize())
        .execute(db)
        .await?;
    Ok(Seeded {
        people,
        notes,
        heavy_person_id: heavy,
    })
}
