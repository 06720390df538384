use super::*;
use std::fs;

fn record(seq: u64, event: Event) -> Record {
    Record {
        v: 1,
        seq,
        prev: None,
        time: "t".into(),
        user: "u".into(),
        tool: "pullover".into(),
        event,
    }
}

fn begin(action: Action, phase: &str) -> Event {
    Event::Begin {
        action,
        phase: phase.into(),
        files: Vec::new(),
        found: None,
    }
}

#[test]
fn replay_keeps_committed_applies_minus_rollbacks() {
    let journal = Journal {
        last_hash: None,
        records: vec![
            record(1, begin(Action::Apply, "scrape")),
            record(2, Event::Commit { of: 1 }),
            record(3, begin(Action::Apply, "dual-run")),
            record(
                4,
                Event::Abort {
                    of: 3,
                    reason: "crash".into(),
                },
            ),
            record(5, begin(Action::Apply, "dual-run")),
            record(6, Event::Commit { of: 5 }),
            record(7, begin(Action::Rollback, "dual-run")),
            record(8, Event::Commit { of: 7 }),
            record(9, begin(Action::Apply, "dual-run")),
        ],
    };
    let applied: Vec<String> = journal.applied().into_iter().map(|p| p.phase).collect();
    assert_eq!(applied, vec!["scrape"]);
    assert_eq!(journal.interrupted().map(|r| r.seq), Some(9));
    assert_eq!(journal.next_seq(), 10);
}

#[test]
fn a_torn_last_line_is_ignored_and_cut_before_the_next_append() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    append(&path, &record(1, begin(Action::Apply, "scrape"))).unwrap();
    let mut text = fs::read_to_string(&path).unwrap();
    text.push_str("{\"v\":1,\"seq\":2,\"ti");
    fs::write(&path, &text).unwrap();
    assert_eq!(Journal::read(&path).unwrap().records.len(), 1);
    append(&path, &record(2, Event::Commit { of: 1 })).unwrap();
    let journal = Journal::read(&path).unwrap();
    assert_eq!(journal.records.len(), 2);
    assert_eq!(journal.applied().len(), 1);
}

/// Appends chained records as the engine does: each chains to the journal as read.
fn append_chained(path: &Path, event: Event) {
    let journal = Journal::read(path).unwrap();
    let mut next = record(journal.next_seq(), event);
    next.v = FORMAT_VERSION;
    next.prev = Some(journal.chain_head());
    append(path, &next).unwrap();
}

fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path).unwrap().lines().map(String::from).collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    fs::write(path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
}

/// Records written as an old-format journal: one JSON line each, no chain.
fn write_records(path: &Path, records: &[Record]) {
    let lines: Vec<String> = records.iter().map(|r| serde_json::to_string(r).unwrap()).collect();
    write_lines(path, &lines);
}

/// scrape applied and committed, dual-run applied and committed: 4 chained records.
fn chained_journal() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    append_chained(&path, begin(Action::Apply, "scrape"));
    append_chained(&path, Event::Commit { of: 1 });
    append_chained(&path, begin(Action::Apply, "dual-run"));
    append_chained(&path, Event::Commit { of: 3 });
    (dir, path)
}

#[test]
fn a_chained_journal_verifies_and_names_the_entry_after_a_removed_line() {
    let (_dir, path) = chained_journal();
    let journal = Journal::read(&path).unwrap();
    assert_eq!(journal.applied().len(), 2);
    assert!(
        journal
            .records
            .iter()
            .all(|r| r.v == FORMAT_VERSION && r.prev.is_some())
    );
    let mut text = lines(&path);
    text.remove(1);
    write_lines(&path, &text);
    let err = Journal::read(&path).unwrap_err().to_string();
    assert!(err.contains("does not verify at line 2 (entry #3)"), "{err}");
    assert!(err.contains("does not match line 1"), "{err}");
}

#[test]
fn an_edited_entry_breaks_the_chain_at_the_next_one() {
    let (_dir, path) = chained_journal();
    let mut text = lines(&path);
    text[2] = text[2].replace("dual-run", "dashboards");
    write_lines(&path, &text);
    let err = Journal::read(&path).unwrap_err().to_string();
    assert!(err.contains("at line 4 (entry #4)"), "{err}");
}

