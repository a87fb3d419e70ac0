//! Field-by-field merge of a change made on one version of a record with the version
//! the server has now: fields the agent did not touch keep the server's value, a field
//! they changed is applied, and where the server's value had changed too, the value it
//! replaces is reported so the agent can restore it.
//!
//! Records are compared as flat maps of paths (`job_title`, `custom_fields/<id>`,
//! `events/ticket.assigned/desktop`) to values, after the server's own normalisation:
//! text trimmed, and empty text the same as none.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

/// A record's fields by path.
pub type Fields = BTreeMap<String, Value>;

const SEPARATOR: char = '/';

/// Which kind of record a change is made to: each is laid out as a flat map its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The agent's own profile (`PATCH /me`): each field whole, the contact preferences
    /// as one.
    Profile,
    /// A customer's record (`PATCH /people/{id}`): each field whole, each custom field
    /// on its own, the usergroups as one set.
    Customer,
    /// Notification preferences (`PUT /me/notification-prefs`): every switch on its own,
    /// events by their type.
    Prefs,
}

/// A field whose value on the server had changed as well, and was replaced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FieldConflict {
    /// The field's path: `job_title`, `custom_fields/<id>`, `events/<type>/desktop`.
    pub field: String,
    /// What the server had, which the agent's change replaced.
    #[ts(type = "unknown")]
    pub replaced: Value,
    /// What the agent's change set.
    #[ts(type = "unknown")]
    pub applied: Value,
}

/// What to send after merging, and the conflicts found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Merged {
    /// The fields still to change; empty when the server has them all already.
    pub send: Fields,
    pub conflicts: Vec<FieldConflict>,
}

/// The server's normalisation of a value: text trimmed, empty text none.
pub fn normalised(value: &Value) -> Value {
    match value {
        Value::String(text) if text.trim().is_empty() => Value::Null,
        Value::String(text) => Value::String(text.trim().to_owned()),
        other => other.clone(),
    }
}

/// Merges `mine` (the fields the agent changed, with their new values) made on `base`
/// (the same fields as they were then, when known) with `theirs` (the record now).
pub fn merge(mine: &Fields, base: Option<&Fields>, theirs: &Fields) -> Merged {
    let mut merged = Merged::default();
    for (field, value) in mine {
        let value = normalised(value);
        let current = theirs.get(field).map_or(Value::Null, normalised);
        if current == value {
            continue;
        }
        let was = base.map(|base| base.get(field).map_or(Value::Null, normalised));
        if was.is_some_and(|was| was != current) {
            merged.conflicts.push(FieldConflict {
                field: field.clone(),
                replaced: current,
                applied: value.clone(),
            });
        }
        merged.send.insert(field.clone(), value);
    }
    merged
}

/// The fields a change's body sets, by path.
pub fn fields_of_change(shape: Shape, body: &Value) -> Fields {
    let mut fields = Fields::new();
    match shape {
        Shape::Profile | Shape::Customer => {
            for (name, value) in body.as_object().into_iter().flatten() {
                match (shape, name.as_str(), value) {
                    (Shape::Customer, "custom_fields", Value::Object(values)) => {
                        for (id, value) in values {
                            fields.insert(format!("custom_fields{SEPARATOR}{id}"), value.clone());
                        }
                    }
                    _ => {
                        fields.insert(name.clone(), value.clone());
                    }
                }
            }
        }
        Shape::Prefs => flatten(body, "", &mut fields),
    }
    fields
}

/// The same paths as `wanted`, read from a record as the server sends it.
pub fn fields_of_record<'a>(
    shape: Shape,
    record: &Value,
    wanted: impl IntoIterator<Item = &'a String>,
) -> Fields {
    let all = match shape {
        Shape::Prefs => {
            let mut all = Fields::new();
            flatten(record, "", &mut all);
            all
        }
        Shape::Profile => record
            .as_object()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        Shape::Customer => customer_fields(record),
    };
    wanted
        .into_iter()
        .map(|path| (path.clone(), all.get(path).cloned().unwrap_or(Value::Null)))
        .collect()
}

