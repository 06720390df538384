//! The three-way revert of one phase's change to one file, as `git revert` does it.
//!
//! `base` is what the phase wrote, `target` what it found there (what a rollback restores),
//! `ours` the file as it is now, a person's edits included. The change `base → target` is
//! applied to `ours`: lines the person changed away from pullover's hunks stay as they are;
//! where the person changed lines the phase changed (or lines right next to them) the two
//! cannot both hold, and that is a [`Conflict`]. With no edit (`ours == base`) the result is
//! `target` byte for byte, which is what a rollback always restored. Pure: bytes in, bytes out.
//! docs/rollback.md says what a person sees.

use similar::{Algorithm, DiffOp, capture_diff_slices};

use crate::changeset::FileState;

/// Where a person's edit and pullover's change meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// The same lines (or touching ones) changed by both. `line` is 1-based, in the file as it
    /// is now; each text is the region's lines as that side has them.
    Lines {
        line: usize,
        pulled: String,
        now: String,
        restore: String,
    },
    /// The file as a whole: deleted, or created, where the other side changed it.
    File { what: String },
}

/// What the file becomes, and the conflicts met on the way. Each conflicting region holds the
/// restored text (`target`'s side): what `--force` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revert {
    pub result: Option<FileState>,
    pub conflicts: Vec<Conflict>,
}

/// Reverts `base → target` on `ours` (each `None` when the file is absent).
pub fn revert(base: Option<&FileState>, ours: Option<&FileState>, target: Option<&FileState>) -> Revert {
    let clean = |result: Option<FileState>| Revert {
        result,
        conflicts: Vec::new(),
    };
    let conflict = |result: Option<&FileState>, what: &str| Revert {
        result: result.cloned(),
        conflicts: vec![Conflict::File { what: what.to_string() }],
    };
    if ours == base {
        return clean(target.cloned());
    }
    match (base, ours, target) {
        (Some(base), Some(ours), Some(target)) => {
            let merged = merge_lines(&base.bytes, &ours.bytes, &target.bytes);
            // A mode the person changed stays; otherwise the restored one.
            let mode = if ours.mode == base.mode { target.mode } else { ours.mode };
            Revert {
                result: Some(FileState {
                    bytes: merged.bytes.into(),
                    mode,
                }),
                conflicts: merged.conflicts,
            }
        }
        // Gone both ways: the person removed the file the rollback removes.
        (_, None, None) => clean(None),
        (_, Some(ours), Some(target)) if ours.bytes == target.bytes => clean(Some(ours.clone())),
        (Some(_), Some(_), None) => conflict(None, "edited since pullover created it, and the rollback deletes it"),
        (Some(_), None, Some(_)) => conflict(target, "deleted since pullover wrote it, and the rollback restores it"),
        (None, Some(_), Some(_)) => conflict(
            target,
            "created again since pullover deleted it, and the rollback restores the old file",
        ),
        (None, Some(ours), None) => clean(Some(ours.clone())),
        // Absent before and now (`ours == base` returned above when both are).
        (None, None, _) => clean(target.cloned()),
    }
}

/// A line merge: the bytes (conflicts resolved to `target`'s side) and the conflicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineMerge {
    pub bytes: Vec<u8>,
    pub conflicts: Vec<Conflict>,
}

/// Lines with their terminators, so CRLF and a missing final newline come back as they were.
fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    bytes.split_inclusive(|b| *b == b'\n').collect()
}

/// One side's change to `base`: lines `start..end` of base replaced by `lines`.
#[derive(Debug)]
struct Hunk<'a> {
    start: usize,
    end: usize,
    lines: Vec<&'a [u8]>,
}

/// The changes `side` made to `base`, in order, touching ones joined into one.
fn hunks<'a>(base: &[&'a [u8]], side: &[&'a [u8]]) -> Vec<Hunk<'a>> {
    let mut out: Vec<Hunk<'a>> = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, base, side) {
        let (start, end, new) = match op {
            DiffOp::Equal { .. } => continue,
            DiffOp::Delete { old_index, old_len, .. } => (old_index, old_index + old_len, 0..0),
            DiffOp::Insert {
                old_index,
                new_index,
                new_len,
            } => (old_index, old_index, new_index..new_index + new_len),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => (old_index, old_index + old_len, new_index..new_index + new_len),
        };
        let new_lines = side.get(new).unwrap_or_default();
        match out.last_mut() {
            Some(last) if last.end == start => {
                last.end = end;
                last.lines.extend_from_slice(new_lines);
            }
            _ => out.push(Hunk {
                start,
                end,
                lines: new_lines.to_vec(),
            }),
        }
    }
    out
}

/// `base[start..end]` with `side`'s hunks inside it applied.
fn side_version<'a>(base: &[&'a [u8]], start: usize, end: usize, side: &[Hunk<'a>]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut pos = start;
    for hunk in side {
        out.extend_from_slice(&base[pos..hunk.start]);
        out.extend_from_slice(&hunk.lines);
        pos = hunk.end;
    }
    out.extend_from_slice(&base[pos..end]);
    out
}

