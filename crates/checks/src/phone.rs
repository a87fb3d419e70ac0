use agent_desk_core::customers::RecordError;
use agent_desk_core::{FieldError, ProfileField, ProfilePatch};

/// A phone number checked for its shape (`agent-desk-core`) and against its country's
/// numbering plan, in E.164; empty clears it.
pub fn phone(field: ProfileField, value: &str) -> Result<String, FieldError> {
    in_plan(field, agent_desk_core::validation::phone(field, value)?)
}

/// A number whose shape passed (`typed`, trimmed) against its country's plan, in E.164.
fn in_plan(field: ProfileField, typed: String) -> Result<String, FieldError> {
    if typed.is_empty() {
        return Ok(typed);
    }
    let international = match typed.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => typed,
    };
    let number = phonenumber::parse(None, &international)
        .ok()
        .filter(phonenumber::is_valid)
        .ok_or_else(|| FieldError::invalid_phone(field))?;
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// The profile's rules of `agent-desk-core`, then its phone numbers against their plans:
/// every refused field at once, or the patch normalised (numbers in E.164).
pub fn validate_patch(patch: &ProfilePatch) -> Result<ProfilePatch, Vec<FieldError>> {
    match agent_desk_core::validate_patch(patch) {
        Ok(mut normalised) => {
            let mut errors = Vec::new();
            for (field, number) in [
                (ProfileField::Phone, &mut normalised.phone),
                (ProfileField::Mobile, &mut normalised.mobile),
            ] {
                if let Some(typed) = number.take() {
                    match in_plan(field, typed) {
                        Ok(e164) => *number = Some(e164),
                        Err(error) => errors.push(error),
                    }
                }
            }
            if errors.is_empty() {
                Ok(normalised)
            } else {
                Err(errors)
            }
        }
        Err(mut errors) => {
            // Numbers whose shape passed are checked too, so every error shows at once.
            for (field, number) in [
                (ProfileField::Phone, &patch.phone),
                (ProfileField::Mobile, &patch.mobile),
            ] {
                let Some(number) = number else { continue };
                if errors.iter().any(|known| known.field == field) {
                    continue;
                }
                if let Err(error) = phone(field, number) {
                    errors.push(error);
                }
            }
            Err(errors)
        }
    }
}

/// A customer's phone number, as E.164.
pub fn customer_phone(value: &str) -> Result<Option<String>, RecordError> {
    phone(ProfileField::Phone, value)
        .map(|number| (!number.is_empty()).then_some(number))
        .map_err(|error| RecordError::new("phone", error.message))
}

#[cfg(test)]
mod tests {
    use agent_desk_core::ValidationCode;

    use super::*;

    fn code(value: &str) -> ValidationCode {
        phone(ProfileField::Phone, value).expect_err(value).code
    }

    #[test]
    fn numbers_in_their_plan_are_put_in_e164() {
        assert_eq!(
            phone(ProfileField::Phone, "+49 30 901820").as_deref(),
            Ok("+4930901820")
        );
        assert_eq!(
            phone(ProfileField::Phone, "0044 20 7946 0958").as_deref(),
            Ok("+442079460958")
        );
        assert_eq!(phone(ProfileField::Mobile, "").as_deref(), Ok(""));
    }

    #[test]
    fn numbers_of_the_right_shape_outside_their_plan_are_refused() {
        // Seven digits and a country code, as the app's shape check lets through.
        assert_eq!(code("+49 0000 000"), ValidationCode::InvalidPhone);
        assert_eq!(code("+1 555 0100"), ValidationCode::InvalidPhone);
        // The shape's own refusals stay as they were.
        assert_eq!(code("030 901820"), ValidationCode::PhoneNeedsCountryCode);
        assert_eq!(code("+1 800 FLOWERS"), ValidationCode::InvalidPhone);
    }

    #[test]
    fn a_patch_reports_plan_and_other_errors_at_once() {
        let patch = ProfilePatch {
            phone: Some("+49 0000 000".into()),
            mobile: Some("+44 7400 123456".into()),
            operator_id: Some("op 7".into()),
            ..ProfilePatch::default()
        };
        let errors = validate_patch(&patch).expect_err("two refused fields");
        let fields: Vec<_> = errors
            .iter()
            .map(|error| (error.field, error.code))
            .collect();
        assert_eq!(
            fields,
            vec![
                (ProfileField::OperatorId, ValidationCode::InvalidOperatorId),
                (ProfileField::Phone, ValidationCode::InvalidPhone),
            ]
        );
        let fine = ProfilePatch {
            mobile: Some("+44 7400 123456".into()),
            ..ProfilePatch::default()
        };
        assert_eq!(
            validate_patch(&fine).expect("valid").mobile.as_deref(),
            Some("+447400123456")
        );
    }

    #[test]
    fn customer_numbers_are_checked_alike() {
        assert_eq!(
            customer_phone("+44 20 7183 8750")
                .expect("valid")
                .as_deref(),
            Some("+442071838750")
        );
        assert_eq!(customer_phone("").expect("empty clears"), None);
        assert_eq!(
            customer_phone("020 7183 8750")
                .expect_err("no country")
                .field,
            "phone"
        );
    }
}