/// A customer's record laid out as its patch is: the organization by name, custom
/// fields by id.
fn customer_fields(record: &Value) -> Fields {
    let mut fields: Fields = record
        .as_object()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let organization = record
        .pointer("/organization/name")
        .cloned()
        .unwrap_or(Value::Null);
    fields.insert("organization".into(), organization);
    fields.remove("custom_fields");
    for item in record
        .get("custom_fields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(id) = item.pointer("/field/id").and_then(Value::as_str) {
            fields.insert(
                format!("custom_fields{SEPARATOR}{id}"),
                item.get("value").cloned().unwrap_or(Value::Null),
            );
        }
    }
    fields
}

/// A patch's body from the fields to send (the inverse of [`fields_of_change`] for
/// patches). None is sent as empty text, which the server takes as clearing a field.
pub fn patch_body(shape: Shape, fields: &Fields) -> Value {
    let mut body = Map::new();
    for (path, value) in fields {
        let value = if value.is_null() {
            Value::String(String::new())
        } else {
            value.clone()
        };
        match path.split_once(SEPARATOR) {
            Some(("custom_fields", id)) if shape == Shape::Customer => {
                let values = body
                    .entry("custom_fields")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(values) = values {
                    values.insert(id.to_owned(), value);
                }
            }
            _ => {
                body.insert(path.clone(), value);
            }
        }
    }
    Value::Object(body)
}

/// `record` with `fields` set in it, for a change that replaces the whole record
/// (notification preferences).
pub fn with_fields(record: &Value, fields: &Fields) -> Value {
    let mut record = record.clone();
    for (path, value) in fields {
        let segments: Vec<&str> = path.split(SEPARATOR).collect();
        set_leaf(&mut record, &segments, value.clone());
    }
    record
}

/// Every leaf of a JSON value by path; arrays of objects with a `type` are keyed by it
/// (the events of the preferences), other arrays are leaves.
fn flatten(value: &Value, prefix: &str, out: &mut Fields) {
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{prefix}{SEPARATOR}{key}")
        }
    };
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                flatten(value, &join(key), out);
            }
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(typed) => {
            for item in items {
                if let Some(kind) = item.get("type").and_then(Value::as_str) {
                    let mut item = item.clone();
                    if let Some(item) = item.as_object_mut() {
                        item.remove("type");
                    }
                    flatten(&item, &join(kind), out);
                }
            }
        }
        leaf => {
            out.insert(prefix.to_owned(), leaf.clone());
        }
    }
}

fn typed(item: &Value) -> bool {
    item.get("type").is_some_and(Value::is_string)
}

