use agent_desk_core::password::{check_rules, worth_estimating, PasswordCheck};

/// Checks `candidate` against every rule of the policy. `current` is the password being
/// replaced, when known; `personal` are words of the agent's own (name, email) a guesser
/// tries first.
pub fn check_password(candidate: &str, current: Option<&str>, personal: &[&str]) -> PasswordCheck {
    check_rules(candidate, current, strength(candidate, personal))
}

/// zxcvbn's score for `candidate`, 0 (weakest) to 4, with the agent's own words counted
/// as guessable; 0 for an empty one or one too long to be accepted, which is not estimated.
pub fn strength(candidate: &str, personal: &[&str]) -> u8 {
    if !worth_estimating(candidate) {
        return 0;
    }
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
    use agent_desk_core::password::{PasswordRule, PASSWORD_MIN_SCORE};

    use super::*;

    #[test]
    fn a_strong_password_passes_every_rule() {
        let check = check_password("Tangerine-Bicycle-42", Some("Old-password-1"), &[]);
        assert!(check.is_acceptable(), "{check:?}");
        assert!(check.score >= PASSWORD_MIN_SCORE);
    }

    #[test]
    fn common_passwords_that_meet_the_composition_rules_are_still_refused() {
        for weak in ["Password1!", "Qwerty123!", "Welcome1!"] {
            assert_eq!(
                check_password(weak, None, &[]).first_failure(),
                Some(PasswordRule::NotGuessable),
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
    fn empty_and_enormous_passwords_are_not_estimated() {
        assert_eq!(strength("", &[]), 0);
        let huge = "Aa1!".repeat(250_000);
        assert_eq!(strength(&huge, &[]), 0);
        assert_eq!(
            check_password(&huge, None, &[]).first_failure(),
            Some(PasswordRule::MaxLength)
        );
    }
}
