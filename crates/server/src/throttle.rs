//! Slows down password guessing: after a few quick failures for one key (an account or
//! an address), every further attempt waits twice as long as the one before, up to a cap.
//! Nothing is ever locked for good, so an attacker cannot lock an agent out; they can
//! only make the agent wait as long as they make themselves wait.
//!
//! Counts are kept in the database (`throttles`), so every instance serving it counts
//! the same attempts, and a restart forgets nothing. Each attempt's check and count are
//! one transaction, with the keys locked, so simultaneous attempts on several instances
//! cannot all pass before any is counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::clock::{parse_timestamp, timestamp};
use crate::storage::Db;

#[derive(Debug, Clone, Copy)]
pub struct ThrottleRule {
    /// Failures allowed before any delay.
    pub free_failures: u32,
    /// The first delay; each failure after it doubles the delay.
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// Failures older than this, with no block in force, are forgotten.
    pub forget_after: Duration,
}

impl ThrottleRule {
    /// Sign-ins and password checks for one account.
    pub const ACCOUNT: Self = Self {
        free_failures: 5,
        first_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(15 * 60),
        forget_after: Duration::from_secs(15 * 60),
    };
    /// Sign-ins from one address: looser, since a whole office may share one.
    pub const ADDRESS: Self = Self {
        free_failures: 20,
        ..Self::ACCOUNT
    };
}

/// Failures counted for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    failures: u32,
    last_failure: DateTime<Utc>,
    blocked_until: Option<DateTime<Utc>>,
}

impl Entry {
    /// How long it still has to wait at `now`, if at all.
    fn wait(&self, now: DateTime<Utc>) -> Option<Duration> {
        self.blocked_until
            .filter(|until| *until > now)
            .and_then(|until| (until - now).to_std().ok())
    }

    fn is_forgotten(&self, rule: ThrottleRule, now: DateTime<Utc>) -> bool {
        self.wait(now).is_none()
            && (now - self.last_failure).to_std().unwrap_or_default() > rule.forget_after
    }

    /// The entry with one more failure at `now`.
    fn with_failure(entry: Option<Self>, rule: ThrottleRule, now: DateTime<Utc>) -> Self {
        let failures = match entry {
            Some(entry) if !entry.is_forgotten(rule, now) => entry.failures,
            _ => 0,
        }
        .saturating_add(1);
        let blocked_until = (failures >= rule.free_failures).then(|| {
            let doublings = (failures - rule.free_failures).min(20);
            let delay = rule
                .first_delay
                .saturating_mul(1 << doublings)
                .min(rule.max_delay);
            now + chrono::Duration::from_std(delay).unwrap_or_default()
        });
        Self {
            failures,
            last_failure: now,
            blocked_until,
        }
    }

    /// The entry with one failure taken back.
    fn refunded(self, rule: ThrottleRule) -> Self {
        let failures = self.failures.saturating_sub(1);
        Self {
            failures,
            blocked_until: self
                .blocked_until
                .filter(|_| failures >= rule.free_failures),
            ..self
        }
    }
}

/// One kind of attempt, counted by key.
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    /// Its name in the database.
    name: &'static str,
    rule: ThrottleRule,
}

/// Why an attempt may not go ahead.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("too many attempts; wait {0:?}")]
    Wait(Duration),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Every throttle the server keeps, one per kind of attempt and key.
pub struct Throttles {
    db: Db,
    /// Wrong passwords, by account (sign-in by email, password change by agent).
    pub sign_in_accounts: Throttle,
    pub sign_in_addresses: Throttle,
    /// Reset requests, every one counted, by requested address and by client address.
    pub reset_accounts: Throttle,
    pub reset_addresses: Throttle,
    /// Failed reset confirmations, by client address and by token.
    pub reset_confirm_addresses: Throttle,
    /// Webhook deliveries without a right signature or secret, by client address: a
    /// stream of forgeries is answered 429 before it costs a database write each.
    pub hook_addresses: Throttle,
    /// Attempts counted, so forgotten entries are removed every so often.
    counted: AtomicU64,
}

/// How long an address stays known to an account after a sign-in from it.
const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// Forgotten entries are removed once every this many attempts.
const PRUNE_EVERY: u64 = 500;

impl Throttles {
    /// The usual rules, counted in `db`.
    pub fn new(db: Db) -> Self {
        Self::with_rules(db, ThrottleRule::ACCOUNT, ThrottleRule::ADDRESS)
    }