fn set_leaf(value: &mut Value, path: &[&str], leaf: Value) {
    let Some((first, rest)) = path.split_first() else {
        *value = leaf;
        return;
    };
    match value {
        Value::Object(map) => {
            let child = map.entry((*first).to_owned()).or_insert(Value::Null);
            set_leaf(child, rest, leaf);
        }
        Value::Array(items) => {
            if let Some(item) = items
                .iter_mut()
                .find(|item| item.get("type").and_then(Value::as_str) == Some(*first))
            {
                set_leaf(item, rest, leaf);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn fields(value: Value) -> Fields {
        value
            .as_object()
            .expect("object")
            .clone()
            .into_iter()
            .collect()
    }

    #[test]
    fn untouched_fields_are_not_sent_and_a_field_changed_on_both_sides_is_a_conflict() {
        let mine = fields(json!({"job_title": "Lead", "phone": "+49 30 1234567"}));
        let base = fields(json!({"job_title": "Agent", "phone": null}));
        // An administrator changed the job title (and the office, not in the change).
        let theirs = fields(json!({"job_title": "Supervisor", "phone": null}));
        let merged = merge(&mine, Some(&base), &theirs);
        assert_eq!(merged.send, mine);
        assert_eq!(
            merged.conflicts,
            vec![FieldConflict {
                field: "job_title".into(),
                replaced: json!("Supervisor"),
                applied: json!("Lead"),
            }]
        );
    }

    #[test]
    fn a_field_the_server_has_already_is_dropped() {
        let mine = fields(json!({"job_title": " Lead ", "office_location": ""}));
        let theirs = fields(json!({"job_title": "Lead", "office_location": null}));
        let merged = merge(&mine, None, &theirs);
        assert!(merged.send.is_empty(), "{merged:?}");
        assert!(merged.conflicts.is_empty());
    }

    #[test]
    fn without_the_base_nothing_is_called_a_conflict() {
        let mine = fields(json!({"summary": "VIP"}));
        let theirs = fields(json!({"summary": "Moved to Lyon"}));
        let merged = merge(&mine, None, &theirs);
        assert_eq!(merged.send, mine);
        assert!(merged.conflicts.is_empty());
    }

    #[test]
    fn customers_custom_fields_and_organization_compare_one_by_one() {
        let change = json!({"custom_fields": {"f1": "gold", "f2": ""}, "organization": "Acme"});
        let mine = fields_of_change(Shape::Customer, &change);
        assert_eq!(
            mine.keys().collect::<Vec<_>>(),
            ["custom_fields/f1", "custom_fields/f2", "organization"]
        );
        let record = json!({
            "name": "Grace", "organization": {"id": "o1", "name": "Acme"},
            "custom_fields": [
                {"field": {"id": "f1", "name": "Tier"}, "value": "silver"},
                {"field": {"id": "f2", "name": "Region"}, "value": "EU"}
            ]
        });
        let theirs = fields_of_record(Shape::Customer, &record, mine.keys());
        assert_eq!(theirs["custom_fields/f1"], json!("silver"));
        assert_eq!(theirs["organization"], json!("Acme"));
        let merged = merge(&mine, None, &theirs);
        assert_eq!(
            patch_body(Shape::Customer, &merged.send),
            json!({"custom_fields": {"f1": "gold", "f2": ""}})
        );
    }

    #[test]
    fn preferences_merge_switch_by_switch() {
        let base = json!({"events": [
            {"type": "ticket.assigned", "desktop": true, "sound": true},
            {"type": "mention", "desktop": true, "sound": false}
        ], "quiet_hours": {"enabled": false}});
        let mine = json!({"events": [
            {"type": "ticket.assigned", "desktop": false, "sound": true},
            {"type": "mention", "desktop": true, "sound": false}
        ], "quiet_hours": {"enabled": false}});
        let theirs = json!({"events": [
            {"type": "ticket.assigned", "desktop": true, "sound": true},
            {"type": "mention", "desktop": true, "sound": true}
        ], "quiet_hours": {"enabled": true}});
        let base_fields = fields_of_change(Shape::Prefs, &base);
        let changed: Fields = fields_of_change(Shape::Prefs, &mine)
            .into_iter()
            .filter(|(path, value)| base_fields.get(path) != Some(value))
            .collect();
        assert_eq!(
            changed.keys().collect::<Vec<_>>(),
            ["events/ticket.assigned/desktop"]
        );
        let merged = merge(
            &changed,
            Some(&base_fields),
            &fields_of_record(Shape::Prefs, &theirs, changed.keys()),
        );
        let body = with_fields(&theirs, &merged.send);
        assert_eq!(body["events"][0]["desktop"], json!(false));
        assert_eq!(body["events"][1]["sound"], json!(true), "theirs kept");
        assert_eq!(body["quiet_hours"]["enabled"], json!(true), "theirs kept");
    }

    fn small_fields() -> impl Strategy<Value = Fields> {
        prop::collection::btree_map(
            prop::sample::select(vec!["a", "b", "c", "d"]).prop_map(str::to_owned),
            prop::option::of(prop::sample::select(vec!["x", "y", " z ", ""]))
                .prop_map(|value| value.map_or(Value::Null, |text| json!(text))),
            0..4,
        )
    }

    proptest! {
        /// Whatever the three sides hold: only fields the agent changed are sent, each
        /// with the agent's value, and a conflict is reported only where the server's
        /// value differs from both the base and the agent's.
        #[test]
        fn merging_sends_only_the_agents_fields(
            mine in small_fields(), base in small_fields(), theirs in small_fields()
        ) {
            let merged = merge(&mine, Some(&base), &theirs);
            for (field, value) in &merged.send {
                prop_assert_eq!(&normalised(&mine[field]), value);
                prop_assert_ne!(&theirs.get(field).map_or(Value::Null, normalised), value);
            }
            for conflict in &merged.conflicts {
                let was = base.get(&conflict.field).map_or(Value::Null, normalised);
                prop_assert_ne!(&was, &conflict.replaced);
                prop_assert!(merged.send.contains_key(&conflict.field));
            }
            // Merging again against the result changes nothing more.
            let mut after = theirs.clone();
            after.extend(merged.send.clone());
            prop_assert!(merge(&mine, Some(&base), &after).send.is_empty());
        }
    }
}