fn text(lines: &[&[u8]]) -> String {
    String::from_utf8_lossy(&lines.concat()).into_owned()
}

/// diff3 on lines: `base → target` applied to `ours`. Changes of the two sides that overlap or
/// touch form one region; a region changed by one side takes that side's lines, one changed
/// alike by both takes them, and one changed differently is a conflict (holding `target`'s).
pub fn merge_lines(base: &[u8], ours: &[u8], target: &[u8]) -> LineMerge {
    let base = lines(base);
    let ours_lines = lines(ours);
    let target_lines = lines(target);
    let ours = hunks(&base, &ours_lines);
    let target = hunks(&base, &target_lines);
    let (mut i, mut j) = (0, 0);
    let mut pos = 0;
    // Lines `ours` has more than base before the current region (may be negative).
    let mut shift: isize = 0;
    let mut out: Vec<&[u8]> = Vec::new();
    let mut conflicts = Vec::new();
    while i < ours.len() || j < target.len() {
        let first_ours = match (ours.get(i), target.get(j)) {
            (Some(o), Some(t)) => o.start <= t.start,
            (Some(_), None) => true,
            _ => false,
        };
        let (start, mut end) = if first_ours {
            (ours[i].start, ours[i].end)
        } else {
            (target[j].start, target[j].end)
        };
        let (from_i, from_j) = (i, j);
        if first_ours {
            i += 1;
        } else {
            j += 1;
        }
        // Take in every hunk of either side that overlaps or touches the region.
        loop {
            if let Some(o) = ours.get(i).filter(|o| o.start <= end) {
                end = end.max(o.end);
                i += 1;
            } else if let Some(t) = target.get(j).filter(|t| t.start <= end) {
                end = end.max(t.end);
                j += 1;
            } else {
                break;
            }
        }
        out.extend_from_slice(&base[pos..start]);
        let ours_here = &ours[from_i..i];
        let target_here = &target[from_j..j];
        let ours_version = side_version(&base, start, end, ours_here);
        let target_version = side_version(&base, start, end, target_here);
        if ours_here.is_empty() || ours_version == target_version {
            out.extend_from_slice(&target_version);
        } else if target_here.is_empty() {
            out.extend_from_slice(&ours_version);
        } else {
            conflicts.push(Conflict::Lines {
                line: (start as isize + shift + 1).max(1) as usize,
                pulled: text(&base[start..end]),
                now: text(&ours_version),
                restore: text(&target_version),
            });
            out.extend_from_slice(&target_version);
        }
        shift += ours_version.len() as isize - (end - start) as isize;
        pos = end;
    }
    out.extend_from_slice(&base[pos..]);
    LineMerge {
        bytes: out.concat(),
        conflicts,
    }
}

