//! The spec is checked in; a change to the API that changes it must change the file too.

use serde_json::Value;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
/// Accepts the spec the code describes now as the checked-in one (expectorate's switch).
const ACCEPT: &str = "EXPECTORATE=overwrite cargo test -p openapi --test api spec";

/// On a difference, expectorate prints the diff line by line and fails; the line before it says how to
/// accept the new spec when the change is meant.
#[test]
fn the_checked_in_spec_matches_the_code() {
    let current = format!("{}\n", openapi::spec_json());
    let overwriting = std::env::var("EXPECTORATE").is_ok_and(|v| v == "overwrite");
    if !overwriting && std::fs::read_to_string(SNAPSHOT).ok().as_deref() != Some(current.as_str()) {
        eprintln!(
            "openapi/openapi.json differs from the code (diff below); if the change is meant: {ACCEPT}"
        );
    }
    expectorate::assert_contents(SNAPSHOT, &current);
}

fn spec() -> Value {
    serde_json::from_str(&openapi::spec_json()).unwrap()
}

#[test]
fn every_operation_is_ready_for_client_generators() {
    let spec = spec();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.0"));
    let mut ids = std::collections::HashSet::new();
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, op) in operations.as_object().unwrap() {
            let name = format!("{method} {path}");
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{name} has no operationId"));
            assert!(ids.insert(id.to_owned()), "{name}: duplicate operationId {id}");
            assert!(op["tags"].as_array().is_some_and(|t| t.len() == 1), "{name} needs one tag");
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{name} needs a summary");
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &response["content"]["application/problem+json"]["schema"]["$ref"];
                    assert_eq!(schema, "#/components/schemas/Problem", "{name} {status}");
                }
            }
        }
    }
    assert!(ids.len() >= 30, "{} operations", ids.len());
}

#[test]
fn nullable_fields_are_marked_and_pages_share_one_shape() {
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    for (schema, field) in [
        ("Book", "isbn"),
        ("Book", "due_at"),
        ("Book", "average_rating"),
        ("Loan", "returned_at"),
        ("Review", "comment"),
        ("ReviewPatch", "comment"),
        ("BookPatch", "isbn"),
    ] {
        assert_eq!(schemas[schema]["properties"][field]["nullable"], Value::Bool(true), "{schema}.{field}");
    }
    for page in ["BookPage", "AuthorPage", "BorrowerPage", "LoanPage", "ReviewPage"] {
        let properties = &schemas[page]["properties"];
        assert_eq!(properties["items"]["type"], "array", "{page}");
        assert_eq!(properties["next_cursor"]["type"], "string", "{page}");
        assert_eq!(properties["next_cursor"]["nullable"], Value::Bool(true), "{page}");
    }
    assert!(schemas["LoanStatus"]["enum"].is_array(), "enums are named schemas");
}

/// The `allOf` members under `value` (at JSON pointer `at`) that are not objects: openapi-python-client
/// refuses such an `allOf` ("Cannot take allOf a non-object") and drops the whole schema that holds it.
/// poem-openapi writes one for a documented field whose type is an enum: `[{$ref}, {description}]`.
fn non_object_all_of_members(spec: &Value, value: &Value, at: &str) -> Vec<String> {
    let mut found = Vec::new();
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{at}/{key}");
                if key == "allOf" {
                    for (index, member) in child.as_array().into_iter().flatten().enumerate() {
                        let resolved = match member["$ref"].as_str() {
                            Some(reference) => {
                                let name = reference.trim_start_matches("#/components/schemas/");
                                &spec["components"]["schemas"][name]
                            }
                            None => member,
                        };
                        if resolved["type"] != "object" {
                            found.push(format!("{here}/{index}"));
                        }
                    }
                }
                found.extend(non_object_all_of_members(spec, child, &here));
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                found.extend(non_object_all_of_members(spec, item, &format!("{at}/{index}")));
            }
        }
        _ => {}
    }
    found
}

#[test]
fn every_all_of_combines_objects_only_so_python_generators_keep_every_schema() {
    let spec = spec();
    assert_eq!(non_object_all_of_members(&spec, &spec, ""), Vec::<String>::new());
}

#[test]
fn the_all_of_rule_catches_a_documented_enum_field() {
    let seeded = serde_json::json!({
        "components": {"schemas": {
            "Code": {"type": "string", "enum": ["a"]},
            "Base": {"type": "object"},
            "Problem": {"type": "object", "properties": {
                "code": {"allOf": [{"$ref": "#/components/schemas/Code"}, {"description": "why"}]},
                "base": {"allOf": [{"$ref": "#/components/schemas/Base"}], "nullable": true}
            }}
        }}
    });
    assert_eq!(
        non_object_all_of_members(&seeded, &seeded, ""),
        [
            "/components/schemas/Problem/properties/code/allOf/0",
            "/components/schemas/Problem/properties/code/allOf/1"
        ]
    );
}