    /// Every throttle keyed by account (or token) with `account`, by address with `address`.
    pub fn with_rules(db: Db, account: ThrottleRule, address: ThrottleRule) -> Self {
        let throttle = |name, rule| Throttle { name, rule };
        Self {
            db,
            sign_in_accounts: throttle("sign_in_accounts", account),
            sign_in_addresses: throttle("sign_in_addresses", address),
            reset_accounts: throttle("reset_accounts", account),
            reset_addresses: throttle("reset_addresses", address),
            reset_confirm_addresses: throttle("reset_confirm_addresses", address),
            hook_addresses: throttle("hook_addresses", address),
            counted: AtomicU64::new(0),
        }
    }

    /// `Err` with the wait while `key` has to wait before its next attempt.
    pub async fn check(&self, throttle: &Throttle, key: &str) -> Result<(), Refused> {
        let now = Utc::now();
        match read(&mut self.db.acquire().await?, throttle, key).await? {
            Some(entry) => entry
                .wait(now)
                .map_or(Ok(()), |wait| Err(Refused::Wait(wait))),
            None => Ok(()),
        }
    }

    /// Counts an attempt on every key, or none when any of them has to wait (`Err` with
    /// the longest wait): checked and counted in one step, so simultaneous requests cannot
    /// all pass the check before any is counted. A success then calls
    /// [`Throttles::record_success`] or [`Throttles::refund`].
    pub async fn attempt(&self, keys: &[(&Throttle, &str)]) -> Result<(), Refused> {
        let now = Utc::now();
        // A key held back is answered without a write: a flood of attempts while it waits
        // does not queue for the database's write lock.
        let mut conn = self.db.acquire().await?;
        for (throttle, key) in keys {
            if let Some(wait) = read(&mut conn, throttle, key)
                .await?
                .and_then(|entry| entry.wait(now))
            {
                return Err(Refused::Wait(wait));
            }
        }
        drop(conn);
        if self.counted.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.prune(now).await;
        }
        let mut tx = crate::db::begin_write(&self.db).await?;
        // Locked in one order, so two attempts on the same keys cannot deadlock.
        let mut names: Vec<String> = keys
            .iter()
            .map(|(throttle, key)| format!("throttle:{}:{key}", throttle.name))
            .collect();
        names.sort();
        for name in &names {
            tx.lock_name(name).await?;
        }
        let mut entries = Vec::with_capacity(keys.len());
        for (throttle, key) in keys {
            entries.push(read(&mut tx, throttle, key).await?);
        }
        let wait = entries
            .iter()
            .flatten()
            .filter_map(|entry| entry.wait(now))
            .max();
        if let Some(wait) = wait {
            return Err(Refused::Wait(wait));
        }
        for ((throttle, key), entry) in keys.iter().zip(entries) {
            write(
                &mut tx,
                throttle,
                key,
                Entry::with_failure(entry, throttle.rule, now),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Takes back one attempt counted by [`Throttles::attempt`] that turned out well.
    pub async fn refund(&self, throttle: &Throttle, key: &str) {
        let refunded = async {
            let mut tx = crate::db::begin_write(&self.db).await?;
            tx.lock_name(&format!("throttle:{}:{key}", throttle.name))
                .await?;
            if let Some(entry) = read(&mut tx, throttle, key).await? {
                write(&mut tx, throttle, key, entry.refunded(throttle.rule)).await?;
            }
            tx.commit().await
        };
        if let Err(error) = refunded.await {
            tracing::warn!(%error, throttle = throttle.name, "an attempt could not be taken back");
        }
    }

    /// Forgets the failures of `key`, after it proved itself.
    pub async fn record_success(&self, throttle: &Throttle, key: &str) {
        let forgotten =
            crate::storage::query("DELETE FROM throttles WHERE throttle = $1 AND key = $2")
                .bind(throttle.name)
                .bind(key)
                .execute(&self.db)
                .await;
        if let Err(error) = forgotten {
            tracing::warn!(%error, throttle = throttle.name, "failures could not be forgotten");
        }
    }

    /// The key an account's sign-in is limited under: the account, or the account from
    /// this address when the agent signed in from it before.
    pub async fn sign_in_key(&self, account: &str, address: &str) -> Result<String, sqlx::Error> {
        let known_since = Utc::now() - chrono::Duration::from_std(KNOWN_FOR).unwrap_or_default();
        let known: Option<i64> = crate::storage::query_scalar(
            "SELECT CAST(1 AS BIGINT) FROM known_sign_in_addresses
             WHERE account = $1 AND address = $2 AND signed_in_at > $3",
        )
        .bind(account)
        .bind(address)
        .bind(timestamp(known_since))
        .fetch_optional(&self.db)
        .await?;
        Ok(match known {
            Some(_) => format!("{account}|{address}"),
            None => account.to_owned(),
        })
    }

    /// Remembers that `account` signed in from `address`.
    pub async fn signed_in(&self, account: &str, address: &str) {
        let remembered = crate::storage::query(
            "INSERT INTO known_sign_in_addresses (account, address, signed_in_at) VALUES ($1, $2, $3)
             ON CONFLICT (account, address) DO UPDATE SET signed_in_at = excluded.signed_in_at",
        )
        .bind(account)
        .bind(address)
        .bind(timestamp(Utc::now()))
        .execute(&self.db)
        .await;
        if let Err(error) = remembered {
            tracing::warn!(%error, "a sign-in's address could not be remembered");
        }
    }

    /// Removes entries every rule has forgotten, and addresses no longer known.
    async fn prune(&self, now: DateTime<Utc>) {
        let longest = [
            self.sign_in_accounts,
            self.sign_in_addresses,
            self.reset_accounts,
            self.reset_addresses,
            self.reset_confirm_addresses,
            self.hook_addresses,
        ]
        .iter()
        .map(|throttle| throttle.rule.forget_after)
        .max()
        .unwrap_or_default();
        let forgotten = now - chrono::Duration::from_std(longest).unwrap_or_default();
        let unknown = now - chrono::Duration::from_std(KNOWN_FOR).unwrap_or_default();
        let pruned = async {
            crate::storage::query(
                "DELETE FROM throttles WHERE last_failure < $1
                 AND (blocked_until IS NULL OR blocked_until < $2)",
            )
            .bind(timestamp(forgotten))
            .bind(timestamp(now))
            .execute(&self.db)
            .await?;
            crate::storage::query("DELETE FROM known_sign_in_addresses WHERE signed_in_at < $1")
                .bind(timestamp(unknown))
                .execute(&self.db)
                .await
        };
        if let Err(error) = pruned.await {
            tracing::warn!(%error, "forgotten attempts could not be removed");
        }
    }
}

async fn read(
    conn: &mut crate::storage::Conn,
    throttle: &Throttle,
    key: &str,
) -> Result<Option<Entry>, sqlx::Error> {
    let row: Option<(i64, String, Option<String>)> = crate::storage::query_as(
        "SELECT failures, last_failure, blocked_until FROM throttles WHERE throttle = $1 AND key = $2",
    )
    .bind(throttle.name)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(failures, last_failure, blocked_until)| Entry {
        failures: u32::try_from(failures).unwrap_or(u32::MAX),
        last_failure: parse_timestamp(&last_failure),
        blocked_until: blocked_until.as_deref().map(parse_timestamp),
    }))
}

