//! The password policy. The server applies it to every new password and the app runs the
//! very same check as the agent types, so the checklist it shows is the one enforced.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Shortest password accepted, in characters.
pub const PASSWORD_MIN_CHARS: u32 = 8;
/// Longest password accepted, in characters. Long enough for any passphrase, short
/// enough that hashing and strength estimation stay cheap.
pub const PASSWORD_MAX_CHARS: u32 = 128;
/// The lowest zxcvbn score (0–4) accepted: 0 and 1 are guessed within minutes to hours
/// by an offline attacker.
pub const PASSWORD_MIN_SCORE: u8 = 2;

/// One requirement a new password has to meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PasswordRule {
    MinLength,
    MaxLength,
    Uppercase,
    Lowercase,
    Digit,
    Symbol,
    /// Differs from the current password.
    NotCurrent,
    /// Not among the very weakest a strength estimator finds (common words, names,
    /// keyboard walks, the agent's own name or email).
    NotGuessable,
}

impl PasswordRule {
    /// The rules in the order the app lists them.
    pub const ALL: [PasswordRule; 8] = [
        Self::MinLength,
        Self::MaxLength,
        Self::Uppercase,
        Self::Lowercase,
        Self::Digit,
        Self::Symbol,
        Self::NotCurrent,
        Self::NotGuessable,
    ];

    /// A plain English sentence for the API and logs; the app localises by the rule.
    pub fn message(self) -> String {
        match self {
            Self::MinLength => format!("must have at least {PASSWORD_MIN_CHARS} characters"),
            Self::MaxLength => format!("must have at most {PASSWORD_MAX_CHARS} characters"),
            Self::Uppercase => "must contain an upper-case letter".into(),
            Self::Lowercase => "must contain a lower-case letter".into(),
            Self::Digit => "must contain a digit".into(),
            Self::Symbol => {
                "must contain a symbol (a character that is not a letter or digit)".into()
            }
            Self::NotCurrent => "must differ from the current password".into(),
            Self::NotGuessable => {
                "is too easy to guess: avoid common words, names, dates and keyboard patterns"
                    .into()
            }
        }
    }
}

/// The policy as `GET /api/v1/policy` serves it, so every client shows the same rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct PasswordPolicy {
    pub min_length: u32,
    pub max_length: u32,
    pub rules: Vec<PasswordRule>,
    /// The lowest accepted zxcvbn score, 0 (weakest) to 4.
    pub min_score: u8,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: PASSWORD_MIN_CHARS,
            max_length: PASSWORD_MAX_CHARS,
            rules: PasswordRule::ALL.to_vec(),
            min_score: PASSWORD_MIN_SCORE,
        }
    }
}

/// How a candidate password fares: every rule, passed or not, and its strength.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PasswordCheck {
    /// Every rule, in the policy's order, with whether it holds.
    pub rules: Vec<RuleResult>,
    /// zxcvbn's score, 0 (weakest) to 4; 0 for an empty password.
    pub score: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RuleResult {
    pub rule: PasswordRule,
    pub passed: bool,
}

impl PasswordCheck {
    pub fn is_acceptable(&self) -> bool {
        self.rules.iter().all(|result| result.passed)
    }

    /// The first rule broken, in the policy's order.
    pub fn first_failure(&self) -> Option<PasswordRule> {
        self.rules
            .iter()
            .find(|result| !result.passed)
            .map(|result| result.rule)
    }
}

