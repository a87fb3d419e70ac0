//! The demo's customers and custom fields.

use agent_desk_core::customers::{CustomerPatch, FieldKind, NewCustomField, NewCustomer};
use chrono::{DateTime, Utc};

use super::fields::create_field;
use super::notes::add_note;
use super::{create, update, CustomerError};
use crate::db::Db;

/// The demo's customers (name, emails, organization, phone, note), made once by
/// `seed-demo`, the note written by the demo agent.
const DEMO_CUSTOMERS: &[(&str, &[&str], &str, &str, &str)] = &[
    (
        "Ada Byron",
        &["ada@byron.example", "countess@analytical.example"],
        "Analytical Engines",
        "+442071838751",
        "Asked for the invoice for order 1842 again; resent it by email.",
    ),
    (
        "Charles Babbage",
        &["charles@difference.example"],
        "Analytical Engines",
        "+442071838752",
        "Prefers a phone call before any change to the contract.",
    ),
    (
        "Émile Zola",
        &["emile@paris.example"],
        "Rougon-Macquart",
        "+33142555555",
        "Writes in French; answers in French too.",
    ),
];

/// The demo's custom fields, and the first demo customer's values of them.
const DEMO_FIELDS: &[(&str, FieldKind, &[&str], &str)] = &[
    (
        "Plan",
        FieldKind::Choice,
        &["Free", "Team", "Enterprise"],
        "Team",
    ),
    ("Seats", FieldKind::Number, &[], "12"),
    ("Contract renewal", FieldKind::Date, &[], "2027-03-31"),
];

/// Makes the demo's customers and fields, leaving any already there.
pub async fn seed_demo(db: &Db, author_id: &str, now: DateTime<Utc>) -> Result<(), CustomerError> {
    let mut first_values = std::collections::BTreeMap::new();
    for (name, kind, choices, value) in DEMO_FIELDS {
        let new = NewCustomField {
            name: (*name).to_owned(),
            kind: *kind,
            choices: (!choices.is_empty())
                .then(|| choices.iter().map(|choice| (*choice).to_owned()).collect()),
        };
        match create_field(db, &new, now).await {
            Ok(field) => {
                first_values.insert(field.id, (*value).to_owned());
            }
            Err(CustomerError::FieldNameTaken(_)) => {}
            Err(other) => return Err(other),
        }
    }
    for (index, (name, emails, organization, phone, note)) in DEMO_CUSTOMERS.iter().enumerate() {
        let new = NewCustomer {
            name: (*name).to_owned(),
            emails: emails.iter().map(|email| (*email).to_owned()).collect(),
            organization: Some((*organization).to_owned()),
            phone: Some((*phone).to_owned()),
        };
        match create(db, author_id, &new, now).await {
            Ok(customer) => {
                add_note(db, author_id, &customer.id, note, now).await?;
                if index == 0 && !first_values.is_empty() {
                    let values = CustomerPatch {
                        custom_fields: Some(first_values.clone()),
                        ..CustomerPatch::default()
                    };
                    update(db, author_id, &customer.id, &values, customer.version, now).await?;
                }
            }
            Err(CustomerError::EmailTaken { .. }) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(())
}
