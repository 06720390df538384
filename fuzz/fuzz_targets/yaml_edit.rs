//! The YAML edit layer on any text: no panic; an edit that succeeds yields YAML that parses,
//! and touches one contiguous stretch of the file (an insertion, a removal, or a change inside
//! the scalar that was set). The layer verifies meaning itself; this checks the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullover::edit::yaml::{ItemMatch, NodeKind, Route, YamlDoc, YamlEdit};
use yaml_serde::{Mapping, Value};

fuzz_target!(|data: &[u8]| {
    // Contained panics (a parser crate giving up) are answers, not crashes; any other panic
    // still reaches libFuzzer's hook.
    pullover::contained::install_panic_hook();
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let Ok(doc) = YamlDoc::parse(text) else { return };
    let Some(root) = doc.root() else { return };
    let entries = root.entries();
    if entries.is_empty() {
        return;
    }
    let entry = &entries[usize::from(choice >> 2) % entries.len()];
    let route = Route::root().key(entry.key.clone());
    let kind = entry.value.as_ref().map(|v| v.kind());
    let mut job = Mapping::new();
    job.insert("job_name".into(), "fuzz".into());
    let edit = match (choice & 3, kind) {
        (0, _) => YamlEdit::Remove { route: route.clone() },
        (1, Some(NodeKind::Sequence)) => YamlEdit::Append {
            route: route.clone(),
            value: Value::Mapping(job),
            comment: Some("added (fuzz)".into()),
        },
        (2, Some(NodeKind::Sequence)) => YamlEdit::Remove {
            route: route.clone().item(ItemMatch::Index(0)),
        },
        (2, Some(NodeKind::Scalar)) => YamlEdit::SetScalar {
            route: route.clone(),
            value: "new: value # not a comment".into(),
        },
        _ => YamlEdit::InsertKey {
            route: Route::root(),
            key: "pullover_fuzz".into(),
            value: Value::Sequence(vec![Value::Mapping(job)]),
            comment: None,
        },
    };
    let Ok(out) = doc.edit(std::slice::from_ref(&edit)) else {
        return;
    };
    // yaml_serde misreads a BOM before `---` (the layer parses without it, as here).
    let body = out.strip_prefix('\u{feff}').unwrap_or(&out);
    assert!(
        yaml_serde::from_str::<Value>(body).is_ok(),
        "an edit produced YAML that does not parse:\n{out}"
    );
    let prefix = common_prefix(text, &out);
    let suffix = common_suffix(&text[prefix..], &out[prefix..]);
    let (removed, inserted) = (text.len() - prefix - suffix, out.len() - prefix - suffix);
    match edit {
        YamlEdit::Append { .. } | YamlEdit::InsertKey { .. } => {
            assert_eq!(removed, 0, "an insertion also removed bytes");
        }
        YamlEdit::Remove { .. } => assert_eq!(inserted, 0, "a removal also inserted bytes"),
        YamlEdit::SetScalar { .. } => {
            let scalar = entry.value.as_ref().map(|v| v.range()).unwrap_or_default();
            // Quoting may be added or dropped right at the scalar's edges.
            assert!(
                prefix + 1 >= scalar.start && text.len() - suffix <= scalar.end + 1,
                "setting a scalar changed bytes outside it ({prefix}..{} vs {scalar:?})",
                text.len() - suffix
            );
        }
        // Only the four edits above are made here.
        _ => {}
    }
});

fn common_prefix(a: &str, b: &str) -> usize {
    let n = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    // Back up to a character boundary of both.
    (0..=n)
        .rev()
        .find(|&i| a.is_char_boundary(i) && b.is_char_boundary(i))
        .unwrap_or(0)
}

fn common_suffix(a: &str, b: &str) -> usize {
    let n = a.bytes().rev().zip(b.bytes().rev()).take_while(|(x, y)| x == y).count();
    (0..=n)
        .rev()
        .find(|&i| a.is_char_boundary(a.len() - i) && b.is_char_boundary(b.len() - i))
        .unwrap_or(0)
}
