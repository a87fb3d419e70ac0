//! The password policy. The server applies it to every new password and the app runs the
//! very same rules as the agent types, so the checklist it shows is the one enforced. The
//! strength estimate the last rule needs is the server's (`agent-desk-checks`: its
//! dictionaries would be a twentieth of the app), asked for by the app.

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

/// How hard a password is to guess, as the server estimates it for the agent: zxcvbn's
/// score, 0 (weakest) to 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordStrength {
    pub score: u8,
}

/// A password to estimate (`POST /api/v1/auth/password/strength`). No `Debug`: it is not
/// to end up in a log.
#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordStrengthRequest {
    pub password: String,
}

/// Whether `candidate`'s strength is worth estimating: not when it is empty, nor when it
/// is refused for its length anyway (estimating a huge input is slow).
pub fn worth_estimating(candidate: &str) -> bool {
    estimable(candidate.chars().count())
}

fn estimable(chars: usize) -> bool {
    chars > 0 && chars <= PASSWORD_MAX_CHARS as usize
}

/// Checks `candidate` against every rule, given its strength `score` (see
/// [`PasswordStrength`]; 0 for an empty or too long one). `current` is the password being
/// replaced, when known.
pub fn check_rules(candidate: &str, current: Option<&str>, score: u8) -> PasswordCheck {
    let chars = candidate.chars().count();
    let over_max = chars > PASSWORD_MAX_CHARS as usize;
    let score = if estimable(chars) { score } else { 0 };
    let passed = |rule: PasswordRule| match rule {
        PasswordRule::MinLength => chars >= PASSWORD_MIN_CHARS as usize,
        PasswordRule::MaxLength => !over_max,
        PasswordRule::Uppercase => candidate.chars().any(char::is_uppercase),
        PasswordRule::Lowercase => candidate.chars().any(char::is_lowercase),
        PasswordRule::Digit => candidate.chars().any(|c| c.is_ascii_digit()),
        PasswordRule::Symbol => candidate
            .chars()
            .any(|c| !c.is_alphanumeric() && !c.is_whitespace() && !c.is_control()),
        PasswordRule::NotCurrent => current.is_none_or(|current| current != candidate),
        // Not estimated when too long: the length rule is the one to report then.
        PasswordRule::NotGuessable => {
            !candidate.is_empty() && (over_max || score >= PASSWORD_MIN_SCORE)
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

#[cfg(test)]
mod tests {
    use super::*;

    const STRONG: u8 = 3;

    fn failures(candidate: &str, current: Option<&str>) -> Vec<PasswordRule> {
        check_rules(candidate, current, STRONG)
            .rules
            .into_iter()
            .filter(|result| !result.passed)
            .map(|result| result.rule)
            .collect()
    }

    #[test]
    fn a_strong_password_passes_every_rule() {
        let check = check_rules("Tangerine-Bicycle-42", Some("Old-password-1"), STRONG);
        assert!(check.is_acceptable(), "{check:?}");
        assert_eq!(check.score, STRONG);
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
    fn a_low_score_alone_makes_a_password_guessable() {
        let check = check_rules("Password1!", None, PASSWORD_MIN_SCORE - 1);
        assert_eq!(check.first_failure(), Some(PasswordRule::NotGuessable));
        assert!(check_rules("Password1!", None, PASSWORD_MIN_SCORE).is_acceptable());
    }

    #[test]
    fn empty_and_enormous_passwords_are_refused_for_their_length() {
        let empty = check_rules("", None, STRONG);
        assert_eq!(empty.score, 0);
        assert_eq!(empty.first_failure(), Some(PasswordRule::MinLength));
        let huge = "Aa1!".repeat(250_000);
        assert!(!worth_estimating(&huge) && !worth_estimating(""));
        let check = check_rules(&huge, None, STRONG);
        assert_eq!(check.score, 0);
        assert_eq!(check.first_failure(), Some(PasswordRule::MaxLength));
        assert!(!check
            .rules
            .iter()
            .any(|result| result.rule == PasswordRule::NotGuessable && !result.passed));
    }

    #[test]
    fn non_latin_letters_count_as_letters_and_spaces_are_not_symbols() {
        assert!(!failures("Ünïcödé Straße 42", None).contains(&PasswordRule::Uppercase));
        assert!(failures("Tangerine Bicycle 42", None).contains(&PasswordRule::Symbol));
    }
}
