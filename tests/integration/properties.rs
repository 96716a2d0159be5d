//! Property tests of what another server controls: whatever JSON or bytes arrive at an inbox,
//! reading them as an activity answers (an activity or an error) and never panics. The
//! renderer's and signature headers' property tests sit beside their code.

use proptest::prelude::*;
use serde_json::{json, Value};
use staffroom::federation::protocol::activities::InboxActivity;

/// JSON shaped like what inboxes receive: the keys activities use, with values of every
/// kind (URLs, text, numbers, lists, nested objects), nested a few levels.
fn activity_like() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(json!("https://a.example/u/x")),
        Just(json!("http://localhost:1/f/maths")),
        Just(json!("https://www.w3.org/ns/activitystreams#Public")),
        Just(json!("javascript:alert(1)")),
        Just(json!("not a url")),
        Just(json!("")),
        prop_oneof![
            Just("Create"),
            Just("Update"),
            Just("Delete"),
            Just("Follow"),
            Just("Accept"),
            Just("Reject"),
            Just("Undo"),
            Just("Announce"),
            Just("Like"),
            Just("Dislike"),
            Just("Note"),
            Just("Page"),
            Just("Article"),
            Just("Tombstone"),
            Just("Flag"),
        ]
        .prop_map(Value::from),
        "\\PC{0,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        let key = prop_oneof![
            Just("id"),
            Just("type"),
            Just("actor"),
            Just("object"),
            Just("to"),
            Just("cc"),
            Just("audience"),
            Just("content"),
            Just("source"),
            Just("mediaType"),
            Just("inReplyTo"),
            Just("attributedTo"),
            Just("name"),
            Just("published"),
            Just("updated"),
            Just("context"),
            Just("tag"),
            Just("formerType"),
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map(key.prop_map(String::from), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(300),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_json_parses_to_an_activity_or_an_error(value in activity_like()) {
        // Whatever arrives, reading it answers; it never panics.
        let text = value.to_string();
        let _ = serde_json::from_str::<InboxActivity>(&text);
    }

    #[test]
    fn any_bytes_parse_to_an_activity_or_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = serde_json::from_slice::<InboxActivity>(&bytes);
    }
}