async fn write(
    conn: &mut crate::storage::Conn,
    throttle: &Throttle,
    key: &str,
    entry: Entry,
) -> Result<(), sqlx::Error> {
    crate::storage::query(
        "INSERT INTO throttles (throttle, key, failures, last_failure, blocked_until)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (throttle, key) DO UPDATE SET failures = excluded.failures,
             last_failure = excluded.last_failure, blocked_until = excluded.blocked_until",
    )
    .bind(throttle.name)
    .bind(key)
    .bind(i64::from(entry.failures))
    .bind(timestamp(entry.last_failure))
    .bind(entry.blocked_until.map(timestamp))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: ThrottleRule = ThrottleRule {
        free_failures: 3,
        first_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(10),
        forget_after: Duration::from_secs(60),
    };

    fn secs(n: i64) -> chrono::Duration {
        chrono::Duration::seconds(n)
    }

    /// `failures` failures, at the times given.
    fn after(times: &[DateTime<Utc>]) -> Option<Entry> {
        times.iter().fold(None, |entry, at| {
            Some(Entry::with_failure(entry, RULE, *at))
        })
    }

    #[test]
    fn delays_start_after_the_free_failures_and_double() {
        let start = Utc::now();
        let two = after(&[start, start]).expect("counted");
        assert_eq!(two.wait(start), None);
        let three = Entry::with_failure(Some(two), RULE, start);
        assert_eq!(three.wait(start), Some(Duration::from_secs(1)));
        assert_eq!(three.wait(start + secs(1)), None);
        let four = Entry::with_failure(Some(three), RULE, start + secs(1));
        assert_eq!(four.wait(start + secs(1)), Some(Duration::from_secs(2)));
        let five = Entry::with_failure(Some(four), RULE, start + secs(3));
        assert_eq!(five.wait(start + secs(3)), Some(Duration::from_secs(4)));
    }

    #[test]
    fn the_delay_is_capped_and_never_permanent() {
        let start = Utc::now();
        let times: Vec<_> = (0..40).map(|n| start + secs(n)).collect();
        let entry = after(&times).expect("counted");
        let now = start + secs(40);
        let wait = entry.wait(now).expect("blocked");
        assert!(wait <= RULE.max_delay);
        assert_eq!(entry.wait(now + secs(10)), None);
    }

    #[test]
    fn a_refund_takes_back_one_failure_and_its_block() {
        let now = Utc::now();
        let three = after(&[now, now, now]).expect("counted");
        assert!(three.wait(now).is_some());
        let refunded = three.refunded(RULE);
        assert_eq!(refunded.failures, 2);
        assert_eq!(refunded.wait(now), None);
    }

    #[test]
    fn old_failures_are_forgotten() {
        let start = Utc::now();
        let two = after(&[start, start]);
        let later = start + secs(61);
        let entry = Entry::with_failure(two, RULE, later);
        assert_eq!(entry.failures, 1);
        assert_eq!(entry.wait(later), None);
    }

    async fn throttles() -> (tempfile::TempDir, Throttles) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("throttles.db").display());
        let db = Db::connect(&url, 4).await.expect("database");
        (dir, Throttles::with_rules(db, RULE, RULE))
    }

    #[tokio::test]
    async fn attempts_count_before_their_outcome_and_successes_take_them_back() {
        let (_dir, throttles) = throttles().await;
        let throttle = throttles.sign_in_accounts;
        // Simultaneous attempts are all counted as they start: a fourth must wait.
        let keys = [(&throttle, "a")];
        let attempts =
            futures_util::future::join_all((0..4).map(|_| throttles.attempt(&keys))).await;
        let passed = attempts.iter().filter(|attempt| attempt.is_ok()).count();
        assert_eq!(passed, 3, "{attempts:?}");
        assert!(matches!(
            throttles.check(&throttle, "a").await,
            Err(Refused::Wait(_))
        ));
        // Other keys, and other throttles on the same key, are apart.
        assert!(throttles.check(&throttle, "b").await.is_ok());
        assert!(throttles
            .check(&throttles.sign_in_addresses, "a")
            .await
            .is_ok());
        throttles.refund(&throttle, "a").await;
        assert!(throttles.check(&throttle, "a").await.is_ok());
        throttles.record_success(&throttle, "a").await;
        for _ in 0..2 {
            throttles
                .attempt(&[(&throttle, "a")])
                .await
                .expect("free again");
        }
    }

    #[tokio::test]
    async fn an_attempt_on_several_keys_counts_on_none_when_one_must_wait() {
        let (_dir, throttles) = throttles().await;
        let (accounts, addresses) = (throttles.sign_in_accounts, throttles.sign_in_addresses);
        for _ in 0..3 {
            throttles
                .attempt(&[(&addresses, "192.0.2.1")])
                .await
                .expect("counted");
        }
        let refused = throttles
            .attempt(&[(&accounts, "ada"), (&addresses, "192.0.2.1")])
            .await;
        assert!(matches!(refused, Err(Refused::Wait(_))));
        // The account's count was not touched: three more pass for it elsewhere.
        for _ in 0..2 {
            throttles
                .attempt(&[(&accounts, "ada"), (&addresses, "198.51.100.7")])
                .await
                .expect("counted");
        }
        assert!(throttles.check(&accounts, "ada").await.is_ok());
    }

    #[tokio::test]
    async fn an_address_the_account_used_before_has_its_own_limit() {
        let (_dir, throttles) = throttles().await;
        let key = |address| throttles.sign_in_key("ada@example.com", address);
        assert_eq!(key("192.0.2.1").await.expect("key"), "ada@example.com");
        throttles.signed_in("ada@example.com", "192.0.2.1").await;
        assert_eq!(
            key("192.0.2.1").await.expect("key"),
            "ada@example.com|192.0.2.1"
        );
        assert_eq!(key("198.51.100.7").await.expect("key"), "ada@example.com");
    }
}
