//! A record as the agent will see it once the changes waiting for it reach the server:
//! what the app shows while they wait.

use serde_json::{json, Value};

use crate::change::LocalChange;
use crate::merge::normalised;

/// `person` (a customer's record as the server sends it) with a waiting change of it.
pub fn apply(person: &mut Value, change: &LocalChange) {
    match change {
        LocalChange::Customer { patch, .. } => customer_patch(person, patch),
        LocalChange::EmailAdded { email, .. } => {
            let primary = email.primary.unwrap_or(false);
            if let Some(emails) = person.get_mut("emails").and_then(Value::as_array_mut) {
                if primary {
                    for existing in emails.iter_mut() {
                        existing["primary"] = json!(false);
                    }
                }
                emails.push(json!({"address": email.address.trim(), "primary": primary}));
            }
        }
        LocalChange::EmailRemoved { address, .. } => {
            if let Some(emails) = person.get_mut("emails").and_then(Value::as_array_mut) {
                emails.retain(|email| !same_address(email, address));
            }
        }
        LocalChange::EmailMadePrimary { address, .. } => {
            if let Some(emails) = person.get_mut("emails").and_then(Value::as_array_mut) {
                for email in emails.iter_mut() {
                    email["primary"] = json!(same_address(email, address));
                }
            }
        }
        _ => {}
    }
}

fn same_address(email: &Value, address: &str) -> bool {
    email
        .get("address")
        .and_then(Value::as_str)
        .is_some_and(|known| known.eq_ignore_ascii_case(address.trim()))
}

fn customer_patch(person: &mut Value, patch: &Value) {
    let Some(record) = person.as_object_mut() else {
        return;
    };
    for (field, value) in patch.as_object().into_iter().flatten() {
        match field.as_str() {
            "organization" => {
                let organization = match normalised(value) {
                    Value::String(name) => json!({"id": "", "name": name}),
                    _ => Value::Null,
                };
                record.insert(field.clone(), organization);
            }
            "custom_fields" => {
                let Some(items) = record
                    .get_mut("custom_fields")
                    .and_then(Value::as_array_mut)
                else {
                    continue;
                };
                for (id, value) in value.as_object().into_iter().flatten() {
                    if let Some(item) = items
                        .iter_mut()
                        .find(|item| item.pointer("/field/id").and_then(Value::as_str) == Some(id))
                    {
                        item["value"] = normalised(value);
                    }
                }
            }
            "suppress_auto_replies" | "usergroups" => {
                record.insert(field.clone(), value.clone());
            }
            _ => {
                record.insert(field.clone(), normalised(value));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use agent_desk_core::customers::NewEmail;

    use super::*;

    #[test]
    fn a_waiting_patch_and_emails_show_on_the_record() {
        let mut person = json!({
            "kind": "user", "name": "Grace", "summary": null,
            "organization": {"id": "o1", "name": "Acme"},
            "emails": [{"address": "grace@example.com", "primary": true}],
            "custom_fields": [{"field": {"id": "f1"}, "value": null}]
        });
        apply(
            &mut person,
            &LocalChange::Customer {
                person_id: "p".into(),
                patch: json!({"summary": " VIP ", "organization": "",
                              "custom_fields": {"f1": "gold"}}),
                version: 1,
            },
        );
        apply(
            &mut person,
            &LocalChange::EmailAdded {
                person_id: "p".into(),
                email: NewEmail {
                    address: "g@navy.example".into(),
                    primary: Some(true),
                },
            },
        );
        assert_eq!(person["summary"], json!("VIP"));
        assert_eq!(person["organization"], Value::Null);
        assert_eq!(person["custom_fields"][0]["value"], json!("gold"));
        assert_eq!(person["emails"][0]["primary"], json!(false));
        assert_eq!(person["emails"][1]["address"], json!("g@navy.example"));
        apply(
            &mut person,
            &LocalChange::EmailRemoved {
                person_id: "p".into(),
                address: "G@navy.example".into(),
            },
        );
        assert_eq!(person["emails"].as_array().map(Vec::len), Some(1));
    }
}
