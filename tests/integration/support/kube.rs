//! Reading a Kubernetes stack's manifests as the tests need them (independently of how pullover
//! reads them, bar the document splitter).

use std::path::Path;

use pullover::edit::yaml::YamlStream;
use yaml_serde::Value;

use super::tree::tree;

/// Every YAML document of the stack with a `kind`, as `(file, value)`.
pub fn objects(root: &Path) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (path, _) in tree(root) {
        if !(path.ends_with(".yaml") || path.ends_with(".yml")) || path.starts_with(".pullover") {
            continue;
        }
        let text = std::fs::read_to_string(root.join(&path)).unwrap();
        let stream = YamlStream::parse(&text).unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
        for doc in stream.docs() {
            if doc.doc.value().get("kind").is_some() {
                out.push((path.clone(), doc.doc.value().clone()));
            }
        }
    }
    out
}

pub fn objects_of_kind(root: &Path, kind: &str) -> Vec<(String, Value)> {
    objects(root)
        .into_iter()
        .filter(|(_, o)| o["kind"].as_str() == Some(kind))
        .collect()
}