/// Checks `candidate` against every rule. `current` is the password being replaced,
/// when known; `personal` are words of the agent's own (name, email) a guesser tries first.
pub fn check_password(candidate: &str, current: Option<&str>, personal: &[&str]) -> PasswordCheck {
    let chars = candidate.chars().count();
    let too_long = chars > PASSWORD_MAX_CHARS as usize;
    // Estimating a huge input is slow and pointless: it is refused for length anyway.
    let score = if candidate.is_empty() || too_long {
        0
    } else {
        strength(candidate, personal)
    };
    let passed = |rule: PasswordRule| match rule {
        PasswordRule::MinLength => chars >= PASSWORD_MIN_CHARS as usize,
        PasswordRule::MaxLength => !too_long,
        PasswordRule::Uppercase => candidate.chars().any(char::is_uppercase),
        PasswordRule::Lowercase => candidate.chars().any(char::is_lowercase),
        PasswordRule::Digit => candidate.chars().any(|c| c.is_ascii_digit()),
        PasswordRule::Symbol => candidate
            .chars()
            .any(|c| !c.is_alphanumeric() && !c.is_whitespace() && !c.is_control()),
        PasswordRule::NotCurrent => current.is_none_or(|current| current != candidate),
        // Not estimated when too long: the length rule is the one to report then.
        PasswordRule::NotGuessable => {
            !candidate.is_empty() && (too_long || score >= PASSWORD_MIN_SCORE)
        }
    };
    PasswordCheck {
        rules: PasswordRule::ALL
            .into_iter()
            .map(|rule| RuleResult {
                rule,
                passed: passed(rule),
            })
            .collect(),
        score,
    }
}

fn strength(candidate: &str, personal: &[&str]) -> u8 {
    // Split emails into their parts so "jane.doe@example.com" also rules out "JaneDoe".
    let words: Vec<&str> = personal
        .iter()
        .flat_map(|word| word.split(['@', '.', ' ', '-', '_', '+']))
        .filter(|word| word.len() >= 3)
        .collect();
    u8::from(zxcvbn::zxcvbn(candidate, &words).score())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failures(candidate: &str, current: Option<&str>) -> Vec<PasswordRule> {
        check_password(candidate, current, &[])
            .rules
            .into_iter()
            .filter(|result| !result.passed)
            .map(|result| result.rule)
            .collect()
    }

    #[test]
    fn a_strong_password_passes_every_rule() {
        let check = check_password("Tangerine-Bicycle-42", Some("Old-password-1"), &[]);
        assert!(check.is_acceptable(), "{check:?}");
        assert!(check.score >= PASSWORD_MIN_SCORE);
        assert_eq!(check.rules.len(), PasswordRule::ALL.len());
    }

    #[test]
    fn each_composition_rule_is_reported_on_its_own() {
        assert!(failures("Ab1!", None).contains(&PasswordRule::MinLength));
        assert!(failures("tangerine-bicycle-42", None).contains(&PasswordRule::Uppercase));
        assert!(failures("TANGERINE-BICYCLE-42", None).contains(&PasswordRule::Lowercase));
        assert!(failures("Tangerine-Bicycle-xy", None).contains(&PasswordRule::Digit));
        assert!(failures("TangerineBicycle42", None).contains(&PasswordRule::Symbol));
        assert_eq!(
            failures("Tangerine-Bicycle-42", Some("Tangerine-Bicycle-42")),
            vec![PasswordRule::NotCurrent]
        );
    }

    #[test]
    fn common_passwords_that_meet_the_composition_rules_are_still_refused() {
        for weak in ["Password1!", "Qwerty123!", "Welcome1!"] {
            assert_eq!(
                failures(weak, None),
                vec![PasswordRule::NotGuessable],
                "{weak}"
            );
        }
    }

    #[test]
    fn the_agents_own_name_makes_a_password_guessable() {
        let personal = ["anna.kowalczyk@example.com", "Anna Kowalczyk"];
        let own = check_password("Kowalczyk1!", None, &personal);
        let stranger = check_password("Kowalczyk1!", None, &[]);
        assert!(own.score < stranger.score, "{own:?} vs {stranger:?}");
        assert_eq!(own.first_failure(), Some(PasswordRule::NotGuessable));
    }

    #[test]
    fn empty_and_enormous_passwords_are_refused_cheaply() {
        let empty = check_password("", None, &[]);
        assert_eq!(empty.score, 0);
        assert_eq!(empty.first_failure(), Some(PasswordRule::MinLength));
        let huge = "Aa1!".repeat(250_000);
        let check = check_password(&huge, None, &[]);
        assert!(!check.is_acceptable());
        assert_eq!(check.first_failure(), Some(PasswordRule::MaxLength));
    }

    #[test]
    fn non_latin_letters_count_as_letters_and_spaces_are_not_symbols() {
        assert!(!failures("Ünïcödé Straße 42", None).contains(&PasswordRule::Uppercase));
        assert!(failures("Tangerine Bicycle 42", None).contains(&PasswordRule::Symbol));
    }
}
