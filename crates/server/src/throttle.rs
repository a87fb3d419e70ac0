//! Slows down password guessing: after a few quick failures for one key (an account or
//! an address), every further attempt waits twice as long as the one before, up to a cap.
//! Nothing is ever locked for good, so an attacker cannot lock an agent out; they can
//! only make the agent wait as long as they make themselves wait.
//!
//! Counts are kept in memory: they reset when the server restarts, and several server
//! processes behind one address would each keep their own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// When keys are pruned of forgotten entries, so memory stays bounded under a spray.
const PRUNE_ABOVE: usize = 10_000;

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

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: Instant,
    blocked_until: Option<Instant>,
}

pub struct Throttle {
    rule: ThrottleRule,
    entries: Mutex<HashMap<String, Entry>>,
}

impl Throttle {
    pub fn new(rule: ThrottleRule) -> Self {
        Self {
            rule,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` while `key` has to wait before its next attempt.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(key).and_then(|entry| entry.blocked_until) {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Checks `key` and, when it may go ahead, counts the attempt as a failure in the same
    /// step, so simultaneous requests cannot all pass the check before any is counted. A
    /// success then calls [`Throttle::record_success`] or [`Throttle::refund`].
    pub fn attempt(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = entries.get(key).and_then(|entry| entry.blocked_until) {
            if until > now {
                return Err(until - now);
            }
        }
        Self::count_failure(&mut entries, self.rule, key, now);
        Ok(())
    }

    /// Takes back one attempt counted by [`Throttle::attempt`] that turned out well.
    pub fn refund(&self, key: &str) {
        let rule = self.rule;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = entries.get_mut(key) {
            entry.failures = entry.failures.saturating_sub(1);
            if entry.failures < rule.free_failures {
                entry.blocked_until = None;
            }
        }
    }

    fn count_failure(
        entries: &mut HashMap<String, Entry>,
        rule: ThrottleRule,
        key: &str,
        now: Instant,
    ) {
        if entries.len() > PRUNE_ABOVE {
            entries.retain(|_, entry| !is_forgotten(entry, rule, now));
        }
        let entry = entries.entry(key.to_owned()).or_insert(Entry {
            failures: 0,
            last_failure: now,
            blocked_until: None,
        });
        if is_forgotten(entry, rule, now) {
            entry.failures = 0;
        }
        entry.failures = entry.failures.saturating_add(1);
        entry.last_failure = now;
        if entry.failures >= rule.free_failures {
            let doublings = (entry.failures - rule.free_failures).min(20);
            let delay = rule
                .first_delay
                .saturating_mul(1 << doublings)
                .min(rule.max_delay);
            entry.blocked_until = Some(now + delay);
        }
    }

    /// Forgets the failures of `key`, after it proved itself.
    pub fn record_success(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(key);
    }
}

/// Every throttle the server keeps, one per kind of attempt and key.
pub struct Throttles {
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
    /// Client addresses an account signed in from before. From those the account's own
    /// limit is kept per address, so failures elsewhere cannot keep the agent out.
    known_addresses: Mutex<HashMap<String, Instant>>,
}

impl Default for Throttles {
    fn default() -> Self {
        Self::with_rules(ThrottleRule::ACCOUNT, ThrottleRule::ADDRESS)
    }
}

/// How long an address stays known to an account after a sign-in from it.
const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 60 * 60);

impl Throttles {
    /// Every throttle keyed by account (or token) with `account`, by address with `address`.
    pub fn with_rules(account: ThrottleRule, address: ThrottleRule) -> Self {
        Self {
            sign_in_accounts: Throttle::new(account),
            sign_in_addresses: Throttle::new(address),
            reset_accounts: Throttle::new(account),
            reset_addresses: Throttle::new(address),
            reset_confirm_addresses: Throttle::new(address),
            hook_addresses: Throttle::new(address),
            known_addresses: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt on every key, or none when any of them has to wait (`Err` with
    /// the longest wait).
    pub fn attempt(&self, keys: &[(&Throttle, &str)]) -> Result<(), Duration> {
        let now = Instant::now();
        let wait = keys
            .iter()
            .filter_map(|(throttle, key)| throttle.check(key, now).err())
            .max();
        if let Some(wait) = wait {
            return Err(wait);
        }
        for (index, (throttle, key)) in keys.iter().enumerate() {
            if let Err(wait) = throttle.attempt(key, now) {
                // Blocked in between by a simultaneous request: take back what was counted.
                for (counted, key) in &keys[..index] {
                    counted.refund(key);
                }
                return Err(wait);
            }
        }
        Ok(())
    }

    /// The key an account's sign-in is limited under: the account, or the account from
    /// this address when the agent signed in from it before.
    pub fn sign_in_key(&self, account: &str, address: &str) -> String {
        let pair = format!("{account}|{address}");
        let known = self
            .known_addresses
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match known.get(&pair) {
            Some(at) if at.elapsed() < KNOWN_FOR => pair,
            _ => account.to_owned(),
        }
    }

    /// Remembers that `account` signed in from `address`.
    pub fn signed_in(&self, account: &str, address: &str) {
        let mut known = self
            .known_addresses
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if known.len() > PRUNE_ABOVE {
            known.retain(|_, at| at.elapsed() < KNOWN_FOR);
        }
        known.insert(format!("{account}|{address}"), Instant::now());
    }
}

fn is_forgotten(entry: &Entry, rule: ThrottleRule, now: Instant) -> bool {
    let block_over = entry.blocked_until.is_none_or(|until| until <= now);
    block_over && now.saturating_duration_since(entry.last_failure) > rule.forget_after
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

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn delays_start_after_the_free_failures_and_double() {
        let throttle = Throttle::new(RULE);
        let start = Instant::now();
        let _ = throttle.attempt("a", start);
        let _ = throttle.attempt("a", start);
        assert_eq!(throttle.check("a", start), Ok(()));
        let _ = throttle.attempt("a", start);
        assert_eq!(throttle.check("a", start), Err(secs(1)));
        assert_eq!(throttle.check("a", start + secs(1)), Ok(()));
        let _ = throttle.attempt("a", start + secs(1));
        assert_eq!(throttle.check("a", start + secs(1)), Err(secs(2)));
        let _ = throttle.attempt("a", start + secs(3));
        assert_eq!(throttle.check("a", start + secs(3)), Err(secs(4)));
    }

    #[test]
    fn the_delay_is_capped_and_never_permanent() {
        let throttle = Throttle::new(RULE);
        let mut now = Instant::now();
        for _ in 0..40 {
            let _ = throttle.attempt("a", now);
            now += secs(1);
        }
        let wait = throttle.check("a", now).expect_err("blocked");
        assert!(wait <= RULE.max_delay);
        assert_eq!(throttle.check("a", now + RULE.max_delay), Ok(()));
    }

    #[test]
    fn keys_are_independent_and_success_clears() {
        let throttle = Throttle::new(RULE);
        let now = Instant::now();
        for _ in 0..3 {
            let _ = throttle.attempt("a", now);
        }
        assert!(throttle.check("a", now).is_err());
        assert_eq!(throttle.check("b", now), Ok(()));
        throttle.record_success("a");
        assert_eq!(throttle.check("a", now), Ok(()));
    }

    #[test]
    fn attempts_count_before_their_outcome_and_successes_take_them_back() {
        let throttle = Throttle::new(RULE);
        let now = Instant::now();
        // Three simultaneous attempts are all counted as they start: a fourth must wait.
        for _ in 0..3 {
            assert_eq!(throttle.attempt("a", now), Ok(()));
        }
        assert_eq!(throttle.attempt("a", now), Err(secs(1)));
        throttle.refund("a");
        assert_eq!(throttle.check("a", now), Ok(()));
    }

    #[test]
    fn an_address_the_account_used_before_has_its_own_limit() {
        let throttles = Throttles::default();
        assert_eq!(
            throttles.sign_in_key("ada@example.com", "192.0.2.1"),
            "ada@example.com"
        );
        throttles.signed_in("ada@example.com", "192.0.2.1");
        assert_eq!(
            throttles.sign_in_key("ada@example.com", "192.0.2.1"),
            "ada@example.com|192.0.2.1"
        );
        assert_eq!(
            throttles.sign_in_key("ada@example.com", "198.51.100.7"),
            "ada@example.com"
        );
    }

    #[test]
    fn old_failures_are_forgotten() {
        let throttle = Throttle::new(RULE);
        let start = Instant::now();
        let _ = throttle.attempt("a", start);
        let _ = throttle.attempt("a", start);
        let later = start + RULE.forget_after + secs(1);
        let _ = throttle.attempt("a", later);
        assert_eq!(throttle.check("a", later), Ok(()));
    }
}