/// The conflicts of one file as a person reads them: where, and the three versions.
pub fn render_conflicts(path: &str, written_by: &str, conflicts: &[Conflict]) -> String {
    let indent = |text: &str| -> String {
        if text.is_empty() {
            return "      (nothing)\n".to_string();
        }
        text.lines().map(|l| format!("      {l}\n")).collect()
    };
    let mut out = String::new();
    for conflict in conflicts {
        match conflict {
            Conflict::Lines {
                line,
                pulled,
                now,
                restore,
            } => {
                out.push_str(&format!("conflict: {path}:{line}\n"));
                out.push_str(&format!("    {written_by} wrote:\n"));
                out.push_str(&indent(pulled));
                out.push_str("    the file has now (changed outside pullover):\n");
                out.push_str(&indent(now));
                out.push_str("    the rollback would restore:\n");
                out.push_str(&indent(restore));
            }
            Conflict::File { what } => out.push_str(&format!("conflict: {path}: {what}\n")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn merged(base: &str, ours: &str, target: &str) -> (String, usize) {
        let m = merge_lines(base.as_bytes(), ours.as_bytes(), target.as_bytes());
        (String::from_utf8(m.bytes).unwrap(), m.conflicts.len())
    }

    fn state(text: &str) -> FileState {
        FileState {
            bytes: text.as_bytes().to_vec().into(),
            mode: 0o644,
        }
    }

    #[test]
    fn an_edit_away_from_the_change_stays_and_the_change_is_undone() {
        let target = "a\nb\nc\nd\ne\nf\n";
        let base = "a\nb\nc\nNEW\nd\ne\nf\n";
        let ours = "A-edited\nb\nc\nNEW\nd\ne\nf\n";
        assert_eq!(merged(base, ours, target), ("A-edited\nb\nc\nd\ne\nf\n".into(), 0));
    }

    #[test]
    fn an_edit_of_a_line_pullover_wrote_is_a_conflict_that_holds_the_restored_text() {
        let target = "a\nb\nc\n";
        let base = "a\njob: x\nb\nc\n";
        let ours = "a\njob: y\nb\nc\n";
        let m = merge_lines(base.as_bytes(), ours.as_bytes(), target.as_bytes());
        assert_eq!(m.bytes, target.as_bytes());
        assert_eq!(
            m.conflicts,
            vec![Conflict::Lines {
                line: 2,
                pulled: "job: x\n".into(),
                now: "job: y\n".into(),
                restore: String::new(),
            }]
        );
    }

    #[test]
    fn a_conflict_names_its_line_in_the_file_as_it_is_now() {
        let target = "1\n2\n3\n4\n5\n6\n";
        let base = "1\n2\n3\n4\n5\nX\n";
        let ours = "0\n0\n1\n2\n3\n4\n5\nY\n";
        let m = merge_lines(base.as_bytes(), ours.as_bytes(), target.as_bytes());
        assert!(matches!(m.conflicts[..], [Conflict::Lines { line: 8, .. }]), "{m:?}");
        assert_eq!(String::from_utf8(m.bytes).unwrap(), "0\n0\n1\n2\n3\n4\n5\n6\n");
    }

    #[test]
    fn the_same_change_on_both_sides_is_no_conflict() {
        let target = "a\nb\n";
        let base = "a\nx\nb\n";
        assert_eq!(merged(base, target, target), (target.into(), 0));
    }

    #[test]
    fn crlf_and_a_missing_final_newline_survive() {
        let target = "a\r\nb\r\nc";
        let base = "a\r\nb\r\nnew\r\nc";
        let ours = "a-edited\r\nb\r\nnew\r\nc";
        assert_eq!(merged(base, ours, target), ("a-edited\r\nb\r\nc".into(), 0));
    }

    #[test]
    fn whole_file_cases() {
        let (a, b) = (state("a\n"), state("b\n"));
        // Created by the phase, untouched: the rollback deletes it.
        assert_eq!(revert(Some(&a), Some(&a), None).result, None);
        // Created by the phase, then edited: deleting it would lose the edit.
        let r = revert(Some(&a), Some(&b), None);
        assert_eq!(r.result, None);
        assert!(matches!(r.conflicts[..], [Conflict::File { .. }]));
        // Deleted by the person as the rollback would: nothing to do, no conflict.
        assert_eq!(
            revert(Some(&a), None, None),
            Revert {
                result: None,
                conflicts: vec![]
            }
        );
        // Deleted by the person where the rollback restores content: a conflict.
        assert_eq!(revert(Some(&a), None, Some(&b)).conflicts.len(), 1);
        // A mode the person changed stays.
        let mut ours = a.clone();
        ours.mode = 0o600;
        let r = revert(Some(&a), Some(&ours), Some(&b));
        assert_eq!(r.result.map(|s| s.mode), Some(0o600));
    }

    /// Lines from a small alphabet, so hunks meet and repeat often.
    fn text_lines() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec(
            prop::sample::select(vec!["a\n", "b\n", "c\r\n", "job: x\n", "", "}\n"]),
            0..12,
        )
        .prop_map(|v| v.into_iter().map(String::from).collect())
    }

    proptest! {
        /// With no hand edit the revert is exactly today's restore, byte for byte.
        #[test]
        fn with_no_edit_the_revert_is_the_restore(target in text_lines(), base in text_lines()) {
            let (target, base) = (target.concat(), base.concat());
            let m = merge_lines(base.as_bytes(), base.as_bytes(), target.as_bytes());
            prop_assert_eq!(m.bytes, target.as_bytes().to_vec());
            prop_assert!(m.conflicts.is_empty());
            let r = revert(Some(&state(&base)), Some(&state(&base)), Some(&state(&target)));
            prop_assert_eq!(r.result, Some(state(&target)));
        }

        /// Pullover's change is one block of lines; a person's edits of lines at least one
        /// line away from it survive the revert, and its lines go back to what they were.
        /// (Lines are unique, so where a hunk lies is never a matter of the diff's choice.)
        #[test]
        fn edits_away_from_pullovers_hunk_survive(
            before in prop::collection::vec("[a-z]{1,6}", 6..20)
                .prop_map(|v| v.into_iter().enumerate().map(|(i, w)| format!("{i}-{w}\n")).collect::<Vec<_>>()),
            at in 0usize..100,
            removed in 0usize..3,
            inserted in prop::collection::vec("[A-Z]{1,6}\n", 0..3),
            edits in prop::collection::vec((0usize..100, "[0-9]{1,4}\n"), 1..4),
        ) {
            prop_assume!(removed > 0 || !inserted.is_empty());
            let at = at % (before.len() - removed);
            let mut written = before.clone();
            written.splice(at..at + removed, inserted.clone());
            // Edits replace lines of `written` outside the hunk and its neighbours.
            let hunk = at.saturating_sub(1)..at + inserted.len() + 1;
            let mut edited = written.clone();
            let mut expected = before.clone();
            for (line, new) in &edits {
                let line = line % written.len();
                if hunk.contains(&line) {
                    continue;
                }
                edited[line] = new.clone();
                let in_before = if line < at { line } else { line - inserted.len() + removed };
                expected[in_before] = new.clone();
            }
            let m = merge_lines(written.concat().as_bytes(), edited.concat().as_bytes(), before.concat().as_bytes());
            prop_assert!(m.conflicts.is_empty(), "{:?}", m.conflicts);
            prop_assert_eq!(String::from_utf8(m.bytes).unwrap(), expected.concat());
        }
    }
}