#[test]
fn removing_the_last_lines_or_truncating_is_refused() {
    let (_dir, path) = chained_journal();
    let text = lines(&path);
    write_lines(&path, &text[..2]);
    let err = Journal::read(&path).unwrap_err().to_string();
    assert!(err.contains("ends at entry #2"), "{err}");
    assert!(err.contains("reached entry #4"), "{err}");
    fs::write(&path, &text[0][..10]).unwrap();
    let err = Journal::read(&path).unwrap_err().to_string();
    assert!(err.contains("ends at entry #0"), "{err}");
    fs::write(&path, "").unwrap();
    assert!(Journal::read(&path).is_err());
    fs::remove_file(&path).unwrap();
    assert!(Journal::read(&path).is_err(), "a head without its journal");
}

#[test]
fn the_head_may_lag_one_entry_after_a_crash_never_more() {
    let (dir, path) = chained_journal();
    let head = head_path(&path);
    let after_three = {
        let copy = dir.path().join("copy.jsonl");
        write_lines(&copy, &lines(&path)[..3]);
        format!("3 {}\n", sha256_hex(lines(&path)[2].as_bytes()))
    };
    fs::write(&head, &after_three).unwrap();
    assert_eq!(Journal::read(&path).unwrap().records.len(), 4);
    fs::write(&head, format!("2 {}\n", sha256_hex(lines(&path)[1].as_bytes()))).unwrap();
    assert!(Journal::read(&path).is_err());
    fs::write(&head, "garbage").unwrap();
    assert!(Journal::read(&path).unwrap_err().to_string().contains("is damaged"));
}

#[test]
fn a_legacy_prefix_is_read_and_continued_by_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let legacy = [
        record(1, begin(Action::Apply, "scrape")),
        record(2, Event::Commit { of: 1 }),
    ];
    write_records(&path, &legacy);
    let journal = Journal::read(&path).unwrap();
    assert_eq!(journal.applied().len(), 1);
    append_chained(&path, begin(Action::Apply, "dual-run"));
    append_chained(&path, Event::Commit { of: 3 });
    let journal = Journal::read(&path).unwrap();
    assert_eq!(journal.applied().len(), 2);
    assert_eq!(
        journal.records[2].prev.as_deref(),
        Some(sha256_hex(lines(&path)[1].as_bytes()).as_str())
    );

    // An old-format line after the chain was added by hand.
    let mut text = lines(&path);
    text.push(serde_json::to_string(&record(5, begin(Action::Rollback, "dual-run"))).unwrap());
    write_lines(&path, &text);
    let err = Journal::read(&path).unwrap_err().to_string();
    assert!(
        err.contains("at line 5 (entry #5)") && err.contains("old format"),
        "{err}"
    );
}

#[test]
fn a_legacy_journal_missing_a_line_tells_an_impossible_story() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    // The commit of the scrape apply removed: dual-run's begin opens while #1 is open.
    let records = [
        record(1, begin(Action::Apply, "scrape")),
        record(2, begin(Action::Apply, "dual-run")),
    ];
    write_records(&path, &records);
    let err = Journal::read(&path).unwrap_err().to_string();
    assert!(
        err.contains("entry #2") && err.contains("while entry #1 is still open"),
        "{err}"
    );
    // A rollback of a phase that is not the last applied.
    let records = [
        record(1, begin(Action::Apply, "scrape")),
        record(2, Event::Commit { of: 1 }),
        record(3, begin(Action::Rollback, "dual-run")),
        record(4, Event::Commit { of: 3 }),
    ];
    write_records(&path, &records);
    let err = Journal::read(&path).unwrap_err().to_string();
    assert!(
        err.contains("entry #4") && err.contains("not the phase applied last"),
        "{err}"
    );
}

#[test]
fn a_journal_that_is_not_a_regular_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
    let err = Journal::read(&path).unwrap_err().to_string();
    assert!(err.contains("is a symlink"), "{err}");
    assert!(append(&path, &record(1, begin(Action::Apply, "scrape"))).is_err());
}
