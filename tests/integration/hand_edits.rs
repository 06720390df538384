//! Hand edits are never lost (issue 15): a managed file a person changed between phases is
//! shown as drift by `plan` and `apply`, journaled as theirs, and kept by `rollback`, which
//! undoes only pullover's own change (as `git revert`); where the two meet, it refuses with
//! the conflict shown unless `--force`.

use crate::support::pullover;

const CONFIG: &str = "prometheus/prometheus.yml";
const HEADER: &str = "# Prometheus configuration for the website stack.\n";
const EDITED_HEADER: &str = "# Prometheus configuration for the website stack (owned by team-observability).\n";

/// The seed with `scrape` applied, then a person's edit of prometheus.yml's first line (far
/// from the job `scrape` added).
fn scraped_then_edited() -> crate::support::Pullover {
    let p = pullover().stack("seed");
    p.run(["apply", "scrape", "--yes"]).success();
    let text = p.read(CONFIG);
    assert!(text.starts_with(HEADER), "{text}");
    p.write(CONFIG, &text.replacen(HEADER, EDITED_HEADER, 1));
    p
}

#[test]
fn plan_and_apply_show_the_edit_as_drift_with_its_diff() {
    let p = scraped_then_edited();
    let headline = "prometheus/prometheus.yml changed outside pullover since `scrape` wrote it";
    let plan = p.run(["plan"]);
    plan.success();
    assert!(plan.stdout.contains(headline), "{}", plan.stdout);
    assert!(plan.stdout.contains(&format!("-{HEADER}")), "{}", plan.stdout);
    assert!(plan.stdout.contains(&format!("+{EDITED_HEADER}")), "{}", plan.stdout);
    let json = p.run(["--format", "json", "plan"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["drift"][0]["message"], headline);
    assert_eq!(json["drift"][0]["path"], CONFIG);

    let status = p.run(["status"]);
    assert!(status.stdout.contains(headline), "{}", status.stdout);

    let apply = p.run(["apply", "--yes"]);
    apply.success();
    assert!(apply.stdout.contains(headline), "{}", apply.stdout);
    assert!(apply.stdout.contains(&format!("+{EDITED_HEADER}")), "{}", apply.stdout);
    assert!(p.read(CONFIG).starts_with(EDITED_HEADER), "dual-run kept the edit");

    // The edit is the person's in the history, between the two applies, and status says so.
    let history = p.clean(&p.run(["history"]).stdout);
    let lines: Vec<&str> = history.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(lines.len(), 3, "{history}");
    assert!(lines[0].contains("apply    scrape"), "{history}");
    assert!(
        lines[1].contains("edited   outside pullover: found at the apply of `dual-run` by tester"),
        "{history}"
    );
    assert!(lines[2].contains("apply    dual-run"), "{history}");
    let status = p.run(["status"]);
    assert!(
        status
            .stdout
            .contains("none changed outside pullover since it last wrote or recorded them"),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains("prometheus/prometheus.yml (history #2)"),
        "status names the recorded edit:\n{}",
        status.stdout
    );
}

#[test]
fn a_hand_edit_survives_rollback_to_baseline() {
    let p = scraped_then_edited();
    let pristine = pullover().stack("seed");
    // A second phase changes the edited file too: the edit is in its `before`.
    p.run(["apply", "--yes"]).success();
    let rollback = p.run(["rollback", "--to", "baseline", "--yes"]);
    rollback.success();
    assert!(
        rollback
            .stdout
            .contains("Kept the edits made outside pullover in prometheus/prometheus.yml"),
        "{}",
        rollback.stdout
    );
    assert_eq!(
        p.read(CONFIG),
        pristine.read(CONFIG).replacen(HEADER, EDITED_HEADER, 1),
        "pullover's changes undone, the person's edit kept"
    );
    let (mut now, mut seed) = (p.hashes(), pristine.hashes());
    now.remove(CONFIG);
    seed.remove(CONFIG);
    assert_eq!(now, seed, "every other file is back byte for byte");
}

#[test]
fn with_no_hand_edit_rollback_to_baseline_is_byte_identical() {
    let p = pullover().stack("seed");
    let before = p.hashes();
    p.run(["apply", "expose", "--yes"]).success();
    p.run(["apply", "--yes"]).success();
    p.run(["apply", "--yes"]).success();
    p.run(["rollback", "--to", "baseline", "--yes"]).success();
    assert_eq!(p.hashes(), before);
}

#[test]
fn an_edit_of_pullovers_own_lines_is_refused_with_the_conflict_and_forced_over() {
    let p = scraped_then_edited();
    let text = p.read(CONFIG);
    assert!(text.contains("  - job_name: metrics-api\n"), "{text}");
    p.write(
        CONFIG,
        &text.replace("  - job_name: metrics-api\n", "  - job_name: metrics-api-renamed\n"),
    );
    let edited = p.read(CONFIG);
    let refused = p.run(["rollback", "--yes"]);
    refused.code(1);
    assert!(
        refused.stderr.contains("conflict: prometheus/prometheus.yml:"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("`scrape` wrote:"), "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("the file has now (changed outside pullover):\n      ")
            && refused.stderr.contains("job_name: metrics-api-renamed"),
        "the person's side of the conflict is shown:\n{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains(
            "refusing to roll back: prometheus/prometheus.yml changed outside pullover where phase `scrape` changed it"
        ),
        "{}",
        refused.stderr
    );
    assert_eq!(p.read(CONFIG), edited, "a refused rollback writes nothing");
    assert!(!p.run(["history"]).stdout.contains("edited"), "nor records anything");

    let forced = p.run(["rollback", "--yes", "--force"]);
    forced.success();
    let pristine = pullover().stack("seed");
    assert_eq!(
        p.read(CONFIG),
        pristine.read(CONFIG).replacen(HEADER, EDITED_HEADER, 1),
        "--force restores pullover's side of the conflict; the edit elsewhere stays"
    );
    // The person's version of the lines --force replaced is in the journal and the objects.
    let history = p.run(["--format", "json", "history"]);
    let json: serde_json::Value = serde_json::from_str(&history.stdout).unwrap();
    let edit = json["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["event"] == "edited")
        .expect("the edit is recorded");
    let sha = edit["files"][0]["after"]["sha256"].as_str().unwrap();
    let kept = std::fs::read(p.file(&format!(".pullover/objects/{}/{}", &sha[..2], &sha[2..])))
        .expect("the edited content is kept in .pullover/objects");
    assert_eq!(kept, edited.as_bytes());
}
